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

/**
 * Maps the action's inputs to the command line of the same reproof command, so the
 * action and the CLI share one parser, one runner and one set of checks.
 */
export function toArgv(env: Readonly<Record<string, string | undefined>>): {
  mode: 'build' | 'verify' | 'gate'
  argv: string[]
} {
  const mode = input(env, 'mode') ?? 'build'
  const opt = (name: string, cli = `--${name}`): string[] => {
    const value = input(env, name)
    return value === undefined ? [] : [cli, value]
  }
  const bool = (name: string, cli = `--${name}`): string[] => (flag(env, name) ? [cli] : [])
  const trust = [
    ...list(env, 'public-key').flatMap((k) => ['--key', k]),
    ...opt('certificate-identity'),
    ...opt('certificate-identity-regexp'),
    ...opt('certificate-oidc-issuer'),
    ...opt('certificate-oidc-issuer-regexp'),
    ...opt('trusted-root'),
    ...opt('builder-id'),
    ...opt('source-uri'),
    ...opt('source-ref'),
    ...opt('source-ref-regexp'),
    ...opt('source-digest'),
    ...opt('repo'),
    ...opt('owner'),
    ...opt('signer-workflow'),
    ...opt('signer-repo'),
    ...opt('signer-digest'),
    ...bool('deny-self-hosted-runners'),
    ...opt('predicate-type'),
    ...bool('require-reproduced'),
    ...opt('max-age'),
    ...opt('policy'),
  ]
  if (mode === 'build') {
    const command = input(env, 'command')
    if (command === undefined)
      throw new ReproofError('E_USAGE', 'input command: required in build mode')
    const outputs = list(env, 'outputs')
    if (outputs.length === 0)
      throw new ReproofError(
        'E_USAGE',
        'input outputs: at least one glob is required in build mode',
      )
    return {
      mode,
      argv: [
        'build',
        '--json',
        ...opt('source'),
        ...outputs.flatMap((o) => ['-o', o]),
        ...opt('epoch'),
        ...opt('out-dir'),
        ...opt('record'),
        ...opt('report'),
        ...opt('bundle'),
        ...opt('key'),
        ...bool('keyless'),
        ...opt('fulcio-url'),
        ...opt('rekor-url'),
        ...opt('tsa-url'),
        ...opt('builder-id'),
        ...opt('timeout'),
        ...bool('normalize'),
        ...bool('network'),
        ...bool('require-sandbox'),
        '--',
        'sh',
        '-c',
        command,
      ],
    }
  }
  if (mode === 'verify') {
    const artifacts = list(env, 'artifacts')
    if (artifacts.length === 0)
      throw new ReproofError('E_USAGE', 'input artifacts: at least one is required in verify mode')
    return { mode, argv: ['verify', '--json', ...opt('bundle'), ...trust, ...artifacts] }
  }
  if (mode === 'gate') {
    const action = input(env, 'gate-action') ?? 'deploy'
    const common = ['--json', ...opt('environment', '--env'), ...opt('ledger'), ...opt('bundle')]
    if (action === 'deploy') {
      const artifact = list(env, 'artifacts')[0]
      if (artifact === undefined)
        throw new ReproofError(
          'E_USAGE',
          'input artifacts: the artifact to deploy is required in gate mode',
        )
      return { mode, argv: ['gate', 'deploy', ...common, ...trust, artifact] }
    }
    if (action === 'rollback')
      return {
        mode,
        argv: ['gate', 'rollback', ...common, ...trust, ...opt('to'), ...opt('reason')],
      }
    throw new ReproofError('E_USAGE', `input gate-action: "${action}" is not deploy or rollback`)
  }
  throw new ReproofError('E_USAGE', `input mode: "${mode}" is not build, verify or gate`)
}
