import { canonicalJson } from '../canonical.js'
import { ReproofError } from '../errors.js'
import { readBundleBytes, runVerify, type VerifyResult } from '../verify/run-verify.js'
import { firstStoreProblem } from './check-store.js'
import {
  firstRecordFromTheFuture,
  firstRecordNoGateWrites,
  recordedSigner,
  type LedgerRecord,
} from './decide.js'
import { keptBundleName, type Ledger } from './ledger.js'
import { openLedger } from './open-ledger.js'
import type { GateCheckOptions } from '../config/gate-options.js'
import type { Policy } from '../verify/policy.js'
import { checkedPolicies, policyLabel } from './checked-policies.js'
import { sha256Hex } from '../sha256.js'

export interface GateCheckResult {
  ok: true
  records: number
  /** Distinct kept bundles, each the bytes its name says. */
  bundles: number
  /** Records verified again with the policy and signer they recorded (format 2). */
  reverified: number
  /** Records from before policies were recorded (format 1): verified again with no policy. */
  legacy: number
  /** A torn last line found and moved aside while reading the ledger. */
  recovered: string | null
  /** No checkpoint of this ledger on this machine before this read (see LedgerRead). */
  unanchored: boolean
  /**
   * What the verifications could not check (a SHA-512 a subject names beside the
   * recorded SHA-256; log entries of a key bundle without a trusted root), each with the
   * lines of the records it concerns: it vouches for nothing, and is said.
   */
  unchecked: { note: string; lines: number[] }[]
}

/**
 * `gate check`: the ledger's evidence, not only its links. Reads the ledger as a gate
 * does (chain, sequence, form; for a git ledger its whole history), then for every
 * record: its kept bundle is there and is the bytes its digest names, and verified again
 * now, under today's trust and with the policy the record kept, it attests the record's
 * digest and was signed by the signer the record names. Any failure is an error naming
 * the record (exit 3); the answer is yes only when every record passed.
 */
export async function runGateCheck(options: GateCheckOptions): Promise<GateCheckResult> {
  // 1. Read: the same lock (or fetch) as a write, so a torn tail is recovered by one reader only.
  const ledger = openLedger(options.ledger, options)
  try {
    const { records, recovered, unanchored } = await ledger.transact(
      (r) => ({ result: r }),
      options.lockTimeoutMs,
    )
    // A check of nothing is not a check that passed: a mistyped --ledger names no ledger.
    if (records.length === 0)
      throw new ReproofError(
        'E_INPUT',
        `--ledger ${ledger.label}: holds no record (no ledger there yet, or a mistyped path); nothing to check`,
        { path: ledger.label },
      )
    // Every step by the rules: a record no gate would have written (forged with a valid
    // chain by anyone who can append) is found by replaying the decisions.
    const ruled =
      firstRecordNoGateWrites(records) ?? firstRecordFromTheFuture(records, options.clock())
    if (ruled !== undefined) {
      const record = records[ruled.index]
      throw new ReproofError(
        'E_LEDGER',
        `${ledger.recordsLabel}:${ruled.index + 1}: ${record?.env ?? ''} #${record?.seq ?? ''}: a record no gate writes (${ruled.why}); the gate stops until a person has looked`,
        { path: ledger.label },
      )
    }
    const problem = firstStoreProblem(
      records,
      ledger.storedDigests(records.map((r) => r.bundleDigest)),
    )
    if (problem !== undefined) {
      const { line, record, found } = problem
      throw new ReproofError(
        'E_LEDGER',
        `${ledger.recordsLabel}:${line}: the bundle kept for ${record.env} #${record.seq} (${keptBundleName(record.bundleDigest)}) ${found === undefined ? 'is missing' : 'is not the bytes its name says'}; a rollback to it would fail, and the store was edited`,
        { path: ledger.label },
      )
    }
    // 2. Verify every record's evidence again; records sharing a bundle, digest, policy
    // and signer (a rollback to a past release) share one verification.
    const done = new Map<string, VerifyResult>()
    const unchecked = new Map<string, number[]>()
    for (const [i, record] of records.entries()) {
      const now = verificationTime(record)
      let result: VerifyResult | undefined
      let failedWith = ''
      // What any of its verifications could not check, each said once.
      const notes = new Set<string>()
      const policies = checkedPolicies(record, options.policy)
      for (const [p, policy] of policies.entries()) {
        const key = canonicalJson([record.bundleDigest, record.digest, policy, now])
        let one = done.get(key)
        if (one === undefined) {
          one = await verifyKept(ledger, record, { ...options, policy }, now, i + 1)
          done.set(key, one)
        }
        for (const note of one.unchecked) notes.add(note)
        // The first that does not verify is the answer; else any (the same signer).
        if (result === undefined || result.verified) {
          result = one
          failedWith = policyLabel(record, options.policy, policies.length, p)
        }
      }
      if (result === undefined) throw new Error('no policy to verify a record with')
      for (const note of notes) unchecked.set(note, [...(unchecked.get(note) ?? []), i + 1])
      const fail = (what: string): ReproofError =>
        new ReproofError(
          'E_LEDGER',
          `${ledger.recordsLabel}:${i + 1}: ${record.env} #${record.seq}: ${what}; the gate stops until a person has looked`,
          { path: ledger.label },
        )
      if (!result.verified) {
        const failed = result.checks.find((c) => !c.ok)
        throw fail(
          result.reason === 'subject-mismatch'
            ? `its kept bundle does not attest its digest ${record.digest}: the record names a release no kept attestation is for`
            : `its kept bundle does not verify now with ${failedWith} (${result.reason ?? 'unknown'}${failed === undefined ? '' : `: ${failed.name}`})`,
        )
      }
      if (
        record.signer !== undefined &&
        (result.identity === null ||
          canonicalJson(record.signer) !== canonicalJson(recordedSigner(result.identity)))
      )
        throw fail(
          `its kept bundle was signed by ${describeSigner(result.identity)}, not by ${describeSigner(record.signer)} as the record says`,
        )
    }
    return {
      ok: true,
      records: records.length,
      bundles: new Set(records.map((r) => r.bundleDigest)).size,
      reverified: records.filter((r) => r.format === 2).length,
      legacy: records.filter((r) => r.format === undefined).length,
      recovered: recovered ?? null,
      unanchored,
      unchecked: [...unchecked].map(([note, lines]) => ({ note, lines })),
    }
  } finally {
    ledger.close()
  }
}

/**
 * The time a record is verified again as of: when it was recorded, so that a `--max-age`
 * policy asks what it asked then (was the attestation fresh enough when it was deployed),
 * not whether it is fresh today.
 */
function verificationTime(record: LedgerRecord): number {
  const at = Date.parse(record.at)
  return Number.isFinite(at) ? at : Number.NaN
}

async function verifyKept(
  ledger: Ledger,
  record: LedgerRecord,
  { trust, clock, policy }: Pick<GateCheckOptions, 'trust' | 'clock'> & { policy: Policy },
  now: number,
  line: number,
): Promise<VerifyResult> {
  const where = `${ledger.recordsLabel}:${line}`
  if (policy.maxAgeMs !== undefined && Number.isNaN(now))
    throw new ReproofError(
      'E_LEDGER',
      `${where}: its time "${record.at}" is not a time, and its policy has a maximum age`,
      { path: ledger.label },
    )
  const file = ledger.bundleFile(record.bundleDigest)
  if (file === undefined)
    throw new ReproofError('E_LEDGER', `${where}: its kept bundle is missing`, {
      path: ledger.label,
    })
  const bytes = readBundleBytes(file)
  if (sha256Hex(bytes) !== record.bundleDigest)
    throw new ReproofError('E_LEDGER', `${where}: its kept bundle is not the bytes its name says`, {
      path: ledger.label,
    })
  try {
    return await runVerify(
      {
        artifacts: [],
        digests: [{ path: `sha256:${record.digest}`, sha256: record.digest }],
        bundle: file,
        bundleBytes: bytes,
        trust,
        policy,
      },
      Number.isNaN(now) ? clock() : now,
    )
  } catch (err) {
    // A kept bundle that is not even a bundle is the ledger's fault, not the caller's input.
    if (err instanceof ReproofError && err.code === 'E_INPUT')
      throw new ReproofError(
        'E_LEDGER',
        `${where}: its kept bundle: ${err.message}`,
        { path: ledger.label },
        { cause: err },
      )
    throw err
  }
}

function describeSigner(signer: VerifyResult['identity'] | LedgerRecord['signer']): string {
  if (signer === null || signer === undefined) return 'nobody known'
  return signer.kind === 'key'
    ? `key ${signer.hint.slice(0, 16)}`
    : `${signer.subjectAlternativeName} (${signer.issuer})`
}
