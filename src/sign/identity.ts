import fs from 'node:fs'
import { withRetries, type Attempt, type Backoff } from '../io/retry.js'
import { ReproofError, unreadable } from '../errors.js'

/** Where an OIDC identity token comes from, decided at the CLI edge from the environment. */
export type TokenSource =
  | { kind: 'github'; url: string; requestToken: string }
  | { kind: 'environment'; token: string }
  | { kind: 'file'; file: string }

// A token is a few KB; a "token file" of megabytes is a mistake.
const MAX_TOKEN_BYTES = 64 * 1024

export function chooseTokenSource(
  env: Readonly<Record<string, string | undefined>>,
  tokenFile: string | undefined,
): TokenSource {
  if (tokenFile !== undefined) {
    // Checked now, before a build it would otherwise fail after; read when signing.
    try {
      fs.accessSync(tokenFile, fs.constants.R_OK)
    } catch (err) {
      throw unreadable(`--identity-token-file ${tokenFile}`, tokenFile, err)
    }
    return { kind: 'file', file: tokenFile }
  }
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
  if (url !== undefined && requestToken !== undefined) return { kind: 'github', url, requestToken }
  if (env.SIGSTORE_ID_TOKEN !== undefined && env.SIGSTORE_ID_TOKEN !== '')
    return { kind: 'environment', token: env.SIGSTORE_ID_TOKEN }
  if (env.GITHUB_ACTIONS === 'true') {
    throw new ReproofError(
      'E_USAGE',
      'keyless signing in GitHub Actions needs an OIDC token, and ACTIONS_ID_TOKEN_REQUEST_URL is not set',
      {
        hint: 'add "permissions: id-token: write" to the job',
      },
    )
  }
  throw new ReproofError(
    'E_USAGE',
    'keyless signing needs an OIDC identity token: run in GitHub Actions, set SIGSTORE_ID_TOKEN, or give --identity-token-file',
  )
}

export interface FetchTokenOptions {
  timeoutMs: number
  retries: number
}

/**
 * Gets the identity token. From GitHub Actions it is requested with audience
 * `sigstore`, with a time limit and a few retries with backoff on server errors and
 * timeouts; a 4xx answer is final. The token is never logged.
 */
export async function fetchIdentityToken(
  source: TokenSource,
  options: FetchTokenOptions,
): Promise<string> {
  if (source.kind === 'environment') return source.token
  if (source.kind === 'file') {
    let stat
    try {
      stat = fs.statSync(source.file)
    } catch (err) {
      throw unreadable(`--identity-token-file ${source.file}`, source.file, err)
    }
    if (stat.size > MAX_TOKEN_BYTES)
      throw new ReproofError(
        'E_INPUT',
        `--identity-token-file ${source.file}: too large for a token`,
        { path: source.file },
      )
    const token = fs.readFileSync(source.file, 'utf8').trim()
    if (token === '')
      throw new ReproofError('E_INPUT', `--identity-token-file ${source.file}: empty`, {
        path: source.file,
      })
    return token
  }
  const { request } = await import('undici')
  const url = new URL(source.url)
  url.searchParams.set('audience', 'sigstore')
  const outcome = await withRetries(
    options.retries + 1,
    OIDC_BACKOFF,
    async (): Promise<Attempt<string, string>> => {
      try {
        const response = await request(url, {
          method: 'GET',
          headers: { authorization: `bearer ${source.requestToken}`, accept: 'application/json' },
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
        })
        const text = await response.body.text()
        if (response.statusCode >= 500) return { again: `HTTP ${response.statusCode}` }
        if (response.statusCode !== 200) {
          throw new ReproofError(
            'E_ENVIRONMENT',
            `the GitHub OIDC token endpoint refused the request (HTTP ${response.statusCode})`,
            {
              hint: 'the job needs "permissions: id-token: write"',
            },
          )
        }
        const value = (JSON.parse(text) as { value?: unknown }).value
        if (typeof value !== 'string' || value === '')
          throw new ReproofError(
            'E_ENVIRONMENT',
            'the GitHub OIDC token endpoint answered without a token',
          )
        return { done: value }
      } catch (err) {
        if (err instanceof ReproofError) throw err
        return { again: (err as Error).message }
      }
    },
  )
  if (outcome.ok) return outcome.value
  throw new ReproofError(
    'E_AMBIGUOUS',
    `the GitHub OIDC token endpoint did not answer (${outcome.reasons.at(-1) ?? 'no attempt'}); nothing was signed, a retry is safe`,
  )
}

/** 0.5, 1, 2 and then 4 s between tries, as the signing services' own retries wait. */
const OIDC_BACKOFF: Backoff = { firstMs: 500, factor: 2, maxMs: 4000 }
