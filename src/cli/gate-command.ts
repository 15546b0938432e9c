import { Command } from 'commander'
import type { Streams } from './output.js'
import type { GateFlags } from '../config/flags.js'
import { withTrustAndPolicy } from './verify-command.js'

/** `reproof gate deploy|rollback|status|history|check`: thin wiring, one action module. */
export function gateCommand(
  streams: Streams,
  setExit: (code: number) => void,
  signal?: AbortSignal,
): Command {
  const gate = new Command('gate').description(
    'deploy and roll back only attested artifacts (reproduced ones, with --require-reproduced), recorded in a crash-safe ledger',
  )
  const common = (command: Command): Command =>
    command
      .option(
        '--ledger <path|git:url#branch>',
        'the release ledger: a JSON-lines file, or a branch of a git repository',
        '.reproof/ledger.jsonl',
      )
      .option(
        '--state-dir <dir>',
        'where the last verified commit of a git ledger is kept (default: $XDG_STATE_HOME/reproof or ~/.local/state/reproof)',
      )
      .option(
        '--lock-timeout <duration>',
        'how long to wait for another gate to release the ledger',
        '30s',
      )
      .option('--json', 'print the result as JSON on stdout')
  const run =
    (sub: 'deploy' | 'rollback' | 'status' | 'history' | 'check') =>
    async (...args: unknown[]) => {
      const flags = (args.length > 2 ? args[1] : args[0]) as GateFlags
      const artifact = args.length > 2 ? (args[0] as string) : undefined
      const { gateAction } = await import('./gate-action.js')
      setExit(await gateAction(sub, artifact, flags, streams, signal))
    }
  gate.addCommand(
    common(
      withTrustAndPolicy(
        new Command('deploy')
          .description('verify, then record the release')
          .argument('<artifact>')
          .requiredOption('--env <name>', 'environment')
          .requiredOption('--bundle <file>', 'the attestation'),
      ),
    )
      .option('--actor <name>', 'who deploys (default: $GITHUB_ACTOR or the user)')
      .option(
        '--release-version <n>',
        'monotonic release version, recorded; a lower or equal one is refused',
      )
      .option('--min-version <n>', 'refuse a version below this')
      .action(run('deploy')),
  )
  gate.addCommand(
    common(
      withTrustAndPolicy(
        new Command('rollback')
          .description('return to a past release whose attestation still verifies')
          .requiredOption('--env <name>', 'environment')
          .requiredOption('--to <sha256>', 'the digest to return to')
          .requiredOption('--reason <text>', 'why'),
      ),
    )
      .option('--bundle <file>', 'the attestation (default: the one stored at deploy)')
      .option('--actor <name>', 'who rolls back')
      .action(run('rollback')),
  )
  gate.addCommand(
    common(
      new Command('status')
        .description('the current release of an environment')
        .requiredOption('--env <name>', 'environment'),
    ).action(run('status')),
  )
  gate.addCommand(
    common(
      new Command('history')
        .description('every release of an environment')
        .requiredOption('--env <name>', 'environment'),
    ).action(run('history')),
  )
  gate.addCommand(
    common(
      withTrustAndPolicy(
        new Command('check').description(
          'check the whole ledger: the chain, its history, and every kept bundle verified again, with the policy each record kept and over it the one given',
        ),
      ),
    ).action(run('check')),
  )
  return gate
}
