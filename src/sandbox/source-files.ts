import fs from 'node:fs'
import { ReproofError } from '../errors.js'
import { compareNames, fromNameBytes, toDisplayText, toFsPath } from '../file-names.js'
import { compileGlob } from '../globs.js'
import { listedFileSystem, matchListed, type ListedName } from './glob-fs.js'
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
  /** In a git work tree, the tracked files an `--exclude` glob left out, in byte order. */
  excludedTracked: string[]
  /** In a git work tree, the tracked files an `--out` glob left out, in byte order. */
  outputTracked: string[]
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
 * `--exclude` and `--out` globs are matched by fast-glob against the listed names (see
 * listedFileSystem), not the disk: in a git work tree the tracked names, never the
 * untracked ones, and nothing read twice.
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
  // git lists files and links; the directories that hold them are implied.
  const listed = options.tracked?.map((rel) => ({ rel, isDirectory: false })) ?? listAll(sourceDir)
  const tree =
    options.exclude.length + options.outputs.length > 0
      ? listedFileSystem(sourceDir, listed)
      : undefined
  const match = (globs: readonly string[], what: string): Set<string> =>
    tree === undefined
      ? new Set()
      : matchListed(
          sourceDir,
          tree,
          globs.flatMap((glob) => compileGlob(glob, what).patterns),
        )
  const excluded = match(options.exclude, '--exclude')
  const outputs = match(options.outputs, '--out')
  const entries: SourceEntry[] = []
  const excludedOutputs = new Set<string>()
  const excludedTracked: string[] = []
  const outputTracked: string[] = []
  for (const rel of listed.map((name) => name.rel).sort(compareNames)) {
    const ancestors = selfAndAncestors(rel)
    if (ancestors.some((p) => isGitDir(p))) continue
    if (ancestors.some((p) => excluded.has(p))) {
      if (options.tracked !== undefined) excludedTracked.push(rel)
      continue
    }
    // The topmost: `dist` rather than each file below it.
    const output = ancestors.findLast((p) => outputs.has(p))
    if (output !== undefined) {
      excludedOutputs.add(output)
      if (options.tracked !== undefined) outputTracked.push(rel)
      continue
    }
    const entry = describe(sourceDir, rel)
    if (entry !== undefined) entries.push(entry)
  }
  return {
    entries,
    excludedOutputs: [...excludedOutputs].sort(compareNames),
    excludedTracked,
    outputTracked,
  }
}

/** Every path below `root`, `.git` left out. */
function listAll(root: string): ListedName[] {
  const out: ListedName[] = []
  walkTree(root, '', (entry) => {
    if (isGitDir(entry.rel)) return false
    out.push({ rel: entry.rel, isDirectory: entry.kind === 'dir' })
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

// Names that compilers, linkers and byte-compilers write, not people.
const BUILT_NAME =
  /(?:^|\/)__pycache__\/|\.(?:o|obj|lo|a|la|lib|so|dylib|dll|exe|pyc|pyo|class|rlib|rmeta|gch|pch)$|\.so\.\d[\d.]*$/
// The first bytes of a compiled program: ELF, and Mach-O in both byte orders and widths.
const PROGRAM_MAGIC = [
  Buffer.from([0x7f, 0x45, 0x4c, 0x46]),
  Buffer.from([0xfe, 0xed, 0xfa, 0xce]),
  Buffer.from([0xfe, 0xed, 0xfa, 0xcf]),
  Buffer.from([0xce, 0xfa, 0xed, 0xfe]),
  Buffer.from([0xcf, 0xfa, 0xed, 0xfe]),
]

/**
 * Files of a source that is not a git checkout that look like the output of an earlier
 * build: object files, libraries, byte-compiled modules by name, and executables that
 * are compiled programs (the first four bytes of each file with an exec bit). Snapshot
 * times are all the epoch, so `make` finds such a file as new as its sources and uses it
 * as it is: both runs then agree on what neither built. Paths in the name form.
 */
export function looksBuilt(sourceDir: string, entries: readonly SourceEntry[]): string[] {
  const found: string[] = []
  const head = Buffer.alloc(4)
  for (const entry of entries) {
    if (entry.kind !== 'file') continue
    if (BUILT_NAME.test(entry.rel)) {
      found.push(entry.rel)
      continue
    }
    if ((entry.mode & 0o111) === 0 || entry.size < 4) continue
    let fd: number | undefined
    try {
      fd = fs.openSync(toFsPath(sourceDir, entry.rel), 'r')
      const n = fs.readSync(fd, head, 0, 4, 0)
      if (n === 4 && PROGRAM_MAGIC.some((m) => m.equals(head))) found.push(entry.rel)
    } catch {
      // Unreadable here: the snapshot, which reads every file, says so.
    } finally {
      if (fd !== undefined) fs.closeSync(fd)
    }
  }
  return found
}

/**
 * Whether some directory of the source (its root included) holds two entries or more.
 * A directory counts as an entry of its parent whether it is listed (a walk lists it) or
 * only implied by the paths below it (git lists files only): a root holding `a/x`,
 * `b/y` and `build.sh` holds three.
 */
export function hasSiblings(entries: readonly SourceEntry[]): boolean {
  const children = new Map<string, string>()
  for (const { rel } of entries) {
    let parent = ''
    for (const name of rel.split('/')) {
      const first = children.get(parent)
      if (first === undefined) children.set(parent, name)
      else if (first !== name) return true
      parent = parent === '' ? name : `${parent}/${name}`
    }
  }
  return false
}
