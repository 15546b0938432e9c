#!/usr/bin/env node
// Runs `reproof verify` over the bundle-verify cases of Sigstore's conformance suite
// (github.com/sigstore/sigstore-conformance, test/assets/bundle-verify), the way the
// suite's CLI protocol drives a client, and checks the one thing reproof owes every
// case: no case the suite expects to fail (its directory ends in `_fail`) may verify.
//
//   node test/reference/sigstore-conformance.mjs <a checkout of sigstore-conformance>
//
// The suite is not part of this repository; bring a checkout of it. Each case holds a
// bundle, optionally an artifact, identity, issuer, key.pub and trusted_root.json. A case
// without its own trusted root is verified offline against the public-good root that
// @sigstore/tuf ships as its seed (this machine may have no network; the suite's own
// runner fetches the same root over TUF).
//
// reproof verifies attestations: a bundle must hold a DSSE envelope of an in-toto
// statement. The suite's message-signature bundles (hashedrekord) are therefore refused
// as `payload-type` whatever their signatures say; those refusals are counted apart, so
// that the cases where the cryptography is what decides are visible. For a DSSE bundle
// the statement's own predicate type is required (reproof's default is SLSA Provenance).
//
// Exit status: 0 when no `_fail` case verified and every DSSE case the suite expects to
// pass did; 1 otherwise; 2 on bad use.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const reproof = path.join(here, '..', '..', 'bin', 'reproof.js')
const suite = process.argv[2]
const cases = suite === undefined ? '' : path.join(suite, 'test', 'assets', 'bundle-verify')
if (suite === undefined || !fs.existsSync(cases)) {
  console.error('usage: sigstore-conformance.mjs <sigstore-conformance checkout>')
  process.exit(2)
}

// The suite's defaults, from its bundle-verify README.
const IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main'
const ISSUER = 'https://token.actions.githubusercontent.com'

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'reproof-conformance-'))
const publicGood = path.join(scratch, 'public-good-trusted-root.json')
const seeds = createRequire(import.meta.url)('@sigstore/tuf/seeds.json')
fs.writeFileSync(
  publicGood,
  Buffer.from(seeds['https://tuf-repo-cdn.sigstore.dev'].targets['trusted_root.json'], 'base64'),
)

/** The statement's predicate type, when the bundle holds a DSSE envelope of one. */
function dssePredicateType(bundleFile) {
  try {
    const bundle = JSON.parse(fs.readFileSync(bundleFile, 'utf8'))
    const payload = bundle?.dsseEnvelope?.payload
    if (typeof payload !== 'string') return undefined
    const statement = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'))
    return typeof statement?.predicateType === 'string' ? statement.predicateType : ''
  } catch {
    return undefined
  }
}

const rows = []
try {
  for (const name of fs.readdirSync(cases).sort()) {
    const dir = path.join(cases, name)
    if (!fs.statSync(dir).isDirectory()) continue
    const file = (f) => path.join(dir, f)
    const has = (f) => fs.existsSync(file(f))
    const text = (f, fallback) => (has(f) ? fs.readFileSync(file(f), 'utf8').trim() : fallback)
    const bundle = file('bundle.sigstore.json')
    const args = [reproof, 'verify', '--json', '--bundle', bundle]
    if (has('key.pub')) args.push('--key', file('key.pub'))
    else
      args.push(
        '--certificate-identity',
        text('identity', IDENTITY),
        '--certificate-oidc-issuer',
        text('issuer', ISSUER),
      )
    args.push('--trusted-root', has('trusted_root.json') ? file('trusted_root.json') : publicGood)
    const predicateType = dssePredicateType(bundle)
    if (predicateType) args.push('--predicate-type', predicateType)
    args.push(has('artifact') ? file('artifact') : path.join(cases, 'a.txt'))
    const run = spawnSync(process.execPath, args, { encoding: 'utf8' })
    let reason = ''
    try {
      const out = JSON.parse(run.stdout)
      reason = out.verified === true ? 'verified' : (out.reason ?? out.error?.code ?? '?')
    } catch {
      reason = (run.stderr || run.stdout).trim().split('\n')[0] ?? ''
    }
    const expectFail = name.endsWith('_fail')
    const dsse = predicateType !== undefined
    const outcome = expectFail
      ? run.status === 0
        ? 'FALSE YES'
        : 'refused, as expected'
      : run.status === 0
        ? 'verified, as expected'
        : dsse
          ? 'NOT VERIFIED'
          : 'refused: not an attestation'
    rows.push({ name, status: run.status, reason, outcome, dsse })
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true })
}

for (const row of rows)
  console.log(`${row.outcome.padEnd(28)} exit ${row.status}  ${row.name}  (${row.reason})`)
const count = (p) => rows.filter(p).length
const falseYes = count((r) => r.outcome === 'FALSE YES')
const missed = count((r) => r.outcome === 'NOT VERIFIED')
console.log(
  `\n${rows.length} cases (${count((r) => r.dsse)} DSSE): ` +
    `${count((r) => r.outcome === 'refused, as expected')} of ${count((r) => r.name.endsWith('_fail'))} failing cases refused ` +
    `(${count((r) => r.outcome === 'refused, as expected' && r.dsse)} of them DSSE), ` +
    `${count((r) => r.outcome === 'verified, as expected')} passing cases verified, ` +
    `${count((r) => r.outcome === 'refused: not an attestation')} message signatures refused as not attestations; ` +
    `false yeses: ${falseYes}, DSSE cases not verified: ${missed}`,
)
process.exit(falseYes === 0 && missed === 0 ? 0 : 1)
