import fs from 'node:fs'
import { ReproofError } from '../errors.js'
import { toDisplayText } from '../file-names.js'
import { withRetries, type Attempt, type Backoff } from '../io/retry.js'
import { MAX_BUNDLE_BYTES } from '../verify/run-verify.js'

type Env = Readonly<Record<string, string | undefined>>

export interface StoredAttestation {
  id: string
  url: string
}

export interface UploadOptions {
  timeoutMs: number
  retries: number
  /** The clock's part of the backoff, for tests. */
  wait?: (ms: number) => Promise<void>
  /** Ctrl-C or a cancelled job: stop, the outcome unknown. */
  signal?: AbortSignal
}

const BACKOFF: Backoff = { firstMs: 1000, factor: 2, maxMs: 8000 }

/**
 * Stores a signed bundle with the repository's attestations on GitHub (as
 * actions/attest-build-provenance does), where `gh attestation verify` finds it. Server
 * errors and timeouts are tried again; a refusal is final and says which permission is
 * missing. When no answer comes, whether it was stored is unknown (E_AMBIGUOUS): storing
 * the same bundle again is harmless, so a retry is safe.
 */
export async function uploadAttestation(
  bundleFile: string,
  env: Env,
  token: string,
  options: UploadOptions,
): Promise<StoredAttestation> {
  // 1. Parse and validate: what is sent, and where.
  const repository = env.GITHUB_REPOSITORY
  if (repository === undefined || !/^[\w.-]+\/[\w.-]+$/.test(repository))
    throw new ReproofError(
      'E_USAGE',
      'input upload-attestation: GITHUB_REPOSITORY is not set to owner/repo (run it in GitHub Actions)',
    )
  const api = (env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/+$/, '')
  const server = (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, '')
  const size = fs.statSync(bundleFile).size
  if (size > MAX_BUNDLE_BYTES)
    throw new ReproofError('E_INPUT', `${bundleFile}: ${size} bytes, too large for a bundle`)
  const bundle = JSON.parse(fs.readFileSync(bundleFile, 'utf8')) as unknown
  const body = JSON.stringify({ bundle })

  // 2. Send, with retries on what may pass.
  const { request } = await import('undici')
  const outcome = await withRetries(
    options.retries + 1,
    BACKOFF,
    async (): Promise<Attempt<StoredAttestation, string>> => {
      let status: number
      let text: string
      throwIfStopped(options.signal, bundleFile)
      try {
        const response = await request(`${api}/repos/${repository}/attestations`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/vnd.github+json',
            'content-type': 'application/json',
            'x-github-api-version': '2022-11-28',
            'user-agent': 'reproof',
          },
          body,
          headersTimeout: options.timeoutMs,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          bodyTimeout: options.timeoutMs,
        })
        status = response.statusCode
        text = await response.body.text()
      } catch (err) {
        throwIfStopped(options.signal, bundleFile)
        return { again: (err as Error).message }
      }
      if (status >= 500 || status === 429) return { again: `HTTP ${status}` }
      if (status !== 201 && status !== 200)
        throw new ReproofError(
          'E_ENVIRONMENT',
          `GitHub's attestations API refused the bundle (HTTP ${status}: ${apiMessage(text)})`,
          {
            hint: 'the job needs "permissions: attestations: write" (and id-token: write to sign)',
          },
        )
      const id = (parseJson(text) as { id?: unknown } | undefined)?.id
      // GitHub's ids are positive integers; anything else (0, text, a line break that
      // would reach an output and the summary) is no answer to trust.
      if (
        !(typeof id === 'number' && Number.isSafeInteger(id) && id > 0) &&
        !(typeof id === 'string' && /^[1-9][0-9]{0,15}$/.test(id))
      )
        throw new ReproofError(
          'E_AMBIGUOUS',
          `GitHub's attestations API answered HTTP ${status} without an id it could be (a positive integer); whether the bundle was stored is unknown, a retry is safe`,
        )
      return { done: { id: String(id), url: `${server}/${repository}/attestations/${String(id)}` } }
    },
    options.wait,
  )
  if (outcome.ok) return outcome.value
  throw new ReproofError(
    'E_AMBIGUOUS',
    `GitHub's attestations API did not answer (${outcome.reasons.at(-1) ?? 'no attempt'}); the bundle is signed and kept at ${bundleFile}, whether it was stored is unknown, and a retry is safe`,
  )
}

/** Stopped by a signal: whether the bundle was stored is unknown (it may have been sent). */
function throwIfStopped(signal: AbortSignal | undefined, bundleFile: string): void {
  if (signal?.aborted === true)
    throw new ReproofError(
      'E_INTERRUPTED',
      `interrupted while storing the bundle with GitHub's attestations; the bundle is signed and kept at ${bundleFile}, whether it was stored is unknown, and a retry is safe`,
    )
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/** The API's own message, if it gave one, shown as text of a bounded length. */
function apiMessage(text: string): string {
  const message = (parseJson(text) as { message?: unknown } | undefined)?.message
  const said = typeof message === 'string' ? message : text
  // Control characters (a terminal's escapes) shown escaped, never raw.
  return toDisplayText(said.slice(0, 200)) || 'no message'
}
