import { Command } from 'commander'
import type { DiffFlags } from '../config/diff-options.js'
import type { Streams } from './output.js'

export function diffCommand(
  streams: Streams,
  setExit: (code: number) => void,
  signal: AbortSignal,
): Command {
  return (
    new Command('diff')
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
      .option('--max-member-bytes <n>', 'largest member compared for content')
      // The diff engine loads only when the command runs.
      .action(async (a: string, b: string, flags: DiffFlags) => {
        const { diffAction } = await import('./diff-action.js')
        setExit(await diffAction(a, b, flags, streams, signal))
      })
  )
}
