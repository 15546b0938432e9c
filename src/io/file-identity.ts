import fs from 'node:fs'
import path from 'node:path'

/**
 * What a path names: the file (device and inode) where one is there, else the place it
 * would be made (its directory as resolved, and its name).
 */
export function fileIdentity(p: string): string {
  try {
    const { dev, ino } = fs.statSync(p)
    return `file ${dev}:${ino}`
  } catch {
    try {
      return `path ${path.join(fs.realpathSync(path.dirname(p)), path.basename(p))}`
    } catch {
      return `path ${path.resolve(p)}`
    }
  }
}
