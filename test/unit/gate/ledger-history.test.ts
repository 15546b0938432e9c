import { execFileSync } from 'node:child_process'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { firstRewrite, gitBlobId, type LedgerCommit } from '../../../src/gate/ledger-history.js'
import { makeTemp, cleanupTemp } from '../../helpers.js'

afterEach(cleanupTemp)

const SHA1_LIKE = '0'.repeat(40)
const line = fc.stringMatching(/^[a-z0-9{}":,]{1,12}$/).map((s) => `${s}\n`)

/** What one commit does to the ledger: append lines, or one of the ways to rewrite it. */
type Step =
  | { kind: 'append'; lines: string[] }
  | { kind: 'cut'; at: number }
  | { kind: 'edit'; at: number }
  | { kind: 'strip-newline' }
  | { kind: 'remove' }
  | { kind: 'touch-else' }

const appendArb = fc.record({
  kind: fc.constant('append' as const),
  lines: fc.array(line, { minLength: 1, maxLength: 3 }),
})
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: appendArb },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('edit' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'strip-newline' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'remove' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'touch-else' as const }) },
)

function apply(text: string | undefined, step: Step): string | undefined {
  const t = text ?? ''
  switch (step.kind) {
    case 'append':
      return t + step.lines.join('')
    case 'cut':
      return t.slice(0, step.at % (t.length + 1))
    case 'edit': {
      if (t === '') return 'x'
      const at = step.at % t.length
      return `${t.slice(0, at)}${t[at] === 'q' ? 'r' : 'q'}${t.slice(at + 1)}`
    }
    case 'strip-newline':
      return t.endsWith('\n') ? t.slice(0, -1) : t
    case 'remove':
      return undefined
    case 'touch-else':
      return text
  }
}

const toCommits = (texts: (string | undefined)[]): LedgerCommit[] =>
  texts.map((text, i) => ({
    id: `c${i}`,
    parents: i === 0 ? [] : [`c${i - 1}`],
    ledger:
      text === undefined
        ? undefined
        : { blob: gitBlobId(Buffer.from(text), SHA1_LIKE), size: Buffer.byteLength(text) },
  }))

/** The definition, commit by commit: each ledger is its parent's plus whole lines. */
function reference(before: string, texts: (string | undefined)[], from: number): number {
  let prev = before
  for (let i = from; i < texts.length; i++) {
    const next = texts[i] ?? ''
    if (!next.startsWith(prev) || (next !== '' && !next.endsWith('\n'))) return i
    prev = next
  }
  return -1
}

/** A history: some releases already verified (the checkpoint), then new commits. */
const historyArb = fc.record({
  verified: fc.array(appendArb, { maxLength: 5 }),
  fresh: fc.array(stepArb, { minLength: 1, maxLength: 10 }),
  checkpoint: fc.boolean(),
})

describe('firstRewrite', () => {
  it('names the first commit that did more than append whole lines, and only such', () => {
    fc.assert(
      fc.property(historyArb, ({ verified, fresh, checkpoint }) => {
        const texts: (string | undefined)[] = []
        for (const step of [...verified, ...fresh]) texts.push(apply(texts.at(-1), step))
        const all = toCommits(texts)
        const split = checkpoint && verified.length > 0 ? verified.length : 0
        const base = split === 0 ? undefined : all[split - 1]
        const blobs = new Map(texts.map((t) => [gitBlobId(Buffer.from(t ?? ''), SHA1_LIKE), t]))
        const problem = firstRewrite(
          base,
          all.slice(split),
          Buffer.from(texts.at(-1) ?? ''),
          (blob) => Buffer.from(blobs.get(blob) ?? ''),
        )
        const want = reference(split === 0 ? '' : (texts[split - 1] ?? ''), texts, split)
        expect(problem?.commit).toBe(want === -1 ? undefined : `c${want}`)
      }),
      { numRuns: 500 },
    )
  })

  it('reads no ledger but the tip when every commit only appended', () => {
    fc.assert(
      fc.property(fc.array(appendArb, { minLength: 1, maxLength: 20 }), (steps) => {
        const texts: string[] = []
        for (const step of steps) texts.push(apply(texts.at(-1), step) ?? '')
        const problem = firstRewrite(
          undefined,
          toCommits(texts),
          Buffer.from(texts.at(-1) ?? ''),
          () => {
            throw new Error('read a blob')
          },
        )
        expect(problem).toBeUndefined()
      }),
    )
  })

  it('refuses merges, a second first commit and a commit out of line', () => {
    const [a, b] = toCommits(['x\n', 'x\ny\n'])
    if (a === undefined || b === undefined) throw new Error('unreachable')
    const tip = Buffer.from('x\ny\n')
    const none = (): Uint8Array => Buffer.alloc(0)
    expect(firstRewrite(undefined, [a, { ...b, parents: ['c0', 'z'] }], tip, none)?.why).toMatch(
      /merge commit/,
    )
    expect(firstRewrite(a, [{ ...b, parents: [] }], tip, none)?.why).toMatch(/second first commit/)
    expect(firstRewrite(a, [{ ...b, parents: ['z'] }], tip, none)?.why).toMatch(
      /its parent is not c0/,
    )
  })

  it('computes the object ids git computes, SHA-1 or SHA-256 by the ids it is given', () => {
    const sha256Repo = makeTemp()
    execFileSync('git', ['init', '-q', '--object-format=sha256', sha256Repo])
    for (const text of ['', 'a\n', '{"seq":1}\n'.repeat(100)]) {
      const id = execFileSync('git', ['hash-object', '--stdin'], { input: text }).toString().trim()
      expect(id).toHaveLength(40)
      expect(gitBlobId(Buffer.from(text), id)).toBe(id)
      const id256 = execFileSync('git', ['-C', sha256Repo, 'hash-object', '--stdin'], {
        input: text,
      })
        .toString()
        .trim()
      expect(id256).toHaveLength(64)
      expect(gitBlobId(Buffer.from(text), id256)).toBe(id256)
    }
  })

  it("names each way a commit rewrote its parent's ledger", () => {
    const history = (texts: (string | undefined)[]) => {
      const commits = toCommits(texts)
      const blobs = new Map(texts.map((t) => [gitBlobId(Buffer.from(t ?? ''), SHA1_LIKE), t]))
      return firstRewrite(undefined, commits, Buffer.from(texts.at(-1) ?? ''), (blob) =>
        Buffer.from(blobs.get(blob) ?? ''),
      )
    }
    expect(history(['a\n', undefined, 'a\n'])).toEqual({
      commit: 'c1',
      why: 'it removes ledger.jsonl',
    })
    expect(history(['a\n', 'a\nb', 'a\nb\n'])).toEqual({
      commit: 'c1',
      why: 'its ledger.jsonl ends without a newline: its last line was cut or edited',
    })
    const changed = {
      why: "its ledger.jsonl does not start with its parent's: records were removed or changed",
    }
    expect(history(['a\nb\n', 'a\n', 'a\nb\n'])).toEqual({ commit: 'c1', ...changed })
    expect(history(['a\nb\n', 'a\nc\n', 'a\nb\n'])).toEqual({ commit: 'c1', ...changed })
    expect(history(['ab\n', 'a\nb\n', 'a\nb\n'])).toEqual({ commit: 'c1', ...changed })
    // An empty ledger may be removed; a ledger may start empty. Checked commit by commit
    // too, before a later rewrite.
    expect(history(['', undefined, 'a\n'])).toBeUndefined()
    expect(history([undefined, '', 'a\n'])).toBeUndefined()
    expect(history(['', undefined, 'a\n', 'b\n'])).toEqual({ commit: 'c3', ...changed })
    expect(history([undefined, '', 'a\n', 'b\n'])).toEqual({ commit: 'c3', ...changed })
  })

  it('names the tip when the ledger read there is not the one its commit holds', () => {
    const texts = ['a\n', 'a\n', 'a\nb\n']
    const commits = toCommits(texts)
    const blobs = new Map(commits.map((c, i) => [c.ledger?.blob, texts[i]]))
    const read = (blob: string): Uint8Array => Buffer.from(blobs.get(blob) ?? '')
    const notRead = { why: 'its ledger.jsonl is not the one read at the tip' }
    for (const tip of ['a\nc\n', 'a\nb\nc\n', 'a\n'])
      expect(firstRewrite(undefined, commits, Buffer.from(tip), read), tip).toEqual({
        commit: 'c2',
        ...notRead,
      })
    expect(firstRewrite(commits[2], [], Buffer.from('a\nc\n'), read)).toEqual({
      commit: 'c2',
      ...notRead,
    })
    expect(firstRewrite(commits[2], [], Buffer.from('a\nb\n'), read)).toBeUndefined()
    // No commit and no base: an empty branch, whose tip holds nothing to compare.
    expect(firstRewrite(undefined, [], Buffer.from('a\n'), read)).toBeUndefined()
  })
})
