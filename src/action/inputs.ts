import { ReproofError } from '../errors.js'
import { forkRunWithBaseIdentity, hasIdentityToken, isForkPullRequest } from './fork.js'

/**
 * Reads an action input. The runner passes INPUT_<NAME>, upper case, hyphens kept;
 * the underscored spelling is accepted too, for callers (shells) that cannot set a
 * variable whose name holds a hyphen, but only alone. The runner sets every declared
 * input, to its default or to '', so a workflow's `builder_id:` arrives beside an
 * empty `builder-id` (and `require_reproduced: true` beside `require-reproduced:
 * false`): read as the hyphenated one, the check it asked for was silently not made.
 */
export function input(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): string | undefined {
  const key = `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
  const underscoredKey = key.replace(/-/g, '_')
  const underscored = underscoredKey === key ? undefined : env[underscoredKey]
  if (env[key] !== undefined && underscored !== undefined && underscored.trim() !== '')
    throw misspelled(name)
  const value = (env[key] ?? underscored)?.trim()
  return value === undefined || value === '' ? undefined : value
}

function misspelled(name: string): ReproofError {
  const underscored = name.replace(/-/g, '_')
  return new ReproofError(
    'E_USAGE',
    `input ${underscored}: this action's input is ${name}, with hyphens; ${underscored} is another input, which nothing reads (and ${name} keeps its default)`,
  )
}

/** A list input: one item per line (a comma may be part of a glob: `out/*.{txt,md}`). */
export function list(env: Readonly<Record<string, string | undefined>>, name: string): string[] {
  return (input(env, name) ?? '')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

// What @actions/core's getBooleanInput takes: the YAML 1.2 core schema's booleans.
const TRUE = ['true', 'True', 'TRUE']
const FALSE = ['false', 'False', 'FALSE']

export function flag(env: Readonly<Record<string, string | undefined>>, name: string): boolean {
  const value = input(env, name)
  if (value === undefined || FALSE.includes(value)) return false
  if (TRUE.includes(value)) return true
  throw new ReproofError(
    'E_USAGE',
    `input ${name}: "${value}" is not a boolean (true, True, TRUE, false, False or FALSE)`,
  )
}

type Env = Readonly<Record<string, string | undefined>>

/** The command line the inputs make, and which input each of its flags came from. */
export interface ActionArgv {
  mode: 'build' | 'verify' | 'gate'
  argv: string[]
  /** For messages: `--out-dir` is input `out-dir`, `--env` in gate mode is `environment`. */
  inputOf: Map<string, string>
  /** What the inputs asked for that will not happen, and why: said as notices. */
  notices: string[]
  /** Build: store the signed bundle with GitHub's attestations (see attestation-upload.ts). */
  upload: boolean
}

/**
 * Maps the action's inputs to the command line of the same reproof command, so the
 * action and the CLI share one parser, one runner and one set of checks.
 */
export function toArgv(env: Env): ActionArgv {
  const mode = input(env, 'mode') ?? 'build'
  const args = new Args(env)
  if (mode === 'build') buildArgv(args)
  else if (mode === 'verify') verifyArgv(args)
  else if (mode === 'gate') gateArgv(args)
  else throw new ReproofError('E_USAGE', `input mode: "${mode}" is not build, verify or gate`)
  refuseUnused(env, mode, args)
  return {
    mode,
    argv: args.argv,
    inputOf: args.inputOf,
    notices: args.notices,
    upload: args.upload,
  }
}

// Set for every step by the runner (action.yml's defaults), whatever the mode.
const ALWAYS_SET = new Set(['mode', 'github-token'])

/**
 * An input given that this mode does not read is an error, not a silence: `source` in
 * verify mode (meant as `source-uri`) was dropped, and the answer was "verified" with
 * a requirement nobody checked. A boolean left false, as action.yml's defaults set
 * every one, asks for nothing.
 */
function refuseUnused(env: Env, mode: string, args: Args): void {
  const read = new Set([...args.inputOf.values(), ...args.read])
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('INPUT_') || value === undefined || value.trim() === '') continue
    const name = key.slice('INPUT_'.length).toLowerCase().replace(/_/g, '-')
    // The underscored spelling beside the runner's own (an input always set, which
    // the checks below let through): see input().
    if (key.includes('_', 'INPUT_'.length) && env[`INPUT_${name.toUpperCase()}`] !== undefined)
      throw misspelled(name)
    if (read.has(name) || ALWAYS_SET.has(name) || FALSE.includes(value.trim())) continue
    if (name === 'gate-action' && value.trim() === 'deploy') continue
    throw new ReproofError(
      'E_USAGE',
      `input ${name}: not used in ${mode} mode; nothing would check or apply it`,
    )
  }
}

/** A command line built from inputs, remembering which input gave which flag. */
class Args {
  readonly argv: string[] = []
  readonly inputOf = new Map<string, string>()
  readonly notices: string[] = []
  /** Inputs this mode reads itself, beside those that become flags. */
  readonly read = new Set<string>()
  upload = false

  constructor(readonly env: Env) {}

  /** An input this mode reads itself. */
  get(name: string): string | undefined {
    this.read.add(name)
    return input(this.env, name)
  }

  /** Plain words: the subcommand, `--json`. */
  add(...words: string[]): void {
    this.argv.push(...words)
  }

  /** `--name value` when the input is set. */
  opt(name: string, cli = `--${name}`): void {
    this.inputOf.set(cli, name)
    const value = input(this.env, name)
    if (value !== undefined) this.argv.push(cli, flagValue(name, value))
  }

  /** `--name value`, and a usage error naming the input when it is not set. */
  need(name: string, when: string, cli = `--${name}`): void {
    if (input(this.env, name) === undefined)
      throw new ReproofError('E_USAGE', `input ${name}: required ${when}`)
    this.opt(name, cli)
  }

  /** `--name` when the input is true. */
  bool(name: string, cli = `--${name}`): void {
    this.inputOf.set(cli, name)
    if (flag(this.env, name)) this.argv.push(cli)
  }

  /**
   * `--name` or `--no-name`, whichever the input says: the workflow's word, where a
   * source tree's reproof.config.json could otherwise say the other (a pull request's own
   * config turning normalization on made a build that did not reproduce pass).
   */
  either(name: string): void {
    this.inputOf.set(`--${name}`, name)
    this.inputOf.set(`--no-${name}`, name)
    this.argv.push(flag(this.env, name) ? `--${name}` : `--no-${name}`)
  }

  /** `--name item` for each line of the input. */
  each(name: string, cli = `--${name}`): string[] {
    this.inputOf.set(cli, name)
    const items = list(this.env, name)
    for (const item of items) this.argv.push(cli, flagValue(name, item))
    return items
  }
}

/**
 * A flag's value, never `--`: the CLI would take it as the value, but the Action reads
 * its own command line up to the first `--` (the build command's start) to find a flag
 * and to put the default report before it, and would misplace both.
 */
function flagValue(name: string, value: string): string {
  if (value === '--')
    throw new ReproofError('E_USAGE', `input ${name}: "--" is not a value it takes`)
  return value
}

const SIGNING_INPUTS = [
  'builder-id',
  'upload-attestation',
  'github-token',
  'bundle',
  'key',
  'passphrase-env',
  'keyless',
  'fulcio-url',
  'rekor-url',
  'tsa-url',
  'trusted-root',
]

function buildArgv(args: Args): void {
  const command = args.get('command')
  if (command === undefined)
    throw new ReproofError('E_USAGE', 'input command: required in build mode')
  args.read.add('outputs')
  if (list(args.env, 'outputs').length === 0)
    throw new ReproofError('E_USAGE', 'input outputs: at least one glob is required in build mode')
  args.add('build', '--json')
  args.opt('source')
  args.each('outputs', '--out')
  args.opt('epoch')
  args.opt('out-dir')
  args.opt('record')
  args.opt('report')
  args.each('env')
  args.each('vary')
  args.each('no-vary')
  args.each('exclude')
  args.bool('keep')
  // The verdict of a build whose runs overlapped recommends it, by this input's name.
  args.bool('sequential')
  // A pull request from a fork gets no OIDC token: it is built and reported, unsigned,
  // and the notice says so (the outputs say signed: false), rather than failing a
  // contributor's check for what they cannot change.
  // Read in build mode whether or not a fork's pull request lets them sign.
  for (const name of SIGNING_INPUTS) args.read.add(name)
  const upload = flag(args.env, 'upload-attestation')
  if (
    upload &&
    (input(args.env, 'bundle') === undefined || input(args.env, 'github-token') === undefined)
  )
    throw new ReproofError(
      'E_USAGE',
      'input upload-attestation: needs input bundle (with key or keyless) and input github-token',
    )
  // Contradictory signing inputs are refused everywhere, a fork's pull request included,
  // where they would otherwise be dropped with the rest and the step pass.
  const keyless = flag(args.env, 'keyless')
  const key = input(args.env, 'key')
  if (keyless && key !== undefined)
    throw new ReproofError('E_USAGE', 'input key and input keyless: give exactly one')
  // GitHub's attestations are checked (gh attestation verify) against a certificate's
  // identity: a bundle signed with a key would be stored, named by an id and a URL,
  // and verified by no one who looks there.
  if (upload && key !== undefined)
    throw new ReproofError(
      'E_USAGE',
      'input upload-attestation: needs keyless signing; a bundle signed with input key is not one gh attestation verify can check',
    )
  const otherMethod = keyless
    ? ['passphrase-env']
    : key === undefined
      ? []
      : ['fulcio-url', 'rekor-url', 'tsa-url', 'trusted-root']
  for (const name of otherMethod)
    if (input(args.env, name) !== undefined)
      throw new ReproofError(
        'E_USAGE',
        `input ${name}: applies to ${keyless ? 'key' : 'keyless'} signing only; it was given with input ${keyless ? 'keyless' : 'key'}`,
      )
  const signing = keyless || key !== undefined
  const forkRun = signing ? forkRunWithBaseIdentity(args.env) : undefined
  // A fork's pull request is the fork's code whatever signs it: a key on a self-hosted
  // runner's disk, or an OIDC token a repository's settings hand to forks, signed it as
  // this repository.
  const forkPullRequest = signing && isForkPullRequest(args.env)
  if (forkPullRequest || forkRun !== undefined) {
    // Every signing input given is named as not applied, not only the signature.
    const dropped = [
      'key',
      'passphrase-env',
      'upload-attestation',
      'builder-id',
      'fulcio-url',
      'rekor-url',
      'tsa-url',
      'trusted-root',
    ].filter((name) =>
      name === 'upload-attestation' ? upload : input(args.env, name) !== undefined,
    )
    const why =
      forkRun === undefined
        ? `a pull request from a fork runs the fork's code; signing it would vouch for that code as this repository${keyless && !hasIdentityToken(args.env) ? ' (and it gets no OIDC token)' : ''}`
        : `${forkRun === 'issue_comment' ? "an issue_comment run on a pull request (a fork's, for all the event says)" : `a ${forkRun} run for a fork's change`} holds this repository's identity and secrets, and its code may be the fork's; signing it would vouch for that code as this repository (sign in a workflow of this repository's own events: push, release, workflow_dispatch)`
    args.notices.push(
      `${why}, so this build is checked and reported but not signed (no bundle is written${dropped.length > 0 ? `; not applied: ${dropped.map((n) => `input ${n}`).join(', ')}` : ''})`,
    )
  } else {
    args.upload = upload
    args.opt('builder-id')
    args.opt('bundle')
    args.opt('key')
    args.opt('passphrase-env')
    args.bool('keyless')
    args.opt('fulcio-url')
    args.opt('rekor-url')
    args.opt('tsa-url')
    args.opt('trusted-root')
  }
  args.opt('timeout')
  args.either('normalize')
  args.bool('network')
  args.bool('require-sandbox')
  args.add('--', 'sh', '-c', command)
}

function verifyArgv(args: Args): void {
  args.read.add('artifacts')
  if (list(args.env, 'artifacts').length === 0)
    throw new ReproofError('E_USAGE', 'input artifacts: at least one is required in verify mode')
  args.add('verify', '--json')
  args.need('bundle', 'in verify mode')
  trustArgv(args)
  // After `--`: a line of the input is a file, never an option (`--help` verified
  // nothing and passed; `--key=other.pub` added a key the workflow did not trust). Nor
  // a digest: the CLI reads `sha256:<hex>` as one, so a file of that name (whatever it
  // holds) would pass unread as the digest it is named after; `./` keeps it a path.
  args.add(
    '--',
    ...list(args.env, 'artifacts').map((line) =>
      /^sha(256|512):/i.test(line) ? `./${line}` : line,
    ),
  )
}

function gateArgv(args: Args): void {
  // A release is gated by this repository's own events: a run for a fork's change (its
  // code, perhaps with this repository's ledger token) could record any artifact ever
  // signed, an older release among them.
  const fork = isForkPullRequest(args.env)
    ? 'a pull request from a fork'
    : forkRunWithBaseIdentity(args.env)
  if (fork !== undefined)
    throw new ReproofError(
      'E_USAGE',
      `mode gate: this is ${fork === 'a pull request from a fork' ? fork : `a ${fork} run for a fork's change`}, whose code may be the fork's; gate releases in a workflow of this repository's own events (push, release, workflow_dispatch)`,
    )
  const action = args.get('gate-action') ?? 'deploy'
  if (action !== 'deploy' && action !== 'rollback')
    throw new ReproofError('E_USAGE', `input gate-action: "${action}" is not deploy or rollback`)
  // A deploy records one artifact; a rollback names its digest with `to`, and an
  // artifact given to it would be checked by nothing.
  if (action === 'deploy') args.read.add('artifacts')
  const artifacts = list(args.env, 'artifacts')
  const artifact = artifacts[0]
  if (action === 'deploy' && artifact === undefined)
    throw new ReproofError(
      'E_USAGE',
      'input artifacts: the artifact to deploy is required in gate mode',
    )
  if (action === 'deploy' && artifacts.length > 1)
    throw new ReproofError(
      'E_USAGE',
      `input artifacts: a deploy records one artifact, and ${artifacts.length} were given; use one gate step per artifact`,
    )
  // Read by the action itself (see ledger-token.ts), never put on a command line.
  args.get('ledger-token')
  args.add('gate', action, '--json')
  args.need('environment', 'in gate mode', '--env')
  // Named, never the default in the workspace: a ledger that goes with the job's runner
  // forgets every release, and a superseded one is "recorded" again in the next job.
  args.need('ledger', 'in gate mode (a path or git URL that outlives the job)')
  args.opt('state-dir')
  if (action === 'deploy') args.need('bundle', 'for a deploy')
  else args.opt('bundle')
  trustArgv(args)
  if (action === 'rollback') {
    args.need('to', 'for a rollback')
    args.need('reason', 'for a rollback')
  } else args.add('--', artifact ?? '')
}

/** The inputs of verification's trust and policy given as `--<name> <value>`, as the CLI names them. */
export const TRUST_INPUTS = [
  'certificate-identity',
  'certificate-identity-regexp',
  'certificate-oidc-issuer',
  'certificate-oidc-issuer-regexp',
  'trusted-root',
  'builder-id',
  'source-uri',
  'source-ref',
  'source-ref-regexp',
  'source-digest',
  'repo',
  'owner',
  'signer-workflow',
  'signer-repo',
  'signer-digest',
  'predicate-type',
  'max-age',
  'policy',
] as const

/** What verification trusts and requires, as verify and the gate both take it. */
function trustArgv(args: Args): void {
  args.each('public-key', '--key')
  for (const name of TRUST_INPUTS) args.opt(name)
  args.bool('deny-self-hosted-runners')
  args.bool('require-reproduced')
  args.bool('require-stated-by-build')
}

/**
 * A message of the CLI's in the Action's words: each flag that an input gave is named
 * as that input (`--out-dir x: …` reads `input out-dir x: …`).
 */
export function inInputTerms(message: string, inputOf: ReadonlyMap<string, string>): string {
  return message.replace(/(^|[\s(`'"])(--?[a-z][a-z-]*)\b/g, (whole, lead: string, cli: string) => {
    const name = inputOf.get(cli)
    return name === undefined ? whole : `${lead}input ${name}`
  })
}
