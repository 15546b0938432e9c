import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { positiveInt } from '../../../src/config/diff-options.js'

describe('positiveInt', () => {
  it('reads whole numbers with binary units, and says why it refuses the rest', () => {
    expect(positiveInt('64M', '--max-bytes', 1)).toBe(64 * 1024 ** 2)
    expect(positiveInt(undefined, '--max-bytes', 7)).toBe(7)
    expect(() => positiveInt('99999999999999999999', '--max-bytes', 1)).toThrow(
      /^--max-bytes 99999999999999999999: too large \(at most 9007199254740991\)$/,
    )
    for (const text of ['0', '-1', '1e999', 'NaN', '1.5', ''])
      expect(() => positiveInt(text, '--max-entries', 1)).toThrow(/not a positive whole number$/)
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (n) => {
        expect(positiveInt(String(n), '--max-entries', 1)).toBe(n)
      }),
    )
  })
})
