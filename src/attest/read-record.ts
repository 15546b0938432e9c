import { parseJsonBytes } from '../io/json-input.js'
import { MAX_EPOCH } from '../config/epoch.js'
import { VARIATIONS } from '../config/variations.js'
import * as v from 'valibot'
import { BUILD_RECORD_TYPE, type BuildRecord } from '../records/build-record.js'
import { ReproofError } from '../errors.js'
import { fromNameBytes, isPlainRelativePath, toNameBytes } from '../file-names.js'
import { readBounded } from '../io/read-bounded.js'
import { NORMALIZED_FORMATS } from '../normalize/job.js'
import { stripCredentials } from '../sandbox/git.js'
import { setByReproof } from '../sandbox/run-plan.js'

/** A full ref name as git check-ref-format takes one, under refs/. */
function isRefName(ref: string): boolean {
  return (
    ref.startsWith('refs/') &&
    // No ASCII control character, space or DEL (git refuses them; any other character,
    // a no-break space included, is part of a name git takes).
    !Array.from({ length: ref.length }, (_, i) => ref.charCodeAt(i)).some(
      (c) => c <= 0x20 || c === 0x7f,
    ) &&
    !/[~^:?*[\\]/.test(ref) &&
    !ref.split('/').some((part) => part === '' || part.startsWith('.') || part.endsWith('.lock')) &&
    !ref.includes('..') &&
    !ref.includes('@{') &&
    !ref.endsWith('.')
  )
}

const MAX_RECORD_BYTES = 64 * 1024 * 1024
const hex64 = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'))
// JSON.parse reads 1e400 as Infinity, which a statement's JSON writes as null: a record's
// numbers are whole ones a build could have given, and counts are never negative.
const whole = v.pipe(v.number(), v.safeInteger('must be a whole number'))
const count = v.pipe(whole, v.minValue(0, 'must not be negative'))
// Names are joined to directories (`--sha512 <dir>`, a rebuild's output directory): each
// a plain path inside one, and each once.
const manifest = v.pipe(
  v.array(
    v.object({
      name: v.pipe(
        v.string(),
        v.check(
          isPlainRelativePath,
          'must be a path inside the output directory (not absolute, no empty, . or .. part)',
        ),
        // One spelling per name: an escaped byte that is valid UTF-8 (`\u0000` and its hex)
        // or a lone surrogate is another string for the same bytes, which the check for a
        // name given twice below would take for another name.
        v.check(
          (name) => fromNameBytes(toNameBytes(name)) === name,
          'must be a name as reproof writes it (each byte spelled one way)',
        ),
      ),
      sha256: hex64,
      size: count,
      executable: v.optional(v.literal(true)),
    }),
  ),
  v.check(
    (entries) => new Set(entries.map((e) => e.name)).size === entries.length,
    'names an artifact twice',
  ),
)

/** What attestation reads from a build record: checked field by field, never trusted as is. */
const RecordSchema = v.object({
  recordType: v.literal(BUILD_RECORD_TYPE),
  // Version 1 records (before the strict verdict) said "reproducible" after
  // normalizing by default; they are not attested.
  version: v.literal(2),
  reproofVersion: v.string(),
  command: v.pipe(v.array(v.string()), v.minLength(1)),
  source: v.object({
    path: v.string(),
    git: v.optional(
      v.object({
        // A full commit id: SHA-1's 40 digits or SHA-256's 64, nothing between.
        commit: v.pipe(v.string(), v.regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/)),
        commitTime: whole,
        dirty: v.boolean(),
        // Signed as `git+<repository>`: an empty one named no repository.
        // Without credentials: a build removes them, so one that holds any was not written
        // by a build, and signing it would publish them.
        repository: v.optional(
          v.pipe(
            v.string(),
            v.minLength(1, 'the repository is empty'),
            v.check(
              (url) => stripCredentials(url) === url,
              'the repository URL holds credentials or a query, which a build removes',
            ),
          ),
        ),
        // A ref as git names one (`refs/heads/main`, `refs/tags/v1`, `refs/pull/1/merge`).
        ref: v.optional(
          v.pipe(v.string(), v.check(isRefName, 'the ref is not a full git ref name (refs/...)')),
        ),
        // Joined to the repository's root by a rebuild: a path below it, nothing else.
        subdirectory: v.optional(
          v.pipe(
            v.string(),
            v.check(isPlainRelativePath, 'the subdirectory must be a relative path below the root'),
          ),
        ),
      }),
    ),
    files: count,
    bytes: count,
    // Records from before lockfiles were recorded have none.
    lockfiles: v.optional(
      v.array(
        v.object({
          path: v.pipe(
            v.string(),
            v.check(isPlainRelativePath, 'a lockfile must be a relative path below the source'),
          ),
          sha256: hex64,
        }),
      ),
      [],
    ),
  }),
  outputs: v.array(v.string()),
  exclude: v.array(v.string()),
  // Records from before outputs were left out of the snapshot have none.
  excludedOutputs: v.optional(v.array(v.string()), []),
  epoch: v.object({
    value: v.pipe(count, v.maxValue(MAX_EPOCH, 'must be at most the year 9999')),
    source: v.picklist(['flag', 'config', 'environment', 'git', 'default']),
  }),
  environment: v.array(
    v.pipe(
      v.object({
        name: v.string(),
        value: v.optional(v.string()),
        effective: v.optional(v.string()),
        from: v.picklist(['reproof', 'flag', 'config', 'caller']),
      }),
      // Only what reproof sets itself is reproof's: a CFLAGS said to be, which a rebuild
      // passes over, signed a recipe no run had.
      v.check(
        (e) => e.from !== 'reproof' || setByReproof(e.name, e.value),
        'a variable said to be set by reproof is not one reproof sets',
      ),
      // A variable passed through from the caller (a CI secret, perhaps) is recorded by
      // name only: one with a value was not written by a build.
      v.check(
        (e) => e.from !== 'caller' || (e.value === undefined && e.effective === undefined),
        'a variable passed through from the caller has no value in a record',
      ),
      // Run A's value beside a value given (a flag's, a config's) that a variation changed.
      v.check(
        (e) =>
          e.effective === undefined ||
          ((e.from === 'flag' || e.from === 'config') && e.value !== undefined),
        'only a value given by a flag or the config has an effective value beside it',
      ),
    ),
  ),
  canary: v.string(),
  variations: v.array(
    v.looseObject({
      // Only the variations reproof makes: another name was no variation any run had.
      name: v.picklist(VARIATIONS, 'is no variation reproof makes'),
      status: v.picklist(['effective', 'no-effect', 'not-applied']),
      note: v.optional(v.string()),
    }),
  ),
  turnedOff: v.optional(v.array(v.object({ name: v.string(), by: v.string() }))),
  // What the statement copies from it is read as what it is: a record without its notes
  // (or a process isolation without its reason) is refused here, not met as a crash.
  isolation: v.variant('kind', [
    v.looseObject({
      kind: v.literal('namespaces'),
      network: v.picklist(['none', 'host']),
      notes: v.array(v.string()),
    }),
    v.looseObject({
      kind: v.literal('process'),
      network: v.literal('host'),
      reason: v.string(),
      notes: v.array(v.string()),
    }),
  ]),
  runs: v.pipe(
    v.array(v.looseObject({ id: v.picklist(['a', 'b']), manifest, manifestDigest: hex64 })),
    v.length(2, 'a build record has two runs'),
  ),
  result: v.looseObject({
    reproducible: v.boolean(),
    verdict: v.picklist(['reproducible', 'reproducible-after-normalization', 'not-reproducible']),
    reproducibleWithoutNormalization: v.boolean(),
    // What still differed: required, as every build writes it, so that a record cannot
    // leave it out to pass as reproducible (see record-consistency.ts).
    differences: v.array(v.unknown()),
  }),
  normalization: v.optional(
    v.nullable(
      v.object({
        mode: v.literal('ship'),
        by: v.optional(v.picklist(['--normalize', 'reproof.config.json'])),
        artifacts: v.array(
          v.object({
            name: v.string(),
            format: v.picklist(NORMALIZED_FORMATS),
            raw: v.tuple([v.nullable(hex64), v.nullable(hex64)]),
            normalized: v.tuple([v.nullable(hex64), v.nullable(hex64)]),
            changes: v.tuple([v.array(v.string()), v.array(v.string())]),
          }),
        ),
        warnings: v.optional(v.array(v.string())),
      }),
    ),
    null,
  ),
  startedAt: v.string(),
  finishedAt: v.string(),
})

/** Reads and validates a build record written by `reproof build --record`. */
export function readBuildRecordFile(file: string): BuildRecord {
  const bytes = readBounded(file, MAX_RECORD_BYTES, `--record ${file}`)
  const json = parseJsonBytes(bytes, `--record ${file}`, file)
  const parsed = v.safeParse(RecordSchema, json)
  if (!parsed.success) {
    const issue = parsed.issues[0]
    throw new ReproofError(
      'E_INPUT',
      `--record ${file}: not a valid build record (${issue.message} at ${v.getDotPath(issue) ?? 'the top'})`,
      { path: file },
    )
  }
  const record = parsed.output
  return {
    ...record,
    result: {
      reproducible: record.result.reproducible,
      verdict: record.result.verdict,
      reproducibleWithoutNormalization: record.result.reproducibleWithoutNormalization,
      // Only their number is read: what a reproducible record lists as differing
      // contradicts it (see record-consistency.ts).
      differences: record.result.differences,
      wouldMatchAfterNormalization: [],
    },
  } as unknown as BuildRecord
}
