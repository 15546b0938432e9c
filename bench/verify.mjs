// `reproof verify` against the floor: a bare Node script that loads @sigstore/verify,
// verifies the same bundle and hashes the same artifact. Two cases: a key-signed bundle
// for a 10 MB artifact, and the real public-good keyless bundle with its trusted root.
// Target: at most 1.3x the floor, start-up included.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { compare, fmt, REPO, sh, signedBuild, timed } from './lib/common.mjs'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-verify-'))
const reproof = path.join(REPO, 'bin/reproof.js')
const floor = path.join(REPO, 'bench/lib/verify-floor.mjs')

// A 10 MB artifact, built and signed by reproof with a local key.
const signed = signedBuild(
  dir,
  'head -c 10485760 /dev/zero | tr "\\\\0" x > artifact.bin\n',
  'artifact.bin',
)
const artifact = path.join(signed.out, 'artifact.bin')
const real = path.join(REPO, 'fixtures', 'real-sigstore')

const cases = [
  {
    name: 'key-signed bundle, 10 MB artifact',
    reproof: ['node', reproof, 'verify', artifact, '--bundle', signed.bundle, '--key', signed.pub],
    floor: ['node', floor, artifact, signed.bundle, signed.pub],
  },
  {
    name: 'real keyless bundle with its trusted root',
    reproof: [
      'node',
      reproof,
      'verify',
      path.join(real, 'sigstore-1.0.0.tgz'),
      '--bundle',
      path.join(real, 'bundleV03-dsse.sigstore.json'),
      '--trusted-root',
      path.join(real, 'trusted_root.json'),
      '--certificate-identity',
      'brian@dehamer.com',
      '--certificate-oidc-issuer',
      'https://github.com/login/oauth',
      // An npm publication attestation: not SLSA provenance, so its type is named.
      '--predicate-type',
      'https://github.com/npm/attestation/tree/main/specs/publish/v0.1',
    ],
    floor: [
      'node',
      floor,
      path.join(real, 'sigstore-1.0.0.tgz'),
      path.join(real, 'bundleV03-dsse.sigstore.json'),
      path.join(real, 'trusted_root.json'),
    ],
  },
]
console.log(`# reproof verify against the floor (median of ${ROUNDS}, NODE_EXTRA_CA_CERTS unset)`)
for (const c of cases) {
  const result = compare(ROUNDS, undefined, {
    floor: () => timed(c.floor).ms,
    reproof: () => timed(c.reproof).ms,
  })
  const ratio = result.reproof / result.floor
  console.log(
    `${c.name}: floor ${fmt(result.floor)}, reproof ${fmt(result.reproof)}: ${ratio.toFixed(2)}x; target ≤ 1.3x: ${ratio <= 1.3 ? 'met' : 'MISSED'}`,
  )
}
sh(`rm -rf ${dir}`)
