import type { SerializedBundle } from '@sigstore/bundle'
import { ReproofError } from '../errors.js'
import { repeatedKey } from '../io/json-input.js'
import type { DiffItem } from '../diff/report.js'
import { checkStatement, type ArtifactDigests, type Policy } from './policy.js'
import type { RebuildOptions } from './rebuild.js'
import { rejection, rejectionReason, type Check, type Reason } from './reasons.js'
import { verifySignature, type SignatureResult, type Trust } from './verify-signature.js'
import { readBounded } from '../io/read-bounded.js'
import { hashArtifact } from '../digest/hash-artifact.js'

// Real bundles are a few KB (keyless) to a few hundred KB (large subject lists).
/** The most a bundle may be; larger files are refused before they are parsed. */
export const MAX_BUNDLE_BYTES = 16 * 1024 * 1024
// The statement inside is bounded as well, before it is parsed.
const MAX_PAYLOAD_BYTES = 8 * 1024 * 1024

export interface VerifyOptions {
  artifacts: string[]
  /** Digests to match instead of files (a rollback names a digest, not a file). */
  digests?: ArtifactDigests[]
  bundle: string
  /** The bundle's bytes when the caller already read them: the gate records the digest of exactly what was verified. */
  bundleBytes?: Buffer
  trust: Trust
  policy: Policy
  /** Rebuild from the provenance after every other check passed. */
  rebuild?: Omit<RebuildOptions, 'artifacts'>
  /**
   * A subject must name the artifact's SHA-256: the gate records the SHA-256 and `gate
   * check` verifies the release again by it, so a subject that names only SHA-512 must
   * not be recorded as if it named the SHA-256 too. A SHA-512 the subject names beside
   * it must still be the file's: one that is another file's makes the subject no one's.
   */
  sha256Only?: boolean
}

export interface VerifyResult {
  verified: boolean
  artifacts: ArtifactDigests[]
  checks: Check[]
  identity: SignatureResult['identity'] | null
  /** The first failed check's reason; null when verified. */
  reason: Reason | null
  /** Parts of the bundle that were not checked and vouch for nothing (a key bundle's log entries without --trusted-root). */
  unchecked: string[]
  /** With --rebuild, on a mismatch: what differs between the attested and the rebuilt artifacts. */
  explanation?: DiffItem[]
}

/**
 * Parse and validate the inputs (bounded), then decide: the signature and identity
 * with @sigstore/verify, then every statement and policy check. The answer is yes only
 * when every requested check ran and passed; any exception is a no.
 */
export async function runVerify(options: VerifyOptions, now: number): Promise<VerifyResult> {
  // 1. Parse and validate: sizes are checked before anything is read in full.
  const bundleBytes = options.bundleBytes ?? readBundleBytes(options.bundle)
  const json = parseBundle(options.bundle, bundleBytes)
  // Each file is read once: with SHA-512 beside SHA-256 when the statement names one.
  const sha512Peeked = namesSha512(unverifiedStatement(json))
  const artifacts = hashAll(options, sha512Peeked)
  // A statement about nothing is not verified by finding nothing wrong with it.
  if (artifacts.length === 0)
    throw new ReproofError(
      'E_USAGE',
      'nothing to verify: give an artifact, or a digest as sha256:<hex>',
    )

  // 2. Decide.
  const checks: Check[] = []
  let identity: SignatureResult['identity'] | null = null
  let explanation: DiffItem[] | undefined
  let unchecked: string[] = []
  let rebuildReached = false
  try {
    // Readers differ on which of two equal keys counts (two envelopes, the first one
    // unsigned): a bundle that gives one twice is not one bundle.
    const repeated = repeatedKey(bundleBytes.toString('utf8'))
    if (repeated !== undefined)
      throw rejection(
        'bundle-invalid',
        `the bundle gives the key ${JSON.stringify(repeated.key)} twice in one object`,
      )
    const signature = await verifySignature(json, options.trust)
    identity = signature.identity
    unchecked = signature.unchecked
    checks.push({ name: 'signature', ok: true, found: identity })
    const statement = readStatement(signature.payload)
    if (namesSha512(statement)) {
      // The verified payload is the bytes peeked at; this is for one read another way.
      if (!sha512Peeked) artifacts.splice(0, artifacts.length, ...hashAll(options, true))
      // A digest argument carries one algorithm: what a subject says by the other is
      // not checked, and is said so.
      if (artifacts.some((a) => a.sha512 === undefined))
        unchecked = [
          ...unchecked,
          'the SHA-512 a subject names, which an artifact given as a sha256: digest cannot be checked against',
        ]
    }
    checks.push(
      ...checkStatement(
        signature.payloadType,
        statement,
        artifacts,
        options.policy,
        signature.identity.kind === 'key'
          ? { kind: 'key' }
          : { kind: 'certificate', facts: signature.identity.facts },
        signature.verifiedTimes,
        now,
        { sha256Required: options.sha256Only === true },
      ),
    )
    // The provenance's command runs only once its signer, identity and every other
    // check are verified: an unverified statement never gets to run anything.
    if (options.rebuild !== undefined && !checks.some((c) => !c.ok)) {
      // The build and diff stack loads only for a rebuild: plain verification stays fast.
      rebuildReached = true
      const { rebuildCheck } = await import('./rebuild.js')
      const rebuilt = await rebuildCheck(statement, {
        ...options.rebuild,
        artifacts,
        bundle: options.bundle,
      })
      checks.push(rebuilt.check)
      explanation = rebuilt.explanation
    }
  } catch (err) {
    // Not a no: an error of the inputs or the environment (a rebuild that failed or timed
    // out) is the answer, with the checks that passed before it for `--json` to say.
    if (err instanceof ReproofError && err.code !== 'E_REJECTED' && checks.length > 0)
      throw new ReproofError(err.code, err.message, { ...err.context, checks }, { cause: err })
    checks.push(failedCheck(err))
  }
  // Asked for and never reached (an earlier check said no): said, not left out.
  if (options.rebuild !== undefined && !rebuildReached)
    unchecked = [...unchecked, 'the rebuild: not run, as an earlier check failed']
  const failed = checks.find((c) => !c.ok)
  const verified =
    failed === undefined && checks.some((c) => c.name === 'signature' && c.ok) && checks.length > 1
  return {
    verified,
    artifacts,
    checks,
    identity,
    reason: verified ? null : (failed?.reason ?? 'internal-error'),
    unchecked,
    ...(explanation === undefined ? {} : { explanation }),
  }
}

/**
 * SHA-512 is computed only when a subject is named by it: it costs as much again as
 * SHA-256. Read one level into each subject, never walked: the payload is peeked at
 * before its signature is checked, and a subject nested 200,000 lists deep overflowed
 * the stack of a walk (an internal error where the answer is a no).
 */
function namesSha512(statement: unknown): boolean {
  const subject = (statement as { subject?: unknown } | null)?.subject
  return (
    Array.isArray(subject) &&
    subject.some((s: unknown) => {
      const digest = (s as { digest?: unknown } | null)?.digest
      return typeof digest === 'object' && digest !== null && Object.hasOwn(digest, 'sha512')
    })
  )
}

/**
 * The statement the bundle carries, read before its signature is checked: it decides
 * only how much hashing to do, never an answer. Undefined when it cannot be read (the
 * verification then says why).
 */
function unverifiedStatement(json: SerializedBundle): unknown {
  const payload = (json as { dsseEnvelope?: { payload?: unknown } }).dsseEnvelope?.payload
  // Base64 holds 3 bytes in 4 characters: a larger one is refused when it is verified.
  if (typeof payload !== 'string' || payload.length > (MAX_PAYLOAD_BYTES / 3) * 4 + 4)
    return undefined
  try {
    return JSON.parse(Buffer.from(payload, 'base64').toString('utf8'))
  } catch {
    return undefined
  }
}

/** The artifacts' digests, SHA-512 with SHA-256 when asked; digests given as such stay as given. */
function hashAll(options: VerifyOptions, sha512: boolean): ArtifactDigests[] {
  return [
    ...(options.digests ?? []),
    ...options.artifacts.map((file) =>
      hashArtifactFile(file, sha512 ? ['sha256', 'sha512'] : ['sha256']),
    ),
  ]
}

/** The signed statement, bounded before it is parsed. */
function readStatement(payload: Buffer): unknown {
  if (payload.length > MAX_PAYLOAD_BYTES)
    throw rejection('bundle-invalid', `the statement is larger than ${MAX_PAYLOAD_BYTES} bytes`)
  // JSON is UTF-8 (RFC 8259): bytes that are not would be read as U+FFFD here and
  // otherwise, or refused, by another reader of the same signature.
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(payload)
  } catch {
    throw rejection('statement-type', 'the signed payload is not UTF-8')
  }
  let statement: unknown
  try {
    statement = JSON.parse(text)
  } catch {
    throw rejection('statement-type', 'the signed payload is not JSON')
  }
  // Readers differ on which of two equal keys counts (a subject given twice, say), and
  // a Go reader takes `Subject` for `subject`: refused.
  const repeated = repeatedKey(text, { caseFolded: true })
  if (repeated !== undefined)
    throw rejection(
      'statement-type',
      repeated.first === repeated.key
        ? `the signed statement gives the key ${JSON.stringify(repeated.key)} twice in one object`
        : `the signed statement gives the key ${JSON.stringify(repeated.key)} beside ${JSON.stringify(repeated.first)} in one object, one key to readers that ignore case`,
    )
  return statement
}

/**
 * A verification that could not go on, as its failed check: a rejection keeps its reason
 * and what was wanted and found; anything unexpected is an "internal" no. Errors of the
 * inputs or the environment (a ReproofError of another code) are not a no: they are rethrown.
 */
function failedCheck(err: unknown): Check {
  const reason = rejectionReason(err)
  if (reason !== undefined) {
    const { wanted, found } = (err as ReproofError).context
    return {
      // A statement that cannot be read is not a bad signature: named for what failed.
      name: reason === 'statement-type' ? 'statement' : 'signature',
      ok: false,
      wanted,
      found: found ?? (err as ReproofError).message,
      reason,
    }
  }
  if (err instanceof ReproofError && err.code !== 'E_REJECTED') throw err
  return { name: 'internal', ok: false, found: (err as Error).message, reason: 'internal-error' }
}

/** Reads a bundle file, refusing one too large to be a bundle before reading it. */
/** A bundle's bytes, bounded; `name` is how messages name it (the flag, by default). */
export function readBundleBytes(file: string, name = `--bundle ${file}`): Buffer {
  return readBounded(file, MAX_BUNDLE_BYTES, name)
}

function parseBundle(file: string, bytes: Buffer): SerializedBundle {
  try {
    const json = JSON.parse(bytes.toString('utf8')) as unknown
    if (json === null || typeof json !== 'object' || Array.isArray(json))
      throw new Error('not an object')
    return json as SerializedBundle
  } catch (err) {
    throw new ReproofError(
      'E_INPUT',
      `--bundle ${file}: not a JSON Sigstore bundle`,
      { path: file },
      { cause: err },
    )
  }
}

/** The digests asked for, in one streaming pass (a regular file only). */
function hashArtifactFile(file: string, algorithms: ('sha256' | 'sha512')[]): ArtifactDigests {
  const { sha256, sha512 } = hashArtifact(file, file, algorithms) as {
    sha256: string
    sha512?: string
  }
  return { path: file, sha256, ...(sha512 === undefined ? {} : { sha512 }) }
}
