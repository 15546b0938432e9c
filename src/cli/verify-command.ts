import { Command } from 'commander'
import type { Streams } from './output.js'

export interface VerifyFlags {
  bundle: string
  key?: string[]
  certificateIdentity?: string
  certificateIdentityRegexp?: string
  certificateOidcIssuer?: string
  trustedRoot?: string
  builderId?: string
  sourceUri?: string
  sourceRef?: string
  sourceDigest?: string
  predicateType?: string
  buildType?: string
  requireReproduced?: boolean
  maxAge?: string
  policy?: string
  rebuild?: boolean
  source?: string
  tempDir?: string
  json?: boolean
}

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
]

export function verifyCommand(streams: Streams, setExit: (code: number) => void): Command {
  const command = new Command('verify')
    .description(
      'check an attestation: signature, identity, subject digests and policy; yes or no, with the reason',
    )
    .argument('<artifacts...>', 'the artifacts that must be attested (matched by digest)')
    .requiredOption('--bundle <file>', 'Sigstore bundle holding the attestation')
  return withTrustAndPolicy(command)
    .option('--rebuild', 'after every other check passed, rebuild from the provenance and compare')
    .option('--source <dir>', 'for --rebuild: a local git repository holding the recorded commit')
    .option('--temp-dir <dir>', 'for --rebuild: where the build roots go')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (artifacts: string[], flags: VerifyFlags) => {
      const { verifyAction } = await import('./verify-action.js')
      setExit(await verifyAction(artifacts, flags, streams))
    })
}

/** The trust options of verify: whose signatures count. */
export function withTrust(command: Command): Command {
  return command
    .option('--key <pub.pem>', 'trusted public key (repeatable)', collect)
    .option('--certificate-identity <identity>', 'keyless: the exact certificate identity (SAN)')
    .option(
      '--certificate-identity-regexp <regexp>',
      'keyless: the identity as a regular expression, anchored at both ends',
    )
    .option(
      '--certificate-oidc-issuer <url>',
      'keyless: the OIDC issuer the certificate was issued for',
    )
    .option(
      '--trusted-root <file>',
      'keyless: verify offline against this trusted root (default: the public-good root, online)',
    )
}

/** The trust and policy options of verify, shared with the gate. */
export function withTrustAndPolicy(command: Command): Command {
  return withTrust(command)
    .option('--builder-id <id>', 'require this builder id')
    .option('--source-uri <uri>', 'require this source repository URI')
    .option('--source-ref <regexp>', 'require the source ref to match (anchored at both ends)')
    .option('--source-digest <commit>', 'require this source commit')
    .option('--predicate-type <uri>', 'require this predicate type')
    .option('--build-type <uri>', 'require this build type')
    .option('--require-reproduced', 'require proof that two runs produced every subject')
    .option('--max-age <duration>', 'require a log or timestamp time no older than this (e.g. 30d)')
    .option('--policy <file>', 'JSON file with the same policy settings (flags win)')
}
