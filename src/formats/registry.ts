import type { Readable } from 'node:stream'
import { CPIO_MAX_NAME } from './cpio-bounds.js'
import { isMozillaZip, zipPrefixLength } from './zip-prefix.js'
import { COMPRESSIONS, magic, type Compression, type Recognised } from './compressions.js'
import type { Budget } from './limits.js'
import type { ScanResult, WantMember } from './member.js'
import { openFlags, type ByteSource } from './source.js'

/**
 * The formats reproof knows, one row each: how it is recognised (by content, never by
 * name) and, for an archive, its reader, loaded the first time the format is met.
 * Adding a format is a row here, its reader in `formats/<format>.ts`, and its row in
 * `normalize/formats.ts`, which is keyed by every format named here, so the compiler
 * asks for a normalizer (or a reason there is none) as soon as the format exists (see
 * ARCHITECTURE.md).
 */

export type ArchiveFormat = 'tar' | 'zip' | 'ar' | 'cpio' | 'rpm'
/** Formats that only normalization looks inside (the diff compares them as bytes). */
export type OtherFormat = 'mo' | 'png'
export type FormatName = Compression | ArchiveFormat | OtherFormat

export interface ArchiveReader extends Recognised {
  /** Reads every member once: each is hashed, and kept whole when `want` says so. */
  scan(source: ByteSource, where: string, budget: Budget, want: WantMember): Promise<ScanResult>
  /**
   * A file on disk is read through in reused buffers (see FileChunks), at a tenth of the
   * cost of fresh memory: a first pass keeps none of its members, a second one reads
   * those that differ.
   */
  readsFilesAgainCheaply?: boolean
}

/**
 * A scan of a stream opened for it, the stream destroyed once the scan is over, however
 * it ended: a scan that stopped at a corrupt header or a work limit left its stream, and
 * the decoder behind it, open (an xz program blocked writing into a pipe nobody read,
 * and the process never ended after its report; the embedded xz decoder kept the lock
 * the other side waited on, exit 13).
 */
async function opened<T>(source: ByteSource, scan: (stream: Readable) => Promise<T>): Promise<T> {
  const stream = source.open()
  try {
    return await scan(stream)
  } finally {
    stream.destroy()
  }
}

export const ARCHIVES: Readonly<Record<ArchiveFormat, ArchiveReader>> = {
  // A local file header, or the end record of an empty zip; or a local file header after
  // a `#!` line (a Python zipapp) or a jmod's magic; or a Mozilla-optimized zip's
  // central directory after its read-ahead length (see zip-prefix.ts).
  zip: {
    detect: (head) =>
      magic([0x50, 0x4b, 3, 4])(head) ||
      magic([0x50, 0x4b, 5, 6])(head) ||
      zipPrefixLength(head) !== undefined ||
      isMozillaZip(head),
    scan: async (source, where, budget, want) =>
      (await import('./zip.js')).scanZipSource(source, where, budget, want),
  },
  // The magic, and the first member header's end (a text file may start with the magic).
  ar: {
    detect: (head) =>
      magic([...Buffer.from('!<arch>\n', 'latin1')])(head) &&
      (head.length < 68 || head.toString('latin1', 66, 68) === '`\n'),
    scan: async (source, where, budget, want) =>
      opened(source, async (stream) =>
        (await import('./ar.js')).scanAr(stream, where, budget, want),
      ),
  },
  // An RPM package's lead; its payload (a compressed cpio) gives its members.
  rpm: {
    detect: magic([0xed, 0xab, 0xee, 0xdb]),
    scan: async (source, where, budget, want) =>
      opened(source, async (stream) =>
        (await import('./rpm.js')).scanRpm(stream, where, budget, want),
      ),
  },
  // "newc" (with or without its checksum), POSIX "odc", and old binary in either byte
  // order: 070707 octal as a 16-bit word.
  // The magic, and the first header's fields as far as the head holds them: digits for
  // the text forms, a name size a path can have for the binary one. A text file that
  // starts with the magic is not a cpio archive refused as corrupt.
  cpio: {
    detect: (head) => {
      const text = head.subarray(0, 6).toString('latin1')
      if (text === '070701' || text === '070702') return digitsUpTo(head, 110, /^[0-9a-fA-F]*$/)
      if (text === '070707') return digitsUpTo(head, 76, /^[0-7]*$/)
      if (magic([0xc7, 0x71])(head)) return plausibleBinaryCpio(head, true)
      if (magic([0x71, 0xc7])(head)) return plausibleBinaryCpio(head, false)
      return false
    },
    scan: async (source, where, budget, want) =>
      opened(source, async (stream) =>
        (await import('./cpio.js')).scanCpio(stream, where, budget, want),
      ),
  },
  // "ustar" at offset 257, POSIX and GNU alike; an old (v7) tar has no magic, and is
  // known by a first header whose checksum holds.
  tar: {
    detect: (head) => magic([...Buffer.from('ustar', 'latin1')], 257)(head) || isV7TarHeader(head),
    scan: async (source, where, budget, want) => {
      const [{ scanTar }, { FileChunks }] = await Promise.all([
        import('./tar.js'),
        import('./file-chunks.js'),
      ])
      if (source.file === undefined)
        return opened(source, (stream) => scanTar(stream, where, budget, want))
      const chunks = new FileChunks(source.file, { flags: openFlags(source) })
      try {
        return await scanTar(chunks, where, budget, want)
      } finally {
        chunks.close()
      }
    },
    readsFilesAgainCheaply: true,
  },
}

export const OTHER_FORMATS: Readonly<Record<OtherFormat, Recognised>> = {
  // A gettext catalog, written in either byte order.
  mo: {
    detect: (head) =>
      magic([0xde, 0x12, 0x04, 0x95])(head) || magic([0x95, 0x04, 0x12, 0xde])(head),
  },
  png: { detect: magic([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
}

export { COMPRESSIONS, type Compression }

/**
 * Whether `head` starts with a v7 tar header: a name, a type that v7 knows, no magic
 * where ustar has one, and the checksum of its 512 bytes (the checksum field counted as
 * spaces) in its field, as an unsigned or, as some old tars wrote it, a signed sum.
 */
export function isV7TarHeader(head: Buffer): boolean {
  if (head.length < 512 || head[0] === 0) return false
  if (head.subarray(257, 265).some((byte) => byte !== 0)) return false
  const type = head[156] ?? 0
  if (type !== 0 && (type < 0x30 || type > 0x37)) return false
  const field = /^ *([0-7]{1,7})[ \0]/.exec(head.toString('latin1', 148, 156))
  if (field === null) return false
  let unsigned = 0
  let signed = 0
  for (let i = 0; i < 512; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (head[i] ?? 0)
    unsigned += byte
    signed += byte > 127 ? byte - 256 : byte
  }
  const stored = Number.parseInt(field[1] ?? '', 8)
  return stored === unsigned || stored === signed
}

/** Whether a text header's fields, up to its end or the head's, are all digits. */
function digitsUpTo(head: Buffer, headerSize: number, digits: RegExp): boolean {
  return digits.test(head.toString('latin1', 6, Math.min(head.length, headerSize)))
}

/** An old binary cpio header whose name size a path can have (its NUL included). */
function plausibleBinaryCpio(head: Buffer, littleEndian: boolean): boolean {
  if (head.length < 22) return true
  const nameSize = littleEndian ? head.readUInt16LE(20) : head.readUInt16BE(20)
  if (nameSize < 1 || nameSize > CPIO_MAX_NAME) return false
  return head.length < 26 + nameSize || head[26 + nameSize - 1] === 0
}
