import { execFileSync } from 'node:child_process'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { xzDictionaryBytes } from '../../../src/formats/compressed.js'

const xz = (args: string[]): Buffer => execFileSync('xz', ['-c', ...args], { input: 'hello\n' })

describe('xzDictionaryBytes', () => {
  it("reads the dictionary of a stream's first block as xz writes it", () => {
    // xz rounds a size up to 2^n or 3 * 2^(n-1); 1536 MiB is one, and 65 MiB becomes 96.
    for (const [given, written] of [
      ['64MiB', 64],
      ['65MiB', 96],
      ['1536MiB', 1536],
    ] as const)
      expect(xzDictionaryBytes(xz([`--lzma2=dict=${given}`]))).toBe(written * 2 ** 20)
    // A preset's: -6 uses 8 MiB; -9e 64 MiB.
    expect(xzDictionaryBytes(xz(['-6']))).toBe(8 * 2 ** 20)
    expect(xzDictionaryBytes(xz(['-9e']))).toBe(64 * 2 ** 20)
  })

  it('says nothing of bytes that are not such a stream, and never throws', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const found = xzDictionaryBytes(Buffer.from(bytes))
        expect(found === undefined || (found > 0 && found < 2 ** 32)).toBe(true)
      }),
    )
    expect(xzDictionaryBytes(Buffer.from('not xz at all, not xz at all'))).toBeUndefined()
  })
})
