import { toNormalizeOptions } from '../config/normalize-options.js'
import type { NormalizeFlags } from '../config/flags.js'
import { EXIT } from '../errors.js'
import { runNormalize } from '../normalize/run-normalize.js'
import { useColor, type Streams } from './output.js'
import { renderNormalize, renderNormalizeWarnings } from './views/normalize.js'

/** `reproof normalize`: validate everything first, then rewrite each file atomically. */
export async function normalizeAction(
  files: string[],
  flags: NormalizeFlags,
  streams: Streams,
  signal?: AbortSignal,
): Promise<number> {
  // 1. Parse and validate, before anything is written.
  const options = toNormalizeOptions(files, flags, streams.env)
  // 2-3. Decide and write, one file at a time, each atomically.
  const result = await runNormalize({ ...options, ...(signal === undefined ? {} : { signal }) })
  // 4. Acknowledge.
  if (flags.json === true) {
    streams.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  } else {
    const color = useColor(streams.stdout, streams.env)
    streams.stderr.write(renderNormalizeWarnings(result.warnings, color))
    streams.stdout.write(renderNormalize(result.files, color))
  }
  return EXIT.yes
}
