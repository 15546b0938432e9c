import { lineDiff, structuredPatch } from 'diff'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  describeRegions,
  diffBinary,
  diffText,
  disjointHunk,
  MAX_REGIONS,
} from '../../../src/diff/content-diff.js'

describe('describeRegions', () => {
  it('takes ranges a few bytes apart as one place, and shows the strings that differ', () => {
    const a = Buffer.from(
      '\0\0\0/home/me/src/x.c\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01',
      'latin1',
    )
    const b = Buffer.from(
      '\0\0\0/tmp/bb/src/x.c\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x02',
      'latin1',
    )
    const { regions, unlisted } = describeRegions(a, b, diffBinary(a, b))
    expect(regions[0]?.strings).toEqual(['/home/me/src/x.c', '/tmp/bb/src/x.c'])
    expect(regions.length).toBe(2)
    expect(unlisted).toBe(0)
  })

  it('accounts for every place: listed ones and the count of the rest, all within both files', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ maxLength: 600 }), (x, y) => {
        const [a, b] = [Buffer.from(x), Buffer.from(y)]
        const diff = diffBinary(a, b)
        const { regions, unlisted } = describeRegions(a, b, diff)
        expect(regions.length).toBeLessThanOrEqual(MAX_REGIONS)
        expect(unlisted).toBeGreaterThanOrEqual(0)
        expect(unlisted).toBeLessThanOrEqual(diff.places)
        if (diff.places > 0) expect(regions.length).toBeGreaterThan(0)
        for (const r of regions) {
          expect(r.length).toBeGreaterThan(0)
          expect(r.offset + r.length).toBeLessThanOrEqual(Math.max(a.length, b.length))
        }
      }),
    )
  })
})

describe('disjointHunk', () => {
  // Texts from lines of a few letters, with or without \r, and with or without a last newline.
  const text = (letters: string): fc.Arbitrary<string> =>
    fc
      .tuple(
        fc.array(
          fc.tuple(
            fc.stringMatching(new RegExp(`^[${letters}]{0,3}$`)),
            fc.constantFrom('\n', '\r\n'),
          ),
          { maxLength: 12 },
        ),
        fc.stringMatching(new RegExp(`^[${letters}]{0,3}$`)),
      )
      .map(([lines, last]) => lines.map(([l, end]) => l + end).join('') + last)
  const tokens = (t: string): string[] => lineDiff.tokenize(t, { newlineIsToken: false })

  it('gives the hunk jsdiff gives for texts that share no line', () => {
    fc.assert(
      fc.property(text('ab'), text('xy'), (a, b) => {
        const hunk = disjointHunk(tokens(a), tokens(b))
        const shared = tokens(a).some((line) => tokens(b).includes(line))
        if (shared || a + b === '') {
          expect(hunk).toBeUndefined()
          return
        }
        expect(hunk).toEqual(structuredPatch('a', 'b', a, b, '', '', { context: 3 }).hunks[0])
      }),
      { numRuns: 500 },
    )
  })

  it('leaves texts that share a line to jsdiff, whose patch is the same either way', async () => {
    fc.assert(
      fc.property(text('ab'), text('ab'), (a, b) => {
        const shared = tokens(a).some((line) => tokens(b).includes(line))
        if (shared) expect(disjointHunk(tokens(a), tokens(b))).toBeUndefined()
      }),
    )
    const a = 'same\nold\n'
    const diff = await diffText(a, 'same\nnew\n', ['a', 'b'], 100)
    expect(diff?.unified).toBe('--- a\n+++ b\n@@ -1,2 +1,2 @@\n same\n-old\n+new')
    const apart = await diffText('1\n2', '3\n', ['a', 'b'], 100)
    expect(apart?.unified).toBe(
      '--- a\n+++ b\n@@ -1,2 +1,1 @@\n-1\n-2\n\\ No newline at end of file\n+3',
    )
  })
})
