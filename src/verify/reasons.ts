/**
 * Why a verification said no: a closed set, documented in docs/verify.md. Every check
 * that fails names one of these; an exception anywhere is `internal-error`, never a yes.
 */
export type Reason =
  | 'bundle-invalid'
  | 'signature-invalid'
  | 'untrusted-key'
  | 'identity-mismatch'
  | 'issuer-mismatch'
  | 'tlog-missing'
  | 'payload-type'
  | 'statement-type'
  | 'predicate-type'
  | 'subject-mismatch'
  | 'builder-id'
  | 'source-uri'
  | 'source-ref'
  | 'source-digest'
  | 'source-disagreement'
  | 'repo'
  | 'owner'
  | 'signer-workflow'
  | 'signer-repo'
  | 'signer-digest'
  | 'runner-environment'
  | 'time-in-future'
  | 'build-type'
  | 'not-reproduced'
  | 'too-old'
  | 'policy-field-missing'
  | 'rebuild-mismatch'
  | 'internal-error'

export interface Check {
  name: string
  ok: boolean
  wanted?: unknown
  found?: unknown
  reason?: Reason
}
