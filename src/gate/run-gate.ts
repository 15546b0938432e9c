import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { ReproofError } from '../errors.js'
import { writeFileAtomic } from '../io/atomic-write.js'
import type { Policy } from '../verify/policy.js'
import { runVerify, type VerifyResult } from '../verify/run-verify.js'
import type { Trust } from '../verify/verify-signature.js'
import { decideGate, toState, type GateRequest, type LedgerRecord } from './decide.js'
import { FileLedger } from './ledger.js'

export interface GateCommon {
  env: string
  ledger: string
  actor: string
  trust: Trust
  policy: Policy
  lockTimeoutMs: number
}

export type GateAction =
  | { kind: 'deploy'; artifact: string; bundle: string; version?: number; minVersion?: number }
  | { kind: 'rollback'; to: string; reason: string; bundle: string | undefined }

export interface GateResult {
  decision: 'recorded' | 'unchanged' | 'refused'
  why: string
  env: string
  record: LedgerRecord | null
  verification: VerifyResult
  /** A torn last line found and moved aside while reading the ledger. */
  recovered: string | null
}

/**
 * One gate step: verify the attestation now (with today's trust and policy), then, under
 * the ledger's lock, read and check the chain, decide (pure), append and fsync, and only
 * then answer. A retry after a crash or a timeout finds its own record current and
 * changes nothing.
 */
export async function runGate(action: GateAction, common: GateCommon): Promise<GateResult> {
  // 1. Parse and validate.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(common.env))
    throw new ReproofError(
      'E_USAGE',
      `--env ${common.env}: letters, digits, dot, dash and underscore only`,
    )
  const ledger = new FileLedger(common.ledger)
  const store = path.join(path.dirname(common.ledger), 'bundles')
  const bundleFile =
    action.kind === 'deploy'
      ? action.bundle
      : (action.bundle ?? storedBundle(ledger, store, common.env, action.to))
  const bundleDigest = crypto.createHash('sha256').update(readBounded(bundleFile)).digest('hex')

  // 2. Verify now: a revoked key or identity blocks a rollback as much as a deploy.
  const verification = await runVerify(
    action.kind === 'deploy'
      ? {
          artifacts: [action.artifact],
          bundle: bundleFile,
          trust: common.trust,
          policy: common.policy,
        }
      : {
          artifacts: [],
          digests: [{ path: `sha256:${action.to}`, sha256: action.to }],
          bundle: bundleFile,
          trust: common.trust,
          policy: common.policy,
        },
    Date.now(),
  )
  const digest = action.kind === 'deploy' ? (verification.artifacts[0]?.sha256 ?? '') : action.to
  // Kept before the ledger says anything about it, so that a later rollback can re-verify.
  if (verification.verified) await keepBundle(store, bundleDigest, bundleFile)

  // 3. Decide and write under the lock.
  return ledger.withLock(async () => {
    const { records, recovered } = ledger.read()
    const at = new Date().toISOString()
    const request: GateRequest =
      action.kind === 'deploy'
        ? {
            kind: 'deploy',
            env: common.env,
            digest,
            bundleDigest,
            actor: common.actor,
            at,
            ...(action.version === undefined ? {} : { version: action.version }),
            ...(action.minVersion === undefined ? {} : { minVersion: action.minVersion }),
          }
        : {
            kind: 'rollback',
            env: common.env,
            digest,
            bundleDigest,
            actor: common.actor,
            at,
            reason: action.reason,
          }
    const decision = decideGate(toState(records), request, verification.verified)
    if (decision.kind === 'append') {
      ledger.append(decision.record)
      await ledger.syncDirectory()
    }
    // 4. Acknowledge only now: the record is on disk.
    return {
      decision:
        decision.kind === 'append'
          ? 'recorded'
          : decision.kind === 'noop'
            ? 'unchanged'
            : 'refused',
      why:
        decision.kind === 'append'
          ? `${decision.record.action} of ${digest.slice(0, 12)} recorded as ${common.env} #${decision.record.seq}`
          : decision.why,
      env: common.env,
      record: decision.kind === 'append' ? decision.record : null,
      verification,
      recovered: recovered ?? null,
    }
  }, common.lockTimeoutMs)
}

const MAX_BUNDLE_BYTES = 16 * 1024 * 1024

function readBounded(file: string): Buffer {
  let size: number
  try {
    size = fs.statSync(file).size
  } catch {
    throw new ReproofError('E_INPUT', `--bundle ${file}: no such file`, { path: file })
  }
  if (size > MAX_BUNDLE_BYTES)
    throw new ReproofError('E_INPUT', `--bundle ${file}: larger than ${MAX_BUNDLE_BYTES} bytes`, {
      path: file,
    })
  return fs.readFileSync(file)
}

async function keepBundle(store: string, digest: string, file: string): Promise<void> {
  const target = path.join(store, `${digest}.sigstore.json`)
  if (!fs.existsSync(target)) await writeFileAtomic(target, fs.readFileSync(file))
}

/** The bundle a past release of this digest was deployed with, from the gate's own store. */
function storedBundle(ledger: FileLedger, store: string, env: string, digest: string): string {
  const record = [...ledger.read().records]
    .reverse()
    .find((r) => r.env === env && r.digest === digest)
  const file =
    record === undefined ? undefined : path.join(store, `${record.bundleDigest}.sigstore.json`)
  if (file === undefined || !fs.existsSync(file)) {
    throw new ReproofError(
      'E_INPUT',
      `--to ${digest}: no stored bundle for it in ${env}; give --bundle`,
      { path: store },
    )
  }
  return file
}
