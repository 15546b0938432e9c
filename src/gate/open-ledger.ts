import { GitLedger, parseGitLedgerSpec } from './git-ledger.js'
import { FileLedger, type Ledger } from './ledger.js'

export interface LedgerPlace {
  /** Where this machine keeps what it verified of each ledger; it must outlive the gate. */
  stateDir: string
  /** The caller's environment: a git ledger's remote takes its credentials from it. */
  callerEnv: Readonly<Record<string, string | undefined>>
}

/** `git:<url>#<branch>` is a ledger on a git branch; anything else is a local file. */
export function openLedger(spec: string, place: LedgerPlace): Ledger {
  if (spec.startsWith('git:')) {
    const { url, branch } = parseGitLedgerSpec(spec)
    return GitLedger.open(url, branch, place.stateDir, place.callerEnv)
  }
  return new FileLedger(spec, undefined, place.stateDir)
}
