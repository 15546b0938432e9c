import { execFileSync } from 'node:child_process'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { detectCompression } from '../../../src/formats/compressions.js'

const skippable = (nibble: number, payload: Uint8Array): Buffer => {
  const head = Buffer.alloc(8)
  head.writeUInt32LE(0x184d2a50 + nibble, 0)
  head.writeUInt32LE(payload.length, 4)
  return Buffer.concat([head, payload])
}
const ZSTD = Buffer.from([0x28, 0xb5, 0x2f, 0xfd])

describe('detectCompression', () => {
  it('knows zstd as zstd and pzstd write it, a skippable frame first', () => {
    const input = 'hello world\n'.repeat(50)
    const plain = execFileSync('zstd', ['-q', '-c'], { input })
    const parallel = execFileSync('pzstd', ['-q', '-c'], { input })
    expect(parallel.readUInt32LE(0)).toBe(0x184d2a50)
    expect(detectCompression(plain.subarray(0, 512))).toBe('zstd')
    expect(detectCompression(parallel.subarray(0, 512))).toBe('zstd')
  })

  it('reads past skippable frames to a data frame within the head, and never throws', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 15 }), fc.uint8Array({ maxLength: 40 })), {
          maxLength: 4,
        }),
        fc.uint8Array({ minLength: 4, maxLength: 20 }),
        (frames, after) => {
          const lead = Buffer.concat(frames.map(([n, p]) => skippable(n, p)))
          const data = Buffer.concat([lead, ZSTD, after]).subarray(0, 512)
          expect(detectCompression(data)).toBe(lead.length + 4 <= 512 ? 'zstd' : undefined)
          // Anything but a data frame after them is no zstd stream.
          const other = Buffer.concat([lead, Buffer.from(after)])
          fc.pre(!Buffer.from(after).subarray(0, 4).equals(ZSTD))
          if (frames.length > 0) expect(detectCompression(other)).toBeUndefined()
        },
      ),
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        detectCompression(Buffer.from(bytes))
      }),
    )
  })
})
