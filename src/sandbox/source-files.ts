import fs from 'node:fs/promises'
import path from 'node:path'
import fg from 'fast-glob'
import { compareBytes } from '../canonical.js'
import { ReproofError } from '../errors.js'

export type SourceEntry =
  | { kind: 'file'; rel: string; exec: boolean; size: number }
  | { kind: 'dir'; rel: string }
  | { kind: 'symlink'; rel: string; target: string }

/**
 * Lists what goes into a snapshot. In a git work tree that is the tracked files as
 * they stand (not the untracked debris of a developer's tree); elsewhere every file
 * below the source. `.git` is never part of it. Special files are refused.
 */
export async function listSourceEntries(
  sourceDir: string,
  options: { tracked: readonly string[] | undefined; exclude: readonly string[] },
): Promise<SourceEntry[]> {
  const candidates =
    options.tracked ??
    (await fg('**', {
      cwd: sourceDir,
      dot: true,
      onlyFiles: false,
      followSymbolicLinks: false,
      ignore: ['**/.git', '**/.git/**'],
    }))
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

  const entries: SourceEntry[] = []
  for (const rel of candidates.filter((r) => !isExcluded(r)).sort(compareBytes)) {
    const abs = path.join(sourceDir, rel)
    let stat
    try {
      stat = await fs.lstat(abs)
    } catch {
      continue // a tracked file deleted in the work tree: the tree is dirty, and git says so
    }
    if (stat.isFile()) {
      entries.push({ kind: 'file', rel, exec: (stat.mode & 0o111) !== 0, size: stat.size })
    } else if (stat.isDirectory()) {
      entries.push({ kind: 'dir', rel })
    } else if (stat.isSymbolicLink()) {
      entries.push({ kind: 'symlink', rel, target: await fs.readlink(abs) })
    } else {
      throw new ReproofError(
        'E_INPUT',
        `${abs}: a special file (device, FIFO or socket) cannot be part of a build source`,
        {
          path: abs,
          hint: 'exclude it with --exclude',
        },
      )
    }
  }
  return entries
}
