import fs from 'node:fs/promises'
import path from 'node:path'
import type { BuildOptions, EnvRequest } from '../config/build-options.js'
import { chooseEpoch, type Epoch } from '../config/epoch.js'
import { compareManifests, type Difference } from '../diff/compare-manifests.js'
import { explainBuild, itemsFor } from '../diff/explain-build.js'
import type { DiffReport } from '../diff/report.js'
import { renderDiffHtml } from '../diff/views/html.js'
import { hashFiles } from '../digest/hash-file.js'
import { collectManifest, type Manifest } from '../digest/manifest.js'
import { ReproofError } from '../errors.js'
import { writeFileAtomic } from '../io/atomic-write.js'
import { detectCapabilities } from '../sandbox/capabilities.js'
import { readGitSource } from '../sandbox/git.js'
import {
  FAKETIME_OFFSET_DAYS,
  judgeEffectiveness,
  planRuns,
  type VariationRecord,
} from '../sandbox/run-plan.js'
import { snapshotSource } from '../sandbox/snapshot.js'
import { listSourceEntries, type SourceEntry } from '../sandbox/source-files.js'
import {
  chooseTempParent,
  createWorkspace,
  keepWorkspace,
  listingOrderDiffers,
  type Workspace,
} from '../sandbox/workspace.js'
import { VERSION } from '../version.js'
import {
  toBuildRecord,
  toEnvironmentEntries,
  toRunRecord,
  toSourceInfo,
  toNormalizationRecord,
  type BuildRecord,
  type NormalizationRecord,
  type RunRecord,
  type SourceInfo,
} from './build-record.js'
import { findLockfiles } from '../attest/lockfiles.js'
import { copyArtifacts } from './copy-artifacts.js'
import { normalizeArtifacts, type NormalizedManifests } from './normalize-artifacts.js'
import { buildFailure, probeRun, runTwice, type BuildEvent } from './run-twice.js'

export type { BuildEvent } from './run-twice.js'

export interface BuildDeps {
  /** The caller's environment: read for SOURCE_DATE_EPOCH, PATH and `--env NAME` only. */
  callerEnv: Readonly<Record<string, string | undefined>>
  /** Aborted when the user presses Ctrl-C. */
  signal?: AbortSignal
  onEvent?: (event: BuildEvent) => void
}

export interface ArtifactResult {
  name: string
  digest: { sha256: string }
  size: number
}

export interface BuildResult {
  reproducible: boolean
  /** Whether the raw artifacts already matched, before normalization. */
  reproducibleWithoutNormalization: boolean
  /** Per artifact: raw and normalized digests, and what the normalizers changed. */
  normalization: NormalizationRecord | null
  epoch: number
  epochSource: Epoch['source']
  artifacts: ArtifactResult[]
  differences: Difference[]
  runs: (Omit<RunRecord, 'manifest'> & { logs?: { stdout: string; stderr: string } })[]
  variations: VariationRecord[]
  source: SourceInfo
  /** Where the artifacts were copied, when the build was reproducible. */
  outDir: string | null
  record: string | null
  /** The diff engine's report on the differing artifacts, when there are any. */
  explanation: DiffReport | null
  /** The workspace left for inspection by --keep. */
  kept: string | null
  warnings: string[]
}

const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin'

/**
 * The twin build. Parse and validate, decide the plan (pure), run both builds, compare
 * (pure), write what is durable (artifacts, then the record), and return the result
 * for the CLI to acknowledge. Nothing is written outside the workspace before the
 * verdict, and the workspace is gone when this returns, whatever happened.
 */
export interface BuildOutcome {
  result: BuildResult
  /** The full build record, whether or not it was written (attestation signs from it). */
  record: BuildRecord
}

export async function runBuild(options: BuildOptions, deps: BuildDeps): Promise<BuildOutcome> {
  const emit = deps.onEvent ?? (() => undefined)
  const startedAt = new Date().toISOString()
  const warnings: string[] = []

  // 1. Parse and validate what needs the filesystem.
  await checkSourceDir(options.source)
  const git = await readGitSource(options.source)
  const epoch = chooseEpoch({
    flag: options.epochFlag,
    config: options.epochConfig,
    environment: deps.callerEnv.SOURCE_DATE_EPOCH,
    gitCommitTime: git?.commitTime,
  })
  if (epoch.source === 'default') {
    warnings.push(
      'SOURCE_DATE_EPOCH defaults to 0: no --epoch, no SOURCE_DATE_EPOCH and no git commit to take it from',
    )
  }
  if (git?.dirty === true)
    warnings.push(
      `the git work tree has uncommitted changes to tracked files (commit ${git.commit.slice(0, 12)})`,
    )
  const passThrough = resolvePassThrough(options.env, deps.callerEnv)
  const entries = await listSourceEntries(options.source, {
    tracked: git?.files,
    exclude: options.exclude,
  })
  throwIfAborted(deps.signal)

  // 2. Decide the plan, then lay out both runs.
  emit({ kind: 'phase', text: 'preparing two isolated build roots' })
  const parent = await chooseTempParent(options.tempDir)
  const workspace = await createWorkspace({ parent, name: rootName(options.source) })
  let keep = false
  try {
    const capabilities = await detectCapabilities(options.variations, deps.callerEnv)
    const plan = planRuns({
      variations: options.variations,
      capabilities,
      layouts: workspace.layouts,
      canary: workspace.canary,
      epoch: epoch.value,
      path: deps.callerEnv.PATH ?? DEFAULT_PATH,
      passThrough,
    })
    const runs = [plan.runs.a, plan.runs.b] as const
    let snapshot = { files: 0, bytes: 0 }
    for (const run of runs) {
      const stats = await snapshotSource(entries, options.source, run.layout.root, {
        epoch: epoch.value,
        order: run.creationOrder,
      })
      snapshot = { files: stats.files, bytes: stats.bytes }
      for (const dir of run.mkdirs) await fs.mkdir(dir, { recursive: true })
    }
    const orderDiffers = await listingOrderDiffers({
      a: plan.runs.a.layout.dir,
      b: plan.runs.b.layout.dir,
    })
    const probes = { a: await probeRun(plan.runs.a), b: await probeRun(plan.runs.b) }
    const variations = judgeEffectiveness(plan.variations, probes, orderDiffers)
    throwIfAborted(deps.signal)

    // 3. Run both builds.
    const wallStart = Math.floor(Date.now() / 1000)
    const outcomes = await runTwice(plan.runs, options, deps, emit)
    const wallEnd = Math.ceil(Date.now() / 1000)
    for (const outcome of [outcomes.a, outcomes.b]) {
      if (outcome.exitCode !== 0)
        throw await buildFailure(outcome, plan.runs[outcome.id], outcomes, variations)
    }

    // 4. Collect, hash and compare (the verdict is a pure function of the manifests).
    emit({ kind: 'phase', text: 'hashing artifacts' })
    const collected = {
      a: await collectManifest(plan.runs.a.layout.root, options.outputs),
      b: await collectManifest(plan.runs.b.layout.root, options.outputs),
    }
    const unmatched = options.outputs.filter(
      (_, i) => (collected.a.matches[i]?.count ?? 0) + (collected.b.matches[i]?.count ?? 0) === 0,
    )
    if (unmatched.length > 0) {
      throw new ReproofError(
        'E_INPUT',
        `--out ${unmatched.join(', ')}: matched no file in either build`,
        {
          wanted: unmatched,
          hint: 'globs are relative to the build root; a directory takes every file below it',
        },
      )
    }
    warnings.push(...(await staleArtifactWarnings(collected.a.manifest, entries, options.source)))
    const rawReproducible =
      compareManifests(collected.a.manifest, collected.b.manifest).length === 0
    // Archive metadata noise is removed (losslessly) before the verdict, unless refused.
    let final = { a: collected.a.manifest, b: collected.b.manifest }
    let normalization: NormalizedManifests | null = null
    if (options.normalize) {
      emit({ kind: 'phase', text: 'normalizing archive artifacts' })
      normalization = await normalizeArtifacts(
        { a: plan.runs.a.layout.root, b: plan.runs.b.layout.root },
        final,
        epoch.value,
      )
      warnings.push(...normalization.warnings)
      final = { a: normalization.a, b: normalization.b }
    }
    const differences = compareManifests(final.a, final.b)
    const reproducible = differences.length === 0
    let explanation: DiffReport | null = null
    if (!reproducible) {
      emit({ kind: 'phase', text: `explaining ${differences.length} difference(s)` })
      try {
        explanation = await explainBuild(
          differences.map((d) => d.name),
          {
            roots: [plan.runs.a.layout.root, plan.runs.b.layout.root],
            canary: workspace.canary,
            wallClock: [wallStart, wallEnd],
            clockOffsetDays:
              capabilities.faketime !== undefined && options.variations.includes('time')
                ? FAKETIME_OFFSET_DAYS
                : 0,
            localeVaried: variations.some((v) => v.name === 'locale' && v.applied),
          },
        )
        for (const d of differences) d.explanation = itemsFor(explanation, d.name)
      } catch (err) {
        // The verdict stands without an explanation; a hostile archive must not hide it.
        warnings.push(`the differences could not be explained: ${(err as Error).message}`)
      }
    }
    const runRecords: RunRecord[] = [
      toRunRecord(outcomes.a, plan.runs.a.layout.root, collected.a.manifest),
      toRunRecord(outcomes.b, plan.runs.b.layout.root, collected.b.manifest),
    ]

    // 5. Durable writes: the artifacts (only when reproducible), then the record.
    let outDir: string | null = null
    if (reproducible) {
      emit({
        kind: 'phase',
        text: `copying ${final.a.length} artifact(s) to ${options.outDir}`,
      })
      await copyArtifacts(plan.runs.a.layout.root, final.a, options.outDir, epoch.value)
      outDir = options.outDir
    }
    const lockfileNames = findLockfiles(entries)
    const lockfileDigests = await hashFiles(lockfileNames.map((n) => path.join(options.source, n)))
    const lockfiles = lockfileNames.map((n, i) => ({
      path: n,
      sha256: lockfileDigests[i]?.sha256 ?? '',
    }))
    const sourceInfo = toSourceInfo(
      options.source,
      git,
      deps.callerEnv.GITHUB_REF,
      snapshot,
      lockfiles,
    )
    const record: BuildRecord = toBuildRecord({
      reproofVersion: VERSION,
      command: options.command,
      source: sourceInfo,
      outputs: options.outputs,
      exclude: options.exclude,
      epoch,
      environment: toEnvironmentEntries(plan.runs.a.env, options.env, passThrough),
      canary: workspace.canary,
      variations,
      runs: runRecords,
      result: { reproducible, reproducibleWithoutNormalization: rawReproducible, differences },
      normalization: toNormalizationRecord(normalization),
      startedAt,
      finishedAt: new Date().toISOString(),
    })
    if (options.record !== undefined) {
      await writeFileAtomic(options.record, `${JSON.stringify(record, null, 2)}\n`)
    }

    if (options.report !== undefined) {
      await writeFileAtomic(
        options.report,
        renderDiffHtml(explanation ?? identicalReport(final.a.length)),
      )
    }

    keep = options.keep
    const result: BuildResult = {
      reproducible,
      reproducibleWithoutNormalization: rawReproducible,
      epoch: epoch.value,
      epochSource: epoch.source,
      artifacts: final.a.map((e) => ({
        name: e.name,
        digest: { sha256: e.sha256 },
        size: e.size,
      })),
      normalization: toNormalizationRecord(normalization),
      differences,
      runs: runRecords.map(({ manifest: _manifest, ...run }) => ({
        ...run,
        ...(keep
          ? {
              logs: {
                stdout: plan.runs[run.id].layout.stdoutLog,
                stderr: plan.runs[run.id].layout.stderrLog,
              },
            }
          : {}),
      })),
      variations,
      source: sourceInfo,
      outDir,
      record: options.record ?? null,
      explanation,
      kept: keep ? workspace.base : null,
      warnings,
    }
    return { result, record }
  } finally {
    await releaseWorkspace(workspace, keep)
  }
}

async function releaseWorkspace(workspace: Workspace, keep: boolean): Promise<void> {
  if (keep) keepWorkspace(workspace)
  else await workspace.remove()
}

async function checkSourceDir(source: string): Promise<void> {
  let stat
  try {
    stat = await fs.stat(source)
  } catch {
    throw new ReproofError('E_INPUT', `--source ${source}: no such directory`, { path: source })
  }
  if (!stat.isDirectory())
    throw new ReproofError('E_INPUT', `--source ${source}: not a directory`, { path: source })
}

function rootName(source: string): string {
  const name = path.basename(source)
  return name === '' ? 'src' : name
}

/** `--env NAME` takes the caller's value; a name the caller does not have is an error. */
export function resolvePassThrough(
  requests: readonly EnvRequest[],
  callerEnv: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const request of requests) {
    const value = request.value ?? callerEnv[request.name]
    if (value === undefined) {
      throw new ReproofError(
        'E_INPUT',
        `--env ${request.name}: not set in reproof's environment, so there is nothing to pass through`,
        {
          hint: `set it, or give a value: --env ${request.name}=VALUE`,
        },
      )
    }
    out[request.name] = value
  }
  return out
}

/**
 * An artifact that is byte for byte a file of the source, at the same path, was most
 * likely not built at all (an earlier output copied back, which make finds up to date).
 */
async function staleArtifactWarnings(
  manifest: Manifest,
  entries: readonly SourceEntry[],
  source: string,
): Promise<string[]> {
  const inputs = new Map(
    entries.flatMap((e) => (e.kind === 'file' ? [[e.rel, e.size] as const] : [])),
  )
  const suspects = manifest.filter((e) => inputs.get(e.name) === e.size)
  const digests = await hashFiles(suspects.map((e) => path.join(source, e.name)))
  return suspects
    .filter((e, i) => digests[i]?.sha256 === e.sha256)
    .map(
      (e) =>
        `artifact ${e.name} is identical to the source file of the same name; the build may not have produced it`,
    )
}

function identicalReport(count: number): DiffReport {
  return {
    identical: true,
    a: 'run A',
    b: 'run B',
    items: [],
    summaries: [],
    warnings: [],
    stats: { compared: count, differing: 0 },
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true)
    throw new ReproofError('E_INTERRUPTED', 'interrupted; nothing was written')
}
