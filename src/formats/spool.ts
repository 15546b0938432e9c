import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ReproofError } from '../errors.js'
import type { MemberSink } from './member.js'
import { fileSource } from './source.js'
import { ownedTempDir } from '../owned-temp.js'

/**
 * A private temporary directory for members too large to hold in memory: each is
 * written there as it is read and read back from there to be compared. Created on first
 * use; `remove()` closes what is still open and deletes it all, whatever happened.
 */
export class Spool {
  private dir: string | undefined
  private count = 0
  private readonly open = new Set<number>()

  constructor(private readonly parent: string = os.tmpdir()) {}

  /** A sink that writes one member's content to a new file of the spool. */
  sink(label: string): MemberSink {
    const { file, fd } = this.attempt(() => {
      this.dir ??= ownedTempDir(this.parent, 'reproof-spool-')
      const name = path.join(this.dir, String(this.count++))
      // 'wx': the spool is reproof's own, and a file there is never written twice.
      return { file: name, fd: fs.openSync(name, 'wx', 0o600) }
    })
    this.open.add(fd)
    return {
      // The scanners hand chunks over synchronously and in order.
      add: (chunk) => {
        this.attempt(() => {
          for (let at = 0; at < chunk.length;) at += fs.writeSync(fd, chunk, at)
        })
      },
      done: () => {
        if (this.open.delete(fd)) fs.closeSync(fd)
        return fileSource(file, label)
      },
    }
  }

  remove(): void {
    for (const fd of this.open) fs.closeSync(fd)
    this.open.clear()
    if (this.dir !== undefined) fs.rmSync(this.dir, { recursive: true, force: true })
    this.dir = undefined
  }

  /**
   * A temporary directory that cannot be made or written (missing, read-only, full) is
   * the machine's failure, not the input's: exit 3, naming it.
   */
  private attempt<T>(work: () => T): T {
    try {
      return work()
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err)
      throw new ReproofError(
        'E_ENVIRONMENT',
        `the temporary directory ${this.parent}: cannot hold a member too large to keep in memory (${code})`,
        { path: this.parent, hint: 'set TMPDIR to a writable directory with room' },
        { cause: err },
      )
    }
  }
}
