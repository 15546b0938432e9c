import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  belowAFile,
  foldedPath,
  movedBelowLink,
  movedOverwrite,
} from '../../../src/normalize/link-order.js'

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

describe('movedOverwrite', () => {
  it('finds an entry whose order among those of its path changes, and only then', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 8 }), fc.func(fc.integer()), (before, key) => {
        const after = [...before].sort((x, y) => key(x) - key(y))
        const found = movedOverwrite(before, after, pathOf)
        // Per path, the entries in the order each list has them.
        const same = before.every((e) => {
          const path = (list: Entry[]) => list.filter((o) => o.path === e.path)
          return path(before).every((o, i) => o === path(after)[i])
        })
        if (same) expect(found).toBeUndefined()
        else {
          expect(found).toBeDefined()
          expect(before.filter((o) => o.path === found?.path).length).toBeGreaterThan(1)
        }
      }),
    )
  })
})

describe('belowAFile', () => {
  it('finds an entry below one that is not a directory, and only such a pair', () => {
    const isDirectory = (e: Entry): boolean => !e.link
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 8 }), (entries) => {
        const found = belowAFile(entries, pathOf, isDirectory)
        const pairs = entries.flatMap((e) =>
          entries
            .filter((f) => !isDirectory(f) && e.path.startsWith(`${f.path}/`))
            .map((file) => ({ entry: e, file })),
        )
        if (pairs.length === 0) expect(found).toBeUndefined()
        else expect(pairs).toContainEqual(found)
      }),
    )
  })
})

describe('foldedPath', () => {
  const latin1 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1')
  it('is one path for names apart only in case or Unicode normalization', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 12 }), (name) => {
        const folded = foldedPath(latin1(name))
        expect(foldedPath(latin1(name.toUpperCase()))).toBe(
          foldedPath(latin1(name.toUpperCase().toLowerCase())),
        )
        expect(foldedPath(latin1(name.normalize('NFD')))).toBe(folded)
        expect(foldedPath(latin1(name.normalize('NFC')))).toBe(folded)
      }),
    )
    expect(foldedPath(latin1('Makefile'))).toBe(foldedPath(latin1('makefile')))
  })

  it('folds an ASCII name as it folds the same name in a longer one that is not ASCII', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 16 }), (name) => {
        expect(foldedPath(latin1(`${name}É`))).toBe(`${foldedPath(latin1(name))}é`)
      }),
    )
  })

  it('keeps a name that is not UTF-8 as it is, and names that differ otherwise apart', () => {
    const bytes = Buffer.from([0x41, 0xff, 0x62]).toString('latin1')
    expect(foldedPath(bytes)).toBe(bytes)
    expect(foldedPath(latin1('a.txt'))).not.toBe(foldedPath(latin1('b.txt')))
  })
})
