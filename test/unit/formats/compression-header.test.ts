import zlib from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compressionHeader } from '../../../src/formats/compressed.js'

// A zstd skippable frame: its magic (0x184D2A5n), its size, its bytes.
const skippable = (nibble: number, data: Buffer): Buffer => {
  const head = Buffer.alloc(8)
  head.writeUInt32LE(0x184d2a50 + nibble, 0)
  head.writeUInt32LE(data.length, 4)
  return Buffer.concat([head, data])
}

describe('compressionHeader of zstd', () => {
  it('reads the descriptor of the first data frame, past any skippable frames before it', () => {
    const frame = zlib.zstdCompressSync(Buffer.from('hello hello hello\n'))
    const descriptor = `0x${(frame[4] ?? 0).toString(16)}`
    expect(compressionHeader('zstd', frame)).toEqual({ 'frame descriptor': descriptor })
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: 15 }), fc.uint8Array({ maxLength: 40 })), {
          maxLength: 4,
        }),
        (frames) => {
          const head = Buffer.concat([
            ...frames.map(([n, data]) => skippable(n, Buffer.from(data))),
            frame,
          ])
          expect(compressionHeader('zstd', head)).toEqual({ 'frame descriptor': descriptor })
        },
      ),
    )
  })

  it('says nothing of a descriptor beyond the bytes read', () => {
    const frame = zlib.zstdCompressSync(Buffer.from('x'))
    const head = Buffer.concat([skippable(0, Buffer.alloc(2000)), frame]).subarray(0, 1024)
    expect(compressionHeader('zstd', head)).toEqual({})
  })
})
