import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { firstStoreProblem } from '../../../src/gate/check-store.js'
import type { LedgerRecord } from '../../../src/gate/decide.js'

const digest = fc.constantFrom('a', 'b', 'c', 'd').map((c) => c.repeat(64))

const record = (bundleDigest: string, seq: number): LedgerRecord => ({
  seq,
  env: 'prod',
  action: 'deploy',
  digest: 'e'.repeat(64),
  bundleDigest,
  prev: '0'.repeat(64),
  at: '2026-01-01T00:00:00.000Z',
  actor: 'ci',
})

describe('firstStoreProblem', () => {
  it('names the first record whose kept bundle is missing or other bytes, and only such', () => {
    fc.assert(
      fc.property(
        fc.array(digest, { maxLength: 12 }),
        fc.dictionary(
          digest,
          fc.option(fc.oneof(digest, fc.constant('f'.repeat(64))), { nil: undefined }),
        ),
        (bundles, store) => {
          const records = bundles.map((b, i) => record(b, i + 1))
          const stored = new Map(Object.entries(store))
          const problem = firstStoreProblem(records, stored)
          const bad = records.findIndex((r) => stored.get(r.bundleDigest) !== r.bundleDigest)
          if (bad === -1) expect(problem).toBeUndefined()
          else
            expect(problem).toEqual({
              line: bad + 1,
              record: records[bad],
              found: stored.get(records[bad]?.bundleDigest ?? ''),
            })
        },
      ),
    )
  })
})
