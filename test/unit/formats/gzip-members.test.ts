import { Readable } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { mayHoldLaterMember } from '../../../src/formats/gzip-members.js'
import type { ByteSource } from '../../../src/formats/source.js'

const MAGIC = Buffer.from([0x1f, 0x8b, 0x08])

// The bytes as a stream cut at the given lengths, as a file read in chunks would be.
const chunked = (bytes: Buffer, cuts: number[]): ByteSource => ({
  label: 'x.gz',
  size: bytes.length,
  open: () => {
    const pieces: Buffer[] = []
    let at = 0
    for (const cut of cuts) {
      if (at >= bytes.length) break
      pieces.push(bytes.subarray(at, Math.min(bytes.length, at + cut)))
      at += cut
    }
    if (at < bytes.length) pieces.push(bytes.subarray(at))
    return Readable.from(pieces)
  },
})

describe('mayHoldLaterMember', () => {
  it('finds the magic after the fixed header wherever the chunks cut it, and never before', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 200 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 60 }),
        async (raw, cuts) => {
          const bytes = Buffer.from(raw)
          // The reference: a plain search of the whole, past the 10 fixed bytes.
          const expected = bytes.indexOf(MAGIC, 10) !== -1
          expect(await mayHoldLaterMember(chunked(bytes, cuts))).toBe(expected)
          expect(await mayHoldLaterMember({ ...chunked(bytes, []), buffer: bytes })).toBe(expected)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('answers for a magic planted anywhere, split across any two chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 100 }),
        fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 60 }),
        async (where, cuts) => {
          const bytes = Buffer.alloc(110)
          MAGIC.copy(bytes, where)
          expect(await mayHoldLaterMember(chunked(bytes, cuts))).toBe(where >= 10)
        },
      ),
    )
  })
})
