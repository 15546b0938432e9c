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
