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

/** The parts of an ELF file that occupy bytes, in file order, or undefined if it is not one. */
export function elfLayout(bytes: Buffer): ElfPart[] | undefined {
  if (!isElf(bytes)) return undefined
  const wide = bytes[4] === 2
  const little = bytes[5] === 1
  if (![1, 2].includes(bytes[4] ?? 0) || ![1, 2].includes(bytes[5] ?? 0)) return undefined
  const headerSize = wide ? 64 : 52
  if (bytes.length < headerSize) return undefined
  const u16 = (at: number): number => (little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at))
  const u32 = (at: number): number => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at))
  const word = (at: number): number => {
    if (!wide) return u32(at)
    const n = little ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at)
    return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n)
  }
  const phoff = word(wide ? 32 : 28)
  const shoff = word(wide ? 40 : 32)
  const phentsize = u16(wide ? 54 : 42)
  const phnum = u16(wide ? 56 : 44)
  const shentsize = u16(wide ? 58 : 46)
  let shnum = u16(wide ? 60 : 48)
  let shstrndx = u16(wide ? 62 : 50)
  const fits = (offset: number, size: number): boolean =>
    offset >= 0 && size >= 0 && offset <= bytes.length && size <= bytes.length - offset
  const parts: ElfPart[] = [{ name: 'ELF header', offset: 0, size: headerSize }]
  if (phnum > 0 && fits(phoff, phnum * phentsize))
    parts.push({ name: 'program headers', offset: phoff, size: phnum * phentsize })
  const entry = wide ? 64 : 40
  if (shoff === 0 || shentsize < entry || !fits(shoff, shentsize)) return parts
  // With 0xff00 sections or more, the count and the name table's index live in section 0.
  if (shnum === 0) shnum = u32(shoff + (wide ? 32 : 20))
  if (shstrndx === 0xffff) shstrndx = u32(shoff + (wide ? 40 : 24))
  if (shnum > MAX_SECTIONS || !fits(shoff, shnum * shentsize)) return parts
  parts.push({ name: 'section headers', offset: shoff, size: shnum * shentsize })
  const section = (i: number) => {
    const at = shoff + i * shentsize
    return {
      nameAt: u32(at),
      type: u32(at + 4),
      // The flags' low word is all that matters here, at either width.
      flags: u32(at + 8),
      offset: word(at + (wide ? 24 : 16)),
      size: word(at + (wide ? 32 : 20)),
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
    if (s.type === SHT_NOBITS || s.size === 0 || !fits(s.offset, s.size)) continue
    const strings = s.type === SHT_STRTAB || (s.flags & SHF_STRINGS) !== 0
    parts.push({
      name: nameOf(s.nameAt),
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

// STT_FUNC in a symbol's st_info, and the symbols read at most (a large library has ~1e5).
const STT_FUNC = 2
const MAX_SYMBOLS = 1_000_000

/**
 * The functions of an ELF file's symbol table (.symtab, with .strtab for names) in the
 * order of their addresses: the order the linker laid them out in. Undefined when the
 * file has no symbol table (stripped) or it does not hold together.
 */
export function functionsInOrder(
  bytes: Buffer,
  layout: readonly ElfPart[] | undefined = elfLayout(bytes),
): string[] | undefined {
  const symtab = layout?.find((p) => p.name === '.symtab')
  const strtab = layout?.find((p) => p.name === '.strtab')
  if (symtab === undefined || strtab === undefined) return undefined
  const wide = bytes[4] === 2
  const little = bytes[5] === 1
  const size = wide ? 24 : 16
  const count = Math.floor(symtab.size / size)
  if (count > MAX_SYMBOLS) return undefined
  const u32 = (at: number): number => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at))
  // Two 32-bit halves, not a BigInt per symbol (a tenth of an object file's comparison).
  const value = (at: number): number => {
    if (!wide) return u32(at)
    const [high, low] = little ? [u32(at + 4), u32(at)] : [u32(at), u32(at + 4)]
    return high >= 0x200000 ? Number.MAX_SAFE_INTEGER : high * 0x1_0000_0000 + low
  }
  const functions: { name: string; address: number }[] = []
  for (let i = 1; i < count; i++) {
    const at = symtab.offset + i * size
    const info = bytes[at + (wide ? 4 : 12)] ?? 0
    if ((info & 0xf) !== STT_FUNC || value(at + (wide ? 16 : 8)) === 0) continue
    const nameAt = u32(at)
    if (nameAt >= strtab.size) continue
    const from = strtab.offset + nameAt
    // By hand: Buffer#indexOf crosses into C++ for each of thousands of short names.
    const limit = Math.min(strtab.offset + strtab.size, from + 256)
    let to = from
    while (to < limit && bytes[to] !== 0) to++
    functions.push({
      name: bytes.toString('latin1', from, to),
      address: value(at + (wide ? 8 : 4)),
    })
  }
  return functions
    .sort((x, y) => x.address - y.address || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
    .map((f) => f.name)
}
