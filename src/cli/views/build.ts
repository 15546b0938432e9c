import type { BuildResult } from '../../twin/run-build.js'
import { formatDuration } from '../../config/duration.js'
import { toDisplayText as shown } from '../../file-names.js'
import { VARIATIONS } from '../../config/variations.js'
import { FAKETIME_OFFSET_TEXT } from '../../sandbox/run-plan.js'
import { paint } from '../../io/paint.js'
import { firstFew } from '../../first-few.js'

// Beyond this many, the warning names the first ones and counts the rest (--json has all).
const MAX_NAMES_IN_WARNING = 10

/**
 * The human view of a twin build: a verdict, a table of artifacts, the differences.
 * Names are shown escaped (`\xff`, `\n`): nothing in a file name reaches the terminal raw.
 */
export function renderBuildHuman(result: BuildResult, color: boolean): string {
  const c = paint(color)
  const out: string[] = []
  if (result.excludedOutputs.length > 0) {
    out.push(c.yellow(`warning: ${excludedWarning(result.excludedOutputs)}`))
  }
  for (const warning of result.warnings) out.push(c.yellow(`warning: ${shown(warning)}`))
  out.push(
    `epoch ${result.epoch} (${result.epochSource}); ${describeIsolation(result)}; ` +
      `runs took ${result.runs.map((r) => `${r.id.toUpperCase()} ${formatDuration(r.durationMs)}`).join(', ')}`,
  )
  out.push('', ...artifactTable(result, c), '')
  const conditions = variedNames(result.variations)
  const details = variationDetails(result.variations, result.turnedOff).map((line) =>
    c.dim(`  ${line}`),
  )
  if (result.verdict === 'reproducible') {
    out.push(
      c.green(
        `reproducible under ${conditions}: ${result.artifacts.length} artifact(s) byte-identical in both runs`,
      ),
      ...details,
    )
    if (result.outDir !== null) out.push(`copied to ${result.outDir}`)
  } else if (result.verdict === 'reproducible-after-normalization') {
    out.push(...normalizedVerdict(result, conditions, details, c))
  } else {
    out.push(...notReproducibleVerdict(result, conditions, details, c))
  }
  if (result.record !== null) out.push(`build record: ${result.record}`)
  if (result.kept !== null) out.push(`build roots kept in ${result.kept}`)
  return `${out.join('\n')}\n`
}

type Paint = ReturnType<typeof paint>

/** Every artifact with its size and digest, marked equal or differing; those only run B made. */
function artifactTable(result: BuildResult, c: Paint): string[] {
  const out: string[] = []
  const differing = new Map(result.differences.map((d) => [d.name, d]))
  const width = Math.max(
    8,
    ...result.artifacts.map((a) => shown(a.name).length),
    ...result.differences.map((d) => shown(d.name).length),
  )
  out.push(c.bold(`${'artifact'.padEnd(width)}  ${'size'.padStart(10)}  sha256`))
  for (const artifact of result.artifacts) {
    const mark = differing.has(artifact.name) ? c.red('≠') : c.green('=')
    out.push(
      `${shown(artifact.name).padEnd(width)}  ${String(artifact.size).padStart(10)}  ${artifact.digest.sha256} ${mark}`,
    )
  }
  for (const d of result.differences) {
    if (d.kind === 'only-in-b')
      out.push(`${shown(d.name).padEnd(width)}  ${'-'.padStart(10)}  (only in run B) ${c.red('≠')}`)
  }
  return out
}

/** The verdict with --normalize: which artifacts needed it, and what it changed per run. */
function normalizedVerdict(
  result: BuildResult,
  conditions: string,
  details: string[],
  c: Paint,
): string[] {
  const touched = (result.normalization?.artifacts ?? []).filter((a) => a.raw[0] !== a.raw[1])
  const out = [
    c.green(
      `reproducible after normalization under ${conditions}: ${result.artifacts.length} artifact(s) identical once normalized (${result.normalization?.by === 'reproof.config.json' ? 'normalize, asked by the source tree’s reproof.config.json' : '--normalize'})`,
    ),
    ...details,
    c.yellow(
      `  the builds wrote different bytes for ${touched.map((a) => shown(a.name)).join(', ')}; the normalized ones ship, and the record says how`,
    ),
  ]
  // What normalization changed, per run: the runs may need different changes.
  for (const a of touched)
    for (const [run, changes] of [
      ['A', a.changes[0]],
      ['B', a.changes[1]],
    ] as const)
      for (const change of changes)
        out.push(c.dim(`    ${shown(a.name)} (run ${run}): ${shown(change)}`))
  if (result.outDir !== null) out.push(`copied to ${result.outDir} (normalized)`)
  return out
}

/** The "no": each differing artifact's digests, what normalization would fix, the culprits. */
function notReproducibleVerdict(
  result: BuildResult,
  conditions: string,
  details: string[],
  c: Paint,
): string[] {
  const out = [
    c.red(
      `NOT reproducible under ${conditions}: ${result.differences.length} of ${countNames(result)} artifact(s) differ`,
    ),
    ...details,
  ]
  if (result.wouldMatchAfterNormalization.length > 0) {
    out.push(
      c.yellow(
        // The command that makes them match, as the check ran it: without --canonical an
        // archive already normal keeps its writer's bytes (padding, compression level),
        // and two such copies still differed after the command this named.
        `  ${result.wouldMatchAfterNormalization.map(shown).join(', ')} would match after \`reproof normalize --canonical --epoch ${result.epoch} -o <out> <file>\` of each run's copy (archive metadata only); --normalize makes that part of the build and ships the normalized artifacts`,
      ),
    )
  }
  for (const d of result.differences) {
    const [a, b] = d.digests
    if (d.kind === 'mode') {
      const only = d.executable?.[0] === true ? 'A' : 'B'
      out.push(`  ${shown(d.name)}: the same bytes, but executable in run ${only} only`)
      continue
    }
    if (d.special !== undefined) {
      out.push(`  ${shown(d.name)}: ${d.special[0]} in run A, ${d.special[1]} in run B`)
      continue
    }
    // An output that holds no bytes (a FIFO, socket or device) one run left: no digest on
    // either side, and the side it is on says so.
    if (a === null && b === null) {
      out.push(
        `  ${shown(d.name)}: a FIFO, socket or device file that run ${d.kind === 'only-in-a' ? 'A' : 'B'} left and run ${d.kind === 'only-in-a' ? 'B' : 'A'} did not`,
      )
      continue
    }
    out.push(`  ${shown(d.name)}`)
    out.push(`    A ${a ?? '(missing)'}${d.sizes[0] === null ? '' : `  ${d.sizes[0]} bytes`}`)
    out.push(`    B ${b ?? '(missing)'}${d.sizes[1] === null ? '' : `  ${d.sizes[1]} bytes`}`)
  }
  out.push(...describeAttribution(result.attribution, result.differences))
  out.push(
    c.dim(
      result.kept === null
        ? 'nothing was copied out; use --keep to inspect both build roots'
        : 'nothing was copied out',
    ),
  )
  return out
}

/** Which variation causes each difference, from the further pairs built (--no-explain: nothing). */
function describeAttribution(
  attribution: BuildResult['attribution'],
  differences: BuildResult['differences'],
): string[] {
  if (attribution === null) return []
  const builds = `${attribution.extraBuilds} further build${attribution.extraBuilds === 1 ? '' : 's'}`
  const lines = [`which variation causes it (${builds}):`]
  for (const { artifact, cause, also } of attribution.culprits ?? []) {
    const named = [cause, ...(also ?? [])]
    const text =
      cause === 'path' && attribution.sequential === true
        ? SEQUENTIAL_PATH
        : cause === 'path' && allBuildPaths(differences.find((d) => d.name === artifact))
          ? BUILD_PATH_SHOWN
          : also === undefined
            ? (CAUSES[cause] ?? `${cause} alone`)
            : `${named.join(' alone, and ')} alone${named.every((n) => n === 'time' || n === 'file-times') ? ` (${CLOCK_READ})` : ''}`
    lines.push(`  ${shown(artifact)}: ${text}`)
  }
  if (attribution.unstableElsewhere !== undefined)
    lines.push(
      `  also differed in a further pair with nothing varied, though identical in the first (one sample, by chance; concurrency, random seeds): ${firstFew(attribution.unstableElsewhere.map(shown), MAX_NAMES_IN_WARNING)}`,
    )
  if (attribution.skipped !== undefined) lines.push(`  not learnt: ${shown(attribution.skipped)}`)
  return lines
}

// Run one after the other, the control pair's runs saw other times of day as well.
const SEQUENTIAL_PATH =
  'differs with only the build path varied, the runs one after the other (--sequential): the path, the clock, the process ids (run B’s start at 10,000 or above), the inode numbers (run B’s skip 64 to 127 first), or nothing reproof varies (concurrency, random seeds, the network)'

// Said when the evidence already showed what the path-only pair found: the five
// possibilities a bare "path" lists would send people past the answer above them.
const BUILD_PATH_SHOWN =
  'the build path: it differs with only the path varied, and every difference holds the two build paths (cause: build-path above)'

// Both the clock variation and run B's later start move a time read from the clock.
const CLOCK_READ = "a time read from the clock: run B's clock is moved, and it starts 2.5 s later"

/** Whether every difference the explanation found in an artifact holds the build paths, and nothing else. */
function allBuildPaths(difference: BuildResult['differences'][number] | undefined): boolean {
  const items = (difference?.explanation ?? []).filter((i) => i.nested !== true)
  return (
    items.length > 0 &&
    items.every(
      (i) =>
        i.hints.some((h) => h.cause === 'build-path') &&
        i.hints.every((h) => h.cause === 'build-path' || h.cause === 'derived'),
    )
  )
}

const CAUSES: Record<string, string> = {
  path: 'differs with only the build path varied: the path, the clock below the second (the runs start together, not in the same instant), the process ids (run B’s start at 10,000 or above), the inode numbers (run B’s skip 64 to 127 first), or nothing reproof varies (concurrency, random seeds, the network)',
  clock:
    'differs with only the build path varied, and every difference in it is a time: the two runs of a pair do not write at the same moment (started together, one lags the other; with --sequential, one runs after the other), so a time the build writes as it goes (an archive’s entry times, a date stamp) differs; take such times from SOURCE_DATE_EPOCH',
  together:
    'no single variation alone: several together, or a difference that does not come every time',
  unstable:
    'comes and goes: with the same variations it differed in one pair and not in another (concurrency, random seeds, a clock read as the second turns)',
  unknown: 'not learnt within the further builds allowed',
  // Its later start is what a build that sets its files' times still sees: the clock.
  'file-times':
    'file-times alone: run B started 2.5 s later (the clock it read, or the times of the files it wrote)',
}

export function excludedWarning(names: readonly string[]): string {
  return `left out of the snapshot because --out matches them (artifacts are built, never taken from the source): ${firstFew(names.map(shown), MAX_NAMES_IN_WARNING)}`
}

function countNames(result: BuildResult): number {
  return new Set([...result.artifacts.map((a) => a.name), ...result.differences.map((d) => d.name)])
    .size
}

/**
 * "path, time (clock +397 days 7 h 13 min 17 s), file-times (+2.5 s for files the build writes; …), ordering; not varied: hostname (user namespaces are not
 * permitted here)": what was varied, and every variation that was not, with why.
 */
/** The variations that took effect, by name: what a verdict holds under. */
function variedNames(variations: BuildResult['variations']): string {
  const varied = variations
    .filter((v) => v.status === 'effective')
    .map((v) => (v.reach === undefined ? v.name : `${v.name} (${v.reach})`))
  return varied.length > 0 ? varied.join(', ') : 'no variation'
}

/**
 * Below the verdict, a line each: how far each variation went and what it did not
 * reach, what was asked for and not varied, and what was not asked for. The verdict's
 * one line names only the variations; a "yes" holds for them alone.
 */
function variationDetails(
  variations: BuildResult['variations'],
  turnedOff: BuildResult['turnedOff'] = [],
): string[] {
  const lines: string[] = []
  for (const v of variations.filter((x) => x.status === 'effective')) {
    // A note is a list of what the variation did not reach, one to a line.
    const said = [EFFECT[v.name], ...(v.note?.split('; ') ?? [])].filter((x) => x !== undefined)
    const [head, ...rest] = said
    if (head === undefined) continue
    lines.push(`${v.name}: ${head}`, ...rest.map((line) => `  ${line}`))
  }
  for (const v of variations.filter((x) => x.status !== 'effective'))
    lines.push(
      v.status === 'no-effect'
        ? `not varied: ${v.name} (no effect here${v.note === undefined ? '' : `: ${v.note}`})`
        : `not varied: ${v.name} (${v.note ?? 'not available'})`,
    )
  for (const [by, names] of turnedOffBy(turnedOff))
    lines.push(`turned off: ${names.join(', ')} (${by})`)
  const notAsked = notAskedFor(variations, turnedOff)
  if (notAsked.length > 0) lines.push(`not asked for: ${notAsked.join(', ')} (--vary all)`)
  return lines
}

/** The variations neither run asked for nor a no-vary list turned off. */
function notAskedFor(
  variations: BuildResult['variations'],
  turnedOff: BuildResult['turnedOff'],
): string[] {
  const named = new Set<string>([...variations, ...turnedOff].map((v) => v.name))
  return VARIATIONS.filter((name) => !named.has(name))
}

/** The variations turned off, grouped by the list that did it (a source tree's config, or a flag). */
function turnedOffBy(turnedOff: BuildResult['turnedOff']): Map<string, string[]> {
  const by = new Map<string, string[]>()
  for (const { name, by: list } of turnedOff) by.set(list, [...(by.get(list) ?? []), name])
  return by
}

// How far the variations that need saying went.
const EFFECT: Record<string, string> = {
  time: `the clock moved ${FAKETIME_OFFSET_TEXT}`,
  'file-times': "+2.5 s for files the build writes; the source's all at the epoch",
  ordering: 'the source snapshot written in another order',
}

export function describeVariations(
  variations: BuildResult['variations'],
  turnedOff: BuildResult['turnedOff'] = [],
): string {
  const varied = variations
    .filter((v) => v.status === 'effective')
    .map((v) =>
      v.name === 'time'
        ? `time (clock ${FAKETIME_OFFSET_TEXT}${v.note === undefined ? '' : `; ${v.note}`})`
        : v.name === 'file-times'
          ? `file-times (+2.5 s for files the build writes; the source's all at the epoch${v.note === undefined ? '' : `; ${v.note}`})`
          : v.name === 'ordering'
            ? 'ordering (of the source snapshot)'
            : v.note === undefined
              ? v.name
              : `${v.name} (${v.note})`,
    )
  const notVaried = variations
    .filter((v) => v.status !== 'effective')
    .map((v) =>
      v.status === 'no-effect'
        ? `${v.name} (no effect here${v.note === undefined ? '' : `: ${v.note}`})`
        : `${v.name} (${v.note ?? 'not available'})`,
    )
  // The variations nobody asked for are named too: a "reproducible" holds only for what
  // was varied, and reprotest's defaults vary more than reproof's.
  const off = [...turnedOffBy(turnedOff)].map(([by, names]) => `${names.join(', ')} (${by})`)
  const notAsked = notAskedFor(variations, turnedOff)
  return `${varied.join(', ')}${notVaried.length > 0 ? `; not varied: ${notVaried.join('; ')}` : ''}${
    off.length > 0 ? `; turned off: ${off.join('; ')}` : ''
  }${notAsked.length > 0 ? `; not asked for: ${notAsked.join(', ')} (--vary all)` : ''}`
}

/**
 * How the runs were kept apart, for the verdict: what process isolation does not do is
 * said, as it is what makes a verdict there weaker (the two runs can share state).
 */
export function describeIsolation(result: Pick<BuildResult, 'isolation'>): string {
  const iso = result.isolation
  const base =
    iso.kind === 'namespaces'
      ? `sandbox: namespaces, ${iso.network === 'none' ? 'no network' : 'network allowed (--network)'}`
      : `no sandbox (${iso.reason}): process isolation only; network, /tmp and the machine shared by both runs, and reproof's environment readable through /proc`
  return iso.notes.length > 0 ? `${base} (${iso.notes.join('; ')})` : base
}
