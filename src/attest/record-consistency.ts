import { manifestDigest } from '../digest/manifest-digest.js'
import { compareNames } from '../file-names.js'
import type { BuildRecord } from '../records/build-record.js'
import { runEvidence } from './statement.js'

/**
 * What in a build record contradicts itself, or undefined: each run's manifest against
 * its digest, and the record's "reproducible" against the two runs' manifests (the
 * digests that ship, and the exec bits). A record that was edited by hand, or corrupted
 * on its way between jobs, is refused rather than signed. This cannot tell a record
 * rewritten consistently from a true one: the record is trusted input to `attest` (see
 * docs/threat-model.md); `--sha512 <dir>` checks the shipped files against it. Pure.
 */
export function recordInconsistency(record: BuildRecord): string | undefined {
  for (const run of record.runs) {
    if (manifestDigest(run.manifest) !== run.manifestDigest)
      return `run ${run.id.toUpperCase()}'s manifest does not match its digest`
    // A build that fails writes no record: one whose run failed was not written by it.
    if (run.exitCode !== 0 || run.signal !== null)
      return `run ${run.id.toUpperCase()} failed (${run.signal === null ? `exit code ${String(run.exitCode)}` : `signal ${run.signal}`}), and a failed build writes no record`
  }
  // The verdict and "without normalization" are the result's own words for what the
  // manifests show: both are derived again, or a hand-set flag was signed beside the
  // two raw manifests that contradict it.
  const { reproducible, reproducibleWithoutNormalization: raw, verdict } = record.result
  const verdictFor = !reproducible
    ? 'not-reproducible'
    : raw
      ? 'reproducible'
      : 'reproducible-after-normalization'
  if (verdict !== verdictFor)
    return `its verdict "${verdict}" is not what its result says ("${verdictFor}")`
  const [first, second] = record.runs
  if (raw && (first === undefined || first.manifestDigest !== second?.manifestDigest))
    return "it says reproducible without normalization, but the two runs' manifests differ"
  // And the other way: only normalization makes raw manifests that differ match.
  if (reproducible && !raw) {
    if (record.normalization === null)
      return 'it says reproducible after normalization, but holds no normalization'
    if (first !== undefined && first.manifestDigest === second?.manifestDigest)
      return "it says reproducible only after normalization, but the two runs' manifests are the same"
  }
  const normalization = normalizationInconsistency(record)
  if (normalization !== undefined) return normalization
  const built = buildInconsistency(record)
  if (built !== undefined) return built
  if (!reproducible) return undefined
  // What the build found still differing: a reproducible record lists nothing.
  if (record.result.differences.length > 0)
    return `it says reproducible, but lists ${record.result.differences.length} difference(s) between the runs`
  const [a, b] = runEvidence(record)
  const shipped = (e: typeof a) =>
    JSON.stringify((e?.artifacts ?? []).map((x) => [x.name, x.sha256]))
  if (a === undefined || b === undefined || shipped(a) !== shipped(b))
    return "it says reproducible, but the two runs' manifests differ"
  const bits = (id: 'a' | 'b') =>
    JSON.stringify(
      (record.runs.find((r) => r.id === id)?.manifest ?? []).map((e) => [
        e.name,
        e.executable === true,
      ]),
    )
  if (bits('a') !== bits('b')) return "it says reproducible, but the two runs' exec bits differ"
  return undefined
}

/**
 * What no build writes: a `path` variation not effective (it cannot be turned off, and
 * needs nothing the machine may lack), an epoch from the commit that is not its time, a
 * SOURCE_DATE_EPOCH other than the epoch, a manifest out of byte order, a lockfile named
 * twice. Each is the record's own word against itself; a record rewritten consistently
 * still reads as true (docs/threat-model.md). Pure.
 */
function buildInconsistency(record: BuildRecord): string | undefined {
  // Each variation once: a second entry of a name said two things of one variation.
  const names = record.variations.map((x) => x.name)
  const twice = names.find((name, i) => names.indexOf(name) !== i)
  if (twice !== undefined) return `it lists the ${twice} variation twice`
  if (record.variations.find((x) => x.name === 'path')?.status !== 'effective')
    return 'its path variation is not effective, which a build cannot record'
  const { epoch, source } = record
  if (epoch.source === 'git' && source.git?.commitTime !== epoch.value)
    return `its epoch ${epoch.value} is said to be the commit's time, which it gives as ${String(source.git?.commitTime)}`
  const sde = record.environment.find((e) => e.name === 'SOURCE_DATE_EPOCH')
  if (sde?.value !== String(epoch.value))
    return `its SOURCE_DATE_EPOCH (${sde?.value ?? 'none'}) is not its epoch ${epoch.value}`
  for (const run of record.runs)
    for (let i = 1; i < run.manifest.length; i++)
      if (compareNames(run.manifest[i - 1]?.name ?? '', run.manifest[i]?.name ?? '') >= 0)
        return `run ${run.id.toUpperCase()}'s manifest is not in byte order of its names`
  const lockfiles = record.source.lockfiles.map((l) => l.path)
  if (new Set(lockfiles).size !== lockfiles.length) return 'it names one lockfile twice'
  return undefined
}

/**
 * What the normalization block says against the runs' own manifests. Its normalized
 * digests are what the statement signs, so each must follow from the raw digest beside
 * it: the raw digests are the manifests' (an artifact a run did not write has none), and
 * a digest that normalizing changed has changes to show for it, or is a link's, whose
 * digest is its target's (it reads the same raw bytes and ends as what they became, and
 * the target has the changes to show).
 * Pure.
 */
function normalizationInconsistency(record: BuildRecord): string | undefined {
  const artifacts = record.normalization?.artifacts ?? []
  const sides = (['a', 'b'] as const).map(
    (id) => new Map((record.runs.find((r) => r.id === id)?.manifest ?? []).map((e) => [e.name, e])),
  )
  const seen = new Set<string>()
  for (const artifact of artifacts) {
    const { name } = artifact
    const where = `its normalization of ${JSON.stringify(name)}`
    if (seen.has(name)) return `${where} is given twice`
    seen.add(name)
    if (!sides.some((side) => side.has(name)))
      return `${where} names an artifact neither run's manifest has`
    if (artifact.format === 'unknown' && artifact.changes.some((c) => c.length > 0))
      return `${where} lists changes to a file of no format reproof normalizes`
    for (const [i, side] of sides.entries()) {
      const run = i === 0 ? 'A' : 'B'
      const raw = side.get(name)?.sha256 ?? null
      const normalized = artifact.normalized[i] ?? null
      if ((artifact.raw[i] ?? null) !== raw)
        return `${where} gives run ${run}'s raw digest as ${String(artifact.raw[i])}, its manifest as ${String(raw)}`
      if ((normalized === null) !== (raw === null))
        return `${where} gives run ${run} ${normalized === null ? 'no normalized digest' : 'a normalized digest of an artifact it did not write'}`
      if (normalized === raw || (artifact.changes[i]?.length ?? 0) > 0) continue
      // The target was normalized itself, with changes to show: two entries without any
      // vouched for each other's made-up digest.
      const isLink = artifacts.some(
        (target) =>
          target.name !== name &&
          target.raw[i] === raw &&
          target.normalized[i] === normalized &&
          (target.changes[i]?.length ?? 0) > 0,
      )
      if (!isLink)
        return `${where} gives run ${run} a normalized digest other than its raw one, with no change to show for it`
    }
  }
  return undefined
}
