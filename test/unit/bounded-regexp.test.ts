import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { matchesWhole } from '../../src/bounded-regexp.js'

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

describe('matchesWhole', () => {
  it('answers as the engine does, anchored at both ends, for patterns that finish', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 12 }),
        fc.string({ maxLength: 12 }),
        fc.constantFrom('', '.*', '[a-z]+', '(x|y)?'),
        (literal, value, tail) => {
          const pattern = `${escape(literal)}${tail}`
          expect(matchesWhole(pattern, value)).toBe(new RegExp(`^(?:${pattern})$`).test(value))
        },
      ),
      { numRuns: 300 },
    )
    expect(matchesWhole('a|b', 'ab')).toBe(false)
    expect(matchesWhole('refs/tags/v.*', 'refs/tags/v1.2')).toBe(true)
  })

  it('stops a pattern that backtracks without end, and says why', () => {
    const started = performance.now()
    const answer = matchesWhole('(a|a)*b', 'a'.repeat(40))
    expect(performance.now() - started).toBeLessThan(20_000)
    expect(answer).toEqual({
      undecided: expect.stringContaining('did not finish matching') as unknown,
    })
    // The context is fit for the next match.
    expect(matchesWhole('a+', 'aaa')).toBe(true)
  })

  it('matches nothing with a pattern that is not one, and says so', () => {
    expect(matchesWhole('(', 'x')).toEqual({
      undecided: 'not a valid regular expression, so it matches nothing',
    })
  })
})
