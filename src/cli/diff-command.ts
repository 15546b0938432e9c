import path from 'node:path'
import { Command } from 'commander'
import { toDiffOptions, type DiffFlags } from '../config/diff-options.js'
import { diffPaths } from '../diff/diff-inputs.js'
import { defaultHintContext } from '../diff/hints.js'
import { diffRecords, readBuildRecord } from '../diff/records.js'
import type { DiffReport } from '../diff/report.js'
import { renderDiffHtml } from '../diff/views/html.js'
import { renderDiffMarkdown } from '../diff/views/markdown.js'
import { renderDiffText } from '../diff/views/text.js'
import { EXIT } from '../errors.js'
import { writeFileAtomic } from '../io/atomic-write.js'
import { useColor, type Streams } from './output.js'

export function diffCommand(streams: Streams, setExit: (code: number) => void): Command {
  return new Command('diff')
    .description(
      'explain how two files, directories or build records differ, down inside archives, with likely causes',
    )
    .argument('<a>', 'first file, directory or build record')
    .argument('<b>', 'second file, directory or build record')
    .option('--json', 'print the report as JSON on stdout')
    .option('--markdown', 'print the report as Markdown (fits a GitHub job summary)')
    .option('--html <file>', 'also write a self-contained HTML page')
    .option('--max-lines <n>', 'lines of unified diff per text difference', '200')
    .option('--max-bytes <n>', 'decompressed bytes to read in all (K, M, G suffixes)')
    .option('--max-ratio <n>', 'largest decompressed/compressed ratio of a member')
    .option('--max-entries <n>', 'archive entries to read in all')
    .option('--max-depth <n>', 'archives nested within archives')
    .option('--max-member-bytes <n>', 'largest member held in memory for a content diff')
    .action(async (a: string, b: string, flags: DiffFlags) => {
      const options = toDiffOptions(flags)
      const report = await runDiff(a, b, options)
      if (options.html !== undefined) await writeFileAtomic(options.html, renderDiffHtml(report))
      if (options.json) streams.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
      else if (options.markdown) streams.stdout.write(renderDiffMarkdown(report))
      else streams.stdout.write(renderDiffText(report, useColor(streams.stdout, streams.env)))
      setExit(report.identical ? EXIT.yes : EXIT.no)
    })
}

async function runDiff(
  a: string,
  b: string,
  options: ReturnType<typeof toDiffOptions>,
): Promise<DiffReport> {
  const engine = { maxLines: options.maxLines, limits: options.limits }
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
