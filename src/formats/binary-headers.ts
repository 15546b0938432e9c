import { imageHeaderFields } from './image-headers.js'
import { isJavaClass } from './java-class.js'
import { OTHER_FORMATS } from './registry.js'

/**
 * Time fields that binary formats keep at known places: a compiled Python module's
 * source mtime, a PE file's COFF time stamp, a PNG's tIME chunk. Read from the bytes
 * alone, every offset checked; a file that is none of these gives undefined. A field
 * found here is evidence a second reader can check, unlike a word that merely looks
 * like a time.
 */

export interface HeaderFields {
  /** `pyc`, `PE`, `PNG`, `Java class`, `ISO 9660`, `ext4`, `ICC` or `font`. */
  format: string
  /** Field name to its value as shown: times as ISO 8601 with the raw number. */
  fields: Record<string, string>
  /**
   * Where the fields' bytes are, with the checksums that follow from them, as [start,
   * end) ranges: bytes that differ elsewhere are not explained by the fields. Undefined
   * where the format's fields are not all located (their differences then stand alone).
   */
  spans?: [number, number][]
}

export function knownHeaderFields(bytes: Buffer): HeaderFields | undefined {
  return (
    pycHeader(bytes) ??
    peHeader(bytes) ??
    pngTime(bytes) ??
    classVersion(bytes) ??
    imageHeaderFields(bytes)
  )
}

/** A Java class file's version, major.minor (52.0 is Java 8): which compiler target made it. */
function classVersion(bytes: Buffer): HeaderFields | undefined {
  if (!isJavaClass(bytes)) return undefined
  return {
    format: 'Java class',
    fields: { version: `${bytes.readUInt16BE(6)}.${bytes.readUInt16BE(4)}` },
  }
}

function showTime(seconds: number): string {
  return `${new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')} (${seconds})`
}

/**
 * A .pyc: magic (two bytes of version, then \r\n), and from Python 3.7 on (magic 3390
 * and later, PEP 552) a flags word: 0 means the source's mtime and size follow, bit 0
 * a hash of the source instead. Python 3.3 to 3.6 have no flags word.
 */
function pycHeader(bytes: Buffer): HeaderFields | undefined {
  if (bytes.length < 16 || bytes[2] !== 0x0d || bytes[3] !== 0x0a) return undefined
  const magic = bytes.readUInt16LE(0)
  if (magic < 3230 || magic > 20_000) return undefined
  if (magic < 3390) {
    return {
      format: 'pyc',
      fields: {
        magic: String(magic),
        'source mtime': showTime(bytes.readUInt32LE(4)),
        'source size': String(bytes.readUInt32LE(8)),
      },
      // Only the time is located: it explains its own bytes, and a source of another
      // size, or another version, is not explained by it.
      spans: [[4, 8]],
    }
  }
  const flags = bytes.readUInt32LE(4)
  if ((flags & 1) !== 0)
    return {
      format: 'pyc',
      fields: {
        magic: String(magic),
        flags: String(flags),
        'source hash': bytes.subarray(8, 16).toString('hex'),
      },
      spans: [],
    }
  return {
    format: 'pyc',
    fields: {
      magic: String(magic),
      flags: String(flags),
      'source mtime': showTime(bytes.readUInt32LE(8)),
      'source size': String(bytes.readUInt32LE(12)),
    },
    spans: [[8, 12]],
  }
}

/**
 * A PE file (.exe, .dll): "MZ", the offset of "PE\0\0" at 0x3c, the COFF time 8 bytes
 * on; then, through the optional header's data directory, the debug directory: each
 * entry's own time stamp, and the CodeView record (GUID, age and the PDB path) that
 * MSVC and MinGW write and that differs with every link unless it is made from the
 * content (/Brepro).
 */
function peHeader(bytes: Buffer): HeaderFields | undefined {
  if (bytes.length < 0x40 || bytes[0] !== 0x4d || bytes[1] !== 0x5a) return undefined
  const pe = bytes.readUInt32LE(0x3c)
  if (pe > bytes.length - 24 || bytes.readUInt32BE(pe) !== 0x50450000) return undefined
  const debug = peDebug(bytes, pe)
  // The optional header's CheckSum (at 64 in PE32 and PE32+) follows from every other byte.
  const checksum = pe + 24 + 64
  return {
    format: 'PE',
    fields: { 'COFF time': showTime(bytes.readUInt32LE(pe + 8)), ...debug.fields },
    ...(debug.spans === undefined
      ? {}
      : {
          spans: [[pe + 8, pe + 12], [checksum, checksum + 4], ...debug.spans] satisfies [
            number,
            number,
          ][],
        }),
  }
}

const IMAGE_DEBUG_TYPE_CODEVIEW = 2
const IMAGE_DEBUG_TYPE_REPRO = 16
// Debug directory entries read at most: linkers write one to four.
const MAX_DEBUG_ENTRIES = 16

/**
 * The debug directory's fields, and where they are; no fields when the file has none, and
 * no spans when it does not hold together (its fields are then not all located).
 */
// Section flags: it holds code (IMAGE_SCN_CNT_CODE), it may run (IMAGE_SCN_MEM_EXECUTE).
const SCN_CODE = 0x20
const SCN_EXECUTE = 0x20000000

function peDebug(
  bytes: Buffer,
  pe: number,
): { fields: Record<string, string>; spans?: [number, number][] } {
  const u16 = (at: number): number | undefined =>
    at >= 0 && at + 2 <= bytes.length ? bytes.readUInt16LE(at) : undefined
  const u32 = (at: number): number | undefined =>
    at >= 0 && at + 4 <= bytes.length ? bytes.readUInt32LE(at) : undefined
  const sections = u16(pe + 6) ?? 0
  const optionalSize = u16(pe + 20) ?? 0
  const optional = pe + 24
  // PE32 (0x10b) has its data directories at 96, PE32+ (0x20b) at 112; the debug one is the 7th.
  const magic = u16(optional)
  const directories = magic === 0x10b ? optional + 96 : magic === 0x20b ? optional + 112 : -1
  const count = u32(magic === 0x10b ? optional + 92 : optional + 108) ?? 0
  if (magic === undefined || optionalSize < 68 || optional + 68 > bytes.length)
    return { fields: {} }
  // No debug directory: the COFF time and the checksum are all there is.
  if (directories < 0 || count < 7 || directories + 7 * 8 > optional + optionalSize)
    return { fields: {}, spans: [] }
  const rva = u32(directories + 6 * 8) ?? 0
  const size = u32(directories + 6 * 8 + 4) ?? 0
  // An address in the loaded image, to a place in the file, through the section table.
  const table = optional + optionalSize
  const fileOffset = (address: number): number | undefined => {
    for (let i = 0; i < Math.min(sections, 96); i++) {
      const at = table + 40 * i
      const [virtual, length, raw] = [u32(at + 12), u32(at + 16), u32(at + 20)]
      if (virtual === undefined || length === undefined || raw === undefined) return undefined
      if (address >= virtual && address < virtual + length) return raw + (address - virtual)
    }
    return undefined
  }
  // Whether bytes of the file lie in a section of code: a debug record there (a crafted
  // entry pointing at instructions) is no header field, and explains none of them.
  const inCode = (from: number, to: number): boolean => {
    for (let i = 0; i < Math.min(sections, 96); i++) {
      const at = table + 40 * i
      const [length, raw, flags] = [u32(at + 16), u32(at + 20), u32(at + 36)]
      if (length === undefined || raw === undefined || flags === undefined) return true
      if ((flags & (SCN_CODE | SCN_EXECUTE)) !== 0 && from < raw + length && to > raw) return true
    }
    return false
  }
  if (rva === 0) return { fields: {}, spans: [] }
  const start = fileOffset(rva)
  if (start === undefined) return { fields: {} }
  const fields: Record<string, string> = {}
  const spans: [number, number][] = []
  const entries = Math.floor(size / 28)
  // More entries than are read: the rest are not located.
  let located = entries <= MAX_DEBUG_ENTRIES
  for (let i = 0; i < Math.min(entries, MAX_DEBUG_ENTRIES); i++) {
    const entry = start + 28 * i
    const [time, type, length, pointer] = [
      u32(entry + 4),
      u32(entry + 12),
      u32(entry + 16),
      u32(entry + 24),
    ]
    if (time === undefined || type === undefined || length === undefined || pointer === undefined) {
      located = false
      break
    }
    const n = i === 0 ? '' : ` ${i + 1}`
    if (time !== 0) fields[`debug time${n}`] = showTime(time)
    spans.push([entry + 4, entry + 8])
    const data =
      pointer + length <= bytes.length ? bytes.subarray(pointer, pointer + length) : undefined
    // The record the entry points to: the REPRO hash (a digest, 64 bytes at most) or the
    // CodeView record as far as it reaches (24 bytes, the path and its NUL), not as far as
    // the entry claims: a crafted length must not cover the code.
    if (type === IMAGE_DEBUG_TYPE_REPRO) {
      if (data === undefined || length > 64 || inCode(pointer, pointer + length)) located = false
      else spans.push([pointer, pointer + length])
    }
    if (type === IMAGE_DEBUG_TYPE_CODEVIEW) {
      const end = data === undefined || data.length < 24 ? -1 : data.indexOf(0, 24)
      if (end === -1 || data?.toString('latin1', 0, 4) !== 'RSDS') located = false
      else if (inCode(pointer, pointer + end + 1)) located = false
      else spans.push([pointer, pointer + end + 1])
    }
    if (type === IMAGE_DEBUG_TYPE_REPRO && data !== undefined)
      fields['repro hash'] = data.toString('hex')
    // "RSDS", a GUID, an age, then the PDB path, NUL-terminated.
    if (
      type === IMAGE_DEBUG_TYPE_CODEVIEW &&
      data !== undefined &&
      data.length >= 24 &&
      data.toString('latin1', 0, 4) === 'RSDS'
    ) {
      fields['CodeView GUID'] = data.subarray(4, 20).toString('hex')
      fields['CodeView age'] = String(data.readUInt32LE(20))
      const end = data.indexOf(0, 24)
      fields['PDB path'] = data.subarray(24, end === -1 ? data.length : end).toString('utf8')
    }
  }
  return located ? { fields, spans } : { fields }
}

/** A PNG's tIME chunk (when the image was last changed, UTC), if it has one. */
function pngTime(bytes: Buffer): HeaderFields | undefined {
  if (!OTHER_FORMATS.png.detect(bytes)) return undefined
  let at = 8
  while (at + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(at)
    const type = bytes.subarray(at + 4, at + 8).toString('latin1')
    if (type === 'tIME' && length === 7 && at + 15 <= bytes.length) {
      const d = at + 8
      const p = (n: number | undefined, w = 2): string => String(n ?? 0).padStart(w, '0')
      const time = `${p(bytes.readUInt16BE(d), 4)}-${p(bytes[d + 2])}-${p(bytes[d + 3])}T${p(bytes[d + 4])}:${p(bytes[d + 5])}:${p(bytes[d + 6])}Z`
      // The chunk's data and its CRC, which follows from it.
      return { format: 'PNG', fields: { tIME: time }, spans: [[d, d + 11]] }
    }
    if (type === 'IEND' || length > bytes.length) break
    at += 12 + length
  }
  return { format: 'PNG', fields: {} }
}
