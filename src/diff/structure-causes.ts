import { causesBetween, FIX, UNEXPLAINED_FIX } from './hints.js'
import type { Hint } from './report.js'

/**
 * What a complete comparison of a structure (a .pyc's code objects, a Java class's
 * constants) makes of the difference: every place that differs explained by a cause
 * (each with the evidence that shows it), or the first place that none explains.
 */
export type StructureExplanation = { causes: Hint[] } | { unexplained: string }

// Values are shown in evidence up to this many characters.
const SHOWN = 160

/** Collects, place by place, the causes that explain what differs, or the first that none does. */
export class Explainer {
  private readonly causes = new Map<string, Hint>()
  private reason: string | undefined
  private minorReason: string | undefined

  /**
   * A difference no path or time can explain: a changed instruction, an argument count.
   * `minor`: one that follows from others (line numbers, after an edit), named only when
   * nothing else is.
   */
  fail(reason: string, { minor = false }: { minor?: boolean } = {}): void {
    if (minor) this.minorReason ??= reason
    else this.reason ??= reason
  }

  /** Two values at one place (`where`): explained by a path, a written time, or both. */
  pair(a: string, b: string, where: string): void {
    if (a === b) return
    const found = causesBetween(a, b)
    if (found === undefined) {
      this.fail(`${where}: ${clip(a)} → ${clip(b)}`)
      return
    }
    for (const cause of found)
      if (!this.causes.has(cause))
        this.causes.set(cause, {
          cause,
          evidence: `A holds ${clip(a)}, B ${clip(b)} (${where})`,
          fix: cause === 'build-path' ? FIX.path : FIX.time,
        })
  }

  result(): StructureExplanation {
    const reason = this.reason ?? this.minorReason
    return reason !== undefined ? { unexplained: reason } : { causes: [...this.causes.values()] }
  }
}

/**
 * The hints found in the bytes, merged with what the structure's comparison shows. Where
 * something in the structure is not explained, that is said, naming it, in place of any
 * vaguer "unexplained"; where all is, the causes it needs are added (with its evidence)
 * and a vaguer "unexplained" found in the bytes alone is dropped.
 */
export function withStructureCauses(
  hints: readonly Hint[],
  explanation: StructureExplanation | undefined,
): Hint[] {
  if (explanation === undefined) return [...hints]
  const rest = hints.filter((h) => h.cause !== 'unexplained')
  if ('unexplained' in explanation)
    return [
      ...rest,
      { cause: 'unexplained', evidence: explanation.unexplained, fix: UNEXPLAINED_FIX },
    ]
  const added = explanation.causes.filter((c) => !rest.some((h) => h.cause === c.cause))
  // Nothing to show for it (no cause found anywhere): the bytes' own hints stand.
  return rest.length + added.length === 0 ? [...hints] : [...rest, ...added]
}

function clip(value: string): string {
  return value.length <= SHOWN ? value : `${value.slice(0, SHOWN)}… (${value.length} characters)`
}
