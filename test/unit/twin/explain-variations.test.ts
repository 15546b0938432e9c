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
