import { describe, expect, it } from 'vitest'
import { nameWarning } from '../../../src/formats/member.js'
import { fromNameBytes } from '../../../src/file-names.js'

describe('nameWarning', () => {
  it('warns of a NUL byte in a name, never of a byte that is not UTF-8', () => {
    expect(nameWarning(fromNameBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9])))).toBeUndefined()
    expect(nameWarning(fromNameBytes(Buffer.from([0x61, 0x00, 0x62])))).toMatch(/contains NUL/)
    expect(nameWarning(fromNameBytes(Buffer.from([0xff, 0x00])))).toMatch(/contains NUL/)
    expect(nameWarning(fromNameBytes(Buffer.from('a/../b')))).toMatch(/climbs out/)
  })
})
