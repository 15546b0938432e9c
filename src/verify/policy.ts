import crypto from 'node:crypto'
import { PROVENANCE_TYPE } from '../attest/statement.js'
import type { Check, Reason } from './reasons.js'

/** What the caller requires beyond a valid signature; every field is optional. */
export interface Policy {
  predicateType?: string
  builderId?: string
  sourceUri?: string
  /** Anchored at both ends. */
  sourceRef?: string
  sourceDigest?: string
  buildType?: string
  requireReproduced?: boolean
  /** Milliseconds; measured from the log's or the timestamp authority's time. */
  maxAgeMs?: number
}

export const STATEMENT_TYPES = [
  'https://in-toto.io/Statement/v1',
  'https://in-toto.io/Statement/v0.1',
]

export interface ArtifactDigests {
  path: string
  sha256: string
  /** Computed only when a subject is named by SHA-512. */
  sha512?: string
}

/**
 * Checks a decoded statement against the artifacts and the policy. Pure: the verified
 * times come in as a parameter. A check the policy asks for on a field that is not
 * there fails; it is never skipped.
 */
export function checkStatement(
  payloadType: string,
  statement: unknown,
  artifacts: readonly ArtifactDigests[],
  policy: Policy,
  verifiedTimes: readonly number[],
  now: number,
): Check[] {
  const checks: Check[] = []
  const add = (check: Check): void => {
    checks.push(check)
  }
  add({
    name: 'payload type',
    ok: payloadType === 'application/vnd.in-toto+json',
    wanted: 'application/vnd.in-toto+json',
    found: payloadType,
    reason: 'payload-type',
  })
  const s = isObject(statement) ? statement : {}
  add({
    name: 'statement type',
    ok: STATEMENT_TYPES.includes(String(s._type)),
    wanted: STATEMENT_TYPES,
    found: s._type,
    reason: 'statement-type',
  })
  const predicateType = typeof s.predicateType === 'string' ? s.predicateType : undefined
  if (policy.predicateType !== undefined) {
    add({
      name: 'predicate type',
      ok: predicateType === policy.predicateType,
      wanted: policy.predicateType,
      found: predicateType,
      reason: 'predicate-type',
    })
  }
  const subjects = Array.isArray(s.subject) ? s.subject.filter(isObject) : []
  for (const artifact of artifacts) {
    const match = subjects.find((subject) => {
      const digest = isObject(subject.digest) ? subject.digest : {}
      return (
        digest.sha256 === artifact.sha256 ||
        (artifact.sha512 !== undefined && digest.sha512 === artifact.sha512)
      )
    })
    add({
      name: `subject for ${artifact.path}`,
      ok: match !== undefined,
      wanted: { sha256: artifact.sha256 },
      found: subjects.map((x) => x.digest),
      reason: 'subject-mismatch',
    })
  }

  // Policies that read the provenance need the provenance predicate.
  const readsPredicate =
    [
      policy.builderId,
      policy.sourceUri,
      policy.sourceRef,
      policy.sourceDigest,
      policy.buildType,
    ].some((x) => x !== undefined) || policy.requireReproduced === true
  if (readsPredicate && predicateType !== PROVENANCE_TYPE) {
    add({
      name: 'provenance predicate',
      ok: false,
      wanted: PROVENANCE_TYPE,
      found: predicateType,
      reason: 'predicate-type',
    })
    return checks
  }
  const predicate = isObject(s.predicate) ? s.predicate : {}
  const definition = isObject(predicate.buildDefinition) ? predicate.buildDefinition : {}
  const external = isObject(definition.externalParameters) ? definition.externalParameters : {}
  const source = isObject(external.source) ? external.source : {}
  const run = isObject(predicate.runDetails) ? predicate.runDetails : {}
  const builder = isObject(run.builder) ? run.builder : {}
  // Exact-match policies: one row each, each with its own reason.
  const exact: [string | undefined, string, unknown, Reason][] = [
    [policy.builderId, 'builder id', builder.id, 'builder-id'],
    [policy.buildType, 'build type', definition.buildType, 'build-type'],
    [policy.sourceUri, 'source uri', source.uri, 'source-uri'],
    [policy.sourceDigest, 'source digest', source.commit, 'source-digest'],
  ]
  for (const [wanted, name, found, reason] of exact) {
    if (wanted !== undefined) add({ name, ok: found === wanted, wanted, found, reason })
  }
  if (policy.sourceRef !== undefined) {
    const ref = typeof source.ref === 'string' ? source.ref : undefined
    add({
      name: 'source ref',
      ok: ref !== undefined && anchored(policy.sourceRef).test(ref),
      wanted: policy.sourceRef,
      found: ref,
      reason: ref === undefined ? 'policy-field-missing' : 'source-ref',
    })
  }
  if (policy.requireReproduced === true) add(reproducedCheck(run, subjects))
  if (policy.maxAgeMs !== undefined) {
    const newest = verifiedTimes.length === 0 ? undefined : Math.max(...verifiedTimes)
    add({
      name: 'age',
      ok: newest !== undefined && now - newest <= policy.maxAgeMs,
      wanted: `at most ${policy.maxAgeMs} ms old, by a verified log or timestamp time`,
      found:
        newest === undefined ? 'no verified time in the bundle' : new Date(newest).toISOString(),
      reason: 'too-old',
    })
  }
  return checks
}

/**
 * The byproducts must hold two runs' manifests, each matching its digest, each holding
 * every subject's digest: proof that two independent runs produced what is attested.
 */
function reproducedCheck(run: Record<string, unknown>, subjects: Record<string, unknown>[]): Check {
  const byproducts = Array.isArray(run.byproducts) ? run.byproducts.filter(isObject) : []
  const manifests = byproducts
    .filter(
      (b) =>
        /^reproof\/run-[ab]\/manifest\.json$/.test(String(b.name)) && typeof b.content === 'string',
    )
    .map((b) => {
      const content = Buffer.from(String(b.content), 'base64')
      const digest = isObject(b.digest) ? b.digest.sha256 : undefined
      const intact = crypto.createHash('sha256').update(content).digest('hex') === digest
      let entries: unknown = []
      try {
        entries = JSON.parse(content.toString('utf8'))
      } catch {
        entries = []
      }
      const digests = new Set(
        (Array.isArray(entries) ? entries.filter(isObject) : []).map((e) => e.sha256),
      )
      return { name: String(b.name), intact, digests }
    })
  const runs = new Set(manifests.filter((m) => m.intact).map((m) => m.name))
  const everySubject = subjects.every((s) => {
    const d = isObject(s.digest) ? s.digest.sha256 : undefined
    return manifests.filter((m) => m.intact).every((m) => m.digests.has(d))
  })
  const ok = runs.size === 2 && everySubject
  return {
    name: 'reproduced by two runs',
    ok,
    wanted: 'two intact run manifests that hold every subject digest',
    found: `${runs.size} intact run manifest(s)${runs.size === 2 && !everySubject ? ', not holding every subject' : ''}`,
    reason: 'not-reproduced',
  }
}

function anchored(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
