import { execFileSync } from 'node:child_process'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backoffMs, withRetries, type Backoff } from '../../../src/io/retry.js'
import { REPO } from '../../helpers.js'

const policies = fc.record({
  firstMs: fc.integer({ min: 0, max: 10_000 }),
  factor: fc.double({ min: 1, max: 4, noNaN: true }),
  maxMs: fc.integer({ min: 0, max: 60_000 }),
  jitterMs: fc.integer({ min: 0, max: 1000 }),
})

describe('backoffMs', () => {
  it('grows from the first wait, never past the maximum, plus at most the jitter', () => {
    fc.assert(
      fc.property(
        policies,
        fc.integer({ min: 1, max: 50 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (p, retry, r) => {
          const wait = backoffMs(p, retry, () => r)
          const base = backoffMs(p, retry, () => 0)
          expect(base).toBeLessThanOrEqual(Math.max(p.maxMs, 0))
          expect(base).toBeLessThanOrEqual(Math.max(p.firstMs * p.factor ** (retry - 1), 0))
          expect(wait - base).toBeGreaterThanOrEqual(0)
          expect(wait - base).toBeLessThan(p.jitterMs + 1e-9)
          // Never shorter than the one before.
          if (retry > 1) expect(base).toBeGreaterThanOrEqual(backoffMs(p, retry - 1, () => 0))
        },
      ),
    )
  })

  it('waits as the OIDC retries always did: 0.5, 1, 2, 4, 4 s', () => {
    const oidc: Backoff = { firstMs: 500, factor: 2, maxMs: 4000 }
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(oidc, n))).toEqual([500, 1000, 2000, 4000, 4000])
  })
})

describe('withRetries', () => {
  it('makes at most the tries allowed, stops at the first that is done, and keeps every reason in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 15 }),
        async (attempts, doneAt) => {
          const tries: number[] = []
          const waits: number[] = []
          const outcome = await withRetries(
            attempts,
            { firstMs: 10, factor: 2, maxMs: 1000 },
            (n) => {
              tries.push(n)
              return n === doneAt ? { done: `value ${n}` } : { again: `reason ${n}` }
            },
            (ms) => {
              waits.push(ms)
              return Promise.resolve()
            },
          )
          const made = Math.min(attempts, doneAt)
          expect(tries).toEqual(Array.from({ length: made }, (_, i) => i + 1))
          // A wait between tries, none before the first or after the last.
          expect(waits).toHaveLength(made - 1)
          expect(outcome).toEqual(
            doneAt <= attempts
              ? { ok: true, value: `value ${doneAt}` }
              : { ok: false, reasons: tries.map((n) => `reason ${n}`) },
          )
        },
      ),
    )
  })

  it('stops at a try that throws: trying again cannot help it', async () => {
    let tries = 0
    const work = withRetries(5, { firstMs: 0, factor: 1, maxMs: 0 }, () => {
      tries++
      throw new Error('refused for good')
    })
    await expect(work).rejects.toThrow('refused for good')
    expect(tries).toBe(1)
  })
})

describe('sleep', () => {
  it('keeps a process alive while it waits: a retry between two tries is all that is pending', () => {
    const script = `import('${path.join(REPO, 'dist/io/retry.js')}').then(async ({ sleep }) => { await sleep(50); console.log('woke') })`
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })
    expect(out).toBe('woke\n')
  })
})
