import { describe, expect, it } from 'vitest'
import type { CertificateFacts } from '../../src/verify/certificate-facts.js'
import {
  checkStatement,
  type ArtifactDigests,
  type Policy,
  type Signer,
} from '../../src/verify/policy.js'

const PROVENANCE = 'https://slsa.dev/provenance/v1'
const DSSE = 'application/vnd.in-toto+json'
const SHA = 'ab'.repeat(32)

const provenance = (source: object, extra: object = {}) => ({
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'app.tgz', digest: { sha256: SHA } }],
  predicateType: PROVENANCE,
  predicate: {
    buildDefinition: {
      buildType: 'https://reproof.dev/build/v1',
      externalParameters: { source },
    },
    runDetails: { builder: { id: 'https://github.com/acme/app/.github/workflows/release.yml' } },
  },
  ...extra,
})

const SOURCE = {
  uri: 'git+https://github.com/acme/app.git',
  ref: 'refs/heads/main',
  commit: 'c0ffee',
}

const FACTS: CertificateFacts = {
  sourceRepositoryUri: 'https://github.com/acme/app',
  sourceRepositoryRef: 'refs/heads/main',
  sourceRepositoryDigest: 'c0ffee',
  sourceRepositoryOwnerUri: 'https://github.com/acme',
  buildSignerUri: 'https://github.com/acme/ci/.github/workflows/build.yml@refs/heads/main',
  buildSignerDigest: 'feed',
  runnerEnvironment: 'github-hosted',
}

const KEY: Signer = { kind: 'key' }
const CERT = (facts: CertificateFacts = FACTS): Signer => ({ kind: 'certificate', facts })

function run(
  policy: Policy,
  signer: Signer = KEY,
  statement: unknown = provenance(SOURCE),
  artifacts: readonly ArtifactDigests[] = [{ path: 'app.tgz', sha256: SHA }],
) {
  return checkStatement(DSSE, statement, artifacts, policy, signer, [], 0)
}

/** The failed checks' reasons. */
const failed = (...args: Parameters<typeof run>) =>
  run(...args)
    .filter((c) => !c.ok)
    .map((c) => c.reason)

describe('the statement itself', () => {
  it('passes a matching provenance statement with no policy, checking type, predicate and subject', () => {
    expect(run({})).toEqual([
      {
        name: 'payload type',
        ok: true,
        wanted: DSSE,
        found: DSSE,
        reason: 'payload-type',
      },
      {
        name: 'statement type',
        ok: true,
        wanted: ['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1'],
        found: 'https://in-toto.io/Statement/v1',
        reason: 'statement-type',
      },
      {
        name: 'predicate type',
        ok: true,
        wanted: PROVENANCE,
        found: PROVENANCE,
        reason: 'predicate-type',
      },
      {
        name: 'subject for app.tgz',
        ok: true,
        wanted: { sha256: SHA },
        found: [{ sha256: SHA }],
        reason: 'subject-mismatch',
      },
    ])
  })

  it('refuses another payload type, statement type or predicate type', () => {
    expect(
      checkStatement('application/json', provenance(SOURCE), [], {}, KEY, [], 0)
        .filter((c) => !c.ok)
        .map((c) => c.reason),
    ).toEqual(['payload-type'])
    expect(
      failed({}, KEY, provenance(SOURCE, { _type: 'https://in-toto.io/Statement/v2' })),
    ).toEqual(['statement-type'])
    expect(failed({}, KEY, provenance(SOURCE, { _type: undefined }))).toEqual(['statement-type'])
    expect(failed({}, KEY, provenance(SOURCE, { predicateType: 'https://example.com/x' }))).toEqual(
      ['predicate-type'],
    )
    // Asked for by name, another predicate type passes, and provenance does not.
    const custom = provenance(SOURCE, { predicateType: 'https://example.com/x' })
    expect(failed({ predicateType: 'https://example.com/x' }, KEY, custom)).toEqual([])
    expect(failed({ predicateType: 'https://example.com/x' })).toEqual(['predicate-type'])
  })

  it('reads anything that is not an object as an empty statement', () => {
    for (const statement of [null, [], 'x', 5]) {
      expect(failed({}, KEY, statement)).toEqual([
        'statement-type',
        'predicate-type',
        'subject-mismatch',
      ])
    }
  })

  it('finds each artifact among the subjects by SHA-256 or by SHA-512', () => {
    const sha512 = 'cd'.repeat(64)
    const statement = provenance(SOURCE, {
      subject: [
        'not an object',
        { name: 'x', digest: 'not an object' },
        { name: 'lib.so', digest: { sha512 } },
        { name: 'app.tgz', digest: { sha256: SHA } },
      ],
    })
    const artifacts = [
      { path: 'app.tgz', sha256: SHA },
      { path: sha512, sha512, file: false as const },
    ]
    expect(failed({}, KEY, statement, artifacts)).toEqual([])
    const wrong = [
      { path: 'other', sha256: 'ef'.repeat(32) },
      { path: 'x', sha512: 'ef'.repeat(64) },
    ]
    const checks = run({}, KEY, statement, wrong).filter((c) => !c.ok)
    expect(checks.map((c) => [c.name, c.reason, c.wanted])).toEqual([
      ['subject for other', 'subject-mismatch', { sha256: 'ef'.repeat(32) }],
      ['subject for x', 'subject-mismatch', { sha512: 'ef'.repeat(64) }],
    ])
    // An artifact with neither digest matches no subject, not even one without digests.
    const bare = provenance(SOURCE, { subject: [{ name: 'a', digest: {} }] })
    expect(failed({}, KEY, bare, [{ path: 'a' }])).toEqual(['subject-mismatch'])
    expect(failed({}, KEY, provenance(SOURCE, { subject: 'all' }))).toEqual(['subject-mismatch'])
  })
})

describe('policies on the provenance', () => {
  it('compares builder id and build type exactly, each with its own reason', () => {
    expect(
      failed({
        builderId: 'https://github.com/acme/app/.github/workflows/release.yml',
        buildType: 'https://reproof.dev/build/v1',
      }),
    ).toEqual([])
    const checks = run({ builderId: 'https://github.com/acme/app', buildType: 'x' }).slice(4)
    expect(checks).toEqual([
      {
        name: 'builder id',
        ok: false,
        wanted: 'https://github.com/acme/app',
        found: 'https://github.com/acme/app/.github/workflows/release.yml',
        reason: 'builder-id',
      },
      {
        name: 'build type',
        ok: false,
        wanted: 'x',
        found: 'https://reproof.dev/build/v1',
        reason: 'build-type',
      },
    ])
  })

  it('needs the provenance predicate for any policy that reads it, and checks nothing more', () => {
    const other = provenance(SOURCE, { predicateType: 'https://example.com/x' })
    const policies: Policy[] = [
      { builderId: 'b' },
      { buildType: 't' },
      { requireReproduced: true },
      { sourceUri: 'https://github.com/acme/app' },
      { repo: 'acme/app' },
      { owner: 'acme' },
      { sourceRef: 'refs/heads/main' },
      { sourceRefRegexp: '.*' },
      { sourceDigest: 'c0ffee' },
    ]
    for (const policy of policies) {
      const checks = run({ ...policy, predicateType: 'https://example.com/x' }, KEY, other)
      expect(checks.at(-1), JSON.stringify(policy)).toEqual({
        name: 'provenance predicate',
        ok: false,
        wanted: PROVENANCE,
        found: 'https://example.com/x',
        reason: 'predicate-type',
      })
      expect(checks.filter((c) => !c.ok)).toHaveLength(1)
    }
    // A keyless source policy reads the certificate, not the predicate.
    expect(
      failed({ repo: 'acme/app', predicateType: 'https://example.com/x' }, CERT(), other),
    ).toEqual([])
    expect(
      failed({ requireReproduced: false, predicateType: 'https://example.com/x' }, KEY, other),
    ).toEqual([])
  })
})

describe('source policy for a key-signed statement', () => {
  it('takes the facts from the predicate, and says they are the signer’s word', () => {
    const checks = run({
      sourceUri: 'https://github.com/Acme/App',
      repo: 'acme/app',
      owner: 'acme',
      sourceRef: 'refs/heads/main',
      sourceRefRegexp: 'refs/heads/(main|release)',
      sourceDigest: 'c0ffee',
    }).slice(4)
    expect(checks.map((c) => [c.name, c.ok, c.reason])).toEqual([
      ['source uri (signer-asserted, from the predicate)', true, 'source-uri'],
      ['repository (signer-asserted, from the predicate)', true, 'repo'],
      ['owner (signer-asserted, from the predicate)', true, 'owner'],
      ['source ref (signer-asserted, from the predicate)', true, 'source-ref'],
      ['source ref (signer-asserted, from the predicate)', true, 'source-ref'],
      ['source digest (signer-asserted, from the predicate)', true, 'source-digest'],
    ])
  })

  it('refuses each fact that differs, with its reason', () => {
    expect(
      failed({
        sourceUri: 'https://github.com/acme/app2',
        repo: 'evil/app',
        owner: 'evil',
        sourceRef: 'refs/heads/mai',
        sourceRefRegexp: 'main',
        sourceDigest: 'c0ffe',
      }),
    ).toEqual(['source-uri', 'repo', 'owner', 'source-ref', 'source-ref', 'source-digest'])
  })

  it('anchors the ref pattern at both ends, alternatives included', () => {
    const ok = (pattern: string) => failed({ sourceRefRegexp: pattern }).length === 0
    expect(ok('refs/heads/main')).toBe(true)
    expect(ok('refs/heads/.*')).toBe(true)
    expect(ok('heads/main')).toBe(false)
    expect(ok('refs/heads/mai')).toBe(false)
    expect(ok('x|refs/heads/ma')).toBe(false)
  })

  it('fails, as a missing field, every fact the predicate does not state', () => {
    const checks = run(
      {
        sourceUri: 'https://github.com/acme/app',
        repo: 'acme/app',
        owner: 'acme',
        sourceRef: 'refs/heads/main',
        sourceDigest: 'c0ffee',
      },
      KEY,
      provenance({ uri: 5 }),
    ).slice(4)
    expect(checks.map((c) => [c.ok, c.reason, c.found])).toEqual([
      [false, 'policy-field-missing', undefined],
      [false, 'policy-field-missing', undefined],
      [false, 'policy-field-missing', undefined],
      [false, 'policy-field-missing', undefined],
      [false, 'policy-field-missing', undefined],
    ])
  })

  it('reads the owner only from a repository URL of exactly owner and name', () => {
    const owner = (uri: string) =>
      run({ owner: 'acme' }, KEY, provenance({ ...SOURCE, uri })).at(-1)
    expect(owner('https://github.com/acme/app')?.ok).toBe(true)
    expect(owner('https://github.com/acme/app/sub')?.reason).toBe('policy-field-missing')
    expect(owner('https://github.com/acme')?.reason).toBe('policy-field-missing')
    expect(owner('https://github.com/acmex/app')?.ok).toBe(false)
  })

  it('cannot answer what only a certificate states', () => {
    const checks = run({
      signerWorkflow: 'acme/ci/.github/workflows/build.yml',
      signerRepo: 'acme/ci',
      signerDigest: 'feed',
      denySelfHostedRunners: true,
    }).slice(4)
    expect(checks.map((c) => [c.name, c.ok, c.found])).toEqual([
      ['signer workflow (from the certificate)', false, 'a key-signed bundle has no certificate'],
      ['signer repository (from the certificate)', false, 'a key-signed bundle has no certificate'],
      ['signer digest (from the certificate)', false, 'a key-signed bundle has no certificate'],
      [
        'runner environment (from the certificate)',
        false,
        'a key-signed bundle has no certificate',
      ],
    ])
    expect(failed({ denySelfHostedRunners: false })).toEqual([])
  })
})

describe('source policy for a keyless statement', () => {
  it('takes the facts from the certificate, and passes when the predicate agrees', () => {
    const checks = run(
      {
        repo: 'acme/app',
        owner: 'github.com/acme',
        sourceRef: 'refs/heads/main',
        sourceDigest: 'c0ffee',
        signerWorkflow: 'acme/ci/.github/workflows/build.yml',
        signerRepo: 'https://github.com/ACME/ci',
        signerDigest: 'feed',
        denySelfHostedRunners: true,
      },
      CERT(),
    ).slice(4)
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ['repository (from the certificate)', true],
      ['owner (from the certificate)', true],
      ['source ref (from the certificate)', true],
      ['source digest (from the certificate)', true],
      ['signer workflow (from the certificate)', true],
      ['signer repository (from the certificate)', true],
      ['signer digest (from the certificate)', true],
      ['runner environment (from the certificate)', true],
    ])
  })

  it('refuses a predicate that disagrees with the certificate on any fact it states', () => {
    const disagreeing = provenance({
      uri: 'https://github.com/evil/app',
      ref: 'refs/heads/evil',
      commit: 'bad',
    })
    const checks = run({}, CERT(), disagreeing).filter((c) => !c.ok)
    expect(checks).toEqual([
      {
        name: 'source repository: the certificate and the predicate agree',
        ok: false,
        wanted: 'https://github.com/acme/app (certificate)',
        found: 'https://github.com/evil/app (predicate)',
        reason: 'source-disagreement',
      },
      {
        name: 'source ref: the certificate and the predicate agree',
        ok: false,
        wanted: 'refs/heads/main (certificate)',
        found: 'refs/heads/evil (predicate)',
        reason: 'source-disagreement',
      },
      {
        name: 'source digest: the certificate and the predicate agree',
        ok: false,
        wanted: 'c0ffee (certificate)',
        found: 'bad (predicate)',
        reason: 'source-disagreement',
      },
    ])
    // The same repository in another form agrees; a fact either side leaves out is no conflict.
    expect(
      failed({}, CERT(), provenance({ ...SOURCE, uri: 'git@github.com:ACME/app.git' })),
    ).toEqual([])
    expect(failed({}, CERT({}), provenance(SOURCE))).toEqual([])
    expect(failed({}, CERT(), provenance({}))).toEqual([])
  })

  it('checks the policy against the certificate, whatever the predicate claims', () => {
    const claims = provenance({ uri: 'https://github.com/acme/app', ref: 'refs/heads/main' })
    const evil: CertificateFacts = {
      ...FACTS,
      sourceRepositoryUri: 'https://github.com/evil/app',
      sourceRepositoryOwnerUri: 'https://github.com/evil',
      sourceRepositoryRef: 'refs/heads/evil',
    }
    expect(
      failed({ repo: 'acme/app', owner: 'acme', sourceRef: 'refs/heads/main' }, CERT(evil), claims),
    ).toEqual(['source-disagreement', 'source-disagreement', 'repo', 'owner', 'source-ref'])
  })

  it('refuses a signer from another workflow, repository, commit or a self-hosted runner', () => {
    const policy: Policy = {
      signerWorkflow: 'acme/ci/.github/workflows/build.yml',
      signerRepo: 'acme/ci',
      signerDigest: 'feed',
      denySelfHostedRunners: true,
    }
    const other: CertificateFacts = {
      ...FACTS,
      buildSignerUri: 'https://github.com/acme/cix/.github/workflows/build.yml.bak@refs/heads/main',
      buildSignerDigest: 'beef',
      runnerEnvironment: 'self-hosted',
    }
    expect(failed(policy, CERT(other))).toEqual([
      'signer-workflow',
      'signer-repo',
      'signer-digest',
      'runner-environment',
    ])
    const missing = run(policy, CERT({})).filter((c) => !c.ok)
    expect(missing.map((c) => [c.reason, c.found])).toEqual([
      ['policy-field-missing', undefined],
      ['policy-field-missing', undefined],
      ['policy-field-missing', undefined],
      ['policy-field-missing', undefined],
    ])
  })

  it('compares signer URLs case-blind on github.com only', () => {
    const signer = (buildSignerUri: string, signerWorkflow: string) =>
      failed({ signerWorkflow }, CERT({ ...FACTS, buildSignerUri }))
    expect(signer('https://github.com/Acme/CI/w.yml@refs/heads/main', 'acme/ci/w.yml')).toEqual([])
    expect(
      signer('https://git.example.com/Acme/ci/w.yml@v1', 'https://git.example.com/acme/ci/w.yml'),
    ).toEqual(['signer-workflow'])
    expect(
      signer('https://git.example.com/acme/ci/w.yml@v1', 'https://git.example.com/acme/ci/w.yml'),
    ).toEqual([])
  })
})
