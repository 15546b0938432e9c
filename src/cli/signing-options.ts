import type { Command } from 'commander'

/**
 * The signing options shared by `attest` and `build --bundle`. The two commands name
 * the per-request time limit differently (`build` has its own --timeout), so those two
 * option names are given by the caller.
 */
export function withSigningOptions(
  command: Command,
  limits: { timeout: string; retries: string },
): Command {
  return command
    .option('--key <file>', 'sign with this private key (PEM, ECDSA P-256 or Ed25519), offline')
    .option('--keyless', 'sign with an OIDC identity: Fulcio certificate and Rekor entry')
    .option(
      '--identity-token-file <file>',
      'OIDC token for --keyless (default: GitHub Actions, or $SIGSTORE_ID_TOKEN)',
    )
    .option('--fulcio-url <url>', 'Fulcio for --keyless (default: https://fulcio.sigstore.dev)')
    .option('--rekor-url <url>', 'Rekor for --keyless (default: https://rekor.sigstore.dev)')
    .option('--tsa-url <url>', 'also get an RFC 3161 timestamp from this authority (--keyless)')
    .option(
      '--trusted-root <file>',
      'verify the keyless bundle against this trusted root before writing it (default: the public-good root, for the public services)',
    )
    .option(`${limits.timeout} <duration>`, 'time limit per request to a signing service', '30s')
    .option(`${limits.retries} <n>`, 'retries per request to a signing service, with backoff', '3')
    .option('--passphrase-env <VAR>', 'environment variable holding the key passphrase')
    .option(
      '--builder-id <id>',
      'builder identity for the provenance (required outside GitHub Actions)',
    )
    .option('--statement <file>', 'also write the unsigned statement (canonical JSON)')
}
