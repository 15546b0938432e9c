import fs from 'node:fs/promises'
import path from 'node:path'
import type { BuildOptions } from '../config/build-options.js'
import type { Epoch } from '../config/epoch.js'
import type { Difference } from '../diff/compare-manifests.js'
import type { DiffReport } from '../diff/report.js'
import { collectManifest } from '../digest/manifest.js'
import { fileTimeDrift, withFileTimeDrift } from './file-time-drift.js'
import { ReproofError, throwIfAborted } from '../errors.js'
import { sortNames, toDisplayText, toFsPath } from '../file-names.js'
import { writeFileAtomic } from '../io/atomic-write.js'
import { canonicalFile } from '../io/output-path.js'
import type { Manifest } from '../digest/manifest.js'
import { FAKETIME_OFFSET_SECONDS, type RunPlan, type VariationRecord } from '../sandbox/run-plan.js'
import { checkRootChain } from '../sandbox/root-chain.js'
import {
  chooseTempParent,
  createWorkspace,
  keepWorkspace,
  type Workspace,
} from '../sandbox/workspace.js'
import { VERSION } from '../version.js'
import {
  toBuildRecord,
  toEnvironmentEntries,
  toRunRecord,
  toNormalizationRecord,
  type BuildRecord,
  type NormalizationRecord,
  type RunRecord,
  type SourceInfo,
} from '../records/build-record.js'
import { copyArtifacts } from './copy-artifacts.js'
import { explainDifferences, judgeArtifacts, type Judgement } from './judge-artifacts.js'
import { buildFailure, runTwice, type BuildEvent, type RunOutcome } from './run-twice.js'
import type { Isolation, Verdict } from '../records/build-record.js'
import { withTimeEvidence } from './attribute.js'
import { explainVariations, type AttributionResult } from './explain-variations.js'
import {
  prepareRuns,
  refuseUnappliedExplicit,
  type PreparedRuns,
  type Sandboxes,
} from './prepare-runs.js'
import { describeSource, readInputs, readSnapshot } from './read-inputs.js'
import { hideSource, realPath } from './hide-source.js'
import { firstFew } from '../first-few.js'
import { withEveryDifference } from './every-difference.js'
import { secretCopies, type SecretKey } from './secret-copies.js'

export type { BuildEvent } from './run-twice.js'
export type { AttributionResult } from './explain-variations.js'

export interface BuildDeps {
  /** The caller's environment: read for SOURCE_DATE_EPOCH, PATH and `--env NAME` only. */
  callerEnv: Readonly<Record<string, string | undefined>>
  /** Aborted when the user presses Ctrl-C. */
  signal?: AbortSignal
  onEvent?: (event: BuildEvent) => void
  /**
   * Files of the caller's the build must not read: the private key the result will be
   * signed with, the identity token (a build that read one shipped it inside the signed
   * artifact). `flag` names it in a refusal, `what` in the isolation notes.
   */
  secretFiles?: readonly SecretFile[]
  /** That key, parsed: a copy of it in the source tree in another form is found too. */
  secretKey?: SecretKey
  /**
   * Milliseconds since the epoch (Date.now by default): the record's start and finish,
   * and the runs' wall-clock window, which the explanation of a time in an artifact reads.
   */
  clock?: () => number
}

export interface SecretFile {
  flag: string
  file: string
  what: string
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
   * normalize --canonical` of each run's copy. Empty when normalization was part of the build or nothing would match.
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
  /** Default variations a no-vary list turned off, and which (`--no-vary`, `reproof.config.json "noVary"`). */
  turnedOff: { name: string; by: string }[]
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

export interface BuildOutcome {
  result: BuildResult
  /** The full build record, whether or not it was written (attestation signs from it). */
  record: BuildRecord
}

/** How many names a file has; 1 for one that cannot be read (its reading fails later). */
async function linkCount(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).nlink
  } catch {
    return 1
  }
}

/**
 * The twin build. Parse and validate, decide the plan (pure), run both builds, compare
 * (pure), write what is durable (artifacts, then the record), and return the result
 * for the CLI to acknowledge. Nothing is written outside the workspace before the
 * verdict, and the workspace is gone when this returns, whatever happened.
 */
export async function runBuild(options: BuildOptions, deps: BuildDeps): Promise<BuildOutcome> {
  const emit = deps.onEvent ?? (() => undefined)
  const clock = deps.clock ?? Date.now
  const startedAt = new Date(clock()).toISOString()
  const warnings: string[] = []

  // 1. Parse and validate what needs the filesystem.
  const inputs = await readInputs(options, deps.callerEnv, warnings)
  // A copy of the signing key in what the snapshot copies (tracked in git, a hard link, a
  // file of a tree that is no checkout) is in the build's sight whatever the sandbox hides.
  const secrets = deps.secretFiles ?? []
  const [copy] = secretCopies(
    options.source,
    inputs.entries,
    secrets.map((s) => s.file),
    deps.secretKey,
  )
  if (copy !== undefined) {
    const flag = secrets.find((s) => s.file === copy.secret)?.flag ?? '--key'
    throw new ReproofError(
      'E_USAGE',
      `${flag} ${toDisplayText(copy.secret)}: the source tree holds ${copy.form === 'copy' ? 'it' : 'its private key in another form'} (${toDisplayText(copy.rel)}), so the build's copy of the tree would too, and the build could ship it; keep it outside what is built`,
    )
  }
  // Another hard link to the key, outside the source tree, is the same file under a name
  // the sandbox does not know to hide: the build could read the key through it.
  for (const secret of secrets) {
    const links = await linkCount(secret.file)
    if (links > 1)
      throw new ReproofError(
        'E_USAGE',
        `${secret.flag} ${toDisplayText(secret.file)}: the file has ${links} hard links, and the build could read ${secret.what} through another of them, which reproof cannot find to hide; sign with a copy that has one link (cp it)`,
      )
  }
  const parent = await chooseTempParent(
    options.tempDir === undefined
      ? undefined
      : { dir: options.tempDir, from: options.tempDirFromConfig === true ? 'config' : 'flag' },
  )
  throwIfAborted(deps.signal)

  // 2. Decide the plan, then lay out both runs.
  emit({ kind: 'phase', text: 'preparing two isolated build roots' })
  const workspace = await createWorkspace({ parent, name: rootName(options.source) })
  const sandboxes: Sandboxes = {}
  let keep = false
  try {
    // The PATH the build runs with: --env PATH=... replaces the caller's. One the source
    // tree's configuration gives is not taken: naming a directory of the checkout, it
    // kept the checkout (and a token git keeps there) in the build's sight.
    const pathFromConfig = options.env.some((e) => e.name === 'PATH' && e.fromConfig === true)
    const hiding = hideSource(
      options.source,
      inputs.git === undefined ? [] : [inputs.git.topLevel, ...inputs.git.related],
      {
        ...deps.callerEnv,
        PATH: pathFromConfig
          ? deps.callerEnv.PATH
          : (inputs.passThrough.PATH ?? deps.callerEnv.PATH),
      },
      secrets.map((s) => s.file),
    )
    const runOptions = { ...options, hide: [...(options.hide ?? []), ...hiding.hide] }
    const prepared = await prepareRuns(runOptions, deps.callerEnv, workspace, sandboxes, {
      epoch: inputs.epoch.value,
      passThrough: inputs.passThrough,
      entries: inputs.entries,
    })
    if (prepared.isolation.kind === 'namespaces')
      for (const { path: dir, why } of hiding.visible)
        prepared.isolation.notes.push(
          `the source checkout ${toDisplayText(dir)} stayed visible to the build (${why})`,
        )
    // Which secret each unhidden real path is.
    const whatIs = (file: string): string =>
      secrets.find((s) => realPath(s.file)[0] === file || s.file === file)?.what ??
      'the signing key'
    if (prepared.isolation.kind === 'namespaces')
      for (const { path: file, why } of hiding.unhidden)
        prepared.isolation.notes.push(
          `${whatIs(file)} ${toDisplayText(file)} stayed visible to the build (${why})`,
        )
    // Without the sandbox nothing is hidden: the key is where the build can read it.
    else
      for (const secret of secrets)
        prepared.isolation.notes.push(
          `${secret.what} ${toDisplayText(secret.file)} was readable by the build (no sandbox)`,
        )
    // What the snapshot holds, read before a build can change it.
    const snapshotFacts = await readSnapshot(
      options.source,
      inputs.git,
      prepared.roots.a,
      inputs.entries,
      warnings,
    )
    throwIfAborted(deps.signal)

    // 3. Run both builds. Whatever a build leaves running is killed when its command ends.
    // Outputs the snapshot held through a link count with those it left out by name.
    inputs.excludedOutputs = sortNames([...new Set([...inputs.excludedOutputs, ...prepared.stale])])
    const ran = await buildBoth(prepared, runOptions, deps, inputs, warnings)
    throwIfAborted(deps.signal)

    // 4. Collect, hash and compare (the verdict is a pure function of the manifests).
    const compared = await compareRuns(prepared, ran, options, deps, {
      workspace,
      epoch: inputs.epoch.value,
      warnings,
    })
    // Kept roots are copied out of the sandbox's private tmpfs before it goes away.
    if (options.keep) await copyRootsOut(workspace, sandboxes)
    throwIfAborted(deps.signal)

    // 5. Durable writes: the artifacts (only when reproducible), then the record.
    const { record, outDir } = await writeResults(options, deps, {
      inputs,
      prepared,
      ran,
      compared,
      canary: workspace.canary,
      startedAt,
      lockfiles: snapshotFacts.lockfiles,
    })
    keep = options.keep
    const result = toBuildResult(record, {
      judgement: compared.judgement,
      plan: prepared.plan,
      outDir,
      recordPath: options.record ?? null,
      explanation: compared.explanation,
      attribution: compared.attribution,
      kept: keep ? workspace.base : null,
      warnings,
      turnedOff: options.turnedOff ?? [],
    })
    return { result, record }
  } catch (err) {
    // A build that failed or timed out is what --keep is most wanted for.
    if (options.keep && !keep) keep = await keepAfterFailure(err, workspace, sandboxes)
    throw err
  } finally {
    for (const sandbox of [sandboxes.a, sandboxes.b]) await sandbox?.close()
    await releaseWorkspace(workspace, keep)
  }
}

type Inputs = Awaited<ReturnType<typeof readInputs>>
type Ran = Awaited<ReturnType<typeof buildBoth>>
type Compared = Awaited<ReturnType<typeof compareRuns>>

/**
 * Stage 3: both builds, at once unless --sequential. A build that fails ends the
 * twin build with its log's tail and what reproof changed in its world. Returns the
 * outcomes, the runs' wall-clock window in seconds (for explaining times found in
 * artifacts), and the variations with the file-time drift judged.
 */
async function buildBoth(
  prepared: PreparedRuns,
  options: BuildOptions,
  deps: BuildDeps,
  { excludedOutputs, epoch }: Pick<Inputs, 'excludedOutputs' | 'epoch'>,
  warnings: string[],
) {
  const clock = deps.clock ?? Date.now
  const { contexts, isolation, judged, roots } = prepared
  const started = clock()
  const outcomes = await runTwice(contexts, options, deps, deps.onEvent ?? (() => undefined))
  // Nothing the build started runs now: its roots must still be where they were made.
  checkRootChain(prepared.chains.a)
  checkRootChain(prepared.chains.b)
  const window: [number, number] = [Math.floor(started / 1000), Math.ceil(clock() / 1000)]
  // The run that failed on its own is the one explained, not the one stopped after it.
  for (const outcome of [outcomes.a, outcomes.b].filter((o) => !o.stoppedAfterOtherFailed)) {
    if (outcome.exitCode !== 0)
      throw await buildFailure(
        outcome,
        contexts[outcome.id],
        outcomes,
        whatReproofChanged(judged, isolation, excludedOutputs, options.hide ?? [], epoch),
      )
  }
  warnings.push(...leftoverWarnings([outcomes.a, outcomes.b]))
  // Run B's later start varies the files' times only where the runs kept pace: the
  // files both wrote too close in time are named on the file-times variation.
  const variations = judged.some((v) => v.name === 'file-times')
    ? withFileTimeDrift(
        judged,
        await fileTimeDrift(
          roots,
          { a: started - 1000, b: started - 1000 },
          // What the snapshot holds has this time, to the nanosecond; no write does.
          epoch.value * 1000,
          prepared.staging,
        ),
        endGap(outcomes.a, outcomes.b),
      )
    : judged
  // Asked for by name and, as the runs went, of no effect: refused as before the runs.
  refuseUnappliedExplicit(variations, options)
  return { outcomes, variations, window, started }
}

/** How long after run A's command run B's ended (ms), when both ended. */
function endGap(a: RunOutcome, b: RunOutcome): number | undefined {
  return a.endedAtMs === undefined || b.endedAtMs === undefined
    ? undefined
    : b.endedAtMs - a.endedAtMs
}

/**
 * Stage 4: both runs' artifacts collected, hashed and judged; when they differ, the
 * diff engine's explanation and, unless --no-explain, which variation causes each
 * difference (further pairs, each with some of the variations).
 */
async function compareRuns(
  prepared: PreparedRuns,
  ran: Ran,
  options: BuildOptions,
  deps: BuildDeps,
  at: { workspace: Workspace; epoch: number; warnings: string[] },
) {
  const emit = deps.onEvent ?? (() => undefined)
  const { plan, roots } = prepared
  const { variations } = ran
  const { workspace, epoch, warnings } = at
  emit({ kind: 'phase', text: 'hashing artifacts' })
  const collected = await collectOutputs(roots, plan, options.outputs, warnings, {
    unmatchedAllowed: options.unmatchedOutputsAllowed === true,
  })
  const places = { a: collected.a.places, b: collected.b.places }
  const judgement = await judgeArtifacts(
    places,
    { a: collected.a.manifest, b: collected.b.manifest },
    { normalize: options.normalize, epoch, scratch: workspace.base },
    emit,
    { a: collected.a.special, b: collected.b.special },
  )
  warnings.push(...(judgement.normalization?.warnings ?? []))
  if (judgement.reproducible || options.namesOnly === true)
    return { collected, judgement, explanation: null, attribution: null }

  const { differences } = judgement
  emit({ kind: 'phase', text: `explaining ${differences.length} difference(s)` })
  // Nothing either run left as a FIFO, socket or device is opened to explain it.
  const special = new Set([...collected.a.special, ...collected.b.special])
  const before = warnings.length
  const explained = await explainDifferences(
    differences.filter((d) => !special.has(d.name)),
    {
      roots: [plan.runs.a.layout.root, plan.runs.b.layout.root],
      places: [places.a, places.b],
      canary: workspace.canary,
      wallClock: ran.window,
      clockOffsetSeconds: isEffective(variations, 'time') ? FAKETIME_OFFSET_SECONDS : 0,
      localeVaried: isEffective(variations, 'locale'),
      ...(isEffective(variations, 'tz') ? { epochInZones: epoch } : {}),
    },
    warnings,
  )
  // Every difference is in it, each one the engine could not open said unexplained:
  // the report of a no never reads "identical".
  const explanation = withEveryDifference(
    explained,
    differences,
    explained === null ? warnings.slice(before).at(-1) : undefined,
  )
  const clock = deps.clock ?? Date.now
  const buildPair = async (pairOptions: BuildOptions): Promise<ReadonlySet<string>> => {
    const { result } = await runBuild(pairOptions, { ...deps, onEvent: () => undefined })
    return new Set(result.differences.map((d) => d.name))
  }
  const attribution = options.explain
    ? await explainVariations(
        options,
        {
          differing: differences.map((d) => d.name),
          variations,
          pairMs: clock() - ran.started,
          scratch: workspace.base,
          signal: deps.signal,
        },
        buildPair,
        emit,
      )
    : null
  return {
    collected,
    judgement,
    explanation,
    attribution:
      attribution?.culprits === undefined
        ? attribution
        : { ...attribution, culprits: withTimeEvidence(attribution.culprits, explanation.items) },
  }
}

/**
 * A record, report, bundle or statement written where an artifact is copied would
 * replace it after its digest was taken: the record once overwrote the artifact it
 * attested, and the bundle signed the artifact's digest. Refused before anything is
 * copied.
 */
function refuseOutputsOverArtifacts(options: BuildOptions, artifacts: Manifest): void {
  const given = (o: {
    flag: string
    file: string | undefined
  }): o is { flag: string; file: string } => o.file !== undefined
  const outputs = [
    { flag: '--record', file: options.record },
    { flag: '--report', file: options.report },
    ...(options.alsoWrites ?? []),
  ].filter(given)
  // An artifact copied over a file signing uses replaced it: the trusted root or the
  // identity token read afterwards would be the build's, and a key the user's no more.
  const inputs = (options.readsAfter ?? []).filter(given)
  if (outputs.length + inputs.length === 0) return
  const at = new Map<string, { flag: string; file: string; read: boolean }>([
    ...inputs.map((o): [string, { flag: string; file: string; read: boolean }] => [
      canonicalFile(o.file),
      { ...o, read: true },
    ]),
    ...outputs.map((o): [string, { flag: string; file: string; read: boolean }] => [
      canonicalFile(o.file),
      { ...o, read: false },
    ]),
  ])
  for (const artifact of artifacts) {
    const target = toFsPath(options.outDir, artifact.name)
    if (typeof target !== 'string') continue
    const output = at.get(canonicalFile(target))
    if (output !== undefined)
      throw new ReproofError(
        'E_USAGE',
        output.read
          ? `${output.flag} ${output.file}: artifact ${toDisplayText(artifact.name)} would be copied over it; keep the files signing uses outside --out-dir's artifacts`
          : `${output.flag} ${output.file}: where artifact ${toDisplayText(artifact.name)} is copied; give it a path outside --out-dir's artifacts`,
        { path: output.file },
      )
  }
}

/**
 * Stage 5: the artifacts copied out (only when reproducible), then the build record
 * written atomically (with --record). The record is returned either way: attestation
 * signs from it.
 */
async function writeResults(
  options: BuildOptions,
  deps: BuildDeps,
  done: {
    inputs: Inputs
    prepared: PreparedRuns
    ran: Ran
    compared: Compared
    canary: string
    startedAt: string
    lockfiles: { path: string; sha256: string }[]
  },
): Promise<{ record: BuildRecord; outDir: string | null }> {
  const { inputs, prepared, ran, compared } = done
  const { plan, roots } = prepared
  const { judgement, collected } = compared
  const epoch = inputs.epoch
  let outDir: string | null = null
  if (judgement.reproducible) {
    refuseOutputsOverArtifacts(options, judgement.final.a)
    const text = `copying ${judgement.final.a.length} artifact(s) to ${options.outDir}`
    deps.onEvent?.({ kind: 'phase', text })
    // prettier-ignore
    await copyArtifacts(roots.a, judgement.final.a, options.outDir, epoch.value, plan.runs.a.layout.root)
    outDir = options.outDir
  }
  const source = describeSource(
    options,
    inputs.git,
    inputs.ciRef,
    prepared.snapshot,
    done.lockfiles,
  )
  const record: BuildRecord = toBuildRecord({
    reproofVersion: VERSION,
    command: options.command,
    source,
    outputs: options.outputs,
    exclude: options.exclude,
    excludedOutputs: inputs.excludedOutputs,
    epoch,
    environment: toEnvironmentEntries(plan.runs.a.env, options.env, inputs.passThrough),
    canary: done.canary,
    variations: ran.variations,
    turnedOff: options.turnedOff ?? [],
    runs: [
      toRunRecord(ran.outcomes.a, plan.runs.a.layout.root, collected.a.manifest),
      toRunRecord(ran.outcomes.b, plan.runs.b.layout.root, collected.b.manifest),
    ],
    isolation: prepared.isolation,
    result: {
      reproducible: judgement.reproducible,
      verdict: judgement.verdict,
      reproducibleWithoutNormalization: judgement.rawReproducible,
      differences: judgement.differences,
      wouldMatchAfterNormalization: judgement.wouldMatchAfterNormalization,
    },
    normalization: toNormalizationRecord(judgement.normalization, options.normalizeBy),
    startedAt: done.startedAt,
    finishedAt: new Date((deps.clock ?? Date.now)()).toISOString(),
  })
  if (options.record !== undefined)
    await writeFileAtomic(options.record, `${JSON.stringify(record, null, 2)}\n`)
  return { record, outDir }
}

/** Both roots kept after a failure, and the error's hint says where. */
async function keepAfterFailure(
  err: unknown,
  workspace: Workspace,
  sandboxes: Sandboxes,
): Promise<true> {
  await copyRootsOut(workspace, sandboxes).catch(() => undefined)
  if (err instanceof ReproofError) {
    const kept = `both build roots and their logs are kept in ${workspace.base}`
    err.context.hint = err.context.hint === undefined ? kept : `${err.context.hint}\n${kept}`
  }
  return true
}

/**
 * Copies both runs' directories out of their sandboxes (where they live on a private
 * tmpfs) into the workspace, for --keep: those opened so far, whenever it is called.
 */
async function copyRootsOut(workspace: Workspace, sandboxes: Sandboxes): Promise<void> {
  for (const id of ['a', 'b'] as const) {
    const dir = workspace.layouts[id].dir
    const sandbox = sandboxes[id]
    if (sandbox !== undefined)
      await fs.cp(sandbox.view(dir), dir, {
        recursive: true,
        verbatimSymlinks: true,
        // The times the build gave its files, which a time-related difference is read by.
        preserveTimestamps: true,
        // A FIFO, socket or device the build made cannot be copied (fs.cp refuses it);
        // left out, as it holds no bytes to inspect.
        filter: async (source) => {
          const stat = await fs.lstat(source)
          return stat.isFile() || stat.isDirectory() || stat.isSymbolicLink()
        },
      })
  }
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
    turnedOff: { name: string; by: string }[]
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
    turnedOff: where.turnedOff,
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
  { unmatchedAllowed }: { unmatchedAllowed: boolean },
) {
  const collect = async (side: 'a' | 'b') => {
    try {
      return await collectManifest(roots[side], outputs, { seenAs: plan.runs[side].layout.root })
    } catch (err) {
      throw unreadableOutput(err, roots[side], side) ?? err
    }
  }
  const collected = { a: await collect('a'), b: await collect('b') }
  const special = [...new Set([...collected.a.special, ...collected.b.special])].sort()
  // One that only one run made is a difference in what the runs left, named as such.
  const inA = new Set(collected.a.special)
  const inB = new Set(collected.b.special)
  const where = (name: string): string =>
    inA.has(name) && inB.has(name) ? '' : inA.has(name) ? ' (run A only)' : ' (run B only)'
  if (special.length > 0)
    warnings.push(
      `not compared (a FIFO, socket or device file holds no bytes): ${firstFew(
        special.map((n) => `${toDisplayText(n)}${where(n)}`),
        MAX_NAMED,
      )}`,
    )
  const unmatched = outputs.filter(
    (_, i) => (collected.a.matches[i]?.count ?? 0) + (collected.b.matches[i]?.count ?? 0) === 0,
  )
  if (unmatched.length > 0 && !unmatchedAllowed) {
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

/** Everything about the build's world that reproof changed, for a failed run's message. */
function whatReproofChanged(
  variations: readonly VariationRecord[],
  isolation: Isolation,
  excludedOutputs: readonly string[],
  hidden: readonly string[],
  epoch: Epoch,
): string[] {
  return [
    // A broad --out glob can take sources out of the snapshot: say so where it bites.
    ...(excludedOutputs.length > 0
      ? [
          `left out of the snapshot because --out matches them: ${firstFew(excludedOutputs.map(toDisplayText), 5)}`,
        ]
      : []),
    // A tool that refuses old times (zip: none before 1980) fails on the source's files
    // at the default epoch, 1970: the one change a log's error names least plainly.
    `every source file's time set to the epoch ${epoch.value} (${new Date(epoch.value * 1000).toISOString().slice(0, 10)}${epoch.source === 'default' ? ': the default, for want of --epoch, SOURCE_DATE_EPOCH or a git commit; zip and others refuse times before 1980' : ''})`,
    'a fresh, empty HOME',
    'a clean environment (only PATH, TZ, LANG/LC_ALL, SOURCE_DATE_EPOCH and --env)',
    ...(isolation.network === 'none' ? ['no network'] : []),
    ...(isolation.kind === 'namespaces'
      ? ['a read-only file system outside the build root and its temp dirs']
      : []),
    // The build reads its snapshot: a tool it ran from the checkout is not there.
    ...(isolation.kind === 'namespaces' && hidden.length > 0
      ? [
          `hidden, each under an empty directory or /dev/null: ${hidden.map(toDisplayText).join(', ')}`,
        ]
      : []),
    `variations in run B: ${variations
      .filter((v) => v.status === 'effective')
      .map((v) => v.name)
      .join(', ')}`,
  ]
}

// A warning names this many, then counts the rest: a build that leaves thousands made
// one line of megabytes, more than a job summary holds.
const MAX_NAMED = 20

function leftoverWarnings(outcomes: readonly RunOutcome[]): string[] {
  return outcomes
    .filter((o) => o.leftovers.length > 0)
    .map(
      (o) =>
        `run ${o.id.toUpperCase()}: the build left ${o.leftovers.length} process${o.leftovers.length === 1 ? '' : 'es'} running, killed when its command ended: ${firstFew(o.leftovers, MAX_NAMED)}`,
    )
}

async function releaseWorkspace(workspace: Workspace, keep: boolean): Promise<void> {
  if (keep) keepWorkspace(workspace)
  else await workspace.remove()
}

function rootName(source: string): string {
  const name = path.basename(source)
  return name === '' ? 'src' : name
}

function isEffective(variations: readonly VariationRecord[], name: string): boolean {
  return variations.some((v) => v.name === name && v.status === 'effective')
}

/**
 * An output the build left so that reproof cannot read it (a file made 000, a directory
 * 0311), as the build's failure: reproof runs as an ordinary user, and the build's
 * `chmod` holds for it. Anything else is not this (undefined).
 */
function unreadableOutput(err: unknown, root: string, side: 'a' | 'b'): ReproofError | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code
  const at = (err as NodeJS.ErrnoException | null)?.path
  if ((code !== 'EACCES' && code !== 'EPERM') || typeof at !== 'string') return undefined
  const rel = path.relative(root, at)
  if (rel === '..' || rel.startsWith('../') || path.isAbsolute(rel)) return undefined
  return new ReproofError(
    'E_BUILD',
    `run ${side.toUpperCase()} left ${toDisplayText(rel === '' ? '.' : rel)} where reproof cannot read it (permission denied): its outputs cannot be hashed; leave them readable (chmod u+r, and u+rx for a directory)`,
    { path: rel },
    { cause: err },
  )
}
