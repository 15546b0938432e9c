import fs from 'node:fs'
import path from 'node:path'

/**
 * What a path names: the file (device and inode) where one is there, else the place it
 * would be made (its directory as resolved, and its name). `replaced`: the entry a
 * rename onto the path replaces, a symbolic link itself rather than its target (an
 * output); otherwise the file it leads to (an input, read through a link).
 */
export function fileIdentity(p: string, { replaced = false } = {}): string {
  try {
    const { dev, ino } = replaced ? fs.lstatSync(p) : fs.statSync(p)
    return `file ${dev}:${ino}`
  } catch {
    try {
      return `path ${path.join(fs.realpathSync(path.dirname(p)), path.basename(p))}`
    } catch {
      return `path ${path.resolve(p)}`
    }
  }
}
