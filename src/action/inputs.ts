import { ReproofError } from '../errors.js'

/**
 * Reads an action input. The runner passes INPUT_<NAME>, upper case, hyphens kept;
 * the underscored spelling is accepted too, for callers (shells) that cannot set a
 * variable whose name holds a hyphen.
 */
export function input(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): string | undefined {
  const key = `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
  const value = (env[key] ?? env[key.replace(/-/g, '_')])?.trim()
  return value === undefined || value === '' ? undefined : value
}

export function list(env: Readonly<Record<string, string | undefined>>, name: string): string[] {
  return (input(env, name) ?? '')
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

export function flag(env: Readonly<Record<string, string | undefined>>, name: string): boolean {
  const value = input(env, name)
  if (value === undefined || value === 'false') return false
  if (value === 'true') return true
  throw new ReproofError('E_USAGE', `input ${name}: "${value}" is not true or false`)
}

type Env = Readonly<Record<string, string | undefined>>

/**
 * Maps the action's inputs to the command line of the same reproof command, so the
 * action and the CLI share one parser, one runner and one set of checks.
 */
export function toArgv(env: Env): { mode: 'build' | 'verify' | 'gate'; argv: string[] } {
  const mode = input(env, 'mode') ?? 'build'
  if (mode === 'build') return { mode, argv: buildArgv(env) }
  if (mode === 'verify') return { mode, argv: verifyArgv(env) }
  if (mode === 'gate') return { mode, argv: gateArgv(env) }
  throw new ReproofError('E_USAGE', `input mode: "${mode}" is not build, verify or gate`)
}

/** `--name value` when the input is set, else nothing. */
function opt(env: Env, name: string, cli = `--${name}`): string[] {
  const value = input(env, name)
  return value === undefined ? [] : [cli, value]
}

/** `--name` when the input is true. */
function bool(env: Env, name: string, cli = `--${name}`): string[] {
  return flag(env, name) ? [cli] : []
}

function buildArgv(env: Env): string[] {
  const command = input(env, 'command')
  if (command === undefined)
    throw new ReproofError('E_USAGE', 'input command: required in build mode')
  const outputs = list(env, 'outputs')
  if (outputs.length === 0)
    throw new ReproofError('E_USAGE', 'input outputs: at least one glob is required in build mode')
  return [
    'build',
    '--json',
    ...opt(env, 'source'),
    ...outputs.flatMap((o) => ['-o', o]),
    ...opt(env, 'epoch'),
    ...opt(env, 'out-dir'),
    ...opt(env, 'record'),
    ...opt(env, 'report'),
    ...opt(env, 'bundle'),
    ...opt(env, 'key'),
    ...bool(env, 'keyless'),
    ...opt(env, 'fulcio-url'),
    ...opt(env, 'rekor-url'),
    ...opt(env, 'tsa-url'),
    ...opt(env, 'builder-id'),
    ...opt(env, 'timeout'),
    ...bool(env, 'normalize'),
    ...bool(env, 'network'),
    ...bool(env, 'require-sandbox'),
    '--',
    'sh',
    '-c',
    command,
  ]
}

function verifyArgv(env: Env): string[] {
  const artifacts = list(env, 'artifacts')
  if (artifacts.length === 0)
    throw new ReproofError('E_USAGE', 'input artifacts: at least one is required in verify mode')
  return ['verify', '--json', ...opt(env, 'bundle'), ...trustArgv(env), ...artifacts]
}

function gateArgv(env: Env): string[] {
  const action = input(env, 'gate-action') ?? 'deploy'
  const common = [
    '--json',
    ...opt(env, 'environment', '--env'),
    ...opt(env, 'ledger'),
    ...opt(env, 'bundle'),
  ]
  if (action === 'deploy') {
    const artifact = list(env, 'artifacts')[0]
    if (artifact === undefined)
      throw new ReproofError(
        'E_USAGE',
        'input artifacts: the artifact to deploy is required in gate mode',
      )
    return ['gate', 'deploy', ...common, ...trustArgv(env), artifact]
  }
  if (action === 'rollback')
    return [
      'gate',
      'rollback',
      ...common,
      ...trustArgv(env),
      ...opt(env, 'to'),
      ...opt(env, 'reason'),
    ]
  throw new ReproofError('E_USAGE', `input gate-action: "${action}" is not deploy or rollback`)
}

/** What verification trusts and requires, as verify and the gate both take it. */
function trustArgv(env: Env): string[] {
  return [
    ...list(env, 'public-key').flatMap((k) => ['--key', k]),
    ...opt(env, 'certificate-identity'),
    ...opt(env, 'certificate-identity-regexp'),
    ...opt(env, 'certificate-oidc-issuer'),
    ...opt(env, 'certificate-oidc-issuer-regexp'),
    ...opt(env, 'trusted-root'),
    ...opt(env, 'builder-id'),
    ...opt(env, 'source-uri'),
    ...opt(env, 'source-ref'),
    ...opt(env, 'source-ref-regexp'),
    ...opt(env, 'source-digest'),
    ...opt(env, 'repo'),
    ...opt(env, 'owner'),
    ...opt(env, 'signer-workflow'),
    ...opt(env, 'signer-repo'),
    ...opt(env, 'signer-digest'),
    ...bool(env, 'deny-self-hosted-runners'),
    ...opt(env, 'predicate-type'),
    ...bool(env, 'require-reproduced'),
    ...opt(env, 'max-age'),
    ...opt(env, 'policy'),
  ]
}
