import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { withThousands } from '../../../src/diff/summarize.js'

describe('withThousands', () => {
  it('writes a count as en-US does, commas every three digits', () => {
    fc.assert(
      fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), (n) => {
        expect(withThousands(n)).toBe(n.toLocaleString('en-US'))
      }),
    )
    expect(withThousands(2101)).toBe('2,101')
  })
})
