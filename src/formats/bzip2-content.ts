import { Readable } from 'node:stream'
import { bzip2Blocks } from '../load-cjs.js'

// Output goes out in pieces of this size, with the caller's check between them.
const PIECE = 64 * 1024

/**
 * The content of a bzip2 stream (or of several, one after another), block by block,
 * through unbzip2-stream's decoder. Its own stream driver collects a block's whole
 * output as an array of numbers before it hands any of it out: up to 46 MB from a
 * 900 kB block, as 1.5 GB of memory, for a 50-byte file of zeros. Driven here, each
 * block's output is written into pieces, and `check` is told how much has come out
 * after each one; it throws to stop (a ratio or byte limit), in the middle of a block.
 */
export function bzip2Content(
  input: Readable,
  check: (produced: number) => void,
  /** One stream and nothing after it, as a zip member holds (a second was read as more content, where 7-Zip and Python find a CRC error). */
  oneStream = false,
): Readable {
  return Readable.from(decode(input, check, oneStream), { objectMode: false })
}

// The decoder's work array, 400 kB a 100k of block size: made once and kept (3.6 MB for
// the usual 900k blocks), not for every stream (6.5 ms each, zeroed, for thousands of
// zip members). Shared by streams decoded side by side: each block fills it anew, and
// decompress() is synchronous.
let work = new Int32Array(0)

async function* decode(
  input: Readable,
  check: (produced: number) => void,
  oneStream: boolean,
): AsyncGenerator<Buffer> {
  const { bzip2, bitIterator } = bzip2Blocks()
  const source = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
  const pending: Buffer[] = []
  // What has come in, and whether that is all: changed by fill().
  const got = { received: 0, ended: false }
  // The decoder reads synchronously: a whole block (and the next header) must be in
  // hand before it starts, as the original driver waits for.
  const fill = async (ahead: number, consumed: number): Promise<void> => {
    while (!got.ended && got.received - consumed < ahead) {
      const next = await source.next()
      if (next.done === true) got.ended = true
      else {
        pending.push(next.value)
        got.received += next.value.length
      }
    }
  }
  await fill(4, 0)
  if (got.received === 0) return
  const bits = bitIterator(() => pending.shift())
  let blockSize = 0
  let streamCRC: number | null = null
  let produced = 0
  for (;;) {
    await fill(blockSize === 0 ? 4 : 25_000 + 100_000 * blockSize, bits.bytesRead)
    if (got.ended && got.received <= bits.bytesRead) break
    if (blockSize === 0) {
      blockSize = bzip2.header(bits)
      streamCRC = 0
      continue
    }
    if (work.length < 100_000 * blockSize) work = new Int32Array(100_000 * blockSize)
    const buf = work
    const pieces: Buffer[] = []
    let piece = Buffer.allocUnsafe(PIECE)
    let at = 0
    streamCRC = bzip2.decompress(
      bits,
      (byte) => {
        piece[at++] = byte
        if (at === PIECE) {
          pieces.push(piece)
          produced += PIECE
          check(produced)
          piece = Buffer.allocUnsafe(PIECE)
          at = 0
        }
      },
      buf,
      100_000 * blockSize,
      streamCRC,
    )
    if (at > 0) {
      pieces.push(piece.subarray(0, at))
      produced += at
      check(produced)
    }
    yield* pieces
    // The end of a stream: another may follow, unless there is to be one.
    if (streamCRC === null) {
      if (oneStream) {
        await fill(1, bits.bytesRead)
        if (got.received > bits.bytesRead) throw new Error('data after the end of the bzip2 stream')
        return
      }
      blockSize = 0
    }
  }
  if (streamCRC !== null) throw new Error('the bzip2 stream ends before its end marker')
}
