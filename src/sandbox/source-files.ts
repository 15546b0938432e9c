import fs from 'node:fs'
import { ReproofError } from '../errors.js'
import { compareNames, fromNameBytes, toDisplayText, toFsPath } from '../file-names.js'
import { compileGlob, type CompiledGlob } from '../globs.js'
import { walkTree } from './walk.js'

/** Paths in the name form (see file-names.ts): exact bytes, even when not UTF-8. */
export type SourceEntry =
  | { kind: 'file'; rel: string; mode: number; size: number }
  | { kind: 'dir'; rel: string }
  | { kind: 'symlink'; rel: string; target: string }

export interface SourceListing {
  entries: SourceEntry[]
  /**
   * What was left out because an `--out` glob matches it: the topmost matching path of
   * each (a directory stands for everything below it), in byte order.
   */
  excludedOutputs: string[]
}

/**
 * Lists what goes into a snapshot. In a git work tree that is the tracked files as
 * they stand (not the untracked debris of a developer's tree); elsewhere every file
 * below the source. `.git` is never part of it. Special files are refused.
 *
 * Artifacts are outputs, never inputs: whatever an `--out` glob matches is left out,
 * so that an artifact copied back into the source by an earlier run (the default
 * `--out-dir`) cannot pass for a fresh one, as it does when `make` finds it up to date.
 *
 * The walk is synchronous on purpose: one readdir per directory and one lstat per
 * entry, without a promise per file, is what keeps a 20,000-file snapshot near `cp -a`.
 */
export function listSourceEntries(
  sourceDir: string,
  options: {
    tracked: readonly string[] | undefined
    exclude: readonly string[]
    outputs: readonly string[]
  },
): SourceListing {
  const exclude = options.exclude.map(compileGlob)
  const outputs = options.outputs.map(compileGlob)
  const candidates = options.tracked ?? listAll(sourceDir)
  const entries: SourceEntry[] = []
  const excludedOutputs = new Set<string>()
  for (const rel of [...candidates].sort(compareNames)) {
    const ancestors = selfAndAncestors(rel)
    if (ancestors.some((p) => isGitDir(p) || matchesAny(exclude, p))) continue
    // The topmost: `dist` rather than each file below it.
    const output = ancestors.findLast((p) => matchesAny(outputs, p))
    if (output !== undefined) {
      excludedOutputs.add(output)
      continue
    }
    const entry = describe(sourceDir, rel)
    if (entry !== undefined) entries.push(entry)
  }
  return { entries, excludedOutputs: [...excludedOutputs].sort(compareNames) }
}

/** Every path below `root`, `.git` left out. */
function listAll(root: string): string[] {
  const out: string[] = []
  walkTree(root, '', (entry) => {
    if (entry.rel === '.git' || entry.rel.endsWith('/.git')) return false
    out.push(entry.rel)
    return true
  })
  return out
}

/** `a/b/c`, `a/b`, `a`. */
function selfAndAncestors(rel: string): string[] {
  const out = [rel]
  for (let i = rel.lastIndexOf('/'); i > 0; i = rel.lastIndexOf('/', i - 1)) {
    out.push(rel.slice(0, i))
  }
  return out
}

function isGitDir(rel: string): boolean {
  return rel === '.git' || rel.endsWith('/.git')
}

function matchesAny(globs: readonly CompiledGlob[], rel: string): boolean {
  return globs.some((g) => g.matches(rel))
}

function describe(sourceDir: string, rel: string): SourceEntry | undefined {
  const abs = toFsPath(sourceDir, rel)
  let stat
  try {
    stat = fs.lstatSync(abs)
  } catch {
    return undefined // a tracked file deleted in the work tree: the tree is dirty, and git says so
  }
  if (stat.isFile()) return { kind: 'file', rel, mode: stat.mode & 0o7777, size: stat.size }
  if (stat.isDirectory()) return { kind: 'dir', rel }
  if (stat.isSymbolicLink()) {
    return { kind: 'symlink', rel, target: fromNameBytes(fs.readlinkSync(abs, 'buffer')) }
  }
  const shown = toDisplayText(`${sourceDir}/${rel}`)
  throw new ReproofError(
    'E_INPUT',
    `${shown}: a special file (device, FIFO or socket) cannot be part of a build source`,
    { path: shown, hint: 'exclude it with --exclude' },
  )
}
