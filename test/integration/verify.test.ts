import os from 'node:os'
import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle'
import fc from 'fast-check'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { VerifyResult } from '../../src/verify/run-verify.js'
import { resigner } from '../resigner.js'
import {
  cleanupTemp,
  copyFixture,
  git,
  makeTemp,
  makeTempParent,
  runCli,
  signedMakeBuild,
  spawnCli,
} from '../helpers.js'
import {
  NPM_PUBLISH,
  REAL,
  REAL_BUNDLE,
  REAL_IDENTITY,
  REAL_ROOT,
  REAL_TGZ,
} from '../real-sigstore.js'

afterEach(cleanupTemp)

async function verify(args: string[]) {
  const run = await runCli(['verify', '--json', ...args])
  const result = run.stdout === '' ? undefined : (JSON.parse(run.stdout) as VerifyResult)
  return { ...run, result }
}

/**
 * A bundle as the Sigstore libraries read it (unknown fields dropped, as protobuf JSON
 * does), without the DSSE keyid, which the DSSE specification leaves unauthenticated.
 */
function meaning(json: string): string {
  try {
    const canonical = bundleToJSON(bundleFromJSON(JSON.parse(json)))
    return JSON.stringify(canonical, (key, value: unknown) => (key === 'keyid' ? undefined : value))
  } catch {
    return 'not a bundle'
  }
}

/** A copy of a file with one byte flipped. */
function flipped(file: string, at: (length: number) => number): string {
  const bytes = fs.readFileSync(file)
  const i = at(bytes.length)
  bytes[i] = (bytes[i] ?? 0) ^ 0x01
  const out = path.join(makeTemp(), path.basename(file))
  fs.writeFileSync(out, bytes)
  return out
}

describe('reproof verify on real public-good bundles, offline', () => {
  for (const bundle of ['bundleV03-dsse.sigstore.json', 'bundleV02-dsse.sigstore.json']) {
    it(`accepts ${bundle} with the right identity and issuer`, async () => {
      const { code, result } = await verify([
        REAL_TGZ,
        '--bundle',
        path.join(REAL, bundle),
        '--trusted-root',
        REAL_ROOT,
        ...REAL_IDENTITY,
      ])
      expect(code).toBe(0)
      expect(result?.verified).toBe(true)
      expect(result?.identity).toEqual({
        kind: 'certificate',
        subjectAlternativeName: 'brian@dehamer.com',
        issuer: 'https://github.com/login/oauth',
        // A certificate for a person states no workflow facts, only its issuer.
        facts: { issuer: 'https://github.com/login/oauth' },
      })
    })
  }

  it('never takes a certificate-signed bundle for one signed with the given key, trusted root or not', async () => {
    const dir = makeTemp()
    const keygen = await runCli(['keygen', '--out', path.join(dir, 'k')])
    expect(keygen.code, keygen.stderr).toBe(0)
    for (const root of [['--trusted-root', REAL_ROOT], []]) {
      const { code, result } = await verify([
        REAL_TGZ,
        '--bundle',
        REAL_BUNDLE,
        '--key',
        path.join(dir, 'k.pub'),
        ...root,
        '--predicate-type',
        NPM_PUBLISH,
      ])
      expect(code).toBe(1)
      expect(result?.verified).toBe(false)
      expect(result?.checks.find((c) => !c.ok)?.reason).toBe('untrusted-key')
    }
  })

  it('refuses a key of a kind reproof does not verify with (RSA, another curve), exit 2', async () => {
    const dir = makeTemp()
    const keys = {
      rsa: crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
      ec: crypto.generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey,
    }
    for (const [name, publicKey] of Object.entries(keys)) {
      const file = path.join(dir, `${name}.pub`)
      fs.writeFileSync(file, publicKey.export({ type: 'spki', format: 'pem' }))
      const run = await runCli(['verify', REAL_TGZ, '--bundle', REAL_BUNDLE, '--key', file])
      expect(run.code).toBe(2)
      expect(run.stderr).toContain(`--key ${file}: a ${name}`)
      expect(run.stderr).toContain('ECDSA P-256 and Ed25519 keys only')
    }
  })

  it('rejects another identity, another issuer, or an identity regexp that only matches part', async () => {
    const github = 'https://github.com/login/oauth'
    const cases: [
      flag: string,
      identity: string,
      issuer: string,
      code: number,
      reason: string | null,
    ][] = [
      ['--certificate-identity', 'someone@example.com', github, 1, 'identity-mismatch'],
      [
        '--certificate-identity',
        'brian@dehamer.com',
        'https://accounts.google.com',
        1,
        'issuer-mismatch',
      ],
      ['--certificate-identity-regexp', 'brian@dehamer', github, 1, 'identity-mismatch'],
      ['--certificate-identity-regexp', 'brian@dehamer\\.com', github, 0, null],
    ]
    for (const [flag, identity, issuer, code, reason] of cases) {
      const run = await verify([
        REAL_TGZ,
        '--bundle',
        REAL_BUNDLE,
        '--trusted-root',
        REAL_ROOT,
        flag,
        identity,
        '--certificate-oidc-issuer',
        issuer,
        '--predicate-type',
        NPM_PUBLISH,
      ])
      expect([run.code, run.result?.reason ?? null], `${flag} ${identity} ${issuer}`).toEqual([
        code,
        reason,
      ])
    }
  })

  it('rejects one flipped byte in the tarball or in the bundle', async () => {
    const tarball = await verify([
      flipped(REAL_TGZ, (n) => n >> 1),
      '--bundle',
      REAL_BUNDLE,
      '--trusted-root',
      REAL_ROOT,
      ...REAL_IDENTITY,
    ])
    expect([tarball.code, tarball.result?.reason]).toEqual([1, 'subject-mismatch'])
    // Flip a byte inside the base64 signature: still a bundle, no longer a valid one.
    const bundleText = fs.readFileSync(REAL_BUNDLE, 'utf8')
    const sig =
      (JSON.parse(bundleText) as { dsseEnvelope: { signatures: { sig: string }[] } }).dsseEnvelope
        .signatures[0]?.sig ?? ''
    const tampered = path.join(makeTemp(), 'b.json')
    fs.writeFileSync(
      tampered,
      bundleText.replace(sig, `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`),
    )
    const bad = await verify([
      REAL_TGZ,
      '--bundle',
      tampered,
      '--trusted-root',
      REAL_ROOT,
      ...REAL_IDENTITY,
    ])
    expect(bad.code).toBe(1)
    expect(bad.result?.reason).toBe('signature-invalid')
  })

  it('refuses a certificate that is not strict DER, or an unknown media type, which the library would accept', async () => {
    const text = fs.readFileSync(REAL_BUNDLE, 'utf8')
    // Found by the mutation test below: this character turns the tag of the
    // certificate's signature BIT STRING (03) into D3; @sigstore/verify still said yes.
    expect(text[965]).toBe('A')
    const file = path.join(makeTemp(), 'm.json')
    fs.writeFileSync(file, `${text.slice(0, 965)}0${text.slice(966)}`)
    const bad = await verify([
      REAL_TGZ,
      '--bundle',
      file,
      '--trusted-root',
      REAL_ROOT,
      ...REAL_IDENTITY,
    ])
    expect(bad.code).toBe(1)
    expect(bad.result?.reason).toBe('bundle-invalid')
    // Also found by it: a media type naming no bundle version that exists.
    fs.writeFileSync(file, text.replace('bundle+json;version=0.3', 'bundle+json;version=0.0'))
    const unknown = await verify([
      REAL_TGZ,
      '--bundle',
      file,
      '--trusted-root',
      REAL_ROOT,
      ...REAL_IDENTITY,
    ])
    expect(unknown.code).toBe(1)
    expect(unknown.result?.reason).toBe('bundle-invalid')
  })

  it('takes no time from a log entry whose inclusion promise was deleted, however recent it says it is', async () => {
    const json = JSON.parse(fs.readFileSync(REAL_BUNDLE, 'utf8')) as {
      verificationMaterial: { tlogEntries: Record<string, unknown>[] }
    }
    const entry = json.verificationMaterial.tlogEntries[0] ?? {}
    delete entry.inclusionPromise
    entry.integratedTime = String(Math.floor(Date.now() / 1000))
    const file = path.join(makeTemp(), 'now.json')
    fs.writeFileSync(file, JSON.stringify(json))
    const run = await verify([
      REAL_TGZ,
      '--bundle',
      file,
      '--trusted-root',
      REAL_ROOT,
      ...REAL_IDENTITY,
      '--max-age',
      '1d',
    ])
    expect(run.code).toBe(1)
    // The original, with its promise, is years old by its verified time.
    const original = await verify([
      REAL_TGZ,
      '--bundle',
      REAL_BUNDLE,
      '--trusted-root',
      REAL_ROOT,
      ...REAL_IDENTITY,
      '--max-age',
      '1d',
    ])
    expect([original.code, original.result?.reason]).toEqual([1, 'too-old'])
    expect(original.result?.checks.find((c) => c.reason === 'too-old')?.found).toBe(
      '2023-07-12T15:50:43.000Z (transparency log)',
    )
  })

  it('refuses a trusted root whose log key has no validity window, naming the field (exit 2)', async () => {
    const root = JSON.parse(fs.readFileSync(REAL_ROOT, 'utf8')) as {
      tlogs: { publicKey: { validFor?: { start?: string } } }[]
    }
    delete root.tlogs[0]?.publicKey.validFor?.start
    const file = path.join(makeTemp(), 'root.json')
    fs.writeFileSync(file, JSON.stringify(root))
    const run = await runCli([
      'verify',
      REAL_TGZ,
      '--bundle',
      REAL_BUNDLE,
      '--trusted-root',
      file,
      ...REAL_IDENTITY,
    ])
    expect(run.code).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toBe(
      `reproof: --trusted-root ${file}: tlogs[0].publicKey.validFor.start: missing or not an RFC 3339 time\n`,
    )
  })

  it('never says yes to random mutations of a valid bundle', async () => {
    const text = fs.readFileSync(REAL_BUNDLE, 'utf8')
    const dir = makeTemp()
    await fc.assert(
      fc.asyncProperty(
        fc.nat(text.length - 1),
        fc.constantFrom('0', 'A', 'z', '"', '}', ' ', 'x'),
        async (at, ch) => {
          if (text[at] === ch) return
          const file = path.join(dir, 'm.json')
          fs.writeFileSync(file, text.slice(0, at) + ch + text.slice(at + 1))
          const run = await runCli([
            'verify',
            '--json',
            REAL_TGZ,
            '--bundle',
            file,
            '--trusted-root',
            REAL_ROOT,
            ...REAL_IDENTITY,
          ])
          // A mutation the libraries cannot see (white space between tokens, an unknown
          // field, the DSSE keyid) may still verify; anything else must not.
          if (run.code === 0) expect(meaning(fs.readFileSync(file, 'utf8'))).toBe(meaning(text))
          else expect([1, 2]).toContain(run.code)
        },
      ),
      { numRuns: Number(process.env.REPROOF_MUTATIONS ?? 150) },
    )
  })

  it('refuses a 100 MB bundle before parsing it, and a truncated one', async () => {
    const dir = makeTemp()
    const big = path.join(dir, 'big.json')
    fs.writeFileSync(big, '')
    fs.truncateSync(big, 100 * 1024 * 1024)
    const huge = await runCli([
      'verify',
      REAL_TGZ,
      '--bundle',
      big,
      '--trusted-root',
      REAL_ROOT,
      ...REAL_IDENTITY,
    ])
    expect(huge.code).toBe(2)
    expect(huge.stderr).toContain('refused before parsing')
    const cut = path.join(dir, 'cut.json')
    fs.writeFileSync(cut, fs.readFileSync(REAL_BUNDLE).subarray(0, 500))
    expect(
      (
        await runCli([
          'verify',
          REAL_TGZ,
          '--bundle',
          cut,
          '--trusted-root',
          REAL_ROOT,
          ...REAL_IDENTITY,
        ])
      ).code,
    ).toBe(2)
  })

  it('needs a complete trust: keyless without issuer or identity is a usage error', async () => {
    const bundle = ['--bundle', REAL_BUNDLE, '--trusted-root', REAL_ROOT]
    expect(
      (await runCli(['verify', REAL_TGZ, ...bundle, '--certificate-identity', 'brian@dehamer.com']))
        .code,
    ).toBe(2)
    expect(
      (
        await runCli([
          'verify',
          REAL_TGZ,
          ...bundle,
          '--certificate-oidc-issuer',
          'https://github.com/login/oauth',
        ])
      ).code,
    ).toBe(2)
    // An empty value (an unset variable in a script) requires nothing: refused, not matched.
    for (const [identity, issuer] of [
      ['--certificate-identity-regexp', '--certificate-oidc-issuer'],
      ['--certificate-identity', '--certificate-oidc-issuer-regexp'],
    ] as const) {
      const empty = await runCli(['verify', REAL_TGZ, ...bundle, identity, '', issuer, ' '])
      expect([empty.code, empty.stderr]).toEqual([2, `reproof: ${identity} is empty\n`])
    }
  })
})

describe('reproof verify on bundles reproof made', () => {
  let dir: string
  let artifact: string
  let bundle: string
  let pub: string
  const BUILDER = 'https://ci.example.com/release'

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'reproof-verify-'))
    const signed = await signedMakeBuild(copyFixture('hello-c'), dir, BUILDER)
    expect(signed.run.code, signed.run.stderr).toBe(0)
    ;({ bundle, pub, artifact } = signed)
    return () => {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('verifies with the key and the full provenance policy, including reproduction', async () => {
    const { code, result } = await verify([
      artifact,
      '--bundle',
      bundle,
      '--key',
      pub,
      '--builder-id',
      BUILDER,
      '--predicate-type',
      'https://slsa.dev/provenance/v1',
      '--build-type',
      'https://reproof.dev/build-types/twin-build/v1',
      '--require-reproduced',
    ])
    expect(code).toBe(0)
    expect(result?.checks.map((c) => c.name)).toEqual([
      'signature',
      'payload type',
      'statement type',
      'predicate type',
      `subject for ${artifact}`,
      'builder id',
      'build type',
      'reproduced by two runs',
    ])
    // The yes says how the signed provenance says its two runs were kept apart.
    expect(result?.checks.at(-1)?.found).toMatch(
      /^2 intact run manifests holding every subject; the provenance says: runs (not )?isolated by namespaces.*; varied: path, time, file-times, ordering; stated by the build that ran them$/,
    )
  })

  it('refuses inputs that are no regular file at once: a bundle or root leading to a device or a FIFO, a directory artifact', async () => {
    const odd = makeTemp()
    const zero = path.join(odd, 'zero.json')
    fs.symlinkSync('/dev/zero', zero)
    const fifo = path.join(odd, 'fifo.json')
    execFileSync('mkfifo', [fifo])
    for (const args of [
      [artifact, '--bundle', zero, '--key', pub],
      [artifact, '--bundle', fifo, '--key', pub],
      [artifact, '--bundle', bundle, '--key', zero],
      [artifact, '--bundle', bundle, '--key', pub, '--policy', fifo],
      [path.dirname(artifact), '--bundle', bundle, '--key', pub],
    ]) {
      const run = await runCli(['verify', ...args])
      expect(run.code, args.join(' ')).toBe(2)
      expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1)
      expect(run.stderr).toMatch(/not a regular file|a directory/)
    }
    const root = await runCli([
      'verify',
      artifact,
      '--bundle',
      bundle,
      '--trusted-root',
      zero,
      '--certificate-identity',
      'x',
      '--certificate-oidc-issuer',
      'y',
    ])
    expect([root.code, root.stderr.trim()]).toEqual([
      2,
      `reproof: --trusted-root ${zero}: not a regular file (a FIFO, socket or device), not a file to read`,
    ])
  })

  it('gives each way of failing its own reason', async () => {
    const other = path.join(dir, 'other')
    if (!fs.existsSync(`${other}.pub`)) await runCli(['keygen', '--out', other])
    const cases: [string[], string][] = [
      [['--key', `${other}.pub`], 'untrusted-key'],
      [['--key', pub, '--builder-id', 'https://evil.example.com'], 'builder-id'],
      [['--key', pub, '--predicate-type', 'https://example.com/other'], 'predicate-type'],
      // Built outside git: the provenance names no commit to compare.
      [['--key', pub, '--source-digest', '0'.repeat(40)], 'policy-field-missing'],
      [['--key', pub, '--max-age', '1d'], 'too-old'],
    ]
    for (const [flags, reason] of cases) {
      const { code, result } = await verify([artifact, '--bundle', bundle, ...flags])
      expect([code, result?.reason], flags.join(' ')).toEqual([1, reason])
    }
    const elsewhere = path.join(dir, 'elsewhere.bin')
    fs.writeFileSync(elsewhere, 'not the artifact')
    expect((await verify([elsewhere, '--bundle', bundle, '--key', pub])).result?.reason).toBe(
      'subject-mismatch',
    )
  })

  it('refuses a bundle with two signatures, or with a swapped payload', async () => {
    const json = JSON.parse(fs.readFileSync(bundle, 'utf8')) as {
      dsseEnvelope: { payload: string; signatures: unknown[] }
    }
    const two = path.join(dir, 'two.json')
    fs.writeFileSync(
      two,
      JSON.stringify({
        ...json,
        dsseEnvelope: {
          ...json.dsseEnvelope,
          signatures: [json.dsseEnvelope.signatures[0], json.dsseEnvelope.signatures[0]],
        },
      }),
    )
    // The bundle format itself allows one signature per envelope.
    expect((await verify([artifact, '--bundle', two, '--key', pub])).result?.reason).toBe(
      'bundle-invalid',
    )
    const statement = JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64').toString()) as {
      predicateType: string
    }
    statement.predicateType = 'https://example.com/evil'
    const swapped = path.join(dir, 'swapped.json')
    fs.writeFileSync(
      swapped,
      JSON.stringify({
        ...json,
        dsseEnvelope: {
          ...json.dsseEnvelope,
          payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
        },
      }),
    )
    expect((await verify([artifact, '--bundle', swapped, '--key', pub])).result?.reason).toBe(
      'signature-invalid',
    )
  })

  it('reads the same settings from a policy file, a flag agreeing with it, unknown keys refused', async () => {
    const policy = path.join(dir, 'policy.json')
    fs.writeFileSync(
      policy,
      JSON.stringify({ builderId: 'https://evil.example.com', requireReproduced: true }),
    )
    const policyAnd = (...flags: string[]) =>
      verify([artifact, '--bundle', bundle, '--key', pub, '--policy', policy, ...flags])
    expect((await policyAnd()).result?.reason).toBe('builder-id')
    // A flag replacing the file's value dropped its requirement without a word: refused.
    const replaced = await policyAnd('--builder-id', BUILDER)
    expect(replaced.code).toBe(2)
    expect(replaced.stderr).toContain(
      '--builder-id (policy builderId): the flag and the policy file ask different things',
    )
    fs.writeFileSync(policy, JSON.stringify({ builderId: BUILDER, requireReproduced: false }))
    // Agreeing, and a yes/no the file sets false asks nothing, which a flag may ask.
    const agreeing = await policyAnd('--builder-id', BUILDER, '--require-reproduced')
    expect(agreeing.code, agreeing.stderr).toBe(0)
    expect(agreeing.stdout).toContain('reproduced')
    // A policy that is not UTF-8: decoded leniently, two builders read as one.
    fs.writeFileSync(
      policy,
      Buffer.concat([
        Buffer.from('{"builderId":"https://ci.example.com/r'),
        Buffer.from([0xe9]),
        Buffer.from('"}'),
      ]),
    )
    const latin1 = await policyAnd()
    expect(latin1.code).toBe(2)
    expect(latin1.stderr).toContain(`--policy ${policy}: not UTF-8`)
    // The policy file alone, as the command line gives it.
    const withPolicy = () =>
      runCli(['verify', artifact, '--bundle', bundle, '--key', pub, '--policy', policy])
    fs.writeFileSync(policy, JSON.stringify({ builderID: BUILDER }))
    expect((await withPolicy()).code).toBe(2)
    // Not an object: an array asks nothing, and is refused rather than taken for that.
    for (const [text, what] of [
      ['[]', 'an array'],
      ['[{"requireReproduced": true}]', 'an array'],
      ['null', 'null'],
      ['7', 'number'],
    ] as const) {
      fs.writeFileSync(policy, text)
      const run = await withPolicy()
      expect(run.code, text).toBe(2)
      expect(run.stderr).toContain(`--policy ${policy}: must be a JSON object, not ${what}`)
    }
  })
})

describe('reproof verify --rebuild', () => {
  /** `repo` made a repository of one commit holding all it holds. */
  const commitAll = (repo: string, message: string): void => {
    git(repo, ['init', '-q'])
    git(repo, ['add', '.'])
    git(repo, ['-c', 'user.name=t', '-c', 'user.email=t@x.invalid', 'commit', '-qm', message])
  }

  /** Arguments of `reproof verify` that rebuild from the repository `source`. */
  const rebuildArgs = (artifact: string, bundle: string, key: string, source: string): string[] => [
    artifact,
    '--bundle',
    bundle,
    '--key',
    key,
    '--rebuild',
    '--source',
    source,
    '--temp-dir',
    makeTempParent(),
  ]

  /** A signed build of `built`, rebuilt from the repository `repo`. */
  async function rebuildOf(built: string, repo: string) {
    const { run, bundle, pub, artifact } = await signedMakeBuild(
      built,
      makeTemp(),
      'https://ci.example.com',
    )
    expect(run.code, run.stderr).toBe(0)
    return await verify(rebuildArgs(artifact, bundle, pub, repo))
  }

  async function signedRepo(dirty: boolean) {
    const dir = makeTemp()
    const repo = copyFixture('hello-c')
    const { execFileSync } = await import('node:child_process')
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: repo,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@x.invalid',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@x.invalid',
          GIT_COMMITTER_DATE: '@1600000000 +0000',
          GIT_AUTHOR_DATE: '@1600000000 +0000',
        },
      })
    git('init', '-q')
    git('add', '.')
    git('commit', '-qm', 'release')
    // Pushed to its upstream: the record names the branch.
    const origin = path.join(dir, 'origin.git')
    execFileSync('git', ['init', '-q', '--bare', origin])
    git('remote', 'add', 'origin', origin)
    git('push', '-q', '-u', 'origin', 'HEAD')
    // A build from uncommitted changes: the signature is valid, the provenance is not true.
    if (dirty) fs.appendFileSync(path.join(repo, 'hello.c'), '\nint extra = 42;\n')
    const { run, bundle, pub, artifact } = await signedMakeBuild(
      repo,
      dir,
      'https://ci.example.com',
    )
    expect(run.code, run.stderr).toBe(0)
    return { repo, bundle, pub, artifact }
  }

  it('rebuilds from the recorded commit and finds the same digests', async () => {
    const { repo, bundle, pub, artifact } = await signedRepo(false)
    const { code, result } = await verify(rebuildArgs(artifact, bundle, pub, repo))
    expect(code, JSON.stringify(result?.checks)).toBe(0)
    expect(result?.checks.at(-1)).toMatchObject({ name: 'rebuild', ok: true })
    expect(JSON.stringify(result?.checks.at(-1))).not.toContain('not used')
    // Permissions given and not used are said with the yes, apart from what ran.
    const allowed = await verify([
      ...rebuildArgs(artifact, bundle, pub, repo),
      '--rebuild-network',
      '--rebuild-env',
      'PATH',
    ])
    expect(allowed.code).toBe(0)
    expect(allowed.result?.checks.at(-1)?.found).toMatch(
      /; given and not used: --rebuild-network \(the attested build did not reach the network\), --rebuild-env PATH \(the attested build did not take it from its caller\)$/,
    )
    // A replace ref in the repository given swaps the commit's tree for another: the
    // rebuild reads the commit as it is, and still finds the same digests.
    const run = (...args: string[]): string => git(repo, args).trim()
    const recorded = run('rev-parse', 'HEAD')
    fs.appendFileSync(path.join(repo, 'hello.c'), '\nint swapped = 1;\n')
    run('commit', '-qam', 'another tree')
    run('replace', recorded, run('rev-parse', 'HEAD'))
    const swapped = await verify(rebuildArgs(artifact, bundle, pub, repo))
    expect(swapped.code, JSON.stringify(swapped.result?.checks)).toBe(0)
    // The repository's own settings: replace refs turned back on by its config, which
    // outranks git's environment, and a smudge filter and attributes of its own (outside
    // the commit) that would rewrite the source on checkout. None is the commit's.
    run('config', 'core.useReplaceRefs', 'true')
    run('config', 'filter.x.smudge', "sed 's/int main/int smudged; int main/'")
    fs.writeFileSync(path.join(repo, '.git', 'info', 'attributes'), 'hello.c filter=x ident\n')
    const configured = await verify(rebuildArgs(artifact, bundle, pub, repo))
    expect(configured.code, JSON.stringify(configured.result?.checks)).toBe(0)
  })

  it('rebuilds a build made in a subdirectory of the repository, there', async () => {
    const repo = makeTemp()
    const app = path.join(repo, 'apps', 'hello')
    fs.cpSync(copyFixture('hello-c'), app, { recursive: true })
    fs.writeFileSync(path.join(repo, 'README'), 'the repository top\n')
    commitAll(repo, 'apps')
    const { run, bundle, pub, artifact } = await signedMakeBuild(
      app,
      makeTemp(),
      'https://ci.example.com',
    )
    expect(run.code, run.stderr).toBe(0)
    const rebuilt = await verify(rebuildArgs(artifact, bundle, pub, repo))
    expect(rebuilt.code, JSON.stringify(rebuilt.result?.checks)).toBe(0)
    expect(rebuilt.result?.checks.at(-1)).toMatchObject({ name: 'rebuild', ok: true })
  })

  it('refuses to rebuild a commit that holds a submodule, naming it, rather than fail on its missing files', async () => {
    const lib = makeTemp()
    fs.writeFileSync(path.join(lib, 'msg.h'), '#define MSG "hi"\n')
    const id = ['-c', 'user.name=t', '-c', 'user.email=t@x.invalid']
    git(lib, ['init', '-q'])
    git(lib, ['add', '.'])
    git(lib, [...id, 'commit', '-qm', 'lib'])
    const repo = copyFixture('hello-c')
    git(repo, ['init', '-q'])
    git(repo, ['-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', lib, 'lib'])
    git(repo, ['add', '.'])
    git(repo, [...id, 'commit', '-qm', 'with a submodule'])
    const rebuilt = await rebuildOf(repo, repo)
    expect(rebuilt.code).toBe(3)
    expect(rebuilt.stderr).toMatch(
      /--rebuild: the recorded commit [0-9a-f]{12} holds submodules \(lib\), whose files a rebuild does not check out/,
    )
  })

  it('says a build made outside git has no commit to rebuild, not that its provenance is short', async () => {
    const repo = makeTemp()
    git(repo, ['init', '-q'])
    const rebuilt = await rebuildOf(copyFixture('hello-c'), repo)
    expect(rebuilt.code).toBe(2)
    expect(rebuilt.stderr).toMatch(
      /^reproof: --rebuild: the provenance names no source commit \(the attested build ran outside a git work tree\)[^\n]*\n$/,
    )
  })

  it('says no, and explains, when the attested artifact was not built from the recorded commit', async () => {
    const { repo, bundle, pub, artifact } = await signedRepo(true)
    const { code, result, stdout } = await verify(rebuildArgs(artifact, bundle, pub, repo))
    expect(code).toBe(1)
    expect(result?.reason).toBe('rebuild-mismatch')
    expect(result?.explanation?.some((i) => i.path === 'hello' && i.kind === 'content')).toBe(true)
    expect(stdout).toContain('"rebuild-mismatch"')
  })

  it('says no to a rebuild that differs, even when the comparison that explains it will not open the rebuilt file', async () => {
    // The rebuild makes a gzip of 50 MB of zeros: past the ratio limit of the comparison.
    const repo = makeTemp()
    fs.writeFileSync(
      path.join(repo, 'Makefile'),
      'hello:\n\thead -c 50000000 /dev/zero | gzip -n > hello\n',
    )
    commitAll(repo, 'bomb')
    const dir = makeTemp()
    const { run, bundle } = await signedMakeBuild(repo, dir, 'https://ci.example.com')
    expect(run.code, run.stderr).toBe(0)
    // Signed for another artifact, which the rebuild does not make.
    const other = path.join(dir, 'hello')
    fs.writeFileSync(other, gzipSync('hi\n'))
    const { pub, resigned } = await resigner(bundle)
    const claimed = await resigned('other.json', (s) => {
      s.subject = [
        {
          name: 'hello',
          digest: {
            sha256: crypto.createHash('sha256').update(fs.readFileSync(other)).digest('hex'),
          },
        },
      ]
    })
    const { code, result, stdout } = await verify(rebuildArgs(other, claimed, pub, repo))
    expect([code, result?.reason], stdout).toEqual([1, 'rebuild-mismatch'])
    expect(result?.explanation).toEqual([
      {
        path: 'hello',
        kind: 'error',
        message: 'not explained: hello: decompresses to more than 1000 times its compressed size',
        hints: [],
      },
    ])
    const text = await runCli(['verify', ...rebuildArgs(other, claimed, pub, repo)])
    expect(text.code, text.stderr).toBe(1)
    expect(text.stdout).toContain(
      'differs: hello (not explained: hello: decompresses to more than 1000 times its compressed size)',
    )
  })

  it("rebuilds the commit as a checkout has it, whatever the commit's own export attributes leave out", async () => {
    // The commit holds hello.c, marked export-ignore, and a rogue alt/hello.c that make
    // finds through VPATH only when hello.c is missing. The artifact is signed from a
    // work tree without hello.c; `git archive` left hello.c out too, and the rogue build
    // came out "identical" from a tree no checkout of the commit has.
    const repo = makeTemp()
    fs.cpSync(copyFixture('hello-c'), repo, { recursive: true })
    const source = fs.readFileSync(path.join(repo, 'hello.c'), 'utf8')
    fs.mkdirSync(path.join(repo, 'alt'))
    fs.writeFileSync(path.join(repo, 'alt', 'hello.c'), source.replace(/hello/gi, 'ROGUE'))
    fs.writeFileSync(
      path.join(repo, 'Makefile'),
      'VPATH = alt\nhello: hello.c\n\t$(CC) -O2 -o $@ $<\n',
    )
    fs.writeFileSync(
      path.join(repo, '.gitattributes'),
      '/hello.c export-ignore\n/README* export-subst\n',
    )
    commitAll(repo, 'attrs')
    const built = makeTemp()
    fs.cpSync(repo, built, { recursive: true })
    fs.rmSync(path.join(built, 'hello.c'))
    const { run, bundle, pub, artifact } = await signedMakeBuild(
      built,
      makeTemp(),
      'https://ci.example.com',
    )
    expect(run.code, run.stderr).toBe(0)
    const { code, result } = await verify(rebuildArgs(artifact, bundle, pub, repo))
    expect([code, result?.reason], JSON.stringify(result?.checks)).toEqual([1, 'rebuild-mismatch'])
  })

  it('rebuilds only a full commit id, never a ref whose name looks like one', async () => {
    const { repo, bundle, artifact } = await signedRepo(false)
    const { resigned, pub: signer } = await resigner(bundle)
    // A tag named like a SHA-256 commit id, in a SHA-1 repository: git looks it up as a
    // ref, which can be moved to any commit.
    const name = crypto.createHash('sha256').update('x').digest('hex')
    git(repo, ['tag', name, 'HEAD'])
    const tagged = await resigned('tag.json', (s) => {
      ;(s.predicate.buildDefinition.externalParameters.source as { commit?: string }).commit = name
    })
    const run = await verify(rebuildArgs(artifact, tagged, signer, repo))
    expect(run.code, run.stderr).toBe(2)
    expect(run.stderr).toMatch(/is not a full SHA-1 commit id of this repository/)
  })

  it('checks the source ref recorded from the branch: exactly, or by an anchored regexp', async () => {
    const { bundle, pub, artifact } = await signedRepo(false)
    const withRef = (...flags: string[]) =>
      verify([artifact, '--bundle', bundle, '--key', pub, ...flags])
    const exact = await withRef('--source-ref', 'refs/heads/master')
    expect(exact.code, JSON.stringify(exact.result?.checks)).toBe(0)
    // Says whose word it is: a key bundle's source facts are the signer's own.
    expect(exact.result?.checks.at(-1)?.name).toBe(
      'source ref (signer-asserted, from the predicate)',
    )
    // --source-ref is not a pattern: a dot is a dot.
    const pattern = await withRef('--source-ref', 'refs/heads/.*')
    expect([pattern.code, pattern.result?.reason]).toEqual([1, 'source-ref'])
    const any = await withRef('--source-ref-regexp', 'refs/heads/.*')
    expect(any.code, JSON.stringify(any.result?.checks)).toBe(0)
    const release = await withRef('--source-ref', 'refs/heads/release')
    expect([release.code, release.result?.reason]).toEqual([1, 'source-ref'])
    const partial = await withRef('--source-ref-regexp', 'refs/heads')
    expect(partial.result?.reason).toBe('source-ref')
  })

  it("rebuilds only reproof's provenance, and never gives the signer's command the verifier's variables or network unasked", async () => {
    const { repo, bundle, artifact } = await signedRepo(false)
    const { pub, resigned } = await resigner(bundle)
    const rebuild = (file: string, ...extra: string[]) =>
      verify([...rebuildArgs(artifact, file, pub, repo), ...extra])
    const asIs = await rebuild(await resigned('as-is.json', () => undefined))
    expect(asIs.code, JSON.stringify(asIs.result?.checks)).toBe(0)
    // What was run is said with the yes: the command is the signer's word.
    expect(JSON.stringify(asIs.result?.checks.at(-1)?.found)).toMatch(
      /running the attested command/,
    )

    // A variable the attested build took from its caller: the verifier's would be read.
    const secret = await resigned('secret.json', (s) => {
      s.predicate.buildDefinition.internalParameters.environment.push({
        name: 'DEPLOY_TOKEN',
        from: 'caller',
      })
    })
    const unasked = await rebuild(secret)
    expect(unasked.code).toBe(2)
    expect(unasked.stderr).toMatch(/took DEPLOY_TOKEN from its caller's environment.*--rebuild-env/)
    const given = await runCli(
      ['verify', ...rebuildArgs(artifact, secret, pub, repo), '--rebuild-env', 'DEPLOY_TOKEN'],
      { DEPLOY_TOKEN: 'the verifier chose to give this' },
    )
    expect(given.code, given.stderr).toBe(0)
    // Asked for but not set: said in the verifier's flags, with a hint it can follow.
    const unset = await runCli([
      'verify',
      ...rebuildArgs(artifact, secret, pub, repo),
      '--rebuild-env',
      'DEPLOY_TOKEN',
    ])
    expect(unset.code).toBe(2)
    expect(unset.stderr).toContain('--rebuild: --rebuild-env DEPLOY_TOKEN: not set')
    expect(unset.stderr).toContain('set it in your environment, then verify again')
    expect(unset.stderr).not.toMatch(/(?<![\w-])--env\b/)

    // The network, as the signer recorded it: only with --rebuild-network.
    const online = await resigned('online.json', (s) => {
      s.predicate.buildDefinition.internalParameters.isolation = {
        kind: 'namespaces',
        network: 'host',
      }
    })
    const offline = await rebuild(online)
    expect(offline.code).toBe(2)
    expect(offline.stderr).toMatch(/reached the network; pass --rebuild-network/)

    // Another predicate's look-alike fields are not rebuilt from.
    const custom = await resigned('custom.json', (s) => {
      s.predicateType = 'https://example.com/custom-provenance/v1'
    })
    const other = await rebuild(
      custom,
      '--predicate-type',
      'https://example.com/custom-provenance/v1',
    )
    expect(other.code).toBe(2)
    expect(other.stderr).toMatch(/only reproof's own provenance/)

    // The rebuild's options without --rebuild are a question nobody answered.
    const stray = await verify([artifact, '--bundle', bundle, '--key', pub, '--source', repo])
    expect(stray.code).toBe(2)
    expect(stray.stderr).toMatch(/--source is for --rebuild/)
  })

  it('holds a hostile signer to every digest, to the output directory and to the commit', async () => {
    const { repo, bundle, artifact } = await signedRepo(false)
    const { pub, resigned } = await resigner(bundle)
    const dir = makeTemp()
    const sha = (algorithm: string, file: string) =>
      crypto.createHash(algorithm).update(fs.readFileSync(file)).digest('hex')
    // The subject's SHA-256 is the real build's, its SHA-512 another file's: verify
    // matches that file by SHA-512, and the rebuild must compare that digest too.
    const evil = path.join(dir, 'evil.bin')
    fs.writeFileSync(evil, 'not what was built\n')
    const mixed = await resigned('mixed.json', (s) => {
      s.subject[0] = {
        name: s.subject[0]?.name ?? '',
        digest: { ...s.subject[0]?.digest, sha512: sha('sha512', evil) },
      }
    })
    const byOther = await verify(rebuildArgs(`sha512:${sha('sha512', evil)}`, mixed, pub, repo))
    expect([byOther.code, byOther.result?.reason], byOther.stderr).toEqual([1, 'rebuild-mismatch'])
    // Nor do the run manifests, which name SHA-256 digests, vouch for it.
    const reproduced = await verify([
      ...rebuildArgs(`sha512:${sha('sha512', evil)}`, mixed, pub, repo),
      '--require-reproduced',
    ])
    expect([reproduced.code, reproduced.result?.reason]).toEqual([1, 'not-reproduced'])

    // A subject named out of the output directory: nothing runs, nothing is written.
    const victim = path.join(dir, 'victim.txt')
    fs.writeFileSync(victim, 'ORIGINAL')
    const outside = await resigned('outside.json', (s) => {
      s.subject.push({
        name: path.relative('/', victim).replace(/^/, '../'.repeat(30)),
        digest: { sha256: sha('sha256', artifact) },
      })
    })
    const escaped = await verify(rebuildArgs(artifact, outside, pub, repo))
    expect(escaped.code).toBe(2)
    expect(escaped.stderr).toMatch(/is not a path inside the build's output directory/)
    expect(fs.readFileSync(victim, 'utf8')).toBe('ORIGINAL')

    // A directory of the commit that is a link out of it: not followed.
    fs.symlinkSync(dir, path.join(repo, 'sub'))
    git(repo, ['add', 'sub'])
    git(repo, ['-c', 'user.name=t', '-c', 'user.email=t@x.invalid', 'commit', '-qm', 'link'])
    const head = git(repo, ['rev-parse', 'HEAD']).trim()
    const linked = await resigned('linked.json', (s) => {
      const source = s.predicate.buildDefinition.externalParameters.source as Record<
        string,
        unknown
      >
      source.subdirectory = 'sub'
      source.commit = head
    })
    const followed = await verify(rebuildArgs(artifact, linked, pub, repo))
    expect(followed.code).toBe(2)
    expect(followed.stderr).toMatch(/a link is not followed/)

    // A statement type that is not a string, and a key given twice: not read as one.
    const listed = await resigned('listed.json', (s) => {
      s._type = [s._type]
    })
    const twice = await resigned(
      'twice.json',
      () => undefined,
      (text) => text.replace(/^\{/, `{"subject":[],`),
    )
    for (const file of [listed, twice]) {
      const read = await verify([artifact, '--bundle', file, '--key', pub])
      expect([read.code, read.result?.reason], file).toEqual([1, 'statement-type'])
    }
    // A bundle with two envelopes, the first unsigned: JSON.parse keeps the second, a
    // reader that keeps the first reads another statement.
    const plain = await resigned('plain.json', () => undefined)
    const sound = JSON.parse(fs.readFileSync(plain, 'utf8')) as { dsseEnvelope: object }
    const unsigned = JSON.stringify({
      ...sound.dsseEnvelope,
      payload: Buffer.from('{"evil":true}').toString('base64'),
    })
    const doubled = path.join(path.dirname(plain), 'doubled.json')
    fs.writeFileSync(
      doubled,
      fs
        .readFileSync(plain, 'utf8')
        .replace(/"dsseEnvelope":\s*/, `"dsseEnvelope":${unsigned},"dsseEnvelope":`),
    )
    expect((await verify([artifact, '--bundle', plain, '--key', pub])).code).toBe(0)
    const two = await verify([artifact, '--bundle', doubled, '--key', pub])
    expect([two.code, two.result?.reason]).toEqual([1, 'bundle-invalid'])

    // Reproduced, for a subject with no SHA-256, by manifests whose entries have none.
    const unnamed = Buffer.from('[{"name":"unrelated"}]')
    const bare = await resigned('bare.json', (s) => {
      s.subject = [{ name: 'evil.bin', digest: { sha512: sha('sha512', evil) } }]
      for (const b of s.predicate.runDetails.byproducts) {
        b.content = unnamed.toString('base64')
        b.digest = { sha256: crypto.createHash('sha256').update(unnamed).digest('hex') }
      }
    })
    const unproven = await verify([evil, '--bundle', bare, '--key', pub, '--require-reproduced'])
    expect([unproven.code, unproven.result?.reason]).toEqual([1, 'not-reproduced'])
  })

  it('stops a rebuild past --rebuild-timeout (unknown, exit 4) and on SIGTERM (exit 130), saying nothing verified', async () => {
    const { repo, bundle, artifact } = await signedRepo(false)
    const { pub, resigned } = await resigner(bundle)
    const slow = await resigned('slow.json', (s) => {
      s.predicate.buildDefinition.externalParameters.command = ['sh', '-c', 'sleep 60; make']
    })
    const started = Date.now()
    const timedOut = await verify([
      ...rebuildArgs(artifact, slow, pub, repo),
      '--rebuild-timeout',
      '2s',
    ])
    expect(timedOut.code, timedOut.stderr).toBe(4)
    expect(timedOut.result?.verified).not.toBe(true)
    // In the verifier's words: its option is --rebuild-timeout, not build's --timeout.
    expect(timedOut.stderr).toMatch(/did not finish within --rebuild-timeout 2(\.0)?s/)
    expect(timedOut.stderr).not.toMatch(/ --timeout/)
    // What was checked before the rebuild stopped is said with the error.
    const said = timedOut.result as unknown as {
      error: { checks: { name: string; ok: boolean }[] }
    }
    expect(said.error.checks.map((c) => [c.name, c.ok])).toContainEqual(['signature', true])
    expect(said.error.checks.every((c) => c.ok)).toBe(true)
    const stopped = await spawnCli(['verify', ...rebuildArgs(artifact, slow, pub, repo)], {
      killAfterMs: 3000,
    })
    expect(stopped.code, stopped.stderr).toBe(130)
    expect(stopped.stdout).not.toMatch(/verified/)
    expect(Date.now() - started).toBeLessThan(50_000)
  })

  it('refuses a commit the repository does not have, and never rebuilds an unverified statement', async () => {
    const { bundle, pub, artifact } = await signedRepo(false)
    const empty = makeTemp()
    const { execFileSync } = await import('node:child_process')
    execFileSync('git', ['init', '-q'], { cwd: empty })
    const missing = await runCli(['verify', ...rebuildArgs(artifact, bundle, pub, empty)])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('is not in this repository')
    await runCli(['keygen', '--out', path.join(empty, 'other')])
    const untrusted = await verify(
      rebuildArgs(artifact, bundle, path.join(empty, 'other.pub'), empty),
    )
    expect(untrusted.result?.reason).toBe('untrusted-key')
    expect(untrusted.result?.checks.some((c) => c.name === 'rebuild')).toBe(false)
    expect(untrusted.result?.unchecked).toContain(
      'the rebuild: not run, as an earlier check failed',
    )
  })

  it('checks out only objects that hash to their names, and hides the bundle and every git directory of the source', async () => {
    const { repo, bundle, pub, artifact } = await signedRepo(false)
    const { execFileSync } = await import('node:child_process')
    // A linked worktree of a clone: its objects (every other commit's files) lie in the
    // clone's git directory, which the command must not see either; nor the bundle.
    // (Not under /tmp, which the sandbox replaces whole.)
    const top = makeTemp('rebuild-', fs.existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir())
    const main = path.join(top, 'main')
    git(top, ['clone', '-q', repo, main])
    const worktree = path.join(top, 'wt')
    git(main, ['worktree', 'add', '-q', '--detach', worktree, 'HEAD'])
    const kept = path.join(top, 'keep', 'app.sigstore.json')
    fs.mkdirSync(path.dirname(kept))
    fs.copyFileSync(bundle, kept)
    const linked = await verify(rebuildArgs(artifact, kept, pub, worktree))
    expect(linked.code, JSON.stringify(linked.result?.checks)).toBe(0)
    const said = String(linked.result?.checks.at(-1)?.found)
    for (const hidden of [path.join(main, '.git'), path.dirname(kept)])
      expect(said).toContain(hidden)
    // What the sandbox could not take away (both runs alive at once share the host's
    // terminals and FIFOs) is said with the yes too.
    expect(said).toMatch(/; the sandbox could not cover: .*both runs are alive at once/)
    // A copy whose hello.c blob was replaced in place by another's bytes: git reads a
    // loose object without hashing it, so the checkout would be of another file.
    const forged = path.join(makeTemp(), 'forged')
    fs.cpSync(repo, forged, { recursive: true })
    const id = git(forged, ['rev-parse', 'HEAD:hello.c']).trim()
    fs.writeFileSync(path.join(forged, 'evil.c'), 'int main(void) { return 66; }\n')
    const evil = git(forged, ['hash-object', '-w', 'evil.c']).trim()
    const loose = (name: string) =>
      path.join(forged, '.git', 'objects', name.slice(0, 2), name.slice(2))
    fs.chmodSync(loose(id), 0o644)
    fs.copyFileSync(loose(evil), loose(id))
    expect(
      execFileSync('git', ['-C', forged, 'cat-file', 'blob', id], { encoding: 'utf8' }),
    ).toContain('return 66')
    const refused = await runCli(['verify', ...rebuildArgs(artifact, bundle, pub, forged)])
    expect(refused.code, refused.stderr).toBe(2)
    expect(refused.stderr).toMatch(/does not hash to its name in this repository/)
  })

  it('refuses a --temp-dir inside a git work tree, and takes a relative one from where it runs', async () => {
    const { repo, bundle, pub, artifact } = await signedRepo(false)
    const args = rebuildArgs(artifact, bundle, pub, repo)
    const inside = path.join(repo, 'scratch')
    fs.mkdirSync(inside)
    const refused = await runCli(['verify', ...args.slice(0, -1), inside])
    expect(refused.code, refused.stderr).toBe(2)
    expect(refused.stderr).toMatch(/--temp-dir .*scratch: inside the git work tree/)
    expect(fs.readdirSync(inside)).toEqual([])
    // Relative: from the directory verify runs in, not from the repository git runs in.
    const here = makeTemp()
    fs.mkdirSync(path.join(here, 'tmp'))
    const cwd = process.cwd()
    process.chdir(here)
    try {
      const relative = await verify([...args.slice(0, -1), 'tmp'])
      expect(relative.code, relative.stderr).toBe(0)
      expect(relative.result?.checks.at(-1)).toMatchObject({ name: 'rebuild', ok: true })
    } finally {
      process.chdir(cwd)
    }
    expect(fs.readdirSync(path.join(here, 'tmp'))).toEqual([])
  })
})
