import crypto from 'node:crypto'
import { ReproofError } from '../errors.js'
import { fromNameBytes, untilNul } from '../file-names.js'
import { ByteReader } from './byte-reader.js'
import { CPIO_MAX_NAME } from './cpio-bounds.js'
import {
  isoTime,
  keyFor,
  nameWarning,
  octal,
  memorySink,
  type MemberInfo,
  type StreamScan,
  unreadableAs,
} from './member.js'
import type { ByteSource } from './source.js'

/** The three cpio headers in use: "newc" (and its "crc" twin), POSIX "odc", and old binary. */
type Flavor = 'newc' | 'crc' | 'odc' | 'binary-le' | 'binary-be'

interface Header {
  /** The device and inode the file lived on (hard links share them), its link count, and a device's own number. */
  dev: string
  ino: number
  nlink: number
  rdev: string
  mode: number
  uid: number
  gid: number
  mtime: number
  nameSize: number
  fileSize: number
  /** newc's check field: in "crc" archives the sum of the data's bytes, elsewhere zero. */
  check: number
  /** Bytes the header takes, for the alignment of what follows. */
  length: number
}

const S_IFMT = 0o170000
const TYPES: Record<number, MemberInfo['type']> = {
  0o100000: 'file',
  0o040000: 'directory',
  0o120000: 'symlink',
}
const S_IFCHR = 0o020000
const S_IFBLK = 0o060000
const OTHER_TYPES: Record<number, string> = {
  [S_IFCHR]: 'character-device',
  [S_IFBLK]: 'block-device',
  0o010000: 'fifo',
  0o140000: 'socket',
}
/** The longest name a header may give (detection checks the same bound). */
export const MAX_NAME = CPIO_MAX_NAME
// A symlink's target is its data: read whole, so bounded.
const MAX_LINK = 4096

/** The flavor of a cpio archive from its first bytes, or undefined. */
export function cpioFlavor(head: Buffer): Flavor | undefined {
  const magic = head.subarray(0, 6).toString('latin1')
  if (magic === '070701') return 'newc'
  if (magic === '070702') return 'crc'
  if (magic === '070707') return 'odc'
  if (head.length >= 2 && head.readUInt16LE(0) === 0o070707) return 'binary-le'
  if (head.length >= 2 && head.readUInt16BE(0) === 0o070707) return 'binary-be'
  return undefined
}

/**
 * Streams a cpio archive (initramfs, RPM payloads, old tape archives) in any of its
 * three header forms. Names are bytes; every size is checked against the budget before
 * anything is read or kept. Archives one after another (an initramfs: microcode, then
 * the root file system), with zeros between, are all read, as the kernel unpacks them
 * all; anything else after the last trailer is the archive's own field.
 */
export const scanCpio: StreamScan = async (input, where, budget, want) => {
  const reader = new ByteReader(input, where)
  const bad = unreadableAs('cpio archive', where)
  const members: MemberInfo[] = []
  const captured = new Map<string, ByteSource>()
  const warnings: string[] = []
  const seen = new Map<string, number>()
  let flavor: Flavor | undefined
  const flavors: Flavor[] = []
  const inodes = new Map<string, number[]>()
  let trailing: { bytes: number; sha256: string } | undefined
  const trailerData: string[] = []
  for (;;) {
    const first = await reader.read(6)
    if (first === undefined) throw bad('no TRAILER!!! entry')
    const own = cpioFlavor(first)
    flavor ??= own
    // newc and crc headers may mix, as the kernel reads them; each entry's check field is
    // read by its own magic.
    if (own === undefined || flavor === undefined || family(own) !== family(flavor))
      throw bad('bad header magic')
    flavor = own
    if (flavors.length === 0) flavors.push(flavor)
    const header = await readHeader(reader, flavor, first, bad)
    if (header.nameSize < 1 || header.nameSize > MAX_NAME) throw bad('bad name size')
    const rawName = await reader.read(header.nameSize)
    if (rawName === undefined || rawName.length < header.nameSize) throw bad('truncated name')
    const nameBytes = untilNul(rawName)
    // What the name field holds past its NUL: no reader extracts it, but it is bytes of
    // the archive, and two archives can differ there alone.
    const afterNul = rawName.subarray(nameBytes.length + 1)
    await reader.skip(pad(flavor, header.length + header.nameSize))
    const name = fromNameBytes(nameBytes)
    if (name === 'TRAILER!!!') {
      // A trailer's own data (a writer's, or hidden there) is neither a member nor the
      // next archive: its count and digest are said, not read as a header.
      if (header.fileSize > 0) {
        const hash = crypto.createHash('sha256')
        await reader.stream(header.fileSize, (chunk) => {
          budget.spendBytes(chunk.length, where)
          hash.update(chunk)
        })
        await reader.skip(pad(flavor, header.fileSize))
        trailerData.push(`${header.fileSize} bytes, sha256 ${hash.digest('hex')}`)
      }
      await reader.skipZeros()
      const next = cpioFlavor(await reader.peek(6))
      if (next === undefined) {
        const rest = await reader.digestRest()
        if (rest.bytes > 0) trailing = rest
        break
      }
      // Another archive: hard links are within one only.
      flavor = next
      flavors.push(next)
      continue
    }
    budget.spendEntry(where)
    const type = TYPES[header.mode & S_IFMT] ?? 'other'
    const key = keyFor(name, seen)
    const warning = nameWarning(name)
    if (warning !== undefined) warnings.push(warning)
    if (type === 'symlink' && header.fileSize > MAX_LINK) throw bad('symlink target too long')
    // A link's target is read here (MAX_LINK bounds it); a file's content goes where the
    // caller says.
    const link = type === 'symlink' ? memorySink(`${where}!${name}`) : undefined
    const sink = link ?? (type === 'file' ? want(key, header.fileSize) : undefined)
    if (sink !== undefined) budget.checkMemberSize(header.fileSize, `${where}!${name}`)
    const hash = crypto.createHash('sha256')
    let sum = 0
    await reader.stream(header.fileSize, (chunk) => {
      budget.spendBytes(chunk.length, where)
      hash.update(chunk)
      sink?.add(chunk)
      if (flavor === 'crc' && type === 'file') sum = byteSum(chunk, sum)
    })
    await reader.skip(pad(flavor, header.fileSize))
    const content = sink?.done()
    if (content !== undefined && type === 'file') captured.set(key, content)
    members.push({
      key,
      name,
      type,
      size: type === 'file' ? header.fileSize : 0,
      sha256: type === 'file' ? hash.digest('hex') : '',
      ...(content?.buffer !== undefined && type === 'symlink'
        ? { linkTarget: fromNameBytes(content.buffer) }
        : {}),
      meta: {
        mtime: isoTime(header.mtime),
        mode: octal(header.mode),
        uid: String(header.uid),
        gid: String(header.gid),
        ...(type === 'other' ? { type: OTHER_TYPES[header.mode & S_IFMT] ?? 'unknown type' } : {}),
        ...((header.mode & S_IFMT) === S_IFCHR ||
        (header.mode & S_IFMT) === S_IFBLK ||
        !/^0(,0)?$/.test(header.rdev)
          ? { device: header.rdev }
          : {}),
        // What the building file system gave the entry: they make the archive's bytes
        // differ though every member is the same (GNU cpio without --reproducible).
        inode: String(header.ino),
        links: String(header.nlink),
        ...(afterNul.length > 0 ? { 'name field after its NUL': afterNul.toString('hex') } : {}),
        'file system device': header.dev,
        // The data an entry other than a file or link carries (a directory's, one of an
        // unknown type): extracted or not, it is bytes of the archive.
        ...(type !== 'file' && type !== 'symlink' && header.fileSize > 0
          ? { data: `${header.fileSize} bytes, sha256 ${hash.digest('hex')}` }
          : {}),
        ...checkField(type === 'file' ? flavor : 'newc', header.check, sum),
      },
      index: members.length,
    })
    if (header.nlink > 1 && type === 'file') {
      // The flavor first: what a link extracts to is said for newc's layout only.
      const file = `${family(flavor)}:${flavors.length}:${header.dev}:${header.ino}`
      const group = inodes.get(file)
      if (group === undefined) inodes.set(file, [members.length - 1])
      else group.push(members.length - 1)
    }
  }
  // Hard links: which members are one file. newc stores the data once, with the last
  // link; what each name holds once extracted depends on who it is linked with. Each
  // is named by the group's first member, which says the whole grouping in one field a
  // member (a list of every other name was quadratic in a group's size).
  for (const [file, group] of inodes) {
    if (group.length < 2) continue
    const [leader, ...rest] = group.map((i) => members[i])
    if (leader === undefined) continue
    leader.meta['hard links'] = String(group.length)
    for (const member of rest) if (member !== undefined) member.meta['hard link of'] = leader.name
    // newc stores the data once, with one link (the last, as GNU cpio writes it); the
    // others, stored empty, extract to that data: said of each, so that a member that
    // extracts to other bytes differs though its own stored bytes are the same.
    // (odc and old binary archives store each link's data with it, and readers differ on
    // what an empty one extracts to: GNU cpio leaves it empty.)
    const holders = group.map((i) => members[i]).filter((m) => m !== undefined && m.size > 0)
    const [holder] = holders
    if (file.startsWith('newc:') && holders.length === 1 && holder !== undefined)
      for (const i of group) {
        const member = members[i]
        if (member?.size === 0)
          member.meta['linked content'] = `${holder.size} bytes, sha256 ${holder.sha256}`
      }
  }
  const meta: Record<string, string> = { format: flavors.join(', ') }
  if (trailerData.length > 0) meta['data of the trailer'] = trailerData.join('; ')
  if (trailing !== undefined)
    meta['data after the trailer'] = `${trailing.bytes} bytes, sha256 ${trailing.sha256}`
  return { inventory: { members, meta, warnings }, captured }
}

const family = (flavor: Flavor): string => (flavor === 'crc' ? 'newc' : flavor)

/** The running sum, modulo 2^32, of a file's bytes: what "crc" archives call a CRC. */
export function byteSum(chunk: Uint8Array, sum: number): number {
  let s = sum
  for (const byte of chunk) s += byte
  return s >>> 0
}

/** A check field as cpio writes it: eight upper-case hex digits. */
export const hex8 = (n: number): string => n.toString(16).toUpperCase().padStart(8, '0')

/**
 * The check field, where it says anything: a "crc" archive's stored sum of a regular
 * file (and the data's own, when they disagree: GNU cpio refuses such a member; a link's
 * or a directory's is not summed, as GNU cpio and the kernel's gen_init_cpio write 0), or
 * a nonzero field elsewhere, where it is zero. Otherwise two archives whose members extract alike, or
 * one of which cpio refuses, would differ only in "the archive's own bytes".
 */
function checkField(flavor: Flavor, check: number, sum: number): Record<string, string> {
  if (flavor === 'crc')
    return {
      checksum: check === sum ? hex8(check) : `${hex8(check)} (the data sums to ${hex8(sum)})`,
    }
  if (flavor === 'newc' && check !== 0) return { 'check field': hex8(check) }
  return {}
}

/** Padding after a part that ends `length` bytes into its record: newc to 4, binary to 2. */
function pad(flavor: Flavor, length: number): number {
  if (flavor === 'newc' || flavor === 'crc') return (4 - (length % 4)) % 4
  if (flavor === 'odc') return 0
  return length % 2
}

async function readHeader(
  reader: ByteReader,
  flavor: Flavor,
  first: Buffer,
  bad: (what: string) => ReproofError,
): Promise<Header> {
  const lengths = { newc: 110, crc: 110, odc: 76, 'binary-le': 26, 'binary-be': 26 }
  const length = lengths[flavor]
  const rest = await reader.read(length - first.length)
  if (rest === undefined || rest.length < length - first.length) throw bad('truncated header')
  const h = Buffer.concat([first, rest])
  if (flavor === 'newc' || flavor === 'crc' || flavor === 'odc') {
    const text = h.toString('latin1')
    const field = (at: number, width: number, radix: number): number => {
      const digits = text.slice(at, at + width)
      if (!(radix === 16 ? /^[0-9a-fA-F]+$/ : /^[0-7]+$/).test(digits))
        throw bad(`bad header field "${digits}"`)
      return Number.parseInt(digits, radix)
    }
    if (flavor === 'newc' || flavor === 'crc') {
      const hex = (i: number): number => field(6 + i * 8, 8, 16)
      return {
        dev: `${hex(7)},${hex(8)}`,
        ino: hex(0),
        nlink: hex(4),
        rdev: `${hex(9)},${hex(10)}`,
        mode: hex(1),
        uid: hex(2),
        gid: hex(3),
        mtime: hex(5),
        fileSize: hex(6),
        nameSize: hex(11),
        check: hex(12),
        length,
      }
    }
    return {
      dev: String(field(6, 6, 8)),
      ino: field(12, 6, 8),
      nlink: field(36, 6, 8),
      rdev: String(field(42, 6, 8)),
      mode: field(18, 6, 8),
      uid: field(24, 6, 8),
      gid: field(30, 6, 8),
      mtime: field(48, 11, 8),
      nameSize: field(59, 6, 8),
      fileSize: field(65, 11, 8),
      check: 0,
      length,
    }
  }
  const u16 = (at: number): number =>
    flavor === 'binary-le' ? h.readUInt16LE(at) : h.readUInt16BE(at)
  // 32-bit values are two 16-bit words, the most significant first, in either order.
  const u32 = (at: number): number => u16(at) * 0x10000 + u16(at + 2)
  return {
    dev: String(u16(2)),
    ino: u16(4),
    nlink: u16(12),
    rdev: String(u16(14)),
    mode: u16(6),
    uid: u16(8),
    gid: u16(10),
    mtime: u32(16),
    nameSize: u16(20),
    fileSize: u32(22),
    check: 0,
    length,
  }
}
