import fs from 'node:fs'
import { ReproofError, unreadable } from '../errors.js'
import { openRegularFile } from './open-regular-file.js'

/**
 * A small input file (a bundle, a trusted root, a key, a policy, a record) read whole,
 * with its size bounded before anything is allocated for it. A size taken from stat
 * bounds nothing for a device or a FIFO (it is 0): `--bundle` pointing at /dev/zero read
 * until the process ran out of memory, and at a FIFO with no writer blocked in a read no
 * signal could end. So the file is opened without blocking and must be a regular file;
 * then at most `max` bytes are read, whatever it grows to meanwhile.
 *
 * `name` says which input it is (`--bundle x.json`); every failure is bad input (exit 2),
 * one line naming it.
 */
export function readBounded(file: string, max: number, name: string): Buffer {
  const { fd, stat } = openRegularFile(file, { name, path: file, then: ', not a file to read' })
  try {
    const tooLarge = (): ReproofError =>
      new ReproofError('E_INPUT', `${name}: more than ${max} bytes; refused before parsing`, {
        path: file,
      })
    if (stat.size > max) throw tooLarge()
    // One byte more than allowed: a file that grew since stat is caught, not cut short.
    let buffer = Buffer.allocUnsafe(Math.min(max + 1, stat.size + 1))
    let length = 0
    for (;;) {
      if (length === buffer.length) {
        if (length > max) throw tooLarge()
        const grown = Buffer.allocUnsafe(Math.min(max + 1, buffer.length * 2))
        buffer.copy(grown, 0, 0, length)
        buffer = grown
      }
      const n = fs.readSync(fd, buffer, length, buffer.length - length, null)
      if (n === 0) return buffer.subarray(0, length)
      length += n
    }
  } catch (err) {
    if (err instanceof ReproofError) throw err
    throw unreadable(name, file, err)
  } finally {
    fs.closeSync(fd)
  }
}
