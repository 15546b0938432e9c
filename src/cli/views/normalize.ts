import { toDisplayText as shown } from '../../file-names.js'
import { paint } from '../../io/paint.js'
import type { NormalizeOutcome } from '../../normalize/normalize-file.js'

/**
 * What `reproof normalize` did to each file, and what it changed. File and member names
 * come from outside (a change can name a member): each is escaped.
 */
export function renderNormalize(results: readonly NormalizeOutcome[], color: boolean): string {
  const c = paint(color)
  return results
    .map((r) => {
      const verdict =
        r.format === 'unknown'
          ? c.dim('not a format reproof normalizes; left as it is')
          : r.kept !== undefined
            ? c.yellow(`left as it is: ${r.kept}`)
            : r.changed
              ? c.green('normalized')
              : 'already normal'
      const to = r.output !== null && r.output !== r.input ? ` → ${shown(r.output)}` : ''
      return [
        `${shown(r.input)}: ${r.format}, ${verdict}${to}`,
        ...r.changes.map((x) => `  ${shown(x)}`),
      ]
        .map((line) => `${line}\n`)
        .join('')
    })
    .join('')
}

export function renderNormalizeWarnings(warnings: readonly string[], color: boolean): string {
  const c = paint(color)
  return warnings.map((w) => `${c.yellow(`warning: ${w}`)}\n`).join('')
}
