import path from 'node:path'
import type { BuildOptions } from '../config/build-options.js'
import type { VariationName } from '../config/variations.js'
import type { VariationRecord } from '../sandbox/run-plan.js'
import { attribute, pairsWithin, type Attribution, type PairTested } from './attribute.js'
import type { BuildEvent } from './run-twice.js'

export interface AttributionResult extends Partial<Attribution> {
  /** Builds beyond the first two. */
  extraBuilds: number
  /** Why no culprit was searched for, or why the search stopped. */
  skipped?: string
  /**
   * The pairs' runs ran one after the other (--sequential): each pair's runs also saw
   * other times of day, so the control pair does not tell the clock from the path.
   */
  sequential?: true
}

/** Builds one more pair with these options; resolves to the names of the artifacts that differ. */
export type BuildPair = (options: BuildOptions) => Promise<ReadonlySet<string>>

/**
 * Builds further pairs, each with the build path and some of the variations, to learn
 * which variation makes each artifact differ (twin/attribute.ts). Within --timeout when
 * one is given (the extra pairs, at the first pair's pace, must fit in it), else at most
 * MAX_EXPLAIN_PAIRS. A pair that fails or is stopped ends the search and says so.
 */
export async function explainVariations(
  options: BuildOptions,
  inputs: {
    differing: readonly string[]
    variations: readonly VariationRecord[]
    pairMs: number
    scratch: string
    signal?: AbortSignal
  },
  buildPair: BuildPair,
  emit: (event: BuildEvent) => void,
): Promise<AttributionResult> {
  // The variations that took effect, and the file-time one whatever was seen of it: it
  // starts run B later, and a build that resets its files' times still reads the clock.
  // Another judged to have had none (no directory to list in another order, a probe
  // that saw no difference) changes nothing in a pair, and a difference that comes and
  // goes would land on it.
  const varied = inputs.variations
    .filter(
      (v) =>
        v.name !== 'path' &&
        (v.status === 'effective' || (v.status === 'no-effect' && v.name === 'file-times')),
    )
    .map((v) => v.name)
  const budget = pairsWithin(options.timeoutMs, inputs.pairMs)
  if ('skipped' in budget) return { extraBuilds: 0, skipped: budget.skipped }
  let built = 0
  // Every pair that finished, kept as it finishes: a later pair that fails leaves the
  // evidence of those before it in the result, not nothing.
  const finished: PairTested[] = []
  const test = async (vs: readonly VariationName[]): Promise<ReadonlySet<string>> => {
    built++
    emit({
      kind: 'phase',
      text: `explaining: pair ${built} with ${vs.length === 0 ? 'only the build path' : vs.join(', ')} varied`,
    })
    const differing = await buildPair({
      ...options,
      variations: ['path', ...vs],
      explicitVariations: [],
      outDir: path.join(inputs.scratch, `explain-${built}`),
      record: undefined,
      report: undefined,
      keep: false,
      explain: false,
      unmatchedOutputsAllowed: true,
      namesOnly: true,
    })
    finished.push({ variations: [...vs], differing: [...differing].sort() })
    return differing
  }
  try {
    const found = await attribute(inputs.differing, varied, test, budget.maxPairs)
    // A search that stopped at its limit says so, as one that did not run does.
    const stopped = found.culprits.some((c) => c.cause === 'unknown')
    return {
      ...found,
      ...(stopped
        ? {
            skipped: `the ${budget.maxPairs} further pairs allowed${options.timeoutMs === undefined ? '' : ' within --timeout'} ran out before every difference was explained`,
          }
        : {}),
      extraBuilds: 2 * found.pairs.length,
      ...(options.sequential ? { sequential: true as const } : {}),
    }
  } catch (err) {
    if (inputs.signal?.aborted === true) throw err
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err)
    return {
      extraBuilds: 2 * built,
      ...(finished.length === 0 ? {} : { pairs: finished }),
      skipped: `pair ${built} failed: ${why}; the pairs before it are in pairs`,
    }
  }
}
