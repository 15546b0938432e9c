import path from 'node:path'
import { REPO } from './helpers.js'

/**
 * Real public-good Sigstore bundles, kept offline (fixtures/real-sigstore/README.md):
 * npm's publish attestation of sigstore 1.0.0, its tarball and the trusted root.
 */
export const REAL = path.join(REPO, 'fixtures', 'real-sigstore')
export const REAL_TGZ = path.join(REAL, 'sigstore-1.0.0.tgz')
export const REAL_ROOT = path.join(REAL, 'trusted_root.json')
export const REAL_BUNDLE = path.join(REAL, 'bundleV03-dsse.sigstore.json')
// What the real bundles attest: an npm publication, not SLSA provenance, so it is asked for.
export const NPM_PUBLISH = 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1'
/** The signer of the real bundles, and their predicate type. */
export const REAL_IDENTITY = [
  '--certificate-identity',
  'brian@dehamer.com',
  '--certificate-oidc-issuer',
  'https://github.com/login/oauth',
  '--predicate-type',
  NPM_PUBLISH,
]
