import type { BuildEvent } from '../../twin/run-build.js'
import { formatDuration } from '../../config/duration.js'
import { isSmartTerminal, type Streams } from '../output.js'

interface RunState {
  started: number
  finished: number | undefined
  last: string
  /** When the run last printed a line. */
  lastOutput: number
}

// CI systems kill jobs that print nothing for a while (10 minutes on some), and people
// wonder; a line a minute per running run answers both.
const HEARTBEAT_MS = 60_000

/**
 * Progress on stderr: on a terminal, one live line per run (elapsed time and the last
 * line of its log), redrawn in place; otherwise plain lines at each step, which read
 * well in CI logs.
 */
export function createStatusDisplay(
  streams: Streams,
  options: { heartbeatMs?: number; now?: () => number } = {},
): StatusDisplay {
  const now = options.now ?? Date.now
  // Redrawn in place only where the terminal moves the cursor (not TERM=dumb).
  return isSmartTerminal(streams.stderr, streams.env)
    ? liveDisplay(streams.stderr, now)
    : plainDisplay(streams.stderr, now, options.heartbeatMs ?? HEARTBEAT_MS)
}

interface StatusDisplay {
  onEvent: (e: BuildEvent) => void
  stop: () => void
}

type Err = Streams['stderr']

/** Plain lines for logs, and a heartbeat per running run while nothing else is said. */
function plainDisplay(err: Err, now: () => number, heartbeatMs: number): StatusDisplay {
  const runs = new Map<string, RunState>()
  const heartbeat = setInterval(() => {
    for (const [id, s] of runs) {
      if (s.finished !== undefined) continue
      const t = now()
      err.write(
        `reproof: run ${id.toUpperCase()} still running after ${formatDuration(t - s.started)}; last output ${formatDuration(t - s.lastOutput)} ago${s.last === '' ? '' : `: ${s.last.slice(0, 120)}`}\n`,
      )
    }
  }, heartbeatMs)
  heartbeat.unref()
  return {
    onEvent: (e) => {
      if (e.kind === 'phase') err.write(`reproof: ${e.text}\n`)
      if (e.kind === 'run-started') {
        runs.set(e.id, { started: now(), finished: undefined, last: '', lastOutput: now() })
        err.write(`reproof: run ${e.id.toUpperCase()} started\n`)
      }
      const state = 'id' in e ? runs.get(e.id) : undefined
      if (e.kind === 'run-output' && state !== undefined) {
        state.last = e.line.replace(/\s+/g, ' ')
        state.lastOutput = now()
      }
      if (e.kind === 'run-finished') {
        if (state !== undefined) state.finished = now()
        err.write(
          `reproof: run ${e.id.toUpperCase()} finished (${e.signal ?? `status ${e.exitCode}`}) in ${formatDuration(e.durationMs)}\n`,
        )
      }
    },
    stop: () => {
      clearInterval(heartbeat)
    },
  }
}

/** On a terminal: one line per run, redrawn in place five times a second. */
function liveDisplay(err: Err, now: () => number): StatusDisplay {
  const runs = new Map<string, RunState>()
  let drawn = 0
  const draw = (): void => {
    const width = Math.max(40, (err.columns ?? 80) - 1)
    const lines = [...runs.entries()].map(([id, s]) => {
      const elapsed = formatDuration((s.finished ?? now()) - s.started)
      const state = s.finished === undefined ? 'running' : 'done'
      return `run ${id.toUpperCase()} ${state} ${elapsed}  ${s.last}`.slice(0, width)
    })
    err.write(
      `${drawn > 0 ? `\u001b[${drawn}A` : ''}${lines.map((l) => `\u001b[2K${l}\n`).join('')}`,
    )
    drawn = lines.length
  }
  const timer = setInterval(draw, 200)
  timer.unref()
  return {
    onEvent: (e) => {
      if (e.kind === 'phase' && runs.size === 0) err.write(`reproof: ${e.text}\n`)
      if (e.kind === 'run-started')
        runs.set(e.id, { started: now(), finished: undefined, last: '', lastOutput: now() })
      const state = 'id' in e ? runs.get(e.id) : undefined
      if (e.kind === 'run-output' && state !== undefined) state.last = e.line.replace(/\s+/g, ' ')
      if (e.kind === 'run-finished' && state !== undefined) state.finished = now()
      if (e.kind === 'phase' && runs.size > 0) {
        draw()
        err.write(`reproof: ${e.text}\n`)
        drawn = 0
        runs.clear()
      }
    },
    stop: () => {
      clearInterval(timer)
      if (runs.size > 0) draw()
    },
  }
}
