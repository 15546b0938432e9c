import { appendAll } from '../append-all.js'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { neededPaths, realPath } from '../twin/hide-source.js'
import { runBuild } from '../twin/run-build.js'
import { parseEnvRequest, type BuildOptions } from '../config/build-options.js'
import { DEFAULT_VARIATIONS } from '../config/variations.js'
import { diffDirectories, toReport } from '../diff/diff-inputs.js'
import { DiffEngine } from '../diff/engine.js'
import { defaultHintContext } from '../diff/hints.js'
import { DEFAULT_LIMITS } from '../formats/limits.js'
import type { DiffItem } from '../diff/report.js'
import { BUILD_TYPE, PROVENANCE_TYPE } from '../attest/statement.js'
import { ReproofError } from '../errors.js'
import { isPlainRelativePath } from '../file-names.js'
import { GIT_OBJECTS_AS_THEY_ARE, OBJECTS_AS_THEY_ARE, objectFormat } from '../sandbox/git.js'
import { ledgerGitEnv } from '../io/git-env.js'
import { runCaptured } from '../sandbox/process.js'
import { setByReproof } from '../sandbox/run-plan.js'
import { listSourceEntries } from '../sandbox/source-files.js'
import { planHiding, type HidePlan } from '../sandbox/hide-paths.js'
import type { Check } from './reasons.js'
import { firstFew } from '../first-few.js'
import { ownedTempDir } from '../owned-temp.js'

export interface RebuildOptions {
  /** A local git repository that holds the recorded commit. */
  source: string
  /**
   * Variables of the verifier's environment the rebuild may pass on, by name
   * (--rebuild-env): the attested build's own caller-passed variables are never taken
   * from the verifier unasked, as the signer's command would read them.
   */
  passEnv?: readonly string[]
  /** The rebuild may reach the network, as the attested build did (--rebuild-network). */
  allowNetwork?: boolean
  /**
   * The rebuild may run without the sandbox where namespaces are refused
   * (--rebuild-without-sandbox): the signer's command then sees the verifier's machine,
   * its environment and network included.
   */
  allowNoSandbox?: boolean
  /** The artifacts given to verify, by path; compared with the rebuilt ones on mismatch. */
  artifacts: { path: string; sha256?: string; file?: false }[]
  /**
   * The bundle under verification, by path: hidden from the command with the artifacts,
   * as the signer may have put a copy of an artifact in it (a byproduct).
   */
  bundle?: string
  callerEnv: Readonly<Record<string, string | undefined>>
  /**
   * Told what will run before anything does: the signer's command, its environment and
   * the commit, which the verifier's machine is about to run (said again with a yes).
   */
  onRecipe?: (said: string) => void
  tempDir: string | undefined
  /** How long the rebuild (both runs) may take (--rebuild-timeout); past it, the answer is unknown. */
  timeoutMs?: number
  /** Aborted on Ctrl-C or SIGTERM: the rebuild's processes are stopped, its roots removed. */
  signal?: AbortSignal
}

interface Recipe {
  command: string[]
  commit: string
  /** The directory of the commit the build ran in, '' for its top. */
  subdirectory: string
  outputs: string[]
  exclude: string[]
  epoch: number
  env: { name: string; value?: string }[]
  normalize: boolean
  /** The original build reached the network (--network, or no sandbox to stop it). */
  network: boolean
  /** The provenance says the build's tree was not the commit's as it is. */
  dirty: boolean
  subjects: { name: string; sha256: string; sha512?: string }[]
}

/**
 * Rebuilds from the provenance, independently: the source at the recorded commit (taken
 * from a local repository, never fetched), the recorded command as a twin build with the
 * recorded epoch and environment, and the rebuilt digests compared with the subjects.
 */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * A variable of the attested environment as the yes says it: with its value, which
 * decides what the command builds as much as the command does (MAKEFLAGS can hold a
 * whole recipe); a value from the verifier's own environment by its name.
 */
function shownVariable(e: { name: string; value?: string }): string {
  if (e.value === undefined) return `${e.name} (yours)`
  // In full, however long: a value cut short hid what came after 200 spaces (a CC that
  // writes the artifact itself), and the yes vouched for a recipe it did not show.
  return `${e.name}=${JSON.stringify(e.value)}`
}

/** Whether reproof sets this variable for every run itself (--env refuses it). */
function managedByReproof(name: string): boolean {
  try {
    parseEnvRequest(name)
    return false
  } catch {
    return true
  }
}

/** The twin build the provenance describes, of the exported commit (pure). */
function toRebuildOptions(
  recipe: Recipe,
  tree: string,
  outDir: string,
  tempDir: string | undefined,
  allowNoSandbox: boolean,
  timeoutMs: number | undefined,
  hide: readonly string[],
): BuildOptions {
  return {
    source: tree,
    command: recipe.command,
    outputs: recipe.outputs,
    epochFlag: String(recipe.epoch),
    epochConfig: undefined,
    json: true,
    outDir,
    record: undefined,
    report: undefined,
    env: recipe.env.map((e) => (e.value === undefined ? { name: e.name } : { ...e })),
    timeoutMs,
    keep: false,
    sequential: false,
    variations: [...DEFAULT_VARIATIONS],
    explicitVariations: [],
    exclude: recipe.exclude,
    tempDir,
    normalize: recipe.normalize,
    normalizeBy: recipe.normalize ? '--normalize' : null,
    network: recipe.network,
    sandbox: true,
    // Without the sandbox the signer's command reads the verifier's environment through
    // /proc and reaches the network, whatever --rebuild-env and --rebuild-network said.
    requireSandbox: !allowNoSandbox,
    // The rebuild asks whether the artifact comes out again; why it might not is the builder's question.
    explain: false,
    // An output the attested globs no longer match is an artifact that did not come out
    // again: a no (rebuild-mismatch, each missing one found as null), not bad input to
    // a verifier who gave no --out.
    unmatchedOutputsAllowed: true,
    hide,
  }
}

export async function rebuildCheck(
  statement: unknown,
  options: RebuildOptions,
): Promise<{ check: Check; explanation?: DiffItem[] }> {
  const recipe = toRecipe(statement)
  refuseUnasked(recipe, options)
  // Absolute: git runs in the source repository, and would take a relative path from there.
  const tempDir = options.tempDir === undefined ? undefined : path.resolve(options.tempDir)
  const work = ownedTempDir(tempDir ?? os.tmpdir(), 'reproof-rebuild-')
  try {
    // A tree inside another repository's work tree would be built as part of it: its
    // snapshot (that repository's tracked files there) would be empty.
    const enclosing = await runCaptured(['git', 'rev-parse', '--show-toplevel'], {
      cwd: work,
      env: { ...process.env, ...GIT_OBJECTS_AS_THEY_ARE },
    })
    if (enclosing.code === 0)
      throw new ReproofError(
        'E_INPUT',
        `--temp-dir ${options.tempDir ?? os.tmpdir()}: inside the git work tree ${enclosing.stdout.trim()}, where the rebuild's tree would be read as part of that repository; choose a directory outside any repository`,
        { path: options.tempDir ?? os.tmpdir() },
      )
    const exported = path.join(work, 'source')
    const tracked = await exportCommit(options.source, recipe.commit, exported, work)
    const tree = path.join(exported, recipe.subdirectory)
    // Each part a directory of the commit, not a link: a committed `sub -> /elsewhere`
    // would have the rebuild build what is elsewhere and say it came from the commit.
    let at = exported
    for (const part of recipe.subdirectory === '' ? [] : recipe.subdirectory.split('/')) {
      at = path.join(at, part)
      if (!fs.lstatSync(at, { throwIfNoEntry: false })?.isDirectory())
        throw new ReproofError(
          'E_INPUT',
          `--rebuild: the recorded directory ${recipe.subdirectory} is not a directory of commit ${recipe.commit} (${path.relative(exported, at)} is not a directory there; a link is not followed)`,
        )
    }
    // The commit's files the attested outputs and exclusions match, which the build has
    // not: a build of the commit as it is has them (make finds a committed artifact up
    // to date; a committed hardening.mk is included). A provenance that says its tree
    // was the commit's while they match was not a build of the commit; one that says
    // otherwise is rebuilt so, and the yes names them.
    const left = leftOutOfCommit(tree, tracked, recipe)
    if (left.length > 0 && !recipe.dirty)
      throw new ReproofError(
        'E_INPUT',
        `--rebuild: the attested outputs and exclusions match ${left.length} file(s) of commit ${recipe.commit.slice(0, 12)} (${firstFew(left, 5)}), which its build then had not, yet the provenance says its tree was the commit's (dirty: false); it cannot be rebuilt as it says`,
      )
    const outDir = path.join(work, 'out')
    const hiding = planHiding(await hideInputs(options))
    const buildOptions = toRebuildOptions(
      recipe,
      tree,
      outDir,
      tempDir,
      options.allowNoSandbox === true,
      options.timeoutMs,
      hiding.hide,
    )
    options.onRecipe?.(
      `rebuilding commit ${recipe.commit.slice(0, 12)}${recipe.subdirectory === '' ? '' : ` in ${JSON.stringify(recipe.subdirectory)}`} twice, running the attested command ${JSON.stringify(recipe.command)}${
        recipe.env.length === 0 ? '' : ` with ${recipe.env.map(shownVariable).join(', ')}`
      }, for ${recipe.outputs.map((o) => JSON.stringify(o)).join(', ')}`,
    )
    const deps = {
      callerEnv: options.callerEnv,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    }
    const { result } = await runBuild(buildOptions, deps).catch((err: unknown) => {
      // Said in the rebuild's own words: the verifier gave no --require-sandbox.
      if (err instanceof ReproofError && err.message.startsWith('--require-sandbox: '))
        throw new ReproofError(
          'E_ENVIRONMENT',
          `--rebuild: ${err.message.slice('--require-sandbox: '.length)}; pass --rebuild-without-sandbox to rebuild without it (the attested command then sees your environment and network)`,
          {},
          { cause: err },
        )
      // The build's flags are the verifier's --rebuild-* flags here: said in its words,
      // with the command that ran (the signer's, which a failure must name as a yes does).
      if (err instanceof ReproofError)
        throw new ReproofError(
          err.code,
          `--rebuild: ${inRebuildWords(err.message)}${err.code === 'E_BUILD' ? ` (the attested command ${JSON.stringify(recipe.command)})` : ''}`,
          { ...err.context, ...rebuildHint(err) },
          { cause: err },
        )
      throw err
    })
    if (!result.reproducible) {
      return {
        check: {
          name: 'rebuild',
          ok: false,
          wanted: 'a reproducible rebuild',
          found: `${result.differences.length} artifact(s) differ between the two rebuild runs`,
          reason: 'not-reproduced',
        },
        explanation: result.differences.flatMap((d) => d.explanation ?? []),
      }
    }
    const rebuilt = new Map(result.artifacts.map((a) => [a.name, a.digest.sha256]))
    // Every digest the subject names must come out again: one whose SHA-256 is the
    // rebuilt file's and whose SHA-512 another file's (which verify matched it by) is
    // not rebuilt.
    const mismatches = recipe.subjects.filter(
      (s) =>
        rebuilt.get(s.name) !== s.sha256 ||
        (s.sha512 !== undefined && sha512Of(path.join(outDir, s.name)) !== s.sha512),
    )
    if (mismatches.length === 0) {
      return {
        check: {
          name: 'rebuild',
          ok: true,
          // What was run is the signer's word (the command, its environment), so it is
          // said with the yes. Where the sandbox could not be had here, the rebuild ran
          // as a plain process (with the host's network): said, as the attestation may
          // say otherwise. And what no sandbox here hides: the host's files, where a
          // hostile command could find the artifact itself.
          found: `${recipe.subjects.length} subject(s) rebuilt from ${recipe.commit.slice(0, 12)} with identical digests, running the attested command ${JSON.stringify(recipe.command)}${
            recipe.env.length === 0 ? '' : ` with ${recipe.env.map(shownVariable).join(', ')}`
          }${recipe.subdirectory === '' ? '' : ` in ${JSON.stringify(recipe.subdirectory)}`}${
            recipe.exclude.length === 0
              ? ''
              : `, leaving out ${recipe.exclude.map((e) => JSON.stringify(e)).join(', ')}`
          }${
            left.length === 0
              ? ''
              : `, without ${left.length} file(s) of the commit its outputs and exclusions match (${firstFew(left, 5)}), as the provenance says its build was (dirty)`
          }${
            // The attested build's tree was not the commit's: the artifact came out of the
            // commit too, but the commit is not all its build had.
            recipe.dirty && left.length === 0
              ? ", though the provenance says its build's tree differed from the commit (dirty)"
              : ''
          }${recipe.network ? ', the network allowed (--rebuild-network)' : ''}${
            // The digests compared are of the archives as normalized: the yes says so, as
            // the provenance does.
            recipe.normalize
              ? ', its archives normalized before they were compared, as the provenance records'
              : ''
          }${
            result.isolation.kind === 'process'
              ? `, without the sandbox (${result.isolation.reason}; the host's network reachable)`
              : ''
          }; ${hidingSaid(hiding, result.isolation.kind === 'namespaces')}${
            // What the sandbox could not take away here (a socket a daemon bound in
            // another namespace, a VM's sockets, the host's terminals): ways the
            // command could have reached outside, said with the yes.
            result.isolation.notes.length === 0
              ? ''
              : `; the sandbox could not cover: ${result.isolation.notes.join('; ')}`
          }${unusedSaid(recipe, options, result.isolation.kind === 'namespaces')}`,
        },
      }
    }
    return {
      check: {
        name: 'rebuild',
        ok: false,
        wanted: mismatches.map((m) => ({
          name: m.name,
          sha256: m.sha256,
          ...(m.sha512 === undefined ? {} : { sha512: m.sha512 }),
        })),
        found: mismatches.map((m) => ({
          name: m.name,
          sha256: rebuilt.get(m.name) ?? null,
          ...(m.sha512 === undefined
            ? {}
            : { sha512: sha512Of(path.join(outDir, m.name)) ?? null }),
        })),
        reason: 'rebuild-mismatch',
      },
      explanation: await explain(mismatches, options.artifacts, outDir, tempDir),
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

/** The commit's files below the build's directory that its outputs or exclusions match. */
function leftOutOfCommit(tree: string, tracked: readonly string[], recipe: Recipe): string[] {
  const below =
    recipe.subdirectory === ''
      ? tracked
      : tracked
          .filter((p) => p.startsWith(`${recipe.subdirectory}/`))
          .map((p) => p.slice(recipe.subdirectory.length + 1))
  const listing = listSourceEntries(tree, {
    tracked: below,
    exclude: recipe.exclude,
    outputs: recipe.outputs,
  })
  return [...listing.outputTracked, ...listing.excludedTracked].sort()
}

/** What differs between the attested artifact (given to verify) and the rebuilt one. */
async function explain(
  mismatches: { name: string; sha256: string }[],
  given: RebuildOptions['artifacts'],
  outDir: string,
  tempDir: string | undefined,
): Promise<DiffItem[]> {
  const items: DiffItem[] = []
  for (const m of mismatches) {
    // A subject given as a digest has no file to compare with.
    const original = given.find((a) => a.sha256 === m.sha256 && a.file !== false)
    const rebuilt = path.join(outDir, m.name)
    if (original === undefined || !fs.existsSync(rebuilt)) continue
    const work = ownedTempDir(tempDir ?? os.tmpdir(), 'reproof-explain-')
    try {
      // Two single-file trees, so that the items are named after the artifact.
      for (const [side, file] of [
        ['attested', original.path],
        ['rebuilt', rebuilt],
      ] as const) {
        fs.mkdirSync(path.dirname(path.join(work, side, m.name)), { recursive: true })
        fs.copyFileSync(file, path.join(work, side, m.name))
      }
      const engine = new DiffEngine({
        maxLines: 100,
        limits: DEFAULT_LIMITS,
        context: defaultHintContext([[], []], Math.floor(Date.now() / 1000)),
      })
      await diffDirectories(engine, path.join(work, 'attested'), path.join(work, 'rebuilt'), [
        m.name,
      ])
      appendAll(items, toReport(engine, ['attested', 'rebuilt']).items)
    } catch (err) {
      // The answer (a mismatch) is decided by the digests; a file the comparison will not
      // open (past a work limit: a bomb, a million members) is said in the explanation,
      // never made the answer (it was exit 2, as if the verifier's input were wrong).
      if (err instanceof ReproofError && err.code === 'E_INTERRUPTED') throw err
      items.push({
        path: m.name,
        kind: 'error',
        message: `not explained: ${unexplained(err, work)}`,
        hints: [],
      })
    } finally {
      fs.rmSync(work, { recursive: true, force: true })
    }
  }
  return items
}

/** Why a comparison stopped, its temporary paths as the sides' names, no flag to raise. */
function unexplained(err: unknown, work: string): string {
  const message = err instanceof Error ? err.message : String(err)
  return message
    .replaceAll(`${work}/`, '')
    .replace(/ \(raise (?:the limit|it) with --[a-z-]+\)$/, '')
}

/**
 * The permissions given for the rebuild that it did not use, said with the yes: what was
 * allowed and what ran are told apart (a `--rebuild-network` given is no rebuild that
 * reached the network). Empty when every one was used.
 */
function unusedSaid(recipe: Recipe, options: RebuildOptions, sandboxed: boolean): string {
  const taken = new Set(recipe.env.filter((e) => e.value === undefined).map((e) => e.name))
  const unused = [
    ...(options.allowNetwork === true && !recipe.network
      ? ['--rebuild-network (the attested build did not reach the network)']
      : []),
    ...(options.passEnv ?? [])
      .filter((name) => !taken.has(name))
      .map((name) => `--rebuild-env ${name} (the attested build did not take it from its caller)`),
    ...(options.allowNoSandbox === true && sandboxed
      ? ['--rebuild-without-sandbox (the sandbox was available, and the rebuild ran in it)']
      : []),
  ]
  return unused.length === 0 ? '' : `; given and not used: ${unused.join(', ')}`
}

/**
 * What the attested build took that the verifier must give on purpose: variables from
 * its caller's environment (the verifier's would be read by the signer's command: a
 * token, a key) and the network. Refused before anything runs, naming the flag.
 */
function refuseUnasked(recipe: Recipe, options: RebuildOptions): void {
  const passed = new Set(options.passEnv ?? [])
  const unasked = recipe.env.filter((e) => e.value === undefined && !passed.has(e.name))
  if (unasked.length > 0)
    throw new ReproofError(
      'E_USAGE',
      `--rebuild: the attested build took ${unasked.map((e) => e.name).join(', ')} from its caller's environment; give each with --rebuild-env NAME to pass yours on (the attested command will read it)`,
    )
  if (recipe.network && options.allowNetwork !== true)
    throw new ReproofError(
      'E_USAGE',
      '--rebuild: the attested build reached the network; pass --rebuild-network to let the rebuild do so too',
    )
}

function toRecipe(statement: unknown): Recipe {
  const bad = (what: string): ReproofError =>
    new ReproofError(
      'E_INPUT',
      `--rebuild: the provenance does not say ${what}; it cannot be rebuilt`,
    )
  const s = statement as {
    subject?: { name?: unknown; digest?: { sha256?: unknown; sha512?: unknown } }[]
    predicateType?: unknown
    predicate?: {
      buildDefinition?: {
        buildType?: unknown
        externalParameters?: Record<string, unknown>
        internalParameters?: Record<string, unknown>
      }
    }
  }
  // Only reproof's own provenance says how to rebuild, in the fields read below; and
  // only as SLSA provenance are they the fields the policy checked (the source commit
  // against a certificate's, above all). Another predicate's look-alike fields were
  // rebuilt from unchecked.
  const definition = s.predicate?.buildDefinition
  if (s.predicateType !== PROVENANCE_TYPE || definition?.buildType !== BUILD_TYPE)
    throw new ReproofError(
      'E_INPUT',
      `--rebuild: only reproof's own provenance (predicate type ${PROVENANCE_TYPE}, build type ${BUILD_TYPE}) says how to rebuild; this statement is not one`,
    )
  const external = definition.externalParameters ?? {}
  const internal = definition.internalParameters ?? {}
  const command = external.command
  if (
    !Array.isArray(command) ||
    command.length === 0 ||
    !command.every((c) => typeof c === 'string')
  )
    throw bad('the command')
  const source = (external.source ?? {}) as { commit?: unknown; subdirectory?: unknown }
  // A build outside any git work tree names no commit: nothing to check out.
  if (source.commit === undefined || source.commit === null)
    throw new ReproofError(
      'E_INPUT',
      '--rebuild: the provenance names no source commit (the attested build ran outside a git work tree), so there is nothing to check out; only a build of a commit can be rebuilt',
    )
  if (typeof source.commit !== 'string' || !/^[0-9a-f]{40,64}$/.test(source.commit))
    throw bad('the source commit')
  // A directory inside the commit, as git names it: never out of it.
  const subdirectory = source.subdirectory ?? ''
  if (
    typeof subdirectory !== 'string' ||
    subdirectory.startsWith('/') ||
    subdirectory.includes('\0') ||
    subdirectory
      .split('/')
      .some((part) => part === '..' || part === '.' || (part === '' && subdirectory !== ''))
  )
    throw bad('a directory inside the commit')
  const outputs = external.outputs
  if (
    !Array.isArray(outputs) ||
    outputs.length === 0 ||
    !outputs.every((o) => typeof o === 'string')
  )
    throw bad('the outputs')
  // Absent is none; anything else must be what a build writes: a list of globs. A string
  // read as "no exclusion" rebuilt more than was attested, silently.
  const exclude = external.exclude ?? []
  if (!Array.isArray(exclude) || !exclude.every((o) => typeof o === 'string'))
    throw bad('what it excluded from the outputs')
  const epoch = (internal.epoch ?? {}) as { value?: unknown }
  if (typeof epoch.value !== 'number') throw bad('the epoch')
  // Absent is none; anything else is a list of entries, each a name, where it came from
  // and, unless the caller's own was passed through, its value as a string. Read
  // leniently, a number for a value passed the verifier's own variable of that name.
  const environment = internal.environment ?? []
  if (
    !Array.isArray(environment) ||
    !environment.every(
      (e: unknown) =>
        typeof e === 'object' &&
        e !== null &&
        typeof (e as { name?: unknown }).name === 'string' &&
        typeof (e as { from?: unknown }).from === 'string' &&
        ['string', 'undefined'].includes(typeof (e as { value?: unknown }).value),
    )
  )
    throw bad('the environment')
  // reproof sets HOME, TMPDIR, SOURCE_DATE_EPOCH, TZ, LANG, LC_ALL and PATH itself; only
  // what was passed comes back. An entry of any other origin, or one said to be
  // reproof's that reproof does not set (`CFLAGS` "from reproof"), was passed over, and
  // the yes vouched for a rebuild without it.
  const unknown = (environment as { name: string; value?: string; from: string }[]).find(
    (e) =>
      !['flag', 'config', 'caller', 'reproof'].includes(e.from) ||
      (e.from === 'reproof' && !setByReproof(e.name, e.value)),
  )
  if (unknown !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `--rebuild: the provenance's environment holds ${unknown.name} from ${JSON.stringify(unknown.from)}, which no build of reproof's records (${unknown.from === 'reproof' ? 'reproof sets no such variable, or not to that value' : 'no such origin'}); it cannot be rebuilt as it says`,
    )
  const env = (environment as { name: string; value?: string; from: string }[])
    .filter((e) => e.from === 'flag' || e.from === 'config' || e.from === 'caller')
    .map((e) => (e.value === undefined ? { name: e.name } : { name: e.name, value: e.value }))
  // A name is a name: "LD_PRELOAD=x" must not become a variable and its value. And none
  // that reproof sets itself (HOME, LD_PRELOAD, SOURCE_DATE_EPOCH...): refused for --env,
  // refused from a statement.
  if (!env.every((e) => ENV_NAME.test(e.name) && !managedByReproof(e.name)))
    throw bad('the environment')
  // Never a yes about nothing: the check compares the subjects, and there must be one.
  const subjects = (Array.isArray(s.subject) ? s.subject : []).map((x) => ({
    name: String(x.name),
    sha256: typeof x.digest?.sha256 === 'string' ? x.digest.sha256 : '',
    ...(typeof x.digest?.sha512 === 'string' ? { sha512: x.digest.sha512 } : {}),
  }))
  if (subjects.length === 0) throw bad('what it attests (it has no subject)')
  // A subject is a file the build wrote into its output directory: its name is read
  // and copied there, so one that leaves it (`../../home/me/.ssh/authorized_keys`) is
  // refused before anything runs.
  const outside = subjects.find((x) => !isPlainRelativePath(x.name))
  if (outside !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `--rebuild: the subject ${JSON.stringify(outside.name)} is not a path inside the build's output directory; it cannot be rebuilt`,
    )
  return {
    command: command,
    commit: source.commit,
    subdirectory,
    outputs: outputs,
    exclude,
    epoch: epoch.value,
    env,
    normalize:
      external.normalize === true ||
      (typeof internal.normalization === 'object' && internal.normalization !== null),
    network:
      typeof internal.isolation === 'object' &&
      internal.isolation !== null &&
      (internal.isolation as { network?: unknown }).network === 'host',
    subjects,
    dirty: internal.dirty === true,
  }
}

/**
 * The real paths to hide from the rebuild: the artifacts and their directories, the
 * source repository's work tree and the working directory; and what the build may need.
 */
async function hideInputs(options: RebuildOptions) {
  const given = [
    ...options.artifacts.filter((a) => a.file !== false).map((a) => path.resolve(a.path)),
    ...(options.bundle === undefined ? [] : [path.resolve(options.bundle)]),
  ]
  const files = given.flatMap(realPath)
  // The repository whole: its work tree, and its git directories wherever they are (a
  // linked worktree's common directory, a separate git dir, the object stores its
  // alternates borrow), whose objects hold every other commit's files.
  const where = await runCaptured(
    [
      'git',
      '-C',
      options.source,
      'rev-parse',
      '--path-format=absolute',
      '--show-toplevel',
      '--git-dir',
      '--git-common-dir',
      '--git-path',
      'objects',
    ],
    { env: { ...process.env, ...GIT_OBJECTS_AS_THEY_ARE } },
  )
  const gitPaths =
    where.code === 0 ? where.stdout.split('\n').filter((line) => line !== '') : [options.source]
  const objects = where.code === 0 ? gitPaths.at(-1) : undefined
  const dirs = [
    ...files.map((f) => path.dirname(f)),
    ...given.flatMap((p) => realPath(path.dirname(p))),
    ...[options.source, ...gitPaths, ...alternatesOf(objects), process.cwd()].flatMap(realPath),
  ]
  return { files, dirs, needed: neededPaths(options.callerEnv) }
}

/** The object stores an object store borrows from (objects/info/alternates), one level. */
function alternatesOf(objects: string | undefined): string[] {
  if (objects === undefined) return []
  let text: string
  try {
    text = fs.readFileSync(path.join(objects, 'info', 'alternates'), 'utf8')
  } catch {
    return []
  }
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => path.resolve(objects, line))
}

/** What the command could read, for the yes: what was hidden from it, and what was not. */
function hidingSaid(hiding: HidePlan, sandboxed: boolean): string {
  if (!sandboxed)
    return "without the sandbox nothing was hidden from the command: it could read the host's files, the artifacts under verification among them (a copy of an artifact would pass)"
  const visible = [...hiding.visible, ...hiding.unhidden].map((v) => `${v.path} (${v.why})`)
  return [
    ...(hiding.hide.length > 0 ? [`hidden from the command: ${hiding.hide.join(', ')}`] : []),
    ...(visible.length > 0 ? [`left visible: ${visible.join(', ')}`] : []),
    "it could read the host's other files outside /tmp (a copy of an artifact elsewhere would pass)",
  ].join('; ')
}

function sha512Of(file: string): string | undefined {
  if (!fs.lstatSync(file, { throwIfNoEntry: false })?.isFile()) return undefined
  const hash = crypto.createHash('sha512')
  const fd = fs.openSync(file, 'r')
  try {
    const chunk = Buffer.allocUnsafe(1024 * 1024)
    for (let n; (n = fs.readSync(fd, chunk)) > 0;) hash.update(chunk.subarray(0, n))
  } finally {
    fs.closeSync(fd)
  }
  return hash.digest('hex')
}

/**
 * The tracked files at the commit, from the local repository, as a checkout of it gives
 * them: read into an index of our own and checked out from there, with no fetch and
 * nothing of the repository's own index, work tree or refs touched.
 *
 * Not `git archive`: it obeys the commit's own `export-ignore` and `export-subst`, so a
 * commit could leave a file out of the rebuild (and a VPATH build then find another in
 * its place) or rewrite one, and be rebuilt "identical" from a tree no checkout has.
 */
async function exportCommit(
  repository: string,
  commit: string,
  into: string,
  scratch: string,
): Promise<string[]> {
  // The commit's own tree: no replace refs or grafts of the repository given (a
  // repository's core.useReplaceRefs outranks the environment; the command line wins).
  const env = { ...ledgerGitEnv(process.env), ...GIT_OBJECTS_AS_THEY_ARE }
  const git = (args: string[], extra: Record<string, string> = {}) =>
    runCaptured(['git', ...OBJECTS_AS_THEY_ARE, '-C', repository, ...args], {
      timeoutMs: 600_000,
      env: { ...env, ...extra },
    })
  // The recorded name must be the commit's full id in this repository's hash: a string
  // of hex digits that is not would be looked up as a ref (a tag named like a hash,
  // which can be moved), and the rebuild would build whatever it points at.
  const format = await objectFormat(repository, true)
  // Said as it is: "the commit is not in this repository" sent people fetching into a
  // directory that does not exist, or into one that is no repository at all.
  if (format === undefined) {
    const kind = fs.statSync(repository, { throwIfNoEntry: false })
    throw new ReproofError(
      'E_INPUT',
      `--source ${repository}: ${kind === undefined ? 'no such directory' : kind.isDirectory() ? 'not a git repository' : 'not a directory'}`,
      { path: repository },
    )
  }
  const length = format === 'sha256' ? 64 : 40
  const resolved = await git([
    'rev-parse',
    '--verify',
    '--quiet',
    '--end-of-options',
    `${commit}^{commit}`,
  ])
  if (resolved.code !== 0 || commit.length !== length || resolved.stdout.trim() !== commit) {
    const why =
      resolved.code !== 0
        ? 'is not in this repository; fetch it first'
        : `is not a full ${format === 'sha256' ? 'SHA-256' : 'SHA-1'} commit id of this repository (it names ${resolved.stdout.trim()})`
    throw new ReproofError(
      'E_INPUT',
      `--source ${repository}: the recorded commit ${commit} ${why}`,
      {
        path: repository,
      },
    )
  }
  // A submodule is a commit of another repository, which this one does not hold: the
  // files the attested build had there would be missing, and the rebuild fail on that.
  const tree = await git(['ls-tree', '-r', '-z', '--full-tree', '--end-of-options', commit])
  const submodules = tree.stdout
    .split('\0')
    .filter((entry) => entry.startsWith('160000 '))
    .map((entry) => entry.slice(entry.indexOf('\t') + 1))
  if (submodules.length > 0)
    throw new ReproofError(
      'E_ENVIRONMENT',
      `--rebuild: the recorded commit ${commit.slice(0, 12)} holds submodules (${firstFew(submodules, 5)}), whose files a rebuild does not check out: it cannot be rebuilt from ${repository}`,
      { path: repository },
    )
  fs.mkdirSync(into, { recursive: true })
  // The checkout as git makes it on any machine, from the commit's own .gitattributes
  // alone: in a repository of its own that borrows the source's objects, so that the
  // source's config (a `filter.*.smudge`, which runs a program), its info/attributes,
  // its replace refs and its promisor remote (a partial clone would fetch) play no part,
  // nor do the verifier's global and system settings; no line-ending conversion, and
  // symlinks as symlinks.
  const gitDir = path.join(scratch, 'rebuild.git')
  const bare = {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ATTR_NOSYSTEM: '1',
  }
  const init = await runCaptured(
    ['git', 'init', '-q', '--bare', `--object-format=${format}`, gitDir],
    { timeoutMs: 60_000, env: bare },
  )
  if (init.code !== 0)
    throw new ReproofError('E_ENVIRONMENT', `git init failed: ${init.stderr.trim()}`)
  // The commit and its tree are copied in as a pack, which index-pack names by what each
  // object hashes to: git reads a loose object without hashing it, and a repository
  // whose blob was replaced in place would otherwise check out the replacement as the
  // commit's file. A replaced object is then missing under its name, and the checkout fails.
  const listed = await git([
    'rev-list',
    '--objects',
    '--no-object-names',
    '--no-walk',
    '--end-of-options',
    commit,
  ])
  if (listed.code !== 0)
    throw new ReproofError('E_ENVIRONMENT', `git rev-list failed: ${listed.stderr.trim()}`)
  const ids = path.join(scratch, 'rebuild-objects')
  fs.writeFileSync(ids, listed.stdout)
  const copied = await runCaptured(
    [
      '/bin/sh',
      '-c',
      'git "$@" pack-objects --stdout < "$REPROOF_IDS" | GIT_DIR="$REPROOF_INTO" git index-pack --stdin',
      'reproof-copy',
      ...OBJECTS_AS_THEY_ARE,
      '-C',
      repository,
    ],
    {
      timeoutMs: 600_000,
      env: { ...env, REPROOF_IDS: ids, REPROOF_INTO: gitDir },
      maxBytes: 1024 * 1024,
    },
  )
  fs.rmSync(ids, { force: true })
  if (copied.code !== 0)
    throw new ReproofError(
      'E_ENVIRONMENT',
      `copying ${commit.slice(0, 12)}'s files out of ${repository} failed: ${copied.stderr.trim()}`,
    )
  const own = (args: string[]) =>
    runCaptured(
      [
        'git',
        ...OBJECTS_AS_THEY_ARE,
        '-c',
        'core.autocrlf=false',
        '-c',
        'core.symlinks=true',
        ...args,
      ],
      {
        timeoutMs: 600_000,
        env: { ...bare, GIT_DIR: gitDir, GIT_INDEX_FILE: path.join(scratch, 'rebuild-index') },
      },
    )
  try {
    for (const [step, args] of [
      ['reading the tree of', ['read-tree', '--end-of-options', commit]],
      ['checking out', ['--work-tree', into, 'checkout-index', '--all', '--force']],
    ] as const) {
      const done = await own([...args])
      if (done.code === 0) continue
      // An object missing from the copy: one the repository holds under a name its
      // bytes do not hash to.
      const missing = /unable to read|not a valid|bad object|missing|invalid object/i.test(
        done.stderr,
      )
      throw missing
        ? new ReproofError(
            'E_INPUT',
            `--source ${repository}: ${step} ${commit} failed: an object of the commit does not hash to its name in this repository (corrupt, or replaced): ${done.stderr.trim()}`,
            { path: repository },
          )
        : new ReproofError('E_ENVIRONMENT', `${step} ${commit} failed: ${done.stderr.trim()}`)
    }
  } finally {
    fs.rmSync(path.join(scratch, 'rebuild-index'), { force: true })
    fs.rmSync(gitDir, { recursive: true, force: true })
  }
  // The commit's files, as its tree lists them (what the checkout holds).
  return tree.stdout
    .split('\0')
    .filter((entry) => entry !== '' && !entry.startsWith('040000 '))
    .map((entry) => entry.slice(entry.indexOf('\t') + 1))
}

/** A build's message as the verifier reads it: `--env` is its `--rebuild-env`, and so on. */
export function inRebuildWords(text: string): string {
  return text.replace(/(?<![\w-])--(env|network|timeout)\b/g, '--rebuild-$1')
}

/** The build's hint in the verifier's words, or one of its own where the flags differ. */
function rebuildHint(err: ReproofError): { hint?: string } {
  const { hint } = err.context
  if (err.code === 'E_AMBIGUOUS') return { hint: 'give it more time with --rebuild-timeout' }
  if (hint === undefined) return {}
  // --rebuild-env takes a name only: the value is the verifier's own.
  if (hint.includes('=VALUE')) return { hint: 'set it in your environment, then verify again' }
  return { hint: inRebuildWords(hint) }
}
