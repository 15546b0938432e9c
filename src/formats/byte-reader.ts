import crypto from 'node:crypto'
import { Readable } from 'node:stream'
import { ReproofError } from '../errors.js'
import { FileChunks } from './file-chunks.js'

const EMPTY = Buffer.alloc(0)

/**
 * Pull-style reads of exact byte counts from a stream, for formats with length-prefixed
 * parts.
 *
 * Read from a stream, what it returns is the caller's to keep. Read from FileChunks
 * (a file read into reused buffers), a view it returns is valid only until the next call
 * on the reader, and a piece handed to `forward`/`stream` only until that callback
 * returns: the reader gives each chunk back to be read into again once nothing it
 * returned can still be in use, and a caller that keeps bytes copies them.
 */
export class ByteReader {
  /** Bytes consumed so far (read, streamed or skipped): where the next read starts. */
  offset = 0
  private readonly pull: () => Promise<Buffer | undefined>
  private readonly lender: FileChunks | undefined
  /** Chunks lent to this reader and not yet given back. */
  private held: Buffer[] = []
  private pending: Buffer = Buffer.alloc(0)
  private ended = false

  /** `label` names the input in the one error this reader raises itself (a cut stream). */
  constructor(
    input: Readable | FileChunks,
    private readonly label?: string,
  ) {
    if (input instanceof FileChunks) {
      this.lender = input
      this.pull = () => input.next()
    } else {
      this.lender = undefined
      const iterator = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
      this.pull = async () => {
        const next = await iterator.next()
        return next.done === true ? undefined : next.value
      }
    }
  }

  /** Whether what this reader returns is only lent (see the class comment). */
  get lends(): boolean {
    return this.lender !== undefined
  }

  private async nextChunk(): Promise<Buffer | undefined> {
    if (this.ended) return undefined
    const next = await this.pull()
    if (next === undefined) {
      this.ended = true
      return undefined
    }
    if (this.lender !== undefined) this.held.push(next)
    return next
  }

  /** Gives back every lent chunk but the one still being read (what `pending` views). */
  private settle(): void {
    const lender = this.lender
    if (lender === undefined || this.held.length === 0) return
    const reading = this.pending.buffer
    const kept: Buffer[] = []
    for (const chunk of this.held) {
      if (chunk.buffer === reading) kept.push(chunk)
      else lender.giveBack(chunk)
    }
    this.held = kept
  }

  private async fill(): Promise<boolean> {
    const next = await this.nextChunk()
    if (next === undefined) return false
    this.pending = this.pending.length === 0 ? next : Buffer.concat([this.pending, next])
    this.settle()
    return true
  }

  /** Exactly `n` bytes; fewer only at the very end of the stream, undefined if none are left. */
  async read(n: number): Promise<Buffer | undefined> {
    if (this.pending.length < n && !this.ended) {
      // A read across chunks copies only the bytes it returns: joining the whole next
      // chunk to what was left (a 512-byte header at the end of a 1 MiB chunk) copied
      // every chunk of a tar once more.
      const parts = [this.pending]
      let have = this.pending.length
      while (have < n) {
        const next = await this.nextChunk()
        if (next === undefined) break
        parts.push(next)
        have += next.length
      }
      const last = parts[parts.length - 1] ?? EMPTY
      const over = Math.max(0, have - n)
      const out = Buffer.concat(
        [...parts.slice(0, -1), last.subarray(0, last.length - over)],
        Math.min(have, n),
      )
      this.pending = last.subarray(last.length - over)
      this.settle()
      this.offset += out.length
      return out.length === 0 ? undefined : out
    }
    if (this.pending.length === 0) return undefined
    const out = this.pending.subarray(0, n)
    this.pending = this.pending.subarray(out.length)
    this.offset += out.length
    return out
  }

  /** Passes `n` bytes to `onChunk` without holding them; a short stream is an error. */
  async stream(n: number, onChunk: (chunk: Buffer) => void | Promise<void>): Promise<void> {
    const passed = await this.forward(n, onChunk)
    if (passed < n)
      throw new ReproofError(
        'E_INPUT',
        `${this.label === undefined ? '' : `${this.label}: `}truncated input: ${n - passed} more bytes were expected at byte ${this.offset}`,
        this.label === undefined ? {} : { path: this.label },
      )
  }

  /** Passes up to `n` bytes to `onChunk` as they come; how many there were before the end (of a finite `n`). */
  async forward(n: number, onChunk: (chunk: Buffer) => void | Promise<void>): Promise<number> {
    let left = n
    while (left > 0) {
      if (this.pending.length === 0 && !(await this.fill())) break
      const take = this.pending.subarray(0, left)
      this.pending = this.pending.subarray(take.length)
      this.offset += take.length
      left -= take.length
      await onChunk(take)
    }
    return n - left
  }

  async skip(n: number): Promise<void> {
    await this.stream(n, () => undefined)
  }

  /** Reads past zero bytes up to the next one that is not (left to be read) or the end; how many. */
  async skipZeros(): Promise<number> {
    let skipped = 0
    for (;;) {
      if (this.pending.length === 0 && !(await this.fill())) return skipped
      let i = 0
      while (i < this.pending.length && this.pending[i] === 0) i++
      this.pending = this.pending.subarray(i)
      this.offset += i
      skipped += i
      if (this.pending.length > 0) return skipped
    }
  }

  /** Reads the rest of the input, holding none of it: how many bytes, and their SHA-256. */
  async digestRest(): Promise<{ bytes: number; sha256: string }> {
    const hash = crypto.createHash('sha256')
    let bytes = 0
    await this.forward(Infinity, (chunk) => {
      bytes += chunk.length
      hash.update(chunk)
    })
    return { bytes, sha256: hash.digest('hex') }
  }

  /** The next `n` bytes (fewer at the end), left to be read again. */
  async peek(n: number): Promise<Buffer> {
    while (this.pending.length < n && (await this.fill())) {
      // keep filling
    }
    return this.pending.subarray(0, n)
  }

  /** What is left of the input from here on, as a stream of its own (this reader is done). */
  rest(): Readable {
    // A stream's reader keeps what it is given: lent chunks go out as copies.
    const own = (chunk: Buffer): Buffer => (this.lender === undefined ? chunk : Buffer.from(chunk))
    const first = own(this.pending)
    const release = (): void => {
      this.pending = EMPTY
      this.settle()
    }
    release()
    const next = (): Promise<Buffer | undefined> => this.nextChunk()
    return Readable.from(
      (async function* () {
        if (first.length > 0) yield first
        for (;;) {
          const chunk = await next()
          if (chunk === undefined) return
          const copy = own(chunk)
          release()
          yield copy
        }
      })(),
    )
  }
}
