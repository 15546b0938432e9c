import fs from 'node:fs/promises'
import path from 'node:path'
import type { BuildOptions } from '../config/build-options.js'
import { findOutputs } from '../digest/manifest.js'
import { ReproofError } from '../errors.js'
import { toDisplayText } from '../file-names.js'
import type { Isolation } from '../records/build-record.js'
import { detectCapabilities } from '../sandbox/capabilities.js'
import { locateInside } from '../sandbox/contain.js'
import {
  openSandbox,
  tryOpenSandbox,
  type RunSandbox,
  type SandboxOptions,
  type SandboxSupport,
} from '../sandbox/namespace-sandbox.js'
import {
  checkExplicitVariations,
  judgeEffectiveness,
  REFERENCE_SANDBOX,
  planRuns,
  type Capabilities,
  type RunPlan,
  type RunSetup,
  type VariationRecord,
} from '../sandbox/run-plan.js'
import { noteRootChain } from '../sandbox/root-chain.js'
import { sweepStaleFaketimeMemory } from '../sandbox/process.js'
import { snapshotSource } from '../sandbox/snapshot.js'
import { hasSiblings, type SourceEntry } from '../sandbox/source-files.js'
import { useUpInodes } from '../sandbox/use-up-inodes.js'
import { sharedKeyringNote } from '../sandbox/keyrings.js'
import { UNCOVERED_SOCKETS_NOTE } from '../sandbox/host-sockets.js'
import { overlapNote, vsockNote } from '../sandbox/shared-kernel.js'
import { addressRandomizationNote } from '../sandbox/address-randomization.js'
import { listingOrderDiffers, type Workspace } from '../sandbox/workspace.js'
import { probeRun, type RunContext } from './run-twice.js'

const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin'

/** Each run's sandbox once opened; the caller closes them, whatever happens. */
export type Sandboxes = Partial<Record<'a' | 'b', RunSandbox>>

export type PreparedRuns = Awaited<ReturnType<typeof prepareRuns>>

/**
 * Both runs made ready: what the machine can do, the isolation and the plan, each run's
 * sandbox (kept in `sandboxes`, which the caller closes), the snapshot of the source in
 * each root, and the variations as the probes found them. A variation asked for by name
 * that cannot be applied is refused here, before anything is built.
 */
export async function prepareRuns(
  options: BuildOptions,
  callerEnv: Readonly<Record<string, string | undefined>>,
  workspace: Workspace,
  sandboxes: Sandboxes,
  inputs: {
    epoch: number
    passThrough: Record<string, string>
    entries: readonly SourceEntry[]
  },
) {
  // Run A's sandbox does not depend on the plan (its names are fixed), so it is set up
  // at once, alongside the other probes, and whether it opened is whether the sandbox
  // can be had here.
  const sandboxA: Promise<SandboxSupport> = options.sandbox
    ? tryOpenSandbox(sandboxOptions(workspace, { id: 'a', ...REFERENCE_SANDBOX }, options)).then(
        (opened) => {
          if (!('sandbox' in opened)) return opened
          sandboxes.a = opened.sandbox
          return { available: true }
        },
      )
    : Promise.resolve({ available: false, reason: 'turned off with --no-sandbox' })
  // Should another probe fail, run A's sandbox is waited for, so that the caller has
  // it to close.
  const capabilities = await detectCapabilities(options.variations, sandboxA, callerEnv).finally(
    () => sandboxA,
  )
  const isolation = chooseIsolation(capabilities, options)
  const plan = planRuns({
    variations: options.variations,
    capabilities,
    sandbox: isolation.kind === 'namespaces',
    layouts: workspace.layouts,
    canary: workspace.canary,
    epoch: inputs.epoch,
    path: callerEnv.PATH ?? DEFAULT_PATH,
    passThrough: inputs.passThrough,
  })
  refuseUnappliedExplicit(plan.variations, options)
  if (isolation.kind === 'namespaces') {
    const b = plan.runs.b
    sandboxes.b = await openSandbox(sandboxOptions(workspace, b, options))
    for (const note of [...(sandboxes.a?.notes ?? []), ...sandboxes.b.notes])
      if (!isolation.notes.includes(note)) isolation.notes.push(note)
  }
  const view = (id: 'a' | 'b', p: string): string => sandboxes[id]?.view(p) ?? p

  const contexts = {
    a: toRunContext(plan.runs.a, sandboxes.a, plan.variations, 'a'),
    b: toRunContext(plan.runs.b, sandboxes.b, plan.variations, 'b'),
  }
  const roots = { a: view('a', plan.runs.a.layout.root), b: view('b', plan.runs.b.layout.root) }
  // Where each run may stage what it archives, as reproof sees it (the file-time check
  // reads them after the runs): $TMPDIR, HOME (run B's as it was given: the home
  // variation gives it one that does not exist, which the build may make), the
  // directories above the root within the run's own workspace (`..`, `../..`: writable
  // there), and in the sandbox its own /tmp and /dev/shm (outside it, those are the
  // machine's, one for both runs).
  const homeOf = (id: 'a' | 'b'): string => plan.runs[id].env.HOME ?? plan.runs[id].layout.home
  const staging = [
    {
      label: '$TMPDIR',
      a: view('a', plan.runs.a.layout.tmp),
      b: view('b', plan.runs.b.layout.tmp),
    },
    { label: '$HOME', a: view('a', homeOf('a')), b: view('b', homeOf('b')) },
    ...aboveRoots(
      workspace,
      { a: homeOf('a'), b: homeOf('b') },
      isolation.kind === 'namespaces',
    ).map((level) => ({
      label: level.label,
      a: view('a', level.a),
      b: view('b', level.b),
      skip: { a: level.skip.a.map((p) => view('a', p)), b: level.skip.b.map((p) => view('b', p)) },
    })),
    ...['/tmp', '/dev/shm']
      .map((dir) => ({ label: dir, a: view('a', dir), b: view('b', dir) }))
      .filter((place) => place.a !== place.b),
  ]
  const snapshot = await fillRoots(plan, roots, view, options.source, inputs)
  const stale = await removeStaleOutputs(roots, options.outputs, plan)
  const orderDiffers = await listingOrderDiffers({
    a: view('a', plan.runs.a.layout.dir),
    b: view('b', plan.runs.b.layout.dir),
  })
  // Outside the sandbox run B's libfaketime shares the machine's /dev/shm.
  if (isolation.kind === 'process') await sweepStaleFaketimeMemory()
  const [a, b] = await Promise.all([probeRun(contexts.a), probeRun(contexts.b)])
  const probes = { a, b }
  // Created in reverse order, a directory of one entry lists as it did: a source with
  // no directory of two entries or more has no order to vary.
  const judged = judgeEffectiveness(plan, probes, orderDiffers, hasSiblings(inputs.entries))
  refuseUnappliedExplicit(judged, options)
  const chains = {
    a: noteRootChain('A', workspace.base, plan.runs.a.layout.root, (p) => view('a', p)),
    b: noteRootChain('B', workspace.base, plan.runs.b.layout.root, (p) => view('b', p)),
  }
  // What run B is varied with, as judged: a message (a timeout's) names no variation the
  // probes found had no effect here.
  contexts.b = { ...contexts.b, variedWith: variedWith(judged, 'b') }
  return { isolation, plan, contexts, roots, staging, snapshot, judged, stale, chains }
}

/**
 * Artifacts the snapshot brought into the roots, which the build would then find up to
 * date and not make: the snapshot leaves out what an `--out` glob names, by the listed
 * names, but a glob through a link (`out/app` where `out` leads to `build`) takes
 * another name's file. Whatever the globs take in a root before the build runs is
 * removed from both roots, and named with the outputs left out of the snapshot.
 */
async function removeStaleOutputs(
  roots: { a: string; b: string },
  outputs: readonly string[],
  plan: RunPlan,
): Promise<string[]> {
  const stale = await findOutputs(roots.a, outputs, plan.runs.a.layout.root)
  for (const side of ['a', 'b'] as const)
    for (const name of stale) {
      // Where it is, links on its way resolved by reproof: the kernel would take a link
      // to an absolute path as the machine's own path of that name.
      const place = await locateInside(roots[side], name, plan.runs[side].layout.root)
      if (place !== undefined) await fs.rm(place.path, { force: true })
    }
  // Both roots held the same snapshot; run B's is checked too, rather than assumed.
  const left = await findOutputs(roots.b, outputs, plan.runs.b.layout.root)
  if (left.length > 0)
    throw new ReproofError(
      'E_ENVIRONMENT',
      `the build roots could not be cleared of outputs the source held: ${left.slice(0, 3).map(toDisplayText).join(', ')}`,
    )
  return stale
}

function sandboxOptions(
  workspace: Workspace,
  run: Pick<RunSetup, 'id' | 'hostname' | 'domainname' | 'firstPid'>,
  options: Pick<BuildOptions, 'network' | 'hide'>,
): SandboxOptions {
  return {
    base: workspace.base,
    dir: workspace.layouts[run.id].dir,
    hostname: run.hostname,
    domainname: run.domainname,
    network: options.network,
    firstPid: run.firstPid,
    hide: options.hide ?? [],
  }
}

/**
 * Each run's root filled: the source snapshot (in the run's creation order), then the
 * directories and files the plan gives each run. Returns the snapshot's size.
 */
async function fillRoots(
  plan: RunPlan,
  roots: { a: string; b: string },
  view: (id: 'a' | 'b', p: string) => string,
  source: string,
  inputs: { epoch: number; entries: readonly SourceEntry[] },
): Promise<{ files: number; bytes: number }> {
  let snapshot = { files: 0, bytes: 0 }
  for (const run of [plan.runs.a, plan.runs.b]) {
    // The build's directory, /tmp and /dev/shm are fresh tmpfs file systems of the run's own.
    for (const dir of [run.layout.dir, '/tmp', '/dev/shm'])
      useUpInodes(view(run.id, dir), run.inodeOffset)
    // Run B's snapshot is copied from run A's, not from the source again: a source that
    // changes meanwhile would give the two runs different inputs, and only run A's
    // snapshot is checked against the commit.
    const from = run.id === 'a' ? source : roots.a
    const stats = await snapshotSource(inputs.entries, from, roots[run.id], {
      epoch: inputs.epoch,
      order: run.creationOrder,
    })
    snapshot = { files: stats.files, bytes: stats.bytes }
    for (const dir of run.mkdirs) await fs.mkdir(view(run.id, dir), { recursive: true })
    for (const file of run.files)
      await fs.writeFile(view(run.id, file.path), file.content, { mode: 0o755 })
  }
  return snapshot
}

/**
 * The namespace sandbox when it can be had; otherwise process isolation, said so, or
 * exit 3 with --require-sandbox.
 */
function chooseIsolation(capabilities: Capabilities, options: BuildOptions): Isolation {
  if (capabilities.sandbox.available)
    return {
      kind: 'namespaces',
      network: options.network ? 'host' : 'none',
      // The host's network is one for both runs, loopback included: what run A stores
      // there (a remote build cache, a compile cache server of the host's) run B can
      // take, one after the other (--sequential) as well as together.
      notes: [
        options.network
          ? 'both runs share the host network, loopback included: run B can take what run A stored or serves there (a remote build cache, sccache, a build server), --sequential or not'
          : UNCOVERED_SOCKETS_NOTE,
        ...[
          sharedKeyringNote(),
          overlapNote(options.sequential),
          vsockNote(),
          aslrNote(capabilities),
        ].filter((note) => note !== undefined),
      ],
    }
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
    notes: [
      ...(options.network ? [] : ['the network could not be taken away without the sandbox']),
      // Both roots sit side by side in one workspace any process of the user can read:
      // a build that looks for its sibling's output (run B copying run A's) finds it.
      "the two runs can read each other's build roots and the rest of the host's files: a build that takes what the other run wrote (a shared cache, a sibling's output) reproduces it",
      ...[aslrNote(capabilities)].filter((note) => note !== undefined),
    ],
  }
}

function aslrNote(capabilities: Capabilities): string | undefined {
  return addressRandomizationNote(capabilities.addressRandomization ?? { kind: 'on' })
}

export function refuseUnappliedExplicit(
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

/** What a run is varied with, for messages ("path, time (+397d)"). */
function variedWith(variations: readonly VariationRecord[], id: 'a' | 'b'): string {
  return id === 'a'
    ? 'nothing (run A is the reference)'
    : variations
        .filter((v) => v.status === 'effective')
        .map((v) => (v.name === 'path' ? 'path' : `${v.name} (${v.b})`))
        .join(', ')
}

function toRunContext(
  setup: RunSetup,
  sandbox: RunSandbox | undefined,
  variations: readonly VariationRecord[],
  id: 'a' | 'b',
): RunContext {
  const varied = variedWith(variations, id)
  return {
    setup,
    enter: sandbox?.enter ?? [],
    cwd: sandbox === undefined ? setup.layout.root : undefined,
    ...(sandbox === undefined ? {} : { reap: () => sandbox.reap() }),
    variedWith: varied,
  }
}

/**
 * The directories above each run's root, up to its workspace, paired by how far up they
 * are (`..` with `..`): a build may stage there what it archives. Each leaves out what is
 * read apart (the directory below it toward the root, the root, $HOME, $TMPDIR, the
 * other run's directory, which outside the sandbox lies in the same workspace). Levels
 * only one run has (run B's root lies deeper) pair with nothing and are not read.
 */
export function aboveRoots(
  workspace: Pick<Workspace, 'base' | 'layouts'>,
  homes: { a: string; b: string },
  /** Whether each run has a private view of what lies above the workspace (the sandbox). */
  beyondWorkspace = false,
): { label: string; a: string; b: string; skip: { a: string[]; b: string[] } }[] {
  const levels = (id: 'a' | 'b'): { dir: string; skip: string[] }[] => {
    const { root, tmp } = workspace.layouts[id]
    // Outside the sandbox the workspace holds the other run's directory too.
    const other = workspace.layouts[id === 'a' ? 'b' : 'a'].dir
    const out: { dir: string; skip: string[] }[] = []
    const inside = (dir: string): boolean =>
      dir === workspace.base || dir.startsWith(`${workspace.base}/`)
    for (
      let below = root, dir = path.dirname(root);
      inside(dir);
      below = dir, dir = path.dirname(dir)
    ) {
      out.push({ dir, skip: [below, homes[id], tmp, other] })
      if (dir === workspace.base) break
    }
    return out
  }
  const [a, b] = [levels('a'), levels('b')]
  // Run B's root lies deeper: its top level (the workspace) pairs with what lies above
  // run A's workspace, where run A writes what run B writes in its own. In the sandbox
  // that is the run's private /tmp or /dev/shm (or a read-only place, where run A cannot
  // write); outside it, the machine's, which is not read.
  const privateInSandbox = (dir: string): boolean =>
    ['/tmp', '/dev/shm'].some((top) => dir === top || dir.startsWith(`${top}/`))
  if (beyondWorkspace)
    while (a.length < b.length) {
      const last = a.at(-1)
      const dir = last === undefined ? undefined : path.dirname(last.dir)
      if (last === undefined || dir === undefined || !privateInSandbox(dir)) break
      a.push({ dir, skip: [last.dir] })
    }
  return a.slice(0, b.length).map((level, i) => ({
    label: Array.from({ length: i + 1 }, () => '..').join('/'),
    a: level.dir,
    b: b[i]?.dir ?? level.dir,
    skip: { a: level.skip, b: b[i]?.skip ?? [] },
  }))
}
