import path from 'node:path'
import * as v from 'valibot'
import { compareBytes } from '../canonical.js'
import { ReproofError } from '../errors.js'
import { toDisplayText } from '../file-names.js'
import { compileGlob, findClimb } from '../globs.js'
import { canonicalFile } from '../io/output-path.js'
import { parseDuration } from './duration.js'
import { resolveVariations, splitList, type VariationName } from './variations.js'

/** Flags as commander hands them over: all optional, all unvalidated. */
/** Where normalization was asked for, as the record and the verdict name it. */
export type NormalizeBy = '--normalize' | 'reproof.config.json'

export interface BuildFlags {
  source?: string
  out?: string[]
  epoch?: string
  json?: boolean
  outDir?: string
  record?: string
  report?: string
  env?: string[]
  timeout?: string
  keep?: boolean
  sequential?: boolean
  vary?: string[]
  noVary?: string[]
  exclude?: string[]
  tempDir?: string
  normalize?: boolean
  network?: boolean
  requireSandbox?: boolean
  sandbox?: boolean
  explain?: boolean
  bundle?: string
  key?: string
  passphraseEnv?: string
  builderId?: string
  statement?: string
  keyless?: boolean
  identityTokenFile?: string
  fulcioUrl?: string
  rekorUrl?: string
  tsaUrl?: string
  trustedRoot?: string
  signTimeout?: string
  signRetries?: string
  /** Which signing options with a default were given on the command line (camelCase names). */
  signingGiven?: string[]
}

export const CONFIG_FILE = 'reproof.config.json'

const nonEmpty = v.pipe(v.string(), v.minLength(1, 'must not be empty'))
const list = v.pipe(v.array(nonEmpty), v.minLength(1, 'must name at least one'))

/** `reproof.config.json`: the same settings as the flags. Unknown keys are errors. */
export const BuildConfigSchema = v.strictObject({
  command: v.optional(list),
  out: v.optional(list),
  epoch: v.optional(
    v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(0, 'must not be negative')),
  ),
  outDir: v.optional(nonEmpty),
  record: v.optional(nonEmpty),
  report: v.optional(nonEmpty),
  env: v.optional(v.array(nonEmpty)),
  timeout: v.optional(nonEmpty),
  keep: v.optional(v.boolean()),
  sequential: v.optional(v.boolean()),
  vary: v.optional(v.array(v.string())),
  noVary: v.optional(v.array(v.string())),
  exclude: v.optional(v.array(nonEmpty)),
  tempDir: v.optional(nonEmpty),
  normalize: v.optional(v.boolean()),
  network: v.optional(v.boolean()),
  requireSandbox: v.optional(v.boolean()),
  sandbox: v.optional(v.boolean()),
  explain: v.optional(v.boolean()),
})

export type BuildConfig = v.InferOutput<typeof BuildConfigSchema>

export interface EnvRequest {
  name: string
  /** Absent when the value is passed through from reproof's own environment. */
  value?: string
  /** Given in the source tree's reproof.config.json rather than with --env. */
  fromConfig?: true
}

export interface BuildOptions {
  source: string
  command: string[]
  outputs: string[]
  epochFlag: string | undefined
  epochConfig: number | undefined
  json: boolean
  outDir: string
  record: string | undefined
  /** HTML page explaining the differences. */
  report: string | undefined
  /** What the command writes besides (the bundle, the statement): never where an artifact goes. */
  alsoWrites?: { flag: string; file: string | undefined }[]
  /** The files signing uses (the key, the trusted root, the identity token): never where an artifact goes. */
  readsAfter?: { flag: string; file: string | undefined }[]
  env: EnvRequest[]
  timeoutMs: number | undefined
  keep: boolean
  sequential: boolean
  variations: VariationName[]
  /** Variations asked for by name: one that cannot be applied stops the build. */
  explicitVariations: VariationName[]
  /** Default variations a no-vary list turned off, and which list. */
  turnedOff?: { name: VariationName; by: string }[]
  exclude: string[]
  tempDir: string | undefined
  /** Whether tempDir came from the configuration file (made if missing) or the command line. */
  tempDirFromConfig?: boolean
  /**
   * Normalization is part of the build: archive artifacts are normalized in both runs
   * before comparing, and the normalized ones ship. Off by default: the verdict is then
   * about the bytes the build wrote.
   */
  normalize: boolean
  /** What turned normalization on: the flag, or the source tree's own configuration. */
  normalizeBy: NormalizeBy | null
  /** Let the builds reach the network (off by default: a build that downloads is weaker evidence). */
  network: boolean
  /** Run each build in its own namespaces (default); off means process isolation only. */
  sandbox: boolean
  /** Refuse to build (exit 3) where the namespace sandbox cannot be set up. */
  requireSandbox: boolean
  /**
   * When the build does not reproduce, build further pairs to learn which variation
   * causes each difference (twin/attribute.ts). On unless --no-explain.
   */
  explain: boolean
  /**
   * A further pair built to explain a difference: an --out glob that matches in neither
   * of its runs (an artifact the first pair's run B alone made) is no difference there,
   * not bad input.
   */
  unmatchedOutputsAllowed?: true
  /**
   * A further pair built to explain a difference asks only which artifacts differ: its
   * differences are not explained (each pair explained all of them in full, 5 s a pair
   * for 400 differing files).
   */
  namesOnly?: true
  /**
   * Paths the build must not read, covered inside the sandbox (verify --rebuild: the
   * artifacts under verification, so that the command cannot copy them). Absolute, free
   * of symbolic links and newlines. Not set from the command line.
   */
  hide?: readonly string[]
}

// reproof sets these itself for every run; letting --env override them would make the
// build record lie about what the build saw.
const MANAGED_ENV = new Set(['HOME', 'TMPDIR', 'SOURCE_DATE_EPOCH', 'LD_PRELOAD'])

/**
 * Merges flags over the config file and validates everything. Pure: the config file
 * has already been read and parsed, and `cwd` resolves relative paths.
 */
export function toBuildOptions(
  flags: BuildFlags,
  command: readonly string[],
  config: BuildConfig,
  cwd: string,
  configDir: string,
): BuildOptions {
  const source = path.resolve(cwd, flags.source ?? '.')
  refuseLoosening(config, configDir)
  const fromConfig = (p: string | undefined): string | undefined =>
    p === undefined ? undefined : path.resolve(configDir, p)
  const fromFlag = (p: string | undefined): string | undefined =>
    p === undefined ? undefined : path.resolve(cwd, p)

  const finalCommand = commandFrom(command, config)
  const { outputs, exclude } = globsFrom(flags, config, configDir)
  const timeoutText = flags.timeout ?? config.timeout
  if (
    (flags.requireSandbox ?? config.requireSandbox) === true &&
    (flags.sandbox ?? config.sandbox) === false
  ) {
    throw new ReproofError('E_USAGE', '--require-sandbox and --no-sandbox contradict each other')
  }
  const variations = resolveVariations([
    {
      vary: splitList(config.vary ?? [], 'reproof.config.json "vary"'),
      noVary: splitList(config.noVary ?? [], 'reproof.config.json "noVary"'),
      where: 'reproof.config.json',
      noVaryName: 'reproof.config.json "noVary"',
    },
    {
      vary: splitList(flags.vary ?? [], '--vary'),
      noVary: splitList(flags.noVary ?? [], '--no-vary'),
      where: '--vary/--no-vary',
      noVaryName: '--no-vary',
    },
  ])
  return {
    source,
    command: finalCommand,
    outputs,
    epochFlag: flags.epoch,
    epochConfig: config.epoch,
    json: flags.json ?? false,
    outDir: fromFlag(flags.outDir) ?? fromConfig(config.outDir) ?? source,
    record: fromFlag(flags.record) ?? fromConfig(config.record),
    report: fromFlag(flags.report) ?? fromConfig(config.report),
    alsoWrites: [
      { flag: '--bundle', file: fromFlag(flags.bundle) },
      { flag: '--statement', file: fromFlag(flags.statement) },
    ],
    env: mergeEnv(config.env ?? [], flags.env ?? []),
    // Named where it came from: the config's value is not the flag's (nor, in the
    // Action, the workflow's input).
    timeoutMs:
      timeoutText === undefined
        ? undefined
        : parseDuration(
            timeoutText,
            flags.timeout !== undefined
              ? '--timeout'
              : `${path.join(configDir, CONFIG_FILE)} "timeout"`,
          ),
    keep: flags.keep ?? config.keep ?? false,
    sequential: flags.sequential ?? config.sequential ?? false,
    variations: variations.names,
    explicitVariations: variations.explicit,
    turnedOff: variations.turnedOff,
    exclude,
    tempDir: fromFlag(flags.tempDir) ?? fromConfig(config.tempDir),
    tempDirFromConfig: fromFlag(flags.tempDir) === undefined && config.tempDir !== undefined,
    normalize: flags.normalize ?? config.normalize ?? false,
    normalizeBy:
      flags.normalize === true
        ? '--normalize'
        : flags.normalize === undefined && config.normalize === true
          ? 'reproof.config.json'
          : null,
    network: flags.network ?? config.network ?? false,
    sandbox: flags.sandbox ?? config.sandbox ?? true,
    requireSandbox: flags.requireSandbox ?? config.requireSandbox ?? false,
    explain: flags.explain ?? config.explain ?? true,
  }
}

/**
 * The configuration file is part of the source tree, which may be anyone's (a pull
 * request from a fork): it describes the build, but may not loosen what keeps the
 * build from the machine. Turning the sandbox or the network on for a build, passing
 * the caller's variables through, and places outside the tree to write to are for the
 * command line only: a pull request once turned the sandbox off, reached the network,
 * read a CI secret and wrote on the runner, and the result said reproducible.
 */
function refuseLoosening(config: BuildConfig, configDir: string): void {
  const refuse = (what: string, instead: string): never => {
    throw new ReproofError(
      'E_INPUT',
      `${CONFIG_FILE}: ${what}: a source tree may not loosen its own isolation; ${instead}`,
      { path: CONFIG_FILE },
    )
  }
  if (config.sandbox === false) refuse('"sandbox": false', 'pass --no-sandbox on the command line')
  if (config.network === true) refuse('"network": true', 'pass --network on the command line')
  for (const entry of config.env ?? [])
    if (!entry.includes('='))
      refuse(
        `"env" passes ${entry} through from the caller`,
        `pass --env ${entry} on the command line, or give its value here (${entry}=...)`,
      )
  for (const key of ['outDir', 'record', 'report', 'tempDir'] as const) {
    const place = config[key]
    // By text, then where it leads: a link the tree holds (`escape -> /tmp/x`) took
    // `"outDir": "escape"` out of it.
    if (
      place !== undefined &&
      (path.isAbsolute(place) ||
        place.split(/[\\/]/).includes('..') ||
        !within(canonicalFile(configDir), canonicalFile(path.join(configDir, place))))
    )
      refuse(
        `"${key}": ${place} is outside the source tree`,
        `give a path inside it, or pass --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} on the command line`,
      )
  }
}

function within(root: string, target: string): boolean {
  const rel = path.relative(root, target)
  return rel === '' || !(rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel))
}

/** The command after "--", else the config file's; there must be one. */
function commandFrom(command: readonly string[], config: BuildConfig): string[] {
  const chosen = command.length > 0 ? [...command] : (config.command ?? [])
  if (chosen.length === 0) {
    throw new ReproofError(
      'E_USAGE',
      'no build command: give it after "--", as in: reproof build -o out/app -- make',
      { hint: 'or set "command" in reproof.config.json' },
    )
  }
  return chosen
}

/**
 * The artifacts' globs (the flags', else the config file's; at least one) and the
 * exclusions (both), each checked and named by where it came from.
 */
function globsFrom(
  flags: BuildFlags,
  config: BuildConfig,
  configDir: string,
): { outputs: string[]; exclude: string[] } {
  const outFlags = flags.out !== undefined && flags.out.length > 0
  const outputs = (outFlags ? flags.out : config.out) ?? []
  if (outputs.length === 0) {
    throw new ReproofError('E_USAGE', 'no artifacts named: give at least one --out <glob>')
  }
  const inConfig = (key: string): string => `${path.join(configDir, CONFIG_FILE)} "${key}"`
  for (const glob of outputs) validateGlob(glob, outFlags ? '--out' : inConfig('out'))
  for (const glob of config.exclude ?? []) validateGlob(glob, inConfig('exclude'))
  for (const glob of flags.exclude ?? []) validateGlob(glob, '--exclude')
  return { outputs: [...outputs], exclude: [...(config.exclude ?? []), ...(flags.exclude ?? [])] }
}

/** `NAME=VALUE` sets a value; a bare `NAME` passes reproof's own value through. */
export function parseEnvRequest(text: string): EnvRequest {
  const eq = text.indexOf('=')
  const name = eq === -1 ? text : text.slice(0, eq)
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new ReproofError('E_USAGE', `--env ${text}: "${name}" is not a valid variable name`)
  }
  if (MANAGED_ENV.has(name) || name.startsWith('FAKETIME')) {
    throw new ReproofError('E_USAGE', `--env ${name}: reproof sets ${name} for every run itself`, {
      hint: name === 'SOURCE_DATE_EPOCH' ? 'use --epoch' : undefined,
    })
  }
  return eq === -1 ? { name } : { name, value: text.slice(eq + 1) }
}

/** Later entries (flags) win over earlier ones (config) for the same name. */
function mergeEnv(config: readonly string[], flags: readonly string[]): EnvRequest[] {
  const byName = new Map<string, EnvRequest>()
  for (const text of config) {
    const request = parseEnvRequest(text)
    byName.set(request.name, { ...request, fromConfig: true })
  }
  for (const text of flags) {
    const request = parseEnvRequest(text)
    byName.set(request.name, request)
  }
  return [...byName.values()].sort((x, y) => compareBytes(x.name, y.name))
}

/**
 * Globs are matched inside a build root, so they may not climb out of it, not even
 * through brace expansion (`.{.,}` is `..`) or an extglob. Matching checks every path
 * it finds as well; this turns what can be seen in the pattern into a usage error.
 */
function validateGlob(glob: string, what: string): void {
  // An empty glob names nothing (and fast-glob throws on it: an internal error, exit 3).
  if (glob.trim() === '') throw new ReproofError('E_USAGE', `${what}: an empty glob names no file`)
  const climb = path.isAbsolute(glob) || glob.includes('\0') ? glob : findClimb(glob)
  if (climb !== undefined) {
    throw new ReproofError(
      'E_USAGE',
      `${what} ${toDisplayText(glob)}: globs are relative to the build root and may not contain ".."${climb === glob ? '' : ` (it expands to ${toDisplayText(climb)})`}`,
    )
  }
  // fast-glob takes a leading `!` as "ignore"; alone, it matches nothing. Say so now.
  if (glob.startsWith('!') && !glob.startsWith('!(')) {
    throw new ReproofError(
      'E_USAGE',
      `${what} ${toDisplayText(glob)}: negated globs are not supported`,
    )
  }
  compileGlob(glob, what) // refuses a glob whose braces expand too far to be matched
}
