/**
 * The compressed streams reproof reads through, recognised by their first bytes: the
 * registry's first table (formats/registry.ts), kept apart so that a reader that meets a
 * compressed payload of its own (an rpm's) can recognise it without importing the
 * registry that loads it.
 */

export type Compression = 'gzip' | 'bzip2' | 'xz' | 'zstd'

export interface Recognised {
  /** Whether these first bytes (up to 512) start this format. */
  detect(head: Buffer): boolean
}

/** Whether `bytes` stand at offset `at` of a head. */
export const magic =
  (bytes: readonly number[], at = 0) =>
  (head: Buffer) =>
    head.length >= at + bytes.length && bytes.every((b, i) => head[at + i] === b)

/** In the order they are tried: the first whose `detect` says yes is the format. */
export const COMPRESSIONS: Readonly<Record<Compression, Recognised>> = {
  // The method byte too: 8 (deflate) is the only one gzip defines.
  gzip: { detect: magic([0x1f, 0x8b, 0x08]) },
  // "BZh" and a block size of 1 to 9.
  bzip2: {
    detect: (head) =>
      magic([0x42, 0x5a, 0x68])(head) &&
      head[3] !== undefined &&
      head[3] >= 0x31 &&
      head[3] <= 0x39,
  },
  xz: { detect: magic([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) },
  // A Zstandard frame, or skippable frames and then one within the head (pzstd writes
  // a skippable frame first, a frame's size for its parallel decoder).
  zstd: { detect: (head) => zstdFrameAt(head, 0) },
}

const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd]

/** Whether a zstd data frame starts at `at`, after as many skippable frames as the head holds. */
function zstdFrameAt(head: Buffer, at: number): boolean {
  let start = at
  while (start + 8 <= head.length && (head.readUInt32LE(start) & 0xfffffff0) === 0x184d2a50)
    // A skippable frame: magic 0x184D2A50 to 0x184D2A5F, then its payload's size.
    start += 8 + head.readUInt32LE(start + 4)
  return magic(ZSTD_MAGIC, start)(head)
}

/** The compression these first bytes start, if any: the first of the table that says yes. */
export function detectCompression(head: Buffer): Compression | undefined {
  return (Object.keys(COMPRESSIONS) as Compression[]).find((c) => COMPRESSIONS[c].detect(head))
}
