import type { SpecialBitsMember } from './rules.js'
import fs from 'node:fs'
import { unreadableAs } from '../formats/member.js'
import { untilNul } from '../file-names.js'
import { once } from 'node:events'
import type { Readable, Writable } from 'node:stream'
import { ByteReader } from '../formats/byte-reader.js'
import type { Budget } from '../formats/limits.js'
import { MAX_NAME, byteSum, hex8 } from '../formats/cpio.js'
import {
  lateTimesChange,
  specialBitsChange,
  stableMode,
  stableMtime,
  type EntryType,
  type NormalizeRules,
} from './rules.js'
import { MiB, type Job, type NormalizeOutcome } from './job.js'

export interface CpioChanges {
  entries: number
  headers: number
  /** Entries whose setuid, setgid or sticky bit the stable mode left out. */
  specialBits: SpecialBitsMember[]
  /** Entries whose stable time is past the largest the header's mtime field holds: given that one. */
  lateTimes: number
  /** That largest time, where one was given (seconds). */
  latest?: number
}

const S_IFMT = 0o170000
const TRAILER = Buffer.from('TRAILER!!!\0', 'latin1')
const TYPES: Record<number, EntryType> = {
  0o100000: 'file',
  0o040000: 'directory',
  0o120000: 'symlink',
}

type FieldName =
  | 'dev'
  | 'devminor'
  | 'ino'
  | 'mode'
  | 'uid'
  | 'gid'
  | 'nlink'
  | 'rdev'
  | 'mtime'
  | 'namesize'
  | 'filesize'

/** Where a header field lies and how it is written: hex or octal digits, or 16-bit words. */
interface Field {
  at: number
  width: number
  kind: 'hex' | 'octal' | 'u16' | 'u32'
}

/**
 * The three headers cpio writes: newc (and crc: hex digits, name and data padded to 4),
 * POSIX odc (octal digits, no padding) and old binary (16-bit words in the writing
 * machine's byte order, padded to 2). Fields a header does not have are left out.
 */
interface Layout {
  size: number
  align: number
  littleEndian?: boolean
  fields: Partial<Record<FieldName, Field>>
}

const hex = (i: number): Field => ({ at: 6 + i * 8, width: 8, kind: 'hex' })
const NEWC: Layout = {
  size: 110,
  align: 4,
  fields: {
    ino: hex(0),
    mode: hex(1),
    uid: hex(2),
    gid: hex(3),
    nlink: hex(4),
    mtime: hex(5),
    filesize: hex(6),
    // devmajor and devminor: the device the file lived on.
    dev: hex(7),
    devminor: hex(8),
    namesize: hex(11),
  },
}
const octal = (at: number, width: number): Field => ({ at, width, kind: 'octal' })
const ODC: Layout = {
  size: 76,
  align: 1,
  fields: {
    dev: octal(6, 6),
    ino: octal(12, 6),
    mode: octal(18, 6),
    uid: octal(24, 6),
    gid: octal(30, 6),
    nlink: octal(36, 6),
    mtime: octal(48, 11),
    namesize: octal(59, 6),
    filesize: octal(65, 11),
  },
}
const word = (at: number): Field => ({ at, width: 2, kind: 'u16' })
const binary = (littleEndian: boolean): Layout => ({
  size: 26,
  align: 2,
  littleEndian,
  fields: {
    dev: word(2),
    ino: word(4),
    mode: word(6),
    uid: word(8),
    gid: word(10),
    nlink: word(12),
    mtime: { at: 16, width: 4, kind: 'u32' },
    namesize: word(20),
    filesize: { at: 22, width: 4, kind: 'u32' },
  },
})

const BINARY_LE = binary(true)
const BINARY_BE = binary(false)

/** The layout of a header from its magic, or undefined. */
export function cpioLayout(head: Buffer): Layout | undefined {
  const magic = head.toString('latin1', 0, 6)
  if (magic === '070701' || magic === '070702') return NEWC
  if (magic === '070707') return ODC
  if (head[0] === 0xc7 && head[1] === 0x71) return BINARY_LE
  if (head[0] === 0x71 && head[1] === 0xc7) return BINARY_BE
  return undefined
}

/**
 * Rewrites cpio headers (initramfs, RPM payloads, old archives): mtime set or clamped,
 * uid/gid 0, modes reduced to the exec bit (file type kept), inode numbers replaced by
 * the entry's position (they are the building filesystem's), device numbers 0. Order,
 * names and data are kept: consumers rely on directories coming first. The "crc"
 * variant's checksum covers data only and stays valid.
 */
export async function normalizeCpio(
  input: Readable,
  output: Writable,
  rules: NormalizeRules,
  budget: Budget,
  where: string,
): Promise<CpioChanges> {
  const reader = new ByteReader(input, where)
  const bad = unreadableAs('cpio archive', where)
  const write = async (bytes: Buffer): Promise<void> => {
    if (!output.write(Buffer.from(bytes))) await once(output, 'drain')
  }
  const changes: CpioChanges = { entries: 0, headers: 0, specialBits: [], lateTimes: 0 }
  // Hard links share an inode number; the first position of each keeps them together.
  const inodes = new Map<string, number>()
  // Entries of the archive at hand (a concatenation's each numbers its own).
  let numbered = 0
  let layout: Layout | undefined
  for (;;) {
    const at = reader.offset
    const first = await reader.read(6)
    // An archive ends with its TRAILER!!! entry (below): one that stops before it may be
    // cut short at an entry's edge, and a rewrite would make it look whole.
    if (first === undefined) throw bad(`no TRAILER!!! entry: it ends at byte ${at}`)
    layout ??= cpioLayout(first)
    if (layout === undefined || cpioLayout(first) !== layout) throw bad(`bad magic at byte ${at}`)
    const rest = await reader.read(layout.size - 6)
    if (first.length < 6 || rest === undefined || rest.length < layout.size - 6)
      throw bad(`truncated header at byte ${at}`)
    const header = Buffer.concat([first, rest])
    const get = (name: FieldName): number => {
      const field = layout?.fields[name]
      if (field === undefined || layout === undefined) return 0
      const value = readField(header, field, layout)
      if (value === undefined) throw bad(`bad header field at byte ${at + field.at}`)
      return value
    }
    const namesize = get('namesize')
    // A name is a path and its NUL: bounded before it is read, as the kernel bounds it.
    if (namesize < 1 || namesize > MAX_NAME)
      throw bad(`the name size ${namesize} at byte ${at} is not 1 to ${MAX_NAME} bytes`)
    const filesize = get('filesize')
    const namePadded = roundUp(layout.size + namesize, layout.align) - layout.size
    const nameBytes = (await reader.read(namePadded)) ?? Buffer.alloc(0)
    if (nameBytes.length < namePadded) throw bad(`truncated name at byte ${at + layout.size}`)
    // The trailer is the name `TRAILER!!!` and its NUL, 11 bytes, as libarchive reads
    // it; GNU cpio compares up to the first NUL. A name one of them reads as the
    // trailer and the other as a file (`TRAILER!!!\0x`) is refused; `TRAILER!!!X` is a
    // file to both.
    const name = nameBytes.subarray(0, namesize)
    const trailer = name.equals(TRAILER)
    if (!trailer && untilNul(name).equals(TRAILER.subarray(0, 10)))
      throw bad(
        `the entry at byte ${at} is named TRAILER!!! up to a NUL, with ${namesize - 11} bytes after it: GNU cpio reads it as the end of the archive, libarchive as a file`,
      )
    budget.spendEntry(where)
    // A file is its inode on its device: the same inode number on two devices is two
    // files, which must not become links of one another once the devices are set to 0.
    const file = `${get('dev')}:${layout.fields.devminor === undefined ? 0 : get('devminor')}:${get('ino')}`
    const position = inodes.get(file) ?? numbered + 1
    if (get('nlink') > 1) inodes.set(file, position)
    // Numbered past what the field holds, an inode would wrap onto another file's and
    // make the two hard links of one another.
    const inoField = layout.fields.ino
    if (!trailer && inoField !== undefined && position > fieldMax(inoField))
      throw bad(
        `more entries than its inode field can number (${fieldMax(inoField)}), at byte ${at}`,
      )
    const mtimeField = layout.fields.mtime
    if (
      !trailer &&
      mtimeField !== undefined &&
      stableMtime(get('mtime'), rules) > fieldMax(mtimeField)
    ) {
      changes.lateTimes++
      changes.latest = fieldMax(mtimeField)
    }
    const newHeader = stableHeader(header, layout, get, { trailer, position }, rules)
    if (!newHeader.equals(header)) changes.headers++
    // A file or directory's setuid, setgid or sticky bit: not in a stable mode, said so.
    if (
      !trailer &&
      (TYPES[get('mode') & S_IFMT] ?? 'other') !== 'other' &&
      (get('mode') & 0o7000) !== 0
    )
      changes.specialBits.push({ name: Buffer.from(name), mode: get('mode') })
    if (!trailer) {
      changes.entries++
      numbered++
    }
    await write(newHeader)
    await write(nameBytes)
    const dataPadded = roundUp(filesize, layout.align)
    // A "crc" entry's check field is the sum of its data's bytes: one that disagrees is a
    // corrupt body (GNU cpio refuses it), not copied on as if it were whole.
    // Of a regular file only: GNU cpio writes 0 for a link's target, which is data too.
    const summed =
      first.toString('latin1') === '070702' && (get('mode') & S_IFMT) === 0o100000
        ? { bytes: 0, sum: 0 }
        : undefined
    const passed = await reader.forward(dataPadded, async (chunk) => {
      budget.spendBytes(chunk.length, where)
      if (summed !== undefined) {
        const data = chunk.subarray(0, Math.max(0, filesize - summed.bytes))
        summed.sum = byteSum(data, summed.sum)
        summed.bytes += data.length
      }
      await write(chunk)
    })
    if (passed < dataPadded) throw bad(`truncated data of the entry at byte ${at}`)
    const check = readField(header, hex(12), layout)
    if (summed !== undefined && check !== summed.sum)
      throw bad(
        `the checksum of the entry at byte ${at} is ${checkText(check)}, but its data sums to ${hex8(summed.sum)}`,
      )
    if (trailer) {
      // Zeros after the trailer (padding to a block size) are copied as they are. What
      // else follows must be another archive, normalized as one of its own (an initramfs
      // is early archives, then the main one, and the kernel reads each by itself);
      // anything else is refused, not copied on unread.
      if (!(await copyZeros(reader, write))) break
      const next = reader.offset
      if (cpioLayout(await reader.peek(6)) === undefined)
        throw bad(
          `bytes after its TRAILER!!! entry, at byte ${next}, are neither zeros nor another cpio archive`,
        )
      layout = undefined
      inodes.clear()
      numbered = 0
    }
  }
  output.end()
  await once(output, 'finish')
  return changes
}

/** Copies the zeros that come next; whether anything else follows them. */
async function copyZeros(
  reader: ByteReader,
  write: (bytes: Buffer) => Promise<void>,
): Promise<boolean> {
  for (;;) {
    const ahead = await reader.peek(64 * 1024)
    if (ahead.length === 0) return false
    let zeros = 0
    while (zeros < ahead.length && ahead[zeros] === 0) zeros++
    if (zeros > 0) await write((await reader.read(zeros)) ?? Buffer.alloc(0))
    if (zeros < ahead.length) return true
  }
}

function readField(header: Buffer, field: Field, layout: Layout): number | undefined {
  const u16 = (at: number): number =>
    layout.littleEndian === true ? header.readUInt16LE(at) : header.readUInt16BE(at)
  if (field.kind === 'u16') return u16(field.at)
  // 32-bit values are two 16-bit words, the most significant first, in either order.
  if (field.kind === 'u32') return u16(field.at) * 0x10000 + u16(field.at + 2)
  const text = header.toString('latin1', field.at, field.at + field.width)
  if (!(field.kind === 'hex' ? /^[0-9a-fA-F]+$/ : /^[0-7]+$/).test(text)) return undefined
  return Number.parseInt(text, field.kind === 'hex' ? 16 : 8)
}

function writeField(
  header: Buffer,
  field: Field,
  layout: Layout,
  value: number,
  lowerHex = false,
): void {
  const u16 = (v: number, at: number): void => {
    if (layout.littleEndian === true) header.writeUInt16LE(v, at)
    else header.writeUInt16BE(v, at)
  }
  if (field.kind === 'u16') u16(value & 0xffff, field.at)
  else if (field.kind === 'u32') {
    u16(Math.floor(value / 0x10000) & 0xffff, field.at)
    u16(value & 0xffff, field.at + 2)
  } else {
    const text = value.toString(field.kind === 'hex' ? 16 : 8).padStart(field.width, '0')
    header.write(
      field.kind === 'hex' && !lowerHex ? text.toUpperCase() : text,
      field.at,
      field.width,
      'latin1',
    )
  }
}

/**
 * The header as normalized (pure): inode by position, mode reduced to the type and exec
 * bit, owner and device 0, mtime by the rules; the trailer keeps its inode and time. A
 * field whose value stays keeps its bytes (hex digits may be in either case); one
 * rewritten is in the case of the header's other digits.
 */
function stableHeader(
  header: Buffer,
  layout: Layout,
  get: (name: FieldName) => number,
  entry: { trailer: boolean; position: number },
  rules: NormalizeRules,
): Buffer {
  const mode = get('mode')
  const type = TYPES[mode & S_IFMT] ?? 'other'
  const wanted: Partial<Record<FieldName, number>> = {
    mode: (mode & S_IFMT) | (type === 'other' ? mode & 0o7777 : stableMode(type, mode)),
    uid: 0,
    gid: 0,
    dev: 0,
    devminor: 0,
    ...(entry.trailer ? {} : { ino: entry.position, mtime: stableMtime(get('mtime'), rules) }),
  }
  const out = Buffer.from(header)
  // A field rewritten takes the case of the header's other hex digits (bsdtar writes
  // lower case, GNU cpio upper): in one case for all, a header that needed a change came
  // out apart from the same header that did not.
  const lowerHex = Object.values(layout.fields).some(
    (f) => f.kind === 'hex' && /[a-f]/.test(header.toString('latin1', f.at, f.at + f.width)),
  )
  for (const [name, value] of Object.entries(wanted) as [FieldName, number][]) {
    const field = layout.fields[name]
    if (field === undefined || get(name) === value) continue
    // A time the field cannot hold is written as the largest it can (counted by the caller).
    writeField(
      out,
      field,
      layout,
      name === 'mtime' ? Math.min(Math.max(0, value), fieldMax(field)) : value,
      lowerHex,
    )
  }
  return out
}

/** The largest value a field holds. */
function fieldMax(field: Field): number {
  if (field.kind === 'u16') return 0xffff
  if (field.kind === 'u32') return 0xffffffff
  return (field.kind === 'hex' ? 16 : 8) ** field.width - 1
}

const checkText = (n: number | undefined): string => (n === undefined ? 'not a number' : hex8(n))

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to
}

/** A cpio archive (newc, crc, odc or old binary): every entry header made stable, order and data kept. */
export function normalizeCpioFile(job: Job): Promise<NormalizeOutcome> {
  job.said.format = 'cpio'
  return job.write(async (out) => {
    const input = fs.createReadStream(job.input, { highWaterMark: MiB })
    const c = await normalizeCpio(input, out, job.rules, job.budget, job.input)
    job.said.changes =
      c.headers > 0
        ? [
            `${c.headers} of ${c.entries} entry headers set to stable times, owners, modes and inode numbers`,
            ...(c.specialBits.length > 0 ? [specialBitsChange(c.specialBits)] : []),
            ...(c.lateTimes > 0 && c.latest !== undefined
              ? [lateTimesChange(c.lateTimes, c.latest, 'cpio header')]
              : []),
          ]
        : []
  })
}
