import crypto from 'node:crypto'
import fsSync from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Writable } from 'node:stream'
import { ReproofError } from '../errors.js'
import { fromFsPath, toDisplayText } from '../file-names.js'
import { batchedFdSink } from './batched-file-sink.js'
import { ownedTempName, removeOrphanedTemps } from '../owned-temp.js'

/**
 * Replaces `target` all at once: write a temp file beside it, fsync it, rename it over
 * the target, fsync the directory. A crash leaves either the old file or the new one,
 * never half of either; at worst a stray temp file, which carries our prefix.
 */
export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  mode = 0o644,
): Promise<void> {
  await replaceAtomic(target, mode, async (handle) => {
    await handle.writeFile(data)
  })
}

/**
 * writeFileAtomic for callers that cannot wait: the same steps (temp file beside the
 * target, fsync, rename, fsync of the directory), synchronously.
 */
export function writeFileAtomicSync(target: string, data: string | Uint8Array, mode = 0o644): void {
  const dir = path.dirname(target)
  const temp = tempBeside(target)
  try {
    mkdirDurableSync(dir)
    const fd = fsSync.openSync(temp, 'wx', mode)
    try {
      fsSync.writeFileSync(fd, data)
      fsSync.fsyncSync(fd)
    } finally {
      fsSync.closeSync(fd)
    }
    fsSync.renameSync(temp, target)
    const dirFd = fsSync.openSync(dir, 'r')
    try {
      fsSync.fsyncSync(dirFd)
    } finally {
      fsSync.closeSync(dirFd)
    }
  } catch (err) {
    fsSync.rmSync(temp, { force: true })
    throw writeError(target, temp, err)
  }
}

/** A path for file system calls: a Buffer when its name is not UTF-8 (see file-names.ts). */
type FsPath = string | Buffer

/**
 * Copies `source` to `target` atomically, with the given mode and mtime, and returns
 * the SHA-256 of the bytes written, so the caller can prove the copy is what it hashed.
 */
export async function copyFileAtomic(
  source: FsPath,
  target: FsPath,
  // With `expect`, a copy whose bytes hash otherwise is never put in the target's place.
  options: {
    mode: number
    mtime: number
    expect?: { sha256: string; mismatch: (found: string) => Error }
  },
): Promise<string> {
  const hash = crypto.createHash('sha256')
  await replaceAtomic(target, options.mode, async (handle) => {
    const input = await fs.open(source, 'r')
    try {
      const buffer = Buffer.allocUnsafe(1024 * 1024)
      for (;;) {
        const { bytesRead } = await input.read(buffer, 0, buffer.length, null)
        if (bytesRead === 0) break
        hash.update(buffer.subarray(0, bytesRead))
        // A write may take fewer bytes than given (a full disk, a file size limit): the
        // rest is written again, or the error it ends in is thrown, never dropped.
        for (let at = 0; at < bytesRead;) {
          const { bytesWritten } = await handle.write(buffer, at, bytesRead - at)
          if (bytesWritten === 0) throw noProgress()
          at += bytesWritten
        }
      }
    } finally {
      await input.close()
    }
    await handle.utimes(options.mtime, options.mtime)
    const found = hash.copy().digest('hex')
    if (options.expect !== undefined && found !== options.expect.sha256)
      throw options.expect.mismatch(found)
  })
  return hash.digest('hex')
}

async function replaceAtomic(
  target: FsPath,
  mode: number,
  fill: (handle: fs.FileHandle) => Promise<void>,
): Promise<void> {
  const dir = dirnameOf(target)
  const temp = tempBeside(target)
  let handle: fs.FileHandle
  try {
    if (typeof dir === 'string') await mkdirDurable(dir)
    else await fs.mkdir(dir, { recursive: true })
    handle = await fs.open(temp, 'wx', mode)
  } catch (err) {
    throw writeError(target, temp, err)
  }
  try {
    await fill(handle)
    await handle.chmod(mode)
    await handle.sync()
    await handle.close()
    await fs.rename(temp, target)
  } catch (err) {
    await handle.close().catch(() => undefined)
    await fs.rm(temp, { force: true })
    throw writeError(target, temp, err)
  }
  await syncDir(dir)
}

/**
 * A temp file beside `target`, named with our prefix and its owner, so a crash leaves
 * something recognizable, which the next write of the same target removes once its
 * owner is gone (owned-temp.ts).
 */
function tempBeside<P extends FsPath>(target: P): P
function tempBeside(target: FsPath): FsPath {
  if (typeof target === 'string') {
    removeOrphanedTemps(path.dirname(target))
    return path.join(path.dirname(target), ownedTempName(path.basename(target)))
  }
  const slash = target.lastIndexOf(0x2f)
  const base = target.subarray(slash + 1)
  removeOrphanedTemps(dirnameOf(target))
  return Buffer.concat([target.subarray(0, slash + 1), ownedTempName(base)])
}

function dirnameOf(p: FsPath): FsPath {
  return typeof p === 'string' ? path.dirname(p) : p.subarray(0, Math.max(p.lastIndexOf(0x2f), 1))
}

const WHY: Record<string, string> = {
  EISDIR: 'it is a directory',
  ENOTDIR: 'a parent is not a directory',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'over the disk quota',
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'read-only file system',
}

/**
 * A failed system call on the way to `target`, as a one-line error naming it. Errors about
 * other files (the source a copy reads) and errors that are not system calls pass as they are.
 */
/** Why a write failed, in words (`no space left on the device`). */
export function whyWriteFailed(err: unknown): string {
  const { code } = err as NodeJS.ErrnoException
  return (code !== undefined ? WHY[code] : undefined) ?? code ?? 'unknown error'
}

function writeError(targetPath: FsPath, tempPath: FsPath, err: unknown): unknown {
  const { syscall, path: about } = err as NodeJS.ErrnoException
  // Node reports a Buffer path decoded as UTF-8, as String() does.
  const [target, temp] = [String(targetPath), String(tempPath)]
  // No path: a write or sync on our descriptor. Else the temp file, the target, or a
  // directory on the way to them.
  const ours =
    about === undefined ||
    about === temp ||
    about === target ||
    path.dirname(target) === about ||
    path.dirname(target).startsWith(`${about}${path.sep}`)
  if (err instanceof ReproofError || syscall === undefined || !ours) return err
  return new ReproofError(
    'E_ENVIRONMENT',
    `${toDisplayText(fromFsPath(targetPath))}: cannot write it: ${whyWriteFailed(err)}`,
    { path: toDisplayText(fromFsPath(targetPath)) },
    { cause: err },
  )
}

/** A file written in full beside its target, not yet in its place. */
export interface StagedFile<T> {
  result: T
  temp: string
  /** Renames it over the target (atomic), then syncs the directory. */
  commit(): Promise<void>
  /** Removes it; the target is untouched. */
  discard(): Promise<void>
}

/**
 * Streams into a temp file beside `target`: `fill` writes to (and ends) the stream;
 * then fsync and close. Nothing is in the target's place until `commit`, so a caller
 * can check several files before it replaces any. If `fill` throws, the temp file is
 * removed and the error thrown.
 */
export async function stageFileAtomic<T>(
  target: string,
  mode: number,
  fill: (out: Writable) => Promise<T>,
  /** The owner to give it (a file replaced in place keeps its own); failing that, nothing is staged. */
  owner?: { uid: number; gid: number },
): Promise<StagedFile<T>> {
  const dir = path.dirname(target)
  const temp = tempBeside(target)
  // A numeric descriptor, not a FileHandle: a handle's close() waits for streams on it
  // that were told not to close it, which is a deadlock.
  let fd: number
  // The first directory this made, if any: removed again with what it made below it
  // when nothing is written, so that a refused input leaves no empty directory behind.
  let made: string | undefined
  try {
    made = await fs.mkdir(dir, { recursive: true })
    fd = fsSync.openSync(temp, 'wx', mode)
  } catch (err) {
    throw writeError(target, temp, err)
  }
  let open = true
  const closeFd = (): void => {
    if (open) fsSync.closeSync(fd)
    open = false
  }
  const discard = async (): Promise<void> => {
    await fs.rm(temp, { force: true })
    const below = (d: string): boolean =>
      made !== undefined && !path.relative(path.resolve(made), path.resolve(d)).startsWith('..')
    for (let d = dir; below(d); d = path.dirname(d)) {
      // Only empty ones: anything another writer put there meanwhile stays.
      if (
        !(await fs.rmdir(d).then(
          () => true,
          () => false,
        ))
      )
        break
      if (d === made) break
    }
  }
  try {
    const out = batchedFdSink(fd, false)
    const finished = new Promise<void>((resolve, reject) => {
      out.on('finish', resolve)
      out.on('error', reject)
    })
    // Awaited below, after `fill`: a write that fails while `fill` still runs (a full
    // disk at the last flush) rejected it first, unhandled, and the process crashed as an
    // internal error with the temp file left. The rejection is still seen below.
    finished.catch(() => undefined)
    const result = await fill(out)
    if (!out.writableEnded) out.end()
    await finished
    // Owner first: a change of owner clears the setuid and setgid bits the mode sets.
    if (owner !== undefined) {
      try {
        fsSync.fchownSync(fd, owner.uid, owner.gid)
      } catch (err) {
        throw new ReproofError(
          'E_ENVIRONMENT',
          `${toDisplayText(fromFsPath(target))}: cannot give the file written in its place its owner (${owner.uid}:${owner.gid}): ${whyWriteFailed(err)}`,
          { path: toDisplayText(fromFsPath(target)) },
          { cause: err },
        )
      }
    }
    fsSync.fchmodSync(fd, mode)
    fsSync.fsyncSync(fd)
    closeFd()
    const commit = async (): Promise<void> => {
      try {
        await fs.rename(temp, target)
        await syncDir(dir)
        // The directories made for it, each into its parent: else a crash could lose
        // the output with a directory the disk never had.
        if (made !== undefined) for (const d of madeDirs(dir, made)) await syncDir(path.dirname(d))
      } catch (err) {
        await discard()
        throw writeError(target, temp, err)
      }
    }
    return { result, temp, commit, discard }
  } catch (err) {
    closeFd()
    await discard()
    throw writeError(target, temp, err)
  }
}

/**
 * Streams into `target` atomically: a staged temp file (see stageFileAtomic), then
 * rename and fsync of the directory. If `fill` throws, the temp file is removed and the
 * target is untouched. `keep` can veto the rename (for in-place rewrites that turned
 * out identical), which then also removes the temp file.
 */
export async function streamFileAtomic<T>(
  target: string,
  mode: number,
  fill: (out: Writable) => Promise<T>,
  keep: (result: T, temp: string) => Promise<boolean> = () => Promise.resolve(true),
): Promise<{ result: T; written: boolean }> {
  const staged = await stageFileAtomic(target, mode, fill)
  let kept: boolean
  try {
    kept = await keep(staged.result, staged.temp)
  } catch (err) {
    await staged.discard()
    throw err
  }
  if (!kept) {
    await staged.discard()
    return { result: staged.result, written: false }
  }
  await staged.commit()
  return { result: staged.result, written: true }
}

/**
 * `mkdir -p` that lasts: each directory it makes is fsynced into its parent, so that a
 * file fsynced below it is not lost after a crash with a directory the disk never had.
 */
export async function mkdirDurable(dir: string): Promise<void> {
  const first = await fs.mkdir(dir, { recursive: true })
  if (first === undefined) return
  for (const made of madeDirs(dir, first)) await syncDir(path.dirname(made))
}

/**
 * mkdirDurable, synchronously. With `ancestors`, every directory up to the root is
 * fsynced into its parent even when none was made now: one an earlier call made, and
 * died before syncing (a crash, an fsync that failed), exists but may not outlast a
 * power cut.
 */
export function mkdirDurableSync(dir: string, { ancestors = false } = {}): void {
  const first = fsSync.mkdirSync(dir, { recursive: true })
  const top = ancestors ? path.parse(path.resolve(dir)).root : first
  if (top === undefined) return
  const madeNow = first === undefined ? [] : madeDirs(dir, first)
  for (const made of madeDirs(dir, top)) {
    if (path.dirname(made) === made) continue
    let fd: number
    try {
      fd = fsSync.openSync(path.dirname(made), 'r')
    } catch (err) {
      // A directory this user may only pass through (mode 0711) cannot be opened to
      // sync: one made before, by someone who could, is theirs to have synced. One
      // made now is this call's, and its parent is synced or the call fails.
      const code = (err as NodeJS.ErrnoException).code
      if ((code === 'EACCES' || code === 'EPERM') && !madeNow.includes(made)) continue
      throw err
    }
    try {
      fsSync.fsyncSync(fd)
    } finally {
      fsSync.closeSync(fd)
    }
  }
}

/** The directories a recursive mkdir of `dir` made, `first` (what it returned) to `dir`. */
function madeDirs(dir: string, first: string): string[] {
  const top = path.resolve(first)
  const made: string[] = []
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    made.push(d)
    if (d === top || d === path.dirname(d)) return made
  }
}

/**
 * Writes all of `data` at the file's offset (or at `position`): a write may take fewer
 * bytes than given (a full disk, a file size limit), and the rest is written again, so
 * that the call either writes everything or throws.
 */
export function writeAllSync(fd: number, data: string | Uint8Array, position?: number): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data
  for (let at = 0; at < bytes.length;) {
    const n = fsSync.writeSync(
      fd,
      bytes,
      at,
      bytes.length - at,
      position === undefined ? null : position + at,
    )
    if (n === 0) throw noProgress()
    at += n
  }
}

function noProgress(): NodeJS.ErrnoException {
  return Object.assign(new Error('a write made no progress'), { code: 'EIO' })
}

export async function syncDir(dir: FsPath): Promise<void> {
  const handle = await fs.open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
