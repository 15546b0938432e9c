import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { recordInconsistency } from '../../../src/attest/record-consistency.js'
import { manifestDigest, type Manifest } from '../../../src/digest/manifest-digest.js'
import type { BuildRecord } from '../../../src/records/build-record.js'

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/)
const manifestArb: fc.Arbitrary<Manifest> = fc
  .uniqueArray(
    fc.record(
      {
        name: fc.stringMatching(/^[a-z]{1,6}(\/[a-z]{1,6})?$/),
        sha256: hex64,
        size: fc.nat(),
        executable: fc.constant(true as const),
      },
      { requiredKeys: ['name', 'sha256', 'size'] },
    ),
    { selector: (e) => e.name, minLength: 1, maxLength: 6 },
  )
  .map((m) => [...m].sort((x, y) => Buffer.compare(Buffer.from(x.name), Buffer.from(y.name))))

/** The parts of a record the check reads: both runs, the result, no normalization. */
function recordOf(a: Manifest, b: Manifest, reproducible = true): BuildRecord {
  const run = (id: 'a' | 'b', manifest: Manifest) => ({
    id,
    manifest,
    manifestDigest: manifestDigest(manifest),
    exitCode: 0,
    signal: null,
  })
  return {
    runs: [run('a', a), run('b', b)],
    result: {
      reproducible,
      reproducibleWithoutNormalization: reproducible,
      verdict: reproducible ? 'reproducible' : 'not-reproducible',
      differences: [],
    },
    normalization: null,
    // What every build writes: the path varied, the epoch its SOURCE_DATE_EPOCH.
    variations: [{ name: 'path', status: 'effective' }],
    epoch: { value: 1700000000, source: 'flag' },
    environment: [{ name: 'SOURCE_DATE_EPOCH', value: '1700000000', from: 'reproof' }],
    source: { lockfiles: [] },
  } as unknown as BuildRecord
}

describe('recordInconsistency', () => {
  it('finds what no build writes: differences under reproducible, the path unvaried, an epoch apart', () => {
    const manifest = [{ name: 'out/app', sha256: 'a'.repeat(64), size: 1 }]
    const edit = (change: (r: Record<string, unknown>) => void): string | undefined => {
      const record = recordOf(manifest, manifest) as unknown as Record<string, unknown>
      change(record)
      return recordInconsistency(record as unknown as BuildRecord)
    }
    expect(edit(() => undefined)).toBeUndefined()
    expect(
      edit((r) => {
        ;(r.result as { differences: unknown[] }).differences = [{ name: 'out/app' }]
      }),
    ).toMatch(/lists 1 difference/)
    expect(
      edit((r) => {
        r.variations = []
      }),
    ).toMatch(/path variation is not effective/)
    expect(
      edit((r) => {
        r.epoch = { value: 1700000000, source: 'git' }
        r.source = { lockfiles: [], git: { commitTime: 5 } }
      }),
    ).toMatch(/the commit's time/)
    expect(
      edit((r) => {
        r.environment = [{ name: 'SOURCE_DATE_EPOCH', value: '0', from: 'reproof' }]
      }),
    ).toMatch(/SOURCE_DATE_EPOCH \(0\) is not its epoch/)
    expect(
      edit((r) => {
        r.source = { lockfiles: [{ path: 'package-lock.json' }, { path: 'package-lock.json' }] }
      }),
    ).toMatch(/one lockfile twice/)
    expect(
      edit((r) => {
        r.variations = [
          { name: 'path', status: 'effective' },
          { name: 'time', status: 'effective' },
          { name: 'path', status: 'not-applied' },
        ]
      }),
    ).toMatch(/lists the path variation twice/)
    // Reproducible after normalization, with raw manifests the same or no normalization.
    expect(
      edit((r) => {
        const result = r.result as Record<string, unknown>
        result.reproducibleWithoutNormalization = false
        result.verdict = 'reproducible-after-normalization'
      }),
    ).toMatch(/after normalization, but holds no normalization/)
    expect(
      edit((r) => {
        const result = r.result as Record<string, unknown>
        result.reproducibleWithoutNormalization = false
        result.verdict = 'reproducible-after-normalization'
        r.normalization = { artifacts: [] }
      }),
    ).toMatch(/only after normalization, but the two runs' manifests are the same/)
    const unsorted = [
      { name: 'b', sha256: 'a'.repeat(64), size: 1 },
      { name: 'a', sha256: 'a'.repeat(64), size: 1 },
    ]
    expect(recordInconsistency(recordOf(unsorted, unsorted))).toMatch(/not in byte order/)
  })

  it('derives the verdict and "without normalization" again from the runs', () => {
    fc.assert(
      fc.property(manifestArb, hex64, (manifest, other) => {
        const changed = manifest.map((e, k) => (k === 0 ? { ...e, sha256: other } : e))
        fc.pre(manifest[0]?.sha256 !== other)
        // Reproducible after normalization, flags set by hand to say without it.
        const claimed = recordOf(manifest, changed, false)
        claimed.result.reproducible = true
        claimed.result.reproducibleWithoutNormalization = true
        claimed.result.verdict = 'reproducible'
        expect(recordInconsistency(claimed)).toMatch(
          /without normalization, but the two runs' manifests differ/,
        )
        const mismatched = recordOf(manifest, structuredClone(manifest))
        mismatched.result.verdict = 'reproducible-after-normalization'
        expect(recordInconsistency(mismatched)).toMatch(
          /its verdict "reproducible-after-normalization" is not what its result says/,
        )
      }),
    )
  })

  it('finds nothing in a record as the build wrote it', () => {
    fc.assert(
      fc.property(manifestArb, (manifest) => {
        expect(recordInconsistency(recordOf(manifest, structuredClone(manifest)))).toBeUndefined()
      }),
    )
  })

  it('finds a manifest edited after its digest, a digest or an exec bit that differs under "reproducible"', () => {
    fc.assert(
      fc.property(manifestArb, hex64, fc.nat(), (manifest, other, at) => {
        const i = at % manifest.length
        const entry = manifest[i]
        fc.pre(entry !== undefined && entry.sha256 !== other)
        const changed = manifest.map((e, k) => (k === i ? { ...e, sha256: other } : e))
        // Edited after the digest was taken.
        const edited = recordOf(manifest, manifest)
        const [, runB] = edited.runs
        if (runB !== undefined) runB.manifest = changed
        expect(recordInconsistency(edited)).toMatch(/run B's manifest does not match its digest/)
        // Each run's digest right, but they differ, and the record says reproducible.
        expect(recordInconsistency(recordOf(manifest, changed))).toMatch(/manifests differ/)
        expect(recordInconsistency(recordOf(manifest, changed, false))).toBeUndefined()
        const flipped = manifest.map((e, k) => {
          if (k !== i) return e
          const { executable, ...rest } = e
          return executable === true ? rest : { ...rest, executable: true as const }
        })
        // Raw manifests that differ say so first; after normalization, the exec bits.
        expect(recordInconsistency(recordOf(manifest, flipped))).toMatch(/manifests differ/)
        const normalized = recordOf(manifest, flipped)
        normalized.result.reproducibleWithoutNormalization = false
        normalized.result.verdict = 'reproducible-after-normalization'
        normalized.normalization = { artifacts: [] } as unknown as BuildRecord['normalization']
        expect(recordInconsistency(normalized)).toMatch(/exec bits differ/)
      }),
    )
  })
})

describe('recordInconsistency, of the normalization block', () => {
  /**
   * A record as a build with --normalize writes it: both runs wrote the same files with
   * other raw bytes, each normalized to one digest with changes to show for it, and a
   * link artifact whose digests are its target's.
   */
  const normalizedRecord = fc
    .tuple(manifestArb, hex64, hex64)
    .filter(([, x, y]) => x !== y)
    .map(([manifest, other, normalizedDigest]) => {
      const b = manifest.map((e) => ({ ...e, sha256: other }))
      const record = recordOf(manifest, b, true)
      record.result.reproducibleWithoutNormalization = false
      record.result.verdict = 'reproducible-after-normalization'
      const [first, ...rest] = manifest
      record.normalization = {
        mode: 'ship',
        artifacts: [
          {
            name: first?.name ?? '',
            format: 'tar',
            raw: [first?.sha256 ?? null, other],
            normalized: [normalizedDigest, normalizedDigest],
            changes: [['1 mtime set'], ['1 mtime set']],
          },
          // Every other artifact a link to the first: read through it, the same bytes.
          ...rest.map((e) => ({
            name: e.name,
            format: 'unknown' as const,
            raw: [first?.sha256 ?? null, other] as [string | null, string | null],
            normalized: [normalizedDigest, normalizedDigest] as [string | null, string | null],
            changes: [[], []] as [string[], string[]],
          })),
        ],
      }
      // The links' raw digests are their target's.
      for (const run of record.runs) {
        run.manifest = run.manifest.map((e) => ({
          ...e,
          sha256: run.id === 'a' ? (first?.sha256 ?? '') : other,
        }))
        run.manifestDigest = manifestDigest(run.manifest)
      }
      return record
    })

  it('finds nothing in a normalized record as the build wrote it', () => {
    fc.assert(
      fc.property(normalizedRecord, (record) => {
        expect(recordInconsistency(record)).toBeUndefined()
      }),
    )
  })

  it("finds a normalized digest with nothing to show for it, a raw digest not the manifest's, and changes with no format", () => {
    fc.assert(
      fc.property(normalizedRecord, hex64, fc.constantFrom(0, 1), (record, forged, side) => {
        const artifacts = record.normalization?.artifacts ?? []
        const first = artifacts[0]
        if (first === undefined) return
        fc.pre(forged !== first.normalized[side] && forged !== first.raw[side])
        const edit = (change: (r: BuildRecord) => void): BuildRecord => {
          const copy = structuredClone(record)
          change(copy)
          return copy
        }
        const at = (r: BuildRecord) => r.normalization?.artifacts[0]
        // Run B's raw bytes "normalized" to run A's digest, with no change made.
        const unexplained = edit((r) => {
          const x = at(r)
          if (x === undefined) return
          x.changes[side] = []
          x.normalized[side] = forged
        })
        expect(recordInconsistency(unexplained)).toMatch(/with no change to show for it/)
        const raw = edit((r) => {
          const x = at(r)
          if (x !== undefined) x.raw[side] = forged
        })
        expect(recordInconsistency(raw)).toMatch(/raw digest as/)
        const noFormat = edit((r) => {
          const x = at(r)
          if (x !== undefined) x.format = 'unknown'
        })
        expect(recordInconsistency(noFormat)).toMatch(/no format reproof normalizes/)
        const twice = edit((r) => {
          const x = at(r)
          if (x !== undefined) r.normalization?.artifacts.push(structuredClone(x))
        })
        expect(recordInconsistency(twice)).toMatch(/is given twice/)
        const stranger = edit((r) => {
          const x = at(r)
          if (x !== undefined) x.name = 'not/in/any/manifest'
        })
        expect(recordInconsistency(stranger)).toMatch(/neither run's manifest has/)
        const nothing = edit((r) => {
          const x = at(r)
          if (x === undefined) return
          x.raw = [null, null]
          x.normalized = [null, null]
        })
        expect(recordInconsistency(nothing)).toMatch(/raw digest as null/)
        // Every entry stripped of its changes: the links vouched for each other's digest.
        fc.pre(artifacts.length > 1)
        const noneChanged = edit((r) => {
          for (const x of r.normalization?.artifacts ?? []) x.changes = [[], []]
          const x = at(r)
          if (x !== undefined) x.format = 'unknown'
        })
        expect(recordInconsistency(noneChanged)).toMatch(/with no change to show for it/)
      }),
    )
  })

  it('finds a run that failed: a failed build writes no record', () => {
    fc.assert(
      fc.property(
        normalizedRecord,
        fc.constantFrom<[number | null, string | null]>(
          [2, null],
          [null, 'SIGKILL'],
          [0, 'SIGTERM'],
        ),
        fc.constantFrom(0, 1),
        (record, [exitCode, signal], i) => {
          const copy = structuredClone(record)
          const run = copy.runs[i]
          if (run === undefined) return
          run.exitCode = exitCode
          run.signal = signal
          expect(recordInconsistency(copy)).toMatch(
            new RegExp(
              `^run ${i === 0 ? 'A' : 'B'} failed \\(.*\\), and a failed build writes no record$`,
            ),
          )
        },
      ),
    )
  })
})
