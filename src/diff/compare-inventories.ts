import { appendAll } from '../append-all.js'
import type { ArchiveInventory, MemberInfo } from '../formats/member.js'
import { fieldHints, orderHint } from './hints.js'
import { pairRenamed } from './renames.js'
import type { DiffItem, FieldDifference } from './report.js'

/** What two archives' member lists say before any member's content is read. */
export interface InventoryComparison {
  /** Members on one side only, changed types, metadata, and the order of common members. */
  items: DiffItem[]
  /**
   * The files on both sides whose content digests differ, in A's order, as the key on
   * each side: the same key, or two for a member renamed (see renames.ts).
   */
  differing: [string, string][]
  /** Distinct member keys over both sides. */
  compared: number
}

/**
 * Compares two archives member by member by key, without their content: the items come
 * in A's order (each member only in A, of another type, or with other metadata), then the
 * members only in B, then the first place where the common members' order parts. The
 * content of the `differing` members is compared by the caller, which has to read it.
 */
export function compareInventories(
  path: string,
  a: ArchiveInventory,
  b: ArchiveInventory,
): InventoryComparison {
  // Paired by name and by which of the members of that name each is (the first `f`
  // with the first, the second with the second), not by key: a second `f` on one side is
  // keyed `f#2`, as a member really named `f#2` is on the other, and the two are not one
  // member.
  const [occurrencesA, occurrencesB] = [occurrences(a), occurrences(b)]
  const inB = (m: MemberInfo): MemberInfo | undefined => occurrencesB.get(occurrencesA.of(m))
  const inA = (m: MemberInfo): MemberInfo | undefined => occurrencesA.get(occurrencesB.of(m))
  const items: DiffItem[] = []
  const differing: [string, string][] = []
  const renamed = pairRenamed(
    a.members.filter((m) => inB(m) === undefined),
    b.members.filter((m) => inA(m) === undefined),
  )
  const renamedTo = new Map(renamed.map((r) => [r.a.key, r.b]))
  const renamedFrom = new Set(renamed.map((r) => r.b.key))
  for (const member of a.members) {
    const other = inB(member) ?? renamedTo.get(member.key)
    const memberPath = `${path}!${member.key}`
    if (other === undefined) {
      items.push({ path: memberPath, kind: 'only-in-a', sizes: [member.size, null], hints: [] })
      continue
    }
    const compared = compareEntry(
      memberPath,
      {
        name: member.name,
        type: member.type,
        meta: shownFields(member),
        sha256: extracted(member),
      },
      { name: other.name, type: other.type, meta: shownFields(other), sha256: extracted(other) },
    )
    appendAll(items, compared.items)
    if (compared.contentDiffers) differing.push([member.key, other.key])
  }
  // A member only in B is named by its key, unless a member of A has that key (A's
  // member really named `f#2`, B's second `f`): then by a key no member of A has.
  const keysA = new Set(a.members.map((m) => m.key))
  const keysB = new Set(b.members.map((m) => m.key))
  for (const member of b.members)
    if (inA(member) === undefined && !renamedFrom.has(member.key)) {
      let label = member.key
      while (keysA.has(label) || (label !== member.key && keysB.has(label))) label = `${label}#2`
      items.push({
        path: `${path}!${label}`,
        kind: 'only-in-b',
        sizes: [null, member.size],
        hints: [],
      })
    }
  // The common members' order, by which member each is; both sides named by A's keys,
  // so that one member reads alike in both lists.
  const commonA = a.members.filter((m) => inB(m) !== undefined)
  const commonB = b.members.flatMap((m) => inA(m) ?? [])
  const first = commonA.findIndex((m, i) => m !== commonB[i])
  if (first !== -1) {
    const orderA = commonA.map((m) => m.key)
    const orderB = commonB.map((m) => m.key)
    items.push({
      path,
      kind: 'order',
      order: { a: orderA.slice(first, first + 10), b: orderB.slice(first, first + 10) },
      hints: [
        orderHint(orderA.slice(first), orderB.slice(first), {
          common: commonA.length,
          elsewhere: a.members.length - commonA.length + b.members.length - commonB.length,
        }),
      ],
    })
  }
  const all = new Set([...a.members.map(occurrencesA.of), ...b.members.map(occurrencesB.of)])
  return { items, differing, compared: all.size }
}

/** One entry (an archive member, a file in a tree) as the comparison of its two sides sees it. */
export interface ComparedEntry {
  /** Its name on its side: two that differ (a renamed member) differ in a field `renamed`. */
  name?: string
  type: string
  /** Its metadata as compared, link target included. */
  meta: Record<string, string>
  /** Content digest, for a file. */
  sha256?: string | undefined
}

/**
 * The items for an entry present on both sides: another type, or other metadata (with
 * its hints, and "content identical" when only the metadata differs). A file whose
 * content differs is flagged for the caller, which has to read it.
 */
export function compareEntry(
  path: string,
  a: ComparedEntry,
  b: ComparedEntry,
): { items: DiffItem[]; contentDiffers: boolean } {
  if (a.type !== b.type)
    return {
      items: [{ path, kind: 'type', fields: [{ field: 'type', a: a.type, b: b.type }], hints: [] }],
      contentDiffers: false,
    }
  const renamed =
    a.name !== undefined && b.name !== undefined && a.name !== b.name
      ? [{ field: 'renamed', a: a.name, b: b.name }]
      : []
  const contentDiffers = a.type === 'file' && a.sha256 !== b.sha256
  // A zip member's check and size follow from its content: beside content that differs
  // they say nothing more.
  const fields = [...renamed, ...diffFields(a.meta, b.meta)].filter(
    (f) => !(contentDiffers && FOLLOW_CONTENT.has(f.field)),
  )
  const items: DiffItem[] =
    fields.length === 0
      ? []
      : [
          {
            path,
            kind: 'metadata',
            fields,
            // Data that differs (a zip directory's) is no compressor's doing either.
            hints: fieldHints(fields, {
              contentDiffers: contentDiffers || fields.some((f) => f.field === 'data'),
              rest: true,
            }),
            // A link's content is its target, an entry of no known kind's its data: one
            // whose target or data changed is not "identical". (A sparse file's content
            // is hashed with its holes made again: another map of the same file is.)
            ...(contentDiffers || fields.some((f) => shapesContent(f.field))
              ? {}
              : (declaredAside(fields) ?? { message: 'content identical' })),
          },
        ]
  return { items, contentDiffers }
}

const FOLLOW_CONTENT = new Set(['crc32', 'size'])

/**
 * The same stored bytes under another declared check or size (a zip directory's): the
 * data decodes alike, but a reader that stops at the declared size (Python's zipfile)
 * extracts other content, and one that checks the CRC refuses a side. Not "identical".
 */
function declaredAside(fields: readonly FieldDifference[]): { message: string } | undefined {
  const declared = fields.filter((f) => FOLLOW_CONTENT.has(f.field)).map((f) => f.field)
  if (declared.length === 0) return undefined
  return {
    message: `the same stored data, but its declared ${declared.join(' and ')} ${declared.length === 1 ? 'differs' : 'differ'}: a reader that stops at the declared size extracts other content, one that checks the CRC refuses a side`,
  }
}

/**
 * The fields left out beside content that differs (a zip member's check and size), as
 * they differ: once the content is read and proved the same, they no longer follow from
 * it, and one side's check or size is not its content's.
 */
export function checksBesideSameContent(a: MemberInfo, b: MemberInfo): FieldDifference[] {
  const pick = (meta: Record<string, string>): Record<string, string> =>
    Object.fromEntries(Object.entries(meta).filter(([field]) => FOLLOW_CONTENT.has(field)))
  return diffFields(pick(a.meta), pick(b.meta))
}

/** Fields that are part of what an entry extracts to, beside its stored bytes. */
function shapesContent(field: string): boolean {
  return (
    field === 'link target' ||
    field === 'data' ||
    // What a hard link or a device extracts to, beside its own stored bytes.
    field === 'linked content' ||
    field === 'hard links' ||
    field === 'hard link of' ||
    field === 'device' ||
    // A FIFO for a socket, a character device for a block one: no content to be alike.
    field === 'file type'
  )
}

/**
 * The fields of `a` and `b` that differ, each name once; a missing one is "(absent)".
 * A zip's local-header field is kept only where it disagrees with the central directory:
 * missing on one side, it is that side's central value (`local mtime` is its `mtime`), or
 * said to agree with it; "(absent)" there read as a header with no time.
 */
export function diffFields(
  a: Record<string, string>,
  b: Record<string, string>,
): FieldDifference[] {
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])]
  const value = (side: Record<string, string>, n: string): string => {
    const own = side[n]
    if (own !== undefined) return own
    if (!n.startsWith('local ')) return '(absent)'
    return side[n.slice('local '.length)] ?? '(as in its central directory)'
  }
  return names
    .filter((n) => a[n] !== b[n])
    .map((n) => ({ field: n, a: value(a, n), b: value(b, n) }))
}

/**
 * The digest of what a member extracts to: a cpio hard link stored empty holds the data
 * its group's one holder carries (its `linked content` field says so). Compared by its
 * stored bytes, a link against a plain file of the same bytes was a content difference
 * with no cause; the link structure is said by the fields that differ.
 */
function extracted(member: MemberInfo): string | undefined {
  const linked = /sha256 ([0-9a-f]{64})$/.exec(member.meta['linked content'] ?? '')?.[1]
  return linked ?? member.sha256
}

/** Each member by its name and its place among the members of that name, both ways. */
function occurrences(inventory: ArchiveInventory): {
  of: (m: MemberInfo) => string
  get: (occurrence: string) => MemberInfo | undefined
} {
  const counts = new Map<string, number>()
  const byMember = new Map<MemberInfo, string>()
  const byOccurrence = new Map<string, MemberInfo>()
  for (const m of inventory.members) {
    const n = (counts.get(m.name) ?? 0) + 1
    counts.set(m.name, n)
    // A name holds no NUL here (it would end it in the archive): the number is apart.
    const occurrence = `${String(n)}\0${m.name}`
    byMember.set(m, occurrence)
    byOccurrence.set(occurrence, m)
  }
  return {
    of: (m) => byMember.get(m) ?? '',
    get: (occurrence) => byOccurrence.get(occurrence),
  }
}

export function membersByKey(inventory: ArchiveInventory): Map<string, MemberInfo> {
  return new Map(inventory.members.map((m) => [m.key, m]))
}

/** A member's metadata as compared: its own fields and, for a link, its target. */
function shownFields(member: MemberInfo): Record<string, string> {
  return member.linkTarget === undefined
    ? member.meta
    : { ...member.meta, 'link target': member.linkTarget }
}
