import { ReproofError } from '../errors.js'
import { DEFAULT_LIMITS, type DiffLimits } from '../formats/limits.js'

export interface DiffFlags {
  json?: boolean
  markdown?: boolean
  html?: string
  maxLines?: string
  maxBytes?: string
  maxRatio?: string
  maxEntries?: string
  maxDepth?: string
  maxMemberBytes?: string
}

export interface DiffOptions {
  json: boolean
  markdown: boolean
  html: string | undefined
  maxLines: number
  limits: DiffLimits
}

export function toDiffOptions(flags: DiffFlags): DiffOptions {
  if (flags.json === true && flags.markdown === true)
    throw new ReproofError('E_USAGE', '--json and --markdown: choose one view for stdout')
  return {
    json: flags.json ?? false,
    markdown: flags.markdown ?? false,
    html: flags.html,
    maxLines: positiveInt(flags.maxLines, '--max-lines', 200),
    limits: toLimits(flags),
  }
}

/** The work limits flags of `diff` and `normalize`, each defaulting to DEFAULT_LIMITS. */
export type LimitFlags = Pick<
  DiffFlags,
  'maxBytes' | 'maxRatio' | 'maxEntries' | 'maxDepth' | 'maxMemberBytes'
>

export function toLimits(flags: LimitFlags): DiffLimits {
  return {
    maxBytes: positiveInt(flags.maxBytes, '--max-bytes', DEFAULT_LIMITS.maxBytes),
    maxRatio: positiveInt(flags.maxRatio, '--max-ratio', DEFAULT_LIMITS.maxRatio),
    maxEntries: positiveInt(flags.maxEntries, '--max-entries', DEFAULT_LIMITS.maxEntries),
    maxDepth: positiveInt(flags.maxDepth, '--max-depth', DEFAULT_LIMITS.maxDepth),
    maxMemberBytes: positiveInt(
      flags.maxMemberBytes,
      '--max-member-bytes',
      DEFAULT_LIMITS.maxMemberBytes,
    ),
  }
}

/** A positive decimal integer, with an optional K, M or G (binary) suffix for sizes. */
export function positiveInt(text: string | undefined, what: string, fallback: number): number {
  if (text === undefined) return fallback
  const m = /^([0-9]+)([KMG]i?B?)?$/i.exec(text.trim())
  const unit = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m?.[2]?.[0] ?? '').toLowerCase()] ?? 1
  const value = m === null ? Number.NaN : Number(m[1]) * unit
  if (!Number.isSafeInteger(value) || value <= 0) {
    const tooLarge = m !== null && value > 0 && !Number.isSafeInteger(value)
    throw new ReproofError(
      'E_USAGE',
      `${what} ${text}: ${tooLarge ? `too large (at most ${Number.MAX_SAFE_INTEGER})` : 'not a positive whole number'}`,
      { found: text },
    )
  }
  return value
}
