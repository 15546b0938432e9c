import crypto from 'node:crypto'
import type { Readable } from 'node:stream'
import { readAt, type ByteSource } from '../formats/source.js'
import { DifferingRanges, hexDump, hexFrom, type BinaryDiff } from './content-diff.js'

export interface StreamedDiff {
  diff: BinaryDiff
  sizes: [number, number]
  digests: [string, string]
}

/**
 * Compares two sources too large to hold as they stream, in step: the differing ranges
 * (DifferingRanges, as for held binaries), both sizes and digests, and the hex rows
 * around the first difference, read again from each source. Holds a chunk a side.
 */
export async function diffStreamed(
  a: ByteSource,
  b: ByteSource,
  /** Called with each side's size so far; throws to stop (the member size limit). */
  check: (size: number) => void,
): Promise<StreamedDiff> {
  const sides = [new Chunks(a.open(), check), new Chunks(b.open(), check)] as const
  const [readerA, readerB] = sides
  const ranges = new DifferingRanges()
  let at = 0
  try {
    for (;;) {
      const [moreA, moreB] = await Promise.all([readerA.fill(), readerB.fill()])
      if (!moreA || !moreB) break
      const n = Math.min(readerA.held, readerB.held)
      ranges.feed(readerA.take(n), readerB.take(n), at)
      at += n
    }
    // One side ended: the other's rest is only counted and hashed.
    await Promise.all([readerA.drain(), readerB.drain()])
  } finally {
    for (const side of sides) side.destroy()
  }
  const sizes: [number, number] = [readerA.total, readerB.total]
  const found = ranges.finish(...sizes)
  const from = hexFrom(found.offset)
  const [rowsA, rowsB] = await Promise.all([readAt(a, from, 64), readAt(b, from, 64)])
  return {
    diff: { ...found, hex: [hexDump(rowsA, 0, 64, from), hexDump(rowsB, 0, 64, from)] },
    sizes,
    digests: [readerA.digest(), readerB.digest()],
  }
}

/** A stream read a chunk at a time, hashed and counted as it is taken. */
class Chunks {
  private readonly iterator: AsyncIterator<Buffer>
  private buffer: Buffer = Buffer.alloc(0)
  private readonly hash = crypto.createHash('sha256')
  total = 0

  constructor(
    private readonly stream: Readable,
    private readonly check: (size: number) => void,
  ) {
    this.iterator = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
  }

  get held(): number {
    return this.buffer.length
  }

  /** True when bytes are held, reading the next chunk if none are; false at the end. */
  async fill(): Promise<boolean> {
    while (this.buffer.length === 0) {
      const next = await this.iterator.next()
      if (next.done === true) return false
      this.buffer = next.value
    }
    return true
  }

  take(n: number): Buffer {
    const out = this.buffer.subarray(0, n)
    this.buffer = this.buffer.subarray(n)
    this.hash.update(out)
    this.total += out.length
    this.check(this.total)
    return out
  }

  async drain(): Promise<void> {
    while (await this.fill()) this.take(this.buffer.length)
  }

  digest(): string {
    return this.hash.digest('hex')
  }

  destroy(): void {
    this.stream.destroy()
  }
}
