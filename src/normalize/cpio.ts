import fs from 'node:fs'
import { unreadableAs } from '../formats/member.js'
import { once } from 'node:events'
import type { Readable, Writable } from 'node:stream'
import { ByteReader } from '../formats/byte-reader.js'
import type { Budget } from '../formats/limits.js'
import { stableMode, stableMtime, type EntryType, type NormalizeRules } from './rules.js'
import { MiB, type Job, type NormalizeOutcome } from './job.js'

export interface CpioChanges {
  entries: number
  headers: number
}

const HEADER = 110
const S_IFMT = 0o170000
const TYPES: Record<number, EntryType> = {
  0o100000: 'file',
  0o040000: 'directory',
  0o120000: 'symlink',
}

/**
 * Rewrites "newc" cpio headers (initramfs, RPM payloads): mtime clamped, uid/gid 0,
 * modes reduced to the exec bit (file type kept), inode numbers replaced by the entry's
 * position (they are the building filesystem's), device numbers 0. Order, names and
 * data are kept: consumers rely on directories coming first. The "crc" variant's
 * checksum covers data only and stays valid.
 */
export async function normalizeCpio(
  input: Readable,
  output: Writable,
  rules: NormalizeRules,
  budget: Budget,
  where: string,
): Promise<CpioChanges> {
  const reader = new ByteReader(input)
  const bad = unreadableAs('cpio archive', where)
  const write = async (bytes: Buffer): Promise<void> => {
    if (!output.write(Buffer.from(bytes))) await once(output, 'drain')
  }
  const changes: CpioChanges = { entries: 0, headers: 0 }
  let offset = 0
  // Hard links share an inode number; the first position of each keeps them together.
  const inodes = new Map<number, number>()
  for (;;) {
    const header = await reader.read(HEADER)
    if (header === undefined) break
    if (header.length < HEADER) throw bad('truncated header')
    // Anything after the trailer (padding to a block size) is copied as it is.
    const magic = header.subarray(0, 6).toString('latin1')
    if (magic !== '070701' && magic !== '070702') throw bad(`bad magic at offset ${offset}`)
    const fields = headerFields(header, () => bad(`bad header field at offset ${offset}`))
    const [ino, , , , nlink, , size, , , , , namesize] = fields
    const namePadded = pad4(HEADER + (namesize ?? 0)) - HEADER
    const nameBytes = await reader.read(namePadded)
    if (nameBytes === undefined || nameBytes.length < namePadded) throw bad('truncated name')
    const name = nameBytes.subarray(0, Math.max(0, (namesize ?? 1) - 1)).toString('utf8')
    const trailer = name === 'TRAILER!!!'
    budget.spendEntry(where)
    const position = inodes.get(ino ?? 0) ?? changes.entries + 1
    if ((nlink ?? 1) > 1) inodes.set(ino ?? 0, position)
    const newHeader = stableHeader(header, fields, { trailer, position }, rules)
    if (!newHeader.equals(header)) changes.headers++
    if (!trailer) changes.entries++
    await write(newHeader)
    await write(nameBytes)
    const dataPadded = pad4(size ?? 0)
    await reader.stream(dataPadded, async (chunk) => {
      budget.spendBytes(chunk.length, where)
      await write(chunk)
    })
    offset += HEADER + namePadded + dataPadded
    if (trailer) {
      for (;;) {
        const rest = await reader.read(64 * 1024)
        if (rest === undefined) break
        await write(rest)
      }
      break
    }
  }
  output.end()
  await once(output, 'finish')
  return changes
}

/** The 13 hex fields of a newc header, after its 6-byte magic; `bad` for one that is not hex. */
function headerFields(header: Buffer, bad: () => Error): number[] {
  return Array.from({ length: 13 }, (_, i) => {
    const text = header.subarray(6 + i * 8, 14 + i * 8).toString('latin1')
    if (!/^[0-9a-fA-F]{8}$/.test(text)) throw bad()
    return Number.parseInt(text, 16)
  })
}

/**
 * The header as normalized (pure): inode by position, mode reduced to the type and exec
 * bit, owner and devices 0, mtime by the rules; the trailer keeps its inode and time. A
 * field whose value stays keeps its text too (hex digits may be in either case).
 */
function stableHeader(
  header: Buffer,
  fields: readonly number[],
  entry: { trailer: boolean; position: number },
  rules: NormalizeRules,
): Buffer {
  const [, mode = 0, , , , mtime = 0] = fields
  const type = TYPES[mode & S_IFMT] ?? 'other'
  // New values by field; undefined keeps the field.
  const wanted: (number | undefined)[] = [
    entry.trailer ? undefined : entry.position,
    (mode & S_IFMT) | (type === 'other' ? mode & 0o7777 : stableMode(type, mode)),
    0,
    0,
    undefined,
    entry.trailer ? undefined : stableMtime(mtime, rules),
    undefined,
    0,
    0,
  ]
  const stable = fields
    .map((value, i) => {
      const want = wanted[i]
      return want === undefined || want === value
        ? header.toString('latin1', 6 + i * 8, 14 + i * 8)
        : hex8(want)
    })
    .join('')
  return Buffer.from(`${header.toString('latin1', 0, 6)}${stable}`, 'latin1')
}

function hex8(value: number): string {
  return value.toString(16).padStart(8, '0').toUpperCase()
}

function pad4(n: number): number {
  return (n + 3) & ~3
}

/** A newc cpio archive: every entry header made stable, order and data kept. */
export function normalizeCpioFile(job: Job): Promise<NormalizeOutcome> {
  // Only "newc" is rewritten; odc and old binary archives are read by diff, not
  // normalized, and are left as they are and said to be of no format normalized.
  if (!['070701', '070702'].includes(job.head.subarray(0, 6).toString('latin1'))) return job.keep()
  job.said.format = 'cpio'
  return job.write(async (out) => {
    const input = fs.createReadStream(job.input, { highWaterMark: MiB })
    const c = await normalizeCpio(input, out, job.rules, job.budget, job.input)
    job.said.changes =
      c.headers > 0
        ? [
            `${c.headers} of ${c.entries} entry headers set to stable times, owners, modes and inode numbers`,
          ]
        : []
  })
}
