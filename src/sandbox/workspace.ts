import crypto from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { ReproofError } from '../errors.js'
import { disown, ownedTempDir } from '../owned-temp.js'
import type { RunLayout } from './run-plan.js'

// statfs(2) magic for tmpfs. On tmpfs, directory listings follow creation order, which
// is what makes the ordering variation bite without FUSE (disorderfs).
const TMPFS_MAGIC = 0x01021994
// Containers often mount a 64 MiB /dev/shm; two build roots must not run out of room
// there, so a tmpfs with less free space than this is passed over.
const MIN_TMPFS_FREE = 4 * 1024 ** 3

export interface Workspace {
  base: string
  canary: string
  layouts: { a: RunLayout; b: RunLayout }
  /** Removes everything reproof created. Safe to call twice. */
  remove(): Promise<void>
}

const live = new Set<string>()

// Last resort: if reproof exits while a workspace exists (an uncaught error, a signal
// handled by exiting), remove it synchronously on the way out.
process.once('exit', () => {
  for (const dir of live) fs.rmSync(dir, { recursive: true, force: true })
})

/**
 * Where the workspace goes. One given on the command line must be there already: a
 * mistyped path made directories wherever it led. One from the configuration file lies
 * inside the source tree (checked when the file is read), and is made if missing.
 */
export async function chooseTempParent(
  requested: { dir: string; from: 'flag' | 'config' } | undefined,
): Promise<string> {
  if (requested !== undefined) {
    const { dir, from } = requested
    const name = from === 'flag' ? `--temp-dir ${dir}` : `"tempDir" of the configuration: ${dir}`
    let stat: fs.Stats | undefined
    try {
      if (from === 'config') await fsp.mkdir(dir, { recursive: true })
      stat = await fsp.stat(dir)
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT'
      throw new ReproofError(
        'E_INPUT',
        `${name}: ${missing ? 'no such directory' : `cannot be read (${(err as Error).message})`}`,
        { path: dir },
        { cause: err },
      )
    }
    if (!stat.isDirectory())
      throw new ReproofError('E_INPUT', `${name}: not a directory`, { path: dir })
    try {
      await fsp.access(dir, fs.constants.W_OK)
    } catch (err) {
      throw new ReproofError('E_INPUT', `${name}: not writable`, { path: dir }, { cause: err })
    }
    return dir
  }
  for (const candidate of ['/dev/shm']) {
    try {
      const stat = await fsp.statfs(candidate)
      await fsp.access(candidate, fs.constants.W_OK)
      if (stat.type === TMPFS_MAGIC && stat.bavail * stat.bsize >= MIN_TMPFS_FREE) return candidate
    } catch {
      // not there, or not ours to write
    }
  }
  return os.tmpdir()
}

/**
 * Makes one private base directory holding both runs. The two build roots differ in
 * their absolute paths, in the paths' lengths and in their own names, and run B's path
 * carries the canary, so that a path embedded in an output can be told apart and traced.
 */
export async function createWorkspace(options: {
  parent: string
  name: string
}): Promise<Workspace> {
  const canary = `canary${crypto.randomBytes(5).toString('hex')}`
  // A workspace names the process that made it: one a reproof killed with SIGKILL could
  // not remove, the next run in the same parent does, once that process is gone.
  const base = ownedTempDir(options.parent, 'reproof-')
  live.add(base)
  const layout = (id: 'a' | 'b', dirName: string, rootName: string): RunLayout => {
    const dir = path.join(base, dirName)
    return {
      id,
      dir,
      root: path.join(dir, rootName),
      home: path.join(dir, 'home'),
      tmp: path.join(dir, 'tmp'),
      stdoutLog: path.join(dir, 'stdout.log'),
      stderrLog: path.join(dir, 'stderr.log'),
    }
  }
  // Run B's root has a name of its own too: a build that names what it makes after its
  // directory (Gradle's project name, a tarball's top directory) differs by it. And it
  // lies one directory deeper: a relative path out of the tree (to /usr/include, or to
  // HOME beside the root) is then another in B, as it is at another checkout.
  const layouts = {
    a: layout('a', 'a', options.name),
    b: layout('b', `b-path-${canary}`, path.join(`src-${canary}`, `${options.name}-${canary}`)),
  }
  await fsp.mkdir(layouts.a.dir)
  await fsp.mkdir(layouts.b.dir)
  let removed = false
  return {
    base,
    canary,
    layouts,
    async remove() {
      if (removed) return
      removed = true
      await fsp.rm(base, { recursive: true, force: true, maxRetries: 3 })
      live.delete(base)
    },
  }
}

/**
 * Whether two roots are laid out as createWorkspace lays out a workspace with this
 * canary: run A's `<base>/a/<name>`, run B's `<base>/b-path-<canary>/src-<canary>/<name>-<canary>`,
 * the base a `reproof-` directory. A build record's roots are read only when they are
 * (with --keep): a record is input, and its roots could name any directory, `/` too.
 */
export function isWorkspaceLayout(canary: string, rootA: string, rootB: string): boolean {
  if (!/^canary[0-9a-f]{10}$/.test(canary)) return false
  if (![rootA, rootB].every((r) => path.isAbsolute(r) && path.resolve(r) === r)) return false
  const name = path.basename(rootA)
  const base = path.dirname(path.dirname(rootA))
  return (
    path.basename(path.dirname(rootA)) === 'a' &&
    path.basename(base).startsWith('reproof-') &&
    rootB === path.join(base, `b-path-${canary}`, `src-${canary}`, `${name}-${canary}`)
  )
}

/** Stops the exit hook from removing a workspace the user asked to keep. */
export function keepWorkspace(workspace: Workspace): void {
  live.delete(workspace.base)
  // Kept on purpose: no later run may take it for an orphan.
  disown(workspace.base)
}

/**
 * Creates the same few entries in each run's private dir, in that run's creation
 * order, and reports whether the filesystem lists them back in different orders.
 */
export async function listingOrderDiffers(dirs: { a: string; b: string }): Promise<boolean> {
  const names = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7']
  const listing = async (dir: string, order: string[]): Promise<string[]> => {
    const probe = path.join(dir, 'order-probe')
    await fsp.mkdir(probe)
    for (const name of order) await fsp.writeFile(path.join(probe, name), '')
    // Not readdir: libuv sorts its results. opendir reads entries as the kernel lists them.
    const seen: string[] = []
    for await (const entry of await fsp.opendir(probe)) seen.push(entry.name)
    await fsp.rm(probe, { recursive: true, force: true })
    return seen
  }
  const a = await listing(dirs.a, names)
  const b = await listing(dirs.b, [...names].reverse())
  return a.join('/') !== b.join('/')
}
