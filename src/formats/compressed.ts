import { PassThrough, Readable, Transform } from 'node:stream'
import zlib from 'node:zlib'
import { ReproofError } from '../errors.js'
import type { Budget } from './limits.js'
import type { ByteSource } from './source.js'
import type { Compression } from './registry.js'
import { isoTime } from './member.js'

const GZIP_OS: Record<number, string> = {
  0: 'FAT',
  3: 'Unix',
  7: 'Macintosh',
  10: 'TOPS-20',
  11: 'NTFS',
  255: 'unknown',
}

/** Header fields of a compressed stream that can differ while the content does not. */
export function compressionHeader(format: Compression, head: Buffer): Record<string, string> {
  if (format === 'bzip2') return { 'block size': `${String.fromCharCode(head[3] ?? 0x30)}00k` }
  if (format === 'xz') return { 'stream flags': head.subarray(6, 8).toString('hex') }
  // Which optional fields (content size, checksum, dictionary id) the frame carries.
  if (format === 'zstd') return { 'frame descriptor': `0x${(head[4] ?? 0).toString(16)}` }
  return parseGzipHeader(head)
}

/** RFC 1952: mtime, extra flags, OS, and the optional name and comment fields. */
export function parseGzipHeader(head: Buffer): Record<string, string> {
  const flags = head[3] ?? 0
  const meta: Record<string, string> = {
    mtime: head.length >= 8 ? isoTime(head.readUInt32LE(4)) : '(truncated)',
    'extra flags': String(head[8] ?? ''),
    os: GZIP_OS[head[9] ?? 255] ?? String(head[9]),
    flags: `0x${flags.toString(16)}`,
  }
  let at = 10
  if ((flags & 0x04) !== 0 && head.length >= at + 2) at += 2 + head.readUInt16LE(at)
  const zeroTerminated = (): string => {
    const end = head.indexOf(0, at)
    const value = head.subarray(at, end === -1 ? head.length : end).toString('latin1')
    at = end === -1 ? head.length : end + 1
    return value
  }
  if ((flags & 0x08) !== 0) meta.name = zeroTerminated()
  if ((flags & 0x10) !== 0) meta.comment = zeroTerminated()
  return meta
}

/**
 * A source that decompresses `inner` each time it is opened, counting bytes in and out
 * so that a bomb stops at the ratio or byte limit, not when memory runs out.
 */
export function decompressedSource(
  inner: ByteSource,
  format: Compression,
  budget: Budget,
): ByteSource {
  return {
    label: inner.label,
    size: -1,
    open: () => {
      let consumed = 0
      const input = inner.open()
      input.on('data', (chunk: Buffer) => {
        consumed += chunk.length
      })
      let produced = 0
      const guard = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          produced += chunk.length
          try {
            budget.spendBytes(chunk.length, inner.label)
            budget.checkRatio(produced, consumed, inner.label)
            callback(null, chunk)
          } catch (err) {
            callback(err as Error)
          }
        },
      })
      const decoder = decoderFor(format, input)
      decoder.on('error', (err: Error) =>
        guard.destroy(
          new ReproofError('E_INPUT', `${inner.label}: corrupt ${format} data (${err.message})`, {
            path: inner.label,
          }),
        ),
      )
      input.on('error', (err) => guard.destroy(err))
      return decoder.pipe(guard)
    },
  }
}

function decoderFor(format: Compression, input: Readable): Readable {
  // 1 MiB chunks: with zlib's 16 KiB default, each chunk is a trip to the thread pool
  // and a 26 MB tar.gz spent a third of its time waiting on them.
  if (format === 'gzip') return input.pipe(zlib.createGunzip({ chunkSize: 1024 * 1024 }))
  // Node's zlib has Zstandard from 22.15 on, which every supported Node is.
  if (format === 'zstd') return input.pipe(zlib.createZstdDecompress({ chunkSize: 1024 * 1024 }))
  // The xz and bzip2 decoders load only when an archive needs them; until then the
  // stream is a pass-through that the decoder is piped into.
  const out = new PassThrough()
  // Held until the decoder is attached, so that no byte flows past it.
  input.pause()
  const fail = (err: Error): void => {
    out.destroy(err)
  }
  const wire = async (): Promise<void> => {
    if (format === 'xz') {
      const m = (await import('xz-decompress')) as unknown as XzModule & { default?: XzModule }
      const { XzReadableStream } = m.default ?? m
      Readable.fromWeb(
        new XzReadableStream(
          Readable.toWeb(input) as ReadableStream,
        ) as import('node:stream/web').ReadableStream,
      )
        .on('error', fail)
        .pipe(out)
      input.resume()
      return
    }
    // unbzip2-stream is an old-style stream; bridge it into a modern one.
    const m = (await import('unbzip2-stream')) as unknown as {
      default: () => NodeJS.ReadWriteStream
    }
    const bunzip = m.default()
    bunzip.on('data', (chunk: Buffer) => out.write(chunk))
    bunzip.on('end', () => out.end())
    bunzip.on('error', fail)
    input.pipe(bunzip)
  }
  wire().catch(fail)
  return out
}

interface XzModule {
  XzReadableStream: new (s: ReadableStream) => ReadableStream
}
