/** What a byte stream is, judged by its content alone, never by its name. */
export type Compression = 'gzip' | 'bzip2' | 'xz'
export type ArchiveFormat = 'tar' | 'zip' | 'ar'
export type Detected =
  | { kind: 'compressed'; format: Compression }
  | { kind: 'archive'; format: ArchiveFormat }
  | { kind: 'text' }
  | { kind: 'binary' }

export function detectFormat(head: Buffer): Detected {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08)
    return { kind: 'compressed', format: 'gzip' }
  if (
    head.length >= 4 &&
    head.subarray(0, 3).toString('latin1') === 'BZh' &&
    (head[3] ?? 0) >= 0x31 &&
    (head[3] ?? 0) <= 0x39
  ) {
    return { kind: 'compressed', format: 'bzip2' }
  }
  if (
    head.length >= 6 &&
    head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))
  )
    return { kind: 'compressed', format: 'xz' }
  if (
    head.length >= 4 &&
    head[0] === 0x50 &&
    head[1] === 0x4b &&
    ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6))
  ) {
    return { kind: 'archive', format: 'zip' }
  }
  if (head.length >= 8 && head.subarray(0, 8).toString('latin1') === '!<arch>\n')
    return { kind: 'archive', format: 'ar' }
  if (head.length >= 263 && head.subarray(257, 262).toString('latin1') === 'ustar')
    return { kind: 'archive', format: 'tar' }
  return looksLikeText(head) ? { kind: 'text' } : { kind: 'binary' }
}

/** UTF-8 without NUL or other control bytes but tab, newline, carriage return, form feed and escape. */
export function looksLikeText(bytes: Buffer): boolean {
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
  // A multi-byte sequence may be cut at the end of a sample; decode all but the last 3 bytes strictly.
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(
      bytes.subarray(0, Math.max(0, bytes.length - 3)),
    )
    return true
  } catch {
    return false
  }
}
