import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { movedBelowLink } from '../../../src/normalize/link-order.js'

interface Entry {
  path: string
  link: boolean
}
const pathOf = (e: Entry): string => e.path
const isLink = (e: Entry): boolean => e.link

// Short paths over few names, so that links above other entries are common.
const entry = fc.record({
  path: fc
    .array(fc.constantFrom('a', 'b', 'l'), { minLength: 1, maxLength: 3 })
    .map((p) => p.join('/')),
  link: fc.boolean(),
})

describe('movedBelowLink', () => {
  it('finds an entry moved across a link above it, and only such an entry', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(entry, { selector: (e) => e.path, maxLength: 8 }),
        fc.func(fc.integer()),
        (before, key) => {
          const after = [...before].sort((x, y) => key(x) - key(y))
          const found = movedBelowLink(before, after, pathOf, isLink)
          // Every pair of a link and an entry below it, in the same order before and after.
          const crossed = before.flatMap((e) =>
            before
              .filter((l) => l.link && e.path.startsWith(`${l.path}/`))
              .filter(
                (l) =>
                  before.indexOf(l) < before.indexOf(e) !== after.indexOf(l) < after.indexOf(e),
              )
              .map((l) => ({ entry: e, link: l })),
          )
          if (crossed.length === 0) expect(found).toBeUndefined()
          else expect(crossed).toContainEqual(found)
        },
      ),
    )
  })

  it('says nothing of an order that does not change', () => {
    const entries = [
      { path: 'l/f', link: false },
      { path: 'l', link: true },
    ]
    expect(movedBelowLink(entries, entries, pathOf, isLink)).toBeUndefined()
    expect(movedBelowLink(entries, [...entries].reverse(), pathOf, isLink)).toEqual({
      entry: entries[0],
      link: entries[1],
    })
  })
})
