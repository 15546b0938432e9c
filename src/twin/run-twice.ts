import fs from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import type { BuildOptions } from '../config/build-options.js'
import { formatDuration } from '../config/duration.js'
import { ReproofError } from '../errors.js'
import { removeFaketimeMemory, runCaptured, startBuildProcess } from '../sandbox/process.js'
import {
  launchArguments,
  launchEnvironment,
  parseProbe,
  PROBE_SCRIPT,
  type ProbeReport,
  type RunId,
  type RunSetup,
} from '../sandbox/run-plan.js'

/** Running the two builds: probes first, then the real runs, killed together if need be. */

export type BuildEvent =
  | { kind: 'phase'; text: string }
  | { kind: 'run-started'; id: RunId }
  | { kind: 'run-output'; id: RunId; line: string }
  | {
      kind: 'run-finished'
      id: RunId
      exitCode: number | null
      signal: string | null
      durationMs: number
    }

export interface BuildSignals {
  /** Aborted when the user presses Ctrl-C. */
  signal?: AbortSignal
}

/**
 * How one run is started: its plan, and where it runs. Inside the sandbox, `enter`
 * enters the run's namespaces and `reap` kills what is left in its PID namespace.
 */
export interface RunContext {
  setup: RunSetup
  enter: string[]
  /** The working directory to spawn in; undefined inside the sandbox (the launcher enters it). */
  cwd: string | undefined
  reap?: () => Promise<string[]>
  /** What the run was varied with, for messages ("path, time (+397d)"). */
  variedWith: string
}

export async function probeRun(run: RunContext): Promise<ProbeReport> {
  const result = await runCaptured(
    // The probe's own tools (tr, date, ls) after the build's PATH, which need not hold them.
    [
      ...run.enter,
      ...run.setup.launcher,
      ...launchArguments(run.setup.env, [
        '/bin/sh',
        '-c',
        'PATH="${PATH:+$PATH:}/usr/bin:/bin"; ' + PROBE_SCRIPT,
      ]),
    ],
    {
      cwd: run.cwd,
      env: launchEnvironment(run.setup.env, process.env.PATH),
      timeoutMs: 30_000,
    },
  )
  // Outside the sandbox, a preloaded libfaketime leaves its shared memory behind.
  if (result.pid !== undefined) await removeFaketimeMemory(result.pid)
  const report = result.code === 0 ? parseProbe(result.stdout) : undefined
  if (report === undefined) {
    throw new ReproofError(
      'E_ENVIRONMENT',
      `run ${run.setup.id.toUpperCase()}: the build environment could not be set up (${result.stderr.trim().split('\n').pop() ?? `exit ${result.code}`})`,
      {
        found: [...run.enter, ...run.setup.launcher].join(' '),
        hint: 'turn off the variation that needs what is missing, with --no-vary',
      },
    )
  }
  return report
}

export interface RunOutcome {
  id: RunId
  exitCode: number | null
  signal: string | null
  durationMs: number
  error: string | undefined
  /** Processes the build left running when its command ended; reproof killed them. */
  leftovers: string[]
  /** Stopped (or never started) by reproof because the other run had failed. */
  stoppedAfterOtherFailed?: true
  /** When its command ended, on this process's monotonic clock (ms). */
  endedAtMs?: number
}

/**
 * Runs A and B, concurrently unless --sequential. A timeout or Ctrl-C kills both
 * process trees; a timeout is not a failure but an unknown outcome.
 */
export async function runTwice(
  runs: { a: RunContext; b: RunContext },
  options: BuildOptions,
  deps: BuildSignals,
  emit: (event: BuildEvent) => void,
): Promise<{ a: RunOutcome; b: RunOutcome }> {
  const controller = new AbortController()
  const onInterrupt = (): void => {
    controller.abort('interrupt')
  }
  deps.signal?.addEventListener('abort', onInterrupt)
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          controller.abort('timeout')
        }, options.timeoutMs)
  const started: StartedRun[] = []
  const aborted = new Promise<void>((resolve) => {
    controller.signal.addEventListener('abort', () => {
      resolve()
    })
  })
  const failures: RunOutcome[] = []
  const start = (run: RunContext): Promise<RunOutcome> => {
    const begun = startRun(run, options.command, emit, controller.signal)
    started.push(begun)
    // A run that failed decides the answer (exit 3): the other is stopped now rather
    // than waited for, which with --timeout made the failure an unknown outcome (exit 4).
    // A run that could not be ended cleanly rejects `done`; the caller awaits it and
    // reports that, so here it is only looked at, never left unhandled.
    begun.done.then(
      (outcome) => {
        if (!controller.signal.aborted && outcome.exitCode !== 0) {
          failures.push(outcome)
          controller.abort('failed')
        }
      },
      () => undefined,
    )
    return begun.done
  }
  const waitUntil = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, Math.max(0, ms))
      controller.signal.addEventListener('abort', () => {
        clearTimeout(t)
        resolve()
      })
    })

  const both = (async () => {
    const t0 = performance.now()
    const a = start(runs.a)
    // One after the other, run B starts the gap after run A ended, not after it began:
    // then every file B writes is stamped that much later than any A wrote, removed ones
    // included, however fast B goes (a B quicker than A wrote the same file less than
    // two seconds after A had, and an archive of it showed no difference).
    let since = t0
    if (options.sequential) {
      await a
      since = performance.now()
    }
    await waitUntil(runs.b.setup.minStartGapMs - (performance.now() - since))
    if (controller.signal.aborted) return undefined
    const b = start(runs.b)
    return { a: await a, b: await b }
  })()

  try {
    const result = await Promise.race([both, aborted.then(() => undefined)]).catch(
      async (err: unknown) => {
        // A run that could not be ended (what it left behind would not die): the other
        // run is stopped too, and the error is the answer.
        await Promise.all(started.map((s) => s.kill().catch(() => undefined)))
        await Promise.all(started.map((s) => s.done.catch(() => undefined)))
        throw err
      },
    )
    if (result !== undefined) return result
    const running = started.filter((s) => !s.state.finished).map((s) => runs[s.id])
    const notStarted = (['a', 'b'] as const).filter((id) => !started.some((s) => s.id === id))
    await Promise.all(started.map((s) => s.kill()))
    const ended = await Promise.all(started.map((s) => s.done))
    const failed = failures[0]
    if (controller.signal.reason === 'failed' && failed !== undefined) {
      const other = (id: RunId): RunOutcome =>
        ended.find((o) => o.id === id && o !== failed) ?? {
          id,
          exitCode: null,
          signal: null,
          durationMs: 0,
          error: `not started: run ${failed.id.toUpperCase()} had failed`,
          leftovers: [],
        }
      const otherId = failed.id === 'a' ? 'b' : 'a'
      const stopped = { ...other(otherId), stoppedAfterOtherFailed: true as const }
      return failed.id === 'a' ? { a: failed, b: stopped } : { a: stopped, b: failed }
    }
    throw controller.signal.reason === 'timeout'
      ? timedOut(running, notStarted, options.timeoutMs ?? 0)
      : new ReproofError(
          'E_INTERRUPTED',
          'interrupted; both builds were stopped and nothing was written',
        )
  } finally {
    if (timer !== undefined) clearTimeout(timer)
    deps.signal?.removeEventListener('abort', onInterrupt)
  }
}

interface StartedRun {
  id: RunId
  kill(): Promise<void>
  done: Promise<RunOutcome>
  state: { finished: boolean }
}

/**
 * Starts one run's command in its sandbox, its output logged and passed on line by line;
 * its end is reported unless the runs were stopped (`stopped`), when it means nothing.
 */
function startRun(
  run: RunContext,
  command: readonly string[],
  emit: (event: BuildEvent) => void,
  stopped: AbortSignal,
): StartedRun {
  const { setup } = run
  emit({ kind: 'run-started', id: setup.id })
  const t0 = performance.now()
  const child = startBuildProcess(
    {
      argv: [...run.enter, ...setup.launcher, ...launchArguments(setup.env, command)],
      cwd: run.cwd,
      env: launchEnvironment(setup.env, process.env.PATH),
      stdoutLog: setup.layout.stdoutLog,
      stderrLog: setup.layout.stderrLog,
      onLine: (line) => {
        emit({ kind: 'run-output', id: setup.id, line })
      },
      ...(run.reap === undefined ? {} : { reap: run.reap }),
    },
    `HOME=${setup.env.HOME ?? ''}`,
  )
  const state = { finished: false }
  const done = child.done.then((status): RunOutcome => {
    state.finished = true
    const outcome = {
      id: setup.id,
      exitCode: status.code,
      signal: status.signal,
      durationMs: Math.round(performance.now() - t0),
      endedAtMs: performance.now(),
      error: status.error,
      leftovers: status.leftovers,
    }
    if (!stopped.aborted) emit({ kind: 'run-finished', ...outcome })
    return outcome
  })
  return { id: setup.id, kill: () => child.kill(), done, state }
}

/** The builds outran --timeout: an unknown outcome (exit 4), naming the runs it stopped. */
export function timedOut(
  running: readonly RunContext[],
  notStarted: readonly RunId[],
  timeoutMs: number,
): ReproofError {
  const still = running.map((r) => `run ${r.setup.id.toUpperCase()} (varied with ${r.variedWith})`)
  const waiting =
    notStarted.length > 0 ? `run ${notStarted.join(', ').toUpperCase()} had not started` : ''
  // Stopped before a run was under way (its setup took the time), none is still running.
  const where =
    still.length === 0
      ? `no run was under way yet${waiting === '' ? '' : ` (${waiting})`}`
      : `${still.join(' and ')} ${still.length === 1 ? 'was' : 'were'} still running${waiting === '' ? '' : `, ${waiting}`}`
  return new ReproofError(
    'E_AMBIGUOUS',
    `the builds did not finish within --timeout ${formatDuration(timeoutMs)}: ${where}. Whether the build is reproducible is unknown; nothing was written and a retry is safe`,
    {
      hint: 'give it more time with --timeout, or keep the roots with --keep to see where it stopped',
    },
  )
}

/**
 * A failed run, explained: how it ended, the tail of its log, and what reproof changed
 * about the world the build sees, most likely culprit first, with the flag that gives
 * it back.
 */
export async function buildFailure(
  outcome: RunOutcome,
  run: RunContext,
  outcomes: { a: RunOutcome; b: RunOutcome },
  changed: readonly string[],
): Promise<ReproofError> {
  const how =
    outcome.error !== undefined
      ? `could not start (${outcome.error})`
      : outcome.signal !== null
        ? `was killed by ${outcome.signal}`
        : `exited with status ${outcome.exitCode}`
  const other = outcomes[outcome.id === 'a' ? 'b' : 'a']
  const onlyB = outcome.id === 'b' && other.exitCode === 0
  const tail = await logTail(run.setup)
  const hints = [
    ...(onlyB
      ? [
          `run A succeeded, so what run B was varied with may have caused this (${run.variedWith}); try --no-vary`,
        ]
      : []),
    ...failureHints(tail, changed),
  ]
  return new ReproofError('E_BUILD', `build run ${outcome.id.toUpperCase()} ${how}`, {
    detail: tail,
    ...(hints.length > 0 ? { hint: hints.join('\n') } : {}),
  })
}

// Messages that mean the build tried the network (curl, git, npm, cargo, pip, Go, Java).
const NETWORK_FAILURE =
  /Could not resolve host|Temporary failure in name resolution|Name or service not known|Network is unreachable|getaddrinfo|EAI_AGAIN|ENOTFOUND|ENETUNREACH|failed to lookup address|Connection refused|ECONNREFUSED|No address associated with hostname|UnknownHostException|dial tcp/i
const HOME_FAILURE = /\.cargo|\.rustup|rustup|\.m2|\.gradle|\.npmrc|\.config|HOME/

/** Pure: which of reproof's changes to the build's world the failure points at. */
export function failureHints(tail: string, changed: readonly string[]): string[] {
  const hints: string[] = []
  if (changed.includes('no network') && NETWORK_FAILURE.test(tail)) {
    hints.push(
      'the build tried to reach the network, and builds run without one: pass --network to allow it (the record says so), or fetch dependencies before the build',
    )
  }
  if (HOME_FAILURE.test(tail)) {
    hints.push(
      'each run gets a fresh, empty HOME: pass what the build needs with --env (e.g. --env CARGO_HOME --env RUSTUP_HOME)',
    )
  }
  hints.push(
    `reproof changed: ${changed.join(', ')}; pass variables through with --env NAME, allow the network with --network`,
  )
  return hints
}

async function logTail(run: RunSetup, lines = 20): Promise<string> {
  const read = async (file: string): Promise<string> => {
    try {
      const handle = await fs.open(file, 'r')
      try {
        const { size } = await handle.stat()
        const length = Math.min(size, 16 * 1024)
        const buffer = Buffer.alloc(length)
        await handle.read(buffer, 0, length, size - length)
        return buffer.toString('utf8')
      } finally {
        await handle.close()
      }
    } catch {
      return ''
    }
  }
  const text = `${await read(run.layout.stdoutLog)}\n${await read(run.layout.stderrLog)}`
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-lines)
    .join('\n')
}
