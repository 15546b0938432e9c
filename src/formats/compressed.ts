import { spawn } from '../child-process.js'
import fs from 'node:fs'
import { PassThrough, Readable, Transform } from 'node:stream'
import zlib from 'node:zlib'
import { ReproofError } from '../errors.js'
import type { Budget } from './limits.js'
import { openFlags, type ByteSource } from './source.js'
import type { Compression } from './compressions.js'
import { fromNameBytes } from '../file-names.js'
import { isoTime } from './member.js'
import { zstdContent } from './zstd-frames.js'
import { Spool } from './spool.js'
import { findOnPath } from '../find-on-path.js'

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
  // Which optional fields (content size, checksum, dictionary id) the first data frame
  // carries: past any skippable frames before it (pzstd writes one first), whose size
  // field was read as a descriptor.
  if (format === 'zstd') {
    const at = firstZstdDataFrame(head)
    return at === undefined || at + 4 >= head.length
      ? {}
      : { 'frame descriptor': `0x${(head[at + 4] ?? 0).toString(16)}` }
  }
  return parseGzipHeader(head)
}

/** Where the first zstd data frame starts in `head`, past skippable frames; undefined beyond it. */
function firstZstdDataFrame(head: Buffer): number | undefined {
  let at = 0
  while (at + 8 <= head.length) {
    const magic = head.readUInt32LE(at)
    if (magic === 0xfd2fb528) return at
    if ((magic & 0xfffffff0) >>> 0 !== 0x184d2a50) return undefined
    at += 8 + head.readUInt32LE(at + 4)
  }
  return undefined
}

/** RFC 1952: mtime, extra flags, OS, and the optional extra, name, comment and header CRC fields. */
export function parseGzipHeader(head: Buffer): Record<string, string> {
  return readGzipHeader(head).fields
}

/**
 * A gzip header's fields, and its length when `head` holds all of it. The name and the
 * comment are bytes (written exactly, as names are), the extra field in hex.
 */
export function readGzipHeader(head: Buffer): {
  fields: Record<string, string>
  length: number | undefined
} {
  const flags = head[3] ?? 0
  const fields: Record<string, string> = {
    mtime: head.length >= 8 ? isoTime(head.readUInt32LE(4)) : '(truncated)',
    'extra flags': String(head[8] ?? ''),
    os: GZIP_OS[head[9] ?? 255] ?? String(head[9]),
    flags: `0x${flags.toString(16)}`,
  }
  let at = 10
  let whole = head.length >= at
  if ((flags & 0x04) !== 0) {
    const length = head.length >= at + 2 ? head.readUInt16LE(at) : Infinity
    whole &&= at + 2 + length <= head.length
    fields.extra = head.subarray(at + 2, at + 2 + length).toString('hex')
    at += 2 + length
  }
  const zeroTerminated = (): string => {
    const end = head.indexOf(0, at)
    whole &&= end !== -1
    const value = fromNameBytes(head.subarray(at, end === -1 ? head.length : end))
    at = end === -1 ? head.length : end + 1
    return value
  }
  if ((flags & 0x08) !== 0) fields.name = zeroTerminated()
  if ((flags & 0x10) !== 0) fields.comment = zeroTerminated()
  if ((flags & 0x02) !== 0) {
    whole &&= at + 2 <= head.length
    fields['header crc'] = head.subarray(at, at + 2).toString('hex')
    at += 2
  }
  return { fields, length: whole ? at : undefined }
}

/**
 * A source that decompresses `inner` each time it is opened, counting bytes in and out
 * so that a bomb stops at the ratio or byte limit, not when memory runs out.
 */
export function decompressedSource(
  inner: ByteSource,
  format: Compression,
  budget: Budget,
  /** The stream's first bytes, where the caller has them: an xz stream's check type is there. */
  head?: Buffer,
  /** A zip member's bzip2 data: one stream, nothing after it. */
  { oneStream = false }: { oneStream?: boolean } = {},
): ByteSource {
  const program = throughProgram(format, inner, head, oneStream)
  return {
    label: inner.label,
    size: -1,
    counted: true,
    // The embedded xz decoder decodes one stream at a time (see ByteSource.exclusive);
    // a gzip or zstd stream read from such a stream holds its lock too (a gzip inside an
    // xz, over 24 MiB a side: each side read at once, and one waited on the other, exit 13).
    ...((format === 'xz' && !program) || inner.exclusive === true
      ? { exclusive: true as const }
      : {}),
    open: () => {
      let consumed = 0
      // Where the last byte that is not zero was: zlib ends a gzip stream, in silence, at
      // bytes after a member that start with a zero (padding, to it), whatever follows.
      let lastNonZero = -1
      // An xz stream inside another, both on the embedded decoder (one stream at a time):
      // the inner decoder waited for the outer to end, which waited for the inner to
      // read (exit 13, no report). The outer is read whole into a temporary file first.
      const input =
        format === 'xz' && !program && inner.exclusive === true
          ? readWholeFirst(inner)
          : inner.open()
      input.on('data', (chunk: Buffer) => {
        let i = chunk.length - 1
        while (i >= 0 && chunk[i] === 0) i--
        if (i >= 0) lastNonZero = consumed + i
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
        flush(callback) {
          // Bytes after the last member that are not all zeros: junk, not padding.
          const used = decoder instanceof zlib.Gunzip ? decoder.bytesWritten : consumed
          callback(
            used < consumed && lastNonZero >= used
              ? new ReproofError(
                  'E_INPUT',
                  `${inner.label}: ${consumed - used} bytes after the gzip data (from byte ${used}) are neither a gzip member nor zero padding`,
                  { path: inner.label },
                )
              : null,
          )
        },
      })
      const decoder = program
        ? format === 'xz'
          ? xzProgram(input, inner.label)
          : bzip2Program(input, inner.label)
        : decoderFor(
            format,
            input,
            inner.label,
            (produced) => {
              budget.checkRatio(produced, consumed, inner.label)
            },
            oneStream,
          )
      // The decoder's own complaints are the input's; an error of reproof's (a missing
      // program) keeps its code.
      decoder.on('error', (err: Error) =>
        guard.destroy(
          err instanceof ReproofError
            ? err
            : new ReproofError(
                'E_INPUT',
                `${inner.label}: ${format === 'xz' ? (largeXzDictionary(inner) ?? `corrupt xz data${program ? '' : EMBEDDED_XZ_LACKS}`) : `corrupt ${format} data`}${zlibReason(err)}`,
                { path: inner.label, corrupt: format },
              ),
        ),
      )
      input.on('error', (err) => guard.destroy(err))
      // A reader that stops early (a format's first bytes, a scan that ends at its
      // archive's end) tears the whole chain down: the xz decoder holds a lock shared by
      // every xz stream until its stream ends or is cancelled, and a chain left paused
      // would hold it for ever (the next xz stream then waits on it, and the diff hangs).
      guard.on('close', () => {
        decoder.destroy()
        input.destroy()
      })
      return decoder.pipe(guard)
    },
  }
}

// A bzip2 stream this large, or of unknown size (inside another), goes through the
// program where it is installed; a smaller one is decoded here, where a process a stream
// cost more than the decoding. (Every xz stream does: the embedded decoder reads no BCJ
// or delta filter and no SHA-256 check past a first stream, which a small one may hold.)
const PROGRAM_FROM_BYTES = 1024 * 1024

/**
 * Whether a stream goes through the xz or bzip2 program rather than the embedded
 * decoder: native, reads all of xz, and the two sides of a comparison decode at once
 * (the embedded xz decoder decodes one stream at a time in the whole process, and the
 * embedded bzip2 decoder reads about 5 MB/s). An xz stream with a SHA-256 check always
 * does (the embedded decoder cannot check it; without the program it is an error that
 * says so); a zip member's bzip2 data (one stream only) never.
 */
function throughProgram(
  format: Compression,
  inner: ByteSource,
  head: Buffer | undefined,
  oneStream: boolean,
): boolean {
  if (format === 'xz' && head !== undefined && xzCheck(head) === XZ_CHECK_SHA256) return true
  if ((format !== 'xz' && format !== 'bzip2') || (format === 'bzip2' && oneStream)) return false
  if (format === 'bzip2' && inner.size >= 0 && inner.size < PROGRAM_FROM_BYTES) return false
  return findOnPath(format, process.env.PATH) !== undefined
}

function decoderFor(
  format: Compression,
  input: Readable,
  label: string,
  /** Told how much a decoder that writes in bursts (bzip2's, a block at a time) has written so far. */
  check: (produced: number) => void,
  oneStream = false,
): Readable {
  // 1 MiB chunks: with zlib's 16 KiB default, each chunk is a trip to the thread pool
  // and a 26 MB tar.gz spent a third of its time waiting on them.
  if (format === 'gzip') return input.pipe(zlib.createGunzip({ chunkSize: 1024 * 1024 }))
  // Node's zlib has Zstandard from 22.15 on, which every supported Node is.
  // Every frame, not only the first: Node's decoder ends at the end of its first frame.
  if (format === 'zstd') return zstdContent(input, label, 1024 * 1024)
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
      const decoded = Readable.fromWeb(
        new XzReadableStream(
          Readable.toWeb(input) as ReadableStream,
        ) as import('node:stream/web').ReadableStream,
      )
      decoded.on('error', fail).pipe(out)
      // Destroying the Node side cancels the web stream, which releases the decoder's lock.
      out.on('close', () => decoded.destroy())
      input.resume()
      return
    }
    const { bzip2Content } = await import('./bzip2-content.js')
    bzip2Content(input, check, oneStream).on('error', fail).pipe(out)
    out.on('close', () => input.destroy())
  }
  wire().catch(fail)
  return out
}

// What the embedded xz decoder cannot read, which a stream it refused may hold as well
// as be corrupt: said, so that the fix (the xz program) is named.
const EMBEDDED_XZ_LACKS =
  ', or xz the embedded decoder cannot read (a SHA-256 check past the first stream, a BCJ or delta filter): install xz-utils to read it with the xz program'

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])

// The check an xz stream carries (the low nibble of its second flags byte): none,
// CRC32 and CRC64 the embedded decoder verifies; SHA-256 (rpm writes it) it cannot.
const XZ_CHECK_SHA256 = 0x0a
// The memory a hostile xz stream may ask for, at most: the largest preset (-9e) needs a
// 64 MiB dictionary and 65 MiB in all; the embedded decoder takes no larger dictionary.
const XZ_MEMORY_LIMIT = '72MiB'

// The largest dictionary the embedded xz decoder takes: xz's largest preset (-9e) needs it.
const XZ_DICTIONARY_LIMIT = 64 * 1024 * 1024

/**
 * Why an xz stream the embedded decoder refused is not corrupt, when that is so: its
 * first block's LZMA2 dictionary is larger than the decoder takes (`xz --lzma2=dict=1536MiB`
 * decodes with xz, and was called "corrupt xz data"). Read from the stream's first bytes,
 * where they are at hand (a file, or bytes held); undefined otherwise.
 */
function largeXzDictionary(source: ByteSource): string | undefined {
  let head: Buffer | undefined = source.buffer?.subarray(0, 64)
  if (head === undefined && source.file !== undefined) {
    try {
      const fd = fs.openSync(source.file, openFlags(source))
      try {
        head = Buffer.alloc(64)
        head = head.subarray(0, fs.readSync(fd, head, 0, 64, 0))
      } finally {
        fs.closeSync(fd)
      }
    } catch {
      return undefined
    }
  }
  const dictionary = head === undefined ? undefined : xzDictionaryBytes(head)
  if (dictionary === undefined || dictionary <= XZ_DICTIONARY_LIMIT) return undefined
  return `its xz dictionary of ${Math.ceil(dictionary / 2 ** 20)} MiB is more than the ${XZ_DICTIONARY_LIMIT / 2 ** 20} MiB reproof decodes (xz's largest preset, -9e, needs 64 MiB); not compared`
}

/**
 * The dictionary size of an xz stream's first block, when its one filter (or last) is
 * LZMA2 (xz-file-format 3.1 and 5.3.1), or undefined. Pure.
 */
export function xzDictionaryBytes(bytes: Buffer): number | undefined {
  if (bytes.length < 14 || !bytes.subarray(0, 6).equals(XZ_MAGIC)) return undefined
  let at = 12
  const size = ((bytes[at] ?? 0) + 1) * 4
  if (bytes[at] === 0 || at + size > bytes.length) return undefined
  const flags = bytes[at + 1] ?? 0
  at += 2
  const varint = (): number | undefined => {
    let value = 0
    for (let i = 0; i < 9 && at < bytes.length; i++) {
      const b = bytes[at++] ?? 0
      value += (b & 0x7f) * 2 ** (7 * i)
      if ((b & 0x80) === 0) return value
    }
    return undefined
  }
  if ((flags & 0x40) !== 0 && varint() === undefined) return undefined
  if ((flags & 0x80) !== 0 && varint() === undefined) return undefined
  let dictionary: number | undefined
  for (let filter = 0; filter <= (flags & 0x03); filter++) {
    const id = varint()
    const propsSize = varint()
    if (id === undefined || propsSize === undefined || at + propsSize > bytes.length)
      return undefined
    const prop = bytes[at] ?? 0
    dictionary =
      id === 0x21 && propsSize === 1 && prop <= 40
        ? prop === 40
          ? 2 ** 32 - 1
          : (2 | (prop & 1)) * 2 ** (Math.floor(prop / 2) + 11)
        : undefined
    at += propsSize
  }
  return dictionary
}

/**
 * What `source` holds, served once all of it has been read into a temporary file (its
 * bytes counted as they were read, by the decoder that made them); the file goes when
 * the stream closes.
 */
function readWholeFirst(source: ByteSource): Readable {
  const out = new PassThrough()
  const spool = new Spool()
  const reading = source.open()
  let served: Readable | undefined
  out.on('close', () => {
    reading.destroy()
    served?.destroy()
    spool.remove()
  })
  void (async () => {
    const sink = spool.sink(source.label)
    for await (const chunk of reading) {
      if (out.destroyed) return
      sink.add(chunk as Buffer)
    }
    if (out.destroyed) return
    served = sink.done().open()
    served.on('error', (err) => out.destroy(err)).pipe(out)
  })().catch((err: unknown) => out.destroy(err as Error))
  return out
}

function xzCheck(head: Buffer): number | undefined {
  return head.length >= 8 ? (head[7] ?? 0) & 0x0f : undefined
}

/**
 * An xz stream through the xz program (xz-utils), which verifies every check type, for
 * the streams the embedded decoder cannot read. Its memory is limited; it is killed
 * when the output is dropped.
 */
function xzProgram(input: Readable, label: string): Readable {
  return programDecoder(input, {
    program: 'xz',
    args: ['-dcq', `--memlimit-decompress=${XZ_MEMORY_LIMIT}`],
    missing: `${label}: an xz stream with a SHA-256 check is read with the xz program, which is not installed (install xz-utils)`,
    label,
    warningFails: false,
  })
}

/**
 * bzip2 streams (one or several, one after another) through the bzip2 program. It says
 * "trailing garbage after EOF ignored" and exits 0: anything it writes to stderr fails
 * the stream, as the embedded decoder's error does.
 */
function bzip2Program(input: Readable, label: string): Readable {
  return programDecoder(input, {
    program: 'bzip2',
    args: ['-dc'],
    missing: `${label}: the bzip2 program went missing while reproof ran`,
    label,
    warningFails: true,
  })
}

/**
 * `input` decoded by a program that reads it on stdin and writes the content on stdout;
 * killed when the output is dropped. An exit status other than 0 (or, with
 * `warningFails`, any word on stderr) fails the stream with its first line.
 */
const OPTION_VARIABLES = new Set(['BZIP', 'BZIP2', 'XZ_OPT', 'XZ_DEFAULTS'])

function programDecoder(
  input: Readable,
  {
    program,
    args,
    missing,
    label,
    warningFails,
  }: { program: string; args: string[]; missing: string; label: string; warningFails: boolean },
): Readable {
  const out = new PassThrough()
  // Without the variables each program reads options from (BZIP2=-q silenced the warning
  // that fails a stream with trailing garbage; XZ_OPT could lift the memory limit).
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !OPTION_VARIABLES.has(name)),
  )
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'], env })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 1000) stderr += chunk.toString('utf8')
  })
  child.on('error', (err: NodeJS.ErrnoException) => {
    out.destroy(
      err.code === 'ENOENT' ? new ReproofError('E_ENVIRONMENT', missing, { path: label }) : err,
    )
  })
  // The decoder may stop reading early (corrupt input): the rest of the input is dropped.
  child.stdin.on('error', () => undefined)
  input.on('error', (err) => out.destroy(err))
  input.pipe(child.stdin)
  child.stdout.pipe(out, { end: false })
  child.on('close', (code, signal) => {
    const said = stderr.trim().split('\n')[0] ?? ''
    if (code === 0 && !(warningFails && said !== '')) out.end()
    // Killed (out of memory, say): the stream fails, not hangs unended.
    else if (!out.destroyed)
      out.destroy(
        new Error(
          said !== ''
            ? said
            : code === null
              ? `${program} was killed (${signal ?? 'signal'})`
              : `${program} exited ${code}`,
        ),
      )
  })
  out.on('close', () => {
    if (child.exitCode === null) child.kill()
    input.destroy()
  })
  return out
}

interface XzModule {
  XzReadableStream: new (s: ReadableStream) => ReadableStream
}

/**
 * Node's zlib says what is wrong in words ("incorrect header check"), as " (words)"; the
 * other decoders' words are their own ("I gave up a while ago on writing error
 * messages", "error code 8", a TypeError): not passed on.
 */
function zlibReason(err: Error): string {
  const { code } = err as NodeJS.ErrnoException
  return typeof code === 'string' && /^(Z_|ERR_ZLIB|ZSTD_)/.test(code) ? ` (${err.message})` : ''
}
