import crypto from 'node:crypto'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { diffBinary } from '../../../src/diff/content-diff.js'
import { diffStreamed } from '../../../src/diff/streamed-diff.js'
import type { Reading } from '../../../src/formats/source.js'

/**
 * A reading of `bytes` in the given chunk sizes (the rest in one chunk), the first
 * `already` of them read before the comparison starts (as a reading handed on is).
 */
function chunked(bytes: Buffer, cuts: readonly number[], already = 0): Reading {
  const chunks: Buffer[] = []
  let at = 0
  for (const cut of cuts) {
    if (at >= bytes.length) break
    chunks.push(bytes.subarray(at, at + cut))
    at += cut
  }
  if (at < bytes.length) chunks.push(bytes.subarray(at))
  const stream = Readable.from(chunks.slice(already))
  return {
    read: chunks.slice(0, already),
    rest: (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator](),
    destroy: () => stream.destroy(),
  }
}

/** Runs of differing bytes over the common length, then the longer side's tail: by hand. */
function naiveRanges(a: Buffer, b: Buffer): [number, number][] {
  const ranges: [number, number][] = []
  const common = Math.min(a.length, b.length)
  let start = -1
  for (let i = 0; i <= common; i++) {
    const differs = i < common && a[i] !== b[i]
    if (differs && start === -1) start = i
    if (!differs && start !== -1) {
      ranges.push([start, i])
      start = -1
    }
  }
  if (a.length !== b.length) ranges.push([common, Math.max(a.length, b.length)])
  return ranges
}

const sha256 = (bytes: Buffer): string => crypto.createHash('sha256').update(bytes).digest('hex')

/** A pair: random bytes, and a copy with some bytes changed and its length perhaps changed. */
const pair = (maxLength: number) =>
  fc
    .tuple(
      fc.uint8Array({ maxLength }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 20 }),
      fc.integer({ min: -8, max: 8 }),
    )
    .map(([bytes, flips, grow]) => {
      const a = Buffer.from(bytes)
      const b = Buffer.from(a)
      for (const [at, x] of flips)
        if (b.length > 0) b.writeUInt8((b[at % b.length] ?? 0) ^ x, at % b.length)
      const c =
        grow >= 0
          ? Buffer.concat([b, Buffer.alloc(grow, 7)])
          : b.subarray(0, Math.max(0, b.length + grow))
      return [a, c] as const
    })

const cuts = fc.array(fc.integer({ min: 1, max: 97 }), { maxLength: 40 })

describe('diffStreamed', () => {
  it('finds what diffBinary finds on the whole bytes, however the two sides are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(pair(600), cuts, cuts, fc.nat(5), async ([a, b], cutsA, cutsB, already) => {
        const held = diffBinary(a, b)
        const streamed = await diffStreamed(
          chunked(a, cutsA, already),
          chunked(b, cutsB),
          () => undefined,
        )
        expect(streamed.diff).toEqual(held)
        expect(streamed.diff.ranges).toEqual(naiveRanges(a, b).slice(0, 64))
        expect(streamed.diff.places).toBe(naiveRanges(a, b).length)
        expect(streamed.sizes).toEqual([a.length, b.length])
        expect(streamed.digests).toEqual([sha256(a), sha256(b)])
      }),
    )
  })

  it('keeps ranges that run across the 64 KiB pieces compared whole', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 3 * 65_536 + 99 }), fc.integer({ min: 1, max: 40 })),
          {
            maxLength: 8,
          },
        ),
        fc.array(fc.integer({ min: 1, max: 100_000 }), { maxLength: 6 }),
        async (changes, splits) => {
          const a = Buffer.alloc(3 * 65_536 + 100, 1)
          const b = Buffer.from(a)
          // Runs of changed bytes, some across a piece boundary (65,536 and its multiples).
          for (const [at, length] of changes) b.fill(2, at, Math.min(b.length, at + length))
          const streamed = await diffStreamed(
            chunked(a, splits),
            chunked(b, [...splits].reverse()),
            () => undefined,
          )
          expect(streamed.diff.ranges).toEqual(naiveRanges(a, b).slice(0, 64))
          expect(diffBinary(a, b).ranges).toEqual(naiveRanges(a, b).slice(0, 64))
        },
      ),
      { numRuns: 30 },
    )
  })

  it('stops when the size check throws, and a side already read is no excuse', async () => {
    const a = Buffer.alloc(5000, 1)
    const check = (size: number): void => {
      if (size > 4096) throw new Error(`too large: ${size}`)
    }
    await expect(diffStreamed(chunked(a, [1000]), chunked(a, [3000]), check)).rejects.toThrow(
      /too large/,
    )
  })
})
