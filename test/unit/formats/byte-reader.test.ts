import { Readable } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ByteReader } from '../../../src/formats/byte-reader.js'

interface Step {
  op: 'read' | 'forward' | 'peek'
  n: number
}

const step: fc.Arbitrary<Step> = fc.record({
  op: fc.constantFrom<Step['op']>('read', 'forward', 'peek'),
  n: fc.nat({ max: 700 }),
})

describe('ByteReader', () => {
  it('gives the bytes a flat buffer would, however the stream is cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.nat({ max: 3000 }), { maxLength: 10 }),
        fc.array(step, { maxLength: 30 }),
        async (bytes, cuts, steps) => {
          const data = Buffer.from(bytes)
          const ends = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b)
          const chunks = [...ends, data.length]
            .map((end, i, all) => data.subarray(i === 0 ? 0 : (all[i - 1] ?? 0), end))
            .filter((c) => c.length > 0)
          const reader = new ByteReader(Readable.from(chunks))
          let at = 0
          for (const { op, n } of steps) {
            const want = data.subarray(at, at + n)
            if (op === 'peek') {
              expect(await reader.peek(n)).toEqual(want)
              continue
            }
            if (op === 'read') {
              const got = await reader.read(n)
              if (n > 0 && want.length === 0) expect(got).toBeUndefined()
              else expect(got ?? Buffer.alloc(0)).toEqual(want)
            } else {
              const parts: Buffer[] = []
              expect(await reader.forward(n, (c) => void parts.push(Buffer.from(c)))).toBe(
                want.length,
              )
              expect(Buffer.concat(parts)).toEqual(want)
            }
            at += want.length
            expect(reader.offset).toBe(at)
          }
        },
      ),
    )
  })
})
