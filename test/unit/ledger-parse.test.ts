import crypto from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { GENESIS, recordBytes, type LedgerRecord } from '../../src/gate/decide.js'
import { parseLedger } from '../../src/gate/ledger.js'

const sha256 = (text: string): string => crypto.createHash('sha256').update(text).digest('hex')

type Draft = Omit<LedgerRecord, 'prev'>

/** Random releases over two environments, numbered as a gate numbers them. */
const draftsArb: fc.Arbitrary<Draft[]> = fc
  .array(
    fc.record({
      env: fc.constantFrom('staging', 'prod'),
      digest: fc.constantFrom('a', 'b', 'c').map((c) => c.repeat(64)),
      actor: fc.string({ maxLength: 8 }),
    }),
    { minLength: 1, maxLength: 12 },
  )
  .map((steps) => {
    const seqs = new Map<string, number>()
    return steps.map(({ env, digest, actor }) => {
      const seq = (seqs.get(env) ?? 0) + 1
      seqs.set(env, seq)
      return {
        seq,
        env,
        action: 'deploy' as const,
        digest,
        bundleDigest: 'f'.repeat(64),
        at: '2026-01-01T00:00:00.000Z',
        actor,
      }
    })
  })

/**
 * The ledger's lines for these drafts, each linked to the hash of the line before as
 * written, so that a test can change one line's form or content and still hand the
 * parser an intact chain: only the check under test can then find the change.
 */
function linesOf(drafts: readonly Draft[], write = (r: LedgerRecord) => recordBytes(r)): string[] {
  const lines: string[] = []
  for (const draft of drafts) {
    const prev = lines.length === 0 ? GENESIS : sha256(lines[lines.length - 1] ?? '')
    lines.push(write({ ...draft, prev }))
  }
  return lines
}

const text = (lines: readonly string[]): string => lines.map((l) => `${l}\n`).join('')

describe('parseLedger', () => {
  it('reads back every valid chain it is given', () => {
    fc.assert(
      fc.property(draftsArb, (drafts) => {
        const records = parseLedger(text(linesOf(drafts)), 'l')
        expect(records.map(({ prev: _, ...r }) => r)).toEqual(drafts)
      }),
    )
  })

  it('refuses a sequence number that does not go up by one in its environment, on an intact chain', () => {
    fc.assert(
      fc.property(
        draftsArb,
        fc.nat(),
        fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0),
        (drafts, pick, delta) => {
          const at = pick % drafts.length
          const changed = drafts.map((d, i) =>
            i === at ? { ...d, seq: Math.max(1, d.seq + delta) } : d,
          )
          fc.pre(changed[at]?.seq !== drafts[at]?.seq)
          const first = drafts[at]
          expect(() => parseLedger(text(linesOf(changed)), 'l')).toThrow(
            new RegExp(
              `^l:${at + 1}: sequence \\d+ in ${first?.env ?? ''}, expected ${first?.seq ?? 0}`,
            ),
          )
        },
      ),
    )
  })

  it('refuses a record that is not in canonical form, on an intact chain', () => {
    // The same record, keys in another order or spaced: valid JSON, same values.
    const forms = [
      (r: LedgerRecord) => JSON.stringify(r),
      (r: LedgerRecord) => recordBytes(r).replace(/,"/g, ', "'),
      (r: LedgerRecord) => `${recordBytes(r)} `,
      (r: LedgerRecord) => recordBytes(r).replace('"seq":', '"seq": '),
    ]
    fc.assert(
      fc.property(draftsArb, fc.nat(), fc.constantFrom(...forms), (drafts, pick, form) => {
        const at = pick % drafts.length
        let i = -1
        const lines = linesOf(drafts, (r) => (++i === at ? form(r) : recordBytes(r)))
        fc.pre(lines[at] !== recordBytes(JSON.parse(lines[at] ?? '') as LedgerRecord))
        expect(() => parseLedger(text(lines), 'l')).toThrow(`l:${at + 1}: not in canonical form`)
      }),
    )
  })

  it('refuses a ledger cut anywhere but at the end of a line, naming the last line', () => {
    fc.assert(
      fc.property(draftsArb, fc.nat(), (drafts, pick) => {
        const whole = text(linesOf(drafts))
        const cut = whole.slice(0, pick % whole.length)
        const complete = cut === '' || cut.endsWith('\n')
        if (complete) {
          expect(parseLedger(cut, 'l')).toHaveLength(cut.split('\n').length - 1)
        } else {
          expect(() => parseLedger(cut, 'l')).toThrow(
            `l:${cut.split('\n').length}: the last line ends without a newline`,
          )
        }
      }),
    )
  })

  it('does not let a stripped final newline drop the last release', () => {
    const whole = text(
      linesOf([
        {
          seq: 1,
          env: 'prod',
          action: 'deploy',
          digest: 'a'.repeat(64),
          bundleDigest: 'f'.repeat(64),
          at: 'x',
          actor: 'ci',
        },
        {
          seq: 2,
          env: 'prod',
          action: 'deploy',
          digest: 'b'.repeat(64),
          bundleDigest: 'f'.repeat(64),
          at: 'x',
          actor: 'ci',
        },
      ]),
    )
    expect(parseLedger(whole, 'l')).toHaveLength(2)
    expect(() => parseLedger(whole.slice(0, -1), 'l')).toThrow(
      /^l:2: the last line ends without a newline/,
    )
  })
})
