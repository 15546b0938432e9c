import type { Difference } from '../diff/compare-manifests.js'
import { UNEXPLAINED_FIX } from '../diff/hints.js'
import type { DiffItem, DiffReport } from '../diff/report.js'

/**
 * The explanation of a build that did not reproduce, holding every difference the
 * manifests found: one the diff engine did not open (a FIFO, a socket, a device), or
 * could not (a hostile archive stopped it, and there is no explanation at all), is an
 * item of its own, said to be unexplained. Shown as it was, such a report read
 * "Identical" (0 compared) in the HTML, the job summary and on the terminal, for a build
 * whose verdict was no. Pure.
 */
export function withEveryDifference(
  explanation: DiffReport | null,
  differences: readonly Difference[],
  /** Why nothing was explained, when the engine failed. */
  failure?: string,
): DiffReport {
  const report: DiffReport = explanation ?? {
    identical: false,
    a: 'run A',
    b: 'run B',
    items: [],
    summaries: [],
    warnings: [],
    stats: { compared: differences.length, differing: 0 },
    notCompared: [],
  }
  const shown = (name: string): boolean =>
    report.items.some((i) => i.path === name || i.path.startsWith(`${name}!`))
  const missing = differences.filter((d) => !shown(d.name)).map((d) => itemOf(d, failure))
  const items = [...report.items, ...missing]
  return {
    ...report,
    identical: differences.length === 0 && report.identical,
    items,
    warnings:
      failure === undefined || report.warnings.includes(failure)
        ? report.warnings
        : [...report.warnings, failure],
    stats: {
      compared: Math.max(report.stats.compared, differences.length),
      differing: report.stats.differing + missing.length,
    },
  }
}

function itemOf(d: Difference, failure: string | undefined): DiffItem {
  const hints = [
    {
      cause: 'unexplained' as const,
      evidence:
        failure !== undefined
          ? `not explained: ${failure}`
          : d.special !== undefined
            ? `run A left ${d.special[0]}, run B ${d.special[1]}: nothing to read inside`
            : 'the runs wrote it apart; nothing inside was compared',
      fix: UNEXPLAINED_FIX,
    },
  ]
  if (d.kind === 'only-in-a' || d.kind === 'only-in-b') return { path: d.name, kind: d.kind, hints }
  return {
    path: d.name,
    kind: 'content',
    digests: d.digests,
    sizes: d.sizes,
    message:
      d.special !== undefined
        ? `run A left ${d.special[0]}, run B ${d.special[1]}`
        : d.kind === 'mode'
          ? 'its exec bit differs'
          : 'its bytes differ',
    hints,
  }
}
