import type { Epoch } from '../config/epoch.js'
import type { NormalizeMode, NormalizeOptions } from '../config/normalize-options.js'
import { prepareFile, type NormalizeOutcome, type PreparedFile } from './normalize-file.js'
import { ReproofError, throwIfAborted } from '../errors.js'
import { toDisplayText } from '../file-names.js'
import { asCommit } from '../io/commit-window.js'
import { filesWithAccessControlLists } from '../io/access-control-list.js'
import { isCanonical } from './rules.js'

export interface NormalizeResult {
  epoch: number
  epochSource: Epoch['source']
  mode: NormalizeMode
  /** Every tar and zip rewritten in reproof's own layout (--canonical, or compare mode). */
  canonical: boolean
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
  // Every input's group bits are an ACL's mask where it has one: a normalized file with
  // that mode and no ACL gave the owning group what only a named user could do. (The
  // build's own artifacts are copied out by reproof, with modes of its own.)
  const [listed] = filesWithAccessControlLists(options.files.map((f) => f.input))
  if (listed !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `${listed}: it has a POSIX access control list, which the normalized file would not keep (its owning group would be given the list's mask); remove the list (setfacl -b) or normalize a copy`,
      { path: listed },
    )
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
  // The renames, one by one: a second Ctrl-C among them is unknown (exit 4), not
  // "stopped, nothing put in place" (130), since some may be in place.
  await asCommit(async () => {
    for (const [i, file] of prepared.entries()) {
      try {
        await file.commit()
      } catch (err) {
        for (const rest of prepared.slice(i + 1)) await rest.discard()
        throw partlyCommitted(err, prepared.slice(0, i))
      }
    }
  })
  const files: NormalizeOutcome[] = prepared.map((file) => file.outcome)
  return {
    epoch: options.epoch.value,
    epochSource: options.epoch.source,
    mode: options.rules.mode,
    canonical: isCanonical(options.rules),
    files,
    warnings:
      options.epoch.source === 'default'
        ? [
            `no --epoch and no SOURCE_DATE_EPOCH: times are ${options.rules.setMtime ? 'set' : 'clamped'} to 0 (zip: 1980-01-01)`,
          ]
        : [],
  }
}

/**
 * A rename that failed after others were done (an immutable file, a file mounted over):
 * those outputs are in place, and the error says so, not only what failed. Each is the
 * whole normalized file, and normalizing again changes nothing in it.
 */
function partlyCommitted(err: unknown, done: readonly PreparedFile[]): unknown {
  const written = done.flatMap((f) => (f.outcome.output === null ? [] : [f.outcome.output]))
  if (written.length === 0) return err
  const code = err instanceof ReproofError ? err.code : 'E_ENVIRONMENT'
  const message = err instanceof Error ? err.message : String(err)
  return new ReproofError(
    code,
    `${message}; already put in place before it, normalized whole: ${written.map((f) => toDisplayText(f)).join(', ')}; the rest are as they were`,
    err instanceof ReproofError ? err.context : {},
    { cause: err },
  )
}
