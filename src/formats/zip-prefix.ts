import fs from 'node:fs'

/*
 * Zips that do not start with their first member: a Python zipapp (a `#!` line, then
 * the zip), a jar made executable the same way, a JDK jmod (the bytes `JM` 1 0). Their
 * writers count offsets from the zip's own start (Python's zipfile, the JDK's jmod), so
 * a reader that takes them from the file's start finds no member where they point; a
 * prefix added later and fixed up (`zip -A`) counts from the file's start. The end
 * record settles which: the central directory lies where its offset, counted from the
 * one or the other, says.
 */

const LOCAL = Buffer.from([0x50, 0x4b, 3, 4])
const JMOD = Buffer.from([0x4a, 0x4d, 1, 0])
// A script before the zip is found within the 512 bytes format detection looks at.
const MAX_PREFIX = 508
const END = 0x06054b50
const END_SIZE = 22
const ZIP64_LOCATOR = 0x07064b50
const ZIP64_END = 0x06064b50
const ZIP64_END_SIZE = 56
/** Where an end record can be: its comment is at most 65,535 bytes; zip64's records come before it. */
export const ZIP_TAIL = END_SIZE + 0xffff + 20 + ZIP64_END_SIZE

/**
 * The length of the prefix `head` starts with, when it is one reproof knows (a script
 * starting `#!` and ending in a newline, or a jmod's magic) and a local file header
 * follows it; undefined otherwise.
 */
export function zipPrefixLength(head: Buffer): number | undefined {
  if (head.subarray(0, 4).equals(JMOD)) return head.subarray(4, 8).equals(LOCAL) ? 4 : undefined
  if (head[0] !== 0x23 || head[1] !== 0x21) return undefined
  // A script (one `#!` line, or a launcher of a few lines), text up to the first member.
  const at = head.subarray(0, MAX_PREFIX + 4).indexOf(LOCAL)
  return at > 2 && head[at - 1] === 0x0a && !head.subarray(0, at).includes(0) ? at : undefined
}

/**
 * Where the offsets of a zip that follows `prefix` bytes count from, read from the end
 * of the file (`tail`, which starts at byte `tailAt`): `prefix` or 0, as explained
 * above, or undefined when the end record is missing or its central directory is at
 * neither place.
 */
export function zipOffsetBase(tail: Buffer, tailAt: number, prefix: number): number | undefined {
  const end = findEndRecord(tail)
  if (end === undefined) return undefined
  let base: number
  const size = tail.readUInt32LE(end + 12)
  const offset = tail.readUInt32LE(end + 16)
  if (size === 0xffffffff || offset === 0xffffffff) {
    // zip64: the locator just before the end record gives the zip64 end record's offset,
    // and that record (no extensible data) lies just before the locator.
    const locator = end - 20
    const record = locator - ZIP64_END_SIZE
    if (record < 0 || tail.readUInt32LE(locator) !== ZIP64_LOCATOR) return undefined
    if (tail.readUInt32LE(record) !== ZIP64_END) return undefined
    base = tailAt + record - Number(tail.readBigUInt64LE(locator + 8))
  } else base = tailAt + end - size - offset
  return base === prefix || base === 0 ? base : undefined
}

/** The end record's position in `tail`: the last signature whose comment ends exactly at the end. */
function findEndRecord(tail: Buffer): number | undefined {
  const lowest = Math.max(0, tail.length - END_SIZE - 0xffff)
  for (let at = tail.length - END_SIZE; at >= lowest; at--)
    if (tail.readUInt32LE(at) === END && at + END_SIZE + tail.readUInt16LE(at + 20) === tail.length)
      return at
  return undefined
}

/** The last bytes of a file (up to ZIP_TAIL) and where they start. */
export function readTail(fd: number, size: number): { tail: Buffer; tailAt: number } {
  const tailAt = Math.max(0, size - ZIP_TAIL)
  const tail = Buffer.alloc(size - tailAt)
  let got = 0
  while (got < tail.length) {
    const n = fs.readSync(fd, tail, got, tail.length - got, tailAt + got)
    if (n === 0) break
    got += n
  }
  return { tail: tail.subarray(0, got), tailAt }
}

/*
 * Mozilla's optimized zips (omni.ja, the jars of Firefox and Thunderbird) put the
 * central directory first: a 4-byte little-endian read-ahead length, the central
 * directory at byte 4, its end record right after it, then the members. The offsets
 * are the file's own; only the end record is not at the end, where readers look for it.
 */
const CENTRAL = Buffer.from([0x50, 0x4b, 1, 2])
const CENTRAL_SIZE = 46
// A central directory of more entries than a zip without zip64 can list is not walked.
const MAX_MOZILLA_ENTRIES = 0xffff

/**
 * Whether a file's first bytes are those of a Mozilla-optimized zip: the signature at
 * byte 4, and a first central entry that holds together (a method zips use, a name of
 * some length without a NUL where the head holds it), not four bytes any file may have.
 */
export function isMozillaZip(head: Buffer): boolean {
  if (head.length < 4 + CENTRAL_SIZE || !head.subarray(4, 8).equals(CENTRAL)) return false
  const method = head.readUInt16LE(4 + 10)
  const nameLength = head.readUInt16LE(4 + 28)
  const name = head.subarray(4 + CENTRAL_SIZE, 4 + CENTRAL_SIZE + nameLength)
  return [0, 8, 9, 12, 14, 93, 95].includes(method) && nameLength > 0 && !name.includes(0)
}

export interface MozillaLayout {
  /** The read-ahead length the file starts with. */
  readAhead: number
  /** The end record (and its comment) that follows the central directory. */
  end: Buffer
}

/**
 * Walks a Mozilla zip's central directory from byte 4 through `read(at, length)` (fewer
 * bytes at the end of the file) to the end record after it. Undefined when the walk
 * does not end in an end record that names that central directory (a file that only
 * looks like one, or a zip64 directory, which this layout is not written with).
 */
export function mozillaLayout(
  read: (at: number, length: number) => Buffer,
  size: number,
): MozillaLayout | undefined {
  let at = 4
  for (let entries = 0; ; entries++) {
    const header = read(at, CENTRAL_SIZE)
    if (header.length < 4) return undefined
    const signature = header.readUInt32LE(0)
    if (signature === END) {
      const record = read(at, END_SIZE)
      if (record.length < END_SIZE) return undefined
      const count = record.readUInt16LE(10)
      const length = record.readUInt32LE(12)
      const offset = record.readUInt32LE(16)
      if (count !== entries || length !== at - 4 || offset !== 4) return undefined
      const end = read(at, END_SIZE + record.readUInt16LE(20))
      if (end.length < END_SIZE + record.readUInt16LE(20)) return undefined
      return { readAhead: read(0, 4).readUInt32LE(0), end: Buffer.from(end) }
    }
    if (signature !== CENTRAL.readUInt32LE(0) || header.length < CENTRAL_SIZE) return undefined
    if (entries >= MAX_MOZILLA_ENTRIES) return undefined
    at += CENTRAL_SIZE + header.readUInt16LE(28) + header.readUInt16LE(30) + header.readUInt16LE(32)
    if (at > size) return undefined
  }
}

/** `read` for mozillaLayout over a file descriptor, a window at a time. */
export function windowedReader(fd: number): (at: number, length: number) => Buffer {
  const WINDOW = 64 * 1024
  let window = Buffer.alloc(0)
  let windowAt = 0
  return (at, length) => {
    if (at < windowAt || at + length > windowAt + window.length) {
      window = Buffer.alloc(Math.max(WINDOW, length))
      window = window.subarray(0, fs.readSync(fd, window, 0, window.length, at))
      windowAt = at
    }
    return window.subarray(at - windowAt, at - windowAt + length)
  }
}
