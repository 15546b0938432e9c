import { afterEach, describe, expect, it, vi } from 'vitest'
import { createStatusDisplay } from '../../../../src/cli/views/build-progress.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('the status display in a log (not a terminal)', () => {
  it('prints a heartbeat per running run each minute: elapsed, and time since its last output', () => {
    vi.useFakeTimers()
    let clock = 0
    let text = ''
    const display = createStatusDisplay(
      { stdout: { write: () => true }, stderr: { write: (s: string) => (text += s) }, env: {} },
      { now: () => clock },
    )
    display.onEvent({ kind: 'run-started', id: 'a' })
    display.onEvent({ kind: 'run-started', id: 'b' })
    clock = 20_000
    display.onEvent({ kind: 'run-output', id: 'a', line: 'compiling   main.c' })
    clock = 60_000
    vi.advanceTimersByTime(60_000)
    expect(text).toContain(
      'reproof: run A still running after 1m00s; last output 40.0s ago: compiling main.c\n',
    )
    expect(text).toContain('reproof: run B still running after 1m00s; last output 1m00s ago\n')
    display.onEvent({
      kind: 'run-finished',
      id: 'a',
      exitCode: 0,
      signal: null,
      durationMs: 61_000,
    })
    text = ''
    clock = 120_000
    vi.advanceTimersByTime(60_000)
    // A finished run is quiet; the other still beats.
    expect(text).not.toContain('run A')
    expect(text).toContain('run B still running after 2m00s')
    display.stop()
    text = ''
    vi.advanceTimersByTime(180_000)
    expect(text).toBe('')
  })
})
