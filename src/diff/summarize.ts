import type { DiffItem, PatternSummary } from './report.js'

// Below this many items a pattern is shown item by item.
const MIN_PATTERN = 10

/**
 * Groups items that differ in the same way ("22,089 entries: mtime differs, content
 * identical") so that views can show one line where there would be thousands.
 */
export function summarizePatterns(items: readonly DiffItem[]): PatternSummary[] {
  const groups = new Map<
    string,
    { kind: DiffItem['kind']; fields: string[]; message: string | undefined; paths: string[] }
  >()
  for (const item of items) {
    if (!['metadata', 'only-in-a', 'only-in-b'].includes(item.kind)) continue
    const fields = (item.fields ?? []).map((f) => f.field).sort()
    const key = `${item.kind}|${fields.join(',')}|${item.message ?? ''}`
    const group = groups.get(key) ?? { kind: item.kind, fields, message: item.message, paths: [] }
    group.paths.push(item.path)
    groups.set(key, group)
  }
  return [...groups.values()]
    .filter((g) => g.paths.length >= MIN_PATTERN)
    .map((g) => ({
      count: g.paths.length,
      kind: g.kind,
      fields: g.fields,
      ...(g.message === undefined ? {} : { message: g.message }),
      description: describe(g.kind, g.fields, g.message, g.paths.length),
      examples: g.paths.slice(0, 3),
    }))
    .sort((x, y) => y.count - x.count)
}

function describe(
  kind: DiffItem['kind'],
  fields: string[],
  message: string | undefined,
  count: number,
): string {
  const n = withThousands(count)
  if (kind === 'only-in-a') return `${n} entries only in A`
  if (kind === 'only-in-b') return `${n} entries only in B`
  const differ = `${n} entries: ${fields.join(', ')} ${fields.length === 1 ? 'differs' : 'differ'}`
  // Only an item that says so had its content found identical; the others' content (a
  // link's target) differs as well, and each of them is shown on its own.
  if (message === 'content identical') return `${differ}, content identical`
  return `${differ}, content not identical (each shown on its own)`
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
  const fields = (item.fields ?? [])
    .map((f) => f.field)
    .sort()
    .join(',')
  // The message too: an item whose content was found identical is not one of a pattern
  // whose items' content differs (each of which is shown), and was shown nowhere.
  return summaries.some(
    (s) => s.kind === item.kind && s.fields.join(',') === fields && s.message === item.message,
  )
}

/**
 * `2,101`, as `toLocaleString('en-US')` writes it, without loading the locale data:
 * the first such call took 15 to 50 ms of a diff here.
 */
export function withThousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}
