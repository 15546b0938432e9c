import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/**
 * Temporary files and directories that name the process that made them, so that what a
 * process killed with SIGKILL (or by the OOM killer) could not remove is removed by the
 * next reproof that makes one of the same kind in the same place, once that process is
 * surely gone. The recovery of every crash point that leaves a temp file.
 *
 * Only what is surely an orphan is removed, since a live process's temp file removed
 * under it fails that process:
 * - made on this machine since its last boot, in this pid namespace (a host id from the
 *   boot id and the namespace: a temp dir shared between machines or containers holds
 *   others' files, whose pids mean nothing here);
 * - owned by this user (another's is not ours to judge, and may not be ours to remove);
 * - by a process whose pid runs no more, or runs a process started at another time;
 * - judged only where /proc is this process's own namespace's (in a container with the
 *   host's /proc, a pid there names another process).
 * Anything unreadable, and any removal that fails, leaves the entry where it is.
 */

/** The file in an owned directory that names its owner, `<pid> <start time>`. */
export const OWNER_FILE = '.reproof-owner'
/** Beside it, the host id the pid is of. */
const HOST_FILE = '.reproof-host'

interface Self {
  pid: number
  start: string
  host: string
  /** The start of this process's temp-file suffixes, all but the random part. */
  suffix: string
}

let self: Self | null | undefined
/** This process as /proc sees it, or null where /proc is not its namespace's. */
function whoAmI(): Self | null {
  if (self !== undefined) return self
  self = null
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8')
    const start = startTime(stat)
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    const namespace = fs.readlinkSync('/proc/self/ns/pid')
    if (Number(stat.split(' ')[0]) === process.pid && start !== undefined && boot !== '') {
      const host = crypto
        .createHash('sha256')
        .update(`${boot}\n${namespace}`)
        .digest('hex')
        .slice(0, 8)
      const suffix = `.reproof-o${host}.${process.pid.toString(36)}.${Number(start).toString(36)}.`
      self = { pid: process.pid, start, host, suffix }
    }
  } catch {
    // No /proc to read: nothing is marked, so nothing is ever judged an orphan.
  }
  return self
}

/** Field 22 of a /proc stat line: the start time in clock ticks since boot. */
function startTime(stat: string): string | undefined {
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  return start !== undefined && /^\d+$/.test(start) ? start : undefined
}

/**
 * Whether the process `pid`, started at `start`, is surely gone: its /proc entry is
 * missing and a signal finds no such process, or the pid now runs a process started at
 * another time. A /proc entry unreadable for any other reason (hidepid, no descriptors
 * left) is not gone.
 */
function processGone(pid: number, start: string): boolean {
  try {
    return startTime(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')) !== start
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return false
    try {
      process.kill(pid, 0)
      return false
    } catch (signal) {
      return (signal as NodeJS.ErrnoException).code === 'ESRCH'
    }
  }
}

/**
 * Whether an owner's mark, read from a temp dir or name, names a process surely gone
 * (pure but for /proc): of this host id, and gone by `processGone`.
 */
export function ownerGone(owner: { host: string; pid: string; start: string }): boolean {
  const me = whoAmI()
  if (me?.host !== owner.host) return false
  const pid = Number(owner.pid)
  if (!/^\d+$/.test(owner.pid) || !Number.isSafeInteger(pid) || pid <= 0) return false
  if (!/^\d+$/.test(owner.start)) return false
  return processGone(pid, owner.start)
}

/** This process's mark: what a temp dir's owner file holds. Undefined where it cannot be told. */
export function ownMark(): { host: string; pid: string; start: string } | undefined {
  const me = whoAmI()
  return me === null ? undefined : { host: me.host, pid: String(me.pid), start: me.start }
}

// Each place is swept once a process: a sweep reads the whole directory.
const swept = new Set<string>()

/**
 * A new private directory in `parent`, named `prefix` and six random characters (as
 * mkdtemp names it), holding the owner files, after the
 * orphans of the same prefix in `parent` are removed. Synchronous: callers that cannot
 * wait (a spool opened while a stream is read) use it too.
 */
export function ownedTempDir(parent: string, prefix: string): string {
  removeOrphanedDirs(parent, prefix)
  const dir = fs.mkdtempSync(path.join(parent, prefix))
  const me = whoAmI()
  if (me !== null) {
    // The host first: a dir with an owner file and no host file is never judged.
    fs.writeFileSync(path.join(dir, HOST_FILE), me.host, { mode: 0o600 })
    fs.writeFileSync(path.join(dir, OWNER_FILE), `${me.pid} ${me.start}`, { mode: 0o600 })
  }
  return dir
}

/** Makes a directory no later process may take for an orphan (kept on purpose). */
export function disown(dir: string): void {
  fs.rmSync(path.join(dir, OWNER_FILE), { force: true })
}

/**
 * Removes the directories in `parent` named `<prefix>` and six characters, as mkdtemp
 * names them, that this user owns and whose owner is surely gone. Unowned ones (kept on
 * purpose, or of another host id) are left alone, as is any that cannot be removed.
 */
export function removeOrphanedDirs(parent: string, prefix: string): void {
  const key = `${parent}\0${prefix}`
  const me = whoAmI()
  if (swept.has(key) || me === null) return
  swept.add(key)
  for (const name of listNames(parent)) {
    if (!isTempName(name, prefix)) continue
    const dir = path.join(parent, name)
    try {
      if (!ownedByMe(dir, 'directory')) continue
      const host = fs.readFileSync(path.join(dir, HOST_FILE), 'utf8')
      const [pid = '', start = ''] = fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8').split(' ')
      if (ownerGone({ host, pid, start })) fs.rmSync(dir, { recursive: true, force: true })
    } catch {
      // Unreadable, or not removable: left as it is.
    }
  }
}

function listNames(dir: string): string[] {
  try {
    return fs.readdirSync(dir)
  } catch {
    return []
  }
}

function ownedByMe(file: string | Buffer, kind: 'directory' | 'file'): boolean {
  const stat = fs.lstatSync(file)
  const isKind = kind === 'directory' ? stat.isDirectory() : stat.isFile()
  return isKind && stat.uid === process.geteuid?.()
}

function isTempName(name: string, prefix: string): boolean {
  return (
    name.length === prefix.length + 6 &&
    name.startsWith(prefix) &&
    /^[A-Za-z0-9]{6}$/.test(name.slice(prefix.length))
  )
}

/** The suffix of an owned temp file beside a target; `.reproof-`, then the owner, then random hex. */
const OWNED_SUFFIX = /\.reproof-o([0-9a-f]{8})\.([0-9a-z]+)\.([0-9a-z]+)\.[0-9a-f]{8}$/
const NAME_MAX = 255

/**
 * The suffix of a temp file: its owner in the name (host id, pid and start time, the
 * numbers in base 36), since a file cannot hold an owner file. Where the owner cannot be
 * told, an unowned one: never removed by a sweep.
 */
function ownedTempSuffix(): string {
  const random = crypto.randomBytes(6).toString('hex')
  const me = whoAmI()
  if (me === null) return `.reproof-${random}`
  return `${me.suffix}${random.slice(0, 8)}`
}

/**
 * The name of a temp file beside a target named `base`: `.`, the base, the owned suffix.
 * A base too long for both in a name (255 bytes) is cut short, so that the suffix, and so
 * the owner a sweep reads, always fits: a long name was written unowned, and a temp file
 * a crash left of it stayed for good (or, longer still, could not be written at all).
 */
export function ownedTempName<B extends string | Buffer>(base: B): B
export function ownedTempName(base: string | Buffer): string | Buffer {
  const suffix = ownedTempSuffix()
  const room = NAME_MAX - 1 - Buffer.byteLength(suffix)
  if (typeof base !== 'string')
    return Buffer.concat([Buffer.from('.'), base.subarray(0, room), Buffer.from(suffix)])
  let kept = base
  // Cut by characters, never inside one, until the bytes fit.
  while (Buffer.byteLength(kept) > room) kept = Array.from(kept).slice(0, -1).join('')
  return `.${kept}${suffix}`
}

/**
 * Removes the temp files in `dir` (any target's) that this user's processes now gone left
 * behind. Once a directory a process: many targets written to one directory read it once.
 */
export function removeOrphanedTemps(dir: string | Buffer): void {
  const key = `\0${Buffer.from(dir).toString('latin1')}`
  if (swept.has(key) || whoAmI() === null) return
  swept.add(key)
  let names: Buffer[]
  try {
    names = fs.readdirSync(dir, { encoding: 'buffer' })
  } catch {
    return
  }
  for (const name of names) {
    if (name[0] !== 0x2e) continue
    const owner = OWNED_SUFFIX.exec(name.toString('latin1'))
    if (owner === null) continue
    const [, host = '', pid36 = '', start36 = ''] = owner
    const file = Buffer.concat([Buffer.from(dir), Buffer.from('/'), name])
    try {
      if (!ownedByMe(file, 'file')) continue
      const owned = { host, pid: fromBase36(pid36), start: fromBase36(start36) }
      if (ownerGone(owned)) fs.rmSync(file, { force: true })
    } catch {
      // Unreadable, or not removable: left as it is.
    }
  }
}

function fromBase36(text: string): string {
  const n = Number.parseInt(text, 36)
  return Number.isSafeInteger(n) ? String(n) : ''
}
