import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  certificateFacts,
  leafProfileProblem,
  oidcIssuer,
  subjectAlternativeName,
  utf8String,
} from '../../../src/verify/certificate-facts.js'
import { derElement } from '../../der.js'

const utf8 = (length: Buffer, body: Buffer) => Buffer.concat([Buffer.from([0x0c]), length, body])
const oid = (n: number) => ({ id: [1, 3, 6, 1, 4, 1, 57264, 1, n] })

describe('DER UTF8String lengths', () => {
  it('takes the long form from 128 bytes on, in one to four length bytes', () => {
    const body = (n: number) => Buffer.alloc(n, 'a')
    expect(utf8String(utf8(Buffer.from([0x7f]), body(127)))).toBe('a'.repeat(127))
    expect(utf8String(utf8(Buffer.from([0x81, 0x80]), body(128)))).toBe('a'.repeat(128))
    expect(utf8String(utf8(Buffer.from([0x82, 0x01, 0x00]), body(256)))).toBe('a'.repeat(256))
    // 2^24 bytes is the first length that needs four bytes.
    const big = utf8(Buffer.from([0x84, 0x01, 0x00, 0x00, 0x00]), body(2 ** 24))
    expect(utf8String(big)?.length).toBe(2 ** 24)
  })

  it('refuses a length that is not in its shortest form, or is indefinite', () => {
    expect(utf8String(utf8(Buffer.from([0x81, 0x7f]), Buffer.alloc(127, 'a')))).toBeUndefined()
    expect(
      utf8String(utf8(Buffer.from([0x82, 0x00, 0x80]), Buffer.alloc(128, 'a'))),
    ).toBeUndefined()
    expect(utf8String(Buffer.from([0x0c, 0x80, 0x41, 0x00, 0x00]))).toBeUndefined()
    expect(utf8String(Buffer.from([0x0c, 0x82, 0x01]))).toBeUndefined()
    expect(utf8String(Buffer.from([0x0c]))).toBeUndefined()
    expect(utf8String(Buffer.alloc(0))).toBeUndefined()
  })
})

describe('certificate facts', () => {
  it('names each Fulcio extension from 1.8 to 1.22', () => {
    const names = [
      'issuer',
      'buildSignerUri',
      'buildSignerDigest',
      'runnerEnvironment',
      'sourceRepositoryUri',
      'sourceRepositoryDigest',
      'sourceRepositoryRef',
      'sourceRepositoryIdentifier',
      'sourceRepositoryOwnerUri',
      'sourceRepositoryOwnerIdentifier',
      'buildConfigUri',
      'buildConfigDigest',
      'buildTrigger',
      'runInvocationUri',
      'sourceRepositoryVisibility',
    ]
    const extensions = names.map((name, i) => ({
      oid: oid(8 + i),
      value: utf8(Buffer.from([name.length]), Buffer.from(name)),
    }))
    expect(certificateFacts(extensions)).toStrictEqual(Object.fromEntries(names.map((n) => [n, n])))
    // The older extensions (1.1 to 1.7), other OIDs and extensions without one state nothing.
    expect(
      certificateFacts([
        { oid: oid(1), value: utf8(Buffer.from([1]), Buffer.from('x')) },
        {
          oid: { id: [1, 3, 6, 1, 4, 1, 57264, 1, 8, 1] },
          value: utf8(Buffer.from([1]), Buffer.from('x')),
        },
        { value: utf8(Buffer.from([1]), Buffer.from('x')) },
      ]),
    ).toStrictEqual({})
  })

  it('leaves out a fact it cannot read, rather than stating it empty', () => {
    const facts = certificateFacts([
      { oid: oid(12), value: Buffer.from('not DER') },
      { oid: oid(14), value: utf8(Buffer.from([1]), Buffer.from('x')) },
      { oid: oid(14), value: utf8(Buffer.from([1]), Buffer.from('x')) },
    ])
    expect(facts).toStrictEqual({})
    expect(Object.keys(facts)).toEqual([])
  })
})

const der = derElement
const SAN = { id: [2, 5, 29, 17] }
const san = (...names: [number, string | Buffer][]) => ({
  oid: SAN,
  value: der(0x30, Buffer.concat(names.map(([tag, v]) => der(tag, Buffer.from(v))))),
})

describe('the identity and issuer, read as bytes', () => {
  const uri = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main'

  it('picks the URI, else the email address, as Sigstore does, and only printable ASCII', () => {
    expect(subjectAlternativeName([san([0x81, 'a@b.c'], [0x86, uri])])).toEqual({ text: uri })
    expect(subjectAlternativeName([san([0x82, 'host'], [0x81, 'a@b.c'])])).toEqual({
      text: 'a@b.c',
    })
    // 0xE1 is `a` to Node's 'ascii' decoding, which @sigstore/core reads names with.
    const lookalike = Buffer.from(uri.replace('acme', '\xe1cme'), 'latin1')
    expect(subjectAlternativeName([san([0x86, lookalike])])).toEqual({
      problem: 'its URI holds the byte 0xe1, which is not printable ASCII',
    })
    expect('problem' in subjectAlternativeName([san([0x86, uri]), san([0x86, uri])])).toBe(true)
    expect('problem' in subjectAlternativeName([san([0x86, uri], [0x86, 'https://x'])])).toBe(true)
    expect('problem' in subjectAlternativeName([san([0x82, 'only.a.host'])])).toBe(true)
    expect('problem' in subjectAlternativeName([])).toBe(true)
  })

  it('reads the issuer of 1.8 as a UTF8String, else the raw text of 1.1, strictly', () => {
    const issuer = 'https://token.actions.githubusercontent.com'
    const v2 = { oid: oid(8), value: der(0x0c, Buffer.from(issuer)) }
    const v1 = { oid: oid(1), value: Buffer.from('https://other.example') }
    // Both forms naming two issuers: sigstore-go lets the last win, this the first.
    expect(oidcIssuer([v1, v2])).toEqual({
      problem: 'two issuer extensions that name different issuers',
    })
    expect(oidcIssuer([{ oid: oid(1), value: Buffer.from(issuer) }, v2])).toEqual({ text: issuer })
    expect(oidcIssuer([v2])).toEqual({ text: issuer })
    expect(oidcIssuer([v1])).toEqual({ text: 'https://other.example' })
    expect('problem' in oidcIssuer([v1, v1])).toBe(true)
    expect(
      'problem' in oidcIssuer([{ oid: oid(1), value: Buffer.from('https://\xf4ther', 'latin1') }]),
    ).toBe(true)
    expect(
      'problem' in oidcIssuer([{ oid: oid(8), value: der(0x0c, Buffer.from('https://ämple')) }]),
    ).toBe(true)
    expect('problem' in oidcIssuer([v2, v2])).toBe(true)
    expect('problem' in oidcIssuer([])).toBe(true)
  })

  it('reads any bytes as a name or a problem, never as another name, never throwing', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom(0x81, 0x82, 0x86, 0xa0), fc.uint8Array({ maxLength: 40 })),
          { maxLength: 4 },
        ),
        fc.uint8Array({ maxLength: 60 }),
        (names, junk) => {
          const ext = san(...names.map(([t, v]) => [t, Buffer.from(v)] as [number, Buffer]))
          const read = subjectAlternativeName([ext])
          const pick = names.filter(([t]) => t === 0x86)
          const chosen = pick.length > 0 ? pick : names.filter(([t]) => t === 0x81)
          if ('text' in read) {
            expect(chosen).toHaveLength(1)
            expect(Buffer.from(read.text, 'latin1').equals(Buffer.from(chosen[0]?.[1] ?? []))).toBe(
              true,
            )
            expect(read.text).toMatch(/^[\x21-\x7e]+$/)
          }
          // Random bytes as the extension's value: a name only if they were DER.
          subjectAlternativeName([{ oid: SAN, value: Buffer.from(junk) }])
        },
      ),
    )
  })
})

describe('the leaf certificate profile', () => {
  const ext = (id: string, value: Buffer) => ({ oid: { id: id.split('.').map(Number) }, value })
  const codeSigning = derElement(0x06, Buffer.from([0x2b, 6, 1, 5, 5, 7, 3, 3]))
  const serverAuth = derElement(0x06, Buffer.from([0x2b, 6, 1, 5, 5, 7, 3, 1]))
  const eku = (...purposes: Buffer[]) => ext('2.5.29.37', derElement(0x30, Buffer.concat(purposes)))
  // digitalSignature is the first bit; keyCertSign the sixth.
  const usage = (byte: number) => ext('2.5.29.15', derElement(0x03, Buffer.from([7, byte])))
  const ca = (yes: boolean) =>
    ext(
      '2.5.29.19',
      derElement(0x30, yes ? derElement(0x01, Buffer.from([0xff])) : Buffer.alloc(0)),
    )

  it('takes a code-signing certificate, as Fulcio issues it, and nothing else', () => {
    expect(leafProfileProblem([eku(codeSigning), usage(0x80), ca(false)])).toBeUndefined()
    expect(leafProfileProblem([eku(serverAuth, codeSigning), usage(0x80)])).toBeUndefined()
    expect(leafProfileProblem([usage(0x80)])).toMatch(/extended key usage/)
    expect(leafProfileProblem([eku(serverAuth), usage(0x80)])).toMatch(/extended key usage/)
    expect(leafProfileProblem([eku(codeSigning)])).toMatch(/digital signatures/)
    expect(leafProfileProblem([eku(codeSigning), usage(0x04)])).toMatch(/digital signatures/)
    expect(leafProfileProblem([eku(codeSigning), usage(0x80), ca(true)])).toBe(
      'it is a CA certificate',
    )
    expect(leafProfileProblem([eku(codeSigning), eku(codeSigning), usage(0x80)])).toMatch(/two/)
  })

  it('reads any bytes as a certificate fit for signing or a problem, never throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (x, y) => {
        const found = leafProfileProblem([
          ext('2.5.29.37', Buffer.from(x)),
          ext('2.5.29.15', Buffer.from(y)),
        ])
        expect(found === undefined || typeof found === 'string').toBe(true)
      }),
    )
  })
})
