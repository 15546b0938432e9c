import crypto from 'node:crypto'
import { fromNameBytes } from '../file-names.js'
import {
  isoTime,
  keyFor,
  nameWarning,
  type MemberInfo,
  type StreamScan,
  unreadableAs,
} from './member.js'
import type { ByteSource } from './source.js'
import { ByteReader } from './byte-reader.js'
import { decimal } from './decimal.js'

const MAGIC = '!<arch>\n'
const HEADER = 60

/**
 * Streams a Unix ar archive (static libraries, .deb): 60-byte headers, GNU long names
 * (`//` table, `/N` references) and BSD long names (`#1/N`).
 */
export const scanAr: StreamScan = async (input, where, budget, want) => {
  const reader = new ByteReader(input, where)
  const bad = unreadableAs('ar archive', where)
  const magic = await reader.read(MAGIC.length)
  if (magic?.toString('latin1') !== MAGIC) throw bad('no !<arch> magic')
  const members: MemberInfo[] = []
  const captured = new Map<string, ByteSource>()
  const warnings: string[] = []
  const seen = new Map<string, number>()
  let longNames: Buffer | undefined
  const headerOffsets = new Map<number, string>()
  for (;;) {
    const at = reader.offset
    const header = await reader.read(HEADER)
    if (header === undefined) break
    if (header.length < HEADER || header.subarray(58, 60).toString('latin1') !== '`\n')
      throw bad('truncated or corrupt member header')
    const field = (from: number, to: number): string =>
      header.subarray(from, to).toString('latin1').trimEnd()
    // Names as bytes (file-names.ts's name form): decoded, every byte that is not UTF-8
    // became one U+FFFD, and two members of other names were compared as one.
    let name = fromNameBytes(header.subarray(0, 16)).trimEnd()
    const size = decimal(field(48, 58).trimStart())
    if (!Number.isSafeInteger(size) || size < 0) throw bad(`bad member size "${field(48, 58)}"`)
    let dataSize = size
    if (name.startsWith('#1/')) {
      const length = decimal(name.slice(3))
      if (!Number.isSafeInteger(length) || length < 0 || length > size)
        throw bad('bad BSD long name')
      name = fromNameBytes((await reader.read(length)) ?? Buffer.alloc(0)).replace(/\0+$/, '')
      dataSize -= length
    } else if (name === '//') {
      budget.checkMemberSize(size, `${where}!//`)
      longNames = await reader.read(size)
      await reader.skip(size % 2)
      continue
    } else if (/^\/[0-9]+$/.test(name) && longNames !== undefined) {
      const offset = Number(name.slice(1))
      // Past the table, the name is no name: read as empty, two such members were one.
      if (offset >= longNames.length)
        throw bad(`long name /${offset} past the end of the name table (${longNames.length} bytes)`)
      const end = longNames.indexOf('/\n', offset)
      name = fromNameBytes(longNames.subarray(offset, end === -1 ? undefined : end))
    } else if (name.endsWith('/') && name !== '/') {
      name = name.slice(0, -1)
    }
    budget.spendEntry(where)
    const key = keyFor(name, seen)
    headerOffsets.set(at, key)
    // GNU ar's symbol tables are named "/" and "/SYM64/": members, not absolute paths.
    const warning = name === '/' || name === '/SYM64/' ? undefined : nameWarning(name)
    if (warning !== undefined) warnings.push(warning)
    const sink = want(key, dataSize)
    const hash = crypto.createHash('sha256')
    await reader.stream(dataSize, (chunk) => {
      budget.spendBytes(chunk.length, where)
      hash.update(chunk)
      sink?.add(chunk)
    })
    if (sink !== undefined) captured.set(key, sink.done())
    // The byte that pads an odd member to an even offset: `\n` from GNU and BSD ar,
    // anything from another writer; no extractor reads it, but two archives can differ
    // there alone.
    const padding = size % 2 === 1 ? await reader.read(1) : undefined
    if (size % 2 === 1 && padding === undefined) throw bad('truncated member padding')
    // Octal digits and nothing else: parseInt read a damaged `10 644` as 010.
    const modeText = field(40, 48).trimStart() || '0'
    const mode = /^[0-7]{1,8}$/.test(modeText) ? Number.parseInt(modeText, 8) : NaN
    const mtime = decimal(field(16, 28).trimStart() || '0')
    members.push({
      key,
      name,
      type: 'file',
      size: dataSize,
      sha256: hash.digest('hex'),
      meta: {
        mtime: Number.isNaN(mtime) ? field(16, 28) : isoTime(mtime),
        uid: field(28, 34),
        gid: field(34, 40),
        // All of it: GNU ar writes the file type too (100644), another writer may not,
        // and the two are other bytes.
        mode: Number.isNaN(mode) ? field(40, 48) : `0${mode.toString(8)}`,
        ...(padding !== undefined && padding[0] !== 0x0a
          ? { 'padding byte': `0x${padding.toString('hex')}` }
          : {}),
      },
      index: members.length,
    })
  }
  return { inventory: { members, meta: {}, warnings, headerOffsets }, captured }
}

/** A GNU ar symbol table read: its offsets, its names, and how many it lists. */
interface SymbolTable {
  offsets: Buffer
  names: Buffer
  count: number
}

function readSymbolTable(table: Buffer, wide: boolean): SymbolTable | undefined {
  const width = wide ? 8 : 4
  if (table.length < width) return undefined
  const count = wide ? Number(table.readBigUInt64BE(0)) : table.readUInt32BE(0)
  const namesAt = width + count * width
  if (!Number.isSafeInteger(namesAt) || namesAt > table.length) return undefined
  const names = table.subarray(namesAt)
  // Exactly `count` names, each ended by a NUL (padding after them aside).
  let ends = 0
  for (let i = 0; i < names.length && ends < count; i++) if (names[i] === 0) ends++
  if (ends !== count) return undefined
  return { offsets: table.subarray(width, namesAt), names, count }
}

/** Each archive's member keys by header offset. */
type MembersByOffset = readonly [ReadonlyMap<number, string>, ReadonlyMap<number, string>]

/** Both tables read, when both are tables of one count of symbols, not none. */
function tablesOfOneCount(
  a: Buffer,
  b: Buffer,
  wide: boolean,
): [SymbolTable, SymbolTable] | undefined {
  const [x, y] = [readSymbolTable(a, wide), readSymbolTable(b, wide)]
  return x === undefined || y?.count !== x.count || x.count === 0 ? undefined : [x, y]
}

function offsetAt(table: SymbolTable, i: number, wide: boolean): number {
  return wide ? Number(table.offsets.readBigUInt64BE(i * 8)) : table.offsets.readUInt32BE(i * 4)
}

/**
 * How many symbols two GNU ar symbol tables (the member named `/`, or `/SYM64/` with
 * 64-bit offsets) both list, when they list the same names in the same order and differ
 * only in the offsets, each symbol's offset naming the same member in both archives
 * (`members`: each archive's member keys by header offset): the members those point
 * into moved, because a member before them changed size. Undefined otherwise, or when
 * either is not such a table: two offsets swapped point a symbol at another member, and
 * the linker takes its definition from there. Bounded by the bytes given: no count is
 * trusted beyond what they can hold.
 */
function movedIn(
  [x, y]: [SymbolTable, SymbolTable],
  wide: boolean,
  members: MembersByOffset,
): number | undefined {
  const trim = (names: Buffer): Buffer => {
    let end = names.length
    while (end > 0 && names[end - 1] === 0) end--
    return names.subarray(0, end)
  }
  if (!trim(x.names).equals(trim(y.names)) || x.offsets.equals(y.offsets)) return undefined
  for (let i = 0; i < x.count; i++) {
    const memberA = members[0].get(offsetAt(x, i, wide))
    if (memberA === undefined || memberA !== members[1].get(offsetAt(y, i, wide))) return undefined
  }
  return x.count
}

/**
 * How many symbols two symbol tables list, when they list the same symbols, each in
 * the same member, in another order: the archiver wrote the table in member order, and
 * the members were archived in another order (`ar rcs lib.a $(cat list)` from a list a
 * parallel make wrote). Undefined otherwise (a symbol in another member is another
 * definition), or when either is not such a table.
 */
function reorderedIn(
  [x, y]: [SymbolTable, SymbolTable],
  wide: boolean,
  members: MembersByOffset,
): number | undefined {
  // Each symbol with its member's key, in the table's order: the names split at their NULs.
  const entries = (table: SymbolTable, side: 0 | 1): string[] | undefined => {
    const out: string[] = []
    let start = 0
    for (let i = 0; i < table.count; i++) {
      const end = table.names.indexOf(0, start)
      const member = members[side].get(offsetAt(table, i, wide))
      if (member === undefined) return undefined
      out.push(`${table.names.toString('latin1', start, end)}\0${member}`)
      start = end + 1
    }
    return out
  }
  const [ea, eb] = [entries(x, 0), entries(y, 1)]
  if (ea === undefined || eb === undefined) return undefined
  // Each table in its own archive's member order, as ar writes it: one that is not (a
  // symbol's offset swapped for another's, so the linker takes it from another member)
  // was not reordered by the members' order, and is no such table.
  const inOrder = (table: SymbolTable): boolean => {
    for (let i = 1; i < table.count; i++)
      if (offsetAt(table, i, wide) < offsetAt(table, i - 1, wide)) return false
    return true
  }
  if (!inOrder(x) || !inOrder(y)) return undefined
  if (ea.every((e, i) => e === eb[i])) return undefined
  const sorted = (list: string[]): string => [...list].sort().join('\n')
  return sorted(ea) === sorted(eb) ? x.count : undefined
}

/**
 * What two GNU ar symbol tables' difference is, each table read once: the same symbols
 * in the same members listed in another order (`reordered`, see reorderedIn), or at other
 * offsets of the same members (`moved`, see movedIn); undefined when neither.
 */
export function symbolTableChange(
  a: Buffer,
  b: Buffer,
  wide: boolean,
  members: MembersByOffset,
): { how: 'moved' | 'reordered'; count: number } | undefined {
  const pair = tablesOfOneCount(a, b, wide)
  if (pair === undefined) return undefined
  const reordered = reorderedIn(pair, wide, members)
  if (reordered !== undefined) return { how: 'reordered', count: reordered }
  const moved = movedIn(pair, wide, members)
  return moved === undefined ? undefined : { how: 'moved', count: moved }
}

/** symbolTableChange's count when the symbols moved, for callers that ask only that. */
export const symbolTableMoved = (...args: Parameters<typeof symbolTableChange>) =>
  only('moved', symbolTableChange(...args))

/** symbolTableChange's count when the symbols were reordered. */
export const symbolTableReordered = (...args: Parameters<typeof symbolTableChange>) =>
  only('reordered', symbolTableChange(...args))

function only(
  how: 'moved' | 'reordered',
  change: ReturnType<typeof symbolTableChange>,
): number | undefined {
  return change?.how === how ? change.count : undefined
}
