import { Command } from 'commander'
import type { AttestFlags, KeygenFlags } from '../config/flags.js'
import type { Streams } from './output.js'
import { withSigningOptions } from './signing-options.js'

export function attestCommand(streams: Streams, setExit: (code: number) => void): Command {
  const command = new Command('attest')
    .description(
      'sign an in-toto Statement with SLSA v1 provenance for a reproducible build, as a Sigstore bundle',
    )
    .requiredOption('--record <file>', 'build record written by reproof build --record')
    .requiredOption('--bundle <file>', 'where to write the Sigstore bundle')
  return withSigningOptions(command, { timeout: '--timeout', retries: '--retries' })
    .option(
      '--sha512 <dir>',
      'add SHA-512 digests of the artifacts in this directory (checked against the record)',
    )
    .option('--json', 'print the result as JSON on stdout')
    .action(async (flags: AttestFlags) => {
      const { attestAction } = await import('./attest-action.js')
      setExit(await attestAction(flags, streams))
    })
}

export function keygenCommand(streams: Streams, setExit: (code: number) => void): Command {
  return new Command('keygen')
    .description('create an ECDSA P-256 key pair: <name>.key (mode 0600) and <name>.pub')
    .requiredOption('--out <name>', 'base name of the two files')
    .option(
      '--passphrase-env <VAR>',
      'encrypt the private key with the passphrase in this variable',
    )
    .option('--json', 'print the files, the algorithm and the key hint as JSON')
    .action(async (flags: KeygenFlags) => {
      const { keygenAction } = await import('./attest-action.js')
      setExit(keygenAction(flags, streams))
    })
}
