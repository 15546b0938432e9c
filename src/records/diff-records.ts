import fs from 'node:fs'
import path from 'node:path'
import * as v from 'valibot'
import { BUILD_RECORD_TYPE } from './build-record.js'
import { mayBeBuildRecord } from './record-head.js'
import { ReproofError } from '../errors.js'
import { diffDirectories, stillTrees, toReport } from '../diff/diff-inputs.js'
import { DiffEngine, type EngineOptions } from '../diff/engine.js'
import type { HintContext } from '../diff/hints.js'
import type { DiffReport } from '../diff/report.js'
import { hashFiles } from '../digest/hash-file.js'
import { toFsPath } from '../file-names.js'
import { isInside } from '../sandbox/contain.js'
import { isWorkspaceLayout } from '../sandbox/workspace.js'

/** The parts of a build record that diffing needs; other fields are allowed and ignored. */
const RecordSchema = v.object({
  recordType: v.literal(BUILD_RECORD_TYPE),
  version: v.picklist([1, 2]),
  canary: v.string(),
  startedAt: v.string(),
  finishedAt: v.string(),
  // Version 1 said `applied`, version 2 says `status`.
  variations: v.array(
    v.object({
      name: v.string(),
      applied: v.optional(v.boolean()),
      status: v.optional(v.string()),
      b: v.string(),
    }),
  ),
  runs: v.pipe(
    v.array(
      v.object({
        id: v.picklist(['a', 'b']),
        root: v.string(),
        manifest: v.pipe(
          v.array(
            v.object({
              name: v.string(),
              sha256: v.string(),
              size: v.number(),
              // Version 2: the exec bit is part of an artifact, as the build compares it.
              executable: v.optional(v.boolean()),
            }),
          ),
          // One entry a name: of two, one would be compared and the other never seen.
          v.check(
            (entries) => new Set(entries.map((e) => e.name)).size === entries.length,
            'a manifest names an artifact twice',
          ),
        ),
      }),
    ),
    v.length(2, 'a build record has two runs'),
    // One of each: two runs named alike, or in another order, had run B compared as A.
    v.check(
      (runs) => runs.some((r) => r.id === 'a') && runs.some((r) => r.id === 'b'),
      'a build record has a run a and a run b',
    ),
  ),
  // With --normalize, what each run shipped is its artifacts as normalized.
  normalization: v.optional(
    v.nullable(
      v.object({
        artifacts: v.array(
          v.object({
            name: v.string(),
            normalized: v.tuple([v.nullable(v.string()), v.nullable(v.string())]),
          }),
        ),
      }),
    ),
  ),
})

export type DiffableRecord = v.InferOutput<typeof RecordSchema>
type RecordRun = DiffableRecord['runs'][number]

/** An artifact as its run shipped it; its size only where the record gives it (raw bytes). */
interface ShippedEntry {
  name: string
  sha256: string
  size: number | undefined
  executable: boolean | undefined
}

/**
 * What each run of a record shipped: its artifacts' digests as normalized where
 * normalization changed them (as the statement's subjects are), raw otherwise. Compared
 * raw, two builds whose normalized, shipped artifacts differ were "identical".
 */
function shippedRuns(record: DiffableRecord): { run: RecordRun; shipped: ShippedEntry[] }[] {
  const normalized = new Map(
    (record.normalization?.artifacts ?? []).map((x) => [x.name, x.normalized]),
  )
  return record.runs.map((run) => ({
    run,
    shipped: run.manifest.map((e) => {
      const sha256 = normalized.get(e.name)?.[run.id === 'a' ? 0 : 1] ?? e.sha256
      return {
        name: e.name,
        sha256,
        size: sha256 === e.sha256 ? e.size : undefined,
        executable: e.executable,
      }
    }),
  }))
}

/** Reads a file as a build record if it is one; undefined for any other file. */
export function readBuildRecord(file: string): DiffableRecord | undefined {
  if (!mayBeBuildRecord(file)) return undefined
  let json: unknown
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch {
    return undefined
  }
  // A record says so in its own field: a JSON file that names the type elsewhere (a
  // schema's `$id`, a note) is a file to compare, not a record refused as invalid.
  if (
    typeof json !== 'object' ||
    json === null ||
    Array.isArray(json) ||
    (json as { recordType?: unknown }).recordType !== BUILD_RECORD_TYPE
  )
    return undefined
  const parsed = v.safeParse(RecordSchema, json)
  if (!parsed.success) {
    const issue = parsed.issues[0]
    throw new ReproofError(
      'E_INPUT',
      `${file}: a build record, but not a valid one (${issue.message} at ${v.getDotPath(issue) ?? 'the top'})`,
      { path: file },
    )
  }
  return parsed.output
}

/**
 * Two build records: run A of each, artifact by artifact. Identical digests need no
 * bytes; differing ones are compared in full when the build roots still exist (kept
 * with --keep), else reported by digest alone.
 */
export async function diffRecords(
  a: DiffableRecord,
  b: DiffableRecord,
  labels: [string, string],
  options: EngineOptions,
): Promise<DiffReport> {
  const engine = new DiffEngine({ ...options, context: recordContext(a, b) })
  // By id, in run order (a, b) whatever order the record lists them in.
  const byId = (record: DiffableRecord) =>
    shippedRuns(record).sort((x, y) => x.run.id.localeCompare(y.run.id))
  const [runsA, runsB] = [byId(a), byId(b)]
  const [firstA, firstB] = [runsA[0], runsB[0]]
  if (firstA === undefined || firstB === undefined)
    throw new ReproofError('E_INPUT', 'a build record needs two runs')
  const [runA, runB] = [firstA.run, firstB.run]
  const digestsA = new Map(firstA.shipped.map((e) => [e.name, e]))
  const digestsB = new Map(firstB.shipped.map((e) => [e.name, e]))
  const names = [...new Set([...digestsA.keys(), ...digestsB.keys()])].sort()
  const differing = names.filter((n) => digestsA.get(n)?.sha256 !== digestsB.get(n)?.sha256)
  // Only roots laid out as reproof keeps them are read, each record's own two.
  const laidOut = (record: DiffableRecord, runs: typeof runsA): boolean => {
    const [x, y] = runs
    return (
      x !== undefined && y !== undefined && isWorkspaceLayout(record.canary, x.run.root, y.run.root)
    )
  }
  const kept = laidOut(a, runsA) && laidOut(b, runsB)
  const rootsExist = kept && fs.existsSync(runA.root) && fs.existsSync(runB.root)
  engine.compared = names.length - differing.length
  // The same bytes, executable in one record only: what ships differs.
  for (const name of names) {
    const x = digestsA.get(name)
    const y = digestsB.get(name)
    if (x === undefined || x.sha256 !== y?.sha256) continue
    if ((x.executable === true) === (y.executable === true)) continue
    const field = {
      field: 'executable',
      a: String(x.executable === true),
      b: String(y.executable === true),
    }
    engine.items.push({
      path: name,
      kind: 'metadata',
      fields: [field],
      hints: [
        {
          cause: 'permissions',
          evidence: `executable: ${field.a} → ${field.b}`,
          fix: 'set the exec bit the same way in every build (chmod, install -m)',
        },
      ],
    })
  }
  const byDigest = (name: string, message: string): void => {
    const x = digestsA.get(name)
    const y = digestsB.get(name)
    engine.compared++
    engine.items.push({
      path: name,
      kind: x === undefined ? 'only-in-b' : y === undefined ? 'only-in-a' : 'content',
      digests: [x?.sha256 ?? null, y?.sha256 ?? null],
      sizes: [x?.size ?? null, y?.size ?? null],
      message,
      hints: [],
    })
  }
  if (rootsExist) {
    // A record is input like any other: its roots and names could point anywhere. Only
    // a regular file inside its root whose bytes are what the record says is read.
    const verified = await recordedCopies([runA, runB], [firstA.shipped, firstB.shipped], differing)
    await diffDirectories(engine, runA.root, runB.root, verified)
    // The records say these differ: an artifact the roots no longer show differing
    // (gone from both, or changed since) is still reported, by its recorded digests.
    // An item names the artifact, or a member inside it (`app.tgz!lib/x.js`).
    const shown = new Set<string>()
    for (const { path: at } of engine.items) {
      shown.add(at)
      for (let i = at.indexOf('!'); i !== -1; i = at.indexOf('!', i + 1)) shown.add(at.slice(0, i))
    }
    for (const name of differing)
      if (!shown.has(name))
        byDigest(
          name,
          'the build roots no longer hold what was recorded; the recorded digests differ',
        )
  } else {
    for (const name of differing)
      byDigest(
        name,
        kept
          ? 'the build roots no longer exist (build with --keep to compare contents)'
          : 'a record names build roots that are not laid out as reproof keeps them, so they are not read; the recorded digests differ',
      )
  }
  // Run A of each is what shipped and what is compared; a record whose own two runs
  // disagree describes a build that did not reproduce, which "identical" must not hide.
  const shipped = (entries: readonly ShippedEntry[] | undefined): string =>
    JSON.stringify((entries ?? []).map((e) => [e.name, e.sha256, e.executable === true]))
  for (const [i, runs] of [runsA, runsB].entries())
    if (shipped(runs[0]?.shipped) !== shipped(runs[1]?.shipped))
      engine.warnings.push(
        `${labels[i] ?? ''}: its run B made other artifacts than its run A (the build it records did not reproduce); only run A of each record is compared`,
      )
  // "Identical" is said of the artifacts: what else the records hold is named as not
  // compared (two records of other commands that made the same bytes are identical).
  const report = toReport(engine, labels)
  return {
    ...report,
    notCompared: [
      'run B of each record',
      "the records' other fields (command, source, environment, epoch)",
      ...report.notCompared,
    ],
  }
}

/**
 * The names whose copy in each root is a regular file, reached without leaving the
 * root, with the digest its record gives: what the records describe, not whatever the
 * paths they name lead to now.
 */
async function recordedCopies(
  [runA, runB]: readonly [RecordRun, RecordRun],
  shipped: readonly [readonly ShippedEntry[], readonly ShippedEntry[]],
  names: readonly string[],
): Promise<string[]> {
  const recorded = shipped.map((entries) => new Map(entries.map((e) => [e.name, e.sha256])))
  const roots = [runA.root, runB.root]
  const real = roots.map((root) => fs.realpathSync(root))
  const plain = names.filter((name) => {
    const parts = name.split('/')
    if (name.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..')) return false
    return roots.every((root, i) => {
      const file = toFsPath(root, name)
      try {
        return (
          recorded[i]?.has(name) === true &&
          fs.lstatSync(file).isFile() &&
          isInside(real[i] ?? root, fs.realpathSync(file))
        )
      } catch {
        return false
      }
    })
  })
  const digests = await stillTrees(runA.root, runB.root, () =>
    Promise.all(
      roots.map((root) =>
        hashFiles(
          plain.map((name) => toFsPath(root, name)),
          { noFollow: true },
        ),
      ),
    ),
  )
  return plain.filter((name, k) =>
    roots.every((_, i) => digests[i]?.[k]?.sha256 === recorded[i]?.get(name)),
  )
}

const DAY = 86_400

/** What a build record tells about where paths and times may show up in each side. */
export function recordContext(a: DiffableRecord, b: DiffableRecord): HintContext {
  const window = (record: DiffableRecord): [number, number] => [
    Date.parse(record.startedAt) / 1000 - 3600,
    Date.parse(record.finishedAt) / 1000 + 3600,
  ]
  const roots = (record: DiffableRecord): string[] =>
    record.runs.flatMap((r) => [r.root, path.dirname(r.root)])
  return {
    roots: [roots(a), roots(b)],
    canary: b.canary,
    timeWindows: [window(a), widen(window(b), b)],
    timesKnown: true,
  }
}

/** A run under libfaketime saw a clock far ahead; its times are plausible there too. */
function widen([from, to]: [number, number], record: DiffableRecord): [number, number] {
  const time = record.variations.find(
    (v) => v.name === 'time' && (v.applied === true || v.status === 'effective'),
  )
  const days = /\+([0-9]+)d/.exec(time?.b ?? '')?.[1]
  return [from, to + (days === undefined ? 0 : Number(days) * DAY)]
}
