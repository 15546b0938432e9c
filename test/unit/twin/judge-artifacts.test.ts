import { describe, expect, it } from 'vitest'
import { specialOnOneSide } from '../../../src/twin/judge-artifacts.js'

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
