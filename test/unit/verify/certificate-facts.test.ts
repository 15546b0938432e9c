import { describe, expect, it } from 'vitest'
import { certificateFacts, utf8String } from '../../../src/verify/certificate-facts.js'

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
