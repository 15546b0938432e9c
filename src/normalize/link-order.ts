import { isUtf8 } from 'node:buffer'
/**
 * An entry below a path that a symbolic link of the archive takes (`l/f` with `l -> d`)
 * whose order relative to that link `after` changes from `before` (pure): written before
 * the link, the entry lands in a directory `l`; after it, through the link into `d`. So
 * sorting such an archive would change what it extracts to.
 *
 * `pathOf` gives the path an entry extracts to, parts joined by `/` (none empty: each
 * `/` ends the path of a directory above it).
 */
export function movedBelowLink<T>(
  before: readonly T[],
  after: readonly T[],
  pathOf: (entry: T) => string,
  isLink: (entry: T) => boolean,
): { entry: T; link: T } | undefined {
  const links = new Map<string, T[]>()
  for (const e of before)
    if (isLink(e)) {
      const key = pathOf(e)
      links.set(key, [...(links.get(key) ?? []), e])
    }
  if (links.size === 0) return undefined
  const was = new Map(before.map((e, i) => [e, i]))
  const now = new Map(after.map((e, i) => [e, i]))
  const earlier = (order: Map<T, number>, link: T, entry: T): boolean =>
    (order.get(link) ?? 0) < (order.get(entry) ?? 0)
  for (const entry of before) {
    const path = pathOf(entry)
    for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1))
      for (const link of links.get(path.slice(0, i)) ?? [])
        if (earlier(was, link, entry) !== earlier(now, link, entry)) return { entry, link }
  }
  return undefined
}

/**
 * An entry, or the target a hard link names (`linkOf`), below a path that a symbolic
 * link of the archive takes (pure). Extracted, it is written or found through the link,
 * where what the link points at was made by other entries, in their order: sorting an
 * archive that holds one may have a directory made after what is written into it, or a
 * hard link made before the path it names can be reached.
 */
export function throughLink<T>(
  entries: readonly T[],
  pathOf: (entry: T) => string,
  isLink: (entry: T) => boolean,
  linkOf: (entry: T) => string | undefined,
): { entry: T; link: T } | undefined {
  const links = new Map<string, T>()
  for (const e of entries) if (isLink(e)) links.set(pathOf(e), e)
  if (links.size === 0) return undefined
  for (const entry of entries)
    for (const target of [pathOf(entry), linkOf(entry)]) {
      if (target === undefined) continue
      for (let i = target.indexOf('/'); i !== -1; i = target.indexOf('/', i + 1)) {
        const link = links.get(target.slice(0, i))
        if (link !== undefined) return { entry, link }
      }
    }
  return undefined
}

/**
 * The first entry that shares the path it extracts to with another, where their order
 * in `after` is not the one in `before` (pure): the last one written is what an
 * extractor leaves there (`a` and `./a`, `d//y` and `d/y`).
 */
export function movedOverwrite<T>(
  before: readonly T[],
  after: readonly T[],
  pathOf: (entry: T) => string,
): T | undefined {
  const groups = (list: readonly T[]): Map<string, T[]> => {
    const map = new Map<string, T[]>()
    for (const e of list) {
      const key = pathOf(e)
      const group = map.get(key)
      if (group === undefined) map.set(key, [e])
      else group.push(e)
    }
    return map
  }
  const old = groups(before)
  if (old.size === before.length) return undefined
  for (const [key, now] of groups(after)) {
    if (now.length < 2) continue
    const was = old.get(key) ?? []
    const moved = now.find((e, i) => e !== was[i])
    if (moved !== undefined) return moved
  }
  return undefined
}

// eslint-disable-next-line no-control-regex -- every byte below 0x80 is ASCII
const ASCII = /^[\x00-\x7f]*$/

/**
 * The path as a file system that ignores case and Unicode normalization (macOS's and
 * Windows' defaults) sees it: `path` holds one character per byte; a name that is not
 * UTF-8 is kept as it is. Two entries of one such path are one file there, and the last
 * written is what stays, as for `a` and `./a` everywhere.
 */
export function foldedPath(path: string): string {
  // Most names are ASCII, which case-folds alone and has no other normal form.
  if (ASCII.test(path)) return path.toLowerCase()
  const bytes = Buffer.from(path, 'latin1')
  if (!isUtf8(bytes)) return path
  return bytes.toString('utf8').normalize('NFD').toLowerCase().normalize('NFC')
}

/**
 * An entry below the path of an entry that is not a directory (`a/b` beside a file `a`),
 * and that one (pure): which of the two an extractor keeps depends on which comes
 * first, so an archive that holds such a pair is not reordered.
 */
export function belowAFile<T>(
  entries: readonly T[],
  pathOf: (entry: T) => string,
  isDirectory: (entry: T) => boolean,
): { entry: T; file: T } | undefined {
  const files = new Map<string, T>()
  for (const e of entries) if (!isDirectory(e)) files.set(pathOf(e), e)
  for (const entry of entries) {
    const path = pathOf(entry)
    for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
      const file = files.get(path.slice(0, i))
      if (file !== undefined) return { entry, file }
    }
  }
  return undefined
}
