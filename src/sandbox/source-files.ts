import fs from 'node:fs'
import path from 'node:path'
import fg from 'fast-glob'
import { compareBytes } from '../canonical.js'
import { ReproofError } from '../errors.js'

export type SourceEntry =
  | { kind: 'file'; rel: string; mode: number; size: number }
  | { kind: 'dir'; rel: string }
  | { kind: 'symlink'; rel: string; target: string }

/**
 * Lists what goes into a snapshot. In a git work tree that is the tracked files as
 * they stand (not the untracked debris of a developer's tree); elsewhere every file
 * below the source. `.git` is never part of it. Special files are refused.
 *
 * The walk is synchronous on purpose: one readdir per directory and one lstat per
 * entry, without a promise per file, is what keeps a 20,000-file snapshot near `cp -a`.
 */
export async function listSourceEntries(
  sourceDir: string,
  options: { tracked: readonly string[] | undefined; exclude: readonly string[] },
): Promise<SourceEntry[]> {
  const excluded =
    options.exclude.length === 0
      ? new Set<string>()
      : new Set(
          await fg([...options.exclude], {
            cwd: sourceDir,
            dot: true,
            onlyFiles: false,
            followSymbolicLinks: false,
          }),
        )
  const isExcluded = (rel: string): boolean => {
    for (let p = rel; p !== '.' && p !== ''; p = path.posix.dirname(p)) {
      if (excluded.has(p) || p === '.git' || p.endsWith('/.git')) return true
    }
    return false
  }
  const candidates = options.tracked ?? walk(sourceDir)
  const entries: SourceEntry[] = []
  for (const rel of candidates.filter((r) => !isExcluded(r)).sort(compareBytes)) {
    const entry = describe(sourceDir, rel)
    if (entry !== undefined) entries.push(entry)
  }
  return entries
}

/** Every path below `root`, relative and `/`-separated, links not followed. */
function walk(root: string): string[] {
  const out: string[] = []
  const visit = (rel: string): void => {
    const dirents = fs.readdirSync(rel === '' ? root : path.join(root, rel), {
      withFileTypes: true,
    })
    for (const dirent of dirents) {
      const childRel = rel === '' ? dirent.name : `${rel}/${dirent.name}`
      if (dirent.name === '.git') continue
      out.push(childRel)
      if (dirent.isDirectory()) visit(childRel)
    }
  }
  visit('')
  return out
}

function describe(sourceDir: string, rel: string): SourceEntry | undefined {
  const abs = path.join(sourceDir, rel)
  let stat
  try {
    stat = fs.lstatSync(abs)
  } catch {
    return undefined // a tracked file deleted in the work tree: the tree is dirty, and git says so
  }
  if (stat.isFile()) return { kind: 'file', rel, mode: stat.mode & 0o7777, size: stat.size }
  if (stat.isDirectory()) return { kind: 'dir', rel }
  if (stat.isSymbolicLink()) return { kind: 'symlink', rel, target: fs.readlinkSync(abs) }
  throw new ReproofError(
    'E_INPUT',
    `${abs}: a special file (device, FIFO or socket) cannot be part of a build source`,
    { path: abs, hint: 'exclude it with --exclude' },
  )
}
