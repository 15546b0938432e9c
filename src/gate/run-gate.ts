import { ReproofError, throwIfAborted } from '../errors.js'
import { readBundleBytes, runVerify, type VerifyResult } from '../verify/run-verify.js'
import {
  CLOCK_SKEW_MS,
  decideGate,
  recordedSigner,
  type GateRequest,
  type LedgerRecord,
} from './decide.js'
import { refuseFromTheFuture, type Ledger, type Step } from './ledger.js'
import { openLedger } from './open-ledger.js'
import { rollbackPolicies } from './checked-policies.js'
import { envName, type GateAction, type GateCommon } from '../config/gate-options.js'
import { sha256Hex } from '../sha256.js'

interface GateAnswer {
  why: string
  env: string
  /**
   * What a record begins: `ledger` for the first of a ledger that was empty or not there,
   * `environment` for the first release to its environment; null otherwise. A mistyped
   * `--ledger` or `--env` starts one, and every rule that reads the past passes there.
   */
  begins: 'ledger' | 'environment' | null
  /** Null only for a rollback to a digest never released here: no, whatever verifies. */
  verification: VerifyResult | null
  /** A torn last line found and moved aside while reading the ledger. */
  recovered: string | null
  /** No checkpoint of this ledger on this machine before this read (see LedgerRead). */
  unanchored: boolean
}

/** A gate's answer: a record exactly when one was written. */
export type GateResult =
  | (GateAnswer & { decision: 'recorded'; record: LedgerRecord })
  | (GateAnswer & { decision: 'unchanged' | 'refused'; record: null })

/**
 * One gate step: verify the attestation now (with today's trust and policy), then, under
 * the ledger's lock, read and check the chain, decide (pure), append and fsync, and only
 * then answer. A retry after a crash or a timeout finds its own record current and
 * changes nothing.
 */
export async function runGate(
  action: GateAction,
  common: GateCommon,
  // Ctrl-C or a cancelled job: honoured up to the write, never after it (see gateWith).
  signal?: AbortSignal,
): Promise<GateResult> {
  // 1. Parse and validate.
  envName(common.env)
  const ledger = openLedger(common.ledger, common)
  try {
    return await gateWith(ledger, action, common, signal)
  } finally {
    ledger.close()
  }
}

async function gateWith(
  ledger: Ledger,
  action: GateAction,
  common: GateCommon,
  signal: AbortSignal | undefined,
): Promise<GateResult> {
  // A rollback to what this environment never released is a no whatever bundle would
  // verify: said as the gate's refusal, as any other no is (the Action reads its decision).
  const past = action.kind === 'rollback' ? lastRelease(ledger, common.env, action.to) : undefined
  if (action.kind === 'rollback' && past === undefined)
    return {
      decision: 'refused',
      why: `${action.to.slice(0, 12)} was never released to ${common.env}; a rollback can only return to a past release`,
      env: common.env,
      begins: null,
      record: null,
      verification: null,
      recovered: null,
      // The lookup read the ledger: a git ledger's read saved a checkpoint as it went.
      unanchored: ledger.anyReadUnanchored,
    }
  const { bundleFile, bundle, bundleDigest } = gateBundle(ledger, action, past)

  // 2. Verify now: a revoked key or identity blocks a rollback as much as a deploy. The
  // record carries this moment, not the one after the lock wait: `gate check` verifies
  // again as of the record's time, and a --max-age met here must be met there. A
  // rollback meets the policy its release was recorded with as well as today's: given
  // another bundle and no policy, it returned to the digest on an attestation the
  // release's own policy refused.
  const verifiedAt = common.clock()
  // The policy the release was deployed under, from its first record there: a rollback's
  // record keeps what that rollback was given, and one given less (another spelling of a
  // value counted as a conflict, and only today's policy was kept) made the next rollback
  // to it ask less.
  const released =
    action.kind === 'rollback' ? firstRelease(ledger, common.env, action.to) : undefined
  const policies =
    released === undefined ? [common.policy] : rollbackPolicies(released, common.policy)
  let verification: VerifyResult | undefined
  for (const policy of policies) {
    const one = await runVerify(
      action.kind === 'deploy'
        ? {
            artifacts: [action.artifact],
            bundle: bundleFile,
            bundleBytes: bundle,
            trust: common.trust,
            policy,
            // The record keeps the SHA-256: the attestation must name that one.
            sha256Only: true,
          }
        : {
            artifacts: [],
            digests: [{ path: `sha256:${action.to}`, sha256: action.to }],
            bundle: bundleFile,
            bundleBytes: bundle,
            trust: common.trust,
            policy,
          },
      verifiedAt,
    )
    // The first that does not verify is the answer.
    verification = one
    if (!one.verified) break
  }
  if (verification === undefined) throw new Error('no policy to verify with')
  const digest = action.kind === 'deploy' ? (verification.artifacts[0]?.sha256 ?? '') : action.to

  // 3. Decide (pure) on what the ledger holds now, and write durably; a contended ledger
  // runs this again on the new state.
  // What it was verified with, kept in the record so that `gate check` can verify it again.
  const evidence =
    verification.identity === null
      ? {}
      : {
          evidence: {
            // What it met: today's policy and, merged in where they agree, the release's.
            policy: policies.length === 1 ? (policies[0] ?? common.policy) : common.policy,
            signer: recordedSigner(verification.identity),
          },
        }
  return ledger.transact(
    (read): Step<GateResult> => {
      // A record dated after this gate's time by more than the clocks may disagree is one
      // `gate check` refuses: the ledger stops (exit 3), as for any record no gate writes.
      // Read now, under the lock: a gate that waited on it for minutes judged a record
      // written meanwhile by a clock taken before.
      const now = common.clock()
      refuseFromTheFuture(read, ledger.recordsLabel, now)
      const request = toRequest(action, common, {
        digest,
        bundleDigest,
        at: new Date(verifiedAt).toISOString(),
        ...evidence,
      })
      const decision = decideGate(read.state, request, verification.verified)
      // Behind a record by more than the clocks may disagree, when this gate's clock
      // now is not: the record was written while this gate waited for the lock (a long
      // --lock-timeout), after it verified. No clock is wrong, and nothing is refused:
      // the time verified at is too old to record, and a retry verifies again.
      const latest = Date.parse(read.state.latestAt ?? '')
      if (
        decision.kind === 'reject' &&
        decision.code === 'clock-behind' &&
        now >= latest - CLOCK_SKEW_MS
      )
        throw new ReproofError(
          'E_AMBIGUOUS',
          `${ledger.label}: this gate verified at ${request.at}, then waited for the ledger's lock while another gate recorded a release at ${read.state.latestAt ?? ''}, more than ${CLOCK_SKEW_MS / 60_000} minutes later; nothing was recorded, and a retry (which verifies again) is safe`,
          { path: ledger.label },
        )
      // A gate stopped (the pipeline cancelled) records nothing: the last moment to stop is
      // here, under the lock, before the write. Once written, the record stands and is said.
      if (decision.kind === 'append') throwIfAborted(signal)
      // 4. Acknowledge only after the write: transact returns once the record is durable.
      // The same keys, in the same order, whatever the decision: the --json answer reads alike.
      const recovered = read.recovered ?? null
      const { unanchored } = read
      if (decision.kind === 'append') {
        const { record } = decision
        const begins =
          read.state.envs.size === 0
            ? 'ledger'
            : read.state.envs.has(common.env)
              ? null
              : 'environment'
        const why = `${record.action} of ${digest.slice(0, 12)} recorded as ${common.env} #${record.seq}${beginsText(begins, ledger.label, common.env)}`
        return {
          append: { record, bundle, bundleDigest },
          result: {
            decision: 'recorded',
            why,
            env: common.env,
            begins,
            record,
            verification,
            recovered,
            unanchored,
          },
        }
      }
      return {
        result: {
          decision: decision.kind === 'noop' ? 'unchanged' : 'refused',
          why: decision.why,
          env: common.env,
          begins: null,
          record: null,
          verification,
          recovered,
          unanchored,
        },
      }
    },
    common.lockTimeoutMs,
    signal,
  )
}

/** What a first record says of itself, so that a mistyped place is seen at once. */
function beginsText(begins: GateAnswer['begins'], label: string, env: string): string {
  if (begins === 'ledger')
    return `, the first record of ${label}, which was empty or not there (if a ledger with releases was meant, check --ledger)`
  if (begins === 'environment')
    return `, the first release to ${env} in this ledger (if an environment with releases was meant, check --env)`
  return ''
}

/**
 * The bundle a deploy or rollback is verified with: the one given, or for a rollback
 * without one, the bundle kept when that digest was last deployed, which must still be
 * the bytes its name says.
 */
function gateBundle(
  ledger: Ledger,
  action: GateAction,
  past: LedgerRecord | undefined,
): { bundleFile: string; bundle: Buffer; bundleDigest: string } {
  const stored =
    action.kind === 'rollback' && action.bundle === undefined && past !== undefined
      ? storedBundle(ledger, past)
      : undefined
  const bundleFile =
    action.kind === 'deploy' ? action.bundle : (action.bundle ?? stored?.file ?? '')
  const bundle = stored === undefined ? readBundleBytes(bundleFile) : readStoredBundle(bundleFile)
  const bundleDigest = sha256Hex(bundle)
  // The store names each bundle by its digest: any other content was put there by hand.
  if (stored !== undefined && stored.bundleDigest !== bundleDigest) {
    throw new ReproofError(
      'E_LEDGER',
      `${bundleFile}: its content is not the bundle its name and the ledger record say (sha256 ${bundleDigest.slice(0, 12)}); the gate stops until a person has looked`,
      { path: bundleFile },
    )
  }
  return { bundleFile, bundle, bundleDigest }
}

/**
 * A bundle from the ledger's store, which the gate wrote: one that cannot be read as a
 * file (replaced by a FIFO or a directory, cut beyond a bundle's size) is a store edited
 * by hand, exit 3 as the docs say, not the caller's bad input.
 */
function readStoredBundle(file: string): Buffer {
  try {
    // The message below names the file; what it quotes names only what is wrong with it.
    return readBundleBytes(file, 'the file')
  } catch (err) {
    if (!(err instanceof ReproofError) || err.code !== 'E_INPUT') throw err
    throw new ReproofError(
      'E_LEDGER',
      `${file}: the bundle the ledger keeps cannot be read as one (${err.message}); the store was edited, and the gate stops until a person has looked`,
      { path: file },
      { cause: err },
    )
  }
}

/** What the decision is asked: the action, on this digest and bundle, by whom and when. */
function toRequest(
  action: GateAction,
  common: GateCommon,
  facts: Pick<GateRequest, 'digest' | 'bundleDigest' | 'at' | 'evidence'>,
): GateRequest {
  const base = { env: common.env, actor: common.actor, ...facts }
  return action.kind === 'deploy'
    ? {
        kind: 'deploy',
        ...base,
        ...(action.version === undefined ? {} : { version: action.version }),
        ...(action.minVersion === undefined ? {} : { minVersion: action.minVersion }),
      }
    : { kind: 'rollback', ...base, reason: action.reason }
}

/** This environment's first record of the digest: its release, with the policy it was deployed under. */
function firstRelease(ledger: Ledger, env: string, digest: string): LedgerRecord | undefined {
  return ledger.peek().find((r) => r.env === env && r.digest === digest)
}

/**
 * This environment's last record of the digest, if it was ever released here. Read
 * before the lock, as the stored bundle is: verifying is slow and must not hold it. A
 * ledger only grows, so a digest released then is released under the lock too, one not
 * released then is refused as the decision would refuse it, and the decision reads the
 * ledger again under the lock.
 */
function lastRelease(ledger: Ledger, env: string, digest: string): LedgerRecord | undefined {
  return [...ledger.peek()].reverse().find((r) => r.env === env && r.digest === digest)
}

/** The bundle a past release was deployed with, from the gate's own store. */
function storedBundle(
  ledger: Ledger,
  record: LedgerRecord,
): { file: string; bundleDigest: string } {
  const file = ledger.bundleFile(record.bundleDigest)
  if (file === undefined) {
    throw new ReproofError(
      'E_INPUT',
      `--to ${record.digest}: no stored bundle for it in ${record.env}; give --bundle`,
      { path: ledger.label },
    )
  }
  return { file, bundleDigest: record.bundleDigest }
}
