import fs from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import type { BuildOptions } from '../config/build-options.js'
import { formatDuration } from '../config/duration.js'
import { ReproofError } from '../errors.js'
import { runCaptured, startBuildProcess } from '../sandbox/process.js'
import {
  parseProbe,
  PROBE_SCRIPT,
  type ProbeReport,
  type RunId,
  type RunSetup,
  type VariationRecord,
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

export async function probeRun(run: RunSetup): Promise<ProbeReport> {
  const result = await runCaptured([...run.launcher, '/bin/sh', '-c', PROBE_SCRIPT], {
    cwd: run.layout.root,
    env: run.env,
    timeoutMs: 30_000,
  })
  const report = result.code === 0 ? parseProbe(result.stdout) : undefined
  if (report === undefined) {
    throw new ReproofError(
      'E_ENVIRONMENT',
      `run ${run.id.toUpperCase()}: the build environment could not be set up (${result.stderr.trim().split('\n').pop() ?? `exit ${result.code}`})`,
      {
        found: run.launcher.join(' '),
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
}

/**
 * Runs A and B, concurrently unless --sequential. A timeout or Ctrl-C kills both
 * process trees; a timeout is not a failure but an unknown outcome.
 */
export async function runTwice(
  runs: { a: RunSetup; b: RunSetup },
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
  const started: { kill(): Promise<void>; done: Promise<RunOutcome> }[] = []
  const aborted = new Promise<void>((resolve) => {
    controller.signal.addEventListener('abort', () => {
      resolve()
    })
  })

  const start = (run: RunSetup): Promise<RunOutcome> => {
    emit({ kind: 'run-started', id: run.id })
    const t0 = performance.now()
    const child = startBuildProcess(
      {
        argv: [...run.launcher, ...options.command],
        cwd: run.layout.root,
        env: run.env,
        stdoutLog: run.layout.stdoutLog,
        stderrLog: run.layout.stderrLog,
        onLine: (line) => {
          emit({ kind: 'run-output', id: run.id, line })
        },
      },
      `HOME=${run.env.HOME ?? ''}`,
    )
    const done = child.done.then((status): RunOutcome => {
      const outcome = {
        id: run.id,
        exitCode: status.code,
        signal: status.signal,
        durationMs: Math.round(performance.now() - t0),
        error: status.error,
      }
      if (!controller.signal.aborted) emit({ kind: 'run-finished', ...outcome })
      return outcome
    })
    started.push({ kill: () => child.kill(), done })
    return done
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
    if (options.sequential) await a
    await waitUntil(runs.b.minStartGapMs - (performance.now() - t0))
    if (controller.signal.aborted) return undefined
    const b = start(runs.b)
    return { a: await a, b: await b }
  })()

  try {
    const result = await Promise.race([both, aborted.then(() => undefined)])
    if (result !== undefined) return result
    await Promise.all(started.map((s) => s.kill()))
    await Promise.all(started.map((s) => s.done))
    if (controller.signal.reason === 'timeout') {
      throw new ReproofError(
        'E_AMBIGUOUS',
        `the builds did not finish within --timeout ${formatDuration(options.timeoutMs ?? 0)}; whether they are reproducible is unknown. Nothing was written; a retry is safe`,
      )
    }
    throw new ReproofError(
      'E_INTERRUPTED',
      'interrupted; both builds were stopped and nothing was written',
    )
  } finally {
    if (timer !== undefined) clearTimeout(timer)
    deps.signal?.removeEventListener('abort', onInterrupt)
  }
}

export async function buildFailure(
  outcome: RunOutcome,
  run: RunSetup,
  outcomes: { a: RunOutcome; b: RunOutcome },
  variations: readonly VariationRecord[],
): Promise<ReproofError> {
  const how =
    outcome.error !== undefined
      ? `could not start (${outcome.error})`
      : outcome.signal !== null
        ? `was killed by ${outcome.signal}`
        : `exited with status ${outcome.exitCode}`
  const other = outcomes[outcome.id === 'a' ? 'b' : 'a']
  const onlyB = outcome.id === 'b' && other.exitCode === 0
  const varied = variations.filter((v) => v.applied && v.name !== 'path').map((v) => v.name)
  return new ReproofError('E_BUILD', `build run ${outcome.id.toUpperCase()} ${how}`, {
    detail: await logTail(run),
    hint: onlyB
      ? `run A succeeded, so a variation may have caused this (${['path', ...varied].join(', ')}); try --no-vary`
      : undefined,
  })
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
