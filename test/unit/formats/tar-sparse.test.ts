import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { RawEntry } from '../../../src/formats/tar-blocks.js'
import {
  SparseExpander,
  sparseLayoutOf,
  type SparseLayout,
  type SparseSegment,
} from '../../../src/formats/tar-sparse.js'

const bad = (what: string): Error => new Error(what)

/** The file the expander makes of `stored`, given to it in pieces of `piece` bytes. */
function expand(layout: SparseLayout, stored: Buffer, piece: number) {
  const out: Buffer[] = []
  let holes = 0
  const expander = new SparseExpander(
    layout,
    (chunk) => out.push(Buffer.from(chunk)),
    (bytes) => (holes += bytes),
    bad,
  )
  for (let i = 0; i < stored.length; i += piece) expander.add(stored.subarray(i, i + piece))
  expander.end()
  return { file: Buffer.concat(out), holes, segments: expander.segments }
}

/** GNU 1.0's data: the map in decimal lines, padded to a block, then the pieces. */
function withMapInData(segments: readonly SparseSegment[], data: Buffer): Buffer {
  const text = [segments.length, ...segments.flatMap((s) => [s.offset, s.length])]
    .map((n) => `${n}\n`)
    .join('')
  const map = Buffer.from(text)
  const padded = Buffer.concat([map, Buffer.alloc((512 - (map.length % 512)) % 512)])
  return Buffer.concat([padded, data])
}

// A file as holes and pieces of data, each hole before its piece, and a hole at the end.
const sparseFile = fc
  .record({
    pieces: fc.array(
      fc.record({ hole: fc.nat({ max: 3000 }), data: fc.uint8Array({ maxLength: 700 }) }),
      { maxLength: 12 },
    ),
    tail: fc.nat({ max: 3000 }),
  })
  .map(({ pieces, tail }) => {
    const segments: SparseSegment[] = []
    const file: Buffer[] = []
    let at = 0
    for (const { hole, data } of pieces) {
      file.push(Buffer.alloc(hole), Buffer.from(data))
      segments.push({ offset: at + hole, length: data.length })
      at += hole + data.length
    }
    file.push(Buffer.alloc(tail))
    return {
      segments,
      stored: Buffer.concat(pieces.map((p) => Buffer.from(p.data))),
      file: Buffer.concat(file),
    }
  })

describe('SparseExpander', () => {
  it('makes the file again from its pieces and map, however the data is cut', () => {
    fc.assert(
      fc.property(
        sparseFile,
        fc.integer({ min: 1, max: 1200 }),
        fc.boolean(),
        (f, piece, inData) => {
          const layout: SparseLayout = {
            format: inData ? 'GNU 1.0' : 'GNU 0.1',
            realSize: f.file.length,
            segments: inData ? undefined : f.segments,
          }
          const stored = inData ? withMapInData(f.segments, f.stored) : f.stored
          const got = expand(layout, stored, piece)
          expect(got.file.equals(f.file)).toBe(true)
          expect(got.holes).toBe(f.file.length - f.stored.length)
          expect(got.segments).toEqual(f.segments)
        },
      ),
    )
  })

  it('refuses a map that tar would not extract: overlapping, past the size, or not the data stored', () => {
    const layout = (segments: SparseSegment[], realSize = 100): SparseLayout => ({
      format: 'GNU 0.1',
      realSize,
      segments,
    })
    const data = Buffer.alloc(10, 1)
    expect(() =>
      expand(
        layout([
          { offset: 0, length: 5 },
          { offset: 3, length: 5 },
        ]),
        data,
        4,
      ),
    ).toThrow(/overlap/)
    expect(() => expand(layout([{ offset: 95, length: 10 }]), data, 4)).toThrow(
      /past the real size/,
    )
    expect(() => expand(layout([{ offset: 0, length: 4 }]), data, 4)).toThrow(
      /less data than is stored/,
    )
    expect(() => expand(layout([{ offset: 0, length: 40 }]), data, 4)).toThrow(
      /more data than is stored/,
    )
    // 1.0: a map that is no numbers, or data that ends inside it.
    const inData: SparseLayout = { format: 'GNU 1.0', realSize: 100, segments: undefined }
    expect(() => expand(inData, Buffer.from('1\nx\n'), 4)).toThrow(/malformed sparse map/)
    expect(() => expand(inData, Buffer.from('2\n0\n'), 4)).toThrow(/ends inside the sparse map/)
  })

  it('counts the holes it makes before making them, so a budget can stop a huge one', () => {
    const layout: SparseLayout = {
      format: 'GNU 0.1',
      realSize: 2 ** 40,
      segments: [{ offset: 0, length: 1 }],
    }
    const made: number[] = []
    const expander = new SparseExpander(
      layout,
      (chunk) => made.push(chunk.length),
      () => {
        throw new Error('over budget')
      },
      bad,
    )
    expander.add(Buffer.from('x'))
    expect(() => {
      expander.end()
    }).toThrow(/over budget/)
    expect(made).toEqual([1])
  })
})

describe('sparseLayoutOf', () => {
  const entry = (type: string, pax: [string, string][]): RawEntry => ({
    at: 0,
    type,
    extensions: [],
    header: Buffer.alloc(512),
    sparseBlocks: [],
    pax: pax.map(([key, value]) => ({ key, value: Buffer.from(value) })),
    name: Buffer.from('f'),
    linkName: Buffer.alloc(0),
    size: 0,
    data: Buffer.alloc(0),
  })

  it('reads each PAX layout, and names what it cannot read', () => {
    expect(sparseLayoutOf(entry('0', []))).toBeUndefined()
    expect(
      sparseLayoutOf(
        entry('0', [
          ['GNU.sparse.size', '10'],
          ['GNU.sparse.offset', '2'],
          ['GNU.sparse.numbytes', '3'],
          ['GNU.sparse.offset', '8'],
          ['GNU.sparse.numbytes', '1'],
        ]),
      ),
    ).toEqual({
      format: 'GNU 0.0',
      realSize: 10,
      segments: [
        { offset: 2, length: 3 },
        { offset: 8, length: 1 },
      ],
    })
    expect(
      sparseLayoutOf(
        entry('0', [
          ['GNU.sparse.size', '10'],
          ['GNU.sparse.map', '2,3,8,1'],
        ]),
      ),
    ).toMatchObject({ format: 'GNU 0.1', segments: [{ offset: 2 }, { offset: 8 }] })
    expect(
      sparseLayoutOf(
        entry('0', [
          ['GNU.sparse.major', '1'],
          ['GNU.sparse.minor', '0'],
          ['GNU.sparse.realsize', '10'],
        ]),
      ),
    ).toEqual({ format: 'GNU 1.0', realSize: 10, segments: undefined })
    for (const [records, why] of [
      [[['GNU.sparse.major', '2']], /format 2/],
      [[['GNU.sparse.map', '1,2']], /GNU\.sparse\.size/],
      [
        [
          ['GNU.sparse.size', '10'],
          ['GNU.sparse.map', '1,2,3'],
        ],
        /malformed GNU\.sparse\.map/,
      ],
      [
        [
          ['GNU.sparse.size', '10'],
          ['GNU.sparse.offset', '1'],
        ],
        /do not pair up/,
      ],
      [
        [
          ['GNU.sparse.size', '-1'],
          ['GNU.sparse.map', '1,2'],
        ],
        /GNU\.sparse\.size/,
      ],
    ] as const)
      expect(sparseLayoutOf(entry('0', records as unknown as [string, string][]))).toMatch(why)
  })
})
