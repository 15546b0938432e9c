import crypto from 'node:crypto'

/**
 * Whose signature a transparency-log entry records. The Sigstore libraries check that an
 * entry records this bundle's signature over this payload, not that it names this
 * bundle's certificate as the signer: a signature made with one key can be logged under
 * another certificate (another identity) or a bare key, and an auditor watching the log
 * for the identity the bundle claims would never see it. sigstore-go refuses such an
 * entry ("transparency log certificate does not match"); so does this.
 */

interface LoggedEntry {
  kindVersion?: { kind: string; version: string }
  canonicalizedBody: Buffer
}

/** A verifier an entry names: a certificate's DER, or a public key's. */
type Verifier = { certificate: Buffer } | { key: Buffer } | { unreadable: string }

/** Who signed: the bundle's certificate (its DER), or the key that verified. */
export type ExpectedSigner = { certificate: Buffer } | { key: crypto.KeyObject }

/**
 * Why an entry does not name the signer as its signer, or undefined when every entry
 * names it and nothing else. An entry of a kind whose signer is not known here is not
 * taken on trust. With a key, the entry must name that key: one logged under another
 * key, or a certificate, was reported as checked, and whoever watched the log for the
 * key never saw it.
 */
export function entrySignerMismatch(
  entries: readonly LoggedEntry[],
  signer: ExpectedSigner,
): string | undefined {
  const own = 'certificate' in signer ? "the bundle's certificate" : 'the key that verified'
  for (const [i, entry] of entries.entries()) {
    const kind = `${entry.kindVersion?.kind ?? '?'} ${entry.kindVersion?.version ?? '?'}`
    let body: unknown
    try {
      body = JSON.parse(entry.canonicalizedBody.toString('utf8'))
    } catch {
      return `transparency-log entry ${i + 1}'s body is not JSON`
    }
    const verifiers = verifiersOf(body)
    if (verifiers === undefined)
      return `transparency-log entry ${i + 1} is of a kind (${kind}) whose signer reproof does not read, so it cannot be tied to the certificate`
    if (verifiers.length === 0) return `transparency-log entry ${i + 1} names no signer`
    for (const verifier of verifiers) {
      if ('unreadable' in verifier)
        return `transparency-log entry ${i + 1} names a signer that cannot be read (${verifier.unreadable})`
      if ('certificate' in signer) {
        if ('key' in verifier)
          return `transparency-log entry ${i + 1} was logged under a bare public key, not ${own}`
        if (!verifier.certificate.equals(signer.certificate))
          return `transparency-log entry ${i + 1} was logged under another certificate than the bundle's`
      } else {
        if ('certificate' in verifier)
          return `transparency-log entry ${i + 1} was logged under a certificate, not ${own}`
        if (!sameKey(verifier.key, signer.key))
          return `transparency-log entry ${i + 1} was logged under another key than ${own}`
      }
    }
  }
  return undefined
}

/** The signers a Rekor entry body names, by its kind; undefined for a kind not known. */
function verifiersOf(body: unknown): Verifier[] | undefined {
  const spec = field(body, 'spec')
  const kind = field(body, 'kind')
  const version = field(body, 'apiVersion')
  if (kind === 'dsse' && version === '0.0.1')
    return list(field(spec, 'signatures')).map((s) => fromPem(field(s, 'verifier')))
  if (kind === 'intoto' && (version === '0.0.2' || version === '0.0.1'))
    return list(field(field(field(spec, 'content'), 'envelope'), 'signatures')).map((s) =>
      fromPem(field(s, 'publicKey')),
    )
  if (kind === 'hashedrekord' && version === '0.0.1')
    return [fromPem(field(field(field(spec, 'signature'), 'publicKey'), 'content'))]
  if (kind === 'dsse' && version === '0.0.2')
    return list(field(field(spec, 'dsseV002'), 'signatures')).map((s) =>
      fromRaw(field(s, 'verifier')),
    )
  if (kind === 'hashedrekord' && version === '0.0.2')
    return [fromRaw(field(field(field(spec, 'hashedRekordV002'), 'signature'), 'verifier'))]
  return undefined
}

/** Whether SPKI DER names `key`, however the DER was written (named curve or explicit). */
function sameKey(der: Buffer, key: crypto.KeyObject): boolean {
  try {
    return crypto.createPublicKey({ key: der, format: 'der', type: 'spki' }).equals(key)
  } catch {
    return false
  }
}

/** Rekor v1's form: the base64 of a PEM certificate or public key. */
function fromPem(value: unknown): Verifier {
  if (typeof value !== 'string') return { unreadable: 'not text' }
  const pem = Buffer.from(value, 'base64').toString('latin1')
  const match =
    /^-----BEGIN (CERTIFICATE|PUBLIC KEY)-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END \1-----\r?\n?$/.exec(
      pem,
    )
  if (match === null) return { unreadable: 'not one PEM certificate or public key' }
  const der = Buffer.from((match[2] ?? '').replace(/\s+/g, ''), 'base64')
  return match[1] === 'CERTIFICATE' ? { certificate: der } : { key: der }
}

/** Rekor v2's form: `{ x509Certificate: { rawBytes } }` or `{ publicKey: { rawBytes } }`, base64 DER. */
function fromRaw(verifier: unknown): Verifier {
  const certificate = field(field(verifier, 'x509Certificate'), 'rawBytes')
  if (typeof certificate === 'string') return { certificate: Buffer.from(certificate, 'base64') }
  const key = field(field(verifier, 'publicKey'), 'rawBytes')
  if (typeof key === 'string') return { key: Buffer.from(key, 'base64') }
  return { unreadable: 'neither a certificate nor a public key' }
}

function field(value: unknown, name: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)[name]
    : undefined
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}
