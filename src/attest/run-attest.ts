import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { BuildRecord } from '../records/build-record.js'
import { ReproofError } from '../errors.js'
import { writeFileAtomic } from '../io/atomic-write.js'
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
  | { kind: 'key'; key: string; passphrase: string | undefined }
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
      ? loadPrivateKey(options.signing.key, options.signing.passphrase)
      : undefined
  const sha512 =
    options.sha512From === undefined ? undefined : hashShipped(record, options.sha512From)

  // 2. Decide: the statement is a pure function of the record and the context.
  const statement = toStatement(record, { ...context, ...(sha512 === undefined ? {} : { sha512 }) })
  validateStatement(statement)
  const payload = statementBytes(statement)

  // 3. Sign, then write durably: the bundle (and the statement) atomically.
  const pendingFile = pendingFileOf(options.bundle)
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
  // The statement first, then the bundle: a statement that cannot be written leaves no
  // bundle behind as though all had gone well, and one whose bundle cannot be written is
  // taken away again. The statement file holds exactly the bytes signed (no newline).
  if (options.statement !== undefined) await writeFileAtomic(options.statement, payload)
  try {
    await writeFileAtomic(options.bundle, `${JSON.stringify(bundle)}\n`)
  } catch (err) {
    if (options.statement !== undefined) fs.rmSync(options.statement, { force: true })
    throw err
  }
  // Only now: a crash before this point leaves the signature for the retry to reuse,
  // so the log is asked for the same entry again rather than given a second one.
  fs.rmSync(pendingFile, { force: true })

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
export function pendingFileOf(bundle: string): string {
  return `${bundle}.pending`
}
