import fs from 'node:fs'
import { Readable } from 'node:stream'
import { ReproofError } from '../errors.js'

/**
 * Bytes that can be read more than once: a file on disk, or a member already held in
 * memory. Comparing streams twice (inventory, then the members that differ) is what
 * keeps memory flat on large archives.
 */
export interface ByteSource {
  /** What to call it in reports: a path, or `outer!inner` for archive members. */
  label: string
  size: number
  open(): Readable
  /** Set for files on disk: random-access formats (zip) read them in place. A Buffer is a path whose name is not UTF-8. */
  file?: string | Buffer
  /** Set for in-memory members. */
  buffer?: Buffer
  /**
   * A file of a tree being compared, which may change while it is read: every open of
   * `file` refuses a link put in its place (one to a file outside the tree was read and
   * shown, and called identical to a copy of it) and never waits on a FIFO.
   */
  noFollow?: boolean
  /**
   * Read through a decoder that decodes one stream at a time in the whole process (the
   * embedded xz decoder, where the xz program is not installed): a stream opened while
   * another is being read waits until that one ends. Two such sides compared in step
   * waited on each other for ever; the comparison reads one whole before the other.
   */
  exclusive?: true
  /**
   * Its bytes were counted against `--max-bytes` by the decoder that made them (a
   * decompressed stream): a reader of it (a tar's scan) does not count them again.
   */
  counted?: true
}

const NO_FOLLOW = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK

/** The flags every open of a source's file takes. */
export function openFlags(source: { noFollow?: boolean }): string | number {
  return source.noFollow === true ? NO_FOLLOW : 'r'
}

export function fileSource(file: string | Buffer, label: string = file.toString()): ByteSource {
  const size = fs.statSync(file).size
  return {
    label,
    size,
    file,
    open: () => fs.createReadStream(file, { highWaterMark: 1024 * 1024 }),
  }
}

/**
 * A file of a tree, read whole into memory when it is small: its head, its content and
 * its text are then read from one buffer, where a file on disk was opened again for
 * each (three opens, two of them through promises, per differing file of a tree). A
 * larger one is a file on disk, read as it is needed.
 */
export function heldFileSource(
  file: string | Buffer,
  label: string = file.toString(),
  hold = 1024 * 1024,
): ByteSource {
  const fd = fs.openSync(file, NO_FOLLOW)
  try {
    const { size, mode } = fs.fstatSync(fd)
    // The walk found a regular file here; something else now is a tree changing under
    // the comparison, whose answer would be no answer.
    if ((mode & fs.constants.S_IFMT) !== fs.constants.S_IFREG)
      throw new ReproofError(
        'E_AMBIGUOUS',
        `${label}: it changed while it was compared (no longer a regular file); compare again once it is still`,
        { path: file.toString() },
      )
    if (size > hold)
      return {
        label,
        size,
        file,
        noFollow: true,
        open: () =>
          fs.createReadStream(file, {
            fd: fs.openSync(file, NO_FOLLOW),
            highWaterMark: 1024 * 1024,
          }),
      }
    const buffer = Buffer.allocUnsafe(size)
    let got = 0
    while (got < size) {
      const n = fs.readSync(fd, buffer, got, size - got, got)
      if (n === 0) break
      got += n
    }
    return bufferSource(buffer.subarray(0, got), label)
  } finally {
    fs.closeSync(fd)
  }
}

export function bufferSource(buffer: Buffer, label: string): ByteSource {
  return { label, size: buffer.length, buffer, open: () => Readable.from([buffer]) }
}

/** Reads the first bytes of a source, for format detection. */
export async function readHead(source: ByteSource, length = 512): Promise<Buffer> {
  if (source.buffer !== undefined) return source.buffer.subarray(0, length)
  if (source.file !== undefined) {
    const handle = await fs.promises.open(source.file, openFlags(source))
    try {
      const buffer = Buffer.alloc(Math.min(length, source.size))
      await handle.read(buffer, 0, buffer.length, 0)
      return buffer
    } finally {
      await handle.close()
    }
  }
  const chunks: Buffer[] = []
  let have = 0
  const stream = source.open()
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    chunks.push(chunk)
    have += chunk.length
    if (have >= length) break
  }
  stream.destroy()
  return Buffer.concat(chunks).subarray(0, length)
}

/**
 * A source being read once, from its start: the chunks already read, then the rest.
 * `destroy` stops the stream when the reader ends early.
 */
export interface Reading {
  read: Buffer[]
  rest: AsyncIterator<Buffer>
  destroy(): void
}

/** A source read from its start, nothing read yet. */
export function startReading(source: ByteSource): Reading {
  const stream = source.open()
  return {
    read: [],
    rest: (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator](),
    destroy: () => stream.destroy(),
  }
}

/**
 * A whole source in memory when it holds at most `cap` bytes (`whole`); otherwise the
 * reading so far (`more`), having read no more than `cap` and a chunk (its size may not
 * be known ahead), for the caller to go on with rather than read it again: a
 * decompressed source costs its decompression and its budget each time it is read.
 */
export async function readUpTo(
  source: ByteSource,
  cap: number,
): Promise<{ whole: Buffer } | { more: Reading }> {
  if (source.buffer !== undefined && source.buffer.length <= cap) return { whole: source.buffer }
  if (source.size > cap || source.buffer !== undefined) return { more: startReading(source) }
  // A file's size is known: read into one buffer, not chunks and then their copy.
  if (source.file !== undefined)
    return { whole: await fs.promises.readFile(source.file, { flag: openFlags(source) }) }
  const reading = startReading(source)
  let size = 0
  try {
    for (;;) {
      const next = await reading.rest.next()
      if (next.done === true) break
      reading.read.push(next.value)
      size += next.value.length
      if (size > cap) return { more: reading }
    }
  } catch (err) {
    reading.destroy()
    throw err
  }
  reading.destroy()
  return { whole: Buffer.concat(reading.read) }
}
