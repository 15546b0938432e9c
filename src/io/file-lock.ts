import { spawn } from '../child-process.js'
import fs from 'node:fs'
import os from 'node:os'
import { ReproofError } from '../errors.js'

/** What flock(1) answers when the wait ran out, chosen apart from its error statuses. */
const TIMED_OUT = 75

/**
 * Runs `work` holding an exclusive flock(2) on `lockFile`.
 *
 * The lock belongs to the open file description, so the kernel lets go of it however
 * this process ends, SIGKILL included. There is no stale lock to detect and take over,
 * and so no window in which two gates that both judged a lock stale both go on (a lock
 * file holding a pid had exactly that race). Node cannot call flock(2) itself: flock(1)
 * is handed this process's descriptor, takes the lock on it and exits, and the lock
 * stays with the descriptor until it is closed.
 *
 * The file itself is never removed (removing it would let a second gate lock a new
 * file while the first still holds the old one); it holds the last owner, for people.
 */
export async function withFileLock<T>(
  lockFile: string,
  timeoutMs: number,
  work: () => Promise<T>,
  /**
   * `data`: lock a file that holds data (a ledger itself), if it is there: it is neither
   * made nor written, and when it is not there `work` runs without this lock.
   */
  kind: 'lock' | 'data' = 'lock',
  /** Ctrl-C or SIGTERM while waiting: the wait ends, nothing was done (exit 130). */
  signal?: AbortSignal,
): Promise<T> {
  let fd: number
  try {
    // Without blocking: a FIFO put where the file should be would hold the open forever,
    // past --lock-timeout and deaf to SIGTERM. Only a regular file is taken (below).
    const flags = fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK
    fd =
      kind === 'lock'
        ? fs.openSync(lockFile, flags | fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600)
        : fs.openSync(lockFile, flags | fs.constants.O_RDONLY)
  } catch (err) {
    if (kind === 'data' && (err as NodeJS.ErrnoException).code === 'ENOENT') return work()
    throw new ReproofError(
      'E_ENVIRONMENT',
      `${lockFile}: cannot open the lock file: ${(err as Error).message}`,
      { path: lockFile },
      { cause: err },
    )
  }
  try {
    if (!fs.fstatSync(fd).isFile())
      throw new ReproofError('E_INPUT', `${lockFile}: not a regular file`, { path: lockFile })
    await acquire(fd, lockFile, timeoutMs, signal)
    if (kind === 'lock') {
      fs.ftruncateSync(fd, 0)
      fs.writeSync(fd, `${JSON.stringify({ pid: process.pid, host: os.hostname() })}\n`, 0)
    }
    return await work()
  } finally {
    fs.closeSync(fd)
  }
}

function acquire(
  fd: number,
  lockFile: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const seconds = String(Math.max(timeoutMs, 0) / 1000)
  return new Promise((resolve, reject) => {
    const interrupted = () =>
      new ReproofError(
        'E_INTERRUPTED',
        `${lockFile}: interrupted while waiting for the ledger's lock; nothing was recorded`,
        { path: lockFile },
      )
    if (signal?.aborted === true) {
      reject(interrupted())
      return
    }
    const child = spawn(
      'flock',
      ['--exclusive', '--wait', seconds, '--conflict-exit-code', String(TIMED_OUT), '3'],
      { stdio: ['ignore', 'ignore', 'pipe', fd] },
    )
    const onAbort = (): void => {
      child.kill('SIGKILL')
    }
    signal?.addEventListener('abort', onAbort)
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        new ReproofError(
          'E_ENVIRONMENT',
          err.code === 'ENOENT'
            ? `${lockFile}: locking the ledger needs flock(1) (util-linux), which is not on PATH`
            : `${lockFile}: cannot run flock(1): ${err.message}`,
          { path: lockFile },
        ),
      )
    })
    child.on('close', (code, killedBy) => {
      signal?.removeEventListener('abort', onAbort)
      // Killed: by the abort above, or by the Ctrl-C a terminal sends its whole group.
      if (killedBy !== null || signal?.aborted === true) reject(interrupted())
      else if (code === 0) resolve()
      else if (code === TIMED_OUT)
        reject(
          new ReproofError(
            'E_AMBIGUOUS',
            `${lockFile}: the ledger stayed locked by another gate${holder(lockFile)} for ${timeoutMs} ms; nothing was recorded, a retry is safe`,
            { path: lockFile },
          ),
        )
      else
        reject(
          new ReproofError(
            'E_ENVIRONMENT',
            `${lockFile}: flock(1) failed: ${stderr.trim() || `exit ${String(code)}`}`,
            { path: lockFile },
          ),
        )
    })
  })
}

/** " (pid N on host)", from what the holder wrote; empty when it cannot be read. */
function holder(lockFile: string): string {
  try {
    const owner = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as { pid?: unknown; host?: unknown }
    return typeof owner.pid === 'number' && typeof owner.host === 'string'
      ? ` (last taken by pid ${owner.pid} on ${owner.host})`
      : ''
  } catch {
    return ''
  }
}
