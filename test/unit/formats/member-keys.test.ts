import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { keyFor } from '../../../src/formats/member.js'

describe('keyFor', () => {
  it('never hands out one key twice, whatever the names, and keeps a first name as its key when it can', () => {
    // Names like x, x#2, x#2#2: the ones a numbering could collide with.
    const name = fc.constantFrom('x', 'x#2', 'x#3', 'x#2#2', 'y', 'y#2')
    fc.assert(
      fc.property(fc.array(name, { maxLength: 30 }), (names) => {
        const seen = new Map<string, number>()
        const keys = names.map((n) => keyFor(n, seen))
        expect(new Set(keys).size).toBe(keys.length)
        names.forEach((n, i) => {
          // A key names its member: the name itself, or the name numbered.
          expect(keys[i] === n || keys[i]?.startsWith(`${n}#`)).toBe(true)
          // The first member of a name keeps it unless a numbered one took it before.
          if (names.indexOf(n) === i && !keys.slice(0, i).includes(n)) expect(keys[i]).toBe(n)
        })
      }),
    )
  })
})
