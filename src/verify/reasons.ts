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
  'payload-type',
  'statement-type',
  'predicate-type',
  'subject-mismatch',
  'builder-id',
  'source-uri',
  'source-ref',
  'source-digest',
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
  'too-old',
  'policy-field-missing',
  'rebuild-mismatch',
  'internal-error',
] as const

export type Reason = (typeof REASONS)[number]

export interface Check {
  name: string
  ok: boolean
  wanted?: unknown
  found?: unknown
  reason?: Reason
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
