import { ReproofError } from '../errors.js'

/**
 * Parses a file the user gave as JSON; anything else is bad input, named by `label`
 * (the flag and file, as the message should say it) with the parser's reason.
 */
export function parseJsonInput(text: string, label: string, file: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new ReproofError(
      'E_INPUT',
      `${label}: not JSON (${(err as Error).message})`,
      { path: file },
      { cause: err },
    )
  }
}
