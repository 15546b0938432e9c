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

const SUBJECT_ALT_NAME = '2.5.29.17'
const ISSUER_V1 = `${FULCIO}.1`
const ISSUER_V2 = `${FULCIO}.8`

/** What a certificate's identity or issuer reads as, or why it reads as nothing. */
export type StrictText = { text: string } | { problem: string }

/**
 * The signer's identity, read from the certificate's own bytes as Sigstore picks it (the
 * first URI of the subject alternative names, else the first email address), and only
 * when it is plain ASCII. @sigstore/core decodes it with Node's 'ascii', which drops
 * each byte's high bit: a name holding 0xE1 read as `a`, and a certificate for
 * `github.com/\xE1cme` matched a policy for `github.com/acme`. A certificate with two
 * such extensions, or two names of the kind picked, names no one identity.
 */
export function subjectAlternativeName(extensions: readonly ExtensionValue[]): StrictText {
  const found = extensions.filter((e) => e.oid?.id.join('.') === SUBJECT_ALT_NAME)
  if (found.length !== 1) return { problem: `${found.length} subject alternative name extensions` }
  const names = derChildren(found[0]?.value ?? Buffer.alloc(0), 0x30)
  if (names === undefined) return { problem: 'subject alternative names that are not DER' }
  for (const [tag, kind] of [
    [0x86, 'URI'],
    [0x81, 'email address'],
  ] as const) {
    const values = names.filter((n) => n.tag === tag)
    if (values.length === 0) continue
    if (values.length > 1) return { problem: `${values.length} identities of the kind ${kind}` }
    return asciiText(values[0]?.content ?? Buffer.alloc(0), `its ${kind}`)
  }
  return { problem: 'no URI or email address among its subject alternative names' }
}

/**
 * The OIDC issuer Fulcio wrote, as Sigstore picks it (the UTF8String of 1.8, else the
 * raw text of 1.1), read strictly: the library's 'ascii' decoding would read bytes of
 * another issuer as this one.
 */
export function oidcIssuer(extensions: readonly ExtensionValue[]): StrictText {
  const v2 = extensions.filter((e) => e.oid?.id.join('.') === ISSUER_V2)
  const v1 = extensions.filter((e) => e.oid?.id.join('.') === ISSUER_V1)
  if (v2.length > 1) return { problem: `${v2.length} issuer extensions` }
  if (v1.length > 1) return { problem: `${v1.length} issuer extensions` }
  const old = v1.length === 1 ? asciiText(v1[0]?.value ?? Buffer.alloc(0), 'its issuer') : undefined
  if (v2.length === 1) {
    const text = utf8String(v2[0]?.value ?? Buffer.alloc(0))
    if (text === undefined) return { problem: 'an issuer that is not a DER UTF8String' }
    const read = asciiText(Buffer.from(text, 'utf8'), 'its issuer')
    // Both forms, naming two issuers: readers that take the other one (sigstore-go lets
    // the last extension win) would match another issuer than this.
    if (old !== undefined && 'text' in read && !('text' in old && old.text === read.text))
      return { problem: 'two issuer extensions that name different issuers' }
    return read
  }
  if (old === undefined) return { problem: '0 issuer extensions' }
  return old
}

const EXTENDED_KEY_USAGE = '2.5.29.37'
const KEY_USAGE = '2.5.29.15'
const BASIC_CONSTRAINTS = '2.5.29.19'
// id-kp-codeSigning, 1.3.6.1.5.5.7.3.3, as its DER OID content.
const CODE_SIGNING = Buffer.from([0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03])

/**
 * Why a leaf certificate is not one for code signing, as Fulcio issues them and
 * sigstore-go and sigstore-python require: the code-signing extended key usage, the
 * digital-signature key usage, and not a CA. Undefined when it is one. Pure.
 */
export function leafProfileProblem(extensions: readonly ExtensionValue[]): string | undefined {
  const one = (oid: string): Buffer | undefined | 'many' => {
    const found = extensions.filter((e) => e.oid?.id.join('.') === oid)
    return found.length > 1 ? 'many' : found[0]?.value
  }
  const eku = one(EXTENDED_KEY_USAGE)
  if (eku === 'many') return 'it has two extended key usage extensions'
  const purposes = eku === undefined ? undefined : derChildren(eku, 0x30)
  if (!purposes?.some((p) => p.tag === 0x06 && p.content.equals(CODE_SIGNING)))
    return 'its extended key usage does not include code signing'
  const usage = one(KEY_USAGE)
  if (usage === 'many') return 'it has two key usage extensions'
  const bits = usage === undefined ? undefined : derElement(usage, 0)
  // A BIT STRING: its first byte counts the unused bits; digitalSignature is the first bit.
  if (bits?.tag !== 0x03 || ((usage?.[bits.start + 1] ?? 0) & 0x80) === 0)
    return 'its key usage does not include digital signatures'
  const constraints = one(BASIC_CONSTRAINTS)
  if (constraints === 'many') return 'it has two basic constraints extensions'
  if (constraints !== undefined) {
    const fields = derChildren(constraints, 0x30)
    if (fields === undefined) return 'its basic constraints are not DER'
    const ca = fields[0]
    if (ca?.tag === 0x01 && ca.content.some((b) => b !== 0)) return 'it is a CA certificate'
  }
  return undefined
}

/** Printable ASCII, and nothing else: no identity or issuer URL needs more. */
function asciiText(bytes: Buffer, what: string): StrictText {
  for (const byte of bytes)
    if (byte < 0x21 || byte > 0x7e)
      return {
        problem: `${what} holds the byte 0x${byte.toString(16).padStart(2, '0')}, which is not printable ASCII`,
      }
  return bytes.length === 0 ? { problem: `${what} is empty` } : { text: bytes.toString('latin1') }
}

/** The TLVs inside one DER element of tag `outer` that fills `der` exactly, or undefined. */
function derChildren(der: Buffer, outer: number): { tag: number; content: Buffer }[] | undefined {
  const top = derElement(der, 0)
  if (top?.tag !== outer || top.end !== der.length) return undefined
  const children: { tag: number; content: Buffer }[] = []
  for (let at = top.start; at < top.end;) {
    const child = derElement(der.subarray(0, top.end), at)
    if (child === undefined) return undefined
    children.push({ tag: child.tag, content: der.subarray(child.start, child.end) })
    at = child.end
  }
  return children
}

/** One DER element at `at`: its tag and where its content lies; undefined when it is not DER. */
function derElement(
  der: Buffer,
  at: number,
): { tag: number; start: number; end: number } | undefined {
  const tag = der[at]
  let length = der[at + 1]
  if (tag === undefined || length === undefined || (tag & 0x1f) === 0x1f) return undefined
  let start = at + 2
  if (length & 0x80) {
    const count = length & 0x7f
    if (count === 0 || count > 4 || der[start] === 0 || start + count > der.length) return undefined
    length = 0
    for (let i = 0; i < count; i++) length = length * 256 + (der[start + i] ?? 0)
    if (length < 0x80) return undefined
    start += count
  }
  const end = start + length
  return end > der.length ? undefined : { tag, start, end }
}
