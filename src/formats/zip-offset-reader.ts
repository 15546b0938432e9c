import fs from 'node:fs'
import { Readable } from 'node:stream'
import yauzl from 'yauzl'

/**
 * A file from byte `base` on, as yauzl's random-access reader: a zip too large to hold,
 * read with its offsets counted from its own start.
 */
export class OffsetFileReader extends yauzl.RandomAccessReader {
  constructor(
    private readonly file: string | Buffer,
    private readonly base: number,
  ) {
    super()
  }

  override _readStreamForRange(start: number, end: number): Readable {
    if (end <= start) return Readable.from([])
    // createReadStream's end is inclusive.
    return fs.createReadStream(this.file, { start: this.base + start, end: this.base + end - 1 })
  }
}
