import { appendAll } from '../append-all.js'
import fs from 'node:fs'
import path from 'node:path'
import { hashFiles, hashFilesAside } from '../digest/hash-file.js'
import { ReproofError, unreadable } from '../errors.js'
import { fromNameBytes, sortNames, toDisplayText, toFsPath } from '../file-names.js'
import { listEntries } from '../sandbox/walk.js'
import { compareEntry } from './compare-inventories.js'
import { pairRenamed } from './renames.js'
import type { MemberInfo } from '../formats/member.js'
import { markDerived } from './derived.js'
import { DiffEngine, type EngineOptions } from './engine.js'
import { octal } from '../formats/member.js'
import { NOT_COMPARED_ON_DISK, type DiffItem, type DiffReport } from './report.js'
import { fileSource, heldFileSource } from '../formats/source.js'
import { summarizePatterns } from './summarize.js'

export interface DiffInputsOptions extends EngineOptions {
  /** Display names for the two sides (default: the paths given). */
  labels?: [string, string]
}

/**
 * `reproof diff a b`: two files or two directories. (Two build records are turned into
 * two directories plus a hint context by the caller.)
 */
export async function diffPaths(
  a: string,
  b: string,
  options: DiffInputsOptions,
): Promise<DiffReport> {
  const [statA, statB] = [statInput(a), statInput(b)]
  const engine = new DiffEngine(options)
  // The two inputs' own modes, as any entry's below them: a tree or file made private
  // (0700, 0600) or executable on one side only is not the same.
  const ownModes = (name: string, type: 'file' | 'directory', sums?: [string, string]) =>
    compareEntry(
      name,
      { type, meta: { mode: octal(statA.mode) }, sha256: sums?.[0] },
      { type, meta: { mode: octal(statB.mode) }, sha256: sums?.[1] },
    ).items
  if (statA.isDirectory() && statB.isDirectory()) {
    engine.items.push(...ownModes('.', 'directory'))
    await diffDirectories(engine, a, b, undefined)
  } else if (statA.isFile() && statB.isFile()) {
    const totalBytes = statA.size + statB.size
    if (totalBytes >= ASIDE_BYTES && headsDiffer(a, b, statA.size, statB.size)) {
      await compareKnownToDiffer(engine, [a, b], [statA.size, statB.size], ownModes)
      engine.compared++
      return namedBySide(toReport(engine, options.labels ?? [a, b]), a, b)
    }
    const [digestA, digestB] = await hashFiles([a, b], { totalBytes })
    engine.items.push(
      ...ownModes(path.basename(a), 'file', [digestA?.sha256 ?? '', digestB?.sha256 ?? '']),
    )
    if (digestA?.sha256 !== digestB?.sha256) {
      // Members are named after A's file: `app.tgz!package/index.js`.
      await engine.compare(path.basename(a), fileSource(a), fileSource(b), 0, [
        digestA?.sha256 ?? '',
        digestB?.sha256 ?? '',
      ])
    }
    engine.compared++
    return namedBySide(toReport(engine, options.labels ?? [a, b]), a, b)
  } else {
    // A FIFO, socket or device holds no bytes to compare: named as what it is.
    const sides: [string, fs.Stats][] = [
      [a, statA],
      [b, statB],
    ]
    const special = sides.find(([, stat]) => !stat.isFile() && !stat.isDirectory())
    throw new ReproofError(
      'E_INPUT',
      special === undefined
        ? `${a} and ${b}: give two files or two directories, not one of each`
        : `${special[0]}: ${kindOf(special[1])}, not a file or directory; give two files or two directories`,
      { path: special?.[0] ?? b },
    )
  }
  return toReport(engine, options.labels ?? [a, b])
}

/**
 * Two files of other names (`app-1.0.tgz`, `app-1.1.tgz`): members are named after A's
 * file, but a member only B holds is B's, and so is the `+++` side of a patch. Shown
 * under A's name, a file new in 1.1 read as one of 1.0's.
 */
function namedBySide(report: DiffReport, a: string, b: string): DiffReport {
  const [nameA, nameB] = [path.basename(a), path.basename(b)]
  if (nameA === nameB) return report
  const inA = `${nameA}!`
  const toB = (p: string): string => (p.startsWith(inA) ? `${nameB}!${p.slice(inA.length)}` : p)
  const items = report.items.map((item): DiffItem => {
    if (item.kind === 'only-in-b') return { ...item, path: toB(item.path) }
    // What B's side could not read names B's file: `side B: b.zip!f: …`.
    const sideB = 'side B: '
    if (item.kind === 'error' && item.message.startsWith(sideB)) {
      const rest = item.message.slice(sideB.length)
      if (rest.startsWith(inA) || rest.startsWith(`${nameA}:`))
        return { ...item, message: `${sideB}${nameB}${rest.slice(nameA.length)}` }
    }
    if (item.text === undefined) return item
    // The patch's second header line names B's side: `+++ b/<A's name>` or `…!member`.
    const { unified } = item.text
    const plus = `\n+++ b/${nameA}`
    const at = unified.indexOf(plus)
    const after = unified[at + plus.length]
    if (at === -1 || (after !== '!' && after !== '\n' && after !== undefined)) return item
    const start = at + plus.length - nameA.length
    return {
      ...item,
      text: {
        ...item.text,
        unified: `${unified.slice(0, start)}${nameB}${unified.slice(at + plus.length)}`,
      },
    }
  })
  // The summaries name examples of the items: made again from the names now given.
  return { ...report, items, summaries: summarizePatterns(items) }
}

// Two files this large that surely differ are hashed beside their comparison rather
// than before it: on two 49 MB tars, 100 ms of reading and hashing taken off the path.
const ASIDE_BYTES = 16 * 1024 * 1024
const HEAD_BYTES = 64 * 1024

/** Whether two files surely differ: by size, or in their first bytes. */
function headsDiffer(a: string, b: string, sizeA: number, sizeB: number): boolean {
  if (sizeA !== sizeB) return true
  const head = (file: string): Buffer => {
    const fd = fs.openSync(file, 'r')
    try {
      const buffer = Buffer.allocUnsafe(HEAD_BYTES)
      return buffer.subarray(0, fs.readSync(fd, buffer, 0, HEAD_BYTES, 0))
    } finally {
      fs.closeSync(fd)
    }
  }
  return !head(a).equals(head(b))
}

/**
 * Two files known to differ, compared while worker threads hash them. The comparison
 * needs no digest to decide anything (they differ), only to report: it is given a pair
 * of stand-ins, distinct as the real digests are, that its items hold by reference and
 * that are filled in once the hashing is done, before anything reads the items.
 */
async function compareKnownToDiffer(
  engine: DiffEngine,
  [a, b]: readonly [string, string],
  sizes: readonly [number, number],
  ownModes: (name: string, type: 'file', sums: [string, string]) => DiffItem[],
): Promise<void> {
  const digesting = hashFilesAside([a, b])
  const digests: [string, string] = ['(digest of A to come)', '(digest of B to come)']
  const name = path.basename(a)
  try {
    engine.items.push(...ownModes(name, 'file', digests))
    // Members are named after A's file: `app.tgz!package/index.js`.
    await engine.compare(name, fileSource(a), fileSource(b), 0, digests)
  } catch (err) {
    // The hashing is waited for and its own failure dropped: the comparison's is the news.
    await digesting.catch(() => undefined)
    throw err
  }
  const [digestA, digestB] = await digesting
  if (digestA?.size !== sizes[0] || digestB?.size !== sizes[1] || digestA.sha256 === digestB.sha256)
    throw new ReproofError(
      'E_INPUT',
      `${a} and ${b}: their bytes changed while they were compared`,
      { path: a },
    )
  digests[0] = digestA.sha256
  digests[1] = digestB.sha256
}

// What opening a file the walk found gives when the tree changed since: gone (ENOENT,
// ENOTDIR), a link (ELOOP, opened without following), a directory (EISDIR), a FIFO
// (EAGAIN, opened without waiting).
// A link's target read where the walk found a link, and a file there now (EINVAL).
const CHANGED = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EISDIR', 'EAGAIN', 'EINVAL'])

/**
 * Runs `read` over two trees, a tree that changed under it being no answer: unknown
 * (exit 4; comparing again once the trees are still is safe), never an internal error.
 */
export async function stillTrees<T>(
  rootA: string,
  rootB: string,
  read: () => T | Promise<T>,
): Promise<T> {
  try {
    return await read()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === undefined || !CHANGED.has(code)) throw err
    throw new ReproofError(
      'E_AMBIGUOUS',
      `${rootA} and ${rootB}: a file changed while they were compared (${code}); compare again once they are still`,
      { path: rootA },
      { cause: err },
    )
  }
}

/** Where a name of a tree is, as lstat sees it. */
type At = (name: string) => string | Buffer

/**
 * Compares two trees. `names`, when given, restricts the comparison to those relative
 * paths (the artifacts of a build); otherwise every entry below both roots counts.
 * `places` says where each name is when that is not its name below the root (a build
 * artifact reached through a link).
 */
export async function diffDirectories(
  engine: DiffEngine,
  rootA: string,
  rootB: string,
  names: readonly string[] | undefined,
  places?: readonly [{ at: At }, { at: At }],
): Promise<void> {
  const atA: At = places === undefined ? (n) => toFsPath(rootA, n) : (n) => places[0].at(n)
  const atB: At = places === undefined ? (n) => toFsPath(rootB, n) : (n) => places[1].at(n)
  const list = (root: string, at: At): Map<string, Entry> =>
    names === undefined ? walk(root) : new Map(names.map((n) => [n, describe(at(n))] as const))
  // The walk too may meet a tree changing under it (a link read just as it became a file).
  const [listA, listB] = await stillTrees(rootA, rootB, () => [list(rootA, atA), list(rootB, atB)])
  const all = sortNames([...new Set([...listA.keys(), ...listB.keys()])])
  const present = (e: Entry | undefined): boolean => e !== undefined && e.type !== 'missing'
  const both = all.filter((n) => present(listA.get(n)) && present(listB.get(n)))
  const onlyA = all.filter((n) => present(listA.get(n)) && !present(listB.get(n)))
  const onlyB = all.filter((n) => present(listB.get(n)) && !present(listA.get(n)))
  const { digestOf, singleDigest } = await stillTrees(rootA, rootB, () =>
    hashTrees([atA, atB], [listA, listB], { both, onlyA, onlyB }),
  )
  const asMember = (list: Map<string, Entry>) => (name: string, index: number) => ({
    key: name,
    name,
    type: toMemberType(list.get(name)?.type),
    size: list.get(name)?.size ?? 0,
    sha256: singleDigest.get(name) ?? '',
    meta: {},
    index,
  })
  const renamed = pairRenamed(onlyA.map(asMember(listA)), onlyB.map(asMember(listB)))
  const renamedTo = new Map(renamed.map((r) => [r.a.name, r.b.name]))
  const renamedFrom = new Set(renamed.map((r) => r.b.name))
  for (const name of all) {
    const x = listA.get(name)
    const otherName = renamedTo.get(name) ?? name
    const y = listB.get(otherName)
    const inA = present(x)
    const inB = present(y)
    if ((!inA && !inB) || renamedFrom.has(name)) continue
    engine.throwIfAborted()
    // Counted as in an archive: every entry on either side, so that "N of M differ" holds.
    engine.compared++
    if (x === undefined || y === undefined || !inA || !inB) {
      engine.items.push({ path: name, kind: inA ? 'only-in-a' : 'only-in-b', hints: [] })
      continue
    }
    const sums: readonly [string, string] | undefined =
      otherName === name
        ? digestOf.get(name)
        : x.type === 'file'
          ? [singleDigest.get(name) ?? '', singleDigest.get(otherName) ?? '']
          : undefined
    const compared = compareEntry(
      name,
      { name, type: x.type, meta: x.meta, sha256: sums?.[0] },
      { name: otherName, type: y.type, meta: y.meta, sha256: sums?.[1] },
    )
    appendAll(engine.items, compared.items)
    if (compared.contentDiffers && sums !== undefined) {
      const [a, b] = await stillTrees(rootA, rootB, () => [
        heldFileSource(atA(name), name),
        heldFileSource(atB(otherName), name),
      ])
      await engine.compare(name, a, b, 0, [sums[0], sums[1]])
    }
  }
}

/**
 * The digests the tree comparison needs, in one batch of hashing: files on both sides,
 * and files on one side only (to find one renamed, see renames.ts).
 */
async function hashTrees(
  [atA, atB]: readonly [At, At],
  [listA, listB]: readonly [Map<string, Entry>, Map<string, Entry>],
  { both, onlyA, onlyB }: { both: string[]; onlyA: string[]; onlyB: string[] },
) {
  const present = (e: Entry | undefined): boolean => e !== undefined && e.type !== 'missing'
  const isFile = (list: Map<string, Entry>) => (n: string) => list.get(n)?.type === 'file'
  const files = both.filter((n) => isFile(listA)(n) && isFile(listB)(n))
  // Files on one side only are hashed too, to find one renamed (see renames.ts).
  const single = [...onlyA.filter(isFile(listA)), ...onlyB.filter(isFile(listB))]
  const paths = [
    ...files.map(atA),
    ...files.map(atB),
    ...single.map((n) => (present(listA.get(n)) ? atA(n) : atB(n))),
  ]
  // Sizes are known only when the entries were described one by one (a build's
  // artifacts); a walked tree learns them from the hashing itself.
  const sizes = [...files, ...single].flatMap((n) => [listA.get(n)?.size, listB.get(n)?.size])
  const totalBytes = sizes.includes(undefined)
    ? undefined
    : sizes.reduce<number>((sum, size) => sum + (size ?? 0), 0)
  // Never through a link put in a file's place since the walk (one to a file outside the
  // tree was hashed, and called identical to a copy of it).
  const digests = await hashFiles(paths, { totalBytes, noFollow: true })
  const sha = (i: number): string => digests[i]?.sha256 ?? ''
  const learn = (entry: Entry | undefined, i: number): void => {
    const digest = digests[i]
    if (entry === undefined || digest === undefined) return
    // Replaced by something else between the listing and the opening: see below.
    if ((digest.mode & fs.constants.S_IFMT) !== fs.constants.S_IFREG) return
    entry.size = digest.size
    entry.meta = { mode: octal(digest.mode) }
  }
  files.forEach((n, i) => {
    learn(listA.get(n), i)
    learn(listB.get(n), i + files.length)
  })
  single.forEach((n, i) => {
    learn(isFile(listA)(n) ? listA.get(n) : listB.get(n), 2 * files.length + i)
  })
  for (const [at, list] of [
    [atA, listA],
    [atB, listB],
  ] as const)
    for (const [name, entry] of list) {
      // A file that was not hashed (a file on one side, something else on the other)
      // or that was something else by the time it was opened: described by lstat.
      if (entry.type === 'file' && entry.size === undefined) list.set(name, describe(at(name)))
    }
  const digestOf = new Map(files.map((n, i) => [n, [sha(i), sha(i + files.length)] as const]))
  const singleDigest = new Map(single.map((n, i) => [n, sha(2 * files.length + i)]))
  return { digestOf, singleDigest }
}

/** What a special file is, in a message. */
function kindOf(stat: fs.Stats): string {
  if (stat.isFIFO()) return 'a FIFO'
  if (stat.isSocket()) return 'a socket'
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device'
  return 'not a regular file'
}

/** A tree entry's type as an archive member's. */
function toMemberType(type: Entry['type'] | undefined): MemberInfo['type'] {
  return type === 'file' || type === 'directory' || type === 'symlink' ? type : 'other'
}

interface Entry {
  type: 'file' | 'directory' | 'symlink' | 'other' | 'missing'
  meta: Record<string, string>
  size?: number
}

/** What is at `at` (a path for the file system: bytes where a name is not UTF-8). */
function describe(at: string | Buffer): Entry {
  let stat
  try {
    stat = fs.lstatSync(at)
  } catch {
    return { type: 'missing', meta: {} }
  }
  if (stat.isSymbolicLink())
    return {
      type: 'symlink',
      meta: { 'link target': fromNameBytes(fs.readlinkSync(at, { encoding: 'buffer' })) },
    }
  // mtimes of a build's output tree differ by nature; the mode (with its exec bit) is what ships.
  if (stat.isFile()) return { type: 'file', meta: { mode: octal(stat.mode) }, size: stat.size }
  if (stat.isDirectory()) return { type: 'directory', meta: { mode: octal(stat.mode) } }
  // A FIFO, socket or device: what it is, its mode, and which device, so that a FIFO is
  // never "identical" to a socket, nor /dev/null to /dev/zero.
  return { type: 'other', meta: specialMeta(stat) }
}

function specialMeta(stat: fs.Stats): Record<string, string> {
  const device = stat.isCharacterDevice() || stat.isBlockDevice()
  const kind = stat.isFIFO()
    ? 'fifo'
    : stat.isSocket()
      ? 'socket'
      : stat.isCharacterDevice()
        ? 'character device'
        : stat.isBlockDevice()
          ? 'block device'
          : 'unknown'
  return {
    'file type': kind,
    mode: octal(stat.mode),
    ...(device ? { device: deviceNumbers(stat.rdev) } : {}),
  }
}

/** `major,minor` of a device number, as Linux (glibc's gnu_dev_major/minor) splits it. */
export function deviceNumbers(rdev: number): string {
  const high = Math.floor(rdev / 0x1_0000_0000)
  const low = rdev >>> 0
  const major = (((low >>> 8) & 0xfff) | (high & 0xfffff000)) >>> 0
  const minor = ((low & 0xff) | ((low >>> 12) & 0xfff00) | ((high & 0xfff) << 20)) >>> 0
  return `${major},${minor}`
}

/**
 * Every entry below `root`, by name as bytes (in the name form): a name that is not
 * UTF-8 is compared like any other, never decoded into another name and lost.
 */
/** listEntries, with a path longer than the system takes said to be the input's fault. */
function listed(root: string, rel: string): ReturnType<typeof listEntries> {
  try {
    return listEntries(root, rel)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENAMETOOLONG') throw err
    const shown = toDisplayText(`${root}/${rel.slice(0, 120)}…`)
    throw new ReproofError(
      'E_INPUT',
      `${shown}: a path deeper than the system can open (${rel.split('/').length} directories below ${toDisplayText(root)}); not compared`,
      { path: root },
    )
  }
}

function walk(root: string): Map<string, Entry> {
  const out = new Map<string, Entry>()
  const visit = (rel: string): void => {
    for (const { rel: child, kind } of listed(root, rel)) {
      // A regular file's mode and size come from the hashing's own fstat (see
      // hashTrees): one lstat fewer per file, a third of a small tree's system calls.
      out.set(child, kind === 'file' ? { type: 'file', meta: {} } : describe(toFsPath(root, child)))
      if (kind === 'dir') visit(child)
    }
  }
  visit('')
  return out
}

function statInput(p: string): fs.Stats {
  try {
    return fs.statSync(p)
  } catch (err) {
    throw unreadable(p, p, err, 'no such file or directory')
  }
}

export function toReport(engine: DiffEngine, labels: [string, string]): DiffReport {
  const items = markDerived(engine.items)
  return {
    identical: items.length === 0,
    a: labels[0],
    b: labels[1],
    items,
    summaries: summarizePatterns(items),
    warnings: engine.warnings,
    stats: {
      compared: engine.compared,
      differing: new Set(items.filter((i) => i.nested !== true).map((i) => i.path)).size,
    },
    notCompared: [...NOT_COMPARED_ON_DISK],
  }
}
