import type { Epoch } from '../config/epoch.js'
import type { NormalizeMode, NormalizeOptions } from '../config/normalize-options.js'
import { normalizeFile, type NormalizeOutcome } from './normalize-file.js'

export interface NormalizeResult {
  epoch: number
  epochSource: Epoch['source']
  mode: NormalizeMode
  /** One outcome per input, in the order given. */
  files: NormalizeOutcome[]
  warnings: string[]
}

/**
 * `reproof normalize`: every input was checked when the options were made; each is now
 * normalized and written atomically, one at a time (decide and write per file), and the
 * result returned for the CLI to acknowledge.
 */
export async function runNormalize(options: NormalizeOptions): Promise<NormalizeResult> {
  const files: NormalizeOutcome[] = []
  for (const { input, output } of options.files)
    files.push(await normalizeFile(input, output, options.rules, options.limits))
  return {
    epoch: options.epoch.value,
    epochSource: options.epoch.source,
    mode: options.rules.mode,
    files,
    warnings:
      options.epoch.source === 'default'
        ? ['no --epoch and no SOURCE_DATE_EPOCH: times are clamped to 0 (zip: 1980-01-01)']
        : [],
  }
}
