import { isReproofError, exitCodeFor, EXIT } from '../errors.js'
import { toDisplayText } from '../file-names.js'

/** Where the CLI writes. Injected so that tests can run commands in-process. */
export interface Streams {
  stdout: { write(text: string): unknown; isTTY?: boolean }
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number }
  env: Readonly<Record<string, string | undefined>>
}

export function useColor(stream: { isTTY?: boolean }, env: Streams['env']): boolean {
  return stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb'
}

/**
 * The single place where errors become text and exit codes. The first line names the
 * input and what is wrong; context follows on indented lines. Messages and hints hold
 * file names, which may hold control characters: those are shown escaped, so that a
 * message stays one line and nothing in it can talk to the terminal.
 */
export function reportError(err: unknown, streams: Streams): number {
  if (isReproofError(err)) {
    const lines = [`reproof: ${toDisplayText(err.message)}`]
    const { context } = err
    // Several hints come one a line; each line is escaped on its own.
    for (const hint of context.hint?.split('\n') ?? []) lines.push(`  hint: ${toDisplayText(hint)}`)
    if (context.detail !== undefined && context.detail !== '') {
      lines.push(
        '  --- last lines of the build log ---',
        ...context.detail.split('\n').map((l) => `  | ${l}`),
      )
    }
    streams.stderr.write(`${lines.join('\n')}\n`)
    return exitCodeFor(err.code)
  }
  const message = err instanceof Error ? err.message : String(err)
  streams.stderr.write(`reproof: internal error: ${toDisplayText(message)}\n`)
  if (err instanceof Error && err.stack !== undefined && streams.env.REPROOF_DEBUG !== undefined) {
    streams.stderr.write(`${err.stack}\n`)
  }
  return EXIT.failed
}
