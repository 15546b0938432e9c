import { compareManifests, type Difference } from '../diff/compare-manifests.js'
import { explainBuild, itemsFor, type BuildRunFacts } from '../diff/explain-build.js'
import type { DiffReport } from '../diff/report.js'
import type { ArtifactPlaces, Manifest } from '../digest/manifest.js'
import type { NormalizedManifests, Verdict } from '../records/build-record.js'
import { artifactsMatchingAfterNormalization } from './normalize-artifacts.js'
import { normalizeOpenableArtifacts } from './normalize-openable.js'
import type { BuildEvent } from './run-twice.js'

/** What both runs' artifacts say about the build. */
export interface Judgement {
  verdict: Verdict
  /** Exit 0: the compared artifacts (normalized with --normalize) are byte-identical. */
  reproducible: boolean
  /** The raw artifacts, as the builds wrote them, are byte-identical. */
  rawReproducible: boolean
  /** The manifests compared and shipped: the raw ones, or the normalized ones with --normalize. */
  final: { a: Manifest; b: Manifest }
  differences: Difference[]
  normalization: NormalizedManifests | null
  /** Without --normalize: the differing artifacts that `reproof normalize` would make match. */
  wouldMatchAfterNormalization: string[]
}

/**
 * Compares both runs' artifacts. With --normalize, normalization is part of the build:
 * both runs' archives are normalized in place (losslessly) and those are compared and
 * shipped. Without it, the verdict is about the bytes the builds wrote, and normalization
 * only tells which differing artifacts it would have made match (in `scratch`).
 */
export async function judgeArtifacts(
  places: { a: ArtifactPlaces; b: ArtifactPlaces },
  raw: { a: Manifest; b: Manifest },
  how: { normalize: boolean; epoch: number; scratch: string },
  emit: (event: BuildEvent) => void,
): Promise<Judgement> {
  const rawDifferences = compareManifests(raw.a, raw.b)
  const rawReproducible = rawDifferences.length === 0
  let final = raw
  let normalization: NormalizedManifests | null = null
  let wouldMatchAfterNormalization: string[] = []
  if (how.normalize) {
    emit({ kind: 'phase', text: 'normalizing archive artifacts (--normalize)' })
    normalization = await normalizeOpenableArtifacts(places, raw, how.epoch)
    final = { a: normalization.a, b: normalization.b }
  } else if (!rawReproducible) {
    wouldMatchAfterNormalization = await artifactsMatchingAfterNormalization(
      places,
      rawDifferences.map((d) => d.name),
      how.epoch,
      how.scratch,
    )
  }
  const differences = compareManifests(final.a, final.b)
  const reproducible = differences.length === 0
  return {
    verdict: decideVerdict(rawReproducible, reproducible),
    reproducible,
    rawReproducible,
    final,
    differences,
    normalization,
    wouldMatchAfterNormalization,
  }
}

/** The verdict: only identical bytes are "reproducible"; normalized ones say so. */
export function decideVerdict(rawReproducible: boolean, reproducible: boolean): Verdict {
  if (!reproducible) return 'not-reproducible'
  return rawReproducible ? 'reproducible' : 'reproducible-after-normalization'
}

/**
 * Explains each difference (into archives and binaries, with likely causes), attaching
 * its items to it. The verdict stands without an explanation: when the diff engine gives
 * up (a hostile archive must not hide the verdict), that goes into `warnings`.
 */
export async function explainDifferences(
  differences: Difference[],
  facts: BuildRunFacts,
  warnings: string[],
): Promise<DiffReport | null> {
  try {
    const explanation = await explainBuild(
      differences.map((d) => d.name),
      facts,
    )
    for (const d of differences) d.explanation = itemsFor(explanation, d.name)
    return explanation
  } catch (err) {
    warnings.push(`the differences could not be explained: ${(err as Error).message}`)
    return null
  }
}
