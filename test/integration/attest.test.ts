import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { assertBundle, bundleFromJSON, type SerializedBundle } from '@sigstore/bundle'
import { PublicKeyDetails, TrustedRoot } from '@sigstore/protobuf-specs'
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify'
import { afterEach, describe, expect, it } from 'vitest'
import type { Statement } from '../../src/attest/statement.js'
import {
  cleanupTemp,
  copyFixture,
  makeTemp,
  makeTempParent,
  runCli,
  signedMakeBuild,
} from '../helpers.js'

afterEach(cleanupTemp)

const BUILDER = 'https://ci.example.com/pipelines/release'

/** A build of hello-c (or of `build.source`) with its record and shipped artifacts in `dir`. */
async function buildRecord(
  dir: string,
  build?: { source: string; outputs: string; command: string[] },
  flags: string[] = [],
): Promise<{ record: string; out: string }> {
  const source = build?.source ?? copyFixture('hello-c')
  if (build === undefined)
    fs.writeFileSync(path.join(source, 'package-lock.json'), '{"lockfileVersion":3}\n')
  const record = path.join(dir, 'record.json')
  const out = path.join(dir, 'out')
  const run = await runCli([
    'build',
    '-C',
    source,
    '-o',
    build?.outputs ?? 'hello',
    '--epoch',
    '1700000000',
    '--record',
    record,
    '--out-dir',
    out,
    '--temp-dir',
    makeTempParent(),
    ...flags,
    '--',
    ...(build?.command ?? ['make']),
  ])
  expect(run.code, run.stderr).toBe(0)
  return { record, out }
}

function decodeStatement(bundle: SerializedBundle): Statement {
  const payload = bundle.dsseEnvelope?.payload ?? ''
  return JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as Statement
}

/** @sigstore/verify with the public key as the only trust: no log, no timestamp authority. */
function verifyWithKey(bundleJson: SerializedBundle, publicPem: string): void {
  const bundle = bundleFromJSON(bundleJson)
  const der = crypto.createPublicKey(publicPem).export({ type: 'spki', format: 'der' })
  const hint = bundleJson.verificationMaterial.publicKey?.hint ?? ''
  const root = TrustedRoot.fromJSON({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  })
  const trust = toTrustMaterial(root, {
    [hint]: { rawBytes: der, keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256 },
  })
  new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(
    toSignedEntity(bundle),
  )
}

describe('reproof keygen', () => {
  it('writes a P-256 pair, the private key 0600, and never overwrites', async () => {
    const dir = makeTemp()
    const base = path.join(dir, 'release')
    expect((await runCli(['keygen', '--out', base])).code).toBe(0)
    expect(fs.statSync(`${base}.key`).mode & 0o777).toBe(0o600)
    const key = crypto.createPrivateKey(fs.readFileSync(`${base}.key`))
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
    const again = await runCli(['keygen', '--out', base])
    expect(again.code).toBe(2)
    expect(again.stderr).toContain('never overwrites')
    // A link, dangling or not, is there too: refused, never written through.
    const dangling = path.join(dir, 'dangling')
    fs.symlinkSync(path.join(dir, 'nowhere'), `${dangling}.key`)
    const linked = await runCli(['keygen', '--out', dangling])
    expect(linked.code, linked.stderr).toBe(2)
    expect(linked.stderr).toContain(
      `${dangling}.key: already exists; reproof never overwrites a key`,
    )
    expect(fs.existsSync(path.join(dir, 'nowhere'))).toBe(false)
    const noDir = await runCli(['keygen', '--out', path.join(dir, 'no', 'such', 'k')])
    expect(noDir.code, noDir.stderr).toBe(2)
    expect(noDir.stderr).toContain('cannot be written (no such directory)')
  })

  it('warns of a private key others may read, and keeps signing secrets out of the build', async () => {
    const dir = makeTemp()
    await runCli(['keygen', '--out', path.join(dir, 'k')])
    const key = path.join(dir, 'k.key')
    fs.chmodSync(key, 0o644)
    const source = path.join(dir, 'src')
    fs.mkdirSync(source)
    fs.writeFileSync(path.join(source, 'build.sh'), 'echo "$PASS" > out.txt\n')
    // prettier-ignore
    const args = (...extra: string[]) => [
      'build', '-C', source, '-o', 'out.txt', '--temp-dir', makeTempParent(), '--bundle',
      path.join(dir, 'b.json'), '--key', key, '--builder-id', 'https://ci.example.com',
      ...extra, '--', 'sh', 'build.sh',
    ]
    const open = await runCli(args())
    expect(open.code, open.stderr).toBe(0)
    expect(open.stderr).toMatch(/warning: --key .*k\.key: readable by anyone and not encrypted/)
    fs.chmodSync(key, 0o600)
    expect((await runCli(args())).stderr).not.toMatch(/warning: --key/)
    // The passphrase's variable given to the build too: it could write it into what is signed.
    await runCli(['keygen', '--out', path.join(dir, 'e'), '--passphrase-env', 'PASS'], {
      PASS: 'a long passphrase',
    })
    // prettier-ignore
    const given = await runCli([
      'build', '-C', source, '-o', 'out.txt', '--temp-dir', makeTempParent(), '--bundle',
      path.join(dir, 'b2.json'), '--key', path.join(dir, 'e.key'), '--passphrase-env', 'PASS',
      '--builder-id', 'https://ci.example.com', '--env', 'PASS', '--', 'sh', 'build.sh',
    ], { PASS: 'a long passphrase' })
    expect(given.code).toBe(2)
    expect(given.stderr).toContain('--env PASS: the build would be given a secret signing reads')
    // Keyless: the runner's means of asking for a token, handed to the build, is as good as the token.
    // prettier-ignore
    const token = await runCli([
      'build', '-C', source, '-o', 'out.txt', '--temp-dir', makeTempParent(), '--bundle',
      path.join(dir, 'b3.json'), '--keyless', '--env', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', '--',
      'sh', 'build.sh',
    ], { ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:9/', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' })
    expect(token.code).toBe(2)
    expect(token.stderr).toContain(
      '--env ACTIONS_ID_TOKEN_REQUEST_TOKEN: the build would be given a secret signing reads (the identity token)',
    )
    expect(fs.existsSync(path.join(dir, 'b3.json'))).toBe(false)
  })

  it('says who stated the runs, and verify can require the build that ran them', async () => {
    const dir = makeTemp()
    await runCli(['keygen', '--out', path.join(dir, 'k')])
    const source = path.join(dir, 'src')
    fs.mkdirSync(source)
    fs.writeFileSync(path.join(source, 'build.sh'), 'echo same > out.txt\n')
    const record = path.join(dir, 'record.json')
    // prettier-ignore
    const signing = (bundle: string) => [
      '--bundle', path.join(dir, bundle), '--key', path.join(dir, 'k.key'), '--builder-id', 'https://ci.example.com',
    ]
    // prettier-ignore
    const built = await runCli([
      'build', '-C', source, '-o', 'out.txt', '--temp-dir', makeTempParent(), '--record', record,
      ...signing('built.json'), '--', 'sh', 'build.sh',
    ])
    expect(built.code, built.stderr).toBe(0)
    const attested = await runCli(['attest', '--record', record, ...signing('attested.json')])
    expect(attested.code, attested.stderr).toBe(0)
    // prettier-ignore
    const verify = (bundle: string) => runCli([
      'verify', path.join(source, 'out.txt'), '--bundle', path.join(dir, bundle), '--key',
      path.join(dir, 'k.pub'), '--require-stated-by-build', '--json',
    ])
    expect((await verify('built.json')).code).toBe(0)
    const refused = await verify('attested.json')
    expect(refused.code).toBe(1)
    expect((JSON.parse(refused.stdout) as { reason: string }).reason).toBe('stated-from-record')
  })

  it('encrypts the private key with a passphrase from the environment', async () => {
    const dir = makeTemp()
    const base = path.join(dir, 'enc')
    expect(
      (
        await runCli(['keygen', '--out', base, '--passphrase-env', 'PASS'], {
          PASS: 'correct horse',
        })
      ).code,
    ).toBe(0)
    expect(fs.readFileSync(`${base}.key`, 'utf8')).toContain('ENCRYPTED PRIVATE KEY')
    expect(
      (await runCli(['keygen', '--out', path.join(dir, 'x'), '--passphrase-env', 'NOPE'])).code,
    ).toBe(2)
    // A passphrase a copy of the file would give up to guessing: refused, nothing written.
    const short = await runCli(['keygen', '--out', path.join(dir, 's'), '--passphrase-env', 'P'], {
      P: 'x',
    })
    expect(short.code).toBe(2)
    expect(short.stderr).toContain('shorter than 12 characters')
    expect(fs.existsSync(path.join(dir, 's.key'))).toBe(false)
  })

  it('with --json, names the files and the key hint a bundle signed with it carries', async () => {
    const dir = makeTemp()
    const base = path.join(dir, 'k')
    const run = await runCli(['keygen', '--out', base, '--json'])
    expect(run.code).toBe(0)
    const summary = JSON.parse(run.stdout) as Record<string, unknown>
    const spki = crypto
      .createPublicKey(fs.readFileSync(`${base}.pub`))
      .export({ type: 'spki', format: 'der' })
    expect(summary).toEqual({
      privateKey: `${base}.key`,
      publicKey: `${base}.pub`,
      algorithm: 'ecdsa-p256-sha256',
      encrypted: false,
      keyHint: crypto.createHash('sha256').update(spki).digest('hex'),
    })
  })
})

/** `reproof attest` of a record with a local key, without a builder identity. */
function attestArgs(record: string, bundle: string, key: string): string[] {
  return ['attest', '--record', record, '--bundle', bundle, '--key', key]
}

/** `reproof attest` of a record with a local key, as builder BUILDER. */
function attest(record: string, bundle: string, key: string, extra: string[] = []) {
  return runCli([...attestArgs(record, bundle, key), '--builder-id', BUILDER, ...extra])
}

describe('reproof attest with a key', () => {
  it('signs the record of a build with every variation, the variables reproof set itself included', async () => {
    // The cpus variation gives run A a MAKEFLAGS of its own (`-jN`), recorded as
    // reproof's: refused as no variable reproof sets, an honest record did not attest.
    const dir = makeTemp()
    const { record } = await buildRecord(dir, undefined, ['--vary', 'all'])
    const base = path.join(dir, 'k')
    await runCli(['keygen', '--out', base])
    const run = await attest(record, path.join(dir, 'b.json'), `${base}.key`)
    expect(run.code, run.stderr).toBe(0)
    const environment = (
      JSON.parse(fs.readFileSync(record, 'utf8')) as {
        environment: { name: string; value?: string; from: string }[]
      }
    ).environment
    for (const e of environment.filter((x) => x.from === 'reproof'))
      expect([
        'PATH',
        'TZ',
        'LANG',
        'LC_ALL',
        'USER',
        'LOGNAME',
        'HOME',
        'TMPDIR',
        'SOURCE_DATE_EPOCH',
        'MAKEFLAGS',
      ]).toContain(e.name)
    // The same record saying reproof gave MAKEFLAGS more than -jN: refused.
    const forged = path.join(dir, 'forged.json')
    const parsed = JSON.parse(fs.readFileSync(record, 'utf8')) as { environment: unknown[] }
    parsed.environment.push({ name: 'MAKEFLAGS', value: '-j2 CC=evil', from: 'reproof' })
    fs.writeFileSync(forged, JSON.stringify(parsed))
    const refused = await attest(forged, path.join(dir, 'f.json'), `${base}.key`)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('a variable said to be set by reproof is not one reproof sets')
  })

  it('signs provenance that @sigstore/verify and openssl both accept', async () => {
    const dir = makeTemp()
    const { record, out } = await buildRecord(dir)
    const base = path.join(dir, 'k')
    await runCli(['keygen', '--out', base])
    const bundlePath = path.join(dir, 'bundle.json')
    const statementPath = path.join(dir, 'statement.json')
    const run = await attest(record, bundlePath, `${base}.key`, [
      '--statement',
      statementPath,
      '--sha512',
      out,
      '--json',
    ])
    expect(run.code, run.stderr).toBe(0)
    const bundleJson = JSON.parse(fs.readFileSync(bundlePath, 'utf8')) as SerializedBundle
    expect(bundleJson.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json')
    assertBundle(bundleFromJSON(bundleJson))
    verifyWithKey(bundleJson, fs.readFileSync(`${base}.pub`, 'utf8'))

    // Independently of sigstore-js: the DSSE pre-authentication encoding, checked by openssl.
    const envelope = bundleJson.dsseEnvelope
    const body = Buffer.from(envelope?.payload ?? '', 'base64')
    const type = envelope?.payloadType ?? ''
    const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${body.length} `), body])
    fs.writeFileSync(path.join(dir, 'pae.bin'), pae)
    fs.writeFileSync(
      path.join(dir, 'sig.der'),
      Buffer.from(envelope?.signatures[0]?.sig ?? '', 'base64'),
    )
    expect(
      execFileSync(
        'openssl',
        ['dgst', '-sha256', '-verify', `${base}.pub`, '-signature', 'sig.der', 'pae.bin'],
        { cwd: dir, encoding: 'utf8' },
      ).trim(),
    ).toBe('Verified OK')

    // The statement signed is the one written, byte for byte, and its digest the one said.
    const written = fs.readFileSync(statementPath)
    expect(written.equals(body)).toBe(true)
    expect((JSON.parse(run.stdout) as { statementSha256: string }).statementSha256).toBe(
      crypto.createHash('sha256').update(written).digest('hex'),
    )
    // No private key material anywhere in the output.
    const keyBody = fs.readFileSync(`${base}.key`, 'utf8').split('\n')[1] ?? 'none'
    expect(fs.readFileSync(bundlePath, 'utf8')).not.toContain(keyBody)
    expect(run.stdout).not.toContain(keyBody)
  })

  it('follows the in-toto Statement v1 and SLSA Provenance v1 field rules', async () => {
    const dir = makeTemp()
    const { record, out } = await buildRecord(dir)
    await runCli(['keygen', '--out', path.join(dir, 'k')])
    const bundlePath = path.join(dir, 'b.json')
    await attest(record, bundlePath, path.join(dir, 'k.key'), ['--sha512', out])
    const statement = decodeStatement(
      JSON.parse(fs.readFileSync(bundlePath, 'utf8')) as SerializedBundle,
    )
    expect(statement._type).toBe('https://in-toto.io/Statement/v1')
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1')
    expect(statement.subject).toHaveLength(1)
    const [subject] = statement.subject
    expect(subject?.name).toBe('hello')
    expect(subject?.digest.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(subject?.digest.sha512).toMatch(/^[0-9a-f]{128}$/)
    const { buildDefinition, runDetails } = statement.predicate
    expect(buildDefinition.buildType).toBe('https://reproof.dev/build-types/twin-build/v1')
    expect(buildDefinition.externalParameters.command).toEqual(['make'])
    expect(buildDefinition.resolvedDependencies).toContainEqual({
      name: 'package-lock.json',
      digest: {
        sha256: crypto.createHash('sha256').update('{"lockfileVersion":3}\n').digest('hex'),
      },
    })
    expect(runDetails.builder.id).toBe(BUILDER)
    for (const t of [runDetails.metadata.startedOn, runDetails.metadata.finishedOn])
      expect(t).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)
    // The byproducts prove two runs produced the subject: both manifests, in full, with digests.
    expect(runDetails.byproducts.map((b) => b.name)).toEqual([
      'reproof/run-a/manifest.json',
      'reproof/run-b/manifest.json',
    ])
    for (const byproduct of runDetails.byproducts) {
      const content = Buffer.from(byproduct.content ?? '', 'base64')
      expect(crypto.createHash('sha256').update(content).digest('hex')).toBe(
        byproduct.digest?.sha256,
      )
      expect(JSON.parse(content.toString()) as unknown).toContainEqual({
        name: 'hello',
        sha256: subject?.digest.sha256,
      })
    }
  })

  it('gives the same statement bytes for the same record and context', async () => {
    const dir = makeTemp()
    const { record } = await buildRecord(dir)
    await runCli(['keygen', '--out', path.join(dir, 'k')])
    const statements = []
    for (const name of ['s1.json', 's2.json']) {
      await attest(record, path.join(dir, `${name}.bundle`), path.join(dir, 'k.key'), [
        '--statement',
        path.join(dir, name),
      ])
      statements.push(fs.readFileSync(path.join(dir, name)))
    }
    expect(statements[0]?.equals(statements[1] ?? Buffer.alloc(0))).toBe(true)
  })

  it('takes the builder identity from GitHub Actions, and requires it elsewhere', async () => {
    const dir = makeTemp()
    const { record } = await buildRecord(dir)
    await runCli(['keygen', '--out', path.join(dir, 'k')])
    const noBuilder = await runCli(
      attestArgs(record, path.join(dir, 'x.json'), path.join(dir, 'k.key')),
    )
    expect(noBuilder.code).toBe(2)
    expect(noBuilder.stderr).toContain('--builder-id is required')
    expect(fs.existsSync(path.join(dir, 'x.json'))).toBe(false)
    const env = {
      GITHUB_ACTIONS: 'true',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_WORKFLOW_REF: 'acme/app/.github/workflows/release.yml@refs/tags/v1',
      GITHUB_REPOSITORY: 'acme/app',
      GITHUB_RUN_ID: '42',
      GITHUB_RUN_ATTEMPT: '2',
    }
    const ci = await runCli(
      attestArgs(record, path.join(dir, 'ci.json'), path.join(dir, 'k.key')),
      env,
    )
    expect(ci.code).toBe(0)
    const statement = decodeStatement(
      JSON.parse(fs.readFileSync(path.join(dir, 'ci.json'), 'utf8')) as SerializedBundle,
    )
    expect(statement.predicate.runDetails.builder.id).toBe(
      'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1',
    )
    expect(statement.predicate.runDetails.metadata.invocationId).toBe(
      'https://github.com/acme/app/actions/runs/42/attempts/2',
    )
  })

  it('signs with Ed25519 too, and refuses other key types and a non-reproducible build', async () => {
    const dir = makeTemp()
    const { record } = await buildRecord(dir)
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', 'ed.key'], { cwd: dir })
    const ed = await attest(record, path.join(dir, 'ed.json'), path.join(dir, 'ed.key'))
    expect(ed.code, ed.stderr).toBe(0)
    execFileSync(
      'openssl',
      ['genpkey', '-algorithm', 'rsa', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'rsa.key'],
      { cwd: dir, stdio: 'ignore' },
    )
    const rsa = await attest(record, path.join(dir, 'rsa.json'), path.join(dir, 'rsa.key'))
    expect(rsa.code).toBe(2)
    expect(rsa.stderr).toContain('only ECDSA P-256 and Ed25519')
    const json = JSON.parse(fs.readFileSync(record, 'utf8')) as {
      result: { reproducible: boolean }
    }
    json.result.reproducible = false
    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify(json))
    const no = await attest(
      path.join(dir, 'bad.json'),
      path.join(dir, 'no.json'),
      path.join(dir, 'ed.key'),
    )
    expect(no.code).toBe(1)
    expect(fs.existsSync(path.join(dir, 'no.json'))).toBe(false)
  })

  it('refuses a record that is not one, and an artifact changed since the build', async () => {
    const dir = makeTemp()
    const { record, out } = await buildRecord(dir)
    await runCli(['keygen', '--out', path.join(dir, 'k')])
    fs.writeFileSync(path.join(dir, 'junk.json'), '{"recordType": "something else"}')
    const junk = await attest(
      path.join(dir, 'junk.json'),
      path.join(dir, 'j.json'),
      path.join(dir, 'k.key'),
    )
    expect(junk.code).toBe(2)
    fs.appendFileSync(path.join(out, 'hello'), 'tampered')
    const changed = await attest(record, path.join(dir, 'c.json'), path.join(dir, 'k.key'), [
      '--sha512',
      out,
    ])
    expect(changed.code).toBe(2)
    expect(changed.stderr).toContain('not the one the build recorded')
    // A record naming an artifact outside its output directory, or one artifact twice:
    // its names are joined to directories (--sha512, a rebuild), so it is not read at all.
    const text = fs.readFileSync(record, 'utf8')
    const parsed = JSON.parse(text) as { runs: { manifest: { name: string }[] }[] }
    for (const [name, edit] of [
      ['outside', (m: { name: string }[]) => m.map((e) => ({ ...e, name: `../../${e.name}` }))],
      ['twice', (m: { name: string }[]) => [...m, ...m]],
      // The same bytes spelled another way (`h` as an escaped byte): a name given twice.
      [
        'respelled',
        (m: { name: string }[]) => [
          ...m,
          ...m.map((e) => ({ ...e, name: e.name.replace(/^h/, '\u000068') })),
        ],
      ],
    ] as const) {
      const copy = structuredClone(parsed)
      for (const run of copy.runs) run.manifest = edit(run.manifest)
      const file = path.join(dir, `${name}.json`)
      fs.writeFileSync(file, JSON.stringify(copy))
      const refused = await attest(file, path.join(dir, `${name}.b.json`), path.join(dir, 'k.key'))
      expect(refused.code, name).toBe(2)
      expect(refused.stderr, name).toMatch(
        name === 'outside'
          ? /must be a path inside the output directory/
          : name === 'twice'
            ? /names an artifact twice/
            : /must be a name as reproof writes it/,
      )
    }
  })

  it('refuses outputs that are one file, or an input, before signing anything', async () => {
    const dir = makeTemp()
    const { record } = await buildRecord(dir)
    await runCli(['keygen', '--out', path.join(dir, 'k')])
    const key = path.join(dir, 'k.key')
    const keyBytes = fs.readFileSync(key)
    const same = path.join(dir, 'same.json')
    const both = await attest(record, same, key, ['--statement', same])
    expect(both.code).toBe(2)
    expect(both.stderr).toMatch(/--statement .*same\.json: the same file as --bundle/)
    const overKey = await attest(record, key, key)
    expect(overKey.code).toBe(2)
    expect(overKey.stderr).toMatch(/the same file as --key, which it would overwrite/)
    expect(fs.readFileSync(key)).toEqual(keyBytes)
    const overRecord = await attest(record, record, key)
    expect(overRecord.code).toBe(2)
    expect(fs.existsSync(same)).toBe(false)
  })

  it('never takes its input as the place of its pending signature, and leaves no bundle when the statement cannot be written', async () => {
    const dir = makeTemp()
    const { record } = await buildRecord(dir)
    await runCli(['keygen', '--out', path.join(dir, 'k')])
    const key = path.join(dir, 'k.key')
    const pending = path.join(dir, 'p.json.pending')
    fs.copyFileSync(record, pending)
    const over = await attest(pending, path.join(dir, 'p.json'), key)
    expect(over.code).toBe(2)
    expect(over.stderr).toContain("--bundle's pending signature")
    expect(fs.existsSync(pending)).toBe(true)
    // A statement that cannot be written: nothing is left as though signing had gone well.
    const bundle = path.join(dir, 's.json')
    // /proc takes no new file, whoever asks (root included), and is only found out by writing.
    const unwritable = await attest(record, bundle, key, ['--statement', '/proc/statement.json'])
    expect(unwritable.code, unwritable.stderr).toBe(3)
    expect(fs.existsSync(bundle)).toBe(false)
  })

  it("refuses the other signing method's settings rather than signing without them", async () => {
    const dir = makeTemp()
    const { record } = await buildRecord(dir)
    await runCli(['keygen', '--out', path.join(dir, 'k')])
    const bundle = path.join(dir, 'b.json')
    for (const [flag, value] of [
      ['--tsa-url', 'http://127.0.0.1:9/tsa'],
      ['--rekor-url', 'http://127.0.0.1:9/'],
      ['--fulcio-url', 'http://127.0.0.1:9/'],
      ['--identity-token-file', path.join(dir, 'token')],
    ] as const) {
      const refused = await attest(record, bundle, path.join(dir, 'k.key'), [flag, value])
      expect(refused.code, flag).toBe(2)
      expect(refused.stderr).toContain(`${flag} applies to --keyless signing only`)
      expect(fs.existsSync(bundle)).toBe(false)
    }
    const keyless = await runCli([
      'attest',
      '--record',
      record,
      '--bundle',
      bundle,
      '--keyless',
      '--builder-id',
      BUILDER,
      '--passphrase-env',
      'HOME',
    ])
    expect(keyless.code).toBe(2)
    expect(keyless.stderr).toContain('--passphrase-env applies to --key signing only')
  })

  it('refuses a record whose isolation lacks what the statement copies from it, as bad input', async () => {
    const dir = makeTemp()
    const { record } = await buildRecord(dir)
    await runCli(['keygen', '--out', path.join(dir, 'k')])
    const edited = JSON.parse(fs.readFileSync(record, 'utf8')) as {
      isolation: Record<string, unknown>
    }
    delete edited.isolation.notes
    fs.writeFileSync(record, JSON.stringify(edited))
    const run = await attest(record, path.join(dir, 'b.json'), path.join(dir, 'k.key'))
    expect(run.code, run.stderr).toBe(2)
    expect(run.stderr).not.toContain('internal error')
    expect(fs.existsSync(path.join(dir, 'b.json'))).toBe(false)
  })

  it('refuses times that do not exist or run backwards, a commit id of no hash, a subdirectory out of the tree', async () => {
    const dir = makeTemp()
    const { record } = await buildRecord(dir)
    await runCli(['keygen', '--out', path.join(dir, 'k')])
    const original = JSON.parse(fs.readFileSync(record, 'utf8')) as Record<string, unknown>
    const git = (extra: Record<string, unknown>) => ({
      ...(original.source as object),
      git: { commit: 'a'.repeat(40), commitTime: 0, dirty: true, ...extra },
    })
    for (const [what, edit, message] of [
      ['month 19', { startedAt: '2026-19-45T29:99:99Z' }, /must be a time that exists/],
      [
        'finished before started',
        { startedAt: '2026-01-02T00:00:00Z', finishedAt: '2026-01-01T00:00:00Z' },
        /cannot finish before it started/,
      ],
      [
        'a 50-digit commit',
        { source: git({ commit: 'a'.repeat(50) }) },
        /not a valid build record/,
      ],
      [
        'a subdirectory out of the tree',
        { source: git({ subdirectory: '../../../../etc' }) },
        /subdirectory must be a relative path below the root/,
      ],
      ['an empty repository', { source: git({ repository: '' }) }, /the repository is empty/],
      [
        'a lockfile of no path',
        {
          source: {
            ...(original.source as object),
            lockfiles: [{ path: '', sha256: 'a'.repeat(64) }],
          },
        },
        /a lockfile must be a relative path below the source/,
      ],
      [
        "a caller's variable with its value",
        { environment: [{ name: 'TOKEN', value: 's3cret', from: 'caller' }] },
        /a variable passed through from the caller has no value in a record/,
      ],
      [
        "a caller's variable with its effective value",
        { environment: [{ name: 'GITHUB_TOKEN', effective: 'ghp_leaked', from: 'caller' }] },
        /a variable passed through from the caller has no value in a record/,
      ],
      [
        "reproof's own variable with an effective value",
        { environment: [{ name: 'TZ', value: 'UTC', effective: '2', from: 'reproof' }] },
        /only a value given by a flag or the config has an effective value/,
      ],
      [
        'a variable said to be set by reproof that reproof does not set',
        { environment: [{ name: 'CFLAGS', value: '-O2', from: 'reproof' }] },
        /a variable said to be set by reproof is not one reproof sets/,
      ],
      [
        'a variation reproof does not make',
        { variations: [{ name: 'moon-phase', status: 'effective' }] },
        /is no variation reproof makes/,
      ],
      [
        'credentials in the repository URL',
        { source: git({ repository: 'https://user:ghp_SECRET@github.com/a/b' }) },
        /the repository URL holds credentials/,
      ],
      [
        'a token in its query',
        { source: git({ repository: 'https://github.com/a/b?private_token=x' }) },
        /the repository URL holds credentials or a query/,
      ],
      [
        'a ref that is no ref name',
        { source: git({ ref: 'main; see https://evil' }) },
        /the ref is not a full git ref name/,
      ],
    ] as const) {
      fs.writeFileSync(record, JSON.stringify({ ...original, ...edit }))
      const bundle = path.join(dir, 'b.json')
      const run = await attest(record, bundle, path.join(dir, 'k.key'))
      expect(run.code, `${what}: ${run.stderr}`).toBe(2)
      expect(run.stderr, what).toMatch(message)
      expect(fs.existsSync(bundle)).toBe(false)
    }
    // Numbers a build never writes, and bytes that are not text: JSON.parse reads 1e400 as
    // Infinity (signed as null), and a lenient decoding signed `make\xff` as `make\uFFFD`.
    const text = JSON.stringify(original)
    for (const [what, bytes, message] of [
      [
        'an epoch of 1e400',
        Buffer.from(text.replace(/("epoch":\{"value":)\d+/, '$11e400')),
        /must be a whole number at epoch\.value/,
      ],
      [
        'an epoch past the year 9999',
        Buffer.from(text.replace(/("epoch":\{"value":)\d+/, '$1253402300800')),
        /must be at most the year 9999/,
      ],
      [
        'a file count below zero',
        Buffer.from(text.replace(/("files":)\d+/, '$1-3')),
        /must not be negative at source\.files/,
      ],
      [
        'a command that is not UTF-8',
        Buffer.concat([
          Buffer.from(text.slice(0, text.indexOf('"make"') + 5)),
          Buffer.from([0xff]),
          Buffer.from(text.slice(text.indexOf('"make"') + 5)),
        ]),
        /--record .*: not UTF-8$/m,
      ],
    ] as const) {
      expect(bytes.equals(Buffer.from(text)), what).toBe(false)
      fs.writeFileSync(record, bytes)
      const bundle = path.join(dir, 'b.json')
      const run = await attest(record, bundle, path.join(dir, 'k.key'))
      expect(run.code, `${what}: ${run.stderr}`).toBe(2)
      expect(run.stderr, what).toMatch(message)
      expect(fs.existsSync(bundle)).toBe(false)
    }
    // The same edits within the rules: signed.
    fs.writeFileSync(
      record,
      JSON.stringify({
        ...original,
        source: git({
          commit: 'b'.repeat(64),
          subdirectory: 'a/b',
          repository: 'https://github.com/a/b',
          ref: 'refs/heads/feature/ünïcode\u00a0x',
        }),
      }),
    )
    const fine = await attest(record, path.join(dir, 'ok.json'), path.join(dir, 'k.key'))
    expect(fine.code, fine.stderr).toBe(0)
  })

  it('refuses a record edited by hand: a run whose digests were changed', async () => {
    const dir = makeTemp()
    const { record } = await buildRecord(dir)
    await runCli(['keygen', '--out', path.join(dir, 'k')])
    const edited = JSON.parse(fs.readFileSync(record, 'utf8')) as {
      runs: { manifest: { sha256: string }[] }[]
    }
    for (const run of edited.runs) for (const entry of run.manifest) entry.sha256 = 'e'.repeat(64)
    fs.writeFileSync(record, JSON.stringify(edited))
    const bundle = path.join(dir, 'e.json')
    const run = await attest(record, bundle, path.join(dir, 'k.key'))
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      "the build record contradicts itself: run A's manifest does not match its digest",
    )
    expect(fs.existsSync(bundle)).toBe(false)
  })

  it("refuses a record whose normalization turns run B's digest into run A's with no change to show for it", async () => {
    const dir = makeTemp()
    const record = path.join(dir, 'record.json')
    const build = await runCli([
      'build',
      '-C',
      copyFixture('timestamp'),
      '-o',
      'out/*',
      '--out-dir',
      path.join(dir, 'out'),
      '--record',
      record,
      '--no-explain',
      '--temp-dir',
      makeTempParent(),
      '--',
      'make',
    ])
    expect(build.code).toBe(1)
    await runCli(['keygen', '--out', path.join(dir, 'k')])
    // A stamp that never reproduced, passed off as reproducible after normalization.
    const edited = JSON.parse(fs.readFileSync(record, 'utf8')) as {
      result: Record<string, unknown>
      runs: { id: string; manifest: { name: string; sha256: string }[] }[]
      normalization: unknown
    }
    const digest = (id: string) =>
      edited.runs.find((r) => r.id === id)?.manifest.find((e) => e.name === 'out/stamp.txt')?.sha256
    const [a, b] = [digest('a'), digest('b')]
    expect(a).not.toBe(b)
    edited.result = {
      ...edited.result,
      reproducible: true,
      verdict: 'reproducible-after-normalization',
      reproducibleWithoutNormalization: false,
    }
    edited.normalization = {
      mode: 'ship',
      artifacts: [
        {
          name: 'out/stamp.txt',
          format: 'unknown',
          raw: [a, b],
          normalized: [a, a],
          changes: [[], []],
        },
      ],
    }
    fs.writeFileSync(record, JSON.stringify(edited))
    const bundle = path.join(dir, 'n.json')
    const run = await attest(record, bundle, path.join(dir, 'k.key'))
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      'the build record contradicts itself: its normalization of "out/stamp.txt" gives run B a normalized digest other than its raw one, with no change to show for it',
    )
    expect(fs.existsSync(bundle)).toBe(false)
    // A change made up for it: the differences the build listed still say no, and a
    // record that leaves them out is no record a build writes.
    edited.normalization = {
      mode: 'ship',
      artifacts: [
        {
          name: 'out/stamp.txt',
          format: 'zip',
          raw: [a, b],
          normalized: [a, a],
          changes: [[], ['x']],
        },
      ],
    }
    fs.writeFileSync(record, JSON.stringify(edited))
    const listed = await attest(record, bundle, path.join(dir, 'k.key'))
    expect(listed.code).toBe(2)
    expect(listed.stderr).toContain('it says reproducible, but lists 1 difference(s)')
    for (const differences of [undefined, {}]) {
      fs.writeFileSync(
        record,
        JSON.stringify({ ...edited, result: { ...edited.result, differences } }),
      )
      const left = await attest(record, bundle, path.join(dir, 'k.key'))
      expect(left.code, JSON.stringify(differences)).toBe(2)
      expect(left.stderr).toContain('not a valid build record')
    }
    expect(fs.existsSync(bundle)).toBe(false)
  })
})

describe('reproof build --bundle', () => {
  it('checks an identity token file before it builds', async () => {
    const dir = makeTemp()
    const missing = path.join(dir, 'no-such-token')
    const run = await runCli([
      'build',
      '-C',
      copyFixture('hello-c'),
      '-o',
      'hello',
      '--out-dir',
      path.join(dir, 'out'),
      '--record',
      path.join(dir, 'r.json'),
      '--bundle',
      path.join(dir, 'b.json'),
      '--keyless',
      '--builder-id',
      BUILDER,
      '--identity-token-file',
      missing,
      '--',
      'make',
    ])
    expect(run.code, run.stderr).toBe(2)
    expect(run.stderr).toContain(`--identity-token-file ${missing}`)
    for (const file of ['out', 'r.json', 'b.json'])
      expect(fs.existsSync(path.join(dir, file))).toBe(false)
  })

  it('builds, then signs, in one go', async () => {
    const dir = makeTemp()
    const { run, bundle, pub } = await signedMakeBuild(copyFixture('hello-c'), dir, BUILDER)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain('signed 1 subject(s)')
    verifyWithKey(
      JSON.parse(fs.readFileSync(bundle, 'utf8')) as SerializedBundle,
      fs.readFileSync(pub, 'utf8'),
    )
  })

  it('refuses a record, report, bundle or statement written where an artifact is copied', async () => {
    const dir = makeTemp()
    const out = path.join(dir, 'out')
    for (const flag of ['--record', '--report']) {
      const run = await runCli([
        'build',
        '-C',
        copyFixture('hello-c'),
        '-o',
        'hello',
        '--epoch',
        '1700000000',
        '--out-dir',
        out,
        '--temp-dir',
        makeTempParent(),
        flag,
        path.join(out, 'hello'),
        '--',
        'make',
      ])
      expect(run.code, run.stderr).toBe(2)
      expect(run.stderr).toMatch(new RegExp(`${flag} .*hello: where artifact hello is copied`))
      // Refused before anything was copied.
      expect(fs.existsSync(out)).toBe(false)
    }
  })

  it('refuses an artifact copied over the key or the pending signature, and a bundle or statement over a source file', async () => {
    const dir = makeTemp()
    const source = makeTemp()
    fs.writeFileSync(path.join(source, 'x'), 'x\n')
    const out = path.join(dir, 'out')
    fs.mkdirSync(out)
    await runCli(['keygen', '--out', path.join(out, 'k')])
    await runCli(['keygen', '--out', path.join(dir, 'evil')])
    fs.copyFileSync(path.join(dir, 'evil.key'), path.join(source, 'evil.pem'))
    const key = path.join(out, 'k.key')
    const keyBytes = fs.readFileSync(key)
    const build = (outputs: string, script: string, extra: string[]) =>
      runCli([
        'build',
        '-C',
        source,
        '-o',
        outputs,
        '--out-dir',
        out,
        '--temp-dir',
        makeTempParent(),
        '--builder-id',
        BUILDER,
        '--key',
        key,
        ...extra,
        '--',
        'sh',
        '-c',
        script,
      ])
    // A build's own key put where the signing key is: refused before any copy, the key kept.
    const overKey = await build('k.key', 'cp evil.pem k.key', [
      '--bundle',
      path.join(dir, 'b.json'),
    ])
    expect(overKey.code, overKey.stderr).toBe(2)
    expect(overKey.stderr).toMatch(
      /^reproof: --key .*k\.key: artifact k\.key would be copied over it/m,
    )
    expect(fs.readFileSync(key)).toEqual(keyBytes)
    expect(fs.existsSync(path.join(dir, 'b.json'))).toBe(false)
    // An artifact named as the bundle's pending signature was deleted once signed.
    const pending = await build('rel.json.pending', 'echo payload > rel.json.pending', [
      '--bundle',
      path.join(out, 'rel.json'),
    ])
    expect(pending.code, pending.stderr).toBe(2)
    expect(pending.stderr).toContain("--bundle's pending signature")
    // A bundle or statement in the source tree over a file reproof did not write.
    for (const flag of ['--bundle', '--statement']) {
      const target = path.join(source, 'x')
      const extra =
        flag === '--bundle' ? [flag, target] : ['--bundle', path.join(dir, 's.json'), flag, target]
      const over = await build('x', 'true', extra)
      expect(over.code, over.stderr).toBe(2)
      expect(over.stderr).toMatch(
        new RegExp(
          `^reproof: ${flag} .*x: a file of the source tree that reproof did not write`,
          'm',
        ),
      )
      expect(fs.readFileSync(target, 'utf8')).toBe('x\n')
    }
    // One reproof wrote there before is replaced, as a record is.
    const outputs = [
      '--bundle',
      path.join(source, 'b.json'),
      '--statement',
      path.join(source, 's.json'),
    ]
    for (const round of ['first', 'again']) {
      const run = await build('y', 'echo y > y', outputs)
      expect(run.code, `${round}: ${run.stderr}`).toBe(0)
    }
  })

  it('keeps the statement file it had when the bundle cannot be written, and leaves a file named as a pending signature alone', async () => {
    const dir = makeTemp()
    const { record } = await buildRecord(dir)
    await runCli(['keygen', '--out', path.join(dir, 'k')])
    const key = path.join(dir, 'k.key')
    const statement = path.join(dir, 'st.json')
    fs.writeFileSync(statement, 'OLD\n')
    const failed = await attest(record, '/proc/sys/bundle.json', key, ['--statement', statement])
    expect(failed.code, failed.stderr).toBe(3)
    expect(fs.readFileSync(statement, 'utf8')).toBe('OLD\n')
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([])
    // Key signing keeps no pending signature: a file of that name is someone else's.
    const bundle = path.join(dir, 'b.json')
    fs.writeFileSync(`${bundle}.pending`, 'mine\n')
    const signed = await attest(record, bundle, key)
    expect(signed.code, signed.stderr).toBe(0)
    expect(fs.readFileSync(`${bundle}.pending`, 'utf8')).toBe('mine\n')
  })

  it('checks the signing options before building, and signs nothing that is not reproducible', async () => {
    const dir = makeTemp()
    const source = copyFixture('timestamp')
    const noKey = await runCli([
      'build',
      '-C',
      source,
      '-o',
      'out/*',
      '--bundle',
      path.join(dir, 'b.json'),
      '--builder-id',
      BUILDER,
      '--',
      'make',
    ])
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).not.toContain('run A started')
    await runCli(['keygen', '--out', path.join(dir, 'k')])
    const notReproducible = await runCli([
      'build',
      '-C',
      source,
      '-o',
      'out/*',
      '--temp-dir',
      makeTempParent(),
      '--bundle',
      path.join(dir, 'b.json'),
      '--key',
      path.join(dir, 'k.key'),
      '--builder-id',
      BUILDER,
      '--',
      'make',
    ])
    expect(notReproducible.code).toBe(1)
    expect(fs.existsSync(path.join(dir, 'b.json'))).toBe(false)
  })

  it('refuses a key or an identity without --bundle, before building: it would sign nothing', async () => {
    const dir = makeTemp()
    const source = copyFixture('hello-c')
    await runCli(['keygen', '--out', path.join(dir, 'k')])
    for (const signing of [
      ['--key', path.join(dir, 'k.key')],
      ['--keyless'],
      ['--statement', path.join(dir, 's.json')],
      ['--rekor-url', 'https://rekor.example.org'],
      ['--sign-retries', '1'],
      ['--builder-id', 'https://ci.example.com'],
    ]) {
      const run = await runCli([
        'build',
        '-C',
        source,
        '-o',
        'hello',
        '--out-dir',
        path.join(dir, 'out'),
        ...signing,
        '--',
        'make',
      ])
      expect(run.code, run.stderr).toBe(2)
      expect(run.stderr).toContain(`${signing[0]} signs into a bundle: add --bundle <file>`)
      expect(run.stdout).toBe('')
      expect(fs.existsSync(path.join(dir, 'out'))).toBe(false)
    }
  })
})

describe('reproof attest --sha512 on names a terminal or a path cannot take as they are', () => {
  it('escapes names it shows, reads names that are not UTF-8, and refuses a FIFO or a bundle over an artifact', async () => {
    const dir = makeTemp()
    const source = makeTemp()
    // One name that would move the cursor and erase a line, one that is not UTF-8.
    fs.writeFileSync(
      path.join(source, 'build.sh'),
      `mkdir -p out && printf a > "out/$(printf 'x\\033[1A\\033[2K')" && printf b > "out/$(printf 'y\\377z')"\n`,
    )
    const { record, out } = await buildRecord(dir, {
      source,
      outputs: 'out/*',
      command: ['sh', 'build.sh'],
    })
    await runCli(['keygen', '--out', path.join(dir, 'k')])
    const key = path.join(dir, 'k.key')
    const sign = (bundle: string) =>
      runCli([
        'attest',
        '--record',
        record,
        '--bundle',
        bundle,
        '--key',
        key,
        '--builder-id',
        BUILDER,
        '--sha512',
        out,
      ])
    const signed = await sign(path.join(dir, 'b.json'))
    expect(signed.code, signed.stderr).toBe(0)
    expect(signed.stdout).not.toContain('\u001b')
    expect(signed.stdout).toContain('out/x\\x1b[1A\\x1b[2K')
    const statement = decodeStatement(
      JSON.parse(fs.readFileSync(path.join(dir, 'b.json'), 'utf8')) as SerializedBundle,
    )
    expect(statement.subject.every((s) => /^[0-9a-f]{128}$/.test(s.digest.sha512 ?? ''))).toBe(true)
    // A bundle written over an artifact --sha512 reads replaced what was signed.
    const artifact = path.join(out, 'out', 'x\u001b[1A\u001b[2K')
    const over = await sign(artifact)
    expect(over.code).toBe(2)
    expect(over.stderr).toMatch(/--bundle .*: the same file as --sha512, which it would overwrite/)
    expect(fs.readFileSync(artifact, 'utf8')).toBe('a')
    // A FIFO where an artifact was: refused at once, never a read that blocks.
    fs.rmSync(artifact)
    execFileSync('mkfifo', [artifact])
    const fifo = await sign(path.join(dir, 'c.json'))
    expect(fifo.code).toBe(2)
    expect(fifo.stderr).toMatch(/not a regular file \(a FIFO, socket or device\)/)
    expect(fs.existsSync(path.join(dir, 'c.json'))).toBe(false)
  })
})
