import type { BuildEvent } from '../build/run-build.js'
import { formatDuration } from '../config/duration.js'
import type { Streams } from './output.js'

interface RunState {
  started: number
  finished: number | undefined
  last: string
}

/**
 * Progress on stderr: on a terminal, one live line per run (elapsed time and the last
 * line of its log), redrawn in place; otherwise plain lines at each step, which read
 * well in CI logs.
 */
export function createStatusDisplay(streams: Streams): {
  onEvent: (e: BuildEvent) => void
  stop: () => void
} {
  const err = streams.stderr
  const runs = new Map<string, RunState>()
  if (err.isTTY !== true) {
    return {
      onEvent: (e) => {
        if (e.kind === 'phase') err.write(`reproof: ${e.text}\n`)
        if (e.kind === 'run-started') err.write(`reproof: run ${e.id.toUpperCase()} started\n`)
        if (e.kind === 'run-finished') {
          err.write(
            `reproof: run ${e.id.toUpperCase()} finished (${e.signal ?? `status ${e.exitCode}`}) in ${formatDuration(e.durationMs)}\n`,
          )
        }
      },
      stop: () => undefined,
    }
  }
  let drawn = 0
  const draw = (): void => {
    const width = Math.max(40, (err.columns ?? 80) - 1)
    const lines = [...runs.entries()].map(([id, s]) => {
      const elapsed = formatDuration((s.finished ?? Date.now()) - s.started)
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
        runs.set(e.id, { started: Date.now(), finished: undefined, last: '' })
      const state = 'id' in e ? runs.get(e.id) : undefined
      if (e.kind === 'run-output' && state !== undefined) state.last = e.line.replace(/\s+/g, ' ')
      if (e.kind === 'run-finished' && state !== undefined) state.finished = Date.now()
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
