import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareEntry, compareInventories } from '../../../src/diff/compare-inventories.js'
import { pairRenamed } from '../../../src/diff/renames.js'
import type { DiffItem } from '../../../src/diff/report.js'
import type { ArchiveInventory, MemberInfo } from '../../../src/formats/member.js'

const memberArb: fc.Arbitrary<Omit<MemberInfo, 'index' | 'name'>> = fc.record(
  {
    key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'dir/', 'link'),
    type: fc.constantFrom('file', 'directory', 'symlink'),
    size: fc.nat({ max: 100 }),
    sha256: fc.constantFrom('1', '2'),
    linkTarget: fc.constantFrom('x', 'y'),
    meta: fc.record({ mode: fc.constantFrom('644', '755'), mtime: fc.constantFrom('0', '1') }),
  },
  { requiredKeys: ['key', 'type', 'size', 'sha256', 'meta'] },
)
const inventoryArb: fc.Arbitrary<ArchiveInventory> = fc
  .uniqueArray(memberArb, { selector: (m) => m.key, maxLength: 7 })
  .map((members) => ({
    members: members.map((m, index) => ({ ...m, name: m.key, index })),
    meta: {},
    warnings: [],
  }))

describe('compareInventories', () => {
  it('finds nothing between an archive and itself', () => {
    fc.assert(
      fc.property(inventoryArb, (inv) => {
        expect(compareInventories('x.tar', inv, inv)).toEqual({
          items: [],
          differing: [],
          compared: inv.members.length,
        })
      }),
    )
  })

  it('never pairs a second member of one name with a member really named as its key', () => {
    // A: `f` and a member named `f#2`; B: `f` twice, the second keyed `f#2`.
    const member = (name: string, key: string, index: number): MemberInfo => ({
      name,
      key,
      index,
      type: 'file',
      size: 3,
      sha256: 'same',
      meta: {},
    })
    const inventory = (members: MemberInfo[]): ArchiveInventory => ({
      members,
      meta: {},
      warnings: [],
    })
    const a = inventory([member('f', 'f', 0), member('f#2', 'f#2', 1)])
    const b = inventory([member('f', 'f', 0), member('f', 'f#2', 1)])
    // Two members, two names: B's is given a key no member of A has.
    expect(compareInventories('x.tar', a, b).items.map((i) => [i.kind, i.path])).toEqual([
      ['only-in-a', 'x.tar!f#2'],
      ['only-in-b', 'x.tar!f#2#2'],
    ])
    // The same members in another order read alike in both lists (A's keys).
    const c = inventory([member('f', 'f', 0), member('f#2', 'f#2', 1), member('f', 'f#3', 2)])
    const d = inventory([member('f', 'f', 0), member('f', 'f#2', 1), member('f#2', 'f#2#2', 2)])
    expect(compareInventories('x.tar', c, d).items).toEqual([
      expect.objectContaining({ kind: 'order', order: { a: ['f#2', 'f#3'], b: ['f#3', 'f#2'] } }),
    ])
  })

  it('names each member on one side once, and counts every key', () => {
    fc.assert(
      fc.property(inventoryArb, inventoryArb, (a, b) => {
        const { items, compared } = compareInventories('x.tar', a, b)
        const keysA = new Set(a.members.map((m) => m.key))
        const keysB = new Set(b.members.map((m) => m.key))
        const only = (kind: string) =>
          items.filter((i) => i.kind === kind).map((i) => i.path.slice('x.tar!'.length))
        // A member on one side only is named so, or paired with one renamed on the other.
        const renamed = pairRenamed(
          a.members.filter((m) => !keysB.has(m.key)),
          b.members.filter((m) => !keysA.has(m.key)),
        )
        const pairedA = new Set(renamed.map((r) => r.a.key))
        const pairedB = new Set(renamed.map((r) => r.b.key))
        expect(only('only-in-a')).toEqual(
          [...keysA].filter((k) => !keysB.has(k) && !pairedA.has(k)),
        )
        expect(only('only-in-b')).toEqual(
          [...keysB].filter((k) => !keysA.has(k) && !pairedB.has(k)),
        )
        expect(compared).toBe(new Set([...keysA, ...keysB]).size)
      }),
    )
  })

  it('leaves to content comparison exactly the common files whose digests differ', () => {
    fc.assert(
      fc.property(inventoryArb, inventoryArb, (a, b) => {
        const { differing, items } = compareInventories('x.tar', a, b)
        const inB = new Map(b.members.map((m) => [m.key, m]))
        const renamed = new Map(
          pairRenamed(
            a.members.filter((m) => !inB.has(m.key)),
            b.members.filter((m) => !a.members.some((x) => x.key === m.key)),
          ).map((r) => [r.a.key, r.b]),
        )
        const expected = a.members.flatMap((m) => {
          const o = inB.get(m.key) ?? renamed.get(m.key)
          return o !== undefined && m.type === 'file' && o.type === 'file' && m.sha256 !== o.sha256
            ? [[m.key, o.key]]
            : []
        })
        expect(differing).toEqual(expected)
        // A member whose only difference is metadata says its content is the same, unless
        // it is a link whose target changed (a link's content is its target).
        for (const item of items.filter((i) => i.kind === 'metadata'))
          expect(item.message === 'content identical').toBe(
            !differing.some(([k]) => k === item.path.slice('x.tar!'.length)) &&
              !(item.fields ?? []).some((f) => f.field === 'link target'),
          )
      }),
    )
  })

  it('is symmetric: swapping the sides swaps each field and each one-sided member', () => {
    fc.assert(
      fc.property(inventoryArb, inventoryArb, (a, b) => {
        const ab = compareInventories('x.tar', a, b)
        const ba = compareInventories('x.tar', b, a)
        // A renamed member's item is named after the side that is A: keyed by both names.
        const keyOf = (i: DiffItem) => {
          const name = i.fields?.find((f) => f.field === 'renamed')
          return name === undefined ? i.path : [name.a, name.b].sort().join(' ~ ')
        }
        const fieldsOf = (r: typeof ab) =>
          Object.fromEntries(
            r.items.flatMap((i) =>
              i.kind === 'metadata' || i.kind === 'type' ? [[keyOf(i), i.fields]] : [],
            ),
          )
        const swapped = Object.fromEntries(
          Object.entries(fieldsOf(ba)).map(([p, fields]) => [
            p,
            fields.map((f) => ({ field: f.field, a: f.b, b: f.a })),
          ]),
        )
        expect(swapped).toEqual(fieldsOf(ab))
        expect(
          ba.items
            .filter((i) => i.kind === 'only-in-a')
            .map((i) => i.path)
            .sort(),
        ).toEqual(
          ab.items
            .filter((i) => i.kind === 'only-in-b')
            .map((i) => i.path)
            .sort(),
        )
        expect(ba.compared).toBe(ab.compared)
      }),
    )
  })

  it('shows where the common members’ order first parts, and a link target as a field', () => {
    const member = (key: string, index: number, linkTarget?: string): MemberInfo => ({
      key,
      name: key,
      index,
      type: linkTarget === undefined ? 'file' : 'symlink',
      size: 1,
      sha256: '1',
      meta: {},
      ...(linkTarget === undefined ? {} : { linkTarget }),
    })
    const a = {
      members: [member('a', 0), member('b', 1), member('l', 2, 'x')],
      meta: {},
      warnings: [],
    }
    const b = {
      members: [member('b', 0), member('a', 1), member('l', 2, 'y')],
      meta: {},
      warnings: [],
    }
    const { items } = compareInventories('x.zip', a, b)
    expect(items).toEqual([
      {
        path: 'x.zip!l',
        kind: 'metadata',
        fields: [{ field: 'link target', a: 'x', b: 'y' }],
        hints: expect.any(Array) as unknown,
      },
      {
        path: 'x.zip',
        kind: 'order',
        order: { a: ['a', 'b', 'l'], b: ['b', 'a', 'l'] },
        hints: [expect.objectContaining({ cause: expect.any(String) as unknown }) as unknown],
      },
    ])
  })
})

describe('the order of the members', () => {
  it('is "same entries" only when both sides hold the same members, and counts the others', () => {
    fc.assert(
      fc.property(inventoryArb, inventoryArb, (a, b) => {
        const order = compareInventories('x.zip', a, b).items.find((i) => i.kind === 'order')
        if (order === undefined) return
        const same =
          a.members.length === b.members.length &&
          a.members.every((m) => b.members.some((n) => n.key === m.key))
        const evidence = order.hints[0]?.evidence ?? ''
        expect(order.hints[0]?.cause).toBe('ordering')
        if (same) expect(evidence).toMatch(/^same entries, different order: /)
        else {
          const common = a.members.filter((m) => b.members.some((n) => n.key === m.key)).length
          expect(evidence).toContain(
            `the ${common} entries both sides hold, in another order (${a.members.length + b.members.length - 2 * common} more on one side only or renamed)`,
          )
        }
      }),
    )
  })
})

describe('compareEntry', () => {
  it('never calls the same stored data under another declared size or CRC "content identical"', () => {
    const entry = (crc32: string, size: string) => ({
      type: 'file',
      meta: { crc32, size, mtime: '0' },
      sha256: 'zip:same',
    })
    const { items } = compareEntry('z.zip!m', entry('1', '30540'), entry('2', '28890'))
    expect(items[0]?.message).toBe(
      'the same stored data, but its declared crc32 and size differ: a reader that stops at the declared size extracts other content, one that checks the CRC refuses a side',
    )
    // Only another time: the same content, and said so.
    const timeOnly = compareEntry('z.zip!m', entry('1', '5'), {
      ...entry('1', '5'),
      meta: { crc32: '1', size: '5', mtime: '1' },
    })
    expect(timeOnly.items[0]?.message).toBe('content identical')
  })

  const entryArb = fc.record({
    type: fc.constantFrom('file', 'directory', 'symlink'),
    meta: fc.record({ mode: fc.constantFrom('644', '755') }),
    sha256: fc.constantFrom('1', '2'),
  })

  it('gives one type item for other types, else one metadata item at most, and flags only files whose content differs', () => {
    fc.assert(
      fc.property(entryArb, entryArb, (a, b) => {
        const { items, contentDiffers } = compareEntry('p', a, b)
        if (a.type !== b.type) {
          expect(items).toEqual([
            {
              path: 'p',
              kind: 'type',
              fields: [{ field: 'type', a: a.type, b: b.type }],
              hints: [],
            },
          ])
          expect(contentDiffers).toBe(false)
          return
        }
        expect(contentDiffers).toBe(a.type === 'file' && a.sha256 !== b.sha256)
        expect(items.length).toBe(a.meta.mode === b.meta.mode ? 0 : 1)
        for (const item of items) {
          expect(item.kind).toBe('metadata')
          expect(item.message).toBe(contentDiffers ? undefined : 'content identical')
        }
      }),
    )
  })

  it('explains a mode that differs, as in an archive', () => {
    const { items } = compareEntry(
      'bin/tool',
      { type: 'file', meta: { mode: '755' }, sha256: '1' },
      { type: 'file', meta: { mode: '644' }, sha256: '1' },
    )
    expect(items[0]?.hints.map((h) => h.cause)).toEqual(['permissions'])
  })

  it('names compression only when the content is the same: new content compresses differently', () => {
    const side = (sha256: string, size: string) => ({
      type: 'file',
      meta: { 'compressed size': size },
      sha256,
    })
    const same = compareEntry('a.zip!x', side('1', '10'), side('1', '12'))
    expect(same.items[0]?.hints.map((h) => h.cause)).toEqual(['compression'])
    const changed = compareEntry('a.zip!x', side('1', '10'), side('2', '12'))
    expect(changed.contentDiffers).toBe(true)
    expect(changed.items[0]?.hints).toEqual([])
  })

  it('does not call a link whose target changed "content identical": its target is its content', () => {
    const link = (target: string) => ({ type: 'symlink', meta: { 'link target': target } })
    const { items } = compareEntry('a.tar!l', link('broken'), link('really-broken'))
    expect(items[0]?.fields).toEqual([{ field: 'link target', a: 'broken', b: 'really-broken' }])
    expect(items[0]?.message).toBeUndefined()
    const moved = compareEntry(
      'a.tar!l',
      { ...link('x'), meta: { 'link target': 'x', mode: '0777' } },
      {
        ...link('x'),
        meta: { 'link target': 'x', mode: '0755' },
      },
    )
    expect(moved.items[0]?.message).toBe('content identical')
  })
})
