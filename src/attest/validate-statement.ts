import * as v from 'valibot'
import { ReproofError } from '../errors.js'
import { PROVENANCE_TYPE, STATEMENT_TYPE, type Statement } from './statement.js'

const digestSet = v.pipe(
  v.record(v.string(), v.string()),
  v.check((d) => Object.keys(d).length > 0, 'a digest set needs at least one digest'),
  v.check(
    (d) => d.sha256 === undefined || /^[0-9a-f]{64}$/.test(d.sha256),
    'sha256 must be 64 lowercase hex digits',
  ),
  v.check(
    (d) => d.sha512 === undefined || /^[0-9a-f]{128}$/.test(d.sha512),
    'sha512 must be 128 lowercase hex digits',
  ),
  v.check(
    (d) => d.gitCommit === undefined || /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(d.gitCommit),
    'gitCommit must be 40 or 64 lowercase hex digits',
  ),
)
// RFC 3339 in UTC, as SLSA requires for timestamps, and a time there is: month 19 or
// second 99 has the form and is none.
const utcTime = v.pipe(
  v.string(),
  v.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, 'must be an RFC 3339 time in UTC'),
  v.check(isRealTime, 'must be a time that exists'),
)

/** Whether an RFC 3339 UTC time names an instant: its fields read back as they are written. */
function isRealTime(text: string): boolean {
  const at = Date.parse(text)
  return Number.isFinite(at) && new Date(at).toISOString().slice(0, 19) === text.slice(0, 19)
}
const resourceDescriptor = v.pipe(
  v.object({
    name: v.optional(v.string()),
    uri: v.optional(v.string()),
    digest: v.optional(digestSet),
    content: v.optional(v.string()),
    mediaType: v.optional(v.string()),
    annotations: v.optional(v.record(v.string(), v.unknown())),
  }),
  v.check(
    (r) => r.uri !== undefined || r.digest !== undefined || r.content !== undefined,
    'a resource descriptor needs a uri, a digest or content',
  ),
)

/** The field rules of in-toto Statement v1 and SLSA Provenance v1 that reproof relies on. */
const StatementSchema = v.object({
  _type: v.literal(STATEMENT_TYPE),
  subject: v.pipe(
    v.array(
      v.object({
        name: v.pipe(v.string(), v.minLength(1)),
        digest: v.pipe(
          digestSet,
          v.check((d) => d.sha256 !== undefined, 'every subject needs a sha256'),
        ),
      }),
    ),
    v.minLength(1, 'at least one subject'),
  ),
  predicateType: v.literal(PROVENANCE_TYPE),
  predicate: v.object({
    buildDefinition: v.object({
      buildType: v.pipe(v.string(), v.url()),
      externalParameters: v.record(v.string(), v.unknown()),
      internalParameters: v.optional(v.record(v.string(), v.unknown())),
      resolvedDependencies: v.optional(v.array(resourceDescriptor)),
    }),
    runDetails: v.object({
      builder: v.object({
        id: v.pipe(v.string(), v.minLength(1)),
        version: v.optional(v.record(v.string(), v.string())),
      }),
      metadata: v.optional(
        v.pipe(
          v.object({
            invocationId: v.optional(v.string()),
            startedOn: v.optional(utcTime),
            finishedOn: v.optional(utcTime),
          }),
          v.check(
            (m) =>
              m.startedOn === undefined ||
              m.finishedOn === undefined ||
              Date.parse(m.startedOn) <= Date.parse(m.finishedOn),
            'a build cannot finish before it started',
          ),
        ),
      ),
      byproducts: v.optional(v.array(resourceDescriptor)),
    }),
  }),
})

/** Checked before signing: reproof never signs a statement that breaks the spec. */
export function validateStatement(statement: Statement): void {
  const parsed = v.safeParse(StatementSchema, statement)
  if (!parsed.success) {
    const issue = parsed.issues[0]
    throw new ReproofError(
      'E_INPUT',
      `the statement built from the record is not valid (${issue.message} at ${v.getDotPath(issue) ?? 'the top'}); nothing was signed`,
    )
  }
}
