import { Readable } from 'node:stream'
import zlib from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buffer } from 'node:stream/consumers'
import crypto from 'node:crypto'
import {
  checkZstdFrames,
  SKIPPABLE_SHOWN,
  zstdContent,
  zstdLayout,
} from '../../../src/formats/zstd-frames.js'

const check = (bytes: Buffer) => checkZstdFrames(Readable.from([bytes]), 'x.zst')

const frame = (content: Uint8Array, checksum: boolean): Buffer =>
  zlib.zstdCompressSync(content, {
    params: { [zlib.constants.ZSTD_c_checksumFlag]: checksum ? 1 : 0 },
  })

const skippable = (data: Uint8Array): Buffer => {
  const head = Buffer.alloc(8)
  head.writeUInt32LE(0x184d2a53, 0)
  head.writeUInt32LE(data.length, 4)
  return Buffer.concat([head, data])
}

/**
 * Up to 300 KB: random bytes (raw blocks), runs of one byte (run-length blocks) or text
 * (compressed blocks), made from a seed. fast-check draws an array one element at a
 * time, and a few hundred thousand of them per frame took the test past its time limit
 * on a loaded machine.
 */
const contentBytes = fc
  .record({
    length: fc.oneof(fc.nat(64), fc.nat(300_000)),
    seed: fc.nat(),
    kind: fc.constantFrom('random', 'run', 'text'),
  })
  .map(({ length, seed, kind }) => {
    if (kind === 'run') return Buffer.alloc(length, seed % 256)
    const random = crypto.createHash('sha256').update(String(seed)).digest()
    const bytes = Buffer.alloc(length)
    for (let at = 0; at < length; at += random.length) {
      random.copy(bytes, at)
      // Each 32 bytes from the last: random; or the same few words over and over.
      if (kind === 'random') crypto.createHash('sha256').update(random).digest().copy(random)
    }
    return kind === 'text' ? Buffer.from(bytes.toString('base64').slice(0, length)) : bytes
  })

describe('checkZstdFrames', () => {
  it('takes any whole stream of frames, and refuses every cut of it', async () => {
    // Each part: its bytes, and the content it holds (none for a skippable frame).
    const part = fc.oneof(
      fc
        .tuple(contentBytes, fc.boolean(), fc.nat(3))
        // Runs of bytes give run-length and compressed blocks; random bytes raw ones.
        .map(([bytes, checksum, repeat]) => {
          const content = Buffer.concat(Array.from({ length: repeat + 1 }, () => bytes))
          return { bytes: frame(content, checksum), content }
        }),
      fc
        .uint8Array({ maxLength: 40 })
        .map((data) => ({ bytes: skippable(data), content: undefined })),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(part, { minLength: 1, maxLength: 3 }),
        fc.nat(),
        async (parts, at) => {
          const whole = Buffer.concat(parts.map((p) => p.bytes))
          await expect(check(whole)).resolves.toEqual({
            frames: parts.length,
            skippable: parts.filter((p) => p.content === undefined).length,
          })
          // The content of every frame, in order; none of a skippable one.
          // Compared with equals(): a deep equality of megabytes, byte by byte, takes seconds.
          const content = await buffer(zstdContent(Readable.from([whole]), 'x.zst', 64 * 1024))
          const expected = Buffer.concat(
            parts.flatMap((p) => (p.content === undefined ? [] : [p.content])),
          )
          expect(content.equals(expected)).toBe(true)
          const cut = at % whole.length
          // A cut between two frames leaves a whole, shorter stream.
          const ends = parts.map(
            (_, i) => Buffer.concat(parts.slice(0, i + 1).map((p) => p.bytes)).length,
          )
          const result = check(whole.subarray(0, cut))
          if (cut > 0 && ends.includes(cut)) await expect(result).resolves.toBeDefined()
          else await expect(result).rejects.toThrow(/x\.zst: not a readable zstd stream/)
          if (!(cut > 0 && ends.includes(cut)))
            await expect(
              buffer(zstdContent(Readable.from([whole.subarray(0, cut)]), 'x.zst', 64 * 1024)),
            ).rejects.toThrow()
        },
      ),
      { numRuns: 60 },
    )
  })

  it('refuses what is not a frame, with its offset', async () => {
    const whole = frame(Buffer.from('hello'), true)
    await expect(check(Buffer.concat([whole, Buffer.from('junk')]))).rejects.toThrow(
      new RegExp(`no frame at byte ${whole.length}`),
    )
  })
})

describe('zstdLayout', () => {
  it('splits a stream into its data frames and its skippable frames, however they interleave', async () => {
    const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex')
    interface Part {
      bytes: Buffer
      skip: { magic: number; data: Uint8Array } | undefined
    }
    const part: fc.Arbitrary<Part> = fc.oneof(
      fc
        .uint8Array({ maxLength: 2000 })
        .map((content): Part => ({ bytes: frame(content, false), skip: undefined })),
      fc
        .tuple(fc.integer({ min: 0, max: 15 }), fc.uint8Array({ maxLength: 100 }))
        .map(([nibble, data]): Part => {
          const head = Buffer.alloc(8)
          head.writeUInt32LE(0x184d2a50 + nibble, 0)
          head.writeUInt32LE(data.length, 4)
          return { bytes: Buffer.concat([head, data]), skip: { magic: 0x184d2a50 + nibble, data } }
        }),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(part, { minLength: 1, maxLength: 14 }),
        fc.integer({ min: 1, max: 4096 }),
        async (parts, chunk) => {
          if (parts.every((p) => p.skip !== undefined))
            parts.push({ bytes: frame(Buffer.from('x'), false), skip: undefined })
          const whole = Buffer.concat(parts.map((p) => p.bytes))
          // Fed in pieces of any size: a frame's payload split across reads is one frame.
          const pieces = Array.from({ length: Math.ceil(whole.length / chunk) }, (_, i) =>
            whole.subarray(i * chunk, (i + 1) * chunk),
          )
          const layout = await zstdLayout(Readable.from(pieces), 'x.zst')
          const data = Buffer.concat(parts.flatMap((p) => (p.skip === undefined ? [p.bytes] : [])))
          expect(layout.dataSha256).toBe(sha(data))
          const skips = parts.flatMap((p, i) =>
            p.skip === undefined
              ? []
              : [
                  {
                    ...p.skip,
                    at: Buffer.concat(parts.slice(0, i).map((q) => q.bytes)).length,
                    dataBefore: Buffer.concat(
                      parts.slice(0, i).flatMap((q) => (q.skip === undefined ? [q.bytes] : [])),
                    ).length,
                  },
                ],
          )
          expect(layout.skippableCount).toBe(skips.length)
          expect(layout.skippable).toEqual(
            skips.slice(0, SKIPPABLE_SHOWN).map((f) => ({
              at: f.at,
              dataBefore: f.dataBefore,
              magic: f.magic,
              size: f.data.length,
              sha256: sha(f.data),
              head: Buffer.from(f.data.subarray(0, 32)),
            })),
          )
          // Two streams whose skippable frames differ anywhere, past those shown too, differ here.
          const last = skips.at(-1)
          if (last !== undefined) {
            const changed = Buffer.from(whole)
            // Its magic's low bit: another skippable frame's magic (0x184D2A50 to 5F).
            changed[last.at] = (changed[last.at] ?? 0) ^ 1
            const other = await zstdLayout(Readable.from([changed]), 'x.zst')
            expect(other.skippableSha256).not.toBe(layout.skippableSha256)
            expect(other.dataSha256).toBe(layout.dataSha256)
          }
          // A skippable frame moved past a data frame: the same frames, another layout.
          const [first, second] = parts
          if (first?.skip !== undefined && second !== undefined && second.skip === undefined) {
            const moved = Buffer.concat([
              second.bytes,
              first.bytes,
              ...parts.slice(2).map((q) => q.bytes),
            ])
            const other = await zstdLayout(Readable.from([moved]), 'x.zst')
            expect(other.skippableSha256).not.toBe(layout.skippableSha256)
            expect(other.dataSha256).toBe(layout.dataSha256)
          }
        },
      ),
      { numRuns: 100 },
    )
  })
})
