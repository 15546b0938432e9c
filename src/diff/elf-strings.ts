import zlib from 'node:zlib'
import { keyFor } from '../formats/member.js'
import { fieldReaders, readElf, type ElfFile, type ElfSection } from '../formats/elf.js'
import { withoutEach } from '../multiset.js'
import { textRuns } from './elf-diff.js'
import { ABSOLUTE_PATH, differingPrefixes, SYSTEM_PATH } from './hints.js'

/**
 * Whether the strings an ELF file keeps outside its code (`.comment`, the debug string
 * tables, `.GCC.command.line`) differ only as a build path or a time accounts for. The
 * code comparison reads code and named data; a compiler flag in `DW_AT_producer`, or a
 * `.comment` an `#ident` added, lies in neither, and beside a path difference it would
 * otherwise pass as the path. Every string only one side holds must turn into one only
 * the other holds, by putting one build directory for the other or by `explained` (a
 * path or time, as the hints judge it); the first that does not is named.
 */

export type StringCheck =
  | { ok: true }
  | { ok: false; section: string; a?: string; b?: string }
  | { ok: false; incomplete: string }

const SHF_ALLOC = 0x2
const SHF_STRINGS = 0x20
const SHF_COMPRESSED = 0x800
const SHT_NOBITS = 8
const ELFCOMPRESS_ZLIB = 1
const ELFCOMPRESS_ZSTD = 2
// Bounds on hostile input: the bytes a compressed section may inflate to, the strings
// read a side, the directory pairs tried, and the pairwise comparisons of what is left.
const MAX_INFLATED = 64 * 1024 * 1024
const MAX_STRINGS = 1_000_000
const MAX_PATHS_PAIRED = 32
const MAX_DIRECTORY_PAIRS = 16
const MAX_PAIRWISE = 200_000
const SHOWN = 160
const EMPTY = Buffer.alloc(0)

export interface StringCheckOptions {
  /** Whether a path or a written time accounts for two strings (the hints' own judgement). */
  explained: (a: string, b: string) => boolean
  /** Each side's build roots, when known: one put for the other is a build path. */
  roots?: readonly [readonly string[], readonly string[]]
}

export function checkElfStrings(a: Buffer, b: Buffer, options: StringCheckOptions): StringCheck {
  const [fa, fb] = [readElf(a), readElf(b)]
  if (fa === undefined || fb === undefined) return { ok: true }
  const [x, y] = [stringSections(fa), stringSections(fb)]
  for (const key of new Set([...x.keys(), ...y.keys()])) {
    const [sx, sy] = [x.get(key), y.get(key)]
    // A section one side lacks holds no strings there: all the other's need explaining.
    const [bx, by] = [
      sx === undefined ? EMPTY : content(a, fa, sx),
      sy === undefined ? EMPTY : content(b, fb, sy),
    ]
    const name = (sx ?? sy)?.name ?? key
    if (bx === null || by === null)
      return { ok: false, incomplete: `${name} is compressed in a way not read here, or too large` }
    const section = sx ?? sy
    if (bx.equals(by) || section === undefined) continue
    const [listA, listB] = [sectionStrings(section, bx), sectionStrings(section, by)]
    if (listA === undefined || listB === undefined)
      return { ok: false, incomplete: `${name} holds more than ${MAX_STRINGS} strings` }
    const found = unexplained(listA, listB, options)
    if (found === 'too-many')
      return { ok: false, incomplete: `${name} differs in more strings than are compared` }
    if (found !== undefined) return { ok: false, section: name, ...found }
  }
  return { ok: true }
}

/** The evidence of a failed check, as one line. */
export function describeStringCheck(check: Exclude<StringCheck, { ok: true }>): string {
  if ('incomplete' in check)
    return `the strings kept outside the code were not compared in full (${check.incomplete}): they may differ beyond what the cause named explains`
  const show = (s: string): string =>
    JSON.stringify(s.length <= SHOWN ? s : `${s.slice(0, SHOWN)}…`).replace(
      /[^\x20-\x7e]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
  const held =
    check.a !== undefined && check.b !== undefined
      ? `A holds ${show(check.a)}, B ${show(check.b)}`
      : check.a !== undefined
        ? `A alone holds ${show(check.a)}`
        : `B alone holds ${show(check.b ?? '')}`
  return `${held} in ${check.section}: no build path or time accounts for it (a compiler flag, an identifier or another toolchain), and the cause named does not explain it`
}

/** The non-code string sections (not loaded, SHF_STRINGS), by name. */
function stringSections(file: ElfFile): Map<string, ElfSection> {
  const seen = new Map<string, number>()
  const found = new Map<string, ElfSection>()
  for (const s of file.sections)
    if (
      (s.flags & SHF_ALLOC) === 0 &&
      s.type !== SHT_NOBITS &&
      ((s.flags & SHF_STRINGS) !== 0 || INLINE_TEXT.test(s.name))
    )
      found.set(keyFor(s.name, seen), s)
  return found
}

// Debug sections that hold strings inline among other data (DW_FORM_string): the
// producer and its flags, the compilation directory and file names are there when the
// compiler does not merge them into .debug_str (`-fno-merge-debug-strings`, DWARF 4's
// line table). Read as the text runs in them.
const INLINE_TEXT = /^\.z?debug_(?:info|line|macro|macinfo)(?:\.dwo)?$/

/** The section's strings: between NULs in a string section, the text runs of another. */
function sectionStrings(s: ElfSection, bytes: Buffer): string[] | undefined {
  if ((s.flags & SHF_STRINGS) !== 0) return strings(bytes)
  const runs = textRuns(bytes)
  return runs.length > MAX_STRINGS ? undefined : runs
}

/** A section's bytes, inflated where it is compressed; null where that cannot be read within bounds. */
function content(bytes: Buffer, file: ElfFile, s: ElfSection): Buffer | null {
  const raw = bytes.subarray(s.offset, s.offset + s.size)
  if ((s.flags & SHF_COMPRESSED) !== 0) {
    const header = file.wide ? 24 : 12
    if (raw.length < header) return null
    const { u32, word } = fieldReaders(raw, file.wide, file.little)
    const type = u32(0)
    const size = word(file.wide ? 8 : 4)
    return inflated(type, raw.subarray(header), size)
  }
  // GNU's older form: `.zdebug_*`, "ZLIB" and the size, big-endian, then a zlib stream.
  if (s.name.startsWith('.zdebug') && raw.subarray(0, 4).toString('latin1') === 'ZLIB') {
    if (raw.length < 12) return null
    const size = Number(raw.readBigUInt64BE(4))
    return inflated(ELFCOMPRESS_ZLIB, raw.subarray(12), size)
  }
  return raw
}

function inflated(type: number, data: Buffer, size: number): Buffer | null {
  if (!Number.isSafeInteger(size) || size > MAX_INFLATED) return null
  try {
    const out =
      type === ELFCOMPRESS_ZLIB
        ? zlib.inflateSync(data, { maxOutputLength: Math.max(1, size) })
        : type === ELFCOMPRESS_ZSTD && typeof zlib.zstdDecompressSync === 'function'
          ? zlib.zstdDecompressSync(data, { maxOutputLength: Math.max(1, size) })
          : null
    return out !== null && out.length === size ? out : null
  } catch {
    return null
  }
}

/** The strings between NULs, or undefined past the bound. */
function strings(bytes: Buffer): string[] | undefined {
  const out: string[] = []
  let from = 0
  while (from < bytes.length) {
    let end = bytes.indexOf(0, from)
    if (end === -1) end = bytes.length
    if (end > from) {
      if (out.length === MAX_STRINGS) return undefined
      out.push(bytes.toString('latin1', from, end))
    }
    from = end + 1
  }
  return out
}

/**
 * The first string only one side holds that no directory pair or `explained` turns into
 * one the other side holds alone; `too-many` when what is left is beyond the bound.
 */
function unexplained(
  listA: string[],
  listB: string[],
  { explained, roots }: StringCheckOptions,
): { a?: string; b?: string } | 'too-many' | undefined {
  const same = (s: string): string => s
  const onlyA = [...new Set(withoutEach(listA, listB, same))]
  const onlyB = [...new Set(withoutEach(listB, listA, same))]
  if (onlyA.length === 0 && onlyB.length === 0) return undefined
  const pairs = directoryPairs(onlyA, onlyB, roots)
  const [setA, setB] = [new Set(onlyA), new Set(onlyB)]
  const moves = (s: string, into: Set<string>, forward: boolean): boolean =>
    pairs.some(([from, to]) => {
      const [f, t] = forward ? [from, to] : [to, from]
      return s.includes(f) && into.has(s.replaceAll(f, t))
    })
  const leftA = onlyA.filter((s) => !moves(s, setB, true))
  const leftB = onlyB.filter((s) => !moves(s, setA, false))
  if (leftA.length === 0 && leftB.length === 0) return undefined
  // What no directory pair moves: a written time, or a path the hints judge alone.
  if (
    leftA.length * Math.max(1, onlyB.length) + leftB.length * Math.max(1, onlyA.length) >
    MAX_PAIRWISE
  )
    return 'too-many'
  const strayA = leftA.find((s) => !onlyB.some((t) => explained(s, t)))
  const strayB = leftB.find((t) => !onlyA.some((s) => explained(s, t)))
  if (strayA === undefined && strayB === undefined) return undefined
  // Shown as a pair where each side has one left: the two versions of one string.
  return {
    ...(strayA === undefined ? {} : { a: strayA }),
    ...(strayB === undefined ? {} : { b: strayB }),
  }
}

/**
 * The directories one side was built in put for the other's: the roots when known, the
 * parts two paths of the same file under other directories do not share, and the two
 * first paths outside the system (a compilation directory names no file to match).
 */
function directoryPairs(
  onlyA: readonly string[],
  onlyB: readonly string[],
  roots: StringCheckOptions['roots'],
): [string, string][] {
  const pairs = new Map<string, [string, string]>()
  const add = (from: string, to: string): void => {
    if (from === '' || to === '' || from === to || pairs.size >= MAX_DIRECTORY_PAIRS) return
    if (SYSTEM_PATH.test(from) || SYSTEM_PATH.test(to)) return
    pairs.set(`${from}\0${to}`, [from, to])
  }
  for (const rootA of roots?.[0] ?? []) for (const rootB of roots?.[1] ?? []) add(rootA, rootB)
  const paths = (list: readonly string[]): string[] =>
    list
      .flatMap((s) => [...s.matchAll(ABSOLUTE_PATH)].map((m) => m[0]))
      .filter((p) => !SYSTEM_PATH.test(p))
      .slice(0, MAX_PATHS_PAIRED)
  const [pathsA, pathsB] = [paths(onlyA), paths(onlyB)]
  if (pathsA[0] !== undefined && pathsB[0] !== undefined)
    add(...differingPrefixes(pathsA[0], pathsB[0]))
  for (const pa of pathsA)
    for (const pb of pathsB) {
      const [from, to] = differingPrefixes(pa, pb)
      // Only a shared last part makes the rest a directory each side was built in.
      if (from !== pa) add(from, to)
    }
  return [...pairs.values()]
}
