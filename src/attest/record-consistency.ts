import { manifestDigest } from '../digest/manifest-digest.js'
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
  const normalization = normalizationInconsistency(record)
  if (normalization !== undefined) return normalization
  if (!reproducible) return undefined
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
