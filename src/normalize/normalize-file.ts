import fs from 'node:fs'
import fsp from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { PassThrough, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import zlib from 'node:zlib'
import { hashFile } from '../digest/hash-file.js'
import { decompressedSource } from '../formats/compressed.js'
import { detectFormat } from '../formats/detect.js'
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
  const detected = detectFormat(await readHead(fileSource(input), 512))
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'reproof-normalize-'))
  const inPlace = path.resolve(input) === path.resolve(output)
  const canonical = isCanonical(rules)
  let format: NormalizedFormat = 'unknown'
  let changes: string[] = []
  try {
    const run = async (fill: (out: Writable) => Promise<void>): Promise<NormalizeOutcome> => {
      let after = before
      const { written } = await streamFileAtomic(output, mode, fill, async (_r, temp) => {
        after = (await hashFile(temp)).sha256
        return !inPlace || after !== before
      })
      return {
        input,
        output: written ? output : null,
        format,
        mode: rules.mode,
        changed: after !== before,
        changes: after === before ? [] : changes,
        digests: { before, after },
      }
    }
    // Nothing to change: the output is the input, byte for byte (in place, not even rewritten).
    const keep = async (): Promise<NormalizeOutcome> => {
      changes = []
      if (!inPlace)
        return run(async (out) => {
          await pipeline(fs.createReadStream(input, { highWaterMark: MiB }), out)
        })
      const digests = { before, after: before }
      return { input, output: null, format, mode: rules.mode, changed: false, changes, digests }
    }
    if (detected.kind === 'archive' && detected.format === 'tar') {
      format = 'tar'
      const tar = fs.createReadStream(input, { highWaterMark: MiB })
      return await normalizeTar(tar, work, rules, budget, input, async (plan, write) => {
        if (!plan.rewrite && !canonical) return keep()
        changes = orReencoded(describeTar(plan.changes), 'ustar, PAX for long names')
        return run(write)
      })
    }
    if (detected.kind === 'archive' && detected.format === 'zip') {
      return await normalizeZip(input, rules, budget, input, async (plan, write) => {
        format = plan.changes.flavor
        if (!plan.rewrite && !canonical) return keep()
        return run(async (out) => {
          await write(out)
          // Compare mode counts what it recompresses as it writes.
          changes = orReencoded(describeZip(plan.changes), 'made by Unix, sizes in the headers')
        })
      })
    }
    if (detected.kind === 'archive' && detected.format === 'ar') {
      format = 'ar'
      return await run(async (out) => {
        changes = describeAr(
          await normalizeAr(fs.createReadStream(input, { highWaterMark: MiB }), out, budget, input),
        )
      })
    }
    if (detected.kind === 'compressed' && detected.format === 'gzip') {
      const inner = decompressedSource(fileSource(input), 'gzip', budget)
      const innerFormat = detectFormat(await readHead(inner, 512))
      const isTar = innerFormat.kind === 'archive' && innerFormat.format === 'tar'
      format = isTar ? 'tar.gz' : 'gzip'
      const head = await readHead(fileSource(input), 64 * 1024)
      const headerChanges = gzipHeaderChanges(head).map((c) => `gzip header: ${c}`)
      const recompressed = `recompressed with zlib level ${GZIP_LEVEL}`
      const headerOnly = async (): Promise<NormalizeOutcome> => {
        changes = headerChanges
        return run(async (out) => {
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
        run(async (out) => {
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
        if (rules.mode !== 'compare') return await headerOnly()
        changes = [...headerChanges, recompressed]
        return await gzipped((sink) => pipeline(inner.open(), sink))
      }
      // The tar is read (and spooled) first: when none of its fields changes, its
      // compressed bytes are kept too, and at most the gzip header is rewritten.
      return await normalizeTar(inner.open(), work, rules, budget, input, async (plan, write) => {
        if (!plan.rewrite && !canonical) return headerOnly()
        changes = [...headerChanges, ...describeTar(plan.changes), recompressed]
        return gzipped(write)
      })
    }
    const headBytes = await readHead(fileSource(input), 8)
    if (isCpio(headBytes)) {
      format = 'cpio'
      return await run(async (out) => {
        const c = await normalizeCpio(
          fs.createReadStream(input, { highWaterMark: MiB }),
          out,
          rules,
          budget,
          input,
        )
        changes =
          c.headers > 0
            ? [
                `${c.headers} of ${c.entries} entry headers set to stable times, owners, modes and inode numbers`,
              ]
            : []
      })
    }
    if (isMo(headBytes)) {
      format = 'mo'
      budget.checkMemberSize((await fsp.stat(input)).size, input)
      const { bytes, changed } = stableMo(await fsp.readFile(input), rules, input)
      changes = changed.map((f) => `${f} clamped to the epoch (UTC)`)
      return await run(async (out) => {
        out.end(bytes)
        await Promise.resolve()
      })
    }
    if (isPng(headBytes)) {
      format = 'png'
      // PNGs are images of a few MB at most; the whole file is read, bounded by the member limit.
      budget.checkMemberSize((await fsp.stat(input)).size, input)
      const { bytes, removed } = stablePng(await fsp.readFile(input), input)
      changes = removed.map((r) => `${r} chunk removed`)
      return await run(async (out) => {
        out.end(bytes)
        await Promise.resolve()
      })
    }
    // Not a format reproof normalizes: left as it is, and said so.
    format = 'unknown'
    return await keep()
  } finally {
    await fsp.rm(work, { recursive: true, force: true })
  }
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
