import crypto from 'node:crypto'
import { once } from 'node:events'
import { PassThrough, type Readable, type Transform } from 'node:stream'
import zlib from 'node:zlib'
import { ByteReader } from './byte-reader.js'
import { unreadableAs } from './member.js'

const FRAME = 0xfd2fb528
// Skippable frames: 0x184D2A50 to 0x184D2A5F.
const SKIPPABLE = 0x184d2a50

/** What a walk over a zstd stream found. */
export interface ZstdFrames {
  frames: number
  /** Skippable frames: data outside the compressed content (a seekable stream's seek table). */
  skippable: number
}

/** Where the bytes of each frame go as a walk passes them: data frames whole, headers included. */
export interface FrameSink {
  data(chunk: Buffer): void | Promise<void>
  /** The end of a data frame. */
  end(): void | Promise<void>
  /** A skippable frame's magic, where it starts and its size, then its payload. */
  skippable?: (frame: { magic: number; at: number; size: number }) => void
  skippableData?: (chunk: Buffer) => void
}

const NO_SINK: FrameSink = { data: () => undefined, end: () => undefined }

/**
 * Walks the frames of a zstd stream (RFC 8878) without decompressing: each frame's
 * header, every block header and its size, the checksum when the frame has one. Node's
 * zstd decoder refuses a cut stream but stops at the end of the first frame, whatever
 * follows it; this refuses what is cut or out of place and sees every frame. Throws
 * E_INPUT, with the byte offset, at the first thing out of place.
 */
export async function checkZstdFrames(
  input: Readable,
  where: string,
  sink: FrameSink = NO_SINK,
): Promise<ZstdFrames> {
  const bad = unreadableAs('zstd stream', where)
  const reader = new ByteReader(input, where)
  const need = async (n: number, what: string): Promise<Buffer> => {
    const at = reader.offset
    const bytes = await reader.read(n)
    if (bytes === undefined || bytes.length < n) throw bad(`cut short in ${what} at byte ${at}`)
    await sink.data(bytes)
    return bytes
  }
  let skippable = 0
  for (let frames = 0; ; frames++) {
    const at = reader.offset
    const magicBytes = await reader.read(4)
    if (magicBytes === undefined) {
      if (frames === 0) throw bad('empty')
      return { frames, skippable }
    }
    if (magicBytes.length < 4) throw bad(`cut short in a frame's magic at byte ${at}`)
    const magic = magicBytes.readUInt32LE(0)
    if ((magic & 0xfffffff0) === SKIPPABLE) {
      skippable++
      const sizeBytes = await reader.read(4)
      if (sizeBytes === undefined || sizeBytes.length < 4)
        throw bad(`cut short in a skippable frame at byte ${at}`)
      const size = sizeBytes.readUInt32LE(0)
      sink.skippable?.({ magic, at, size })
      const payload = sink.skippableData ?? (() => undefined)
      if ((await reader.forward(size, payload)) < size)
        throw bad(`cut short in a skippable frame at byte ${at}`)
      continue
    }
    if (magic !== FRAME) throw bad(`no frame at byte ${at}`)
    await sink.data(magicBytes)
    const descriptor = (await need(1, 'a frame header'))[0] ?? 0
    const contentSizeFlag = descriptor >> 6
    const singleSegment = (descriptor >> 5) & 1
    const checksum = (descriptor >> 2) & 1
    const dictionaryBytes = [0, 1, 2, 4][descriptor & 3] ?? 0
    const contentSizeBytes = [singleSegment, 2, 4, 8][contentSizeFlag] ?? 0
    const headerRest = (singleSegment ? 0 : 1) + dictionaryBytes + contentSizeBytes
    if (headerRest > 0) await need(headerRest, 'a frame header')
    for (;;) {
      const blockAt = reader.offset
      const header = await need(3, 'a block header')
      const value = header.readUIntLE(0, 3)
      const last = value & 1
      const type = (value >> 1) & 3
      const size = value >> 3
      if (type === 3) throw bad(`a reserved block type at byte ${blockAt}`)
      // A run-length block stores its one byte; the others store `size` bytes.
      const stored = type === 1 ? 1 : size
      if ((await reader.forward(stored, (chunk) => sink.data(chunk))) < stored)
        throw bad(`cut short in a block at byte ${blockAt}`)
      if (last === 1) break
    }
    if (checksum === 1) await need(4, "a frame's checksum")
    await sink.end()
  }
}

/**
 * The decompressed content of every data frame of a zstd stream, in order (RFC 8878:
 * a stream is its frames one after another). Each frame goes to a decoder of its own,
 * as Node's ends at its first frame; skippable frames hold no content and are passed over.
 */
export function zstdContent(input: Readable, where: string, chunkSize: number): Readable {
  const out = new PassThrough()
  let decoder: Transform | undefined
  const fail = (err: Error): void => {
    decoder?.destroy()
    input.destroy()
    out.destroy(err)
  }
  const sink: FrameSink = {
    data: async (chunk) => {
      if (decoder === undefined) {
        decoder = zlib.createZstdDecompress({ chunkSize })
        decoder.on('error', fail)
        decoder.pipe(out, { end: false })
      }
      if (!decoder.write(chunk)) await once(decoder, 'drain')
    },
    end: async () => {
      const finishing = decoder
      decoder = undefined
      if (finishing === undefined) return
      const ended = once(finishing, 'end')
      finishing.end()
      await ended
    },
  }
  out.on('close', () => {
    decoder?.destroy()
    input.destroy()
  })
  checkZstdFrames(input, where, sink).then(
    () => out.end(),
    (err: unknown) => {
      fail(err as Error)
    },
  )
  return out
}

/** A skippable frame: its place, its magic, and its payload's digest and first bytes. */
export interface SkippableFrame {
  at: number
  /** How many bytes of data frames come before it: where it lies among them. */
  dataBefore: number
  magic: number
  size: number
  sha256: string
  head: Buffer
}

/** What a zstd stream holds besides its content: the data frames' bytes, the skippable frames. */
export interface ZstdLayout {
  /** The digest of every data frame's bytes, in order: the compressed content alone. */
  dataSha256: string
  /** The first skippable frames, up to `SKIPPABLE_SHOWN`. */
  skippable: SkippableFrame[]
  /** All skippable frames: their count, and a digest of their magics, sizes and payloads. */
  skippableCount: number
  skippableSha256: string
}

export const SKIPPABLE_SHOWN = 8
const HEAD_SHOWN = 32

/**
 * Splits a zstd stream into its data frames and its skippable frames, without
 * decompressing: two streams of the same content whose bytes differ may differ only in
 * a skippable frame (a seek table, a writer's metadata), which is no compressor's doing.
 * Memory stays a few digests, whatever the number of frames.
 */
export async function zstdLayout(input: Readable, where: string): Promise<ZstdLayout> {
  const data = crypto.createHash('sha256')
  const all = crypto.createHash('sha256')
  const skippable: SkippableFrame[] = []
  let count = 0
  let dataBytes = 0
  let current: { frame: SkippableFrame; hash: crypto.Hash } | undefined
  const close = (): void => {
    if (current === undefined) return
    current.frame.sha256 = current.hash.digest('hex')
    current = undefined
  }
  await checkZstdFrames(input, where, {
    data: (chunk) => {
      close()
      data.update(chunk)
      dataBytes += chunk.length
    },
    end: () => undefined,
    skippable: ({ magic, at, size }) => {
      close()
      count++
      // Where it lies among the data frames too: a frame moved (a seek table written
      // first rather than last) is a difference of the layout, not of the compressor.
      const header = Buffer.alloc(16)
      header.writeUInt32LE(magic, 0)
      header.writeUInt32LE(size, 4)
      header.writeBigUInt64LE(BigInt(dataBytes), 8)
      all.update(header)
      if (skippable.length >= SKIPPABLE_SHOWN) return
      const frame = { at, dataBefore: dataBytes, magic, size, sha256: '', head: Buffer.alloc(0) }
      skippable.push(frame)
      current = { frame, hash: crypto.createHash('sha256') }
    },
    skippableData: (chunk) => {
      all.update(chunk)
      if (current === undefined) return
      current.hash.update(chunk)
      const { frame } = current
      if (frame.head.length < HEAD_SHOWN)
        frame.head = Buffer.concat([frame.head, chunk.subarray(0, HEAD_SHOWN - frame.head.length)])
    },
  })
  close()
  return {
    dataSha256: data.digest('hex'),
    skippable,
    skippableCount: count,
    skippableSha256: all.digest('hex'),
  }
}
