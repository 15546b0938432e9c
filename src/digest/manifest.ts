import fs from 'node:fs/promises'
import path from 'node:path'
import { ReproofError } from '../errors.js'
import { compareNames, fromNameBytes, toDisplayText, toFsPath } from '../file-names.js'
import { compileGlob, type CompiledGlob } from '../globs.js'
import { isInside, resolveInside } from '../sandbox/contain.js'
import { walkTree, type TreeEntry } from '../sandbox/walk.js'
import { hashFiles } from './hash-file.js'

import type { Manifest } from './manifest-digest.js'

export type { Manifest, ManifestEntry } from './manifest-digest.js'

export interface GlobMatches {
  glob: string
  count: number
}

/**
 * Finds the artifacts the globs name below `root` and hashes them. A glob that names
 * a directory takes every file below it. Names are in the name form (see
 * file-names.ts): exact bytes, even when not UTF-8.
 *
 * Globs are matched against the entries a walk of the root really finds, never expanded
 * into paths first, so brace expansion or an extglob cannot make a `..`. The glob's
 * fixed base may pass through symbolic links (as in a shell) but must end inside the
 * root; below it, the walk never follows a link; a link that matches is followed only
 * while it stays inside the root. Anything else is refused, before a byte is read.
 */
export async function collectManifest(
  root: string,
  globs: readonly string[],
  options: { seenAs?: string } = {},
): Promise<{ manifest: Manifest; matches: GlobMatches[] }> {
  const seenAs = options.seenAs ?? root
  // Each artifact's name, and the path its bytes are read from (a link's resolved target).
  const names = new Map<string, string | Buffer>()
  const matches: GlobMatches[] = []
  for (const glob of globs) {
    let count = 0
    for (const entry of await findMatches(root, compileGlob(glob), seenAs)) {
      if (await addArtifact(root, glob, entry, names, seenAs)) count++
    }
    matches.push({ glob, count })
  }
  const sorted = [...names.keys()].sort(compareNames)
  const digests = await hashFiles(sorted.map((name) => names.get(name) ?? toFsPath(root, name)))
  const manifest: Manifest = []
  for (const [i, name] of sorted.entries()) {
    const digest = digests[i]
    if (digest === undefined) throw new Error(`no digest for ${name}`)
    const { mode } = await fs.stat(names.get(name) ?? toFsPath(root, name))
    manifest.push({
      name,
      sha256: digest.sha256,
      size: digest.size,
      ...((mode & 0o111) !== 0 ? { executable: true as const } : {}),
    })
  }
  return { manifest, matches }
}

/**
 * The files (and links) a glob takes: each match, and everything below a matching
 * directory. Directories themselves are not artifacts.
 */
async function findMatches(root: string, glob: CompiledGlob, seenAs: string): Promise<TreeEntry[]> {
  // A plain path's own last component is judged as a match is, below; its parents, as a
  // glob's base is: they may pass through links, as in a shell, but must stay inside.
  const dir = glob.literal ? parentOf(glob.base) : glob.base
  const resolved = await resolveInside(root, dir, seenAs)
  if (resolved.kind === 'outside' || resolved.kind === 'loop') {
    throw refusal(glob.glob, displayRel(dir), 'leads outside the build root')
  }
  if (resolved.kind === 'dangling' || !(await fs.stat(resolved.path)).isDirectory()) return []
  const found: TreeEntry[] = []
  // Directories that match, or lie below one that does: all below them is taken.
  const taken = new Set<string>()
  const visit = (entry: TreeEntry, level: number): boolean => {
    const take = taken.has(parentOf(entry.rel)) || glob.matches(entry.rel)
    if (entry.kind === 'dir') {
      if (take) taken.add(entry.rel)
      return take || glob.depth === undefined || level < glob.depth
    }
    if (take) found.push(entry)
    return false
  }
  if (glob.literal) {
    const entry = await describeLiteral(root, glob.base, seenAs)
    if (entry?.kind === 'dir') {
      taken.add(entry.rel)
      walkTree(root, entry.rel, visit)
    } else if (entry !== undefined) {
      found.push(entry)
    }
  } else {
    walkTree(root, glob.base, visit)
  }
  return found
}

/** A path named outright; a link to a directory inside the root counts as that directory. */
async function describeLiteral(
  root: string,
  rel: string,
  seenAs: string,
): Promise<TreeEntry | undefined> {
  const own = await fs.lstat(toFsPath(root, rel)).catch(() => undefined)
  if (own === undefined) return undefined
  if (own.isSymbolicLink()) {
    const target = await resolveInside(root, rel, seenAs)
    const isDir = target.kind === 'inside' && (await fs.stat(target.path)).isDirectory()
    return { rel, kind: isDir ? 'dir' : 'symlink' }
  }
  return { rel, kind: own.isDirectory() ? 'dir' : own.isFile() ? 'file' : 'other' }
}

function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/')
  return slash === -1 ? '' : rel.slice(0, slash)
}

/** Adds a regular file (or a link that stays inside the root and ends at one). */
async function addArtifact(
  root: string,
  glob: string,
  entry: TreeEntry,
  names: Map<string, string | Buffer>,
  seenAs: string,
): Promise<boolean> {
  // The walk found it, so it is a real entry below the root; this is the last word.
  if (!isInside(root, path.join(root, entry.rel))) {
    throw refusal(glob, `artifact ${displayRel(entry.rel)}`, 'is outside the build root')
  }
  if (entry.kind === 'file') {
    names.set(entry.rel, toFsPath(root, entry.rel))
    return true
  }
  if (entry.kind !== 'symlink') return false
  const resolved = await resolveInside(root, entry.rel, seenAs)
  if (resolved.kind !== 'inside') {
    const target = await fs.readlink(toFsPath(root, entry.rel), 'buffer')
    throw refusal(
      glob,
      `artifact ${displayRel(entry.rel)}`,
      'symbolic link leads outside the build root',
      { found: toDisplayText(fromNameBytes(target)) },
    )
  }
  if (!(await fs.stat(resolved.path)).isFile()) return false
  names.set(entry.rel, resolved.path)
  return true
}

/** One line naming the glob and the path: `--out <glob>: <what>: <why>; refused`. */
function refusal(
  glob: string,
  what: string,
  why: string,
  context: { found?: string } = {},
): ReproofError {
  return new ReproofError('E_INPUT', `--out ${toDisplayText(glob)}: ${what}: ${why}; refused`, {
    path: what,
    ...context,
  })
}

function displayRel(rel: string): string {
  return toDisplayText(rel === '' ? '.' : rel)
}
