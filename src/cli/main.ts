import { Command, CommanderError } from 'commander'
import { EXIT, ReproofError } from '../errors.js'
import { toDisplayText } from '../file-names.js'
import { VERSION } from '../version.js'
import { committing } from '../io/commit-window.js'
import { attestCommand, keygenCommand } from './attest-command.js'
import { buildCommand } from './build-command.js'
import { diffCommand } from './diff-command.js'
import { normalizeCommand } from './normalize-command.js'
import { gateCommand } from './gate-command.js'
import { verifyCommand } from './verify-command.js'
import { errorJson, reportError, type Streams } from './output.js'
import { refuseMangledArguments } from './raw-arguments.js'
import { refuseRepeatedOptions } from './given-once.js'

/**
 * Parses the command line, runs one command, and returns the exit code. Every error,
 * from commander or from a command, is turned into text and a code in one place.
 */
export async function main(
  argv: readonly string[],
  streams: Streams = processStreams(),
): Promise<number> {
  let exitCode: number = EXIT.yes
  const setExit = (code: number): void => {
    exitCode = code
  }
  const controller = new AbortController()
  const onSignal = (): void => {
    // A second signal while the first is being honoured: stop now, as a user pressing
    // Ctrl-C twice expects (temporary files of a command that was stopping may stay).
    if (controller.signal.aborted) {
      // In the middle of a durable write, what was written is not known.
      if (committing()) {
        streams.stderr.write(
          'reproof: stopped while writing; whether it was written is unknown, and a retry is safe\n',
        )
        streams.onHardStop?.(EXIT.ambiguous)
        process.exit(EXIT.ambiguous)
      }
      streams.onHardStop?.(EXIT.interrupted)
      process.exit(EXIT.interrupted)
    }
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // A closed terminal: stop as for Ctrl-C, so that temporary files are removed.
  process.on('SIGHUP', onSignal)

  const program = new Command('reproof')
    .description('Prove a build is reproducible, explain why not, and attest it.')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput(output(streams))
    .configureHelp(HELP)
    .showHelpAfterError('(run with --help for usage)')
  const commands: Record<string, () => Command> = {
    build: () => buildCommand(streams, setExit, controller.signal),
    diff: () => diffCommand(streams, setExit, controller.signal),
    normalize: () => normalizeCommand(streams, setExit, controller.signal),
    attest: () => attestCommand(streams, setExit),
    keygen: () => keygenCommand(streams, setExit),
    verify: () => verifyCommand(streams, setExit, controller.signal),
    gate: () => gateCommand(streams, setExit, controller.signal),
  }
  // Only the command asked for is defined (its options cost a few milliseconds each
  // start); anything else (help, a misspelt command, an option first) gets them all.
  const asked = Object.hasOwn(commands, argv[2] ?? '') ? argv[2] : undefined
  for (const [name, make] of Object.entries(commands))
    if (asked === undefined || name === asked) program.addCommand(make())
  for (const command of program.commands.flatMap((c) => [c, ...c.commands])) {
    command.exitOverride().configureOutput(output(streams)).configureHelp(HELP)
  }
  refuseRepeatedOptions(program)

  try {
    refuseMangledArguments(argv)
    await program.parseAsync([...argv])
    return exitCode
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version print to stdout and succeed; everything else is a usage error,
      // said on stderr already (outputError below), and under --json as JSON too.
      if (err.exitCode !== 0) {
        if (wantsJson(argv)) {
          const usage = new ReproofError('E_USAGE', err.message.replace(/^error: /, ''))
          streams.stdout.write(
            `${JSON.stringify({ error: errorJson(usage, EXIT.usage) }, null, 2)}\n`,
          )
        }
        return EXIT.usage
      }
      // Exit 0 is "yes": help or version asked for among other arguments (an artifact
      // named `-V`, `reproof verify "$f" --bundle b.json`) would pass a verify that never
      // ran. Only a request for help or the version alone succeeds.
      if (askedOnlyForHelp(argv.slice(2), program)) return EXIT.yes
      streams.stderr.write(
        `reproof: ${err.code === 'commander.version' ? '--version' : '--help'} among other arguments: nothing was run or checked (put a file whose name starts with - after --)\n`,
      )
      return EXIT.usage
    }
    return reportError(err, streams, wantsJson(argv))
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('SIGHUP', onSignal)
  }
}

/** Whether the arguments are command names and help or version flags, nothing else. */
function askedOnlyForHelp(args: readonly string[], program: Command): boolean {
  const flags = new Set(['-h', '--help', '-V', '--version'])
  let command: Command = program
  for (const arg of args) {
    if (flags.has(arg)) continue
    const sub: Command | undefined =
      arg === 'help'
        ? command
        : command.commands.find((c) => c.name() === arg || c.aliases().includes(arg))
    if (sub === undefined) return false
    command = sub
  }
  return true
}

/** `--json` among reproof's own arguments (never the build command's, after `--`). */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--')
  return argv.slice(0, end === -1 ? undefined : end).includes('--json')
}

/**
 * An error nothing caught (a bug): reported like any other error, in one line with an
 * exit code of its own kind, never Node's stack trace and exit 1, which would read as
 * "not reproducible".
 */
export function reportCrash(err: unknown, argv: readonly string[]): number {
  return reportError(err, processStreams(), wantsJson(argv))
}

// What commander puts on a line of its own after an unknown command or option.
const SUGGESTION = '\n(Did you mean '

// Option descriptions wrap in what the terminal leaves beside them, down to 20 columns
// (commander's default gives up below 40, which on an 80-column terminal is always).
const HELP = { minWidthToWrap: 20 }

/** Help and errors to the streams, help wrapped to the terminal's width (80 elsewhere). */
function output(streams: Streams) {
  const width = (stream: Streams['stdout']): number =>
    stream.isTTY === true && stream.columns !== undefined ? stream.columns : 80
  return {
    writeOut: (s: string) => streams.stdout.write(s),
    writeErr: (s: string) => streams.stderr.write(s),
    // A usage error begins as every other error does, `reproof: `, not commander's `error: `.
    // Its own line breaks (a suggestion after the error) kept; any in an argument escaped.
    outputError: (s: string, write: (s: string) => void) => {
      const lines = s
        .replace(/^error: /, 'reproof: ')
        .replace(/\n$/, '')
        .split(SUGGESTION)
      write(`${lines.map(toDisplayText).join(SUGGESTION)}\n`)
    },
    getOutHelpWidth: () => width(streams.stdout),
    getErrHelpWidth: () => width(streams.stderr),
  }
}

function processStreams(): Streams {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env }
}
