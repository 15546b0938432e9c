import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BlockPool } from '../../../src/io/block-pool.js'

describe('BlockPool', () => {
  it('never lends a buffer to two borrowers at once, whatever is given back', () => {
    // Steps: take, give back a loan (once or twice), give back a view of a loan, or
    // give back a buffer that was never lent.
    const step = fc.oneof(
      fc.constant({ kind: 'take' as const }),
      fc.record({ kind: fc.constant('give' as const), which: fc.nat(), twice: fc.boolean() }),
      fc.record({ kind: fc.constant('view' as const), which: fc.nat() }),
      fc.constant({ kind: 'stranger' as const }),
    )
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 60 }),
        fc.integer({ min: 0, max: 4 }),
        (steps, keep) => {
          const pool = new BlockPool(16, keep)
          const out: Buffer[] = []
          for (const s of steps) {
            if (s.kind === 'take') {
              const b = pool.take()
              expect(b.length).toBe(16)
              // Not the memory of anything still out on loan.
              expect(out.some((o) => o.buffer === b.buffer)).toBe(false)
              out.push(b)
            } else if (s.kind === 'give' && out.length > 0) {
              const [b] = out.splice(s.which % out.length, 1)
              if (b === undefined) continue
              expect(pool.give(b)).toBe(true)
              if (s.twice) expect(pool.give(b)).toBe(false)
            } else if (s.kind === 'view' && out.length > 0) {
              const b = out[s.which % out.length]
              if (b === undefined) continue
              expect(pool.give(b.subarray(1))).toBe(false)
              expect(pool.give(b.subarray(0, 8))).toBe(false)
            } else if (s.kind === 'stranger') {
              expect(pool.give(Buffer.alloc(16))).toBe(false)
            }
          }
        },
      ),
    )
  })

  it('lends the same memory again once it is given back', () => {
    const pool = new BlockPool(1024)
    const first = pool.take()
    pool.give(first)
    expect(pool.take().buffer).toBe(first.buffer)
  })
})
