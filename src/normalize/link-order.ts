/**
 * An entry below a path that a symbolic link of the archive takes (`l/f` with `l -> d`)
 * whose order relative to that link `after` changes from `before` (pure): written before
 * the link, the entry lands in a directory `l`; after it, through the link into `d`. So
 * sorting such an archive would change what it extracts to.
 *
 * `pathOf` gives the path an entry extracts to, parts joined by `/`.
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
    const parts = pathOf(entry).split('/')
    for (let n = 1; n < parts.length; n++)
      for (const link of links.get(parts.slice(0, n).join('/')) ?? [])
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
      const parts = target.split('/')
      for (let n = 1; n < parts.length; n++) {
        const link = links.get(parts.slice(0, n).join('/'))
        if (link !== undefined) return { entry, link }
      }
    }
  return undefined
}
