import fs from 'node:fs'
import { Readable } from 'node:stream'
import yauzl from 'yauzl'

/**
 * A file from byte `base` on, as yauzl's random-access reader: a zip too large to hold,
 * read with its offsets counted from its own start. The file is opened once, so that
 * every read is of the file that was opened, whatever is renamed into its place.
 */
export class OffsetFileReader extends yauzl.RandomAccessReader {
  private readonly fd: number

  constructor(
    file: string | Buffer,
    private readonly base: number,
  ) {
    super()
    this.fd = fs.openSync(file, 'r')
  }

  override _readStreamForRange(start: number, end: number): Readable {
    if (end <= start) return Readable.from([])
    // createReadStream's end is inclusive; the descriptor stays open for the next range.
    return fs.createReadStream('', {
      fd: this.fd,
      start: this.base + start,
      end: this.base + end - 1,
      autoClose: false,
    })
  }

  override close(callback: (err: Error | null) => void): void {
    fs.close(this.fd, callback)
  }
}
