import {
  ET_REL,
  fieldReaders,
  isElf,
  readElf,
  readSymbols,
  STT_FUNC,
  STT_OBJECT,
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
 * Functions are matched by name (from the symbol table), so one laid out elsewhere is
 * compared with itself; without a symbol table each executable section is one unit.
 * Within a unit, every differing byte must lie in a 4-byte field that, read on each side
 * as an address (relative to the instruction on x86, absolute or PC-relative), points to
 * the same thing on both: the same symbol at the same offset, the same place in a section
 * of the same name, or the same bytes (a string that moved; a path under another
 * directory, same file name). In a relocatable object the field must be one a relocation
 * fills on both sides. Other machines' code is compared byte for byte (an AArch64 branch
 * aside). Hostile input: every read is bounded by the buffer, the work by the caps below.
 */

export interface CodeChange {
  /** The function's name, or the section's where there is no symbol table. */
  name: string
  section: string
  /** Where in it the first unexplained byte is; -1 when it is on one side only or its size changed. */
  offset: number
}

export interface CodeComparison {
  changed: CodeChange[]
  /** Changed units beyond those listed. */
  unlisted: number
  /** Whether the comparison stopped at its bound of work before the last unit: what it did not reach may differ too. */
  incomplete: boolean
}

const SHF_EXECINSTR = 0x4
const SHT_RELA = 4
const SHT_REL = 9
const SHT_NOBITS = 8
const EM_386 = 3
const EM_X86_64 = 62
const EM_AARCH64 = 183
// Listed changes per item; symbols and relocations read at most (a large library has ~1e5).
const MAX_LISTED = 8
const MAX_RELOCATIONS = 4_000_000
// Bytes of a target compared when it lies in no symbol and at another place.
const TARGET_BYTES = 32
const MAX_STRING = 4096
// Fields read as addresses per comparison: a few for each moved reference, so that two
// large binaries that differ everywhere cost seconds, not minutes.
const MAX_FIELD_CHECKS = 1_000_000

/** One side, read: its bytes, header, symbols by address, and relocated places. */
interface Side {
  bytes: Buffer
  file: ElfFile
  symbols: ElfSymbol[]
  byAddress: ElfSymbol[]
  /** Per section index, the offsets (within it) relocations fill, for an object file. */
  relocated: Map<number, Set<number>>
}

/** Both sides, and the work left. */
interface Pair {
  x: Side
  y: Side
  work: { left: number }
}

/**
 * The code units that differ beyond moved addresses; undefined unless both are ELF.
 */
export function compareCode(a: Buffer, b: Buffer): CodeComparison | undefined {
  if (!isElf(a) || !isElf(b)) return undefined
  const [x, y] = [side(a), side(b)]
  // Without section tables the code cannot be found, so it was not compared.
  if (x === undefined || y === undefined) return { changed: [], unlisted: 0, incomplete: true }
  if (x.file.machine !== y.file.machine || x.file.type !== y.file.type) {
    const header = { name: 'ELF header', section: 'ELF header' }
    const offset = x.file.type !== y.file.type ? 16 : 18
    return { changed: [{ ...header, offset }], unlisted: 0, incomplete: false }
  }
  const pair: Pair = { x, y, work: { left: MAX_FIELD_CHECKS } }
  const changed: CodeChange[] = []
  const hasFunctions = functionsOf(x).length > 0 && functionsOf(y).length > 0
  const units = hasFunctions ? functionUnits(pair) : sectionUnits(x, y)
  for (const unit of units) {
    if (pair.work.left <= 0) break
    const change = unit.change === null ? compareUnit(pair, unit) : unit.change
    if (change !== undefined) changed.push(change)
  }
  return {
    changed: changed.slice(0, MAX_LISTED),
    unlisted: Math.max(0, changed.length - MAX_LISTED),
    incomplete: pair.work.left <= 0,
  }
}

/** A unit of code: where it starts on each side (file offset and load address), its size. */
interface Unit {
  name: string
  section: string
  a?: Placed
  b?: Placed
  /** Its comparison, where pairing it made one already; null where not yet compared. */
  change: CodeChange | undefined | null
}

interface Placed {
  offset: number
  address: number
  size: number
  /** Its section's index, and the unit's start within the section. */
  section: number
  within: number
}

function side(bytes: Buffer): Side | undefined {
  const file = readElf(bytes)
  if (file?.sectionHeaders === undefined) return undefined
  const symbols = readSymbols(bytes, file, [STT_FUNC, STT_OBJECT])
  const byAddress = symbols
    .filter((s) => s.type === STT_FUNC || s.type === STT_OBJECT)
    .sort((p, q) => p.address - q.address || q.size - p.size)
  const relocated =
    file.type === ET_REL ? readRelocated(bytes, file) : new Map<number, Set<number>>()
  return { bytes, file, symbols, byAddress, relocated }
}

const executable = (s: ElfSection): boolean =>
  (s.flags & SHF_EXECINSTR) !== 0 && s.type !== SHT_NOBITS && s.size > 0

function functionsOf(s: Side): ElfSymbol[] {
  return s.symbols.filter((f) => {
    const section = s.file.sections.find((x) => x.index === f.section)
    return f.type === STT_FUNC && f.size > 0 && section !== undefined && executable(section)
  })
}

/** Where a symbol's bytes are, if they lie within its section and the file. */
function place(s: Side, f: ElfSymbol): Placed | undefined {
  const section = s.file.sections.find((x) => x.index === f.section)
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
 * Functions paired by name. Several of one name (static functions of other files) are
 * paired in address order; a pair that differs is matched again against the others of
 * that name, so a link order that swaps two of them is not a change.
 */
function functionUnits(pair: Pair): Unit[] {
  const { x, y } = pair
  const group = (s: Side): Map<string, Placed[]> => {
    const byName = new Map<string, Placed[]>()
    for (const f of functionsOf(s).sort((p, q) => p.address - q.address)) {
      const at = place(s, f)
      if (at === undefined) continue
      const list = byName.get(f.name) ?? []
      // Aliases (one body, two names, or one name twice at one address) count once.
      if (!list.some((p) => p.address === at.address)) list.push(at)
      byName.set(f.name, list)
    }
    return byName
  }
  const [gx, gy] = [group(x), group(y)]
  const sectionName = (s: Side, p: Placed | undefined): string =>
    s.file.sections.find((t) => t.index === p?.section)?.name ?? '?'
  const units: Unit[] = []
  for (const name of new Set([...gx.keys(), ...gy.keys()])) {
    const [as, bs] = [gx.get(name) ?? [], gy.get(name) ?? []]
    const left = [...bs]
    for (const a of as) {
      const section = sectionName(x, a)
      let found: Unit | undefined
      for (const b of left) {
        const unit: Unit = { name, section, a, b, change: null }
        unit.change = compareUnit(pair, unit)
        found ??= unit
        if (unit.change === undefined) {
          found = unit
          break
        }
      }
      if (found?.b !== undefined) left.splice(left.indexOf(found.b), 1)
      units.push(found ?? { name, section, a, change: null })
    }
    for (const b of left) units.push({ name, section: sectionName(y, b), b, change: null })
  }
  return units
}

/** Executable sections paired by name, each one unit. */
function sectionUnits(x: Side, y: Side): Unit[] {
  const whole = (s: ElfSection): Placed => ({
    offset: s.offset,
    address: s.address,
    size: s.size,
    section: s.index,
    within: 0,
  })
  const named = (s: Side): Map<string, ElfSection> =>
    new Map(s.file.sections.filter(executable).map((t) => [t.name, t]))
  const [nx, ny] = [named(x), named(y)]
  return [...new Set([...nx.keys(), ...ny.keys()])].map((name) => {
    const [a, b] = [nx.get(name), ny.get(name)]
    return {
      name,
      section: name,
      change: null,
      ...(a === undefined ? {} : { a: whole(a) }),
      ...(b === undefined ? {} : { b: whole(b) }),
    }
  })
}

/** The unit's first change, or undefined when it is the same code. */
function compareUnit(pair: Pair, unit: Unit): CodeChange | undefined {
  const { x, y } = pair
  const { a, b } = unit
  const change = (offset: number): CodeChange => ({
    name: unit.name,
    section: unit.section,
    offset,
  })
  if (a === undefined || b?.size !== a.size) return change(-1)
  const bodyA = x.bytes.subarray(a.offset, a.offset + a.size)
  const bodyB = y.bytes.subarray(b.offset, b.offset + b.size)
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

/** How a 4-byte field at a unit offset is checked: x86 at any byte, AArch64 per word. */
function fieldCheck(
  { x, y }: Pair,
  a: Placed,
  b: Placed,
): { width: 1 | 4; at: (s: number) => boolean } {
  const read = (side: Side, at: number): number =>
    side.file.little ? side.bytes.readInt32LE(at) : side.bytes.readInt32BE(at)
  if (x.file.type === ET_REL) {
    // An object's relocated fields: zeros or addends, filled in at link time.
    const [rx, ry] = [x.relocated.get(a.section), y.relocated.get(b.section)]
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
          if (sameTarget(x, y, a.address + end + va, b.address + end + vb)) return true
        }
        return sameTarget(x, y, va >>> 0, vb >>> 0)
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
        return sameTarget(x, y, a.address + s + offset(wa), b.address + s + offset(wb))
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
function sameTarget(x: Side, y: Side, p: number, q: number, deep = true): boolean {
  const [sp, sq] = [symbolAt(x, p), symbolAt(y, q)]
  if (sp !== undefined || sq !== undefined)
    return (
      sp?.name === sq?.name &&
      sp?.type === sq?.type &&
      sp !== undefined &&
      sq !== undefined &&
      p - sp.address === q - sq.address
    )
  const [tp, tq] = [sectionAt(x, p), sectionAt(y, q)]
  if (tp?.name !== tq?.name || tp === undefined || tq === undefined) return false
  if (p - tp.address === q - tq.address) return true
  if (!deep || tp.type === SHT_NOBITS || tq.type === SHT_NOBITS) return false
  const [at, bt] = [tp.offset + (p - tp.address), tq.offset + (q - tq.address)]
  // As many bytes as both sections hold there.
  const n = Math.min(tp.offset + tp.size - at, tq.offset + tq.size - bt, TARGET_BYTES)
  if (n <= 0) return false
  const [a, b] = [x.bytes.subarray(at, at + n), y.bytes.subarray(bt, bt + n)]
  // A string may be longer than the window (a path): read it to its end, within bounds.
  const text = (bytes: Buffer, from: number, end: number): string | undefined =>
    cString(bytes.subarray(from, Math.min(end, from + MAX_STRING)))
  const [sa, sb] = [text(x.bytes, at, tp.offset + tp.size), text(y.bytes, bt, tq.offset + tq.size)]
  if (sa !== undefined || sb !== undefined)
    return sa !== undefined && sb !== undefined && (sa === sb || sameFileElsewhere(sa, sb))
  // Data: each word the same, or an address of the same thing: absolute, or from the
  // table's start (a jump table's entries). Where an unnamed object ends is not known,
  // and what follows it may be another file's data after a link in another order: the
  // words are compared up to the first that does not correspond, and one must.
  let base = 0
  let matched = 0
  for (let i = 0; i + 4 <= n; i += 4, matched++) {
    if (a.readUInt32LE(i) === b.readUInt32LE(i)) continue
    const [va, vb] = x.file.little
      ? [a.readInt32LE(i), b.readInt32LE(i)]
      : [a.readInt32BE(i), b.readInt32BE(i)]
    if (sameTarget(x, y, p + base + va, q + base + vb, false)) continue
    if (i !== base && sameTarget(x, y, p + i + va, q + i + vb, false)) {
      base = i
      continue
    }
    if (sameTarget(x, y, va >>> 0, vb >>> 0, false)) continue
    break
  }
  return matched > 0 || (n < 4 && a.equals(b))
}

/** The printable string that starts a buffer and ends in its NUL, if it does. */
function cString(bytes: Buffer): string | undefined {
  const end = bytes.indexOf(0)
  if (end < 1) return undefined
  const s = bytes.toString('latin1', 0, end)
  return /^[\x20-\x7e\t\n]+$/.test(s) ? s : undefined
}

/** Two absolute paths that name the same file under other directories. */
function sameFileElsewhere(x: string, y: string): boolean {
  if (!x.startsWith('/') || !y.startsWith('/')) return false
  const tail = (s: string): string => s.slice(s.lastIndexOf('/'))
  return tail(x) === tail(y) && tail(x).length > 1
}

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

function sectionAt(s: Side, address: number): ElfSection | undefined {
  return s.file.sections.find(
    (t) => t.address !== 0 && address >= t.address && address < t.address + t.size,
  )
}

/** An object file's relocated offsets, per section they apply to (sh_info). */
function readRelocated(bytes: Buffer, file: ElfFile): Map<number, Set<number>> {
  const { wide, little } = file
  const shoff = file.sectionHeaders?.offset ?? 0
  const header = wide ? 64 : 40
  const { u32, word } = fieldReaders(bytes, wide, little)
  const relocated = new Map<number, Set<number>>()
  let read = 0
  for (const s of file.sections) {
    if (s.type !== SHT_REL && s.type !== SHT_RELA) continue
    const infoAt = shoff + s.index * header + (wide ? 44 : 28)
    if (infoAt + 4 > bytes.length) continue
    const target = u32(infoAt)
    const entry = (s.type === SHT_RELA ? 3 : 2) * (wide ? 8 : 4)
    const count = Math.floor(s.size / entry)
    if (read + count > MAX_RELOCATIONS) break
    read += count
    const set = relocated.get(target) ?? new Set<number>()
    for (let i = 0; i < count; i++) set.add(word(s.offset + i * entry))
    relocated.set(target, set)
  }
  return relocated
}
