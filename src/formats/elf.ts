/**
 * ELF section layout (objects, shared libraries, executables, separate .debug files),
 * read from the bytes alone, for attributing differing byte ranges to the section they
 * lie in. Hostile input: every offset and count is checked against the buffer before it
 * is read, and a file that does not hold together is simply not ELF here (undefined).
 */

export interface ElfPart {
  /** A section's name (`.debug_str`), or a header: `ELF header`, `program headers`, `section headers`. */
  name: string
  offset: number
  size: number
  /** A section of NUL-terminated strings (SHT_STRTAB, or SHF_STRINGS: .comment, .debug_str). */
  strings?: boolean
}

const MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46])
// SHT_NOBITS (.bss, .tbss): no bytes in the file.
const SHT_NOBITS = 8
const SHT_STRTAB = 3
const SHF_STRINGS = 0x20
// More sections than this is not a file a compiler wrote (the format allows 2^32).
const MAX_SECTIONS = 65_536

export function isElf(bytes: Buffer): boolean {
  return bytes.length >= 16 && bytes.subarray(0, 4).equals(MAGIC)
}

/** One section header, as read: where its bytes are in the file and at what address it loads. */
export interface ElfSection {
  index: number
  name: string
  type: number
  flags: number
  /** The address it loads at (0 in a relocatable object, whose symbols count from the section). */
  address: number
  offset: number
  size: number
  /** sh_entsize: the size of each entry of a table, or of each constant of a merged section. */
  entrySize: number
}

/** An ELF file's header fields that reading it needs, and its section headers, checked. */
export interface ElfFile {
  wide: boolean
  little: boolean
  /** e_type: 1 a relocatable object, 2 an executable, 3 a shared object or PIE. */
  type: number
  /** e_machine: 62 x86-64, 3 i386, 183 AArch64. */
  machine: number
  headerSize: number
  programHeaders?: { offset: number; size: number }
  sectionHeaders?: { offset: number; size: number }
  /** Every section but the null one, in table order, that lies within the file or has no bytes in it. */
  sections: ElfSection[]
}

export const ET_REL = 1

/** An ELF file's header and section table, or undefined if it is not one. */
export function readElf(bytes: Buffer): ElfFile | undefined {
  if (!isElf(bytes)) return undefined
  const wide = bytes[4] === 2
  const little = bytes[5] === 1
  if (![1, 2].includes(bytes[4] ?? 0) || ![1, 2].includes(bytes[5] ?? 0)) return undefined
  const headerSize = wide ? 64 : 52
  if (bytes.length < headerSize) return undefined
  const { u16, u32, word } = fieldReaders(bytes, wide, little)
  const phoff = word(wide ? 32 : 28)
  const shoff = word(wide ? 40 : 32)
  const phentsize = u16(wide ? 54 : 42)
  const phnum = u16(wide ? 56 : 44)
  const shentsize = u16(wide ? 58 : 46)
  let shnum = u16(wide ? 60 : 48)
  let shstrndx = u16(wide ? 62 : 50)
  const fits = (offset: number, size: number): boolean =>
    offset >= 0 && size >= 0 && offset <= bytes.length && size <= bytes.length - offset
  const file: ElfFile = {
    wide,
    little,
    type: u16(16),
    machine: u16(18),
    headerSize,
    sections: [],
  }
  if (phnum > 0 && fits(phoff, phnum * phentsize))
    file.programHeaders = { offset: phoff, size: phnum * phentsize }
  const entry = wide ? 64 : 40
  if (shoff === 0 || shentsize < entry || !fits(shoff, shentsize)) return file
  // With 0xff00 sections or more, the count and the name table's index live in section 0.
  if (shnum === 0) shnum = u32(shoff + (wide ? 32 : 20))
  if (shstrndx === 0xffff) shstrndx = u32(shoff + (wide ? 40 : 24))
  if (shnum > MAX_SECTIONS || !fits(shoff, shnum * shentsize)) return file
  file.sectionHeaders = { offset: shoff, size: shnum * shentsize }
  const section = (i: number) => {
    const at = shoff + i * shentsize
    return {
      nameAt: u32(at),
      type: u32(at + 4),
      // The flags' low word is all that matters here, at either width.
      flags: u32(at + 8),
      address: word(at + (wide ? 16 : 12)),
      offset: word(at + (wide ? 24 : 16)),
      size: word(at + (wide ? 32 : 20)),
      entrySize: word(at + (wide ? 56 : 36)),
    }
  }
  const names = shstrndx < shnum ? section(shstrndx) : undefined
  const nameOf = (at: number): string => {
    if (names === undefined || !fits(names.offset, names.size) || at >= names.size)
      return '(unnamed)'
    const from = names.offset + at
    const end = bytes.indexOf(0, from)
    const to = end === -1 || end > names.offset + names.size ? names.offset + names.size : end
    return bytes.subarray(from, Math.min(to, from + 256)).toString('latin1')
  }
  for (let i = 1; i < shnum; i++) {
    const s = section(i)
    if (s.type !== SHT_NOBITS && !fits(s.offset, s.size)) continue
    file.sections.push({
      index: i,
      name: nameOf(s.nameAt),
      type: s.type,
      flags: s.flags,
      address: s.address,
      offset: s.offset,
      size: s.size,
      entrySize: s.entrySize,
    })
  }
  return file
}

/**
 * Readers of a file's 16-bit, 32-bit and address-sized fields in its byte order; an
 * address past 2^53 reads as the largest safe integer (no file holds one). Two 32-bit
 * halves, not a BigInt per field (a tenth of an object file's comparison, per symbol).
 */
export function fieldReaders(
  bytes: Buffer,
  wide: boolean,
  little: boolean,
): { u16: (at: number) => number; u32: (at: number) => number; word: (at: number) => number } {
  const u16 = (at: number): number => (little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at))
  const u32 = (at: number): number => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at))
  const word = (at: number): number => {
    if (!wide) return u32(at)
    const [high, low] = little ? [u32(at + 4), u32(at)] : [u32(at), u32(at + 4)]
    return high >= 0x200000 ? Number.MAX_SAFE_INTEGER : high * 0x1_0000_0000 + low
  }
  return { u16, u32, word }
}

/** The parts of an ELF file that occupy bytes, in file order, or undefined if it is not one. */
export function elfLayout(bytes: Buffer): ElfPart[] | undefined {
  const file = readElf(bytes)
  if (file === undefined) return undefined
  const parts: ElfPart[] = [{ name: 'ELF header', offset: 0, size: file.headerSize }]
  if (file.programHeaders !== undefined)
    parts.push({ name: 'program headers', ...file.programHeaders })
  if (file.sectionHeaders === undefined) return parts
  parts.push({ name: 'section headers', ...file.sectionHeaders })
  for (const s of file.sections) {
    if (s.type === SHT_NOBITS || s.size === 0) continue
    const strings = s.type === SHT_STRTAB || (s.flags & SHF_STRINGS) !== 0
    parts.push({
      name: s.name,
      offset: s.offset,
      size: s.size,
      ...(strings ? { strings } : {}),
    })
  }
  return parts.sort((x, y) => x.offset - y.offset)
}

/** The part that holds `offset`, the innermost (smallest) if parts overlap. */
export function partAt(parts: readonly ElfPart[], offset: number): string | undefined {
  let best: ElfPart | undefined
  for (const p of parts)
    if (
      offset >= p.offset &&
      offset < p.offset + p.size &&
      (best === undefined || p.size < best.size)
    )
      best = p
  return best?.name
}

export const STT_OBJECT = 1
export const STT_FUNC = 2
const SHT_SYMTAB = 2
// Symbols read at most (a large library has ~1e5).
const MAX_SYMBOLS = 1_000_000

/** A function or data object of the symbol table. */
export interface ElfSymbol {
  /** Its index in the symbol table (what a relocation names it by). */
  index: number
  name: string
  /** st_value: an address, or in a relocatable object the offset in its section. */
  address: number
  size: number
  type: number
  /** Whether it is local to its file (STB_LOCAL): a static function or object. */
  local: boolean
  /** For a local symbol, the source file it belongs to (the last STT_FILE before it, its base name). */
  file: string
  /** The index of the section it lies in. */
  section: number
}

export const STT_NOTYPE = 0
export const STT_SECTION = 3
const STT_FILE = 4

/** The symbol table's symbols of the given types (.symtab, named by its linked string table), every field read within the file. */
export function readSymbols(bytes: Buffer, file: ElfFile, types: readonly number[]): ElfSymbol[] {
  const table = file.sections.find((s) => s.type === SHT_SYMTAB)
  const strings = table === undefined ? undefined : linkedSection(bytes, file, table)
  if (table === undefined || strings === undefined) return []
  const { wide, little } = file
  const entry = wide ? 24 : 16
  const count = Math.floor(table.size / entry)
  if (count > MAX_SYMBOLS) return []
  const { u16, u32, word } = fieldReaders(bytes, wide, little)
  const symbols: ElfSymbol[] = []
  const nameAt = (at: number): string => {
    const offset = u32(at)
    if (offset >= strings.size) return ''
    const from = strings.offset + offset
    // By hand: Buffer#indexOf crosses into C++ for each of thousands of short names.
    const limit = Math.min(strings.offset + strings.size, from + 256)
    let to = from
    while (to < limit && bytes[to] !== 0) to++
    return bytes.toString('latin1', from, to)
  }
  // Local symbols follow the STT_FILE symbol of the file they come from.
  let source = ''
  for (let i = 1; i < count; i++) {
    const at = table.offset + i * entry
    const info = bytes[at + (wide ? 4 : 12)] ?? 0
    const type = info & 0xf
    if (type === STT_FILE) {
      const path = nameAt(at)
      source = path.slice(path.lastIndexOf('/') + 1)
    }
    if (!types.includes(type)) continue
    const local = info >> 4 === 0
    symbols.push({
      index: i,
      name: nameAt(at),
      address: word(at + (wide ? 8 : 4)),
      size: word(at + (wide ? 16 : 8)),
      type,
      local,
      file: local ? source : '',
      section: u16(at + (wide ? 6 : 14)),
    })
  }
  return symbols
}

/** The section a table's sh_link names (a symbol table's string table), if it has bytes. */
function linkedSection(bytes: Buffer, file: ElfFile, table: ElfSection): ElfSection | undefined {
  const at =
    (file.sectionHeaders?.offset ?? 0) + table.index * (file.wide ? 64 : 40) + (file.wide ? 40 : 24)
  if (at + 4 > bytes.length) return undefined
  const link = file.little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at)
  return file.sections.find((s) => s.index === link && s.type !== SHT_NOBITS)
}

/**
 * The functions of an ELF file's symbol table in the order of their addresses: the
 * order the linker laid them out in. Undefined when the file has no symbol table
 * (stripped) or it does not hold together.
 */
export function functionsInOrder(bytes: Buffer): string[] | undefined {
  const file = readElf(bytes)
  if (file?.sections.some((s) => s.type === SHT_SYMTAB) !== true) return undefined
  return readSymbols(bytes, file, [STT_FUNC])
    .filter((f) => f.size !== 0)
    .sort((x, y) => x.address - y.address || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
    .map((f) => f.name)
}
