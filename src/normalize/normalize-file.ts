import fs from 'node:fs'
import fsp from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { hashFile } from '../digest/hash-file.js'
import { detectFileFormat } from '../formats/detect.js'
import { Budget, type DiffLimits } from '../formats/limits.js'
import { fileSource, readHead } from '../formats/source.js'
import { streamFileAtomic } from '../io/atomic-write.js'
import { NORMALIZERS } from './formats.js'
import { MiB, type Job, type NormalizeOutcome } from './job.js'
import { isCanonical, type NormalizeRules } from './rules.js'

export type { NormalizedFormat, NormalizeOutcome } from './job.js'

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
  const format = detectFileFormat(head.subarray(0, 512))
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
    const normalizer = format === undefined ? null : NORMALIZERS[format]
    // Not a format reproof normalizes: left as it is, and said so.
    return await (normalizer === null ? job.keep() : normalizer(job))
  } finally {
    await fsp.rm(work, { recursive: true, force: true })
  }
}
