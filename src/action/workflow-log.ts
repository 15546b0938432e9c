import { inlineText } from '../cli/views/diff-markdown.js'
import type { BuildEvent } from '../twin/run-twice.js'

/*
 * The runner's workflow commands, written to stdout: groups that fold the log, and
 * annotations (error, warning, notice) that show on the run's page. The runner reads a
 * command from `::` at the start of a line (after any blanks) and from the older
 * `##[` anywhere in a line, in everything the step prints: so what reproof did not
 * write itself (the build's output, the CLI's messages, which quote artifacts) is
 * passed through `inert` first.
 */

// A zero-width space between the two characters: shown the same, read as no command.
const ZWSP = '\u200b'

/**
 * Text that holds no workflow command, whatever it held: `##[` anywhere and `::` at a
 * line's start (after blanks) get a zero-width space between their two characters;
 * every other character is left as it was.
 */
export function inert(text: string): string {
  return text.replace(/##\[/g, `#${ZWSP}#[`).replace(LINE_START_COMMAND, `$1$2:${ZWSP}`)
}

// A line's start, the blanks the runner strips there (.NET's TrimStart takes every
// char.IsWhiteSpace: no-break, em and ideographic spaces, NEL, line and paragraph
// separators, VT, FF), and the first colon of `::`.
const LINE_START_COMMAND =
  /(^|[\r\n])([\t\v\f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*):(?=:)/g

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
/** A stream of text passed on by whole lines, each made inert; `end` passes on the rest. */
export function inertLines(out: Log): { write: (text: string) => boolean; end: () => void } {
  let pending = ''
  return {
    write: (text) => {
      pending += text
      const cut = pending.lastIndexOf('\n') + 1
      if (cut > 0) {
        out.write(inert(pending.slice(0, cut)))
        pending = pending.slice(cut)
      }
      return true
    },
    end: () => {
      if (pending !== '') out.write(inert(pending))
      pending = ''
    },
  }
}

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
        for (const part of e.line.split('\r')) log.write(`${run}| ${inert(part)}\n`)
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

/**
 * Text as the job summary's Markdown shows it: control characters escaped, Markdown's
 * own characters escaped, and each line of a message of several (a hint with steps) on a
 * line of its own, where one escaped line break showed as a literal `\n`.
 */
export function summaryText(text: string): string {
  return text.split(/\r?\n/).map(inlineText).join('<br>')
}
