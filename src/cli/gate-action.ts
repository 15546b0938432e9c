import os from 'node:os'
import path from 'node:path'
import { parseDuration } from '../config/duration.js'
import { positiveInt } from '../config/diff-options.js'
import { EXIT, ReproofError } from '../errors.js'
import { firstStoreProblem, type StoredDigests } from '../gate/check-store.js'
import { toState, type LedgerRecord } from '../gate/decide.js'
import { keptBundleName } from '../gate/ledger.js'
import { openLedger, runGate } from '../gate/run-gate.js'
import type { GateFlags } from './gate-command.js'
import { paint, useColor, type Streams } from './output.js'
import { toPolicy, toTrust } from './verify-action.js'

export async function gateAction(
  sub: 'deploy' | 'rollback' | 'status' | 'history' | 'check',
  artifact: string | undefined,
  flags: GateFlags,
  streams: Streams,
): Promise<number> {
  const lockTimeoutMs = parseDuration(flags.lockTimeout, '--lock-timeout')
  const stateDir = flags.stateDir ?? defaultStateDir(streams.env)
  const c = paint(useColor(streams.stdout, streams.env))
  const print = (json: unknown, text: string): void => {
    streams.stdout.write(flags.json === true ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`)
  }
  if (sub === 'deploy' || sub === 'rollback') {
    const env = flags.env ?? ''
    const common = {
      env,
      ledger: flags.ledger,
      stateDir,
      actor: flags.actor ?? streams.env.GITHUB_ACTOR ?? os.userInfo().username,
      trust: toTrust({ ...flags, bundle: '' }),
      policy: toPolicy({ ...flags, bundle: '' }),
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
    const mark =
      result.decision === 'refused'
        ? c.red('refused')
        : result.decision === 'recorded'
          ? c.green('recorded')
          : 'unchanged'
    const recovered =
      result.recovered === null
        ? ''
        : `\n${c.yellow(`a torn last line of the ledger was moved to ${result.recovered}`)}`
    print(
      result,
      `${mark}: ${result.why}${result.decision === 'refused' && result.verification.reason !== null ? ` (${result.verification.reason})` : ''}${recovered}`,
    )
    return result.decision === 'refused' ? EXIT.no : EXIT.yes
  }
  const ledger = openLedger(flags.ledger, stateDir)
  let read: { records: LedgerRecord[]; recovered: string | undefined }
  let stored: StoredDigests = new Map()
  try {
    // The same lock (or fetch) as a write, so a torn tail is recovered by one reader only.
    read = await ledger.transact((r) => ({ result: r }), lockTimeoutMs)
    if (sub === 'check') stored = ledger.storedDigests(read.records.map((r) => r.bundleDigest))
  } finally {
    ledger.close()
  }
  const { records, recovered } = read
  if (sub === 'check') {
    const bundles = new Set(records.map((r) => r.bundleDigest)).size
    const problem = firstStoreProblem(records, stored)
    if (problem !== undefined) {
      const { line, record, found } = problem
      throw new ReproofError(
        'E_LEDGER',
        `${ledger.recordsLabel}:${line}: the bundle kept for ${record.env} #${record.seq} (${keptBundleName(record.bundleDigest)}) ${found === undefined ? 'is missing' : 'is not the bytes its name says'}; a rollback to it would fail, and the store was edited`,
        { path: ledger.label },
      )
    }
    print(
      { ok: true, records: records.length, bundles, recovered: recovered ?? null },
      `ledger ok: ${records.length} record(s), chain intact, ${bundles} kept bundle(s) match${recovered === undefined ? '' : `; a torn last line was moved to ${recovered}`}`,
    )
    return EXIT.yes
  }
  const env = flags.env ?? ''
  const mine = records.filter((r) => r.env === env)
  if (sub === 'history') {
    print(
      mine,
      mine
        .map(
          (r) =>
            `#${r.seq} ${r.at} ${r.action} ${r.digest.slice(0, 16)} by ${r.actor}${r.reason === undefined ? '' : ` (${r.reason})`}`,
        )
        .join('\n') || `no releases in ${env}`,
    )
    return EXIT.yes
  }
  const state = toState(records).envs.get(env)
  print(
    { env, current: state?.current ?? null, seq: state?.seq ?? 0 },
    state?.current === undefined
      ? `no release in ${env}`
      : `${env}: ${state.current} (#${state.seq})`,
  )
  return EXIT.yes
}

/** `$XDG_STATE_HOME/reproof`, else `~/.local/state/reproof`: it must outlive the gate. */
function defaultStateDir(env: Streams['env']): string {
  const xdg = env.XDG_STATE_HOME
  return xdg !== undefined && path.isAbsolute(xdg)
    ? path.join(xdg, 'reproof')
    : path.join(env.HOME ?? os.homedir(), '.local', 'state', 'reproof')
}
