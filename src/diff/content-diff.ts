import type { StructuredPatchHunk } from 'diff/lib/types.js'
import { toDisplayText } from '../file-names.js'
import { partAt, type ElfPart } from '../formats/elf.js'

// Myers diff is quadratic in the worst case; past these it is not worth waiting for.
const MAX_TEXT_DIFF_BYTES = 4 * 1024 * 1024
const TEXT_DIFF_TIMEOUT_MS = 2000
/**
 * The time every text diff of one comparison may take in all: each has its own limit,
 * and thirty crafted pairs at 2 s each held a diff for a minute (more files, longer).
 */
export const TEXT_DIFFS_TOTAL_MS = 20_000

export interface TextDiff {
  unified: string
  truncated: boolean
  removed: string[]
  added: string[]
}

/** A unified diff limited to `maxLines` lines, and the changed lines for the hints. */
export async function diffText(
  a: string,
  b: string,
  labels: [string, string],
  maxLines: number,
  /** What is left of the comparison's time for text diffs (TEXT_DIFFS_TOTAL_MS). */
  timeoutMs = TEXT_DIFF_TIMEOUT_MS,
): Promise<TextDiff | undefined> {
  if (a.length + b.length > MAX_TEXT_DIFF_BYTES) return undefined
  // The two modules it needs, not the package's index (fifteen modules: word, CSS, JSON
  // diffs and patch application), which a tree's first differing text file waited for.
  const [{ structuredPatch }, { lineDiff }] = await Promise.all([
    import('diff/lib/patch/create.js'),
    import('diff/lib/diff/line.js'),
  ])
  const disjoint = disjointHunk(
    lineDiff.tokenize(a, { newlineIsToken: false }),
    lineDiff.tokenize(b, { newlineIsToken: false }),
  )
  const patch =
    disjoint === undefined
      ? structuredPatch(labels[0], labels[1], a, b, '', '', {
          context: 3,
          timeout: Math.min(TEXT_DIFF_TIMEOUT_MS, timeoutMs),
        })
      : { hunks: [disjoint] }
  if (patch === undefined) return undefined
  // A label is a name: one that is not UTF-8 shows its bytes as \xNN, as everywhere.
  const lines = [`--- ${toDisplayText(labels[0])}`, `+++ ${toDisplayText(labels[1])}`]
  const removed: string[] = []
  const added: string[] = []
  for (const hunk of patch.hunks) {
    lines.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`)
    for (const line of hunk.lines) {
      lines.push(line)
      if (line.startsWith('-')) removed.push(line.slice(1))
      else if (line.startsWith('+')) added.push(line.slice(1))
    }
  }
  const truncated = lines.length > maxLines
  return { unified: lines.slice(0, maxLines).join('\n'), truncated, removed, added }
}

/**
 * The patch of two texts that share no line (lines as jsdiff tokenizes them): every line
 * of A removed, every line of B added, in the form structuredPatch gives. Myers' search
 * takes (N + M)² steps for them, with an allocation each in jsdiff: 8 ms and its garbage
 * for two 200-line files, and a rebuilt file of hashes or random bytes is just that.
 * Undefined when they share a line, or are both empty.
 */
export function disjointHunk(
  a: readonly string[],
  b: readonly string[],
): StructuredPatchHunk | undefined {
  if (a.length + b.length === 0) return undefined
  const inA = new Set(a)
  if (b.some((line) => inA.has(line))) return undefined
  const side = (tokens: readonly string[], mark: string): string[] => {
    const lines = tokens.map((t) => mark + (t.endsWith('\n') ? t.slice(0, -1) : t))
    if (tokens.length > 0 && !(tokens.at(-1) ?? '').endsWith('\n'))
      lines.push('\\ No newline at end of file')
    return lines
  }
  return {
    oldStart: 1,
    oldLines: a.length,
    newStart: 1,
    newLines: b.length,
    lines: [...side(a, '-'), ...side(b, '+')],
  }
}

export interface BinaryDiff {
  offset: number
  differingBytes: number
  hex: [string, string]
  /** Up to 64 [start, end) ranges of differing bytes, for the hints. */
  ranges: [number, number][]
  /** How many ranges there are in all (the list above stops at 64). */
  places: number
}

/** One place where two binaries differ, as the report shows it. */
export interface BinaryRegion {
  offset: number
  length: number
  /** The ELF section (or header) it lies in, by A's layout. */
  section?: string
  /** The printable strings around it on each side, when both sides are text there. */
  strings?: [string, string]
}

// Ranges closer than this are one place: a path whose middle changed is one difference.
const REGION_GAP = 8
// Regions listed per item; the rest are counted.
export const MAX_REGIONS = 16

// Pieces compared with memcmp first: equal ones (most of a large binary) are skipped
// whole, and only a piece that differs is walked byte by byte.
const PIECE = 64 * 1024

/**
 * The ranges where two byte sequences differ, fed piece by piece in order (equal
 * lengths per piece, at their offset), so that sequences too large to hold can be
 * compared as they stream. `finish` adds the tail one side has beyond the other.
 */
export class DifferingRanges {
  private firstAt = -1
  private differing = 0
  private readonly ranges: [number, number][] = []
  private places = 0
  private start = -1

  feed(x: Buffer, y: Buffer, at: number): void {
    for (let from = 0; from < x.length; from += PIECE) {
      const to = Math.min(from + PIECE, x.length)
      if (x.subarray(from, to).equals(y.subarray(from, to))) {
        this.close(at + from)
        continue
      }
      this.walk(x, y, from, to, at)
    }
  }

  // The byte loop of a differing piece, on locals: after a shift (a longer path early
  // in an object file) every byte to the end differs, and this loop is the whole cost.
  private walk(x: Buffer, y: Buffer, from: number, to: number, at: number): void {
    let start = this.start
    let differing = 0
    for (let i = from; i < to; i++) {
      if (x[i] !== y[i]) {
        differing++
        if (start === -1) start = at + i
      } else if (start !== -1) {
        this.start = start
        this.close(at + i)
        start = -1
      }
    }
    if (differing > 0 && this.firstAt === -1) this.firstAt = firstDifference(x, y, from, to) + at
    this.differing += differing
    this.start = start
  }

  /** The first differing offset within the common length, once one is found. */
  first(): number | undefined {
    return this.firstAt === -1 ? undefined : this.firstAt
  }

  /** The result, once both sides' lengths are known. */
  finish(lengthA: number, lengthB: number): Omit<BinaryDiff, 'hex'> {
    const common = Math.min(lengthA, lengthB)
    this.close(common)
    if (lengthA !== lengthB) this.add([common, Math.max(lengthA, lengthB)])
    return {
      offset: this.firstAt === -1 ? common : this.firstAt,
      differingBytes: this.differing + Math.abs(lengthA - lengthB),
      ranges: this.ranges,
      places: this.places,
    }
  }

  private close(at: number): void {
    if (this.start === -1) return
    this.add([this.start, at])
    this.start = -1
  }

  private add(range: [number, number]): void {
    this.places++
    if (this.ranges.length < 64) this.ranges.push(range)
  }
}

function firstDifference(x: Buffer, y: Buffer, from: number, to: number): number {
  for (let i = from; i < to; i++) if (x[i] !== y[i]) return i
  return to
}

/** Where a hex dump around the first difference starts: the row before it. */
export function hexFrom(offset: number): number {
  return Math.max(0, (offset & ~0xf) - 16)
}

/** First differing offset, the count of differing bytes, and a hex dump around the first one. */
export function diffBinary(a: Buffer, b: Buffer): BinaryDiff {
  const common = Math.min(a.length, b.length)
  const ranges = new DifferingRanges()
  ranges.feed(a.subarray(0, common), b.subarray(0, common), 0)
  const found = ranges.finish(a.length, b.length)
  const from = hexFrom(found.offset)
  return { ...found, hex: [hexDump(a, from, 64), hexDump(b, from, 64)] }
}

/**
 * The places two binaries differ, ranges a few bytes apart taken as one, each with the
 * ELF section it lies in (when A is ELF) and, where both sides are printable there, the
 * strings that differ: the embedded path, date or seed itself. At most MAX_REGIONS.
 */
export function describeRegions(
  a: Buffer,
  b: Buffer,
  diff: BinaryDiff,
  /** A's ELF layout, when A is ELF: each place is named by its section. */
  layout?: readonly ElfPart[],
): { regions: BinaryRegion[]; unlisted: number } {
  const merged: { start: number; end: number; ranges: number }[] = []
  for (const [start, end] of diff.ranges) {
    const last = merged[merged.length - 1]
    if (last !== undefined && start - last.end <= REGION_GAP) {
      last.end = end
      last.ranges++
    } else merged.push({ start, end, ranges: 1 })
  }
  const shown = merged.slice(0, MAX_REGIONS)
  const regions = shown.map(({ start, end }): BinaryRegion => {
    const section = layout === undefined ? undefined : partAt(layout, start)
    const strings = [printableAround(a, start), printableAround(b, start)]
    return {
      offset: start,
      length: end - start,
      ...(section === undefined ? {} : { section }),
      ...(strings[0] !== undefined && strings[1] !== undefined
        ? { strings: [strings[0], strings[1]] as [string, string] }
        : {}),
    }
  })
  const covered = shown.reduce((sum, r) => sum + r.ranges, 0)
  return { regions, unlisted: diff.places - covered }
}

/**
 * The run of printable bytes where a differing place starts in `bytes`, if it starts in
 * one (4 to 400 bytes): the string that differs, whatever follows it after a shift.
 */
function printableAround(bytes: Buffer, start: number): string | undefined {
  if (!isPrintable(bytes[start])) return undefined
  let from = start
  let to = start + 1
  while (from > 0 && start - from < 200 && isPrintable(bytes[from - 1])) from--
  while (to < bytes.length && to - start < 200 && isPrintable(bytes[to])) to++
  return to - from >= 4 ? bytes.subarray(from, to).toString('latin1') : undefined
}
/** Rows of 16 bytes from `from`, each addressed by its offset plus `base` (where `bytes` starts). */
export function hexDump(bytes: Buffer, from: number, length: number, base = 0): string {
  const lines: string[] = []
  for (let at = from; at < Math.min(bytes.length, from + length); at += 16) {
    const row = bytes.subarray(at, Math.min(at + 16, bytes.length))
    const hex = [...row].map((x) => x.toString(16).padStart(2, '0')).join(' ')
    const ascii = [...row]
      .map((x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.'))
      .join('')
    lines.push(`${(at + base).toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${ascii}|`)
  }
  return lines.length === 0 ? '(no bytes here)' : lines.join('\n')
}

/** Printable ASCII: what binaries keep their strings (paths, dates, versions) in. */
export function isPrintable(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x20 && byte < 0x7f
}
