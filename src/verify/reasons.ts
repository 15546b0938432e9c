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
  found,
  ...check
}: CheckBase & { ok: boolean; reason: Reason }): Check {
  const shown = found === undefined ? {} : { found: bounded(found) }
  return ok ? { ...check, ...shown, ok: true } : { ...check, ...shown, ok: false, reason }
}

/**
 * What a check found, its nesting and width bounded: the signer wrote it, and a subject's
 * digest nested 200,000 arrays deep overflowed the stack of the output's JSON.stringify
 * (exit 3, for a bundle whose answer was known). Eight levels and a hundred items a
 * level; what is left out is counted. Text is kept whole (the bundle's size bounds it):
 * a yes's qualifier comes at the end of its text, and must never be cut off.
 */
export function bounded(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value
  if (depth >= MAX_DEPTH)
    return `(${Array.isArray(value) ? 'an array' : 'an object'} nested too deep to show)`
  if (Array.isArray(value)) {
    const shown: unknown[] = value.slice(0, MAX_ITEMS).map((v: unknown) => bounded(v, depth + 1))
    if (value.length > MAX_ITEMS) shown.push(`… ${value.length - MAX_ITEMS} more`)
    return shown
  }
  const entries = Object.entries(value)
  // fromEntries defines each key as its own, `__proto__` too.
  return Object.fromEntries([
    ...entries.slice(0, MAX_ITEMS).map(([k, v]) => [k, bounded(v, depth + 1)] as const),
    ...(entries.length > MAX_ITEMS
      ? [['…', `${entries.length - MAX_ITEMS} more keys`] as const]
      : []),
  ])
}

const MAX_DEPTH = 8
const MAX_ITEMS = 100

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
