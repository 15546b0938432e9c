import crypto from 'node:crypto'
import fs from 'node:fs'
import type { SerializedBundle } from '@sigstore/bundle'
import type { Signature, Signer } from '@sigstore/sign'
import { PAYLOAD_TYPE } from './payload-type.js'
import { ReproofError } from '../errors.js'
import { writeFileAtomic } from '../io/atomic-write.js'
import { fetchIdentityToken, type TokenSource } from './identity.js'
import { redact } from './secrets.js'
import { sigstoreBundle, sigstoreCore, sigstoreSign } from '../load-cjs.js'
import { sha256Hex } from '../sha256.js'

export interface KeylessOptions {
  tokenSource: TokenSource
  fulcioUrl: string
  rekorUrl: string
  tsaUrl: string | undefined
  timeoutMs: number
  retries: number
  /** Where the signature is kept between signing and logging, so that a retry reuses it. */
  pendingFile: string
  /** Told of each secret (a token, the request token) before it is used, to mask it in CI logs. */
  onSecret?: (secret: string) => void
  /**
   * Verifies the bundle as a verifier will, before it is written (verify-signature.ts's
   * `verifyAsSigned`, given by the caller: verifying is a layer above signing). Returns
   * why it could not be verified against a trusted root, or undefined when it was; throws
   * a rejection for what fails.
   */
  verifyBeforeWriting: (bundle: SerializedBundle) => Promise<string | undefined>
  /**
   * What is wrong with the certificate Fulcio issued for what the statement claims (in
   * GitHub Actions: it must name the workflow the provenance gives as its builder), or
   * undefined; asked before the log is, so that nothing is published under it.
   */
  certificateProblem?: (certificatePem: string) => string | undefined
}

export interface KeylessResult {
  bundle: SerializedBundle
  /** Why the bundle was not verified against a trusted root before it was written, if it was not. */
  notVerified: string | undefined
}

interface Pending {
  payloadSha256: string
  /** tokenIdentity of the token the certificate was issued for. */
  identity: string
  signature: string
  key: Signature['key']
}

/**
 * Keyless signing: an OIDC token, a short-lived Fulcio certificate, a Rekor entry and,
 * if asked, an RFC 3161 timestamp. The signature and certificate are written durably
 * before the log is asked; when the log does not answer in time the outcome is
 * unknown (exit 4) and the next run reuses them, so that Rekor finds the entry it may
 * already hold instead of a second one being made.
 */
export async function signKeyless(
  payload: Buffer,
  options: KeylessOptions,
): Promise<KeylessResult> {
  const { DSSEBundleBuilder, FulcioSigner, RekorWitness, TSAWitness } = sigstoreSign()
  const { bundleToJSON } = sigstoreBundle()
  // Every secret this signing handles, so that no error message can carry one out.
  const secrets: string[] = []
  const keep = (secret: string): void => {
    if (secrets.includes(secret)) return
    secrets.push(secret)
    options.onSecret?.(secret)
  }
  if (options.tokenSource.kind === 'environment') keep(options.tokenSource.token)
  if (options.tokenSource.kind === 'github') keep(options.tokenSource.requestToken)
  const fetchOptions = {
    timeout: options.timeoutMs,
    retry: { retries: options.retries, factor: 2, minTimeout: 250, maxTimeout: 4000 },
  }
  // One token for the signing: whose it is decides whether a kept signature may be reused.
  let token: Promise<string> | undefined
  const getToken = (): Promise<string> =>
    (token ??= fetchIdentityToken(options.tokenSource, {
      timeoutMs: options.timeoutMs,
      retries: options.retries,
    }).then((t) => {
      keep(t)
      return t
    }))
  const fulcio = new FulcioSigner({
    fulcioBaseURL: options.fulcioUrl,
    identityProvider: { getToken },
    ...fetchOptions,
  })
  const witnesses = [
    new RekorWitness({
      rekorBaseURL: options.rekorUrl,
      fetchOnConflict: true,
      entryType: 'dsse',
      ...fetchOptions,
    }),
    ...(options.tsaUrl === undefined
      ? []
      : [new TSAWitness({ tsaBaseURL: options.tsaUrl, ...fetchOptions })]),
  ]
  const builder = new DSSEBundleBuilder({
    signer: persistingSigner(fulcio, options, getToken),
    witnesses,
    certificateChain: false,
  })
  let bundle
  try {
    bundle = await builder.create({ data: payload, type: PAYLOAD_TYPE })
  } catch (err) {
    throw toSigningError(err, options, secrets)
  }
  const json = bundleToJSON(bundle)
  checkWitnessed(json, payload, options)
  const notVerified = await verifiedAsSigned(json, options)
  // The pending signature stays until the caller has written the bundle durably.
  return { bundle: json, notVerified }
}

/**
 * The bundle verified as a verifier will verify it (verify-signature.ts), before it is
 * written: a log whose promise is garbage, or whose proof is missing where the bundle's
 * version needs one, gave a bundle that is "signed" and that no one can verify.
 */
async function verifiedAsSigned(
  json: SerializedBundle,
  options: KeylessOptions,
): Promise<string | undefined> {
  try {
    return await options.verifyBeforeWriting(json)
  } catch (err) {
    if (!(err instanceof ReproofError) || err.code !== 'E_REJECTED') throw err
    throw new ReproofError(
      'E_ENVIRONMENT',
      `signing: the bundle the services' answers make would not verify (${err.message}); nothing was written`,
      {
        hint: `run the same command again: it reuses the signature kept in ${options.pendingFile}`,
      },
      { cause: err },
    )
  }
}

/**
 * The bundle the services' answers made, checked before it is written: @sigstore/sign
 * copies what the log and the timestamp authority return without looking. A log that
 * answered without its entry's inclusion promise or proof gave a bundle that no verifier
 * accepts, and it was written and reported as signed. The signature is checked against
 * the certificate too, over this payload. Nothing is written if any fails; the signature
 * kept beside the bundle lets a retry ask the log for the same entry.
 */
function checkWitnessed(bundle: SerializedBundle, payload: Buffer, options: KeylessOptions): void {
  const fail = (what: string): never => {
    throw new ReproofError('E_ENVIRONMENT', `signing: ${what}; nothing was written`, {
      hint: `run the same command again: it reuses the signature kept in ${options.pendingFile}`,
    })
  }
  const envelope = bundle.dsseEnvelope
  if (envelope === undefined || Buffer.from(envelope.payload, 'base64').compare(payload) !== 0)
    fail('the bundle does not hold the statement that was signed')
  const entries = bundle.verificationMaterial.tlogEntries
  if (entries.length === 0) fail(`the log (${options.rekorUrl}) gave no entry`)
  for (const entry of entries)
    if (entry.inclusionPromise === undefined && entry.inclusionProof === undefined)
      fail(`the log (${options.rekorUrl}) answered without the entry's inclusion promise or proof`)
  if (
    options.tsaUrl !== undefined &&
    (bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? []).length === 0
  )
    fail(`the timestamp authority (${options.tsaUrl}) gave no timestamp`)
  const certificate = bundle.verificationMaterial.certificate?.rawBytes
  const signature = envelope?.signatures[0]?.sig
  if (certificate === undefined || signature === undefined)
    fail('the bundle has no certificate or signature')
  const x509 = new crypto.X509Certificate(Buffer.from(certificate ?? '', 'base64'))
  const publicKey = x509.publicKey
  // The log's time must fall while the certificate was valid, or no verifier accepts the
  // entry: a log (or retries) slow enough to pass the certificate's ten minutes did that.
  const validFrom = Date.parse(x509.validFrom)
  const validTo = Date.parse(x509.validTo)
  for (const entry of entries) {
    const at = Number(entry.integratedTime) * 1000
    if (!(at >= validFrom && at <= validTo))
      fail(
        `the log (${options.rekorUrl}) recorded the entry at ${Number.isFinite(at) ? new Date(at).toISOString() : entry.integratedTime}, outside the certificate's validity (${x509.validFrom} to ${x509.validTo})`,
      )
  }
  const pae = dssePae(envelope?.payloadType ?? '', payload)
  const signatureBytes = Buffer.from(signature ?? '', 'base64')
  if (!crypto.verify('sha256', pae, publicKey, signatureBytes))
    fail("the bundle's signature does not verify with its certificate")
  // Present is not enough: a log or authority that answers with an entry or a timestamp
  // of another signature (a replayed answer) gave a bundle no verifier accepts.
  for (const entry of entries) {
    const mismatch = entryMismatch(entry.canonicalizedBody, signatureBytes, payload)
    if (mismatch !== undefined)
      fail(`the log (${options.rekorUrl}) gave an entry that is not this signature's (${mismatch})`)
  }
  const { RFC3161Timestamp } = sigstoreCore()
  for (const stamp of bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ??
    []) {
    try {
      RFC3161Timestamp.parse(Buffer.from(stamp.signedTimestamp, 'base64')).tstInfo.verify(
        signatureBytes,
      )
    } catch {
      fail(
        `the timestamp authority (${options.tsaUrl ?? ''}) gave a timestamp of something else than this signature`,
      )
    }
  }
}

/**
 * What in a log entry's body says it is not of this signature over this payload, or
 * undefined: Rekor's `dsse` (0.0.1) and `intoto` (0.0.2) entries, the kinds a DSSE
 * envelope is logged as, name the signature and the payload's SHA-256. Pure.
 */
export function entryMismatch(
  canonicalizedBody: string,
  signature: Buffer,
  payload: Buffer,
): string | undefined {
  let body: unknown
  try {
    body = JSON.parse(Buffer.from(canonicalizedBody, 'base64').toString('utf8'))
  } catch {
    return 'its body is not JSON'
  }
  const at = (value: unknown, ...keys: (string | number)[]): unknown =>
    keys.reduce<unknown>(
      (v, k) =>
        typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined,
      value,
    )
  const digest = sha256Hex(payload)
  const kind = at(body, 'kind')
  const version = at(body, 'apiVersion')
  if (kind === 'dsse' && version === '0.0.1') {
    const signatures = at(body, 'spec', 'signatures')
    if (!Array.isArray(signatures) || signatures.length !== 1) return 'not one signature'
    if (at(signatures, 0, 'signature') !== signature.toString('base64')) return 'another signature'
    return at(body, 'spec', 'payloadHash', 'value') === digest ? undefined : 'another payload'
  }
  if (kind === 'intoto' && version === '0.0.2') {
    const signatures = at(body, 'spec', 'content', 'envelope', 'signatures')
    if (!Array.isArray(signatures) || signatures.length !== 1) return 'not one signature'
    // Base64 twice over, in this kind.
    const sig = at(signatures, 0, 'sig')
    if (
      typeof sig !== 'string' ||
      Buffer.from(sig, 'base64').toString() !== signature.toString('base64')
    )
      return 'another signature'
    return at(body, 'spec', 'content', 'payloadHash', 'value') === digest
      ? undefined
      : 'another payload'
  }
  return `an entry of kind ${String(kind)} ${String(version)}`
}

/** DSSE's pre-authentication encoding of a payload and its type: what is signed. */
function dssePae(type: string, payload: Buffer): Buffer {
  const t = Buffer.from(type)
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${t.length} `),
    t,
    Buffer.from(` ${payload.length} `),
    payload,
  ])
}

/**
 * Wraps the Fulcio signer: reuses a signature kept from an earlier, interrupted run of
 * the same payload, by the same identity, while its certificate is still valid;
 * otherwise signs and keeps the result before anything is sent to the log.
 */
function persistingSigner(
  inner: Signer,
  options: KeylessOptions,
  getToken: () => Promise<string>,
): Signer {
  const { pendingFile } = options
  // Before anything reaches the log: a certificate that does not vouch for the claim.
  const checked = (signature: Signature): Signature => {
    const problem =
      signature.key.$case === 'x509Certificate'
        ? options.certificateProblem?.(signature.key.certificate)
        : 'Fulcio gave no certificate'
    if (problem !== undefined)
      throw new ReproofError('E_ENVIRONMENT', `signing: ${problem}; nothing was logged or written`)
    return signature
  }
  return {
    async sign(data: Buffer): Promise<Signature> {
      const digest = sha256Hex(data)
      // Whose token this signing holds: a certificate kept for another identity (an
      // earlier run's, or one planted beside the bundle) is not this signer's to reuse.
      const identity = tokenIdentity(await getToken())
      const pending = readPending(pendingFile)
      if (
        pending?.payloadSha256 === digest &&
        pending.identity === identity &&
        certificateStillValid(pending.key)
      ) {
        return checked({ signature: Buffer.from(pending.signature, 'base64'), key: pending.key })
      }
      const signature = checked(await inner.sign(data))
      const kept: Pending = {
        payloadSha256: digest,
        identity,
        signature: signature.signature.toString('base64'),
        key: signature.key,
      }
      await writeFileAtomic(pendingFile, `${JSON.stringify(kept)}\n`, 0o600)
      return signature
    },
  }
}

/**
 * Who an OIDC token names, as a digest of the claims a certificate is issued from: the
 * issuer, the subject, an e-mail, and GitHub's workflow (one branch's workflows share a
 * subject, and Fulcio names the workflow), which stay the same across the tokens one
 * identity is given; a token that cannot be read names only itself. Never the token: the
 * pending file must not hold a secret.
 */
export function tokenIdentity(token: string): string {
  try {
    const claims = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as Record<string, unknown>
    const { iss, sub } = claims
    const named = ['email', 'job_workflow_ref', 'workflow_ref'].map((k) => claims[k] ?? null)
    if (typeof iss === 'string' && typeof sub === 'string')
      return sha256Hex(Buffer.from(JSON.stringify([iss, sub, ...named])))
  } catch {
    // Not a JWT: below.
  }
  return sha256Hex(Buffer.from(`token:${token}`))
}

/**
 * The signature kept by an earlier run, read only from a regular file of this user's (not
 * through a link): one another user could place would have its certificate reused.
 */
function readPending(file: string): Pending | undefined {
  let text: string
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)
    try {
      const stat = fs.fstatSync(fd)
      if (!stat.isFile() || stat.size > 1024 * 1024) return undefined
      if (process.getuid !== undefined && stat.uid !== process.getuid()) return undefined
      text = fs.readFileSync(fd, 'utf8')
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    return undefined
  }
  try {
    const json = JSON.parse(text) as Partial<Pending>
    if (
      typeof json.payloadSha256 !== 'string' ||
      typeof json.identity !== 'string' ||
      typeof json.signature !== 'string' ||
      typeof json.key !== 'object'
    )
      return undefined
    return json as Pending
  } catch {
    return undefined
  }
}

/** Rekor would accept a stale certificate, but no verifier would: the entry must fall within its validity. */
function certificateStillValid(key: Signature['key']): boolean {
  if (key.$case !== 'x509Certificate') return false
  try {
    return Date.parse(new crypto.X509Certificate(key.certificate).validTo) > Date.now() + 30_000
  } catch {
    return false
  }
}

/** Timeouts and unreachable services are unknown outcomes; refusals are failures. */
function toSigningError(
  err: unknown,
  options: KeylessOptions,
  secrets: readonly string[],
): ReproofError {
  if (err instanceof ReproofError)
    return new ReproofError(
      err.code,
      redact(err.message, secrets),
      err.context.hint === undefined
        ? err.context
        : { ...err.context, hint: redact(err.context.hint, secrets) },
    )
  const e = err as { code?: string; message?: string; cause?: { message?: string; code?: string } }
  const detail = redact(
    `${e.message ?? String(err)}${e.cause?.message === undefined ? '' : ` (${e.cause.message})`}`,
    secrets,
  )
  const timedOut =
    /timeout|timed out|ETIMEDOUT|ECONNRESET|socket hang up|network/i.test(detail) ||
    e.cause?.code === 'ETIMEDOUT'
  if (e.code === 'TLOG_CREATE_ENTRY_ERROR' && timedOut) {
    return new ReproofError(
      'E_AMBIGUOUS',
      `the transparency log did not answer in time (${options.rekorUrl}); whether the entry was recorded is unknown`,
      {
        hint: `run the same command again: it reuses the signature kept in ${options.pendingFile}, and the log returns the existing entry instead of a duplicate`,
      },
    )
  }
  if (timedOut) {
    return new ReproofError(
      'E_AMBIGUOUS',
      `a signing service did not answer in time (${detail}); nothing was published by this step, a retry is safe`,
    )
  }
  return new ReproofError('E_ENVIRONMENT', `keyless signing failed: ${detail}`)
}
