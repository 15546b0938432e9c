/*
 * Fixed-size buffers lent out and taken back, for the blocks a tar is written in on its
 * way to the block compressor. Memory a process touches for the first time is slow to
 * get (each page is faulted in: on a virtual machine, milliseconds per MiB), and a new
 * 1 MiB block per MiB of tar made writing a 26 MB tar.gz touch 26 MB it needed not.
 *
 * A buffer is taken back only while it is out on loan and only whole, so a view into
 * someone else's memory, or a buffer given back twice, is never lent to a second
 * borrower while the first may still read it.
 */
export class BlockPool {
  private readonly free: Buffer[] = []
  private readonly lent = new Set<ArrayBufferLike>()

  constructor(
    readonly size: number,
    /** Idle buffers kept for the next loan, at most; more are left to the collector. */
    private readonly keep = 8,
  ) {}

  /** A buffer of `size` bytes, of unspecified content, the caller's until it gives it back. */
  take(): Buffer {
    // Its own memory (never a slice of Node's shared pool), so that giving it back can
    // be checked against the whole of what was lent.
    const buffer = this.free.pop() ?? Buffer.allocUnsafeSlow(this.size)
    this.lent.add(buffer.buffer)
    return buffer
  }

  /**
   * Takes back a buffer that the caller holds no more, nor any view of; true if it was
   * one of the pool's, whole and out on loan, else the pool leaves it alone.
   */
  give(buffer: Buffer): boolean {
    if (buffer.byteOffset !== 0 || buffer.length !== this.size) return false
    if (!this.lent.delete(buffer.buffer)) return false
    if (this.free.length < this.keep) this.free.push(buffer)
    return true
  }
}
