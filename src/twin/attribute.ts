import type { VariationName } from '../config/variations.js'
import { fieldHints } from '../diff/hints.js'
import type { DiffItem } from '../diff/report.js'

/**
 * Which variation makes each differing artifact differ, learnt by building again: first
 * a control pair with only the build path varied (the two roots always differ), then
 * pairs with some of the variations, halving the set where it reproduces a difference,
 * down to one variation. The search is here, apart from building: `test` builds a pair
 * with the build path and the variations given, and says which artifacts differed.
 */

export interface Culprit {
  artifact: string
  /**
   * `path`: it differs with only the build path varied (the path, or nothing reproof
   * varies: concurrency, random seeds, the network); a variation: that one alone (with
   * the path, which the control cleared) reproduces it; `together`: no single variation
   * does (several at once, or a difference that does not come every time); `unstable`:
   * it comes and goes (the build varied nothing but the path and the control pair did
   * not differ again; a pair with every variation that applied did not; a second control
   * pair did, after a variation was found; or it did not, after the first control pair
   * did, or a variation that moves no time was named for a difference that is all
   * times); `unknown`: the extra builds allowed ran out first. `clock`: `path` by the
   * builds, and every difference the explanation found in it is a time (see
   * {@link withTimeEvidence}).
   */
  cause: VariationName | 'path' | 'clock' | 'together' | 'unstable' | 'unknown'
  /** Other variations that alone reproduce it too (the search found it under each). */
  also?: VariationName[]
}

export interface PairTested {
  /** Varied beside the build path. */
  variations: VariationName[]
  differing: string[]
}

export interface Attribution {
  culprits: Culprit[]
  /** Every pair built, in order, the control first. */
  pairs: PairTested[]
  /**
   * Artifacts the first pair found identical that differed in a further pair with
   * nothing varied: their "identical" was one sample, by chance.
   */
  unstableElsewhere?: string[]
}

/**
 * An artifact's name with what changes from pair to pair taken out: runs of six or more
 * hex digits holding a digit (a hash of the build path, run B's host name canary, a pid
 * in hex). Each further pair builds in a new workspace under a new canary, so a name
 * made from them is never seen again, and a difference that came every time was taken
 * for one that comes and goes.
 */
export function nameShape(name: string): string {
  return name.replace(/[0-9a-f]{6,}/gi, (run) => (/[0-9]/.test(run) ? '#' : run))
}

/** Whether a pair that found `seen` differing reproduced the difference in `artifact`. */
function reproduces(seen: ReadonlySet<string>, artifact: string): boolean {
  if (seen.has(artifact)) return true
  const shape = nameShape(artifact)
  if (shape === artifact) return false
  for (const name of seen) if (nameShape(name) === shape) return true
  return false
}

export type PairTest = (variations: readonly VariationName[]) => Promise<ReadonlySet<string>>

/**
 * Finds the culprit of each of `differing`, testing at most `maxPairs` pairs. `varied`
 * are the variations the build applied, without `path`.
 *
 * A variation is named only from a pair that varied it: the search starts from a pair
 * with every variation of `varied` (the first build varied more than those: run B's
 * later start, its process ids), and halves the set where a pair reproduces a
 * difference. A difference may come and go: once the path or a variation is named, a
 * second control pair is built. An artifact named for a variation that differs in it,
 * or named for the path that does not, is `unstable`.
 */
export async function attribute(
  differing: readonly string[],
  varied: readonly VariationName[],
  test: PairTest,
  maxPairs: number,
): Promise<Attribution> {
  const pairs: PairTested[] = []
  const causes = new Map<string, Culprit['cause']>()
  // A difference two variations each reproduce alone (a date written from the clock and
  // from a file's time) is named under both: the first found, the others beside it.
  const also = new Map<string, VariationName[]>()
  // The search leaves one pair (`kept`) for the second control, which confirms what it names.
  const run = async (
    variations: readonly VariationName[],
    kept = 1,
  ): Promise<ReadonlySet<string> | undefined> => {
    if (pairs.length >= maxPairs - kept) return undefined
    const found = await test(variations)
    pairs.push({ variations: [...variations], differing: [...found].sort() })
    return found
  }
  const control = await run([], 0)
  if (control === undefined)
    return { culprits: differing.map((artifact) => ({ artifact, cause: 'unknown' })), pairs }
  for (const artifact of differing) if (reproduces(control, artifact)) causes.set(artifact, 'path')
  // Targets whose search ran out of pairs somewhere: `together` is not known of them.
  const cutShort = new Set<string>()
  // `set` reproduced each of `targets` in a pair of its own: one variation is the
  // culprit; more are halved, each half in a pair.
  const search = async (
    set: readonly VariationName[],
    targets: readonly string[],
  ): Promise<void> => {
    if (targets.length === 0) return
    const [only] = set
    if (set.length === 1 && only !== undefined) {
      for (const t of targets) {
        const first = causes.get(t)
        // Found alone under one half, after the other half's search had found it under
        // neither of its own quarters: this one is what it is.
        if (first === undefined || first === 'together') causes.set(t, only)
        else also.set(t, [...(also.get(t) ?? []), only])
      }
      return
    }
    const half = Math.ceil(set.length / 2)
    const parts = [set.slice(0, half), set.slice(half)]
    const found: string[][] = []
    for (const part of parts) {
      const seen = await run(part)
      // Out of pairs: what is not learnt yet stays unknown, and so does what another
      // half called `together`, which this one might have found alone.
      if (seen === undefined) {
        for (const t of targets) cutShort.add(t)
        return
      }
      found.push(targets.filter((t) => reproduces(seen, t)))
    }
    for (const [i, part] of parts.entries()) await search(part, found[i] ?? [])
    // Reproduced by the whole set, by neither half alone.
    for (const t of targets)
      if (!found.some((f) => f.includes(t)) && !causes.has(t)) causes.set(t, 'together')
  }
  const rest = differing.filter((a) => !causes.has(a))
  if (varied.length === 0) for (const t of rest) causes.set(t, 'unstable')
  else if (rest.length > 0) {
    const all = await run(varied)
    if (all !== undefined) {
      // Not again with every variation that applied: it comes and goes.
      for (const t of rest) if (!reproduces(all, t)) causes.set(t, 'unstable')
      await search(
        varied,
        rest.filter((t) => reproduces(all, t)),
      )
    }
  }
  for (const t of cutShort) if (causes.get(t) === 'together') causes.delete(t)
  // A second control pair, once the path or a variation is named: what the path makes
  // differ differs there again, and what a variation makes differ does not. Otherwise it
  // comes and goes (two parallel runs that straddle a second, a seed): no one's doing.
  const named = differing.filter((a) => causes.get(a) === 'path' || isVariation(causes.get(a)))
  if (named.length > 0) {
    const again = await run([], 0)
    if (again !== undefined)
      for (const t of named)
        if (reproduces(again, t) !== (causes.get(t) === 'path')) {
          causes.set(t, 'unstable')
          also.delete(t)
        }
  }
  // What differed with nothing varied beyond the first pair's differences: identical
  // there by chance, and said so.
  const first = new Set(differing.map(nameShape))
  const unstableElsewhere = [
    ...new Set(
      pairs
        .filter((p) => p.variations.length === 0)
        .flatMap((p) => p.differing)
        .filter((name) => !first.has(nameShape(name))),
    ),
  ].sort()
  return {
    ...(unstableElsewhere.length === 0 ? {} : { unstableElsewhere }),
    culprits: differing.map((artifact) => {
      const more = also.get(artifact)
      return {
        artifact,
        cause: causes.get(artifact) ?? 'unknown',
        ...(more === undefined ? {} : { also: more }),
      }
    }),
    pairs,
  }
}

function isVariation(cause: Culprit['cause'] | undefined): boolean {
  return (
    cause !== undefined &&
    cause !== 'path' &&
    cause !== 'together' &&
    cause !== 'unstable' &&
    cause !== 'unknown'
  )
}

// Pairs built to explain, at most: the control, every variation together, two per
// halving of the variations, and a second control; the default variations need at most
// nine.
export const MAX_EXPLAIN_PAIRS = 14

/**
 * How many further pairs may be built: all of them together, at the first pair's pace,
 * within one --timeout when one is given, and never more than MAX_EXPLAIN_PAIRS.
 */
export function pairsWithin(
  timeoutMs: number | undefined,
  pairMs: number,
): { maxPairs: number } | { skipped: string } {
  if (timeoutMs === undefined) return { maxPairs: MAX_EXPLAIN_PAIRS }
  const maxPairs = Math.min(MAX_EXPLAIN_PAIRS, Math.floor(timeoutMs / Math.max(1, pairMs)))
  return maxPairs > 0
    ? { maxPairs }
    : {
        skipped: `a further pair would not fit in --timeout (the first took ${Math.round(pairMs)} ms)`,
      }
}

/**
 * The builds' answer merged with the evidence: an artifact that differs with only the
 * build path varied, every difference in which is a time (or a checksum that follows
 * from one), is the clock's, not the path's. The two runs of a pair start together
 * but do not finish together: a time the build writes as it goes (a jar's entry times,
 * a date stamp) differs by as much as one run lags the other, seconds on a loaded
 * machine, and "path" sent people to `-ffile-prefix-map`. Only differences whose every
 * part a time accounts for count: a text whose other changed lines are named apart
 * (`unexplained` beside `timestamp`), and header fields each of which is a time. A
 * binary's time word says nothing of its other bytes, and an item that is only a
 * container of others (`nested`) says nothing itself. Pure.
 */
export function withTimeEvidence(
  culprits: readonly Culprit[],
  items: readonly DiffItem[],
): Culprit[] {
  // Items by the culprit artifact they lie in (the whole path, or the path before one of
  // its `!`s: a name may hold a `!` itself), once, not items × culprits.
  const byArtifact = new Map<string, DiffItem[]>()
  for (const culprit of culprits)
    if (culprit.cause === 'path' || isVariation(culprit.cause)) byArtifact.set(culprit.artifact, [])
  for (const item of items) {
    if (item.nested === true) continue
    for (let end = item.path.indexOf('!'); end !== -1; end = item.path.indexOf('!', end + 1))
      byArtifact.get(item.path.slice(0, end))?.push(item)
    byArtifact.get(item.path)?.push(item)
  }
  return culprits.map((culprit) => {
    const own = byArtifact.get(culprit.artifact)
    if (own === undefined) return culprit
    const times =
      own.length > 0 &&
      own.some((item) => item.hints.some((h) => h.cause === 'timestamp')) &&
      own.every(onlyTimes)
    if (!times) return culprit
    if (culprit.cause === 'path') return { ...culprit, cause: 'clock' }
    // Named for a variation that moves no time (ordering, umask): its pair's runs wrote
    // their times a second or two apart, as any pair's may (a jar's entry times across
    // a DOS time's two seconds), and "ordering alone" was said of a jar whose entries
    // kept their order. Only a variation that can change a written time is named; with
    // none, the difference came in one pair and not in another.
    const named = [culprit.cause, ...(culprit.also ?? [])].filter(
      (v): v is VariationName => isVariation(v) && TIME_VARIATIONS.has(v as VariationName),
    )
    const [first, ...rest] = named
    if (first === undefined) return { artifact: culprit.artifact, cause: 'unstable' }
    return {
      artifact: culprit.artifact,
      cause: first,
      ...(rest.length === 0 ? {} : { also: rest }),
    }
  })
}

/** The variations that change a time a build writes: the clock, its files', its zone, a date's words. */
const TIME_VARIATIONS: ReadonlySet<VariationName> = new Set<VariationName>([
  'time',
  'file-times',
  'tz',
  'locale',
])

/** Whether a time (or a checksum that follows from one) accounts for all of an item. */
function onlyTimes(item: DiffItem): boolean {
  const causes = item.hints.map((h) => h.cause)
  if (causes.length === 0 || !causes.every((c) => c === 'timestamp' || c === 'derived'))
    return false
  if (item.kind === 'metadata')
    // Each field a time on its own: hints are given once per cause, so an mtime beside
    // a link target that changed reads as "timestamp" alone.
    return item.fields.every((f) => {
      const own = fieldHints([f])
      return own.length > 0 && own.every((h) => h.cause === 'timestamp')
    })
  return item.kind === 'content' && item.text !== undefined && !item.text.truncated
}
