import fs from 'node:fs'
import { Readable } from 'node:stream'
import type { Budget } from './limits.js'

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

export function bufferSource(buffer: Buffer, label: string): ByteSource {
  return { label, size: buffer.length, buffer, open: () => Readable.from([buffer]) }
}

/** Reads the first bytes of a source, for format detection. */
export async function readHead(source: ByteSource, length = 512): Promise<Buffer> {
  if (source.buffer !== undefined) return source.buffer.subarray(0, length)
  if (source.file !== undefined) {
    const handle = await fs.promises.open(source.file, 'r')
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

/** Reads a whole source into memory, refusing before it grows past the member limit. */
export async function readAll(source: ByteSource, budget: Budget, where: string): Promise<Buffer> {
  if (source.buffer !== undefined) return source.buffer
  if (source.size >= 0) budget.checkMemberSize(source.size, where)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of source.open() as AsyncIterable<Buffer>) {
    size += chunk.length
    budget.checkMemberSize(size, where)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/** Up to `length` bytes of a source from `offset` (fewer at its end), without holding the rest. */
export async function readAt(source: ByteSource, offset: number, length: number): Promise<Buffer> {
  if (source.buffer !== undefined) return source.buffer.subarray(offset, offset + length)
  if (source.file !== undefined) {
    const handle = await fs.promises.open(source.file, 'r')
    try {
      const buffer = Buffer.alloc(length)
      const { bytesRead } = await handle.read(buffer, 0, length, offset)
      return buffer.subarray(0, bytesRead)
    } finally {
      await handle.close()
    }
  }
  const chunks: Buffer[] = []
  let at = 0
  const stream = source.open()
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const from = Math.max(0, offset - at)
      const to = Math.min(chunk.length, offset + length - at)
      if (from < to) chunks.push(chunk.subarray(from, to))
      at += chunk.length
      if (at >= offset + length) break
    }
  } finally {
    stream.destroy()
  }
  return Buffer.concat(chunks)
}

/**
 * A whole source in memory when it holds at most `cap` bytes; undefined, having read no
 * more than `cap` and a chunk, when it holds more (its size may not be known ahead).
 */
export async function readUpTo(source: ByteSource, cap: number): Promise<Buffer | undefined> {
  if (source.buffer !== undefined) return source.buffer.length <= cap ? source.buffer : undefined
  if (source.size > cap) return undefined
  // A file's size is known: read into one buffer, not chunks and then their copy.
  if (source.file !== undefined) return fs.promises.readFile(source.file)
  const chunks: Buffer[] = []
  let size = 0
  const stream = source.open()
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > cap) return undefined
      chunks.push(chunk)
    }
  } finally {
    stream.destroy()
  }
  return Buffer.concat(chunks)
}
