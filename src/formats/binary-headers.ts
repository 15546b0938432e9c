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
  /** `pyc`, `PE` or `PNG`. */
  format: string
  /** Field name to its value as shown: times as ISO 8601 with the raw number. */
  fields: Record<string, string>
}

export function knownHeaderFields(bytes: Buffer): HeaderFields | undefined {
  return pycHeader(bytes) ?? peHeader(bytes) ?? pngTime(bytes) ?? classVersion(bytes)
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
    }
  return {
    format: 'pyc',
    fields: {
      magic: String(magic),
      flags: String(flags),
      'source mtime': showTime(bytes.readUInt32LE(8)),
      'source size': String(bytes.readUInt32LE(12)),
    },
  }
}

/** A PE file (.exe, .dll): "MZ", the offset of "PE\0\0" at 0x3c, the COFF time 8 bytes on. */
function peHeader(bytes: Buffer): HeaderFields | undefined {
  if (bytes.length < 0x40 || bytes[0] !== 0x4d || bytes[1] !== 0x5a) return undefined
  const pe = bytes.readUInt32LE(0x3c)
  if (pe > bytes.length - 12 || bytes.readUInt32BE(pe) !== 0x50450000) return undefined
  return { format: 'PE', fields: { 'COFF time': showTime(bytes.readUInt32LE(pe + 8)) } }
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
      return { format: 'PNG', fields: { tIME: time } }
    }
    if (type === 'IEND' || length > bytes.length) break
    at += 12 + length
  }
  return { format: 'PNG', fields: {} }
}
