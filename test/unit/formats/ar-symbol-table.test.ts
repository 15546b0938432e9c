import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { symbolTableMoved, symbolTableReordered } from '../../../src/formats/ar.js'

/** A GNU ar symbol table: a count, one offset per symbol, the names each ended by a NUL. */
function table(names: readonly string[], offsets: readonly number[], wide: boolean): Buffer {
  const width = wide ? 8 : 4
  const head = Buffer.alloc(width * (1 + names.length))
  const put = (value: number, at: number): void => {
    if (wide) head.writeBigUInt64BE(BigInt(value), at)
    else head.writeUInt32BE(value, at)
  }
  put(names.length, 0)
  offsets.forEach((o, i) => {
    put(o, width * (i + 1))
  })
  return Buffer.concat([head, Buffer.from(names.map((n) => `${n}\0`).join(''))])
}

const names = fc.array(fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/), { minLength: 1, maxLength: 8 })

/** An archive's members by header offset: `m<i>` at each offset given. */
const membersAt = (offsets: readonly number[]): Map<number, string> =>
  new Map([...new Set(offsets)].map((o, i) => [o, `m${i}`]))

describe('symbolTableMoved', () => {
  it('counts the symbols of two tables that differ only in their offsets', () => {
    fc.assert(
      fc.property(names, fc.boolean(), fc.nat(1000), (list, wide, shift) => {
        const offsets = list.map((_, i) => 8 + i * 100)
        const moved = offsets.map((o) => o + shift + 2)
        const members = [membersAt(offsets), membersAt(moved)] as const
        expect(
          symbolTableMoved(table(list, offsets, wide), table(list, moved, wide), wide, members),
        ).toBe(list.length)
        // The same offsets: nothing moved, nothing to say.
        const same = table(list, offsets, wide)
        expect(symbolTableMoved(same, same, wide, members)).toBeUndefined()
        // Two symbols' offsets swapped: each names another member than it did, and the
        // linker would take its definition from there. Not a move.
        if (list.length > 1) {
          const swapped = [moved[1] ?? 0, moved[0] ?? 0, ...moved.slice(2)]
          expect(
            symbolTableMoved(table(list, offsets, wide), table(list, swapped, wide), wide, members),
          ).toBeUndefined()
        }
        // An offset that names no member's header: not a move either.
        const astray = moved.map((o, i) => (i === 0 ? o + 1 : o))
        expect(
          symbolTableMoved(table(list, offsets, wide), table(list, astray, wide), wide, members),
        ).toBeUndefined()
      }),
    )
  })

  it('says nothing of tables whose names differ, or of bytes that are no table', () => {
    fc.assert(
      fc.property(names, names, (x, y) => {
        const [a, b] = [
          table(
            x,
            x.map(() => 8),
            false,
          ),
          table(
            y,
            y.map(() => 12),
            false,
          ),
        ]
        const expected = x.join('\0') === y.join('\0') ? x.length : undefined
        const members = [new Map([[8, 'm']]), new Map([[12, 'm']])] as const
        expect(symbolTableMoved(a, b, false, members)).toBe(expected)
      }),
    )
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.boolean(),
        (a, b, wide) => {
          // Hostile counts (up to 2^64 - 1) never allocate or throw.
          const n = symbolTableMoved(Buffer.from(a), Buffer.from(b), wide, [new Map(), new Map()])
          if (n !== undefined) expect(n).toBeLessThanOrEqual(a.length)
        },
      ),
    )
  })
})

describe('symbolTableReordered', () => {
  it('counts the symbols of members archived in another order, and nothing else', () => {
    // Members m0..mk, each defining one symbol, archived in one order in A and a
    // permutation of it in B; each table lists symbols in its archive's member order.
    const layout = fc
      .uniqueArray(fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/), { minLength: 2, maxLength: 8 })
      .chain((list) =>
        fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length })),
      )
    fc.assert(
      fc.property(layout, fc.boolean(), ([list, order], wide) => {
        const at = (i: number) => 8 + i * 100
        // Each symbol's member, by name: m<name>, at its place in that archive.
        const tableOf = (symbols: readonly string[]) =>
          table(
            symbols,
            symbols.map((_, i) => at(i)),
            wide,
          )
        const members = [
          new Map(list.map((n, i) => [at(i), `m${n}`])),
          new Map(order.map((n, i) => [at(i), `m${n}`])),
        ] as const
        const same = order.every((n, i) => n === list[i])
        expect(symbolTableReordered(tableOf(list), tableOf(order), wide, members)).toBe(
          same ? undefined : list.length,
        )
        // A table whose offsets are out of its archive's order was not written so by ar.
        if (!same) {
          const swapped = [at(1), at(0), ...order.slice(2).map((_, i) => at(i + 2))]
          expect(
            symbolTableReordered(tableOf(list), table(order, swapped, wide), wide, members),
          ).toBeUndefined()
        }
      }),
    )
  })
})
