import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { ByteReader } from '../../../src/formats/byte-reader.js'
import { FileChunks } from '../../../src/formats/file-chunks.js'

interface Step {
  op: 'read' | 'forward' | 'peek' | 'skipZeros' | 'rest'
  n: number
}

const step: fc.Arbitrary<Step> = fc.record({
  op: fc.constantFrom<Step['op']>('read', 'forward', 'peek'),
  n: fc.nat({ max: 700 }),
})

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byte-reader-'))
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})
let files = 0

/**
 * Runs `steps` against the reader and checks each answer against the flat bytes. A view
 * the reader returns is checked once more just before the next call (it is valid until
 * then), and every piece `forward` passes while the callback runs (it is valid until the
 * callback returns): a reader that gave a chunk back too early, to a lender that
 * overwrites what it is given back, fails here.
 */
async function checkSteps(reader: ByteReader, data: Buffer, steps: readonly Step[]): Promise<void> {
  let at = 0
  let last: { view: Buffer; want: Buffer } | undefined
  const recheck = (): void => {
    if (last !== undefined) expect(last.view).toEqual(last.want)
    last = undefined
  }
  for (const { op, n } of steps) {
    const want = data.subarray(at, at + n)
    if (op === 'rest') {
      recheck()
      const rest: Buffer[] = []
      for await (const chunk of reader.rest()) rest.push(chunk as Buffer)
      expect(Buffer.concat(rest)).toEqual(data.subarray(at))
      return
    }
    if (op === 'skipZeros') {
      recheck()
      let zeros = 0
      while (at + zeros < data.length && data[at + zeros] === 0) zeros++
      expect(await reader.skipZeros()).toBe(zeros)
      at += zeros
      expect(reader.offset).toBe(at)
      continue
    }
    if (op === 'peek') {
      recheck()
      const got = await reader.peek(n)
      expect(got).toEqual(want)
      last = { view: got, want: Buffer.from(want) }
      continue
    }
    if (op === 'read') {
      recheck()
      const got = await reader.read(n)
      if (n > 0 && want.length === 0) expect(got).toBeUndefined()
      else expect(got ?? Buffer.alloc(0)).toEqual(want)
      if (got !== undefined) last = { view: got, want: Buffer.from(want) }
    } else {
      recheck()
      const parts: Buffer[] = []
      let seen = 0
      expect(
        await reader.forward(n, (c) => {
          expect(c).toEqual(data.subarray(at + seen, at + seen + c.length))
          seen += c.length
          parts.push(Buffer.from(c))
        }),
      ).toBe(want.length)
      expect(Buffer.concat(parts)).toEqual(want)
    }
    at += want.length
    expect(reader.offset).toBe(at)
  }
  recheck()
}

describe('ByteReader', () => {
  it('gives the bytes a flat buffer would, however the stream is cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.nat({ max: 3000 }), { maxLength: 10 }),
        fc.array(step, { maxLength: 30 }),
        async (bytes, cuts, steps) => {
          const data = Buffer.from(bytes)
          const ends = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b)
          const chunks = [...ends, data.length]
            .map((end, i, all) => data.subarray(i === 0 ? 0 : (all[i - 1] ?? 0), end))
            .filter((c) => c.length > 0)
          await checkSteps(new ByteReader(Readable.from(chunks)), data, steps)
        },
      ),
    )
  })

  it('gives the same bytes from a file read into reused buffers, each chunk given back only once nothing returned from it is in use', async () => {
    const anyStep: fc.Arbitrary<Step> = fc.oneof(
      { weight: 6, arbitrary: step },
      { weight: 1, arbitrary: fc.constant<Step>({ op: 'skipZeros', n: 0 }) },
      { weight: 1, arbitrary: fc.constant<Step>({ op: 'rest', n: 0 }) },
    )
    await fc.assert(
      fc.asyncProperty(
        // Runs of zeros among the bytes, for skipZeros to cross chunks.
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }),
            fc.nat({ max: 400 }).map((n) => new Uint8Array(n)),
          ),
          { maxLength: 12 },
        ),
        fc.integer({ min: 1, max: 200 }),
        fc.array(anyStep, { maxLength: 40 }),
        async (pieces, chunkSize, steps) => {
          const data = Buffer.concat(pieces)
          const file = path.join(dir, `f${files++}`)
          fs.writeFileSync(file, data)
          const chunks = new FileChunks(file, { chunkSize, poison: true })
          try {
            await checkSteps(new ByteReader(chunks), data, steps)
          } finally {
            chunks.close()
          }
        },
      ),
    )
  })
})
