import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { knownHeaderFields } from '../../../src/formats/binary-headers.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

/** What python3's py_compile writes for a source whose mtime is `mtime`. */
function pyc(dir: string, mtime: number, env: Record<string, string> = {}): Buffer {
  const source = path.join(dir, 'm.py')
  fs.writeFileSync(source, 'X = 1\n')
  fs.utimesSync(source, mtime, mtime)
  const out = path.join(dir, 'm.pyc')
  execFileSync(
    'python3',
    [
      '-c',
      `import py_compile; py_compile.compile(${JSON.stringify(source)}, ${JSON.stringify(out)})`,
    ],
    {
      // Only what is given: a SOURCE_DATE_EPOCH of the caller's would make a hash-based .pyc.
      env: { PATH: process.env.PATH ?? '', ...env },
    },
  )
  return fs.readFileSync(out)
}

describe('knownHeaderFields', () => {
  it("reads a .pyc's source mtime and size, or its hash when SOURCE_DATE_EPOCH is set", () => {
    const header = knownHeaderFields(pyc(makeTemp(), 1_700_000_000))
    expect(header?.format).toBe('pyc')
    expect(header?.fields['source mtime']).toBe('2023-11-14T22:13:20Z (1700000000)')
    expect(header?.fields['source size']).toBe('6')
    const hashed = knownHeaderFields(pyc(makeTemp(), 1_700_000_000, { SOURCE_DATE_EPOCH: '1' }))
    expect(hashed?.fields['source mtime']).toBeUndefined()
    expect(hashed?.fields['source hash']).toMatch(/^[0-9a-f]{16}$/)
  })

  it("reads a PE file's COFF time and a PNG's tIME chunk", () => {
    const pe = Buffer.alloc(0x100)
    pe.write('MZ', 0, 'latin1')
    pe.writeUInt32LE(0x80, 0x3c)
    pe.write('PE\0\0', 0x80, 'latin1')
    pe.writeUInt32LE(1_700_000_000, 0x88)
    expect(knownHeaderFields(pe)).toEqual({
      format: 'PE',
      fields: { 'COFF time': '2023-11-14T22:13:20Z (1700000000)' },
    })
    const chunk = (type: string, data: Buffer) => {
      const head = Buffer.alloc(8)
      head.writeUInt32BE(data.length, 0)
      head.write(type, 4, 'latin1')
      return Buffer.concat([head, data, Buffer.alloc(4)])
    }
    const time = Buffer.from([0x07, 0xe7, 11, 14, 22, 13, 20])
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', Buffer.alloc(13)),
      chunk('tIME', time),
      chunk('IEND', Buffer.alloc(0)),
    ])
    expect(knownHeaderFields(png)?.fields).toEqual({ tIME: '2023-11-14T22:13:20Z' })
  })

  it('never throws and never reads past the end, whatever the bytes', () => {
    const starts = [
      Buffer.from('MZ'),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.from([0x55, 0x0d, 0x0d, 0x0a]),
    ]
    fc.assert(
      fc.property(fc.nat({ max: 2 }), fc.uint8Array({ maxLength: 300 }), (i, tail) => {
        knownHeaderFields(Buffer.concat([starts[i] ?? Buffer.alloc(0), Buffer.from(tail)]))
      }),
    )
  })
})
