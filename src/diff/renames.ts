import type { MemberInfo } from '../formats/member.js'

/**
 * Members on one side only that are the same member renamed: a file whose name holds a
 * hash of its content or of something else that changed (`.build-id/43/8f….debug`,
 * `index.3f2a1b9c.js`). Left unpaired, both would be "only in A" and "only in B" and
 * their contents never compared. Pure.
 */

export interface Renamed {
  a: MemberInfo
  b: MemberInfo
  /**
   * Why they are taken as one: `directory` (the same tree under a directory of another
   * name: a temporary directory's, a version's), `content` (identical digests) or
   * `shape` (the same name but for its hashes).
   */
  by: 'directory' | 'content' | 'shape'
}

// One-sided directories tried as moved, at most, per side: each is matched against the others.
const MAX_MOVED_DIRECTORIES = 256

/** Hex runs of 8 or more, as content hashes are written in names. */
const HEX_RUN = /[0-9a-f]{8,}/gi
/** A directory of two hex digits, as .build-id and object stores fan out. */
const HEX_DIRECTORY = /^[0-9a-f]{2}$/i

/** A name with its hash-like parts blanked: two names of one shape differ only there. */
export function nameShape(name: string): string {
  const parts = name.split('/')
  return parts
    .map((part, i) =>
      i < parts.length - 1 && HEX_DIRECTORY.test(part) ? '#' : part.replace(HEX_RUN, '#'),
    )
    .join('/')
}

/**
 * Pairs `onlyA` with `onlyB`, one to one: first whole directories that hold the same
 * names under another name in the same parent (each member below paired by its place),
 * then files of identical, non-empty content
 * that one member on each side holds, then members of the same type whose names have the same
 * shape, where exactly one on each side has it and the shape holds a hash at all (two
 * names alike but for a word are two members, not one renamed).
 */
export function pairRenamed(allA: readonly MemberInfo[], allB: readonly MemberInfo[]): Renamed[] {
  // A second member of one name (`x#2`) is no rename: it shadows the first when
  // extracted, and pairing it by content would call that harmless.
  const [onlyA, onlyB] = [allA, allB].map((side) => side.filter((m) => m.key === m.name)) as [
    MemberInfo[],
    MemberInfo[],
  ]
  const pairs = movedDirectories(onlyA, onlyB)
  const movedA = new Set(pairs.map((p) => p.a))
  const movedB = new Set(pairs.map((p) => p.b))
  const restA = onlyA.filter((m) => !movedA.has(m))
  const restB = onlyB.filter((m) => !movedB.has(m))
  // Content that only one member on each side holds: many empty or one-line files are
  // alike without being one another.
  const digests = (members: readonly MemberInfo[]): Map<string, MemberInfo[]> => {
    const out = new Map<string, MemberInfo[]>()
    for (const m of members)
      if (m.type === 'file' && m.size > 0 && m.sha256 !== '')
        out.set(m.sha256, [...(out.get(m.sha256) ?? []), m])
    return out
  }
  const digestsB = digests(restB)
  const takenA = new Set<MemberInfo>()
  const takenB = new Set<MemberInfo>()
  for (const [digest, found] of digests(restA)) {
    const other = digestsB.get(digest)
    const [a, b] = [found[0], other?.[0]]
    if (a === undefined || b === undefined || found.length > 1 || (other?.length ?? 0) > 1) continue
    takenA.add(a)
    takenB.add(b)
    pairs.push({ a, b, by: 'content' })
  }
  const leftA = restA.filter((m) => !takenA.has(m))
  const shapes = (members: readonly MemberInfo[]): Map<string, MemberInfo[]> => {
    const out = new Map<string, MemberInfo[]>()
    for (const m of members) {
      const shape = nameShape(m.name)
      if (shape !== m.name) out.set(shape, [...(out.get(shape) ?? []), m])
    }
    return out
  }
  const shapesB = shapes(restB.filter((m) => !takenB.has(m)))
  for (const [shape, [a, ...moreA]] of shapes(leftA)) {
    const [b, ...moreB] = shapesB.get(shape) ?? []
    if (a === undefined || b === undefined || moreA.length > 0 || moreB.length > 0) continue
    if (a.type === b.type) pairs.push({ a, b, by: 'shape' })
  }
  return pairs
}

/** A directory's name without the trailing slash archives give it. */
const stem = (name: string): string => name.replace(/\/+$/, '')
const parentOf = (name: string): string => {
  const s = stem(name)
  return s.includes('/') ? s.slice(0, s.lastIndexOf('/')) : ''
}

/**
 * Directories on one side only, in the same parent, whose trees hold exactly the same
 * names (and at least one), one file of them at least alike in content: each is the
 * other renamed, and so is each member below.
 * Outer directories first; where two could match, none is taken.
 */
function movedDirectories(onlyA: readonly MemberInfo[], onlyB: readonly MemberInfo[]): Renamed[] {
  const dirsA = onlyA.filter((m) => m.type === 'directory')
  const dirsB = onlyB.filter((m) => m.type === 'directory')
  if (dirsA.length > MAX_MOVED_DIRECTORIES || dirsB.length > MAX_MOVED_DIRECTORIES) return []
  const below = (members: readonly MemberInfo[], dir: MemberInfo): Map<string, MemberInfo> => {
    const prefix = `${stem(dir.name)}/`
    const out = new Map<string, MemberInfo>()
    for (const m of members)
      if (m.name.startsWith(prefix) && stem(m.name) !== stem(dir.name))
        out.set(stem(m.name.slice(prefix.length)), m)
    return out
  }
  const depth = (m: MemberInfo): number => stem(m.name).split('/').length
  const pairs: Renamed[] = []
  const taken = new Set<MemberInfo>()
  for (const a of [...dirsA].sort((x, y) => depth(x) - depth(y))) {
    if (taken.has(a)) continue
    const treeA = below(onlyA, a)
    if (treeA.size === 0) continue
    const names = [...treeA.keys()].sort().join('\0')
    const matches = dirsB.filter(
      (b) =>
        !taken.has(b) &&
        parentOf(b.name) === parentOf(a.name) &&
        [...below(onlyB, b).keys()].sort().join('\0') === names,
    )
    const [b] = matches
    if (b === undefined || matches.length > 1) continue
    // And only this one on A's side for it: the pairing is the same whichever side is A.
    const rivals = dirsA.filter(
      (x) =>
        x !== a &&
        !taken.has(x) &&
        parentOf(x.name) === parentOf(a.name) &&
        [...below(onlyA, x).keys()].sort().join('\0') === names,
    )
    if (rivals.length > 0) continue
    const treeB = below(onlyB, b)
    // And a file of the same content in the same place below both: two packages of the
    // same layout (`left-pad/index.js`, `right-pad/index.js`) are not one renamed.
    const shared = [...treeA].some(
      ([name, m]) =>
        m.type === 'file' && m.size > 0 && m.sha256 !== '' && treeB.get(name)?.sha256 === m.sha256,
    )
    if (!shared) continue
    const inside = [...treeA].map(([name, m]): [MemberInfo, MemberInfo | undefined] => [
      m,
      treeB.get(name),
    ])
    for (const [x, y] of [[a, b] as [MemberInfo, MemberInfo | undefined], ...inside]) {
      if (y === undefined || taken.has(x) || taken.has(y)) continue
      taken.add(x)
      taken.add(y)
      pairs.push({ a: x, b: y, by: 'directory' })
    }
  }
  return pairs
}
