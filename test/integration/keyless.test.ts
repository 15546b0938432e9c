import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { bundleFromJSON, bundleToJSON, type SerializedBundle } from '@sigstore/bundle'
import { DSSEBundleBuilder, FulcioSigner, RekorWitness } from '@sigstore/sign'
import { TrustedRoot } from '@sigstore/protobuf-specs'
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { cleanupTemp, copyFixture, makeTemp, makeTempParent, runCli } from '../helpers.js'
import { ISSUER, SUBJECT, runnerEnv, startServices, type Services } from '../sigstore-services.js'

let services: Services
beforeAll(async () => {
  services = await startServices()
})
afterAll(async () => {
  await services.close()
})
afterEach(cleanupTemp)

const githubEnv = (): Record<string, string> => runnerEnv(services)
/** Keyless signing against the loopback Fulcio and Rekor. */
const keylessFlags = (): string[] => [
  '--keyless',
  '--fulcio-url',
  services.base,
  '--rekor-url',
  services.base,
]

async function record(dir: string): Promise<string> {
  const file = path.join(dir, 'record.json')
  const run = await runCli([
    'build',
    '-C',
    copyFixture('hello-c'),
    '-o',
    'hello',
    '--epoch',
    '1700000000',
    '--record',
    file,
    '--out-dir',
    path.join(dir, 'out'),
    '--temp-dir',
    makeTempParent(),
    '--',
    'make',
  ])
  expect(run.code).toBe(0)
  return file
}

function attest(recordFile: string, bundle: string, extra: string[] = []) {
  return runCli(
    ['attest', '--record', recordFile, '--bundle', bundle, ...keylessFlags(), ...extra],
    githubEnv(),
  )
}

/** Verifies with @sigstore/verify; `timestamps` counts the log's time and any RFC 3161 ones. */
function verify(bundleFile: string, timestamps = 1): void {
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundleFile, 'utf8')) as SerializedBundle)
  const trust = toTrustMaterial(TrustedRoot.fromJSON(services.trustedRoot))
  // The log entry's integrated time is the trusted time, as with the public-good log.
  new Verifier(trust, {
    tlogThreshold: 1,
    ctlogThreshold: 1,
    timestampThreshold: timestamps,
  }).verify(toSignedEntity(bundle), {
    subjectAlternativeName: SUBJECT,
    extensions: { issuer: ISSUER },
  })
}

/** `reproof verify` of the hello fixture built into `dir`, keylessly, as SUBJECT of ISSUER. */
function verifyArgs(dir: string, bundle: string, root: string): string[] {
  const artifact = path.join(dir, 'out', 'hello')
  return ['verify', artifact, '--bundle', bundle, '--trusted-root', root].concat([
    '--certificate-identity',
    SUBJECT,
    '--certificate-oidc-issuer',
    ISSUER,
  ])
}

/** An OIDC token of `sub` at the loopback issuer, as a file or a variable carries one. */
function tokenFor(sub: string): string {
  const b64u = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url')
  return `${b64u({ alg: 'none' })}.${b64u({ iss: ISSUER, sub, aud: 'sigstore', exp: Math.floor(Date.now() / 1000) + 600 })}.sig`
}

/** The retry of an interrupted attest: it completes, the log holds `entries` still, nothing pending. */
async function retryCompletesWithoutNewEntry(
  recordFile: string,
  bundle: string,
  entries: number,
): Promise<void> {
  const retry = await attest(recordFile, bundle)
  expect(retry.code, retry.stderr).toBe(0)
  expect(services.entriesCreated()).toBe(entries)
  verify(bundle)
  expect(fs.existsSync(`${bundle}.pending`)).toBe(false)
}

describe('reproof attest --keyless', () => {
  it('gets a GitHub OIDC token, a Fulcio certificate, a Rekor entry and a timestamp, and the bundle verifies', async () => {
    const dir = makeTemp()
    const bundle = path.join(dir, 'bundle.json')
    const run = await attest(await record(dir), bundle, ['--tsa-url', services.base])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`certificate URI:${SUBJECT}`)
    const json = JSON.parse(fs.readFileSync(bundle, 'utf8')) as SerializedBundle
    expect(json.verificationMaterial.tlogEntries).toHaveLength(1)
    expect(json.verificationMaterial.timestampVerificationData?.rfc3161Timestamps).toHaveLength(1)
    // Both times must verify: the log's and the timestamp authority's.
    verify(bundle, 2)
    expect(fs.existsSync(`${bundle}.pending`)).toBe(false)
  })

  it('refuses a builder id other than the workflow the certificate will name, before signing', async () => {
    const dir = makeTemp()
    const bundle = path.join(dir, 'bundle.json')
    const other = 'https://github.com/victim/app/.github/workflows/release.yml@refs/tags/v1'
    const run = await attest(await record(dir), bundle, ['--builder-id', other])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      `--builder-id ${other}: signed keyless in GitHub Actions, the builder is the workflow the certificate names`,
    )
    expect(fs.existsSync(bundle)).toBe(false)
    // The workflow's own id is that builder: taken.
    const env = githubEnv()
    const own = `${env.GITHUB_SERVER_URL ?? ''}/${env.GITHUB_WORKFLOW_REF ?? ''}`
    const same = await attest(await record(dir), bundle, ['--builder-id', own])
    expect(same.code, same.stderr).toBe(0)
  })

  it("refuses a certificate of another workflow than the runner's variables name, before the log is asked", async () => {
    const dir = makeTemp()
    const bundle = path.join(dir, 'bundle.json')
    const recordFile = await record(dir)
    const before = services.entriesCreated()
    // A token of a fork's workflow, with the variables of acme's release job.
    services.setClaims({ workflow_ref: 'evil/fork/.github/workflows/x.yml@refs/heads/main' })
    const run = await attest(recordFile, bundle).finally(() => {
      services.setClaims({})
    })
    expect(run.code, run.stderr).toBe(3)
    expect(run.stderr).toContain(
      'the certificate Fulcio issued names the workflow https://github.com/evil/fork/.github/workflows/x.yml@refs/heads/main, not https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
    )
    expect(services.entriesCreated()).toBe(before)
    expect(fs.existsSync(bundle)).toBe(false)
  })

  it('reports a log that never answers as ambiguous (exit 4), and the retry completes without a duplicate entry', async () => {
    const dir = makeTemp()
    const bundle = path.join(dir, 'bundle.json')
    const recordFile = await record(dir)
    const before = services.entriesCreated()
    services.hangRekor(true)
    const lost = await attest(recordFile, bundle, ['--timeout', '1s', '--retries', '0'])
    services.hangRekor(false)
    expect(lost.code, lost.stderr).toBe(4)
    expect(lost.stderr).toMatch(/^reproof: the transparency log did not answer in time/m)
    expect(fs.existsSync(bundle)).toBe(false)
    expect(fs.existsSync(`${bundle}.pending`)).toBe(true)
    expect(services.entriesCreated()).toBe(before + 1)

    await retryCompletesWithoutNewEntry(recordFile, bundle, before + 1)
  })

  it('writes no bundle whose log entry came without its inclusion promise or proof', async () => {
    const dir = makeTemp()
    const bundle = path.join(dir, 'bundle.json')
    const recordFile = await record(dir)
    const before = services.entriesCreated()
    services.stripVerification(true)
    const bare = await attest(recordFile, bundle)
    services.stripVerification(false)
    expect(bare.code, bare.stderr).toBe(3)
    expect(bare.stderr).toMatch(
      /answered without the entry's inclusion promise or proof; nothing was written/,
    )
    expect(fs.existsSync(bundle)).toBe(false)
    expect(fs.existsSync(`${bundle}.pending`)).toBe(true)
    // The retry asks the log for the same entry, which now comes with its promise.
    await retryCompletesWithoutNewEntry(recordFile, bundle, before + 1)
  })

  it('writes no bundle a verifier would refuse: no proof, a garbage promise, a time past the certificate', async () => {
    const dir = makeTemp()
    const recordFile = await record(dir)
    const root = path.join(dir, 'root.json')
    fs.writeFileSync(root, JSON.stringify(services.trustedRoot))
    for (const [how, withRoot, message] of [
      // Without a root: the bundle's shape (v0.3 needs the proof) and the times.
      [
        'no-proof',
        false,
        /would not verify \(the bundle is not a valid Sigstore bundle .*inclusionProof/,
      ],
      ['late', false, /recorded the entry at .*, outside the certificate's validity/],
      // Only the log's key can tell a garbage promise: with the root.
      ['bad-promise', true, /would not verify \(.*TLOG_INCLUSION_PROMISE_ERROR/],
    ] as const) {
      const bundle = path.join(dir, `${how}.json`)
      services.tamperLog(how)
      const run = await attest(
        recordFile,
        bundle,
        withRoot ? ['--trusted-root', root] : [],
      ).finally(() => {
        services.tamperLog(undefined)
      })
      expect(run.code, `${how}: ${run.stderr}`).toBe(3)
      expect(run.stderr).toMatch(message)
      expect(run.stderr).toMatch(/nothing was written/)
      expect(fs.existsSync(bundle)).toBe(false)
    }
    // Untampered: with the root, verified before it was written, and no note; without
    // it, written with a note that says it was not.
    const checked = await attest(recordFile, path.join(dir, 'ok.json'), [
      '--trusted-root',
      root,
      '--json',
    ])
    expect(checked.code, checked.stderr).toBe(0)
    expect((JSON.parse(checked.stdout) as { notVerified: unknown }).notVerified).toBeNull()
    expect(checked.stderr).not.toMatch(/not verified against a trusted root/)
    const unchecked = await attest(recordFile, path.join(dir, 'unchecked.json'))
    expect(unchecked.code, unchecked.stderr).toBe(0)
    expect(unchecked.stderr).toMatch(
      /note: the bundle was not verified against a trusted root before it was written \(no --trusted-root was given for these services\)/,
    )
  })

  it('writes no bundle whose log entry or timestamp is of another signature (a replayed answer)', async () => {
    const dir = makeTemp()
    const recordFile = await record(dir)
    // An earlier signature, so that there is an answer to replay.
    expect(
      (await attest(recordFile, path.join(dir, 'first.json'), ['--tsa-url', services.base])).code,
    ).toBe(0)
    for (const what of ['log', 'timestamp'] as const) {
      const bundle = path.join(dir, `${what}.json`)
      services.replay(what)
      const run = await attest(recordFile, bundle, ['--tsa-url', services.base]).finally(() => {
        services.replay(undefined)
      })
      expect(run.code, run.stderr).toBe(3)
      expect(run.stderr).toContain(
        what === 'log'
          ? "gave an entry that is not this signature's (another signature)"
          : 'gave a timestamp of something else than this signature',
      )
      expect(fs.existsSync(bundle)).toBe(false)
    }
  })

  it('keeps the signature when the bundle cannot be written, so the retry adds no second log entry', async () => {
    const dir = makeTemp()
    const bundle = path.join(dir, 'bundle.json')
    const recordFile = await record(dir)
    const before = services.entriesCreated()
    // A bundle path that is a directory is refused before anything is signed or logged.
    fs.mkdirSync(path.join(bundle, 'in-the-way'), { recursive: true })
    const refused = await attest(recordFile, bundle)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/^reproof: --bundle .*bundle\.json: is a directory/m)
    expect(services.entriesCreated()).toBe(before)
    expect(fs.existsSync(`${bundle}.pending`)).toBe(false)
    fs.rmSync(bundle, { recursive: true })

    // One that becomes a directory after the log answered: the last write fails.
    services.onLogEntry(() => fs.mkdirSync(path.join(bundle, 'in-the-way'), { recursive: true }))
    const failed = await attest(recordFile, bundle).finally(() => {
      services.onLogEntry(undefined)
    })
    expect(failed.code).toBe(3)
    expect(failed.stderr).toMatch(/^reproof: .*bundle\.json: cannot write it: it is a directory$/m)
    expect(fs.existsSync(`${bundle}.pending`)).toBe(true)
    expect(services.entriesCreated()).toBe(before + 1)

    fs.rmSync(bundle, { recursive: true })
    await retryCompletesWithoutNewEntry(recordFile, bundle, before + 1)
  })

  it('reuses a kept signature only for the identity that made it', async () => {
    const dir = makeTemp()
    const bundle = path.join(dir, 'bundle.json')
    const recordFile = await record(dir)
    const [alice, bob] = ['alice', 'bob'].map((name) => {
      const file = path.join(dir, `${name}.token`)
      fs.writeFileSync(
        file,
        tokenFor(`https://github.com/${name}/app/.github/workflows/r.yml@refs/heads/main`),
      )
      return file
    }) as [string, string]
    const as = (token: string, extra: string[] = []) =>
      runCli([
        'attest',
        '--record',
        recordFile,
        '--bundle',
        bundle,
        ...keylessFlags(),
        '--identity-token-file',
        token,
        '--builder-id',
        'https://ci.example.com/release',
        '--json',
        ...extra,
      ])
    const before = services.entriesCreated()
    // A signing whose log never answers: exit 4, the signature kept.
    const lose = async (token: string): Promise<void> => {
      services.hangRekor(true)
      const lost = await as(token, ['--timeout', '1s', '--retries', '0']).finally(() => {
        services.hangRekor(false)
      })
      expect(lost.code, lost.stderr).toBe(4)
      expect(fs.existsSync(`${bundle}.pending`)).toBe(true)
    }
    const signer = (run: { stdout: string }): string =>
      (JSON.parse(run.stdout) as { signer: string }).signer
    await lose(alice)
    // Bob's retry is signed anew, under Bob's certificate, not under Alice's kept one.
    const retried = await as(bob)
    expect(retried.code, retried.stderr).toBe(0)
    expect(signer(retried)).toContain('/bob/')
    expect(services.entriesCreated()).toBe(before + 2)
    // Alice's own retry of a lost signing reuses hers: no second entry.
    fs.rmSync(bundle)
    await lose(alice)
    const hers = await as(alice)
    expect(hers.code, hers.stderr).toBe(0)
    expect(signer(hers)).toContain('/alice/')
    expect(services.entriesCreated()).toBe(before + 3)
    // A kept signature reached through a link is neither read nor replaced: refused.
    fs.rmSync(bundle)
    await lose(alice)
    fs.renameSync(`${bundle}.pending`, path.join(dir, 'kept'))
    fs.symlinkSync(path.join(dir, 'kept'), `${bundle}.pending`)
    const linked = await as(alice)
    expect(linked.code, linked.stderr).toBe(2)
    expect(services.entriesCreated()).toBe(before + 4)
  })

  it('refuses a pending place it could not use before signing, and never fails a written bundle on it', async () => {
    const dir = makeTemp()
    const recordFile = await record(dir)
    const before = services.entriesCreated()
    const bundle = path.join(dir, 'b.json')
    fs.mkdirSync(`${bundle}.pending`)
    const run = await attest(recordFile, bundle)
    expect(run.code, run.stderr).toBe(2)
    expect(run.stderr).toMatch(
      /^reproof: --bundle .*b\.json: keyless signing keeps its signature in .*b\.json\.pending/m,
    )
    expect(fs.existsSync(bundle)).toBe(false)
    // A name one too long once `.pending` is added.
    const long = path.join(dir, `${'b'.repeat(250)}.json`)
    const tooLong = await attest(recordFile, long)
    expect(tooLong.code, tooLong.stderr).toBe(2)
    expect(fs.existsSync(long)).toBe(false)
    expect(services.entriesCreated()).toBe(before)
  })

  it('keeps the identity token file out of the build, which could ship it signed', async () => {
    const dir = makeTemp()
    const source = makeTemp()
    fs.writeFileSync(path.join(source, 'x'), 'x\n')
    // Not under /tmp, which the sandbox replaces anyway.
    const token = path.join(
      makeTemp('token-', fs.existsSync('/var/tmp') ? '/var/tmp' : os.homedir()),
      'id.token',
    )
    fs.writeFileSync(token, tokenFor(SUBJECT), { mode: 0o600 })
    const build = (
      output: string,
      outDir: string,
      bundle: string,
      script: string,
      extra: string[] = [],
    ) =>
      // prettier-ignore
      runCli([
        'build', '-C', source, '-o', output, '--out-dir', outDir, '--temp-dir', makeTempParent(),
        '--bundle', path.join(dir, bundle), ...keylessFlags(), '--identity-token-file', token,
        '--builder-id', 'https://ci.example.com/release', ...extra, '--', 'sh', '-c', script,
      ])
    const out = path.join(dir, 'out')
    const run = await build(
      'leak.txt',
      out,
      'b.json',
      `cat ${token} > leak.txt 2>/dev/null; echo done >> leak.txt`,
    )
    expect(run.code, run.stderr).toBe(0)
    expect(fs.readFileSync(path.join(out, 'leak.txt'), 'utf8')).toBe('done\n')
    // Readable with no sandbox, as it is there: the signed isolation notes say so.
    const open = await build('leak.txt', path.join(dir, 'open'), 'o.json', 'echo done > leak.txt', [
      '--no-sandbox',
      '--json',
    ])
    expect(open.code, open.stderr).toBe(0)
    expect(
      (JSON.parse(open.stdout) as { isolation: { notes: string[] } }).isolation.notes.join('\n'),
    ).toMatch(/the identity token .*id\.token was readable by the build \(no sandbox\)/)
    // An artifact that would be copied over the token file is refused before any copy.
    const over = await build('id.token', path.dirname(token), 'c.json', 'echo forged > id.token')
    expect(over.code, over.stderr).toBe(2)
    expect(over.stderr).toMatch(
      /^reproof: --identity-token-file .*id\.token: artifact id\.token would be copied over it/m,
    )
    expect(fs.readFileSync(token, 'utf8')).toMatch(/\.sig$/)
  })

  it('builds and signs keylessly in one go', async () => {
    const dir = makeTemp()
    const bundle = path.join(dir, 'bundle.json')
    const run = await runCli(
      [
        'build',
        '-C',
        copyFixture('hello-c'),
        '-o',
        'hello',
        '--temp-dir',
        makeTempParent(),
        '--bundle',
        bundle,
        ...keylessFlags(),
        '--',
        'make',
      ],
      githubEnv(),
    )
    expect(run.code, run.stderr).toBe(0)
    verify(bundle)
    // Signing that fails after a reproducible build acknowledges nothing: no verdict on
    // stdout, only the error.
    services.refuseTokens(true)
    try {
      const failed = await runCli(
        // prettier-ignore
        [
          'build', '-C', copyFixture('hello-c'), '-o', 'hello', '--temp-dir', makeTempParent(),
          '--json', '--bundle', path.join(dir, 'other.json'), ...keylessFlags(), '--', 'make',
        ],
        githubEnv(),
      )
      expect(failed.code, failed.stderr).toBe(3)
      expect(JSON.parse(failed.stdout)).toEqual({
        error: expect.objectContaining({ code: 'E_ENVIRONMENT' }) as unknown,
      })
      expect(fs.existsSync(path.join(dir, 'other.json'))).toBe(false)
    } finally {
      services.refuseTokens(false)
    }
  })

  it('passes reproof verify keylessly, and fails without its transparency-log entry', async () => {
    const dir = makeTemp()
    const bundle = path.join(dir, 'bundle.json')
    expect((await attest(await record(dir), bundle)).code).toBe(0)
    const root = path.join(dir, 'trusted_root.json')
    fs.writeFileSync(root, JSON.stringify(services.trustedRoot))
    const args = [...verifyArgs(dir, bundle, root), '--require-reproduced']
    const ok = await runCli(args)
    expect(ok.code, ok.stdout + ok.stderr).toBe(0)
    const json = JSON.parse(fs.readFileSync(bundle, 'utf8')) as SerializedBundle
    const stripped = path.join(dir, 'stripped.json')
    fs.writeFileSync(
      stripped,
      JSON.stringify({
        ...json,
        verificationMaterial: { ...json.verificationMaterial, tlogEntries: [] },
      }),
    )
    const noLog = await runCli([
      ...args.slice(0, 2),
      '--bundle',
      stripped,
      ...args.slice(4),
      '--json',
    ])
    expect(noLog.code).toBe(1)
    expect((JSON.parse(noLog.stdout) as { reason: string }).reason).toBe('tlog-missing')
  })

  it('reads the identity and issuer from the certificate as bytes: a high bit is not dropped', async () => {
    const dir = makeTemp()
    const bundle = path.join(dir, 'bundle.json')
    expect((await attest(await record(dir), bundle)).code).toBe(0)
    const root = path.join(dir, 'trusted_root.json')
    fs.writeFileSync(root, JSON.stringify(services.trustedRoot))
    const statement = Buffer.from(
      (JSON.parse(fs.readFileSync(bundle, 'utf8')) as { dsseEnvelope: { payload: string } })
        .dsseEnvelope.payload,
      'base64',
    )
    // The same statement, signed for an identity whose certificate holds the byte 0xE1
    // where SUBJECT has `a` (Node's 'ascii' decoding reads one as the other).
    const resign = async (claims: Record<string, string>, file: string) => {
      const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
      const jwt = `${b64url({ alg: 'none' })}.${b64url({ iss: ISSUER, sub: SUBJECT, aud: 'sigstore', exp: Math.floor(Date.now() / 1000) + 600, ...claims })}.sig`
      const signer = new FulcioSigner({
        fulcioBaseURL: services.base,
        identityProvider: { getToken: () => Promise.resolve(jwt) },
      })
      const builder = new DSSEBundleBuilder({
        signer,
        witnesses: [new RekorWitness({ rekorBaseURL: services.base })],
      })
      const signed = await builder.create({ data: statement, type: 'application/vnd.in-toto+json' })
      fs.writeFileSync(file, JSON.stringify(bundleToJSON(signed)))
    }
    const lookalike = path.join(dir, 'lookalike.json')
    await resign({ sub: SUBJECT.replace('acme', '\u00e1cme') }, lookalike)
    const args = (file: string) => [...verifyArgs(dir, file, root), '--json']
    const run = await runCli(args(lookalike))
    expect(run.code, run.stdout + run.stderr).toBe(1)
    expect((JSON.parse(run.stdout) as { reason: string }).reason).toBe('identity-mismatch')
    expect(run.stdout).toContain('0xe1')
    // Re-signed as SUBJECT itself, the same statement verifies: the refusal is the byte's.
    const same = path.join(dir, 'same.json')
    await resign({}, same)
    const ok = await runCli(args(same))
    expect(ok.code, ok.stdout + ok.stderr).toBe(0)
  })

  it('never shows a token a service refused, and masks it first in GitHub Actions', async () => {
    const dir = makeTemp()
    const recordFile = await record(dir)
    const b64u = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url')
    const token = `${b64u({ alg: 'ES256' })}.${b64u({ iss: ISSUER, sub: SUBJECT, aud: 'sigstore', nonce: 'n'.repeat(24) })}.${'s'.repeat(43)}`
    const [, payload = '', signature = ''] = token.split('.')
    services.refuseTokens(true)
    try {
      for (const env of [{}, { GITHUB_ACTIONS: 'true' }]) {
        const run = await runCli(
          [
            'attest',
            '--record',
            recordFile,
            '--bundle',
            path.join(dir, 'b.json'),
            ...keylessFlags(),
            '--builder-id',
            'https://ci.example.com/release',
          ],
          { SIGSTORE_ID_TOKEN: token, ...env },
        )
        expect(run.code, run.stderr).toBe(3)
        expect(run.stderr).toMatch(/keyless signing failed: .*\[redacted\]/)
        // The mask comes before anything else, and is the only place the token appears.
        const masked = 'GITHUB_ACTIONS' in env ? `::add-mask::${token}\n` : ''
        expect(run.stderr.startsWith(masked)).toBe(true)
        const rest = run.stderr.slice(masked.length) + run.stdout
        for (const part of [token, payload, signature]) expect(rest).not.toContain(part)
      }
    } finally {
      services.refuseTokens(false)
    }
  })

  it('says what to do when the token cannot be had', async () => {
    const dir = makeTemp()
    const recordFile = await record(dir)
    const env = { ...githubEnv(), ACTIONS_ID_TOKEN_REQUEST_URL: undefined }
    const run = await runCli(
      ['attest', '--record', recordFile, '--bundle', path.join(dir, 'b.json'), '--keyless'],
      env,
    )
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('permissions: id-token: write')
    const both = await runCli([
      'attest',
      '--record',
      recordFile,
      '--bundle',
      path.join(dir, 'b.json'),
      '--keyless',
      '--key',
      'x.key',
      '--builder-id',
      'b',
    ])
    expect(both.code).toBe(2)
  })
})
