import fs from 'node:fs'
import { withRetries, type Attempt, type Backoff } from '../io/retry.js'
import { ReproofError, unreadable } from '../errors.js'

/** Where an OIDC identity token comes from, decided at the CLI edge from the environment. */
export type TokenSource =
  | { kind: 'github'; url: string; requestToken: string }
  | { kind: 'environment'; token: string }
  | { kind: 'file'; file: string }

/**
 * The variables keyless signing reads its identity from: a token handed over, or the
 * runner's means of asking for one. A build must not see them (its code could sign as us).
 */
export const IDENTITY_TOKEN_VARIABLES = [
  'SIGSTORE_ID_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_URL',
] as const

// A token is a few KB; a "token file" of megabytes is a mistake.
const MAX_TOKEN_BYTES = 64 * 1024

export function chooseTokenSource(
  env: Readonly<Record<string, string | undefined>>,
  tokenFile: string | undefined,
): TokenSource {
  if (tokenFile !== undefined) {
    // Checked now, before a build it would otherwise fail after, and read again when
    // signing: a file something refreshes (a projected service-account token) holds a
    // live token then, where the one read before a long build may have expired.
    // A regular file: a FIFO held the command forever (past Ctrl-C, after the build),
    // and /dev/zero was read until memory ran out.
    // Its shape too, now: said after a build, inside the signer's error, it was exit 3.
    asJwt(readTokenFile(tokenFile), `--identity-token-file ${tokenFile}`)
    return { kind: 'file', file: tokenFile }
  }
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
  if (url !== undefined && requestToken !== undefined) return { kind: 'github', url, requestToken }
  if (env.SIGSTORE_ID_TOKEN !== undefined && env.SIGSTORE_ID_TOKEN !== '')
    return { kind: 'environment', token: asJwt(env.SIGSTORE_ID_TOKEN, 'SIGSTORE_ID_TOKEN') }
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

/**
 * A token file's token: a regular file (opened without blocking, so that a FIFO is
 * refused rather than waited on), of at most 64 KiB, read no further than that.
 */
function readTokenFile(file: string): string {
  const where = `--identity-token-file ${file}`
  const bad = (what: string) => new ReproofError('E_INPUT', `${where}: ${what}`, { path: file })
  let fd: number
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)
  } catch (err) {
    throw unreadable(where, file, err)
  }
  try {
    const stat = fs.fstatSync(fd)
    if (!stat.isFile()) throw bad('not a regular file')
    if (stat.size > MAX_TOKEN_BYTES) throw bad('too large for a token')
    const buffer = Buffer.alloc(MAX_TOKEN_BYTES + 1)
    let length = 0
    for (let n = -1; n !== 0 && length < buffer.length; length += n)
      n = fs.readSync(fd, buffer, length, buffer.length - length, null)
    if (length > MAX_TOKEN_BYTES) throw bad('too large for a token')
    const token = buffer.toString('utf8', 0, length).trim()
    if (token === '') throw bad('empty')
    return token
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * A token given by the user, in the shape an OIDC identity token has (three base64url
 * parts, the middle one a JSON object): anything else failed deep in the signer with a
 * TypeError for a message. What the token says is Fulcio's to judge; its bytes are
 * never shown.
 */
function asJwt(token: string, where: string): string {
  const parts = token.split('.')
  let claims: unknown
  try {
    claims =
      parts.length === 3 && parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))
        ? JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8'))
        : undefined
  } catch {
    claims = undefined
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims))
    throw new ReproofError(
      'E_INPUT',
      `${where}: not an OIDC identity token (a JWT: three base64url parts, the second a JSON object)`,
    )
  return token
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
  // Its shape was checked when the source was chosen.
  if (source.kind === 'environment') return source.token
  if (source.kind === 'file')
    return asJwt(readTokenFile(source.file), `--identity-token-file ${source.file}`)
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
