import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CLOCK_SKEW_MS,
  decideGate,
  firstRecordFromTheFuture,
  firstRecordNoGateWrites,
  GENESIS,
  recordedSigner,
  recordHash,
  toState,
  type GateRequest,
  type LedgerRecord,
} from '../../../src/gate/decide.js'

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

  it('finds, replaying the decisions, the first record no gate writes, however well chained', () => {
    // What gates wrote for any sequence of requests.
    const written = (steps: { request: GateRequest; verified: boolean }[]): LedgerRecord[] => {
      const records: LedgerRecord[] = []
      for (const { request, verified } of steps) {
        const decision = decideGate(toState(records), request, verified)
        if (decision.kind === 'append') records.push(decision.record)
      }
      return records
    }
    // A record changed by hand, and every record after it chained again: the chain is valid.
    const forged = (records: LedgerRecord[], at: number, edit: Partial<LedgerRecord>) => {
      const out: LedgerRecord[] = []
      for (const [i, r] of records.entries()) {
        const changed: LedgerRecord = { ...r, ...(i === at ? edit : {}) }
        if (i === at && edit.reason === undefined && 'reason' in edit) delete changed.reason
        const last = out.at(-1)
        out.push({ ...changed, prev: last === undefined ? GENESIS : recordHash(last) })
      }
      return out
    }
    fc.assert(
      fc.property(
        fc.array(requestArb, { minLength: 1, maxLength: 30 }),
        fc.nat(),
        fc.constantFrom<Partial<LedgerRecord>>(
          { action: 'deploy', reason: undefined },
          { action: 'rollback', reason: 'forged' },
          { reason: undefined },
          { digest: 'e'.repeat(64) },
          { seq: 99 },
          { version: 3 },
        ),
        (steps, pick, edit) => {
          const records = written(steps)
          expect(firstRecordNoGateWrites(records)).toBeUndefined()
          if (records.length === 0) return
          const at = pick % records.length
          // The records before the edit are as gates wrote them: nothing is found there.
          const found = firstRecordNoGateWrites(forged(records, at, edit))
          expect(found === undefined || found.index >= at).toBe(true)
          // Edits no gate could make are found at the record edited.
          const target = records[at]
          const never: Partial<LedgerRecord> =
            target?.action === 'deploy' ? { reason: 'forged' } : { reason: undefined }
          for (const wrong of [never, { seq: 99 }])
            expect(firstRecordNoGateWrites(forged(records, at, wrong))?.index).toBe(at)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('names what no gate writes: a superseded release deployed again, a rollback to what was never released or without a reason', () => {
    const a = 'a'.repeat(64)
    const b = 'b'.repeat(64)
    const first = recordOf(decideGate(toState([]), { ...deploy, digest: a }, true))
    const second = recordOf(decideGate(toState([first]), { ...deploy, digest: b }, true))
    const chained = (r: Omit<LedgerRecord, 'prev' | 'seq'>): LedgerRecord => ({
      ...r,
      seq: 3,
      prev: recordHash(second),
    })
    expect(firstRecordNoGateWrites([first, second])).toBeUndefined()
    expect(firstRecordNoGateWrites([first, second, chained({ ...second, digest: a })])).toEqual({
      index: 2,
      why: `${'a'.repeat(12)} was released to prod before and superseded; return to it with gate rollback and a reason`,
    })
    expect(
      firstRecordNoGateWrites([
        first,
        second,
        chained({ ...second, action: 'rollback', digest: 'c'.repeat(64), reason: 'r' }),
      ])?.why,
    ).toMatch(/was never released to prod/)
    expect(
      firstRecordNoGateWrites([
        first,
        second,
        chained({ ...second, action: 'rollback', digest: a }),
      ]),
    ).toEqual({ index: 2, why: 'a rollback without a reason' })
  })

  it('names a record whose time is set back further than the clocks of appending machines differ', () => {
    const start = Date.parse('2026-01-01T00:00:00.000Z')
    fc.assert(
      fc.property(
        // Each gate's clock: forward any amount, or back within the margin.
        fc.array(fc.integer({ min: -CLOCK_SKEW_MS, max: 10 * CLOCK_SKEW_MS }), {
          minLength: 2,
          maxLength: 12,
        }),
        fc.nat(),
        fc.integer({ min: 1, max: 30 * 86_400_000 }),
        (steps, pick, back) => {
          const records: LedgerRecord[] = []
          let clock = start
          let latest = start
          for (const [i, step] of steps.entries()) {
            // Back within the margin of the latest time written, never further.
            clock = Math.max(clock + step, latest - CLOCK_SKEW_MS)
            latest = Math.max(latest, clock)
            const at = new Date(clock).toISOString()
            const digest = i.toString(16).padStart(64, '0')
            records.push(recordOf(decideGate(toState(records), { ...deploy, digest, at }, true)))
          }
          expect(firstRecordNoGateWrites(records)).toBeUndefined()
          // One record (not the first) set back further than that, its successors chained again.
          const at = 1 + (pick % (records.length - 1))
          const before = Math.max(...records.slice(0, at).map((r) => Date.parse(r.at)))
          const out: LedgerRecord[] = []
          for (const [i, r] of records.entries()) {
            const moved =
              i === at ? { ...r, at: new Date(before - CLOCK_SKEW_MS - back).toISOString() } : r
            const last = out.at(-1)
            out.push({ ...moved, prev: last === undefined ? GENESIS : recordHash(last) })
          }
          const found = firstRecordNoGateWrites(out)
          expect(found?.index).toBe(at)
          expect(found?.why).toMatch(
            /^its time .* is more than 5 minutes before .*, the time of a record written before it$/,
          )
        },
      ),
    )
  })

  it('names the first record dated more than the skew after the reader’s clock', () => {
    const now = Date.parse('2026-06-01T00:00:00.000Z')
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -30 * 86_400_000, max: 2 * CLOCK_SKEW_MS }), { maxLength: 12 }),
        (offsets) => {
          const records = offsets.map(
            (o) => ({ at: new Date(now + o).toISOString() }) as LedgerRecord,
          )
          const expected = offsets.findIndex((o) => o > CLOCK_SKEW_MS)
          const found = firstRecordFromTheFuture(records, now)
          expect(found?.index ?? -1).toBe(expected)
          if (found !== undefined) expect(found.why).toMatch(/is more than 5 minutes after/)
        },
      ),
    )
  })

  it('names a record of the first form after one that keeps its policy and signer', () => {
    const evidence = {
      policy: {},
      signer: { kind: 'key' as const, hint: 'e'.repeat(64) },
    }
    const legacy = recordOf(decideGate(toState([]), { ...deploy, digest: 'a'.repeat(64) }, true))
    const kept = recordOf(
      decideGate(toState([legacy]), { ...deploy, digest: 'b'.repeat(64), evidence }, true),
    )
    // Upgraded gates: the first form, then the second. The other way about, never.
    expect(firstRecordNoGateWrites([legacy, kept])).toBeUndefined()
    const after = recordOf(
      decideGate(toState([legacy, kept]), { ...deploy, digest: 'c'.repeat(64) }, true),
    )
    expect(firstRecordNoGateWrites([legacy, kept, after])).toEqual({
      index: 2,
      why: 'one of the first form, without its policy and signer, after records that keep them',
    })
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
    // Without a version, once the environment has versions: the order is not stepped round.
    expect(decideGate(toState(records), { ...base, digest: 'b'.repeat(64) }, true)).toMatchObject({
      kind: 'reject',
      code: 'replay',
      why: expect.stringMatching(/up to 5/) as unknown,
    })
    expect(
      decideGate(toState(records), { ...base, digest: 'b'.repeat(64), version: 6 }, true).kind,
    ).toBe('append')
    // An environment without versions takes a deploy without one.
    const plain = decideGate(toState([]), { ...base, digest: 'a'.repeat(64) }, true)
    const plainRecords = plain.kind === 'append' ? [plain.record] : []
    expect(decideGate(toState(plainRecords), { ...base, digest: 'b'.repeat(64) }, true).kind).toBe(
      'append',
    )
  })

  const deploy = {
    kind: 'deploy' as const,
    env: 'prod',
    bundleDigest: 'f'.repeat(64),
    actor: 'ci',
    at: '2026-01-01T00:00:00.000Z',
  }
  const recordOf = (decision: ReturnType<typeof decideGate>): LedgerRecord => {
    if (decision.kind !== 'append') throw new Error(`not appended: ${JSON.stringify(decision)}`)
    return decision.record
  }

  it('writes the record a request asks for, with its evidence, version or reason', () => {
    const evidence = {
      policy: { builderId: 'https://builder.example' },
      signer: { kind: 'key' as const, hint: 'e'.repeat(64) },
    }
    const first = recordOf(
      decideGate(toState([]), { ...deploy, digest: 'a'.repeat(64), version: 3, evidence }, true),
    )
    expect(first).toStrictEqual({
      seq: 1,
      env: 'prod',
      action: 'deploy',
      digest: 'a'.repeat(64),
      bundleDigest: 'f'.repeat(64),
      prev: GENESIS,
      at: '2026-01-01T00:00:00.000Z',
      actor: 'ci',
      version: 3,
      format: 2,
      policy: evidence.policy,
      signer: evidence.signer,
    })
    const second = recordOf(
      decideGate(toState([first]), { ...deploy, digest: 'b'.repeat(64), version: 4 }, true),
    )
    expect(second).toStrictEqual({
      seq: 2,
      env: 'prod',
      action: 'deploy',
      digest: 'b'.repeat(64),
      bundleDigest: 'f'.repeat(64),
      prev: recordHash(first),
      at: '2026-01-01T00:00:00.000Z',
      actor: 'ci',
      version: 4,
    })
    const back = recordOf(
      decideGate(
        toState([first, second]),
        { ...deploy, kind: 'rollback', digest: 'a'.repeat(64), reason: 'broken' },
        true,
      ),
    )
    // Exactly these fields: none present and undefined, none from the deploy it returns to.
    expect(back).toStrictEqual({
      seq: 3,
      env: 'prod',
      action: 'rollback',
      digest: 'a'.repeat(64),
      bundleDigest: 'f'.repeat(64),
      prev: recordHash(second),
      at: '2026-01-01T00:00:00.000Z',
      actor: 'ci',
      reason: 'broken',
    })
  })

  it('says why it refuses or does nothing, naming the digest, environment and versions', () => {
    const a = 'a'.repeat(64)
    const b = 'b'.repeat(64)
    const first = recordOf(decideGate(toState([]), { ...deploy, digest: a, version: 5 }, true))
    const second = recordOf(
      decideGate(toState([first]), { ...deploy, digest: b, version: 6 }, true),
    )
    const state = toState([first, second])
    expect(decideGate(state, { ...deploy, digest: b }, false)).toEqual({
      kind: 'reject',
      code: 'not-verified',
      why: 'the attestation does not verify',
    })
    expect(decideGate(state, { ...deploy, digest: b }, true)).toEqual({
      kind: 'noop',
      why: `${'b'.repeat(12)} is already current in prod`,
    })
    // Current, but the request says it is below the minimum: a no, not "unchanged".
    expect(decideGate(state, { ...deploy, digest: b, version: 6, minVersion: 7 }, true)).toEqual({
      kind: 'reject',
      code: 'replay',
      why: 'version 6 is below the minimum 7',
    })
    // Current as the version the ledger recorded, whatever version the request claims.
    expect(decideGate(state, { ...deploy, digest: b, version: 9, minVersion: 7 }, true)).toEqual({
      kind: 'reject',
      code: 'replay',
      why: `${'b'.repeat(12)} is current in prod as version 6, below the minimum 7`,
    })
    expect(decideGate(state, { ...deploy, digest: b, version: 9, minVersion: 6 }, true)).toEqual({
      kind: 'noop',
      why: `${'b'.repeat(12)} is already current in prod`,
    })
    expect(decideGate(state, { ...deploy, digest: a, version: 9 }, true)).toEqual({
      kind: 'reject',
      code: 'downgrade',
      why: `${'a'.repeat(12)} was released to prod before and superseded; return to it with gate rollback and a reason`,
    })
    expect(
      decideGate(state, { ...deploy, kind: 'rollback', digest: 'c'.repeat(64), reason: 'r' }, true),
    ).toEqual({
      kind: 'reject',
      code: 'never-released',
      why: `${'c'.repeat(12)} was never released to prod; a rollback can only return to a past release`,
    })
    expect(
      decideGate(toState([]), { ...deploy, kind: 'rollback', digest: a, reason: 'r' }, true),
    ).toMatchObject({ kind: 'reject', code: 'never-released' })
    expect(decideGate(state, { ...deploy, digest: 'c'.repeat(64), minVersion: 1 }, true)).toEqual({
      kind: 'reject',
      code: 'replay',
      why: 'version (none) is below the minimum 1',
    })
    expect(
      decideGate(state, { ...deploy, digest: 'c'.repeat(64), version: 6, minVersion: 6 }, true),
    ).toEqual({
      kind: 'reject',
      code: 'replay',
      why: 'version 6 is not above 6, already released to prod',
    })
    expect(
      decideGate(state, { ...deploy, digest: 'c'.repeat(64), version: 7, minVersion: 7 }, true)
        .kind,
    ).toBe('append')
  })

  it('writes no record well before one the ledger holds, which gate check would call forged', () => {
    const first = recordOf(
      decideGate(
        toState([]),
        { ...deploy, digest: 'a'.repeat(64), at: '2026-01-01T01:00:00.000Z' },
        true,
      ),
    )
    const state = toState([first])
    expect(state.latestAt).toBe('2026-01-01T01:00:00.000Z')
    const at = (time: string) =>
      decideGate(state, { ...deploy, digest: 'b'.repeat(64), at: time }, true)
    // Within the margin for the clocks of the machines that append: written.
    expect(at('2026-01-01T00:55:00.000Z').kind).toBe('append')
    const behind = at('2026-01-01T00:54:59.999Z')
    expect(behind).toMatchObject({ kind: 'reject', code: 'clock-behind' })
    // What the gate writes, its own check passes.
    const next = recordOf(at('2026-01-01T00:55:00.000Z'))
    expect(firstRecordNoGateWrites([first, next])).toBeUndefined()
  })

  it('does not repeat the last rollback after another release: a retry of one whose outcome was unknown', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((x) => x.repeat(64)) as [string, string, string]
    let records: LedgerRecord[] = []
    const step = (request: GateRequest) => {
      const decision = decideGate(toState(records), request, true)
      if (decision.kind === 'append') records = [...records, decision.record]
      return decision
    }
    step({ ...deploy, digest: a })
    step({ ...deploy, digest: b })
    const back = { ...deploy, kind: 'rollback' as const, digest: a, reason: 'b is broken' }
    expect(step(back).kind).toBe('append')
    // Landed, then another gate released c: the same rollback again would undo c.
    step({ ...deploy, digest: c })
    expect(step(back)).toMatchObject({ kind: 'reject', code: 'repeated' })
    expect(records).toHaveLength(4)
    // A rollback that says why anew is a new request.
    expect(step({ ...back, reason: 'c is broken too' }).kind).toBe('append')
    // Another rollback in between (to c, by another operator): the first one's retry would
    // still undo it, so it is still a repeat; and so is the second's, after a deploy.
    const toC = { ...back, digest: c, reason: 'a is broken after all' }
    expect(step(toC).kind).toBe('append')
    expect(step(back)).toMatchObject({ kind: 'reject', code: 'repeated' })
    step({ ...deploy, digest: 'd'.repeat(64) })
    expect(step(toC)).toMatchObject({ kind: 'reject', code: 'repeated' })
    expect(records).toHaveLength(7)
  })

  it('refuses a new environment whose name differs only in case from one the ledger has', () => {
    const [a, b] = ['a', 'b'].map((x) => x.repeat(64)) as [string, string]
    let records: LedgerRecord[] = []
    const step = (request: GateRequest) => {
      const decision = decideGate(toState(records), request, true)
      if (decision.kind === 'append') records = [...records, decision.record]
      return decision
    }
    step({ ...deploy, env: 'prod', digest: a })
    step({ ...deploy, env: 'prod', digest: b })
    // a, superseded in prod, would be a first release of "Prod".
    for (const env of ['Prod', 'PROD'])
      expect(step({ ...deploy, env, digest: a })).toEqual({
        kind: 'reject',
        code: 'env-spelling',
        why: `${env} is no environment of this ledger, but prod is: names that differ in case only would be two environments; give the name as the ledger has it`,
      })
    expect(step({ ...deploy, env: 'prod-eu', digest: a }).kind).toBe('append')
    expect(records).toHaveLength(3)
  })

  it('remembers the highest version an environment reached, whatever the order', () => {
    const at = (seq: number, digest: string, version?: number): LedgerRecord => ({
      seq,
      env: 'prod',
      action: 'deploy',
      digest: digest.repeat(64),
      bundleDigest: 'f'.repeat(64),
      prev: GENESIS,
      at: 'x',
      actor: 'ci',
      ...(version === undefined ? {} : { version }),
    })
    const state = toState([at(1, 'a', 7), at(2, 'b', 3), at(3, 'c')])
    expect(state.envs.get('prod')).toEqual({
      seq: 3,
      current: 'c'.repeat(64),
      released: new Set(['a', 'b', 'c'].map((c) => c.repeat(64))),
      version: 7,
      versions: new Map([
        ['a'.repeat(64), 7],
        ['b'.repeat(64), 3],
      ]),
      rollbacks: new Set(),
    })
    expect(toState([at(1, 'a', 2), at(2, 'b', 5)]).envs.get('prod')?.version).toBe(5)
    expect(toState([at(1, 'a')]).envs.get('prod')?.version).toBeUndefined()
    expect(toState([]).head).toBe(GENESIS)
  })
})

describe('recordedSigner', () => {
  it('keeps the key hint, or the certificate identity and issuer, and nothing else', () => {
    expect(recordedSigner({ kind: 'key', hint: 'h', key: '/home/me/key.pem' })).toEqual({
      kind: 'key',
      hint: 'h',
    })
    expect(
      recordedSigner({
        kind: 'certificate',
        subjectAlternativeName: 'https://ci.example/wf',
        issuer: 'https://issuer.example',
        facts: {},
      }),
    ).toEqual({
      kind: 'certificate',
      subjectAlternativeName: 'https://ci.example/wf',
      issuer: 'https://issuer.example',
    })
  })
})
