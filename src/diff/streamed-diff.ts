import crypto from 'node:crypto'
import type { Reading } from '../formats/source.js'
import { DifferingRanges, hexDump, hexFrom, type BinaryDiff } from './content-diff.js'

export interface StreamedDiff {
  diff: BinaryDiff
  sizes: [number, number]
  digests: [string, string]
}

// The hex rows around the first difference: four rows of 16, from the row before it.
const ROWS_BYTES = 64
// hexFrom(offset) is at most 31 bytes before the offset.
const BEFORE_BYTES = 32

/**
 * Compares two sources too large to hold as they stream, in step: the differing ranges
 * (DifferingRanges, as for held binaries), both sizes and digests, and the hex rows
 * around the first difference, kept as they pass. Each side is read once, from where
 * its reading stands; holds a chunk a side.
 */
export async function diffStreamed(
  a: Reading,
  b: Reading,
  /** Called with each side's size so far; throws to stop (the member size limit, Ctrl-C). */
  check: (size: number) => void,
): Promise<StreamedDiff> {
  const sides = [new Chunks(a, check), new Chunks(b, check)] as const
  const [readerA, readerB] = sides
  const ranges = new DifferingRanges()
  let rows: [Rows, Rows] | undefined
  let at = 0
  try {
    for (;;) {
      const [moreA, moreB] = await Promise.all([readerA.fill(), readerB.fill()])
      if (!moreA || !moreB) break
      const n = Math.min(readerA.held, readerB.held)
      const before = [readerA.recent, readerB.recent] as const
      const [x, y] = [readerA.take(n), readerB.take(n)]
      rows?.[0].add(x)
      rows?.[1].add(y)
      ranges.feed(x, y, at)
      const first = ranges.first()
      if (rows === undefined && first !== undefined) {
        const from = hexFrom(first)
        rows = [new Rows(from, before[0], x, at), new Rows(from, before[1], y, at)]
      }
      at += n
    }
    // One side ended: the other's rest is only counted and hashed, and if no byte
    // differed so far, the first difference is where the shorter one ended.
    const from = hexFrom(at)
    rows ??= [
      new Rows(from, readerA.recent, Buffer.alloc(0), at),
      new Rows(from, readerB.recent, Buffer.alloc(0), at),
    ]
    const [rowsA, rowsB] = rows
    await Promise.all([
      readerA.drain((p) => {
        rowsA.add(p)
      }),
      readerB.drain((p) => {
        rowsB.add(p)
      }),
    ])
  } finally {
    for (const side of sides) side.destroy()
  }
  const sizes: [number, number] = [readerA.total, readerB.total]
  const found = ranges.finish(...sizes)
  const from = hexFrom(found.offset)
  const [rowsA, rowsB] = rows
  return {
    diff: {
      ...found,
      hex: [
        hexDump(rowsA.bytes(), 0, ROWS_BYTES, from),
        hexDump(rowsB.bytes(), 0, ROWS_BYTES, from),
      ],
    },
    sizes,
    digests: [readerA.digest(), readerB.digest()],
  }
}

/** The bytes of one side from `from`, up to ROWS_BYTES, kept as the pieces pass. */
class Rows {
  private readonly kept: Buffer[] = []
  private length = 0

  /** `recent` ends where `piece` starts, at `at`; `from` lies in one or the other. */
  constructor(
    private readonly from: number,
    recent: Buffer,
    piece: Buffer,
    at: number,
  ) {
    const start = at - recent.length
    this.add(Buffer.concat([recent, piece]).subarray(Math.max(0, from - start)))
  }

  add(piece: Buffer): void {
    if (this.length >= ROWS_BYTES) return
    const part = piece.subarray(0, ROWS_BYTES - this.length)
    this.kept.push(Buffer.from(part))
    this.length += part.length
  }

  bytes(): Buffer {
    return Buffer.concat(this.kept)
  }
}

/** A reading taken a chunk at a time, hashed and counted as it is taken. */
class Chunks {
  private buffer: Buffer = Buffer.alloc(0)
  private readonly queued: Buffer[]
  private readonly hash = crypto.createHash('sha256')
  /** The last bytes taken (BEFORE_BYTES at most), for the rows before a difference. */
  recent: Buffer = Buffer.alloc(0)
  total = 0

  constructor(
    private readonly reading: Reading,
    private readonly check: (size: number) => void,
  ) {
    this.queued = [...reading.read]
  }

  get held(): number {
    return this.buffer.length
  }

  /** True when bytes are held, reading the next chunk if none are; false at the end. */
  async fill(): Promise<boolean> {
    while (this.buffer.length === 0) {
      const queued = this.queued.shift()
      if (queued !== undefined) {
        this.buffer = queued
        continue
      }
      const next = await this.reading.rest.next()
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
    this.recent = Buffer.concat([this.recent, out.subarray(Math.max(0, out.length - BEFORE_BYTES))])
    this.recent = this.recent.subarray(Math.max(0, this.recent.length - BEFORE_BYTES))
    this.check(this.total)
    return out
  }

  async drain(each: (piece: Buffer) => void): Promise<void> {
    while (await this.fill()) each(this.take(this.buffer.length))
  }

  digest(): string {
    return this.hash.digest('hex')
  }

  destroy(): void {
    this.reading.destroy()
  }
}
