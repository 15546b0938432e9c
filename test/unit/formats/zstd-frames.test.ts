import { Readable } from 'node:stream'
import zlib from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkZstdFrames } from '../../../src/formats/zstd-frames.js'

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
    const part = fc.oneof(
      fc
        .tuple(fc.uint8Array({ maxLength: 300_000, size: 'max' }), fc.boolean(), fc.nat(3))
        // Runs of bytes give run-length and compressed blocks; random bytes raw ones.
        .map(([bytes, checksum, repeat]) =>
          frame(Buffer.concat(Array.from({ length: repeat + 1 }, () => bytes)), checksum),
        ),
      fc.uint8Array({ maxLength: 40 }).map(skippable),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(part, { minLength: 1, maxLength: 3 }),
        fc.nat(),
        async (parts, at) => {
          const whole = Buffer.concat(parts)
          await expect(check(whole)).resolves.toBeUndefined()
          const cut = at % whole.length
          // A cut between two frames leaves a whole, shorter stream.
          const ends = parts.map((_, i) => Buffer.concat(parts.slice(0, i + 1)).length)
          const result = check(whole.subarray(0, cut))
          if (cut > 0 && ends.includes(cut)) await expect(result).resolves.toBeUndefined()
          else await expect(result).rejects.toThrow(/x\.zst: not a readable zstd stream/)
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
