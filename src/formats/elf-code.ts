import { isUtf8 } from 'node:buffer'
import { onlyEachSide, withoutEach } from '../multiset.js'
import { loaderChanges } from './elf-loader.js'
import {
  ET_REL,
  fieldReaders,
  isElf,
  readElf,
  readSymbols,
  STT_FUNC,
  STT_NOTYPE,
  STT_OBJECT,
  STT_SECTION,
  type ElfFile,
  type ElfSection,
  type ElfSymbol,
} from './elf.js'

/**
 * Whether two ELF files hold the same code, once the addresses that moving code and data
 * around changes are set aside: what a build path, a date string or a link order may
 * change, and what a change to the program itself does not. A cause found elsewhere in
 * the file (a path in the debug strings, functions in another order) must not hide a
 * function whose code changed too.
 *
 * Functions are matched by name from the symbol table (a static one by its source file
 * too), so one laid out elsewhere is compared with itself; a label with no size runs to
 * the next symbol; an executable section no symbol is in, and each one of a stripped
 * file, is one unit. Within a unit, every differing byte must lie in a 4-byte field that,
 * read on each side as an address (relative to the instruction on x86, absolute or
 * PC-relative), points to the same thing on both: the same symbol at the same offset (a
 * PLT entry named after what it calls), the same place in a section of the same name, the
 * same string (a path may name the same file under another directory), the same unnamed
 * code, or unnamed data that corresponds. In a relocatable object the field must be one a
 * relocation fills on both sides, and every relocation must name the same symbol and
 * place. Other machines' code is compared byte for byte (an AArch64 branch aside).
 * Hostile input: every read is bounded by the buffer, the work by the caps below.
 */

export interface CodeChange {
  /** The function's name, or the section's where there is no symbol table. */
  name: string
  section: string
  /** Where in it the first unexplained byte is; -1 when it is on one side only or its size changed. */
  offset: number
  /** Said by its name alone, with no place in a function or section (the imports through the PLT). */
  placeless?: true
}

export interface CodeComparison {
  changed: CodeChange[]
  /** Changed units beyond those listed. */
  unlisted: number
  /** Whether the comparison stopped at its bound of work before the last unit: what it did not reach may differ too. */
  incomplete: boolean
}

const SHF_ALLOC = 0x2
const SHF_EXECINSTR = 0x4
const SHT_PROGBITS = 1
const SHF_MERGE = 0x10
const SHF_STRINGS = 0x20
const SHT_SYMTAB = 2
const SHT_STRTAB = 3
const SHT_RELA = 4
const SHT_REL = 9
const SHT_NOBITS = 8
const EM_386 = 3
const EM_X86_64 = 62
const EM_AARCH64 = 183
// Listed changes per item; symbols and relocations read at most (a large library has ~1e5).
const MAX_LISTED = 8
const MAX_RELOCATIONS = 4_000_000
// Symbols and relocations (of code and data) of a file whose code is compared: two files
// of 60,000 each (20,000 functions) peaked at 180 MiB in all; 170,000 functions at 640.
const MAX_TABLE_ENTRIES = 60_000
// Bytes of a target compared when it lies in no symbol and at another place.
const TARGET_BYTES = 32
const MAX_STRING = 4096
// Fields read as addresses per comparison: a few for each moved reference, so that two
// large binaries that differ everywhere cost seconds, not minutes.
const MAX_FIELD_CHECKS = 1_000_000

/** A relocation of an object file: what it fills a field with, by symbol and addend. */
interface Relocation {
  type: number
  /** The symbol's key (symbolKey), or `section NAME` for a section's own symbol. */
  symbol: string
  /**
   * Where the symbol lies when that is a section the linker merges (SHF_MERGE: strings,
   * constants): the section, and the symbol's place in it (0 for the section's own symbol).
   */
  merged?: { section: ElfSection; value: number }
  /** A section's own symbol: the section, whose place the addend is. */
  sectionSymbol?: ElfSection
  /** RELA's addend; undefined for REL, whose addend is in the field. */
  addend?: number
}

/** One side, read: its bytes, header, symbols by address, and relocations. */
interface Side {
  bytes: Buffer
  file: ElfFile
  sections: Map<number, ElfSection>
  symbols: ElfSymbol[]
  byAddress: ElfSymbol[]
  /** Per section index, the relocations of an object file by offset within it. */
  relocations: Map<number, Map<number, Relocation>>
}

/** Both sides, and the work left. */
interface Pair {
  x: Side
  y: Side
  work: { left: number }
  textExplained: (a: string, b: string) => boolean
}

export interface CompareOptions {
  /** Whether a path or time accounts for the difference between two texts a data object holds. */
  textExplained?: (a: string, b: string) => boolean
}

/**
 * The code units that differ beyond moved addresses; undefined unless both are ELF.
 */
export function compareCode(
  a: Buffer,
  b: Buffer,
  { textExplained = () => false }: CompareOptions = {},
): CodeComparison | undefined {
  if (!isElf(a) || !isElf(b)) return undefined
  const [fa, fb] = [readElf(a), readElf(b)]
  // What the loader reads before any code runs: segments' permissions (an executable
  // stack), the interpreter, the libraries needed. Checked whatever the code is.
  const loader: CodeChange[] = loaderChanges(a, b, textExplained, [fa, fb]).map((change) => ({
    ...change,
    offset: -1,
    placeless: true,
  }))
  // The symbols a GOT slot or a pointer is bound to (`-fno-plt`, `fp = system`): the code
  // that reads the slot is the same bytes whichever fills it.
  if (fa !== undefined && fb !== undefined) loader.push(...boundChanges(a, b, fa, fb))
  if (sameCodeBytes(a, b, fa, fb))
    return { changed: [...loader, ...zeroedSections(fa, fb)], unlisted: 0, incomplete: false }
  // Each symbol and relocation read costs a few KiB in the comparison's tables: a file
  // with more is not compared (said as incomplete), or memory would pass its bound.
  if (tableEntries(a, fa) > MAX_TABLE_ENTRIES || tableEntries(b, fb) > MAX_TABLE_ENTRIES)
    return { changed: [...loader, ...zeroedSections(fa, fb)], unlisted: 0, incomplete: true }
  const [x, y] = [side(a, fa), side(b, fb)]
  // Without section tables the code cannot be found, so it was not compared.
  if (x === undefined || y === undefined) return { changed: loader, unlisted: 0, incomplete: true }
  if (x.file.machine !== y.file.machine || x.file.type !== y.file.type) {
    const header = { name: 'ELF header', section: 'ELF header' }
    const offset = x.file.type !== y.file.type ? 16 : 18
    return { changed: [...loader, { ...header, offset }], unlisted: 0, incomplete: false }
  }
  const pair: Pair = { x, y, work: { left: MAX_FIELD_CHECKS }, textExplained }
  const changed: CodeChange[] = [...loader]
  // Functions called through the PLT on one side only: no path, time or link order
  // changes what a program imports, and a call to another one may be the same bytes
  // (the same slot, bound to another name).
  const imports = (s: Side): string[] =>
    s.byAddress.filter((t) => t.index === -1 && t.name.endsWith('@plt')).map((t) => t.name)
  changed.push(
    ...oneSided('functions called through the PLT', '.rela.plt', [imports(x), imports(y)]),
  )

  const named = x.symbols.length > 0 && y.symbols.length > 0
  const units = named ? pairUnits(x, y, codeUnits) : sectionUnits(x, y)
  for (const unit of units) {
    if (pair.work.left <= 0) break
    const change = compareUnit(pair, unit)
    if (change !== undefined) changed.push(change)
  }
  // Named data (a global's initial value, a table): the same bytes, or addresses of the
  // same things, or text that differs only by a path or a written time.
  if (named)
    for (const unit of pairUnits(x, y, dataUnits)) {
      if (pair.work.left <= 0) break
      const change = compareData(pair, unit)
      if (change !== undefined) changed.push(change)
    }
  // What no symbol names in the sections of data: string literals ("mode=safe"), which
  // only a path or a written time may tell apart.
  if (pair.work.left > 0) {
    const text = dataTextChange(pair, sectionUnits(x, y, unnamedData))
    if (text !== undefined) changed.push(text)
  }
  // What takes no bytes in the file (.bss, .tbss) is its size alone: a buffer shrunk from
  // 4096 bytes to 8 changes no byte of the file, only what the program may write there.
  const zeroed = named
    ? pairUnits(x, y, zeroedUnits)
    : sectionUnits(x, y, (t) => t.type === SHT_NOBITS && (t.flags & SHF_ALLOC) !== 0)
  for (const unit of zeroed)
    if (unit.a?.size === undefined || unit.a.size !== unit.b?.size) changed.push(changeOf(unit)(-1))
  return {
    changed: changed.slice(0, MAX_LISTED),
    unlisted: Math.max(0, changed.length - MAX_LISTED),
    incomplete: pair.work.left <= 0,
  }
}

/**
 * Whether every executable section is the same bytes at the same address on both sides
 * (and, in an object file, so are their relocations and the symbol and string tables
 * those name): then the code is the same, whatever else moved, and nothing needs reading.
 */
function sameCodeBytes(
  a: Buffer,
  b: Buffer,
  x: ElfFile | undefined,
  y: ElfFile | undefined,
): boolean {
  if (x?.sectionHeaders === undefined || y?.sectionHeaders === undefined) return false
  if (x.type !== y.type || x.machine !== y.machine) return false
  const relocatable = x.type === ET_REL
  const matters = (file: ElfFile): ElfSection[] => {
    // Code, and the data it loads (a build id's note, or debug sections, may differ).
    const code = new Set(
      file.sections.filter((t) => executable(t) || holdsData(t)).map((t) => t.name),
    )
    return file.sections.filter(
      (t) =>
        code.has(t.name) ||
        // Which function each PLT slot calls is in the dynamic relocations and symbols.
        DYNAMIC_BINDING.has(t.name) ||
        (relocatable &&
          (t.type === SHT_SYMTAB ||
            t.type === SHT_STRTAB ||
            (t.type === SHT_REL && code.has(t.name.slice(4))) ||
            (t.type === SHT_RELA && code.has(t.name.slice(5))))),
    )
  }
  const [mx, my] = [matters(x), matters(y)]
  if (mx.length !== my.length || !mx.some(executable)) return false
  return mx.every((t, i) => {
    const u = my[i]
    return (
      u?.name === t.name &&
      u.type === t.type &&
      (relocatable || u.address === t.address) &&
      t.type !== SHT_NOBITS &&
      a.subarray(t.offset, t.offset + t.size).equals(b.subarray(u.offset, u.offset + u.size))
    )
  })
}

const DYNAMIC_BINDING = new Set(['.rela.plt', '.rel.plt', '.dynsym', '.dynstr'])
// An x86 PLT entry's size; the lazy `.plt` starts with one entry of its own.
const PLT_ENTRY = 16

/**
 * A dynamically linked x86 program's PLT entries as functions named after what each
 * calls (`puts@plt`): `.rela.plt`'s n-th relocation binds `.plt.sec`'s n-th entry, or
 * `.plt`'s (n+1)-th. A call to another entry is a call to another function, though each
 * is the same bytes at the same place.
 */
function pltEntries(bytes: Buffer, file: ElfFile): ElfSymbol[] {
  if (file.machine !== EM_X86_64 && file.machine !== EM_386) return []
  const named = (name: string): ElfSection | undefined =>
    file.sections.find((t) => t.name === name && t.type !== SHT_NOBITS)
  const relocations = named('.rela.plt') ?? named('.rel.plt')
  const [dynsym, dynstr] = [named('.dynsym'), named('.dynstr')]
  const sec = named('.plt.sec')
  const plt = sec ?? named('.plt')
  if (
    relocations === undefined ||
    dynsym === undefined ||
    dynstr === undefined ||
    plt === undefined
  )
    return []
  const { wide, little } = file
  const { u32 } = fieldReaders(bytes, wide, little)
  const rela = relocations.type === SHT_RELA
  const entry = (rela ? 3 : 2) * (wide ? 8 : 4)
  const first = sec === undefined ? 1 : 0
  const count = Math.min(
    Math.floor(relocations.size / entry),
    Math.floor(plt.size / PLT_ENTRY) - first,
  )
  const out: ElfSymbol[] = []
  for (let i = 0; i < count && i < MAX_RELOCATIONS; i++) {
    const at = relocations.offset + i * entry + (wide ? 8 : 4)
    const index = wide ? u32(at + (little ? 4 : 0)) : u32(at) >>> 8
    const name = dynamicName(bytes, file, [dynsym, dynstr], index)
    if (name === undefined) continue
    out.push({
      index: -1,
      name: `${name}@plt`,
      address: plt.address + (i + first) * PLT_ENTRY,
      size: PLT_ENTRY,
      type: STT_FUNC,
      local: false,
      file: '',
      section: plt.index,
    })
  }
  return out
}

/** The name of a dynamic symbol by its index, at most 256 bytes; undefined past the tables. */
function dynamicName(
  bytes: Buffer,
  file: ElfFile,
  [dynsym, dynstr]: [ElfSection, ElfSection],
  index: number,
): string | undefined {
  const symbolSize = file.wide ? 24 : 16
  if (index * symbolSize + 4 > dynsym.size) return undefined
  const nameAt = fieldReaders(bytes, file.wide, file.little).u32(dynsym.offset + index * symbolSize)
  if (nameAt >= dynstr.size) return undefined
  const from = dynstr.offset + nameAt
  const end = bytes.indexOf(0, from)
  // At most 256 bytes, whether a NUL ends it within .dynstr or not.
  return bytes.toString(
    'latin1',
    from,
    Math.min(
      end === -1 || end > dynstr.offset + dynstr.size ? dynstr.offset + dynstr.size : end,
      from + 256,
    ),
  )
}

/**
 * The symbols a linked file's dynamic relocations other than the PLT's bind (a GOT slot
 * filled with `system`'s address, a function pointer to it), by name. The code that reads
 * the slot is the same bytes whichever symbol fills it.
 */
function dynamicBindings(bytes: Buffer, file: ElfFile): string[] {
  const named = (name: string): ElfSection | undefined =>
    file.sections.find((t) => t.name === name && t.type !== SHT_NOBITS)
  const [dynsym, dynstr] = [named('.dynsym'), named('.dynstr')]
  if (dynsym === undefined || dynstr === undefined) return []
  const { wide, little } = file
  const { u32, word } = fieldReaders(bytes, wide, little)
  const bound: [number, string][] = []
  for (const t of file.sections) {
    if (t.type !== SHT_RELA && t.type !== SHT_REL) continue
    if ((t.flags & SHF_ALLOC) === 0 || /^\.rela?\.plt$/.test(t.name)) continue
    const entry = (t.type === SHT_RELA ? 3 : 2) * (wide ? 8 : 4)
    for (let i = 0; i < Math.floor(t.size / entry) && bound.length < MAX_RELOCATIONS; i++) {
      const at = t.offset + i * entry + (wide ? 8 : 4)
      const index = wide ? u32(at + (little ? 4 : 0)) : u32(at) >>> 8
      const name = index === 0 ? undefined : dynamicName(bytes, file, [dynsym, dynstr], index)
      if (name !== undefined && name !== '') bound.push([word(t.offset + i * entry), name])
    }
  }
  // In the order of the slots they fill: two pointers swapped bind the same names.
  return bound.sort(([p], [q]) => p - q).map(([, name]) => name)
}

/**
 * The names a linked file's dynamic relocations bind, as a change when they differ: some
 * on one side only, or the same ones to slots in another order (a table of two function
 * pointers swapped). A build in another directory moves the slots, not their order.
 */
function boundChanges(a: Buffer, b: Buffer, fa: ElfFile, fb: ElfFile): CodeChange[] {
  const [p, q] = [dynamicBindings(a, fa), dynamicBindings(b, fb)]
  const what = 'symbols the dynamic relocations bind'
  const apart = oneSided(what, '.rela.dyn', [p, q])
  if (apart.length > 0) return apart
  const at = p.findIndex((name, i) => name !== q[i])
  return at === -1
    ? []
    : [
        {
          name: `${what}, in another order of their slots (slot ${at + 1}: A ${p[at] ?? ''}, B ${q[at] ?? ''})`,
          section: '.rela.dyn',
          offset: -1,
          placeless: true,
        },
      ]
}

/** A unit of code: where it starts on each side (file offset and load address), its size. */
interface Unit {
  name: string
  section: string
  a?: Placed
  b?: Placed
}

interface Placed {
  offset: number
  address: number
  size: number
  /** Its section's index, and the unit's start within the section. */
  section: number
  within: number
}

function side(bytes: Buffer, file: ElfFile | undefined): Side | undefined {
  if (file?.sectionHeaders === undefined) return undefined
  const sections = new Map(file.sections.map((t) => [t.index, t]))
  const all = readSymbols(bytes, file, [STT_NOTYPE, STT_OBJECT, STT_FUNC, STT_SECTION])
  const symbols = all.filter((t) => t.type !== STT_SECTION && t.name !== '')
  const byAddress = [
    ...symbols.filter((t) => t.type === STT_FUNC || t.type === STT_OBJECT),
    ...pltEntries(bytes, file),
  ].sort((p, q) => p.address - q.address || q.size - p.size)
  const relocations =
    file.type === ET_REL
      ? readRelocations(bytes, file, new Map(all.map((t) => [t.index, t])), sections)
      : new Map<number, Map<number, Relocation>>()
  return { bytes, file, sections, symbols, byAddress, relocations }
}

const executable = (t: ElfSection | undefined): boolean =>
  t !== undefined && (t.flags & SHF_EXECINSTR) !== 0 && t.type !== SHT_NOBITS && t.size > 0

/**
 * A symbol's identity across the two sides: its name, and for a static one the source
 * file it comes from (by base name: a build in another directory keeps it), so that two
 * files' `static helper` are two functions, whatever order they were linked in.
 */
function symbolKey(t: ElfSymbol): string {
  return t.local ? `${t.file}:${t.name}` : t.name
}

/**
 * The code units of a side: each sized function; each label without a size in an
 * executable section (an assembly function, `_init`), running to the next symbol or the
 * section's end; and each executable section no symbol is in (`.plt`).
 */
function codeUnits(s: Side): { key: string; name: string; at: Placed }[] {
  const units: { key: string; name: string; at: Placed }[] = []
  const inCode = s.symbols.filter(
    (t) =>
      (t.type === STT_FUNC || t.type === STT_NOTYPE) &&
      executable(s.sections.get(t.section)) &&
      !t.name.startsWith('$') &&
      !t.name.startsWith('.L'),
  )
  // Where symbols start in each executable section, for the labels that have no size.
  const starts = new Map<number, number[]>()
  for (const t of s.symbols) {
    if (!executable(s.sections.get(t.section))) continue
    const list = starts.get(t.section) ?? []
    list.push(t.address)
    starts.set(t.section, list)
  }
  for (const list of starts.values()) list.sort((p, q) => p - q)
  const holding = new Set<number>()
  for (const t of inCode) {
    holding.add(t.section)
    const section = s.sections.get(t.section)
    let size = t.size
    if (size === 0 && section !== undefined) {
      const end = (s.file.type === ET_REL ? 0 : section.address) + section.size
      size = (nextAfter(starts.get(t.section) ?? [], t.address) ?? end) - t.address
    }
    const at = place(s, { ...t, size })
    const name = t.local && t.file !== '' ? `${t.name} (${t.file})` : t.name
    if (at !== undefined && size > 0) units.push({ key: symbolKey(t), name, at })
  }
  for (const t of s.file.sections)
    if (executable(t) && !holding.has(t.index))
      units.push({
        key: `section ${t.name}`,
        name: t.name,
        at: { offset: t.offset, address: t.address, size: t.size, section: t.index, within: 0 },
      })
  return units
}

/** Initialized data the program loads (`.data`, `.rodata`): each object with a size. */
const holdsData = (t: ElfSection | undefined): boolean =>
  t?.type === SHT_PROGBITS &&
  (t.flags & SHF_ALLOC) !== 0 &&
  (t.flags & SHF_EXECINSTR) === 0 &&
  t.size > 0

/**
 * The entries of a file's symbol table and of the relocations the comparison reads (those
 * of code and data, as readRelocations), by the tables' sizes.
 */
function tableEntries(bytes: Buffer, file: ElfFile | undefined): number {
  if (file === undefined) return 0
  const width = file.wide ? 8 : 4
  const { u32 } = fieldReaders(bytes, file.wide, file.little)
  const shoff = file.sectionHeaders?.offset ?? 0
  const byIndex = new Map(file.sections.map((t) => [t.index, t]))
  let count = 0
  for (const t of file.sections) {
    if (t.type === SHT_SYMTAB) count += t.size / (3 * width)
    if (t.type !== SHT_RELA && t.type !== SHT_REL) continue
    const infoAt = shoff + t.index * (file.wide ? 64 : 40) + (file.wide ? 44 : 28)
    const target = infoAt + 4 > bytes.length ? undefined : byIndex.get(u32(infoAt))
    if (executable(target) || holdsData(target))
      count += t.size / ((t.type === SHT_RELA ? 3 : 2) * width)
  }
  return count
}

/** Names on one side only (a few of each shown), as a change of no one place. */
function oneSided(what: string, section: string, [p, q]: [string[], string[]]): CodeChange[] {
  const only = onlyEachSide(p, q, 4)
  return only === undefined
    ? []
    : [
        {
          name: `${what} (A only: ${only.a.join(', ') || 'none'}; B only: ${only.b.join(', ') || 'none'})`,
          section,
          offset: -1,
          placeless: true,
        },
      ]
}

/** The sections that take no bytes in the file (.bss), by name, whose sizes differ. */
function zeroedSections(fa: ElfFile | undefined, fb: ElfFile | undefined): CodeChange[] {
  const sizes = (f: ElfFile | undefined): Map<string, number> =>
    new Map(
      (f?.sections ?? [])
        .filter((t) => t.type === SHT_NOBITS && (t.flags & SHF_ALLOC) !== 0)
        .map((t) => [t.name, t.size]),
    )
  const [sa, sb] = [sizes(fa), sizes(fb)]
  return [...new Set([...sa.keys(), ...sb.keys()])]
    .filter((name) => sa.get(name) !== sb.get(name))
    .map((name) => ({ name, section: name, offset: -1 }))
}

/** The objects of a side that take no bytes in the file: each sized one in .bss or .tbss. */
function zeroedUnits(s: Side): { key: string; name: string; at: Placed }[] {
  return s.symbols.flatMap((t) => {
    const section = s.sections.get(t.section)
    if (t.type !== STT_OBJECT || section?.type !== SHT_NOBITS) return []
    if ((section.flags & SHF_ALLOC) === 0) return []
    const at = place(s, t)
    const name = t.local && t.file !== '' ? `${t.name} (${t.file})` : t.name
    return at === undefined ? [] : [{ key: symbolKey(t), name, at }]
  })
}

/** The data units of a side: each sized object in a section of initialized data. */
function dataUnits(s: Side): { key: string; name: string; at: Placed }[] {
  const units: { key: string; name: string; at: Placed }[] = []
  for (const t of s.symbols) {
    if (t.type !== STT_OBJECT || t.size === 0 || !holdsData(s.sections.get(t.section))) continue
    const at = place(s, t)
    const name = t.local && t.file !== '' ? `${t.name} (${t.file})` : t.name
    if (at !== undefined) units.push({ key: symbolKey(t), name, at })
  }
  return units
}

/**
 * A data object's first change, or undefined: in an object file, relocated alike and the
 * same bytes elsewhere; in a linked file, each differing word an address of the same
 * thing, or the whole a text whose difference a path or a written time accounts for.
 */
function compareData(pair: Pair, unit: Unit): CodeChange | undefined {
  const { x, y } = pair
  const { a, b } = unit
  const change = changeOf(unit)
  if (a === undefined || b === undefined) return change(-1)
  const [bodyA, bodyB] = bodies(pair, a, b)
  // Text a path or time accounts for, whatever its length (`char where[] = __FILE__`).
  const [ta, tb] = [text(bodyA), text(bodyB)]
  const explainedText = ta !== undefined && tb !== undefined && pair.textExplained(ta, tb)
  if (b.size !== a.size) return explainedText ? undefined : change(-1)
  if (x.file.type === ET_REL) {
    const mismatch = relocationMismatch(pair, a, b, bodyA, bodyB)
    if (mismatch !== undefined) return change(mismatch)
  }
  if (bodyA.equals(bodyB) || explainedText) return undefined
  const [rx, ry] = [x.relocations.get(a.section), y.relocations.get(b.section)]
  for (let k = 0; k < a.size; k++) {
    if (bodyA[k] === bodyB[k]) continue
    if (pair.work.left-- <= 0) return undefined
    const word = k - (k % 4)
    if (x.file.type === ET_REL) {
      // Filled in at link time, and compared as relocations already.
      if (rx?.has(a.within + word) === true && ry?.has(b.within + word) === true) continue
      return change(k)
    }
    if (word + 4 > a.size) return change(k)
    const read = (side: Side, at: number): number =>
      side.file.little ? side.bytes.readUInt32LE(at) : side.bytes.readUInt32BE(at)
    // A pointer to a string that moved is compared by the string (deep).
    if (!sameTarget(pair, read(x, a.offset + word), read(y, b.offset + word))) return change(k)
    k = word + 3
  }
  return undefined
}

/**
 * The data sections whose texts are compared: not those the loader and the unwinder read
 * (compared as the loader's, or following the code, whose changes are found as code's).
 * The sections the linker merges are among them, all of a side together: a string goes
 * to `.rodata.str1.1` or, long enough to be aligned, to `.rodata.str1.8`, so a path of
 * another length moves it between the two.
 */
const unnamedData = (t: ElfSection): boolean => holdsData(t) && !LAYOUT_DATA.has(t.name)

const mergedStrings = (t: ElfSection): boolean =>
  (t.flags & SHF_MERGE) !== 0 && (t.flags & SHF_STRINGS) !== 0

const LAYOUT_DATA = new Set([
  '.eh_frame',
  '.eh_frame_hdr',
  '.gcc_except_table',
  '.sframe',
  '.interp',
  '.dynamic',
  '.got',
  '.got.plt',
])

const MIN_TEXT_RUN = 4

/**
 * The texts in a section's bytes, pure: between two NULs, the whole run when it is a
 * string beyond ASCII (`"grüße"`, see isText), else its last 4 or more printable ASCII
 * bytes (a string may follow a value's last byte with no NUL between them: a jump
 * table's, the string aligned to 1). Shorter runs are not read as text: a value's bytes
 * often are printable.
 */
function dataTexts(body: Buffer): { start: number; end: number }[] {
  const texts: { start: number; end: number }[] = []
  const printable = (c: number): boolean => (c >= 0x20 && c <= 0x7e) || c === 0x09 || c === 0x0a
  for (let i = 0; i < body.length;) {
    if (body[i] === 0) {
      i++
      continue
    }
    let j = i
    while (j < body.length && body[j] !== 0) j++
    if (j - i >= MIN_TEXT_RUN && isText(body.subarray(i, j))) {
      texts.push({ start: i, end: j })
    } else {
      let k = j
      while (k > i && printable(body[k - 1] ?? 0)) k--
      if (j - k >= MIN_TEXT_RUN) texts.push({ start: k, end: j })
    }
    i = j
  }
  return texts
}

/**
 * Whether bytes are a string beyond ASCII: UTF-8 with no control character but a tab or
 * a line break, and mostly ASCII (binary data is UTF-8 by chance now and then, in
 * characters of every script).
 */
function isText(run: Buffer): boolean {
  if (!isUtf8(run)) return false
  const text = run.toString('utf8')
  if (CONTROL.test(text)) return false
  const ascii = text.replace(/[^\x20-\x7e]/g, '').length
  // Characters beyond ASCII counted as code points (a UTF-16 pair is one).
  const others = text.replace(/[\x20-\x7e]/g, '').replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '_')
  return ascii >= others.length
}

// A control character other than a tab or a line break (and DEL).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/

/** One text read from a side's data, with where it lies. */
interface Found {
  unit: Unit
  start: number
  text: string
}

/**
 * The first text of the data sections one side holds and the other does not, but for a
 * path or a written time, as a change; undefined when the two sides' texts pair off. In
 * any order (a link in another order moves them); each section taken whole on each side
 * where it is there (a merged one may be on one side only). What no symbol names besides
 * texts (a stripped program's values) is not compared here.
 */
function dataTextChange(pair: Pair, units: readonly Unit[]): CodeChange | undefined {
  const texts: [Found[], Found[]] = [[], []]
  for (const unit of units) {
    const { a, b } = unit
    if (a !== undefined && b !== undefined) {
      const [bodyA, bodyB] = bodies(pair, a, b)
      if (bodyA.equals(bodyB)) continue
    } else {
      // A section of data on one side only, but for the strings a linker merges (which a
      // path of another length moves between `.str1.1` and `.str1.8`): data one build
      // has and the other has not.
      const there = (a ?? b) === undefined ? undefined : a !== undefined ? pair.x : pair.y
      const section = there?.sections.get((a ?? b)?.section ?? -1)
      if (section !== undefined && !mergedStrings(section)) return changeOf(unit)(-1)
    }
    for (const [i, place, side] of [
      [0, a, pair.x],
      [1, b, pair.y],
    ] as const) {
      if (place === undefined) continue
      const body = side.bytes.subarray(place.offset, place.offset + place.size)
      for (const t of dataTexts(body))
        texts[i].push({ unit, start: t.start, text: body.toString('latin1', t.start, t.end) })
    }
  }
  const key = (f: Found): string => f.text
  const [onlyA, onlyB] = [
    withoutEach(texts[0], texts[1], key),
    withoutEach(texts[1], texts[0], key),
  ]
  if (onlyA.length === 0 && onlyB.length === 0) return undefined
  // Paired by the text with its directories left out first, then its digits too (a path
  // or a time that changed leaves it the same), each among those of its shape: a link in
  // another order beside a path moved thousands, and each tried against each was
  // quadratic. Then what is left, each against each, within the work left.
  let [xs, ys] = [onlyA, onlyB]
  for (const shape of [
    withoutDirectories,
    (t: string) => withoutDirectories(t).replace(/[0-9]+/g, '#'),
    () => '',
  ]) {
    const byShape = new Map<string, Found[]>()
    for (const q of ys) byShape.set(shape(q.text), [...(byShape.get(shape(q.text)) ?? []), q])
    const unpaired: Found[] = []
    for (const p of xs) {
      const same = byShape.get(shape(p.text)) ?? []
      const i = same.findIndex((q) => {
        pair.work.left--
        return pair.work.left > 0 && sameText(pair, p.text, q.text)
      })
      if (i === -1) unpaired.push(p)
      else same.splice(i, 1)
    }
    ;[xs, ys] = [unpaired, [...byShape.values()].flat()]
  }
  const first = xs[0]
  if (first !== undefined) return changeOf(first.unit)(first.start)
  const other = ys[0]
  return other === undefined ? undefined : changeOf(other.unit)(-1)
}

/** A text with the directories of its paths left out: what a build path changes. */
function withoutDirectories(text: string): string {
  return text.replace(/(?:[^\s/"'=:]*\/)+/g, '/')
}

/** The text a data object holds (a C string, padded with NULs), if it is text. */
function text(body: Buffer): string | undefined {
  const end = body.indexOf(0)
  const used = end === -1 ? body : body.subarray(0, end)
  if (used.length === 0 || (end !== -1 && body.subarray(end).some((c) => c !== 0))) return undefined
  const shown = used.toString('latin1')
  return /^[\x20-\x7e\t\n]*$/.test(shown) ? shown : undefined
}

/** The first value above `address` in a sorted list, by binary search. */
function nextAfter(sorted: readonly number[], address: number): number | undefined {
  let [low, high] = [0, sorted.length]
  while (low < high) {
    const mid = (low + high) >> 1
    if ((sorted[mid] ?? 0) <= address) low = mid + 1
    else high = mid
  }
  return sorted[low]
}

/** Where a symbol's bytes are, if they lie within its section and the file. */
function place(s: Side, f: ElfSymbol): Placed | undefined {
  const section = s.sections.get(f.section)
  if (section === undefined) return undefined
  const within = s.file.type === ET_REL ? f.address : f.address - section.address
  if (within < 0 || f.size > section.size - within) return undefined
  return {
    offset: section.offset + within,
    address: f.address,
    size: f.size,
    section: section.index,
    within,
  }
}

/**
 * Units paired by key: a function by its name (and a static one by its file too), a
 * section by its name. Several of one key (two files of one base name) are paired in
 * address order.
 */
function pairUnits(
  x: Side,
  y: Side,
  unitsOf: (s: Side) => { key: string; name: string; at: Placed }[],
): Unit[] {
  const group = (s: Side): Map<string, { name: string; at: Placed }[]> => {
    const byKey = new Map<string, { name: string; at: Placed }[]>()
    const seen = new Set<string>()
    for (const unit of unitsOf(s).sort((p, q) => p.at.address - q.at.address)) {
      // Aliases (one body, two names, or one name twice at one place) count once.
      const here = `${unit.key}@${unit.at.section}:${unit.at.within}`
      if (seen.has(here)) continue
      seen.add(here)
      const list = byKey.get(unit.key) ?? []
      list.push(unit)
      byKey.set(unit.key, list)
    }
    return byKey
  }
  const [gx, gy] = [group(x), group(y)]
  const sectionName = (s: Side, at: Placed): string => s.sections.get(at.section)?.name ?? '?'
  const units: Unit[] = []
  for (const key of new Set([...gx.keys(), ...gy.keys()])) {
    const [as, bs] = [gx.get(key) ?? [], gy.get(key) ?? []]
    for (let i = 0; i < Math.max(as.length, bs.length); i++) {
      const [a, b] = [as[i], bs[i]]
      if (a !== undefined)
        units.push({
          name: a.name,
          section: sectionName(x, a.at),
          a: a.at,
          ...(b === undefined ? {} : { b: b.at }),
        })
      else if (b !== undefined) units.push({ name: b.name, section: sectionName(y, b.at), b: b.at })
    }
  }
  return units
}

/** Executable sections (or those `kept` names) paired by name, each one unit. */
function sectionUnits(x: Side, y: Side, kept: (t: ElfSection) => boolean = executable): Unit[] {
  const whole = (s: ElfSection): Placed => ({
    offset: s.offset,
    address: s.address,
    size: s.size,
    section: s.index,
    within: 0,
  })
  const named = (s: Side): Map<string, ElfSection> =>
    new Map(s.file.sections.filter(kept).map((t) => [t.name, t]))
  const [nx, ny] = [named(x), named(y)]
  return [...new Set([...nx.keys(), ...ny.keys()])].map((name) => {
    const [a, b] = [nx.get(name), ny.get(name)]
    return {
      name,
      section: name,
      ...(a === undefined ? {} : { a: whole(a) }),
      ...(b === undefined ? {} : { b: whole(b) }),
    }
  })
}

/** A change of a unit at an offset in it (-1: on one side only, or of another size). */
const changeOf =
  (unit: Unit) =>
  (offset: number): CodeChange => ({ name: unit.name, section: unit.section, offset })

/** A unit's bytes on each side. */
function bodies({ x, y }: Pair, a: Placed, b: Placed): [Buffer, Buffer] {
  return [
    x.bytes.subarray(a.offset, a.offset + a.size),
    y.bytes.subarray(b.offset, b.offset + b.size),
  ]
}

/** The unit's first change, or undefined when it is the same code. */
function compareUnit(pair: Pair, unit: Unit): CodeChange | undefined {
  const { x } = pair
  const { a, b } = unit
  const change = changeOf(unit)
  if (a === undefined || b?.size !== a.size) return change(-1)
  const [bodyA, bodyB] = bodies(pair, a, b)
  if (x.file.type === ET_REL) {
    // What the linker will put in each field: the same symbol and place on both sides.
    const mismatch = relocationMismatch(pair, a, b, bodyA, bodyB)
    if (mismatch !== undefined) return change(mismatch)
  }
  if (bodyA.equals(bodyB)) return undefined
  const explains = fieldCheck(pair, a, b)
  let covered = 0
  for (let k = 0; k < a.size; k++) {
    if (k < covered || bodyA[k] === bodyB[k]) continue
    // Out of work: not a change found, and the comparison says it is incomplete.
    if (pair.work.left <= 0) return undefined
    const from = explains.width === 1 ? Math.max(0, k - 3) : k - (k % 4)
    let found = -1
    for (let s = from; s <= k && s + 4 <= a.size; s++) {
      pair.work.left--
      if (explains.at(s)) {
        found = s
        break
      }
    }
    if (found === -1) return change(k)
    covered = found + 4
  }
  return undefined
}

/**
 * Where an object file's unit is relocated otherwise on the two sides (its offset in the
 * unit), or undefined: every field a relocation fills must be filled on both, by the
 * same type, with the same symbol and the same place in it. A place in a string section
 * may differ where the string there is the same (strings merged in another order, a
 * path under another directory).
 */
function relocationMismatch(
  pair: Pair,
  a: Placed,
  b: Placed,
  bodyA: Buffer,
  bodyB: Buffer,
): number | undefined {
  const { x, y } = pair
  const [ra, rb] = [within(x, a), within(y, b)]
  // Out of work: no mismatch is claimed, and the comparison says it is incomplete.
  pair.work.left -= ra.length + rb.length
  if (pair.work.left <= 0) return undefined
  if (ra.length !== rb.length) return ra.length === 0 ? (rb[0]?.[0] ?? 0) : (ra[0]?.[0] ?? 0)
  for (let i = 0; i < ra.length; i++) {
    const [ea, eb] = [ra[i], rb[i]]
    if (ea === undefined || eb === undefined) return 0
    const [[at, p], [bt, q]] = [ea, eb]
    if (at !== bt || p.type !== q.type) return Math.min(at, bt)
    if (p.symbol !== q.symbol) return at
    // REL keeps its addend in the field.
    const addend = (r: Relocation, body: Buffer): number | undefined =>
      r.addend ??
      (at + 4 <= body.length
        ? x.file.little
          ? body.readInt32LE(at)
          : body.readInt32BE(at)
        : undefined)
    const [da, db] = [addend(p, bodyA), addend(q, bodyB)]
    if (da === undefined || db === undefined) return at
    // A place in a merged section (strings, constants, each where the linker fits it):
    // the place says nothing, and what lies there must be the same (a string may name
    // the same file elsewhere). Elsewhere the same symbol and addend are the same thing.
    const [ma, mb] = [p.merged, q.merged]
    if (ma !== undefined && mb !== undefined) {
      const [oa, ob] = [ma.value + da + pcBias(x, p.type), mb.value + db + pcBias(y, q.type)]
      if (!sameMerged(pair, ma.section, mb.section, oa, ob)) return at
    } else if (da !== db) {
      // Another place in a data section that is not merged (at -O0 string literals lie in
      // `.rodata`, after a path of another length): the same string must lie there.
      const [sa, sb] = [p.sectionSymbol, q.sectionSymbol]
      if (sa === undefined || sb === undefined || executable(sa)) return at
      const [ta, tb] = [
        textAt(x, sa, da + pcBias(x, p.type)),
        textAt(y, sb, db + pcBias(y, q.type)),
      ]
      if (ta === undefined || tb === undefined || !sameText(pair, ta, tb)) return at
    }
  }
  return undefined
}

// x86 relocations relative to the field (PC32, PLT32, GOTPCREL and its relaxable forms):
// the addend counts from the field's end, 4 bytes on, where the instruction usually ends.
const PC_RELATIVE = new Map<number, Set<number>>([
  [EM_X86_64, new Set([2, 4, 9, 41, 42])],
  [EM_386, new Set([2, 4])],
])

/** What to add to a relocation's addend to find the place in its section it refers to. */
function pcBias(s: Side, type: number): number {
  return PC_RELATIVE.get(s.file.machine)?.has(type) === true ? 4 : 0
}

/** A unit's relocations, in offset order, as offsets within the unit. */
function within(s: Side, at: Placed): [number, Relocation][] {
  const sorted = sortedRelocations(s, at.section)
  const out: [number, Relocation][] = []
  let i = lowerBound(sorted, at.within)
  for (; i < sorted.length; i++) {
    const [offset, r] = sorted[i] ?? [0, undefined]
    if (r === undefined || offset >= at.within + at.size) break
    out.push([offset - at.within, r])
  }
  return out
}

const sortedCache = new WeakMap<Side, Map<number, [number, Relocation][]>>()

/** A section's relocations sorted by offset, once per side. */
function sortedRelocations(s: Side, section: number): [number, Relocation][] {
  let bySection = sortedCache.get(s)
  if (bySection === undefined) {
    bySection = new Map()
    sortedCache.set(s, bySection)
  }
  let sorted = bySection.get(section)
  if (sorted === undefined) {
    sorted = [...(s.relocations.get(section) ?? new Map<number, Relocation>())].sort(
      (p, q) => p[0] - q[0],
    )
    bySection.set(section, sorted)
  }
  return sorted
}

function lowerBound(sorted: readonly [number, Relocation][], value: number): number {
  let [low, high] = [0, sorted.length]
  while (low < high) {
    const mid = (low + high) >> 1
    if ((sorted[mid]?.[0] ?? 0) < value) low = mid + 1
    else high = mid
  }
  return low
}

/** How a 4-byte field at a unit offset is checked: x86 at any byte, AArch64 per word. */
function fieldCheck(
  pair: Pair,
  a: Placed,
  b: Placed,
): { width: 1 | 4; at: (s: number) => boolean } {
  const { x, y } = pair
  const read = (side: Side, at: number): number =>
    side.file.little ? side.bytes.readInt32LE(at) : side.bytes.readInt32BE(at)
  if (x.file.type === ET_REL) {
    // An object's relocated fields: zeros or addends, filled in at link time, and
    // compared as relocations already (relocationMismatch).
    const [rx, ry] = [x.relocations.get(a.section), y.relocations.get(b.section)]
    return {
      width: 1,
      at: (s) => rx?.has(a.within + s) === true && ry?.has(b.within + s) === true,
    }
  }
  const machine = x.file.machine
  if (machine === EM_X86_64 || machine === EM_386) {
    return {
      width: 1,
      at: (s) => {
        const [va, vb] = [read(x, a.offset + s), read(y, b.offset + s)]
        // Relative to the end of the instruction, which an immediate may follow.
        for (const after of [0, 1, 2, 4]) {
          const end = 4 + after + s
          if (sameTarget(pair, a.address + end + va, b.address + end + vb)) return true
        }
        return sameTarget(pair, va >>> 0, vb >>> 0)
      },
    }
  }
  if (machine === EM_AARCH64) {
    return {
      width: 4,
      at: (s) => {
        const [wa, wb] = [read(x, a.offset + s) >>> 0, read(y, b.offset + s) >>> 0]
        // B and BL: six bits of opcode, a signed 26-bit word offset from the instruction.
        const branch = (w: number): boolean => (w & 0x7c000000) === 0x14000000
        if (!branch(wa) || (wa & 0xfc000000) !== (wb & 0xfc000000)) return false
        const offset = (w: number): number => ((w << 6) >> 6) * 4
        return sameTarget(pair, a.address + s + offset(wa), b.address + s + offset(wb))
      },
    }
  }
  return { width: 4, at: () => false }
}

/**
 * Whether two addresses, one on each side, point to the same thing. `deep`: whether what
 * lies there unnamed may be compared by content, whose words may be addresses in turn
 * (a jump table's entries, relative to the table; a table of pointers).
 */
function sameTarget(pair: Pair, p: number, q: number, deep = true): boolean {
  const { x, y } = pair
  const [sp, sq] = [symbolAt(x, p), symbolAt(y, q)]
  if (sp !== undefined || sq !== undefined)
    return (
      sp !== undefined &&
      sq !== undefined &&
      symbolKey(sp) === symbolKey(sq) &&
      sp.type === sq.type &&
      p - sp.address === q - sq.address
    )
  const [tp, tq] = [sectionAt(x, p), sectionAt(y, q)]
  if (tp?.name !== tq?.name || tp === undefined || tq === undefined) {
    // Just past a section's end (`__stop_` and `_edata` bounds, a loop's end), which may
    // be in no section or at the start of another, on either side.
    const [ep, eq] = [sectionEndingAt(x, p), sectionEndingAt(y, q)]
    return ep !== undefined && ep.name === eq?.name
  }
  if (p - tp.address === q - tq.address)
    return sameMerged(pair, tp, tq, p - tp.address, p - tp.address)
  if (!deep || tp.type === SHT_NOBITS || tq.type === SHT_NOBITS) return false
  const [at, bt] = [tp.offset + (p - tp.address), tq.offset + (q - tq.address)]
  // As many bytes as both sections hold there.
  const n = Math.min(tp.offset + tp.size - at, tq.offset + tq.size - bt, TARGET_BYTES)
  if (n < 4) return false
  const [a, b] = [x.bytes.subarray(at, at + n), y.bytes.subarray(bt, bt + n)]
  // A string may be longer than the window (a path): read it to its end, within bounds.
  const [sa, sb] = [textAt(x, tp, p - tp.address), textAt(y, tq, q - tq.address)]
  if (sa !== undefined && sb !== undefined) return sameText(pair, sa, sb)
  // Text on one side only is a change of text, unless the other side holds the same
  // bytes up to where the text's NUL is: then a NUL merely follows a constant on one side
  // (sixteen spaces an SSE load reads, before a table whose first byte is zero on that
  // side only), and the bytes are compared as data below.
  const one = sa ?? sb
  if (one !== undefined && !a.subarray(0, one.length).equals(b.subarray(0, one.length)))
    return false
  // Unnamed code (a stripped program's function) is the same bytes, not only the same start.
  if (executable(tp)) return a.equals(b) && a.some((byte) => byte !== 0)
  // Data: each word the same, or an address of the same thing: absolute, or from the
  // table's start (a jump table's entries). Where an unnamed object ends is not known,
  // and what follows it may be another file's data after a link in another order: the
  // words are compared up to the first that does not correspond, and four must (or all
  // there are), not all of them zero.
  let base = 0
  let matched = 0
  let nonzero = false
  for (let i = 0; i + 4 <= n; i += 4, matched++) {
    const word = a.readUInt32LE(i)
    if (word === b.readUInt32LE(i)) {
      nonzero ||= word !== 0
      continue
    }
    const [va, vb] = x.file.little
      ? [a.readInt32LE(i), b.readInt32LE(i)]
      : [a.readInt32BE(i), b.readInt32BE(i)]
    nonzero = true
    if (sameTarget(pair, p + base + va, q + base + vb, false)) continue
    if (i !== base && sameTarget(pair, p + i + va, q + i + vb, false)) {
      base = i
      continue
    }
    if (sameTarget(pair, va >>> 0, vb >>> 0, false)) continue
    break
  }
  return nonzero && (matched >= 4 || matched === Math.floor(n / 4))
}

/** Two strings a reference may point to: the same, or another only by a path or a written time. */
function sameText(pair: Pair, a: string, b: string): boolean {
  return a === b || sameFileElsewhere(a, b) || pair.textExplained(a, b)
}

/**
 * Whether places in two sections of one name hold the same thing. In a section the
 * linker merges (constants and strings, each where it fits) the place says nothing, and
 * what lies there must be the same (a string, as `sameText` allows). Elsewhere one place
 * is the same thing (what lies in a data section is compared on its own: its named
 * objects and its strings).
 */
function sameMerged(pair: Pair, tp: ElfSection, tq: ElfSection, at: number, bt: number): boolean {
  if ((tp.flags & SHF_MERGE) === 0 || tp.type === SHT_NOBITS || tq.type === SHT_NOBITS) return true
  if ((tp.flags & SHF_STRINGS) !== 0) {
    const [a, b] = [bytesAt(pair.x, tp, at, MAX_STRING), bytesAt(pair.y, tq, bt, MAX_STRING)]
    const [sa, sb] = [a && cString(a), b && cString(b)]
    if (sa === undefined || sb === undefined)
      return a !== undefined && b !== undefined && a.equals(b)
    return sameText(pair, sa, sb)
  }
  const n = Math.max(1, Math.min(tp.entrySize, TARGET_BYTES))
  const [a, b] = [bytesAt(pair.x, tp, at, n), bytesAt(pair.y, tq, bt, n)]
  return a !== undefined && b !== undefined && a.equals(b)
}

/** Up to `n` bytes at `offset` in a section, within it; undefined outside it or in no bytes. */
function bytesAt(side: Side, t: ElfSection, offset: number, n: number): Buffer | undefined {
  if (offset < 0 || offset >= t.size || t.type === SHT_NOBITS) return undefined
  return side.bytes.subarray(t.offset + offset, t.offset + Math.min(t.size, offset + n))
}

/** The text at `offset` in a section (see cString), read to its NUL within MAX_STRING. */
function textAt(side: Side, t: ElfSection, offset: number): string | undefined {
  const bytes = bytesAt(side, t, offset, MAX_STRING)
  return bytes === undefined ? undefined : cString(bytes)
}

/**
 * The text that starts a buffer and ends in its NUL, if it does: printable ASCII, or
 * UTF-8 (a literal with `©` or `ö` in it is text too). As Latin-1, one character a byte.
 */
function cString(bytes: Buffer): string | undefined {
  const end = bytes.indexOf(0)
  if (end < 1) return undefined
  const s = bytes.toString('latin1', 0, end)
  if (!/^[\x20-\x7e\t\n\x80-\xff]+$/.test(s)) return undefined
  return /[\x80-\xff]/.test(s) && !isUtf8(bytes.subarray(0, end)) ? undefined : s
}

/** Two absolute paths that name the same file under other directories. */
function sameFileElsewhere(x: string, y: string): boolean {
  // Paths and nothing else: a command line that ends in a path is not one.
  if (!ONLY_PATH.test(x) || !ONLY_PATH.test(y)) return false
  const tail = (s: string): string => s.slice(s.lastIndexOf('/'))
  return tail(x) === tail(y) && tail(x).length > 1
}

const ONLY_PATH = /^\/[A-Za-z0-9._+@~/-]+$/

/** The function or object whose bytes hold `address` (or that starts there). */
function symbolAt(s: Side, address: number): ElfSymbol | undefined {
  const list = s.byAddress
  let [low, high] = [0, list.length - 1]
  let best = -1
  while (low <= high) {
    const mid = (low + high) >> 1
    if ((list[mid]?.address ?? 0) <= address) {
      best = mid
      low = mid + 1
    } else high = mid - 1
  }
  // Symbols may nest or touch: look back a few for one that spans the address.
  for (let i = best; i >= 0 && i > best - 8; i--) {
    const sym = list[i]
    if (sym === undefined) break
    if (address === sym.address || address < sym.address + sym.size) return sym
  }
  return undefined
}

/** Loaded sections by address, once per side. */
function loadedSections(s: Side): ElfSection[] {
  let sorted = loadedCache.get(s)
  if (sorted === undefined) {
    sorted = s.file.sections
      .filter((t) => t.address !== 0 && t.size > 0)
      .sort((p, q) => p.address - q.address || p.index - q.index)
    loadedCache.set(s, sorted)
  }
  return sorted
}

/** The loaded section that ends just before `address` (the first in header order). */
function sectionEndingAt(s: Side, address: number): ElfSection | undefined {
  return firstLoaded(s, address, false, (t) => t.address + t.size === address)
}

/** The loaded section that holds `address` (the first in header order). */
function sectionAt(s: Side, address: number): ElfSection | undefined {
  return firstLoaded(s, address, true, (t) => address < t.address + t.size)
}

/**
 * Of the loaded sections starting below `address` (or at it, when `atToo`), the
 * one first in header order that `fits`, as a scan in header order would find:
 * sections may overlap in a crafted file, so a few nearest are looked back over.
 */
function firstLoaded(
  s: Side,
  address: number,
  atToo: boolean,
  fits: (t: ElfSection) => boolean,
): ElfSection | undefined {
  const sorted = loadedSections(s)
  let [low, high] = [0, sorted.length]
  while (low < high) {
    const mid = (low + high) >> 1
    const start = sorted[mid]?.address ?? 0
    if (start < address || (atToo && start === address)) low = mid + 1
    else high = mid
  }
  let found: ElfSection | undefined
  for (let i = low - 1, seen = 0; i >= 0 && seen < MAX_OVERLAP; i--, seen++) {
    const t = sorted[i]
    if (t !== undefined && fits(t) && (found === undefined || t.index < found.index)) found = t
  }
  return found
}

const loadedCache = new WeakMap<Side, ElfSection[]>()
// Sections looked back over for one that holds an address: a real file's do not overlap.
const MAX_OVERLAP = 64

/**
 * An object file's relocations, per section they apply to (sh_info), by offset: the
 * symbol each names (a section symbol by its section), its type and, for RELA, its addend.
 */
function readRelocations(
  bytes: Buffer,
  file: ElfFile,
  symbols: Map<number, ElfSymbol>,
  sections: Map<number, ElfSection>,
): Map<number, Map<number, Relocation>> {
  const { wide, little } = file
  const shoff = file.sectionHeaders?.offset ?? 0
  const header = wide ? 64 : 40
  const { u32, word } = fieldReaders(bytes, wide, little)
  const relocations = new Map<number, Map<number, Relocation>>()
  let read = 0
  for (const s of file.sections) {
    if (s.type !== SHT_REL && s.type !== SHT_RELA) continue
    const infoAt = shoff + s.index * header + (wide ? 44 : 28)
    if (infoAt + 4 > bytes.length) continue
    const target = u32(infoAt)
    // Code and data are compared: the relocations of debug sections are not read.
    if (!executable(sections.get(target)) && !holdsData(sections.get(target))) continue
    const size = wide ? 8 : 4
    const entry = (s.type === SHT_RELA ? 3 : 2) * size
    const count = Math.floor(s.size / entry)
    if (read + count > MAX_RELOCATIONS) break
    read += count
    const byOffset = relocations.get(target) ?? new Map<number, Relocation>()
    for (let i = 0; i < count; i++) {
      const at = s.offset + i * entry
      // r_info: the symbol above the type (64-bit: high and low words; 32-bit: 24 and 8 bits).
      const info = wide
        ? [u32(at + size + (little ? 4 : 0)), u32(at + size + (little ? 0 : 4))]
        : [u32(at + size) >>> 8, u32(at + size) & 0xff]
      const [index = 0, type = 0] = info
      const symbol = symbols.get(index)
      const sectionSymbol = symbol?.type === STT_SECTION ? sections.get(symbol.section) : undefined
      const home = symbol === undefined ? undefined : sections.get(symbol.section)
      const merged =
        home !== undefined && symbol !== undefined && (home.flags & SHF_MERGE) !== 0
          ? { section: home, value: symbol.type === STT_SECTION ? 0 : symbol.address }
          : undefined
      byOffset.set(word(at), {
        type,
        // A symbol in a merged section (`.LC0`) is a place there, not a name to match; and
        // which merged section a string is put in follows its length (`.rodata.str1.1`,
        // `.rodata.str1.8` for a longer path): a place in merged strings or constants.
        symbol:
          merged !== undefined
            ? mergedKey(merged.section)
            : sectionSymbol !== undefined
              ? `section ${sectionSymbol.name}`
              : symbol === undefined
                ? `#${index}`
                : symbolKey(symbol),
        ...(merged === undefined ? {} : { merged }),
        ...(sectionSymbol === undefined ? {} : { sectionSymbol }),
        ...(s.type === SHT_RELA ? { addend: addendAt(bytes, at + 2 * size, file) } : {}),
      })
    }
    relocations.set(target, byOffset)
  }
  return relocations
}

/** What a place in a merged section is keyed by: strings, or constants of a size. */
function mergedKey(t: ElfSection): string {
  return (t.flags & SHF_STRINGS) !== 0 ? 'merged strings' : `merged constants of ${t.entrySize}`
}

/** A RELA addend: signed, at the file's width (exact: a negative 64-bit one is common). */
function addendAt(bytes: Buffer, at: number, file: ElfFile): number {
  if (!file.wide) return file.little ? bytes.readInt32LE(at) : bytes.readInt32BE(at)
  return Number(file.little ? bytes.readBigInt64LE(at) : bytes.readBigInt64BE(at))
}
