import fs from 'node:fs'
import { ReproofError, unreadable } from '../errors.js'

/** How an opened file is named in messages. */
export interface OpenedAs {
  /** The name messages start with. */
  name: string
  /** The path a message's detail carries. */
  path: string
  /** Said after "a directory" or "not a regular file (…)", its punctuation included. */
  then: string
  /** What a missing file is called: "no such file", "no such artifact". */
  missing?: string
}

/**
 * A file opened for reading, refused unless it is a regular file. Opened without
 * blocking: a FIFO with no writer held a synchronous open forever (no signal could end
 * it), and a device (`/dev/zero`) read without end. The caller closes the descriptor.
 */
export function openRegularFile(
  file: string | Buffer,
  as: OpenedAs,
): { fd: number; stat: fs.Stats } {
  let fd: number
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)
  } catch (err) {
    throw unreadable(as.name, as.path, err, as.missing)
  }
  try {
    const stat = fs.fstatSync(fd)
    if (!stat.isFile())
      throw new ReproofError(
        'E_INPUT',
        `${as.name}: ${stat.isDirectory() ? 'a directory' : 'not a regular file (a FIFO, socket or device)'}${as.then}`,
        { path: as.path },
      )
    return { fd, stat }
  } catch (err) {
    fs.closeSync(fd)
    if (err instanceof ReproofError) throw err
    throw unreadable(as.name, as.path, err, as.missing)
  }
}
