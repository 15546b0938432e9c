import { BUILD_TYPE, PROVENANCE_TYPE } from '../attest/statement.js'
import type { ArtifactDigests, Policy } from '../config/verify-options.js'
import { checked, type Check, type Reason } from './reasons.js'
import type { CertificateFacts } from './certificate-facts.js'
import type { VerifiedTime } from './verify-signature.js'
import { sha256Hex } from '../sha256.js'
import { matchesWhole, type BoundedMatch } from '../bounded-regexp.js'

export type { ArtifactDigests, Policy } from '../config/verify-options.js'
export { CERTIFICATE_ONLY } from '../config/verify-options.js'

export const STATEMENT_TYPES = [
  'https://in-toto.io/Statement/v1',
  'https://in-toto.io/Statement/v0.1',
]

// Clocks of signers, logs and verifiers disagree a little; a signed time further ahead
// than this is not a clock's error.
export const FUTURE_SKEW_MS = 5 * 60_000

/** Who vouches for the facts a source policy checks. */
export type Signer = { kind: 'key' } | { kind: 'certificate'; facts: CertificateFacts }

/**
 * Checks a decoded statement against the artifacts and the policy. Pure: the signer's
 * facts and the verified times come in as parameters. A check the policy asks for on a
 * field that is not there fails; it is never skipped.
 */
export function checkStatement(
  payloadType: string,
  statement: unknown,
  artifacts: readonly ArtifactDigests[],
  policy: Policy,
  signer: Signer,
  verifiedTimes: readonly VerifiedTime[],
  now: number,
  /** A subject must name the artifact's SHA-256 (the gate records that digest alone). */
  { sha256Required = false }: { sha256Required?: boolean } = {},
): Check[] {
  const s = isObject(statement) ? statement : {}
  const predicateType = typeof s.predicateType === 'string' ? s.predicateType : undefined
  const subjects = Array.isArray(s.subject) ? s.subject.filter(isObject) : []
  return [
    ...typeChecks(payloadType, s._type, predicateType, policy),
    ...artifacts.map((artifact) => subjectCheck(artifact, subjects, sha256Required)),
    ...conflictingSubjects(subjects),
    ...timeChecks(policy, signer, verifiedTimes, now),
    ...provenanceChecks(policy, signer, predicateType, s.predicate, subjects, artifacts),
  ]
}

/** The envelope's payload type, the statement's type, and the predicate type asked for. */
function typeChecks(
  payloadType: string,
  statementType: unknown,
  predicateType: string | undefined,
  policy: Policy,
): Check[] {
  const wantedType = policy.predicateType ?? PROVENANCE_TYPE
  return [
    checked({
      name: 'payload type',
      ok: payloadType === 'application/vnd.in-toto+json',
      wanted: 'application/vnd.in-toto+json',
      found: payloadType,
      reason: 'payload-type',
    }),
    checked({
      name: 'statement type',
      // A string, and one of them: String(["…/Statement/v1"]) would pass for one.
      ok: typeof statementType === 'string' && STATEMENT_TYPES.includes(statementType),
      wanted: STATEMENT_TYPES,
      found: statementType,
      reason: 'statement-type',
    }),
    checked({
      name: 'predicate type',
      ok: predicateType === wantedType,
      wanted: wantedType,
      found: predicateType,
      reason: 'predicate-type',
    }),
  ]
}

/**
 * That one of the statement's subjects carries the artifact's digest: one algorithm
 * both name agrees, and none disagrees. A subject whose SHA-512 is one file's and
 * SHA-256 another's matches neither: the rebuild and reproduction checks compare
 * SHA-256, and would vouch for the other file.
 */
function subjectCheck(
  artifact: ArtifactDigests,
  subjects: readonly Record<string, unknown>[],
  sha256Required: boolean,
): Check {
  const match = subjects.find((subject) => {
    const digest = isObject(subject.digest) ? subject.digest : {}
    const named = (['sha256', 'sha512'] as const).filter(
      (algorithm) => artifact[algorithm] !== undefined && digest[algorithm] !== undefined,
    )
    if (sha256Required && !named.includes('sha256')) return false
    return named.length > 0 && named.every((algorithm) => digest[algorithm] === artifact[algorithm])
  })
  return checked({
    name: `subject for ${artifact.path}`,
    ok: match !== undefined,
    wanted:
      artifact.sha256 !== undefined ? { sha256: artifact.sha256 } : { sha512: artifact.sha512 },
    found: subjects.map((x) => x.digest),
    reason: 'subject-mismatch',
  })
}

/**
 * One name given two digests: no build writes that, and a reader that shows or records
 * subjects by name (a ledger, a job summary) would pair the artifact with the wrong one.
 * A check only where it fails.
 */
function conflictingSubjects(subjects: readonly Record<string, unknown>[]): Check[] {
  // Per name, each algorithm's value as first given: another value of the same algorithm
  // under that name is the conflict (a subject naming more or fewer algorithms is not).
  const seen = new Map<unknown, Map<string, string>>()
  for (const subject of subjects) {
    const digest = isObject(subject.digest) ? subject.digest : {}
    const known = seen.get(subject.name) ?? new Map<string, string>()
    seen.set(subject.name, known)
    for (const algorithm of ['sha256', 'sha512']) {
      const value = digest[algorithm]
      if (typeof value !== 'string') continue
      const before = known.get(algorithm)
      if (before !== undefined && before !== value.toLowerCase())
        return [
          checked({
            name: 'subject names',
            ok: false,
            wanted: 'one digest for each subject name',
            found: subject.name,
            reason: 'subject-mismatch',
          }),
        ]
      known.set(algorithm, value.toLowerCase())
    }
  }
  return []
}

/**
 * The policies that read the provenance: builder, build type, source, reproduced. They
 * need the provenance predicate; any other predicate fails them as one check.
 */
function provenanceChecks(
  policy: Policy,
  signer: Signer,
  predicateType: string | undefined,
  rawPredicate: unknown,
  subjects: readonly Record<string, unknown>[],
  artifacts: readonly ArtifactDigests[],
): Check[] {
  const readsPredicate =
    [policy.builderId, policy.buildType].some((x) => x !== undefined) ||
    policy.requireReproduced === true ||
    policy.requireStatedByBuild === true ||
    (signer.kind === 'key' && asksForSource(policy))
  if (readsPredicate && predicateType !== PROVENANCE_TYPE) {
    return [
      checked({
        name: 'provenance predicate',
        ok: false,
        wanted: PROVENANCE_TYPE,
        found: predicateType,
        reason: 'predicate-type',
      }),
    ]
  }
  const predicate = isObject(rawPredicate) ? rawPredicate : {}
  const definition = isObject(predicate.buildDefinition) ? predicate.buildDefinition : {}
  const external = isObject(definition.externalParameters) ? definition.externalParameters : {}
  const source =
    predicateType === PROVENANCE_TYPE && isObject(external.source) ? external.source : {}
  const run = isObject(predicate.runDetails) ? predicate.runDetails : {}
  const builder = isObject(run.builder) ? run.builder : {}
  const checks: Check[] = []
  // Exact-match policies on what the signer wrote: one row each, each with its own reason.
  const exact: [string | undefined, string, unknown, Reason][] = [
    [policy.builderId, 'builder id', builder.id, 'builder-id'],
    [policy.buildType, 'build type', definition.buildType, 'build-type'],
  ]
  for (const [wanted, name, found, reason] of exact) {
    if (wanted !== undefined)
      checks.push(checked({ name, ok: found === wanted, wanted, found, reason }))
  }
  // The builder id is the signer's claim. Under a certificate that names the workflow
  // it ran as (Fulcio's Build Config URI: GitHub Actions', as `$GITHUB_SERVER_URL/
  // $GITHUB_WORKFLOW_REF`), the claim must be that workflow: a workflow of one
  // repository could otherwise write another's id and pass a policy on it.
  const config = signer.kind === 'certificate' ? signer.facts.buildConfigUri : undefined
  if (policy.builderId !== undefined && config !== undefined)
    checks.push(
      checked({
        name: 'builder id is the workflow the certificate names',
        ok: builder.id === config,
        wanted: config,
        found: builder.id,
        reason: 'builder-id',
      }),
    )
  const internal =
    predicateType === PROVENANCE_TYPE && isObject(definition.internalParameters)
      ? definition.internalParameters
      : {}
  checks.push(
    ...sourceChecks(
      policy,
      signer,
      {
        repository: text(source.uri),
        ref: text(source.ref),
        digest: text(source.commit),
      },
      sourceState(definition.buildType, text(source.commit), internal.dirty),
    ),
  )
  if (policy.requireReproduced === true)
    checks.push(reproducedCheck(run, subjects, artifacts, internal))
  if (policy.requireStatedByBuild === true)
    checks.push(
      checked({
        name: 'stated by the build',
        ok: internal.attestedBy === 'reproof build',
        wanted: 'reproof build (the runs stated by the process that ran them)',
        found:
          typeof internal.attestedBy === 'string'
            ? internal.attestedBy
            : 'who stated the runs is not said (an older or another builder)',
        reason: 'stated-from-record',
      }),
    )
  return checks
}

/**
 * Whether the provenance says the artifact was built from its commit as it is. reproof's
 * own provenance says it twice: the commit, and `dirty: false` (the work tree was the
 * commit's). Without both (`dirty: null`, a build outside any git work tree: a copy, an
 * export, an unpacked tarball) the commit a certificate names is only what the CI run
 * checked out, not what was built. Other builders' provenance says no more than the
 * commit, and is taken at its word unless it says the tree was dirty.
 */
function sourceState(
  buildType: unknown,
  commit: string | undefined,
  dirty: unknown,
): 'clean' | 'dirty' | 'unknown' {
  if (dirty === true) return 'dirty'
  if (buildType !== BUILD_TYPE) return 'clean'
  return dirty === false && commit !== undefined ? 'clean' : 'unknown'
}

function asksForSource(policy: Policy): boolean {
  return [
    policy.sourceUri,
    policy.repo,
    policy.owner,
    policy.sourceRef,
    policy.sourceRefRegexp,
    policy.sourceDigest,
  ].some((x) => x !== undefined)
}

/**
 * A signed time from the future is refused, whatever the policy: it is a broken clock
 * or a forgery. The age is measured from the earliest verified time: a timestamp can be
 * asked for at any moment over an old signature, so only the earliest bounds the age.
 *
 * And only under a certificate, whose validity window (minutes, for Fulcio's) the
 * signing fell in and every verified time must fall in too. A key has no window: the
 * times in a key-signed bundle are outside what was signed, so an old signature with a
 * fresh timestamp (its log entry left out, as a key bundle may) looked young. Its age
 * cannot be told, and a policy that asks for one is not met.
 */
function timeChecks(
  policy: Policy,
  signer: Signer,
  times: readonly VerifiedTime[],
  now: number,
): Check[] {
  const checks: Check[] = []
  const describe = (t: VerifiedTime): string => `${new Date(t.time).toISOString()} (${t.source})`
  const future = times.find((t) => t.time > now + FUTURE_SKEW_MS)
  if (future !== undefined)
    checks.push({
      name: 'verified time not in the future',
      ok: false,
      wanted: `no later than ${new Date(now + FUTURE_SKEW_MS).toISOString()}`,
      found: describe(future),
      reason: 'time-in-future',
    })
  if (policy.maxAgeMs !== undefined && signer.kind === 'key') {
    checks.push({
      name: 'age',
      ok: false,
      wanted: `signed at most ${policy.maxAgeMs} ms ago`,
      found:
        'a bundle signed with a key: its times are not signed with it (a fresh timestamp can be put on an old signature), so its age cannot be told; --max-age needs a certificate-signed (keyless) bundle',
      reason: 'too-old',
    })
  } else if (policy.maxAgeMs !== undefined) {
    const earliest = [...times].sort((a, b) => a.time - b.time)[0]
    checks.push(
      checked({
        name:
          earliest === undefined
            ? 'age'
            : `age, from the earliest verified time: ${describe(earliest)}`,
        ok: earliest !== undefined && now - earliest.time <= policy.maxAgeMs,
        wanted: `signed at most ${policy.maxAgeMs} ms ago, by a verified log or timestamp time`,
        found:
          earliest === undefined
            ? 'no verified time in the bundle (a log entry without its inclusion promise vouches for no time)'
            : describe(earliest),
        reason: 'too-old',
      }),
    )
  }
  return checks
}

interface SourceFacts {
  repository: string | undefined
  ref: string | undefined
  digest: string | undefined
}

type Compare = (found: string, wanted: string) => BoundedMatch

/**
 * Source policy. For a keyless bundle the facts come from the certificate, which Fulcio
 * wrote from the CI run's token, and where the predicate states the same fact the two
 * must agree. For a key bundle there is nothing but the predicate: its facts are what
 * the key holder asserted, and each check says so.
 */
function sourceChecks(
  policy: Policy,
  signer: Signer,
  predicate: SourceFacts,
  /**
   * `dirty`: the provenance says the work tree differed from the commit when it was
   * built, so the artifact did not come from that commit, whoever names it (the
   * certificate names the commit the CI run checked out, not what the build then changed
   * in it). `unknown`: it does not say the build was of the commit as it is.
   */
  state: 'clean' | 'dirty' | 'unknown',
): Check[] {
  const facts = signer.kind === 'certificate' ? signer.facts : undefined
  const fromCertificate: SourceFacts | undefined =
    facts === undefined
      ? undefined
      : {
          repository: facts.sourceRepositoryUri,
          ref: facts.sourceRepositoryRef,
          digest: facts.sourceRepositoryDigest,
        }
  const known = fromCertificate ?? predicate
  const by =
    fromCertificate === undefined ? 'signer-asserted, from the predicate' : 'from the certificate'
  const asRepository: Compare = (f, w) => sameRepository(f, githubUrl(w))
  const owner = facts !== undefined ? facts.sourceRepositoryOwnerUri : ownerOf(predicate.repository)
  const rows: PolicyRow[] = [
    ['source uri', policy.sourceUri, known.repository, sameRepository, 'source-uri'],
    ['repository', policy.repo, known.repository, asRepository, 'repo'],
    ['owner', policy.owner, owner, asRepository, 'owner'],
    ['source ref', policy.sourceRef, known.ref, (f, w) => f === w, 'source-ref'],
    ['source ref', policy.sourceRefRegexp, known.ref, (f, w) => matchesWhole(w, f), 'source-ref'],
    ['source digest', policy.sourceDigest, known.digest, (f, w) => f === w, 'source-digest'],
  ]
  // Every source policy says where the artifact came from: a repository, a ref and a
  // commit alike. What the certificate names is what the CI run checked out, and a
  // policy "from a tag" met by a build of an edited tree was a yes for other sources.
  const why =
    state === 'dirty'
      ? 'built with uncommitted changes (the provenance says dirty: true)'
      : `but the provenance does not say the build was of a commit as committed (${
          predicate.digest === undefined ? 'it names no commit' : 'no dirty: false'
        }: a build outside a clean git checkout, from a copy, an export or an unpacked tarball)`
  const unanswerable: Unanswerable | undefined =
    state === 'clean'
      ? undefined
      : {
          found: (fact) => `${fact ?? '(none)'}, ${why}`,
          ...(state === 'dirty' ? { reason: 'source-dirty' as const } : {}),
        }
  return [
    ...(fromCertificate === undefined ? [] : disagreements(fromCertificate, predicate)),
    ...policyChecks(rows, by, unanswerable),
    ...certificateOnlyChecks(policy, facts),
  ]
}

/** One policy asked for: its name, the value wanted, the fact found, how they match. */
type PolicyRow = [
  name: string,
  wanted: string | undefined,
  found: string | undefined,
  ok: Compare,
  reason: Reason,
]

/** Why no policy of some rows can be met: what each found says, and `reason` over the row's own. */
interface Unanswerable {
  found: (fact: string | undefined) => string
  reason?: Reason
}

/**
 * One check per policy asked for (a row whose wanted value is undefined was not asked
 * for); a fact the source does not state fails it, never skips it. `unanswerable` fails
 * every row it is given for, saying why beside what was found.
 */
function policyChecks(
  rows: readonly PolicyRow[],
  by: string,
  unanswerable?: Unanswerable,
): Check[] {
  return rows.flatMap(([name, wanted, found, ok, reason]) => {
    if (wanted === undefined) return []
    const matched = unanswerable === undefined && found !== undefined ? ok(found, wanted) : false
    return [
      checked({
        name: `${name} (${by})`,
        ok: matched === true,
        wanted,
        found:
          unanswerable !== undefined
            ? unanswerable.found(found)
            : typeof matched === 'object'
              ? `${found ?? ''} (${matched.undecided})`
              : found,
        reason: found === undefined ? 'policy-field-missing' : (unanswerable?.reason ?? reason),
      }),
    ]
  })
}

/** Where the certificate and the predicate both state a source fact, they must agree. */
function disagreements(fromCertificate: SourceFacts, predicate: SourceFacts): Check[] {
  const same: Record<keyof SourceFacts, Compare> = {
    repository: sameRepository,
    ref: (a, b) => a === b,
    digest: (a, b) => a === b,
  }
  return (['repository', 'ref', 'digest'] as const).flatMap((fact) => {
    const a = fromCertificate[fact]
    const b = predicate[fact]
    return a !== undefined && b !== undefined && !same[fact](a, b)
      ? [
          {
            name: `source ${fact}: the certificate and the predicate agree`,
            ok: false,
            wanted: `${a} (certificate)`,
            found: `${b} (predicate)`,
            reason: 'source-disagreement' as const,
          },
        ]
      : []
  })
}

/** What only Fulcio can say: a key bundle cannot answer these, so they fail. */
function certificateOnlyChecks(policy: Policy, facts: CertificateFacts | undefined): Check[] {
  const signerFacts: Partial<CertificateFacts> = facts ?? {}
  const rows: PolicyRow[] = [
    [
      'signer workflow',
      policy.signerWorkflow,
      signerFacts.buildSignerUri,
      (f, w) => startsWithUrl(f, `${githubUrl(w)}@`),
      'signer-workflow',
    ],
    [
      'signer repository',
      policy.signerRepo,
      signerFacts.buildSignerUri,
      (f, w) => startsWithUrl(f, `${githubUrl(w)}/`),
      'signer-repo',
    ],
    [
      'signer digest',
      policy.signerDigest,
      signerFacts.buildSignerDigest,
      (f, w) => f === w,
      'signer-digest',
    ],
    [
      'runner environment',
      policy.denySelfHostedRunners === true ? 'github-hosted' : undefined,
      signerFacts.runnerEnvironment,
      (f, w) => f === w,
      'runner-environment',
    ],
  ]
  return policyChecks(
    rows,
    'from the certificate',
    facts === undefined ? { found: () => 'a key-signed bundle has no certificate' } : undefined,
  )
}

function sameRepository(a: string, b: string): boolean {
  return repositoryKey(a) === repositoryKey(b)
}

/**
 * A repository URI in one comparable form: `git+`, credentials, a trailing `.git` or
 * slash and the scp-like ssh form aside, https, and on github.com in lower case (GitHub
 * names are not case-sensitive; elsewhere only the host is).
 */
export function repositoryKey(uri: string): string {
  // No repository's address is this long: one written so (a signed statement may hold
  // 8 MiB) is compared as it is, not worked over pass by pass.
  if (uri.length > MAX_URI_LENGTH) return uri
  // One pass may uncover what another would remove (` git+x`, `a.git.git`, `a/ /`):
  // passes repeat until nothing changes, so a key is its own key. Past the first pass
  // none makes the text longer, and one that keeps its length only lower-cases it.
  let key = keyPass(uri)
  for (let next = keyPass(key); next !== key; next = keyPass(key)) key = next
  return key
}

const MAX_URI_LENGTH = 4096

function keyPass(uri: string): string {
  let u = uri.trim().replace(/^(?:git\+)+/, '')
  // A backslash is a slash to a URL parser (`https://evil.example\@github.com/x` is
  // evil.example's), and a control character or space is dropped or kept depending on
  // who reads it: no repository's address holds one, and one that does is compared as it
  // is, never taken apart.
  // eslint-disable-next-line no-control-regex -- control characters are what it looks for
  if (/[\\\x00-\x20\x7f]/.test(u)) return u
  const scp = /^(?:[^@/:]+@)?([^/:]+):(?!\/)(.+)$/.exec(u)
  if (scp !== null && !u.includes('://')) u = `https://${scp[1]}/${scp[2]}`
  // Credentials end at the last `@` before the path, query or fragment, as a URL parser
  // reads them: `https://evil.example#@github.com/acme/app` is evil.example's.
  u = u.replace(/^(?:ssh|git|http|https):\/\/(?:[^/?#]*@)?/, 'https://')
  // Every trailing slash and `.git` at once: one a pass made a 40,000-fold `.git` take a minute.
  u = u.replace(/(?:\/|\.git)+$/, '')
  const m = /^https:\/\/([^/]+)(.*)$/.exec(u)
  if (m === null) return u
  const host = (m[1] ?? '').toLowerCase()
  return `https://${host}${host === 'github.com' ? (m[2] ?? '').toLowerCase() : (m[2] ?? '')}`
}

/** `owner/repo`, `host/owner/repo` (and the same for owners or workflow paths) as a URL. */
export function githubUrl(name: string): string {
  if (/^https?:\/\//.test(name)) return name.replace(/\/+$/, '')
  const parts = name.split('/').filter((p) => p !== '')
  const hasHost = parts.length > 0 && (parts[0] ?? '').includes('.')
  return `https://${hasHost ? parts.join('/') : ['github.com', ...parts].join('/')}`
}

/**
 * `uri` begins with `prefix`. On github.com the owner and repository are not
 * case-sensitive, but a workflow's path is a file in git: `Release.yml` is not
 * `release.yml`, so only the host, owner and repository are compared without case.
 */
function startsWithUrl(uri: string, prefix: string): boolean {
  if (!/^https:\/\/github\.com\//i.test(prefix)) return uri.startsWith(prefix)
  const head = /^https:\/\/[^/]+(?:\/[^/@]*){0,2}/i
  const [uriHead = '', prefixHead = ''] = [head.exec(uri)?.[0], head.exec(prefix)?.[0]]
  const cut = Math.min(prefixHead.length, uriHead.length)
  return (
    uri.slice(0, cut).toLowerCase() === prefix.slice(0, cut).toLowerCase() &&
    uri.slice(cut).startsWith(prefix.slice(cut))
  )
}

function ownerOf(repository: string | undefined): string | undefined {
  if (repository === undefined) return undefined
  const m = /^(https:\/\/[^/]+\/[^/]+)\/[^/]+$/.exec(repositoryKey(repository))
  return m?.[1]
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/**
 * The byproducts must hold two runs' manifests, each matching its digest, each holding
 * every subject's digest: proof that two independent runs produced what is attested.
 */
function reproducedCheck(
  run: Record<string, unknown>,
  subjects: readonly Record<string, unknown>[],
  artifacts: readonly ArtifactDigests[],
  internal: Record<string, unknown>,
): Check {
  // The runs' manifests name SHA-256 digests: an artifact known only by its SHA-512 is
  // tied to them by nothing but its subject's word (whose SHA-256 may be another file's).
  const bySha512Only = artifacts.filter((a) => a.sha256 === undefined)
  if (bySha512Only.length > 0)
    return checked({
      name: 'reproduced by two runs',
      ok: false,
      wanted: 'every artifact known by its SHA-256, which the run manifests hold',
      found: `${bySha512Only.map((a) => a.path).join(', ')}: a SHA-512 only (give the file, or its sha256:)`,
      reason: 'not-reproduced',
    })
  const byproducts = Array.isArray(run.byproducts) ? run.byproducts.filter(isObject) : []
  const manifests = byproducts
    .filter(
      (b) =>
        /^reproof\/run-[ab]\/manifest\.json$/.test(String(b.name)) && typeof b.content === 'string',
    )
    .map((b) => {
      const content = Buffer.from(String(b.content), 'base64')
      const digest = isObject(b.digest) ? b.digest.sha256 : undefined
      const intact = sha256Hex(content) === digest
      let entries: unknown = []
      try {
        entries = JSON.parse(content.toString('utf8'))
      } catch {
        entries = []
      }
      // Each artifact by its name and digest both: by digest alone, a subject another
      // run made under another name (or left beside its own, differing, artifact) was
      // "reproduced". Only digests as a manifest writes them: an entry without one must
      // not match a subject without one (undefined in both).
      const artifacts = new Set(
        (Array.isArray(entries) ? entries.filter(isObject) : [])
          .filter((e) => typeof e.name === 'string' && typeof e.sha256 === 'string')
          .filter((e) => SHA256_HEX.test(String(e.sha256)))
          .map((e) => JSON.stringify([e.name, e.sha256])),
      )
      // The signer's own word on the runs: a statement that says they did not reproduce
      // is no proof that they did, whatever its manifests hold.
      const saysReproducible = isObject(b.annotations) && b.annotations.reproducible === true
      return { name: String(b.name), intact, artifacts, saysReproducible }
    })
  const sound = manifests.filter((m) => m.intact)
  const runs = new Set(sound.map((m) => m.name))
  const everySubject = subjects.every((s) => {
    const d = isObject(s.digest) ? s.digest.sha256 : undefined
    return (
      typeof s.name === 'string' &&
      typeof d === 'string' &&
      SHA256_HEX.test(d) &&
      sound.every((m) => m.artifacts.has(JSON.stringify([s.name, d])))
    )
  })
  const denied = sound.some((m) => !m.saysReproducible)
  const ok = runs.size === 2 && everySubject && !denied
  return checked({
    name: 'reproduced by two runs',
    ok,
    wanted:
      'two intact run manifests that hold every subject, by name and digest, and say the runs reproduced',
    // A yes carries how the signer says the runs differed and what kept them apart: two
    // runs with nothing varied, or able to reach each other, prove less, and the answer
    // says so rather than leave it in the statement.
    found: ok
      ? `2 intact run manifests holding every subject${normalizedOnly(byproducts) ? ", identical once normalized (the runs' raw outputs differed)" : ''}; the provenance says: ${runConditions(internal)}`
      : `${runs.size} intact run manifest(s)${runs.size === 2 && !everySubject ? ', not holding every subject by its name and digest' : ''}${runs.size === 2 && denied ? ', annotated as not reproducible' : ''}`,
    reason: 'not-reproduced',
  })
}

/**
 * The two runs' conditions as a reproof provenance states them (its `isolation`,
 * `variations` and `turnedOff`), in one line; what it does not state is said to be
 * unstated. Pure.
 */
export function runConditions(internal: Record<string, unknown>): string {
  const isolation = isObject(internal.isolation) ? internal.isolation : undefined
  const kind = text(isolation?.kind)
  const network = text(isolation?.network)
  const apart =
    kind === undefined
      ? "the runs' isolation not stated"
      : kind === 'namespaces'
        ? 'runs isolated by namespaces'
        : `runs not isolated by namespaces (${shownWord(kind)}): each could read the other's build root`
  const reach =
    network === 'none'
      ? 'no network'
      : network === 'host'
        ? 'the network reachable'
        : 'the network not stated'
  const variations = Array.isArray(internal.variations) ? internal.variations.filter(isObject) : []
  const varied = variations.filter((v) => v.status === 'effective').map((v) => shownWord(v.name))
  const notVaried = [
    ...variations
      .filter((v) => v.status !== 'effective')
      .map((v) => `${shownWord(v.name)} (${shownWord(v.status).replace('-', ' ')})`),
    ...(Array.isArray(internal.turnedOff) ? internal.turnedOff.filter(isObject) : []).map(
      (v) => `${shownWord(v.name)} (turned off)`,
    ),
  ]
  // Stated by the build that ran the runs, or by `reproof attest` from a record file,
  // whose every claim is that file's word.
  const by =
    internal.attestedBy === 'reproof attest'
      ? 'stated by reproof attest from a build record file (the file is its only evidence)'
      : internal.attestedBy === 'reproof build'
        ? 'stated by the build that ran them'
        : 'who stated it not stated'
  return [
    `${apart}, ${reach}`,
    `varied: ${varied.length === 0 ? 'nothing' : varied.join(', ')}`,
    ...(notVaried.length === 0 ? [] : [`not varied: ${notVaried.join(', ')}`]),
    by,
  ].join('; ')
}

/** Whether the run manifests say the runs matched only once normalized. */
function normalizedOnly(byproducts: readonly Record<string, unknown>[]): boolean {
  return byproducts.some(
    (b) => isObject(b.annotations) && b.annotations.reproducibleWithoutNormalization === false,
  )
}

/** A value of the statement as a word: text as it is, anything else as its JSON. */
function shownWord(value: unknown): string {
  if (typeof value === 'string') return value
  // JSON.stringify gives undefined (not a string) for undefined.
  const json = JSON.stringify(value) as string | undefined
  return json ?? 'undefined'
}

const SHA256_HEX = /^[0-9a-f]{64}$/

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
