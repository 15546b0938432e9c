import fs from 'node:fs'
import path from 'node:path'
import type fg from 'fast-glob'
import { ReproofError } from '../errors.js'
import {
  fromMatchName,
  fromNameBytes,
  toDisplayText,
  toFsPath,
  toMatchName,
} from '../file-names.js'
import { fastGlob, micromatch } from '../load-cjs.js'
import { isInside } from './contain.js'
import { walkTree, type TreeEntry } from './walk.js'

/*
 * fast-glob matches reproof's globs; it reads directories through the six calls of its
 * `fs` option, and this module gives it two sets of them. Both hand it names in the match
 * form (file-names.ts: a byte that is not UTF-8 is one lone surrogate, so that `?` takes
 * it as one character and no glob typed as text names it), and both refuse any path that
 * is not lexically inside the root they were made for, before reading anything:
 *
 * - confinedFileSystem reads a real directory tree, names as bytes, so a name that is not
 *   UTF-8 is found as it is (fast-glob's own reads decode names as UTF-8, and the decoded
 *   name opens nothing);
 * - listedFileSystem serves a listing reproof already holds (a snapshot's source files),
 *   so that globs match exactly the names listed and nothing is read twice.
 *
 * fast-glob builds the paths it reads from its cwd, the base of a pattern and the names
 * read here; it never reads a name as a pattern, so `[`, `*` or `{` in a name is harmless.
 * The path checked is the path read: `..` is resolved before the check, by text.
 */

/** The options every match is made with; `fs` and `cwd` are added per call. */
const OPTIONS = {
  dot: true,
  onlyFiles: false,
  followSymbolicLinks: false,
  // Only ENOENT passes in silence; anything else, the refusals below included, ends it.
  suppressErrors: false,
  // Callers keep matches in a Map or Set anyway; fast-glob's own index of every match
  // cost 17 ms on 20,000 files.
  unique: false,
} as const

type Dirent = fg.Entry['dirent']
/** What fast-glob asks of a stat: only the kind of file. */
type Kind = Omit<Dirent, 'name'>
type Callback<T> = (error: NodeJS.ErrnoException | null, value?: T) => void
type ReaddirOptions = { withFileTypes?: boolean } | undefined
type Listing = Dirent[] | string[]

/** The forms of the six calls that fast-glob (through @nodelib/fs.stat and fs.scandir) makes. */
interface GlobFileSystem {
  lstat(p: string, callback: Callback<Kind>): void
  stat(p: string, callback: Callback<Kind>): void
  lstatSync(p: string): Kind
  statSync(p: string): Kind
  readdir(
    p: string,
    options: ReaddirOptions | Callback<Listing>,
    callback?: Callback<Listing>,
  ): void
  readdirSync(p: string, options?: ReaddirOptions): Listing
}

/**
 * fast-glob's view of a real directory tree below `root`: names read as bytes, paths
 * turned back into bytes on every call, and any path outside `root` refused unread.
 */
export function confinedFileSystem(root: string, redirect?: Redirect): fg.FileSystemAdapter {
  const top = path.resolve(root)
  // The same redirect in the match form, in which fast-glob gives its paths.
  const moved =
    redirect === undefined
      ? undefined
      : { rel: toMatchName(redirect.rel), real: toMatchName(redirect.real) }
  const toReal = (p: string): string | Buffer => {
    const given = relativeInside(top, p)
    const rel = moved === undefined ? given : (movedTo(moved, given) ?? given)
    // No name read from disk holds a NUL in the match form; a glob that types one
    // (with two hex digits, the name form's escape) must not name a byte with it.
    if (rel.includes('\0')) throw noSuchPath(p)
    return toFsPath(top, fromMatchName(rel))
  }
  const named = (dirents: fs.Dirent<Buffer>[]): Dirent[] =>
    dirents.map((dirent) => new GlobEntry(toMatchText(dirent.name), typeOf(dirent)))
  return asAdapter({
    lstat: (p, callback) => {
      attempt(callback, () => {
        fs.lstat(toReal(p), callback)
      })
    },
    stat: (p, callback) => {
      attempt(callback, () => {
        fs.stat(toReal(p), callback)
      })
    },
    lstatSync: (p) => fs.lstatSync(toReal(p)),
    statSync: (p) => fs.statSync(toReal(p)),
    readdir: (p, options, callback) => {
      const [opts, done] =
        typeof options === 'function' ? [undefined, options] : [options, callback]
      attempt(done, () => {
        const real = toReal(p)
        if (opts?.withFileTypes === true) {
          fs.readdir(real, { encoding: 'buffer', withFileTypes: true }, (err, dirents) =>
            err === null ? done?.(null, named(dirents)) : done?.(err),
          )
        } else {
          fs.readdir(real, { encoding: 'buffer' }, (err, names) =>
            err === null ? done?.(null, names.map(toMatchText)) : done?.(err),
          )
        }
      })
    },
    readdirSync: (p, options) =>
      options?.withFileTypes === true
        ? named(fs.readdirSync(toReal(p), { encoding: 'buffer', withFileTypes: true }))
        : fs.readdirSync(toReal(p), { encoding: 'buffer' }).map(toMatchText),
  })
}

/** A name, `/`-separated and in the name form, of a listing served by listedFileSystem. */
export interface ListedName {
  rel: string
  /** True for a directory; a name with names below it is one anyway. */
  isDirectory: boolean
}

/**
 * fast-glob's view of `listed` as a directory tree below `root`: what it lists, the
 * directories that hold it, and nothing else. Nothing is read from disk.
 */
export function listedFileSystem(
  root: string,
  listed: readonly ListedName[],
): fg.FileSystemAdapter {
  const top = path.resolve(root)
  // Every name, and the entries of every directory, by match-form path below the root.
  const entries = new Map<string, GlobEntry>([['', new GlobEntry('', 'dir')]])
  const children = new Map<string, GlobEntry[]>([['', []]])
  const add = (rel: string, isDirectory: boolean): void => {
    const known = entries.get(rel)
    if (known !== undefined) {
      if (isDirectory) known.type = 'dir'
      return
    }
    const entry = new GlobEntry(rel.slice(rel.lastIndexOf('/') + 1), isDirectory ? 'dir' : 'file')
    entries.set(rel, entry)
    const parent = parentOf(rel)
    const siblings = children.get(parent)
    if (siblings !== undefined) {
      siblings.push(entry)
    } else {
      children.set(parent, [entry])
      add(parent, true)
    }
  }
  for (const { rel, isDirectory } of listed) add(toMatchName(rel), isDirectory)
  const stat = (p: string): Kind => {
    const entry = entries.get(relativeInside(top, p))
    if (entry === undefined) throw noSuchPath(p)
    return entry
  }
  const readdirSync = (p: string, options?: ReaddirOptions): Listing => {
    const rel = relativeInside(top, p)
    // A name listed as no directory has no entries to list; to fast-glob, as on disk
    // for a path that is not there, that is nothing to match.
    if (entries.get(rel)?.type !== 'dir') throw noSuchPath(p)
    const list = children.get(rel) ?? []
    return options?.withFileTypes === true ? list : list.map((e) => e.name)
  }
  return asAdapter({
    lstat: (p, callback) => {
      run(callback, () => stat(p))
    },
    stat: (p, callback) => {
      run(callback, () => stat(p))
    },
    lstatSync: stat,
    statSync: stat,
    readdir: (p, options, callback) => {
      const [opts, done] =
        typeof options === 'function' ? [undefined, options] : [options, callback]
      run(done, () => readdirSync(p, opts))
    },
    readdirSync,
  })
}

/**
 * What `patterns` match below `root`/`from` (`from` in the name form, '' for `root`),
 * read through confinedFileSystem(root): names in the name form, relative to `root`.
 * Links are never followed; fast-glob's own notion of a pattern's base decides where
 * it starts, so a caller checks that base first (see patternTasks).
 *
 * Synchronous, as the walk it replaced was: on 20,000 files fast-glob's asynchronous
 * walk took 20-30 ms longer, for reads that are all in the page cache.
 */
export function globConfined(
  root: string,
  from: string,
  patterns: readonly string[],
  redirect?: Redirect,
): TreeEntry[] {
  const moved = redirect !== undefined && redirect.rel !== redirect.real ? redirect : undefined
  if (isEverything(patterns)) return everythingBelow(root, from, moved)
  const found = fastGlob().sync([...patterns], {
    ...OPTIONS,
    objectMode: true,
    cwd: path.join(path.resolve(root), toMatchName(from)),
    fs: confinedFileSystem(root, moved),
  })
  return found.map((entry) => {
    const found = fromMatchName(normalizeFound(entry.path))
    const rel = from === '' ? found : `${from}/${found}`
    const real = moved === undefined ? undefined : movedTo(moved, rel)
    return real === undefined
      ? { rel, kind: kindOf(entry.dirent) }
      : { rel, kind: kindOf(entry.dirent), real }
  })
}

/**
 * A directory a glob reaches as `rel` that is, its links resolved, the directory `real`
 * (both in the name form, relative to the root). The walk reads `real` and names what it
 * finds below `rel`: the kernel never follows the links itself, which through the
 * sandbox's /proc/<pid>/root would read a link to an absolute path on the machine.
 */
export interface Redirect {
  rel: string
  real: string
}

/** Where `rel`, at or below `redirect.rel`, really is; undefined when it is elsewhere. */
function movedTo(redirect: Redirect, rel: string): string | undefined {
  if (redirect.rel === '') return redirect.real === '' ? rel : `${redirect.real}/${rel}`
  if (rel !== redirect.rel && !rel.startsWith(`${redirect.rel}/`)) return undefined
  const below = rel.slice(redirect.rel.length)
  return redirect.real === '' ? below.slice(1) : `${redirect.real}${below}`
}

/**
 * `**` alone, the glob of `--out dist/` (a directory named outright) and of a whole tree:
 * with `dot`, and links not followed, it matches every entry below the walk's start.
 */
function isEverything(patterns: readonly string[]): boolean {
  return patterns.length === 1 && patterns[0] === '**'
}

/**
 * What `**` matches below `root`/`from`, walked by walkTree rather than fast-glob: the
 * same entries (a property test holds the two together), with no per-entry match, no
 * match-form round trip of every name and no fast-glob to load. A 20,000-file walk took
 * 135 ms through fast-glob.
 */
function everythingBelow(root: string, from: string, redirect?: Redirect): TreeEntry[] {
  const found: TreeEntry[] = []
  const real = redirect === undefined ? undefined : movedTo(redirect, from)
  if (redirect === undefined || real === undefined) {
    walkTree(root, from, (entry) => {
      found.push(entry)
      return true
    })
    return found
  }
  // Walked where it is, named as the glob reaches it.
  const cut = real === '' ? 0 : real.length + 1
  walkTree(root, real, (entry) => {
    const below = entry.rel.slice(cut)
    found.push({ rel: from === '' ? below : `${from}/${below}`, kind: entry.kind, real: entry.rel })
    return true
  })
  return found
}

/** The names of `fileSystem` (from listedFileSystem) that `patterns` match, in the name form. */
export function matchListed(
  root: string,
  fileSystem: fg.FileSystemAdapter,
  patterns: readonly string[],
): Set<string> {
  const found = new Set<string>()
  const dynamic: string[] = []
  for (const pattern of patterns) {
    const literal = literalPath(pattern)
    if (literal === undefined) dynamic.push(pattern)
    else if (exists(fileSystem, path.join(root, literal))) found.add(fromMatchName(literal))
  }
  if (dynamic.length === 0) return found
  for (const p of fastGlob().sync(dynamic, { ...OPTIONS, cwd: root, fs: fileSystem })) {
    found.add(fromMatchName(normalizeFound(p)))
  }
  return found
}

/**
 * How fast-glob splits `patterns` into the directories it starts from (`base`, in the
 * name form, '' for the cwd) and whether it walks them (`patterns` are then its own) or
 * only looks paths up (`patterns` are then those paths, plain).
 */
export function patternTasks(
  patterns: readonly string[],
): { base: string; dynamic: boolean; patterns: string[] }[] {
  // What fast-glob makes of `**`, without loading it (40 ms of a 20,000-file manifest).
  if (isEverything(patterns)) return [{ base: '', dynamic: true, patterns: ['**'] }]
  return fastGlob()
    .generateTasks([...patterns], OPTIONS)
    .map((task) => ({
      base: fromMatchName(normalizeFound(task.dynamic ? beforeQuestionMark(task.base) : task.base)),
      dynamic: task.dynamic,
      patterns: task.dynamic ? task.patterns : task.positive.map(normalizeFound),
    }))
}

/**
 * A base directory cut before its first component holding a `?` wildcard. fast-glob
 * takes its bases from glob-parent, which reads `?` as a plain character: the base of
 * `ou?/app` was the directory `ou?`, which does not exist, and `out/app` went unmatched.
 */
function beforeQuestionMark(base: string): string {
  const parts = base.split('/')
  const wild = parts.findIndex((part) => /(^|[^\\])\?/.test(part))
  return wild === -1 ? base : parts.slice(0, wild).join('/') || '.'
}

/**
 * The path a pattern names when nothing in it is a wildcard, plain as normalizeFound
 * makes it (`./a\[1\]/` names `a[1]`), or undefined. fast-glob looks such a path up
 * rather than walking, but only when nothing in it is escaped: for `a/\{b,c\}` it
 * would list the children of `a/{b,c}`, as if it were a directory.
 */
export function literalPath(pattern: string): string | undefined {
  // Decided without fast-glob where its answer is certain: it takes a pattern as
  // dynamic only for one of these characters, or a `!` first.
  if (pattern === '**') return undefined
  if (pattern !== '' && !MAYBE_DYNAMIC.test(pattern)) return normalizeFound(pattern)
  if (!fastGlob().isDynamicPattern(pattern, OPTIONS)) return normalizeFound(pattern)
  const scan = micromatch().scan(pattern)
  // `!a` is fast-glob's to take as an exclusion (alone, it matches nothing).
  if (scan.isGlob || scan.negated) return undefined
  return normalizeFound(pattern.replace(/\\(.)/gsu, '$1'))
}

const MAYBE_DYNAMIC = /[\\*?[({]|^!/

/** A path as fast-glob gives it (`./a`, `a//b`, `dir/`), plain: `a`, `a/b`, `dir`, '' for `.`. */
export function normalizeFound(p: string): string {
  // What a walk yields is plain already: normalizing 20,000 names cost 20 ms.
  if (!NOT_PLAIN.test(p)) return p
  const plain = path.posix.normalize(p).replace(/\/+$/, '')
  return plain === '.' || plain === '' ? '' : plain
}

const NOT_PLAIN = /^\.{1,2}(\/|$)|\/\.{0,2}(\/|$)/

/** `p` relative to `top`; refused, unread, when it is not inside it. */
function relativeInside(top: string, p: string): string {
  const target = path.resolve(p)
  if (!isInside(top, target)) {
    const shown = toDisplayText(fromMatchName(target))
    // Not ENOENT, which fast-glob passes over in silence: this ends the glob.
    throw new ReproofError(
      'E_INPUT',
      `${shown}: outside ${toDisplayText(top)}, where globs are matched; refused`,
      { path: shown },
    )
  }
  return path.relative(top, target)
}

function exists(fileSystem: fg.FileSystemAdapter, p: string): boolean {
  try {
    fileSystem.lstatSync(p)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}

function noSuchPath(p: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOENT: no such file or directory, '${p}'`), {
    code: 'ENOENT',
    path: p,
  })
}

/** Calls back, asynchronously as Node's calls do, with what `call` returns or throws. */
function run<T>(callback: Callback<T> | undefined, call: () => T): void {
  attempt(callback, () => {
    const value = call()
    process.nextTick(() => callback?.(null, value))
  })
}

/** Runs `call`; what it throws (a refusal) goes to `callback`, asynchronously. */
function attempt<T>(callback: Callback<T> | undefined, call: () => void): void {
  try {
    call()
  } catch (err) {
    process.nextTick(() => callback?.(err as NodeJS.ErrnoException))
  }
}

// The six calls are typed in fast-glob as Node's own, with every overload; it makes
// only the calls GlobFileSystem describes.
function asAdapter(calls: GlobFileSystem): fg.FileSystemAdapter {
  return calls as unknown as fg.FileSystemAdapter
}

function toMatchText(bytes: Uint8Array): string {
  return toMatchName(fromNameBytes(bytes))
}

function kindOf(dirent: Dirent): TreeEntry['kind'] {
  if (dirent.isFile()) return 'file'
  if (dirent.isDirectory()) return 'dir'
  if (dirent.isSymbolicLink()) return 'symlink'
  return 'other'
}

function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/')
  return slash === -1 ? '' : rel.slice(0, slash)
}

type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'block' | 'char'

/**
 * A directory entry under its name in the match form, as fast-glob reads it (and as it
 * reads a stat: only the type). `type` changes when a listed name turns out to hold others.
 */
class GlobEntry implements Dirent {
  constructor(
    readonly name: string,
    public type: EntryType,
  ) {}
  isFile(): boolean {
    return this.type === 'file'
  }
  isDirectory(): boolean {
    return this.type === 'dir'
  }
  isSymbolicLink(): boolean {
    return this.type === 'symlink'
  }
  isFIFO(): boolean {
    return this.type === 'fifo'
  }
  isSocket(): boolean {
    return this.type === 'socket'
  }
  isBlockDevice(): boolean {
    return this.type === 'block'
  }
  isCharacterDevice(): boolean {
    return this.type === 'char'
  }
}

function typeOf(dirent: fs.Dirent<Buffer>): EntryType {
  if (dirent.isFile()) return 'file'
  if (dirent.isDirectory()) return 'dir'
  if (dirent.isSymbolicLink()) return 'symlink'
  if (dirent.isFIFO()) return 'fifo'
  if (dirent.isSocket()) return 'socket'
  return dirent.isBlockDevice() ? 'block' : 'char'
}
