import fs from 'node:fs/promises'
import path from 'node:path'
import { CONFIG_FILE, type BuildOptions, type EnvRequest } from '../config/build-options.js'
import { chooseEpoch } from '../config/epoch.js'
import { hashFiles } from '../digest/hash-file.js'
import { ReproofError, unreadable } from '../errors.js'
import { toDisplayText, toFsPath } from '../file-names.js'
import { findLockfiles } from '../attest/lockfiles.js'
import { toSourceInfo, type SourceInfo } from '../records/build-record.js'
import {
  commitOfRef,
  readGitSource,
  snapshotMatchesCommit,
  type GitSource,
} from '../sandbox/git.js'
import { listSourceEntries, looksBuilt, type SourceEntry } from '../sandbox/source-files.js'
import { firstFew } from '../first-few.js'

type CallerEnv = Readonly<Record<string, string | undefined>>

/**
 * The config shapes the build (variations it turns off, its environment) and is read
 * from the work tree: one the commit does not hold (untracked, or ignored) changes the
 * build as the commit does not say, so the tree is called dirty, and a warning says why.
 */
async function withStrayConfig(
  git: GitSource | undefined,
  source: string,
  warnings: string[],
): Promise<GitSource | undefined> {
  if (git === undefined || git.files.includes(CONFIG_FILE)) return git
  try {
    await fs.lstat(path.join(source, CONFIG_FILE))
  } catch {
    return git
  }
  warnings.push(
    `${CONFIG_FILE} is not in commit ${git.commit.slice(0, 12)} (untracked or ignored), yet it shaped the build: the record says the tree differs from the commit`,
  )
  return { ...git, dirty: true, uncommitted: true }
}

/**
 * The build's inputs, read and checked before anything is created: the source and its
 * git state, the epoch, the environment passed through, and the entries to snapshot.
 * What the caller should know about them goes into `warnings`.
 */
export async function readInputs(options: BuildOptions, callerEnv: CallerEnv, warnings: string[]) {
  await checkSourceDir(options.source)
  let git = await readGitSource(options.source)
  const epoch = chooseEpoch({
    flag: options.epochFlag,
    config: options.epochConfig,
    environment: callerEnv.SOURCE_DATE_EPOCH,
    gitCommitTime: git?.commitTime,
  })
  if (epoch.source === 'default') {
    warnings.push(
      'SOURCE_DATE_EPOCH defaults to 0: no --epoch, no SOURCE_DATE_EPOCH and no git commit to take it from',
    )
  }
  if (git?.dirty === true && git.missingSubmodules.length > 0)
    warnings.push(
      `submodules are not checked out (${firstFew(git.missingSubmodules, 5)}): the build had none of their files, so the record says the tree differs from commit ${git.commit.slice(0, 12)}; run git submodule update --init --recursive`,
    )
  if (git?.dirty === true && git.unmappedGitlinks.length > 0)
    warnings.push(
      `gitlinks that .gitmodules does not name (${firstFew(git.unmappedGitlinks, 5)}): commit ${git.commit.slice(0, 12)} holds only their commit ids, and the build had none of their files, so the record says the tree differs from the commit; add them as submodules (git submodule add) or commit their files`,
    )
  if (
    git?.dirty === true &&
    (git.uncommitted || (git.missingSubmodules.length === 0 && git.unmappedGitlinks.length === 0))
  )
    warnings.push(
      `the git work tree has uncommitted changes to tracked files (commit ${git.commit.slice(0, 12)})`,
    )
  git = await withStrayConfig(git, options.source, warnings)
  if (git?.unpushedRef !== undefined)
    warnings.push(
      `commit ${git.commit.slice(0, 12)} is not on origin's branch of ${git.unpushedRef} (not pushed, or not fetched since): the record names no branch for it`,
    )
  // `uri@commit` says the commit is in that repository: only when a remote-tracking ref
  // of origin holds it, or GitHub Actions says it built it from there (GITHUB_SHA).
  const fromActions = callerEnv.GITHUB_ACTIONS === 'true' && callerEnv.GITHUB_SHA === git?.commit
  if (git?.repository !== undefined && !git.onOrigin && !fromActions) {
    warnings.push(
      `commit ${git.commit.slice(0, 12)} is not known to be on origin (no remote-tracking ref of origin holds it: not pushed, or not fetched since): the record names no repository for it`,
    )
    git = { ...git, repository: undefined }
  }
  const ciRef = await checkedCiRef(options.source, git, callerEnv, warnings)
  const passThrough = resolvePassThrough(options.env, callerEnv)
  const { entries, excludedOutputs, excludedTracked, outputTracked } = listSourceEntries(
    options.source,
    {
      tracked: git?.files,
      exclude: options.exclude,
      outputs: options.outputs,
    },
  )
  // The build had none of them: it is not of the commit as it is, which a verifier's
  // --source-digest asks (a tracked file left out can change what is built).
  if (git !== undefined && excludedTracked.length > 0) {
    git.dirty = true
    warnings.push(
      `the exclude globs (--exclude, or exclude in reproof.config.json) leave out ${excludedTracked.length} tracked file(s) of commit ${git.commit.slice(0, 12)} (${firstFew(excludedTracked.map(toDisplayText), 5)}): the build had none of them, so the record says the tree differs from the commit`,
    )
  }
  // The same for outputs the commit holds: built afresh here, where a build of the
  // commit as it is may keep them (make finds them up to date) and ship what was committed.
  if (git !== undefined && outputTracked.length > 0) {
    git.dirty = true
    warnings.push(
      `--out matches ${outputTracked.length} tracked file(s) of commit ${git.commit.slice(0, 12)} (${firstFew(outputTracked.map(toDisplayText), 5)}): the build had none of them, where a build of the commit may ship them as they are, so the record says the tree differs from the commit; stop tracking them for a clean record`,
    )
  }
  if (git === undefined) {
    const built = looksBuilt(options.source, entries)
    if (built.length > 0) warnings.push(builtWarning(built))
  }
  return { git, epoch, passThrough, entries, excludedOutputs, ciRef }
}

/**
 * The ref the CI says it built (`$GITHUB_REF`), when it is the commit built: the ref
 * names that commit in the source's repository, or, not known there (a shallow
 * checkout), the CI's own commit (`$GITHUB_SHA`) is it. A workflow started by a tag that
 * checks out another commit would otherwise sign that tag as the source of what it built.
 */
async function checkedCiRef(
  source: string,
  git: GitSource | undefined,
  callerEnv: CallerEnv,
  warnings: string[],
): Promise<string | undefined> {
  const ref = callerEnv.GITHUB_REF
  // GitHub Actions' word only: outside it, GITHUB_REF is any caller's variable, and a
  // ref no repository holds (a local tag) was signed as the one built.
  if (ref === undefined || ref === '' || git === undefined) return undefined
  if (callerEnv.GITHUB_ACTIONS !== 'true') {
    warnings.push(
      'GITHUB_REF is set, but not in GitHub Actions (GITHUB_ACTIONS is not "true"): the record names no ref from it',
    )
    return undefined
  }
  const named = await commitOfRef(source, ref)
  if (named === git.commit || (named === undefined && callerEnv.GITHUB_SHA === git.commit))
    return ref
  warnings.push(
    `GITHUB_REF names ${ref}, which is ${named === undefined ? `not known here, and GITHUB_SHA is ${callerEnv.GITHUB_SHA ?? '(unset)'}` : `commit ${named.slice(0, 12)}`}, not the commit built (${git.commit.slice(0, 12)}): the record names no ref from it`,
  )
  return undefined
}

/** `--env NAME` takes the caller's value; a name the caller does not have is an error. */
export function resolvePassThrough(
  requests: readonly EnvRequest[],
  callerEnv: CallerEnv,
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
 * What the snapshot run A builds on holds, read before either build runs (a build may
 * rewrite its own lockfile): the digests of its lockfiles, and, for a work tree found
 * clean, whether it is the commit. The tree was checked, then copied, and a file changed
 * in between is in the snapshot and not in the commit: the record then says the tree had
 * uncommitted changes, as it did for the build, and a warning says why.
 */
export async function readSnapshot(
  source: string,
  git: GitSource | undefined,
  root: string,
  entries: readonly SourceEntry[],
  warnings: string[],
): Promise<{ lockfiles: { path: string; sha256: string }[] }> {
  const names = findLockfiles(entries)
  const digests = await hashFiles(names.map((n) => toFsPath(root, n)))
  const lockfiles = names.map((n, i) => ({ path: n, sha256: digests[i]?.sha256 ?? '' }))
  if (git !== undefined && !git.dirty) {
    const copied = new Set(entries.filter((e) => e.kind !== 'dir').map((e) => e.rel))
    if (!(await snapshotMatchesCommit(source, git.commit, root, copied))) {
      git.dirty = true
      warnings.push(
        `the work tree changed while it was copied: the snapshot built is not commit ${git.commit.slice(0, 12)}, so the record says the tree had uncommitted changes`,
      )
    }
  }
  return { lockfiles }
}

/**
 * What the record says of the source: where it came from (git state, the ref CI names),
 * the snapshot's size, and the digests of the lockfiles in it.
 */
export function describeSource(
  options: BuildOptions,
  git: GitSource | undefined,
  ciRef: string | undefined,
  snapshot: Parameters<typeof toSourceInfo>[3],
  lockfiles: { path: string; sha256: string }[],
): SourceInfo {
  return toSourceInfo(options.source, git, ciRef, snapshot, lockfiles)
}

// Beyond this many, the warning names the first ones and counts the rest.
const MAX_BUILT_NAMES = 10

/** What a snapshot of a tree that holds an earlier build's output means for a yes. */
function builtWarning(built: readonly string[]): string {
  return (
    `the source is not a git checkout, so all of it was snapshotted, and ${built.length} ` +
    `${built.length === 1 ? 'file looks' : 'files look'} like the output of an earlier build ` +
    `(${firstFew(built.map(toDisplayText), MAX_BUILT_NAMES)}): a build that finds such a file up to date uses it as it is, in ` +
    `both runs, so a yes does not cover how it was made; build from a clean tree or a git ` +
    `checkout (only tracked files are taken), or leave them out with --exclude`
  )
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
