import fs from 'node:fs'

type Env = Readonly<Record<string, string | undefined>>

// An event payload is small; a larger file is not one to trust for this.
const MAX_EVENT_BYTES = 10 * 1024 * 1024

/**
 * Whether the workflow runs for a pull request from a fork: GitHub gives such runs no
 * OIDC token whatever the job's permissions, so keyless signing cannot happen there.
 * Read from the event the runner saved (GITHUB_EVENT_PATH): the head repository is not
 * the base repository.
 */
export function isForkPullRequest(env: Env): boolean {
  if (env.GITHUB_EVENT_NAME !== 'pull_request') return false
  const file = env.GITHUB_EVENT_PATH
  if (file === undefined || file === '') return false
  try {
    if (fs.statSync(file).size > MAX_EVENT_BYTES) return false
    const event = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      pull_request?: {
        head?: { repo?: { full_name?: string; fork?: boolean } | null }
        base?: { repo?: { full_name?: string } }
      }
    }
    const pr = event.pull_request
    const head = pr?.head?.repo
    const base = pr?.base?.repo?.full_name
    // A deleted head repository (null) is a fork that is gone.
    if (pr === undefined || base === undefined) return false
    return head === null || head?.fork === true || head?.full_name !== base
  } catch {
    return false
  }
}

/** Whether the runner offers an OIDC token (or one was handed over). */
export function hasIdentityToken(env: Env): boolean {
  return (
    (env.ACTIONS_ID_TOKEN_REQUEST_URL !== undefined &&
      env.ACTIONS_ID_TOKEN_REQUEST_TOKEN !== undefined) ||
    (env.SIGSTORE_ID_TOKEN !== undefined && env.SIGSTORE_ID_TOKEN !== '')
  )
}
