import fs from 'node:fs/promises'
import path from 'node:path'
import { ReproofError } from '../errors.js'
import {
  compareNames,
  fromMatchName,
  fromNameBytes,
  sortNames,
  toDisplayText,
  toFsPath,
} from '../file-names.js'
import { compileGlob, type CompiledGlob } from '../globs.js'
import { isInside, resolveInside } from '../sandbox/contain.js'
import { globConfined, literalPath, patternTasks } from '../sandbox/glob-fs.js'
import type { TreeEntry } from '../sandbox/walk.js'
import { HashHelpers, hashFiles } from './hash-file.js'

import type { Manifest } from './manifest-digest.js'

export type { Manifest, ManifestEntry } from './manifest-digest.js'

export interface GlobMatches {
  glob: string
  count: number
}

/**
 * Where an artifact is below its root when that is not its name: `at`, the entry itself
 * (a directory on its way is a link), and `readFrom`, where its bytes are (a link
 * artifact's resolved target; otherwise `at`).
 */
export interface Place {
  at: string | Buffer
  readFrom: string | Buffer
}

/** A root's artifacts: hashed, counted per glob, and where each one is. */
export interface CollectedOutputs {
  manifest: Manifest
  matches: GlobMatches[]
  /** FIFOs, sockets and devices a glob matched: named, never compared. */
  special: string[]
  places: ArtifactPlaces
}

/** Where each artifact of a root is: its name below the root, unless `places` says otherwise. */
export class ArtifactPlaces {
  constructor(
    readonly root: string,
    private readonly places: ReadonlyMap<string, Place> = new Map(),
  ) {}

  /** The entry itself, as lstat sees it. */
  at(name: string): string | Buffer {
    return this.places.get(name)?.at ?? toFsPath(this.root, name)
  }

  /** Where its bytes are read. */
  readFrom(name: string): string | Buffer {
    return this.places.get(name)?.readFrom ?? toFsPath(this.root, name)
  }
}

/**
 * Finds the artifacts the globs name below `root` and hashes them. A glob that names
 * a directory takes every file below it. Names are in the name form (see
 * file-names.ts): exact bytes, even when not UTF-8.
 *
 * fast-glob matches, reading the root through confinedFileSystem, which reads names as
 * bytes and refuses every path outside the root. reproof expands braces itself first and
 * leaves out what names `..` (`.{.,}` is `..`): no entry can match it. The glob's fixed
 * base, and each directory fast-glob starts from, may pass through symbolic links (as
 * in a shell) but must end inside the root; below it, links are never followed; a link
 * that matches is followed only while it stays inside the root. Anything else is
 * refused, before a byte is read.
 */
export async function collectManifest(
  root: string,
  globs: readonly string[],
  options: { seenAs?: string } = {},
): Promise<CollectedOutputs> {
  const seenAs = options.seenAs ?? root
  // Hash workers start now, while the globs are walked; if the files turn out few or
  // small, they are released unused.
  const helpers = new HashHelpers()
  try {
    return await collect(root, globs, seenAs, helpers)
  } finally {
    helpers.release()
  }
}

async function collect(
  root: string,
  globs: readonly string[],
  seenAs: string,
  helpers: HashHelpers,
): Promise<CollectedOutputs> {
  // Each artifact's name, once per glob that takes it, and where it is when that is not
  // its name (a link's bytes are read from its resolved target). A list, not a Map by
  // name: on 20,000 names the Map cost 5 to 15 ms, and a sorted list has its repeats
  // side by side.
  const names: string[] = []
  const places = new Map<string, Place>()
  const matches: GlobMatches[] = []
  // FIFOs, sockets and devices an output glob matched: no bytes to compare, so named.
  const special = new Set<string>()
  for (const glob of globs) {
    let count = 0
    for (const entry of await findMatches(root, compileGlob(glob, '--out'), seenAs)) {
      if (entry.kind === 'other') special.add(entry.rel)
      // A plain file below the root is taken as it is, without a trip through the event
      // loop: 20,000 awaits cost more than hashing 20,000 small files.
      else if (entry.kind === 'file' && !DOT_DOT.test(entry.rel)) {
        names.push(entry.rel)
        if (entry.real !== undefined) {
          const at = toFsPath(root, entry.real)
          places.set(entry.rel, { at, readFrom: at })
        }
        count++
      } else if (await addArtifact(root, glob, entry, { names, places }, seenAs)) count++
    }
    matches.push({ glob, count })
  }
  const sorted = withoutRepeats(sortNames(names))
  const located = new ArtifactPlaces(root, places)
  const digests = await hashFiles(
    sorted.map((name) => located.readFrom(name)),
    { helpers },
  )
  // Two literal shapes rather than a spread of a conditional object: the spread cost
  // 10 to 20 ms on 20,000 entries, after every file was hashed.
  const manifest: Manifest = new Array<Manifest[number]>(sorted.length)
  for (let i = 0; i < sorted.length; i++) {
    const name = sorted[i] ?? ''
    const digest = digests[i]
    if (digest === undefined) throw new Error(`no digest for ${name}`)
    const { sha256, size } = digest
    manifest[i] =
      (digest.mode & 0o111) !== 0
        ? { name, sha256, size, executable: true }
        : { name, sha256, size }
  }
  return { manifest, matches, special: [...special].sort(compareNames), places: located }
}

/**
 * What the globs would take as artifacts below `root` now, by name, without hashing
 * and without refusing: a glob that cannot be walked finds nothing here (the artifacts'
 * collection after the build refuses it). For a fresh build root: what is there before
 * the build runs was not built by it, wherever a link led the glob.
 */
export async function findOutputs(
  root: string,
  globs: readonly string[],
  seenAs: string,
): Promise<string[]> {
  const found = new Set<string>()
  for (const glob of globs) {
    try {
      for (const entry of await findMatches(root, compileGlob(glob, '--out'), seenAs))
        if (entry.kind !== 'other') found.add(entry.rel)
    } catch {
      // refused, and said so, when the artifacts are collected
    }
  }
  return sortNames([...found])
}

/**
 * The files (and links) a glob takes: each match, and everything below a matching
 * directory. Directories themselves are not artifacts.
 */
async function findMatches(root: string, glob: CompiledGlob, seenAs: string): Promise<TreeEntry[]> {
  // The fixed part as written: `../x/*` is refused, where its expansions, left out
  // for naming `..`, would only match nothing. A plain path's own last component is
  // judged as a match is, below; its parents, as a glob's base is.
  await walkableDir(root, glob.glob, glob.literal ? parentOf(glob.base) : glob.base, seenAs)
  const lists: (readonly TreeEntry[])[] = []
  const take = (entries: readonly TreeEntry[]): void => {
    lists.push(entries)
  }
  const dynamic: string[] = []
  for (const pattern of glob.patterns) {
    const literal = literalPath(pattern)
    if (literal !== undefined) {
      take(await findPath(root, glob.glob, fromMatchName(literal), seenAs))
    } else {
      // `<pattern>/**` takes, in the same walk, everything below a directory that matches.
      dynamic.push(pattern, ...(/(^|\/)\*\*$/.test(pattern) ? [] : [`${pattern}/**`]))
    }
  }
  for (const task of patternTasks(dynamic)) {
    if (!task.dynamic) {
      // fast-glob would look these up from a base it merged them into, through any link
      // on their way; none are made today (all given are dynamic), but be safe.
      for (const p of task.patterns) take(await findPath(root, glob.glob, fromMatchName(p), seenAs))
    } else {
      const real = await walkableDir(root, glob.glob, task.base, seenAs)
      if (real !== undefined) take(globConfined(root, '', task.patterns, { rel: task.base, real }))
    }
  }
  return onePerName(lists).filter((entry) => entry.kind !== 'dir')
}

/**
 * The entries of several lists, each name once. One walk's list has no name twice, and
 * is taken as it is: a Map of 20,000 entries cost 7 to 12 ms.
 */
function onePerName(lists: readonly (readonly TreeEntry[])[]): readonly TreeEntry[] {
  if (lists.length === 1) return lists[0] ?? []
  const found = new Map<string, TreeEntry>()
  for (const entries of lists) for (const entry of entries) found.set(entry.rel, entry)
  return [...found.values()]
}

/** A path named outright: itself, or all below it if it is a directory. */
async function findPath(
  root: string,
  glob: string,
  rel: string,
  seenAs: string,
): Promise<TreeEntry[]> {
  const parent = await walkableDir(root, glob, parentOf(rel), seenAs)
  if (parent === undefined) return []
  const entry = await describeLiteral(root, rel, parent, seenAs)
  if (entry?.kind === 'dir')
    return globConfined(root, rel, ['**'], { rel, real: entry.real ?? rel })
  return entry === undefined ? [] : [entry]
}

/**
 * Where `rel` really is, when it is a directory fast-glob may read: it must resolve
 * inside the root, links on the way followed as a shell would (by reproof, never by the
 * kernel); if it leads outside, the glob is refused.
 */
async function walkableDir(
  root: string,
  glob: string,
  rel: string,
  seenAs: string,
): Promise<string | undefined> {
  const resolved = await resolveInside(root, rel, seenAs)
  if (resolved.kind === 'outside' || resolved.kind === 'loop') {
    throw refusal(
      glob,
      displayRel(rel),
      resolved.kind === 'loop' ? 'is a loop of symbolic links' : 'leads outside the build root',
    )
  }
  if (resolved.kind !== 'inside') return undefined
  return (await fs.stat(resolved.path)).isDirectory() ? resolved.rel : undefined
}

/**
 * A path named outright, in the directory that is really `parent`; a link to a directory
 * inside the root counts as that directory. `real` is where it is, if not at `rel`.
 */
async function describeLiteral(
  root: string,
  rel: string,
  parent: string,
  seenAs: string,
): Promise<TreeEntry | undefined> {
  const name = rel.slice(rel.lastIndexOf('/') + 1)
  const at = parent === '' ? name : `${parent}/${name}`
  const real = at === rel ? undefined : at
  const own = await fs.lstat(toFsPath(root, at)).catch(() => undefined)
  if (own === undefined) return undefined
  if (own.isSymbolicLink()) {
    const target = await resolveInside(root, rel, seenAs)
    if (target.kind === 'inside' && (await fs.stat(target.path)).isDirectory())
      return { rel, kind: 'dir', real: target.rel }
    return real === undefined ? { rel, kind: 'symlink' } : { rel, kind: 'symlink', real }
  }
  const kind = own.isDirectory() ? 'dir' : own.isFile() ? 'file' : 'other'
  return real === undefined ? { rel, kind } : { rel, kind, real }
}

function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/')
  return slash === -1 ? '' : rel.slice(0, slash)
}

const DOT_DOT = /(^|\/)\.\.(\/|$)/

/** Adds a regular file (or a link that stays inside the root and ends at one). */
async function addArtifact(
  root: string,
  glob: string,
  entry: TreeEntry,
  found: { names: string[]; places: Map<string, Place> },
  seenAs: string,
): Promise<boolean> {
  // fast-glob found it below the root; this is the last word. Only a `..` can lead out
  // of it, by text: a path join per name cost 50 ms on 20,000 names.
  if (DOT_DOT.test(entry.rel) && !isInside(root, path.join(root, entry.rel))) {
    throw refusal(glob, `artifact ${displayRel(entry.rel)}`, 'is outside the build root')
  }
  const at = toFsPath(root, entry.real ?? entry.rel)
  if (entry.kind === 'file') {
    found.names.push(entry.rel)
    if (entry.real !== undefined) found.places.set(entry.rel, { at, readFrom: at })
    return true
  }
  if (entry.kind !== 'symlink') return false
  const resolved = await resolveInside(root, entry.rel, seenAs)
  if (resolved.kind !== 'inside') {
    const target = await fs.readlink(at, 'buffer')
    throw refusal(
      glob,
      `artifact ${displayRel(entry.rel)}`,
      resolved.kind === 'dangling'
        ? `symbolic link to ${toDisplayText(fromNameBytes(target))}, which does not exist`
        : resolved.kind === 'loop'
          ? 'symbolic link in a loop of links, which leads to no file'
          : 'symbolic link leads outside the build root',
      { found: toDisplayText(fromNameBytes(target)) },
    )
  }
  // A link the glob matched that leads to no file: named and refused, never left out in
  // silence (its files would be neither compared nor shipped).
  const target = await fs.stat(resolved.path)
  if (!target.isFile())
    throw refusal(
      glob,
      `artifact ${displayRel(entry.rel)}`,
      target.isDirectory()
        ? 'symbolic link to a directory, whose files the glob does not take; name the directory it leads to, or its files'
        : 'symbolic link to something that is not a file',
    )
  found.names.push(entry.rel)
  found.places.set(entry.rel, { at, readFrom: resolved.path })
  return true
}

/** A sorted list with each repeat (a name two globs took) dropped. */
function withoutRepeats(sorted: string[]): string[] {
  let kept = 0
  for (const name of sorted) if (kept === 0 || sorted[kept - 1] !== name) sorted[kept++] = name
  sorted.length = kept
  return sorted
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
