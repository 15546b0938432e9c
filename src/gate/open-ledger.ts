import { GitLedger, parseGitLedgerSpec } from './git-ledger.js'
import { FileLedger, type Ledger } from './ledger.js'
import type { LedgerPlace } from '../config/gate-options.js'

/** `git:<url>#<branch>` is a ledger on a git branch; anything else is a local file. */
export function openLedger(spec: string, place: LedgerPlace): Ledger {
  if (spec.startsWith('git:')) {
    const { url, branch } = parseGitLedgerSpec(spec)
    return GitLedger.open(url, branch, place.stateDir, place.callerEnv)
  }
  return new FileLedger(spec, undefined, place.stateDir)
}
