import fs from 'node:fs/promises'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import type { BuildOptions, EnvRequest } from '../config/build-options.js'
import { chooseEpoch, type Epoch } from '../config/epoch.js'
import { formatDuration } from '../config/duration.js'
import { compareManifests, type Difference } from '../diff/compare-manifests.js'
import { hashFiles } from '../digest/hash-file.js'
import { collectManifest, manifestDigest, type Manifest } from '../digest/manifest.js'
import { ReproofError } from '../errors.js'
import { copyFileAtomic, writeFileAtomic } from '../io/atomic-write.js'
import { detectCapabilities } from '../sandbox/capabilities.js'
import { readGitSource, type GitSource } from '../sandbox/git.js'
import { runCaptured, startBuildProcess } from '../sandbox/process.js'
import {
  judgeEffectiveness,
  parseProbe,
  planRuns,
  PROBE_SCRIPT,
  type ProbeReport,
  type RunId,
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
  type BuildRecord,
  type EnvironmentEntry,
  type RunRecord,
  type SourceInfo,
} from './build-record.js'

export type BuildEvent =
  | { kind: 'phase'; text: string }
  | { kind: 'run-started'; id: RunId }
  | { kind: 'run-output'; id: RunId; line: string }
  | {
      kind: 'run-finished'
      id: RunId
      exitCode: number | null
      signal: string | null
      durationMs: number
    }

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
export async function runBuild(options: BuildOptions, deps: BuildDeps): Promise<BuildResult> {
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
    const capabilities = await detectCapabilities(options.variations)
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
    const outcomes = await runTwice(plan.runs, options, deps, emit)
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
    const differences = compareManifests(collected.a.manifest, collected.b.manifest)
    const reproducible = differences.length === 0
    const runRecords: RunRecord[] = [
      toRunRecord(outcomes.a, plan.runs.a, collected.a.manifest),
      toRunRecord(outcomes.b, plan.runs.b, collected.b.manifest),
    ]

    // 5. Durable writes: the artifacts (only when reproducible), then the record.
    let outDir: string | null = null
    if (reproducible) {
      emit({
        kind: 'phase',
        text: `copying ${collected.a.manifest.length} artifact(s) to ${options.outDir}`,
      })
      await copyArtifacts(
        plan.runs.a.layout.root,
        collected.a.manifest,
        options.outDir,
        epoch.value,
      )
      outDir = options.outDir
    }
    const sourceInfo = toSourceInfo(options.source, git, snapshot)
    if (options.record !== undefined) {
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
        result: { reproducible, differences },
        startedAt,
        finishedAt: new Date().toISOString(),
      })
      await writeFileAtomic(options.record, `${JSON.stringify(record, null, 2)}\n`)
    }

    keep = options.keep
    return {
      reproducible,
      epoch: epoch.value,
      epochSource: epoch.source,
      artifacts: collected.a.manifest.map((e) => ({
        name: e.name,
        digest: { sha256: e.sha256 },
        size: e.size,
      })),
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
      kept: keep ? workspace.base : null,
      warnings,
    }
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

/** The record keeps every value but those passed through from the caller. */
function toEnvironmentEntries(
  env: Record<string, string>,
  requests: readonly EnvRequest[],
  passThrough: Record<string, string>,
): EnvironmentEntry[] {
  const requested = new Map(requests.map((r) => [r.name, r]))
  return Object.keys(env)
    .sort()
    .map((name): EnvironmentEntry => {
      const request = requested.get(name)
      if (request?.value !== undefined)
        return { name, value: passThrough[name] ?? '', from: 'flag' }
      if (request !== undefined) return { name, from: 'caller' }
      return { name, value: env[name] ?? '', from: 'reproof' }
    })
}

function toSourceInfo(
  source: string,
  git: GitSource | undefined,
  snapshot: { files: number; bytes: number },
): SourceInfo {
  return {
    path: source,
    ...(git === undefined
      ? {}
      : {
          git: {
            commit: git.commit,
            commitTime: git.commitTime,
            dirty: git.dirty,
            ...(git.repository === undefined ? {} : { repository: git.repository }),
          },
        }),
    files: snapshot.files,
    bytes: snapshot.bytes,
  }
}

async function probeRun(run: RunSetup): Promise<ProbeReport> {
  const result = await runCaptured([...run.launcher, '/bin/sh', '-c', PROBE_SCRIPT], {
    cwd: run.layout.root,
    env: run.env,
    timeoutMs: 30_000,
  })
  const report = result.code === 0 ? parseProbe(result.stdout) : undefined
  if (report === undefined) {
    throw new ReproofError(
      'E_ENVIRONMENT',
      `run ${run.id.toUpperCase()}: the build environment could not be set up (${result.stderr.trim().split('\n').pop() ?? `exit ${result.code}`})`,
      {
        found: run.launcher.join(' '),
        hint: 'turn off the variation that needs what is missing, with --no-vary',
      },
    )
  }
  return report
}

interface RunOutcome {
  id: RunId
  exitCode: number | null
  signal: string | null
  durationMs: number
  error: string | undefined
}

/**
 * Runs A and B, concurrently unless --sequential. A timeout or Ctrl-C kills both
 * process trees; a timeout is not a failure but an unknown outcome.
 */
async function runTwice(
  runs: { a: RunSetup; b: RunSetup },
  options: BuildOptions,
  deps: BuildDeps,
  emit: (event: BuildEvent) => void,
): Promise<{ a: RunOutcome; b: RunOutcome }> {
  const controller = new AbortController()
  const onInterrupt = (): void => {
    controller.abort('interrupt')
  }
  deps.signal?.addEventListener('abort', onInterrupt)
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          controller.abort('timeout')
        }, options.timeoutMs)
  const started: { kill(): Promise<void>; done: Promise<RunOutcome> }[] = []
  const aborted = new Promise<void>((resolve) => {
    controller.signal.addEventListener('abort', () => {
      resolve()
    })
  })

  const start = (run: RunSetup): Promise<RunOutcome> => {
    emit({ kind: 'run-started', id: run.id })
    const t0 = performance.now()
    const child = startBuildProcess(
      {
        argv: [...run.launcher, ...options.command],
        cwd: run.layout.root,
        env: run.env,
        stdoutLog: run.layout.stdoutLog,
        stderrLog: run.layout.stderrLog,
        onLine: (line) => {
          emit({ kind: 'run-output', id: run.id, line })
        },
      },
      `HOME=${run.env.HOME ?? ''}`,
    )
    const done = child.done.then((status): RunOutcome => {
      const outcome = {
        id: run.id,
        exitCode: status.code,
        signal: status.signal,
        durationMs: Math.round(performance.now() - t0),
        error: status.error,
      }
      if (!controller.signal.aborted) emit({ kind: 'run-finished', ...outcome })
      return outcome
    })
    started.push({ kill: () => child.kill(), done })
    return done
  }
  const waitUntil = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, Math.max(0, ms))
      controller.signal.addEventListener('abort', () => {
        clearTimeout(t)
        resolve()
      })
    })

  const both = (async () => {
    const t0 = performance.now()
    const a = start(runs.a)
    if (options.sequential) await a
    await waitUntil(runs.b.minStartGapMs - (performance.now() - t0))
    if (controller.signal.aborted) return undefined
    const b = start(runs.b)
    return { a: await a, b: await b }
  })()

  try {
    const result = await Promise.race([both, aborted.then(() => undefined)])
    if (result !== undefined) return result
    await Promise.all(started.map((s) => s.kill()))
    await Promise.all(started.map((s) => s.done))
    if (controller.signal.reason === 'timeout') {
      throw new ReproofError(
        'E_AMBIGUOUS',
        `the builds did not finish within --timeout ${formatDuration(options.timeoutMs ?? 0)}; whether they are reproducible is unknown. Nothing was written; a retry is safe`,
      )
    }
    throw new ReproofError(
      'E_INTERRUPTED',
      'interrupted; both builds were stopped and nothing was written',
    )
  } finally {
    if (timer !== undefined) clearTimeout(timer)
    deps.signal?.removeEventListener('abort', onInterrupt)
  }
}

async function buildFailure(
  outcome: RunOutcome,
  run: RunSetup,
  outcomes: { a: RunOutcome; b: RunOutcome },
  variations: readonly VariationRecord[],
): Promise<ReproofError> {
  const how =
    outcome.error !== undefined
      ? `could not start (${outcome.error})`
      : outcome.signal !== null
        ? `was killed by ${outcome.signal}`
        : `exited with status ${outcome.exitCode}`
  const other = outcomes[outcome.id === 'a' ? 'b' : 'a']
  const onlyB = outcome.id === 'b' && other.exitCode === 0
  const varied = variations.filter((v) => v.applied && v.name !== 'path').map((v) => v.name)
  return new ReproofError('E_BUILD', `build run ${outcome.id.toUpperCase()} ${how}`, {
    detail: await logTail(run),
    hint: onlyB
      ? `run A succeeded, so a variation may have caused this (${['path', ...varied].join(', ')}); try --no-vary`
      : undefined,
  })
}

async function logTail(run: RunSetup, lines = 20): Promise<string> {
  const read = async (file: string): Promise<string> => {
    try {
      const handle = await fs.open(file, 'r')
      try {
        const { size } = await handle.stat()
        const length = Math.min(size, 16 * 1024)
        const buffer = Buffer.alloc(length)
        await handle.read(buffer, 0, length, size - length)
        return buffer.toString('utf8')
      } finally {
        await handle.close()
      }
    } catch {
      return ''
    }
  }
  const text = `${await read(run.layout.stdoutLog)}\n${await read(run.layout.stderrLog)}`
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-lines)
    .join('\n')
}

function toRunRecord(outcome: RunOutcome, run: RunSetup, manifest: Manifest): RunRecord {
  return {
    id: outcome.id,
    root: run.layout.root,
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    durationMs: outcome.durationMs,
    manifest,
    manifestDigest: manifestDigest(manifest),
  }
}

/** Copies run A's artifacts out, each atomically, checking every copy against its digest. */
async function copyArtifacts(
  root: string,
  manifest: Manifest,
  outDir: string,
  epoch: number,
): Promise<void> {
  for (const entry of manifest) {
    const source = path.join(root, entry.name)
    const mode = ((await fs.stat(source)).mode & 0o111) !== 0 ? 0o755 : 0o644
    const written = await copyFileAtomic(source, path.join(outDir, entry.name), {
      mode,
      mtime: epoch,
    })
    if (written !== entry.sha256) {
      throw new ReproofError(
        'E_BUILD',
        `artifact ${entry.name} changed while it was being copied out`,
        {
          wanted: entry.sha256,
          found: written,
        },
      )
    }
  }
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

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true)
    throw new ReproofError('E_INTERRUPTED', 'interrupted; nothing was written')
}
