/**
 * The one error type. Every failure a user can see carries a code from a closed set,
 * a message written for that user, and the context that explains it. The CLI maps
 * codes to exit codes in one place ({@link exitCodeFor}).
 */
export type ErrorCode =
  | 'E_USAGE' // the command line is wrong
  | 'E_REJECTED' // the answer is no (nothing reproducible to attest)
  | 'E_INPUT' // a file, value or configuration given to reproof is wrong
  | 'E_BUILD' // the build command failed, or the environment could not be set up
  | 'E_ENVIRONMENT' // the machine lacks something reproof needs
  | 'E_LEDGER' // the release ledger is corrupt: a person must look
  | 'E_AMBIGUOUS' // the outcome is unknown (timeout); a retry is safe
  | 'E_INTERRUPTED' // the user stopped reproof

export interface ErrorContext {
  path?: string
  wanted?: unknown
  found?: unknown
  hint?: string
  /** Extra lines worth showing under the message, such as the tail of a build log. */
  detail?: string
  /** For a work limit that was crossed: the flag that raises it. */
  limit?: string
  /** For a no (E_REJECTED) from verification: its reason code (docs/verify.md). */
  reason?: string
  /**
   * For a compressed stream that is not whole: its format. Where the fault lies is known
   * to whoever knows the stream's members (normalize/gzip.ts), not to the decoder.
   */
  corrupt?: string
  /**
   * For a verification stopped by an error (a rebuild that timed out or failed): the
   * checks that ran and passed before it, so that `--json` says what was checked.
   */
  checks?: unknown[]
}

export class ReproofError extends Error {
  override readonly name = 'ReproofError'

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** Exit codes are part of the interface: see README.md, "Exit codes". */
export const EXIT = {
  yes: 0,
  no: 1,
  usage: 2,
  failed: 3,
  ambiguous: 4,
  interrupted: 130,
} as const

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'E_REJECTED':
      return EXIT.no
    case 'E_USAGE':
    case 'E_INPUT':
      return EXIT.usage
    case 'E_BUILD':
    case 'E_ENVIRONMENT':
    case 'E_LEDGER':
      return EXIT.failed
    case 'E_AMBIGUOUS':
      return EXIT.ambiguous
    case 'E_INTERRUPTED':
      return EXIT.interrupted
  }
}

/**
 * What went wrong reading a file, in words, from the error the file system gave: `missing`
 * (such as "no such file") when it is not there, the reason otherwise. Only the message;
 * the error itself goes in as the cause.
 */
export function fileProblem(err: unknown, missing: string): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return missing
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'EISDIR':
      return 'is a directory'
    case 'ELOOP':
      return 'a loop of symbolic links'
    case 'ENOSPC':
      return 'no space left on the device'
    case 'EDQUOT':
      return 'the disk quota is used up'
    case 'EROFS':
      return 'a read-only file system'
    default:
      return `cannot be read (${code ?? (err instanceof Error ? err.message : String(err))})`
  }
}

/**
 * Bad input: a file that could not be read. `where` names the input as the user gave it
 * (`--key k.pem`); the message says why in words, and the error is kept as the cause.
 */
export function unreadable(
  where: string,
  file: string,
  err: unknown,
  missing = 'no such file',
): ReproofError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  // Node reads a command line as UTF-8: a name that is not becomes U+FFFD there, and
  // no file of that name is found, though the one meant is there.
  const why =
    (code === 'ENOENT' || code === 'ENOTDIR') && file.includes('\ufffd')
      ? `${missing}; its name holds U+FFFD, which a name that is not UTF-8 becomes on a command line (Node reads arguments as UTF-8): rename it, or name it through a path that is UTF-8`
      : fileProblem(err, missing)
  return new ReproofError('E_INPUT', `${where}: ${why}`, { path: file }, { cause: err })
}

/** Ctrl-C (or SIGTERM, SIGHUP) was pressed: stop here, with nothing written. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true)
    throw new ReproofError('E_INTERRUPTED', 'interrupted; nothing was written')
}

export function isReproofError(err: unknown): err is ReproofError {
  return err instanceof ReproofError
}
