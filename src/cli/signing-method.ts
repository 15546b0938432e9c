import fs from 'node:fs'
import type { SigningMethod } from '../attest/run-attest.js'
import type { AttestContext } from '../attest/statement.js'
import { positiveInt } from '../config/diff-options.js'
import { parseDuration } from '../config/duration.js'
import type { AttestFlags } from '../config/flags.js'
import { ReproofError } from '../errors.js'
import { toDisplayText } from '../file-names.js'
import { chooseTokenSource } from '../sign/identity.js'
import { maskCommand } from '../sign/secrets.js'
import { sigstoreCore } from '../load-cjs.js'
import { utf8String } from '../verify/certificate-facts.js'
import type { Streams } from './output.js'

// The signing flags (cli/signing-options.ts) mapped onto a signing method and a builder,
// for attest and build --bundle. At the edge rather than in config/: they read the CI's
// identity and the OIDC token's sources from the environment, and hand the signer a way
// to mask secrets in the log.

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
    | 'trustedRoot'
    | 'timeout'
    | 'retries'
  >,
  streams: Streams,
  // How the command names them: build's are --sign-timeout and --sign-retries.
  names: { timeout: string; retries: string } = { timeout: '--timeout', retries: '--retries' },
): SigningMethod {
  const env = streams.env
  // Checked whichever the method: a key's signature asks no service, but a value that
  // is no duration or count is bad input all the same (it was taken, with exit 0).
  const timeoutMs = parseDuration(flags.timeout, names.timeout)
  const retries = positiveInt(flags.retries === '0' ? undefined : flags.retries, names.retries, 0)
  if ((flags.key === undefined) === (flags.keyless !== true))
    throw new ReproofError('E_USAGE', 'give exactly one of --key <file> and --keyless')
  // A setting of the other method is refused, not dropped: a --tsa-url given with --key
  // would otherwise sign with no timestamp while the caller believes it has one.
  const otherMethod: [string, unknown][] =
    flags.key !== undefined
      ? [
          ['--fulcio-url', flags.fulcioUrl],
          ['--rekor-url', flags.rekorUrl],
          ['--tsa-url', flags.tsaUrl],
          ['--trusted-root', flags.trustedRoot],
          ['--identity-token-file', flags.identityTokenFile],
        ]
      : [['--passphrase-env', flags.passphraseEnv]]
  for (const [flag, value] of otherMethod)
    if (value !== undefined)
      throw new ReproofError(
        'E_USAGE',
        `${flag} applies to ${flags.key !== undefined ? '--keyless' : '--key'} signing only; it was given with ${flags.key !== undefined ? '--key' : '--keyless'}`,
      )
  if (flags.key !== undefined) {
    const open = keyFileOpenTo(flags.key)
    if (open !== undefined && flags.passphraseEnv === undefined)
      streams.stderr.write(
        `reproof: warning: --key ${toDisplayText(flags.key)}: readable by ${open} and not encrypted: whoever can read it can sign as you (chmod 600 it, or encrypt it with reproof keygen --passphrase-env)\n`,
      )
    return { kind: 'key', key: flags.key, passphrase: passphraseFrom(flags.passphraseEnv, env) }
  }
  for (const [flag, url] of [
    ['--fulcio-url', flags.fulcioUrl],
    ['--rekor-url', flags.rekorUrl],
    ['--tsa-url', flags.tsaUrl],
  ] as const) {
    if (url !== undefined && !/^https?:\/\/[^\s]+$/.test(url))
      throw new ReproofError('E_USAGE', `${flag} ${url}: not an http(s) URL`)
  }
  const workflow = actionsWorkflow(env)
  // The public services' root comes from their TUF repository; other services' only
  // from the user, who alone knows which root they answer to.
  const trustedRoot =
    flags.trustedRoot !== undefined
      ? { file: flags.trustedRoot }
      : flags.fulcioUrl === undefined && flags.rekorUrl === undefined && flags.tsaUrl === undefined
        ? ('public-good' as const)
        : undefined
  return {
    kind: 'keyless',
    options: {
      tokenSource: chooseTokenSource(env, flags.identityTokenFile),
      fulcioUrl: flags.fulcioUrl ?? 'https://fulcio.sigstore.dev',
      rekorUrl: flags.rekorUrl ?? 'https://rekor.sigstore.dev',
      tsaUrl: flags.tsaUrl,
      ...(workflow === undefined
        ? {}
        : { certificateProblem: (pem: string) => workflowProblem(pem, workflow) }),
      verifyBeforeWriting: async (bundle) => {
        const { verifyAsSigned } = await import('../verify/verify-signature.js')
        return verifyAsSigned(bundle, trustedRoot)
      },
      timeoutMs,
      retries,
      // In GitHub Actions the runner masks each token in the log from here on.
      onSecret:
        streams.onSecret ??
        ((secret) => {
          // On stderr: stdout may be JSON someone parses; the runner reads commands on both.
          const command = maskCommand(secret, env)
          if (command !== '') streams.stderr.write(command)
        }),
    },
  }
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
/** The workflow a GitHub Actions job runs (its URL), from the runner's variables; undefined elsewhere. */
function actionsWorkflow(env: Streams['env']): string | undefined {
  const { GITHUB_ACTIONS, GITHUB_SERVER_URL, GITHUB_WORKFLOW_REF } = env
  return GITHUB_ACTIONS === 'true' &&
    GITHUB_SERVER_URL !== undefined &&
    GITHUB_WORKFLOW_REF !== undefined
    ? `${GITHUB_SERVER_URL}/${GITHUB_WORKFLOW_REF}`
    : undefined
}

// Fulcio's Build Config URI: the workflow a GitHub token was issued to (its workflow_ref).
const BUILD_CONFIG_URI = '1.3.6.1.4.1.57264.1.18'

/**
 * Keyless in GitHub Actions, the provenance names the job's workflow as its builder,
 * read from the runner's variables: the certificate must name that workflow too, or a
 * token of another (a fork's) would sign a claim the certificate does not back. Pure
 * but for parsing the certificate.
 */
function workflowProblem(pem: string, workflow: string): string | undefined {
  let named: string | undefined
  try {
    const extension = sigstoreCore().X509Certificate.parse(pem).extension(BUILD_CONFIG_URI)
    named = extension === undefined ? undefined : utf8String(extension.value)
  } catch {
    named = undefined
  }
  if (named === workflow) return undefined
  return `the certificate Fulcio issued names ${named === undefined ? 'no workflow' : `the workflow ${named}`}, not ${workflow}, which GITHUB_WORKFLOW_REF says this job runs and the provenance would name as its builder`
}

export function builderContext(
  builderId: string | undefined,
  env: Streams['env'],
  keyless: boolean,
  attestedBy: AttestContext['attestedBy'],
): Omit<AttestContext, 'sha512'> {
  const workflow = actionsWorkflow(env)
  const inActions = workflow !== undefined
  // Signed keyless in Actions, the certificate names the workflow: a builder id that
  // says another would claim a build the certificate does not vouch for (verify checks
  // the two agree, and would refuse the bundle).
  if (keyless && workflow !== undefined && builderId !== undefined && builderId !== workflow)
    throw new ReproofError(
      'E_USAGE',
      `--builder-id ${builderId}: signed keyless in GitHub Actions, the builder is the workflow the certificate names (${workflow}); leave --builder-id out`,
    )
  const id = builderId ?? workflow
  if (id === undefined || id === '') {
    throw new ReproofError(
      'E_USAGE',
      '--builder-id is required outside GitHub Actions (for example https://ci.example.com/pipelines/release)',
    )
  }
  // SLSA's builder.id is a TypeURI: a verifier matches it as one (`--builder-id` on verify).
  // So is the one made of the runner's variables: `https://` and a workflow ref, never a
  // server URL that is no URL.
  const uri = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s\p{Cc}]+$/u
  if (builderId !== undefined && !uri.test(builderId))
    throw new ReproofError(
      'E_USAGE',
      `--builder-id ${toDisplayText(builderId)}: not a URI; the provenance's builder.id is one (for example https://ci.example.com/pipelines/release)`,
    )
  if (builderId === undefined && !/^https:\/\/[^/\s\p{Cc}]+\/[^\s\p{Cc}]+$/u.test(id))
    throw new ReproofError(
      'E_ENVIRONMENT',
      `GITHUB_SERVER_URL and GITHUB_WORKFLOW_REF make ${toDisplayText(id)}, which is not an https URL of a workflow; the provenance's builder.id is one (give --builder-id)`,
    )
  const run = env.GITHUB_RUN_ID
  const invocationId =
    inActions && run !== undefined && env.GITHUB_REPOSITORY !== undefined
      ? `${env.GITHUB_SERVER_URL ?? ''}/${env.GITHUB_REPOSITORY}/actions/runs/${run}/attempts/${env.GITHUB_RUN_ATTEMPT ?? '1'}`
      : undefined
  return { builderId: id, attestedBy, ...(invocationId === undefined ? {} : { invocationId }) }
}

/** Who besides its owner may read a key file: its group, others, or none (undefined). */
function keyFileOpenTo(file: string): string | undefined {
  let mode: number
  try {
    mode = fs.statSync(file).mode
  } catch {
    // Not there: reading it says so, as bad input.
    return undefined
  }
  if ((mode & 0o004) !== 0) return 'anyone'
  if ((mode & 0o040) !== 0) return 'its group'
  return undefined
}
