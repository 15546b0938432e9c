import { ReproofError } from '../errors.js'

/**
 * Why a verification said no: a closed set, documented in docs/verify.md. Every check
 * that fails names one of these; an exception anywhere is `internal-error`, never a yes.
 */
export const REASONS = [
  'bundle-invalid',
  'signature-invalid',
  'untrusted-key',
  'identity-mismatch',
  'issuer-mismatch',
  'tlog-missing',
  'tlog-mismatch',
  'certificate-profile',
  'payload-type',
  'statement-type',
  'predicate-type',
  'subject-mismatch',
  'builder-id',
  'source-uri',
  'source-ref',
  'source-digest',
  'source-dirty',
  'source-disagreement',
  'repo',
  'owner',
  'signer-workflow',
  'signer-repo',
  'signer-digest',
  'runner-environment',
  'time-in-future',
  'build-type',
  'not-reproduced',
  'stated-from-record',
  'too-old',
  'policy-field-missing',
  'rebuild-mismatch',
  'internal-error',
] as const

export type Reason = (typeof REASONS)[number]

interface CheckBase {
  name: string
  wanted?: unknown
  found?: unknown
}

/** A check that passed: it has no reason. */
export interface PassedCheck extends CheckBase {
  ok: true
  reason?: undefined
}

/** A check that failed: it always names why. */
export interface FailedCheck extends CheckBase {
  ok: false
  reason: Reason
}

export type Check = PassedCheck | FailedCheck

/** A check whose outcome is computed: the reason is kept only when it fails. */
export function checked({
  ok,
  reason,
  ...check
}: CheckBase & { ok: boolean; reason: Reason }): Check {
  return ok ? { ...check, ok: true } : { ...check, ok: false, reason }
}

/** A no from verification, with its reason: thrown where a check cannot go on, caught by the runner. */
export function rejection(
  reason: Reason,
  message: string,
  { cause, ...context }: { wanted?: unknown; found?: unknown; cause?: unknown } = {},
): ReproofError {
  return new ReproofError('E_REJECTED', message, { ...context, reason }, { cause })
}

/** The reason of a verification's no, or undefined for any other error. */
export function rejectionReason(err: unknown): Reason | undefined {
  if (!(err instanceof ReproofError) || err.code !== 'E_REJECTED') return undefined
  const reason = err.context.reason
  return REASONS.find((r) => r === reason)
}
