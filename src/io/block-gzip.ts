import { Transform } from 'node:stream'
import zlib from 'node:zlib'
import type { BlockPool } from './block-pool.js'

/*
 * A gzip stream compressed in independent blocks on the thread pool, as pigz does:
 * each block of the input is deflated on its own, primed with the 32 KiB before it as
 * a dictionary and ended with a sync flush, so that the blocks joined in order are one
 * ordinary deflate stream. zlib's own gzip stream runs on one core; deflate is most of
 * the time of normalizing a tar.gz, and this machine's other core was idle.
 *
 * The bytes depend only on the input, the level and the block size: blocks start at
 * fixed offsets of the input, however its writer cuts its writes. They are not the
 * bytes a single zlib stream gives (the output is about 0.5 % larger), and they need
 * not be: reproof's output is stable from one run and machine to the next, which is
 * the point, and any gzip reader reads it.
 */

const WINDOW = 32 * 1024

export interface BlockGzipOptions {
  level: number
  /** The header's OS byte. */
  os: number
  /** Input bytes per block (a block's output is one thread-pool job). */
  blockSize?: number
  /** Blocks being compressed at once, at most. */
  inFlight?: number
  /**
   * Where this stream's blocks come from and go back to once compressed: its own, and
   * the writer's when it hands over whole blocks of the pool (the writer holds them no
   * more). The pool's size is the block size.
   */
  pool?: BlockPool
}

/** A Transform from bytes to one gzip member, header and trailer included. */
export function blockGzip(options: BlockGzipOptions): Transform {
  const pool = options.pool
  const blockSize = pool?.size ?? options.blockSize ?? 1024 * 1024
  const limit = options.inFlight ?? 4
  const newBlock = (): Buffer => pool?.take() ?? Buffer.allocUnsafe(blockSize)
  const level = options.level
  // XFL as zlib writes it: 2 for the slowest level, 4 for the fastest, else 0.
  const xfl = level === 9 ? 2 : level === 1 ? 4 : 0
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, options.os])
  let block = newBlock()
  let filled = 0
  let previous: Buffer | undefined
  let crc = 0
  let total = 0
  let started = false
  const queue: { block: Buffer; out: Promise<Buffer> }[] = []
  // A block goes back to the pool when it is compressed and the next block has taken
  // its dictionary from it (zlib copies a dictionary when the job is made); the one
  // compressed whose successor has not started yet waits here.
  let waiting: Buffer | undefined
  const release = (done: Buffer): void => {
    if (done === previous) waiting = done
    else pool?.give(done)
  }

  const deflate = (block: Buffer, last: boolean): void => {
    const dictionary =
      previous === undefined ? undefined : previous.subarray(previous.length - WINDOW)
    const flush = last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH
    const out = new Promise<Buffer>((resolve, reject) => {
      zlib.deflateRaw(
        block,
        { level, finishFlush: flush, ...(dictionary === undefined ? {} : { dictionary }) },
        (err, out) => {
          if (err === null) resolve(out)
          else reject(err)
        },
      )
    })
    previous = block
    if (waiting !== undefined) pool?.give(waiting)
    waiting = undefined
    queue.push({ block, out })
  }
  const drain = async (stream: Transform, keep: number): Promise<void> => {
    while (queue.length > keep) {
      const first = queue.shift()
      if (first === undefined) break
      stream.push(await first.out)
      release(first.block)
    }
  }
  // Fills fixed-size blocks, sending each full one off; a run of whole blocks in one
  // chunk goes as it is, not copied. A pool's block that was copied whole is given back
  // at once.
  const take = (chunk: Buffer): void => {
    let at = 0
    let sent = false
    while (at < chunk.length) {
      if (filled === 0 && chunk.length - at >= blockSize) {
        deflate(chunk.subarray(at, at + blockSize), false)
        at += blockSize
        sent = true
        continue
      }
      const n = chunk.copy(block, filled, at)
      filled += n
      at += n
      if (filled === blockSize) {
        deflate(block, false)
        block = newBlock()
        filled = 0
      }
    }
    if (!sent) pool?.give(chunk)
  }

  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (!started) {
        started = true
        this.push(header)
      }
      crc = zlib.crc32(chunk, crc)
      total += chunk.length
      take(chunk)
      // Waits only when enough blocks are being compressed; otherwise goes on at once.
      if (queue.length < limit) {
        callback()
        return
      }
      drain(this, limit - 1).then(
        () => {
          callback()
        },
        (err: unknown) => {
          callback(err as Error)
        },
      )
    },
    flush(callback) {
      if (!started) this.push(header)
      deflate(block.subarray(0, filled), true)
      drain(this, 0).then(
        () => {
          const trailer = Buffer.alloc(8)
          trailer.writeUInt32LE(crc >>> 0, 0)
          // ISIZE: the length modulo 2^32.
          trailer.writeUInt32LE(total % 2 ** 32, 4)
          callback(null, trailer)
        },
        (err: unknown) => {
          callback(err as Error)
        },
      )
    },
  })
}
