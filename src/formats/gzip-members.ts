import fs from 'node:fs'
import { pipeline } from 'node:stream/promises'
import zlib from 'node:zlib'
import { ReproofError } from '../errors.js'
import type { Budget } from './limits.js'
import type { ByteSource } from './source.js'

/** One member of a gzip file, by offsets into the file. */
export interface GzipMember {
  /** Its header, as it is in the file. */
  header: Buffer
  /** Where its deflate data starts. */
  body: number
  /** Where its 8-byte trailer (CRC-32 and length) starts. */
  trailer: number
}

// A header longer than this (a name or comment of 64 KiB) is refused, as the first
// header is when the file is opened.
const HEADER_MAX = 64 * 1024
const READ = 64 * 1024

/**
 * Every member of a gzip file, each inflated (and checked against its trailer) to learn
 * where it ends: zlib reports how much input a deflate stream consumed. Nothing inflated
 * is held, and the ratio bound applies as it goes. Undefined when the file is not a clean
 * run of members (corrupt data, a trailer that does not match, bytes after the last
 * member): the full read that names such faults decides then.
 *
 * A header-only rewrite needs this: the deflate data is copied as it is, so a second
 * member (`cat a.gz b.gz`, or what an appending writer leaves) would keep its own mtime
 * and name while the file is said to be normalized.
 */
export async function gzipMembers(
  input: string,
  budget: Budget,
  bodyOffset: (header: Buffer) => number,
): Promise<GzipMember[] | undefined> {
  const run = await gzipMemberRun(input, budget, bodyOffset)
  return run.whole && run.members.length > 0 ? run.members : undefined
}

/**
 * Whether a gzip stream may hold a member after its first: false only when the magic
 * and method that start every member (1f 8b 08) appear nowhere after the first header's
 * fixed bytes. A scan at memory speed, where walking the members inflates all of it:
 * most streams have one member, and the walk is left for those that may not.
 */
export async function mayHoldLaterMember(source: ByteSource): Promise<boolean> {
  const MAGIC = Buffer.from([0x1f, 0x8b, 0x08])
  if (source.buffer !== undefined) return source.buffer.indexOf(MAGIC, 10) !== -1
  // The last two bytes before each chunk are kept, so that a magic split between two is
  // found: only they and the chunk's first two are joined, never the chunk itself.
  let carry = Buffer.alloc(0)
  let at = 0
  for await (const chunk of source.open() as AsyncIterable<Buffer>) {
    const seam = Buffer.concat([carry, chunk.subarray(0, 2)])
    if (seam.indexOf(MAGIC, Math.max(0, 10 - at + carry.length)) !== -1) return true
    if (chunk.indexOf(MAGIC, Math.max(0, 10 - at)) !== -1) return true
    at += chunk.length
    carry = Buffer.from(
      chunk.length >= 2 ? chunk.subarray(-2) : Buffer.concat([carry, chunk]).subarray(-2),
    )
  }
  return false
}

/** The members a gzip file starts with, and whether they are all of it. */
export interface GzipMemberRun {
  /** Up to the first bytes that are not a whole member (padding, junk, a corrupt one). */
  members: GzipMember[]
  /** The members are the whole file: nothing after the last. */
  whole: boolean
}

/**
 * Every member a gzip file starts with, as `gzipMembers` reads them, and whether they
 * are the whole file: a file that is not a clean run of members still has the headers
 * of those before the first fault, which a rewrite as one new stream would drop.
 */
export async function gzipMemberRun(
  input: string,
  budget: Budget,
  bodyOffset: (header: Buffer) => number,
): Promise<GzipMemberRun> {
  const members: GzipMember[] = []
  const stop = (): GzipMemberRun => ({ members, whole: false })
  const fd = await fs.promises.open(input, 'r')
  try {
    const { size } = await fd.stat()
    // One buffer for every member's header, each header copied out of it: kept as views,
    // every member held a 64 KiB buffer, and 20,000 empty members took 2.5 GB.
    const buffer = Buffer.allocUnsafe(Math.min(HEADER_MAX, size))
    let at = 0
    while (at < size) {
      budget.spendEntry(input)
      const head = buffer.subarray(0, Math.min(HEADER_MAX, size - at))
      await fd.read(head, 0, head.length, at)
      let body: number
      try {
        body = at + bodyOffset(head)
      } catch {
        return stop()
      }
      const inflated = await inflateMember(fd, body, size, budget, input)
      if (inflated === undefined) return stop()
      const trailer = body + inflated.consumed
      if (trailer + 8 > size) return stop()
      const tail = Buffer.alloc(8)
      await fd.read(tail, 0, 8, trailer)
      if (
        tail.readUInt32LE(0) !== inflated.crc ||
        tail.readUInt32LE(4) !== inflated.length % 2 ** 32
      )
        return stop()
      const header = Buffer.from(head.subarray(0, body - at))
      // A header CRC (FHCRC) is checked here, as zlib checks it on a full read.
      if (((header[3] ?? 0) & 0x02) !== 0) {
        const crc = zlib.crc32(header.subarray(0, header.length - 2)) & 0xffff
        if (header.readUInt16LE(header.length - 2) !== crc) return stop()
      }
      members.push({ header, body, trailer })
      at = trailer + 8
    }
    return { members, whole: true }
  } finally {
    await fd.close()
  }
}

/** One deflate stream from `start`: its CRC-32, length and compressed size. */
async function inflateMember(
  fd: fs.promises.FileHandle,
  start: number,
  size: number,
  budget: Budget,
  input: string,
): Promise<{ crc: number; length: number; consumed: number } | undefined> {
  // Output in 64 KiB pieces: a buffer of 1 MiB for each of thousands of empty members
  // was memory the collector gave back too late.
  const inflate = zlib.createInflateRaw({ chunkSize: 64 * 1024 })
  const stream = { ended: false }
  inflate.once('end', () => {
    stream.ended = true
  })
  let length = 0
  let crc = 0
  // Reading stops soon after the stream ends (zlib ignores what follows its end), so a
  // file of many members is read about once, not once per member.
  async function* compressed(): AsyncGenerator<Buffer> {
    let pos = start
    while (!stream.ended && pos < size) {
      const chunk = Buffer.allocUnsafe(Math.min(READ, size - pos))
      const { bytesRead } = await fd.read(chunk, 0, chunk.length, pos)
      if (bytesRead === 0) return
      pos += bytesRead
      yield chunk.subarray(0, bytesRead)
    }
  }
  try {
    await pipeline(compressed, inflate, async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) {
        length += chunk.length
        budget.checkRatio(length, size, input)
        crc = zlib.crc32(chunk, crc)
      }
    })
  } catch (err) {
    if (err instanceof ReproofError) throw err
    return undefined
  }
  return stream.ended ? { crc: crc >>> 0, length, consumed: inflate.bytesWritten } : undefined
}

/**
 * Where the deflate data of a gzip member starts: after the 10 fixed bytes and the
 * optional extra field, name, comment and header CRC (RFC 1952, 2.3).
 */
export function gzipBodyOffset(bytes: Buffer, where: string): number {
  if (bytes.length < 10 || bytes[0] !== 0x1f || bytes[1] !== 0x8b || bytes[2] !== 8) {
    throw new ReproofError('E_INPUT', `${where}: not a gzip stream`, { path: where })
  }
  const flags = bytes[3] ?? 0
  let at = 10
  const need = (n: number): void => {
    if (at + n > bytes.length)
      throw new ReproofError('E_INPUT', `${where}: truncated gzip header`, { path: where })
  }
  if ((flags & 0x04) !== 0) {
    need(2)
    at += 2 + bytes.readUInt16LE(at)
  }
  for (const bit of [0x08, 0x10]) {
    if ((flags & bit) === 0) continue
    const end = bytes.indexOf(0, at)
    if (end === -1)
      throw new ReproofError('E_INPUT', `${where}: truncated gzip header`, { path: where })
    at = end + 1
  }
  if ((flags & 0x02) !== 0) at += 2
  need(0)
  return at
}
