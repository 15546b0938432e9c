import vm from 'node:vm'

/**
 * A pattern a policy names (`--source-ref-regexp`, a certificate identity pattern, or
 * one a ledger record kept, which anyone who can append may have written) matched
 * against a whole value within a time limit. JavaScript's engine backtracks: a pattern
 * such as `(a|a)*b` takes exponential time on a short input, and one kept in a record
 * held `gate check` for minutes per record. Run in a context of its own with a timeout,
 * the match is stopped and answered as not matching, with the reason.
 */
export const MATCH_TIME_LIMIT_MS = 1000

/** Matched or not; `undecided` when the match was stopped at the time limit. */
export type BoundedMatch = boolean | { undecided: string }

let context: vm.Context | undefined
const TEST = new vm.Script('pattern.test(value)')

/** Whether `pattern`, anchored at both ends, matches all of `value`. */
export function matchesWhole(pattern: string, value: string): BoundedMatch {
  let compiled: RegExp
  try {
    compiled = new RegExp(`^(?:${pattern})$`)
  } catch {
    // The flags are checked before anything runs; a pattern a record kept is not.
    return { undecided: 'not a valid regular expression, so it matches nothing' }
  }
  context ??= vm.createContext({})
  context.pattern = compiled
  context.value = value
  try {
    return TEST.runInContext(context, { timeout: MATCH_TIME_LIMIT_MS }) === true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw err
    return {
      undecided: `the pattern did not finish matching within ${MATCH_TIME_LIMIT_MS / 1000} s (it backtracks without end on this value), so it is taken as not matching`,
    }
  } finally {
    context.pattern = undefined
    context.value = undefined
  }
}
