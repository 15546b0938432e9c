import { ReproofError } from '../errors.js'

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
}

/**
 * Parses a duration such as `90s`, `15m`, `1h30m` or `2500ms` into milliseconds.
 * A bare number means seconds. Zero and negative durations are refused: a timeout
 * of zero would turn every run into an ambiguous outcome.
 */
export function parseDuration(
  text: string,
  what: string,
  { maxMs = 7 * 86_400_000 }: { maxMs?: number } = {},
): number {
  const trimmed = text.trim()
  const bad = (): ReproofError =>
    new ReproofError(
      'E_INPUT',
      `${what}: "${text}" is not a duration (examples: 90s, 15m, 1h30m, 90d, 2w)`,
      {
        found: text,
      },
    )
  if (/^[0-9]+$/.test(trimmed)) return positive(Number(trimmed) * 1000, what, text, maxMs)
  if (!/^([0-9]+(ms|s|m|h|d|w))+$/.test(trimmed)) throw bad()
  let total = 0
  for (const match of trimmed.matchAll(/([0-9]+)(ms|s|m|h|d|w)/g)) {
    const unit = UNITS[match[2] ?? '']
    if (unit === undefined) throw bad()
    total += Number(match[1]) * unit
  }
  return positive(total, what, text, maxMs)
}

function positive(ms: number, what: string, text: string, maxMs: number): number {
  if (!Number.isSafeInteger(ms) || ms <= 0 || ms > maxMs) {
    throw new ReproofError(
      'E_INPUT',
      `${what}: "${text}" must be more than 0 and at most ${formatLimit(maxMs)}`,
      { found: text },
    )
  }
  return ms
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  const minutes = Math.floor(ms / 60_000)
  const seconds = Math.round((ms % 60_000) / 1000)
  return `${minutes}m${String(seconds).padStart(2, '0')}s`
}

function formatLimit(ms: number): string {
  const days = ms / 86_400_000
  return Number.isInteger(days) ? `${days}d` : `${ms}ms`
}
