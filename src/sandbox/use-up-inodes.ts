import fs from 'node:fs'
import path from 'node:path'

/**
 * Takes `count` inode numbers of the file system `dir` is on, and gives the files
 * back. tmpfs numbers its inodes from a counter of its own that never goes back, so
 * run B's fresh tmpfs, filled as run A's was, would hand the build the same numbers
 * (which cpio's newc headers, among others, carry): after this, every file run B
 * makes is numbered `count` later.
 */
export function useUpInodes(dir: string, count: number): void {
  if (count <= 0) return
  const scratch = fs.mkdtempSync(path.join(dir, '.inodes-'))
  try {
    for (let i = 0; i < count - 1; i++) fs.closeSync(fs.openSync(path.join(scratch, `${i}`), 'wx'))
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true })
  }
}
