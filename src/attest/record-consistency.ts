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
