import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/**
 * Temporary files and directories that name the process that made them, so that what a
 * process killed with SIGKILL (or by the OOM killer, or a lost machine) could not remove
 * is removed by the next reproof that makes one of the same kind in the same place, once
 * that process is gone. The recovery of every crash point that leaves a temp file.
 *
 * A process is named by its pid namespace, pid and start time: a pid alone may be reused,
 * and a process of another namespace (a container sharing the directory) is not ours to
 * judge, so its files are always left alone, as is anything unreadable.
 */

/** The file in an owned directory that names its owner. */
export const OWNER_FILE = '.reproof-owner'

/** `<pid namespace> <pid> <start time in clock ticks since boot>`; undefined if unreadable. */
export function ownerMark(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const start = fields[19]
    if (start === undefined || start === '') return undefined
    return `${pidNamespace() ?? '?'} ${pid} ${start}`
  } catch {
    return undefined
  }
}

let ownNamespace: string | null | undefined
function pidNamespace(): string | undefined {
  if (ownNamespace === undefined) {
    try {
      ownNamespace = /\[(\d+)\]/.exec(fs.readlinkSync('/proc/self/ns/pid'))?.[1] ?? null
    } catch {
      ownNamespace = null
    }
  }
  return ownNamespace ?? undefined
}

/**
 * Whether the process a mark names is surely gone: the mark is of this pid namespace,
 * and its pid runs no more or runs a process started at another time (pure but for
 * /proc). Anything else (another namespace, a mark not read whole) is not gone.
 */
export function ownerGone(mark: string): boolean {
  const [namespace, pidText, start] = mark.trim().split(' ')
  const pid = Number(pidText)
  const ours = pidNamespace()
  if (ours === undefined || namespace !== ours) return false
  if (!Number.isInteger(pid) || pid <= 0 || start === undefined || !/^\d+$/.test(start))
    return false
  return ownerMark(pid) !== mark.trim()
}

// Each place is swept once a process: a sweep reads the whole directory.
const swept = new Set<string>()

/**
 * A new private directory `<parent>/<prefix>XXXXXX` holding the owner file, after the
 * orphans of the same prefix in `parent` are removed. Synchronous: callers that cannot
 * wait (a spool opened while a stream is read) use it too.
 */
export function ownedTempDir(parent: string, prefix: string): string {
  removeOrphanedDirs(parent, prefix)
  const dir = fs.mkdtempSync(path.join(parent, prefix))
  const mark = ownerMark(process.pid)
  if (mark !== undefined) fs.writeFileSync(path.join(dir, OWNER_FILE), mark, { mode: 0o600 })
  return dir
}

/** Makes a directory no later process may take for an orphan (kept on purpose). */
export function disown(dir: string): void {
  fs.rmSync(path.join(dir, OWNER_FILE), { force: true })
}

/**
 * Removes the directories in `parent` named `<prefix>` and six characters, as mkdtemp
 * names them, whose owner file names a process that is gone. Unowned ones (kept on
 * purpose, or made before owners were written) are left alone.
 */
export function removeOrphanedDirs(parent: string, prefix: string): void {
  const key = `${parent}\0${prefix}`
  if (swept.has(key)) return
  swept.add(key)
  let entries: fs.Dirent[]
  try {
    entries = fs.readdirSync(parent, { withFileTypes: true })
  } catch {
    return
  }
  for (const entry of entries) {
    if (!entry.isDirectory() || !isTempName(entry.name, prefix)) continue
    const dir = path.join(parent, entry.name)
    let mark: string
    try {
      mark = fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8')
    } catch {
      continue
    }
    if (ownerGone(mark)) fs.rmSync(dir, { recursive: true, force: true })
  }
}

function isTempName(name: string, prefix: string): boolean {
  return (
    name.length === prefix.length + 6 &&
    name.startsWith(prefix) &&
    /^[A-Za-z0-9]{6}$/.test(name.slice(prefix.length))
  )
}

/**
 * The suffix of a temp file beside a target: `.reproof-` and the owner's mark in the
 * name (`<namespace>.<pid>.<start>`), then random hex. A file cannot hold an owner file.
 */
export function ownedTempSuffix(): string {
  const mark = ownerMark(process.pid)
  const owner = mark === undefined ? 'x' : mark.split(' ').join('.')
  return `.reproof-${owner}-${crypto.randomBytes(6).toString('hex')}`
}

/**
 * Removes the temp files beside `target` (its basename with our suffix) that a process
 * now gone left behind. `dir` and `base` are bytes where the name is not UTF-8.
 */
export function removeOrphanedTemps(dir: string | Buffer, base: string | Buffer): void {
  const key = `${Buffer.from(dir).toString('latin1')}\0${Buffer.from(base).toString('latin1')}`
  if (swept.has(key)) return
  swept.add(key)
  const head = Buffer.concat([Buffer.from('.'), Buffer.from(base), Buffer.from('.reproof-')])
  let names: Buffer[]
  try {
    names = fs.readdirSync(dir, { encoding: 'buffer' })
  } catch {
    return
  }
  for (const name of names) {
    if (name.length <= head.length || !name.subarray(0, head.length).equals(head)) continue
    const owner = /^(\d+)\.(\d+)\.(\d+)-[0-9a-f]{12}$/.exec(
      name.subarray(head.length).toString('latin1'),
    )
    if (owner === null || !ownerGone(`${owner[1]} ${owner[2]} ${owner[3]}`)) continue
    fs.rmSync(Buffer.concat([Buffer.from(dir), Buffer.from('/'), name]), { force: true })
  }
}
