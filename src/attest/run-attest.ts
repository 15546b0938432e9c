import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { BuildRecord } from '../records/build-record.js'
import { ReproofError } from '../errors.js'
import { stageFileAtomic, type StagedFile } from '../io/atomic-write.js'
import { keyHint, loadPrivateKey } from '../sign/keys.js'
import type { SerializedBundle } from '@sigstore/bundle'
import { signKeyless, type KeylessOptions } from '../sign/keyless.js'
import { signWithKey } from '../sign/sign-statement.js'
import { statementBytes, toStatement, type AttestContext } from './statement.js'
import { validateStatement } from './validate-statement.js'
import { recordInconsistency } from './record-consistency.js'
import { sha256Hex } from '../sha256.js'
import { toDisplayText, toFsPath } from '../file-names.js'
import { hashArtifact } from '../digest/hash-artifact.js'

export type SigningMethod =
  | {
      kind: 'key'
      key: string
      passphrase: string | undefined
      /**
       * The key as read before a build: signed with, not read again after it (an artifact
       * copied over the key file, or a build with no sandbox, could have replaced it).
       */
      loaded?: ReturnType<typeof loadPrivateKey>
    }
  | { kind: 'keyless'; options: Omit<KeylessOptions, 'pendingFile'> }

export interface AttestOptions {
  bundle: string
  signing: SigningMethod
  statement: string | undefined
  /** Where the shipped artifacts are, for --sha512 (digests are checked against the record first). */
  sha512From: string | undefined
}

export interface AttestResult {
  bundle: string
  statement: string | null
  subjects: { name: string; digest: Record<string, string> }[]
  statementSha256: string
  /** The public key's hint (key signing) or the certificate's identity (keyless). */
  signer: string
  /**
   * Keyless: why the bundle was not verified against a trusted root before it was
   * written (its shape, times, signature and log entry were checked all the same), or
   * null when it was. Key signing: null (the signature is checked by whoever holds the
   * public key; there are no services to trust).
   */
  notVerified: string | null
}

/**
 * Attests a reproducible build: validate the record and key, decide the statement
 * (pure), sign it, write the bundle atomically, and say what was signed.
 */
export async function runAttest(
  record: BuildRecord,
  options: AttestOptions,
  context: Omit<AttestContext, 'sha512'>,
): Promise<AttestResult> {
  // 1. Validate: a build that did not reproduce has nothing to attest.
  if (!record.result.reproducible) {
    throw new ReproofError(
      'E_REJECTED',
      'the build record says the build is not reproducible; nothing to attest',
      {
        hint: 'fix the differences `reproof build` reported, then build again',
      },
    )
  }
  const inconsistent = recordInconsistency(record)
  if (inconsistent !== undefined)
    throw new ReproofError('E_INPUT', `the build record contradicts itself: ${inconsistent}`, {
      hint: 'sign the record `reproof build --record` wrote, as it wrote it',
    })
  const key =
    options.signing.kind === 'key'
      ? (options.signing.loaded ?? loadPrivateKey(options.signing.key, options.signing.passphrase))
      : undefined
  const sha512 =
    options.sha512From === undefined ? undefined : hashShipped(record, options.sha512From)

  // 2. Decide: the statement is a pure function of the record and the context.
  const statement = toStatement(record, { ...context, ...(sha512 === undefined ? {} : { sha512 }) })
  validateStatement(statement)
  const payload = statementBytes(statement)

  // Where a keyless signature waits for its bundle, checked before anything is signed:
  // a directory there, or a name too long for it, failed after the bundle was written.
  const pendingFile = pendingFileOf(options.bundle)
  if (options.signing.kind === 'keyless') checkPendingFile(pendingFile, options.bundle)

  // 3. Sign, then write durably: the bundle (and the statement) atomically.
  const signed =
    key !== undefined
      ? { bundle: await signWithKey(payload, key.key, key.kind), notVerified: undefined }
      : options.signing.kind === 'keyless'
        ? await signKeyless(payload, {
            ...options.signing.options,
            pendingFile,
          })
        : undefined
  if (signed === undefined) throw new Error('no signing method')
  const { bundle } = signed
  // Both written in full beside their places before either is put there: a bundle that
  // cannot be written leaves the statement file as it was, and a statement that cannot
  // be written leaves no bundle as though all had gone well. The statement file holds
  // exactly the bytes signed (no newline).
  const staged = [
    ...(options.statement === undefined ? [] : [await stage(options.statement, payload)]),
  ]
  try {
    staged.push(await stage(options.bundle, `${JSON.stringify(bundle)}\n`))
    for (const file of staged) await file.commit()
  } catch (err) {
    for (const file of staged) await file.discard()
    throw err
  }
  // Only now: a crash before this point leaves the signature for the retry to reuse,
  // so the log is asked for the same entry again rather than given a second one. The
  // bundle is written: a pending file that cannot be removed is reused or replaced by
  // the next signing of this statement, and never fails what is done. Key signing keeps
  // none, and leaves a file of that name alone.
  if (options.signing.kind === 'keyless')
    try {
      fs.rmSync(pendingFile, { force: true })
    } catch {
      // Said above: left for the next signing.
    }

  // 4. Acknowledge with what was signed.
  return {
    bundle: options.bundle,
    statement: options.statement ?? null,
    subjects: statement.subject,
    statementSha256: sha256Hex(payload),
    signer:
      key !== undefined
        ? `key ${keyHint(crypto.createPublicKey(key.key)).slice(0, 16)}`
        : `certificate ${certificateIdentity(bundle)}`,
    notVerified: signed.notVerified ?? null,
  }
}

function certificateIdentity(bundle: SerializedBundle): string {
  const pem = bundle.verificationMaterial.certificate?.rawBytes
  if (pem === undefined) return '(unknown)'
  try {
    return new crypto.X509Certificate(Buffer.from(pem, 'base64')).subjectAltName ?? '(no SAN)'
  } catch {
    return '(unreadable)'
  }
}

/**
 * SHA-512 of the shipped artifacts, read from where they were copied. Each file's
 * SHA-256 must still be the recorded one: a file changed since the build is refused,
 * not attested.
 */
function hashShipped(record: BuildRecord, dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const shipped = new Map(
    (record.normalization?.artifacts ?? []).map((a) => [a.name, a.normalized[0]]),
  )
  for (const entry of record.runs[0]?.manifest ?? []) {
    // The name form: bytes where the name is not UTF-8, escaped where it is shown.
    const file = toFsPath(dir, entry.name)
    const label = `--sha512 ${toDisplayText(path.join(dir, entry.name))}`
    const { sha256: found, sha512 } = hashArtifact(file, label, ['sha256', 'sha512'])
    const expected = shipped.get(entry.name) ?? entry.sha256
    if (found !== expected) {
      throw new ReproofError(
        'E_INPUT',
        `${label}: its SHA-256 is not the one the build recorded; refusing to attest it`,
        { path: label, wanted: expected, found },
      )
    }
    out[entry.name] = sha512
  }
  return out
}

/** Where a keyless signature is kept until its bundle is written, for a retry to reuse. */
/** A file staged beside `target` with `data`, committed by the caller. */
function stage(target: string, data: string | Uint8Array): Promise<StagedFile<void>> {
  return stageFileAtomic(target, 0o644, async (out) => {
    await new Promise<void>((resolve, reject) => {
      out.end(data, () => {
        resolve()
      })
      out.once('error', reject)
    })
  })
}

/**
 * The pending signature's place must be a regular file or nothing, under a name the
 * file system takes: checked before signing, not met after the bundle is written.
 */
function checkPendingFile(pendingFile: string, bundle: string): void {
  let stat: fs.Stats
  try {
    stat = fs.lstatSync(pendingFile)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return
    throw new ReproofError(
      'E_USAGE',
      `--bundle ${toDisplayText(bundle)}: keyless signing keeps its signature in ${toDisplayText(pendingFile)} until the bundle is written, and that name cannot be used (${code ?? String(err)}); give a shorter bundle name`,
      { path: bundle },
    )
  }
  if (!stat.isFile())
    throw new ReproofError(
      'E_USAGE',
      `--bundle ${toDisplayText(bundle)}: keyless signing keeps its signature in ${toDisplayText(pendingFile)} until the bundle is written, and something other than a file is there; move it or give another bundle name`,
      { path: bundle },
    )
}

export function pendingFileOf(bundle: string): string {
  return `${bundle}.pending`
}
