import { InvalidArgumentError, type Command } from 'commander'

/**
 * Every option that takes a value, and has no parser of its own (the repeatable ones
 * collect), may be given once, in every command: commander keeps the last of two, so a
 * requirement a script appended after another (a second `--min-version 1` after
 * `--min-version 5`, a second `--ledger`) silently replaced it. A flag in a shared
 * `$REPROOF_FLAGS` and its value again on the command line is a question, not an answer.
 */
export function refuseRepeatedOptions(command: Command): void {
  for (const option of command.options) {
    if (!(option.required || option.optional)) continue
    // A parser of its own collects (a repeatable option), unless it is the one
    // `.choices()` puts there, which checks one value (`--mode compare --mode ship`).
    const own = option.parseArg as ((value: string, previous: unknown) => unknown) | undefined
    if (own !== undefined && (option.argChoices === undefined || option.variadic)) continue
    // Seen, not "a value is there": an option with a default has one before it is given.
    let seen = false
    option.argParser((value: string, previous: unknown) => {
      if (seen) throw new InvalidArgumentError('given twice; give it once')
      seen = true
      return own === undefined ? value : own(value, previous)
    })
  }
  for (const sub of command.commands) refuseRepeatedOptions(sub)
}
