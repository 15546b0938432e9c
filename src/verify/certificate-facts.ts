/**
 * The facts a Fulcio certificate states about the workload that signed, read from its
 * extensions (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md). Unlike
 * the fields of a predicate, which the signer writes, these are written by Fulcio from
 * the OIDC token of the CI run: they are what keyless policy is checked against.
 */
export interface CertificateFacts {
  issuer?: string
  buildSignerUri?: string
  buildSignerDigest?: string
  runnerEnvironment?: string
  sourceRepositoryUri?: string
  sourceRepositoryDigest?: string
  sourceRepositoryRef?: string
  sourceRepositoryIdentifier?: string
  sourceRepositoryOwnerUri?: string
  sourceRepositoryOwnerIdentifier?: string
  buildConfigUri?: string
  buildConfigDigest?: string
  buildTrigger?: string
  runInvocationUri?: string
  sourceRepositoryVisibility?: string
}

const FULCIO = '1.3.6.1.4.1.57264.1'

// 1.8 to 1.22: each value is a DER UTF8String.
const FACT_OIDS: Record<string, keyof CertificateFacts> = {
  [`${FULCIO}.8`]: 'issuer',
  [`${FULCIO}.9`]: 'buildSignerUri',
  [`${FULCIO}.10`]: 'buildSignerDigest',
  [`${FULCIO}.11`]: 'runnerEnvironment',
  [`${FULCIO}.12`]: 'sourceRepositoryUri',
  [`${FULCIO}.13`]: 'sourceRepositoryDigest',
  [`${FULCIO}.14`]: 'sourceRepositoryRef',
  [`${FULCIO}.15`]: 'sourceRepositoryIdentifier',
  [`${FULCIO}.16`]: 'sourceRepositoryOwnerUri',
  [`${FULCIO}.17`]: 'sourceRepositoryOwnerIdentifier',
  [`${FULCIO}.18`]: 'buildConfigUri',
  [`${FULCIO}.19`]: 'buildConfigDigest',
  [`${FULCIO}.20`]: 'buildTrigger',
  [`${FULCIO}.21`]: 'runInvocationUri',
  [`${FULCIO}.22`]: 'sourceRepositoryVisibility',
}

/** One certificate extension as @sigstore/verify hands it over: the OID and the extnValue's content. */
export interface ExtensionValue {
  oid?: { id: number[] }
  value: Buffer
}

/**
 * The facts of the given extensions. A value that is not a well-formed UTF8String is
 * left out, so that a policy asking for it fails as "not in the certificate" rather
 * than matching bytes nobody could read. A certificate naming one fact twice states
 * nothing about it.
 */
export function certificateFacts(extensions: readonly ExtensionValue[]): CertificateFacts {
  const values = new Map<keyof CertificateFacts, string | undefined>()
  for (const extension of extensions) {
    const name = FACT_OIDS[extension.oid?.id.join('.') ?? '']
    if (name === undefined) continue
    values.set(name, values.has(name) ? undefined : utf8String(extension.value))
  }
  const facts: CertificateFacts = {}
  for (const [name, text] of values) if (text !== undefined) facts[name] = text
  return facts
}

/** The text of a DER UTF8String that fills the buffer exactly, or undefined. */
export function utf8String(der: Buffer): string | undefined {
  if (der.length < 2 || der[0] !== 0x0c) return undefined
  let length = der[1] ?? 0
  let offset = 2
  if (length & 0x80) {
    const count = length & 0x7f
    // DER: the long form only for 128 and more, in the fewest bytes, no leading zero.
    if (count === 0 || count > 4 || der.length < 2 + count || der[2] === 0) return undefined
    length = 0
    for (let i = 0; i < count; i++) length = length * 256 + (der[2 + i] ?? 0)
    if (length < 0x80) return undefined
    offset = 2 + count
  }
  if (offset + length !== der.length) return undefined
  const bytes = der.subarray(offset)
  const text = bytes.toString('utf8')
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined
}
