import crypto from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { GENESIS, recordBytes, type LedgerRecord } from '../../../src/gate/decide.js'
import { ledgerText, parseLedger } from '../../../src/gate/ledger.js'

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

describe('a ledger record', () => {
  const valid: LedgerRecord = {
    seq: 1,
    env: 'prod',
    action: 'deploy',
    digest: 'a'.repeat(64),
    bundleDigest: 'f'.repeat(64),
    prev: GENESIS,
    at: '2026-01-01T00:00:00.000Z',
    actor: 'ci',
  }
  const evidence = {
    format: 2,
    policy: { builderId: 'b', requireReproduced: true, maxAgeMs: 0 },
    signer: { kind: 'key', hint: 'h' },
  }
  /** One record, in canonical form and first in its chain: only its fields can be wrong. */
  const parseOne = (fields: Record<string, unknown>): LedgerRecord[] =>
    parseLedger(`${recordBytes({ ...valid, ...fields })}\n`, 'l')

  it('is read with every field a record may have', () => {
    for (const fields of [
      {},
      { env: 'A.b_c-9' },
      { env: `e${'x'.repeat(63)}` },
      { action: 'rollback', reason: 'broken' },
      { version: 0 },
      { version: 12 },
      evidence,
      { ...evidence, signer: { kind: 'certificate', subjectAlternativeName: 's', issuer: 'i' } },
      {
        ...evidence,
        policy: {
          predicateType: 'p',
          builderId: 'b',
          buildType: 't',
          sourceUri: 'u',
          repo: 'o/r',
          owner: 'o',
          sourceRef: 'refs/heads/main',
          sourceRefRegexp: '.*',
          sourceDigest: 'd',
          signerWorkflow: 'w',
          signerRepo: 'o/r',
          signerDigest: 'd',
          denySelfHostedRunners: false,
          requireReproduced: true,
          maxAgeMs: 86400000,
        },
      },
    ])
      expect(parseOne(fields), JSON.stringify(fields)).toEqual([{ ...valid, ...fields }])
  })

  it('is refused, naming the field, when a field is missing, of another kind or out of range', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ seq: 0 }, 'seq'],
      [{ seq: 1.5 }, 'seq'],
      [{ seq: '1' }, 'seq'],
      [{ env: '' }, 'env'],
      [{ env: '-prod' }, 'env'],
      [{ env: 'pro/d' }, 'env'],
      [{ env: 'prod\n' }, 'env'],
      [{ env: `e${'x'.repeat(64)}` }, 'env'],
      [{ action: 'promote' }, 'action'],
      [{ digest: 'A'.repeat(64) }, 'digest'],
      [{ digest: 'a'.repeat(63) }, 'digest'],
      [{ digest: 'a'.repeat(65) }, 'digest'],
      [{ digest: `x${'a'.repeat(64)}` }, 'digest'],
      [{ bundleDigest: 'g'.repeat(64) }, 'bundleDigest'],
      [{ prev: '' }, 'prev'],
      [{ at: 1 }, 'at'],
      [{ actor: undefined }, 'actor'],
      [{ reason: 1 }, 'reason'],
      [{ version: -1 }, 'version'],
      [{ version: 1.5 }, 'version'],
      [{ format: 1 }, 'format'],
      [{ extra: true }, 'extra'],
      [{ ...evidence, policy: { builderId: 1 } }, 'policy.builderId'],
      [{ ...evidence, policy: { repo: true } }, 'policy.repo'],
      [{ ...evidence, policy: { requireReproduced: 'yes' } }, 'policy.requireReproduced'],
      [{ ...evidence, policy: { denySelfHostedRunners: 1 } }, 'policy.denySelfHostedRunners'],
      [{ ...evidence, policy: { maxAgeMs: -1 } }, 'policy.maxAgeMs'],
      [{ ...evidence, policy: { maxAgeMs: 0.5 } }, 'policy.maxAgeMs'],
      [{ ...evidence, policy: { maxAgeMs: '1' } }, 'policy.maxAgeMs'],
      [{ ...evidence, policy: { keyFile: 'k.pem' } }, 'policy.keyFile'],
      [{ ...evidence, signer: { kind: 'key' } }, 'signer.hint'],
      [{ ...evidence, signer: { kind: 'key', hint: 'h', key: 'k.pem' } }, 'signer.key'],
      [
        { ...evidence, signer: { kind: 'certificate', subjectAlternativeName: 's' } },
        'signer.issuer',
      ],
      [{ ...evidence, signer: { kind: 'email', hint: 'h' } }, 'signer.kind'],
    ]
    for (const [fields, where] of cases)
      expect(() => parseOne(fields), JSON.stringify(fields)).toThrow(
        new RegExp(
          `^l:1: not a ledger record \\(.* at ${where.replace('.', '\\.')}\\); the gate stops until a person has looked \\(reproof gate check\\)$`,
          's',
        ),
      )
    expect(() => parseLedger('1\n', 'l')).toThrow(/^l:1: not a ledger record \(.* at the top\)/)
  })

  it('carries policy and signer exactly when it is of format 2', () => {
    for (const fields of [
      { policy: evidence.policy, signer: evidence.signer },
      { format: 2 },
      { format: 2, policy: evidence.policy },
      { format: 2, signer: evidence.signer },
    ])
      expect(() => parseOne(fields), JSON.stringify(fields)).toThrow(
        'l:1: format 2 records, and only they, carry both policy and signer',
      )
  })

  it('is refused when it is not JSON, or longer than any record is', () => {
    expect(() => parseLedger('{"seq":\n', 'l')).toThrow(/^l:1: not JSON;/)
    // A valid record of exactly 64 KiB is read; one byte more is not looked at.
    const line = (size: number): string => {
      const base = recordBytes({ ...valid, actor: '' })
      return recordBytes({ ...valid, actor: 'x'.repeat(size - Buffer.byteLength(base)) })
    }
    expect(Buffer.byteLength(line(64 * 1024))).toBe(64 * 1024)
    expect(parseLedger(`${line(64 * 1024)}\n`, 'l')).toHaveLength(1)
    expect(() => parseLedger(`${line(64 * 1024 + 1)}\n`, 'l')).toThrow(
      /^l:1: line too long to be a record;/,
    )
  })

  it('is refused when its prev is not the hash of the line before, naming both', () => {
    const first = recordBytes(valid)
    const second = recordBytes({ ...valid, seq: 2, prev: 'e'.repeat(64) })
    expect(() => parseLedger(`${first}\n${second}\n`, 'l')).toThrow(
      `l:2: its prev ${'e'.repeat(12)} is not the hash of the record before (${sha256(first).slice(0, 12)}): the chain is broken`,
    )
    expect(() => parseOne({ prev: 'e'.repeat(64) })).toThrow(
      `l:1: its prev ${'e'.repeat(12)} is not the hash of the record before (${'0'.repeat(12)})`,
    )
  })

  it('continues a chain verified up to a line, numbering lines from there', () => {
    const first = recordBytes(valid)
    const second = recordBytes({ ...valid, seq: 2, prev: sha256(first) })
    const from = { head: sha256(first), seqs: new Map([['prod', 1]]), line: 8 }
    expect(parseLedger(`${second}\n`, 'l', from)).toEqual([JSON.parse(second)])
    expect(from.seqs.get('prod')).toBe(1)
    expect(() => parseLedger(`${first}\n`, 'l', from)).toThrow(/^l:8: its prev 000000000000/)
    expect(() => parseLedger(`${second}\n{\n`, 'l', from)).toThrow(/^l:9: not JSON/)
    expect(parseLedger('', 'l', from)).toEqual([])
  })

  it('is refused with E_LEDGER, naming the file', () => {
    try {
      parseLedger('x\n', 'ledger.jsonl')
      expect.unreachable()
    } catch (err) {
      expect(err).toMatchObject({ code: 'E_LEDGER', context: { path: 'ledger.jsonl' } })
    }
  })
})

describe('ledgerText', () => {
  it('reads UTF-8 as it is, and names the first line that is not', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 12 }), { maxLength: 8 }),
        fc.nat(),
        fc.constantFrom([0xff], [0xc3], [0xed, 0xa0, 0x80], [0xe2, 0x82]),
        (lines, at, bad) => {
          const text = lines.map((l) => `${l.replaceAll('\n', ' ')}\n`).join('')
          // Valid text comes back the same, a byte-order mark included.
          expect(ledgerText(Buffer.from(`\uFEFF${text}`), 'l')).toBe(`\uFEFF${text}`)
          if (lines.length === 0) return
          const line = at % lines.length
          const bytes = Buffer.concat(
            lines.map((l, i) =>
              Buffer.concat([
                Buffer.from(l.replaceAll('\n', ' ')),
                Buffer.from(i === line ? bad : []),
                Buffer.from('\n'),
              ]),
            ),
          )
          expect(() => ledgerText(bytes, 'l', 5)).toThrow(
            `l:${String(line + 5)}: not UTF-8 text, which no gate writes`,
          )
        },
      ),
    )
  })
})
