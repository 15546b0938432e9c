import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as v from 'valibot'
import { canonicalJson } from '../canonical.js'
import { withRetries, type Attempt, type Backoff } from '../io/retry.js'
import { ReproofError, throwIfAborted } from '../errors.js'
import { asCommit } from '../io/commit-window.js'
import { runSync } from '../sandbox/process.js'
import { stripCredentials } from '../sandbox/git.js'
import { ledgerGitEnv } from '../io/git-env.js'
import { writeFileAtomicSync } from '../io/atomic-write.js'
import { readBounded } from '../io/read-bounded.js'
import { recordBytes, toState, type LedgerRecord, type LedgerState } from './decide.js'
import {
  firstExtraChange,
  firstRewrite,
  type LedgerCommit,
  type PathChange,
} from './ledger-history.js'
import {
  checkAppendable,
  MAX_LEDGER_BYTES,
  keptBundleName,
  ledgerTooBig,
  ledgerText,
  parseLedger,
  systemFailure,
  readCheckpoint,
  ledgerRead,
  ruledState,
  type LedgerRead,
  type Ledger,
  type Step,
} from './ledger.js'
import { MAX_BUNDLE_BYTES } from '../verify/run-verify.js'
import { sha256Hex } from '../sha256.js'
import { ownedTempDir } from '../owned-temp.js'

const LEDGER_FILE = 'ledger.jsonl'
const MAX_ATTEMPTS = 8
/** Between pushes: short waits with jitter, so that gates that lost one race do not meet again. */
const PUSH_BACKOFF: Backoff = { firstMs: 20, factor: 1.5, maxMs: 250, jitterMs: 50 }
// How much bundle content one `git cat-file --batch` may return.
const BATCH_BYTES = 64 * 1024 * 1024
const GIT_TIMEOUT_MS = 60_000

/** `git:<url>#<branch>`; the branch defaults to `reproof-ledger`. */
export function parseGitLedgerSpec(spec: string): { url: string; branch: string } {
  const rest = spec.slice('git:'.length)
  const hash = rest.lastIndexOf('#')
  const url = hash === -1 ? rest : rest.slice(0, hash)
  const branch = hash === -1 ? 'reproof-ledger' : rest.slice(hash + 1)
  // Named without the URL's credentials, as everywhere else (see label).
  const shown = `git:${stripCredentials(url)}${hash === -1 ? '' : `#${branch}`}`
  if (url === '' || url.startsWith('-'))
    throw new ReproofError('E_USAGE', `--ledger ${shown}: expected git:<url>#<branch>`)
  // check-ref-format's rules, the part that matters here: no option, no "..", no odd
  // bytes, no empty component or one that starts with a dot or ends in .lock, no end in
  // "/" or ".". A name git refuses was an empty ledger to status and eight failed pushes
  // ("unknown, retry") to deploy.
  if (
    !/^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/.test(branch) ||
    branch.includes('..') ||
    branch.endsWith('.') ||
    branch.split('/').some((part) => part === '' || part.startsWith('.') || part.endsWith('.lock'))
  )
    throw new ReproofError('E_USAGE', `--ledger ${shown}: "${branch}" is not a usable branch name`)
  // A local path made absolute here: git runs in a repository of the gate's own, where
  // `.` was that temporary repository (a release "recorded" there, then deleted).
  let local: string | undefined
  try {
    local = localPath(url)
  } catch {
    throw new ReproofError('E_USAGE', `--ledger ${shown}: the address has a broken % escape`)
  }
  return { url: local === undefined ? url : path.resolve(local), branch }
}

/**
 * The path a local ledger address names, as git reads it: `file://` with any host (git
 * ignores it) and percent escapes decoded, or a path; undefined for a remote (a scheme
 * such as https:// or ssh://, or scp's host:path form).
 */
function localPath(url: string): string | undefined {
  if (/^file:\/\//i.test(url)) {
    const rest = url.slice('file://'.length)
    const slash = rest.indexOf('/')
    return decodeURIComponent(slash === -1 ? '/' : rest.slice(slash))
  }
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/]*:/.test(url) ? undefined : url
}

const CheckpointSchema = v.strictObject({
  ledger: v.string(),
  commit: v.pipe(v.string(), v.regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/)),
})

/**
 * The release ledger on a branch of a git repository: each release is one commit that
 * appends a line to ledger.jsonl and adds the bundle it was verified with. The branch
 * only moves by fast-forward push, which is the lock: two gates that read the same tip
 * cannot both push. The loser fetches, decides again on the new tip, and retries.
 *
 * A push that fails without a clear rejection (a timeout, a dropped connection) may
 * still have landed. The ledger is fetched again: if the commit is on the branch the
 * release is recorded; if the remote answers and it is not, it is retried; if the
 * remote does not answer, the outcome is unknown (exit 4), and a retry is safe because
 * it will find its own record current.
 */
export class GitLedger implements Ledger {
  /** The tip the last read saw; a bundle named by that read comes from the same commit. */
  private lastTip: string | undefined
  /**
   * Whether any read of this command found no checkpoint of a ledger with records: the
   * first read saves one (a rollback's lookup, an attempt that lost a push race), and
   * the next read, finding it, said the command was anchored when it was not.
   */
  anyReadUnanchored = false

  private constructor(
    readonly url: string,
    readonly branch: string,
    /**
     * Where this machine keeps the last commit of this branch it verified, across runs:
     * one file under the key of the repository the address now opens, one under the
     * address as given (see {@link checkpointKeys}). Every one must hold.
     */
    readonly checkpointFiles: readonly string[],
    /** A bare repository of this gate's own for what it fetches; removed by close. */
    private readonly work: string,
    /**
     * The caller's environment, which carries the remote's credentials (ssh agent,
     * helpers), without what would point git at another repository.
     */
    private readonly env: Readonly<Record<string, string | undefined>>,
  ) {
    this.label = `git:${stripCredentials(url)}#${branch}`
  }

  /**
   * Opens the ledger on `branch` of `url`: a temporary bare repository to fetch into, and
   * nothing on the remote yet. `stateDir` is where this machine keeps what it verified
   * of each git ledger (see {@link GitLedger.read}); it must outlive the gate.
   */
  static open(
    url: string,
    branch: string,
    stateDir: string,
    env: Readonly<Record<string, string | undefined>>,
  ): GitLedger {
    const files = checkpointKeys(url, branch).map((key) =>
      path.join(stateDir, 'git-ledgers', `${sha256Hex(key).slice(0, 32)}.json`),
    )
    const work = ownedTempDir(os.tmpdir(), 'reproof-ledger-')
    const ledger = new GitLedger(url, branch, files, work, ledgerGitEnv(env))
    try {
      ledger.git(['init', '-q', '--bare'])
    } catch (err) {
      ledger.close()
      throw new ReproofError(
        'E_ENVIRONMENT',
        `${ledger.label}: a git ledger needs git: ${gitSaid(err)}`,
        {},
        { cause: err },
      )
    }
    return ledger
  }

  /**
   * How messages, the JSON and the checkpoint name the ledger: without the URL's user,
   * password or query, which git leaves out of its own messages (a token in the URL
   * reached stderr, the error's `path`, and a state dir kept in a CI cache).
   */
  readonly label: string

  /** What git said, without the address's password or query (git keeps a query). */
  private redact(text: string): string {
    return redactAddress(text, this.url)
  }

  /** Where the records are, as errors that name a line say it. */
  get recordsLabel(): string {
    return `${this.label}:${LEDGER_FILE}`
  }

  close(): void {
    // Called after the answer is decided, a record pushed included: a work repository
    // that cannot be removed must not turn "recorded" into an error. It is named as
    // reproof's own, and the next gate removes what this one left.
    try {
      fs.rmSync(this.work, { recursive: true, force: true })
    } catch {
      // left for the next gate
    }
  }

  /**
   * Fetches the branch, checks that its history only ever appended to the ledger since
   * the last commit this machine verified (from the first commit when none), and reads
   * the chain at its tip. The tip then becomes the checkpoint: a later tip that does not
   * descend from it means the history was rewritten, however consistent the rewrite.
   */
  read(): LedgerRead & { tip: string | undefined; bytes: Buffer } {
    try {
      return this.readTip()
    } catch (err) {
      // The state directory's checkpoint, the work repository: the machine's failure.
      throw systemFailure(err, this.label)
    }
  }

  private readTip(): LedgerRead & { tip: string | undefined; bytes: Buffer } {
    // The checkpoint first: another gate on this machine may push and move it meanwhile,
    // and a checkpoint read after the tip could be newer than the tip (not a rewrite).
    // Read before, it names a commit that was on the branch before the tip was read.
    const checkpoints = this.loadCheckpoints()
    const tip = this.fetch()
    this.lastTip = tip
    if (tip === undefined) {
      const [gone] = checkpoints
      if (gone !== undefined)
        throw this.rewritten(
          `the branch is gone, but this machine verified it at ${gone.commit} (checkpoint ${gone.file})`,
        )
      // No branch and nothing this machine verified: a branch deleted reads as one never
      // made, and is said to be unanchored as any other read with no checkpoint.
      this.anyReadUnanchored = true
      return Object.assign(
        ledgerRead(toState([]), () => [], undefined, true),
        { tip, bytes: Buffer.alloc(0) },
      )
    }
    let size: number
    try {
      size = Number(this.git(['cat-file', '-s', `${tip}:${LEDGER_FILE}`]).trim())
    } catch {
      throw new ReproofError('E_LEDGER', `${this.label}: the branch has no ${LEDGER_FILE}`, {
        path: this.label,
        hint: 'a ledger branch holds only what gates commit: name a branch that does not exist yet (git:<url>#<branch>), and the first deploy creates it',
      })
    }
    if (size > MAX_LEDGER_BYTES) throw ledgerTooBig(`${this.label}:${LEDGER_FILE}`, size)
    const bytes = this.gitBytes(['cat-file', 'blob', `${tip}:${LEDGER_FILE}`])
    // Every checkpoint is on the branch: one missing from it is a history replaced,
    // whichever repository the address now opens.
    for (const { file, commit } of checkpoints)
      if (!this.contains(tip, commit))
        throw this.rewritten(
          `its tip ${tip} does not descend from ${commit}, the last commit this machine verified (checkpoint ${file})`,
        )
    // From the latest of them: every commit up to it was checked when it was written.
    const checkpoint = checkpoints
      .map((c) => c.commit)
      .reduce<string | undefined>(
        (latest, c) => (latest === undefined || this.contains(c, latest) ? c : latest),
        undefined,
      )
    this.checkHistory(tip, checkpoint, bytes)
    const records = parseLedger(ledgerText(bytes, this.recordsLabel), this.recordsLabel)
    if (checkpoints.length < this.checkpointFiles.length || tip !== checkpoint)
      this.saveCheckpoint(tip)
    return Object.assign(
      ledgerRead(
        ruledState(records, this.recordsLabel, 1),
        () => records,
        undefined,
        (this.anyReadUnanchored ||= checkpoint === undefined),
      ),
      { tip, bytes },
    )
  }

  /** Every commit after the checkpoint (or from the first) only appended whole lines. */
  private checkHistory(tip: string, checkpoint: string | undefined, tipLedger: Buffer): void {
    const ids = this.git([
      'rev-list',
      '--reverse',
      '--topo-order',
      '--parents',
      tip,
      ...(checkpoint === undefined ? [] : [`^${checkpoint}`]),
      '--',
    ])
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split(' '))
    const all = [...(checkpoint === undefined ? [] : [[checkpoint]]), ...ids]
    const ledgers = this.git(['cat-file', '--batch-check'], {
      input: all.map(([id]) => `${id}:${LEDGER_FILE}\n`).join(''),
    })
      .split('\n')
      .slice(0, all.length)
    const commits: LedgerCommit[] = all.map(([id = '', ...parents], i) => {
      const [blob = '', type, size] = (ledgers[i] ?? '').split(' ')
      if (type !== undefined && type !== 'blob' && size !== undefined)
        throw this.rewritten(`commit ${id}: its ${LEDGER_FILE} is not a file`)
      return {
        id,
        parents,
        ledger: type === 'blob' ? { blob, size: Number(size) } : undefined,
      }
    })
    const base = checkpoint === undefined ? undefined : commits.shift()
    const problem = firstRewrite(base, commits, tipLedger, (blob) =>
      this.gitBytes(['cat-file', 'blob', blob]),
    )
    if (problem !== undefined) throw this.rewritten(`commit ${problem.commit}: ${problem.why}`)
    const extra = firstExtraChange(base, commits, tipLedger, this.changedPaths(tip, checkpoint))
    if (extra !== undefined) throw this.rewritten(`commit ${extra.commit}: ${extra.why}`)
  }

  /** The paths each commit after the checkpoint changed, in one `git log`. */
  private changedPaths(tip: string, checkpoint: string | undefined): Map<string, PathChange[]> {
    const out = this.git([
      '-c',
      'core.quotePath=true',
      '-c',
      'log.showRoot=true',
      'log',
      '--no-color',
      '--no-renames',
      '--no-ext-diff',
      '--no-show-signature',
      '--format=%x00%H',
      '--name-status',
      tip,
      ...(checkpoint === undefined ? [] : [`^${checkpoint}`]),
      '--',
    ])
    const changes = new Map<string, PathChange[]>()
    for (const entry of out.split('\0').slice(1)) {
      const [id = '', ...lines] = entry.split('\n')
      changes.set(
        id,
        lines
          .filter((l) => l !== '')
          .map((l) => {
            const tab = l.indexOf('\t')
            return { status: l.slice(0, tab), path: l.slice(tab + 1) }
          }),
      )
    }
    return changes
  }

  private rewritten(what: string): ReproofError {
    return new ReproofError(
      'E_LEDGER',
      `${this.label}: ${what}; a ledger only ever grows by appended records, so the gate stops until a person has looked`,
      { path: this.label },
    )
  }

  /** The checkpoints this machine holds for this ledger, under each of its keys. */
  private loadCheckpoints(): { file: string; commit: string }[] {
    const keys = checkpointKeys(this.url, this.branch)
    return this.checkpointFiles.flatMap((file, i) => {
      const commit = readCheckpoint(
        file,
        CheckpointSchema,
        // Written under another spelling of the same ledger, it is this ledger's.
        (c) => {
          try {
            const { url, branch } = parseGitLedgerSpec(c.ledger)
            return keys[i] !== undefined && checkpointKeys(url, branch).includes(keys[i])
          } catch {
            return false
          }
        },
        this.label,
      )?.commit
      return commit === undefined ? [] : [{ file, commit }]
    })
  }

  private verified<T>(commit: string, result: T): T {
    // The record is on the branch: a checkpoint that cannot be written (a full or
    // read-only state disk) does not unsay it. The next read verifies from the
    // checkpoint before, and writes it.
    try {
      this.saveCheckpoint(commit)
    } catch {
      // said above
    }
    return result
  }

  private saveCheckpoint(commit: string): void {
    // Only forward. Another gate of this machine may have verified a later commit since
    // this one loaded the checkpoint (a read is slow: fetch, history, blobs); written
    // over, the checkpoint went back to what this one fetched, and a history rewritten
    // behind the later commit passed. A stored commit this one cannot place (never
    // fetched here: pushed since) is taken for later.
    const stored = new Map(this.loadCheckpoints().map((c) => [c.file, c.commit]))
    for (const file of this.checkpointFiles) {
      const before = stored.get(file)
      if (before !== undefined && before !== commit && !this.contains(commit, before)) continue
      if (before === commit) continue
      writeFileAtomicSync(file, `${canonicalJson({ commit, ledger: this.label })}\n`)
    }
  }

  /** The records at the branch's tip, for lookups before deciding. */
  peek(): LedgerRecord[] {
    return this.read().records
  }

  /**
   * What the tree at the last read's tip holds under each bundle name: the SHA-256 of
   * its bytes, or undefined. Sizes first (`cat-file --batch-check`), so that nothing
   * larger than a bundle may be is read; then the contents, a bounded batch at a time.
   */
  storedDigests(bundleDigests: readonly string[]): Map<string, string | undefined> {
    const found = new Map<string, string | undefined>()
    const tip = this.lastTip
    if (tip === undefined) return found
    const spec = (d: string): string => `${tip}:${keptBundleName(d)}\n`
    const wanted = [...new Set(bundleDigests)]
    const sizes = this.git(['cat-file', '--batch-check'], { input: wanted.map(spec).join('') })
      .split('\n')
      .slice(0, wanted.length)
      .map((line) => {
        const [, type, size] = line.split(' ')
        return type === 'blob' ? Number(size) : undefined
      })
    let batch: string[] = []
    let batchBytes = 0
    const flush = (): void => {
      if (batch.length === 0) return
      const out = this.gitBytes(['cat-file', '--batch'], { input: batch.map(spec).join('') })
      let at = 0
      for (const digest of batch) {
        const eol = out.indexOf(0x0a, at)
        const size = Number(out.subarray(at, eol).toString('utf8').split(' ')[2])
        at = eol + 1
        found.set(digest, sha256Hex(out.subarray(at, at + size)))
        at += size + 1
      }
      batch = []
      batchBytes = 0
    }
    for (const [i, digest] of wanted.entries()) {
      const size = sizes[i]
      if (size === undefined) found.set(digest, undefined)
      else if (size > MAX_BUNDLE_BYTES) found.set(digest, `more than ${MAX_BUNDLE_BYTES} bytes`)
      else {
        if (batchBytes + size > BATCH_BYTES) flush()
        batch.push(digest)
        batchBytes += size
      }
    }
    flush()
    return found
  }

  /** The bundle a record was deployed with, from the ledger's own tree, as a file. */
  bundleFile(bundleDigest: string): string | undefined {
    const tip = this.lastTip ?? this.fetch()
    if (tip === undefined) return undefined
    try {
      const bytes = this.gitBytes(['cat-file', 'blob', `${tip}:${keptBundleName(bundleDigest)}`])
      const file = path.join(this.work, `${bundleDigest}.sigstore.json`)
      fs.writeFileSync(file, bytes)
      return file
    } catch {
      return undefined
    }
  }

  async transact<T>(
    step: (read: LedgerRead) => Step<T>,
    _lockTimeoutMs?: number,
    /** Aborted on Ctrl-C or SIGTERM: up to the push, nothing is written (exit 130). */
    signal?: AbortSignal,
  ): Promise<T> {
    // Reads and pushes alike: a push may land whatever answer it gave. Once one went
    // unanswered, no later failure can say "nothing was recorded": the server may apply
    // it late (it did not hold it when read back), so a later error is an unknown outcome.
    let unanswered: string | undefined
    // The commits whose push failed, with what each was to answer. One may land after it
    // was looked for (a server that applies a push after the client gave up on it), or
    // have landed whatever git said (a proxy's 403 after the backend took it): the branch
    // then holds this gate's own record, and a decision made again on it ("unchanged", or
    // "superseded" once another gate deployed on top) would deny it.
    const pending: { commit: string; result: T }[] = []
    const outcome = await asCommit(() =>
      withRetries(MAX_ATTEMPTS, PUSH_BACKOFF, async (): Promise<Attempt<T, PushFailure>> => {
        try {
          const read = this.read()
          // git runs synchronously: a SIGTERM that came while it read is delivered only
          // once the event loop turns, here, so that the step sees the signal aborted
          // (it was not, and a cancelled gate recorded its release).
          await signalsDelivered()
          const { tip } = read
          const landed =
            tip === undefined ? undefined : pending.find((p) => this.contains(tip, p.commit))
          if (landed !== undefined) return { done: this.verified(landed.commit, landed.result) }
          // A push that did not answer and is not on the branch now never will be: git
          // moves a ref only from the commit the push was made on, and the branch has
          // moved (the same state would have been decided the same way, with a write).
          const { append, result } = step(read)
          if (append === undefined) return { done: result }
          const commit = this.commit(read.tip, read.bytes, read.state, append)
          // The last moment to stop: once pushed, the record may stand.
          await signalsDelivered()
          throwIfAborted(signal)
          const pushed = this.push(commit)
          // The commit appends one line to the ledger just verified: it is verified too. It
          // counts once the ledger gates read holds it: git may send a push elsewhere
          // (`url.*.pushInsteadOf`, a remote's `pushurl`, kept in the caller's settings),
          // and "pushed" then said "recorded" of a ledger that never saw it.
          if (pushed === undefined) {
            if (this.readBack(commit)) return { done: this.verified(commit, result) }
            throw new ReproofError(
              'E_AMBIGUOUS',
              `${this.label}: git pushed the record, but the ledger read back from ${stripCredentials(this.url)} does not hold it: git's settings may send pushes elsewhere (url.<base>.pushInsteadOf, remote.<name>.pushurl), or the server has not caught up. The release may or may not be on this ledger; a retry is safe`,
              { path: this.label },
            )
          }
          pending.push({ commit, result })
          if (pushed.kind === 'lost') unanswered = pushed.message
          // Did it land anyway? Only a positive answer from the remote settles it.
          let now: string | undefined
          try {
            now = this.fetch()
          } catch (err) {
            // Rejected as not a fast-forward, it did not land; refused, it may have.
            if (pushed.kind === 'raced') throw err
            throw new ReproofError(
              'E_AMBIGUOUS',
              `${this.label}: the push ${pushed.kind === 'lost' ? 'did not answer' : 'was refused'} (${pushed.message}) and the ledger cannot be read back; the release may or may not be recorded, and a retry is safe`,
              { path: this.label },
              { cause: err },
            )
          }
          if (now !== undefined && this.contains(now, commit))
            return { done: this.verified(commit, result) }
          if (pushed.kind === 'refused' && now === read.tip) {
            // Refused while the branch stood still: not a race another attempt could win.
            throw new ReproofError(
              'E_ENVIRONMENT',
              `${this.label}: the remote refused the push: ${pushed.message}; the branch did not move, so another attempt would be refused too. Nothing was recorded`,
              { path: this.label },
            )
          }
          return { again: pushed }
        } catch (err) {
          // Interrupted after a push that may still land: not "nothing was written".
          const interrupted = err instanceof ReproofError && err.code === 'E_INTERRUPTED'
          if (interrupted && (pending.length > 0 || unanswered !== undefined))
            throw new ReproofError(
              'E_AMBIGUOUS',
              `${this.label}: interrupted after a push that did not land when it was read back, but may still; the release may or may not be recorded, and a retry is safe`,
              { path: this.label },
              { cause: err },
            )
          if (
            unanswered === undefined ||
            (err instanceof ReproofError && err.code === 'E_AMBIGUOUS')
          )
            throw err
          throw new ReproofError(
            'E_AMBIGUOUS',
            `${this.label}: a push did not answer (${unanswered}), and then: ${err instanceof Error ? err.message : String(err)}; the release may or may not be recorded, and a retry is safe`,
            { path: this.label },
            { cause: err },
          )
        }
      }),
    )
    if (outcome.ok) return outcome.value
    const last = outcome.reasons.at(-1)
    throw new ReproofError(
      'E_AMBIGUOUS',
      unanswered !== undefined
        ? `${this.label}: the push kept failing (${last?.message ?? unanswered}); after ${MAX_ATTEMPTS} attempts the ledger read back does not hold the record, but an unanswered push may still land: the release may or may not be recorded, and a retry is safe`
        : `${this.label}: other gates kept moving the ledger; nothing was recorded after ${MAX_ATTEMPTS} attempts, and a retry is safe`,
    )
  }

  /** A read of the ledger that failed: the user stopping it, or a ledger git cannot reach. */
  private readFailed(verb: 'read' | 'fetch', err: unknown): ReproofError {
    return (
      interruption(err) ??
      new ReproofError(
        'E_LEDGER',
        `${this.label}: cannot ${verb} the ledger: ${this.redact(gitSaid(err))}`,
        {},
        { cause: err },
      )
    )
  }

  private fetch(): string | undefined {
    let out: string
    try {
      out = this.git(['ls-remote', '--heads', '--', this.url, `refs/heads/${this.branch}`])
    } catch (err) {
      throw this.readFailed('read', err)
    }
    // ls-remote matches a pattern by its tail: `refs/heads/x/refs/heads/main` answers for
    // `main`. Only the branch itself says the ledger is there.
    const wanted = `refs/heads/${this.branch}`
    if (!out.split('\n').some((line) => line.split('\t')[1] === wanted)) return undefined
    try {
      this.git([
        'fetch',
        '-q',
        '--no-tags',
        '--',
        this.url,
        `+refs/heads/${this.branch}:refs/ledger/tip`,
      ])
    } catch (err) {
      throw this.readFailed('fetch', err)
    }
    // The branch names a commit, and nothing else: a tag object there was no ledger a
    // gate wrote, and became the parent of the next record (git refused it: exit 3,
    // "internal error").
    const [tip, type] = this.git([
      'for-each-ref',
      '--format=%(objectname) %(objecttype)',
      'refs/ledger/tip',
    ])
      .trim()
      .split(' ')
    if (tip === undefined || type !== 'commit')
      throw new ReproofError(
        'E_LEDGER',
        `${this.label}: the branch points at a ${type ?? 'nothing'} (${tip ?? ''}), not a commit; a gate writes only commits there, so the gate stops until a person has looked`,
        { path: this.label },
      )
    return tip
  }

  private commit(
    parent: string | undefined,
    before: Buffer,
    state: LedgerState,
    append: NonNullable<Step<unknown>['append']>,
  ): string {
    // The bytes read, and the new line after them: a commit only ever appends, and the
    // history check of every other machine holds it to that byte for byte.
    const line = `${recordBytes(append.record)}\n`
    checkAppendable(line, before.length, state, this.label)
    const text = Buffer.concat([before, Buffer.from(line)])
    const index = path.join(this.work, 'index')
    fs.rmSync(index, { force: true })
    const env = { GIT_INDEX_FILE: index }
    if (parent !== undefined) this.git(['read-tree', parent], { env })
    const ledgerBlob = this.git(['hash-object', '-w', '--stdin'], { input: text }).trim()
    const bundleBlob = this.git(['hash-object', '-w', '--stdin'], { input: append.bundle }).trim()
    this.git(['update-index', '--add', '--cacheinfo', `100644,${ledgerBlob},${LEDGER_FILE}`], {
      env,
    })
    this.git(
      [
        'update-index',
        '--add',
        '--cacheinfo',
        `100644,${bundleBlob},${keptBundleName(append.bundleDigest)}`,
      ],
      { env },
    )
    const tree = this.git(['write-tree'], { env }).trim()
    const r = append.record
    const message = `${r.env} #${r.seq}: ${r.action} ${r.digest}\n\nby ${r.actor}${r.reason === undefined ? '' : `\nreason: ${r.reason}`}\n`
    return this.git(['commit-tree', tree, ...(parent === undefined ? [] : ['-p', parent])], {
      input: message,
      env: {
        GIT_AUTHOR_NAME: 'reproof gate',
        GIT_AUTHOR_EMAIL: 'gate@reproof.invalid',
        GIT_COMMITTER_NAME: 'reproof gate',
        GIT_COMMITTER_EMAIL: 'gate@reproof.invalid',
        GIT_AUTHOR_DATE: r.at,
        GIT_COMMITTER_DATE: r.at,
      },
    }).trim()
  }

  /**
   * Fast-forward only: a push that would drop someone else's record is rejected by git
   * itself. Undefined when it landed, else why not.
   */
  private push(commit: string): PushFailure | undefined {
    try {
      this.git(['push', '--porcelain', '--', this.url, `${commit}:refs/heads/${this.branch}`])
      return undefined
    } catch (err) {
      // Killed at the time limit (or by a signal): the remote may be accepting it still,
      // whatever its hooks printed before (a policy banner read as a refusal, and the
      // record landed after "nothing was recorded").
      const e = err as { code?: string; signal?: string | null }
      if (e.code === 'ETIMEDOUT' || (e.signal !== undefined && e.signal !== null))
        return { kind: 'lost', message: `no answer within ${GIT_TIMEOUT_MS / 1000} s` }
      return classifyPushFailure(this.redact(errorText(err)))
    }
  }

  /** Whether the branch, read again from the URL gates read, holds `commit`. */
  private readBack(commit: string): boolean {
    let tip: string | undefined
    try {
      tip = this.fetch()
    } catch {
      return false
    }
    return tip !== undefined && this.contains(tip, commit)
  }

  private contains(tip: string, commit: string): boolean {
    try {
      this.git(['merge-base', '--is-ancestor', commit, tip])
      return true
    } catch {
      return false
    }
  }

  private git(
    args: string[],
    options: { input?: string | Buffer; env?: Record<string, string> } = {},
  ): string {
    return this.gitBytes(args, options).toString('utf8')
  }

  private gitBytes(
    args: string[],
    options: { input?: string | Buffer; env?: Record<string, string> } = {},
  ): Buffer {
    // Named with --git-dir, not found from a directory: a user's safe.bareRepository=explicit
    // (a hardening git recommends) refused every command run in the bare repository by -C.
    return runSync(['git', `--git-dir=${this.work}`, ...args], {
      ...(options.input === undefined ? {} : { input: options.input }),
      // A gate must never wait on a password prompt.
      env: { ...this.env, GIT_TERMINAL_PROMPT: '0', ...options.env },
      timeoutMs: GIT_TIMEOUT_MS,
      maxBuffer: MAX_LEDGER_BYTES + 1024 * 1024,
    })
  }
}

/**
 * A git read killed by Ctrl-C or SIGTERM (the terminal signals the whole process group,
 * git with it): the user stopping the gate, not a ledger that cannot be read (exit 3).
 * Killed at the time limit, it is no interruption (`ETIMEDOUT`).
 */
function interruption(err: unknown): ReproofError | undefined {
  const e = err as { code?: string; signal?: string | null }
  if (e.code === 'ETIMEDOUT' || !['SIGINT', 'SIGTERM', 'SIGHUP'].includes(e.signal ?? ''))
    return undefined
  return new ReproofError('E_INTERRUPTED', 'interrupted; nothing was written', {}, { cause: err })
}

/** The event loop turned once: signals that came while git ran are handled by now. */
function signalsDelivered(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * Why a push did not land, from what git said:
 * - `raced`: git refused it as not a fast-forward (another gate pushed first): decide
 *   again on the new tip;
 * - `refused`: the remote answered and said no (a hook, a protected branch, permissions):
 *   a race only if the branch moved meanwhile, else the same push will be refused again;
 * - `lost`: no answer (a dropped connection, a timeout): it may have landed.
 */
export type PushFailure =
  | { kind: 'raced'; message: string }
  | { kind: 'refused'; message: string }
  | { kind: 'lost'; message: string }

export function classifyPushFailure(text: string): PushFailure {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
  // `git push --porcelain` reports each ref as `!<tab><from>:<to><tab>[...] (<reason>)`;
  // without it, ` ! [rejected] ... (<reason>)`.
  const rejection = lines.find((l) => /^!\s.*\[(?:remote )?rejected\]/.test(l))
  const remote = lines
    .filter((l) => l.startsWith('remote:'))
    .map((l) => l.slice('remote:'.length).trim())
    .filter((l) => l !== '')
  const reason = /\(([^()]*)\)\s*$/.exec(rejection ?? '')?.[1]
  const message =
    [reason, ...remote].filter((l) => l !== undefined).join(': ') ||
    (lines.find(
      (l) =>
        !/^(?:To |Done$|hint:|Killed$|error: failed to push some refs|Command failed:)/.test(l),
    ) ??
      'no answer')
  if (rejection?.includes('[rejected]') === true) return { kind: 'raced', message }
  // The remote could not take the ref's lock, or found it moved under it: another push
  // held it (a server that runs hooks with the lock held, as Gitaly does). A race,
  // whether or not the branch has moved yet when it is read again.
  if (
    rejection !== undefined &&
    /cannot lock ref|failed to lock|unable to lock|is at [0-9a-f]+ but expected|reference already exists|incorrect old value/i.test(
      `${rejection}\n${remote.join('\n')}`,
    )
  )
    return { kind: 'raced', message }
  if (rejection !== undefined) return { kind: 'refused', message }
  // No ref was reported on: refused before any ref was looked at, for good (credentials,
  // permissions), or the connection failed. Read from what git and an ssh server said,
  // not from `remote:` lines: a hook prints those while the push may still land (a
  // banner "force pushes are denied to everyone" is no refusal of this one).
  const own = lines.filter((l) => !l.startsWith('remote:')).join('\n')
  if (
    /permission denied|permission to \S+ denied|access denied|denied to |not allowed to push|authentication failed|could not read (?:username|password)|returned error: 40[13]|repository not found|read-only/i.test(
      own,
    )
  )
    return { kind: 'refused', message }
  return { kind: 'lost', message }
}

/**
 * `text` with the secrets of `url` (its user, password and query, raw and decoded)
 * replaced by `***`, and the address itself by its form without them.
 */
export function redactAddress(text: string, url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return text.split(url).join(stripCredentials(url))
  }
  let out = text.split(url).join(stripCredentials(url))
  // The user alone is no secret (`ssh://git@host`), and replacing every `git` would
  // leave nothing to read; beside a password it may be a token.
  const secrets = [
    parsed.password === '' ? '' : parsed.username,
    parsed.password,
    parsed.search.slice(1),
  ]
    .flatMap((raw) => {
      let decoded = raw
      try {
        decoded = decodeURIComponent(raw)
      } catch {
        // kept raw
      }
      return [raw, decoded]
    })
    .filter((secret) => secret.length > 0)
    .sort((a, b) => b.length - a.length)
  for (const secret of secrets) out = out.split(secret).join('***')
  // Over http a user without a password is most often a token (`https://<token>@host`):
  // git names it in its prompts ("could not read Password for 'https://<token>@host'").
  // Cut where it stands before an @, so that a plain user's name elsewhere stays.
  if (parsed.password === '' && parsed.username !== '' && /^https?:$/.test(parsed.protocol)) {
    let decoded = parsed.username
    try {
      decoded = decodeURIComponent(parsed.username)
    } catch {
      // kept raw
    }
    // Before any host, in any case: git writes the host as given (`LocalHost`), where
    // the parser has it in lower case.
    for (const user of new Set([parsed.username, decoded])) out = out.split(`${user}@`).join('***@')
  }
  return out
}

function errorText(err: unknown): string {
  const e = err as { stdout?: Buffer | string; stderr?: Buffer | string; message?: string }
  // The message repeats stderr after the command line; it is the text only when git said nothing.
  const said = `${e.stdout?.toString() ?? ''}\n${e.stderr?.toString() ?? ''}`
  return said.trim() === '' ? (e.message ?? String(err)) : said
}

/**
 * The line of git's stderr that says what went wrong: its first `fatal:` or `error:`,
 * else its first line (git adds advice after the reason: "Please make sure you have the
 * correct access rights…"); the error's own message when git said nothing.
 */
function gitSaid(err: unknown): string {
  const e = err as { stderr?: Buffer | string; message?: string }
  const stderr = e.stderr?.toString() ?? ''
  const lines = (stderr.trim() === '' ? (e.message ?? String(err)) : stderr)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
  return lines.find((l) => /^(?:fatal|error):/.test(l)) ?? lines[0] ?? 'failed'
}

/**
 * The keys a ledger's checkpoints are kept under: the repository its address opens now,
 * shared by every spelling that reaches it (see {@link checkpointUrl}), and the address as
 * given, local paths made absolute but links not followed. With the first alone, an
 * address re-pointed to another repository (a link changed, or `ledger` made beside the
 * `ledger.git` it used to open) had no checkpoint, and a history cut back there was
 * taken for a new ledger. One key where the two are the same.
 */
function checkpointKeys(url: string, branch: string): string[] {
  const opened = `git:${checkpointUrl(url)}#${branch}`
  const local = localPath(url)
  const given = `git:${local === undefined ? remoteKey(url) : path.resolve(local).replace(/(.)\/+$/, '$1')}#${branch}`
  const itself = local === undefined ? undefined : repositoryIdentity(checkpointUrl(url), branch)
  return [...new Set([opened, given, ...(itself === undefined ? [] : [itself])])]
}

/**
 * A local repository by its directory's device, inode and birth time: a bind mount gives
 * it another real path, and a history cut back (a force push) was taken for a new ledger
 * through the other path (a superseded release recorded, `gate check` "ok"). Undefined
 * while there is no such directory.
 */
function repositoryIdentity(dir: string, branch: string): string | undefined {
  try {
    const stat = fs.statSync(dir, { bigint: true })
    if (!stat.isDirectory()) return undefined
    return `git-repository ${stat.dev}:${stat.ino}:${stat.birthtimeNs}#${branch}`
  } catch {
    return undefined
  }
}

/**
 * A ledger's repository as its checkpoint is kept by: one key for every spelling that
 * reaches one repository, so that what this machine verified is checked whichever is
 * used. With a key each, a branch replaced was recorded on by a spelling that had not
 * seen it before (`/srv/ledger` for `/srv/ledger.git`, a link to it). A local path is
 * the directory git opens for it, links resolved; a remote one, its host and path
 * without scheme, user, port, trailing slashes, `.git` or case, as forges serve them. Two
 * repositories taken for one would make each refuse the other's history: a stop, never
 * a replaced history passed.
 */
export function checkpointUrl(url: string): string {
  const local = localPath(url)
  return local === undefined ? remoteKey(url) : repositoryDir(path.resolve(local))
}

/**
 * The repository git opens for a local path: the first of `p/.git`, `p`, `p.git/.git`
 * and `p.git` that is a repository (git's own order), links resolved; a `.git` file
 * (`gitdir: …`, as `git worktree add` and submodules write) followed to the directory it
 * names; a linked work tree's directory taken as the repository it shares (its
 * `commondir`, where the branches are). The path itself when none is, as for a repository
 * not made yet. One repository under every spelling: a checkpoint keyed by another
 * spelling would not hold its history.
 */
function repositoryDir(p: string): string {
  const bare = p.replace(/\/+$/, '') || '/'
  for (const candidate of [`${bare}/.git`, bare, `${bare}.git/.git`, `${bare}.git`]) {
    const found = gitDirAt(candidate)
    if (found !== undefined) return found
  }
  return bare
}

/** The repository a candidate path is, as `repositoryDir` reads it, if it is one. */
function gitDirAt(candidate: string): string | undefined {
  try {
    let dir = candidate
    if (fs.statSync(candidate).isFile()) {
      // As git reads a gitfile: trailing line breaks dropped, a relative path taken from
      // the directory the file is in, links in it followed first (`link/../x` is the
      // parent of where the link leads, not the directory beside the link).
      const named = /^gitdir: (.+)$/s.exec(withoutLineEnds(readSmall(candidate)))?.[1]
      if (named === undefined) return undefined
      dir = path.resolve(fs.realpathSync(path.dirname(candidate)), named)
    }
    let common = dir
    const commondir = path.join(dir, 'commondir')
    if (isFileAt(commondir))
      common = path.resolve(fs.realpathSync(dir), withoutLineEnds(readSmall(commondir)))
    if (!fs.statSync(path.join(common, 'objects')).isDirectory()) return undefined
    if (!fs.statSync(path.join(dir, 'HEAD')).isFile()) return undefined
    return fs.realpathSync(common)
  } catch {
    return undefined
  }
}

/** Whether a regular file is at `p` (never a FIFO, whose opening would wait forever). */
function isFileAt(p: string): boolean {
  try {
    return fs.statSync(p).isFile()
  } catch {
    return false
  }
}

/** Text without the line breaks that end it, as git strips a gitfile and a commondir. */
function withoutLineEnds(text: string): string {
  return text.replace(/[\r\n]+$/, '')
}

/** A regular file of at most 64 KiB, as text (a gitfile, a commondir); never a FIFO. */
function readSmall(file: string): string {
  return readBounded(file, 64 * 1024, file).toString('utf8')
}

/** `https://Host:443/o/r.git/`, `ssh://git@host/o/r` and `git@host:o/r.git` alike: `remote:host/o/r`. */
function remoteKey(url: string): string {
  let host: string
  let where: string
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/\/)(.*)$/.exec(url)
  if (scp !== null) {
    host = scp[1] ?? ''
    where = scp[2] ?? ''
  } else {
    try {
      const parsed = new URL(url)
      host = parsed.hostname
      where = decodeURIComponent(parsed.pathname)
    } catch {
      return url.replace(/\/+$/, '')
    }
  }
  const trimmed = where.replace(/^\/+/, '').replace(/(?:\/|\.git)+$/i, '')
  return `remote:${host}/${trimmed}`.toLowerCase()
}
