import os from 'node:os'
import path from 'node:path'
import { parseDuration } from '../config/duration.js'
import { positiveInt } from '../config/diff-options.js'
import { EXIT, ReproofError } from '../errors.js'
import type { LedgerRead } from '../gate/ledger.js'
import { runGateCheck } from '../gate/run-check.js'
import { openLedger } from '../gate/open-ledger.js'
import { runGate } from '../gate/run-gate.js'
import type { GateFlags } from '../config/flags.js'
import { renderGateCheck, renderGateResult, renderHistory, renderStatus } from './views/gate.js'
import { useColor, type Streams } from './output.js'
import { readPolicyFlag, toPolicy, toTrust } from '../config/verify-options.js'

export async function gateAction(
  sub: 'deploy' | 'rollback' | 'status' | 'history' | 'check',
  artifact: string | undefined,
  flags: GateFlags,
  streams: Streams,
): Promise<number> {
  const lockTimeoutMs = parseDuration(flags.lockTimeout, '--lock-timeout')
  const stateDir = flags.stateDir ?? defaultStateDir(streams.env)
  const color = useColor(streams.stdout, streams.env)
  const print = (json: unknown, text: string): void => {
    streams.stdout.write(flags.json === true ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`)
  }
  if (sub === 'deploy' || sub === 'rollback') {
    const env = flags.env ?? ''
    const common = {
      env,
      ledger: flags.ledger,
      stateDir,
      callerEnv: streams.env,
      clock: Date.now,
      actor: flags.actor ?? streams.env.GITHUB_ACTOR ?? os.userInfo().username,
      trust: toTrust({ ...flags, bundle: '' }),
      policy: toPolicy({ ...flags, bundle: '' }, await readPolicyFlag({ ...flags, bundle: '' })),
      lockTimeoutMs,
    }
    if (sub === 'rollback' && (flags.reason ?? '').trim() === '')
      throw new ReproofError('E_USAGE', '--reason must say why')
    if (sub === 'rollback' && !/^[0-9a-f]{64}$/.test(flags.to ?? ''))
      throw new ReproofError(
        'E_USAGE',
        `--to ${flags.to ?? ''}: a SHA-256 digest, 64 lowercase hex digits`,
      )
    const result = await runGate(
      sub === 'deploy'
        ? {
            kind: 'deploy',
            artifact: artifact ?? '',
            bundle: flags.bundle ?? '',
            ...(flags.releaseVersion === undefined
              ? {}
              : { version: positiveInt(flags.releaseVersion, '--release-version', 0) }),
            ...(flags.minVersion === undefined
              ? {}
              : { minVersion: positiveInt(flags.minVersion, '--min-version', 0) }),
          }
        : {
            kind: 'rollback',
            to: flags.to ?? '',
            reason: flags.reason ?? '',
            bundle: flags.bundle,
          },
      common,
    )
    print(result, renderGateResult(result, color))
    return result.decision === 'refused' ? EXIT.no : EXIT.yes
  }
  if (sub === 'check') {
    if (
      (flags.key ?? []).length === 0 &&
      flags.certificateIdentity === undefined &&
      flags.certificateIdentityRegexp === undefined
    )
      throw new ReproofError(
        'E_USAGE',
        'gate check verifies every kept bundle again: give the trust the gates use (--key, or the --certificate-* options)',
      )
    const result = await runGateCheck({
      ledger: flags.ledger,
      stateDir,
      callerEnv: streams.env,
      clock: Date.now,
      trust: toTrust({ ...flags, bundle: '' }),
      lockTimeoutMs,
    })
    print(result, renderGateCheck(result))
    return EXIT.yes
  }
  const ledger = openLedger(flags.ledger, { stateDir, callerEnv: streams.env })
  let read: LedgerRead
  try {
    read = await ledger.transact((r) => ({ result: r }), lockTimeoutMs)
  } finally {
    ledger.close()
  }
  const env = flags.env ?? ''
  if (sub === 'history') {
    // Only history needs the records; status reads the state, which a checkpoint keeps.
    const mine = read.records.filter((r) => r.env === env)
    print(mine, renderHistory(mine, env))
    return EXIT.yes
  }
  const state = read.state.envs.get(env)
  const status = { env, current: state?.current ?? null, seq: state?.seq ?? 0 }
  print(status, renderStatus(status))
  return EXIT.yes
}

/** `$XDG_STATE_HOME/reproof`, else `~/.local/state/reproof`: it must outlive the gate. */
function defaultStateDir(env: Streams['env']): string {
  const xdg = env.XDG_STATE_HOME
  return xdg !== undefined && path.isAbsolute(xdg)
    ? path.join(xdg, 'reproof')
    : path.join(env.HOME ?? os.homedir(), '.local', 'state', 'reproof')
}
