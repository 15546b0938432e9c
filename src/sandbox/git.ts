import crypto from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { ReproofError } from '../errors.js'
import { ledgerGitEnv } from '../io/git-env.js'
import { fromNameBytes, toFsPath, toNameBytes } from '../file-names.js'
import { runCaptured } from './process.js'

export interface GitSource {
  /** The top of the work tree, which may be above the source dir. */
  topLevel: string
  /**
   * The other places of the repository a build could read what its commit does not
   * hold: its git directories (a linked work tree's own and the one it shares), the main
   * work tree of a linked one, a submodule's superproject. Absolute; some may be inside
   * `topLevel`.
   */
  related: string[]
  commit: string
  commitTime: number
  dirty: boolean
  /** `origin`'s URL when there is one, credentials removed. */
  repository: string | undefined
  /**
   * The branch checked out (`refs/heads/...`), when HEAD is not detached and the branch's
   * upstream holds HEAD: a ref is read beside origin's URL as "this commit of that
   * repository's branch", which a commit not pushed is not.
   */
  ref: string | undefined
  /**
   * The branch checked out, when its upstream does not hold HEAD (none, or not pushed):
   * for the warning only. Kept apart from `ref` rather than as a flag beside it, so that
   * what reads `ref` into a record can only ever find one it may claim.
   */
  unpushedRef?: string
  /** Tracked paths below the source dir, relative to it, in the name form (exact bytes). */
  files: string[]
  /** The source dir below the top of the work tree (`app/web`), '' at the top. */
  subdirectory: string
  /** Submodules below the source dir (at any depth) that are not checked out, whose files the build had none of. */
  missingSubmodules: string[]
  /**
   * Gitlinks below the source dir that .gitmodules does not name (an embedded repository
   * added as is): the commit holds only their commit ids, and the build had none of
   * their files, whatever their directories hold.
   */
  unmappedGitlinks: string[]
  /** Whether anything beside those submodules differs from the commit (dirty says either). */
  uncommitted: boolean
  /**
   * Whether a remote-tracking ref of origin holds HEAD (as the last fetch left them): the
   * commit is known to be in the repository `repository` names.
   */
  onOrigin: boolean
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

/**
 * The same on git's command line: a repository's `core.useReplaceRefs=true` turns
 * replace refs back on over GIT_NO_REPLACE_OBJECTS; only a `-c` setting outranks it.
 */
export const OBJECTS_AS_THEY_ARE: readonly string[] = ['-c', 'core.useReplaceRefs=false']

/**
 * For a source tree's own git calls: no repository found by walking into a directory
 * that merely looks like one. A tree can commit a bare repository's files (HEAD, objects,
 * a config with `core.worktree` and a filter command): run from there, git takes that
 * directory for a repository and runs its filters, on the host, before any sandbox (git
 * 2.38 and later honour it; a repository named with --git-dir or with a .git is unaffected).
 */
const NO_BARE_DISCOVERY: readonly string[] = ['-c', 'safe.bareRepository=explicit']

// Plain git, as the user has configured it, minus anything that could make output
// differ between machines (pagers, colours, translations), and with the objects as they
// are: replace refs and grafts would let a commit id name another tree than its own.
export const GIT_ENV = {
  // Nor the caller's GIT_DIR, GIT_INDEX_FILE, GIT_WORK_TREE...: a build run from a hook, or
  // by a tool that exports them, would describe another repository than its source.
  ...ledgerGitEnv(process.env),
  GIT_PAGER: 'cat',
  LC_ALL: 'C',
  GIT_OPTIONAL_LOCKS: '0',
  ...GIT_OBJECTS_AS_THEY_ARE,
}

async function git(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv = GIT_ENV,
  /** For a repository the user names (verify --rebuild --source), which may be bare. */
  bareAllowed = false,
): Promise<string | undefined> {
  const flags = bareAllowed ? OBJECTS_AS_THEY_ARE : [...OBJECTS_AS_THEY_ARE, ...NO_BARE_DISCOVERY]
  const result = await runCaptured(['git', ...flags, ...args], {
    cwd,
    env,
    timeoutMs: 60_000,
  })
  return result.code === 0 ? result.stdout : undefined
}

/** The commit `ref` names in the repository at `dir`; undefined when it names none there. */
export async function commitOfRef(dir: string, ref: string): Promise<string | undefined> {
  const out = await git(dir, [
    'rev-parse',
    '--verify',
    '--quiet',
    '--end-of-options',
    `${ref}^{commit}`,
  ])
  const commit = out?.trim()
  return commit === '' ? undefined : commit
}

/** The hash the repository at `dir` names its objects with; undefined when git cannot say. */
export async function objectFormat(
  dir: string,
  bareAllowed = false,
): Promise<'sha1' | 'sha256' | undefined> {
  const format = (
    await git(dir, ['rev-parse', '--show-object-format'], GIT_ENV, bareAllowed)
  )?.trim()
  return format === 'sha256' || format === 'sha1' ? format : undefined
}

/**
 * Whether every tracked file below `dir` holds what HEAD holds, byte for byte, in this
 * repository and in every submodule below it: each file's raw bytes (a link's target)
 * hashed as a git blob and compared with HEAD's entry, its exec bit and type too. False
 * when git could not answer.
 *
 * Not `git status` or `git diff`: status trusts an index entry whose size and times still
 * match the file, so a file rewritten and given its old time back read as clean; and
 * both compare through the repository's filters and line-ending settings, so a file
 * whose bytes a clean filter (or `core.autocrlf`) maps back to HEAD's read as clean while
 * the build, which takes the raw bytes, built something else.
 */
export async function workTreeMatchesHead(dir: string): Promise<boolean> {
  return await treeMatchesCommit(dir, 'HEAD', dir)
}

/** As workTreeMatchesHead, but a submodule not checked out passes: what else differs. */
async function workTreeMatchesHeadBesideSubmodules(dir: string): Promise<boolean> {
  return await treeMatchesCommit(dir, 'HEAD', dir, undefined, true)
}

/**
 * Whether a copy of the tracked files below `dir` (the snapshot a build runs on, at
 * `root`) holds what `commit` holds, byte for byte, as `workTreeMatchesHead` tells of the
 * work tree: `only` is the names it holds, each of which must be the commit's, and every
 * file of the commit must be among them. (A copy that left files out on purpose, by
 * `--exclude` or as outputs, is of a dirty tree already, and not asked about.) A work
 * tree checked clean and then copied may have changed in between: this is what was built.
 */
export async function snapshotMatchesCommit(
  dir: string,
  commit: string,
  root: string,
  only: ReadonlySet<string>,
): Promise<boolean> {
  return await treeMatchesCommit(dir, commit, root, { only, seen: new Set() })
}

async function treeMatchesCommit(
  dir: string,
  commit: string,
  root: string,
  copy?: { only: ReadonlySet<string>; seen: Set<string>; prefix?: string },
  missingSubmodulesPass = false,
): Promise<boolean> {
  const algorithm = await objectFormat(dir)
  if (algorithm === undefined) return false
  const listing = await git(dir, [
    '-c',
    'core.quotePath=true',
    'ls-tree',
    '-r',
    '--end-of-options',
    commit,
    '--',
    '.',
  ])
  if (listing === undefined) return false
  const buffer = Buffer.allocUnsafe(1024 * 1024)
  const regular: RegularFile[] = []
  const prefix = copy?.prefix ?? ''
  let turn = performance.now()
  for (const line of listing.split('\n')) {
    // Hashing is synchronous: a turn of the event loop now and then lets a signal in.
    if (performance.now() - turn > 50) {
      await new Promise((resolve) => setImmediate(resolve))
      turn = performance.now()
    }
    if (line === '') continue
    const match = /^(\d{6}) (blob|commit) ([0-9a-f]+)\t(.*)$/.exec(line)
    if (match === null) return false
    const [, mode = '', kind, oid = '', quoted = ''] = match
    const name = parseQuotedPaths(quoted)[0] ?? ''
    const file = toFsPath(root, name)
    if (kind === 'commit') {
      const work = toFsPath(dir, name)
      // git asks a submodule for its own status, which trusts stat data in the same way.
      // A quoted name holds bytes that are not printable ASCII: not followed, not clean.
      if (typeof work !== 'string' || typeof file !== 'string') return false
      // A submodule never checked out has no work tree of its own (git would answer for
      // the repository above it), and the snapshot takes none of its files: the tree
      // built is not the commit, whose build a checkout with submodules makes.
      const checkedOut = await fsp.lstat(path.join(work, '.git')).then(
        () => true,
        () => false,
      )
      if (!checkedOut) {
        if (missingSubmodulesPass) continue
        return false
      }
      const top = (await git(work, ['rev-parse', '--show-toplevel']))?.trim()
      if (top === undefined || top !== (await fsp.realpath(work))) return false
      if (copy === undefined) {
        if ((await git(work, ['rev-parse', 'HEAD']))?.trim() !== oid) return false
        if (!(await treeMatchesCommit(work, 'HEAD', work, undefined, missingSubmodulesPass)))
          return false
      } else if (
        !(await treeMatchesCommit(work, oid, file, { ...copy, prefix: `${prefix}${name}/` }))
      )
        return false
      continue
    }
    if (copy !== undefined) {
      // A tracked file the copy does not hold: the build did not have it. (One left out
      // on purpose, by --exclude or as an output, made the tree dirty before this check;
      // one that vanished while the tree was listed and came back after is caught here,
      // however the work tree looks now.)
      if (!copy.only.has(prefix + name)) return false
      copy.seen.add(prefix + name)
    }
    const id = blobIdOf(file, mode, algorithm, buffer)
    if (id === undefined) return false
    regular.push({ name, oid, file, raw: id === oid })
  }
  if (!(await checkedOutAsIs(dir, regular))) return false
  // Every file the copy holds was the commit's.
  return copy === undefined || prefix !== '' || copy.seen.size === copy.only.size
}

/** A tracked file of the work tree: its name, its blob, and whether its bytes are the blob's. */
interface RegularFile {
  name: string
  oid: string
  file: string | Buffer
  raw: boolean
}

// Files a checkout converts, each read back through git: a few (a Gradle wrapper's
// `gradlew.bat`), not a tree of them; past this many the tree is not known to be clean.
const MAX_CONVERTED = 100
// Attributes by which a checkout writes other bytes than the blob's, with no program run.
const CONVERTING = ['eol', 'working-tree-encoding', 'ident', 'filter'] as const

/**
 * Whether the work tree holds what a checkout of HEAD writes, as the rebuild checks a
 * commit out (core.autocrlf off). A file whose attributes convert it on checkout is
 * compared with that: a `.bat` kept with CRLF line ends by `text eol=crlf` (Gradle's own
 * .gitattributes) is LF in its blob, and its checkout is clean, while the same file with
 * the blob's LF line ends is not what a checkout gives. Converted by git's own means
 * (line ends, working-tree-encoding, ident), never through a filter, which runs a program
 * (Git LFS fetches): a file under one is clean only as its blob's bytes. Any other file
 * is clean as its blob's bytes.
 */
async function checkedOutAsIs(dir: string, files: readonly RegularFile[]): Promise<boolean> {
  if (files.length === 0) return true
  // The attributes the commit gives: from the .gitattributes files of the index alone,
  // without the user's (core.attributesFile) or the system's. The same asked of the work
  // tree must agree: an untracked or edited .gitattributes (above a subdirectory built,
  // where `git status .` does not look) would make other bytes pass as the commit's.
  const attributes = async (cached: boolean): Promise<string[] | undefined> => {
    const listing = await runCaptured(
      [
        'git',
        ...OBJECTS_AS_THEY_ARE,
        ...NO_BARE_DISCOVERY,
        ...OWN_ATTRIBUTES,
        'check-attr',
        ...(cached ? ['--cached'] : []),
        '--stdin',
        '-z',
        ...CONVERTING,
      ],
      {
        cwd: dir,
        env: ATTRIBUTE_ENV,
        timeoutMs: 60_000,
        input: Buffer.concat(files.flatMap((f) => [toNameBytes(f.name), Buffer.from([0])])),
      },
    )
    // Per file in the order given, per attribute: path, attribute, value, each ended by a
    // NUL. Read by place: a path that is not UTF-8 comes back as other text.
    const fields = listing.stdout.split('\0')
    return listing.code !== 0 || fields.length < files.length * CONVERTING.length * 3
      ? undefined
      : fields
  }
  const fields = await attributes(true)
  const inTree = await attributes(false)
  if (fields === undefined || fields.join('\0') !== inTree?.join('\0')) return false
  const converts = new Set<RegularFile>()
  const filtered = new Set<RegularFile>()
  files.forEach((f, k) => {
    CONVERTING.forEach((attribute, a) => {
      const value = fields[(k * CONVERTING.length + a) * 3 + 2] ?? ''
      if (['unspecified', 'unset'].includes(value) || (attribute === 'eol' && value === 'lf'))
        return
      if (attribute === 'filter') filtered.add(f)
      else converts.add(f)
    })
  })
  const check = new Set(files.filter((f) => converts.has(f) && !filtered.has(f)))
  if (files.some((f) => !f.raw && !check.has(f))) return false
  if (check.size > MAX_CONVERTED) return false
  if (check.size === 0) return true
  // The repository's own info/attributes are not the commit's either: a file clean only
  // through a conversion is not known to be clean while there are any.
  const info = (
    await git(dir, ['rev-parse', '--path-format=absolute', '--git-path', 'info/attributes'])
  )?.trim()
  if (info === undefined || (fs.statSync(info, { throwIfNoEntry: false })?.size ?? 0) > 0)
    return false
  // cat-file takes --path from the top of the work tree.
  const prefix = (await git(dir, ['rev-parse', '--show-prefix']))?.trim() ?? ''
  for (const { name, oid, file } of check) {
    if (typeof file !== 'string') return false
    const bytes = await fsp.readFile(file).catch(() => undefined)
    if (bytes === undefined) return false
    // A checkout longer than the file is not it: no more is read than one byte past it.
    const checkout = await runCaptured(
      [
        'git',
        ...OBJECTS_AS_THEY_ARE,
        ...NO_BARE_DISCOVERY,
        ...OWN_ATTRIBUTES,
        '-c',
        'core.autocrlf=false',
        'cat-file',
        '--filters',
        `--path=${prefix}${name}`,
        oid,
      ],
      { cwd: dir, env: ATTRIBUTE_ENV, timeoutMs: 60_000, maxBytes: bytes.length + 1 },
    )
    if (checkout.code !== 0 || !bytes.equals(checkout.stdoutBytes)) return false
  }
  return true
}

// Attributes from the repository's files alone: not the user's file nor the system's.
const OWN_ATTRIBUTES: readonly string[] = ['-c', 'core.attributesFile=/dev/null']
const ATTRIBUTE_ENV = { ...GIT_ENV, GIT_ATTR_NOSYSTEM: '1' }

/**
 * The git blob id of what is at `file`, when it is what `mode` says (a link for 120000,
 * a regular file with the exec bit for 100755, without for 100644); else undefined.
 * Read with synchronous calls into the caller's buffer: a promise and a fresh buffer per
 * file made 20,000 small files take 6 s, against 0.5 s so.
 */
function blobIdOf(
  file: string | Buffer,
  mode: string,
  algorithm: 'sha1' | 'sha256',
  buffer: Buffer,
): string | undefined {
  const blob = (size: number) => crypto.createHash(algorithm).update(`blob ${size}\0`)
  if (mode === '120000') {
    let target: Buffer
    try {
      target = fs.readlinkSync(file, { encoding: 'buffer' })
    } catch {
      return undefined // not a link (or not there)
    }
    return blob(target.length).update(target).digest('hex')
  }
  if (mode !== '100755' && mode !== '100644') return undefined
  let fd: number
  try {
    // Not through a link: the snapshot takes a link as a link.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)
  } catch {
    return undefined
  }
  try {
    const stat = fs.fstatSync(fd)
    if (!stat.isFile() || (mode === '100755') !== ((stat.mode & 0o100) !== 0)) return undefined
    const hash = blob(stat.size)
    // The size read must be the size hashed: a file that changes size meanwhile is not clean.
    let total = 0
    for (let n; (n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0;) {
      total += n
      hash.update(buffer.subarray(0, n))
    }
    return total === stat.size ? hash.digest('hex') : undefined
  } finally {
    fs.closeSync(fd)
  }
}

/** The gitlinks below `sourceDir` that .gitmodules does not map, relative to it. */
async function unmappedGitlinksBelow(sourceDir: string): Promise<string[]> {
  const staged = await git(sourceDir, ['-c', 'core.quotePath=true', 'ls-files', '--stage', '.'])
  const gitlinks = (staged ?? '')
    .split('\n')
    .filter((line) => line.startsWith('160000 '))
    .map((line) => line.slice(line.indexOf('\t') + 1))
  const mapped = new Set(
    (
      (await git(sourceDir, [
        'config',
        '-f',
        path.join(
          (await git(sourceDir, ['rev-parse', '--show-toplevel']))?.trim() ?? sourceDir,
          '.gitmodules',
        ),
        '--get-regexp',
        '^submodule\\..*\\.path$',
      ])) ?? ''
    )
      .split('\n')
      .map((line) => line.slice(line.indexOf(' ') + 1)),
  )
  const prefix = (await git(sourceDir, ['rev-parse', '--show-prefix']))?.trim() ?? ''
  return gitlinks.filter((link) => !mapped.has(`${prefix}${link}`))
}

/**
 * The places of the repository beside its work tree (see GitSource.related). A linked
 * work tree's build read the main checkout's untracked files and the other branches'
 * objects, and the provenance said the tree was clean.
 */
async function relatedPlaces(sourceDir: string): Promise<string[]> {
  const line = async (args: string[]): Promise<string[]> => {
    const out = (await git(sourceDir, args))?.replace(/\n$/, '')
    return out === undefined || out === '' ? [] : [path.resolve(sourceDir, out)]
  }
  // The main work tree: the first `worktree` of the list (the bare repository itself
  // when the repository is bare).
  const main = (await git(sourceDir, ['worktree', 'list', '--porcelain']))
    ?.split('\n')
    .find((l) => l.startsWith('worktree '))
    ?.slice('worktree '.length)
  return [
    ...(await line(['rev-parse', '--absolute-git-dir'])),
    ...(await line(['rev-parse', '--git-common-dir'])),
    ...(await line(['rev-parse', '--show-superproject-working-tree'])),
    ...(main === undefined || main === '' ? [] : [main]),
  ]
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
  // `-` marks a submodule not checked out; paths are relative to the source dir.
  const submodules = await git(sourceDir, ['submodule', 'status', '--recursive', '--', '.'])
  const missingSubmodules = (submodules ?? '')
    .split('\n')
    .filter((line) => line.startsWith('-'))
    .map((line) => line.slice(1).replace(/^[0-9a-f]+ /, ''))
  // `submodule status` fails outright on a gitlink .gitmodules does not map: each one is
  // named, rather than found later as a snapshot that is not the commit (which read as
  // a tree that changed while it was copied).
  const unmappedGitlinks = submodules === undefined ? await unmappedGitlinksBelow(sourceDir) : []
  const remote = (await git(sourceDir, ['remote', 'get-url', 'origin']))?.trim()
  const branch = (await git(sourceDir, ['symbolic-ref', '-q', 'HEAD']))?.trim()
  const ref = branch === undefined || branch === '' ? undefined : branch
  // origin's branch of the same name (origin/main for main) has HEAD or a descendant of
  // it: the commit was pushed there, or fetched from there; the remote-tracking ref is as
  // the last fetch left it. Beside origin's URL, the ref reads as that repository's
  // branch: the upstream git has configured may be another branch, another remote, or
  // the repository itself (`branch.<name>.remote = .`), and said nothing of origin's.
  const branchName =
    ref?.startsWith('refs/heads/') === true ? ref.slice('refs/heads/'.length) : undefined
  const pushed =
    branchName !== undefined &&
    (await git(sourceDir, [
      'merge-base',
      '--is-ancestor',
      'HEAD',
      `refs/remotes/origin/${branchName}`,
    ])) !== undefined
  const holders = await git(sourceDir, [
    'for-each-ref',
    '--count=1',
    '--contains',
    'HEAD',
    '--format=%(refname)',
    'refs/remotes/origin/',
  ])
  const onOrigin = holders !== undefined && holders.trim() !== ''
  const matches = await workTreeMatchesHead(sourceDir)
  // Changes beside the submodules not checked out, said apart: the tree is walked again
  // only when there are such submodules.
  const uncommitted =
    status.trim() !== '' ||
    hidden ||
    tags === undefined ||
    (!matches &&
      (missingSubmodules.length === 0 || !(await workTreeMatchesHeadBesideSubmodules(sourceDir))))
  return {
    topLevel,
    related: await relatedPlaces(sourceDir),
    commit,
    commitTime: Number(time),
    // A submodule not checked out (never initialized, or made inactive while its files
    // stay) gives the snapshot none of its files: not a build of the commit.
    dirty: uncommitted || !matches || missingSubmodules.length > 0 || unmappedGitlinks.length > 0,
    uncommitted,
    repository: remote === undefined || remote === '' ? undefined : stripCredentials(remote),
    ref: pushed ? ref : undefined,
    ...(ref !== undefined && !pushed ? { unpushedRef: ref } : {}),
    files: [...new Set(files)],
    subdirectory: prefix.replace(/\/+$/, ''),
    missingSubmodules,
    unmappedGitlinks,
    onOrigin,
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
