import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { once } from 'node:events'
import { pipeline } from 'node:stream/promises'
import { ReproofError } from '../errors.js'
import { decompressedSource } from '../formats/compressed.js'
import type { Compression } from '../formats/compressions.js'
import { detectFileFormat } from '../formats/detect.js'
import { fileSource, readHead } from '../formats/source.js'
import { NORMALIZERS } from './formats.js'
import type { Job, NormalizedMember } from './job.js'

/**
 * Normalizes `file`, a member taken out of the archive `parent` is normalizing, by the
 * normalizer of its own format and the parent's rules and budget: a `.deb`'s
 * `control.tar.gz` and `data.tar.zst`. Its output goes to a file in `dir`. In compare
 * mode a compressed tar is written out decompressed and normalized, under its name
 * without the compression's suffix: two packages of the same files compare equal
 * however each was compressed (and reproof writes no xz or bzip2 stream).
 */
export async function normalizeMemberFile(
  parent: Job,
  name: string,
  file: string,
  dir: string,
): Promise<NormalizedMember> {
  const where = `${parent.input}!${name}`
  const plain = path.join(dir, `${path.basename(file)}.tar`)
  // What goes wrong inside is said of the member, not of the file it was taken out to.
  const named = (err: unknown): unknown =>
    err instanceof ReproofError
      ? new ReproofError(
          err.code,
          err.message.replaceAll(plain, where).replaceAll(file, where),
          { ...err.context, path: parent.input },
          { cause: err },
        )
      : err
  try {
    return await normalizeNamed(parent, name, file, plain, dir, where)
  } catch (err) {
    throw named(err)
  }
}

// What detection and the normalizers look at first, as for a file given on the command line.
const HEAD_BYTES = 64 * 1024

async function normalizeNamed(
  parent: Job,
  name: string,
  file: string,
  plain: string,
  dir: string,
  where: string,
): Promise<NormalizedMember> {
  const suffix = /\.tar(?:\.([a-z0-9]+))?$/.exec(name)
  const head = await readHead(fileSource(file), HEAD_BYTES)
  const format = detectFileFormat(head.subarray(0, 512))
  if (parent.rules.mode !== 'compare' || suffix === null)
    return await normalizeAsFile(parent, file, dir, head)
  const compressed = suffix[1] !== undefined
  if (compressed && format !== 'gzip' && format !== 'xz' && format !== 'zstd' && format !== 'bzip2')
    throw new ReproofError('E_INPUT', `${where}: not a stream reproof can decompress`, {
      path: parent.input,
    })
  // Decompressed (its checks verified on the way), then normalized as a plain tar; one
  // that is not a tar is refused, not stored as one.
  if (compressed)
    await pipeline(
      decompressedSource(fileSource(file), format as Compression, parent.budget, head).open(),
      fs.createWriteStream(plain),
    )
  const tarFile = compressed ? plain : file
  const tarHead = compressed ? await readHead(fileSource(tarFile), HEAD_BYTES) : head
  if (detectFileFormat(tarHead.subarray(0, 512)) !== 'tar')
    throw new ReproofError('E_INPUT', `${where}: not a tar archive inside`, { path: parent.input })
  const tar = await normalizeAsFile(parent, tarFile, dir, tarHead)
  return {
    file: tar.file ?? tarFile,
    name: compressed ? name.slice(0, name.length - (suffix[1]?.length ?? 0) - 1) : name,
    format: tar.format,
    changes: [...(compressed ? ['decompressed (compare mode)'] : []), ...tar.changes],
    ...(tar.kept === undefined ? {} : { kept: tar.kept }),
  }
}

let made = 0

/**
 * One file through its format's normalizer, as a job of its own whose output is a file
 * in `dir`; `head` is its first HEAD_BYTES (or all of it, when shorter).
 */
async function normalizeAsFile(
  parent: Job,
  input: string,
  dir: string,
  head: Buffer,
): Promise<NormalizedMember> {
  const format = detectFileFormat(head.subarray(0, 512))
  const normalizer = format === undefined ? null : NORMALIZERS[format]
  const work = await fsp.mkdtemp(path.join(dir, 'work-'))
  const output = path.join(dir, `out-${++made}`)
  const said: Job['said'] = { format: 'unknown', changes: [] }
  const state = { written: false }
  const outcome = (changed: boolean) => ({
    input,
    output: changed ? output : null,
    format: said.format,
    mode: parent.rules.mode,
    changed,
    changes: changed ? said.changes : [],
    ...(said.kept === undefined ? {} : { kept: said.kept }),
    digests: { before: '', after: '' },
  })
  const job: Job = {
    input,
    work,
    rules: parent.rules,
    budget: parent.budget,
    canonical: parent.canonical,
    head,
    said,
    write: async (fill) => {
      const out = fs.createWriteStream(output)
      const closed = once(out, 'close')
      await fill(out)
      if (!out.writableFinished) out.end()
      await closed
      state.written = true
      return outcome(true)
    },
    keep: () => {
      said.changes = []
      return Promise.resolve(outcome(false))
    },
  }
  try {
    if (normalizer !== null) await normalizer(job)
  } finally {
    await fsp.rm(work, { recursive: true, force: true })
  }
  return {
    ...(state.written ? { file: output } : {}),
    format: said.format,
    changes: state.written ? said.changes : [],
    ...(said.kept === undefined ? {} : { kept: said.kept }),
  }
}
