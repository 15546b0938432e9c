import fs from 'node:fs'
import fsp from 'node:fs/promises'
import os from 'node:os'
import { pipeline } from 'node:stream/promises'
import { hashFile } from '../digest/hash-file.js'
import { detectFileFormat } from '../formats/detect.js'
import { Budget, type DiffLimits } from '../formats/limits.js'
import { fileSource, readHead } from '../formats/source.js'
import { stageFileAtomic, type StagedFile } from '../io/atomic-write.js'
import { NORMALIZERS } from './formats.js'
import { MiB, type Job, type NormalizeOutcome } from './job.js'
import { normalizeMemberFile } from './member-file.js'
import { isCanonical, type NormalizeRules } from './rules.js'
import { ownedTempDir } from '../owned-temp.js'
import { unreadable } from '../errors.js'
import { fileIdentity } from '../io/file-identity.js'

export type { NormalizedFormat, NormalizeOutcome } from './job.js'

/** One input normalized into a staged temp file, not yet in its output's place. */
export interface PreparedFile {
  outcome: NormalizeOutcome
  /** Puts the output in place (nothing to do when it is unchanged in place). */
  commit(): Promise<void>
  discard(): Promise<void>
}

/**
 * Normalizes one file towards `output` (which may be the input itself): detect the
 * format by content, read and check it whole, write the result to a temp file beside
 * the output. Nothing replaces the output until `commit`, so that every input of a run
 * is read and checked before the first is written. A file none of whose fields needs
 * changing comes out byte for byte as it went in, compressed data included; an
 * in-place run that changes nothing leaves the file untouched.
 */
export async function prepareFile(
  input: string,
  output: string,
  rules: NormalizeRules,
  limits: DiffLimits,
  /** Ctrl-C or SIGTERM: the readers stop at their next chunk, and nothing is put in place. */
  signal?: AbortSignal,
): Promise<PreparedFile> {
  const budget = new Budget(limits, signal)
  // An input that cannot be opened (no permission, as a user other than its owner) is
  // the input's problem, exit 2, not an internal error.
  const before = (
    await hashFile(input).catch((err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EACCES' || code === 'EPERM') throw unreadable(input, input, err)
      throw err
    })
  ).sha256
  const stat = await fsp.stat(input)
  // The same file by another path (a directory reached through a link) is in place too:
  // written as a new file, it lost its owner and its setuid bit.
  const inPlace = fileIdentity(input) === fileIdentity(output, { replaced: true })
  // Replaced in place, the file keeps its owner and every mode bit (setuid included);
  // written elsewhere, the new file is the caller's, with the input's permissions.
  const mode = stat.mode & (inPlace ? 0o7777 : 0o777)
  const owner = inPlace ? { uid: stat.uid, gid: stat.gid } : undefined
  const head = await readHead(fileSource(input), 64 * 1024)
  const format = detectFileFormat(head.subarray(0, 512))
  const work = ownedTempDir(os.tmpdir(), 'reproof-normalize-')
  const said: Job['said'] = { format: 'unknown', changes: [] }
  let staged: StagedFile<void> | undefined
  const job: Job = {
    input,
    work,
    rules,
    budget,
    canonical: isCanonical(rules),
    head,
    said,
    write: async (fill) => {
      staged = await stageFileAtomic(output, mode, fill, owner)
      const after = (await hashFile(staged.temp)).sha256
      if (inPlace && after === before) {
        await staged.discard()
        staged = undefined
      }
      return {
        input,
        output: staged === undefined ? null : output,
        format: said.format,
        mode: rules.mode,
        changed: after !== before,
        changes: after === before ? [] : said.changes,
        ...(said.kept === undefined ? {} : { kept: said.kept }),
        digests: { before, after },
      }
    },
    normalizeMember: (name, file, dir) => normalizeMemberFile(job, name, file, dir),
    keep: async () => {
      said.changes = []
      if (!inPlace)
        return job.write(async (out) => {
          await pipeline(fs.createReadStream(input, { highWaterMark: MiB }), out)
        })
      const digests = { before, after: before }
      const { format } = said
      const kept = said.kept === undefined ? {} : { kept: said.kept }
      return {
        input,
        output: null,
        format,
        mode: rules.mode,
        changed: false,
        changes: [],
        ...kept,
        digests,
      }
    },
  }
  try {
    const normalizer = format === undefined ? null : NORMALIZERS[format]
    // Not a format reproof normalizes: left as it is, and said so.
    const outcome = await (normalizer === null ? job.keep() : normalizer(job))
    const file = staged
    return {
      outcome,
      commit: async () => {
        await file?.commit()
      },
      discard: async () => {
        await file?.discard()
      },
    }
  } catch (err) {
    await staged?.discard()
    throw err
  } finally {
    await fsp.rm(work, { recursive: true, force: true })
  }
}

/**
 * Whether `prepareFile` would normalize `input` rather than keep it as it is: its first
 * bytes are of a format reproof normalizes. A cheap look before the whole work (a hash,
 * a temp dir and a copy of a file kept as it is).
 */
export async function isNormalizable(input: string): Promise<boolean> {
  const format = detectFileFormat(await readHead(fileSource(input), 512))
  return format !== undefined && NORMALIZERS[format] !== null
}

/** One file normalized and put in place at once (see prepareFile). */
export async function normalizeFile(
  input: string,
  output: string,
  rules: NormalizeRules,
  limits: DiffLimits,
): Promise<NormalizeOutcome> {
  const prepared = await prepareFile(input, output, rules, limits)
  await prepared.commit()
  return prepared.outcome
}
