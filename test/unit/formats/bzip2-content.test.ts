import { execFileSync } from 'node:child_process'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bzip2Content } from '../../../src/formats/bzip2-content.js'

const bzip2 = (bytes: Buffer, level = 9): Buffer =>
  execFileSync('bzip2', [`-${level}`, '-c'], { input: bytes, maxBuffer: 1 << 30 })

async function content(
  compressed: Buffer,
  check: (produced: number) => void = () => undefined,
  piece = compressed.length,
): Promise<Buffer> {
  const chunks = Array.from({ length: Math.ceil(compressed.length / piece) }, (_, i) =>
    compressed.subarray(i * piece, (i + 1) * piece),
  )
  const out: Buffer[] = []
  for await (const chunk of bzip2Content(Readable.from(chunks), check)) out.push(chunk as Buffer)
  return Buffer.concat(out)
}

describe('bzip2Content', () => {
  it('gives back what bzip2 compressed, in any pieces, several streams one after another', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 400 }),
        async (parts, level, piece) => {
          const streams = parts.map((p) => bzip2(Buffer.from(p), level))
          const expected = Buffer.concat(parts.map((p) => Buffer.from(p)))
          expect((await content(Buffer.concat(streams), undefined, piece)).equals(expected)).toBe(
            true,
          )
        },
      ),
      { numRuns: 25 },
    )
  })

  it('tells the caller what has come out every 64 KiB, inside a block, so that it can stop a bomb', async () => {
    // 45 MB of zeros is one block of a few dozen bytes: stopped after the first MiB.
    const bomb = bzip2(Buffer.alloc(45_000_000))
    const seen: number[] = []
    const stop = (produced: number): void => {
      seen.push(produced)
      if (produced > 1024 * 1024) throw new Error('too much')
    }
    await expect(content(bomb, stop)).rejects.toThrow('too much')
    expect(seen[0]).toBe(64 * 1024)
    expect(Math.max(...seen)).toBe(1024 * 1024 + 64 * 1024)
  })

  it('refuses a stream cut before its end marker, or with a block that does not check', async () => {
    const whole = bzip2(Buffer.from('some text that compresses\n'.repeat(100)))
    await expect(content(whole.subarray(0, whole.length - 6))).rejects.toThrow()
    const corrupt = Buffer.from(whole)
    corrupt[20] = (corrupt[20] ?? 0) ^ 0xff
    await expect(content(corrupt)).rejects.toThrow()
  })
})
