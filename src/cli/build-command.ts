import { Command, Option } from 'commander'
import type { BuildFlags } from '../config/build-options.js'
import type { Streams } from './output.js'
import { withSigningOptions } from './signing-options.js'

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
]
// --vary and --no-vary share commander's attribute; removals are marked so they stay apart.
const REMOVE = '!'
const collectRemoval = (value: string, previous: unknown): string[] => [
  ...(Array.isArray(previous) ? (previous as string[]) : []),
  `${REMOVE}${value}`,
]

export function buildCommand(
  streams: Streams,
  setExit: (code: number) => void,
  signal: AbortSignal,
): Command {
  const command = new Command('build')
    .description(
      'build twice in isolated roots with deliberate variations, and compare the artifacts',
    )
    .usage('[options] -- <command> [args...]')
    .argument('[command...]', 'the build command and its arguments (after --)')
    .option('-C, --source <dir>', 'source directory to snapshot', '.')
    .option('-o, --out <glob>', 'artifact glob relative to the build root (repeatable)', collect)
    .option('--epoch <seconds>', 'SOURCE_DATE_EPOCH for both runs')
    .option('--json', 'print the result as JSON on stdout, and nothing else there')
    .option(
      '--out-dir <dir>',
      'where to copy the artifacts when reproducible (default: the source dir)',
    )
    .option('--record <file>', 'write the build record (JSON) to this file')
    .option(
      '--report <file>',
      'write an HTML page explaining the differences (or saying there are none)',
    )
    .option('--env <NAME[=VALUE]>', 'pass a variable to the build (repeatable)', collect)
    .option(
      '--timeout <duration>',
      'stop both runs after this long (e.g. 90s, 15m); the outcome is then unknown',
    )
    .option('--keep', 'keep both build roots and logs for inspection')
    .option(
      '--bundle <file>',
      'when reproducible, sign provenance into this Sigstore bundle (with --key)',
    )
    .option(
      '--normalize',
      'make normalization part of the build: normalize archive artifacts in both runs, compare and ship the normalized ones',
    )
    .option(
      '--no-normalize',
      'compare and ship the artifacts as the build wrote them (the default)',
    )
    .option('--network', 'let the builds reach the network (recorded; default: no network)')
    .option(
      '--no-explain',
      'when the build does not reproduce, do not build further pairs to learn which variation causes each difference',
    )
    .option(
      '--no-sandbox',
      'run the builds with process isolation only, without namespaces (named in the verdict)',
    )
    .option(
      '--require-sandbox',
      'fail (exit 3) instead of falling back to process isolation where namespaces are not permitted',
    )
    .option('--sequential', 'run A, then B (default: both at once)')
    .option(
      '--vary <list>',
      'turn variations on: path,time,file-times,ordering,umask,tz,locale,home,user,hostname,domain,env,exec-path,cpus,all',
      collect,
    )
    .addOption(new Option('--no-vary <list>', 'turn variations off').argParser(collectRemoval))
    .option(
      '--exclude <glob>',
      'leave matching source paths out of the snapshot (repeatable)',
      collect,
    )
    .option(
      '--temp-dir <dir>',
      'where the build roots go (default: /dev/shm when it is a tmpfs with 4 GiB free, else the system temp dir)',
    )
  return (
    withSigningOptions(command, { timeout: '--sign-timeout', retries: '--sign-retries' })
      // The runner and everything below it load only when the command runs.
      .action(async (argv: string[], raw: Record<string, unknown>, self: Command) => {
        const { buildAction } = await import('./build-action.js')
        // Signing options with defaults: whether they were given, not only their value.
        const given = SIGNING_WITH_DEFAULTS.filter((k) => self.getOptionValueSource(k) === 'cli')
        setExit(
          await buildAction(argv, { ...toBuildFlags(raw), signingGiven: given }, streams, signal),
        )
      })
  )
}

const SIGNING_WITH_DEFAULTS = ['fulcioUrl', 'rekorUrl', 'signTimeout', 'signRetries']

function toBuildFlags(raw: Record<string, unknown>): BuildFlags {
  const list = (v: unknown): string[] | undefined =>
    Array.isArray(v) ? (v as string[]) : undefined
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
  const bool = (v: unknown): boolean | undefined => (v === true ? true : undefined)
  const vary = list(raw.vary) ?? []
  return {
    source: text(raw.source),
    out: list(raw.out),
    epoch: text(raw.epoch),
    json: bool(raw.json),
    outDir: text(raw.outDir),
    record: text(raw.record),
    report: text(raw.report),
    env: list(raw.env),
    timeout: text(raw.timeout),
    keep: bool(raw.keep),
    sequential: bool(raw.sequential),
    vary: vary.filter((v) => !v.startsWith(REMOVE)),
    noVary: vary.filter((v) => v.startsWith(REMOVE)).map((v) => v.slice(REMOVE.length)),
    exclude: list(raw.exclude),
    tempDir: text(raw.tempDir),
    normalize: typeof raw.normalize === 'boolean' ? raw.normalize : undefined,
    network: bool(raw.network),
    requireSandbox: bool(raw.requireSandbox),
    sandbox: raw.sandbox === false ? false : undefined,
    explain: raw.explain === false ? false : undefined,
    bundle: text(raw.bundle),
    key: text(raw.key),
    passphraseEnv: text(raw.passphraseEnv),
    builderId: text(raw.builderId),
    statement: text(raw.statement),
    keyless: raw.keyless === true ? true : undefined,
    identityTokenFile: text(raw.identityTokenFile),
    fulcioUrl: text(raw.fulcioUrl),
    rekorUrl: text(raw.rekorUrl),
    tsaUrl: text(raw.tsaUrl),
    trustedRoot: text(raw.trustedRoot),
    signTimeout: text(raw.signTimeout),
    signRetries: text(raw.signRetries),
  }
}
