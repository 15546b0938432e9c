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

/**
 * A PE32+ image as a linker lays it out: DOS stub, "PE\0\0", COFF header, optional
 * header with 16 data directories, one section (.rdata) holding the debug directory:
 * a CodeView entry (RSDS, GUID, age, PDB path) and a REPRO entry.
 */
function peWithDebug({ time, pdb, age }: { time: number; pdb: string; age: number }): Buffer {
  const bytes = Buffer.alloc(0x600)
  bytes.write('MZ', 0, 'latin1')
  const pe = 0x80
  bytes.writeUInt32LE(pe, 0x3c)
  bytes.write('PE\0\0', pe, 'latin1')
  bytes.writeUInt16LE(0x8664, pe + 4)
  bytes.writeUInt16LE(1, pe + 6) // one section
  bytes.writeUInt32LE(time, pe + 8)
  const optional = pe + 24
  const optionalSize = 112 + 16 * 8
  bytes.writeUInt16LE(optionalSize, pe + 20)
  bytes.writeUInt16LE(0x20b, optional)
  bytes.writeUInt32LE(16, optional + 108)
  // .rdata: loaded at 0x2000, in the file at 0x400.
  const section = optional + optionalSize
  bytes.write('.rdata', section, 'latin1')
  bytes.writeUInt32LE(0x200, section + 8)
  bytes.writeUInt32LE(0x2000, section + 12)
  bytes.writeUInt32LE(0x200, section + 16)
  bytes.writeUInt32LE(0x400, section + 20)
  // The debug directory, two entries of 28 bytes, at 0x2000 (file 0x400).
  bytes.writeUInt32LE(0x2000, optional + 112 + 6 * 8)
  bytes.writeUInt32LE(56, optional + 112 + 6 * 8 + 4)
  const entry = (at: number, type: number, length: number, pointer: number) => {
    bytes.writeUInt32LE(time, at + 4)
    bytes.writeUInt32LE(type, at + 12)
    bytes.writeUInt32LE(length, at + 16)
    bytes.writeUInt32LE(pointer, at + 24)
  }
  const codeView = Buffer.concat([
    Buffer.from('RSDS', 'latin1'),
    Buffer.from('00112233445566778899aabbccddeeff', 'hex'),
    Buffer.from([age, 0, 0, 0]),
    Buffer.from(`${pdb}\0`, 'utf8'),
  ])
  codeView.copy(bytes, 0x440)
  entry(0x400, 2, codeView.length, 0x440)
  Buffer.alloc(8, 0xab).copy(bytes, 0x500)
  entry(0x400 + 28, 16, 8, 0x500)
  return bytes
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

  it("reads a PE32+ file's debug directory: each entry's time, the CodeView GUID, age and PDB path", () => {
    const pe = peWithDebug({ time: 1_700_000_000, pdb: 'C:\\build\\app.pdb', age: 3 })
    expect(knownHeaderFields(pe)).toEqual({
      format: 'PE',
      fields: {
        'COFF time': '2023-11-14T22:13:20Z (1700000000)',
        'debug time': '2023-11-14T22:13:20Z (1700000000)',
        'CodeView GUID': '00112233445566778899aabbccddeeff',
        'CodeView age': '3',
        'PDB path': 'C:\\build\\app.pdb',
        'debug time 2': '2023-11-14T22:13:20Z (1700000000)',
        'repro hash': 'ab'.repeat(8),
      },
      // Where they are: the COFF time, the checksum, each entry's time and the records
      // the entries point to (CodeView: 24 bytes and the path with its NUL).
      spans: [
        [0x88, 0x8c],
        [0xd8, 0xdc],
        [0x404, 0x408],
        [0x440, 0x440 + 24 + 17],
        [0x420, 0x424],
        [0x500, 0x508],
      ],
    })
    // A record's span ends where its path does, whatever length its entry claims (a
    // crafted one must not cover the code); more entries than are read locate nothing.
    const claims = Buffer.from(pe)
    claims.writeUInt32LE(0x100, 0x400 + 16)
    expect(knownHeaderFields(claims)?.spans).toContainEqual([0x440, 0x440 + 24 + 17])
    const many = Buffer.from(pe)
    many.writeUInt32LE(17 * 28, 0x98 + 112 + 6 * 8 + 4)
    expect(knownHeaderFields(many)?.spans).toBeUndefined()
    // Records in a section of code (an entry pointed at instructions) locate nothing.
    const code = Buffer.from(pe)
    code.writeUInt32LE(0x60000020, 0x98 + 112 + 16 * 8 + 36)
    expect(knownHeaderFields(code)?.spans).toBeUndefined()
    // Cut or corrupted anywhere, it never throws: a field that does not hold together is left out.
    fc.assert(
      fc.property(
        fc.nat({ max: pe.length }),
        fc.array(fc.tuple(fc.nat({ max: pe.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          maxLength: 6,
        }),
        (cut, flips) => {
          const bytes = Buffer.from(pe.subarray(0, Math.max(cut, 0x40)))
          for (const [at, value] of flips) if (at < bytes.length && at > 1) bytes[at] = value
          knownHeaderFields(bytes)
        },
      ),
    )
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
