import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { LedgerRecord } from '../../../src/gate/decide.js'
import { checkedPolicies, rollbackPolicies } from '../../../src/gate/checked-policies.js'
import type { Policy } from '../../../src/verify/policy.js'
import { firstLedgerRecord } from '../../helpers.js'

const record = (policy: Policy): LedgerRecord =>
  firstLedgerRecord({ format: 2, policy, signer: { kind: 'key', hint: 'c'.repeat(64) } })

describe('the policies gate check holds a record to', () => {
  it("keep every requirement of both the record's policy and the caller's", () => {
    const builder = fc.constantFrom(undefined, 'https://a.example', 'https://b.example')
    const flag = fc.constantFrom(undefined, true, false)
    const policy = fc.record({ builderId: builder, requireReproduced: flag }, { requiredKeys: [] })
    fc.assert(
      fc.property(policy, policy, (kept, required) => {
        const policies = checkedPolicies(record(kept), required)
        // Whatever either asks, some policy checked asks it, unchanged.
        for (const asked of [kept, required])
          for (const [field, value] of Object.entries(asked as Record<string, unknown>))
            if (value !== undefined)
              expect(policies.some((p) => (p as Record<string, unknown>)[field] === value)).toBe(
                true,
              )
        // One policy when they do not disagree.
        const disagree = (['builderId', 'requireReproduced'] as const).some(
          (f) => kept[f] !== undefined && required[f] !== undefined && kept[f] !== required[f],
        )
        expect(policies).toHaveLength(disagree ? 2 : 1)
      }),
    )
  })

  it('takes the predicate type from the caller only', () => {
    const policies = checkedPolicies(record({ predicateType: 'https://spdx.dev/Document' }), {})
    expect(policies).toEqual([{}])
  })
})

describe('the policies a rollback is held to', () => {
  it("keep the release's requirements and today's, all but the release's maximum age", () => {
    const kept = { builderId: 'https://a.example', maxAgeMs: 1000, requireReproduced: true }
    expect(rollbackPolicies(record(kept), {})).toEqual([
      { builderId: 'https://a.example', requireReproduced: true },
    ])
    // Today's maximum age holds, and a builder today's policy names otherwise is a
    // second policy, not a replacement.
    expect(rollbackPolicies(record(kept), { maxAgeMs: 5, builderId: 'https://b.example' })).toEqual(
      [
        { builderId: 'https://a.example', requireReproduced: true },
        { maxAgeMs: 5, builderId: 'https://b.example' },
      ],
    )
  })
})
