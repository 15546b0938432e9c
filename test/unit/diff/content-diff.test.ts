import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { describeRegions, diffBinary, MAX_REGIONS } from '../../../src/diff/content-diff.js'

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
