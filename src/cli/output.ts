import type { BuildEvent } from '../twin/run-twice.js'
import { isReproofError, exitCodeFor, EXIT, ReproofError } from '../errors.js'
import { toDisplayText } from '../file-names.js'

/** Where the CLI writes. Injected so that tests can run commands in-process. */
export interface Streams {
  stdout: { write(text: string): unknown; isTTY?: boolean; columns?: number }
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number }
  env: Readonly<Record<string, string | undefined>>
  /**
   * Where a build's progress goes under --json, when someone reads it there (the
   * Action's log); without --json it is shown on stderr.
   */
  onBuildEvent?: (event: BuildEvent) => void
  /**
   * Where a secret learned while running (an identity token fetched from the CI) is
   * announced for masking, when someone reads commands there (the Action's log, which
   * passes the CLI's stderr on with every workflow command made inert); without it the
   * mask command goes to stderr.
   */
  onSecret?: (secret: string) => void
  /**
   * Called, synchronously, right before a second signal ends the process with `code`
   * (130, or 4 in the middle of a durable write): the last moment for an embedder (the
   * Action) to say what became of the run, which it would otherwise never get to say.
   */
  onHardStop?: (code: number) => void
}

/**
 * Whether to colour what goes to `stream`. FORCE_COLOR, set and not empty, decides
 * first, as Node itself reads it (`0` or `false` turns colour off, anything else on);
 * then NO_COLOR, set and not empty (no-color.org), turns it off; otherwise a terminal
 * that is not TERM=dumb gets colour.
 */
export function useColor(stream: { isTTY?: boolean }, env: Streams['env']): boolean {
  const force = env.FORCE_COLOR
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false'
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  return isSmartTerminal(stream, env)
}

/** A terminal that takes cursor movement: a TTY, and not TERM=dumb. */
export function isSmartTerminal(stream: { isTTY?: boolean }, env: Streams['env']): boolean {
  return stream.isTTY === true && env.TERM !== 'dumb'
}

/**
 * The single place where errors become text and exit codes. The first line names the
 * input and what is wrong; context follows on indented lines (what was wanted and found,
 * hints, the tail of a build log). Messages and hints hold file names, which may hold
 * control characters: those are shown escaped, so that a message stays one line and
 * nothing in it can talk to the terminal. With `--json` the same error is also one JSON
 * object on stdout (`{"error": {...}}`), for scripts and the Action. `REPROOF_DEBUG=1`
 * adds the chain of causes and the stack.
 */
export function reportError(thrown: unknown, streams: Streams, json = false): number {
  const err = machineFailure(thrown)
  const exit = isReproofError(err) ? exitCodeFor(err.code) : EXIT.failed
  const lines: string[] = []
  if (isReproofError(err)) {
    lines.push(`reproof: ${toDisplayText(err.message)}`)
    const { context } = err
    // What was wanted and found, unless the message already says it (`--max-age: "5x"
    // is not a duration` is one line, not two): then it stays in the JSON form only.
    const said = (value: unknown): boolean => err.message.includes(shown(value))
    if (context.wanted !== undefined && !said(context.wanted))
      lines.push(`  wanted: ${shown(context.wanted)}`)
    if (context.found !== undefined && !said(context.found))
      lines.push(`  found: ${shown(context.found)}`)
    // Several hints come one a line; each line is escaped on its own.
    for (const hint of context.hint?.split('\n') ?? []) lines.push(`  hint: ${toDisplayText(hint)}`)
    if (context.detail !== undefined && context.detail !== '') {
      lines.push(
        '  --- last lines of the build log ---',
        ...context.detail.split('\n').map((l) => `  | ${toDisplayText(l)}`),
      )
    }
  } else {
    const message = err instanceof Error ? err.message : String(err)
    lines.push(`reproof: internal error: ${toDisplayText(message)}`)
  }
  if (streams.env.REPROOF_DEBUG !== undefined && streams.env.REPROOF_DEBUG !== '') {
    for (let cause = causeOf(err); cause !== undefined; cause = causeOf(cause))
      lines.push(
        `  caused by: ${toDisplayText(cause instanceof Error ? cause.message : JSON.stringify(cause))}`,
      )
    if (err instanceof Error && err.stack !== undefined) lines.push(err.stack)
  }
  streams.stderr.write(`${lines.join('\n')}\n`)
  if (json) streams.stdout.write(`${JSON.stringify({ error: errorJson(err, exit) }, null, 2)}\n`)
  return exit
}

// What the machine ran out of or refused, wherever a system call met it: a full disk
// or quota, a file size or descriptor limit, a read-only or failing file system.
const MACHINE_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EROFS', 'EMFILE', 'ENFILE', 'EIO'])

/**
 * A system call's failure that is the machine's, not a bug of reproof's: said as the
 * environment's (exit 3, `E_ENVIRONMENT`), where "internal error" sent people looking
 * for a bug when the temporary directory was full or missing.
 */
function machineFailure(err: unknown): unknown {
  if (isReproofError(err) || !(err instanceof Error)) return err
  const { code, syscall, path: where } = err as NodeJS.ErrnoException
  const tempMissing = code === 'ENOENT' && syscall === 'mkdtemp'
  if (code === undefined || (!MACHINE_ERRNOS.has(code) && !tempMissing)) return err
  return new ReproofError(
    'E_ENVIRONMENT',
    tempMissing
      ? `the temporary directory does not exist (${where ?? ''}): set TMPDIR to one that does`
      : `the system refused a ${syscall ?? 'call'}${where === undefined ? '' : ` on ${where}`} (${err.message.split(',')[0] ?? code}): the machine's limit, not a fault of reproof's`,
    where === undefined ? {} : { path: where },
    { cause: err },
  )
}

/** An error as `--json` shows it: its code and exit code, the message, and its context. */
export function errorJson(err: unknown, exit: number): Record<string, unknown> {
  if (!isReproofError(err))
    return {
      code: 'E_INTERNAL',
      exit,
      message: `internal error: ${err instanceof Error ? err.message : String(err)}`,
    }
  const { path, wanted, found, hint, detail, limit, reason, checks } = err.context
  return {
    code: err.code,
    exit,
    message: err.message,
    ...(hint === undefined ? {} : { hint }),
    ...(path === undefined ? {} : { path }),
    ...(wanted === undefined ? {} : { wanted }),
    ...(found === undefined ? {} : { found }),
    ...(limit === undefined ? {} : { limit }),
    ...(reason === undefined ? {} : { reason }),
    ...(detail === undefined || detail === '' ? {} : { detail }),
    ...(checks === undefined ? {} : { checks }),
  }
}

function shown(value: unknown): string {
  return toDisplayText(typeof value === 'string' ? value : JSON.stringify(value))
}

function causeOf(err: unknown): unknown {
  return err instanceof Error ? err.cause : undefined
}
