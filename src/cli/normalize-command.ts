import { Command, Option } from 'commander'
import type { NormalizeFlags } from '../config/flags.js'
import type { Streams } from './output.js'

export function normalizeCommand(
  streams: Streams,
  setExit: (code: number) => void,
  signal?: AbortSignal,
): Command {
  return new Command('normalize')
    .description(
      'remove archive metadata noise (times, order, owners, modes, gzip headers) without touching content',
    )
    .argument('<files...>', 'tar, tar.gz, gzip, zip (jar, whl...) or ar files; detected by content')
    .option(
      '--epoch <seconds>',
      'SOURCE_DATE_EPOCH: member times are set to it; gzip and ar headers get 0 (default: $SOURCE_DATE_EPOCH)',
    )
    .option('--clamp-mtime', 'clamp times to the epoch (min(time, epoch)) instead of setting them')
    .option('--set-mtime', 'set every time to the epoch (the default)')
    .option('-o, --out <path>', 'output file (one input) or directory (several inputs)')
    .option('--in-place', 'replace each input atomically')
    .addOption(
      new Option(
        '--mode <mode>',
        'ship: names, types, contents, links and exec bits kept (times, owners, other mode bits and most extended attributes are metadata), publishable; compare: also clears comments, recompresses, drops jar build-host headers',
      )
        .choices(['ship', 'compare'])
        .default('ship'),
    )
    .option(
      '--canonical',
      "rewrite every tar and zip in reproof's own layout (tar.gz recompressed) even when no field needs changing: the same members and metadata give the same bytes, whoever wrote them (a zip's compressed data and its text bit are copied, not remade: zips the same only where those are) (what reproof build --normalize does to copies that still differ); the writer's bytes are lost",
    )
    .option(
      '--drop-build-host',
      'ship mode: also drop jar manifest headers naming the build host (Built-By, Build-Jdk...)',
    )
    .option('--json', 'print the result as JSON on stdout')
    .option('--max-bytes <n>', 'decompressed bytes to read in all (K, M, G suffixes)')
    .option('--max-ratio <n>', 'largest decompressed/compressed ratio of a member')
    .option('--max-entries <n>', 'archive entries to read in all')
    .option('--max-member-bytes <n>', 'largest member rewritten in memory')
    .action(async (files: string[], flags: NormalizeFlags) => {
      const { normalizeAction } = await import('./normalize-action.js')
      setExit(await normalizeAction(files, flags, streams, signal))
    })
}
