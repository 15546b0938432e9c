import type { Readable } from 'node:stream'
import type { FileChunks } from './file-chunks.js'
import { ByteReader } from './byte-reader.js'
import { decimal } from './decimal.js'
import type { Budget } from './limits.js'
import { unreadableAs } from './member.js'
import { fromNameBytes, toDisplayText, untilNul } from '../file-names.js'

/*
 * tar at the level of its 512-byte blocks, for rewriting an archive without losing
 * anything: each entry is kept as the blocks it was written as (extension headers,
 * the main header, old GNU sparse maps), with its name and link target as bytes, so
 * that a writer can patch the fields it means to change and copy the rest exactly.
 * The diff reads tar through it too. tar-stream, which reproof used before, decodes
 * names as text, drops global headers and sparse maps, and cannot write a negative
 * time: a rewrite through it lost what it does not model.
 */

export const BLOCK = 512
// An extension header's data (PAX records, a GNU long name) is held in memory: bounded.
const MAX_EXTENSION_BYTES = 1024 * 1024
// Old GNU sparse maps: 21 segments per extension block; a million segments is plenty.
const MAX_SPARSE_BLOCKS = 50_000
// POSIX: no data follows a link, a device, a directory or a FIFO, whatever the size says.
const NO_DATA = new Set(['1', '2', '3', '4', '5', '6'])
const EMPTY = Buffer.alloc(0)

/** The kind of entry each typeflag makes; any other is of no kind a comparison knows. */
export const ENTRY_KINDS: Readonly<Record<string, 'file' | 'directory' | 'symlink' | 'hardlink'>> =
  {
    '0': 'file',
    '7': 'file',
    S: 'file',
    '5': 'directory',
    '2': 'symlink',
    '1': 'hardlink',
  }

export interface PaxRecord {
  /** Its bytes, one character each (latin1): keys are ASCII but for hostile ones, kept exact. */
  key: string
  /** Bytes: a path may be in any encoding (hdrcharset=BINARY). */
  value: Buffer
}

/** A header block before the main one, and its data (padding left out). */
export interface Extension {
  header: Buffer
  data: Buffer
}

/** One entry as written. Every Buffer is its own copy. */
export interface RawEntry {
  /** Byte offset of its first block in the archive, for messages. */
  at: number
  /** 'g' (PAX global header) and 'V' (volume label) apply to what follows; 'x', 'L', 'K' are in `extensions`. */
  type: string
  extensions: Extension[]
  header: Buffer
  /** Old GNU sparse ('S') extension blocks after the main header. */
  sparseBlocks: Buffer[]
  /** The records of its PAX extended headers, in order. */
  pax: PaxRecord[]
  /** The name and link target in effect (PAX, then GNU long names, then the header), as bytes. */
  name: Buffer
  linkName: Buffer
  /** Bytes of data that follow (before padding). */
  size: number
  /** A global header's or volume label's own data; empty for members. */
  data: Buffer
}

/** The end of an archive: where its end-of-archive blocks start, and whether it had them. */
export interface TarEnd {
  at: number
  marked: boolean
  /** With `trailing: 'hash'`: how many bytes after the end-of-archive blocks are not zeros, and their digest. */
  trailing?: { bytes: number; sha256: string }
}

/**
 * Reads a tar stream block by block. `onEntry` is called for every entry, global
 * headers included, and returns where its data goes (chunk by chunk, in order; read
 * from FileChunks, a chunk is valid only until that call returns).
 * Truncation, a bad header checksum, a malformed PAX record or anything but zeros after
 * the end-of-archive blocks is an E_INPUT error naming `where` and the byte offset.
 */
export async function readTarBlocks(
  input: Readable | FileChunks,
  where: string,
  budget: Budget,
  onEntry: (entry: RawEntry) => (chunk: Buffer) => void,
  /**
   * What may follow the end-of-archive blocks: only zeros (the default), or anything,
   * read and hashed (tar leaves it out; another reader, `tar -i`, does not).
   */
  options: { trailing?: 'zeros' | 'hash' } = {},
): Promise<TarEnd> {
  const bad = unreadableAs('tar', where)
  const reader = new ByteReader(input, where)
  let extensions: Extension[] = []
  let pax: PaxRecord[] = []
  let longName: Buffer | undefined
  let longLink: Buffer | undefined
  // What an entry's extension headers hold in all: many headers before one entry are
  // as much input as one large one.
  let extensionBytes = 0
  for (;;) {
    const at = reader.offset
    const view = (await reader.read(BLOCK)) ?? EMPTY
    // The header is read again after the reads that follow it (an extension's data, a
    // sparse map), and is kept: its own copy, whatever the reader does with its chunks.
    const block = Buffer.from(view)
    if (block.length === 0) {
      if (extensions.length > 0)
        throw bad(`truncated: an extension header at byte ${at} has no entry`)
      return { at, marked: false }
    }
    if (block.length < BLOCK) throw bad(`truncated: a header at byte ${at} is cut short`)
    if (isZeroBlock(block)) {
      if (extensions.length > 0) throw bad(`an extension header before byte ${at} has no entry`)
      if (options.trailing === 'hash') {
        await reader.skipZeros()
        return { at, marked: true, trailing: await reader.digestRest() }
      }
      await expectZeros(reader, bad)
      return { at, marked: true }
    }
    if (!checksumOk(block)) throw bad(`corrupt header at byte ${at}: its checksum does not match`)
    const type = typeOf(block)
    const headerSize = readNumber(block, 124, 12)
    if (headerSize === undefined) throw bad(`corrupt header at byte ${at}: size field`)
    if ('xXgLK'.includes(type)) {
      extensionBytes += headerSize
      if (headerSize > MAX_EXTENSION_BYTES || extensionBytes > MAX_EXTENSION_BYTES)
        throw bad(
          `the extension headers up to byte ${at} hold ${extensionBytes} bytes for one entry (at most 1 MiB)`,
        )
      const data = await readPadded(reader, headerSize, at, bad)
      if (type === 'g') {
        if (extensions.length > 0) throw bad(`an extension header before byte ${at} has no entry`)
        extensionBytes = 0
        budget.spendEntry(where)
        const records = parsePax(data, bad, at)
        // GNU tar and Python's tarfile apply a global header to every entry after it,
        // libarchive and busybox do not: with a name or a size in it, they extract
        // other files.
        const moving = records.find((r) => GLOBAL_REFUSED.test(r.key))
        if (moving !== undefined)
          throw bad(
            `the global header at byte ${at} sets ${JSON.stringify(moving.key)}: tar readers disagree on whether it applies to the entries after it`,
          )
        onEntry(entry(at, type, [], block, [], [], data, 0))
        continue
      }
      // Two of one kind before one entry: GNU tar and libarchive take the last, Python's
      // tarfile the first (of PAX headers, it adds up both): each extracts another file.
      const kind = type === 'X' ? 'x' : type
      if (extensions.some((x) => (typeOf(x.header) === 'X' ? 'x' : typeOf(x.header)) === kind))
        throw bad(
          `two extension headers of type ${type} before one entry (the second at byte ${at}): tar readers choose between them differently`,
        )
      extensions.push({ header: block, data })
      if (type === 'L') longName = untilNul(data)
      else if (type === 'K') longLink = untilNul(data)
      else for (const record of parsePax(data, bad, at)) pax.push(record)
      continue
    }
    if (type === 'M' || type === 'N')
      throw bad(`an entry of type ${type} at byte ${at} (GNU multi-volume or old long names)`)
    budget.spendEntry(where)
    const sparseBlocks = type === 'S' ? await readSparseBlocks(reader, block, at, bad) : []
    const paxSize = lastRecord(pax, 'size')
    // Decimal digits only, as GNU tar and Python's tarfile read it: `0x400` was 1,024
    // bytes here, where they refuse it or read 0, and the next header was hidden as data.
    const size = paxSize === undefined ? headerSize : decimal(paxSize.toString('latin1'))
    if (!Number.isSafeInteger(size) || size < 0)
      throw bad(`corrupt size of the entry at byte ${at}`)
    // A PAX sparse file (GNU's 0.1 and 1.0) has its real name in GNU.sparse.name; its
    // path, in the header or a record, is a made-up GNUSparseFile.<pid>/ name.
    const name =
      lastRecord(pax, 'GNU.sparse.name') ?? lastRecord(pax, 'path') ?? longName ?? headerName(block)
    const linkName = lastRecord(pax, 'linkpath') ?? longLink ?? field(block, 157, 100)
    // A link, device or FIFO whose size is not 0: GNU tar skips that much data after it,
    // Python's tarfile and POSIX none, so what follows is another entry to one reader and
    // data to the other. Refused rather than read one way.
    if (NO_DATA.has(type) && type !== '5' && size !== 0)
      throw bad(
        `the entry of type ${type} at byte ${at} gives a size of ${size}: tar readers disagree on whether data follows it`,
      )
    const dataSize = NO_DATA.has(type) ? 0 : size
    const member = entry(at, type, extensions, block, sparseBlocks, pax, EMPTY, dataSize)
    member.name = Buffer.from(name)
    member.linkName = Buffer.from(linkName)
    const sink = onEntry(member)
    const got = await reader.forward(dataSize, (chunk) => {
      budget.spendBytes(chunk.length, where)
      sink(chunk)
    })
    if (got < dataSize)
      throw bad(`truncated: the entry at byte ${at} ends after ${got} of its ${dataSize} bytes`)
    const padding = (BLOCK - (dataSize % BLOCK)) % BLOCK
    if (((await reader.read(padding)) ?? EMPTY).length < padding)
      throw bad(`truncated: the padding of the entry at byte ${at} is cut short`)
    extensions = []
    pax = []
    extensionBytes = 0
    longName = undefined
    longLink = undefined
  }
}

// Global records that change which entries an archive holds or where their data is.
const GLOBAL_REFUSED = /^(path|linkpath|size|GNU\.sparse\..*)$/

function entry(
  at: number,
  type: string,
  extensions: Extension[],
  header: Buffer,
  sparseBlocks: Buffer[],
  pax: PaxRecord[],
  data: Buffer,
  size: number,
): RawEntry {
  return {
    at,
    type,
    extensions,
    header,
    sparseBlocks,
    pax,
    // Set by the caller for a member; empty (and shared: nothing writes to it) else.
    name: EMPTY,
    linkName: EMPTY,
    size,
    data,
  }
}

/** After the first zero block: a second one (GNU tar accepts one alone), then only zeros to the end. */
async function expectZeros(reader: ByteReader, bad: (what: string) => Error): Promise<void> {
  for (;;) {
    const at = reader.offset
    const chunk = await reader.read(64 * 1024)
    if (chunk === undefined) return
    const junk = chunk.findIndex((byte) => byte !== 0)
    if (junk !== -1) throw bad(`data after the end of the archive, at byte ${at + junk}`)
  }
}

async function readPadded(
  reader: ByteReader,
  size: number,
  at: number,
  bad: (what: string) => Error,
): Promise<Buffer> {
  const padded = Math.ceil(size / BLOCK) * BLOCK
  const data = (await reader.read(padded)) ?? EMPTY
  if (data.length < padded) throw bad(`truncated: the extension header at byte ${at} is cut short`)
  return Buffer.from(data.subarray(0, size))
}

async function readSparseBlocks(
  reader: ByteReader,
  header: Buffer,
  at: number,
  bad: (what: string) => Error,
): Promise<Buffer[]> {
  const blocks: Buffer[] = []
  let extended = header[482] !== 0
  while (extended) {
    if (blocks.length >= MAX_SPARSE_BLOCKS) throw bad(`the sparse map at byte ${at} is too long`)
    const block = (await reader.read(BLOCK)) ?? EMPTY
    if (block.length < BLOCK) throw bad(`truncated: the sparse map at byte ${at} is cut short`)
    blocks.push(Buffer.from(block))
    extended = block[504] !== 0
  }
  return blocks
}

/** Data followed by the zeros that fill its last block. */
export function padded(data: Buffer): Buffer {
  const rest = data.length % BLOCK
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)])
}

const ZERO_BLOCK = Buffer.alloc(BLOCK)

export function isZeroBlock(block: Buffer): boolean {
  return block.length === BLOCK ? block.equals(ZERO_BLOCK) : !block.some((byte) => byte !== 0)
}

/** The typeflag as a character; NUL (an old regular file) reads as '0'. */
export function typeOf(block: Buffer): string {
  const flag = block[156] ?? 0
  return flag === 0 ? '0' : String.fromCharCode(flag)
}

/** The stored checksum against the sum of the header with its checksum field as spaces (unsigned, or signed as some old writers did). */
export function checksumOk(block: Buffer): boolean {
  const stored = readOctal(block, 148, 8)
  if (stored === undefined) return false
  return stored === checksum(block, false) || stored === checksum(block, true)
}

export function checksum(block: Buffer, signed = false): number {
  // Every byte summed, then the checksum field's own bytes counted as spaces: one loop
  // with no test in it, as this runs for every header read and every header written.
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += block[i] ?? 0
  for (let i = 148; i < 156; i++) sum += 0x20 - (block[i] ?? 0)
  if (!signed) return sum
  // Signed bytes (as some old writers summed): each byte of 0x80 or more counts 256 less.
  for (let i = 0; i < BLOCK; i++) if ((i < 148 || i >= 156) && (block[i] ?? 0) >= 0x80) sum -= 0x100
  return sum
}

/**
 * Writes the checksum field as GNU tar does (six octal digits, NUL, space), or in the
 * layout `like` has there (tar-stream, bsdtar and Python each have their own), so that a
 * patched header is the bytes its writer would have written.
 */
export function writeChecksum(block: Buffer, like?: Buffer): void {
  const sum = checksum(block).toString(8)
  const layout =
    like === undefined ? null : /^( *)([0-7]+)(.*)$/s.exec(like.toString('latin1', 148, 156))
  const [, lead = '', digits = '', rest = ''] = layout ?? []
  const text =
    layout !== null && sum.length <= digits.length
      ? lead + sum.padStart(digits.length, '0') + rest
      : `${sum.padStart(6, '0')}\0 `
  block.write(text, 148, 8, 'latin1')
}

/**
 * A numeric field: octal digits (leading spaces or zeros, ended by NUL or space), or
 * GNU's base-256 (first byte 0x80 for a positive value, 0xff for a negative one).
 * Undefined when it is neither.
 */
export function readNumber(block: Buffer, offset: number, length: number): number | undefined {
  const first = block[offset] ?? 0
  if (first === 0x80 || first === 0xff) {
    // Two's complement: starting from -1 makes the first byte's bits the sign's.
    let value = first === 0xff ? -1 : 0
    for (let i = 1; i < length; i++) value = value * 256 + (block[offset + i] ?? 0)
    return Number.isSafeInteger(value) ? value : undefined
  }
  return readOctal(block, offset, length)
}

function readOctal(block: Buffer, offset: number, length: number): number | undefined {
  // By hand, not by regular expression: three fields of every header of every entry.
  let i = offset
  const end = offset + length
  while (i < end && block[i] === 0x20) i++
  let value = 0
  let digits = 0
  for (; i < end; i++) {
    const byte = block[i] ?? 0
    if (byte < 0x30 || byte > 0x37) break
    value = value * 8 + (byte - 0x30)
    digits++
  }
  // Then a terminator (NUL or space) or the field's end; what follows it is not read,
  // as GNU tar does not read it.
  if (i < end && block[i] !== 0 && block[i] !== 0x20) return undefined
  return digits === 0 ? 0 : value
}

export type Magic = 'ustar' | 'gnu' | 'v7'

/**
 * A header's format as GNU tar and libarchive tell it: POSIX ustar only under the exact
 * magic `ustar\0` (the version is not read), old GNU under `ustar  \0`. A magic of
 * `ustarX` is no ustar to GNU tar, which then reads no prefix and no owner names.
 */
export function magicOf(block: Buffer): Magic {
  const magic = block.toString('latin1', 257, 265)
  if (magic === 'ustar  \0') return 'gnu'
  if (magic.startsWith('ustar\0')) return 'ustar'
  return 'v7'
}

/**
 * Why tar readers would read an entry's name or link target as different paths (or the
 * entry as another kind), or undefined when they agree (pure). Python's tarfile joins bytes 345 to 499 to a
 * header's name whatever its magic (but for GNU's own types), libarchive under a magic
 * that starts `ustar` (but old GNU's), GNU tar only under ustar's exact one: there old
 * GNU keeps its access and change times, and a header of another magic its garbage. A
 * name from a PAX record or a GNU long name replaces the header's for all of them.
 */
export function nameMisreading(raw: RawEntry): string | undefined {
  // Old GNU's sparse type under another magic: GNU tar and libarchive read its map only
  // under GNU's own magic (else a plain file of what follows), Python's tarfile always.
  if (raw.type === 'S' && magicOf(raw.header) !== 'gnu')
    return `it is a GNU sparse member (type S) under a magic other than GNU's, which GNU tar reads as a plain file and Python's tarfile as a sparse one of another size`
  // A GNU long name and a PAX path both: GNU tar takes the PAX path, Python's tarfile
  // whichever header came last. Named twice alike, they agree.
  for (const [type, key, what] of [
    ['L', 'path', 'name'],
    ['K', 'linkpath', 'link target'],
  ] as const) {
    const long = raw.extensions.findLast((x) => typeOf(x.header) === type)
    const record = lastRecord(raw.pax, key)
    if (long !== undefined && record !== undefined && !untilNul(long.data).equals(record))
      return `its ${what} is given twice, by a GNU long ${what} (${shownName(untilNul(long.data))}) and a PAX ${key} record (${shownName(record)}), which tar readers choose between differently`
  }
  const replaced =
    lastRecord(raw.pax, 'GNU.sparse.name') !== undefined ||
    lastRecord(raw.pax, 'path') !== undefined ||
    raw.extensions.some((x) => typeOf(x.header) === 'L')
  if (replaced || 'LKS'.includes(raw.type) || magicOf(raw.header) === 'ustar') return undefined
  const prefix = field(raw.header, 345, 155)
  if (prefix.length === 0) return undefined
  return `bytes 345 to 499 of its header are not empty, which Python's tarfile reads as a prefix of the name (${JSON.stringify(Buffer.concat([prefix, Buffer.from('/'), field(raw.header, 0, 100)]).toString('latin1'))}) and GNU tar does not, its magic not being ustar's`
}

/**
 * Where a PAX `path` or `linkpath` record covers a header field that holds another name
 * than a writer leaves there (pure): the record's name in full, cut to the field's length
 * (GNU tar, Python's tarfile, bsdtar's prefix and name), with `?` for each character
 * beyond ASCII (Python's tarfile), empty, or bsdtar's `././@LongSymLink`. A reader that
 * does not read PAX records (old tars, some unpackers) extracts what the header says:
 * two archives alike but for it extract alike to GNU tar, and apart to those.
 */
export function hiddenHeaderNames(raw: RawEntry): string[] {
  const hidden: string[] = []
  for (const [key, what, header, full] of [
    ['path', 'name', headerName(raw.header), field(raw.header, 0, 100).length >= NEARLY_FULL],
    [
      'linkpath',
      'link target',
      field(raw.header, 157, 100),
      field(raw.header, 157, 100).length >= NEARLY_FULL,
    ],
  ] as const) {
    const record = lastRecord(raw.pax, key)
    if (record === undefined) continue
    // A writer's own mark, or a name it shortened, only for a record longer than the
    // header's own field (git archive uses no prefix; bsdtar shortens what it cannot
    // split into one).
    const marked = record.length > 100 && (isMark(key, header) || shortens(header, record))
    if (marked || coversHeader(record, header, full)) continue
    hidden.push(
      `its PAX ${key} record (${shownName(record)}) covers another ${what} in its header (${shownName(header)}), which a reader that ignores PAX records extracts`,
    )
  }
  return hidden
}

/**
 * Whether a header field holds the record's value, cut only where the field is (nearly)
 * full (`cut`), with `?` for each character beyond ASCII (Python's tarfile).
 */
function coversHeader(record: Buffer, header: Buffer, cut: boolean): boolean {
  const matches = (value: Buffer): boolean =>
    value.equals(header) || (cut && value.subarray(0, header.length).equals(header))
  if (matches(record)) return true
  return matches(Buffer.from(record.toString('utf8').replace(/[^\p{ASCII}]/gu, '?'), 'latin1'))
}

/**
 * A writer's mark for a name too long for its field: nothing, bsdtar's
 * `././@LongSymLink` for a link, `git archive`'s `<object id>.data` for a name and `see
 * <object id>.paxheader` for a link.
 */
function isMark(key: 'path' | 'linkpath', header: Buffer): boolean {
  const text = header.toString('latin1')
  if (text === '') return true
  return key === 'path'
    ? /^(?:[0-9a-f]{40}|[0-9a-f]{64})\.data$/.test(text)
    : text === '././@LongSymLink' || /^see (?:[0-9a-f]{40}|[0-9a-f]{64})\.paxheader$/.test(text)
}

/**
 * bsdtar's name for a path too long for ustar: its first directories and its file name,
 * those between left out, the name cut to fit: the header's directories in the record's
 * order, and its last part the start of the record's.
 */
function shortens(header: Buffer, record: Buffer): boolean {
  // A directory's name ends in `/` in both.
  const [h, r] = [header, record].map((b) => b.toString('latin1').replace(/\/$/, '').split('/'))
  const [last, rest] = [h?.at(-1) ?? '', h?.slice(0, -1) ?? []]
  const parts = r ?? []
  if (last === '' || !(parts.at(-1) ?? '').startsWith(last)) return false
  let at = 0
  for (const part of rest) {
    while (at < parts.length - 1 && parts[at] !== part) at++
    if (at >= parts.length - 1) return false
    at++
  }
  return true
}

// A field a writer cut a longer name into: full, or nearly (bsdtar leaves a character
// out, and a character beyond ASCII is not cut in two).
const NEARLY_FULL = 95

/** A NUL-terminated field's bytes (the whole field when it fills it). */
export function field(block: Buffer, offset: number, length: number): Buffer {
  return untilNul(block.subarray(offset, offset + length))
}

/** The name a header holds: POSIX ustar joins its prefix field with `/`. */
export function headerName(block: Buffer): Buffer {
  const name = field(block, 0, 100)
  if (magicOf(block) !== 'ustar') return name
  const prefix = field(block, 345, 155)
  return prefix.length === 0 ? name : Buffer.concat([prefix, Buffer.from('/'), name])
}

const shownName = (bytes: Buffer): string => toDisplayText(fromNameBytes(bytes))

function lastRecord(records: readonly PaxRecord[], key: string): Buffer | undefined {
  for (let i = records.length - 1; i >= 0; i--)
    if (records[i]?.key === key) return records[i]?.value
  return undefined
}

/** PAX records: `<length> <key>=<value>\n`, the length counting the whole record. */
export function parsePax(data: Buffer, bad: (what: string) => Error, at: number): PaxRecord[] {
  const records: PaxRecord[] = []
  let i = 0
  while (i < data.length) {
    // Some writers pad the data with NULs.
    if (data[i] === 0) break
    const space = data.indexOf(0x20, i)
    // Decimal digits only: `0x14` read as 20 found a record GNU tar and Python's tarfile
    // do not, and rewritten, it renamed a member.
    const length = space === -1 ? NaN : decimal(data.toString('latin1', i, space))
    if (!Number.isSafeInteger(length) || length <= space - i + 1 || i + length > data.length)
      throw bad(`malformed PAX record in the header at byte ${at}`)
    const record = data.subarray(space + 1, i + length)
    const equals = record.indexOf(0x3d)
    if (equals === -1 || record[record.length - 1] !== 0x0a)
      throw bad(`malformed PAX record in the header at byte ${at}`)
    records.push({
      key: record.toString('latin1', 0, equals),
      value: Buffer.from(record.subarray(equals + 1, record.length - 1)),
    })
    i += length
  }
  return records
}

/** PAX records as data, each with its exact length prefix. */
export function encodePax(records: readonly PaxRecord[]): Buffer {
  const parts = records.map(({ key, value }) => {
    const body = Buffer.concat([Buffer.from(` ${key}=`, 'latin1'), value, Buffer.from('\n')])
    // The length counts its own digits: find the fixed point.
    let length = body.length + 1
    while (String(length).length + body.length !== length)
      length = String(length).length + body.length
    return Buffer.concat([Buffer.from(String(length), 'latin1'), body])
  })
  return Buffer.concat(parts)
}
