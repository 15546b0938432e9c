import { detectCompression } from './compressions.js'
import {
  ARCHIVES,
  OTHER_FORMATS,
  type ArchiveFormat,
  type Compression,
  type FormatName,
  type OtherFormat,
} from './registry.js'

export type { ArchiveFormat, Compression, FormatName } from './registry.js'

/** What a byte stream is, judged by its content alone, never by its name. */
export type Detected =
  | { kind: 'compressed'; format: Compression }
  | { kind: 'archive'; format: ArchiveFormat }
  | { kind: 'text' }
  | { kind: 'binary' }

export function detectFormat(head: Buffer): Detected {
  const compression = detectCompression(head)
  if (compression !== undefined) return { kind: 'compressed', format: compression }
  for (const [format, row] of Object.entries(ARCHIVES) as [
    ArchiveFormat,
    (typeof ARCHIVES)[ArchiveFormat],
  ][])
    if (row.detect(head)) return { kind: 'archive', format }
  return looksLikeText(head) ? { kind: 'text' } : { kind: 'binary' }
}

/**
 * Which of the registry's formats a file is, from its first bytes (up to 512): a
 * compressed stream or an archive as `detectFormat` says, else one of the formats only
 * normalization reads. Undefined for any other file.
 */
export function detectFileFormat(head: Buffer): FormatName | undefined {
  const detected = detectFormat(head)
  if (detected.kind === 'compressed' || detected.kind === 'archive') return detected.format
  for (const [format, row] of Object.entries(OTHER_FORMATS) as [
    OtherFormat,
    (typeof OTHER_FORMATS)[OtherFormat],
  ][])
    if (row.detect(head)) return format
  return undefined
}

/** UTF-8 without NUL or other control bytes but tab, newline, carriage return, form feed and escape. */
export function looksLikeText(bytes: Buffer, whole = false): boolean {
  for (const byte of bytes) {
    if (byte === 0) return false
    if (
      byte < 0x20 &&
      byte !== 0x09 &&
      byte !== 0x0a &&
      byte !== 0x0d &&
      byte !== 0x0c &&
      byte !== 0x1b
    )
      return false
  }
  // A multi-byte sequence may be cut at the end of a sample: decoded as a stream, a
  // sequence that is only unfinished is held back, not refused. (Dropping the last 3
  // bytes cut a short text's own sequences: a BOM and one letter was "binary".)
  // The whole of a file is not cut: a sequence left unfinished at its end is not text
  // (shown as text, two such ends both became U+FFFD, and the diff was empty).
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: !whole })
    return true
  } catch {
    return false
  }
}
