import crypto from 'node:crypto'
import fs from 'node:fs'
import { Transform, type Readable } from 'node:stream'
import yauzl from 'yauzl'
import { ReproofError } from '../errors.js'
import { fromNameBytes } from '../file-names.js'
import type { Compression } from './compressions.js'
import type { Budget } from './limits.js'
import { bufferSource, openFlags, readUpTo, type ByteSource } from './source.js'
import { Spool } from './spool.js'
import { BytesReader, OffsetFileReader } from './zip-offset-reader.js'
import {
  isMozillaZip,
  mozillaLayout,
  readTail,
  windowedReader,
  zipOffsetBase,
  zipPrefixLength,
  type MozillaLayout,
} from './zip-prefix.js'
import {
  isoTime,
  keyFor,
  nameWarning,
  octal,
  memorySink,
  type MemberInfo,
  type ScanResult,
  type WantMember,
} from './member.js'

const S_IFMT = 0o170000
const S_IFLNK = 0o120000
const S_IFDIR = 0o040000

// Through the file, yauzl issues a read per entry: 60 % of a 2,000-entry comparison
// went to waiting on them. Up to this size a zip is read into memory first; a larger
// one that is not a file (a member, decompressed) is spooled to one, so that memory
// stays bounded at every nesting level.
const ZIP_IN_MEMORY_BYTES = 16 * 1024 * 1024

/**
 * A zip from any source. yauzl needs random access: a file on disk, or the whole
 * (bounded) member in memory.
 */
export async function scanZipSource(
  source: ByteSource,
  where: string,
  budget: Budget,
  want: WantMember,
): Promise<ScanResult> {
  if (source.buffer !== undefined) return scanZip(source, where, budget, want)
  if (source.file !== undefined && source.size > ZIP_IN_MEMORY_BYTES)
    return scanZip(source, where, budget, want)
  const held = await readUpTo(source, ZIP_IN_MEMORY_BYTES)
  if ('whole' in held) return scanZip(bufferSource(held.whole, where), where, budget, want)
  const spool = new Spool()
  const { read, rest } = held.more
  try {
    const sink = spool.sink(where)
    let size = 0
    const add = (chunk: Buffer): void => {
      size += chunk.length
      budget.checkMemberSize(size, where)
      sink.add(chunk)
    }
    read.forEach(add)
    for (let next = await rest.next(); next.done !== true; next = await rest.next()) add(next.value)
    return await scanZip(sink.done(), where, budget, want)
  } finally {
    held.more.destroy()
    spool.remove()
  }
}

/**
 * Reads a zip (jar, whl, apk, nupkg...) through its central directory. A member's key
 * is the SHA-256 of its method and its compressed bytes: equal keys mean equal content
 * without inflating anything, which is most of the work saved on large jars. Members
 * in `want` are also inflated and kept; the caller compares their real content, since
 * different compressed bytes may still hold the same content.
 */
export async function scanZip(
  source: ByteSource,
  where: string,
  budget: Budget,
  want: WantMember,
): Promise<ScanResult> {
  const { zip, buffer, prefix, mozilla, base } = await openZip(source, where)
  // Where the central directory starts, before reading entries moves yauzl's cursor.
  const centralStart = (zip as unknown as { readEntryCursor: number }).readEntryCursor
  // The zip's own bytes by position, in memory or from its file: the local headers and
  // the bytes no member owns are read either way.
  const bytes =
    buffer !== undefined
      ? inMemory(buffer)
      : source.file === undefined
        ? undefined
        : onDisk(source.file, base ?? 0, source.size - (base ?? 0), openFlags(source))
  // Each member's bytes (header to end of data), to find bytes that none owns.
  const spans: { start: number; end: number }[] = []
  const members: MemberInfo[] = []
  const captured = new Map<string, ByteSource>()
  const warnings: string[] = []
  const seen = new Map<string, number>()
  let unowned: string | undefined
  let signingBlock: { size: number; digest: string } | undefined
  let uncounted: string | undefined
  let afterDirectory: string | undefined
  try {
    for (;;) {
      const entry = await nextEntry(zip)
      if (entry === undefined) break
      budget.spendEntry(where)
      const name = nameOf(entry)
      const key = keyFor(name, seen)
      const warning = nameWarning(name)
      if (warning !== undefined) warnings.push(warning)
      const unixMode = (entry.externalFileAttributes >>> 16) & 0xffff
      const isDir = name.endsWith('/') || (unixMode & S_IFMT) === S_IFDIR
      // A "link" with a large body is not one; do not hold it in memory as a target.
      const isLink = (unixMode & S_IFMT) === S_IFLNK && entry.uncompressedSize <= 4096
      budget.checkRatio(entry.uncompressedSize, entry.compressedSize, `${where}!${name}`, true)
      const sink = isDir ? undefined : want(key, entry.uncompressedSize)
      const rawKey = crypto.createHash('sha256').update(`${entry.compressionMethod}:`)
      const local = bytes === undefined ? undefined : localHeader(bytes, entry, where)
      if (local !== undefined) {
        spans.push({
          start: entry.relativeOffsetOfLocalHeader,
          end: local.end + local.descriptor.length,
        })
      }
      // A directory's data too, when it carries any (unzip makes a file of a member whose
      // mode alone says directory): told by its CRC-32 alone, forged data passed as same.
      const carriesData = entry.compressedSize > 0 || entry.uncompressedSize > 0
      if (!isDir || carriesData) {
        // In memory, the compressed bytes are a slice where the local header says: no
        // stream per entry.
        const raw =
          buffer === undefined || local === undefined
            ? undefined
            : buffer.subarray(local.end - entry.compressedSize, local.end)
        if (raw !== undefined) {
          budget.spendBytes(raw.length, where)
          rawKey.update(raw)
        } else {
          await eachChunk(
            await openEntry(zip, entry, where, false, budget),
            budget,
            where,
            (chunk) => rawKey.update(chunk),
          )
        }
      }
      // A link's target is read whatever the caller wants (4 KiB at most, above).
      const link = isLink ? memorySink(`${where}!${name}`) : undefined
      if (sink !== undefined || link !== undefined) {
        await eachChunk(
          await openEntry(zip, entry, where, true, budget),
          budget,
          where,
          (chunk) => {
            sink?.add(chunk)
            link?.add(chunk)
          },
        )
      }
      if (sink !== undefined) captured.set(key, sink.done())
      const target = link?.done().buffer
      const size = entry.uncompressedSize
      const rawDigest = rawKey.digest('hex')
      members.push({
        key,
        name,
        type: isDir ? 'directory' : isLink ? 'symlink' : 'file',
        size,
        sha256: isDir || isLink ? '' : `zip:${rawDigest}`,
        // As bytes: two targets that differ in a byte that is not UTF-8 are two targets.
        ...(target === undefined ? {} : { linkTarget: fromNameBytes(target) }),
        meta: {
          ...zipMeta(entry, unixMode),
          ...(local === undefined ? {} : localMeta(local, entry)),
          // A directory holds no content to compare, so data it carries is a field of it.
          ...(isDir && carriesData
            ? {
                data: `${entry.uncompressedSize} bytes, crc32 ${entry.crc32.toString(16)}, compressed sha256 ${rawDigest}`,
              }
            : {}),
        },
        index: members.length,
      })
    }
    // A member the central directory does not list is still read by a streaming reader
    // (Java's ZipInputStream): its bytes are the archive's own field, not "compression".
    // In a Mozilla zip the members follow the central directory and run to the file's end.
    // yauzl stops at the count the end record gives; a directory whose size holds more
    // entries has members Python's zipfile extracts and this listing does not show.
    const centralEnd = (zip as unknown as { readEntryCursor: number }).readEntryCursor
    uncounted =
      bytes === undefined || mozilla !== undefined
        ? undefined
        : uncountedDirectory(bytes, centralStart, centralEnd)
    afterDirectory =
      bytes === undefined || mozilla !== undefined
        ? undefined
        : bytesAfterDirectory(bytes, centralStart, centralEnd)
    signingBlock =
      bytes === undefined || mozilla !== undefined
        ? undefined
        : apkSigningBlock(bytes, centralStart)
    unowned =
      bytes === undefined
        ? undefined
        : unownedBytes(
            bytes,
            spans,
            mozilla !== undefined ? bytes.length : centralStart - (signingBlock?.size ?? 0),
            // After a Mozilla zip's end record (and its comment) come its members; in
            // any other, from its first byte past a prefix (a stub before the first
            // member listed may be one a streaming reader takes: its bytes count).
            mozilla === undefined
              ? (base ?? 0) === 0
                ? (prefix?.length ?? 0)
                : 0
              : 4 + mozilla.end.readUInt32LE(12) + mozilla.end.length,
          )
  } finally {
    zip.close()
    bytes?.close()
  }
  const meta: Record<string, string> = { comment: fromNameBytes(asBytes(zip.comment)) }
  if (unowned !== undefined) meta['bytes no member owns'] = unowned
  if (uncounted !== undefined) meta['central directory past its count'] = uncounted
  // What lies between the directory read and the end records: another directory there
  // (one end record pointing at it) is what Info-ZIP's unzip extracts from.
  if (afterDirectory !== undefined) meta['bytes after the central directory'] = afterDirectory
  // An APK's v2/v3 signatures: two builds signed alike hold the same block.
  if (signingBlock !== undefined)
    meta['APK signing block'] = `${signingBlock.size} bytes (sha256 ${signingBlock.digest})`
  if (mozilla !== undefined) meta['read-ahead length'] = String(mozilla.readAhead)
  // A zipapp's `#!` line is part of what ships: two that differ there are not identical.
  if (prefix !== undefined) meta.prefix = printablePrefix(prefix)
  return { inventory: { members, meta, warnings }, captured }
}

/**
 * How many bytes from `from` to the central directory no member's local header, data
 * or data descriptor holds. (Directories hold no data and are listed like any member.)
 */
function unownedBytes(
  zip: ZipBytes,
  spans: readonly { start: number; end: number }[],
  centralStart: number,
  /** Where members may start: a Mozilla zip's after its end record, any other's at 0. */
  from: number,
): string | undefined {
  const sorted = [...spans].sort((x, y) => x.start - y.start)
  const gaps: [number, number][] = []
  const first = sorted[0]?.start ?? centralStart
  if (first > from) gaps.push([from, first])
  sorted.forEach((span, i) => {
    const next = sorted[i + 1]?.start ?? centralStart
    if (next > span.end) gaps.push([span.end, next])
  })
  // Their digest too: two zips hiding as many bytes, but other ones, are not the same.
  const { count, sha256 } = spansDigest(zip, gaps)
  return count === 0 ? undefined : `${count} (sha256 ${sha256})`
}

const HASH_CHUNK = 1024 * 1024

/**
 * The bytes of the central directory, by the size its end record gives, past the entries
 * its count lists (where the last counted entry ended), with their digest; undefined
 * when there are none, or when the size is a zip64 one (0xFFFFFFFF, given elsewhere).
 */
function uncountedDirectory(
  zip: ZipBytes,
  centralStart: number,
  centralEnd: number,
): string | undefined {
  const found = endRecord(zip)
  if (found === undefined) return undefined
  const { tail, end } = found
  const size = tail.readUInt32LE(end + 12)
  if (size === 0xffffffff) return undefined
  const extra = centralStart + size - centralEnd
  if (extra <= 0) return undefined
  const { count, sha256 } = spansDigest(zip, [[centralEnd, centralEnd + extra]])
  return `${count} bytes (sha256 ${sha256})`
}

/** How many bytes the spans hold, and their SHA-256, read a chunk at a time. */
function spansDigest(
  zip: ZipBytes,
  spans: readonly (readonly [number, number])[],
): { count: number; sha256: string } {
  let count = 0
  const hash = crypto.createHash('sha256')
  for (const [start, stop] of spans)
    for (let at = start; at < stop; at += HASH_CHUNK) {
      const chunk = zip.read(at, Math.min(HASH_CHUNK, stop - at))
      count += chunk.length
      hash.update(chunk)
    }
  return { count, sha256: hash.digest('hex') }
}

const END_SIGNATURE = Buffer.from([0x50, 0x4b, 0x05, 0x06])

/** The last 64 KiB and a bit of a zip, and where in them its end record is, if anywhere. */
function endRecord(zip: ZipBytes): { tail: Buffer; tailStart: number; end: number } | undefined {
  const tailLength = Math.min(zip.length, 65_557)
  const tailStart = zip.length - tailLength
  const tail = zip.read(tailStart, tailLength)
  const end = tail.lastIndexOf(END_SIGNATURE)
  return end === -1 || end + 22 > tail.length ? undefined : { tail, tailStart, end }
}

const ZIP64_LOCATOR_SIGNATURE = 0x07064b50

/**
 * The bytes after the central directory read (and past any it holds beyond its count)
 * and before the end records (the zip64 end record where its locator names one, else
 * the end record), with their digest; undefined when there are none. Two end records
 * that point at two directories leave the other directory here.
 */
function bytesAfterDirectory(
  zip: ZipBytes,
  centralStart: number,
  centralEnd: number,
): string | undefined {
  const found = endRecord(zip)
  if (found === undefined) return undefined
  const { tail, end } = found
  const endAt = found.tailStart + end
  const size = tail.readUInt32LE(end + 12)
  const from = Math.max(centralEnd, size === 0xffffffff ? 0 : centralStart + size)
  // The spans to hash: up to the end record, less a zip64 end record (its fixed 56
  // bytes, where the locator just before the end record names one) and the locator. Its
  // extensible data, and anything between it and the locator, count: a directory there
  // is still one unzip may read.
  const spans: [number, number][] = [[from, endAt]]
  if (end >= 20 && tail.readUInt32LE(end - 20) === ZIP64_LOCATOR_SIGNATURE) {
    const at = Number(tail.readBigUInt64LE(end - 20 + 8))
    const locatorAt = endAt - 20
    if (Number.isSafeInteger(at) && at >= from && at + 56 <= locatorAt)
      spans.splice(0, 1, [from, at], [at + 56, locatorAt])
    else if (Number.isSafeInteger(at) && at >= from && at < locatorAt)
      spans.splice(0, 1, [from, at])
    else spans.splice(0, 1, [from, locatorAt])
  }
  const { count, sha256 } = spansDigest(zip, spans)
  return count === 0 ? undefined : `${count} bytes (sha256 ${sha256})`
}

/**
 * The APK signing block just before the central directory (its bytes are its own, not
 * unowned): its size and digest, or undefined. Both of its size fields must agree, so
 * that a forged trailer cannot claim bytes a block does not hold.
 */
function apkSigningBlock(
  zip: ZipBytes,
  centralStart: number,
): { size: number; digest: string } | undefined {
  if (centralStart < 32) return undefined
  const tail = zip.read(centralStart - 24, 24)
  if (tail.length < 24 || tail.toString('latin1', 8, 24) !== 'APK Sig Block 42') return undefined
  // The size counts the block without its first size field: 8 bytes more in all.
  const counted = tail.readBigUInt64LE(0)
  if (counted > BigInt(centralStart - 8)) return undefined
  const size = Number(counted) + 8
  const head = zip.read(centralStart - size, 8)
  if (head.length < 8 || head.readBigUInt64LE(0) !== counted) return undefined
  const hash = crypto.createHash('sha256')
  for (let at = centralStart - size; at < centralStart; at += HASH_CHUNK)
    hash.update(zip.read(at, Math.min(HASH_CHUNK, centralStart - at)))
  return { size, digest: hash.digest('hex') }
}

/** With decodeStrings off, yauzl hands names and comments over as the bytes stored. */
function asBytes(value: string | Buffer): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'latin1') : value
}

/**
 * A member's name in the name form (file-names.ts): its bytes exactly, UTF-8 where they
 * are, whether or not the entry's UTF-8 flag says so (most writers leave it off).
 */
function nameOf(entry: yauzl.Entry): string {
  return fromNameBytes(asBytes(entry.fileName))
}

/** A zip's bytes by position (counted from where its offsets count), and its length. */
interface ZipBytes {
  length: number
  /** Up to `n` bytes from `at`; fewer at the end. */
  read(at: number, n: number): Buffer
  close(): void
}

function inMemory(buffer: Buffer): ZipBytes {
  return {
    length: buffer.length,
    read: (at, n) => buffer.subarray(at, at + n),
    close: () => undefined,
  }
}

/**
 * A zip on disk, read by position on one descriptor (of the file that was opened,
 * whatever is renamed into its place): a header or a gap at a time, never the whole.
 */
function onDisk(
  file: string | Buffer,
  base: number,
  length: number,
  flags: string | number,
): ZipBytes {
  const fd = fs.openSync(file, flags)
  return {
    length,
    read: (at, n) => {
      const want = Math.max(0, Math.min(n, length - at))
      const out = Buffer.allocUnsafe(want)
      let got = 0
      while (got < want) {
        const read = fs.readSync(fd, out, got, want - got, base + at + got)
        if (read === 0) break
        got += read
      }
      return out.subarray(0, got)
    },
    close: () => {
      fs.closeSync(fd)
    },
  }
}

/** A member's local header as read: its fixed part, its name and extra field, and where its data ends. */
interface LocalHeader {
  fixed: Buffer
  name: Buffer
  extra: Buffer
  /** Where its data ends. */
  end: number
  /** The data descriptor after its data (flag bit 3), as stored; empty when there is none. */
  descriptor: Buffer
}

// Read with the fixed part, enough for the name and extra field of nearly every member:
// one read per member from a zip on disk.
const LOCAL_READ = 30 + 512

/**
 * A member's local header, where the central directory points, and where its data ends,
 * checking every offset against the zip: a hostile archive may point anywhere.
 */
function localHeader(zip: ZipBytes, entry: yauzl.Entry, where: string): LocalHeader {
  const at = entry.relativeOffsetOfLocalHeader
  let head = zip.read(at, LOCAL_READ)
  if (head.length < 30 || head.readUInt32LE(0) !== 0x04034b50)
    throw corrupt(
      `${where}!${nameOf(entry)}`,
      new Error('no local file header where the central directory points'),
    )
  const [nameLength, extraLength] = [head.readUInt16LE(26), head.readUInt16LE(28)]
  if (30 + nameLength + extraLength > head.length)
    head = zip.read(at, 30 + nameLength + extraLength)
  const end = at + 30 + nameLength + extraLength + entry.compressedSize
  if (end > zip.length)
    throw corrupt(
      `${where}!${nameOf(entry)}`,
      new Error('compressed data runs past the end of the archive'),
    )
  const extra = head.subarray(30 + nameLength, 30 + nameLength + extraLength)
  return {
    fixed: head.subarray(0, 30),
    name: head.subarray(30, 30 + nameLength),
    extra,
    end,
    descriptor:
      (entry.generalPurposeBitFlag & 0x08) === 0 ? Buffer.alloc(0) : descriptorAt(zip, end, extra),
  }
}

/**
 * The data descriptor at `at`: its optional signature, the CRC-32 and both sizes, of 8
 * bytes each where the local header has a zip64 field (of 4 otherwise). What is there,
 * cut at the archive's end.
 */
function descriptorAt(zip: ZipBytes, at: number, extra: Buffer): Buffer {
  const head = zip.read(at, 4)
  const signed = head.length === 4 && head.readUInt32LE(0) === 0x08074b50
  let zip64 = false
  for (let i = 0; i + 4 <= extra.length; i += 4 + extra.readUInt16LE(i + 2))
    if (extra.readUInt16LE(i) === 0x0001) zip64 = true
  return zip.read(at, (signed ? 4 : 0) + 4 + (zip64 ? 16 : 8))
}

/** A data descriptor's CRC-32 and sizes, as the directory's fields are written. */
function descriptorFields(descriptor: Buffer): string {
  const signed = descriptor.length >= 4 && descriptor.readUInt32LE(0) === 0x08074b50
  const body = descriptor.subarray(signed ? 4 : 0)
  if (body.length !== 12 && body.length !== 20) return `${descriptor.toString('hex')} (cut short)`
  const wide = body.length === 20
  const size = (i: number): string =>
    String(wide ? body.readBigUInt64LE(4 + 8 * i) : body.readUInt32LE(4 + 4 * i))
  return `crc32 ${body.readUInt32LE(0).toString(16)}, ${size(0)} compressed, ${size(1)}`
}

function zipMeta(entry: yauzl.Entry, unixMode: number): Record<string, string> {
  const extra = entry.extraFields
    .map((f) => `0x${f.id.toString(16).padStart(4, '0')}:${f.data.toString('hex')}`)
    .join(' ')
  return {
    mtime: dosTimeText(entry.lastModFileDate, entry.lastModFileTime),
    // The text bit (unzip -a converts line ends by it) and the rest of the word.
    'internal attributes': `0x${entry.internalFileAttributes.toString(16)}`,
    mode: unixMode === 0 ? '(none)' : octal(unixMode),
    'external attributes': `0x${entry.externalFileAttributes.toString(16)}`,
    'made by': `${entry.versionMadeBy >> 8}/${entry.versionMadeBy & 0xff}`,
    // A reader older than this refuses the member (unzip: "need PK compat. v9.9").
    'version needed': `${Math.floor(entry.versionNeededToExtract / 10)}.${entry.versionNeededToExtract % 10}`,
    flags: `0x${entry.generalPurposeBitFlag.toString(16)}`,
    method: String(entry.compressionMethod),
    'compressed size': String(entry.compressedSize),
    // The check and the size a reader holds the content to: one that is not the
    // content's fails `unzip -t` and Java's reader. Left out beside content that differs.
    crc32: (entry.crc32 >>> 0).toString(16),
    size: String(entry.uncompressedSize),
    'extra fields': extra === '' ? '(none)' : extra,
    comment: fromNameBytes(asBytes(entry.fileComment)),
  }
}

/**
 * What only the local header holds: its own extra fields (the access time of 0x5455 is
 * there, not in the central directory) and its time, when they are not the central
 * directory's. A bad offset was refused already.
 */
function localMeta(local: LocalHeader, entry: yauzl.Entry): Record<string, string> {
  const { fixed, extra } = local
  const fields: string[] = []
  for (let i = 0; i + 4 <= extra.length;) {
    const length = extra.readUInt16LE(i + 2)
    fields.push(
      `0x${extra.readUInt16LE(i).toString(16).padStart(4, '0')}:${extra.subarray(i + 4, i + 4 + length).toString('hex')}`,
    )
    i += 4 + length
  }
  const [time, date] = [fixed.readUInt16LE(10), fixed.readUInt16LE(12)]
  // The name a streaming reader (Java's ZipInputStream, unzip -) takes the member by.
  const localName = local.name
  // What else a streaming reader takes from the local header: the method, the flags and,
  // unless a data descriptor follows (bit 3, when they may be zero) or zip64 holds them
  // (0xFFFFFFFF), the CRC-32 and the sizes. Named only where they are not the directory's.
  const [flags, method] = [fixed.readUInt16LE(6), fixed.readUInt16LE(8)]
  const needed = fixed.readUInt16LE(4)
  const [crc, compressed, size] = [
    fixed.readUInt32LE(14),
    fixed.readUInt32LE(18),
    fixed.readUInt32LE(22),
  ]
  const deferred = (flags & 0x08) !== 0 && crc === 0 && compressed === 0 && size === 0
  const zip64 = compressed === 0xffffffff || size === 0xffffffff
  const disagreeing: Record<string, string> = {
    ...(needed === entry.versionNeededToExtract
      ? {}
      : { 'local version needed': `${Math.floor(needed / 10)}.${needed % 10}` }),
    ...(flags === entry.generalPurposeBitFlag ? {} : { 'local flags': `0x${flags.toString(16)}` }),
    ...(method === entry.compressionMethod ? {} : { 'local method': String(method) }),
    ...(deferred || crc === entry.crc32 >>> 0 ? {} : { 'local crc32': crc.toString(16) }),
    ...(deferred ||
    zip64 ||
    (compressed === entry.compressedSize && size === entry.uncompressedSize)
      ? {}
      : { 'local sizes': `${compressed} compressed, ${size}` }),
  }
  // A streaming reader holds the content to the descriptor's check and sizes.
  const described = local.descriptor.length === 0 ? undefined : descriptorFields(local.descriptor)
  const directory = `crc32 ${(entry.crc32 >>> 0).toString(16)}, ${entry.compressedSize} compressed, ${entry.uncompressedSize}`
  return {
    ...disagreeing,
    ...(described === undefined || described === directory ? {} : { 'data descriptor': described }),
    ...(localName.equals(asBytes(entry.fileName))
      ? {}
      : { 'local name': fromNameBytes(localName) }),
    'local extra fields': fields.length === 0 ? '(none)' : fields.join(' '),
    ...(time === entry.lastModFileTime && date === entry.lastModFileDate
      ? {}
      : { 'local mtime': dosTimeText(date, time) }),
  }
}

/**
 * DOS date and time as a field, read as UTC (zip stores no zone, so this is the honest
 * reading). Fields out of range (second 60, day 0, month 13) are shown as the words they
 * are: `Date.UTC` carries them over, and two stored times that differ (00:00:60 and
 * 00:01:00) read alike. Pure.
 */
export function dosTimeText(date: number, time: number): string {
  const year = ((date >> 9) & 0x7f) + 1980
  const month = (date >> 5) & 0x0f
  const day = date & 0x1f
  const [hour, minute, second] = [(time >> 11) & 0x1f, (time >> 5) & 0x3f, (time & 0x1f) * 2]
  const seconds = Date.UTC(year, month - 1, day, hour, minute, second) / 1000
  const exact =
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    new Date(seconds * 1000).getUTCDate() === day &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59
  const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`
  return exact
    ? `${isoTime(seconds)} (DOS, no zone)`
    : `not a time: DOS date ${hex(date)}, time ${hex(time)}`
}

interface OpenedZip {
  zip: yauzl.ZipFile
  /** The zip's bytes from where its offsets count, when it is in memory. */
  buffer?: Buffer
  /** What comes before its first member (a zipapp's `#!` line, a jmod's magic), if anything. */
  prefix?: Buffer
  /** A Mozilla-optimized zip's layout (zip-prefix.ts): its central directory comes first. */
  mozilla?: MozillaLayout
  /** On disk: where in the file its offsets count from (after a prefix they do not count). */
  base?: number
}

function notMozilla(where: string): ReproofError {
  return corrupt(
    where,
    new Error(
      'it starts as a Mozilla-optimized zip (central directory first), but its directory does not end in an end record that lists it',
    ),
  )
}

/**
 * Opens a zip through yauzl: in memory, or in place on disk. A zip after a prefix whose
 * offsets count from its own start (zip-prefix.ts) is opened from there.
 */
async function openZip(source: ByteSource, where: string): Promise<OpenedZip> {
  const options: yauzl.Options = {
    lazyEntries: true,
    autoClose: false,
    // Names as the bytes stored: decoded, `\` became `/` and every byte that is not UTF-8
    // one U+FFFD, so two members of other names were compared as one (and the content
    // that differed between them went unseen); and `../x` ended the whole comparison.
    decodeStrings: false,
    validateEntrySizes: true,
  }
  const opened = (
    start: (done: (err: Error | null, zip?: yauzl.ZipFile) => void) => void,
  ): Promise<yauzl.ZipFile> =>
    new Promise((resolve, reject) => {
      start((err, zip) => {
        if (err !== null || zip === undefined) reject(corrupt(where, err))
        else resolve(zip)
      })
    })
  if (source.buffer !== undefined) {
    const whole = source.buffer
    if (isMozillaZip(whole)) {
      const mozilla = mozillaLayout((at, n) => whole.subarray(at, at + n), whole.length)
      if (mozilla === undefined) throw notMozilla(where)
      // The end record copied to the end, where yauzl looks for it; the offsets are the file's.
      const readable = Buffer.concat([whole, mozilla.end])
      const zip = await opened((done) => {
        yauzl.fromRandomAccessReader(new BytesReader(readable), readable.length, options, done)
      })
      return { zip, buffer: whole, mozilla }
    }
    const length = zipPrefixLength(whole.subarray(0, 512))
    const base = length === undefined ? 0 : (zipOffsetBase(whole, 0, length) ?? 0)
    const buffer = whole.subarray(base)
    const zip = await opened((done) => {
      yauzl.fromRandomAccessReader(new BytesReader(buffer), buffer.length, options, done)
    })
    return {
      zip,
      buffer,
      base,
      ...(length === undefined ? {} : { prefix: whole.subarray(0, length) }),
    }
  }
  const file = source.file
  if (file === undefined) throw new Error('zip source must be a file or a buffer')
  const fd = fs.openSync(file, openFlags(source))
  let head: Buffer
  let base = 0
  let length: number | undefined
  let mozilla: MozillaLayout | undefined
  try {
    head = Buffer.alloc(512)
    head = head.subarray(0, fs.readSync(fd, head, 0, 512, 0))
    if (isMozillaZip(head)) {
      mozilla = mozillaLayout(windowedReader(fd), source.size)
      if (mozilla === undefined) throw notMozilla(where)
    }
    length = zipPrefixLength(head)
    if (length !== undefined) {
      const { tail, tailAt } = readTail(fd, source.size)
      base = zipOffsetBase(tail, tailAt, length) ?? 0
    }
  } finally {
    fs.closeSync(fd)
  }
  const prefix = length === undefined ? {} : { prefix: head.subarray(0, length) }
  if (mozilla !== undefined) {
    const end = mozilla.end
    const reader = new OffsetFileReader(file, 0, { bytes: end, at: source.size }, openFlags(source))
    try {
      return {
        zip: await opened((done) => {
          yauzl.fromRandomAccessReader(reader, source.size + end.length, options, done)
        }),
        mozilla,
      }
    } catch (err) {
      reader.close(() => undefined)
      throw err
    }
  }
  // yauzl hands the path to fs.open, which takes a Buffer path as well; a tree's file that
  // may change is opened here, never through a link put in its place.
  if (base === 0 && source.noFollow !== true)
    return {
      zip: await opened((done) => {
        yauzl.open(file as string, options, done)
      }),
      ...prefix,
    }
  const reader = new OffsetFileReader(file, base, undefined, openFlags(source))
  try {
    return {
      zip: await opened((done) => {
        yauzl.fromRandomAccessReader(reader, source.size - base, options, done)
      }),
      ...prefix,
      base,
    }
  } catch (err) {
    // Not opened: the reader's descriptor is closed here, as no zip will close it.
    reader.close(() => undefined)
    throw err
  }
}

/** A prefix as text: printable ASCII as it is, any other byte as \xNN. */
function printablePrefix(prefix: Buffer): string {
  let out = ''
  for (const byte of prefix)
    out +=
      byte >= 0x20 && byte < 0x7f && byte !== 0x5c
        ? String.fromCharCode(byte)
        : `\\x${byte.toString(16).padStart(2, '0')}`
  return out
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | undefined> {
  return new Promise((resolve, reject) => {
    const onEntry = (entry: yauzl.Entry): void => {
      cleanup()
      resolve(entry)
    }
    const onEnd = (): void => {
      cleanup()
      resolve(undefined)
    }
    const onError = (err: Error): void => {
      cleanup()
      reject(err)
    }
    const cleanup = (): void => {
      zip.off('entry', onEntry)
      zip.off('end', onEnd)
      zip.off('error', onError)
    }
    zip.on('entry', onEntry)
    zip.on('end', onEnd)
    zip.on('error', onError)
    zip.readEntry()
  })
}

/**
 * The methods besides stored (0) and deflate (8), which yauzl reads, whose data is a
 * stream of a compression reproof decodes: `zip -Z bzip2` writes 12, and 7-Zip, WinZip
 * and Python's zipfile write these too.
 */
const STREAM_METHODS: Readonly<Record<number, Compression>> = { 12: 'bzip2', 93: 'zstd', 95: 'xz' }

/** Streams whose bytes the decoder already charged to the budget (decompressedSource). */
const CHARGED = new WeakSet<Readable>()

/**
 * An entry's data: as stored (`decompress` false), or decompressed. yauzl decodes only
 * deflate; bzip2, zstd and xz members are decoded from their raw bytes here, under the
 * same byte and ratio limits, and their size checked against the directory's.
 */
function openEntry(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  where: string,
  decompress: boolean,
  budget: Budget,
): Promise<Readable> {
  const method = entry.compressionMethod
  const label = `${where}!${nameOf(entry)}`
  const decoded = decompress && method !== 0 && method !== 8 ? STREAM_METHODS[method] : undefined
  if (decompress && method !== 0 && method !== 8 && decoded === undefined)
    return Promise.reject(
      new ReproofError(
        'E_INPUT',
        `${label}: compressed by method ${method}${METHOD_NAMES[method] === undefined ? '' : ` (${METHOD_NAMES[method]})`}, which reproof does not decompress (it reads stored, deflate, bzip2, zstd and xz members)`,
        { path: label },
      ),
    )
  // Stored entries are never "decompressed" (yauzl refuses the option for them), and
  // the raw bytes of any other method are its data as stored.
  const options =
    method === 0 ? {} : method === 8 ? { decompress } : { decodeFileData: false as const }
  return new Promise<Readable>((resolve, reject) => {
    zip.openReadStream(entry, options, (err, stream) => {
      if (err !== null) reject(corrupt(label, err))
      else resolve(stream)
    })
  }).then(async (raw) => {
    if (decoded === undefined) return raw
    const { decompressedSource } = await import('./compressed.js')
    const source = { label, size: entry.compressedSize, open: () => raw }
    const out = decompressedSource(source, decoded, budget, undefined, {
      oneStream: decoded === 'bzip2',
    }).open()
    CHARGED.add(out)
    return withSize(out, entry.uncompressedSize, label)
  })
}

/** `stream`, failing at its end when it did not hold `size` bytes (as yauzl checks for deflate). */
function withSize(stream: Readable, size: number, label: string): Readable {
  let seen = 0
  const checked = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length
      if (seen > size) callback(sizeError(label, size, `at least ${seen}`))
      else callback(null, chunk)
    },
    flush(callback) {
      callback(seen === size ? null : sizeError(label, size, String(seen)))
    },
  })
  stream.on('error', (err) => checked.destroy(err))
  checked.on('close', () => stream.destroy())
  CHARGED.add(checked)
  return stream.pipe(checked)
}

function sizeError(label: string, size: number, found: string): ReproofError {
  return new ReproofError(
    'E_INPUT',
    `${label}: decompresses to ${found} bytes, where the zip's directory says ${size}`,
    { path: label },
  )
}

const METHOD_NAMES: Readonly<Record<number, string>> = {
  9: 'deflate64',
  14: 'LZMA',
  98: 'PPMd',
  99: 'AES encryption',
}

function corrupt(where: string, err: unknown): ReproofError {
  return new ReproofError(
    'E_INPUT',
    `${where}: not a readable zip archive (${(err as Error | null)?.message ?? 'unknown error'})`,
    { path: where },
  )
}

/** Reads an entry to its end, charging the budget for every byte before using it. */
async function eachChunk(
  stream: Readable,
  budget: Budget,
  where: string,
  use: (chunk: Buffer) => void,
): Promise<void> {
  const charged = CHARGED.has(stream)
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (charged) budget.stopIfAborted()
    else budget.spendBytes(chunk.length, where)
    use(chunk)
  }
}
