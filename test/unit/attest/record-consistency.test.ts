import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { recordInconsistency } from '../../../src/attest/record-consistency.js'
import { manifestDigest, type Manifest } from '../../../src/digest/manifest-digest.js'
import type { BuildRecord } from '../../../src/records/build-record.js'

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/)
const manifestArb: fc.Arbitrary<Manifest> = fc.uniqueArray(
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

/** The parts of a record the check reads: both runs, the result, no normalization. */
function recordOf(a: Manifest, b: Manifest, reproducible = true): BuildRecord {
  const run = (id: 'a' | 'b', manifest: Manifest) => ({
    id,
    manifest,
    manifestDigest: manifestDigest(manifest),
  })
  return {
    runs: [run('a', a), run('b', b)],
    result: {
      reproducible,
      reproducibleWithoutNormalization: reproducible,
      verdict: reproducible ? 'reproducible' : 'not-reproducible',
    },
    normalization: null,
  } as unknown as BuildRecord
}

describe('recordInconsistency', () => {
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
        expect(recordInconsistency(normalized)).toMatch(/exec bits differ/)
      }),
    )
  })
})
