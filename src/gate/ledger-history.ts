import crypto from 'node:crypto'

/** One commit of a ledger branch, as `git rev-list --parents` and `cat-file --batch-check` see it. */
export interface LedgerCommit {
  id: string
  parents: string[]
  /** The commit's ledger.jsonl: its git object id and size, or undefined when it has none. */
  ledger: { blob: string; size: number } | undefined
}

export interface HistoryProblem {
  commit: string
  why: string
}

/**
 * The git object id of a blob holding `bytes`: SHA-1 or SHA-256 of `blob <size>\0<bytes>`,
 * by the length of the ids the repository uses.
 */
export function gitBlobId(bytes: Uint8Array, like: string): string {
  return crypto
    .createHash(like.length === 64 ? 'sha256' : 'sha1')
    .update(`blob ${bytes.length}\0`)
    .update(bytes)
    .digest('hex')
}

/**
 * The first commit that did not only append whole lines to its parent's ledger.jsonl.
 * Pure but for `readBlob`: `commits` are the commits after `base` (the last commit
 * verified before, or undefined to start from the first), oldest first, ending with the
 * tip, whose ledger is `tip`. The branch must be one line of commits.
 */
export function firstRewrite(
  base: LedgerCommit | undefined,
  commits: readonly LedgerCommit[],
  tip: Uint8Array,
  readBlob: (blob: string) => Uint8Array,
): HistoryProblem | undefined {
  const nonLinear = firstNonLinear(base, commits)
  if (nonLinear !== undefined) return nonLinear
  if (appendsOnly(base, commits, tip)) return undefined
  // Something was rewritten: find the commit that did it, reading the ledgers this time.
  return (
    firstNonAppend(base, commits, readBlob) ?? {
      commit: commits.at(-1)?.id ?? base?.id ?? '',
      why: 'its ledger.jsonl is not the one read at the tip',
    }
  )
}

function firstNonLinear(
  base: LedgerCommit | undefined,
  commits: readonly LedgerCommit[],
): HistoryProblem | undefined {
  let parent = base
  for (const commit of commits) {
    const fail = (why: string): HistoryProblem => ({ commit: commit.id, why })
    if (commit.parents.length > 1)
      return fail('a merge commit; a ledger branch only ever gains one commit per release')
    if (commit.parents.length === 0 && parent !== undefined)
      return fail('a second first commit: the branch was replaced')
    if (parent !== undefined && commit.parents[0] !== parent.id)
      return fail(`its parent is not ${parent.id}, the commit before it on the branch`)
    parent = commit
  }
  return undefined
}

/**
 * On one line of commits, "each ledger is its parent's plus whole lines" is the same as
 * "each ledger is the tip's ledger cut at a line end, and none is shorter than its
 * parent's". That is checked here, by git object id: a ledger of n bytes is the tip's
 * first n bytes exactly when its blob id is the id of those bytes. So nothing but the
 * tip's ledger is read, however long the history.
 */
function appendsOnly(
  base: LedgerCommit | undefined,
  commits: readonly LedgerCommit[],
  tip: Uint8Array,
): boolean {
  const last = commits.at(-1) ?? base
  if (last !== undefined && (last.ledger?.size ?? 0) !== tip.length) return false
  const lineEnds = new Set<number>([0])
  for (let i = 0; i < tip.length; i++) if (tip[i] === 0x0a) lineEnds.add(i + 1)
  const prefixIds = new Map<number, string>()
  const isTipPrefix = (ledger: { blob: string; size: number } | undefined): boolean => {
    if (ledger === undefined) return true
    if (!lineEnds.has(ledger.size)) return false
    let id = prefixIds.get(ledger.size)
    if (id === undefined) {
      id = gitBlobId(tip.subarray(0, ledger.size), ledger.blob)
      prefixIds.set(ledger.size, id)
    }
    return id === ledger.blob
  }
  let before = base?.ledger
  if (!isTipPrefix(before)) return false
  for (const { ledger: after } of commits) {
    if (after?.blob !== before?.blob) {
      if ((after?.size ?? 0) < (before?.size ?? 0) || !isTipPrefix(after)) return false
    }
    before = after
  }
  return true
}

/** The slow, direct check: each ledger read and compared with its parent's. */
function firstNonAppend(
  base: LedgerCommit | undefined,
  commits: readonly LedgerCommit[],
  readBlob: (blob: string) => Uint8Array,
): HistoryProblem | undefined {
  const read = (ledger: LedgerCommit['ledger']): Buffer =>
    ledger === undefined ? Buffer.alloc(0) : Buffer.from(readBlob(ledger.blob))
  let before = base?.ledger
  let bytes = read(before)
  for (const commit of commits) {
    const after = commit.ledger
    if (after?.blob !== before?.blob) {
      const next = read(after)
      const fail = (why: string): HistoryProblem => ({ commit: commit.id, why })
      if (after === undefined && bytes.length > 0) return fail('it removes ledger.jsonl')
      if (next.length > 0 && next[next.length - 1] !== 0x0a)
        return fail('its ledger.jsonl ends without a newline: its last line was cut or edited')
      if (next.length < bytes.length || !next.subarray(0, bytes.length).equals(bytes))
        return fail(
          "its ledger.jsonl does not start with its parent's: records were removed or changed",
        )
      bytes = next
    }
    before = after
  }
  return undefined
}

/** A path one commit changed, as `git log --name-status` lists it (A, M, D...). */
export interface PathChange {
  status: string
  path: string
}

/**
 * The first commit that did more than a gate does, once the history is known to append
 * only: a gate's commit appends exactly one record to ledger.jsonl and adds, at most, the
 * bundle that record names under bundles/. A second record in one commit, a file beside
 * them in the store, or a kept bundle replaced or removed (which deploys never read,
 * and carried forward) is refused here for every command, not only by `check`. Files
 * outside ledger.jsonl and bundles/ are not the ledger's, and a commit that changes
 * neither holds no record: both are let be.
 * Pure: `changes` holds each commit's changed paths, `tip` the tip's ledger.
 */
export function firstExtraChange(
  base: LedgerCommit | undefined,
  commits: readonly LedgerCommit[],
  tip: Uint8Array,
  changes: ReadonlyMap<string, readonly PathChange[]>,
): HistoryProblem | undefined {
  const bytes = Buffer.from(tip.buffer, tip.byteOffset, tip.byteLength)
  let before = base?.ledger?.size ?? 0
  for (const commit of commits) {
    const fail = (why: string): HistoryProblem => ({ commit: commit.id, why })
    const size = commit.ledger?.size ?? 0
    // Only the ledger and its store are the ledger's: a README beside them is not. A
    // name git quotes (`"bundles/\303\251.json"`: not ASCII, or a tab in it) is never
    // one a gate writes, and is the store's all the same.
    const changed = (changes.get(commit.id) ?? []).filter(
      (c) =>
        c.path === 'ledger.jsonl' ||
        c.path.startsWith('bundles/') ||
        c.path.startsWith('"bundles/'),
    )
    // A commit that touches neither holds no record (an empty one, one before the first).
    if (changed.length === 0) continue
    const appended = bytes.subarray(before, size)
    let digest: unknown
    try {
      digest = (JSON.parse(appended.toString('utf8')) as { bundleDigest?: unknown }).bundleDigest
    } catch {
      digest = undefined
    }
    for (const { status, path } of changed) {
      if (path === 'ledger.jsonl' && (status === 'A' || status === 'M')) continue
      if (
        status === 'A' &&
        typeof digest === 'string' &&
        path === `bundles/${digest}.sigstore.json`
      )
        continue
      return fail(
        `it ${CHANGE_WORDS[status] ?? `changes (${status})`} ${path}, which a gate never does: each commit appends one record and adds the bundle that record names`,
      )
    }
    let records = 0
    for (const byte of appended) if (byte === 0x0a) records++
    if (records !== 1)
      return fail(`it appends ${records} records; a gate appends one record per commit`)
    before = size
  }
  return undefined
}

const CHANGE_WORDS: Readonly<Record<string, string>> = {
  A: 'adds',
  M: 'changes',
  D: 'removes',
  T: 'changes the type of',
}
