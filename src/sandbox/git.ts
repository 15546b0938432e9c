import fsp from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { ReproofError } from '../errors.js'
import { fromNameBytes } from '../file-names.js'
import { runCaptured } from './process.js'

export interface GitSource {
  /** The top of the work tree, which may be above the source dir. */
  topLevel: string
  commit: string
  commitTime: number
  dirty: boolean
  /** `origin`'s URL when there is one, credentials removed. */
  repository: string | undefined
  /** The branch checked out (`refs/heads/...`), when HEAD is not detached. */
  ref: string | undefined
  /** Tracked paths below the source dir, relative to it, in the name form (exact bytes). */
  files: string[]
  /** The source dir below the top of the work tree (`app/web`), '' at the top. */
  subdirectory: string
}

/**
 * Git with no replace refs and no grafts: a commit id then names its own tree, whatever
 * a repository (a cache, a shared checkout) has planted in refs/replace or info/grafts.
 * The graft file is pointed at a path that cannot exist.
 */
export const GIT_OBJECTS_AS_THEY_ARE = {
  GIT_NO_REPLACE_OBJECTS: '1',
  GIT_GRAFT_FILE: '/nonexistent/reproof-reads-no-grafts',
} as const

// Plain git, as the user has configured it, minus anything that could make output
// differ between machines (pagers, colours, translations), and with the objects as they
// are: replace refs and grafts would let a commit id name another tree than its own.
export const GIT_ENV = {
  ...process.env,
  GIT_PAGER: 'cat',
  LC_ALL: 'C',
  GIT_OPTIONAL_LOCKS: '0',
  ...GIT_OBJECTS_AS_THEY_ARE,
}

async function git(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv = GIT_ENV,
): Promise<string | undefined> {
  const result = await runCaptured(['git', ...args], { cwd, env, timeoutMs: 60_000 })
  return result.code === 0 ? result.stdout : undefined
}

/**
 * Whether every tracked file below `dir` holds what HEAD holds, by content, in this
 * repository and in every submodule below it. `git status` trusts an index entry whose
 * size and times still match the file, so a file rewritten and given its old time back
 * reads as clean there; compared against an index freshly read from HEAD, which has no
 * stat data to trust, git hashes each file (through the repository's own filters).
 * False when git could not answer.
 */
export async function workTreeMatchesHead(dir: string): Promise<boolean> {
  const scratch = await fsp.mkdtemp(path.join(os.tmpdir(), 'reproof-git-index-'))
  try {
    const env = { ...GIT_ENV, GIT_INDEX_FILE: path.join(scratch, 'index') }
    if ((await git(dir, ['read-tree', 'HEAD'], env)) === undefined) return false
    const same = await runCaptured(
      [
        'git',
        '-c',
        'core.fsmonitor=false',
        '-c',
        'core.fileMode=true',
        'diff',
        '--quiet',
        '--no-ext-diff',
        '--no-textconv',
        '--ignore-submodules=none',
        '--',
        '.',
      ],
      { cwd: dir, env, timeoutMs: 600_000 },
    )
    if (same.code !== 0) return false
    // git asks a submodule for its own status, which trusts stat data in the same way.
    const links = await git(dir, ['-c', 'core.quotePath=true', 'ls-tree', '-r', 'HEAD', '--', '.'])
    if (links === undefined) return false
    for (const line of links.split('\n')) {
      const match = /^160000 commit [0-9a-f]+\t(.*)$/.exec(line)
      if (match?.[1] === undefined) continue
      // A quoted name holds bytes that are not printable ASCII: not followed, not clean.
      if (match[1].startsWith('"')) return false
      const sub = path.join(dir, match[1])
      // A submodule never checked out has no work tree of its own (git would answer for
      // the repository above it), and the snapshot takes none of its files.
      const checkedOut = await fsp.lstat(path.join(sub, '.git')).then(
        () => true,
        () => false,
      )
      if (!checkedOut) continue
      const top = (await git(sub, ['rev-parse', '--show-toplevel']))?.trim()
      if (top === undefined || top !== (await fsp.realpath(sub))) return false
      if (!(await workTreeMatchesHead(sub))) return false
    }
    return true
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true })
  }
}

/** Describes the git work tree that holds `sourceDir`, or returns undefined if there is none. */
export async function readGitSource(sourceDir: string): Promise<GitSource | undefined> {
  const inside = await git(sourceDir, ['rev-parse', '--is-inside-work-tree'])
  if (inside?.trim() !== 'true') return undefined
  const topLevel = (await git(sourceDir, ['rev-parse', '--show-toplevel']))?.trim()
  const head = (await git(sourceDir, ['log', '-1', '--format=%H %ct']))?.trim()
  if (topLevel === undefined || head === undefined || head === '') {
    throw new ReproofError(
      'E_INPUT',
      `${sourceDir}: a git work tree without a commit; commit first or build outside git`,
      {
        path: sourceDir,
      },
    )
  }
  const [commit = '', time = ''] = head.split(' ')
  // Quoted, not -z: git then writes every byte that is not printable ASCII as an octal
  // escape, so names that are not UTF-8 come through a text pipe intact.
  const listing = await git(sourceDir, [
    '-c',
    'core.quotePath=true',
    'ls-files',
    '--cached',
    '--full-name',
    '--recurse-submodules',
    '.',
  ])
  // fsmonitor off: a monitor that missed a change would make status call it clean.
  // fileMode on: the snapshot takes each file's exec bit from the work tree, so a bit
  // changed there is a change, whatever the repository's setting hides.
  const status = await git(sourceDir, [
    '-c',
    'core.fsmonitor=false',
    '-c',
    'core.fileMode=true',
    'status',
    '--porcelain',
    '--untracked-files=no',
    '--ignore-submodules=none',
    '.',
  ])
  if (listing === undefined || status === undefined) {
    throw new ReproofError('E_ENVIRONMENT', `${sourceDir}: git could not list the tracked files`, {
      path: sourceDir,
    })
  }
  // Files marked assume-unchanged (a lowercase tag) or skip-worktree (`S`): status does
  // not look at them, yet the snapshot takes them as the work tree holds them.
  // In submodules too, whose files the snapshot takes.
  const tags = await git(sourceDir, ['ls-files', '-v', '--recurse-submodules', '.'])
  const hidden = (tags ?? '').split('\n').some((line) => /^([a-z]|S) /.test(line))
  const prefix = (await git(sourceDir, ['rev-parse', '--show-prefix']))?.trim() ?? ''
  const files = parseQuotedPaths(listing)
    .filter((f) => f.startsWith(prefix))
    .map((f) => f.slice(prefix.length))
  const remote = (await git(sourceDir, ['remote', 'get-url', 'origin']))?.trim()
  const ref = (await git(sourceDir, ['symbolic-ref', '-q', 'HEAD']))?.trim()
  return {
    topLevel,
    commit,
    commitTime: Number(time),
    dirty:
      status.trim() !== '' ||
      hidden ||
      tags === undefined ||
      !(await workTreeMatchesHead(sourceDir)),
    repository: remote === undefined || remote === '' ? undefined : stripCredentials(remote),
    ref: ref === undefined || ref === '' ? undefined : ref,
    files: [...new Set(files)],
    subdirectory: prefix.replace(/\/+$/, ''),
  }
}

const C_ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13 }

/**
 * Paths as git lists them, one a line, with core.quotePath: a path holding anything but
 * printable ASCII is written in double quotes with C escapes (`\\`, `\"`, `\n`, `\377`).
 * Returned in the name form, each with its exact bytes.
 */
export function parseQuotedPaths(listing: string): string[] {
  return listing
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (line.startsWith('"') ? fromNameBytes(unquoteC(line)) : line))
}

function unquoteC(quoted: string): Buffer {
  const bytes: number[] = []
  const body = quoted.slice(1, quoted.endsWith('"') ? -1 : undefined)
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] ?? ''
    if (ch !== '\\') {
      bytes.push(...Buffer.from(ch, 'utf8'))
      continue
    }
    const next = body[++i] ?? ''
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(body.slice(i, i + 3), 8) & 0xff)
      i += 2
    } else {
      bytes.push(C_ESCAPES[next] ?? next.charCodeAt(0))
    }
  }
  return Buffer.from(bytes)
}

/** `https://user:token@host/x` must never reach a build record or an attestation. */
export function stripCredentials(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.username !== '' || parsed.password !== '') {
      parsed.username = ''
      parsed.password = ''
    }
    // A token can ride in the query too (`?private_token=`); a repository needs neither.
    parsed.search = ''
    parsed.hash = ''
    return parsed.toString()
  } catch {
    // Not a URL Node parses (`https://user:token@host:99999/x`, a port out of range): what
    // stands before the last `@` of its authority is cut as a URL parser would read it,
    // and so is a query. An scp-like `git@host:path` keeps its user, which is no secret.
    const scheme = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/i.exec(url)
    if (scheme === null) return url
    const [, prefix = '', authority = '', rest = ''] = scheme
    const host = authority.slice(authority.lastIndexOf('@') + 1)
    return `${prefix}${host}${rest.replace(/[?#].*$/s, '')}`
  }
}
