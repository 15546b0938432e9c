import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { listField, nameWarning } from '../../../src/formats/member.js'
import { fromNameBytes } from '../../../src/file-names.js'

describe('nameWarning', () => {
  it('warns of a NUL byte in a name, never of a byte that is not UTF-8', () => {
    expect(nameWarning(fromNameBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9])))).toBeUndefined()
    expect(nameWarning(fromNameBytes(Buffer.from([0x61, 0x00, 0x62])))).toMatch(/contains NUL/)
    expect(nameWarning(fromNameBytes(Buffer.from([0xff, 0x00])))).toMatch(/contains NUL/)
    expect(nameWarning(fromNameBytes(Buffer.from('a/../b')))).toMatch(/climbs out/)
  })
})

describe('listField', () => {
  it('never writes two different lists alike, joined or not', () => {
    const value = fc.oneof(fc.string(), fc.constantFrom('[', '["a', 'a, b', ', ', 'b"]', ''))
    const list = fc.array(value, { minLength: 1, maxLength: 4 })
    for (const separator of [', ', undefined])
      fc.assert(
        fc.property(list, list, (x, y) => {
          fc.pre(JSON.stringify(x) !== JSON.stringify(y))
          expect(listField(x, separator)).not.toBe(listField(y, separator))
        }),
        { numRuns: 2000 },
      )
    expect(listField(['a', 'b'], ', ')).toBe('a, b')
    expect(listField(['a, b'], ', ')).toBe('["a, b"]')
    expect(listField(['a'])).toBe('a')
    expect(listField(['a', 'b'])).toBe('["a","b"]')
  })
})
