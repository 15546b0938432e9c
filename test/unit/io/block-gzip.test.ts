import { execFileSync } from 'node:child_process'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import zlib from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { blockGzip } from '../../../src/io/block-gzip.js'
import { BlockPool } from '../../../src/io/block-pool.js'

/** The gzip of `data`, written in the given pieces. */
async function gzipped(data: Buffer, cuts: number[], blockSize: number): Promise<Buffer> {
  const at = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b)
  const pieces = [0, ...at, data.length]
    .slice(1)
    .map((end, i, ends) => data.subarray(i === 0 ? 0 : (ends[i - 1] ?? 0), end))
  return buffer(Readable.from(pieces).pipe(blockGzip({ level: 6, os: 3, blockSize })))
}

// Text that compresses, with runs that reach back across block edges.
const payload = fc
  .array(fc.constantFrom('alpha ', 'beta\n', 'gamma gamma ', '\0\0\0', 'ω'), { maxLength: 3000 })
  .map((words) => Buffer.from(words.join('')))

/** A pool that overwrites each buffer given back: a reader that still reads it sees junk. */
class PoisonedPool extends BlockPool {
  override give(buffer: Buffer): boolean {
    const taken = super.give(buffer)
    if (taken) buffer.fill(0xa5)
    return taken
  }
}

describe('blockGzip', () => {
  it('is one gzip member that any reader reads back, the same bytes however its input is cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        payload,
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.integer({ min: 64, max: 4096 }),
        async (data, cuts, otherCuts, blockSize) => {
          const out = await gzipped(data, cuts, blockSize)
          expect(zlib.gunzipSync(out)).toEqual(data)
          expect(await gzipped(data, otherCuts, blockSize)).toEqual(out)
          // A single member: the header, then the trailer's CRC and length of all of it.
          expect(out.subarray(0, 10)).toEqual(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]))
          expect(out.readUInt32LE(out.length - 8)).toBe(zlib.crc32(data))
          expect(out.readUInt32LE(out.length - 4)).toBe(data.length)
        },
      ),
      { numRuns: 60 },
    )
  })

  it('writes a gzip file that gzip itself tests and decompresses', async () => {
    const data = Buffer.from(
      Array.from({ length: 40_000 }, (_, i) => `line ${i % 977} of the text\n`).join(''),
    )
    const out = await gzipped(data, [1, 70_000, 300_001], 64 * 1024)
    expect(execFileSync('gzip', ['-dc'], { input: out })).toEqual(data)
    execFileSync('gzip', ['-t'], { input: out })
    // About as small as one zlib stream at the same level.
    expect(out.length).toBeLessThan(zlib.gzipSync(data, { level: 6 }).length * 1.02)
  })

  it('gives the same bytes when its writer lends it blocks from a pool it gives them back to', async () => {
    // A block given back too soon would be refilled while zlib still reads it, or
    // while the next block takes its dictionary from it: the output would change.
    await fc.assert(
      fc.asyncProperty(
        payload,
        // 0 stands for a whole block.
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 })), { maxLength: 40 }),
        fc.integer({ min: 64, max: 2048 }),
        fc.integer({ min: 1, max: 4 }),
        async (data, lengths, blockSize, inFlight) => {
          const pool = new PoisonedPool(blockSize, 2)
          const stream = blockGzip({ level: 6, os: 3, pool, inFlight })
          const out = buffer(stream)
          // Pieces of any length: one of exactly a block is lent from the pool, whole;
          // the others are the writer's own (the stream gathers them in pool blocks).
          let at = 0
          for (let i = 0; at < data.length; i++) {
            const length = lengths[i % Math.max(1, lengths.length)] ?? 0
            const piece = data.subarray(at, at + (length === 0 ? blockSize : length))
            at += piece.length
            let chunk: Buffer = Buffer.from(piece)
            if (piece.length === blockSize) {
              chunk = pool.take()
              piece.copy(chunk)
            }
            if (!stream.write(chunk)) await new Promise((resolve) => stream.once('drain', resolve))
          }
          stream.end()
          expect(await out).toEqual(await gzipped(data, [], blockSize))
        },
      ),
      { numRuns: 80 },
    )
  })

  it('writes an empty member for no input', async () => {
    const out = await gzipped(Buffer.alloc(0), [], 1024)
    expect(zlib.gunzipSync(out).length).toBe(0)
    expect(execFileSync('gzip', ['-dc'], { input: out }).length).toBe(0)
  })
})
