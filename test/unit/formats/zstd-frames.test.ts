import { Readable } from 'node:stream'
import zlib from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buffer } from 'node:stream/consumers'
import { checkZstdFrames, zstdContent } from '../../../src/formats/zstd-frames.js'

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

describe('checkZstdFrames', () => {
  it('takes any whole stream of frames, and refuses every cut of it', async () => {
    // Each part: its bytes, and the content it holds (none for a skippable frame).
    const part = fc.oneof(
      fc
        .tuple(fc.uint8Array({ maxLength: 300_000, size: 'max' }), fc.boolean(), fc.nat(3))
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
