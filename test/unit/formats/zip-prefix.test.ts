import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  isMozillaZip,
  mozillaLayout,
  readTail,
  windowedReader,
  zipOffsetBase,
  zipPrefixLength,
} from '../../../src/formats/zip-prefix.js'
import { cleanupTemp, makeTemp, toMozillaZip } from '../../helpers.js'

let dir: string
let zip: Buffer
beforeAll(() => {
  dir = makeTemp()
  fs.mkdirSync(path.join(dir, 'src'))
  fs.writeFileSync(path.join(dir, 'src/__main__.py'), 'print("hi")\n')
  fs.writeFileSync(path.join(dir, 'src/data.txt'), 'x'.repeat(5000))
  execFileSync('zip', ['-qrX', '../plain.zip', '.'], { cwd: path.join(dir, 'src') })
  zip = fs.readFileSync(path.join(dir, 'plain.zip'))
})
afterAll(cleanupTemp)

// A launcher script: `#!`, then lines of text with no NUL, ending in a newline.
const script = fc
  .array(fc.string({ unit: fc.constantFrom(...'abc /-_."$@=\t'.split('')), maxLength: 60 }), {
    minLength: 1,
    maxLength: 5,
  })
  .map((lines) => Buffer.from(`#!${lines.join('\n')}\n`, 'latin1'))
  .filter((b) => b.length <= 500)
const prefix = fc.oneof(script, fc.constant(Buffer.from([0x4a, 0x4d, 1, 0])))

/** `zip -A`: the offsets rewritten to count from the start of the file. */
function absolute(bytes: Buffer): Buffer {
  const file = path.join(dir, 'sfx.zip')
  fs.writeFileSync(file, bytes)
  execFileSync('zip', ['-qA', file])
  return fs.readFileSync(file)
}

describe('zips after a prefix', () => {
  it('finds the prefix and where the offsets count from, as the writer or zip -A left them', () => {
    fc.assert(
      fc.property(prefix, fc.boolean(), (head, fixed) => {
        const relative = Buffer.concat([head, zip])
        const file = fixed ? absolute(relative) : relative
        expect(zipPrefixLength(file.subarray(0, 512))).toBe(head.length)
        expect(zipOffsetBase(file, 0, head.length)).toBe(fixed ? 0 : head.length)
        // From the file's last bytes alone, as a large file is read.
        const fd = fs.openSync(path.join(dir, 'sfx.zip'), 'w+')
        try {
          fs.writeSync(fd, file)
          const { tail, tailAt } = readTail(fd, file.length)
          expect(zipOffsetBase(tail, tailAt, head.length)).toBe(fixed ? 0 : head.length)
        } finally {
          fs.closeSync(fd)
        }
      }),
      { numRuns: 25 },
    )
  })

  it('takes nothing else for a prefixed zip', () => {
    // A plain zip has no prefix; a script with no zip after it, a NUL in the script, or a
    // jmod magic before something else is not one.
    expect(zipPrefixLength(zip)).toBeUndefined()
    expect(zipPrefixLength(Buffer.from('#!/bin/sh\necho hi\n'))).toBeUndefined()
    expect(zipPrefixLength(Buffer.concat([Buffer.from('#!/bin/sh\0\n'), zip]))).toBeUndefined()
    expect(zipPrefixLength(Buffer.from([0x4a, 0x4d, 1, 0, 0, 0, 0, 0]))).toBeUndefined()
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const head = Buffer.from(bytes)
        const length = zipPrefixLength(head)
        if (length !== undefined) expect(head.readUInt32LE(length)).toBe(0x04034b50)
      }),
    )
  })

  it('gives no base when the central directory is at neither place', () => {
    const relative = Buffer.concat([Buffer.from('#!/bin/sh\n'), zip])
    // Ten bytes more before the zip than its offsets allow for either way.
    const shifted = Buffer.concat([Buffer.from('#!/bin/sh\n'), Buffer.alloc(10, 0x20), zip])
    expect(zipOffsetBase(relative, 0, 10)).toBe(10)
    expect(zipOffsetBase(shifted, 0, 10)).toBeUndefined()
    // No end record at all.
    expect(zipOffsetBase(relative.subarray(0, relative.length - 22), 0, 10)).toBeUndefined()
  })
})

describe('a Mozilla-optimized zip', () => {
  const readerOf = (bytes: Buffer) => (at: number, n: number) => bytes.subarray(at, at + n)

  it('is found by its central directory after the read-ahead length, and its end record after that', () => {
    const moz = toMozillaZip(zip, 1234)
    expect(isMozillaZip(moz)).toBe(true)
    expect(isMozillaZip(zip)).toBe(false)
    const layout = mozillaLayout(readerOf(moz), moz.length)
    expect(layout?.readAhead).toBe(1234)
    expect(layout?.end.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 5, 6]))
    expect(layout?.end.readUInt32LE(16)).toBe(4)
  })

  it('reads the same through a file a window at a time', () => {
    const file = path.join(dir, 'moz.zip')
    const moz = toMozillaZip(zip)
    fs.writeFileSync(file, moz)
    const fd = fs.openSync(file, 'r')
    try {
      expect(mozillaLayout(windowedReader(fd), moz.length)).toEqual(
        mozillaLayout(readerOf(moz), moz.length),
      )
    } finally {
      fs.closeSync(fd)
    }
  })

  it('is refused (undefined) when cut anywhere before its end record ends, or when a byte of its directory is changed', () => {
    const moz = toMozillaZip(zip)
    const whole = mozillaLayout(readerOf(moz), moz.length)
    const endAt = moz.indexOf(Buffer.from([0x50, 0x4b, 5, 6]))
    fc.assert(
      fc.property(fc.integer({ min: 4, max: endAt + 21 }), (cut) => {
        const short = moz.subarray(0, cut)
        expect(mozillaLayout(readerOf(short), short.length)).toBeUndefined()
      }),
    )
    // The entry count, the directory's size or its offset in the end record: each
    // must name the directory walked.
    for (const field of [10, 12, 16]) {
      const bad = Buffer.from(moz)
      bad[endAt + field] = (bad[endAt + field] ?? 0) ^ 1
      expect(mozillaLayout(readerOf(bad), bad.length), `field ${field}`).toBeUndefined()
    }
    expect(whole).toBeDefined()
  })
})
