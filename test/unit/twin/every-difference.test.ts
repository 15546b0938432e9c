import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Difference } from '../../../src/diff/compare-manifests.js'
import { identicalReport, type DiffReport } from '../../../src/diff/report.js'
import { withEveryDifference } from '../../../src/twin/every-difference.js'

const difference: fc.Arbitrary<Difference> = fc.record({
  name: fc.stringMatching(/^[a-z]{1,4}(\/[a-z]{1,4})?$/),
  kind: fc.constantFrom('content', 'mode', 'only-in-a', 'only-in-b'),
  digests: fc.constant<[string | null, string | null]>([null, null]),
  sizes: fc.constant<[number | null, number | null]>([null, null]),
})

describe('withEveryDifference', () => {
  it('holds an item for every difference, and is identical only when there is none', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(difference, { selector: (d) => d.name, maxLength: 6 }),
        fc.boolean(),
        fc.option(fc.constant('the archive would not open'), { nil: undefined }),
        (differences, explained, failure) => {
          // What the engine gave: nothing at all, or a report of none of them (the
          // special files it does not open).
          const given: DiffReport | null = explained ? identicalReport(0, ['run A', 'run B']) : null
          const report = withEveryDifference(given, differences, failure)
          expect(report.identical).toBe(differences.length === 0 && explained)
          for (const d of differences) {
            const item = report.items.find((i) => i.path === d.name)
            expect(item?.hints[0]?.cause).toBe('unexplained')
            if (failure !== undefined) expect(item?.hints[0]?.evidence).toContain(failure)
          }
          expect(report.stats.differing).toBe(differences.length)
        },
      ),
    )
  })

  it('adds nothing for a difference the engine explained, inside an archive or at its path', () => {
    const explained: DiffReport = {
      ...identicalReport(2, ['run A', 'run B']),
      identical: false,
      items: [{ path: 'app.tar!x', kind: 'content', hints: [] }],
      stats: { compared: 2, differing: 1 },
    }
    const report = withEveryDifference(explained, [
      { name: 'app.tar', kind: 'content', digests: ['a', 'b'], sizes: [1, 1] },
      {
        name: 'pipe',
        kind: 'content',
        digests: [null, null],
        sizes: [null, null],
        special: ['a FIFO', 'a socket'],
      },
    ])
    expect(report.items.map((i) => i.path)).toEqual(['app.tar!x', 'pipe'])
    expect(report.items[1]?.message).toBe('run A left a FIFO, run B a socket')
  })
})
