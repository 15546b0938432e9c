import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { constantsUsed, isJavaClass, parseJavaClass } from '../../../src/formats/java-class.js'

type Value =
  | { kind: 'utf8'; text: string }
  | { kind: 'int'; n: number }
  | { kind: 'long'; n: bigint }
  | { kind: 'double'; n: number }

const u2 = (n: number) => Buffer.from([n >> 8, n & 0xff])
const u4 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n >>> 0)
  return b
}

/**
 * A class file as javac lays one out: the given constants, then the names the class
 * needs, and one method `m()V` whose code loads every constant with ldc_w or ldc2_w.
 */
function classFile(values: readonly Value[]): { bytes: Buffer; indices: number[] } {
  const pool: Buffer[] = []
  let next = 1
  const add = (entry: Buffer, slots = 1): number => {
    pool.push(entry)
    const at = next
    next += slots
    return at
  }
  const utf8 = (text: string) => {
    const body = Buffer.from(text, 'utf8')
    return add(Buffer.concat([Buffer.from([1]), u2(body.length), body]))
  }
  const indices = values.map((v) => {
    if (v.kind === 'utf8') return add(Buffer.concat([Buffer.from([8]), u2(utf8(v.text))]))
    if (v.kind === 'int') {
      const b = Buffer.alloc(5)
      b[0] = 3
      b.writeInt32BE(v.n, 1)
      return add(b)
    }
    const b = Buffer.alloc(9)
    b[0] = v.kind === 'long' ? 5 : 6
    if (v.kind === 'long') b.writeBigInt64BE(v.n, 1)
    else b.writeDoubleBE(v.n, 1)
    // A long or a double takes two entries of the pool.
    return add(b, 2)
  })
  const self = add(Buffer.concat([Buffer.from([7]), u2(utf8('T'))]))
  const name = utf8('m')
  const descriptor = utf8('()V')
  const codeName = utf8('Code')
  const code = Buffer.concat([
    ...values.map((v, i) =>
      Buffer.concat([
        Buffer.from([v.kind === 'long' || v.kind === 'double' ? 0x14 : 0x13]),
        u2(indices[i] ?? 0),
      ]),
    ),
    Buffer.from([0xb1]), // return
  ])
  const codeAttribute = Buffer.concat([u2(4), u2(1), u4(code.length), code, u2(0), u2(0)])
  const bytes = Buffer.concat([
    u4(0xcafebabe),
    u2(0),
    u2(55),
    u2(next),
    ...pool,
    u2(0x21),
    u2(self),
    u2(0),
    u2(0), // interfaces
    u2(0), // fields
    u2(1),
    u2(9),
    u2(name),
    u2(descriptor),
    u2(1),
    u2(codeName),
    u4(codeAttribute.length),
    codeAttribute,
    u2(0),
  ])
  return { bytes, indices }
}

const value: fc.Arbitrary<Value> = fc.oneof(
  fc.record({ kind: fc.constant('utf8' as const), text: fc.string({ maxLength: 20 }) }),
  fc.record({ kind: fc.constant('int' as const), n: fc.integer() }),
  fc.record({ kind: fc.constant('long' as const), n: fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n) }),
  fc.record({ kind: fc.constant('double' as const), n: fc.double() }),
)
const shown = (v: Value): string =>
  v.kind === 'utf8'
    ? v.text
    : v.kind === 'int'
      ? String(v.n)
      : v.kind === 'long'
        ? `${v.n}L`
        : `${v.n}d`

describe('Java class files', () => {
  it('reads back every constant, and what the method loads, of a class laid out as javac does', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 12 }), (values) => {
        const { bytes } = classFile(values)
        const parsed = parseJavaClass(bytes)
        expect(parsed?.version).toBe('55.0')
        expect(parsed?.constants.filter((c) => !['T', 'm', '()V', 'Code'].includes(c))).toEqual(
          values.filter((v) => !['T', 'm', '()V', 'Code'].includes(shown(v))).map(shown),
        )
        expect(parsed?.methods.map((m) => m.name)).toEqual(['m()V'])
        expect(parsed?.methods[0]?.refs).toEqual(
          values.map((v) => (v.kind === 'utf8' ? JSON.stringify(v.text) : shown(v))),
        )
      }),
    )
  })

  it('never throws on a cut or corrupted class: it is a class that holds together, or none', () => {
    fc.assert(
      fc.property(
        fc.array(value, { maxLength: 6 }),
        fc.nat(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        (values, cut, flips) => {
          const { bytes } = classFile(values)
          const mangled = Buffer.from(bytes.subarray(0, 10 + (cut % (bytes.length - 9))))
          for (const [at, byte] of flips)
            if (at % mangled.length >= 10) mangled[at % mangled.length] = byte
          expect(() => parseJavaClass(mangled)).not.toThrow()
        },
      ),
    )
  })

  it('walks any code without throwing and ends, and steps over switches to the loads after them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (code) => {
        expect(() => constantsUsed(Buffer.from(code))).not.toThrow()
      }),
    )
    // iconst_0; tableswitch (padded to offset 4) over 0..1; then ldc #7.
    const table = Buffer.concat([
      Buffer.from([0x03, 0xaa, 0, 0]),
      u4(20),
      u4(0),
      u4(1),
      u4(20),
      u4(20),
      Buffer.from([0x12, 7]),
    ])
    expect(constantsUsed(table)).toEqual([7])
    // lookupswitch with one pair, then ldc_w #300.
    const lookup = Buffer.concat([
      Buffer.from([0xab, 0, 0, 0]),
      u4(12),
      u4(1),
      u4(5),
      u4(12),
      Buffer.from([0x13, 1, 44]),
    ])
    expect(constantsUsed(lookup)).toEqual([300])
    // wide iinc takes 6 bytes, wide iload 4.
    expect(
      constantsUsed(Buffer.from([0xc4, 0x84, 0, 1, 0, 2, 0x12, 9, 0xc4, 0x15, 0, 1, 0x12, 10])),
    ).toEqual([9, 10])
  })

  it('is not fooled by a Mach-O universal binary, which starts with the same magic', () => {
    const fat = Buffer.concat([u4(0xcafebabe), u4(2), Buffer.alloc(40)])
    expect(isJavaClass(fat)).toBe(false)
    expect(parseJavaClass(fat)).toBeUndefined()
  })
})
