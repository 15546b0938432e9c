import { isUtf8 } from 'node:buffer'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import * as v from 'valibot'
import { ReproofError, unreadable } from '../errors.js'
import {
  mkdirDurableSync,
  syncDir,
  whyWriteFailed,
  writeAllSync,
  writeFileAtomic,
  writeFileAtomicSync,
} from '../io/atomic-write.js'
import { asCommit } from '../io/commit-window.js'
import { withFileLock } from '../io/file-lock.js'
import {
  GENESIS,
  recordBytes,
  latestFromTheFuture,
  stateByRules,
  toState,
  type EnvState,
  type LedgerRecord,
  type LedgerState,
  type RecordedSigner,
} from './decide.js'
import type { Policy } from '../verify/policy.js'
import { MAX_BUNDLE_BYTES } from '../verify/run-verify.js'
import { sha256Hex } from '../sha256.js'
import { beginsWithWholeJson } from './json-prefix.js'

// A record is a few hundred bytes; a line near this is not one.
const MAX_LINE_BYTES = 64 * 1024
/** Far beyond any real history (a million records), and refused before it is read. */
export const MAX_LEDGER_BYTES = 256 * 1024 * 1024

/** Where a ledger keeps the bundle a record names, relative to the ledger's directory or tree. */
export function keptBundleName(bundleDigest: string): string {
  return `bundles/${bundleDigest}.sigstore.json`
}

export function ledgerTooBig(label: string, size: number): ReproofError {
  return new ReproofError(
    'E_LEDGER',
    `${label}: ${size} bytes, more than the ${MAX_LEDGER_BYTES} a ledger may hold; the gate stops until a person has looked (reproof gate check)`,
    { path: label },
  )
}
type FieldKind<T> = T extends string
  ? 'string'
  : T extends boolean
    ? 'boolean'
    : T extends number
      ? 'integer'
      : never

/**
 * How a record keeps each field of a verification policy. The compiler checks this
 * table against Policy both ways, so a field added to verification policies cannot go
 * unrecorded, or be dropped when `gate check` verifies a record again: it must be named
 * here first.
 */
const POLICY_FIELDS = {
  predicateType: 'string',
  builderId: 'string',
  buildType: 'string',
  sourceUri: 'string',
  repo: 'string',
  owner: 'string',
  sourceRef: 'string',
  sourceRefRegexp: 'string',
  sourceDigest: 'string',
  signerWorkflow: 'string',
  signerRepo: 'string',
  signerDigest: 'string',
  denySelfHostedRunners: 'boolean',
  requireReproduced: 'boolean',
  requireStatedByBuild: 'boolean',
  maxAgeMs: 'integer',
} as const satisfies { [K in keyof Required<Policy>]: FieldKind<Required<Policy>[K]> }

const PolicySchema = v.pipe(
  v.strictObject(
    Object.fromEntries(
      Object.entries(POLICY_FIELDS).map(([field, kind]) => [
        field,
        v.optional(
          kind === 'string'
            ? v.string()
            : kind === 'boolean'
              ? v.boolean()
              : v.pipe(v.number(), v.integer(), v.minValue(0)),
        ),
      ]),
    ),
  ),
  // Each field was checked against its kind in the table above, which matches Policy.
  v.transform((policy) => policy as Policy),
)

const SignerSchema = v.variant('kind', [
  v.strictObject({ kind: v.literal('key'), hint: v.string() }),
  v.strictObject({
    kind: v.literal('certificate'),
    subjectAlternativeName: v.string(),
    issuer: v.string(),
  }),
])
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
/** Compiles only while records keep exactly what verification reports as the signer. */
export type SignerIsRecorded<
  T extends true = Same<v.InferOutput<typeof SignerSchema>, RecordedSigner>,
> = T

const hex64 = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/))
const ENV_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const RecordSchema = v.strictObject({
  seq: v.pipe(v.number(), v.integer(), v.minValue(1)),
  env: v.pipe(v.string(), v.regex(ENV_NAME)),
  action: v.picklist(['deploy', 'rollback']),
  digest: hex64,
  bundleDigest: hex64,
  prev: hex64,
  at: v.string(),
  actor: v.string(),
  reason: v.optional(v.string()),
  version: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  format: v.optional(v.literal(2)),
  policy: v.optional(PolicySchema),
  signer: v.optional(SignerSchema),
})

/** What one pass of a transaction decided: maybe a record to append, and the answer. */
export interface Step<T> {
  append?: { record: LedgerRecord; bundle: Buffer; bundleDigest: string }
  result: T
}

export interface LedgerRead {
  /** What a decision needs: the chain's head and each environment's releases. */
  state: LedgerState
  /**
   * Every record. A file ledger read from its checkpoint gets its state without parsing
   * the records it verified before; they are parsed here, on first use (gate check, status).
   */
  readonly records: LedgerRecord[]
  /** Where a torn last line was moved, when one was found. */
  recovered: string | undefined
  /**
   * The ledger held records and this machine kept no checkpoint of it (another state
   * dir, a CI runner's fresh one): its records were checked against each other, not
   * against what this machine verified before, so a ledger cut back or rewritten before
   * this read cannot be seen. Said by every command; this read is the checkpoint from now.
   */
  unanchored: boolean
}

/**
 * The state after records a reader had not checked before, each replayed by the rules
 * from `from`: a forged record with a valid chain (a superseded release deployed again,
 * a record of the first form after the second, a time set back) stops every gate
 * command, as `gate check` would, instead of being reported as current or decided on.
 * `firstLine` is the line number of the first of them.
 */
export function ruledState(
  records: readonly LedgerRecord[],
  label: string,
  firstLine: number,
  from?: LedgerState,
): LedgerState {
  const ruled = stateByRules(records, from)
  if ('state' in ruled) return ruled.state
  const record = records[ruled.index]
  throw new ReproofError(
    'E_LEDGER',
    `${label}:${firstLine + ruled.index}: ${record?.env ?? ''} #${record?.seq ?? ''}: a record no gate writes (${ruled.why}); the gate stops until a person has looked`,
    { path: label },
  )
}

/**
 * Stops a reader whose ledger holds a time no gate could have written yet (a forged
 * record, or one from a gate whose clock ran far ahead): `gate check` calls it forged,
 * so status may not report from it nor a deploy or rollback decide on it (they were
 * refused as if this machine's clock were behind, until the record's date came).
 */
export function refuseFromTheFuture(read: LedgerRead, label: string, now: number): void {
  const why = latestFromTheFuture(read.state, now)
  if (why === undefined) return
  const index = read.records.findIndex((r) => r.at === read.state.latestAt)
  const record = read.records[index]
  const where = record === undefined ? label : `${label}:${index + 1}: ${record.env} #${record.seq}`
  throw new ReproofError(
    'E_LEDGER',
    `${where}: a record no gate writes (${why}); the gate stops until a person has looked`,
    { path: label },
  )
}

/** A read whose records are parsed only when asked for, once. */
export function ledgerRead(
  state: LedgerState,
  records: () => LedgerRecord[],
  recovered: string | undefined,
  unanchored = false,
): LedgerRead {
  let parsed: LedgerRecord[] | undefined
  return {
    state,
    get records() {
      parsed ??= records()
      return parsed
    },
    recovered,
    unanchored,
  }
}

/**
 * How a file ledger makes its writes durable: fsync(2) of a file, and of a directory.
 * A parameter so that a test can see that both happen before an answer is given.
 */
export interface Durability {
  fsync(fd: number): void
  syncDir(dir: string): Promise<void>
}

/**
 * What this machine last verified of a file ledger: its first `bytes` bytes (`records`
 * records), their SHA-256, and the state decisions need after them (the chain's head,
 * and each environment's sequence, current digest, every digest it released, and its
 * highest version). A later read whose first bytes hash the same starts from that state
 * and checks only the lines after them; one whose first bytes differ, or that is
 * shorter, was rewritten or cut.
 */
const count = v.pipe(v.number(), v.integer(), v.minValue(0))

/**
 * A JSON object read as a map, every key kept: valibot's record() drops the keys
 * `__proto__`, `prototype` and `constructor` without an issue, and an environment may be
 * named `prototype` or `constructor`. A checkpoint read without it started such an
 * environment over: a superseded release deployed again, its sequence numbers repeated.
 */
function mapOf<TValue extends v.GenericSchema>(
  key: v.GenericSchema<string, string>,
  value: TValue,
): v.GenericSchema<unknown, Record<string, v.InferOutput<TValue>>> {
  return v.pipe(
    v.custom<Record<string, unknown>>(
      (input) => typeof input === 'object' && input !== null && !Array.isArray(input),
      'must be an object',
    ),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const out = Object.create(null) as Record<string, v.InferOutput<TValue>>
      for (const [name, entry] of Object.entries(dataset.value)) {
        const parsedValue = v.safeParse(value, entry)
        if (!v.is(key, name) || !parsedValue.success) {
          addIssue({ message: `the entry ${JSON.stringify(name)} is not valid` })
          return NEVER
        }
        out[name] = parsedValue.output
      }
      return out
    }),
  )
}
const EnvCheckpointSchema = v.strictObject({
  seq: v.pipe(v.number(), v.integer(), v.minValue(1)),
  current: hex64,
  // Every digest ever current, each 64 hex digits, one after the other: one string to
  // parse, where ten thousand would cost as much as the records themselves.
  released: v.pipe(v.string(), v.regex(/^(?:[0-9a-f]{64})+$/)),
  version: v.optional(count),
  // Every rollback's key (rollbackKey), 64 hex digits each, one after the other.
  rollbacks: v.optional(v.pipe(v.string(), v.regex(/^(?:[0-9a-f]{64})+$/))),
  // The third form's last rollback: such a checkpoint is read again whole.
  lastRollback: v.optional(hex64),
  // The version each digest was deployed as (fifth form on): digest, then the version.
  versions: v.optional(mapOf(hex64, count)),
})
const FileCheckpointSchema = v.union([
  v.strictObject({
    // 4: every rollback of each environment is kept. A checkpoint of the second form
    // (none kept) or the third (each environment's last only) holds a state that may
    // have lost one: it is read as the first form is.
    // 5: and the version each digest was deployed as; a fourth-form checkpoint lacks them
    // and is read as the first form is.
    form: v.optional(v.union([v.literal(3), v.literal(4), v.literal(5)])),
    ledger: v.string(),
    bytes: count,
    sha256: hex64,
    records: count,
    head: hex64,
    // The latest time of any record, and whether one kept its policy and signer (fifth
    // form on): the rules a reader replays over the records after the checkpoint.
    latestAt: v.optional(v.string()),
    kept: v.optional(v.literal(true)),
    envs: mapOf(v.pipe(v.string(), v.regex(ENV_NAME)), EnvCheckpointSchema),
  }),
  // The first form, with sequence numbers only: its bytes are still checked, then the
  // whole chain is read again and the checkpoint rewritten in the form above.
  v.strictObject({
    ledger: v.string(),
    bytes: count,
    sha256: hex64,
    head: hex64,
    seqs: mapOf(v.string(), v.pipe(v.number(), v.integer(), v.minValue(1))),
  }),
])
type FileCheckpoint = v.InferOutput<typeof FileCheckpointSchema>
type EnvCheckpoint = v.InferOutput<typeof EnvCheckpointSchema>
/** The part of a checkpoint that holds a state. */
interface StateCheckpoint {
  head: string
  latestAt?: string | undefined
  kept?: true | undefined
  envs: Record<string, EnvCheckpoint>
}
/** What a checkpoint records as verified. */
interface Verified {
  bytes: number
  records: number
  sha256: string
  state: LedgerState
}

/** What a checkpoint keeps of a state, and back. */
function stateToCheckpoint(state: LedgerState): StateCheckpoint {
  const envs: Record<string, EnvCheckpoint> = {}
  for (const [name, env] of state.envs)
    envs[name] = {
      seq: env.seq,
      current: env.current ?? '',
      released: [...env.released].join(''),
      ...(env.version === undefined ? {} : { version: env.version }),
      ...(env.rollbacks.size === 0 ? {} : { rollbacks: [...env.rollbacks].join('') }),
      ...(env.versions.size === 0 ? {} : { versions: Object.fromEntries(env.versions) }),
    }
  return {
    head: state.head,
    ...(state.latestAt === undefined ? {} : { latestAt: state.latestAt }),
    ...(state.kept === true ? { kept: true as const } : {}),
    envs,
  }
}

/** 64-hex-digit digests written one after the other, as a checkpoint keeps them. */
function digestsIn(joined: string): Set<string> {
  const out = new Set<string>()
  for (let i = 0; i < joined.length; i += 64) out.add(joined.slice(i, i + 64))
  return out
}

function stateFromCheckpoint(checkpoint: StateCheckpoint): LedgerState {
  const envs = new Map<string, EnvState>()
  for (const [name, env] of Object.entries(checkpoint.envs)) {
    envs.set(name, {
      seq: env.seq,
      current: env.current,
      released: digestsIn(env.released),
      version: env.version,
      versions: new Map(Object.entries(env.versions ?? {})),
      rollbacks: digestsIn(env.rollbacks ?? ''),
    })
  }
  return {
    head: checkpoint.head,
    envs,
    ...(checkpoint.latestAt === undefined ? {} : { latestAt: checkpoint.latestAt }),
    ...(checkpoint.kept === true ? { kept: true } : {}),
  }
}

/** A read, with what the next checkpoint continues from: the bytes read and their hash. */
interface CheckedRead {
  read: LedgerRead
  bytes: number
  records: number
  hash: crypto.Hash
}

function verifiedBy(checked: CheckedRead): Verified {
  return {
    bytes: checked.bytes,
    records: checked.records,
    sha256: checked.hash.copy().digest('hex'),
    state: checked.read.state,
  }
}

/**
 * The release ledger in a local file: JSON lines, append-only, each line the canonical
 * bytes of a record whose `prev` is the SHA-256 of the line before. Reads validate the
 * whole chain; writes happen under an exclusive lock and are fsynced (file and
 * directory) before anyone is told.
 */
/**
 * What the gate needs of a ledger, wherever it is kept: a file under a kernel lock
 * ({@link FileLedger}) or a branch of a git remote (GitLedger). Opening one is the only
 * step with side effects before `transact`; `close` undoes them.
 */
export interface Ledger {
  /** The ledger as the user named it. */
  readonly label: string
  /** Where the records are, as errors that name a line say it. */
  readonly recordsLabel: string
  /**
   * Reads and checks the ledger, hands what it holds to `step` (a pure decision), writes
   * the record it returns durably, and only then returns its result.
   */
  transact<T>(
    step: (read: LedgerRead) => Step<T>,
    lockTimeoutMs: number,
    /** Aborted on Ctrl-C or SIGTERM: a wait for the lock ends (exit 130). */
    signal?: AbortSignal,
  ): Promise<T>
  /** The records as they stand, checked, without a lock: for choosing a bundle to verify. */
  peek(): LedgerRecord[]
  /**
   * Whether any read of this command so far (a peek included) found no checkpoint of a
   * ledger holding records: an answer given from such a read says so, whatever a later
   * read found (the first may have saved one).
   */
  readonly anyReadUnanchored: boolean
  /** For each kept bundle named: the digest of the bytes kept under its name, if any. */
  storedDigests(bundleDigests: readonly string[]): Map<string, string | undefined>
  /** A file holding the kept bundle, if there is one. */
  bundleFile(bundleDigest: string): string | undefined
  close(): void
}

export class FileLedger implements Ledger {
  anyReadUnanchored = false

  constructor(
    readonly file: string,
    private readonly durability: Durability = { fsync: fs.fsyncSync, syncDir },
    private readonly stateDir?: string,
  ) {}

  /**
   * The ledger's file as the kernel finds it, links resolved: every path that leads to
   * one ledger (a link to it, or to its directory) takes the same lock, keeps bundles in
   * the same place and has the same checkpoint. Two gates that reached one ledger by two
   * paths each took a lock of their own, and both appended the same sequence number.
   */
  private get real(): string {
    // Resolved once per command: a link swapped while it runs must not have the lock
    // taken on one file and the record appended to another.
    this.resolved ??= this.resolve()
    return this.resolved
  }

  private resolved: string | undefined
  /** The file the last read opened: an append must write to the same one. */
  private readIdentity: { dev: number; ino: number } | undefined

  private resolve(): string {
    // Relative to a working directory whose name is not UTF-8, the path Node builds
    // names another directory (its bytes read as U+FFFD), and a fresh ledger was made
    // there, beside the one meant.
    if (!path.isAbsolute(this.file) && !isUtf8(fs.realpathSync.native('.', { encoding: 'buffer' })))
      throw new ReproofError(
        'E_USAGE',
        `--ledger ${this.file}: the working directory's name is not UTF-8, so a path relative to it cannot be followed; give the ledger's absolute path`,
        { path: this.file },
      )
    const real = this.resolveUnchecked()
    // Node decodes a name that is not UTF-8 with U+FFFD in place of its bytes.
    if (real.includes('\uFFFD'))
      throw new ReproofError(
        'E_INPUT',
        `--ledger ${this.file}: it leads to a path whose name is not UTF-8; name the ledger by a path of UTF-8 names`,
        { path: this.file },
      )
    // The lock is kept beside the ledger as `<name>.lock`: a ledger of that name would be
    // another ledger's lock, and its records overwritten by that ledger's gate.
    if (real.endsWith('.lock'))
      throw new ReproofError(
        'E_INPUT',
        `--ledger ${this.file}: a ledger may not be named *.lock, which is the name of another ledger's lock`,
        { path: this.file },
      )
    return real
  }

  private resolveUnchecked(): string {
    try {
      // The kernel's reading (realpath(3)): `link/../x` is x beside what link points at,
      // not beside link, as Node's own realpath and path.resolve read it by text.
      const real = fs.realpathSync.native(this.file)
      const stat = fs.statSync(real)
      // Said before the links: a directory's count is of its subdirectories.
      if (!stat.isFile())
        throw new ReproofError(
          'E_INPUT',
          `--ledger ${this.file}: not a regular file (${stat.isDirectory() ? 'a directory' : 'a device, pipe or socket'}); name the ledger file itself`,
          { path: this.file },
        )
      // Hard links are names of one file that no path resolution joins: two gates, one
      // through each name, took two locks and appended the same sequence number.
      const links = stat.nlink
      if (links > 1)
        throw new ReproofError(
          'E_INPUT',
          `--ledger ${this.file}: the file has ${links} hard links; a ledger must have one name, or two gates could each lock their own`,
          { path: this.file },
        )
      return real
    } catch (err) {
      if (err instanceof ReproofError) throw err
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw unreadable(
          `--ledger ${this.file}`,
          this.file,
          err,
          'not there, or a parent is not a directory',
        )
    }
    // A link to nothing: appending would make a file wherever it points, under a lock
    // that another path to that file would not take.
    if (fs.lstatSync(this.file, { throwIfNoEntry: false })?.isSymbolicLink() === true)
      throw new ReproofError(
        'E_INPUT',
        `--ledger ${this.file}: a symbolic link to nothing; name the ledger file itself`,
        { path: this.file },
      )
    // Not there yet: its directory resolved, when that is there, as the kernel reads it.
    try {
      return path.join(
        fs.realpathSync.native(path.dirname(this.file) || '.'),
        path.basename(this.file),
      )
    } catch {
      return path.resolve(this.file)
    }
  }

  /**
   * Where this machine keeps its checkpoint of the ledger, when it has a state directory:
   * by the path as given, not as resolved. Keyed by the resolved file, a link re-pointed
   * at a fresh, shorter ledger found no checkpoint, and its history was taken as new
   * (a superseded release deployed again, exit 0). The checkpoint names the file it
   * verified; a path that now leads elsewhere stops the gate.
   */
  get checkpointFile(): string | undefined {
    return this.checkpointOf(path.resolve(this.file))
  }

  /**
   * Every checkpoint that speaks for this ledger: the one of the path as given, and the
   * one of the file it resolves to. By the path alone, the same file reached by another
   * path (a link to its directory) had no checkpoint, and a ledger cut back under the
   * first path was taken as new under the second, and written to ("recorded").
   */
  private get checkpointFiles(): string[] {
    const files = [
      this.checkpointFile,
      this.checkpointOf(this.real),
      this.fileCheckpoint,
      this.entryCheckpoint,
    ]
    return [...new Set(files.filter((f) => f !== undefined))]
  }

  /**
   * The checkpoint of the file itself, whatever path reaches it: by its device, inode and
   * birth time. A bind mount or a hard link gives one file another real path, and a
   * ledger cut back under one was taken as new under the other (a superseded release
   * recorded, `gate check` "ok"). Undefined while there is no file.
   */
  private get fileCheckpoint(): string | undefined {
    try {
      const stat = fs.statSync(this.real, { bigint: true })
      if (!stat.isFile()) return undefined
      return this.checkpointOf(`file ${stat.dev}:${stat.ino}:${stat.birthtimeNs}`)
    } catch {
      return undefined
    }
  }

  /**
   * The checkpoint of the ledger's name in its directory, by the directory's device, inode
   * and birth time: a bind mount of the directory reaches the same entry by another real
   * path, and a ledger replaced there (cp and mv, `sed -i`, an editor: a new file, a new
   * inode) by a cut-back copy was taken as new through the other path. Undefined while
   * there is no directory.
   */
  private get entryCheckpoint(): string | undefined {
    try {
      const dir = fs.statSync(path.dirname(this.real), { bigint: true })
      return this.checkpointOf(
        `entry ${dir.dev}:${dir.ino}:${dir.birthtimeNs}:${path.basename(this.real)}`,
      )
    } catch {
      return undefined
    }
  }

  private checkpointOf(file: string): string | undefined {
    if (this.stateDir === undefined) return undefined
    const key = sha256Hex(file).slice(0, 32)
    return path.join(this.stateDir, 'file-ledgers', `${key}.json`)
  }

  get label(): string {
    return this.file
  }

  /** Where the records are, as errors that name a line say it. */
  get recordsLabel(): string {
    return this.file
  }

  /** Bundles are kept beside the ledger, named by their digest. */
  private kept(bundleDigest: string): string {
    return path.join(path.dirname(this.real), keptBundleName(bundleDigest))
  }

  /** What the store holds under each name: the SHA-256 of its bytes, or undefined. */
  storedDigests(bundleDigests: readonly string[]): Map<string, string | undefined> {
    const found = new Map<string, string | undefined>()
    for (const digest of new Set(bundleDigests)) {
      const file = this.kept(digest)
      const stat = fs.statSync(file, { throwIfNoEntry: false })
      // Anything past what a bundle may be is not one; it is not read to find that out.
      found.set(
        digest,
        stat === undefined
          ? undefined
          : !stat.isFile()
            ? 'not a file'
            : stat.size > MAX_BUNDLE_BYTES
              ? `more than ${MAX_BUNDLE_BYTES} bytes`
              : sha256Hex(fs.readFileSync(file)),
      )
    }
    return found
  }

  bundleFile(bundleDigest: string): string | undefined {
    const file = this.kept(bundleDigest)
    return fs.existsSync(file) ? file : undefined
  }

  /**
   * Read, decide and append under the lock. The bundle is stored before the record that
   * names it, so a crash between the two leaves an unreferenced bundle, never a record
   * whose bundle is missing.
   */
  async transact<T>(
    step: (read: LedgerRead) => Step<T>,
    lockTimeoutMs: number,
    signal?: AbortSignal,
  ): Promise<T> {
    // A ledger not made yet is read as empty without its lock, so that a read (status,
    // history, check) creates nothing; a step that appends takes the lock as always.
    // Not when this machine has verified records there before: that is a ledger cut,
    // which the locked read refuses.
    // Only a ledger that is not there: one that cannot be read (a file where its
    // directory should be, a loop of links, no permission) is an error, as always.
    const checkpoint = this.loadCheckpoint()
    if (isMissing(this.real) && (checkpoint?.bytes ?? 0) === 0) {
      // No checkpoint: a ledger deleted reads as one never made, and is said so.
      const unanchored = checkpoint === undefined
      this.anyReadUnanchored ||= unanchored
      const { append, result } = step(ledgerRead(toState([]), () => [], undefined, unanchored))
      if (append === undefined) return result
    }
    return this.withLock(
      async () => {
        const checked = this.checkedRead()
        const { append, result } = step(checked.read)
        if (append === undefined) {
          // The answer may rest on a record a gate appended and synced, then died before
          // it synced the ledger's directory (a ledger made just then): the read synced
          // the file; its directory entry is made durable too, before anything is said.
          try {
            await this.syncDirectory()
          } catch (err) {
            throw new ReproofError(
              'E_AMBIGUOUS',
              `${this.file}: the ledger's directory could not be synced (${(err as Error).message}); what it holds may not last, and a retry is safe`,
              { path: this.file },
              { cause: err },
            )
          }
          return result
        }
        const line = `${recordBytes(append.record)}\n`
        checkAppendable(line, checked.bytes, checked.read.state, this.file)
        await asCommit(async () => {
          // Kept unless the store holds exactly these bytes under the name already: a
          // record must never name a bundle the store does not have.
          const { bundleDigest } = append
          const kept = this.kept(bundleDigest)
          if (this.storedDigests([bundleDigest]).get(bundleDigest) !== bundleDigest)
            await writeFileAtomic(kept, append.bundle)
          else {
            // Found, but maybe only in the page cache: a gate killed between its rename
            // and the sync of the store's directory left it so, and the record about to
            // be made durable must not outlive its bundle across a power cut.
            const fd = fs.openSync(kept, 'r')
            try {
              this.durability.fsync(fd)
            } finally {
              fs.closeSync(fd)
            }
            await this.durability.syncDir(path.dirname(kept))
          }
          this.append(line, checked.bytes)
          try {
            await this.syncDirectory()
          } catch (err) {
            // The line is written and synced; the directory entry of a ledger made just
            // now may not be. Not "nothing was recorded", and not recorded either.
            throw new ReproofError(
              'E_AMBIGUOUS',
              `${this.file}: the record was written, but its directory could not be synced (${(err as Error).message}); it may or may not be recorded, and a retry is safe`,
              { path: this.file },
              { cause: err },
            )
          }
          // The record was decided on the state just checked: the ledger is verified up to
          // and including it, and the next gate starts from there. The record is durable
          // now: a checkpoint that cannot be written (a full state disk) does not unsay it;
          // the next read verifies the new lines from the checkpoint before, and writes it.
          try {
            this.saveCheckpoint({
              bytes: checked.bytes + Buffer.byteLength(line),
              records: checked.records + 1,
              sha256: checked.hash.update(line).digest('hex'),
              state: toState([append.record], checked.read.state),
            })
          } catch {
            // said above
          }
        })
        return result
      },
      lockTimeoutMs,
      signal,
    ).catch((err: unknown) => {
      // A system call failing before the record's line is written (the read's fsync, the
      // bundle's store): every one from the line on is said above, as recorded, taken
      // back or unknown.
      throw systemFailure(err, this.file, '; nothing was recorded')
    })
  }

  close(): void {
    // Nothing held between calls.
  }

  /**
   * The complete records as they stand, for lookups outside the lock. Changes nothing:
   * a partial last line may be another gate's append in progress, so it is left for the
   * next locked read to judge.
   */
  peek(): LedgerRecord[] {
    try {
      return this.peekRecords()
    } catch (err) {
      throw systemFailure(err, this.file)
    }
  }

  private peekRecords(): LedgerRecord[] {
    // The checkpoint first: read after the bytes, another gate's append in between would
    // move it past them, and a sound ledger would look cut back.
    const checkpoint = this.loadCheckpoint()
    const bytes = this.readBytes() ?? Buffer.alloc(0)
    // A ledger cut back or rewritten under what this machine verified stops every gate
    // command (exit 3), this lookup too: answered from it, a rollback was refused as
    // "never released" (a no), as if the ledger were sound.
    if (
      checkpoint !== undefined &&
      (bytes.length < checkpoint.bytes ||
        sha256Hex(bytes.subarray(0, checkpoint.bytes)) !== checkpoint.sha256)
    )
      throw this.cut(checkpoint.bytes)
    this.checkShorter(bytes)
    const records = parseLedger(
      ledgerText(bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1), this.file),
      this.file,
    )
    this.anyReadUnanchored ||= checkpoint === undefined
    return records
  }

  /**
   * Reads and checks the chain; only under the lock. A torn last line (a crash
   * mid-append) is moved aside and cut off.
   */
  read(): LedgerRead {
    try {
      return this.checkedRead().read
    } catch (err) {
      throw systemFailure(err, this.file)
    }
  }

  private checkedRead(): CheckedRead {
    const bytes = this.readBytes(true) ?? Buffer.alloc(0)
    let recovered: string | undefined
    const end = bytes.lastIndexOf(0x0a) + 1
    if (end < bytes.length) {
      const torn = bytes.subarray(end)
      // Only what was never acknowledged is cut: not bytes this machine verified, and
      // not a whole record whose line break was taken away (an acknowledged release,
      // which cutting would make disappear while `gate check` said the ledger was fine).
      if ((this.loadCheckpoint()?.bytes ?? 0) > end) throw this.cut()
      if (torn.length > MAX_LINE_BYTES || beginsWithWholeJson(torn))
        throw new ReproofError(
          'E_LEDGER',
          `${this.file}: the last line holds a whole record but no line break (cut or edited); an append never ends so, so the gate stops until a person has looked`,
          { path: this.file },
        )
      // Only the tail of a ledger is cut, and only what begins as a record does: a file
      // that is no ledger (notes, a tar given as --ledger) was cut, its tail moved aside,
      // before its first line was found to be no record. The whole lines are checked
      // first, so that nothing is cut from a file they do not make a ledger of. Or zeros:
      // a file system that grew the file before its data reached the disk (XFS, ext4 in
      // writeback mode) reads an append cut by a power failure as NUL bytes.
      if (torn[0] !== 0x7b && torn[0] !== 0x00)
        throw new ReproofError(
          'E_LEDGER',
          `${this.file}: its last line is no part of a record (a record's line begins with "{"); this is no ledger reproof wrote, and nothing was changed`,
          { path: this.file },
        )
      const whole = this.checked(bytes.subarray(0, end), undefined)
      // Never silently kept, never silently dropped: the fragment is kept as evidence.
      recovered = `${this.real}.torn-${sha256Hex(torn).slice(0, 16)}`
      // Durable before the cut: a crash between the two must not keep the cut and lose
      // the fragment.
      writeFileAtomicSync(recovered, torn)
      fs.truncateSync(this.real, end)
      const fd = fs.openSync(this.real, 'r+')
      this.durability.fsync(fd)
      fs.closeSync(fd)
      return {
        ...whole,
        read: ledgerRead(
          whole.read.state,
          () => whole.read.records,
          recovered,
          whole.read.unanchored,
        ),
      }
    }
    return this.checked(bytes, recovered)
  }

  /**
   * The state after `bytes`, the whole chain checked: from the checkpoint on when this
   * machine verified the same first bytes before (those records are parsed only if
   * someone asks for them), from the first line otherwise.
   */
  private checked(bytes: Buffer, recovered: string | undefined): CheckedRead {
    const checkpoint = this.loadCheckpoint()
    const fromStart = (unanchored = false): CheckedRead => {
      const records = parseLedger(ledgerText(bytes, this.file), this.file)
      // An empty or missing ledger read with no checkpoint is unanchored too: one deleted
      // (a branch removed) reads the same as one never written, and a release superseded
      // would then deploy again as the first record.
      this.anyReadUnanchored ||= unanchored
      return {
        read: ledgerRead(ruledState(records, this.file, 1), () => records, recovered, unanchored),
        bytes: bytes.length,
        records: records.length,
        hash: crypto.createHash('sha256').update(bytes),
      }
    }
    if (checkpoint === undefined) {
      const read = fromStart(true)
      this.saveCheckpoint(verifiedBy(read))
      return read
    }
    const prefix = bytes.subarray(0, checkpoint.bytes)
    // Continued over the rest of the bytes for the next checkpoint.
    const hash = crypto.createHash('sha256').update(prefix)
    if (bytes.length < checkpoint.bytes || hash.copy().digest('hex') !== checkpoint.sha256)
      throw this.cut(checkpoint.bytes)
    this.checkShorter(bytes)
    if (!('envs' in checkpoint) || checkpoint.form !== 5) {
      // The first four forms keep too little to decide from (the second no rollback, the
      // third each environment's last, so a rollback repeated would pass, the fourth no
      // digest's version): read the whole chain again.
      const read = fromStart()
      this.saveCheckpoint(verifiedBy(read))
      return read
    }
    const known = stateFromCheckpoint(checkpoint)
    const seqs = new Map([...known.envs].map(([env, state]) => [env, state.seq]))
    const from = checkpoint.records + 1
    const tail = parseLedger(
      ledgerText(bytes.subarray(checkpoint.bytes), this.file, from),
      this.file,
      {
        head: checkpoint.head,
        seqs,
        line: from,
      },
    )
    const read: CheckedRead = {
      read: ledgerRead(
        ruledState(tail, this.file, checkpoint.records + 1, known),
        // Verified bytes: each line is a canonical record already (one JSON object, no
        // line break inside), so parsing is enough, as one array: a third faster than
        // line by line.
        () => [
          ...(prefix.length === 0
            ? []
            : (JSON.parse(
                `[${prefix.toString('utf8').slice(0, -1).replaceAll('\n', ',')}]`,
              ) as LedgerRecord[])),
          ...tail,
        ],
        recovered,
      ),
      bytes: bytes.length,
      records: checkpoint.records + tail.length,
      hash: hash.update(bytes.subarray(checkpoint.bytes)),
    }
    if (tail.length > 0) this.saveCheckpoint(verifiedBy(read))
    return read
  }

  /** The ledger no longer starts with the bytes this machine verified. */
  private cut(bytes = this.loadCheckpoint()?.bytes ?? 0): ReproofError {
    return new ReproofError(
      'E_LEDGER',
      `${this.file}: its first ${bytes} bytes are not the ones this machine verified (checkpoint ${this.checkpointFiles.filter((f) => fs.existsSync(f)).join(', ')}): the ledger was cut or rewritten; a ledger only ever grows by appended records, so the gate stops until a person has looked`,
      { path: this.file },
    )
  }

  /**
   * What this machine verified of the ledger: of its checkpoints (see checkpointFiles),
   * the one that verified the most bytes, once each has been found to be of this file
   * and every one a prefix of the others, so that each must still hold.
   */
  private loadCheckpoint(): FileCheckpoint | undefined {
    let most: FileCheckpoint | undefined
    const found: { file: string; checkpoint: FileCheckpoint }[] = []
    const itself = this.fileCheckpoint
    const entry = this.entryCheckpoint
    for (const file of this.checkpointFiles) {
      const checkpoint = readCheckpoint(
        file,
        FileCheckpointSchema,
        (c) => {
          // The file's own checkpoint is of this file, by whichever path it was verified;
          // its directory entry's, of whatever file that name holds now.
          if (c.ledger === this.real || file === itself || file === entry) return true
          throw new ReproofError(
            'E_LEDGER',
            `${file}: not the checkpoint of ${this.file}: it verified ${c.ledger}, and the path now leads to ${this.real} (a link on the way re-pointed, or the checkpoint edited); the gate stops until a person has looked`,
            { path: file },
          )
        },
        this.file,
      )
      if (checkpoint === undefined) continue
      found.push({ file, checkpoint })
      if (most === undefined || checkpoint.bytes > most.bytes) most = checkpoint
    }
    // Two that verified the same count of bytes must have verified the same bytes; a
    // shorter one is checked against the ledger when it is read (each prefix is hashed).
    for (const { file, checkpoint } of found)
      if (checkpoint.bytes === most?.bytes && checkpoint.sha256 !== most.sha256)
        throw new ReproofError(
          'E_LEDGER',
          `${file}: this machine's checkpoints of ${this.file} disagree on its first ${checkpoint.bytes} bytes: the ledger was rewritten between them; the gate stops until a person has looked`,
          { path: file },
        )
    this.shorter = found.map((f) => f.checkpoint).filter((c) => c !== most)
    return most
  }

  /** The checkpoints loadCheckpoint found beside the one it returned: each must hold too. */
  private shorter: FileCheckpoint[] = []

  private checkShorter(bytes: Buffer): void {
    for (const c of this.shorter)
      if (bytes.length < c.bytes || sha256Hex(bytes.subarray(0, c.bytes)) !== c.sha256)
        throw this.cut(c.bytes)
  }

  /** Keeps what was verified; written atomically, so a crash leaves the old checkpoint or the new. */
  private saveCheckpoint({ bytes, records, sha256, state }: Verified): void {
    const checkpoint: FileCheckpoint = {
      form: 5,
      ledger: this.real,
      bytes,
      sha256,
      records,
      ...stateToCheckpoint(state),
    }
    for (const file of this.checkpointFiles) {
      fs.mkdirSync(path.dirname(file), { recursive: true })
      writeFileAtomicSync(file, `${JSON.stringify(checkpoint)}\n`)
    }
  }

  /**
   * The ledger's bytes, or undefined when there is none yet; bounded before reading.
   * `durable`: made durable first (under the lock): a gate killed between its write and
   * its fsync left its record in the page cache only, and a retry that found it there
   * answered "unchanged" of a record a power cut could still take away. And its last
   * line written again first: after an fsync that failed (EIO) Linux marks the pages it
   * could not write clean, so a retry's own fsync succeeded with nothing to write and
   * the retry answered "unchanged" of a record the disk never got.
   */
  private readBytes(durable = false): Buffer | undefined {
    let fd: number
    try {
      // Without blocking: a FIFO in the ledger's place would hold the open forever.
      const mode = durable ? fs.constants.O_RDWR : fs.constants.O_RDONLY
      fd = fs.openSync(this.real, mode | fs.constants.O_NONBLOCK)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    try {
      const stat = fs.fstatSync(fd)
      this.readIdentity = { dev: stat.dev, ino: stat.ino }
      // A device's size says nothing of what it gives (/dev/zero never ends).
      if (!stat.isFile())
        throw new ReproofError('E_INPUT', `${this.file}: not a regular file`, { path: this.file })
      if (stat.size > MAX_LEDGER_BYTES) throw ledgerTooBig(this.file, stat.size)
      const bytes = fs.readFileSync(fd)
      if (durable) {
        // The same bytes at the same place: a crash mid-write leaves them as they were.
        // Only the last line can be one an append did not make durable: every append
        // reads so under the lock before its own.
        const last = bytes.lastIndexOf(0x0a, bytes.length - 2) + 1
        if (last < bytes.length) writeAllSync(fd, bytes.subarray(last), last)
        this.durability.fsync(fd)
      }
      return bytes
    } finally {
      fs.closeSync(fd)
    }
  }

  /**
   * Appends one record's line and makes it durable before returning. `after`: the bytes
   * the decision was made on; the file must still be the one read, of that length (a
   * ledger replaced or cut back under the lock got a record chained to one it no
   * longer held, and "recorded" was said of a line no reader then accepts).
   */
  private append(line: string, after: number): void {
    const file = this.real
    // Every directory above it synced, made now or not: a gate that died between its
    // mkdir and the sync left them, and this record is acknowledged below them.
    mkdirDurableSync(path.dirname(file), { ancestors: true })
    const fd = fs.openSync(file, 'a')
    try {
      const stat = fs.fstatSync(fd)
      const before = stat.size
      const read = this.readIdentity
      if (
        before !== after ||
        (read !== undefined && (read.dev !== stat.dev || read.ino !== stat.ino))
      )
        throw new ReproofError(
          'E_LEDGER',
          `${this.file}: the ledger changed while this gate held its lock (${before} bytes where ${after} were read${read !== undefined && read.ino !== stat.ino ? ', another file' : ''}); nothing was recorded`,
          { path: this.file },
        )
      try {
        // All of the line or an error: a short write (a full disk, a file size limit)
        // once left part of a record and answered "recorded".
        writeAllSync(fd, line)
        this.durability.fsync(fd)
      } catch (err) {
        // Never acknowledged, so taken back. "Nothing was recorded" only once the file
        // is its old length again, durably: a whole line the fsync failed on is read back
        // as a record (the page cache has it), and was counted after that answer.
        let takenBack = false
        try {
          fs.ftruncateSync(fd, before)
          this.durability.fsync(fd)
          takenBack = true
        } catch {
          // said below
        }
        if (!takenBack)
          throw new ReproofError(
            'E_AMBIGUOUS',
            `${this.file}: the record could not be made durable (${whyWriteFailed(err)}) nor taken back; whether it is recorded is unknown, and a retry is safe`,
            { path: this.file },
            { cause: err },
          )
        throw new ReproofError(
          'E_ENVIRONMENT',
          `${this.file}: the record could not be appended (${whyWriteFailed(err)}); nothing was recorded`,
          { path: this.file },
          { cause: err },
        )
      }
    } finally {
      // After the fsync a close can report nothing about the record's bytes, and on a
      // failure the error above is the one to say: it was an internal error, exit 3,
      // for a record that was durable.
      try {
        fs.closeSync(fd)
      } catch {
        // nothing to add
      }
    }
  }

  async syncDirectory(): Promise<void> {
    await this.durability.syncDir(path.dirname(this.real))
  }

  /**
   * Runs `work` holding the ledger's lock, `<ledger>.lock` (see withFileLock), and a lock
   * on the ledger file itself: a file bind-mounted at a second path (a container's
   * volume) has a `.lock` beside each path, so two gates each took their own and both
   * appended; the file's own lock is one whatever path reaches it.
   */
  async withLock<T>(work: () => Promise<T>, timeoutMs: number, signal?: AbortSignal): Promise<T> {
    // Said before the lock is taken: a FIFO or a device there was refused under it, and
    // its `.lock` was left beside it.
    const there = fs.statSync(this.real, { throwIfNoEntry: false })
    if (there !== undefined && !there.isFile())
      throw new ReproofError('E_INPUT', `${this.file}: not a regular file`, { path: this.file })
    mkdirDurableSync(path.dirname(this.real))
    return withFileLock(
      `${this.real}.lock`,
      timeoutMs,
      () => withFileLock(this.real, timeoutMs, work, 'data', signal),
      'lock',
      signal,
    )
  }
}

/** Whether nothing is at `file`: ENOENT only (Node's throwIfNoEntry takes ENOTDIR too). */
function isMissing(file: string): boolean {
  try {
    fs.statSync(file)
    return false
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true
    throw unreadable(`--ledger ${file}`, file, err)
  }
}

/**
 * Parses and checks the whole chain: every line a valid record in canonical form,
 * linked to the previous line's hash, with per-environment sequence numbers going up
 * by one. Any break stops the gate, naming the line: a person must decide.
 */
/**
 * A system call's failure (a disk's EIO, a permission refused) said as the machine's
 * (exit 3, naming the ledger), not as reproof's own ("internal error"); anything else as
 * it is.
 */
export function systemFailure(err: unknown, label: string, after = ''): unknown {
  if (err instanceof ReproofError || typeof (err as { syscall?: unknown }).syscall !== 'string')
    return err
  return new ReproofError(
    'E_ENVIRONMENT',
    `${label}: ${(err as Error).message}${after}`,
    { path: label },
    { cause: err },
  )
}

/**
 * A ledger's bytes as text, refused (naming the line) where they are not UTF-8. Decoded
 * leniently, a stray byte became U+FFFD: the record passed as canonical, its hash bound
 * the replacement rather than the byte, and a git ledger's next commit, written from
 * the records read, changed the earlier line, which every other machine then refused.
 * A byte-order mark is kept, so that a line that starts with one is no record.
 */
export function ledgerText(bytes: Buffer, file: string, firstLine = 1): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    let line = firstLine
    for (let start = 0; start < bytes.length; line++) {
      const eol = bytes.indexOf(0x0a, start)
      const end = eol === -1 ? bytes.length : eol
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, end))
      } catch {
        break
      }
      start = end + 1
    }
    throw new ReproofError(
      'E_LEDGER',
      `${file}:${line}: not UTF-8 text, which no gate writes; the gate stops until a person has looked (reproof gate check)`,
      { path: file },
    )
  }
}

export function parseLedger(
  text: string,
  file: string,
  // Where the text starts in a chain verified up to there (FileLedger's checkpoint).
  from: { head: string; seqs: Map<string, number>; line: number } = {
    head: GENESIS,
    seqs: new Map(),
    line: 1,
  },
): LedgerRecord[] {
  const records: LedgerRecord[] = []
  const seqs = new Map(from.seqs)
  let head = from.head
  const bad = (line: number, what: string): ReproofError =>
    new ReproofError(
      'E_LEDGER',
      `${file}:${line + from.line - 1}: ${what}; the gate stops until a person has looked (reproof gate check)`,
      { path: file },
    )
  if (text === '') return records
  const lines = text.split('\n')
  // A whole ledger ends with a newline. A file ledger's reader cuts a torn tail off before
  // parsing; anywhere else (a git ledger is written a whole commit at a time) a last line
  // without one was cut or edited, and dropping it would make the last acknowledged
  // release silently disappear.
  if (lines.pop() !== '')
    throw bad(lines.length + 1, 'the last line ends without a newline (cut or edited)')
  for (const [i, line] of lines.entries()) {
    if (Buffer.byteLength(line) > MAX_LINE_BYTES) throw bad(i + 1, 'line too long to be a record')
    let json: unknown
    try {
      json = JSON.parse(line)
    } catch {
      throw bad(i + 1, 'not JSON')
    }
    const parsed = v.safeParse(RecordSchema, json)
    if (!parsed.success)
      throw bad(
        i + 1,
        `not a ledger record (${parsed.issues[0].message} at ${v.getDotPath(parsed.issues[0]) ?? 'the top'})`,
      )
    const record = parsed.output
    // Format 2 keeps what the record was verified with; a record without it is format 1.
    if ((record.format === 2) !== (record.policy !== undefined && record.signer !== undefined))
      throw bad(i + 1, 'format 2 records, and only they, carry both policy and signer')
    if (recordBytes(record) !== line) throw bad(i + 1, 'not in canonical form (edited by hand?)')
    if (record.prev !== head)
      throw bad(
        i + 1,
        `its prev ${record.prev.slice(0, 12)} is not the hash of the record before (${head.slice(0, 12)}): the chain is broken`,
      )
    const expected = (seqs.get(record.env) ?? 0) + 1
    if (record.seq !== expected)
      throw bad(i + 1, `sequence ${record.seq} in ${record.env}, expected ${expected}`)
    seqs.set(record.env, record.seq)
    // The line is the record's canonical bytes (checked above), so hash it as it is.
    head = recordHashOfLine(line)
    records.push(record)
  }
  return records
}

/**
 * The reader's own checks on a record's line, before it is written: a line no reader
 * accepts (one over MAX_LINE_BYTES, from a large policy) or a ledger grown past
 * MAX_LEDGER_BYTES would be answered "recorded" here, then refused as corrupt by every
 * reader without this machine's checkpoint, a git ledger's on every machine. Nothing is
 * written when it fails.
 */
export function checkAppendable(
  line: string,
  sizeBefore: number,
  state: LedgerState,
  label: string,
): void {
  const size = Buffer.byteLength(line)
  if (sizeBefore + size > MAX_LEDGER_BYTES)
    throw new ReproofError(
      'E_LEDGER',
      `${label}: the record would take the ledger past the ${MAX_LEDGER_BYTES} bytes a ledger may hold; nothing was recorded. Start a new ledger, and keep this one for its history`,
      { path: label },
    )
  if (size - 1 > MAX_LINE_BYTES)
    throw new ReproofError(
      'E_INPUT',
      `${label}: the record would be ${size - 1} bytes, more than the ${MAX_LINE_BYTES} a ledger line may hold (its policy is too large); nothing was recorded`,
      { path: label },
    )
  try {
    parseLedger(line, label, {
      head: state.head,
      seqs: new Map([...state.envs].map(([env, s]) => [env, s.seq])),
      line: 1,
    })
  } catch (err) {
    throw new ReproofError(
      'E_LEDGER',
      `${label}: the record this gate would write is one no reader accepts (${(err as Error).message}); nothing was recorded`,
      { path: label },
      { cause: err },
    )
  }
}

/** The hash the next record's `prev` names: SHA-256 of the record's canonical line. */
function recordHashOfLine(line: string): string {
  return sha256Hex(line)
}

/**
 * A checkpoint file (this module's, or a git ledger's), or undefined when there is none.
 * One that is not a checkpoint, or not of `label`, stops the gate: it is this machine's
 * memory of what it verified, and guessing past it would forget that.
 */
export function readCheckpoint<T>(
  file: string,
  schema: v.GenericSchema<unknown, T>,
  belongs: (checkpoint: T) => boolean,
  label: string,
): T | undefined {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  const parsed = v.safeParse(schema, json)
  if (!parsed.success || !belongs(parsed.output))
    throw new ReproofError(
      'E_LEDGER',
      `${file}: not the checkpoint of ${label}; the gate stops until a person has looked`,
      { path: file },
    )
  return parsed.output
}
