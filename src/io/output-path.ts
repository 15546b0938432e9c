import fs from 'node:fs'
import path from 'node:path'
import { ReproofError } from '../errors.js'

/**
 * Refuses, before any work is done, an output file that cannot be written: one that is
 * a directory, or whose nearest existing parent is not one. Found after signing, either
 * would waste a log entry; found after a build, the build.
 */
export function checkOutputFile(flag: string, file: string): void {
  const bad = (what: string): ReproofError =>
    new ReproofError('E_INPUT', `${flag} ${file}: ${what}`, { path: file })
  let stat: fs.Stats | undefined
  try {
    stat = fs.statSync(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw bad('a parent is not a directory')
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw bad((err as Error).message)
  }
  if (stat?.isDirectory() === true) throw bad('is a directory; give a file path')
  if (stat !== undefined) return
  for (let dir = path.dirname(path.resolve(file)); ; dir = path.dirname(dir)) {
    const parent = fs.statSync(dir, { throwIfNoEntry: false })
    if (parent !== undefined) {
      if (!parent.isDirectory()) throw bad(`${dir} is not a directory`)
      return
    }
    if (path.dirname(dir) === dir) return
  }
}
