import { canonicalJson } from '../canonical.js'
import type { Policy } from '../verify/policy.js'
import type { LedgerRecord } from './decide.js'

/**
 * What a record is verified again with: the policy it recorded, and what the check was
 * given; it must meet both. A record is a line anyone who can append may write, its
 * policy included (`{}`, or none at all in the first format): the caller's requirements
 * are what it must meet, whatever it says it met, and what it says it met must hold too.
 * One policy when the two ask nothing of the same field differently, else both in turn:
 * merged, the caller's value replaced the record's (a --builder-id given to the check let
 * a record whose bundle fails its own recorded policy pass as checked with it).
 */
export function checkedPolicies(record: LedgerRecord, required: Policy): Policy[] {
  // The predicate type replaces the default one (SLSA provenance): from a record, it
  // could let an SBOM by the same signer pass as provenance. Only the caller's counts.
  const kept: Policy = { ...(record.policy ?? {}) }
  delete kept.predicateType
  const merged: Record<string, unknown> = { ...kept }
  let conflicting = false
  for (const [field, value] of Object.entries(required)) {
    if (value === undefined) continue
    const own = merged[field]
    if (own !== undefined && canonicalJson(own) !== canonicalJson(value)) conflicting = true
    merged[field] = value
  }
  if (!conflicting) return [merged]
  const predicate =
    required.predicateType === undefined ? {} : { predicateType: required.predicateType }
  return [{ ...kept, ...predicate }, required]
}

/**
 * What a rollback to a past release is verified with: today's policy, and the one the
 * release was recorded with, as `checkedPolicies` combines them; all of the release's
 * but its maximum age, which asked how fresh the attestation was when it was deployed
 * (`gate check` asks so again as of the record's time). A rollback returns to an older
 * release by nature; today's `--max-age`, if given, still applies.
 */
export function rollbackPolicies(past: LedgerRecord, today: Policy): Policy[] {
  const kept: Policy = { ...(past.policy ?? {}) }
  delete kept.maxAgeMs
  return checkedPolicies({ ...past, policy: kept }, today)
}

/** Which of `checkedPolicies(record, given)`'s `count` policies `index` is, for a message. */
export function policyLabel(
  record: LedgerRecord,
  given: Policy,
  count: number,
  index: number,
): string {
  if (count > 1) return index === 0 ? 'the policy the record kept' : 'the policy given'
  const asks = (policy: Policy): boolean =>
    Object.entries(policy).some(
      ([field, value]) => field !== 'predicateType' && value !== undefined,
    )
  const kept = asks(record.policy ?? {})
  const other = asks(given)
  if (kept && other) return 'the policy the record kept together with the one given'
  if (kept) return 'the policy the record kept'
  return other ? 'the policy given' : 'the trust given (no policy asked more)'
}
