import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { VARIATIONS, type VariationName } from '../../../src/config/variations.js'
import {
  attribute,
  MAX_EXPLAIN_PAIRS,
  pairsWithin,
  withTimeEvidence,
  type Culprit,
} from '../../../src/twin/attribute.js'
import type { Cause, DiffItem, Hint } from '../../../src/diff/report.js'

const VARIED = VARIATIONS.filter((v) => v !== 'path')
const isVaried = (c: string): c is VariationName => (VARIED as readonly string[]).includes(c)

/**
 * What truly makes an artifact differ: the path (or nothing), one variation, two
 * together, either of two alone (a date from the clock and from a file's time), one
 * alone or two others together; what the first build varied beside the variations
 * searched (run B's later start, its process ids), which no further pair reproduces; or
 * chance, differing in the pairs a pattern picks whatever they vary.
 */
type Truth =
  | { kind: 'path' }
  | { kind: 'one'; v: VariationName }
  | { kind: 'two'; v: VariationName; w: VariationName }
  | { kind: 'either'; v: VariationName; w: VariationName }
  | { kind: 'oneOrTwo'; v: VariationName; w: VariationName; x: VariationName }
  | { kind: 'hidden' }
  | { kind: 'chance'; pattern: readonly boolean[] }

const some = (varied: readonly VariationName[], n: number) =>
  fc.shuffledSubarray([...varied], { minLength: n, maxLength: n })

const truthArb = (varied: readonly VariationName[]): fc.Arbitrary<Truth> =>
  fc.oneof(
    fc.constant<Truth>({ kind: 'path' }),
    fc.constantFrom(...varied).map((v): Truth => ({ kind: 'one', v })),
    some(varied, 2).map(([v, w]): Truth => ({ kind: 'two', v: v ?? 'time', w: w ?? 'time' })),
    some(varied, 2).map(([v, w]): Truth => ({ kind: 'either', v: v ?? 'time', w: w ?? 'time' })),
    fc.constant<Truth>({ kind: 'hidden' }),
    fc
      .array(fc.boolean(), { minLength: 1, maxLength: 16 })
      .map((pattern): Truth => ({ kind: 'chance', pattern })),
    // One alone, or two others together (umask; or the year and a listing's order).
    ...(varied.length < 3
      ? []
      : [
          some(varied, 3).map(([v, w, x]): Truth => ({
            kind: 'oneOrTwo',
            v: v ?? 'time',
            w: w ?? 'time',
            x: x ?? 'time',
          })),
        ]),
  )

/** A build whose artifacts differ exactly as their truths say, under the variations given. */
function oracle(truths: ReadonlyMap<string, Truth>) {
  let calls = 0
  const differs = (t: Truth, on: ReadonlySet<VariationName>): boolean => {
    switch (t.kind) {
      case 'path':
        return true
      case 'one':
        return on.has(t.v)
      case 'two':
        return on.has(t.v) && on.has(t.w)
      case 'either':
        return on.has(t.v) || on.has(t.w)
      case 'oneOrTwo':
        return on.has(t.v) || (on.has(t.w) && on.has(t.x))
      case 'hidden':
        return false
      case 'chance':
        return t.pattern[(calls - 1) % t.pattern.length] ?? false
    }
  }
  const test = (vs: readonly VariationName[]): Promise<ReadonlySet<string>> => {
    calls++
    const on = new Set(vs)
    return Promise.resolve(new Set([...truths].filter(([, t]) => differs(t, on)).map(([a]) => a)))
  }
  return { test, calls: () => calls }
}

const scenario = fc
  .uniqueArray(fc.constantFrom(...VARIED), { minLength: 2, maxLength: VARIED.length })
  .chain((varied) =>
    fc.record({
      varied: fc.constant(varied),
      truths: fc.array(truthArb(varied), { minLength: 1, maxLength: 4 }),
      maxPairs: fc.integer({ min: 1, max: 30 }),
    }),
  )

describe('attribute', () => {
  it('names the one variation that causes a difference, the path, or several together, and never a wrong one', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ varied, truths, maxPairs }) => {
        const byArtifact = new Map(truths.map((t, i) => [`art${i}`, t]))
        const { test, calls } = oracle(byArtifact)
        const found = await attribute([...byArtifact.keys()], varied, test, maxPairs)
        expect(calls()).toBeLessThanOrEqual(maxPairs)
        expect(found.pairs).toHaveLength(calls())
        expect(found.pairs[0]?.variations).toEqual([])
        const controls = found.pairs.filter((p) => p.variations.length === 0)
        for (const { artifact, cause, also } of found.culprits) {
          const truth = byArtifact.get(artifact)
          // Evidence for every variation named: a pair that varied it differed, and no
          // control pair did. So chance can mislead it only as far as the pairs it built
          // did, and never without a pair behind the name.
          for (const v of [cause, ...(also ?? [])].filter(isVaried)) {
            expect(
              found.pairs.some((p) => p.variations.includes(v) && p.differing.includes(artifact)),
            ).toBe(true)
            expect(controls.some((p) => p.differing.includes(artifact))).toBe(false)
          }
          if (cause === 'unknown') continue
          if (truth?.kind === 'hidden') expect(cause).toBe('unstable')
          // One variation alone reproduces it: never `together`, whatever else does.
          if (truth?.kind === 'oneOrTwo') expect(cause).toBe(truth.v)
          if (truth?.kind === 'path') expect(cause).toBe('path')
          if (truth?.kind === 'one') expect([cause, also]).toEqual([truth.v, undefined])
          if (truth?.kind === 'two') expect(cause).toBe('together')
          // Either alone: both named, whichever was found first, once the search got to both.
          if (truth?.kind === 'either') {
            const named = [cause, ...(also ?? [])]
            expect(named.every((n) => n === truth.v || n === truth.w)).toBe(true)
            if (maxPairs >= 2 * varied.length + 1)
              expect(named.sort()).toEqual([truth.v, truth.w].sort())
          }
        }
        // With pairs enough for the halving, nothing is left unknown.
        if (maxPairs >= 2 * varied.length + 1)
          expect(
            found.culprits.filter(
              (c) => c.cause === 'unknown' && byArtifact.get(c.artifact)?.kind !== 'chance',
            ),
          ).toEqual([])
        // A variation named was confirmed by a second control pair, the last one built;
        // so was the path, when pairs were left for it: every control pair differed.
        if (found.culprits.some((c) => isVaried(c.cause)))
          expect(found.pairs.at(-1)?.variations).toEqual([])
        for (const { artifact } of found.culprits.filter((c) => c.cause === 'path')) {
          expect(controls.every((p) => p.differing.includes(artifact))).toBe(true)
          if (maxPairs >= 2) expect(controls.length).toBeGreaterThanOrEqual(2)
        }
      }),
    )
  })

  it('names no variation it did not build a pair with: one left varied is tested before it is named', async () => {
    // The first build differed for a reason no variation searched has (run B's later
    // start); with one variation left to search, it used to be named untested.
    const found = await attribute(
      ['out.txt'],
      ['ordering'],
      () => Promise.resolve(new Set<string>()),
      12,
    )
    expect(found.culprits).toEqual([{ artifact: 'out.txt', cause: 'unstable' }])
    expect(found.pairs.map((p) => p.variations)).toEqual([[], ['ordering']])
  })

  it('says no `together` of a difference whose search ran out of pairs before every half was tried', async () => {
    // cpus alone reproduces it, and so do domain and home together: the first half's
    // search finds it under neither quarter, and the pairs run out before cpus is tried.
    const truths = new Map<string, Truth>([
      ['art0', { kind: 'oneOrTwo', v: 'cpus', w: 'domain', x: 'home' }],
    ])
    const varied: VariationName[] = [
      'env',
      'home',
      'domain',
      'ordering',
      'tz',
      'user',
      'exec-path',
      'cpus',
    ]
    const found = await attribute(['art0'], varied, oracle(truths).test, 7)
    expect(found.culprits).toEqual([{ artifact: 'art0', cause: 'unknown' }])
    const more = await attribute(['art0'], varied, oracle(truths).test, 20)
    expect(more.culprits).toEqual([{ artifact: 'art0', cause: 'cpus' }])
  })

  it('follows an artifact whose name each pair makes anew (a hash of the path, a canary)', async () => {
    // Every pair builds under a new root and canary: a name made from them is new each
    // time, and the difference, which comes every time, was called unstable.
    let pair = 0
    const hostname = (variations: readonly VariationName[]) => {
      pair++
      const tag = `${pair}a${pair}b${pair}c9`
      return Promise.resolve(
        new Set(
          variations.includes('hostname')
            ? ['logs/build-host.log', `logs/build-reproof-canary${tag}.log`]
            : [],
        ),
      )
    }
    const found = await attribute(
      ['logs/build-host.log', 'logs/build-reproof-canary0a0b0c9.log'],
      ['hostname', 'ordering'],
      hostname,
      12,
    )
    expect(found.culprits).toEqual([
      { artifact: 'logs/build-host.log', cause: 'hostname' },
      { artifact: 'logs/build-reproof-canary0a0b0c9.log', cause: 'hostname' },
    ])
    let again = 0
    const byPath = () => {
      again++
      return Promise.resolve(new Set([`out/cache-${again}f${again}e${again}d.bin`]))
    }
    const path = await attribute(['out/cache-afd33109.bin'], ['ordering'], byPath, 12)
    expect(path.culprits).toEqual([{ artifact: 'out/cache-afd33109.bin', cause: 'path' }])
  })

  it('names what differed with nothing varied in a further pair though identical in the first', async () => {
    const found = await attribute(
      ['o-time.txt'],
      ['time'],
      (variations) =>
        Promise.resolve(new Set(variations.includes('time') ? ['o-time.txt'] : ['o-rand.txt'])),
      12,
    )
    expect(found.culprits).toEqual([{ artifact: 'o-time.txt', cause: 'time' }])
    expect(found.unstableElsewhere).toEqual(['o-rand.txt'])
    const steady = await attribute(
      ['o-time.txt'],
      ['time'],
      (variations) => Promise.resolve(new Set(variations.includes('time') ? ['o-time.txt'] : [])),
      12,
    )
    expect(steady.unstableElsewhere).toBeUndefined()
  })

  it('calls a difference the first control pair showed and the second did not unstable, not the path', async () => {
    // Two parallel runs that read the clock as the second turned: the first control pair
    // differed by chance, and naming the path would send the reader after the wrong thing.
    let pair = 0
    const straddled = () => Promise.resolve(new Set(++pair === 1 ? ['out.txt'] : []))
    const found = await attribute(['out.txt'], ['file-times', 'ordering'], straddled, 12)
    expect(found.culprits).toEqual([{ artifact: 'out.txt', cause: 'unstable' }])
    expect(found.pairs).toEqual([
      { variations: [], differing: ['out.txt'] },
      { variations: [], differing: [] },
    ])
  })

  it('calls a difference that did not come again, with nothing but the path varied, unstable', async () => {
    const found = await attribute(['x'], [], () => Promise.resolve(new Set<string>()), 5)
    expect(found.culprits).toEqual([{ artifact: 'x', cause: 'unstable' }])
    expect(found.pairs).toEqual([{ variations: [], differing: [] }])
  })

  it("builds as many further pairs as fit in one --timeout at the first pair's pace, and a bounded number without one", () => {
    expect(pairsWithin(undefined, 10_000)).toEqual({ maxPairs: MAX_EXPLAIN_PAIRS })
    fc.assert(
      fc.property(fc.nat({ max: 10_000_000 }), fc.nat({ max: 1_000_000 }), (timeout, pair) => {
        const budget = pairsWithin(timeout, pair)
        const n = 'maxPairs' in budget ? budget.maxPairs : 0
        // None fits: the search is skipped, and says why.
        if (n === 0)
          expect(budget).toEqual({ skipped: expect.stringContaining('--timeout') as unknown })
        expect(n).toBeLessThanOrEqual(MAX_EXPLAIN_PAIRS)
        expect(n * Math.max(1, pair)).toBeLessThanOrEqual(timeout)
        if (n < MAX_EXPLAIN_PAIRS) expect((n + 1) * Math.max(1, pair)).toBeGreaterThan(timeout)
      }),
    )
  })
})

describe('withTimeEvidence', () => {
  const hint = (cause: Cause): Hint => ({ cause, evidence: '', fix: '' })
  // A text difference, with the hints its lines got.
  const text = (path: string, ...causes: Cause[]): DiffItem => ({
    kind: 'content',
    path,
    text: { unified: '', truncated: false },
    hints: causes.map(hint),
  })
  const fields = (path: string, ...names: string[]): DiffItem => ({
    kind: 'metadata',
    path,
    fields: names.map((field) => ({ field, a: '1', b: '2' })),
    hints: [hint('timestamp')],
  })
  const path = (artifact: string): Culprit => ({ artifact, cause: 'path' })

  it('names the clock for a path-only difference whose every difference is a time', () => {
    // A jar written as the build goes: its entry times differ by the lag between the runs.
    const items: DiffItem[] = [
      { kind: 'content', path: 'out/app.jar', nested: true, hints: [] },
      fields('out/app.jar!a.class', 'mtime'),
      text('out/app.jar!META-INF/MANIFEST.MF', 'timestamp'),
      text('out/app.jar!SHA256SUMS', 'derived'),
      text('out/lib.so', 'build-path'),
      text('out/notes.txt', 'timestamp', 'unexplained'),
      text('out/seed.txt'),
      // A time word in a binary says nothing of its other bytes.
      {
        kind: 'content',
        path: 'out/app.bin',
        binary: { offset: 0, differingBytes: 9, hex: ['', ''] },
        hints: [hint('timestamp')],
      },
      // An mtime beside a link target that changed: hints are one per cause.
      fields('out/t.tar!l', 'mtime', 'linkname'),
    ]
    const culprits = ['out/app.jar', 'out/lib.so', 'out/notes.txt', 'out/seed.txt', 'out/none']
    expect(
      withTimeEvidence([...culprits, 'out/app.bin', 'out/t.tar'].map(path), items).map(
        (c) => c.cause,
      ),
    ).toEqual(['clock', 'path', 'path', 'path', 'path', 'path', 'path'])
  })

  it('changes only path culprits, and a derived checksum alone is no time', () => {
    const items = [text('a', 'timestamp'), text('b', 'derived')]
    expect(
      withTimeEvidence(
        [
          { artifact: 'a', cause: 'time' },
          { artifact: 'a', cause: 'unstable' },
          path('b'),
          path('a'),
        ],
        items,
      ).map((c) => c.cause),
    ).toEqual(['time', 'unstable', 'path', 'clock'])
  })

  it('names no variation that moves no time for a difference that is all times', () => {
    // A jar's entry times across a DOS time's two seconds, in the pair that varied the
    // order: its entries kept their order, and "ordering alone" was wrong.
    const items = [fields('app.jar!a.class', 'mtime'), text('app.jar!MANIFEST.MF', 'timestamp')]
    const named = (cause: Culprit['cause'], also?: VariationName[]) =>
      withTimeEvidence(
        [{ artifact: 'app.jar', cause, ...(also === undefined ? {} : { also }) }],
        items,
      )[0]
    expect(named('time', ['file-times', 'ordering'])).toEqual({
      artifact: 'app.jar',
      cause: 'time',
      also: ['file-times'],
    })
    expect(named('ordering', ['file-times'])).toEqual({ artifact: 'app.jar', cause: 'file-times' })
    expect(named('ordering')).toEqual({ artifact: 'app.jar', cause: 'unstable' })
    expect(named('umask', ['cpus'])).toEqual({ artifact: 'app.jar', cause: 'unstable' })
    expect(named('tz')).toEqual({ artifact: 'app.jar', cause: 'tz' })
    // Anything besides times: the builds' answer stands.
    const mixed = [...items, text('app.jar!list.txt', 'ordering')]
    expect(withTimeEvidence([{ artifact: 'app.jar', cause: 'ordering' }], mixed)[0]?.cause).toBe(
      'ordering',
    )
  })

  it('finds the items of an artifact whose name holds a `!`, and no others', () => {
    // `out/a!b` is one artifact; `out/a` another, whose members' paths start the same way.
    const items = [
      text('out/a!b', 'timestamp'),
      text('out/a!b!m', 'timestamp'),
      text('out/a!c', 'build-path'),
    ]
    expect(
      withTimeEvidence([path('out/a!b'), path('out/a'), path('out/a!c')], items).map(
        (c) => c.cause,
      ),
    ).toEqual(['clock', 'path', 'path'])
    expect(withTimeEvidence([path('out/a')], items.slice(0, 2))[0]?.cause).toBe('clock')
  })

  it('never moves an artifact whose items include anything but times to the clock', () => {
    const causes = ['timestamp', 'derived', 'build-path', 'ordering', 'unexplained'] as const
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.constantFrom(...causes), { maxLength: 3 }), { maxLength: 5 }),
        (perItem) => {
          const items = perItem.map((c, i) => text(`x!m${i}`, ...c))
          const [culprit] = withTimeEvidence([path('x')], items)
          const all = perItem.flat()
          const onlyTimes =
            perItem.length > 0 &&
            perItem.every((c) => c.length > 0) &&
            all.includes('timestamp') &&
            all.every((c) => c === 'timestamp' || c === 'derived')
          expect(culprit?.cause).toBe(onlyTimes ? 'clock' : 'path')
        },
      ),
    )
  })
})
