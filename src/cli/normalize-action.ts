import fs from 'node:fs'
import path from 'node:path'
import { chooseEpoch } from '../config/epoch.js'
import { toLimits } from '../config/diff-options.js'
import { EXIT, ReproofError, unreadable } from '../errors.js'
import { normalizeFile, type NormalizeOutcome } from '../normalize/normalize-file.js'
import type { NormalizeMode } from '../normalize/rules.js'
import type { NormalizeFlags } from '../config/flags.js'
import { useColor, type Streams } from './output.js'
import { renderNormalize, renderNormalizeWarnings } from './views/normalize.js'

/** `reproof normalize`: validate everything first, then rewrite each file atomically. */
export async function normalizeAction(
  files: string[],
  flags: NormalizeFlags,
  streams: Streams,
): Promise<number> {
  // 1. Parse and validate, before anything is written.
  if ((flags.out === undefined) === (flags.inPlace !== true)) {
    throw new ReproofError('E_USAGE', 'give either -o <path> or --in-place')
  }
  const epoch = chooseEpoch({ flag: flags.epoch, environment: streams.env.SOURCE_DATE_EPOCH })
  for (const file of files) {
    let stat
    try {
      stat = fs.statSync(file)
    } catch (err) {
      throw unreadable(file, file, err)
    }
    if (!stat.isFile())
      throw new ReproofError('E_INPUT', `${file}: not a regular file`, { path: file })
  }
  if (
    flags.out !== undefined &&
    files.length > 1 &&
    !(fs.existsSync(flags.out) && fs.statSync(flags.out).isDirectory())
  ) {
    throw new ReproofError(
      'E_USAGE',
      `-o ${flags.out}: with several inputs, -o must be an existing directory`,
    )
  }
  const outputs = files.map((f) =>
    flags.inPlace === true
      ? f
      : files.length > 1 || isDir(flags.out)
        ? path.join(flags.out ?? '.', path.basename(f))
        : (flags.out ?? f),
  )
  if (new Set(outputs.map((o) => path.resolve(o))).size !== outputs.length) {
    throw new ReproofError(
      'E_USAGE',
      'two inputs would be written to the same output; give them distinct names',
    )
  }
  const rules = {
    epoch: epoch.value,
    setMtime: flags.setMtime === true,
    mode: (flags.mode ?? 'ship') as NormalizeMode,
  }
  const limits = toLimits(flags)

  // 2-3. Decide and write, one file at a time, each atomically.
  const results: NormalizeOutcome[] = []
  for (const [i, file] of files.entries())
    results.push(await normalizeFile(file, outputs[i] ?? file, rules, limits))

  // 4. Acknowledge.
  const warnings =
    epoch.source === 'default'
      ? ['no --epoch and no SOURCE_DATE_EPOCH: times are clamped to 0 (zip: 1980-01-01)']
      : []
  if (flags.json === true) {
    streams.stdout.write(
      `${JSON.stringify({ epoch: epoch.value, epochSource: epoch.source, mode: rules.mode, files: results, warnings }, null, 2)}\n`,
    )
  } else {
    const color = useColor(streams.stdout, streams.env)
    streams.stderr.write(renderNormalizeWarnings(warnings, color))
    streams.stdout.write(renderNormalize(results, color))
  }
  return EXIT.yes
}

function isDir(p: string | undefined): boolean {
  return p !== undefined && fs.existsSync(p) && fs.statSync(p).isDirectory()
}
