import { describe, expect, it } from 'vitest'
import type { BuildOptions } from '../../../src/config/build-options.js'
import type { VariationName } from '../../../src/config/variations.js'
import type { VariationRecord } from '../../../src/sandbox/run-plan.js'
import { explainVariations } from '../../../src/twin/explain-variations.js'

const record = (name: VariationName, status: VariationRecord['status']): VariationRecord => ({
  name,
  status,
  a: 'a',
  b: 'b',
})

describe('explainVariations', () => {
  it('searches the variations that took effect and the file-time one, never one that changed nothing', async () => {
    const pairs: string[][] = []
    // A difference that comes and goes: here, in every pair but the controls.
    const found = await explainVariations(
      { timeoutMs: undefined, sequential: false } as unknown as BuildOptions,
      {
        differing: ['out'],
        variations: [
          record('path', 'effective'),
          record('ordering', 'no-effect'),
          record('file-times', 'no-effect'),
          record('umask', 'effective'),
          record('time', 'not-applied'),
        ],
        pairMs: 1,
        scratch: '/nonexistent',
      },
      (options) => {
        const varied = options.variations.filter((v) => v !== 'path')
        pairs.push(varied)
        return Promise.resolve(new Set(varied.length > 0 ? ['out'] : []))
      },
      () => undefined,
    )
    expect(pairs.flat()).not.toContain('ordering')
    expect(pairs.flat()).not.toContain('time')
    expect(pairs.flat()).toContain('file-times')
    expect(found.culprits?.map((c) => c.cause)).not.toContain('ordering')
  })
})

describe('explainVariations, when a pair fails', () => {
  it('keeps the pairs that finished before it, and says which failed', async () => {
    let n = 0
    const found = await explainVariations(
      { timeoutMs: undefined, sequential: false } as unknown as BuildOptions,
      {
        differing: ['out'],
        variations: [record('path', 'effective'), record('umask', 'effective')],
        pairMs: 1,
        scratch: '/nonexistent',
      },
      () => {
        n++
        // The control pair finishes; the next fails, as a flaky build does.
        return n === 1
          ? Promise.resolve(new Set<string>())
          : Promise.reject(new Error('build run B exited with status 1'))
      },
      () => undefined,
    )
    expect(found.skipped).toBe(
      'pair 2 failed: build run B exited with status 1; the pairs before it are in pairs',
    )
    expect(found.pairs).toEqual([{ variations: [], differing: [] }])
    expect(found.extraBuilds).toBe(4)
  })

  it('says the search stopped when the pairs allowed ran out', async () => {
    const found = await explainVariations(
      { timeoutMs: 2, sequential: false } as unknown as BuildOptions,
      {
        differing: ['out'],
        variations: [record('path', 'effective'), record('umask', 'effective')],
        pairMs: 1,
        scratch: '/nonexistent',
      },
      // The control does not reproduce it, every other pair does: two pairs are not enough.
      (options) =>
        Promise.resolve(new Set(options.variations.length > 1 ? ['out'] : ([] as string[]))),
      () => undefined,
    )
    expect(found.culprits?.map((c) => c.cause)).toContain('unknown')
    expect(found.skipped).toBe(
      'the 2 further pairs allowed within --timeout ran out before every difference was explained',
    )
  })
})
