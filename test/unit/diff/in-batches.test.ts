import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { inBatches } from '../../../src/diff/engine.js'

describe('inBatches', () => {
  it('keeps every key once, in order, each batch within the cap unless it holds one key alone', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 30 }),
        fc.func(fc.nat({ max: 100 })),
        fc.integer({ min: 1, max: 150 }),
        (keys, size, cap) => {
          const batches = inBatches(keys, size, cap)
          expect(batches.flat()).toEqual(keys)
          for (const batch of batches) {
            expect(batch.length).toBeGreaterThan(0)
            const total = batch.reduce((sum, k) => sum + size(k), 0)
            if (batch.length > 1) expect(total).toBeLessThanOrEqual(cap)
          }
        },
      ),
    )
  })
})
