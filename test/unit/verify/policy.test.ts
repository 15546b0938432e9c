import crypto from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { CertificateFacts } from '../../../src/verify/certificate-facts.js'
import {
  checkStatement,
  githubUrl,
  repositoryKey,
  runConditions,
  type ArtifactDigests,
  type Policy,
  type Signer,
} from '../../../src/verify/policy.js'

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
      },
      {
        name: 'statement type',
        ok: true,
        wanted: ['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1'],
        found: 'https://in-toto.io/Statement/v1',
      },
      {
        name: 'predicate type',
        ok: true,
        wanted: PROVENANCE,
        found: PROVENANCE,
      },
      {
        name: 'subject for app.tgz',
        ok: true,
        wanted: { sha256: SHA },
        found: [{ sha256: SHA }],
      },
    ])
  })

  it('gives a reason to every failed check and to no passed one', () => {
    const checks = [
      ...run({ builderId: 'https://ci.example.com', sourceDigest: 'c0ffee' }),
      ...run({ predicateType: 'https://example.com/other', builderId: 'x' }),
    ]
    expect(checks.some((c) => c.ok) && checks.some((c) => !c.ok)).toBe(true)
    for (const c of checks) expect('reason' in c, c.name).toBe(!c.ok)
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

  it('matches no subject whose digests name two files, whichever agrees', () => {
    const [mine, other] = [
      { sha256: 'aa'.repeat(32), sha512: 'bb'.repeat(64) },
      { sha256: 'cc'.repeat(32), sha512: 'dd'.repeat(64) },
    ]
    const artifact = { path: 'evil.txt', ...mine }
    for (const digest of [
      { sha256: other.sha256, sha512: mine.sha512 },
      { sha256: mine.sha256, sha512: other.sha512 },
    ]) {
      const statement = provenance(SOURCE, { subject: [{ name: 'app', digest }] })
      expect(failed({}, KEY, statement, [artifact])).toEqual(['subject-mismatch'])
    }
    // Both agreeing, or the one the subject names: a match.
    for (const digest of [mine, { sha256: mine.sha256 }, { sha512: mine.sha512 }]) {
      const statement = provenance(SOURCE, { subject: [{ name: 'app', digest }] })
      expect(failed({}, KEY, statement, [artifact])).toEqual([])
    }
  })

  it('refuses one subject name given two digests, whichever the artifact matches', () => {
    const other = { sha256: 'ee'.repeat(32) }
    for (const subject of [
      [
        { name: 'app.tgz', digest: { sha256: SHA } },
        { name: 'app.tgz', digest: other },
      ],
      [
        { name: 'app.tgz', digest: other },
        { name: 'app.tgz', digest: { sha256: SHA } },
      ],
    ]) {
      const checks = run({}, KEY, provenance(SOURCE, { subject }))
      expect(checks.filter((c) => !c.ok).map((c) => [c.name, c.reason])).toEqual([
        ['subject names', 'subject-mismatch'],
      ])
    }
    // The same name twice with the same digest (one naming more algorithms, or in upper
    // case), or two names: as before.
    const same = [
      { name: 'app.tgz', digest: { sha256: SHA } },
      { name: 'app.tgz', digest: { sha256: SHA.toUpperCase(), sha512: 'ab'.repeat(64) } },
      { name: 'app.tgz', digest: { sha1: 'cd'.repeat(20) } },
      { name: 'lib.tgz', digest: other },
    ]
    expect(failed({}, KEY, provenance(SOURCE, { subject: same }))).toEqual([])
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

  it('under a certificate that names the workflow, takes the builder id only when it is that workflow', () => {
    const workflow = 'https://github.com/acme/app/.github/workflows/release.yml'
    const named = CERT({ ...FACTS, buildConfigUri: workflow })
    expect(failed({ builderId: workflow }, named)).toEqual([])
    // A workflow of another repository that wrote acme/app's id into its provenance.
    const other = CERT({
      ...FACTS,
      buildConfigUri: 'https://github.com/mallory/app/.github/workflows/release.yml',
    })
    expect(failed({ builderId: workflow }, other)).toEqual(['builder-id'])
    expect(run({ builderId: workflow }, other).at(-1)).toEqual({
      name: 'builder id is the workflow the certificate names',
      ok: false,
      wanted: 'https://github.com/mallory/app/.github/workflows/release.yml',
      found: workflow,
      reason: 'builder-id',
    })
    // No policy on the builder, no check; a certificate naming no workflow, the claim alone.
    expect(failed({}, other)).toEqual([])
    expect(failed({ builderId: workflow }, CERT())).toEqual([])
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
      ['source uri (signer-asserted, from the predicate)', true, undefined],
      ['repository (signer-asserted, from the predicate)', true, undefined],
      ['owner (signer-asserted, from the predicate)', true, undefined],
      ['source ref (signer-asserted, from the predicate)', true, undefined],
      ['source ref (signer-asserted, from the predicate)', true, undefined],
      ['source digest (signer-asserted, from the predicate)', true, undefined],
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

  it('stops a ref pattern that backtracks without end at its time limit, as not matching', () => {
    // As a record in a ledger may keep one: anyone who can append can write its policy.
    const started = performance.now()
    const checks = run({
      sourceRefRegexp: '(?:[a-z/]|[a-z/]|[a-z/]|[a-z/]|[a-z/]|[a-z/]|(?=Y)\\1)*X(.)?',
    }).slice(4)
    expect(performance.now() - started).toBeLessThan(20_000)
    expect(checks.map((c) => [c.ok, c.reason])).toEqual([[false, 'source-ref']])
    expect(checks[0]?.found).toBe(
      'refs/heads/main (the pattern did not finish matching within 1 s (it backtracks without end on this value), so it is taken as not matching)',
    )
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
    // The owner and repository without case; the workflow's path is a file, with it.
    expect(
      signer(
        'https://github.com/acme/app/.github/workflows/Release.yml@refs/heads/main',
        'acme/app/.github/workflows/release.yml',
      ),
    ).toEqual(['signer-workflow'])
    expect(
      signer('https://github.com/acme/ap/p/.github/w.yml@v1', 'acme/app/.github/w.yml'),
    ).toEqual(['signer-workflow'])
  })
})

describe('the statement versions', () => {
  it('takes in-toto v1 and v0.1', () => {
    const v01 = provenance(SOURCE, { _type: 'https://in-toto.io/Statement/v0.1' })
    expect(failed({}, KEY, v01)).toEqual([])
  })

  it('reports a predicate type that is not text as absent', () => {
    const checks = run({}, KEY, provenance(SOURCE, { predicateType: 5 }))
    expect(checks.find((c) => c.name === 'predicate type')?.found).toBeUndefined()
  })

  it('lists only the subjects that are objects as what was found', () => {
    const statement = provenance(SOURCE, {
      subject: ['x', { name: 'a', digest: { sha256: 'ef' } }],
    })
    expect(run({}, KEY, statement).find((c) => c.reason === 'subject-mismatch')?.found).toEqual([
      { sha256: 'ef' },
    ])
    const none = provenance(SOURCE, { subject: 'all' })
    expect(run({}, KEY, none).find((c) => c.reason === 'subject-mismatch')?.found).toEqual([])
  })

  it('reads source facts only from a provenance predicate', () => {
    const other = provenance(
      { uri: 'https://github.com/evil/app', ref: 'refs/heads/evil', commit: 'bad' },
      { predicateType: 'https://example.com/x' },
    )
    expect(failed({ predicateType: 'https://example.com/x' }, CERT(), other)).toEqual([])
  })
})

describe('verified times', () => {
  const now = Date.UTC(2026, 11, 2)
  const times = (...offsets: number[]) =>
    offsets.map((offset, i) => ({
      time: now + offset,
      source: i === 0 ? ('timestamp authority' as const) : ('transparency log' as const),
    }))
  const timeChecks = (verified: ReturnType<typeof times>, maxAgeMs?: number, signer = CERT()) =>
    checkStatement(
      DSSE,
      provenance(SOURCE),
      [{ path: 'app.tgz', sha256: SHA }],
      maxAgeMs === undefined ? {} : { maxAgeMs },
      signer,
      verified,
      now,
    ).slice(4, 5)

  it('allows five minutes of clock skew, and not a millisecond more', () => {
    expect(timeChecks(times(5 * 60_000))).toEqual([])
    expect(timeChecks(times(0, 5 * 60_000 + 1))).toEqual([
      {
        name: 'verified time not in the future',
        ok: false,
        wanted: 'no later than 2026-12-02T00:05:00.000Z',
        found: '2026-12-02T00:05:00.001Z (transparency log)',
        reason: 'time-in-future',
      },
    ])
  })

  it('cannot tell the age of a key signature, whatever times the bundle carries', () => {
    expect(timeChecks(times(-1000, -500), 1000, KEY)).toEqual([
      {
        name: 'age',
        ok: false,
        wanted: 'signed at most 1000 ms ago',
        found: expect.stringMatching(
          /a bundle signed with a key: .* its age cannot be told/,
        ) as string,
        reason: 'too-old',
      },
    ])
    expect(timeChecks(times(-1000), undefined, KEY)).toEqual([])
  })

  it('measures the age up to and including --max-age, from the earliest time', () => {
    expect(timeChecks(times(-1000, -500), 1000)).toEqual([
      {
        name: 'age, from the earliest verified time: 2026-12-01T23:59:59.000Z (timestamp authority)',
        ok: true,
        wanted: 'signed at most 1000 ms ago, by a verified log or timestamp time',
        found: '2026-12-01T23:59:59.000Z (timestamp authority)',
      },
    ])
    expect(timeChecks(times(-1001), 1000)[0]?.ok).toBe(false)
    expect(timeChecks([], 1000)).toEqual([
      {
        name: 'age',
        ok: false,
        wanted: 'signed at most 1000 ms ago, by a verified log or timestamp time',
        found:
          'no verified time in the bundle (a log entry without its inclusion promise vouches for no time)',
        reason: 'too-old',
      },
    ])
  })
})

describe('the reproduced check, on what a statement may hold', () => {
  const sha = (s: string | Buffer) => crypto.createHash('sha256').update(s).digest('hex')
  // Entries named as the subjects are, in their order.
  const manifest = (digests: unknown[], names = ['a', 'b']) =>
    JSON.stringify(digests.map((d, i) => ({ name: names[i], sha256: d })))
  const byproduct = (name: string, content: string, reproducible: unknown = true) => ({
    name,
    content: Buffer.from(content).toString('base64'),
    digest: { sha256: sha(content) },
    annotations: { reproducible },
  })
  const subjects = [
    { name: 'a', digest: { sha256: sha('a') } },
    { name: 'b', digest: { sha256: sha('b') } },
  ]
  const decide = (byproducts: unknown, artifacts: readonly ArtifactDigests[] = []) =>
    checkStatement(
      DSSE,
      provenance(SOURCE, {
        subject: subjects,
        predicate: { runDetails: { byproducts } },
      }),
      artifacts,
      { requireReproduced: true },
      KEY,
      [],
      0,
    ).at(-1)
  const both = [sha('a'), sha('b')]
  const a = byproduct('reproof/run-a/manifest.json', manifest(both))
  const b = byproduct('reproof/run-b/manifest.json', manifest(both))

  it('says how many intact runs it found, and whether they hold every subject', () => {
    expect(decide([a, b])).toEqual({
      name: 'reproduced by two runs',
      ok: true,
      wanted:
        'two intact run manifests that hold every subject, by name and digest, and say the runs reproduced',
      found:
        "2 intact run manifests holding every subject; the provenance says: the runs' isolation not stated, the network not stated; varied: nothing; who stated it not stated",
    })
    const partial = byproduct('reproof/run-b/manifest.json', manifest([sha('a')]))
    expect(decide([a, partial])).toMatchObject({
      ok: false,
      found: '2 intact run manifest(s), not holding every subject by its name and digest',
      reason: 'not-reproduced',
    })
    expect(decide([a])).toMatchObject({ ok: false, found: '1 intact run manifest(s)' })
    expect(decide('none')).toMatchObject({ ok: false, found: '0 intact run manifest(s)' })
    expect(decide([null, 'x', a, b])).toMatchObject({ ok: true })
  })

  it('says in its yes how the provenance says the runs were kept apart and what was varied', () => {
    const internalParameters = {
      isolation: { kind: 'process', network: 'host', reason: 'no namespaces' },
      variations: [
        { name: 'path', status: 'effective' },
        { name: 'umask', status: 'no-effect' },
        { name: 'locale', status: 'not-applied' },
      ],
      turnedOff: [{ name: 'time', by: 'flag' }],
      attestedBy: 'reproof attest',
    }
    const yes = checkStatement(
      DSSE,
      provenance(SOURCE, {
        subject: subjects,
        predicate: {
          buildDefinition: { buildType: 'https://reproof.dev/build/v1', internalParameters },
          runDetails: { byproducts: [a, b] },
        },
      }),
      [],
      { requireReproduced: true },
      KEY,
      [],
      0,
    ).at(-1)
    expect(yes).toMatchObject({ ok: true })
    expect(yes?.found).toBe(
      "2 intact run manifests holding every subject; the provenance says: runs not isolated by namespaces (process): each could read the other's build root, the network reachable; varied: path; not varied: umask (no effect), locale (not applied), time (turned off); stated by reproof attest from a build record file (the file is its only evidence)",
    )
    expect(
      runConditions({
        isolation: { kind: 'namespaces', network: 'none' },
        attestedBy: 'reproof build',
      }),
    ).toBe(
      'runs isolated by namespaces, no network; varied: nothing; stated by the build that ran them',
    )
    // Runs that matched only once normalized say so in the yes.
    const normalized = (x: typeof a) => ({
      ...x,
      annotations: { reproducible: true, reproducibleWithoutNormalization: false },
    })
    expect(decide([normalized(a), normalized(b)])?.found).toMatch(
      /^2 intact run manifests holding every subject, identical once normalized \(the runs' raw outputs differed\); /,
    )
  })

  it('requires, when asked, the provenance to be stated by the build that ran the runs', () => {
    const stated = (attestedBy: unknown) =>
      checkStatement(
        DSSE,
        provenance(SOURCE, {
          subject: subjects,
          predicate: {
            buildDefinition: {
              buildType: 'https://reproof.dev/build/v1',
              internalParameters: attestedBy === undefined ? {} : { attestedBy },
            },
            runDetails: { byproducts: [a, b] },
          },
        }),
        [],
        { requireStatedByBuild: true },
        KEY,
        [],
        0,
      ).at(-1)
    expect(stated('reproof build')).toMatchObject({ name: 'stated by the build', ok: true })
    for (const other of ['reproof attest', undefined, 7])
      expect(stated(other), String(other)).toMatchObject({
        ok: false,
        reason: 'stated-from-record',
      })
  })

  it('does not vouch for an artifact given by its SHA-512 only, which no manifest names', () => {
    // The subject's SHA-256 (what the manifests hold) may be another file's than its SHA-512.
    const sha512 = 'f'.repeat(128)
    const bySha512 = { path: `sha512:${sha512}`, sha512, file: false as const }
    expect(decide([a, b], [bySha512])).toEqual({
      name: 'reproduced by two runs',
      ok: false,
      wanted: 'every artifact known by its SHA-256, which the run manifests hold',
      found: `sha512:${sha512}: a SHA-512 only (give the file, or its sha256:)`,
      reason: 'not-reproduced',
    })
    expect(decide([a, b], [{ path: 'a', sha256: sha('a'), sha512 }])).toMatchObject({ ok: true })
  })

  it('counts only the two manifests by their exact names, with their content inline', () => {
    for (const name of [
      'reproof/run-c/manifest.json',
      'x/reproof/run-b/manifest.json',
      'reproof/run-b/manifest.json.sig',
    ]) {
      expect(decide([a, byproduct(name, manifest(both))]), name).toMatchObject({ ok: false })
    }
    // Named with its content elsewhere: nothing to check the subjects against.
    const linked = { name: b.name, digest: b.digest, uri: 'https://example.com/m.json' }
    expect(decide([a, linked])).toMatchObject({ ok: false })
  })

  it('reads a manifest that is not a list of entries as holding nothing', () => {
    for (const content of [
      '{',
      '{}',
      JSON.stringify(['x', null, ...both.map((d, i) => ({ name: ['a', 'b'][i], sha256: d }))]),
    ]) {
      const odd = byproduct('reproof/run-b/manifest.json', content)
      expect(decide([a, odd])?.ok, content).toBe(content.startsWith('[') ? true : false)
    }
    expect(decide([a, byproduct('reproof/run-b/manifest.json', '[]')])).toMatchObject({
      ok: false,
      found: '2 intact run manifest(s), not holding every subject by its name and digest',
    })
  })

  it('matches each subject by its name and its digest, and takes a run said not to reproduce at its word', () => {
    // Run B made something else under a's name, and a's digest under another name.
    const moved = byproduct(
      'reproof/run-b/manifest.json',
      manifest([sha('other'), sha('b'), sha('a')], ['a', 'b', 'leftover']),
    )
    expect(decide([a, moved])).toMatchObject({
      ok: false,
      found: '2 intact run manifest(s), not holding every subject by its name and digest',
    })
    // Manifests that agree, in a statement that says the runs did not reproduce.
    for (const said of [false, null, 'true'])
      expect(
        decide([a, byproduct('reproof/run-b/manifest.json', manifest(both), said)]),
        String(said),
      ).toMatchObject({
        ok: false,
        found: '2 intact run manifest(s), annotated as not reproducible',
      })
  })
})

describe('repository forms', () => {
  const key = repositoryKey

  it('reads scp-like and ssh addresses with or without a user', () => {
    for (const form of [
      'github.com:acme/app',
      'ssh://github.com/acme/app',
      'git://github.com/acme/app',
      ' https://github.com/acme/app ',
      'https://github.com/acme/app/.git',
    ]) {
      expect(key(form), form).toBe('https://github.com/acme/app')
    }
  })

  it('takes credentials only from before the path, query or fragment, as a URL parser does', () => {
    expect(key('https://user:token@github.com/acme/app')).toBe('https://github.com/acme/app')
    for (const form of [
      'https://evil.example#@github.com/acme/app',
      'https://evil.example?@github.com/acme/app',
      'https://evil.example/x@github.com/acme/app',
      'https://evil.example\\@github.com/acme/app',
      'https://evil.example\\x@github.com/acme/app',
    ]) {
      expect(key(form), form).not.toBe('https://github.com/acme/app')
      expect(new URL(form).host, form).toBe('evil.example')
    }
  })

  it('rewrites only what starts as a URL or an address, and keeps what only looks like one inside', () => {
    expect(key('mirror+ssh://github.com/Acme/App')).toBe('mirror+ssh://github.com/Acme/App')
    expect(key('mirror+https://github.com/Acme/App')).toBe('mirror+https://github.com/Acme/App')
    expect(key('acme/app:v1')).toBe('acme/app:v1')
    expect(key('https://github.com/acme/git+app')).toBe('https://github.com/acme/git+app')
    expect(key('https://github.com/acme/app.github.io')).toBe(
      'https://github.com/acme/app.github.io',
    )
  })

  it('writes owner/repo names as GitHub URLs, and keeps URLs given in full', () => {
    expect(githubUrl('acme//app/')).toBe('https://github.com/acme/app')
    expect(githubUrl('/acme/app')).toBe('https://github.com/acme/app')
    expect(githubUrl('git.example.com/acme/app')).toBe('https://git.example.com/acme/app')
    expect(githubUrl('http://git.example.com/acme/app//')).toBe('http://git.example.com/acme/app')
    expect(githubUrl('https://github.com/Acme/App/')).toBe('https://github.com/Acme/App')
  })

  it('finds no owner in a repository that is not a URL', () => {
    const checks = run(
      { owner: 'acme' },
      KEY,
      provenance({ uri: 'mirror+https://github.com/acme/app' }),
    )
    expect(checks.at(-1)?.reason).toBe('policy-field-missing')
  })

  it('compares signer URLs case-blind only when they are on github.com from the start', () => {
    const facts = {
      ...FACTS,
      buildSignerUri: 'https://git.example.com/x/HTTPS://github.com/a/w.yml@v1',
    }
    expect(
      failed(
        { signerWorkflow: 'https://git.example.com/x/https://github.com/a/w.yml' },
        CERT(facts),
      ),
    ).toEqual(['signer-workflow'])
  })
})

describe('a build from a work tree with uncommitted changes', () => {
  const dirty = (value: unknown) => {
    const statement = provenance(SOURCE)
    Object.assign(statement.predicate.buildDefinition, {
      internalParameters: { dirty: value },
    })
    return statement
  }

  it('never meets a source digest, whether the commit comes from the predicate or the certificate', () => {
    for (const signer of [KEY, CERT()]) {
      const checks = run({ sourceDigest: 'c0ffee' }, signer, dirty(true))
      const digest = checks.find((c) => c.name.startsWith('source digest'))
      expect(digest).toMatchObject({ ok: false, reason: 'source-dirty' })
      expect(String(digest?.found)).toMatch(/^c0ffee, built with uncommitted changes/)
    }
  })

  it("meets it, in another builder's provenance, when it says clean or nothing of it", () => {
    for (const value of [false, null, undefined])
      expect(failed({ sourceDigest: 'c0ffee' }, KEY, dirty(value))).toEqual([])
  })

  it("meets it, in reproof's own provenance, only when it names the commit and says the tree was clean", () => {
    // A build outside any git work tree (a copy of the checkout, an export, a tarball)
    // records no commit and dirty: null; the certificate still names the commit the CI
    // run checked out, which says nothing of what was built.
    const own = (source: object, value: unknown) => {
      const statement = provenance(source)
      Object.assign(statement.predicate.buildDefinition, {
        buildType: 'https://reproof.dev/build-types/twin-build/v1',
        internalParameters: value === undefined ? {} : { dirty: value },
      })
      return statement
    }
    for (const signer of [KEY, CERT()]) {
      for (const [source, value] of [
        [{}, null],
        [{}, undefined],
        [SOURCE, null],
        [SOURCE, undefined],
        [SOURCE, 'false'],
      ] as const) {
        const checks = run({ sourceDigest: 'c0ffee' }, signer, own(source, value))
        const digest = checks.find((c) => c.name.startsWith('source digest'))
        // With a key and no commit in the predicate, there is no fact at all to compare.
        const missing = signer === KEY && !('commit' in source)
        expect(digest).toMatchObject({
          ok: false,
          reason: missing ? 'policy-field-missing' : 'source-digest',
        })
        if (!missing)
          expect(String(digest?.found)).toMatch(
            /^c0ffee, but the provenance does not say the build was of a commit as committed/,
          )
      }
      expect(failed({ sourceDigest: 'c0ffee' }, signer, own(SOURCE, false))).toEqual([])
      expect(failed({ sourceDigest: 'c0ffee' }, signer, own(SOURCE, true))).toEqual([
        'source-dirty',
      ])
    }
  })

  it('meets no other source policy either: an edited tree came from no repository, ref or owner', () => {
    const policies = [
      { repo: 'acme/app' },
      { owner: 'acme' },
      { sourceUri: 'https://github.com/acme/app' },
      { sourceRef: 'refs/heads/main' },
      { sourceRefRegexp: 'refs/heads/.*' },
    ]
    for (const policy of policies) {
      // Met by the same facts from a clean tree.
      expect(failed(policy, CERT(), dirty(false))).toEqual([])
      const checks = run(policy, CERT(), dirty(true))
      expect(checks.filter((c) => !c.ok).map((c) => c.reason)).toEqual(['source-dirty'])
      expect(String(checks.find((c) => !c.ok)?.found)).toMatch(/, built with uncommitted changes/)
    }
  })

  it("meets none, in reproof's own provenance, when it does not say the build was of a commit as committed", () => {
    const own = provenance({})
    Object.assign(own.predicate.buildDefinition, {
      buildType: 'https://reproof.dev/build-types/twin-build/v1',
      internalParameters: { dirty: null },
    })
    expect(failed({ repo: 'acme/app' }, CERT(), own)).toEqual(['repo'])
    expect(failed({ sourceRefRegexp: 'refs/heads/.*' }, CERT(), own)).toEqual(['source-ref'])
  })
})

describe('what a check found, as shown', () => {
  it('keeps a hostile statement printable: nesting and width bounded, text whole, the answer the same', () => {
    const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`) as unknown
    const wide = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]))
    const subjects = [
      { name: 'app.tgz', digest: { sha256: SHA } },
      { name: 'deep', digest: { x: deep } },
      { name: 'wide', digest: wide },
      { name: 'long', digest: { sha256: 'f'.repeat(100_000) } },
      ...Array.from({ length: 200 }, (_, i) => ({ name: `s${i}`, digest: { sha256: `${i}` } })),
    ]
    const yes = run({}, KEY, provenance(SOURCE, { subject: subjects }))
    expect(yes.every((c) => c.ok)).toBe(true)
    const no = run({}, KEY, provenance(SOURCE, { subject: subjects }), [
      { path: 'other', sha256: 'cd'.repeat(32) },
    ])
    const subject = no.find((c) => c.name === 'subject for other')
    expect(subject?.ok).toBe(false)
    expect(JSON.stringify(subject).length).toBeLessThan(120_000)
    const found = subject?.found as unknown[]
    expect(found).toHaveLength(101)
    expect(found.at(-1)).toBe('… 104 more')
    expect(JSON.stringify(found[1])).toContain('(an array nested too deep to show)')
    expect(Object.keys(found[2] as object)).toHaveLength(101)
    expect((found[3] as { sha256: string }).sha256).toBe('f'.repeat(100_000))
  })

  it('keeps a key named __proto__ as a key, not a prototype', () => {
    const digest = JSON.parse('{"__proto__": {"sha256": "x"}}') as object
    const no = run({}, KEY, provenance(SOURCE, { subject: [{ name: 'a', digest }] }))
    const found = no.find((c) => c.name === 'subject for app.tgz')?.found as object[]
    expect(Object.getPrototypeOf(found[0])).toBe(Object.prototype)
    expect(JSON.stringify(found)).toBe('[{"__proto__":{"sha256":"x"}}]')
  })
})
