import { readBuildRecordFile } from '../attest/read-record.js'
import { runAttest, type SigningMethod } from '../attest/run-attest.js'
import { positiveInt } from '../config/diff-options.js'
import { parseDuration } from '../config/duration.js'
import { chooseTokenSource } from '../sign/identity.js'
import { maskCommand } from '../sign/secrets.js'
import type { AttestContext } from '../attest/statement.js'
import { EXIT, ReproofError } from '../errors.js'
import { checkOutputFile } from '../io/output-path.js'
import { generateKeyPair, writeKeyPair } from '../sign/keys.js'
import type { AttestFlags, KeygenFlags } from '../config/flags.js'
import type { Streams } from './output.js'

/** `reproof attest`: the CI identity is read here, at the edge, and passed in. */
export async function attestAction(flags: AttestFlags, streams: Streams): Promise<number> {
  const context = builderContext(flags.builderId, streams.env)
  const record = readBuildRecordFile(flags.record)
  checkOutputFile('--bundle', flags.bundle)
  if (flags.statement !== undefined) checkOutputFile('--statement', flags.statement)
  const result = await runAttest(
    record,
    {
      bundle: flags.bundle,
      signing: signingMethod(flags, streams),
      statement: flags.statement,
      sha512From: flags.sha512,
    },
    context,
  )
  if (flags.json === true) {
    streams.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  } else {
    streams.stdout.write(
      `signed ${result.subjects.length} subject(s) with ${result.signer} → ${result.bundle}\n`,
    )
    for (const s of result.subjects)
      streams.stdout.write(`  ${s.name}  sha256:${s.digest.sha256 ?? ''}\n`)
  }
  return EXIT.yes
}

/** Exactly one of --key and --keyless; the keyless settings are validated here. */
export function signingMethod(
  flags: Pick<
    AttestFlags,
    | 'key'
    | 'keyless'
    | 'passphraseEnv'
    | 'identityTokenFile'
    | 'fulcioUrl'
    | 'rekorUrl'
    | 'tsaUrl'
    | 'timeout'
    | 'retries'
  >,
  streams: Streams,
): SigningMethod {
  const env = streams.env
  if ((flags.key === undefined) === (flags.keyless !== true))
    throw new ReproofError('E_USAGE', 'give exactly one of --key <file> and --keyless')
  if (flags.key !== undefined)
    return { kind: 'key', key: flags.key, passphrase: passphraseFrom(flags.passphraseEnv, env) }
  for (const [flag, url] of [
    ['--fulcio-url', flags.fulcioUrl],
    ['--rekor-url', flags.rekorUrl],
    ['--tsa-url', flags.tsaUrl],
  ] as const) {
    if (url !== undefined && !/^https?:\/\/[^\s]+$/.test(url))
      throw new ReproofError('E_USAGE', `${flag} ${url}: not an http(s) URL`)
  }
  return {
    kind: 'keyless',
    options: {
      tokenSource: chooseTokenSource(env, flags.identityTokenFile),
      fulcioUrl: flags.fulcioUrl,
      rekorUrl: flags.rekorUrl,
      tsaUrl: flags.tsaUrl,
      timeoutMs: parseDuration(flags.timeout, '--timeout'),
      retries: positiveInt(flags.retries === '0' ? undefined : flags.retries, '--retries', 0),
      // In GitHub Actions the runner masks each token in the log from here on.
      onSecret: (secret) => {
        // On stderr: stdout may be JSON someone parses; the runner reads commands on both.
        const command = maskCommand(secret, env)
        if (command !== '') streams.stderr.write(command)
      },
    },
  }
}

export function keygenAction(flags: KeygenFlags, streams: Streams): number {
  const files = writeKeyPair(
    flags.out,
    generateKeyPair(passphraseFrom(flags.passphraseEnv, streams.env)),
  )
  streams.stdout.write(`wrote ${files.privateFile} (private, mode 0600) and ${files.publicFile}\n`)
  return EXIT.yes
}

export function passphraseFrom(
  variable: string | undefined,
  env: Streams['env'],
): string | undefined {
  if (variable === undefined) return undefined
  const value = env[variable]
  if (value === undefined || value === '') {
    throw new ReproofError(
      'E_USAGE',
      `--passphrase-env ${variable}: the variable is not set or empty`,
    )
  }
  return value
}

/**
 * Who built it. In GitHub Actions the workflow identity; elsewhere --builder-id is
 * required: a silent default would put a made-up identity into signed provenance.
 */
export function builderContext(
  builderId: string | undefined,
  env: Streams['env'],
): Omit<AttestContext, 'sha512'> {
  const inActions =
    env.GITHUB_ACTIONS === 'true' &&
    env.GITHUB_SERVER_URL !== undefined &&
    env.GITHUB_WORKFLOW_REF !== undefined
  const id =
    builderId ??
    (inActions ? `${env.GITHUB_SERVER_URL ?? ''}/${env.GITHUB_WORKFLOW_REF ?? ''}` : undefined)
  if (id === undefined || id === '') {
    throw new ReproofError(
      'E_USAGE',
      '--builder-id is required outside GitHub Actions (for example https://ci.example.com/pipelines/release)',
    )
  }
  const run = env.GITHUB_RUN_ID
  const invocationId =
    inActions && run !== undefined && env.GITHUB_REPOSITORY !== undefined
      ? `${env.GITHUB_SERVER_URL ?? ''}/${env.GITHUB_REPOSITORY}/actions/runs/${run}/attempts/${env.GITHUB_RUN_ATTEMPT ?? '1'}`
      : undefined
  return { builderId: id, ...(invocationId === undefined ? {} : { invocationId }) }
}
