import path from 'node:path'
import { toDiffOptions, type DiffFlags } from '../config/diff-options.js'
import { diffPaths } from '../diff/diff-inputs.js'
import { defaultHintContext } from '../diff/hints.js'
import { diffRecords, readBuildRecord } from '../records/diff-records.js'
import type { DiffReport } from '../diff/report.js'
import { renderDiffHtml } from './views/diff-html.js'
import { renderDiffMarkdown } from './views/diff-markdown.js'
import { renderDiffText } from './views/diff-text.js'
import { EXIT } from '../errors.js'
import { writeFileAtomic } from '../io/atomic-write.js'
import { checkOutputFile } from '../io/output-path.js'
import { useColor, type Streams } from './output.js'

/** `reproof diff`: two inputs in, a report printed, exit code out. */
export async function diffAction(
  a: string,
  b: string,
  flags: DiffFlags,
  streams: Streams,
  signal: AbortSignal,
): Promise<number> {
  const options = toDiffOptions(flags)
  if (options.html !== undefined) checkOutputFile('--html', options.html)
  const report = await runDiff(a, b, options, signal)
  if (options.html !== undefined) await writeFileAtomic(options.html, renderDiffHtml(report))
  if (options.json) streams.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  else if (options.markdown) streams.stdout.write(renderDiffMarkdown(report))
  else streams.stdout.write(renderDiffText(report, useColor(streams.stdout, streams.env)))
  return report.identical ? EXIT.yes : EXIT.no
}

async function runDiff(
  a: string,
  b: string,
  options: ReturnType<typeof toDiffOptions>,
  signal: AbortSignal,
): Promise<DiffReport> {
  const engine = { maxLines: options.maxLines, limits: options.limits, signal }
  const [recordA, recordB] = [safeRecord(a), safeRecord(b)]
  if (recordA !== undefined && recordB !== undefined)
    return diffRecords(recordA, recordB, [a, b], {
      ...engine,
      context: defaultHintContext([[], []], 0),
    })
  const roots: [string[], string[]] = [[path.resolve(a)], [path.resolve(b)]]
  return diffPaths(a, b, {
    ...engine,
    context: defaultHintContext(roots, Math.floor(Date.now() / 1000)),
  })
}

function safeRecord(file: string): ReturnType<typeof readBuildRecord> {
  try {
    return readBuildRecord(file)
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code === 'ENOENT' ||
      (err as NodeJS.ErrnoException).code === 'EISDIR'
    )
      return undefined
    throw err
  }
}
