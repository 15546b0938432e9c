import { toDisplayText as shown } from '../../file-names.js'
import { firstFew } from '../../first-few.js'
import { paint } from '../../io/paint.js'
import type { LedgerRecord } from '../../gate/decide.js'
import type { GateCheckResult } from '../../gate/run-check.js'
import type { GateResult } from '../../gate/run-gate.js'
import type { GateStatus } from '../../gate/run-read.js'

/** A deploy's or rollback's answer: the decision, why, and a torn line moved aside. */
export function renderGateResult(result: GateResult, color: boolean): string {
  const c = paint(color)
  const mark =
    result.decision === 'refused'
      ? c.red('refused')
      : result.decision === 'recorded'
        ? c.green('recorded')
        : 'unchanged'
  const reason =
    result.decision === 'refused' &&
    result.verification !== null &&
    result.verification.reason !== null
      ? ` (${result.verification.reason})`
      : ''
  const recovered = result.recovered === null ? '' : `\n${c.yellow(tornLine(result.recovered))}`
  // What the verification could not check vouches for nothing: said as verify says it.
  const unchecked = (result.verification?.unchecked ?? [])
    .map((note) => `\n  not checked: ${shown(note)}`)
    .join('')
  return `${mark}: ${result.why}${reason}${unchecked}${recovered}`
}

/** `gate check`'s yes: what was checked, and how many records were verified how. */
export function renderGateCheck(result: GateCheckResult): string {
  const { records, bundles, reverified, legacy, recovered } = result
  const how = `${reverified} with the policy and signer recorded${legacy === 0 ? '' : `, ${legacy} recorded before policies were kept: with no policy`}`
  const torn = recovered === null ? '' : `; a torn last line was moved to ${recovered}`
  const unchecked = result.unchecked
    .map(({ note, lines }) => `\n  not checked: ${shown(note)} (${firstLines(lines)})`)
    .join('')
  return `ledger ok: ${records} record(s), chain intact, ${bundles} kept bundle(s) match; every record's digest is attested by its kept bundle, verified again now (${how})${torn}${unchecked}`
}

/** The ledger lines a note concerns, the first few of them. */
function firstLines(lines: readonly number[]): string {
  const which = firstFew(lines.map(String), 5)
  return lines.length === 1 ? `the record on line ${which}` : `the records on lines ${which}`
}

/** One line per release of an environment. */
export function renderHistory(records: readonly LedgerRecord[], env: string): string {
  if (records.length === 0) return `no releases in ${env}`
  return records
    .map(
      (r) =>
        // Times, actors and reasons are whatever was written to the ledger: escaped.
        `#${r.seq} ${shown(r.at)} ${r.action} ${r.digest.slice(0, 16)} by ${shown(r.actor)}${r.reason === undefined ? '' : ` (${shown(r.reason)})`}`,
    )
    .join('\n')
}

/** What an environment runs now, and a torn line this read moved aside. */
export function renderStatus(status: GateStatus): string {
  const current =
    status.current === null
      ? `no release in ${status.env}`
      : `${status.env}: ${status.current} (#${status.seq})`
  return status.recovered === null ? current : `${current}\n${tornLine(status.recovered)}`
}

/** A torn last line found and moved aside: a crash mid-append, or a cut record. */
export function tornLine(recovered: string): string {
  return `a torn last line of the ledger (a crash mid-append, or a record cut short) was moved to ${shown(recovered)}`
}

/** What a read without this machine's checkpoint of the ledger could not see. */
export const UNANCHORED =
  "this machine kept no checkpoint of this ledger (another --state-dir, or a CI runner's fresh one): its records were checked against each other, not against what was verified here before, so a ledger cut back or rewritten before now cannot be seen; this read is the checkpoint from now on (keep the state dir, as docs/ledger.md says)"
