import type { DiffItem, PatternSummary } from './report.js'

// Below this many items a pattern is shown item by item.
const MIN_PATTERN = 10

/**
 * What an item is folded by: its kind, the fields that differ, its message, the causes
 * its hints name and the values of every field but a time's or a compression's. Items
 * told apart by any of these are not one pattern: 12 files made under another umask and
 * one that became setuid were "13 entries: mode differs", with neither the values nor
 * the causes shown; 12 renamed members, one of them to `etc/cron.d/evil`, were "12
 * entries: renamed differs", and one xattr among twelve set to a capability.
 */
function patternOf(item: DiffItem): {
  key: string
  fields: string[]
  causes: string[]
  values: { field: string; a: string; b: string }[]
} {
  const fields = (item.fields ?? []).map((f) => f.field).sort()
  const causes = [...new Set(item.hints.map((h) => h.cause))].sort()
  const values = (item.fields ?? [])
    .filter((f) => !NOISE_FIELD.test(f.field))
    .map((f) => ({ field: f.field, a: f.a, b: f.b }))
    .sort((x, y) => (x.field < y.field ? -1 : x.field > y.field ? 1 : 0))
  const key = JSON.stringify([item.kind, fields, item.message ?? null, causes, values])
  return { key, fields, causes, values }
}

// Fields whose values differ from member to member and say nothing of what a member is
// (when it was made, how it was compressed): left out of the key, so that 22,089 members
// of other times are one line. Every other field's values are kept in it (a setuid bit;
// an owner, one member made root among twelve moved to another user; a new name).
const NOISE_FIELD = /time|date|compress/i

/** How many of a pattern's paths a view names; the JSON report holds every one. */
const PATTERN_EXAMPLES = 20

/**
 * A pattern's paths as a view names them (`show`: each as the view shows a name): every
 * one up to 20, else the first 20 and how many more, which only the JSON report lists.
 */
export function patternPaths(s: PatternSummary, show: (path: string) => string): string {
  const named = s.examples.map(show).join(', ')
  const more = s.count - s.examples.length
  return more > 0 ? `${named}, and ${withThousands(more)} more (--json lists every one)` : named
}

/**
 * Groups items that differ in the same way ("22,089 entries: mtime differs, content
 * identical") so that views can show one line where there would be thousands.
 */
export function summarizePatterns(items: readonly DiffItem[]): PatternSummary[] {
  const groups = new Map<
    string,
    {
      kind: DiffItem['kind']
      fields: string[]
      causes: string[]
      values: { field: string; a: string; b: string }[]
      message: string | undefined
      paths: string[]
    }
  >()
  for (const item of items) {
    if (!['metadata', 'only-in-a', 'only-in-b'].includes(item.kind)) continue
    const { key, fields, causes, values } = patternOf(item)
    const group = groups.get(key) ?? {
      kind: item.kind,
      fields,
      causes,
      values,
      message: item.message,
      paths: [],
    }
    group.paths.push(item.path)
    groups.set(key, group)
  }
  return [...groups.values()]
    .filter((g) => g.paths.length >= MIN_PATTERN)
    .map((g) => ({
      count: g.paths.length,
      kind: g.kind,
      fields: g.fields,
      causes: g.causes,
      ...(g.values.length === 0 ? {} : { values: g.values }),
      ...(g.message === undefined ? {} : { message: g.message }),
      description: describe(g, g.paths.length),
      examples: g.paths.slice(0, PATTERN_EXAMPLES),
    }))
    .sort((x, y) => y.count - x.count)
}

function describe(
  {
    kind,
    fields,
    causes,
    values,
    message,
  }: {
    kind: DiffItem['kind']
    fields: string[]
    causes: string[]
    values: { field: string; a: string; b: string }[]
    message: string | undefined
  },
  count: number,
): string {
  const n = withThousands(count)
  if (kind === 'only-in-a') return `${n} entries only in A`
  if (kind === 'only-in-b') return `${n} entries only in B`
  const shown = values.map((v) => ` (${v.field} ${v.a} → ${v.b})`).join('')
  const differ = `${n} entries: ${fields.join(', ')} ${fields.length === 1 ? 'differs' : 'differ'}${shown}`
  const cause = causes.length === 0 ? '' : `; cause: ${causes.join(', ')}`
  // Only an item that says so had its content found identical; the others' content (a
  // link's target) differs as well, and each of them is shown on its own.
  if (message === 'content identical') return `${differ}, content identical${cause}`
  return `${differ}, content not identical (each shown on its own)${cause}`
}

/**
 * The headline of a report that is not identical. Entries can all agree while the
 * files do not (a zip's comment, bytes between members, padding): said so, not "0 of N
 * entries differ" under a verdict of different.
 */
export function differHeadline(stats: { differing: number; compared: number }): string {
  return stats.differing === 0
    ? `${stats.compared} compared entries agree, yet the files differ (see below)`
    : `${stats.differing} of ${stats.compared} compared entries differ`
}

/** Whether a view should show this item on its own, or leave it to its pattern's summary. */
export function isSummarized(item: DiffItem, summaries: readonly PatternSummary[]): boolean {
  if (
    !['metadata', 'only-in-a', 'only-in-b'].includes(item.kind) ||
    (item.kind === 'metadata' && item.message === undefined)
  )
    return false
  // The whole pattern: an item whose content was found identical is not one of a
  // pattern whose items' content differs (each of which is shown), nor is one of other
  // causes or mode values; either was shown nowhere.
  const { key } = patternOf(item)
  return summaries.some(
    (s) => JSON.stringify([s.kind, s.fields, s.message ?? null, s.causes, s.values ?? []]) === key,
  )
}

/**
 * `2,101`, as `toLocaleString('en-US')` writes it, without loading the locale data:
 * the first such call took 15 to 50 ms of a diff here.
 */
export function withThousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}
