import os from 'node:os'
import path from 'node:path'
import { ReproofError } from '../errors.js'
import { checkOutputDir } from '../io/output-path.js'
import { parseDuration } from './duration.js'
import type { GateFlags } from './flags.js'
import { readPolicyFlag, toPolicy, toTrust, type Policy, type Trust } from './verify-options.js'

type CallerEnv = Readonly<Record<string, string | undefined>>

export interface LedgerPlace {
  /** Where this machine keeps what it verified of each ledger; it must outlive the gate. */
  stateDir: string
  /** The caller's environment: a git ledger's remote takes its credentials from it. */
  callerEnv: CallerEnv
}

/** What every gate command reads: the ledger, where, and for how long it waits on its lock. */
export interface GateReadOptions extends LedgerPlace {
  ledger: string
  /** The environment acted on or asked about. */
  env: string
  lockTimeoutMs: number
}

export type GateAction =
  | { kind: 'deploy'; artifact: string; bundle: string; version?: number; minVersion?: number }
  | { kind: 'rollback'; to: string; reason: string; bundle: string | undefined }

export interface GateCommon extends GateReadOptions {
  /**
   * The clock, in milliseconds since the epoch: what verification is judged as of and
   * when the record says it was made. Only a record's time, never a decision, rests on it.
   */
  clock: () => number
  actor: string
  trust: Trust
  policy: Policy
}

export interface GateCheckOptions extends LedgerPlace {
  ledger: string
  /** The clock: what a record whose time is not a time is verified as of. */
  clock: () => number
  /** Today's trust: every kept bundle must still verify under it. */
  trust: Trust
  /** Requirements every record must meet, over the policy it recorded. */
  policy: Policy
  lockTimeoutMs: number
}

/** Where the ledger is, as every gate command finds it: the spec, the state, the lock. */
export function toGateRead(flags: GateFlags, callerEnv: CallerEnv): GateReadOptions {
  return {
    ledger: flags.ledger,
    env: flags.env === undefined ? '' : envName(flags.env),
    stateDir: stateDirOf(flags.stateDir) ?? defaultStateDir(callerEnv),
    callerEnv,
    lockTimeoutMs: parseDuration(flags.lockTimeout, '--lock-timeout'),
  }
}

/** --state-dir: a directory, or a path where one can be made (a file there was an internal error). */
function stateDirOf(given: string | undefined): string | undefined {
  if (given !== undefined) checkOutputDir('--state-dir', given)
  return given
}

/** What a deploy or rollback asks for, checked before anything is read. */
export function toGateAction(
  sub: 'deploy' | 'rollback',
  artifact: string | undefined,
  flags: GateFlags,
): GateAction {
  if (sub === 'deploy')
    return {
      kind: 'deploy',
      artifact: artifact ?? '',
      bundle: flags.bundle ?? '',
      ...(flags.releaseVersion === undefined
        ? {}
        : { version: versionNumber(flags.releaseVersion, '--release-version') }),
      ...(flags.minVersion === undefined
        ? {}
        : { minVersion: versionNumber(flags.minVersion, '--min-version') }),
    }
  if ((flags.reason ?? '').trim() === '') throw new ReproofError('E_USAGE', '--reason must say why')
  boundedText('--reason', flags.reason ?? '', MAX_REASON_BYTES)
  if (!/^[0-9a-f]{64}$/.test(flags.to ?? ''))
    throw new ReproofError(
      'E_USAGE',
      `--to ${flags.to ?? ''}: a SHA-256 digest, 64 lowercase hex digits`,
    )
  return { kind: 'rollback', to: flags.to ?? '', reason: flags.reason ?? '', bundle: flags.bundle }
}

// A record is one line of at most 64 KiB, which every reader refuses past (ledger.ts):
// what a person types goes in whole, or is refused before anything is verified.
const MAX_REASON_BYTES = 4096
const MAX_ACTOR_BYTES = 256

function boundedText(name: string, value: string, max: number): string {
  const size = Buffer.byteLength(value)
  if (size > max)
    throw new ReproofError(
      'E_USAGE',
      `${name}: ${size} bytes, more than the ${max} a ledger record keeps for it`,
    )
  return value
}

/** The rest of a deploy's or rollback's options: who acts, the trust and the policy. */
export async function toGateCommon(
  flags: GateFlags,
  callerEnv: CallerEnv,
  clock: () => number,
): Promise<GateCommon> {
  const verifyFlags = { ...flags, bundle: '' }
  return {
    ...toGateRead(flags, callerEnv),
    clock,
    actor: boundedText(
      flags.actor === undefined ? 'the actor ($GITHUB_ACTOR, or the user name)' : '--actor',
      flags.actor ?? callerEnv.GITHUB_ACTOR ?? os.userInfo().username,
      MAX_ACTOR_BYTES,
    ),
    trust: toTrust(verifyFlags),
    policy: toPolicy(verifyFlags, await readPolicyFlag(verifyFlags)),
  }
}

/** `gate check`'s options: it verifies every kept bundle again, so it needs the trust. */
export function toGateCheck(
  flags: GateFlags,
  callerEnv: CallerEnv,
  clock: () => number,
  policyFile: Parameters<typeof toPolicy>[1] = {},
): GateCheckOptions {
  if (
    (flags.key ?? []).length === 0 &&
    flags.certificateIdentity === undefined &&
    flags.certificateIdentityRegexp === undefined
  )
    throw new ReproofError(
      'E_USAGE',
      'gate check verifies every kept bundle again: give the trust the gates use (--key, or the --certificate-* options)',
    )
  const { ledger, stateDir, lockTimeoutMs } = toGateRead(flags, callerEnv)
  return {
    ledger,
    stateDir,
    callerEnv,
    lockTimeoutMs,
    clock,
    trust: toTrust({ ...flags, bundle: '' }),
    policy: toPolicy({ ...flags, bundle: '' }, policyFile),
  }
}

/**
 * An environment's name: letters, digits, dot, dash and underscore. Checked for reads
 * too: `status --env 'prod\n'` answered "no release in prod" of an environment that had one.
 */
export function envName(raw: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(raw))
    throw new ReproofError(
      'E_USAGE',
      `--env ${JSON.stringify(raw)}: letters, digits, dot, dash and underscore only`,
    )
  return raw
}

/** A release version: digits only (a size such as `2K` is not a version). */
function versionNumber(raw: string, flag: string): number {
  if (!/^[0-9]{1,15}$/.test(raw))
    throw new ReproofError('E_USAGE', `${flag} ${raw}: a whole number, digits only`)
  return Number(raw)
}

/** `$XDG_STATE_HOME/reproof`, else `~/.local/state/reproof`: it must outlive the gate. */
function defaultStateDir(env: CallerEnv): string {
  const xdg = env.XDG_STATE_HOME
  return xdg !== undefined && path.isAbsolute(xdg)
    ? path.join(xdg, 'reproof')
    : path.join(env.HOME ?? os.homedir(), '.local', 'state', 'reproof')
}
