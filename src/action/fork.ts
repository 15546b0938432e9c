import fs from 'node:fs'

type Env = Readonly<Record<string, string | undefined>>

// An event payload is small; a larger file is not one to trust for this.
const MAX_EVENT_BYTES = 10 * 1024 * 1024

interface RepositoryRef {
  full_name?: string
  fork?: boolean
}

interface EventPayload {
  pull_request?: { head?: { repo?: RepositoryRef | null }; base?: { repo?: RepositoryRef } }
  issue?: { pull_request?: unknown }
  workflow_run?: {
    event?: string
    head_repository?: RepositoryRef | null
    repository?: RepositoryRef
  }
}

// The events of a pull request that run its head's code with the head's (a fork's) token.
const PULL_REQUEST_EVENTS = new Set([
  'pull_request',
  'pull_request_review',
  'pull_request_review_comment',
])

/** The event the runner saved (GITHUB_EVENT_PATH), or undefined when there is none to read. */
function readEvent(env: Env): EventPayload | undefined {
  const file = env.GITHUB_EVENT_PATH
  if (file === undefined || file === '') return undefined
  try {
    if (fs.statSync(file).size > MAX_EVENT_BYTES) return undefined
    return JSON.parse(fs.readFileSync(file, 'utf8')) as EventPayload
  } catch {
    return undefined
  }
}

/** Whether a head repository is not the base one; a deleted head (null) is a fork that is gone. */
function isOtherRepository(head: RepositoryRef | null | undefined, base: string): boolean {
  return head === null || head?.fork === true || head?.full_name !== base
}

/**
 * Whether the workflow runs for a pull request from a fork (`pull_request`, or a review
 * of one): the fork's code, which this repository's key or identity must not sign, and
 * to which GitHub gives no OIDC token by default. Read from the event the runner saved
 * (GITHUB_EVENT_PATH): the head repository is not the base repository.
 */
export function isForkPullRequest(env: Env): boolean {
  if (!PULL_REQUEST_EVENTS.has(env.GITHUB_EVENT_NAME ?? '')) return false
  const pr = readEvent(env)?.pull_request
  const base = pr?.base?.repo?.full_name
  if (pr === undefined || base === undefined) return false
  return isOtherRepository(pr.head?.repo, base)
}

/**
 * The event, when the workflow runs with the base repository's secrets and identity for
 * a fork's change: `pull_request_target` for a fork's pull request, `workflow_run` after
 * a run of one, `issue_comment` on any pull request (its head repository is not said). A workflow that checks the fork's code out there builds it, and would
 * sign it, as the base repository (GitHub's "pwn request"). An event of either name
 * that cannot be read is taken for such a run: the runner always saves it.
 */
export function forkRunWithBaseIdentity(env: Env): string | undefined {
  const name = env.GITHUB_EVENT_NAME
  // A comment on a pull request runs as the base repository too, and such workflows
  // often check the pull request's head out; whose it is the event does not say (no
  // head repository), so any pull request's counts.
  if (name === 'issue_comment') {
    const event = readEvent(env)
    return event === undefined || event.issue?.pull_request !== undefined ? name : undefined
  }
  if (name !== 'pull_request_target' && name !== 'workflow_run') return undefined
  const event = readEvent(env)
  if (name === 'pull_request_target') {
    const pr = event?.pull_request
    const base = pr?.base?.repo?.full_name
    if (pr === undefined || base === undefined) return name
    return isOtherRepository(pr.head?.repo, base) ? name : undefined
  }
  const run = event?.workflow_run
  const base = run?.repository?.full_name
  if (run === undefined || base === undefined) return name
  // After a run that had the base's identity for a fork's change, the head is the base's
  // whatever code that run checked out.
  if (run.event === 'pull_request_target' || run.event === 'issue_comment') return name
  return isOtherRepository(run.head_repository, base) ? name : undefined
}

/** Whether the runner offers an OIDC token (or one was handed over). */
export function hasIdentityToken(env: Env): boolean {
  return (
    (env.ACTIONS_ID_TOKEN_REQUEST_URL !== undefined &&
      env.ACTIONS_ID_TOKEN_REQUEST_TOKEN !== undefined) ||
    (env.SIGSTORE_ID_TOKEN !== undefined && env.SIGSTORE_ID_TOKEN !== '')
  )
}
