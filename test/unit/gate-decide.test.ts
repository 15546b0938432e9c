import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decideGate,
  GENESIS,
  recordHash,
  toState,
  type GateRequest,
  type LedgerRecord,
} from '../../src/gate/decide.js'

const digest = fc.constantFrom(...['a', 'b', 'c', 'd'].map((c) => c.repeat(64)))
const env = fc.constantFrom('staging', 'production')
const requestArb: fc.Arbitrary<{ request: GateRequest; verified: boolean }> = fc.record({
  request: fc.oneof(
    fc.record({
      kind: fc.constant('deploy' as const),
      env,
      digest,
      bundleDigest: fc.constant('f'.repeat(64)),
      actor: fc.constant('ci'),
      at: fc.constant('2026-11-22T00:00:00Z'),
    }),
    fc.record({
      kind: fc.constant('rollback' as const),
      env,
      digest,
      bundleDigest: fc.constant('f'.repeat(64)),
      actor: fc.constant('ci'),
      at: fc.constant('2026-11-22T00:00:00Z'),
      reason: fc.constant('bad release'),
    }),
  ),
  verified: fc.boolean(),
})

describe('decideGate', () => {
  it('keeps the ledger invariants over any sequence of requests', () => {
    fc.assert(
      fc.property(fc.array(requestArb, { maxLength: 40 }), (steps) => {
        const records: LedgerRecord[] = []
        const verifiedAt = new Set<number>()
        for (const { request, verified } of steps) {
          const before = toState(records)
          const decision = decideGate(before, request, verified)
          if (decision.kind !== 'append') {
            // Nothing changes without an append.
            expect(toState(records).head).toBe(before.head)
            continue
          }
          const r = decision.record
          expect(verified).toBe(true)
          verifiedAt.add(records.length)
          const envRecords = records.filter((x) => x.env === r.env)
          // Sequence numbers per environment go up by exactly one.
          expect(r.seq).toBe((envRecords.at(-1)?.seq ?? 0) + 1)
          // Every record links to the hash of the one before it.
          const last = records.at(-1)
          expect(r.prev).toBe(last === undefined ? GENESIS : recordHash(last))
          // A digest that was released and superseded comes back only through a rollback.
          if (envRecords.some((x) => x.digest === r.digest)) expect(r.action).toBe('rollback')
          // A rollback only ever returns to a past release of the same environment.
          if (r.action === 'rollback')
            expect(envRecords.some((x) => x.digest === r.digest)).toBe(true)
          records.push(r)
          // The same request again changes nothing: retries never double-apply.
          expect(decideGate(toState(records), request, verified).kind).toBe('noop')
        }
        // Every record in the ledger was appended on a verified attestation.
        expect(verifiedAt.size).toBe(records.length)
      }),
    )
  })

  it('refuses replays below a minimum or not above the last version', () => {
    const base = {
      kind: 'deploy' as const,
      env: 'prod',
      bundleDigest: 'f'.repeat(64),
      actor: 'ci',
      at: 'now',
    }
    const first = decideGate(toState([]), { ...base, digest: 'a'.repeat(64), version: 5 }, true)
    expect(first.kind).toBe('append')
    const records = first.kind === 'append' ? [first.record] : []
    expect(
      decideGate(toState(records), { ...base, digest: 'b'.repeat(64), version: 4 }, true),
    ).toMatchObject({ kind: 'reject', code: 'replay' })
    expect(
      decideGate(
        toState(records),
        { ...base, digest: 'b'.repeat(64), version: 6, minVersion: 7 },
        true,
      ),
    ).toMatchObject({ kind: 'reject', code: 'replay' })
    expect(
      decideGate(toState(records), { ...base, digest: 'b'.repeat(64), version: 6 }, true).kind,
    ).toBe('append')
  })
})
