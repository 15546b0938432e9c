import { toDisplayText } from '../../file-names.js'
import { PYC_FILE_NAMES } from '../../diff/pyc-diff.js'
import type { DiffItem } from '../../diff/report.js'

type BinaryPart = NonNullable<DiffItem['binary']>

// The parts of an ELF file that are not sections (formats/elf.ts names them).
const HEADERS = new Set(['ELF header', 'program headers', 'section headers'])

/**
 * The places two binaries differ, one line each, for every view: offset, length, the
 * ELF section and the strings on each side (escaped: they come from the inputs), then
 * the sections touched and how many places were not listed. Plain text; each view
 * escapes it for its own format.
 */
export function describePlaces(binary: BinaryPart): string[] {
  if (binary.sections !== undefined) return describeSections(binary)
  const regions = binary.regions ?? []
  const lines = regions.map((r) => {
    const where = `at 0x${r.offset.toString(16)}, ${r.length} ${r.length === 1 ? 'byte' : 'bytes'}${r.section === undefined ? '' : ` in ${toDisplayText(r.section)}`}`
    return r.strings === undefined
      ? where
      : `${where}: "${toDisplayText(r.strings[0])}" → "${toDisplayText(r.strings[1])}"`
  })
  const sections = [
    ...new Set(regions.flatMap((r) => (r.section === undefined ? [] : [r.section]))),
  ]
  if (sections.length > 0)
    lines.push(`sections that differ: ${sections.map(toDisplayText).join(', ')}`)
  const unlisted = binary.unlistedPlaces ?? 0
  if (unlisted > 0) lines.push(`… and ${unlisted} more ${unlisted === 1 ? 'place' : 'places'}`)
  return lines
}

/**
 * Two ELF files: the sections that differ by name (offsets shift once one section
 * grows, so places by offset would mostly be the shift), with the strings of a string
 * section that only one side holds. Two Java classes: the constants only one side
 * holds, and each method whose code differs with the constants it uses on one side only.
 * Two .pyc files: the file names they were compiled from, and each code object whose
 * bytecode, constants or names differ.
 */
function describeSections(binary: BinaryPart): string[] {
  const t = toDisplayText
  // A class's methods and a module's code objects are parts named as they are.
  const named = binary.structure === 'java-class' || binary.structure === 'pyc'
  const lines = (binary.sections ?? []).flatMap((s) => {
    const [a, b] = s.sizes
    // A class's constant pool is counted in constants, a module's file names in names,
    // a method or code object by its code.
    const unit =
      binary.structure === 'java-class' && s.name === 'constant pool'
        ? 'constants'
        : binary.structure === 'pyc' && s.name === PYC_FILE_NAMES
          ? 'names'
          : undefined
    const noun = (n: number, plural: string): string => (n === 1 ? plural.slice(0, -1) : plural)
    const size = (n: number | null): string =>
      n === null
        ? 'absent'
        : `${n} ${noun(n, unit ?? 'bytes')}${named && unit === undefined ? ' of code' : ''}`
    const what = named
      ? unit !== undefined
        ? `the ${s.name}`
        : t(s.name)
      : HEADERS.has(s.name)
        ? `the ${s.name}`
        : `section ${t(s.name)}`
    const head = `${what}: ${s.sameCode === true ? `${size(a)}, the same` : a === b ? `${size(a)}, other ${unit ?? 'bytes'}` : `${size(a)} → ${size(b)}`}`
    if (s.strings === undefined) return [head]
    return [
      head,
      ...s.strings.a.map((x) => `  A only: "${t(x)}"`),
      ...s.strings.b.map((x) => `  B only: "${t(x)}"`),
    ]
  })
  const unlisted = binary.unlistedSections ?? 0
  const noun = named ? 'part' : 'section'
  if (unlisted > 0) lines.push(`… and ${unlisted} more ${noun}${unlisted === 1 ? '' : 's'}`)
  return lines
}
