import fs from 'node:fs'
import { PassThrough } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import zlib from 'node:zlib'
import { decompressedSource } from '../formats/compressed.js'
import { detectFormat } from '../formats/detect.js'
import { fileSource, readHead } from '../formats/source.js'
import { checkZstdFrames } from '../formats/zstd-frames.js'
import { coalescer } from '../io/batched-file-sink.js'
import { discard, MiB, type Job, type NormalizedFormat, type NormalizeOutcome } from './job.js'
import { describeTar, normalizeTar } from './tar.js'

type Wrapper = 'zstd' | 'xz' | 'bzip2'

const FORMATS: Record<Wrapper, { plain: NormalizedFormat; tar: NormalizedFormat }> = {
  zstd: { plain: 'zstd', tar: 'tar.zst' },
  xz: { plain: 'xz', tar: 'tar.xz' },
  bzip2: { plain: 'bzip2', tar: 'tar.bz2' },
}

// zstd's own default level, with the content checksum its command line writes.
const ZSTD_LEVEL = 3

/**
 * A zstd, xz or bzip2 stream. Their headers hold no time, name or owner, so a stream
 * is read whole (its checks verified) and kept as it is, unless a tar inside needs a
 * change. Then a zstd stream is written anew by the zstd Node carries (level 3, with
 * its checksum); xz and bzip2 would need an outside program whose output depends on
 * its version, so such a file is left as it is, and the result says why.
 */
export function normalizeCompressedFile(wrapper: Wrapper) {
  return async (job: Job): Promise<NormalizeOutcome> => {
    // The frames are walked first: a cut stream, or junk after the last frame, is refused.
    const frames =
      wrapper === 'zstd'
        ? await checkZstdFrames(fs.createReadStream(job.input, { highWaterMark: MiB }), job.input)
        : undefined
    const inner = decompressedSource(fileSource(job.input), wrapper, job.budget, job.head)
    const innerFormat = detectFormat(await readHead(inner, 512))
    const isTar = innerFormat.kind === 'archive' && innerFormat.format === 'tar'
    job.said.format = isTar ? FORMATS[wrapper].tar : FORMATS[wrapper].plain
    if (!isTar) {
      // Read whole, so that a cut or corrupt stream is refused, not passed on.
      await pipeline(inner.open(), discard())
      return job.keep()
    }
    return normalizeTar(
      inner.open(),
      job.work,
      job.rules,
      job.budget.decoded(),
      job.input,
      (plan, write) => {
        if (!plan.rewrite && !job.canonical) return job.keep()
        if (wrapper !== 'zstd') {
          job.said.kept = `a tar inside ${wrapper} that needs changes, and reproof writes no ${wrapper}; decompress it, normalize the tar, compress that`
          return job.keep()
        }
        if (frames !== undefined && frames.skippable > 0) {
          job.said.kept = `a tar inside zstd that needs changes, in a stream with ${frames.skippable} skippable frame(s) (a seek table, say) that a new stream would not have; decompress it, normalize the tar, compress that`
          return job.keep()
        }
        job.said.changes = [
          ...describeTar(plan.changes, job.rules),
          `recompressed with zstd level ${ZSTD_LEVEL}`,
        ]
        return job.write(async (out) => {
          const sink = new PassThrough()
          await Promise.all([
            write(sink),
            pipeline(
              sink,
              coalescer(),
              zlib.createZstdCompress({
                chunkSize: MiB,
                params: {
                  [zlib.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL,
                  [zlib.constants.ZSTD_c_checksumFlag]: 1,
                },
              }),
              out,
            ),
          ])
        })
      },
    )
  }
}
