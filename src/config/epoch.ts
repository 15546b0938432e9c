import { ReproofError } from '../errors.js'

export type EpochSource = 'flag' | 'config' | 'environment' | 'git' | 'default'

export interface Epoch {
  value: number
  source: EpochSource
}

// The largest value that every consumer we know of accepts: tar, zip and gcc all
// handle times up to the year 9999, and beyond that the value is surely a mistake.
export const MAX_EPOCH = 253402300799

/**
 * Parses SOURCE_DATE_EPOCH as reproducible-builds.org specifies it: an ASCII decimal
 * integer, no sign, no spaces, no fraction. Anything else is an error, never a guess.
 */
export function parseEpoch(text: string, what: string): number {
  if (!/^[0-9]+$/.test(text)) {
    throw new ReproofError(
      'E_INPUT',
      `${what}: "${truncate(text)}" is not a non-negative decimal integer (seconds since 1970-01-01T00:00:00Z, digits only)`,
      { found: text, wanted: 'seconds since 1970-01-01T00:00:00Z, digits only' },
    )
  }
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value > MAX_EPOCH) {
    throw new ReproofError('E_INPUT', `${what}: ${truncate(text)} is beyond the year 9999`, {
      found: text,
    })
  }
  return value
}

/** Picks the first epoch that is present, in the documented order of precedence. */
export function chooseEpoch(candidates: {
  flag?: string | undefined
  config?: number | undefined
  environment?: string | undefined
  gitCommitTime?: number | undefined
}): Epoch {
  if (candidates.flag !== undefined) {
    return { value: parseEpoch(candidates.flag, '--epoch'), source: 'flag' }
  }
  if (candidates.config !== undefined) {
    return {
      value: parseEpoch(String(candidates.config), 'reproof.config.json epoch'),
      source: 'config',
    }
  }
  if (candidates.environment !== undefined) {
    return {
      value: parseEpoch(candidates.environment, 'SOURCE_DATE_EPOCH'),
      source: 'environment',
    }
  }
  if (candidates.gitCommitTime !== undefined) {
    // Checked as any other: a commit dated before 1970 or past the year 9999 (git takes
    // both) made an epoch the record reader, and every tool after it, refuses.
    return {
      value: parseEpoch(
        String(candidates.gitCommitTime),
        "the commit's time (git), taken as the epoch",
      ),
      source: 'git',
    }
  }
  return { value: 0, source: 'default' }
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text
}
