import { canonicalJson } from '../canonical.js'
import type { Policy } from '../verify/policy.js'
import type { SignatureResult } from '../verify/verify-signature.js'
import { sha256Hex } from '../sha256.js'

/** Who signed the attestation a record was verified with, as verification found it. */
/**
 * Who signed, as a record keeps it: the key's hint (hex SHA-256 of its SPKI), or the
 * certificate's identity and issuer. Not the key's file, which is a path on one machine.
 */
export type RecordedSigner =
  | { kind: 'key'; hint: string }
  | { kind: 'certificate'; subjectAlternativeName: string; issuer: string }

export function recordedSigner(identity: SignatureResult['identity']): RecordedSigner {
  return identity.kind === 'key'
    ? { kind: 'key', hint: identity.hint }
    : {
        kind: 'certificate',
        subjectAlternativeName: identity.subjectAlternativeName,
        issuer: identity.issuer,
      }
}

/** What a record was verified with, kept so that `gate check` can verify it again. */
export interface Evidence {
  policy: Policy
  signer: RecordedSigner
}

/**
 * One line of the ledger. `prev` is the SHA-256 of the previous line's canonical bytes.
 * Format 2 records (`format: 2`) also keep the policy and the signer they were verified
 * with; format 1 records, written before, have neither.
 */
export interface LedgerRecord {
  seq: number
  env: string
  action: 'deploy' | 'rollback'
  digest: string
  bundleDigest: string
  prev: string
  at: string
  actor: string
  reason?: string
  version?: number
  format?: 2
  policy?: Policy
  signer?: RecordedSigner
}

/** The hash every record's successor carries in `prev`; the first record carries this. */
export const GENESIS = '0'.repeat(64)

export function recordBytes(record: LedgerRecord): string {
  return canonicalJson(record)
}

export function recordHash(record: LedgerRecord): string {
  return sha256Hex(recordBytes(record))
}

export interface EnvState {
  seq: number
  current: string | undefined
  /** Every digest ever current in this environment. */
  released: Set<string>
  /** The highest version deployed, when versions are used. */
  version: number | undefined
  /** The version each digest was deployed as, where its deploy gave one. */
  versions: Map<string, number>
  /**
   * Every rollback recorded here, as `rollbackKey` names it; a retry must not repeat one,
   * whatever was recorded since (another rollback included).
   */
  rollbacks: Set<string>
}

/** A rollback by what it asks: the digest and the reason (hex SHA-256 of both). */
export function rollbackKey(digest: string, reason: string): string {
  return sha256Hex(`${digest}\0${reason}`)
}

export interface LedgerState {
  head: string
  envs: Map<string, EnvState>
  /** The latest time any record holds, as written (a gate's clock, not evidence). */
  latestAt?: string
  /** Whether a record keeps its policy and signer (format 2): every later one must. */
  kept?: boolean
}

/** What every gate request says: where, what (by digest and bundle), who and when. */
interface RequestBase {
  env: string
  digest: string
  bundleDigest: string
  actor: string
  at: string
  evidence?: Evidence
}

export type GateRequest =
  | (RequestBase & { kind: 'deploy'; version?: number; minVersion?: number })
  | (RequestBase & { kind: 'rollback'; reason: string })

export type Decision =
  | { kind: 'append'; record: LedgerRecord }
  | { kind: 'noop'; why: string }
  | {
      kind: 'reject'
      code:
        | 'not-verified'
        | 'downgrade'
        | 'replay'
        | 'never-released'
        | 'repeated'
        | 'env-spelling'
        | 'clock-behind'
      why: string
    }

/**
 * The environment of the ledger that `env` names in another case, when `env` itself is
 * none: `Prod` for `prod`. Names that differ in case only would be two environments, and
 * a gate or a read given one for the other is told so. Pure.
 */
export function otherSpelling(state: LedgerState, env: string): string | undefined {
  if (state.envs.has(env)) return undefined
  const lower = env.toLowerCase()
  return [...state.envs.keys()].find((name) => name.toLowerCase() === lower)
}

/**
 * Folds records into the state decisions need; the chain itself is checked by the reader.
 * `from` is the state before the first of them (a file ledger's checkpoint keeps one); it
 * is extended in place, so give a state nobody else holds.
 */
export function toState(
  records: readonly LedgerRecord[],
  from: LedgerState = { head: GENESIS, envs: new Map() },
): LedgerState {
  const envs = from.envs
  for (const r of records) {
    const env = envs.get(r.env) ?? {
      seq: 0,
      current: undefined,
      released: new Set<string>(),
      version: undefined,
      versions: new Map<string, number>(),
      rollbacks: new Set<string>(),
    }
    env.seq = r.seq
    env.current = r.digest
    env.released.add(r.digest)
    if (r.version !== undefined) {
      env.version = Math.max(env.version ?? r.version, r.version)
      env.versions.set(r.digest, r.version)
    }
    if (r.action === 'rollback') env.rollbacks.add(rollbackKey(r.digest, r.reason ?? ''))
    envs.set(r.env, env)
  }
  let latestAt = from.latestAt
  let kept = from.kept === true
  for (const r of records) {
    const ms = Date.parse(r.at)
    if (Number.isFinite(ms) && (latestAt === undefined || ms > Date.parse(latestAt)))
      latestAt = r.at
    if (r.format === 2) kept = true
  }
  const last = records.at(-1)
  return {
    head: last === undefined ? from.head : recordHash(last),
    envs,
    ...(latestAt === undefined ? {} : { latestAt }),
    ...(kept ? { kept } : {}),
  }
}

/**
 * The gate's decision: a pure function of the ledger state, the request and whether
 * the attestation verified now. A deploy of a digest released and since superseded is
 * a downgrade and must be an explicit rollback; a rollback may return only to a digest
 * this environment released before.
 */
export function decideGate(state: LedgerState, request: GateRequest, verified: boolean): Decision {
  const env = state.envs.get(request.env)
  // Fail closed first: even the current release is not re-confirmed on a failed verification.
  if (!verified)
    return { kind: 'reject', code: 'not-verified', why: 'the attestation does not verify' }
  // A deploy that says it is below the minimum is a no even when its digest is current:
  // the caller asked whether this version may run.
  if (
    request.kind === 'deploy' &&
    request.minVersion !== undefined &&
    (request.version === undefined || request.version < request.minVersion)
  )
    return {
      kind: 'reject',
      code: 'replay',
      why: `version ${request.version ?? '(none)'} is below the minimum ${request.minVersion}`,
    }
  // A record whose time is well before one already written is one `gate check` calls
  // forged (firstRecordNoGateWrites): this machine's clock is behind, or another's was
  // ahead. Not written, so that one clock cannot leave the ledger failing for good.
  const latest = state.latestAt === undefined ? NaN : Date.parse(state.latestAt)
  if (Date.parse(request.at) < latest - CLOCK_SKEW_MS)
    return {
      kind: 'reject',
      code: 'clock-behind',
      why: `this gate's time ${request.at} is more than ${CLOCK_SKEW_MS / 60_000} minutes before ${state.latestAt ?? ''}, the time of a record already in the ledger; a clock is wrong (this machine's, or that of the gate that wrote it)`,
    }
  // Names that differ in case only are two environments to the ledger: a release
  // superseded in `prod` would be new in `Prod`. The first request to such a name is
  // refused rather than taken for a new environment.
  const spelt = otherSpelling(state, request.env)
  if (spelt !== undefined)
    return {
      kind: 'reject',
      code: 'env-spelling',
      why: `${request.env} is no environment of this ledger, but ${spelt} is: names that differ in case only would be two environments; give the name as the ledger has it`,
    }
  // Current already, it runs as the version the ledger recorded for it: that version,
  // not the one claimed now, is held to the minimum.
  if (
    request.kind === 'deploy' &&
    request.minVersion !== undefined &&
    request.digest === env?.current
  ) {
    const recorded = env.versions.get(request.digest)
    if (recorded === undefined || recorded < request.minVersion)
      return {
        kind: 'reject',
        code: 'replay',
        why: `${request.digest.slice(0, 12)} is current in ${request.env} as version ${recorded ?? '(none)'}, below the minimum ${request.minVersion}`,
      }
  }
  if (request.digest === env?.current)
    return {
      kind: 'noop',
      why: `${request.digest.slice(0, 12)} is already current in ${request.env}`,
    }
  if (request.kind === 'deploy') {
    if (env?.released.has(request.digest) === true) {
      return {
        kind: 'reject',
        code: 'downgrade',
        why: `${request.digest.slice(0, 12)} was released to ${request.env} before and superseded; return to it with gate rollback and a reason`,
      }
    }
    // Once an environment has versions, a deploy without one would step round the order
    // they keep: an old release, signed and never deployed here, would go in unversioned.
    if (env?.version !== undefined && request.version === undefined) {
      return {
        kind: 'reject',
        code: 'replay',
        why: `${request.env} has versioned releases (up to ${env.version}); give --release-version above it`,
      }
    }
    if (
      request.version !== undefined &&
      env?.version !== undefined &&
      request.version <= env.version
    ) {
      return {
        kind: 'reject',
        code: 'replay',
        why: `version ${request.version} is not above ${env.version}, already released to ${request.env}`,
      }
    }
  } else if (env?.released.has(request.digest) !== true) {
    return {
      kind: 'reject',
      code: 'never-released',
      why: `${request.digest.slice(0, 12)} was never released to ${request.env}; a rollback can only return to a past release`,
    }
  } else if (env.rollbacks.has(rollbackKey(request.digest, request.reason))) {
    // The same rollback again, after other releases: the retry of one whose outcome was
    // unknown (it landed, then another gate deployed or rolled back) would undo them.
    return {
      kind: 'reject',
      code: 'repeated',
      why: `a rollback of ${request.env} already returned to ${request.digest.slice(0, 12)} for this reason, and ${env.current?.slice(0, 12) ?? '(none)'} is current since; not repeated (a retry finds it here). To return to it again, give the new reason`,
    }
  }
  const record: LedgerRecord = {
    seq: (env?.seq ?? 0) + 1,
    env: request.env,
    action: request.kind,
    digest: request.digest,
    bundleDigest: request.bundleDigest,
    prev: state.head,
    at: request.at,
    actor: request.actor,
    ...(request.kind === 'rollback' ? { reason: request.reason } : {}),
    ...(request.kind === 'deploy' && request.version !== undefined
      ? { version: request.version }
      : {}),
    ...(request.evidence === undefined
      ? {}
      : { format: 2 as const, policy: request.evidence.policy, signer: request.evidence.signer }),
  }
  return { kind: 'append', record }
}

/** How far the clocks of the machines appending to one ledger may disagree. */
export const CLOCK_SKEW_MS = 5 * 60_000

/**
 * The first record that no gate would have appended, replaying the decision over the
 * records before it, or undefined when every one is what `decideGate` writes for the
 * request it records. The chain check proves who came after whom; this proves each step
 * followed the rules (a superseded release deployed again, a rollback to what was never
 * released or without a reason), which anyone who can append could otherwise forge with
 * a valid chain. Pure.
 */
/**
 * The first record dated more than the clock skew after `now`: no gate could have
 * written it yet. Such a record (forged, or from a gate whose clock ran far ahead) passed
 * every check, and then refused every deploy and rollback until its date came, since a
 * request may not be dated well before a record already written. Pure.
 */
export function firstRecordFromTheFuture(
  records: readonly LedgerRecord[],
  now: number,
): { index: number; why: string } | undefined {
  for (const [index, r] of records.entries()) {
    const why = timeFromTheFuture(r.at, now)
    if (why !== undefined) return { index, why }
  }
  return undefined
}

/** Why a record's time `at` is one no gate could have written yet, as of `now`. Pure. */
function timeFromTheFuture(at: string, now: number): string | undefined {
  const ms = Date.parse(at)
  return Number.isFinite(ms) && ms > now + CLOCK_SKEW_MS
    ? `its time ${at} is more than ${CLOCK_SKEW_MS / 60_000} minutes after this machine's, ${new Date(now).toISOString()}: no gate could have written it yet, or a clock is wrong`
    : undefined
}

/**
 * Why the latest time a ledger holds is one no gate could have written yet (more than
 * the clock skew after `now`), or undefined when it is not: what every reader asks of the
 * state it read, as `gate check` asks of each record (firstRecordFromTheFuture). Pure.
 */
export function latestFromTheFuture(state: LedgerState, now: number): string | undefined {
  return state.latestAt === undefined ? undefined : timeFromTheFuture(state.latestAt, now)
}

export function firstRecordNoGateWrites(
  records: readonly LedgerRecord[],
): { index: number; why: string } | undefined {
  const ruled = stateByRules(records)
  return 'why' in ruled ? ruled : undefined
}

/**
 * The state after `records`, each replayed by the rules from `from` (extended in place,
 * as toState extends it: give a state nobody else holds), or the first record no gate
 * would have appended there (its index in `records`). What every reader of a ledger
 * runs over the records it has not checked before, so that a status or a decision never
 * stands on a forged record that `gate check` would refuse. Pure.
 */
export function stateByRules(
  records: readonly LedgerRecord[],
  from: LedgerState = { head: GENESIS, envs: new Map() },
): { state: LedgerState } | { index: number; why: string } {
  let state = from
  let kept = from.kept === true
  let latest: { at: string; ms: number } | undefined =
    from.latestAt === undefined ? undefined : { at: from.latestAt, ms: Date.parse(from.latestAt) }
  for (const [index, r] of records.entries()) {
    // A record's time is not signed, and `gate check --max-age` judges its attestation as
    // of that time: set back, a too-old attestation passed. Gates write the time they
    // run at, so a record's is never much before one written earlier; the margin is for
    // the clocks of the machines that append.
    const ms = Date.parse(r.at)
    // A UTC time as a gate writes it (toISOString; the milliseconds may be left out):
    // anything else escaped the check below and, with no --max-age, every check of its
    // time. Read back exactly, so that no day past its month's end passes as the next.
    if (!Number.isFinite(ms) || new Date(ms).toISOString() !== r.at.replace(/(:\d\d)Z$/, '$1.000Z'))
      return {
        index,
        why: `its time ${JSON.stringify(r.at)} is not one a gate writes (an ISO 8601 UTC time, as 2026-01-31T12:00:00.000Z)`,
      }
    {
      if (latest !== undefined && ms < latest.ms - CLOCK_SKEW_MS)
        return {
          index,
          why: `its time ${r.at} is more than ${CLOCK_SKEW_MS / 60_000} minutes before ${latest.at}, the time of a record written before it`,
        }
      if (latest === undefined || ms > latest.ms) latest = { at: r.at, ms }
    }
    // Gates keep the policy and signer from some record on, and never stop: a record of
    // the first form after one of the second escapes the check of its signer.
    if (r.format === 2) kept = true
    else if (kept)
      return {
        index,
        why: 'one of the first form, without its policy and signer, after records that keep them',
      }
    if (r.action === 'rollback' && (r.reason === undefined || r.reason === ''))
      return { index, why: 'a rollback without a reason' }
    if (r.action === 'deploy' && r.reason !== undefined)
      return { index, why: 'a deploy with a reason, which only a rollback has' }
    const evidence =
      r.policy !== undefined && r.signer !== undefined
        ? { evidence: { policy: r.policy, signer: r.signer } }
        : {}
    const base = {
      env: r.env,
      digest: r.digest,
      bundleDigest: r.bundleDigest,
      actor: r.actor,
      at: r.at,
      ...evidence,
    }
    const request: GateRequest =
      r.action === 'deploy'
        ? { kind: 'deploy', ...base, ...(r.version === undefined ? {} : { version: r.version }) }
        : { kind: 'rollback', ...base, reason: r.reason ?? '' }
    const decision = decideGate(state, request, true)
    if (decision.kind !== 'append') return { index, why: decision.why }
    if (recordBytes(decision.record) !== recordBytes(r))
      return { index, why: 'its fields are not the ones a gate writes for its request' }
    state = toState([r], state)
  }
  return { state }
}
