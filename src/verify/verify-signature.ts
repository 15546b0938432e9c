import crypto from 'node:crypto'
import { parseJsonBytes } from '../io/json-input.js'
import type { SerializedBundle } from '@sigstore/bundle'
import { ReproofError } from '../errors.js'
import { keyHint } from '../sign/keys.js'
import { rejection } from './reasons.js'
import type { Trust } from '../config/verify-options.js'

export type { Trust } from '../config/verify-options.js'
import {
  certificateFacts,
  leafProfileProblem,
  oidcIssuer,
  subjectAlternativeName,
  type CertificateFacts,
} from './certificate-facts.js'
import { entrySignerMismatch } from './tlog-signer.js'
import { trustedRootProblem } from './trusted-root.js'
import { sigstoreBundle, sigstoreSpecs, sigstoreTuf, sigstoreVerify } from '../load-cjs.js'
import { readBounded } from '../io/read-bounded.js'
import { matchesWhole, type BoundedMatch } from '../bounded-regexp.js'
import { misshapenField } from './bundle-shape.js'

/** A time a signature verifiably existed at: from a log's promise or a timestamp authority. */
export interface VerifiedTime {
  /** Milliseconds since the epoch. */
  time: number
  source: 'transparency log' | 'timestamp authority'
}

export interface SignatureResult {
  identity:
    | { kind: 'key'; hint: string; key: string }
    | {
        kind: 'certificate'
        subjectAlternativeName: string
        issuer: string
        /** What Fulcio wrote into the certificate about the workload (certificate-facts.ts). */
        facts: CertificateFacts
      }
  /** Only times whose signatures verified: never a log entry's bare integratedTime. */
  verifiedTimes: VerifiedTime[]
  /** Parts of the bundle that were not checked, and so vouch for nothing. */
  unchecked: string[]
  payloadType: string
  payload: Buffer
}

// Keyless bundles are verified with no lowered thresholds: one log entry, one
// certificate-transparency proof and one trusted time, always.
const KEYLESS_THRESHOLDS = { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 }
const KEY_THRESHOLDS = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }

/**
 * Verifies the bundle's signature with @sigstore/verify against the given trust, then
 * the signer's identity with reproof's own exact (or anchored) comparison: the library
 * matches identities as unanchored regular expressions.
 */
export async function verifySignature(
  json: SerializedBundle,
  trust: Trust,
): Promise<SignatureResult> {
  const { bundle, entity } = readBundle(json)
  const { TrustedRoot } = sigstoreSpecs()
  const verified =
    trust.kind === 'keys'
      ? await verifyWithKeys(json, entity, trust)
      : verifyKeyless(
          bundle,
          entity,
          trust,
          await loadTrustedRoot(trust.trustedRoot, (root) => TrustedRoot.fromJSON(root)),
        )
  const envelope = bundle.content.dsseEnvelope
  return {
    identity: verified.identity,
    verifiedTimes: verifiedTimes(verified.entity),
    unchecked: verified.unchecked,
    payloadType: envelope.payloadType,
    payload: envelope.payload,
  }
}

/**
 * A bundle keyless signing has just made, checked before it is written as `reproof
 * verify` will check it, but for the signer's identity (its own, whatever it is): its
 * shape always; given a trusted root (or `'public-good'`, fetched through TUF), every
 * signature, inclusion promise and proof, certificate chain, SCT and time as well.
 * Returns why the second part could not run (the root could not be had), or undefined
 * when it ran; throws a rejection for what fails.
 */
export async function verifyAsSigned(
  json: SerializedBundle,
  trustedRoot: { file: string } | 'public-good' | undefined,
): Promise<string | undefined> {
  const { entity } = readBundle(json)
  if (trustedRoot === undefined) return 'no --trusted-root was given for these services'
  const { TrustedRoot } = sigstoreSpecs()
  let root
  try {
    root = await loadTrustedRoot(
      trustedRoot === 'public-good' ? undefined : trustedRoot.file,
      (r) => TrustedRoot.fromJSON(r),
    )
  } catch (err) {
    if (trustedRoot === 'public-good' && err instanceof ReproofError) return err.message
    throw err
  }
  const { toTrustMaterial, Verifier } = sigstoreVerify()
  run(() => new Verifier(toTrustMaterial(root), KEYLESS_THRESHOLDS).verify(entity))
  checkLogKeyWindows(root, entity)
  return undefined
}

/**
 * The bundle parsed and held to the rules the library leaves open (media type, canonical
 * base64, strict certificates, consistent proofs), as a DSSE bundle and its signed entity.
 */
function readBundle(json: SerializedBundle) {
  const { bundleFromJSON, isBundleWithDsseEnvelope } = sigstoreBundle()
  const { toSignedEntity } = sigstoreVerify()
  // Before the library reads it: it converts what it finds (an array of numbers to bytes).
  const misshapen = misshapenField(json)
  if (misshapen !== undefined)
    throw rejection(
      'bundle-invalid',
      `the bundle's ${misshapen.path} is not ${misshapen.wanted}, as the bundle format has it`,
    )
  let bundle
  try {
    bundle = bundleFromJSON(json)
  } catch (err) {
    // The library's validation error names the fields at fault apart from its message.
    const fields = (err as { fields?: unknown }).fields
    const which = Array.isArray(fields) && fields.length > 0 ? `: ${fields.join(', ')}` : ''
    throw rejection(
      'bundle-invalid',
      `the bundle is not a valid Sigstore bundle (${(err as Error).message}${which})`,
      { cause: err },
    )
  }
  if (!isBundleWithDsseEnvelope(bundle))
    throw rejection('payload-type', 'the bundle holds a message signature, not a DSSE attestation')
  checkMediaType(json)
  checkCanonicalBase64(json)
  checkStrictCertificates(json)
  checkProofConsistency(json)
  // One signature per envelope: the bundle format's own rule, which bundleFromJSON
  // enforces (test/unit/verify/verify-signature.test.ts holds it to that).
  try {
    return { bundle, entity: toSignedEntity(bundle) }
  } catch (err) {
    throw rejection('bundle-invalid', `the bundle cannot be read (${(err as Error).message})`, {
      cause: err,
    })
  }
}

interface Verified {
  identity: SignatureResult['identity']
  /** The entity whose times count: without a trusted root, a key bundle's are dropped. */
  entity: SignedEntity
  unchecked: string[]
}

/** A key-signed bundle: one of the given keys verifies it; its log entries only with a root. */
async function verifyWithKeys(
  json: SerializedBundle,
  signed: SignedEntity,
  trust: Extract<Trust, { kind: 'keys' }>,
): Promise<Verified> {
  const { toTrustMaterial, Verifier } = sigstoreVerify()
  const { PublicKeyDetails } = sigstoreSpecs()
  const keys = trust.keys.map((file) => ({ file, key: loadPublicKey(file) }))
  // A bundle signed under a certificate is no key's: @sigstore/verify would check its
  // chain against the trusted root's CAs and never use the keys given, so any Fulcio
  // certificate would pass as "signed with your key".
  if (signed.key.$case !== 'public-key')
    throw rejection(
      'untrusted-key',
      'the bundle is signed under a certificate, not with a key; verify it keyless (--certificate-identity, --certificate-oidc-issuer)',
      { wanted: keys.map((k) => k.file), found: 'a certificate' },
    )
  const { root, entity, unchecked } = await rootForKeys(trust.trustedRoot, signed)
  // The hint is not signed and its form varies (hex here, base64 from cosign and
  // sigstore-go, or none): the key it names is tried first, then every other key.
  const hint = json.verificationMaterial.publicKey?.hint ?? ''
  const ordered = [
    ...keys.filter((k) => hintsOf(k.key).includes(hint)),
    ...keys.filter((k) => !hintsOf(k.key).includes(hint)),
  ]
  const failures: unknown[] = []
  for (const candidate of ordered) {
    const details =
      candidate.key.asymmetricKeyType === 'ed25519'
        ? PublicKeyDetails.PKIX_ED25519
        : PublicKeyDetails.PKIX_ECDSA_P256_SHA_256
    const material = toTrustMaterial(root, {
      [hint]: {
        rawBytes: candidate.key.export({ type: 'spki', format: 'der' }),
        keyDetails: details,
      },
    })
    try {
      new Verifier(material, KEY_THRESHOLDS).verify(entity)
      checkLogKeyWindows(root, entity)
    } catch (err) {
      failures.push(err)
      continue
    }
    // The entries the root checked must each name this key (as a keyless one must name
    // the certificate): the key verified, so this is the answer, not a try of the next.
    const logged = entrySignerMismatch(entity.tlogEntries, { key: candidate.key })
    if (logged !== undefined) throw rejection('tlog-mismatch', logged)
    // The hint of the key that verified, in reproof's form: the bundle's own may be
    // base64, absent or wrong.
    return {
      identity: { kind: 'key', hint: keyHint(candidate.key), key: candidate.file },
      entity,
      unchecked,
    }
  }
  // A failure that has nothing to do with which key is the bundle's own fault; so is a
  // signature that fails with the very key the bundle names.
  const other = failures.find((e) => (e as { code?: string }).code !== 'SIGNATURE_ERROR')
  const named = keys.some((k) => hintsOf(k.key).includes(hint))
  if (other !== undefined || named)
    run(() => {
      throw other ?? failures[0]
    })
  throw rejection('untrusted-key', 'the bundle was not signed with any of the given keys', {
    wanted: keys.map((k) => k.file),
    found: hint === '' ? '(no key hint)' : hint,
  })
}

/**
 * What a key-signed bundle's log entries and timestamps are checked against: the given
 * trusted root, or none. With none they are left out of the entity, named in
 * `unchecked`, and give no verified time; a key-signed bundle needs neither.
 */
async function rootForKeys(trustedRoot: string | undefined, signed: SignedEntity) {
  const { TrustedRoot } = sigstoreSpecs()
  if (trustedRoot !== undefined)
    return {
      root: await loadTrustedRoot(trustedRoot, (json) => TrustedRoot.fromJSON(json)),
      entity: signed,
      // Given, and nothing to check against it: said, so that a yes does not read as a
      // bundle logged and timestamped under that root.
      unchecked:
        signed.tlogEntries.length === 0 && countTimestamps(signed) === 0
          ? [
              `--trusted-root ${trustedRoot}: not used, the bundle has no transparency-log entry or timestamp to check against it`,
            ]
          : [],
    }
  const root = TrustedRoot.fromJSON({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  })
  const parts = [
    signed.tlogEntries.length > 0 ? `${signed.tlogEntries.length} transparency-log entry(ies)` : '',
    countTimestamps(signed) > 0 ? `${countTimestamps(signed)} RFC 3161 timestamp(s)` : '',
  ].filter((p) => p !== '')
  return {
    root,
    entity: { ...signed, tlogEntries: [], timestamps: [] },
    unchecked:
      parts.length > 0 ? [`${parts.join(' and ')}: not checked, no --trusted-root was given`] : [],
  }
}

/** A keyless bundle: its certificate chains to Fulcio, is logged, and names the identity required. */
function verifyKeyless(
  bundle: ReturnType<typeof readBundle>['bundle'],
  entity: SignedEntity,
  trust: Extract<Trust, { kind: 'keyless' }>,
  root: Parameters<ReturnType<typeof sigstoreVerify>['toTrustMaterial']>[0],
): Verified {
  const { toTrustMaterial, Verifier } = sigstoreVerify()
  if (bundle.verificationMaterial.tlogEntries.length === 0)
    throw rejection(
      'tlog-missing',
      'the bundle has no transparency-log entry; a keyless signature without one is not accepted',
    )
  const signer = run(() => new Verifier(toTrustMaterial(root), KEYLESS_THRESHOLDS).verify(entity))
  checkLogKeyWindows(root, entity)
  // Each log entry must name this certificate as the signer, as sigstore-go requires:
  // the library checks that it records this signature, not under whose name.
  const content = bundle.verificationMaterial.content
  const leaf =
    content.$case === 'certificate'
      ? content.certificate.rawBytes
      : content.$case === 'x509CertificateChain'
        ? content.x509CertificateChain.certificates[0]?.rawBytes
        : undefined
  const logged =
    leaf === undefined
      ? 'the bundle holds no certificate'
      : entrySignerMismatch(bundle.verificationMaterial.tlogEntries, {
          certificate: Buffer.from(leaf),
        })
  if (logged !== undefined) throw rejection('tlog-mismatch', logged)
  // Read from the certificate's bytes, strictly, not as the library decodes them (see
  // subjectAlternativeName). A certificate without a readable identity or issuer
  // matches nothing, not a pattern that happens to match the empty string.
  const oids = signer.identity?.oids ?? []
  const sanRead = subjectAlternativeName(oids)
  if (!('text' in sanRead))
    throw rejection(
      'identity-mismatch',
      `the certificate names no identity reproof can read: ${sanRead.problem}`,
      {
        wanted: trust.identity ?? trust.identityRegexp,
        found: null,
      },
    )
  const issuerRead = oidcIssuer(oids)
  if (!('text' in issuerRead))
    throw rejection(
      'issuer-mismatch',
      `the certificate names no OIDC issuer reproof can read: ${issuerRead.problem}`,
      {
        wanted: trust.issuer ?? trust.issuerRegexp,
        found: null,
      },
    )
  // A certificate for code signing, as Fulcio issues them and sigstore-go requires: a
  // CA's or a server's certificate from the same CA is not a signer's.
  const profile = leafProfileProblem(oids)
  if (profile !== undefined)
    throw rejection('certificate-profile', `the certificate is not one for signing: ${profile}`)
  const san = sanRead.text
  const issuer = issuerRead.text
  const identityMatch = matches(san, trust.identity, trust.identityRegexp)
  if (identityMatch !== true)
    throw rejection('identity-mismatch', 'the certificate identity is not the one required', {
      wanted: trust.identity ?? trust.identityRegexp,
      found: foundAs(san, identityMatch),
    })
  const issuerMatch = matches(issuer, trust.issuer, trust.issuerRegexp)
  if (issuerMatch !== true)
    throw rejection('issuer-mismatch', 'the certificate was issued for another OIDC issuer', {
      wanted: trust.issuer ?? trust.issuerRegexp,
      found: foundAs(issuer, issuerMatch),
    })
  return {
    identity: {
      kind: 'certificate',
      subjectAlternativeName: san,
      issuer,
      facts: certificateFacts(oids),
    },
    entity,
    unchecked: [],
  }
}

/** `found` is `exact` when that is given, else matches all of `regexp` (anchored). */
function matches(
  found: string,
  exact: string | undefined,
  regexp: string | undefined,
): BoundedMatch {
  return exact !== undefined ? found === exact : matchesWhole(regexp ?? '', found)
}

/** What was found, and why a pattern could not say whether it matched. */
function foundAs(found: string, match: BoundedMatch): string {
  return typeof match === 'object' ? `${found} (${match.undecided})` : found
}

type SignedEntity = ReturnType<ReturnType<typeof sigstoreVerify>['toSignedEntity']>

function countTimestamps(entity: SignedEntity): number {
  return entity.timestamps.filter((t) => t.$case === 'timestamp-authority').length
}

/**
 * The times of an entity whose verification passed, as the library counts them: an
 * RFC 3161 timestamp (its signature verified against the trusted root's authorities),
 * and a log entry's integratedTime only when the entry carries a signed inclusion
 * promise, which covers that field. An inclusion proof does not: a bundle with its
 * promise deleted can say any integratedTime it likes.
 */
function verifiedTimes(entity: SignedEntity): VerifiedTime[] {
  return entity.timestamps.flatMap((t): VerifiedTime[] => {
    if (t.$case === 'timestamp-authority')
      return [{ time: t.timestamp.signingTime.getTime(), source: 'timestamp authority' }]
    if (t.tlogEntry.inclusionPromise === undefined) return []
    return [{ time: Number(t.tlogEntry.integratedTime) * 1000, source: 'transparency log' }]
  })
}

/** What of a trusted root's logs the window check reads. */
interface RootLogs {
  tlogs: readonly {
    logId?: { keyId: Uint8Array }
    checkpointKeyId?: { keyId: Uint8Array }
    publicKey?: { validFor?: { start?: Date; end?: Date } }
  }[]
}

/**
 * Every verified time lies within the validity window of each log key that may have
 * vouched for the entry: the log named by the entry's log ID, and any log whose key hint
 * (the first four bytes of its ID) a Rekor v2 checkpoint names it by. @sigstore/verify
 * checks a v1 entry's promise against its key's window but picks a v2 checkpoint's key
 * by hint and name alone, so a key the trusted root retired by its end date still
 * verified checkpoints signed after it. A log is known by either of its IDs: the library
 * takes a root log's `checkpointKeyId` before its `logId` (for an Ed25519 log, as Rekor
 * v2's are, the two differ), so a window looked up by `logId` alone was never found.
 */
export function checkLogKeyWindows(root: RootLogs, entity: SignedEntity): void {
  const times = verifiedTimes(entity)
  for (const entry of entity.tlogEntries) {
    const id = Buffer.from(entry.logId.keyId)
    // Every key of the root that names this log; a root may list one key twice, with
    // two windows (a key rotated out and back): one that covers every time is enough.
    const keys = root.tlogs.flatMap((log) => {
      const ids = [log.checkpointKeyId?.keyId, log.logId?.keyId].flatMap((k) =>
        k === undefined ? [] : [Buffer.from(k)],
      )
      const logId = ids.find((k) => k.subarray(0, 4).equals(id.subarray(0, 4)))
      if (logId === undefined) return []
      const { start, end } = log.publicKey?.validFor ?? {}
      const outside = times.find(
        (t) =>
          (start !== undefined && t.time < start.getTime()) ||
          (end !== undefined && t.time > end.getTime()),
      )
      return [{ logId, start, end, outside }]
    })
    // One key listed twice (the same ID) needs one window that covers every time; two
    // keys that share a hint are each held to their own window.
    const oneKey = keys.every((k) => k.logId.equals(keys[0]?.logId ?? Buffer.alloc(0)))
    const within = (k: (typeof keys)[number]): boolean => k.outside === undefined
    if (keys.length === 0 || (oneKey ? keys.some(within) : keys.every(within))) continue
    const first = keys.find((k) => !within(k))
    if (first?.outside !== undefined)
      throw rejection(
        'signature-invalid',
        `the transparency log key ${first.logId.toString('hex').slice(0, 16)}… is valid from ${first.start?.toISOString() ?? '(any time)'} to ${first.end?.toISOString() ?? '(no end)'}; the ${first.outside.source} time ${new Date(first.outside.time).toISOString()} lies outside it`,
      )
  }
}

/** The forms a bundle's key hint takes for this key: reproof's hex, and base64 of the same digest. */
function hintsOf(key: crypto.KeyObject): string[] {
  const hex = keyHint(key)
  return [hex, Buffer.from(hex, 'hex').toString('base64')]
}

// The bundle versions reproof reads, as the protobuf-specs name them. The library only
// looks at the media type to tell v0.1 from later versions, so "version=0.0" passed.
const BUNDLE_MEDIA_TYPES = new Set([
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle.v0.3+json',
])

function checkMediaType(json: SerializedBundle): void {
  if (!BUNDLE_MEDIA_TYPES.has(json.mediaType)) {
    throw rejection(
      'bundle-invalid',
      `the bundle's media type is not one reproof knows: ${JSON.stringify(json.mediaType).slice(0, 100)}`,
    )
  }
}

// Bundle fields that hold base64 (standard alphabet, padded), by their JSON names.
const BASE64_FIELDS = new Set([
  'rawBytes',
  'keyId',
  'signedEntryTimestamp',
  'rootHash',
  'hashes',
  'canonicalizedBody',
  'signedTimestamp',
  'payload',
  'sig',
])

/**
 * Node's base64 decoder skips characters outside the alphabet and tolerates missing
 * padding, so `Cg==` and `Cg}=` decode alike. reproof accepts only canonical base64 in
 * a bundle: one encoding per value, and no bytes that the signature does not cover.
 */
function checkCanonicalBase64(json: SerializedBundle): void {
  // A walk with its own stack: a bundle nested a million levels deep (an unknown field
  // inside another) overflowed the call stack, an internal error rather than a refusal.
  const stack: [value: unknown, key: string, depth: number][] = [[json, '', 0]]
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [value, key, depth] = next
    if (typeof value === 'string') {
      if (BASE64_FIELDS.has(key) && Buffer.from(value, 'base64').toString('base64') !== value) {
        throw rejection('bundle-invalid', `the bundle's "${key}" is not canonical base64`)
      }
      continue
    }
    if (value === null || typeof value !== 'object') continue
    if (depth >= MAX_BUNDLE_DEPTH)
      throw rejection(
        'bundle-invalid',
        `the bundle nests more than ${MAX_BUNDLE_DEPTH} levels deep; a Sigstore bundle nests a few`,
      )
    if (Array.isArray(value)) for (const item of value) stack.push([item, key, depth + 1])
    else for (const [k, v] of Object.entries(value)) stack.push([v, k, depth + 1])
  }
}

// A bundle's deepest field is about six levels down; unknown fields may add some.
const MAX_BUNDLE_DEPTH = 64

/**
 * The library's ASN.1 reader is lenient: a certificate whose signature BIT STRING tag
 * was changed still verified. Every certificate in the bundle must be strict DER, as
 * OpenSSL reads it, byte for byte.
 */
function checkStrictCertificates(json: SerializedBundle): void {
  const material = json.verificationMaterial as {
    certificate?: { rawBytes?: string }
    x509CertificateChain?: { certificates?: { rawBytes?: string }[] }
  }
  // One signer: a chain beside a single certificate (or a key) is two readings of one
  // bundle, protobuf's JSON form refuses it, and the library silently takes the chain.
  const signers = (['publicKey', 'certificate', 'x509CertificateChain'] as const).filter(
    (name) => (material as Record<string, unknown>)[name] != null,
  )
  if (signers.length > 1)
    throw rejection(
      'bundle-invalid',
      `the bundle names its signer more than once (${signers.join(' and ')})`,
    )
  const certificates = [
    material.certificate?.rawBytes,
    ...(material.x509CertificateChain?.certificates ?? []).map((c) => c.rawBytes),
  ].filter((raw): raw is string => typeof raw === 'string')
  for (const raw of certificates) {
    const der = Buffer.from(raw, 'base64')
    let parsed: crypto.X509Certificate | undefined
    try {
      parsed = new crypto.X509Certificate(der)
    } catch {
      parsed = undefined
    }
    if (parsed?.raw.equals(der) !== true) {
      throw rejection('bundle-invalid', 'a certificate in the bundle is not valid DER')
    }
  }
}

/**
 * The library verifies an inclusion proof against the root hash in its signed
 * checkpoint and ignores the proof's own `rootHash` and `treeSize` fields; reproof
 * refuses a bundle where they disagree, rather than accept fields nobody checked.
 */
function checkProofConsistency(json: SerializedBundle): void {
  // Typed as always present, but a key-signed bundle's JSON may leave it out.
  const entries: unknown = json.verificationMaterial.tlogEntries
  for (const entry of Array.isArray(entries)
    ? (entries as SerializedBundle['verificationMaterial']['tlogEntries'])
    : []) {
    const proof = entry.inclusionProof
    // A Rekor v2 entry (hashedrekord or dsse of version 0.0.2; v1's intoto has a 0.0.2
    // too) has no signed promise: its index is the proof's, which is what is checked, and
    // one that says another is refused, not left standing unchecked beside it. (A v1
    // entry's index counts across the log's shards, its proof's within one: they differ.)
    const int64 = (value: unknown): unknown => (typeof value === 'number' ? String(value) : value)
    const kind = entry.kindVersion?.kind
    if (
      (kind === 'hashedrekord' || kind === 'dsse') &&
      entry.kindVersion?.version === '0.0.2' &&
      proof !== undefined &&
      int64(entry.logIndex) !== int64(proof.logIndex)
    )
      throw rejection(
        'bundle-invalid',
        "a Rekor v2 log entry's index is not its inclusion proof's",
        { wanted: proof.logIndex, found: entry.logIndex },
      )
    // Null is absent, as protobuf's JSON mapping reads it.
    const checkpoint: unknown = proof?.checkpoint
    if (proof === undefined || checkpoint === undefined || checkpoint === null) continue
    const envelope = (checkpoint as { envelope?: unknown }).envelope
    if (typeof envelope !== 'string' || envelope === '')
      throw rejection('bundle-invalid', "an inclusion proof's checkpoint holds no signed note")
    const lines = envelope.split('\n')
    const [, size, root] = lines
    // Signature lines of the signed note: "— <name> <base64>", decoded as strictly as the rest.
    for (const line of lines.filter((l) => l.startsWith('\u2014 '))) {
      const sig = line.split(' ').at(-1) ?? ''
      if (Buffer.from(sig, 'base64').toString('base64') !== sig)
        throw rejection('bundle-invalid', 'a checkpoint signature is not canonical base64')
    }
    // An int64 may be a JSON number as well as a string: 23082684 is "23082684".
    const treeSize: unknown = proof.treeSize
    const sizeText = typeof treeSize === 'number' ? String(treeSize) : treeSize
    if (size !== sizeText || root !== proof.rootHash) {
      throw rejection(
        'bundle-invalid',
        'an inclusion proof disagrees with its signed checkpoint (tree size or root hash)',
        {
          wanted: { treeSize: size, rootHash: root },
          found: { treeSize: proof.treeSize, rootHash: proof.rootHash },
        },
      )
    }
  }
}

/**
 * A failure of the library's verification is a no, with the library's code. The reasons
 * it could name more precisely are decided before it runs: a keyless bundle without a
 * log entry (tlog-missing) and a key bundle no given key signed (untrusted-key).
 */
function run<T>(verify: () => T): T {
  try {
    return verify()
  } catch (err) {
    const code = (err as { code?: string }).code ?? ''
    throw rejection(
      'signature-invalid',
      `${code === '' ? 'verification failed' : code}: ${(err as Error).message}`,
      { cause: err },
    )
  }
}

// A PEM public key is a few hundred bytes; an RSA one of 16384 bits under 3 KB.
const MAX_KEY_BYTES = 64 * 1024

function loadPublicKey(file: string): crypto.KeyObject {
  const pem = readBounded(file, MAX_KEY_BYTES, `--key ${file}`).toString('utf8')
  // Node reads the first PEM block and ignores the rest: keys after it would not be
  // trusted, whatever the file's author meant.
  const kinds = [...pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1])
  if (kinds.length > 1)
    throw new ReproofError(
      'E_INPUT',
      `--key ${file}: holds ${kinds.length} PEM blocks; give each key in a file of its own, with a --key each`,
      { path: file },
    )
  // Node derives a public key from a private key or a certificate as readily: a
  // certificate's validity and identity would go unchecked under a yes, and a private
  // key is not what a verifier should be handed. Only a public key is taken as one.
  const kind = kinds[0]
  if (kind !== undefined && kind !== 'PUBLIC KEY')
    throw new ReproofError(
      'E_INPUT',
      `--key ${file}: a PEM ${kind.toLowerCase()}, not a public key${kind.includes('PRIVATE') ? ' (give the .pub file keygen wrote beside it)' : kind === 'CERTIFICATE' ? ' (a certificate is verified keyless, with --trusted-root and the identity flags)' : ''}`,
      { path: file },
    )
  let key: crypto.KeyObject
  try {
    key = crypto.createPublicKey(pem)
  } catch (err) {
    throw new ReproofError(
      'E_INPUT',
      `--key ${file}: not a PEM public key`,
      { path: file },
      { cause: err },
    )
  }
  // The two kinds reproof signs with and the threat model names; another (an RSA key of
  // any size, another curve) is refused rather than verified as whatever it is.
  const curve = key.asymmetricKeyDetails?.namedCurve
  if (
    key.asymmetricKeyType !== 'ed25519' &&
    !(key.asymmetricKeyType === 'ec' && curve === 'prime256v1')
  )
    throw new ReproofError(
      'E_INPUT',
      `--key ${file}: a ${key.asymmetricKeyType ?? 'unknown'}${curve === undefined ? '' : ` ${curve}`} key; reproof verifies ECDSA P-256 and Ed25519 keys only`,
      { path: file },
    )
  return key
}

// The public-good trusted root is a few KB; anything near this is not one.
const MAX_ROOT_BYTES = 4 * 1024 * 1024

async function loadTrustedRoot<T>(
  file: string | undefined,
  parse: (json: unknown) => T,
): Promise<T> {
  if (file === undefined) {
    // Online: the public-good root through TUF. An unreachable repository is an unknown outcome.
    let root
    try {
      const { getTrustedRoot } = sigstoreTuf()
      root = await getTrustedRoot()
    } catch (err) {
      throw new ReproofError(
        'E_AMBIGUOUS',
        `the public-good trusted root could not be fetched (${(err as Error).message}); give --trusted-root <file> to verify offline`,
        {},
        { cause: err },
      )
    }
    // Signed through TUF, and still checked like a file: a root with a key that has no
    // validity window is refused wherever it comes from.
    const problem = trustedRootProblem(sigstoreSpecs().TrustedRoot.toJSON(root))
    if (problem !== undefined)
      throw new ReproofError(
        'E_ENVIRONMENT',
        `the public-good trusted root is unusable: ${problem}`,
      )
    return root as unknown as T
  }
  const bytes = readBounded(file, MAX_ROOT_BYTES, `--trusted-root ${file}`)
  const json = parseJsonBytes(bytes, `--trusted-root ${file}`, file)
  const problem = trustedRootProblem(json)
  if (problem !== undefined)
    throw new ReproofError('E_INPUT', `--trusted-root ${file}: ${problem}`, { path: file })
  try {
    return parse(json)
  } catch (err) {
    throw new ReproofError(
      'E_INPUT',
      `--trusted-root ${file}: not a valid trusted root (${(err as Error).message})`,
      { path: file },
      { cause: err },
    )
  }
}
