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
  /** Why they are taken as one: `content` (identical digests) or `shape` (the same name but for its hashes). */
  by: 'content' | 'shape'
}

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
 * Pairs `onlyA` with `onlyB`, one to one: first files of identical, non-empty content
 * that one member on each side holds, then members of the same type whose names have the same
 * shape, where exactly one on each side has it and the shape holds a hash at all (two
 * names alike but for a word are two members, not one renamed).
 */
export function pairRenamed(onlyA: readonly MemberInfo[], onlyB: readonly MemberInfo[]): Renamed[] {
  const pairs: Renamed[] = []
  // Content that only one member on each side holds: many empty or one-line files are
  // alike without being one another.
  const digests = (members: readonly MemberInfo[]): Map<string, MemberInfo[]> => {
    const out = new Map<string, MemberInfo[]>()
    for (const m of members)
      if (m.type === 'file' && m.size > 0 && m.sha256 !== '')
        out.set(m.sha256, [...(out.get(m.sha256) ?? []), m])
    return out
  }
  const digestsB = digests(onlyB)
  const takenA = new Set<MemberInfo>()
  const takenB = new Set<MemberInfo>()
  for (const [digest, found] of digests(onlyA)) {
    const other = digestsB.get(digest)
    const [a, b] = [found[0], other?.[0]]
    if (a === undefined || b === undefined || found.length > 1 || (other?.length ?? 0) > 1) continue
    takenA.add(a)
    takenB.add(b)
    pairs.push({ a, b, by: 'content' })
  }
  const leftA = onlyA.filter((m) => !takenA.has(m))
  const shapes = (members: readonly MemberInfo[]): Map<string, MemberInfo[]> => {
    const out = new Map<string, MemberInfo[]>()
    for (const m of members) {
      const shape = nameShape(m.name)
      if (shape !== m.name) out.set(shape, [...(out.get(shape) ?? []), m])
    }
    return out
  }
  const shapesB = shapes(onlyB.filter((m) => !takenB.has(m)))
  for (const [shape, [a, ...moreA]] of shapes(leftA)) {
    const [b, ...moreB] = shapesB.get(shape) ?? []
    if (a === undefined || b === undefined || moreA.length > 0 || moreB.length > 0) continue
    if (a.type === b.type) pairs.push({ a, b, by: 'shape' })
  }
  return pairs
}
