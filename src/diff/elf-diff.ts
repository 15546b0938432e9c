import { elfLayout, type ElfPart } from '../formats/elf.js'
import { keyFor } from '../formats/member.js'
import { onlyEachSide } from '../multiset.js'

/** One ELF section (or header) whose bytes differ between the two sides. */
export interface ElfSectionDifference {
  name: string
  /** Its size on each side; null where the side has no such section. */
  sizes: [number | null, number | null]
  /** For a string section: the strings only one side holds (a few of each). */
  strings?: { a: string[]; b: string[] }
  /** A method or code object whose code is the same bytes: what differs is in `strings`. */
  sameCode?: true
}

// Sections listed per item, and strings shown per section and side.
export const MAX_SECTIONS = 32
export const MAX_STRINGS = 8

/**
 * Two ELF files compared section by section, matched by name (and by position among
 * sections of the same name), so that a section that moved because an earlier one grew
 * is not called different. Undefined unless both are ELF.
 */
export function compareElfSections(
  a: Buffer,
  b: Buffer,
  layoutA: readonly ElfPart[] | undefined = elfLayout(a),
): { sections: ElfSectionDifference[]; unlisted: number } | undefined {
  const layoutB = elfLayout(b)
  if (layoutA === undefined || layoutB === undefined) return undefined
  const [byKeyA, byKeyB] = [keyed(layoutA), keyed(layoutB)]
  const differing: ElfSectionDifference[] = []
  for (const key of new Set([...byKeyA.keys(), ...byKeyB.keys()])) {
    const x = byKeyA.get(key)
    const y = byKeyB.get(key)
    const bytesX = x === undefined ? undefined : a.subarray(x.offset, x.offset + x.size)
    const bytesY = y === undefined ? undefined : b.subarray(y.offset, y.offset + y.size)
    if (bytesX !== undefined && bytesY !== undefined && bytesX.equals(bytesY)) continue
    const name = (x ?? y)?.name ?? key
    const strings =
      bytesX === undefined || bytesY === undefined
        ? undefined
        : x?.strings === true && y?.strings === true
          ? differingStrings(bytesX, bytesY)
          : READ_ONLY_DATA.test(name)
            ? differingStrings(bytesX, bytesY, textRuns)
            : undefined
    differing.push({
      name,
      sizes: [x?.size ?? null, y?.size ?? null],
      ...(strings === undefined ? {} : { strings }),
    })
  }
  return capped(differing)
}

/** Parts of a structure listed up to MAX_SECTIONS, with a count of the rest. */
export function capped(parts: ElfSectionDifference[]): {
  sections: ElfSectionDifference[]
  unlisted: number
} {
  return {
    sections: parts.slice(0, MAX_SECTIONS),
    unlisted: Math.max(0, parts.length - MAX_SECTIONS),
  }
}

/** Parts by name, the second of a name as `name#2`, in file order. */
function keyed(parts: readonly ElfPart[]): Map<string, ElfPart> {
  const seen = new Map<string, number>()
  return new Map(parts.map((p) => [keyFor(p.name, seen), p]))
}

// A linked program's read-only data: its string literals lie there among other
// constants, in a section not marked as strings (the linker merged .rodata.str1.1 in).
const READ_ONLY_DATA = /^\.rodata(?:\..*)?$/
// Text in read-only data as `strings` finds it, but whole: printable bytes up to a NUL.
const TEXT_RUN = /[\x20-\x7e\t]{4,}(?=\0)/g

/** The strings of a string table, each between NULs. */
function tableStrings(bytes: Buffer): string[] {
  return bytes
    .toString('latin1')
    .split('\0')
    .filter((s) => s !== '')
}

/** The NUL-terminated printable runs of data that is not all strings. */
export function textRuns(bytes: Buffer): string[] {
  return bytes.toString('latin1').match(TEXT_RUN) ?? []
}

/**
 * The strings of two sections that only one side holds, a few each: a build path or
 * date among a static program's thousands of moved constants is found here, where the
 * differing byte ranges, too many to keep, may never reach it.
 */
function differingStrings(
  a: Buffer,
  b: Buffer,
  split: (bytes: Buffer) => string[] = tableStrings,
): { a: string[]; b: string[] } | undefined {
  return onlyEachSide(split(a), split(b), MAX_STRINGS)
}
