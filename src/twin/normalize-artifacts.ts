import fs from 'node:fs'
import path from 'node:path'
import { hashFile } from '../digest/hash-file.js'
import type { ArtifactPlaces } from '../digest/manifest.js'
import type { Manifest, ManifestEntry } from '../digest/manifest-digest.js'
import { DEFAULT_LIMITS } from '../formats/limits.js'
import {
  isNormalizable,
  normalizeFile,
  type NormalizedFormat,
  type NormalizeOutcome,
} from '../normalize/normalize-file.js'
import { isSpecialBitsChange, type NormalizeRules } from '../normalize/rules.js'
import type { ArtifactNormalization, NormalizedManifests } from '../records/build-record.js'

// Formats whose writer's layout is kept when no field changes, and can be rewritten in
// reproof's own layout (see `NormalizeRules.canonical`).
const LAYOUT_KEPT = new Set<NormalizedFormat>(['tar', 'tar.gz', 'tar.zst', 'zip', 'jar', 'wheel'])

/**
 * Normalizes every artifact of both runs in place, inside the private build roots
 * (ship mode: lossless), and returns the manifests of the results. An archive that
 * needs no change keeps its bytes (an npm tarball keeps npm's digest). When the two
 * runs' results still differ, both copies are rewritten in reproof's own layout, so
 * that one run's archive kept as its writer laid it out and the other's rewritten
 * never differ by layout alone. An artifact that cannot be normalized keeps its raw
 * digest, with a warning: the verdict never depends on a normalizer that failed.
 */
export async function normalizeArtifacts(
  places: { a: ArtifactPlaces; b: ArtifactPlaces },
  raw: { a: Manifest; b: Manifest },
  epoch: number,
): Promise<NormalizedManifests> {
  const runs = new BothRuns(places, { epoch, setMtime: true, mode: 'ship' })
  let a = await runs.normalize('a', raw.a, false)
  let b = await runs.normalize('b', raw.b, false)
  const disagree = runs.stillDiffering()
  if (disagree.size > 0) {
    a = await runs.normalize('a', a, true, disagree)
    b = await runs.normalize('b', b, true, disagree)
  }
  const artifacts = runs.records()
  return { a, b, artifacts, warnings: [...runs.warnings, ...setIdDisagreements(artifacts)] }
}

/**
 * Artifacts normalized alike from runs that set setuid, setgid or sticky bits apart:
 * the stable modes have none, so what ships is the same, but a build that sets such a
 * bit in one run only, or on other members (`mount` in one run, `sh` in the other), is
 * not what was reproduced. Told by each run's line, which names every member and mode
 * by a digest.
 */
function setIdDisagreements(artifacts: readonly ArtifactNormalization[]): string[] {
  const removed = (changes: readonly string[]): string =>
    changes.find(isSpecialBitsChange) ?? 'no setuid, setgid or sticky bits removed'
  return artifacts
    .filter(
      (x) =>
        x.normalized[0] !== null &&
        x.normalized[0] === x.normalized[1] &&
        removed(x.changes[0]) !== removed(x.changes[1]),
    )
    .map(
      (x) =>
        `${x.name}: normalizing run A's copy: ${removed(x.changes[0])}; run B's: ${removed(x.changes[1])}: the build sets them unreliably, and what ships has none`,
    )
}

/** Both runs' artifacts as normalization goes: what each became, and what failed. */
class BothRuns {
  readonly warnings: string[] = []
  private readonly artifacts = new Map<string, ArtifactNormalization>()
  private readonly failed = new Set<string>()

  constructor(
    private readonly places: { a: ArtifactPlaces; b: ArtifactPlaces },
    private readonly rules: NormalizeRules,
  ) {}

  /** One run's manifest, its artifacts (or only those in `only`) normalized in place. */
  async normalize(
    side: 'a' | 'b',
    manifest: Manifest,
    canonical: boolean,
    only?: ReadonlySet<string>,
  ): Promise<Manifest> {
    const out: Manifest = []
    for (const entry of manifest) {
      const chosen = only === undefined || only.has(entry.name)
      out.push(chosen ? await this.normalizeOne(side, entry, canonical) : entry)
    }
    // A link artifact reads what it leads to, which may be an artifact normalized just
    // now (in either order): its digest is taken again once all are. Kept from before,
    // it no longer matched the bytes copied out, and the copy stopped half done.
    const index = side === 'a' ? 0 : 1
    for (const [i, entry] of out.entries()) {
      if (!fs.lstatSync(this.places[side].at(entry.name)).isSymbolicLink()) continue
      const { sha256, size } = await hashFile(this.places[side].readFrom(entry.name))
      out[i] = { ...entry, sha256, size }
      const record = this.artifacts.get(entry.name)
      if (record !== undefined) record.normalized[index] = sha256
    }
    return out
  }

  /** Artifacts of a format whose writer's layout was kept that still differ between the runs. */
  stillDiffering(): Set<string> {
    return new Set(
      [...this.artifacts.values()]
        .filter(
          (x) =>
            LAYOUT_KEPT.has(x.format) &&
            !this.failed.has(x.name) &&
            x.normalized[0] !== null &&
            x.normalized[1] !== null &&
            x.normalized[0] !== x.normalized[1],
        )
        .map((x) => x.name),
    )
  }

  /**
   * What the record keeps: artifacts of a known format, that something changed, or whose
   * digest changed (a link to an artifact normalized: the statement's subject must be the
   * digest of what ships, and it is taken from here; without it, the link's raw digest
   * was signed).
   */
  records(): ArtifactNormalization[] {
    return [...this.artifacts.values()].filter(
      (x) =>
        x.format !== 'unknown' ||
        x.changes.some((c) => c.length > 0) ||
        x.normalized.some((d, i) => d !== null && d !== x.raw[i]),
    )
  }

  private async normalizeOne(
    side: 'a' | 'b',
    entry: ManifestEntry,
    canonical: boolean,
  ): Promise<ManifestEntry> {
    const index = side === 'a' ? 0 : 1
    const file = this.places[side].at(entry.name)
    // normalizeOpenableArtifacts passes only artifacts whose places are strings.
    if (typeof file !== 'string') throw new Error(`${entry.name}: no path to open it by`)
    const record = this.artifacts.get(entry.name) ?? {
      name: entry.name,
      format: 'unknown',
      raw: [null, null],
      normalized: [null, null],
      changes: [[], []],
    }
    if (!canonical) record.raw[index] = entry.sha256
    this.artifacts.set(entry.name, record)
    // A link artifact points at another file; rewriting it would replace the link.
    if (fs.lstatSync(file).isSymbolicLink()) {
      record.normalized[index] = entry.sha256
      return entry
    }
    let outcome: NormalizeOutcome
    try {
      outcome = await normalizeFile(file, file, { ...this.rules, canonical }, DEFAULT_LIMITS)
    } catch (err) {
      this.warnings.push(
        `run ${side.toUpperCase()}: ${entry.name} could not be normalized (${(err as Error).message}); its ${canonical ? 'first normalized' : 'raw'} digest is compared`,
      )
      record.normalized[index] = entry.sha256
      this.failed.add(entry.name)
      return entry
    }
    record.format = outcome.format
    record.normalized[index] = outcome.digests.after
    record.changes[index] = [...record.changes[index], ...outcome.changes]
    // Only the content changes: the entry keeps everything else it says of the file (its
    // exec bit, which a build may set in one run only).
    return { ...entry, sha256: outcome.digests.after, size: fs.statSync(file).size }
  }
}

/**
 * Which differing artifacts would match if both runs' copies were normalized. Nothing
 * in the build roots changes: each copy is normalized into a scratch file.
 */
export async function artifactsMatchingAfterNormalization(
  places: { a: ArtifactPlaces; b: ArtifactPlaces },
  names: readonly string[],
  epoch: number,
  scratch: string,
): Promise<string[]> {
  const matching: string[] = []
  const dir = fs.mkdtempSync(path.join(scratch, 'would-normalize-'))
  try {
    for (const name of names) {
      const digests: string[] = []
      for (const side of ['a', 'b'] as const) {
        const file = places[side].at(name)
        // The normalizers open string paths; a name that is not UTF-8 is compared raw.
        // A regular file only: a FIFO opened to read waits for a writer that never comes.
        if (typeof file !== 'string' || !fs.existsSync(file) || !fs.lstatSync(file).isFile()) break
        try {
          // A file of no format reproof normalizes would be kept as it is, and match
          // nothing: not copied to learn that (400 differing text files took 4 s).
          if (!(await isNormalizable(file))) break
          const outcome = await normalizeFile(
            file,
            path.join(dir, side),
            // As --normalize does for copies that still differ: reproof's own layout.
            { epoch, setMtime: true, mode: 'ship', canonical: true },
            DEFAULT_LIMITS,
          )
          if (outcome.format !== 'unknown') digests.push(outcome.digests.after)
        } catch {
          // Not normalizable: it cannot be said to match after normalization.
        }
      }
      if (digests.length === 2 && digests[0] === digests[1]) matching.push(name)
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  return matching
}
