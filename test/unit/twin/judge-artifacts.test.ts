import { describe, expect, it } from 'vitest'
import { specialOfOtherKinds, specialOnOneSide } from '../../../src/twin/judge-artifacts.js'

describe('specialOnOneSide', () => {
  it('names a FIFO, socket or device one run left and the other did not, by the run that has it', () => {
    const file = (name: string) => ({ name, sha256: 'x', size: 1 })
    expect(specialOnOneSide({ a: ['out/p', 'out/both'], b: ['out/both', 'out/q'] })).toEqual([
      { name: 'out/p', kind: 'only-in-a', digests: [null, null], sizes: [null, null] },
      { name: 'out/q', kind: 'only-in-b', digests: [null, null], sizes: [null, null] },
    ])
    // Where the other run wrote a file of that name, that file's own difference says it.
    expect(specialOnOneSide({ a: ['out/x'], b: [] }, { a: [], b: [file('out/x')] })).toEqual([])
  })
})

describe('specialOfOtherKinds', () => {
  it('names an output both runs left holding no bytes, but not the same kind of one', () => {
    const kinds: Record<string, [string, string]> = {
      'out/p': ['a FIFO', 'a socket'],
      'out/same': ['a FIFO', 'a FIFO'],
      'out/dev': ['a character device 1,3', 'a character device 1,5'],
    }
    const kindOf = (side: 'a' | 'b', name: string) => kinds[name]?.[side === 'a' ? 0 : 1] ?? ''
    expect(
      specialOfOtherKinds(
        { a: ['out/p', 'out/same', 'out/dev', 'out/only-a'], b: ['out/dev', 'out/same', 'out/p'] },
        kindOf,
      ),
    ).toEqual([
      {
        name: 'out/dev',
        kind: 'content',
        digests: [null, null],
        sizes: [null, null],
        special: ['a character device 1,3', 'a character device 1,5'],
      },
      {
        name: 'out/p',
        kind: 'content',
        digests: [null, null],
        sizes: [null, null],
        special: ['a FIFO', 'a socket'],
      },
    ])
  })
})
