import { ReproofError } from '../errors.js'
import { GitLedger, parseGitLedgerSpec } from './git-ledger.js'
import { FileLedger, type Ledger } from './ledger.js'
import type { LedgerPlace } from '../config/gate-options.js'

/**
 * `git:<url>#<branch>` is a ledger on a git branch; a path is a local file. What looks
 * like a URL but is not `git:` (`GIT:…`, `https://…`, `file://…`) is refused: read as a
 * path it was a new, empty ledger below the current directory, where a superseded
 * release was "recorded" as #1.
 */
export function openLedger(spec: string, place: LedgerPlace): Ledger {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(spec)?.[1]
  if (scheme !== undefined && scheme !== 'git')
    throw new ReproofError(
      'E_USAGE',
      `--ledger ${spec}: "${scheme}:" is not a ledger scheme; a ledger on a git branch is git:<url>#<branch> (git: in lower case), a local file a path (./${spec} for a file name with a colon)`,
    )
  if (spec.startsWith('git:')) {
    const { url, branch } = parseGitLedgerSpec(spec)
    return GitLedger.open(url, branch, place.stateDir, place.callerEnv)
  }
  return new FileLedger(spec, undefined, place.stateDir)
}
