import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { firstFew } from '../../src/first-few.js'

describe('firstFew', () => {
  it('names the first ones and counts the rest, every name shown or counted once', () => {
    expect(firstFew(['a', 'b'], 3)).toBe('a, b')
    expect(firstFew(['a', 'b', 'c', 'd', 'e'], 3)).toBe('a, b, c and 2 more')
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z]{1,4}$/)),
        fc.integer({ min: 1, max: 6 }),
        (names, max) => {
          const line = firstFew(names, max)
          const more = /and (\d+) more$/.exec(line)
          const shown = line.replace(/ and \d+ more$/, '')
          expect((shown === '' ? 0 : shown.split(', ').length) + Number(more?.[1] ?? 0)).toBe(
            names.length,
          )
        },
      ),
    )
  })
})
