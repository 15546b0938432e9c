import fs from 'node:fs'
import fsp from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { PassThrough, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import zlib from 'node:zlib'
import { hashFile } from '../digest/hash-file.js'
import { decompressedSource } from '../formats/compressed.js'
import { detectFormat, type Detected } from '../formats/detect.js'
import { Budget, type DiffLimits } from '../formats/limits.js'
import { fileSource, readHead } from '../formats/source.js'
import { streamFileAtomic } from '../io/atomic-write.js'
import { coalescer } from '../io/batched-file-sink.js'
import { normalizeAr, type ArChanges } from './ar.js'
import { gzipBodyOffset, gzipHeaderChanges, stableGzipHeader, stableGzipOs } from './gzip.js'
import { isCanonical, type NormalizeMode, type NormalizeRules } from './rules.js'
import { isCpio, normalizeCpio } from './cpio.js'
import { isMo, stableMo } from './mo.js'
import { isPng, stablePng } from './png.js'
import { normalizeTar, type TarChanges } from './tar.js'
import { normalizeZip, type ZipChanges } from './zip.js'

// gzip's own default: the same size as gzip -n gives, at half the time of level 9.
const GZIP_LEVEL = 6
// Large reads and zlib chunks: each small one is a round trip to the thread pool.
const MiB = 1024 * 1024

export type NormalizedFormat =
  'png' | 'mo' | 'cpio' | 'tar' | 'tar.gz' | 'gzip' | 'zip' | 'jar' | 'wheel' | 'ar' | 'unknown'

export interface NormalizeOutcome {
  input: string
  /** Where the result was written; null when nothing was (unknown format, or unchanged in place). */
  output: string | null
  format: NormalizedFormat
  mode: NormalizeMode
  changed: boolean
  /** What the normalizer changed, for people and for the build record. */
  changes: string[]
  digests: { before: string; after: string }
}

/** One file being normalized: what a normalizer is handed. */
interface Job {
  input: string
  /** A directory of this run's own, for spooling; removed at the end. */
  work: string
  rules: NormalizeRules
  budget: Budget
  /** Rewrite into reproof's layout even when no field changes (compare mode). */
  canonical: boolean
  /** Up to 64 KiB of the file's start. */
  head: Buffer
  detected: Detected
  /** What the outcome will say: a normalizer sets them as it learns them. */
  said: { format: NormalizedFormat; changes: string[] }
  /** Writes the output through `fill`, atomically (in place only when it changed). */
  write(fill: (out: Writable) => Promise<void>): Promise<NormalizeOutcome>
  /** Nothing to change: the output is the input, byte for byte. */
  keep(): Promise<NormalizeOutcome>
}

interface Normalizer {
  /** Whether this normalizer takes the file, from its detected format or first bytes. */
  takes(job: Pick<Job, 'detected' | 'head'>): boolean
  run(job: Job): Promise<NormalizeOutcome>
}

/**
 * The formats reproof normalizes, in the order they are tried; a file none takes is
 * left as it is and reported as `unknown`. Adding one is a row here and its module in
 * this folder.
 */
const NORMALIZERS: readonly Normalizer[] = [
  {
    takes: ({ detected }) => detected.kind === 'archive' && detected.format === 'tar',
    run: async (job) => {
      job.said.format = 'tar'
      const tar = fs.createReadStream(job.input, { highWaterMark: MiB })
      return normalizeTar(tar, job.work, job.rules, job.budget, job.input, async (plan, write) => {
        if (!plan.rewrite && !job.canonical) return job.keep()
        job.said.changes = orReencoded(describeTar(plan.changes), 'ustar, PAX for long names')
        return job.write(write)
      })
    },
  },
  {
    takes: ({ detected }) => detected.kind === 'archive' && detected.format === 'zip',
    run: (job) =>
      normalizeZip(job.input, job.rules, job.budget, job.input, async (plan, write) => {
        job.said.format = plan.changes.flavor
        if (!plan.rewrite && !job.canonical) return job.keep()
        return job.write(async (out) => {
          await write(out)
          // Compare mode counts what it recompresses as it writes.
          job.said.changes = orReencoded(
            describeZip(plan.changes),
            'made by Unix, sizes in the headers',
          )
        })
      }),
  },
  {
    takes: ({ detected }) => detected.kind === 'archive' && detected.format === 'ar',
    run: (job) => {
      job.said.format = 'ar'
      return job.write(async (out) => {
        const input = fs.createReadStream(job.input, { highWaterMark: MiB })
        job.said.changes = describeAr(await normalizeAr(input, out, job.budget, job.input))
      })
    },
  },
  {
    takes: ({ detected }) => detected.kind === 'compressed' && detected.format === 'gzip',
    run: normalizeGzip,
  },
  {
    takes: ({ head }) => isCpio(head),
    run: (job) => {
      job.said.format = 'cpio'
      return job.write(async (out) => {
        const input = fs.createReadStream(job.input, { highWaterMark: MiB })
        const c = await normalizeCpio(input, out, job.rules, job.budget, job.input)
        job.said.changes =
          c.headers > 0
            ? [
                `${c.headers} of ${c.entries} entry headers set to stable times, owners, modes and inode numbers`,
              ]
            : []
      })
    },
  },
  {
    takes: ({ head }) => isMo(head),
    run: async (job) => {
      job.said.format = 'mo'
      job.budget.checkMemberSize((await fsp.stat(job.input)).size, job.input)
      const { bytes, changed } = stableMo(await fsp.readFile(job.input), job.rules, job.input)
      job.said.changes = changed.map((f) => `${f} clamped to the epoch (UTC)`)
      return job.write(async (out) => {
        out.end(bytes)
        await Promise.resolve()
      })
    },
  },
  {
    takes: ({ head }) => isPng(head),
    run: async (job) => {
      job.said.format = 'png'
      // PNGs are images of a few MB at most; the whole file is read, bounded by the member limit.
      job.budget.checkMemberSize((await fsp.stat(job.input)).size, job.input)
      const { bytes, removed } = stablePng(await fsp.readFile(job.input), job.input)
      job.said.changes = removed.map((r) => `${r} chunk removed`)
      return job.write(async (out) => {
        out.end(bytes)
        await Promise.resolve()
      })
    },
  },
]

/**
 * Normalizes one file into `output` (which may be the input itself): detect the format
 * by content, rewrite through a temp file, replace atomically. A file none of whose
 * fields needs changing comes out byte for byte as it went in, compressed data
 * included; an in-place run that changes nothing leaves the file untouched.
 */
export async function normalizeFile(
  input: string,
  output: string,
  rules: NormalizeRules,
  limits: DiffLimits,
): Promise<NormalizeOutcome> {
  const budget = new Budget(limits)
  const before = (await hashFile(input)).sha256
  const mode = (await fsp.stat(input)).mode & 0o777
  const head = await readHead(fileSource(input), 64 * 1024)
  const detected = detectFormat(head.subarray(0, 512))
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'reproof-normalize-'))
  const inPlace = path.resolve(input) === path.resolve(output)
  const said: Job['said'] = { format: 'unknown', changes: [] }
  const job: Job = {
    input,
    work,
    rules,
    budget,
    canonical: isCanonical(rules),
    head,
    detected,
    said,
    write: async (fill) => {
      let after = before
      const { written } = await streamFileAtomic(output, mode, fill, async (_r, temp) => {
        after = (await hashFile(temp)).sha256
        return !inPlace || after !== before
      })
      return {
        input,
        output: written ? output : null,
        format: said.format,
        mode: rules.mode,
        changed: after !== before,
        changes: after === before ? [] : said.changes,
        digests: { before, after },
      }
    },
    keep: async () => {
      said.changes = []
      if (!inPlace)
        return job.write(async (out) => {
          await pipeline(fs.createReadStream(input, { highWaterMark: MiB }), out)
        })
      const digests = { before, after: before }
      const { format } = said
      return { input, output: null, format, mode: rules.mode, changed: false, changes: [], digests }
    },
  }
  try {
    const normalizer = NORMALIZERS.find((n) => n.takes(job))
    // Not a format reproof normalizes: left as it is, and said so.
    return await (normalizer === undefined ? job.keep() : normalizer.run(job))
  } finally {
    await fsp.rm(work, { recursive: true, force: true })
  }
}

/**
 * A gzip stream: only its header is made stable when nothing inside needs a change (its
 * deflate data is copied as it is); a tar inside is normalized like any tar; compare
 * mode recompresses with zlib.
 */
async function normalizeGzip(job: Job): Promise<NormalizeOutcome> {
  const { input, head, rules } = job
  const inner = decompressedSource(fileSource(input), 'gzip', job.budget)
  const innerFormat = detectFormat(await readHead(inner, 512))
  const isTar = innerFormat.kind === 'archive' && innerFormat.format === 'tar'
  job.said.format = isTar ? 'tar.gz' : 'gzip'
  const headerChanges = gzipHeaderChanges(head).map((c) => `gzip header: ${c}`)
  const recompressed = `recompressed with zlib level ${GZIP_LEVEL}`
  const headerOnly = (): Promise<NormalizeOutcome> => {
    job.said.changes = headerChanges
    return job.write(async (out) => {
      // Only the header changes: the deflate data is copied as it is.
      out.write(stableGzipHeader(head))
      await pipeline(
        fs.createReadStream(input, { start: gzipBodyOffset(head, input), highWaterMark: MiB }),
        out,
      )
    })
  }
  // A new gzip stream, from zlib, with the OS byte a stable header has.
  const gzipped = (fill: (sink: Writable) => Promise<void>): Promise<NormalizeOutcome> =>
    job.write(async (out) => {
      const sink = new PassThrough()
      await Promise.all([
        fill(sink),
        pipeline(
          sink,
          coalescer(),
          zlib.createGzip({ level: GZIP_LEVEL, chunkSize: MiB }),
          fixGzipOs(stableGzipOs(head[9])),
          out,
        ),
      ])
    })
  if (!isTar) {
    if (rules.mode !== 'compare') return headerOnly()
    job.said.changes = [...headerChanges, recompressed]
    return gzipped((sink) => pipeline(inner.open(), sink))
  }
  // The tar is read (and spooled) first: when none of its fields changes, its
  // compressed bytes are kept too, and at most the gzip header is rewritten.
  return normalizeTar(inner.open(), job.work, rules, job.budget, input, async (plan, write) => {
    if (!plan.rewrite && !job.canonical) return headerOnly()
    job.said.changes = [...headerChanges, ...describeTar(plan.changes), recompressed]
    return gzipped(write)
  })
}

/** zlib writes the OS byte of the platform it runs on; reproof writes the same one everywhere. */
function fixGzipOs(os: number): PassThrough {
  let first = true
  return new PassThrough({
    transform(chunk: Buffer, _encoding, callback) {
      if (first && chunk.length >= 10) {
        chunk[9] = os
        first = false
      }
      callback(null, chunk)
    },
  })
}

/**
 * A canonical rewrite of an archive none of whose fields changed: if its bytes differ
 * (an unchanged result reports no change at all), the layout is what changed.
 */
function orReencoded(changes: string[], layout: string): string[] {
  return changes.length > 0 ? changes : [`headers rewritten in reproof's layout (${layout})`]
}

function describeTar(c: TarChanges): string[] {
  return [
    c.reordered ? `${c.entries} entries sorted by name` : '',
    c.mtimes > 0 ? `${c.mtimes} mtimes clamped to the epoch` : '',
    c.modes > 0 ? `${c.modes} modes set to 0644/0755` : '',
    c.owners > 0 ? `${c.owners} owners set to 0/0 with empty names` : '',
    c.paxRecords > 0 ? `${c.paxRecords} PAX time or xattr records removed` : '',
  ].filter((x) => x !== '')
}

function describeZip(c: ZipChanges): string[] {
  return [
    c.reordered
      ? `${c.entries} entries sorted${c.flavor === 'jar' ? ' (META-INF/MANIFEST.MF first)' : ''}`
      : '',
    c.times > 0 ? `${c.times} DOS times set to the epoch` : '',
    c.extraFields > 0
      ? `${c.extraFields} extra fields cleaned (timestamps and uid/gid removed)`
      : '',
    c.attributes > 0 ? `${c.attributes} external attributes set to 0644/0755` : '',
    ...c.rewritten.map((n) => `${n} rewritten`),
    c.recompressed > 0 ? `${c.recompressed} members recompressed (compare mode)` : '',
    c.commentsCleared ? 'comments cleared (compare mode)' : '',
  ].filter((x) => x !== '')
}

function describeAr(c: ArChanges): string[] {
  return c.headers > 0
    ? [`${c.headers} of ${c.members} member headers set to mtime 0, uid/gid 0, mode 644`]
    : []
}
