import fs from 'node:fs'
import { compareBytes } from '../canonical.js'
import { compareManifests, type Difference } from '../diff/compare-manifests.js'
import { deviceNumbers } from '../diff/diff-inputs.js'
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
  /** Outputs that hold no bytes (FIFOs, sockets, devices), by run: not hashed, but counted. */
  special: { a: readonly string[]; b: readonly string[] } = { a: [], b: [] },
): Promise<Judgement> {
  const oneSided = [
    ...specialOnOneSide(special, raw),
    ...specialOfOtherKinds(special, (side, name) => specialKind(places[side].at(name))),
  ]
  // Never a name either run left as a FIFO, socket or device: opening one to read it
  // (to normalize or explain it) can wait forever.
  const unreadable = new Set([...special.a, ...special.b])
  const hashed = compareManifests(raw.a, raw.b)
  const rawDifferences = byName([...hashed, ...oneSided])
  const rawReproducible = rawDifferences.length === 0
  let final = raw
  let normalization: NormalizedManifests | null = null
  let wouldMatchAfterNormalization: string[] = []
  if (how.normalize) {
    emit({ kind: 'phase', text: 'normalizing archive artifacts (--normalize)' })
    normalization = await normalizeOpenableArtifacts(places, raw, how.epoch)
    final = { a: normalization.a, b: normalization.b }
  } else if (!rawReproducible) {
    // Never a FIFO's name: opening one to read it waits for a writer that never comes.
    wouldMatchAfterNormalization = await artifactsMatchingAfterNormalization(
      places,
      hashed.map((d) => d.name).filter((name) => !unreadable.has(name)),
      how.epoch,
      how.scratch,
    )
  }
  const differences = byName([...compareManifests(final.a, final.b), ...oneSided])
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

/**
 * A FIFO, socket or device only one run left among the outputs: the runs did not leave
 * the same outputs, whatever the bytes of the rest say. Pure.
 */
export function specialOnOneSide(
  special: { a: readonly string[]; b: readonly string[] },
  hashed: { a: Manifest; b: Manifest } = { a: [], b: [] },
): Difference[] {
  const inA = new Set(special.a)
  const inB = new Set(special.b)
  // A name the other run left as a file is that file's difference already (only in it).
  const filesA = new Set(hashed.a.map((e) => e.name))
  const filesB = new Set(hashed.b.map((e) => e.name))
  const only = (names: Set<string>, other: Set<string>, kind: 'only-in-a' | 'only-in-b') =>
    [...names]
      .filter((name) => !other.has(name) && !(kind === 'only-in-a' ? filesB : filesA).has(name))
      .map((name): Difference => ({ name, kind, digests: [null, null], sizes: [null, null] }))
  return byName([...only(inA, inB, 'only-in-a'), ...only(inB, inA, 'only-in-b')])
}

/**
 * Outputs both runs left as FIFOs, sockets or devices, but not the same kind (a FIFO and
 * a socket, devices of other numbers): what the runs left differs, though neither holds
 * bytes. `kindOf` says what a run left under a name. Pure.
 */
export function specialOfOtherKinds(
  special: { a: readonly string[]; b: readonly string[] },
  kindOf: (side: 'a' | 'b', name: string) => string,
): Difference[] {
  const inB = new Set(special.b)
  const out: Difference[] = []
  for (const name of special.a) {
    if (!inB.has(name)) continue
    const kinds: [string, string] = [kindOf('a', name), kindOf('b', name)]
    if (kinds[0] !== kinds[1])
      out.push({
        name,
        kind: 'content',
        digests: [null, null],
        sizes: [null, null],
        special: kinds,
      })
  }
  return byName(out)
}

/** What an output that holds no bytes is, as lstat sees it now. */
function specialKind(at: string | Buffer): string {
  let stat: fs.Stats
  try {
    stat = fs.lstatSync(at)
  } catch {
    return 'nothing (gone since)'
  }
  if (stat.isFIFO()) return 'a FIFO'
  if (stat.isSocket()) return 'a socket'
  if (stat.isCharacterDevice()) return `a character device ${deviceNumbers(stat.rdev)}`
  if (stat.isBlockDevice()) return `a block device ${deviceNumbers(stat.rdev)}`
  return `a file of mode ${(stat.mode & 0o170000).toString(8)}`
}

function byName(differences: Difference[]): Difference[] {
  return differences.sort((x, y) => compareBytes(x.name, y.name))
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
    // Only what was hashed is read again: a FIFO, socket or device one run left (its
    // digests null on both sides) holds no bytes, and a FIFO opened to read waits forever.
    const explanation = await explainBuild(
      differences.filter((d) => d.digests.some((x) => x !== null)).map((d) => d.name),
      facts,
    )
    for (const d of differences) d.explanation = itemsFor(explanation, d.name)
    return explanation
  } catch (err) {
    warnings.push(`the differences could not be explained: ${(err as Error).message}`)
    return null
  }
}
