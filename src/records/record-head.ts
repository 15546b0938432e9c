import fs from 'node:fs'
import { BUILD_RECORD_TYPE } from './build-record.js'

/** Records list every artifact: a few MiB is plenty, more is not a record. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024

/**
 * Whether a file may be a build record: a regular file of a record's size whose first
 * 4 KiB name the record's type. Cheap, so that `reproof diff` of two ordinary files
 * never loads the record's schema; a file that passes is then read and validated.
 */
export function mayBeBuildRecord(file: string): boolean {
  let stat: fs.Stats
  try {
    stat = fs.statSync(file)
  } catch {
    // Not there: the comparison says so, naming the input.
    return false
  }
  if (!stat.isFile() || stat.size > MAX_RECORD_BYTES) return false
  const head = Buffer.alloc(Math.min(stat.size, 4096))
  const fd = fs.openSync(file, 'r')
  try {
    fs.readSync(fd, head, 0, head.length, 0)
  } finally {
    fs.closeSync(fd)
  }
  return head.includes(BUILD_RECORD_TYPE)
}
