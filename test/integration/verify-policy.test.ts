import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DSSEBundleBuilder, RekorWitness } from '@sigstore/sign'
import { bundleToJSON } from '@sigstore/bundle'
import { keySigner } from '../../src/sign/key-signer.js'
import { keyHint } from '../../src/sign/keys.js'
import { signWithKey } from '../../src/sign/sign-statement.js'
import type { VerifyResult } from '../../src/verify/run-verify.js'
import { cleanupTemp, copyFixture, makeTemp, makeTempParent, runCli } from '../helpers.js'
import { ISSUER, SUBJECT, runnerEnv, startServices, type Services } from '../sigstore-services.js'

afterEach(cleanupTemp)

// The claims GitHub puts in a job's token for acme/app's own release workflow.
const ACME = {
  repository: 'acme/app',
  repository_owner: 'acme',
  ref: 'refs/heads/main',
  job_workflow_ref: 'acme/app/.github/workflows/release.yml@refs/heads/main',
  job_workflow_sha: 'b'.repeat(40),
  runner_environment: 'github-hosted',
}
// A shared reusable workflow, called from a fork, on the fork's own runner.
const SHARED = 'https://github.com/acme/shared/.github/workflows/build.yml@refs/heads/main'
const FORK = {
  sub: SHARED,
  repository: 'evil/fork',
  repository_owner: 'evil',
  ref: 'refs/heads/main',
  job_workflow_ref: 'acme/shared/.github/workflows/build.yml@refs/heads/main',
  job_workflow_sha: 'c'.repeat(40),
  runner_environment: 'self-hosted',
}

/** A git repository holding hello-c whose origin is `remote`, on branch main, and its commit. */
function repository(remote: string): { repo: string; commit: string } {
  const repo = copyFixture('hello-c')
  const git = (...args: string[]): void => {
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
  }
  git('init', '-q', '-b', 'main')
  git('add', '.')
  git('commit', '-qm', 'release')
  git('remote', 'add', 'origin', remote)
  const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim()
  return { repo, commit }
}

async function verify(args: string[]) {
  const run = await runCli(['verify', '--json', ...args])
  const result = run.stdout === '' ? undefined : (JSON.parse(run.stdout) as VerifyResult)
  return { ...run, result }
}

function failed(result: VerifyResult | undefined): string[] {
  return (result?.checks ?? []).filter((c) => !c.ok).map((c) => c.reason)
}

describe('keyless policy from the certificate', () => {
  let services: Services
  let root: string
  beforeAll(async () => {
    services = await startServices()
  })
  afterAll(async () => {
    await services.close()
  })

  /** Builds `source`, signs keylessly with a token carrying `claims`; the artifact and bundle. */
  async function signAs(source: string, claims: Record<string, string>) {
    const dir = makeTemp()
    root = path.join(dir, 'root.json')
    fs.writeFileSync(root, JSON.stringify(services.trustedRoot))
    services.setClaims(claims)
    const bundle = path.join(dir, 'bundle.json')
    // prettier-ignore
    const run = await runCli([
      'build', '-C', source, '-o', 'hello', '--out-dir', path.join(dir, 'out'),
      '--temp-dir', makeTempParent(), '--bundle', bundle, '--keyless',
      '--fulcio-url', services.base, '--rekor-url', services.base, '--tsa-url', services.base,
      '--', 'make',
    ], {
      ...runnerEnv(services),
      // The commit the runner checked out, as Actions says it: origin holds it.
      ...(claims.sha === undefined ? {} : { GITHUB_SHA: claims.sha }),
    })
    expect(run.code, run.stderr).toBe(0)
    return { artifact: path.join(dir, 'out', 'hello'), bundle }
  }

  const trust = (identity = SUBJECT): string[] => [
    '--trusted-root',
    root,
    '--certificate-identity',
    identity,
    '--certificate-oidc-issuer',
    ISSUER,
  ]

  it('checks repository, owner, ref, commit, signer and runner against the certificate', async () => {
    const { repo, commit } = repository('https://github.com/acme/app.git')
    const { artifact, bundle } = await signAs(repo, { ...ACME, sha: commit })
    // prettier-ignore
    const ok = await verify([
      artifact, '--bundle', bundle, ...trust(),
      '--repo', 'acme/app', '--owner', 'acme', '--source-uri', 'git+https://github.com/acme/app.git',
      '--source-ref', 'refs/heads/main', '--source-digest', commit,
      '--signer-workflow', 'acme/app/.github/workflows/release.yml',
      '--signer-repo', 'acme/app', '--signer-digest', 'b'.repeat(40),
      '--deny-self-hosted-runners', '--max-age', '2w',
    ])
    expect(ok.code, JSON.stringify(ok.result?.checks, null, 1)).toBe(0)
    const names = ok.result?.checks.map((c) => c.name) ?? []
    expect(names).toContain('repository (from the certificate)')
    expect(names).toContain('runner environment (from the certificate)')
    // The age names the time it was measured from: the earliest one that verified.
    expect(names.find((n) => n.startsWith('age'))).toMatch(
      /^age, from the earliest verified time: \d{4}-\d\d-\d\dT\S+Z \((transparency log|timestamp authority)\)$/,
    )
    expect(ok.result?.identity).toMatchObject({
      facts: {
        sourceRepositoryUri: 'https://github.com/acme/app',
        sourceRepositoryOwnerUri: 'https://github.com/acme',
        runnerEnvironment: 'github-hosted',
      },
    })
    // Each fact a wrong value: no, with its own reason.
    const cases: [string[], string][] = [
      [['--repo', 'acme/other'], 'repo'],
      [['--owner', 'evil'], 'owner'],
      [['--source-ref', 'refs/heads/dev'], 'source-ref'],
      [['--source-digest', 'f'.repeat(40)], 'source-digest'],
      [['--signer-workflow', 'acme/app/.github/workflows/other.yml'], 'signer-workflow'],
      [['--signer-repo', 'acme/shared'], 'signer-repo'],
      [['--signer-digest', 'f'.repeat(40)], 'signer-digest'],
    ]
    for (const [flags, reason] of cases) {
      const no = await verify([artifact, '--bundle', bundle, ...trust(), ...flags])
      expect([no.code, no.result?.reason], flags.join(' ')).toEqual([1, reason])
    }
  })

  it('says no to a shared workflow run from a fork on a self-hosted runner, whatever the predicate claims', async () => {
    // The fork's build claims, in the predicate it signs, to be acme/app.
    const { repo, commit } = repository('https://github.com/acme/app.git')
    const { artifact, bundle } = await signAs(repo, { ...FORK, sha: commit })
    // prettier-ignore
    const attack = await verify([
      artifact, '--bundle', bundle, ...trust(SHARED),
      '--source-uri', 'git+https://github.com/acme/app.git', '--source-ref', 'refs/heads/main',
    ])
    expect(attack.code).toBe(1)
    // The certificate and the predicate disagree, and the certificate is what counts.
    expect(failed(attack.result)).toEqual(['source-disagreement', 'source-uri'])
    const disagreement = attack.result?.checks.find((c) => c.reason === 'source-disagreement')
    expect(disagreement?.wanted).toBe('https://github.com/evil/fork (certificate)')
    expect(disagreement?.found).toBe('git+https://github.com/acme/app.git (predicate)')
    const runner = await verify([
      artifact,
      '--bundle',
      bundle,
      ...trust(SHARED),
      '--deny-self-hosted-runners',
    ])
    expect(failed(runner.result)).toContain('runner-environment')
  })

  it('refuses certificate-only policies with --key before verifying anything', async () => {
    const dir = makeTemp()
    await runCli(['keygen', '--out', path.join(dir, 'k')])
    for (const flags of [
      ['--signer-workflow', 'acme/app/.github/workflows/release.yml'],
      ['--deny-self-hosted-runners'],
    ]) {
      const run = await runCli([
        'verify',
        'x',
        '--bundle',
        'missing.json',
        '--key',
        path.join(dir, 'k.pub'),
        ...flags,
      ])
      expect(run.code).toBe(2)
      expect(run.stderr).toMatch(
        /is checked against a Fulcio certificate; a bundle signed with --key has none/,
      )
      // The gate's deploy and rollback too, before the ledger is touched.
      const ledger = path.join(dir, 'ledger.jsonl')
      for (const gate of [
        ['deploy', 'x', '--bundle', 'missing.json'],
        ['rollback', '--to', 'a'.repeat(64), '--reason', 'r'],
      ]) {
        const refused = await runCli([
          'gate',
          ...gate,
          '--env',
          'prod',
          '--ledger',
          ledger,
          '--key',
          path.join(dir, 'k.pub'),
          ...flags,
        ])
        expect(refused.code, gate[0]).toBe(2)
        expect(refused.stderr).toMatch(/is checked against a Fulcio certificate/)
        expect(fs.existsSync(ledger)).toBe(false)
      }
    }
  })

  it('takes each option once, in every command: a second would silently replace the first', async () => {
    const gate = (sub: string, ...rest: string[]): string[] => [
      'gate',
      sub,
      '--env',
      'prod',
      ...rest,
    ]
    for (const args of [
      [
        'verify',
        'x',
        '--bundle',
        'b.json',
        '--certificate-identity',
        'a@x',
        '--certificate-identity',
        'b@x',
      ],
      [
        'verify',
        'x',
        '--bundle',
        'b.json',
        '--source-ref',
        'refs/tags/v1',
        '--source-ref',
        'refs/heads/dev',
      ],
      ['verify', 'x', '--bundle', 'b.json', '--rebuild', '--temp-dir', 'a', '--temp-dir', 'b'],
      [
        ...gate(
          'deploy',
          '--ledger',
          'l.jsonl',
          '--builder-id',
          'https://ci',
          '--builder-id',
          'https://other',
        ),
        'x',
      ],
      [
        ...gate(
          'deploy',
          '--ledger',
          'l.jsonl',
          '--release-version',
          '3',
          '--min-version',
          '5',
          '--min-version',
          '1',
        ),
        'x',
      ],
      [...gate('deploy', '--ledger', '/nonexistent/l.jsonl', '--ledger', 'l.jsonl'), 'x'],
      [
        ...gate(
          'rollback',
          '--ledger',
          'l.jsonl',
          '--to',
          'sha256:00',
          '--reason',
          'r',
          '--bundle',
          'a',
          '--bundle',
          'b',
        ),
      ],
      ['gate', 'check', '--ledger', 'l.jsonl', '--state-dir', 's1', '--state-dir', 's2'],
      ['build', '-o', 'x', '--epoch', '1', '--epoch', '2', '--', 'true'],
      ['build', '-o', 'x', '-C', 'a', '-C', 'b', '--', 'true'],
      ['normalize', '--epoch', '1', '--epoch', '2', 'x.zip'],
      // A choice too: commander's own check of the value is kept.
      ['normalize', '--mode', 'compare', '--mode', 'ship', 'x.zip'],
    ]) {
      const run = await runCli(args)
      expect(run.code, args.join(' ')).toBe(2)
      expect(run.stderr, args.join(' ')).toMatch(/given twice; give it once/)
    }
  })
})

describe('verified times', () => {
  it('refuses a signature whose verified time lies in the future', async () => {
    const future = await startServices({ clockOffsetMs: 2 * 86_400_000 })
    try {
      const dir = makeTemp()
      const root = path.join(dir, 'root.json')
      fs.writeFileSync(root, JSON.stringify(future.trustedRoot))
      const bundle = path.join(dir, 'bundle.json')
      // prettier-ignore
      const run = await runCli([
        'build', '-C', copyFixture('hello-c'), '-o', 'hello', '--out-dir', path.join(dir, 'out'),
        '--temp-dir', makeTempParent(), '--bundle', bundle, '--keyless',
        '--fulcio-url', future.base, '--rekor-url', future.base, '--tsa-url', future.base,
        '--', 'make',
      ], runnerEnv(future))
      expect(run.code, run.stderr).toBe(0)
      const { code, result } = await verify([
        path.join(dir, 'out', 'hello'),
        '--bundle',
        bundle,
        '--trusted-root',
        root,
        '--certificate-identity',
        SUBJECT,
        '--certificate-oidc-issuer',
        ISSUER,
      ])
      expect([code, result?.reason]).toEqual([1, 'time-in-future'])
    } finally {
      await future.close()
    }
  })
})

describe('what a key-signed statement may be', () => {
  it('verifies only SLSA provenance unless another predicate type is asked for', async () => {
    const dir = makeTemp()
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const pub = path.join(dir, 'k.pub')
    fs.writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }))
    const artifact = path.join(dir, 'app.bin')
    fs.writeFileSync(artifact, 'the artifact')
    const sha256 = crypto.createHash('sha256').update('the artifact').digest('hex')
    // A valid signature over a failed test result about the same artifact.
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'app.bin', digest: { sha256 } }],
      predicateType: 'https://in-toto.io/attestation/test-result/v0.1',
      predicate: { result: 'FAILED' },
    }
    const bundle = path.join(dir, 'bundle.json')
    fs.writeFileSync(
      bundle,
      JSON.stringify(
        await signWithKey(Buffer.from(JSON.stringify(statement)), privateKey, 'ecdsa-p256'),
      ),
    )
    const plain = await verify([artifact, '--bundle', bundle, '--key', pub])
    expect([plain.code, plain.result?.reason]).toEqual([1, 'predicate-type'])
    const asked = await verify([
      artifact,
      '--bundle',
      bundle,
      '--key',
      pub,
      '--predicate-type',
      statement.predicateType,
    ])
    expect(asked.code).toBe(0)
    // Also by digest alone, without the file.
    const byDigest = await verify([
      `sha256:${sha256}`,
      '--bundle',
      bundle,
      '--key',
      pub,
      '--predicate-type',
      statement.predicateType,
    ])
    expect(byDigest.code).toBe(0)
    const wrongDigest = await verify([
      `sha256:${'0'.repeat(64)}`,
      '--bundle',
      bundle,
      '--key',
      pub,
      '--predicate-type',
      statement.predicateType,
    ])
    expect([wrongDigest.code, wrongDigest.result?.reason]).toEqual([1, 'subject-mismatch'])
  })
})

describe('key-signed bundles as other Sigstore clients write them', () => {
  let services: Services
  beforeAll(async () => {
    services = await startServices()
  })
  afterAll(async () => {
    await services.close()
  })

  /** A provenance-typed statement about `artifact`, signed with a fresh key; the files. */
  async function keyBundle(withLog: boolean, loggedAs?: crypto.KeyObject) {
    const dir = makeTemp()
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const pub = path.join(dir, 'k.pub')
    fs.writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }))
    const root = path.join(dir, 'root.json')
    fs.writeFileSync(root, JSON.stringify(services.trustedRoot))
    const artifact = path.join(dir, 'app.bin')
    fs.writeFileSync(artifact, 'the artifact')
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [
        {
          name: 'app.bin',
          digest: { sha256: crypto.createHash('sha256').update('the artifact').digest('hex') },
        },
      ],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {},
    }
    // As cosign does by default: the key's signature, and a Rekor entry for it.
    const own = keySigner(privateKey, 'ecdsa-p256')
    // `loggedAs`: the entry names another key as the signer than the one that signed.
    const signer =
      loggedAs === undefined
        ? own
        : {
            sign: async (data: Buffer) => {
              const signed = await own.sign(data)
              const publicKey = loggedAs.export({ type: 'spki', format: 'pem' }).toString()
              return { ...signed, key: { ...signed.key, publicKey } }
            },
          }
    const builder = new DSSEBundleBuilder({
      signer,
      witnesses: withLog ? [new RekorWitness({ rekorBaseURL: services.base })] : [],
    })
    const json = bundleToJSON(
      await builder.create({
        data: Buffer.from(JSON.stringify(statement)),
        type: 'application/vnd.in-toto+json',
      }),
    ) as { verificationMaterial: { publicKey?: { hint: string }; tlogEntries: object[] } }
    const write = (name: string, value: object): string => {
      const file = path.join(dir, name)
      fs.writeFileSync(file, JSON.stringify(value))
      return file
    }
    return { dir, pub, root, artifact, json, write, publicKey }
  }

  it('refuses a key bundle whose log entry names another key as its signer', async () => {
    // The signature is the trusted key's, but whoever watches the log for that key never
    // sees it: the entry says another key signed.
    const { publicKey: other } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const { pub, root, artifact, json, write } = await keyBundle(true, other)
    const bundle = write('b.json', json)
    const run = await verify([artifact, '--bundle', bundle, '--key', pub, '--trusted-root', root])
    expect([run.code, run.result?.reason], JSON.stringify(run.result)).toEqual([1, 'tlog-mismatch'])
  })

  it('takes the key hint in hex, in base64 or not at all: the hint is not signed', async () => {
    const { pub, artifact, json, write, publicKey } = await keyBundle(false)
    const hex = keyHint(publicKey)
    const material = json.verificationMaterial
    for (const hint of [hex, Buffer.from(hex, 'hex').toString('base64'), undefined, 'unknown']) {
      const bundle = write('b.json', {
        ...json,
        verificationMaterial: {
          ...material,
          publicKey: hint === undefined ? {} : { hint },
        },
      })
      const run = await verify([artifact, '--bundle', bundle, '--key', pub])
      expect(run.code, `hint ${String(hint)}: ${run.stderr}`).toBe(0)
    }
  })

  it('verifies a key bundle that carries a Rekor entry, against the trusted root when given one', async () => {
    const { pub, root, artifact, json, write } = await keyBundle(true)
    expect(json.verificationMaterial.tlogEntries).toHaveLength(1)
    const bundle = write('b.json', json)
    // Without a root the entry vouches for nothing, and the result says it was not checked.
    const offline = await verify([artifact, '--bundle', bundle, '--key', pub])
    expect(offline.code, offline.stderr).toBe(0)
    expect(offline.result?.unchecked).toEqual([
      '1 transparency-log entry(ies): not checked, no --trusted-root was given',
    ])
    const aged = await verify([artifact, '--bundle', bundle, '--key', pub, '--max-age', '1h'])
    expect([aged.code, aged.result?.reason]).toEqual([1, 'too-old'])
    // With the root, the entry is verified...
    const checked = await verify([
      artifact,
      '--bundle',
      bundle,
      '--key',
      pub,
      '--trusted-root',
      root,
    ])
    expect(checked.code, JSON.stringify(checked.result?.checks)).toBe(0)
    expect(checked.result?.unchecked).toEqual([])
    // ...but no time bounds a key signature's age: the entry could be left out and a
    // fresh timestamp put on the old signature. --max-age asks what a key bundle cannot say.
    const keyAged = await verify([
      artifact,
      '--bundle',
      bundle,
      '--key',
      pub,
      '--trusted-root',
      root,
      '--max-age',
      '1h',
    ])
    expect([keyAged.code, keyAged.result?.reason]).toEqual([1, 'too-old'])
    expect(JSON.stringify(keyAged.result?.checks)).toMatch(/its age cannot be told/)
    // Without its signed promise the entry's time is only a claim: it counts for nothing.
    const { inclusionPromise, ...unpromised } = json.verificationMaterial.tlogEntries[0] as {
      inclusionPromise?: object
      inclusionProof?: object
    }
    expect(inclusionPromise).toBeDefined()
    expect(unpromised.inclusionProof).toBeDefined()
    const claim = write('claim.json', {
      ...json,
      verificationMaterial: { ...json.verificationMaterial, tlogEntries: [unpromised] },
    })
    // prettier-ignore
    const claimed = await verify([
      artifact, '--bundle', claim, '--key', pub, '--trusted-root', root, '--max-age', '1h',
    ])
    expect([claimed.code, claimed.result?.reason]).toEqual([1, 'too-old'])
    // A log entry whose time was moved no longer verifies against the root.
    const entry = json.verificationMaterial.tlogEntries[0] as { integratedTime: string }
    const moved = write('moved.json', {
      ...json,
      verificationMaterial: {
        ...json.verificationMaterial,
        tlogEntries: [{ ...entry, integratedTime: String(Number(entry.integratedTime) + 60) }],
      },
    })
    const tampered = await verify([
      artifact,
      '--bundle',
      moved,
      '--key',
      pub,
      '--trusted-root',
      root,
    ])
    expect([tampered.code, tampered.result?.reason]).toEqual([1, 'signature-invalid'])
  })
})
