import { canonicalJson } from '../canonical.js'
import { withoutEach } from '../multiset.js'
import { isPrintable, type BinaryDiff, type TextDiff } from './content-diff.js'
import type { ElfSectionDifference } from './elf-diff.js'
import type { FieldDifference, Hint } from './report.js'

/**
 * Cause hints: pure functions from the evidence of a difference to the likely cause,
 * each with the matched evidence and a one-line fix. A hint is given only when the
 * evidence would convince a second reader, and shows it (both times, both paths): no
 * hint is better than a wrong one. `unexplained` is what remains when nothing does.
 */

export interface HintContext {
  /** Strings that stand for each side's build root: a difference holding them is path-dependent. */
  roots: [readonly string[], readonly string[]]
  /** The unique string variations injected into run B. */
  canary?: string
  /** Plausible build times, in epoch seconds, for each side: [from, to]. */
  timeWindows: [[number, number], [number, number]]
  /**
   * Whether the windows are when each side really ran (a build, or its record), not a
   * guess. Only then is a raw binary word read as a time: about one 32-bit value in
   * eleven falls in a guessed ten-year window, so without known times any binary would
   * "contain" one.
   */
  timesKnown?: boolean
  /** Whether the locale was varied (ordering differences may then be collation). */
  localeVaried?: boolean
  /**
   * With the time zone varied, the epoch, give or take the zones' reach: a date written
   * from SOURCE_DATE_EPOCH in each run's zone is a day apart, and far from when the runs
   * ran. A written time there, on both sides, is the epoch in two zones.
   */
  epochInZones?: [number, number]
}

const DAY = 86_400
const byText = (x: { text: string }): string => x.text
// 1980-01-01, the earliest time a zip can hold: older "dates" in build output are not times.
const DOS_EPOCH = 315_532_800
const YEAR = 365 * DAY

/** Without a build to anchor them, times from 10 years ago to 2 years ahead are plausible. */
export function defaultHintContext(
  roots: [readonly string[], readonly string[]],
  nowSeconds: number,
): HintContext {
  const window: [number, number] = [nowSeconds - 10 * YEAR, nowSeconds + 2 * YEAR]
  return { roots, timeWindows: [window, window] }
}

/** What to do about differences nothing in them explains. */
export const UNEXPLAINED_FIX =
  'nothing in the differing bytes points to a cause: rebuild with one variation at a time (--no-vary) to learn which one triggers it, or none (a seed, uninitialized memory, parallel output)'

export const FIX = {
  path: 'do not embed absolute paths: compile with -ffile-prefix-map=$PWD=. (gcc, clang), set --remap-path-prefix (rustc), build with -trimpath (go), or use relative paths',
  time: 'use SOURCE_DATE_EPOCH instead of the current time (gcc and most tools honour it)',
  zone: 'write the time in UTC, not the time zone the build runs in: date -u, TZ=UTC, gmtime()',
  order:
    'sort before writing: LC_ALL=C sort, find ... | sort, tar --sort=name, sorted(os.listdir())',
  jsonKeys:
    'write keys in a fixed order: json.dumps(..., sort_keys=True), JSON.stringify of an object built in sorted order, jq -S',
  link: 'link objects in a fixed order: sort the list the linker is given (LC_ALL=C sort, $(sort $(wildcard *.o)) in make)',
  locale: 'collation depends on the locale: set LC_ALL=C where the build sorts or formats',
  host: 'do not embed the host name (uname -n, hostname) in build output',
  domain: 'do not embed the domain name (domainname, hostname -d, uname -a) in build output',
  env: 'a value from the build environment reaches the output: do not embed environment variables, PATH or HOME',
  unexplained: UNEXPLAINED_FIX,
} as const

export function contentHints(
  a: Buffer,
  b: Buffer,
  diff: {
    text?: TextDiff
    binary?: BinaryDiff
    sections?: readonly ElfSectionDifference[]
    /** Two ELF files' functions in address order (the order they were linked in). */
    functions?: readonly [readonly string[], readonly string[]]
  },
  context: HintContext,
): Hint[] {
  const hints: Hint[] = []
  const [regionA, regionB] =
    diff.text !== undefined
      ? [diff.text.removed.join('\n'), diff.text.added.join('\n')]
      : binaryRegions(a, b, diff.binary)
  // A binary's regions are windows at the same offsets: after an insertion, a string both
  // sides hold falls at another offset, so it must be missing from the other side's
  // bytes altogether to count as one that changed.
  const whole = diff.text === undefined ? ([a, b] as const) : undefined
  const fromRoots = pathEvidence(a, b, context)
  // The paths the regions move: evidence where the roots gave none, and what a binary of
  // no structure takes out before asking what else differs (binaryResidue). Looked for
  // only then: most items need neither.
  const residueAsked =
    diff.text === undefined && diff.sections === undefined && diff.binary !== undefined
  const moved =
    fromRoots === undefined || residueAsked ? movedPathEvidence(regionA, regionB, whole) : undefined
  const path = fromRoots ?? moved?.evidence ?? sectionPathEvidence(diff.sections ?? [])
  if (path !== undefined) hints.push({ cause: 'build-path', evidence: path, fix: FIX.path })
  const written = timeEvidence(regionA, regionB, context, whole)
  const time =
    written?.evidence ??
    (diff.binary === undefined ? undefined : binaryTimeEvidence(a, b, diff.binary, context))
  if (time !== undefined)
    hints.push({
      cause: 'timestamp',
      evidence: time,
      fix: written?.inZones === true ? FIX.zone : FIX.time,
    })
  const linked = diff.functions === undefined ? undefined : linkOrderEvidence(...diff.functions)
  if (linked !== undefined) hints.push({ cause: 'ordering', evidence: linked, fix: FIX.link })
  const keys = diff.text === undefined ? undefined : jsonKeyOrder(a, b)
  if (keys !== undefined) hints.push({ cause: 'ordering', evidence: keys, fix: FIX.jsonKeys })
  if (
    keys === undefined &&
    diff.text !== undefined &&
    isReordering(diff.text) &&
    !onlyFinalNewline(a, b)
  ) {
    hints.push({
      cause: 'ordering',
      evidence: `the same ${lineCount(a)} lines in another order (${diff.text.removed.length} moved)${(a.at(-1) === 0x0a) !== (b.at(-1) === 0x0a) ? ', and only one side ends in a line break' : ''}`,
      fix: FIX.order,
    })
    if (context.localeVaried === true)
      hints.push({
        cause: 'locale',
        evidence: 'lines reordered while the locale was varied',
        fix: FIX.locale,
      })
  }
  if (context.canary !== undefined) {
    const host = `reproof-${context.canary}`
    // Run B's domain name is the host name's canary under `.invalid`: which one appears
    // is told by what follows it.
    const domain = `${host}.invalid`
    const at = b.indexOf(host)
    if (at !== -1 && !a.includes(host)) {
      const isDomain = b.subarray(at, at + domain.length).toString('latin1') === domain
      hints.push({
        cause: 'hostname',
        evidence: isDomain
          ? `run B's domain name "${domain}" appears in B at offset ${at}`
          : `run B's host name "${host}" appears in B at offset ${at}`,
        fix: isDomain ? FIX.domain : FIX.host,
      })
    } else if (!a.includes(context.canary)) {
      // Run B's build root holds the canary too: one inside it is the build path's (said
      // above), one elsewhere a variable's (HOME, USER) that the build wrote down.
      const at = canaryOutside(b, context.canary, context.roots[1])
      if (at !== undefined)
        hints.push({
          cause: 'environment',
          evidence: `the variation canary "${context.canary}" appears in B at offset ${at}${path === undefined ? '' : ', outside its build root'}`,
          fix: FIX.env,
        })
    }
  }
  // Times, paths and host names explain only themselves: a line that differs in more
  // than those (a version, a key, a flag) is not explained by SOURCE_DATE_EPOCH or a
  // prefix map, and is said to be so. (Text only: a binary's other differing bytes follow
  // from them, a build id for one.)
  const rest =
    diff.text === undefined
      ? undefined
      : residue(hints, written?.masked ?? [regionA, regionB], context)
  if (rest !== undefined)
    hints.push({
      cause: 'unexplained',
      evidence: `the lines differ besides their ${rest.what} too: ${rest.where}`,
      fix: FIX.unexplained,
    })
  // A binary of no structure reproof reads (an ELF file's sections say what differs
  // themselves): B with the values the hints name put back to A's. Bytes that still
  // differ (a flag beside the path) are not the path's or the time's doing, unless a
  // checksum over them follows from it, which the evidence says.
  const left = residueAsked
    ? binaryResidue(a, b, hints, context, {
        paths: moved === undefined ? [] : [moved.pair],
        ...(written === undefined ? {} : { time: written.pair }),
      })
    : undefined
  if (left !== undefined)
    hints.push({
      cause: 'unexplained',
      evidence: left,
      fix: FIX.unexplained,
    })
  if (hints.length === 0) {
    const bytes = diff.binary?.differingBytes
    const places = diff.binary?.places ?? 0
    const lines = (n: number, what: string): string => `${n} ${n === 1 ? 'line' : 'lines'} ${what}`
    const what =
      bytes !== undefined
        ? `${bytes} ${bytes === 1 ? 'byte differs' : 'bytes differ'} in ${places} ${places === 1 ? 'place' : 'places'}`
        : `${lines(diff.text?.removed.length ?? 0, 'removed')}, ${lines(diff.text?.added.length ?? 0, 'added')}`
    // The binary diff keeps the first 64 places for the hints: past them, nothing was looked at.
    const searched = diff.binary?.ranges.length ?? places
    const within =
      searched < places ? ` in the first ${searched} of them (the rest were not searched)` : ''
    hints.push({
      cause: 'unexplained',
      evidence: `${what} with no time, path, order or host name found${within}`,
      fix: FIX.unexplained,
    })
  }
  return hints
}

// Past this, a binary is not searched for what its causes leave unexplained.
const RESIDUE_BYTES = 16 * 1024 * 1024

/** A path's parent, `/`-separated; the root is its own. */
function posixDirname(p: string): string {
  const cut = p.lastIndexOf('/')
  return cut <= 0 ? '/' : p.slice(0, cut)
}

/**
 * The offset of the first `canary` in `bytes` that is not part of one of `roots` (run
 * B's build root and the directory above it, whose names hold the canary), if any.
 */
function canaryOutside(
  bytes: Buffer,
  canary: string,
  roots: readonly string[],
): number | undefined {
  // Every place a root holds the canary: run B's root is under a directory named with
  // it, and its own name may hold it too (`b-path-<canary>/src-<canary>/app-<canary>`).
  // And every directory above a root whose name still holds it: run B's workspace
  // (`b-path-<canary>`) holds its HOME and TMPDIR beside the root, and a HOME written
  // down there is the build path's doing, not a variable's.
  const wrappers: { root: Buffer; at: number }[] = []
  const places = new Set<string>()
  for (const text of roots)
    for (let dir = text; dir.includes(canary); dir = posixDirname(dir)) places.add(dir)
  for (const text of places) {
    const root = Buffer.from(text)
    for (let at = root.indexOf(canary); at !== -1; at = root.indexOf(canary, at + 1))
      wrappers.push({ root, at })
  }
  for (let at = bytes.indexOf(canary); at !== -1; at = bytes.indexOf(canary, at + 1)) {
    const inside = wrappers.some(
      ({ root, at: k }) => at >= k && bytes.subarray(at - k, at - k + root.length).equals(root),
    )
    if (!inside) return at
  }
  return undefined
}

/**
 * What of a binary still differs once the build roots, the paths and the time the
 * evidence paired are taken out of both sides (a weekday before the time with it), where
 * every hint is a build path or a written time; undefined when nothing does, or when a
 * time hint has no written time to take out (one read from a raw word). Pure.
 */
function binaryResidue(
  a: Buffer,
  b: Buffer,
  hints: readonly Hint[],
  context: HintContext,
  paired: { paths: readonly (readonly [string, string])[]; time?: readonly [string, string] },
): string | undefined {
  const causes = new Set(hints.map((h) => h.cause))
  if (causes.size === 0 || [...causes].some((c) => c !== 'build-path' && c !== 'timestamp'))
    return undefined
  if (causes.has('timestamp') && paired.time === undefined) return undefined
  if (a.length > RESIDUE_BYTES || b.length > RESIDUE_BYTES) return undefined
  const pairs: (readonly [string, string])[] = [
    ...context.roots[0].map((rootA, i) => [rootA, context.roots[1][i] ?? ''] as const),
    // The directories a moved path differs in, not the whole path: every other path
    // under them (a header beside the source) is the same move.
    ...paired.paths.map(([x, y]) => differingDirectories(x, y)),
    ...(paired.time === undefined ? [] : [paired.time]),
  ].filter(([x, y]) => x.length >= 4 && y.length >= 4 && x !== y)
  // Either side's value out of either side (a root both hold is no difference), the
  // longest first: a root before its parent directory.
  const values = [...new Set(pairs.flat())].sort((x, y) => y.length - x.length)
  const out = (text: string): string =>
    values
      .reduce((t, value) => t.split(value).join('\ufffc'), text)
      .replace(WEEKDAY_BEFORE_TIME, '\ufffc')
  const [restA, restB] = [out(a.toString('latin1')), out(b.toString('latin1'))]
  if (restA === restB) return undefined
  // A value of another length moves what follows it and changes a length written before
  // it (a string's length prefix): bytes just before a value taken out are read as that.
  const lengthsDiffer = pairs.some(([x, y]) => x.length !== y.length)
  const beforeValue = (i: number): boolean =>
    lengthsDiffer &&
    (restA.slice(i, i + 9).includes('\ufffc') || restB.slice(i, i + 9).includes('\ufffc'))
  let at = 0
  while (at < Math.max(restA.length, restB.length) && (restA[at] === restB[at] || beforeValue(at)))
    at++
  if (at >= Math.max(restA.length, restB.length)) return undefined
  const around = (text: string): string =>
    JSON.stringify(text.slice(Math.max(0, at - 12), at + 12).replace(/\ufffc/g, '…'))
  const what = [
    ...(causes.has('build-path') ? ['build paths'] : []),
    ...(causes.has('timestamp') ? ['time'] : []),
  ].join(' and ')
  return `the bytes differ besides their ${what} too: A ${around(restA)}, B ${around(restB)} (a checksum, id or offset computed over the content follows from them; anything else does not)`
}

/** The leading directories in which two paths to the same file differ (`/a/x/f`, `/b/y/f`: `/a/x`, `/b/y`). */
function differingDirectories(x: string, y: string): readonly [string, string] {
  const [px, py] = [x.split('/'), y.split('/')]
  let same = 0
  while (same < Math.min(px.length, py.length) - 1 && px.at(-1 - same) === py.at(-1 - same)) same++
  return [px.slice(0, px.length - same).join('/'), py.slice(0, py.length - same).join('/')]
}

// The causes whose evidence is a value in the text, which can be taken out of it.
const IN_THE_TEXT: Record<string, string> = {
  timestamp: 'times',
  'build-path': 'build paths',
  hostname: 'host names',
  environment: 'variation canaries',
}

/**
 * What two differing regions of text still differ in with the values every hint names
 * taken out (times, absolute paths, host names and canaries), where every hint is of such
 * a value; undefined when nothing is left, or when a hint of another kind (an order)
 * explains the lines as a whole.
 */
function residue(
  hints: readonly Hint[],
  /** The regions, with the times the time evidence found taken out. */
  [restA, restB]: readonly [string, string],
  context: HintContext,
): { what: string; where: string } | undefined {
  if (hints.length === 0 || !hints.every((h) => h.cause in IN_THE_TEXT)) return undefined
  const causes = new Set(hints.map((h) => h.cause))
  const masks: ((text: string) => string)[] = []
  // A build path moves a file to another directory, not to another name: the file's
  // own name is kept (`/a/lib/libssl.so` for `/b/lib/backdoor.so` is another file).
  if (causes.has('build-path'))
    masks.push((text) =>
      text.replace(ABSOLUTE_PATH, (found) => `\ufffc${found.slice(found.lastIndexOf('/'))}`),
    )
  // Run B's canary is known, not what run A wrote in its place (its own host name): the
  // word holding the canary in B stands for any one word in A.
  const canary =
    context.canary !== undefined && (causes.has('hostname') || causes.has('environment'))
      ? context.canary
      : undefined
  // Each side's own build roots first: a root of one component is no ABSOLUTE_PATH.
  const roots = (text: string, side: 0 | 1): string =>
    causes.has('build-path')
      ? context.roots[side]
          .filter((root) => root.length >= 4)
          .reduce((t, root) => t.split(root).join('\ufffc'), text)
      : text
  const [maskedA, maskedB] = [roots(restA, 0), roots(restB, 1)].map((text) =>
    masks.reduce((t, m) => m(t), text),
  )
  if (maskedA === undefined || maskedB === undefined || maskedA === maskedB) return undefined
  if (canary !== undefined) {
    // Bounded: a pattern of a region's size, with a wildcard per canary, only for a few
    // lines' worth; beyond that the canary's hint stands alone, as before.
    if (maskedB.length > 64 * 1024) return undefined
    const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    const words = maskedB.split(new RegExp(`[^\\s"'=:,;]*${escape(canary)}[^\\s"'=:,;]*`))
    if (words.length > 65) return undefined
    const pattern = new RegExp(`^${words.map(escape).join(`[^\\s"'=:,;]*`)}$`)
    if (words.length > 1 && pattern.test(maskedA)) return undefined
  }
  let at = 0
  while (at < maskedA.length && maskedA[at] === maskedB[at]) at++
  const around = (text: string): string =>
    JSON.stringify(text.slice(Math.max(0, at - 12), at + 20).replace(/\ufffc/g, '…'))
  const what = [...causes].map((c) => IN_THE_TEXT[c]).join(' and ')
  return { what, where: `A ${around(maskedA)}, B ${around(maskedB)}` }
}

function pathEvidence(a: Buffer, b: Buffer, context: HintContext): string | undefined {
  // A side's root counts only where that side holds it more often than the other side
  // does: a line naming A's directory on both sides (a path copied into the text, the
  // same in both) is not what the build path changed.
  const find = (own: Buffer, other: Buffer, roots: readonly string[]): string | undefined => {
    for (const root of roots) {
      if (root.length < 4) continue
      const at = own.indexOf(root)
      if (at !== -1 && occurrences(own, root) > occurrences(other, root))
        return `"${root}" at offset ${at}`
    }
    return undefined
  }
  const inA = find(a, b, context.roots[0])
  const inB = find(b, a, context.roots[1])
  if (inA === undefined && inB === undefined) return undefined
  return [
    inA === undefined ? undefined : `A holds its build path ${inA}`,
    inB === undefined ? undefined : `B holds its build path ${inB}`,
  ]
    .filter((x) => x !== undefined)
    .join('; ')
}

/** How many times `needle` occurs in `bytes`, counting to 10,000 at most. */
function occurrences(bytes: Buffer, needle: string): number {
  let count = 0
  for (let at = bytes.indexOf(needle); at !== -1 && count < 10_000; count++)
    at = bytes.indexOf(needle, at + 1)
  return count
}

// An absolute path of two components or more, as a build embeds it (not a URL's path).
export const ABSOLUTE_PATH = /(?<![A-Za-z0-9._~:/-])\/(?:[A-Za-z0-9._+@~-]+\/)+[A-Za-z0-9._+@~-]+/g

/**
 * Without the build roots (a plain diff of copied files): the differing parts hold, on
 * both sides, absolute paths to the same file under other directories, which is what
 * a build in another directory leaves (`/home/a/src/x.c` and `/tmp/b/src/x.c`).
 */
function movedPathEvidence(
  regionA: string,
  regionB: string,
  whole?: readonly [Buffer, Buffer],
): { evidence: string; pair: [string, string] } | undefined {
  const paths = (region: string): { text: string }[] =>
    [...region.matchAll(ABSOLUTE_PATH)].map((m) => ({ text: m[0] }))
  const [pathsA, pathsB] = [paths(regionA), paths(regionB)]
  const onlyA = withoutEach(pathsA, pathsB, byText).filter((x) => moreIn(whole, 0, x.text))
  const onlyB = withoutEach(pathsB, pathsA, byText).filter((y) => moreIn(whole, 1, y.text))
  for (const x of onlyA.slice(0, 32)) {
    if (SYSTEM_PATH.test(x.text)) continue
    const tail = x.text.slice(x.text.lastIndexOf('/'))
    const y = onlyB.find(
      (p) =>
        p.text.endsWith(tail) &&
        p.text !== x.text &&
        !SYSTEM_PATH.test(p.text) &&
        sharesFileName(x.text, p.text),
    )
    if (y !== undefined && !isVersionMove(x.text, y.text))
      return {
        evidence: `A holds "${x.text}", B "${y.text}": the same name under another directory`,
        pair: [x.text, y.text],
      }
  }
  return undefined
}

/**
 * The causes that turn one value into the other at one place of a structure (a .pyc's
 * constant, a class's string): the same file under another directory (build-path), a
 * written time (timestamp), or both; undefined when neither does. A bare number is not
 * read as a time here: a changed constant of ten digits is a changed constant.
 */
export function causesBetween(
  a: string,
  b: string,
  context?: Pick<HintContext, 'roots'> & Partial<Pick<HintContext, 'timeWindows'>>,
): ('build-path' | 'timestamp')[] | undefined {
  if (a === b) return []
  // The two build roots known (a twin build's): one put for the other is a build path,
  // whatever their names (run B's carries the canary, and lies deeper).
  for (const rootA of context?.roots[0] ?? [])
    if (rootA !== '' && a.includes(rootA))
      for (const rootB of context?.roots[1] ?? [])
        if (rootB !== '' && a.replaceAll(rootA, rootB) === b) return ['build-path']
  const causes: ('build-path' | 'timestamp')[] = []
  let moved = a
  const [pa] = a.match(ABSOLUTE_PATH) ?? []
  const [pb] = b.match(ABSOLUTE_PATH) ?? []
  if (pa !== undefined && pb !== undefined && pa !== pb) {
    const [from, to] = differingPrefixes(pa, pb)
    const tail = pa.slice(pa.lastIndexOf('/'))
    if (
      pb.endsWith(tail) &&
      from !== pa &&
      !SYSTEM_PATH.test(pa) &&
      !SYSTEM_PATH.test(pb) &&
      sharesFileName(pa, pb) &&
      !isVersionMove(pa, pb)
    ) {
      moved = a.replaceAll(from, to)
      causes.push('build-path')
    }
  }
  if (moved === b) return causes
  // `__TIME__` on its own: a clock time and nothing else.
  if (CLOCK_ONLY.test(moved) && CLOCK_ONLY.test(b)) return [...causes, 'timestamp']
  // A written time that could be when a build ran: from 1980 to the end of the window
  // (two years from now without one). `2025-01-01` put for `2099-12-31` is an expiry
  // moved, not a build's time.
  const latest =
    Math.max(...(context?.timeWindows?.map(([, to]) => to) ?? [Date.now() / 1000 + 2 * YEAR])) + DAY
  const masked = (text: string): string | undefined => {
    const times = findTimes(text).filter(
      (t) => t.written === true && t.seconds >= DOS_EPOCH - DAY && t.seconds <= latest,
    )
    if (times.length === 0) return undefined
    // A date, and the clock time that follows it after a space (`__DATE__ " " __TIME__`).
    return times.reduce(
      (out, t) =>
        out.replace(
          new RegExp(`${escapeRegExp(t.text)}(?: [0-2][0-9]:[0-5][0-9]:[0-5][0-9])?`, 'g'),
          '\ufffc',
        ),
      text,
    )
  }
  const [x, y] = [masked(moved), masked(b)]
  return x !== undefined && x === y ? [...causes, 'timestamp'] : undefined
}

const CLOCK_ONLY = /^[0-2][0-9]:[0-5][0-9]:[0-5][0-9]$/

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * Whether two paths differ only in one directory's version (`/opt/deps/zlib-1.2.13/lib`
 * and `/opt/deps/zlib-1.3.1/lib`): the same parts but one, and that one the same name
 * around another dotted version. That is another dependency, not another build directory.
 */
function isVersionMove(x: string, y: string): boolean {
  const [px, py] = [x.split('/'), y.split('/')]
  if (px.length !== py.length) return false
  const differing = px.flatMap((part, i) => (part === py[i] ? [] : [i]))
  const at = differing[0]
  if (at === undefined || differing.length !== 1) return false
  const [vx, vy] = [VERSIONED.exec(px[at] ?? ''), VERSIONED.exec(py[at] ?? '')]
  return vx !== null && vy !== null && vx[1] === vy[1] && vx[3] === vy[3]
}

// A name around a dotted version: `zlib-1.2.13`, `python3.11`, `gcc-12.2.0-r1`.
const VERSIONED = /^(\D*?)(\d+(?:\.\d+)+)(.*)$/

// Where the system keeps its headers and libraries: a path there is the toolchain's,
// not a build directory (two sides that include other system headers differ in code).
export const SYSTEM_PATH = /^\/(usr|lib|lib32|lib64|etc|bin|sbin|proc|sys|dev)(\/|$)/

/**
 * The same file under another directory: a last part that names a file (`x.c`, not a
 * bare directory name such as `include`), or the last two parts alike.
 */
function sharesFileName(x: string, y: string): boolean {
  const parts = (p: string): string[] => p.split('/').filter((s) => s !== '')
  const [px, py] = [parts(x), parts(y)]
  const last = px[px.length - 1] ?? ''
  if (/^[^.].*\.[A-Za-z0-9]+$/.test(last)) return true
  return px.length >= 2 && py.length >= 2 && px.slice(-2).join('/') === py.slice(-2).join('/')
}

// Debug sections hold the compilation directory (DW_AT_comp_dir) and source paths: two
// differing absolute paths there are where each side was built.
const DEBUG_STRINGS = /^\.(?:z?debug_(?:line_)?str|debug_line|debug_info)$/

/**
 * The strings of a structured binary's sections that only one side holds: the same
 * name under another directory in any section (a class's constants, .rodata), or, in
 * the debug string sections, an absolute path on each side (the compilation directory,
 * which has no file name to match).
 */
function sectionPathEvidence(sections: readonly ElfSectionDifference[]): string | undefined {
  for (const s of sections) {
    if (s.strings === undefined) continue
    const moved = movedPathEvidence(s.strings.a.join('\n'), s.strings.b.join('\n'))
    if (moved !== undefined) return `${moved.evidence} (${s.name})`
    if (!DEBUG_STRINGS.test(s.name)) continue
    const outside = (t: string): string[] =>
      [...t.matchAll(ABSOLUTE_PATH)].map((m) => m[0]).filter((p) => !SYSTEM_PATH.test(p))
    const [x] = s.strings.a.flatMap(outside)
    const [y] = s.strings.b.flatMap(outside)
    if (x === undefined || y === undefined) continue
    // Two directories only when moving one to the other turns every string only A holds
    // into one only B holds: two include directories of other libraries (their headers
    // differ too) are not where each side was compiled.
    const [from, to] = differingPrefixes(x, y)
    if (
      sameMultiset(
        s.strings.a.map((t) => t.replaceAll(from, to)),
        s.strings.b,
      )
    )
      return `A holds "${x}", B "${y}" in ${s.name}: the directories each side was compiled in`
  }
  return undefined
}

/** Two paths without the last components they share (`/a/one/src`, `/a/two/src`: `/a/one`, `/a/two`). */
export function differingPrefixes(x: string, y: string): [string, string] {
  const [px, py] = [x.split('/'), y.split('/')]
  while (px.length > 1 && py.length > 1 && px[px.length - 1] === py[py.length - 1]) {
    px.pop()
    py.pop()
  }
  return [px.join('/'), py.join('/')]
}

function sameMultiset(a: readonly string[], b: readonly string[]): boolean {
  const sorted = (xs: readonly string[]): string => JSON.stringify([...xs].sort())
  return a.length === b.length && sorted(a) === sorted(b)
}

/**
 * The same functions, laid out in another order: what linking the same objects in
 * another order does. A function added or removed shifts the others but keeps their
 * order, so it is not taken for this.
 */
function linkOrderEvidence(a: readonly string[], b: readonly string[]): string | undefined {
  if (a.length < 2 || a.length !== b.length || a.every((name, i) => name === b[i])) return undefined
  const same = (x: string): string => x
  if (withoutEach(a, b, same).length > 0) return undefined
  const first = a.findIndex((name, i) => name !== b[i])
  const show = (xs: readonly string[]): string => xs.slice(first, first + 4).join(', ')
  return `the same ${a.length} functions laid out in another order: A has ${show(a)}…, B ${show(b)}…`
}

/** Printable text around each differing byte range, where binaries keep their strings. */
function binaryRegions(a: Buffer, b: Buffer, diff: BinaryDiff | undefined): [string, string] {
  if (diff === undefined) return ['', '']
  const around = (bytes: Buffer, [start, end]: [number, number]): string => {
    let from = start
    let to = Math.min(end, bytes.length)
    while (from > 0 && from > start - 64 && isPrintable(bytes[from - 1])) from--
    while (to < bytes.length && to < end + 64 && isPrintable(bytes[to])) to++
    return bytes.subarray(from, to).toString('latin1')
  }
  // Every range the binary diff kept (it keeps at most 64), not only the first few.
  const { ranges } = diff
  return [ranges.map((r) => around(a, r)).join('\n'), ranges.map((r) => around(b, r)).join('\n')]
}

/**
 * A time stored as a raw 32-bit word (a PE or .pyc header, a custom format): only when
 * the sides' times are known, and only where, at the same offset and in the same byte
 * order, A's word falls in A's window and B's in B's, and the two differ.
 */
function binaryTimeEvidence(
  a: Buffer,
  b: Buffer,
  diff: BinaryDiff,
  context: HintContext,
): string | undefined {
  if (context.timesKnown !== true) return undefined
  const inside = (t: number, [from, to]: [number, number]): boolean => t >= from && t <= to
  for (const [start, end] of diff.ranges) {
    const last = Math.min(end, a.length - 4, b.length - 4)
    for (let at = Math.max(0, start - 3); at <= last; at++) {
      for (const order of ['LE', 'BE'] as const) {
        const x = order === 'LE' ? a.readUInt32LE(at) : a.readUInt32BE(at)
        const y = order === 'LE' ? b.readUInt32LE(at) : b.readUInt32BE(at)
        if (x !== y && inside(x, context.timeWindows[0]) && inside(y, context.timeWindows[1]))
          return `A: ${x} (${isoSeconds(x)}); B: ${y} (${isoSeconds(y)}), 32-bit ${order === 'LE' ? 'little' : 'big'}-endian at offset ${at}`
      }
    }
  }
  return undefined
}

function isoSeconds(t: number): string {
  return new Date(t * 1000).toISOString().replace('.000Z', 'Z')
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

interface FoundTime {
  /** UTC seconds: the zone's offset taken off when the text gives one as a number. */
  seconds: number
  text: string
  /** Day precision (__DATE__): compared by day, not by second. */
  dayOnly: boolean
  /** Written as a date (ISO 8601, RFC 2822, `date`, `__DATE__`), not as a bare number. */
  written?: boolean
  /** A zone named, not given as an offset (`CET`): the time is as read there, not UTC. */
  zoneName?: string
}

/** `Z`, `+02:00`, `+0200` (or none) as minutes east of UTC; undefined for none. */
function offsetMinutes(zone: string | undefined): number | undefined {
  if (zone === undefined || zone === '') return undefined
  if (zone === 'Z' || zone === 'UT' || zone === 'UTC' || zone === 'GMT') return 0
  const m = /^([+-])([0-9]{2}):?([0-9]{2})$/.exec(zone)
  if (m === null) return undefined
  const minutes = Number(m[2]) * 60 + Number(m[3])
  return m[1] === '-' ? -minutes : minutes
}

/** A written time: its fields read as UTC, then its zone's offset taken off. */
function writtenTime(
  text: string,
  [year, month, day, hour, minute, second]: number[],
  zone: string | undefined,
): FoundTime {
  const local =
    Date.UTC(year ?? 0, month ?? 0, day ?? 1, hour ?? 0, minute ?? 0, second ?? 0) / 1000
  const offset = offsetMinutes(zone)
  const named = zone !== undefined && zone !== '' && offset === undefined
  return {
    seconds: local - (offset ?? 0) * 60,
    text,
    dayOnly: false,
    written: true,
    ...(named ? { zoneName: zone } : {}),
  }
}

/**
 * Every plausible time written in a region: epoch numbers (s, ms, µs, ns) standing on
 * their own, ISO 8601 (with its zone, or a day alone), RFC 2822 (mail, Debian
 * changelogs), `date` and `__DATE__` forms.
 */
export function findTimes(region: string): FoundTime[] {
  const found: FoundTime[] = []
  // A number inside a run of letters and digits (hex data, an id) is no time.
  for (const m of region.matchAll(
    /(?<![0-9A-Za-z])([0-9]{10})([0-9]{3}|[0-9]{6}|[0-9]{9})?(?![0-9A-Za-z])/g,
  )) {
    found.push({ seconds: Number(m[1]), text: `${m[1]}${m[2] ?? ''}`, dayOnly: false })
  }
  for (const m of region.matchAll(
    /([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?(?: ?(Z|[+-][0-9]{2}:?[0-9]{2})(?![0-9]))?/g,
  )) {
    const [, y, mo, d, h, mi, sec, zone] = m
    found.push(
      writtenTime(
        m[0],
        [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec ?? 0)],
        zone,
      ),
    )
  }
  const monthNames = MONTHS.join('|')
  // RFC 2822: `24 Jun 2015 19:40:02 +0200` (after an optional weekday).
  for (const m of region.matchAll(
    new RegExp(
      `(?<![0-9])([0-9]{1,2}) (${monthNames}) ([0-9]{4}) ([0-9]{2}):([0-9]{2})(?::([0-9]{2}))? ([+-][0-9]{4}|UT|UTC|GMT|Z|[A-Z]{3,5})(?![0-9A-Za-z])`,
      'g',
    ),
  )) {
    const [, d, mon, y, h, mi, sec, zone] = m
    found.push(
      writtenTime(
        m[0],
        [Number(y), MONTHS.indexOf(mon ?? ''), Number(d), Number(h), Number(mi), Number(sec ?? 0)],
        zone,
      ),
    )
  }
  // `date`'s default form: `Nov 21 14:20:33 CET 2015`.
  for (const m of region.matchAll(
    new RegExp(
      `(${monthNames}) +([0-9]{1,2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})(?: ([A-Z]{2,5}|[+-][0-9]{4}))? ([0-9]{4})`,
      'g',
    ),
  )) {
    const [, mon, d, h, mi, sec, zone, y] = m
    found.push(
      writtenTime(
        m[0],
        [Number(y), MONTHS.indexOf(mon ?? ''), Number(d), Number(h), Number(mi), Number(sec)],
        zone,
      ),
    )
  }
  for (const m of region.matchAll(new RegExp(`(${monthNames}) ([ 0-9][0-9]) ([0-9]{4})`, 'g'))) {
    const t = Date.UTC(Number(m[3]), MONTHS.indexOf(m[1] ?? ''), Number((m[2] ?? '').trim())) / 1000
    found.push({ seconds: t, text: m[0], dayOnly: true, written: true })
  }
  // A day alone in ISO 8601 (`date +%F`), not the start of a time the pattern above took.
  for (const m of region.matchAll(
    /(?<![0-9A-Za-z-])((?:19|2[0-9])[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(?![0-9A-Za-z-]|[T ][0-9]{2}:)/g,
  )) {
    const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 1000
    found.push({ seconds: t, text: m[0], dayOnly: true, written: true })
  }
  return found
}

/**
 * What a time looks like, digits and letters aside: a time that changed between the
 * runs is written the same way in both (`2015-06-24 12:42+0200`, ten digits), where two
 * numbers of another length, or a number and a date, are two unrelated things.
 */
function shapeOf(t: FoundTime): string {
  if (t.written !== true) return `a number of ${t.text.length} digits`
  return t.text
    .replace(/[0-9]+/g, '0')
    .replace(/[A-Za-z]+/g, 'a')
    .replace(/\s+/g, ' ')
}

const WEEKDAY_BEFORE_TIME =
  /\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)(?:day|sday|nesday|rsday|urday)?,? ?(?=\ufffc)/g

/**
 * `text` (latin1, as regions are read) occurs more often in side `side`'s bytes than in
 * the other's: one both hold as often moved, it did not change. True without the bytes.
 */
function moreIn(whole: readonly [Buffer, Buffer] | undefined, side: 0 | 1, text: string): boolean {
  if (whole === undefined) return true
  const needle = Buffer.from(text, 'latin1')
  const count = (bytes: Buffer, cap: number): number => {
    let n = 0
    for (let at = bytes.indexOf(needle); at !== -1 && n <= cap; at = bytes.indexOf(needle, at + 1))
      n++
    return n
  }
  const own = count(whole[side], 1000)
  return count(whole[side === 0 ? 1 : 0], own) < own
}

/**
 * Whether a bare number in a region is given as a time: alone on its line, first on it
 * (a log's `[1733600000] starting`), or after a word of time among the words of the 48
 * characters before it, identifiers split at `_`, `.`, `-` and case (`buildTime`,
 * `BUILD_TS`, `created_at`; not `timeout` or `mandate`).
 */
function labelledTime(region: string, text: string): boolean {
  for (let i = region.indexOf(text); i !== -1; i = region.indexOf(text, i + 1)) {
    const start = region.lastIndexOf('\n', i) + 1
    const end = region.indexOf('\n', i)
    const line = region.slice(start, end === -1 ? region.length : end)
    if (line.trim() === text || /^\s*\[?$/.test(region.slice(start, i))) return true
    const words = region
      .slice(Math.max(start, i - 48), i)
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .toLowerCase()
      .split(/[^a-z]+/)
    if (words.some((w) => TIME_WORDS.has(w))) return true
  }
  return false
}

const TIME_WORDS = new Set([
  'time',
  'times',
  'timestamp',
  'date',
  'datetime',
  'stamp',
  'ts',
  'epoch',
  'unix',
  'build',
  'built',
  'created',
  'modified',
  'update',
  'updated',
  'generated',
  'mtime',
  'ctime',
  'atime',
  'expires',
  'expiry',
])

function timeEvidence(
  regionA: string,
  regionB: string,
  context: HintContext,
  whole?: readonly [Buffer, Buffer],
):
  | {
      evidence: string
      masked: readonly [string, string]
      pair: [string, string]
      inZones?: true
    }
  | undefined {
  // Without known times, a date written as one is a date whatever its year (a
  // catalog's revision date from years ago); a bare number must be near now to count.
  const plausible = (t: FoundTime, [guessFrom, to]: [number, number]): boolean => {
    const from = context.timesKnown !== true && t.written === true ? DOS_EPOCH : guessFrom
    return t.dayOnly
      ? t.seconds >= from - DAY && t.seconds <= to + DAY
      : t.seconds >= from && t.seconds <= to
  }
  const zones = context.epochInZones
  const inZones = (t: FoundTime): boolean =>
    zones !== undefined && t.written === true && plausible(t, zones)
  // Without known times, a bare number must be said to be one too (`buildTime: …`, a
  // stamp alone on its line): a ten-digit setting that changed (`max_bytes =
  // 1700000000`) falls in a ten-year window as readily as a time.
  const said = (region: string) => (t: FoundTime) =>
    context.timesKnown === true || t.written === true || labelledTime(region, t.text)
  const timesA = findTimes(regionA).filter(
    (t) => (plausible(t, context.timeWindows[0]) && said(regionA)(t)) || inZones(t),
  )
  const timesB = findTimes(regionB).filter(
    (t) => (plausible(t, context.timeWindows[1]) && said(regionB)(t)) || inZones(t),
  )
  // Counted, not merely looked up: a date that stayed in one line and changed in
  // another appears on both sides once, and the changed one is still only A's.
  const onlyA = withoutEach(timesA, timesB, byText).filter((t) => moreIn(whole, 0, t.text))
  const onlyB = withoutEach(timesB, timesA, byText).filter((t) => moreIn(whole, 1, t.text))
  // A time on one side only is not a time that changed between the runs; nor is a
  // pair written in two ways.
  const x = onlyA.find((t) => onlyB.some((u) => shapeOf(u) === shapeOf(t)))
  const y = x === undefined ? undefined : onlyB.find((u) => shapeOf(u) === shapeOf(x))
  if (x === undefined || y === undefined) return undefined
  // A zone named, not given as an offset, cannot be turned into UTC here: shown as read.
  const show = (t: FoundTime): string =>
    t.zoneName === undefined
      ? `${t.text} (${isoSeconds(t.seconds)})`
      : `${t.text} (${isoSeconds(t.seconds).replace('T', ' ').replace('Z', ` ${t.zoneName}`)})`
  // With every time found taken out, what still differs.
  // A weekday goes with its date (`date` writes `Tue Nov 14 ...`): it changes with it.
  const masked = (region: string, times: readonly FoundTime[]): string =>
    times
      .reduce((text, t) => text.split(t.text).join('\ufffc'), region)
      .replace(WEEKDAY_BEFORE_TIME, '\ufffc')
  // Both the epoch, apart by what a zone makes of it (the same instant written with two
  // offsets, whole quarter hours of a zone, a day): the zone's doing, even where the
  // epoch is also when the runs ran (a commit of the day). Two clock readings seconds
  // apart are not.
  const apart = Math.abs(x.seconds - y.seconds)
  const zoned =
    inZones(x) && inZones(y) && (x.dayOnly ? apart <= DAY : apart % 900 === 0 && apart <= 26 * 3600)
  return {
    evidence: `A: ${show(x)}; B: ${show(y)}${zoned ? ': SOURCE_DATE_EPOCH written in two time zones' : ''}`,
    masked: [masked(regionA, timesA), masked(regionB, timesB)],
    pair: [x.text, y.text],
    ...(zoned ? { inZones: true as const } : {}),
  }
}

/**
 * Two JSON documents that hold the same values with their object keys in another order.
 * Parsed only below 1 MiB a side: larger ones are left to the text diff.
 */
function jsonKeyOrder(a: Buffer, b: Buffer): string | undefined {
  if (a.length > 1024 * 1024 || b.length > 1024 * 1024) return undefined
  let x: unknown
  let y: unknown
  try {
    x = JSON.parse(a.toString('utf8'))
    y = JSON.parse(b.toString('utf8'))
  } catch {
    return undefined
  }
  if (typeof x !== 'object' || x === null || canonicalJson(x) !== canonicalJson(y)) return undefined
  // Equal as written again in their own key order: only white space differs, not order.
  if (JSON.stringify(x) === JSON.stringify(y)) return undefined
  // Parsed, a key given twice keeps its last value and a number past 2^53 rounds: the
  // values as written must be the same too, each string and number as many times.
  const tokens = (bytes: Buffer): string =>
    JSON.stringify([...bytes.toString('utf8').matchAll(JSON_TOKEN)].map((m) => m[0]).sort())
  if (tokens(a) !== tokens(b)) return undefined
  return 'the same JSON values, with object keys in another order'
}

// A JSON string or number as written (not its punctuation).
const JSON_TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/g

/** The same text but for a line break at the end of one side: no line moved. */
function onlyFinalNewline(a: Buffer, b: Buffer): boolean {
  const trimmed = (x: Buffer): Buffer =>
    x.subarray(0, x.length - (x.at(-1) === 0x0a ? (x.at(-2) === 0x0d ? 2 : 1) : 0))
  return trimmed(a).equals(trimmed(b))
}

function isReordering(text: TextDiff): boolean {
  if (text.removed.length === 0 || text.removed.length !== text.added.length) return false
  const sorted = (lines: string[]): string => [...lines].sort().join('\n')
  return sorted(text.removed) === sorted(text.added)
}

/** Hints for differing metadata fields of one archive member or compressed stream. */
/** Time fields of binary formats (formats/binary-headers.ts), each with its own fix. */
const KNOWN_TIME_FIELDS: Readonly<Record<string, string>> = {
  'source mtime':
    'compile with SOURCE_DATE_EPOCH set (py_compile then writes hash-based .pyc), or python -m compileall --invalidation-mode checked-hash',
  'COFF time':
    'link with a fixed time stamp: /Brepro (MSVC link), --no-insert-timestamp (MinGW ld), or SOURCE_DATE_EPOCH where the linker honours it',
  'debug time':
    'link with a fixed time stamp: /Brepro (MSVC link), --no-insert-timestamp (MinGW ld), or SOURCE_DATE_EPOCH where the linker honours it',
  // An RPM's build time and the times of its files (rpm 4.14 and later honour these).
  'build time':
    "set SOURCE_DATE_EPOCH and define %use_source_date_epoch_as_buildtime 1 (rpmbuild --define 'use_source_date_epoch_as_buildtime 1')",
  'file mtimes':
    "set SOURCE_DATE_EPOCH and define %clamp_mtime_to_source_date_epoch 1 (rpmbuild --define 'clamp_mtime_to_source_date_epoch 1')",
  tIME: 'leave the tIME chunk out (optipng -strip all, convert -define png:exclude-chunks=date,time) or reproof normalize',
  ...Object.fromEntries(
    [
      'volume creation time',
      'volume modification time',
      'volume expiration time',
      'volume effective time',
      'root directory time',
      'file times',
    ].map((field) => [
      field,
      'make the image with xorriso, which takes the volume dates from SOURCE_DATE_EPOCH (genisoimage does not), after giving the files a fixed mtime (find DIR -exec touch -h -d @$SOURCE_DATE_EPOCH {} +), whence the directory records take theirs',
    ]),
  ),
  ...Object.fromEntries(
    [
      'superblock mount time',
      'superblock write time',
      'superblock check time',
      'file system creation time',
    ].map((field) => [
      field,
      'make the image with mke2fs -d DIR rather than by mounting it, with SOURCE_DATE_EPOCH set (E2FSPROGS_FAKE_TIME before e2fsprogs 1.47.1) and fixed ids: -U UUID -E hash_seed=UUID',
    ]),
  ),
  'profile creation time':
    "write the profile with a fixed creation date in its header (the tool that makes it stamps the clock's; its profile ID changes with it)",
  'head created':
    "set SOURCE_DATE_EPOCH: fontTools and FontForge take the head table's times from it",
  'head modified':
    "set SOURCE_DATE_EPOCH: fontTools and FontForge take the head table's times from it",
}

/** Time fields that list a time per file: an RPM's file mtimes, an ISO image's record times. */
const TIME_LISTS: ReadonlySet<string> = new Set(['file mtimes', 'file times'])

/**
 * How many times a list field holds, as the scanners write it: `N values, ...` or
 * `N records, ...` when summed up, a JSON array, or values joined by ", ".
 */
function timeListLength(value: string): number {
  const counted = /^(\d+) (?:values|records)\b/.exec(value)
  if (counted !== null) return Number(counted[1])
  if (value.startsWith('[')) {
    try {
      const list: unknown = JSON.parse(value)
      if (Array.isArray(list)) return list.length
    } catch {
      // Not JSON after all: counted as joined text.
    }
  }
  return value === '' || value === '(absent)' ? 0 : value.split(', ').length
}

/** The last component of a Windows or POSIX path. */
function baseName(p: string): string {
  return p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1)
}

/**
 * `contentDiffers`: the member's content differs too, so a compressed size or method
 * that differs says nothing of the compressor (new content compresses differently).
 */
export function fieldHints(
  fields: readonly FieldDifference[],
  {
    contentDiffers = false,
    rest = false,
  }: {
    contentDiffers?: boolean
    /**
     * Where a cause is found for some fields, name the others as unexplained: a time
     * beside a link target or a capability that changed must not stand for all of them.
     */
    rest?: boolean
  } = {},
): Hint[] {
  const hints: Hint[] = []
  const unexplained: string[] = []
  let explained = false
  const add = (hint: Hint): void => {
    explained = true
    if (!hints.some((h) => h.cause === hint.cause)) hints.push(hint)
  }
  for (const f of fields) {
    explained = false
    // A compressed size or method beside content that differs follows from the content.
    if (contentDiffers && COMPRESSION_FIELDS.includes(f.field)) explained = true
    fieldHint(f, add, contentDiffers)
    if (!explained) unexplained.push(f.field)
  }
  if (rest && hints.length > 0 && unexplained.length > 0)
    hints.push({
      cause: 'unexplained',
      evidence: `no cause found for ${unexplained.join(', ')}`,
      fix: FIX.unexplained,
    })
  return hints
}

const COMPRESSION_FIELDS = [
  'compressed size',
  'method',
  'extra flags',
  'block size',
  'frame descriptor',
]

/** The hint one field difference gives, if any, through `add`. */
function fieldHint(f: FieldDifference, add: (hint: Hint) => void, contentDiffers: boolean): void {
  const evidence = `${f.field}: ${f.a} → ${f.b}`
  // The second and later entries of a kind are numbered (`debug time 2`).
  const kind = f.field.replace(/ \d+$/, '')
  const known = KNOWN_TIME_FIELDS[kind]
  if (known !== undefined) {
    // A list of every file's time that grew or shrank differs for the files, whatever
    // their times: a file added is no time stamp.
    const lists = TIME_LISTS.has(kind) ? [f.a, f.b].map(timeListLength) : []
    // A time on one side only is another layout (a .pyc checked by hash, which holds no
    // time; a PE debug entry more), not a time that moved.
    const oneSided = !TIME_LISTS.has(kind) && (f.a === '(absent)' || f.b === '(absent)')
    if (lists[0] === lists[1] && !oneSided) add({ cause: 'timestamp', evidence, fix: known })
  } else if (
    f.field === 'mtime' ||
    f.field === 'local mtime' ||
    // PAX's own time records, not every key that ends so (`SCHILY.xattr.user.runtime`).
    /^pax\.(mtime|atime|ctime|LIBARCHIVE\.creationtime)$/.test(f.field)
  ) {
    add({
      cause: 'timestamp',
      evidence,
      fix: 'clamp times to SOURCE_DATE_EPOCH: tar --mtime=@$SOURCE_DATE_EPOCH --clamp-mtime, gzip -n, or reproof normalize',
    })
  } else if (f.field === 'extra fields' || f.field === 'local extra fields') {
    // By the fields that differ, not the fields there are: a time field alike on both
    // sides says nothing of an owner field that is not.
    const changed = changedExtraFields(f.a, f.b)
    if (changed.has('0x5455') || changed.has('0x000a'))
      add({
        cause: 'timestamp',
        evidence: `zip extra fields with timestamps differ (${['0x5455', '0x000a'].filter((id) => changed.has(id)).join(', ')}: ${f.a} → ${f.b})`,
        fix: 'zip -X leaves them out; or reproof normalize',
      })
    if (changed.has('0x7875') || changed.has('0x7855'))
      add({
        cause: 'user',
        evidence: `zip extra fields with owners differ (${['0x7875', '0x7855'].filter((id) => changed.has(id)).join(', ')}: ${f.a} → ${f.b})`,
        fix: 'zip -X leaves them out; or reproof normalize',
      })
  } else if (f.field === 'mode' || f.field === 'external attributes') {
    const hint = modeHint(f)
    if (hint !== undefined) add(hint)
  } else if (['inode', 'links', 'file system device'].includes(f.field)) {
    add({
      cause: 'filesystem',
      evidence,
      fix: 'cpio --reproducible (GNU cpio: --ignore-devno --renumber-inodes), or reproof normalize',
    })
  } else if (/^(pax\.)?(uid|gid|uname|gname)$/.test(f.field)) {
    // PAX's owner records too: a uid past the header's 8 octal digits is only there.
    add({ cause: 'user', evidence, fix: 'tar --owner=0 --group=0 --numeric-owner' })
  } else if (f.field === 'name' && (f.a.includes('/') || f.b.includes('/'))) {
    // A path in the header is where the build wrote the file; two bare names (`big1`,
    // `big2`) are two files, which says nothing of where either was built.
    add({ cause: 'build-path', evidence, fix: 'gzip -n leaves the file name out of the header' })
  } else if (f.field === 'name') {
    // Two bare names, or a name on one side only (gzip against gzip -n): no cause to
    // name, but the header field that holds it, and how to leave it out, are known.
    add({
      cause: 'unexplained',
      evidence: `the gzip header holds the name of the file compressed, and it differs (${evidence})`,
      fix: 'gzip -n leaves the file name out of the header (or reproof normalize)',
    })
  } else if (f.field === 'unique font identifier' && sameButDates(f.a, f.b)) {
    add({
      cause: 'timestamp',
      evidence,
      fix: 'set SOURCE_DATE_EPOCH: FontForge takes the date in the unique identifier from it',
    })
  } else if (f.field === 'last mounted on' && f.a !== '' && f.b !== '') {
    add({
      cause: 'build-path',
      evidence,
      fix: 'make the image with mke2fs -d DIR rather than by mounting it where the build runs',
    })
  } else if (f.field === 'build host') {
    add({
      cause: 'hostname',
      evidence,
      fix: "define the build host: rpmbuild --define '_buildhost reproducible'",
    })
  } else if (f.field === 'PDB path' && baseName(f.a) === baseName(f.b)) {
    // The same PDB in another directory: where each side was linked.
    add({
      cause: 'build-path',
      evidence,
      fix: 'write a relative PDB path: /PDBALTPATH:%_PDB% (MSVC link), or -ffile-prefix-map (MinGW)',
    })
  } else if (f.field === 'PDB path') {
    // Another file's name is another debug file, not another directory.
    add({
      cause: 'unexplained',
      evidence: `the PDB path names another file (${evidence})`,
      fix: FIX.unexplained,
    })
  } else if (!contentDiffers && COMPRESSION_FIELDS.includes(f.field)) {
    add({
      cause: 'compression',
      evidence,
      fix: 'use the same compressor, version and level on both sides (or compare with reproof normalize --mode compare)',
    })
  }
}

/** The ids of zip extra fields (`0xID:hex`, space-separated) whose values differ between the sides. */
function changedExtraFields(a: string, b: string): Set<string> {
  const fields = (text: string): Map<string, string[]> => {
    const out = new Map<string, string[]>()
    for (const token of text.split(' ')) {
      const [id = '', value = ''] = token.split(':')
      out.set(id, [...(out.get(id) ?? []), value])
    }
    return out
  }
  const [x, y] = [fields(a), fields(b)]
  const changed = new Set<string>()
  for (const id of new Set([...x.keys(), ...y.keys()]))
    if ((x.get(id) ?? []).join(' ') !== (y.get(id) ?? []).join(' ')) changed.add(id)
  return changed
}

// A day-month-year date as FontForge writes it (`23-6-2015`).
const DMY = /\b([0-3]?\d)-([01]?\d)-((?:19|20)\d\d)\b/g

/** Two texts that differ only in valid day-month-year dates, which differ. */
function sameButDates(a: string, b: string): boolean {
  const valid = (text: string): boolean =>
    [...text.matchAll(DMY)].every(
      ([, d, m]) => Number(d) >= 1 && Number(d) <= 31 && Number(m) >= 1 && Number(m) <= 12,
    )
  const strip = (text: string): string => text.replace(DMY, 'DATE')
  // matchAll, not test: a global pattern's test starts where its last match ended.
  return a !== b && [...a.matchAll(DMY)].length > 0 && valid(a) && valid(b) && strip(a) === strip(b)
}

function modeHint(f: FieldDifference): Hint | undefined {
  // A mode that is no number (a damaged header's `10 644`) is read as none: parseInt
  // stopped at the space and read 010, and an exec bit was named for a broken field.
  const number = f.field === 'mode' ? /^[0-7]{1,12}$/ : /^0x[0-9a-f]{1,8}$/i
  if (!number.test(f.a) || !number.test(f.b)) return undefined
  const a = Number.parseInt(f.a, f.field === 'mode' ? 8 : 16)
  const b = Number.parseInt(f.b, f.field === 'mode' ? 8 : 16)
  const changed = (f.field === 'mode' ? a ^ b : (a ^ b) >>> 16) & 0o7777
  // Only an MS-DOS attribute (the archive bit) or the file type bits differ (a writer's
  // 0100644 against 0644): no permission did. Said so, not "no cause found", which sent
  // people to rebuild one variation at a time for two writers' ways of storing a mode.
  if (changed === 0)
    return {
      cause: 'unexplained',
      evidence: `${f.field}: ${f.a} → ${f.b}: the same permissions; only ${f.field === 'mode' ? 'the file-type bits' : 'the file-type bits or an MS-DOS attribute (the archive bit)'} differ, as two archivers store a mode apart`,
      fix: 'write the archive with one tool and its options (ar D, zip -X), or reproof normalize, which writes both alike',
    }
  // Only group and other bits: what a umask takes away (022 against 002 for write, 077
  // against 022 for a private one, which takes the exec bits of group and other too).
  if (changed !== 0 && (changed & ~0o077) === 0) {
    return {
      cause: 'umask',
      evidence: `${f.field}: ${f.a} → ${f.b} (group/other ${(changed & ~0o022) === 0 ? 'write bits' : 'permission bits'})`,
      fix: 'set umask 022 for the build, or normalize modes: tar --mode=go-w',
    }
  }
  // The exec bit is part of an artifact: normalizing keeps it, so the build must set it.
  if ((changed & 0o111) !== 0)
    return {
      cause: 'permissions',
      evidence: `${f.field}: ${f.a} → ${f.b} (the exec bit)`,
      fix: 'set the exec bit explicitly in the build (chmod, install -m 0755 or 0644); normalizing keeps it as it is',
    }
  return {
    cause: 'permissions',
    evidence: `${f.field}: ${f.a} → ${f.b}`,
    fix: 'normalize modes: tar --mode=u+rw,go=rX (or reproof normalize)',
  }
}

/**
 * The order of the entries both sides hold, from where it first parts (`a`, `b`);
 * `elsewhere` entries are on one side only or renamed, and are not "the same entries".
 */
export function orderHint(
  a: readonly string[],
  b: readonly string[],
  { common, elsewhere }: { common: number; elsewhere: number } = { common: a.length, elsewhere: 0 },
): Hint {
  const which =
    elsewhere === 0
      ? 'same entries, different order'
      : `the ${common} entries both sides hold, in another order (${elsewhere} more on one side only or renamed)`
  return {
    cause: 'ordering',
    evidence: `${which}: first ${a.slice(0, 3).join(', ')} vs ${b.slice(0, 3).join(', ')}`,
    fix: 'add entries in sorted order: tar --sort=name; find . | LC_ALL=C sort | zip -X -@',
  }
}

/** Lines of a text, the last one counted whether or not it ends in a line break. */
function lineCount(text: Buffer): number {
  let n = 0
  for (let i = text.indexOf(0x0a); i !== -1; i = text.indexOf(0x0a, i + 1)) n++
  return n + (text.length > 0 && text.at(-1) !== 0x0a ? 1 : 0)
}
