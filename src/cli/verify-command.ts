import { Command } from 'commander'
import type { VerifyFlags } from '../config/flags.js'
import type { Streams } from './output.js'

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
]

export function verifyCommand(
  streams: Streams,
  setExit: (code: number) => void,
  signal?: AbortSignal,
): Command {
  const command = new Command('verify')
    .description(
      'check an attestation: signature, identity, subject digests and policy; yes or no, with the reason',
    )
    .argument(
      '<artifacts...>',
      'the artifacts that must be attested (matched by digest), or digests as sha256:<hex> or sha512:<hex>',
    )
    .requiredOption('--bundle <file>', 'Sigstore bundle holding the attestation')
  return withTrustAndPolicy(command)
    .option('--rebuild', 'after every other check passed, rebuild from the provenance and compare')
    .option('--source <dir>', 'for --rebuild: a local git repository holding the recorded commit')
    .option('--temp-dir <dir>', 'for --rebuild: where the build roots go')
    .option(
      '--rebuild-env <NAME>',
      "for --rebuild: pass this variable of yours on, where the attested build took it from its caller's environment (repeatable)",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option(
      '--rebuild-without-sandbox',
      'for --rebuild: where namespaces are refused, rebuild without the sandbox (the attested command then sees your environment and network)',
    )
    .option(
      '--rebuild-timeout <duration>',
      'for --rebuild: stop the rebuild after this long (e.g. 30m); the answer is then unknown (exit 4)',
    )
    .option(
      '--rebuild-network',
      'for --rebuild: let the rebuild reach the network, where the attested build did',
    )
    .option('--json', 'print the result as JSON on stdout')
    .action(async (artifacts: string[], flags: VerifyFlags) => {
      const { verifyAction } = await import('./verify-action.js')
      setExit(await verifyAction(artifacts, flags, streams, signal))
    })
}

/** The trust options of verify: whose signatures count. */
export function withTrust(command: Command): Command {
  return withTrustOptions(command)
}

function withTrustOptions(command: Command): Command {
  return command
    .option('--key <pub.pem>', 'trusted public key (repeatable)', collect)
    .option('--certificate-identity <identity>', 'keyless: the exact certificate identity (SAN)')
    .option(
      '--certificate-identity-regexp <regexp>',
      'keyless: the identity as a regular expression, anchored at both ends',
    )
    .option(
      '--certificate-oidc-issuer <url>',
      'keyless: the OIDC issuer the certificate was issued for, exactly',
    )
    .option(
      '--certificate-oidc-issuer-regexp <regexp>',
      'keyless: the OIDC issuer as a regular expression, anchored at both ends',
    )
    .option(
      '--trusted-root <file>',
      'verify offline against this trusted root (keyless default: the public-good root, online; with --key: checks the bundle’s log entries and timestamps)',
    )
}

/** The trust and policy options of verify, shared with the gate. */
export function withTrustAndPolicy(command: Command): Command {
  return withPolicyOptions(withTrust(command))
}

function withPolicyOptions(command: Command): Command {
  return command
    .option('--builder-id <id>', 'require this builder id (from the predicate)')
    .option('--source-uri <uri>', 'require this source repository')
    .option('--repo <[host/]owner/repo>', 'require this source repository, as gh names it')
    .option('--owner <[host/]owner>', 'require a source repository of this owner')
    .option('--source-ref <ref>', 'require exactly this source ref (e.g. refs/tags/v1.0)')
    .option(
      '--source-ref-regexp <regexp>',
      'require the source ref to match (anchored at both ends)',
    )
    .option('--source-digest <commit>', 'require this source commit')
    .option(
      '--signer-workflow <[host/]owner/repo/path>',
      'keyless: require that this workflow signed (e.g. acme/app/.github/workflows/release.yml)',
    )
    .option('--signer-repo <[host/]owner/repo>', 'keyless: require a workflow of this repository')
    .option('--signer-digest <commit>', 'keyless: require the signing workflow at this commit')
    .option(
      '--deny-self-hosted-runners',
      'keyless: refuse a signature made on a self-hosted runner',
    )
    .option(
      '--predicate-type <uri>',
      'require this predicate type (default: SLSA Provenance v1, https://slsa.dev/provenance/v1)',
    )
    .option('--build-type <uri>', 'require this build type')
    .option(
      '--require-reproduced',
      "require the signed record to say two runs produced every subject (the signer's word; --rebuild checks it)",
    )
    .option(
      '--require-stated-by-build',
      'require the provenance to be stated by the build that ran the runs (reproof build --bundle), not by reproof attest from a record file',
    )
    .option(
      '--max-age <duration>',
      'require the earliest verified log or timestamp time to be no older than this (e.g. 90d, 2w, 12h)',
    )
    .option(
      '--policy <file>',
      'JSON file with the same policy settings; a setting given both ways must agree (else exit 2)',
    )
}
