import type { BuildEvent } from '../twin/run-twice.js'

/*
 * The runner's workflow commands, written to stdout: groups that fold the log, and
 * annotations (error, warning, notice) that show on the run's page. A command is read
 * only at the start of a line, so nothing the build prints is written there: each of
 * its lines is prefixed with its run's letter.
 */

export interface Log {
  write(text: string): unknown
}

/** The message of a command: %, CR and LF escaped as the runner reads them. */
function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

/** A property of a command: also ':' and ',', which end one. */
function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C')
}

/**
 * An annotation. A message that starts by naming a file and line (`ledger.jsonl:3: …`,
 * as reproof's messages about a line do) is pinned to that line of that file.
 */
export function annotate(
  log: Log,
  level: 'error' | 'warning' | 'notice',
  message: string,
  title?: string,
): void {
  const at = /^([^\s:]+):(\d+): /.exec(message)
  const props = [
    ...(title === undefined ? [] : [`title=${escapeProperty(title)}`]),
    ...(at === null ? [] : [`file=${escapeProperty(at[1] ?? '')}`, `line=${at[2] ?? ''}`]),
  ]
  log.write(
    `::${level}${props.length === 0 ? '' : ` ${props.join(',')}`}::${escapeData(message)}\n`,
  )
}

export function group(log: Log, title: string): void {
  log.write(`::group::${escapeData(title)}\n`)
}

export function endGroup(log: Log): void {
  log.write('::endgroup::\n')
}

/**
 * The build's progress as a log people read: each stage in a group, both runs' own
 * output inside theirs as it comes (each line after `A| ` or `B| `), and when each run
 * started and ended.
 */
export function buildLog(log: Log): { onEvent: (e: BuildEvent) => void; close: () => void } {
  let open = false
  let runs = false
  const start = (title: string): void => {
    if (open) endGroup(log)
    group(log, title)
    open = true
  }
  return {
    onEvent: (e) => {
      if (e.kind === 'phase') {
        runs = false
        start(`reproof build: ${e.text}`)
        return
      }
      if (!runs) {
        runs = true
        start('reproof build: the two runs (their output as A| and B|)')
      }
      const run = e.id.toUpperCase()
      if (e.kind === 'run-started') log.write(`reproof: run ${run} started\n`)
      else if (e.kind === 'run-output')
        // A carriage return (a progress bar redrawn) starts a line of its own, prefixed
        // too: a runner that takes it for a line break sees no command there either.
        for (const part of e.line.split('\r')) log.write(`${run}| ${part}\n`)
      else
        log.write(
          `reproof: run ${run} finished (${e.signal ?? `status ${String(e.exitCode)}`}) in ${e.durationMs} ms\n`,
        )
    },
    close: () => {
      if (open) endGroup(log)
      open = false
    },
  }
}
