import fs from 'node:fs'

const CHUNK = 1024 * 1024
// Chunks kept for reuse once given back: a reader holds one or two at a time.
const KEEP = 4
// How long reading may hold the event loop before it lets signals and timers run.
const SLICE_MS = 20

/**
 * A file read from its start in chunks lent from a few reused buffers. Memory a process
 * touches for the first time is what this machine is slowest at: a stream's fresh 1 MiB
 * buffer per MiB made reading a 49 MB tar take 220 ms, reading it into the same buffers
 * 20. The price is a contract: a chunk is the reader's until it gives it back, and a
 * reader that keeps any of its bytes past that copies them (ByteReader does this for
 * the readers of formats built on it).
 */
export class FileChunks {
  private fd: number | undefined
  private ended = false
  private readonly free: Buffer[] = []
  /** The memory of every chunk out on loan: only those are taken back, once each. */
  private readonly lent = new Set<ArrayBufferLike>()
  private readonly chunkSize: number
  private readonly poison: boolean
  private readonly flags: string | number
  private sliceStart = performance.now()

  constructor(
    readonly file: string | Buffer,
    /**
     * `chunkSize` for tests that cut a file small; `poison` overwrites every chunk given
     * back, so that a reader still using one reads garbage at once rather than by chance.
     */
    options: { chunkSize?: number; poison?: boolean; flags?: string | number } = {},
  ) {
    this.flags = options.flags ?? 'r'
    this.chunkSize = options.chunkSize ?? CHUNK
    this.poison = options.poison ?? false
  }

  /** The next chunk, of at most 1 MiB; undefined at the end (the file is closed then). */
  async next(): Promise<Buffer | undefined> {
    if (this.ended) return undefined
    if (performance.now() - this.sliceStart > SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve))
      this.sliceStart = performance.now()
    }
    this.fd ??= fs.openSync(this.file, this.flags)
    // Its own memory (never a slice of Node's shared pool), known again by it.
    const block = this.free.pop() ?? Buffer.allocUnsafeSlow(this.chunkSize)
    let n: number
    try {
      n = fs.readSync(this.fd, block, 0, block.length, null)
    } catch (err) {
      this.close()
      throw err
    }
    if (n === 0) {
      this.close()
      return undefined
    }
    this.lent.add(block.buffer)
    return block.subarray(0, n)
  }

  /** A chunk this lent whose bytes nobody reads any more; anything else is left alone. */
  giveBack(chunk: Buffer): void {
    if (!this.lent.delete(chunk.buffer)) return
    const whole = Buffer.from(chunk.buffer, 0, this.chunkSize)
    if (this.poison) whole.fill(0xee)
    if (this.free.length < KEEP) this.free.push(whole)
  }

  /** Closes the file, read to its end or not; nothing more is read. */
  close(): void {
    this.ended = true
    if (this.fd === undefined) return
    const fd = this.fd
    this.fd = undefined
    fs.closeSync(fd)
  }
}
