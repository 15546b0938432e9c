import fs from 'node:fs'
import path from 'node:path'
import { fileProblem, ReproofError } from '../errors.js'

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
  // An output is written beside and renamed over: a device (`-o /dev/null`, as root the
  // system's own), a FIFO or a socket there would be replaced by a regular file.
  if (stat !== undefined && !stat.isFile())
    throw bad('is not a regular file (a device, FIFO or socket), which writing would replace')
  if (stat !== undefined) return
  const parent = nearestExisting(path.dirname(path.resolve(file)), bad)
  if (parent !== undefined && !parent.stat.isDirectory())
    throw bad(`${parent.at} is not a directory`)
}

/**
 * The nearest of `start` and its ancestors that is there, with what stat says of it; none
 * up to the root. What keeps one from being looked at (a file on the way, no search
 * permission) is said through `bad`.
 */
function nearestExisting(
  start: string,
  bad: (what: string) => ReproofError,
): { at: string; stat: fs.Stats } | undefined {
  for (let at = start; ; at = path.dirname(at)) {
    let stat: fs.Stats | undefined
    try {
      stat = fs.statSync(at, { throwIfNoEntry: false })
    } catch (err) {
      throw bad(fileProblem(err, 'a parent is not a directory'))
    }
    if (stat !== undefined) return { at, stat }
    if (path.dirname(at) === at) return undefined
  }
}

/**
 * A file as the kernel will find it once written: its nearest existing ancestor with
 * links resolved, then the parts not made yet. `lnk/new/b.json` and `real/new/b.json`,
 * where `lnk` leads to `real`, are one file even before `new` exists.
 */
export function canonicalFile(file: string): string {
  const missing: string[] = []
  for (let at = path.resolve(file); ; at = path.dirname(at)) {
    try {
      return path.join(fs.realpathSync(at), ...missing)
    } catch {
      if (path.dirname(at) === at) return path.resolve(file)
      missing.unshift(path.basename(at))
    }
  }
}

export interface NamedFile {
  flag: string
  file: string | undefined
}

/**
 * Refuses, before any work, two outputs that are one file, and an output that is one of
 * the inputs: `--statement` naming the bundle's file left an unsigned statement where the
 * bundle was said written, and `--bundle` naming the key replaced the private key.
 */
export function checkDistinctFiles(
  outputs: readonly NamedFile[],
  inputs: readonly NamedFile[] = [],
): void {
  const seen = new Map<string, string>()
  for (const { flag, file } of inputs) if (file !== undefined) seen.set(canonicalFile(file), flag)
  const inputFlags = new Set(seen.values())
  for (const { flag, file } of outputs) {
    if (file === undefined) continue
    const key = canonicalFile(file)
    const other = seen.get(key)
    if (other !== undefined)
      throw new ReproofError(
        'E_USAGE',
        `${flag} ${file}: the same file as ${other}${inputFlags.has(other) ? ', which it would overwrite' : ''}; give each its own file`,
        { path: file },
      )
    seen.set(key, flag)
  }
}

/**
 * An output directory as it can be checked before the work: a directory there, or a
 * path under directories where one can be made, writable (a read-only file system
 * says so at once; it was found after both builds had run).
 */
export function checkOutputDir(flag: string, dir: string): void {
  const bad = (what: string): ReproofError =>
    new ReproofError('E_INPUT', `${flag} ${dir}: ${what}`, { path: dir })
  const found = nearestExisting(path.resolve(dir), bad)
  if (found === undefined) return
  const { at, stat } = found
  if (!stat.isDirectory())
    throw bad(at === path.resolve(dir) ? 'not a directory' : `${at} is not a directory`)
  try {
    fs.accessSync(at, fs.constants.W_OK)
  } catch (err) {
    throw bad(`cannot be written (${fileProblem(err, 'no such directory')})`)
  }
}
