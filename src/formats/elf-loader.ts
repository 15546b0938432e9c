import { fieldReaders, readElf, type ElfFile } from './elf.js'

/**
 * What the dynamic loader and the kernel read of an ELF file before any of its code runs:
 * its segments' kinds and permissions (an executable stack, RELRO), its interpreter, and
 * the libraries, search paths and flags of its dynamic section. No build path, time or
 * link order changes a segment's kind or permissions, the interpreter or a library's
 * name: a cause found elsewhere in the file does not explain them. Hostile input: every
 * offset and count is checked before it is read.
 */
export interface LoaderFacts {
  /** Each segment as `TYPE FLAGS` (`GNU_STACK RW`), in table order. */
  segments: string[]
  interpreter?: string
  /** Dynamic entries by name (`NEEDED libc.so.6`, `FLAGS_1 0x8000001`), in order. */
  dynamic: string[]
}

// More program headers or dynamic entries than this is no file a linker wrote.
const MAX_SEGMENTS = 4096
const MAX_DYNAMIC = 16_384
const MAX_STRING = 4096

const SEGMENT_TYPES: Record<number, string> = {
  0: 'NULL',
  1: 'LOAD',
  2: 'DYNAMIC',
  3: 'INTERP',
  4: 'NOTE',
  5: 'SHLIB',
  6: 'PHDR',
  7: 'TLS',
  0x6474e550: 'GNU_EH_FRAME',
  0x6474e551: 'GNU_STACK',
  0x6474e552: 'GNU_RELRO',
  0x6474e553: 'GNU_PROPERTY',
}

// The dynamic entries that name or set what the loader does; the rest are addresses and
// sizes, which move with everything else.
const DYNAMIC_TAGS: Record<number, { name: string; text: boolean }> = {
  1: { name: 'NEEDED', text: true },
  14: { name: 'SONAME', text: true },
  15: { name: 'RPATH', text: true },
  29: { name: 'RUNPATH', text: true },
  30: { name: 'FLAGS', text: false },
  0x6ffffffb: { name: 'FLAGS_1', text: false },
  24: { name: 'BIND_NOW', text: false },
  22: { name: 'TEXTREL', text: false },
}

/** The loader's view of an ELF file, or undefined when it is not one or has no program headers. */
export function loaderFacts(
  bytes: Buffer,
  file: ElfFile | undefined = readElf(bytes),
): LoaderFacts | undefined {
  if (file?.programHeaders === undefined) return undefined
  const { wide, little } = file
  const { u32, word } = fieldReaders(bytes, wide, little)
  const entrySize = wide ? 56 : 32
  const count = Math.min(Math.floor(file.programHeaders.size / entrySize), MAX_SEGMENTS)
  const fits = (offset: number, size: number): boolean =>
    offset >= 0 && size >= 0 && offset <= bytes.length && size <= bytes.length - offset
  const segments: string[] = []
  const loads: { vaddr: number; offset: number; size: number }[] = []
  let interp: { offset: number; size: number } | undefined
  let dynamic: { offset: number; size: number } | undefined
  for (let i = 0; i < count; i++) {
    const at = file.programHeaders.offset + i * entrySize
    if (!fits(at, entrySize)) break
    const type = u32(at)
    const flags = u32(at + (wide ? 4 : 24))
    const offset = word(at + (wide ? 8 : 4))
    const vaddr = word(at + (wide ? 16 : 8))
    const size = word(at + (wide ? 32 : 16))
    const rwx = `${flags & 4 ? 'R' : ''}${flags & 2 ? 'W' : ''}${flags & 1 ? 'E' : ''}` || '-'
    segments.push(`${SEGMENT_TYPES[type] ?? `0x${type.toString(16)}`} ${rwx}`)
    if (type === 1) loads.push({ vaddr, offset, size })
    if (type === 3) interp = { offset, size }
    if (type === 2) dynamic = { offset, size }
  }
  const text = (offset: number, limit = MAX_STRING): string | undefined => {
    if (!fits(offset, 0)) return undefined
    const end = bytes.indexOf(0, offset)
    const to = Math.min(end === -1 ? bytes.length : end, offset + limit)
    return bytes.subarray(offset, to).toString('latin1')
  }
  const facts: LoaderFacts = { segments, dynamic: [] }
  if (interp !== undefined && fits(interp.offset, interp.size)) {
    const named = text(interp.offset, Math.min(interp.size, MAX_STRING))
    if (named !== undefined) facts.interpreter = named
  }
  if (dynamic === undefined || !fits(dynamic.offset, dynamic.size)) return facts
  const dynSize = wide ? 16 : 8
  const entries = Math.min(Math.floor(dynamic.size / dynSize), MAX_DYNAMIC)
  const raw: { tag: number; value: number }[] = []
  let strtab: number | undefined
  for (let i = 0; i < entries; i++) {
    const at = dynamic.offset + i * dynSize
    // The tag's high word is 0 for every tag named here (and for DT_NULL).
    const tag = wide ? (little ? u32(at) : u32(at + 4)) : u32(at)
    const high = wide ? (little ? u32(at + 4) : u32(at)) : 0
    if (tag === 0 && high === 0) break
    const value = word(at + (wide ? 8 : 4))
    if (high !== 0) continue
    if (tag === 5) strtab = value
    raw.push({ tag, value })
  }
  // The string table by its address, found in the segment that loads it.
  const stringsAt = (address: number): number | undefined => {
    const load = loads.find((l) => address >= l.vaddr && address < l.vaddr + l.size)
    return load === undefined ? undefined : load.offset + (address - load.vaddr)
  }
  const strings = strtab === undefined ? undefined : stringsAt(strtab)
  for (const { tag, value } of raw) {
    const known = DYNAMIC_TAGS[tag]
    if (known === undefined) continue
    if (!known.text) facts.dynamic.push(`${known.name} 0x${value.toString(16)}`)
    else {
      const named = strings === undefined ? undefined : text(strings + value)
      facts.dynamic.push(`${known.name} ${named ?? '(unreadable)'}`)
    }
  }
  return facts
}

/**
 * What differs between two files' loader facts, each as a place-less change: segments
 * (their kinds and permissions), the interpreter, and each dynamic entry. A search path
 * (RPATH, RUNPATH) that differs only by what `textExplained` accepts (a build path) is
 * left to that cause. Pure.
 */
export function loaderChanges(
  a: Buffer,
  b: Buffer,
  textExplained: (a: string, b: string) => boolean,
  /** Both files' headers, when the caller has read them already. */
  files?: readonly [ElfFile | undefined, ElfFile | undefined],
): { name: string; section: string }[] {
  const [x, y] = [loaderFacts(a, files?.[0]), loaderFacts(b, files?.[1])]
  if (x === undefined || y === undefined) return []
  const out: { name: string; section: string }[] = []
  if (x.segments.join('\n') !== y.segments.join('\n'))
    out.push({
      name: `segments (${listDifference(x.segments, y.segments)})`,
      section: 'program headers',
    })
  if (x.interpreter !== y.interpreter)
    out.push({
      name: `interpreter (${x.interpreter ?? 'none'} → ${y.interpreter ?? 'none'})`,
      section: '.interp',
    })
  const explainedPath = (p: string, q: string): boolean =>
    /^(RPATH|RUNPATH) /.test(p) && p.split(' ')[0] === q.split(' ')[0] && textExplained(p, q)
  const sameDynamic =
    x.dynamic.length === y.dynamic.length &&
    x.dynamic.every((e, i) => e === y.dynamic[i] || explainedPath(e, y.dynamic[i] ?? ''))
  if (!sameDynamic)
    out.push({
      name: `dynamic section (${listDifference(x.dynamic, y.dynamic)})`,
      section: '.dynamic',
    })
  return out
}

/** Two lists' difference in a few words: what one has that the other does not. */
function listDifference(a: readonly string[], b: readonly string[]): string {
  const onlyA = a.filter((e) => !b.includes(e))
  const onlyB = b.filter((e) => !a.includes(e))
  if (onlyA.length === 0 && onlyB.length === 0) return 'the same entries in another order'
  const few = (list: string[]): string =>
    list.length === 0 ? 'none' : list.slice(0, 4).join(', ') + (list.length > 4 ? ', …' : '')
  return `A only: ${few(onlyA)}; B only: ${few(onlyB)}`
}
