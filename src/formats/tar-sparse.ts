import { readNumber, type PaxRecord, type RawEntry } from './tar-blocks.js'

/*
 * A sparse file in a tar holds only the pieces of the file that are not holes, and a
 * map of where they lie; tar makes the holes again as zeros. Compared as stored, a
 * sparse member and the same file stored whole differed in every byte: here it is
 * expanded, so its content is the file's. Four layouts carry the map: old GNU (type
 * `S`, in the header and extension blocks), and GNU's PAX 0.0 (repeated
 * `GNU.sparse.offset` and `GNU.sparse.numbytes` records), 0.1 (`GNU.sparse.map`) and
 * 1.0 (the map in decimal lines at the start of the data, padded to a block).
 */

/** One piece of data: where it lies in the file, and its length. */
export interface SparseSegment {
  offset: number
  length: number
}

export interface SparseLayout {
  /** `old GNU`, `GNU 0.0`, `GNU 0.1` or `GNU 1.0`. */
  format: string
  /** The size of the file with its holes. */
  realSize: number
  /** The map, or undefined for GNU 1.0, whose map starts the data. */
  segments: SparseSegment[] | undefined
}

// A map of more pieces than this is no file anyone made (old GNU maps stop at a
// million segments too); 1.0's map text is read whole before the data, so bounded.
const MAX_SEGMENTS = 1_050_000
const MAX_MAP_TEXT = 32 * 1024 * 1024
const BLOCK = 512

/**
 * The sparse layout of an entry, undefined when it is not sparse, or the reason its map
 * cannot be read (pure).
 */
export function sparseLayoutOf(raw: RawEntry): SparseLayout | string | undefined {
  if (raw.type === 'S') return oldGnuLayout(raw)
  const records = new Map<string, Buffer[]>()
  for (const r of raw.pax)
    if (r.key.startsWith('GNU.sparse.'))
      records.set(r.key, [...(records.get(r.key) ?? []), r.value])
  if (records.size === 0) return undefined
  const last = (key: string): Buffer | undefined => records.get(key)?.at(-1)
  const major = last('GNU.sparse.major')?.toString('latin1')
  if (major !== undefined) {
    const minor = last('GNU.sparse.minor')?.toString('latin1')
    if (major !== '1' || minor !== '0') return `GNU sparse format ${major}.${minor ?? '?'}`
    const realSize = decimal(last('GNU.sparse.realsize'))
    if (realSize === undefined) return 'no valid GNU.sparse.realsize record'
    return { format: 'GNU 1.0', realSize, segments: undefined }
  }
  const realSize = decimal(last('GNU.sparse.size'))
  if (realSize === undefined) return 'no valid GNU.sparse.size record'
  const map = last('GNU.sparse.map')
  if (map !== undefined) {
    const numbers = map.length === 0 ? [] : map.toString('latin1').split(',').map(decimalText)
    if (numbers.length % 2 !== 0 || numbers.some((n) => n === undefined))
      return 'a malformed GNU.sparse.map record'
    return { format: 'GNU 0.1', realSize, segments: pairs(numbers as number[]) }
  }
  const offsets = (records.get('GNU.sparse.offset') ?? []).map(decimal)
  const lengths = (records.get('GNU.sparse.numbytes') ?? []).map(decimal)
  if (offsets.length === 0 && lengths.length === 0) return undefined
  if (offsets.length !== lengths.length || [...offsets, ...lengths].some((n) => n === undefined))
    return 'GNU.sparse.offset and GNU.sparse.numbytes records that do not pair up'
  return {
    format: 'GNU 0.0',
    realSize,
    segments: offsets.map((offset, i) => ({ offset: offset ?? 0, length: lengths[i] ?? 0 })),
  }
}

function oldGnuLayout(raw: RawEntry): SparseLayout | string {
  const segments: SparseSegment[] = []
  const read = (block: Buffer, at: number, count: number): string | undefined => {
    for (let i = 0; i < count; i++) {
      const offset = readNumber(block, at + i * 24, 12)
      const length = readNumber(block, at + i * 24 + 12, 12)
      if (offset === undefined || length === undefined)
        return 'a sparse map field that is no number'
      if (offset === 0 && length === 0) continue
      segments.push({ offset, length })
    }
    return undefined
  }
  const wrong =
    read(raw.header, 386, 4) ??
    raw.sparseBlocks.map((b) => read(b, 0, 21)).find((w) => w !== undefined)
  if (wrong !== undefined) return wrong
  const realSize = readNumber(raw.header, 483, 12)
  if (realSize === undefined) return 'a real size that is no number'
  return { format: 'old GNU', realSize, segments }
}

function decimal(value: Buffer | undefined): number | undefined {
  return value === undefined ? undefined : decimalText(value.toString('latin1'))
}

function decimalText(text: string): number | undefined {
  if (!/^\d{1,16}$/.test(text)) return undefined
  const n = Number(text)
  return Number.isSafeInteger(n) ? n : undefined
}

function pairs(numbers: readonly number[]): SparseSegment[] {
  const segments: SparseSegment[] = []
  for (let i = 0; i + 1 < numbers.length; i += 2)
    segments.push({ offset: numbers[i] ?? 0, length: numbers[i + 1] ?? 0 })
  return segments
}

/** The map as a field: `offset+length` pieces, the real size, the layout. */
export function sparseField(layout: SparseLayout, segments: readonly SparseSegment[]): string {
  return `${segments.map((s) => `${s.offset}+${s.length}`).join(' ')}; real size ${layout.realSize} (${layout.format})`
}

const ZEROS = Buffer.alloc(1024 * 1024)

/**
 * Turns a sparse member's stored data, chunk by chunk, into the file's content: its
 * pieces where the map puts them, zeros between and after. A map whose pieces overlap,
 * run past the real size, or do not add up to the data stored is refused (`bad`), as
 * GNU tar refuses it. `spend` is told of every byte of holes made, before it is made.
 */
export class SparseExpander {
  #segments: SparseSegment[] | undefined
  #mapText: Buffer[] = []
  #mapBytes = 0
  /** Bytes of stored data still to skip: 1.0's map and the padding after it. */
  #skip = 0
  #index = 0
  /** Bytes of the current segment's data already given. */
  #within = 0
  /** Where in the file the next byte goes. */
  #position = 0

  /**
   * `emit` undefined: the map and data are only checked (no holes are made, so a huge
   * real size costs nothing), as normalize does before it keeps a sparse member as stored.
   */
  constructor(
    private readonly layout: SparseLayout,
    private readonly emit: ((chunk: Buffer) => void) | undefined,
    private readonly spend: (bytes: number) => void,
    private readonly bad: (what: string) => Error,
  ) {
    if (layout.segments !== undefined) this.#segments = this.#checked(layout.segments)
  }

  /** The map in effect, once known (for 1.0, after its first data). */
  get segments(): readonly SparseSegment[] | undefined {
    return this.#segments
  }

  add(chunk: Buffer): void {
    let rest = chunk
    // 1.0: the map is read from the data first (which sets it, once whole).
    if (this.#segments === undefined) rest = this.#readMap(rest)
    const segments = this.segments
    if (segments === undefined) return
    if (this.#skip > 0) {
      const skipped = Math.min(this.#skip, rest.length)
      this.#skip -= skipped
      rest = rest.subarray(skipped)
    }
    while (rest.length > 0) {
      const segment = segments[this.#index]
      if (segment === undefined) throw this.bad('the sparse map holds less data than is stored')
      if (this.#within === 0) this.#zerosTo(segment.offset)
      const taken = Math.min(segment.length - this.#within, rest.length)
      if (taken > 0) this.emit?.(rest.subarray(0, taken))
      rest = rest.subarray(taken)
      this.#within += taken
      this.#position += taken
      if (this.#within === segment.length) {
        this.#index++
        this.#within = 0
      }
    }
  }

  /** The zeros after the last piece; refused if the data stored ran out before the map. */
  end(): void {
    if (this.#segments === undefined) throw this.bad('the data ends inside the sparse map')
    for (; this.#index < this.#segments.length; this.#index++) {
      const segment = this.#segments[this.#index]
      if (segment !== undefined && segment.length > this.#within)
        throw this.bad('the sparse map holds more data than is stored')
      this.#within = 0
    }
    this.#zerosTo(this.layout.realSize)
  }

  #zerosTo(offset: number): void {
    let count = offset - this.#position
    if (count <= 0) return
    if (this.emit === undefined) {
      this.#position = offset
      return
    }
    this.spend(count)
    while (count > 0) {
      const n = Math.min(count, ZEROS.length)
      this.emit(ZEROS.subarray(0, n))
      count -= n
    }
    this.#position = offset
  }

  /** GNU 1.0: the decimal lines of the map, then padding to a block; what follows is data. */
  #readMap(chunk: Buffer): Buffer {
    this.#mapText.push(Buffer.from(chunk))
    this.#mapBytes += chunk.length
    const text = Buffer.concat(this.#mapText)
    this.#mapText = [text]
    const numbers: number[] = []
    let at = 0
    for (;;) {
      const newline = text.indexOf(0x0a, at)
      if (newline === -1) break
      const n = decimalText(text.toString('latin1', at, newline))
      if (n === undefined) throw this.bad('a malformed sparse map at the start of the data')
      numbers.push(n)
      at = newline + 1
      const count = numbers[0] ?? 0
      if (count > MAX_SEGMENTS) throw this.bad(`a sparse map of ${count} pieces`)
      if (numbers.length === 1 + 2 * count) {
        this.#segments = this.#checked(pairs(numbers.slice(1)))
        // The map fills whole blocks; the data starts at the next one.
        this.#skip = Math.ceil(at / BLOCK) * BLOCK
        const skipped = Math.min(this.#skip, text.length)
        this.#skip -= skipped
        this.#mapText = []
        return text.subarray(skipped)
      }
    }
    if (this.#mapBytes > MAX_MAP_TEXT)
      throw this.bad(`a sparse map over ${MAX_MAP_TEXT} bytes at the start of the data`)
    return Buffer.alloc(0)
  }

  #checked(segments: SparseSegment[]): SparseSegment[] {
    if (segments.length > MAX_SEGMENTS) throw this.bad(`a sparse map of ${segments.length} pieces`)
    let end = 0
    for (const s of segments) {
      if (s.offset < end) throw this.bad('a sparse map whose pieces overlap or are out of order')
      end = s.offset + s.length
      if (end > this.layout.realSize)
        throw this.bad(`a sparse map piece that ends past the real size (${this.layout.realSize})`)
    }
    return segments
  }
}

/** Whether a PAX record is a sparse file's (its map is the `sparse` field, its name the name). */
export function isSparseRecord(record: PaxRecord): boolean {
  return record.key.startsWith('GNU.sparse.')
}
