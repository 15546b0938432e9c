import { once } from 'node:events'
import fs from 'node:fs'
import { PassThrough, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ReproofError } from '../errors.js'
import { decompressedSource } from '../formats/compressed.js'
import { detectFormat } from '../formats/detect.js'
import { fileSource, readHead } from '../formats/source.js'
import { blockGzip } from '../io/block-gzip.js'
import { BlockPool } from '../io/block-pool.js'
import {
  gzipBodyOffset,
  gzipMemberRun,
  type GzipMember,
  type GzipMemberRun,
} from '../formats/gzip-members.js'
import { discard, MiB, type Job, type NormalizeOutcome } from './job.js'
import { describeTar, normalizeTar } from './tar.js'

// Where a gzip header ends is the formats' to say; normalizing uses it too.
export { gzipBodyOffset }

// gzip's own default: the same size as gzip -n gives, at half the time of level 9.
const GZIP_LEVEL = 6

/** The OS byte reproof writes: Unix, what gzip -n writes on Linux. */
export const GZIP_OS_UNIX = 3

/** "Unknown": what portable writers (npm, Python's gzip, Go) put there on every platform. */
const GZIP_OS_UNKNOWN = 255

/**
 * The OS byte of a stable header. zlib writes the platform it runs on (Unix, NTFS,
 * macOS...), so that becomes Unix; 255 is already the same everywhere and is kept, or
 * every npm tarball would lose npm's digest.
 */
export function stableGzipOs(original: number | undefined): number {
  return original === GZIP_OS_UNKNOWN ? GZIP_OS_UNKNOWN : GZIP_OS_UNIX
}

/**
 * mtime 0, no name, comment or header CRC, a stable OS byte; XFL kept (it describes the
 * data), and so is the extra field: it carries meaning (BGZF keeps each block's size in
 * it, which indexes of the file rely on).
 */
export function stableGzipHeader(original: Buffer): Buffer {
  const extra = extraField(original)
  const fixed = [0x1f, 0x8b, 8, extra === undefined ? 0 : 0x04, 0, 0, 0, 0]
  return Buffer.concat([
    Buffer.from([...fixed, original[8] ?? 0, stableGzipOs(original[9])]),
    extra ?? Buffer.alloc(0),
  ])
}

/** The extra field with its length, as in the header, or undefined. */
function extraField(header: Buffer): Buffer | undefined {
  if (((header[3] ?? 0) & 0x04) === 0 || header.length < 12) return undefined
  return header.subarray(10, 12 + header.readUInt16LE(10))
}

/** Which header fields a stable header changes, for the report; of every member, once each. */
function membersHeaderChanges(members: readonly GzipMember[]): string[] {
  return [...new Set(members.flatMap((m) => gzipHeaderChanges(m.header)))]
}

/** Which header fields a stable header changes, for the report. */
export function gzipHeaderChanges(original: Buffer): string[] {
  const changes: string[] = []
  const flags = original[3] ?? 0
  if (original.readUInt32LE(4) !== 0) changes.push('mtime set to 0')
  if ((flags & 0x08) !== 0) changes.push('file name removed')
  if ((flags & 0x10) !== 0) changes.push('comment removed')
  if ((flags & 0x02) !== 0) changes.push('header CRC removed')
  if ((flags & 0x01) !== 0) changes.push('text flag cleared')
  if (original[9] !== stableGzipOs(original[9]))
    changes.push(`OS byte ${original[9] ?? '?'} set to ${GZIP_OS_UNIX} (Unix)`)
  return changes
}

/**
 * A gzip stream: only its header is made stable when nothing inside needs a change (its
 * deflate data is copied as it is); a tar inside is normalized like any tar; compare
 * mode recompresses with zlib.
 */
export async function normalizeGzipFile(job: Job): Promise<NormalizeOutcome> {
  // The file's members, walked once (each inflated to find where it ends) for whichever
  // question asks first: here, or where a fault lies.
  let walked: Promise<GzipMemberRun> | undefined
  const memberRun = (): Promise<GzipMemberRun> =>
    (walked ??= gzipMemberRun(job.input, job.budget, (h) => gzipBodyOffset(h, job.input)))
  try {
    return await normalizeGzip(job, memberRun)
  } catch (err) {
    throw await located(err, job.input, memberRun)
  }
}

/**
 * A corrupt gzip stream's error with the byte its fault lies from: the end of the last
 * whole member (zlib says what is wrong, not where; a junk tail, a cut member and a
 * corrupt body are each somewhere after that).
 */
async function located(
  err: unknown,
  input: string,
  memberRun: () => Promise<GzipMemberRun>,
): Promise<unknown> {
  if (
    !(err instanceof ReproofError) ||
    err.context.corrupt !== 'gzip' ||
    err.context.path !== input
  )
    return err
  const prefix = `${input}: corrupt gzip data`
  if (!err.message.startsWith(prefix)) return err
  // A walk stopped by Ctrl-C is the answer (exit 130), not a message without its offset.
  const run = await memberRun().catch((walkErr: unknown) => {
    if (walkErr instanceof ReproofError && walkErr.code === 'E_INTERRUPTED') throw walkErr
    return undefined
  })
  if (run === undefined || run.whole) return err
  const last = run.members.at(-1)
  const at = last === undefined ? 0 : last.trailer + 8
  const after =
    run.members.length === 0
      ? ''
      : `, after ${run.members.length} whole member${run.members.length === 1 ? '' : 's'}`
  return new ReproofError(
    'E_INPUT',
    `${prefix} from byte ${at}${after}${err.message.slice(prefix.length)}`,
    err.context,
    { cause: err },
  )
}

async function normalizeGzip(
  job: Job,
  memberRun: () => Promise<GzipMemberRun>,
): Promise<NormalizeOutcome> {
  const { input, head, rules } = job
  const inner = decompressedSource(fileSource(input), 'gzip', job.budget)
  const innerFormat = detectFormat(await readHead(inner, 512))
  const isTar = innerFormat.kind === 'archive' && innerFormat.format === 'tar'
  job.said.format = isTar ? 'tar.gz' : 'gzip'
  const headerChanges = gzipHeaderChanges(head).map((c) => `gzip header: ${c}`)
  const recompressed = `recompressed with zlib level ${GZIP_LEVEL}`
  // Whether any member's header has an extra field, which writing one new stream would
  // drop: the first member's, or a later one's (gzip files are joined with cat).
  const withExtraField = async (): Promise<boolean> =>
    extraField(head) !== undefined ||
    (await memberRun()).members.some((m) => extraField(m.header) !== undefined)
  // Every member's header made stable, each deflate stream and trailer copied as it is.
  // Undefined when the file is not a clean run of members: it is then read in full
  // (which names what is wrong) or written as one new stream.
  const headerOnly = async (): Promise<NormalizeOutcome | undefined> => {
    const { members, whole } = await memberRun()
    if (!whole || members.length === 0) return undefined
    const many = members.length > 1 ? `s (${members.length} members)` : ''
    job.said.changes = membersHeaderChanges(members).map((c) => `gzip header${many}: ${c}`)
    return job.write(async (out) => {
      // Copied by hand: a pipeline into `out` per member left its listeners there, and a
      // file of many members (bgzip writes thousands) printed Node's leak warning.
      for (const member of members) {
        if (!out.write(stableGzipHeader(member.header))) await once(out, 'drain')
        const body = fs.createReadStream(input, {
          start: member.body,
          end: member.trailer + 7,
          highWaterMark: MiB,
        })
        for await (const chunk of body as AsyncIterable<Buffer>)
          if (!out.write(chunk)) await once(out, 'drain')
      }
      out.end()
    })
  }
  // A new gzip stream, from zlib, with the OS byte a stable header has. The writer and
  // the compressor share a pool of blocks, so that memory is reused, not touched anew
  // for every MiB.
  const gzipped = (
    fill: (sink: Writable, pool: BlockPool) => Promise<void>,
  ): Promise<NormalizeOutcome> =>
    job.write(async (out) => {
      const sink = new PassThrough()
      const pool = new BlockPool(MiB)
      await Promise.all([
        fill(sink, pool),
        pipeline(sink, blockGzip({ level: GZIP_LEVEL, os: stableGzipOs(head[9]), pool }), out),
      ])
    })
  if (!isTar) {
    // The deflate data is about to be copied unread: every member is inflated and
    // checked against its trailer first. What is not a clean run of members is read in
    // full, so that a corrupt, cut or junk-padded body is refused rather than passed on
    // as normalized.
    if (rules.mode !== 'compare') {
      const kept = await headerOnly()
      if (kept !== undefined) return kept
    }
    await pipeline(inner.open(), discard())
    if (rules.mode === 'ship' && (await withExtraField())) {
      job.said.kept =
        "a gzip file that is not a plain run of members (it has padding after the last, say), with an extra field in a header (BGZF's block sizes, say) that one new stream would not keep"
      return job.keep()
    }
    const oneStream =
      rules.mode === 'compare'
        ? []
        : [
            'written as one new stream: the file is not a plain run of gzip members (it has padding after the last, say)',
          ]
    job.said.changes = [...headerChanges, ...oneStream, recompressed]
    return gzipped((sink) => pipeline(inner.open(), sink))
  }
  // In ship mode the members are walked whatever the tar needs (to keep its compressed
  // bytes, or to look for extra fields before writing a new stream): begun now, the walk
  // inflates on the thread pool while this thread reads the tar, rather than after it.
  // A failure is waited for where the walk is (its rejection handled until then).
  if (rules.mode === 'ship') memberRun().catch(() => undefined)
  // The tar is read (and spooled) first: when none of its fields changes, its
  // compressed bytes are kept too, and at most the gzip header is rewritten.
  return normalizeTar(
    inner.open(),
    job.work,
    rules,
    job.budget.decoded(),
    input,
    async (plan, write) => {
      if (!plan.rewrite && !job.canonical) {
        const kept = await headerOnly()
        if (kept !== undefined) return kept
      }
      if (rules.mode === 'ship' && (await withExtraField())) {
        job.said.kept =
          "a tar inside that needs changes, in a gzip stream with an extra field in a header (BGZF's block sizes, say) that a new stream would not keep; decompress it, normalize the tar, compress that"
        return job.keep()
      }
      // A tar split over several streams (an Alpine package: its signature covers the
      // control stream's compressed bytes, its data hash the data stream's) would become
      // one stream, and both would be lost. Zeros after the last member (which gzip
      // reads past) change nothing of that.
      const run = rules.mode === 'ship' ? await memberRun() : undefined
      if (run !== undefined && run.members.length > 1) {
        job.said.kept = `a tar inside that needs changes, split over ${run.members.length} gzip streams (as an Alpine package is, whose signature and data hash each cover a stream of their own) that one new stream would merge`
        return job.keep()
      }
      const oneStream =
        run?.whole === false
          ? [
              'written as one new stream: the file is not a plain run of gzip members (it has padding after the last, say)',
            ]
          : []
      job.said.changes = [
        ...headerChanges,
        ...describeTar(plan.changes, rules),
        ...oneStream,
        recompressed,
      ]
      return gzipped(write)
    },
  )
}
