import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalJson, compareBytes } from '../../../src/canonical.js'
import { compareManifests } from '../../../src/diff/compare-manifests.js'
import type { Manifest } from '../../../src/digest/manifest.js'

const hex = fc.stringMatching(/^[0-9a-f]{64}$/)
const manifestArb: fc.Arbitrary<Manifest> = fc
  .uniqueArray(fc.record({ name: fc.string({ minLength: 1 }), sha256: hex, size: fc.nat() }), {
    selector: (e) => e.name,
  })
  .map((m) => m.sort((a, b) => compareBytes(a.name, b.name)))

describe('compareManifests', () => {
  it('finds no difference between a manifest and itself', () => {
    fc.assert(
      fc.property(manifestArb, (m) => {
        expect(compareManifests(m, m)).toEqual([])
      }),
    )
  })

  it('is symmetric: swapping runs swaps each difference', () => {
    fc.assert(
      fc.property(manifestArb, manifestArb, (a, b) => {
        const ab = compareManifests(a, b)
        const ba = compareManifests(b, a)
        expect(ba.map((d) => d.name)).toEqual(ab.map((d) => d.name))
        for (const [i, d] of ab.entries())
          expect(ba[i]?.digests).toEqual([d.digests[1], d.digests[0]])
      }),
    )
  })

  it('reports exactly the names whose digests differ or that are missing', () => {
    fc.assert(
      fc.property(manifestArb, manifestArb, (a, b) => {
        const digest = (m: Manifest, n: string) => m.find((e) => e.name === n)?.sha256
        const names = new Set([...a, ...b].map((e) => e.name))
        const expected = [...names].filter((n) => digest(a, n) !== digest(b, n)).sort(compareBytes)
        const found = compareManifests(a, b)
        expect(found.map((d) => d.name)).toEqual(expected)
        for (const d of found) {
          expect(d.kind).toBe(
            d.digests[0] === null ? 'only-in-b' : d.digests[1] === null ? 'only-in-a' : 'content',
          )
        }
      }),
    )
  })
})

describe('canonicalJson', () => {
  it('gives the same bytes whatever the key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse())
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj))
        expect(JSON.parse(canonicalJson(obj))).toEqual(JSON.parse(JSON.stringify(obj)))
      }),
    )
  })

  it('writes what JSON.stringify writes of the value with its keys sorted by bytes', () => {
    const sorted = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(sorted)
      if (value === null || typeof value !== 'object') return value
      const entries = Object.entries(value).sort(([a], [b]) => compareBytes(a, b))
      return Object.fromEntries(entries.map(([k, v]) => [k, sorted(v)]))
    }
    const leaf = fc.oneof(fc.jsonValue({ maxDepth: 0 }), fc.constant(undefined))
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { maxDepth: 4 },
        leaf,
        fc.array(tie('node'), { maxLength: 5 }),
        fc.dictionary(fc.string({ unit: 'binary' }), tie('node'), { maxKeys: 5 }),
      ),
    })).node
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v)).toBe(JSON.stringify(sorted(v)))
      }),
    )
  })

  it('sorts keys by bytes, not by locale', () => {
    expect(canonicalJson({ b: 1, B: 2, é: 3, a: { z: 1, y: 2 } })).toBe(
      '{"B":2,"a":{"y":2,"z":1},"b":1,"é":3}',
    )
  })
})

describe('compareBytes', () => {
  const text = fc.string({
    unit: fc.oneof(
      fc.constantFrom('a', 'b', '\u00e9', '\ud7ff', '\ue000', '\uffff', '😀', '𝔸'),
      fc.constantFrom('\ud83d', '\ude00'),
    ),
  })

  it('orders exactly as the UTF-8 bytes do', () => {
    fc.assert(
      fc.property(
        fc.oneof(text, fc.string({ unit: 'binary' })),
        fc.oneof(text, fc.string({ unit: 'binary' })),
        (a, b) => {
          const expected = Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')))
          const found = Math.sign(compareBytes(a, b))
          // Lone surrogates encode as U+FFFD, so distinct strings may share bytes.
          if (expected !== 0) expect(found).toBe(expected)
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('puts U+E000 before a supplementary character, unlike UTF-16 order', () => {
    expect(compareBytes('\ue000', '😀')).toBeLessThan(0)
    expect(compareBytes('a😀', 'a\uffff')).toBeGreaterThan(0)
  })
})
