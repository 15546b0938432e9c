import { fromNameBytes, untilNul } from '../file-names.js'
import { sha256Hex } from '../sha256.js'
import { ByteReader } from './byte-reader.js'
import { decompressedSource } from './compressed.js'
import type { Budget } from './limits.js'
import { scanCpio } from './cpio.js'
import { isoTime, listField, unreadableAs, type StreamScan } from './member.js'
import { detectCompression } from './compressions.js'

/**
 * An RPM package: a 96-byte lead, the signature header, the main header (name,
 * version, build time and host, the file list...), then the payload, a compressed cpio
 * archive. Streamed once: the headers' tags become the package's own fields, and the
 * payload's members its members, so an rpm compares like any archive. Every count and
 * offset is checked before it is read; a header is held whole, so its size is charged
 * against the member limit first.
 */

const LEAD = 96
const LEAD_MAGIC = 0xedabeedb
const HEADER_MAGIC = 0x8eade801
// rpm itself refuses more index entries than this (HEADER_MAX_INDEX in rpm's header.c).
const MAX_ENTRIES = 0xffff
// A value longer than this is shown by its length and digest: exact, and not a screenful.
const MAX_SHOWN = 400

// The main header's tags, by the names `rpm --querytags` gives them, in words. The
// package's name is `package name`: a bare `name` is a gzip header's stored file name.
const TAGS: Readonly<Record<number, string>> = {
  1000: 'package name',
  1001: 'version',
  1002: 'release',
  1003: 'epoch',
  1004: 'summary',
  1005: 'description',
  1006: 'build time',
  1007: 'build host',
  1009: 'size',
  1010: 'distribution',
  1011: 'vendor',
  1014: 'license',
  1015: 'packager',
  1016: 'group',
  1020: 'url',
  1021: 'os',
  1022: 'arch',
  1028: 'file sizes',
  1030: 'file modes',
  1033: 'file rdevs',
  1034: 'file mtimes',
  1035: 'file digests',
  1036: 'file link targets',
  1037: 'file flags',
  1039: 'file users',
  1040: 'file groups',
  1044: 'source rpm',
  1047: 'provides',
  1048: 'require flags',
  1049: 'requires',
  1050: 'require versions',
  1064: 'rpm version',
  1094: 'cookie',
  1116: 'dir indexes',
  1117: 'base names',
  1118: 'dir names',
  1122: 'opt flags',
  1124: 'payload format',
  1125: 'payload compressor',
  1126: 'payload flags',
  1132: 'platform',
  5011: 'file digest algorithm',
  5092: 'payload digest',
  5093: 'payload digest algorithm',
  5097: 'payload digest alt',
}
const SIGNATURE_TAGS: Readonly<Record<number, string>> = {
  267: 'DSA',
  268: 'RSA',
  269: 'SHA1',
  270: 'long size',
  271: 'long archive size',
  273: 'SHA256',
  1000: 'size',
  1002: 'PGP',
  1004: 'MD5',
  1005: 'GPG',
  1007: 'payload size',
}
// The region tags (header signatures, immutable region) hold offsets into the header
// itself: they change whenever any other tag's size does, and say nothing of their own.
const REGION_TAGS = new Set([61, 62, 63])
/**
 * The lead's fields beside its magic and version: rpm itself reads none of them any
 * more (the headers say it all), but they are bytes of the package, and rpmbuild fills
 * the name from the package's, so two builds can differ there.
 */
function leadFields(lead: Buffer): Record<string, string> {
  const field = lead.subarray(10, 76)
  const name = untilNul(field)
  const afterName = field.subarray(name.length + 1)
  const reserved = lead.subarray(80, 96)
  return {
    'lead type': String(lead.readUInt16BE(6)),
    'lead arch': String(lead.readUInt16BE(8)),
    'lead name': fromNameBytes(name),
    ...(afterName.some((byte) => byte !== 0)
      ? { 'lead name field after its NUL': afterName.toString('hex') }
      : {}),
    'lead os': String(lead.readUInt16BE(76)),
    'lead signature type': String(lead.readUInt16BE(78)),
    ...(reserved.some((byte) => byte !== 0) ? { 'lead reserved': reserved.toString('hex') } : {}),
  }
}

export const scanRpm: StreamScan = async (input, where, budget, want) => {
  const reader = new ByteReader(input, where)
  const bad = unreadableAs('rpm package', where)
  const lead = await reader.read(LEAD)
  if (lead === undefined || lead.length < LEAD || lead.readUInt32BE(0) !== LEAD_MAGIC)
    throw bad('bad lead')
  const signature = await readHeader(reader, budget, where, bad)
  // The signature header is padded to a multiple of 8 bytes, with zeros by rpm.
  const padLength = (8 - (signature.length % 8)) % 8
  const padding = padLength === 0 ? Buffer.alloc(0) : await reader.read(padLength)
  if (padding === undefined || padding.length < padLength) throw bad('truncated signature padding')
  const main = await readHeader(reader, budget, where, bad)
  const meta: Record<string, string> = {
    format: `rpm ${lead[4] ?? 0}.${lead[5] ?? 0}`,
    ...leadFields(lead),
    ...(padding.some((byte) => byte !== 0) ? { 'signature padding': padding.toString('hex') } : {}),
    ...fieldsOf(signature.bytes, signature.entries, SIGNATURE_TAGS, 'signature ', bad),
    ...fieldsOf(main.bytes, main.entries, TAGS, '', bad),
  }
  const payloadFormat = meta['payload format'] ?? 'cpio'
  if (payloadFormat !== 'cpio') throw bad(`payload format ${payloadFormat} is not read`)
  // What the payload's bytes say wins over the tag (an old rpm names lzma, writes xz).
  const head = await reader.peek(16)
  const found = detectCompression(head)
  const named = meta['payload compressor']
  if (found === undefined && named !== undefined && named !== 'none')
    throw bad(`payload compressed with ${named}, which reproof does not read`)
  const rest = reader.rest()
  const payload =
    found === undefined
      ? rest
      : decompressedSource(
          { label: `${where} payload`, size: -1, open: () => rest },
          found,
          budget,
          head,
        ).open()
  let cpio
  try {
    cpio = await scanCpio(payload, `${where} payload`, budget, want)
  } finally {
    // Its decoder ends with it, however the scan ended (see registry.ts, opened).
    payload.destroy()
  }
  // The payload's own fields (its format, what follows its trailer) beside the
  // package's: each named as the payload's, so neither hides the other.
  const payloadMeta = Object.fromEntries(
    Object.entries(cpio.inventory.meta).map(([key, value]) => [`payload ${key}`, value]),
  )
  return {
    inventory: { ...cpio.inventory, meta: { ...payloadMeta, ...meta } },
    captured: cpio.captured,
  }
}

interface Entry {
  tag: number
  type: number
  offset: number
  count: number
}

/** One header structure: magic, entry count, store size, the entries, the store. */
async function readHeader(
  reader: ByteReader,
  budget: Budget,
  where: string,
  bad: (what: string) => Error,
): Promise<{ entries: Entry[]; bytes: Buffer; length: number }> {
  const intro = await reader.read(16)
  if (intro === undefined || intro.length < 16 || intro.readUInt32BE(0) !== HEADER_MAGIC)
    throw bad('bad header magic')
  const count = intro.readUInt32BE(8)
  const size = intro.readUInt32BE(12)
  if (count > MAX_ENTRIES) throw bad(`${count} header entries`)
  budget.checkMemberSize(16 * count + size, `${where} header`)
  const index = await reader.read(16 * count)
  const bytes = size === 0 ? Buffer.alloc(0) : await reader.read(size)
  if ((index?.length ?? 0) < 16 * count || bytes === undefined || bytes.length < size)
    throw bad('truncated header')
  budget.spendBytes(16 + 16 * count + size, where)
  const entries: Entry[] = []
  for (let i = 0; i < count && index !== undefined; i++) {
    const at = 16 * i
    entries.push({
      tag: index.readUInt32BE(at),
      type: index.readUInt32BE(at + 4),
      offset: index.readUInt32BE(at + 8),
      count: index.readUInt32BE(at + 12),
    })
  }
  return { entries, bytes, length: 16 + 16 * count + size }
}

/** The entries as display fields, by name (`tag N` for tags not named here). */
function fieldsOf(
  store: Buffer,
  entries: readonly Entry[],
  names: Readonly<Record<number, string>>,
  prefix: string,
  bad: (what: string) => Error,
): Record<string, string> {
  const fields: Record<string, string> = {}
  // The bytes all entries' values span: a written header's entries do not overlap, so
  // about the store's size; a hostile one points 65,535 entries at all of it.
  let spanned = 0
  const limit = 4 * store.length + 65_536
  const charge = (bytes: number): void => {
    spanned += bytes
    if (spanned > limit)
      throw bad(`its header's entries span ${spanned} bytes of a store of ${store.length}`)
  }
  for (const e of entries) {
    if (REGION_TAGS.has(e.tag)) continue
    const name = `${prefix}${names[e.tag] ?? `tag ${e.tag}`}`
    const value = valueOf(store, e, charge)
    fields[name] = e.tag === 1006 && /^\d+$/.test(value) ? isoTime(Number(value)) : value
  }
  return fields
}

/** One entry's value as text; one that does not fit in the store says so. */
function valueOf(store: Buffer, e: Entry, charge: (bytes: number) => void): string {
  const widths: Readonly<Record<number, number>> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8 }
  const width = widths[e.type]
  let values: string[]
  if (width !== undefined) {
    if (e.count > store.length || e.offset + width * e.count > store.length)
      return '(out of bounds)'
    charge(width * e.count)
    values = Array.from({ length: e.count }, (_, i) => {
      const at = e.offset + width * i
      if (width === 1) return String(store[at] ?? 0)
      if (width === 2) return String(store.readUInt16BE(at))
      if (width === 4) return String(store.readUInt32BE(at))
      return String(store.readBigUInt64BE(at))
    })
  } else if (e.type === 7) {
    if (e.offset + e.count > store.length) return '(out of bounds)'
    charge(e.count)
    values = [store.subarray(e.offset, e.offset + e.count).toString('hex')]
  } else if (e.type === 6 || e.type === 8 || e.type === 9) {
    // Strings, NUL-terminated, one after another.
    values = []
    let at = e.offset
    for (let i = 0; i < (e.type === 6 ? 1 : e.count); i++) {
      const end = store.indexOf(0, at)
      charge((end === -1 ? store.length : end) - at + 1)
      if (at > store.length || end === -1) return '(out of bounds)'
      values.push(fromNameBytes(store.subarray(at, end)))
      at = end + 1
    }
  } else {
    return `(type ${e.type})`
  }
  // A list joined for reading, never read alike with another; a single string as it is.
  const text = e.type === 6 ? values.join('') : listField(values, ', ')
  if (text.length <= MAX_SHOWN) return text
  return `${values.length} values, ${text.length} characters, sha256 ${sha256Hex(text)}`
}
