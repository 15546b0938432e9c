import type { Epoch } from '../config/epoch.js'
import type { NormalizeMode, NormalizeOptions } from '../config/normalize-options.js'
import { prepareFile, type NormalizeOutcome, type PreparedFile } from './normalize-file.js'
import { throwIfAborted } from '../errors.js'

export interface NormalizeResult {
  epoch: number
  epochSource: Epoch['source']
  mode: NormalizeMode
  /** One outcome per input, in the order given. */
  files: NormalizeOutcome[]
  warnings: string[]
}

/**
 * `reproof normalize`: every input was checked when the options were made. Each is now
 * read whole, checked and normalized into a temp file beside its output; only when all
 * of them are does any output replace what was there (each rename atomic), and the
 * result is returned for the CLI to acknowledge. One bad input leaves every file as it
 * was, and no temp file behind.
 */
export async function runNormalize(options: NormalizeOptions): Promise<NormalizeResult> {
  const prepared: PreparedFile[] = []
  try {
    for (const { input, output } of options.files)
      prepared.push(await prepareFile(input, output, options.rules, options.limits, options.signal))
    // Stopped while the last one was read: none is put in place.
    throwIfAborted(options.signal)
  } catch (err) {
    for (const file of prepared) await file.discard()
    throw err
  }
  for (const [i, file] of prepared.entries()) {
    try {
      await file.commit()
    } catch (err) {
      for (const rest of prepared.slice(i + 1)) await rest.discard()
      throw err
    }
  }
  const files: NormalizeOutcome[] = prepared.map((file) => file.outcome)
  return {
    epoch: options.epoch.value,
    epochSource: options.epoch.source,
    mode: options.rules.mode,
    files,
    warnings:
      options.epoch.source === 'default'
        ? [
            `no --epoch and no SOURCE_DATE_EPOCH: times are ${options.rules.setMtime ? 'set' : 'clamped'} to 0 (zip: 1980-01-01)`,
          ]
        : [],
  }
}
