import { createHash } from 'node:crypto'
/*
 * Time fields at known places in file-system images, colour profiles and fonts: an ISO
 * 9660 image's volume dates, an ext2/3/4 superblock's times, an ICC profile's creation
 * date, a TrueType or OpenType font's `head` times. Read from the bytes alone, every
 * offset checked against the length; anything else gives undefined.
 */

/** As binary-headers.ts's HeaderFields (which this module's caller is): a format and its fields. */
interface HeaderFields {
  format: string
  fields: Record<string, string>
  spans?: [number, number][]
}

export function imageHeaderFields(bytes: Buffer): HeaderFields | undefined {
  return iso9660(bytes) ?? ext4(bytes) ?? iccProfile(bytes) ?? sfntFont(bytes)
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0')

const SECTOR = 2048
const FIRST_DESCRIPTOR = 16 * SECTOR
// Images carry a primary descriptor, a Joliet one, a boot record, a terminator.
const MAX_DESCRIPTORS = 16
const VOLUME_DATES = [
  ['volume creation time', 813],
  ['volume modification time', 830],
  ['volume expiration time', 847],
  ['volume effective time', 864],
] as const

/**
 * An ISO 9660 image: the primary and supplementary volume descriptors from sector 16
 * on, each with four dates written as digits (`YYYYMMDDHHMMSScc`, then the zone in
 * quarter hours) and its root directory's recording time (seven bytes, years from 1900).
 * A second descriptor's fields are numbered (`volume creation time 2`).
 */
function iso9660(bytes: Buffer): HeaderFields | undefined {
  const fields: Record<string, string> = {}
  const spans: [number, number][] = []
  let found = 0
  for (let i = 0; i < MAX_DESCRIPTORS; i++) {
    const at = FIRST_DESCRIPTOR + i * SECTOR
    if (at + SECTOR > bytes.length || bytes.toString('latin1', at + 1, at + 6) !== 'CD001') break
    const type = bytes[at]
    if (type === 255) break
    if (type !== 1 && type !== 2) continue
    found++
    const suffix = found === 1 ? '' : ` ${found}`
    for (const [name, offset] of VOLUME_DATES)
      fields[`${name}${suffix}`] = digitDate(bytes, at + offset)
    fields[`root directory time${suffix}`] = recordingDate(bytes, at + 156 + 18)
    // The four dates (17 bytes each, one after another) and the root's recording time.
    spans.push([at + 813, at + 881], [at + 174, at + 181])
    // Every directory record's time below the root, and the Rock Ridge times (TF) in it.
    const times = recordTimes(bytes, at + 156)
    if (times === undefined) return { format: 'ISO 9660', fields }
    fields[`file times${suffix}`] = times.summary
    spans.push(...times.spans)
  }
  return found === 0 ? undefined : { format: 'ISO 9660', fields, spans }
}

// Directory records read at most over one tree: a disc holds a few hundred thousand.
const MAX_RECORDS = 1_000_000
const MAX_CONTINUATIONS = 8

/**
 * The times of every directory record of the tree under a root record: its recording
 * date (7 bytes at 18) and the timestamps of a Rock Ridge TF entry in its system use
 * area; summed up as their count, the latest recording date and a digest of them all,
 * so that any change shows. Undefined when the tree does not hold together (or a record
 * chains more continuation areas than are followed): its times are then not all located.
 */
function recordTimes(
  bytes: Buffer,
  root: number,
): { summary: string; spans: [number, number][] } | undefined {
  const spans: [number, number][] = []
  const hash = createHash('sha256')
  let count = 0
  let latest = ''
  const extentOf = (record: number): [number, number] => [
    bytes.readUInt32LE(record + 2) * SECTOR,
    bytes.readUInt32LE(record + 10),
  ]
  const seen = new Set<number>()
  const continued = new Set<number>()
  let scanned = 0
  const pending: [number, number][] = [extentOf(root)]
  while (pending.length > 0) {
    const [start, length] = pending.pop() ?? [0, 0]
    if (seen.has(start)) continue
    seen.add(start)
    if (start + length > bytes.length || length > bytes.length) return undefined
    for (let at = start; at < start + length;) {
      const size = bytes[at] ?? 0
      // A record never crosses a sector: a zero length pads to the next.
      if (size === 0) {
        at = (Math.floor(at / SECTOR) + 1) * SECTOR
        continue
      }
      if (size < 34 || at + size > start + length || ++count > MAX_RECORDS) return undefined
      spans.push([at + 18, at + 25])
      hash.update(bytes.subarray(at + 18, at + 25))
      const date = recordingDate(bytes, at + 18)
      if (date > latest) latest = date
      const nameLength = bytes[at + 32] ?? 0
      const name = bytes[at + 33]
      // A directory other than `.` and `..` (names 0 and 1) is walked in turn.
      if (((bytes[at + 25] ?? 0) & 2) !== 0 && !(nameLength === 1 && (name === 0 || name === 1)))
        pending.push(extentOf(at))
      // The system use area after the name (and a pad byte after a name of even length),
      // and the continuation areas (CE) it points to, a few at most.
      const areas: [number, number][] = [
        [at + 33 + nameLength + (nameLength % 2 === 0 ? 1 : 0), at + size],
      ]
      for (let k = 0; k < areas.length && k <= MAX_CONTINUATIONS; k++) {
        const [from, to] = areas[k] ?? [0, 0]
        // A continuation area read once (another record pointing to it again is read
        // already), and no more system use bytes read in all than the image holds.
        if (k > 0 && continued.has(from)) continue
        continued.add(from)
        scanned += to - from
        if (scanned > bytes.length) return undefined
        for (let use = from; use + 4 <= to;) {
          const signature = bytes.toString('latin1', use, use + 2)
          const entryLength = bytes[use + 2] ?? 0
          if (entryLength < 4 || use + entryLength > to) break
          if (signature === 'TF') {
            spans.push([use + 4, use + entryLength])
            hash.update(bytes.subarray(use + 4, use + entryLength))
          }
          if (signature === 'CE' && entryLength >= 28) {
            const next = bytes.readUInt32LE(use + 4) * SECTOR + bytes.readUInt32LE(use + 12)
            const length = bytes.readUInt32LE(use + 20)
            if (next + length > bytes.length) return undefined
            areas.push([next, next + length])
          }
          use += entryLength
        }
      }
      if (areas.length > MAX_CONTINUATIONS + 1) return undefined
      at += size
    }
  }
  return {
    summary: `${count} records, the latest recorded ${latest || 'never'} (times sha256 ${hash.digest('hex').slice(0, 16)})`,
    spans,
  }
}

function zone(quarters: number): string {
  const minutes = Math.abs(quarters) * 15
  return `${quarters < 0 ? '-' : '+'}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`
}

/** `YYYYMMDDHHMMSScc` and a zone byte, as written; all zeros means no date. */
function digitDate(bytes: Buffer, at: number): string {
  const digits = bytes.toString('latin1', at, at + 16)
  if (!/^\d{16}$/.test(digits)) return `(not digits) ${bytes.toString('hex', at, at + 17)}`
  if (/^0+$/.test(digits)) return 'none'
  const d = (from: number, to: number): string => digits.slice(from, to)
  return `${d(0, 4)}-${d(4, 6)}-${d(6, 8)}T${d(8, 10)}:${d(10, 12)}:${d(12, 14)}.${d(14, 16)}${zone(bytes.readInt8(at + 16))}`
}

function recordingDate(bytes: Buffer, at: number): string {
  const [y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0] = bytes.subarray(at, at + 6)
  return `${1900 + y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${zone(bytes.readInt8(at + 6))}`
}

const SUPERBLOCK = 1024
const EXT_MAGIC = 0xef53
// Each time's offset in the superblock, and the offset of its high byte (ext4, 2038 on).
const EXT_TIMES = [
  ['superblock mount time', 0x2c, 0x275],
  ['superblock write time', 0x30, 0x274],
  ['superblock check time', 0x40, 0x277],
  ['file system creation time', 0x108, 0x276],
] as const

/**
 * An ext2, ext3 or ext4 image: the superblock at byte 1024, its magic 0xEF53, its times
 * (mkfs writes the clock's, as does every mount), its UUID and directory hash seed
 * (random unless given) and where it was last mounted.
 */
function ext4(bytes: Buffer): HeaderFields | undefined {
  if (bytes.length < SUPERBLOCK + 1024 || bytes.readUInt16LE(SUPERBLOCK + 0x38) !== EXT_MAGIC)
    return undefined
  const sb = bytes.subarray(SUPERBLOCK, SUPERBLOCK + 1024)
  // Two magic bytes alone are in one file of 65,536: the fields a superblock must hold
  // too (inodes and blocks, a block size of 1 to 64 KiB, the first data block, a revision).
  if (
    sb.readUInt32LE(0) === 0 ||
    sb.readUInt32LE(4) === 0 ||
    sb.readUInt32LE(0x18) > 6 ||
    sb.readUInt32LE(0x14) > 1 ||
    sb.readUInt32LE(0x4c) > 1
  )
    return undefined
  const fields: Record<string, string> = {}
  for (const [name, low, high] of EXT_TIMES) {
    const seconds = sb.readUInt32LE(low) + (sb[high] ?? 0) * 2 ** 32
    fields[name] =
      seconds === 0
        ? 'none'
        : `${new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')} (${seconds})`
  }
  fields['file system UUID'] = sb.toString('hex', 0x68, 0x78)
  fields['directory hash seed'] = sb.toString('hex', 0xec, 0xfc)
  const mounted = sb.subarray(0x88, 0xc8)
  const nul = mounted.indexOf(0)
  fields['last mounted on'] = mounted.toString('latin1', 0, nul === -1 ? mounted.length : nul)
  // The times (with their high bytes) and the superblock's checksum, which follows from
  // them; not the ids or the mount point, nor the inodes' times elsewhere.
  const spans: [number, number][] = [
    [0x2c, 0x34],
    [0x40, 0x44],
    [0x108, 0x10c],
    [0x274, 0x278],
    [0x3fc, 0x400],
  ].map(([from = 0, to = 0]) => [SUPERBLOCK + from, SUPERBLOCK + to])
  return { format: 'ext4', fields, spans }
}

/**
 * An ICC colour profile: `acsp` at byte 36, the creation date at byte 24 (six 16-bit
 * numbers, UTC) and the profile ID at 84 (an MD5 of the profile, so it changes with
 * anything else, the date included; zeros when not computed).
 */
function iccProfile(bytes: Buffer): HeaderFields | undefined {
  if (bytes.length < 128 || bytes.toString('latin1', 36, 40) !== 'acsp') return undefined
  const n = (i: number): number => bytes.readUInt16BE(24 + i * 2)
  return {
    format: 'ICC',
    fields: {
      'profile creation time': `${pad(n(0), 4)}-${pad(n(1))}-${pad(n(2))}T${pad(n(3))}:${pad(n(4))}:${pad(n(5))}Z`,
      'profile ID': bytes.toString('hex', 84, 100),
    },
    spans: [
      [24, 36],
      [84, 100],
    ],
  }
}

const SFNT_VERSIONS = new Set([0x00010000, 0x4f54544f /* OTTO */, 0x74727565 /* true */])
// Seconds from 1904-01-01, the fonts' epoch, to 1970-01-01.
const MAC_EPOCH = 2_082_844_800
const MAX_TABLES = 256

/**
 * A TrueType or OpenType font: the table directory, then the `head` table's created
 * and modified times (seconds from 1904) and its checksum adjustment, which changes
 * with any byte of the font.
 */
function sfntFont(bytes: Buffer): HeaderFields | undefined {
  if (bytes.length < 12 || !SFNT_VERSIONS.has(bytes.readUInt32BE(0))) return undefined
  const tables = bytes.readUInt16BE(4)
  if (tables === 0 || tables > MAX_TABLES || 12 + tables * 16 > bytes.length) return undefined
  for (let i = 0; i < tables; i++) {
    const record = 12 + i * 16
    if (bytes.toString('latin1', record, record + 4) !== 'head') continue
    const head = bytes.readUInt32BE(record + 8)
    if (head + 36 > bytes.length) return undefined
    const time = (at: number): string => {
      const seconds = Number(bytes.readBigInt64BE(head + at)) - MAC_EPOCH
      const date = new Date(seconds * 1000)
      return Number.isNaN(date.getTime())
        ? `(out of range) ${seconds}`
        : `${date.toISOString().replace('.000Z', 'Z')} (${seconds})`
    }
    const unique = uniqueId(bytes, tables)
    return {
      format: 'font',
      fields: {
        'head created': time(20),
        'head modified': time(28),
        'head checksum adjustment': bytes.toString('hex', head + 8, head + 12),
        ...(unique === undefined ? {} : { 'unique font identifier': unique.text }),
      },
      // The times, the checksum adjustment and the head table's checksum; the unique
      // identifier's text and the name table's checksum.
      spans: [
        [head + 8, head + 12],
        [head + 20, head + 36],
        [record + 4, record + 8],
        ...(unique === undefined ? [] : unique.spans),
      ],
    }
  }
  return undefined
}

/**
 * The `name` table's unique font identifier (name ID 3), where FontForge writes the
 * date it made the font: the first record of it in UTF-16 (Windows, Unicode) or Mac Roman
 * (taken as Latin-1).
 */
function uniqueId(
  bytes: Buffer,
  tables: number,
): { text: string; spans: [number, number][] } | undefined {
  for (let i = 0; i < tables; i++) {
    const record = 12 + i * 16
    if (bytes.toString('latin1', record, record + 4) !== 'name') continue
    const table = bytes.readUInt32BE(record + 8)
    if (table + 6 > bytes.length) return undefined
    const count = bytes.readUInt16BE(table + 2)
    const strings = table + bytes.readUInt16BE(table + 4)
    // Every record of it (a font keeps one per platform), its text from the first.
    let text: string | undefined
    const spans: [number, number][] = [[record + 4, record + 8]]
    for (let r = 0; r < count; r++) {
      const at = table + 6 + r * 12
      if (at + 12 > bytes.length) return undefined
      if (bytes.readUInt16BE(at + 6) !== 3) continue
      const platform = bytes.readUInt16BE(at)
      const start = strings + bytes.readUInt16BE(at + 10)
      const end = start + bytes.readUInt16BE(at + 8)
      if (end > bytes.length) return undefined
      spans.push([start, end])
      if (text !== undefined) continue
      if (platform === 1) text = bytes.toString('latin1', start, end)
      else if (platform === 0 || platform === 3)
        text = Buffer.from(bytes.subarray(start, end - ((end - start) % 2)))
          .swap16()
          .toString('utf16le')
    }
    return text === undefined ? undefined : { text, spans }
  }
  return undefined
}
