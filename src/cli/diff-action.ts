import path from 'node:path'
import { toDiffOptions, type DiffFlags } from '../config/diff-options.js'
import { diffPaths } from '../diff/diff-inputs.js'
import { defaultHintContext } from '../diff/hints.js'
import { mayBeBuildRecord } from '../records/record-head.js'
import type { DiffReport } from '../diff/report.js'
import { EXIT, throwIfAborted, unreadable } from '../errors.js'
import { writeFileAtomic } from '../io/atomic-write.js'
import { checkDistinctFiles, checkOutputFile } from '../io/output-path.js'
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
  if (options.html !== undefined) {
    checkOutputFile('--html', options.html)
    checkDistinctFiles(
      [{ flag: '--html', file: options.html }],
      [
        { flag: 'input A', file: a },
        { flag: 'input B', file: b },
      ],
    )
  }
  const report = await runDiff(a, b, options, signal).catch((err: unknown) => {
    // A file below an input that cannot be read is the input's problem (exit 2, named),
    // not reproof's.
    const e = err as NodeJS.ErrnoException
    if ((e.code === 'EACCES' || e.code === 'EPERM') && typeof e.path === 'string')
      throw unreadable(e.path, e.path, err)
    throw err
  })
  // Stopped while a last stage ran that does not look at the signal: nothing is written
  // or printed (the report and the HTML page came out after Ctrl-C).
  throwIfAborted(signal)
  // Each view loads when it is asked for: most runs need one.
  if (options.html !== undefined) {
    const { renderDiffHtml } = await import('./views/diff-html.js')
    await writeFileAtomic(options.html, renderDiffHtml(report))
  }
  if (options.json) streams.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  else if (options.markdown) {
    // Made for a job summary: kept under what GitHub shows of one.
    const { fittedDiffMarkdown } = await import('./views/diff-markdown.js')
    streams.stdout.write(
      fittedDiffMarkdown(
        report,
        MAX_SUMMARY_BYTES,
        (more) =>
          `_${more} more differences are not shown: GitHub drops a job summary over 1 MiB; \`--json\` and \`--html\` carry them all._`,
      ),
    )
  } else {
    const { renderDiffText } = await import('./views/diff-text.js')
    streams.stdout.write(renderDiffText(report, useColor(streams.stdout, streams.env)))
  }
  return report.identical ? EXIT.yes : EXIT.no
}

// GitHub drops a job summary over 1 MiB: stay below it.
const MAX_SUMMARY_BYTES = 1000 * 1024

async function runDiff(
  a: string,
  b: string,
  options: ReturnType<typeof toDiffOptions>,
  signal: AbortSignal,
): Promise<DiffReport> {
  const engine = { maxLines: options.maxLines, limits: options.limits, signal }
  // Two build records are compared as the builds they describe; the records' module
  // (and its schema) loads only when both inputs may be records.
  if (mayBeBuildRecord(a) && mayBeBuildRecord(b)) {
    const { diffRecords, readBuildRecord } = await import('../records/diff-records.js')
    const [recordA, recordB] = [readBuildRecord(a), readBuildRecord(b)]
    if (recordA !== undefined && recordB !== undefined)
      return diffRecords(recordA, recordB, [a, b], {
        ...engine,
        context: defaultHintContext([[], []], 0),
      })
  }
  const roots: [string[], string[]] = [[path.resolve(a)], [path.resolve(b)]]
  return diffPaths(a, b, {
    ...engine,
    context: defaultHintContext(roots, Math.floor(Date.now() / 1000)),
  })
}
