import fs from 'node:fs/promises'
import path from 'node:path'
import type { BuildOptions, EnvRequest } from '../config/build-options.js'
import type { VariationName } from '../config/variations.js'
import { chooseEpoch, type Epoch } from '../config/epoch.js'
import type { Difference } from '../diff/compare-manifests.js'
import type { DiffReport } from '../diff/report.js'
import { hashFiles } from '../digest/hash-file.js'
import { collectManifest } from '../digest/manifest.js'
import { fileTimeDrift, withFileTimeDrift } from './file-time-drift.js'
import { ReproofError, unreadable } from '../errors.js'
import { toDisplayText, toFsPath } from '../file-names.js'
import { writeFileAtomic } from '../io/atomic-write.js'
import { detectCapabilities } from '../sandbox/capabilities.js'
import { openSandbox, type RunSandbox } from '../sandbox/namespace-sandbox.js'
import { readGitSource, type GitSource } from '../sandbox/git.js'
import {
  checkExplicitVariations,
  FAKETIME_OFFSET_DAYS,
  judgeEffectiveness,
  planRuns,
  type Capabilities,
  type RunPlan,
  type RunSetup,
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
} from '../records/build-record.js'
import { findLockfiles } from '../attest/lockfiles.js'
import { copyArtifacts } from './copy-artifacts.js'
import { explainDifferences, judgeArtifacts, type Judgement } from './judge-artifacts.js'
import {
  buildFailure,
  probeRun,
  runTwice,
  type BuildEvent,
  type RunContext,
  type RunOutcome,
} from './run-twice.js'
import type { Isolation, Verdict } from '../records/build-record.js'

export type { BuildEvent } from './run-twice.js'
import { attribute, pairsWithin, type Attribution } from './attribute.js'

export interface BuildDeps {
  /** The caller's environment: read for SOURCE_DATE_EPOCH, PATH and `--env NAME` only. */
  callerEnv: Readonly<Record<string, string | undefined>>
  /** Aborted when the user presses Ctrl-C. */
  signal?: AbortSignal
  onEvent?: (event: BuildEvent) => void
  /**
   * Milliseconds since the epoch (Date.now by default): the record's start and finish,
   * and the runs' wall-clock window, which the explanation of a time in an artifact reads.
   */
  clock?: () => number
}

export interface ArtifactResult {
  name: string
  digest: { sha256: string }
  size: number
}

export interface BuildResult {
  /** Exit 0: true only for `reproducible`, or `reproducible-after-normalization` with --normalize. */
  reproducible: boolean
  verdict: Verdict
  /** Whether the raw artifacts already matched, before normalization. */
  reproducibleWithoutNormalization: boolean
  /** Per artifact: raw and normalized digests, and what the normalizers changed. */
  normalization: NormalizationRecord | null
  /**
   * Without --normalize: the differing artifacts that would match after `reproof
   * normalize`. Empty when normalization was part of the build or nothing would match.
   */
  wouldMatchAfterNormalization: string[]
  isolation: Isolation
  epoch: number
  epochSource: Epoch['source']
  artifacts: ArtifactResult[]
  differences: Difference[]
  runs: (Omit<RunRecord, 'manifest'> & { logs?: { stdout: string; stderr: string } })[]
  /** Every variation, with its status: only `effective` ones were varied. */
  variations: VariationRecord[]
  source: SourceInfo
  /** Where the artifacts were copied, when the build was reproducible. */
  outDir: string | null
  record: string | null
  /** The diff engine's report on the differing artifacts, when there are any. */
  explanation: DiffReport | null
  /**
   * Which variation causes each difference, learnt from further pairs; null when the
   * build reproduced or --no-explain.
   */
  attribution: AttributionResult | null
  /** The workspace left for inspection by --keep. */
  kept: string | null
  warnings: string[]
  /** Source paths left out of the snapshot because an `--out` glob matches them. */
  excludedOutputs: string[]
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
  const clock = deps.clock ?? Date.now
  const startedAt = new Date(clock()).toISOString()
  const warnings: string[] = []

  // 1. Parse and validate what needs the filesystem.
  const { git, epoch, passThrough, entries, excludedOutputs } = await readInputs(
    options,
    deps,
    warnings,
  )
  throwIfAborted(deps.signal)

  // 2. Decide the plan, then lay out both runs.
  emit({ kind: 'phase', text: 'preparing two isolated build roots' })
  const parent = await chooseTempParent(options.tempDir)
  const workspace = await createWorkspace({ parent, name: rootName(options.source) })
  let keep = false
  const sandboxes: Partial<Record<'a' | 'b', RunSandbox>> = {}
  // Copies both runs' directories out of their sandboxes (where they live on a private
  // tmpfs) into the workspace, for --keep: those opened so far, whenever it is called.
  const copyRootsOut = async (): Promise<void> => {
    for (const id of ['a', 'b'] as const) {
      const dir = workspace.layouts[id].dir
      const sandbox = sandboxes[id]
      if (sandbox !== undefined)
        await fs.cp(sandbox.view(dir), dir, { recursive: true, verbatimSymlinks: true })
    }
  }
  try {
    // The probe mounts over this directory; it must exist on the machine's side, where
    // the sandbox's read-only file system would refuse to create it.
    const prepared = await prepareRuns(options, deps, workspace, sandboxes, {
      epoch: epoch.value,
      passThrough,
      entries,
    })
    const { isolation, plan, contexts, roots, snapshot, judged } = prepared
    throwIfAborted(deps.signal)

    // 3. Run both builds. Whatever a build leaves running is killed when its command ends.
    const runsStarted = clock()
    const wallStart = Math.floor(runsStarted / 1000)
    const outcomes = await runTwice(contexts, options, deps, emit)
    const wallEnd = Math.ceil(clock() / 1000)
    for (const outcome of [outcomes.a, outcomes.b]) {
      if (outcome.exitCode !== 0)
        throw await buildFailure(
          outcome,
          contexts[outcome.id],
          outcomes,
          whatReproofChanged(judged, isolation, excludedOutputs),
        )
    }
    warnings.push(...leftoverWarnings([outcomes.a, outcomes.b]))
    // Run B's later start varies the files' times only where the runs kept pace: the
    // files both wrote too close in time are named on the file-times variation.
    const variations = judged.some((v) => v.name === 'file-times')
      ? withFileTimeDrift(
          judged,
          await fileTimeDrift(roots, { a: runsStarted - 1000, b: runsStarted - 1000 }),
        )
      : judged
    throwIfAborted(deps.signal)

    // 4. Collect, hash and compare (the verdict is a pure function of the manifests).
    emit({ kind: 'phase', text: 'hashing artifacts' })
    const collected = await collectOutputs(roots, plan, options.outputs, warnings)
    const judgement = await judgeArtifacts(
      roots,
      { a: collected.a.manifest, b: collected.b.manifest },
      { normalize: options.normalize, epoch: epoch.value, scratch: workspace.base },
      emit,
    )
    warnings.push(...(judgement.normalization?.warnings ?? []))
    const { final, differences, reproducible } = judgement
    let explanation: DiffReport | null = null
    if (!reproducible) {
      emit({ kind: 'phase', text: `explaining ${differences.length} difference(s)` })
      explanation = await explainDifferences(
        differences,
        {
          roots: [plan.runs.a.layout.root, plan.runs.b.layout.root],
          views: [roots.a, roots.b],
          canary: workspace.canary,
          wallClock: [wallStart, wallEnd],
          clockOffsetDays: isEffective(variations, 'time') ? FAKETIME_OFFSET_DAYS : 0,
          localeVaried: isEffective(variations, 'locale'),
        },
        warnings,
      )
    }
    // Which variation causes each difference: further pairs, each with some variations.
    const attribution =
      reproducible || !options.explain
        ? null
        : await explainVariations(
            options,
            deps,
            {
              differing: differences.map((d) => d.name),
              variations,
              pairMs: clock() - runsStarted,
              scratch: workspace.base,
            },
            emit,
          )
    const runRecords: RunRecord[] = [
      toRunRecord(outcomes.a, plan.runs.a.layout.root, collected.a.manifest),
      toRunRecord(outcomes.b, plan.runs.b.layout.root, collected.b.manifest),
    ]
    // Kept roots are copied out of the sandbox's private tmpfs before it goes away.
    if (options.keep) await copyRootsOut()

    throwIfAborted(deps.signal)
    // 5. Durable writes: the artifacts (only when reproducible), then the record.
    let outDir: string | null = null
    if (reproducible) {
      emit({
        kind: 'phase',
        text: `copying ${final.a.length} artifact(s) to ${options.outDir}`,
      })
      await copyArtifacts(roots.a, final.a, options.outDir, epoch.value, plan.runs.a.layout.root)
      outDir = options.outDir
    }
    const sourceInfo = await describeSource(options, git, deps.callerEnv, snapshot, entries)
    const record: BuildRecord = toBuildRecord({
      reproofVersion: VERSION,
      command: options.command,
      source: sourceInfo,
      outputs: options.outputs,
      exclude: options.exclude,
      excludedOutputs,
      epoch,
      environment: toEnvironmentEntries(plan.runs.a.env, options.env, passThrough),
      canary: workspace.canary,
      variations,
      runs: runRecords,
      isolation,
      result: {
        reproducible,
        verdict: judgement.verdict,
        reproducibleWithoutNormalization: judgement.rawReproducible,
        differences,
        wouldMatchAfterNormalization: judgement.wouldMatchAfterNormalization,
      },
      normalization: toNormalizationRecord(judgement.normalization),
      startedAt,
      finishedAt: new Date(clock()).toISOString(),
    })
    if (options.record !== undefined) {
      await writeFileAtomic(options.record, `${JSON.stringify(record, null, 2)}\n`)
    }

    keep = options.keep
    const result = toBuildResult(record, {
      judgement,
      plan,
      outDir,
      recordPath: options.record ?? null,
      explanation,
      attribution,
      kept: keep ? workspace.base : null,
      warnings,
    })
    return { result, record }
  } catch (err) {
    // A build that failed or timed out is what --keep is most wanted for.
    if (options.keep && !keep) {
      await copyRootsOut().catch(() => undefined)
      keep = true
      if (err instanceof ReproofError) {
        const kept = `both build roots and their logs are kept in ${workspace.base}`
        err.context.hint = err.context.hint === undefined ? kept : `${err.context.hint}\n${kept}`
      }
    }
    throw err
  } finally {
    for (const sandbox of [sandboxes.a, sandboxes.b]) await sandbox?.close()
    await releaseWorkspace(workspace, keep)
  }
}

export interface AttributionResult extends Partial<Attribution> {
  /** Builds beyond the first two. */
  extraBuilds: number
  /** Why no culprit was searched for, or why the search stopped. */
  skipped?: string
}

/**
 * Builds further pairs, each with the build path and some of the variations, to learn
 * which variation makes each artifact differ (twin/attribute.ts). Within --timeout when
 * one is given (the extra pairs, at the first pair's pace, must fit in it), else at most
 * MAX_EXPLAIN_PAIRS. A pair that fails or is stopped ends the search and says so.
 */
async function explainVariations(
  options: BuildOptions,
  deps: BuildDeps,
  inputs: {
    differing: readonly string[]
    variations: readonly VariationRecord[]
    pairMs: number
    scratch: string
  },
  emit: (event: BuildEvent) => void,
): Promise<AttributionResult> {
  const varied = inputs.variations
    .filter((v) => v.status === 'effective' && v.name !== 'path')
    .map((v) => v.name)
  const budget = pairsWithin(options.timeoutMs, inputs.pairMs)
  if ('skipped' in budget) return { extraBuilds: 0, skipped: budget.skipped }
  let built = 0
  const test = async (vs: readonly VariationName[]): Promise<ReadonlySet<string>> => {
    built++
    emit({
      kind: 'phase',
      text: `explaining: pair ${built} with ${vs.length === 0 ? 'only the build path' : vs.join(', ')} varied`,
    })
    const { result } = await runBuild(
      {
        ...options,
        variations: ['path', ...vs],
        explicitVariations: [],
        outDir: path.join(inputs.scratch, `explain-${built}`),
        record: undefined,
        report: undefined,
        keep: false,
        explain: false,
      },
      { ...deps, onEvent: () => undefined },
    )
    return new Set(result.differences.map((d) => d.name))
  }
  try {
    const found = await attribute(inputs.differing, varied, test, budget.maxPairs)
    return { ...found, extraBuilds: 2 * found.pairs.length }
  } catch (err) {
    if (deps.signal?.aborted === true) throw err
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err)
    return { extraBuilds: 2 * built, skipped: `pair ${built} failed: ${why}` }
  }
}

/**
 * Both runs made ready: what the machine can do, the isolation and the plan, each run's
 * sandbox (kept in `sandboxes`, which the caller closes), the snapshot of the source in
 * each root, and the variations as the probes found them. A variation asked for by name
 * that cannot be applied is refused here, before anything is built.
 */
async function prepareRuns(
  options: BuildOptions,
  deps: BuildDeps,
  workspace: Workspace,
  sandboxes: Partial<Record<'a' | 'b', RunSandbox>>,
  inputs: {
    epoch: number
    passThrough: Record<string, string>
    entries: readonly SourceEntry[]
  },
) {
  const scratch = path.join(workspace.base, 'probe')
  await fs.mkdir(scratch)
  const capabilities = await detectCapabilities(
    options.variations,
    {
      wanted: options.sandbox,
      scratch,
    },
    deps.callerEnv,
  )
  const isolation = chooseIsolation(capabilities, options)
  const plan = planRuns({
    variations: options.variations,
    capabilities,
    sandbox: isolation.kind === 'namespaces',
    layouts: workspace.layouts,
    canary: workspace.canary,
    epoch: inputs.epoch,
    path: deps.callerEnv.PATH ?? DEFAULT_PATH,
    passThrough: inputs.passThrough,
  })
  refuseUnappliedExplicit(plan.variations, options)
  for (const id of ['a', 'b'] as const) {
    if (isolation.kind !== 'namespaces') continue
    const sandbox = await openSandbox({
      base: workspace.base,
      dir: plan.runs[id].layout.dir,
      hostname: plan.runs[id].hostname,
      domainname: plan.runs[id].domainname,
      network: options.network,
      firstPid: plan.runs[id].firstPid,
    })
    sandboxes[id] = sandbox
    for (const note of sandbox.notes)
      if (!isolation.notes.includes(note)) isolation.notes.push(note)
  }
  const view = (id: 'a' | 'b', p: string): string => sandboxes[id]?.view(p) ?? p

  const contexts = {
    a: toRunContext(plan.runs.a, sandboxes.a, plan.variations, 'a'),
    b: toRunContext(plan.runs.b, sandboxes.b, plan.variations, 'b'),
  }
  const roots = { a: view('a', plan.runs.a.layout.root), b: view('b', plan.runs.b.layout.root) }
  let snapshot = { files: 0, bytes: 0 }
  for (const run of [plan.runs.a, plan.runs.b]) {
    const stats = await snapshotSource(inputs.entries, options.source, roots[run.id], {
      epoch: inputs.epoch,
      order: run.creationOrder,
    })
    snapshot = { files: stats.files, bytes: stats.bytes }
    for (const dir of run.mkdirs) await fs.mkdir(view(run.id, dir), { recursive: true })
    for (const file of run.files)
      await fs.writeFile(view(run.id, file.path), file.content, { mode: 0o755 })
  }
  const orderDiffers = await listingOrderDiffers({
    a: view('a', plan.runs.a.layout.dir),
    b: view('b', plan.runs.b.layout.dir),
  })
  const probes = { a: await probeRun(contexts.a), b: await probeRun(contexts.b) }
  const judged = judgeEffectiveness(plan, probes, orderDiffers)
  refuseUnappliedExplicit(judged, options)
  return { isolation, plan, contexts, roots, snapshot, judged }
}

/**
 * What the record says of the source: where it came from (git state, the ref CI names),
 * the snapshot's digest, and the digests of the lockfiles in it.
 */
async function describeSource(
  options: BuildOptions,
  git: GitSource | undefined,
  callerEnv: BuildDeps['callerEnv'],
  snapshot: Parameters<typeof toSourceInfo>[3],
  entries: readonly SourceEntry[],
): Promise<SourceInfo> {
  const names = findLockfiles(entries)
  const digests = await hashFiles(names.map((n) => toFsPath(options.source, n)))
  const lockfiles = names.map((n, i) => ({ path: n, sha256: digests[i]?.sha256 ?? '' }))
  return toSourceInfo(options.source, git, callerEnv.GITHUB_REF, snapshot, lockfiles)
}

/** The result the CLI acknowledges: the record's facts, and where things were put. */
function toBuildResult(
  record: BuildRecord,
  where: {
    judgement: Judgement
    plan: RunPlan
    outDir: string | null
    recordPath: string | null
    explanation: DiffReport | null
    attribution: AttributionResult | null
    /** The workspace left for inspection by --keep. */
    kept: string | null
    warnings: string[]
  },
): BuildResult {
  const { judgement, plan, kept } = where
  return {
    reproducible: judgement.reproducible,
    verdict: judgement.verdict,
    reproducibleWithoutNormalization: judgement.rawReproducible,
    wouldMatchAfterNormalization: judgement.wouldMatchAfterNormalization,
    isolation: record.isolation,
    epoch: record.epoch.value,
    epochSource: record.epoch.source,
    artifacts: judgement.final.a.map((e) => ({
      name: e.name,
      digest: { sha256: e.sha256 },
      size: e.size,
    })),
    normalization: record.normalization,
    differences: judgement.differences,
    runs: record.runs.map(({ manifest: _manifest, ...run }) => ({
      ...run,
      ...(kept === null
        ? {}
        : {
            logs: {
              stdout: plan.runs[run.id].layout.stdoutLog,
              stderr: plan.runs[run.id].layout.stderrLog,
            },
          }),
    })),
    variations: record.variations,
    source: record.source,
    outDir: where.outDir,
    record: where.recordPath,
    explanation: where.explanation,
    attribution: where.attribution,
    kept,
    warnings: where.warnings,
    excludedOutputs: record.excludedOutputs,
  }
}

/**
 * Both runs' manifests of the outputs. A glob that matched nothing in either run is bad
 * input; files that hold no bytes (FIFOs, sockets, devices) are named in `warnings`.
 */
async function collectOutputs(
  roots: { a: string; b: string },
  plan: RunPlan,
  outputs: readonly string[],
  warnings: string[],
) {
  const collected = {
    a: await collectManifest(roots.a, outputs, { seenAs: plan.runs.a.layout.root }),
    b: await collectManifest(roots.b, outputs, { seenAs: plan.runs.b.layout.root }),
  }
  const special = [...new Set([...collected.a.special, ...collected.b.special])].sort()
  if (special.length > 0)
    warnings.push(
      `not compared (a FIFO, socket or device file holds no bytes): ${special.map(toDisplayText).join(', ')}`,
    )
  const unmatched = outputs.filter(
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
  return collected
}

/**
 * The build's inputs, read and checked before anything is created: the source and its
 * git state, the epoch, the environment passed through, and the entries to snapshot.
 * What the caller should know about them goes into `warnings`.
 */
async function readInputs(options: BuildOptions, deps: BuildDeps, warnings: string[]) {
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
  const { entries, excludedOutputs } = listSourceEntries(options.source, {
    tracked: git?.files,
    exclude: options.exclude,
    outputs: options.outputs,
  })
  return { git, epoch, passThrough, entries, excludedOutputs }
}

/**
 * The namespace sandbox when it can be had; otherwise process isolation, said so, or
 * exit 3 with --require-sandbox.
 */
function chooseIsolation(capabilities: Capabilities, options: BuildOptions): Isolation {
  if (capabilities.sandbox.available)
    return { kind: 'namespaces', network: options.network ? 'host' : 'none', notes: [] }
  if (options.requireSandbox) {
    throw new ReproofError(
      'E_ENVIRONMENT',
      `--require-sandbox: the build sandbox cannot be set up here (${capabilities.sandbox.reason})`,
      {
        hint: 'allow unprivileged user namespaces (sysctl kernel.apparmor_restrict_unprivileged_userns=0, or a container with unshare permitted), or drop --require-sandbox',
      },
    )
  }
  return {
    kind: 'process',
    reason: capabilities.sandbox.reason,
    network: 'host',
    notes: options.network ? [] : ['the network could not be taken away without the sandbox'],
  }
}

function refuseUnappliedExplicit(
  variations: readonly VariationRecord[],
  options: BuildOptions,
): void {
  const missing = checkExplicitVariations(variations, options.explicitVariations)
  if (missing.length === 0) return
  throw new ReproofError(
    'E_ENVIRONMENT',
    `--vary ${missing.map((m) => m.name).join(',')}: cannot take effect here: ${missing.map((m) => `${m.name}: ${m.note}`).join('; ')}`,
    {
      hint: [
        ...missing.flatMap((m) => (m.fix === undefined ? [] : [`${m.name}: ${m.fix}`])),
        `or leave it out: --no-vary ${missing.map((m) => m.name).join(',')}`,
      ].join('\n'),
    },
  )
}

function toRunContext(
  setup: RunSetup,
  sandbox: RunSandbox | undefined,
  variations: readonly VariationRecord[],
  id: 'a' | 'b',
): RunContext {
  const varied =
    id === 'a'
      ? 'nothing (run A is the reference)'
      : variations
          .filter((v) => v.status === 'effective')
          .map((v) => (v.name === 'path' ? 'path' : `${v.name} (${v.b})`))
          .join(', ')
  return {
    setup,
    enter: sandbox?.enter ?? [],
    cwd: sandbox === undefined ? setup.layout.root : undefined,
    ...(sandbox === undefined ? {} : { reap: () => sandbox.reap() }),
    variedWith: varied,
  }
}

/** Everything about the build's world that reproof changed, for a failed run's message. */
function whatReproofChanged(
  variations: readonly VariationRecord[],
  isolation: Isolation,
  excludedOutputs: readonly string[],
): string[] {
  return [
    // A broad --out glob can take sources out of the snapshot: say so where it bites.
    ...(excludedOutputs.length > 0
      ? [
          `left out of the snapshot because --out matches them: ${excludedOutputs.slice(0, 5).map(toDisplayText).join(', ')}${excludedOutputs.length > 5 ? ` and ${excludedOutputs.length - 5} more` : ''}`,
        ]
      : []),
    'a fresh, empty HOME',
    'a clean environment (only PATH, TZ, LANG/LC_ALL, SOURCE_DATE_EPOCH and --env)',
    ...(isolation.network === 'none' ? ['no network'] : []),
    ...(isolation.kind === 'namespaces'
      ? ['a read-only file system outside the build root and its temp dirs']
      : []),
    `variations in run B: ${variations
      .filter((v) => v.status === 'effective')
      .map((v) => v.name)
      .join(', ')}`,
  ]
}

function leftoverWarnings(outcomes: readonly RunOutcome[]): string[] {
  return outcomes
    .filter((o) => o.leftovers.length > 0)
    .map(
      (o) =>
        `run ${o.id.toUpperCase()}: the build left ${o.leftovers.length} process${o.leftovers.length === 1 ? '' : 'es'} running, killed when its command ended: ${o.leftovers.join(', ')}`,
    )
}

async function releaseWorkspace(workspace: Workspace, keep: boolean): Promise<void> {
  if (keep) keepWorkspace(workspace)
  else await workspace.remove()
}

async function checkSourceDir(source: string): Promise<void> {
  let stat
  try {
    stat = await fs.stat(source)
  } catch (err) {
    throw unreadable(`--source ${source}`, source, err, 'no such directory')
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

function isEffective(variations: readonly VariationRecord[], name: string): boolean {
  return variations.some((v) => v.name === name && v.status === 'effective')
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true)
    throw new ReproofError('E_INTERRUPTED', 'interrupted; nothing was written')
}
