import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { parsePyc } from '../../../src/formats/pyc.js'
import { cleanupTemp, makeTemp, pythons } from '../../helpers.js'

afterAll(cleanupTemp)

const MODULE = `import os
X = 1
Y = (2.5, "s", b"b", None, 10**30, -5, 3+4j, frozenset({7}))
class C:
    def method(self, a, *, k=2):
        def inner():
            return a + k
        return inner
def f(x):
    return os.path.join("a", str(x)) + "const"
`

function compile(python: string, dir: string, source = MODULE): Buffer {
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'm.py'), source)
  execFileSync(python, ['-c', "import py_compile; py_compile.compile('m.py', 'm.pyc')"], {
    cwd: dir,
  })
  return fs.readFileSync(path.join(dir, 'm.pyc'))
}

describe('parsePyc', () => {
  it('reads every code object with its constants, names and file, as Python wrote them', () => {
    const found = pythons()
    expect(found.length).toBeGreaterThan(0)
    for (const python of found) {
      const pyc = parsePyc(compile(python, makeTemp()))
      expect(pyc, python).toBeDefined()
      const byName = new Map(pyc?.codes.map((c) => [c.qualname.replace(/^<module>\./, ''), c]))
      // 3.11 on write qualified names; before, names are joined by their nesting.
      const method = byName.get('C.method')
      const inner = byName.get('C.method.<locals>.inner') ?? byName.get('C.method.inner')
      expect([...byName.keys()].sort(), python).toContain('f')
      expect(method, python).toBeDefined()
      expect(inner, python).toBeDefined()
      const module = pyc?.codes[0]
      expect(module?.qualname).toBe('<module>')
      expect(module?.filename).toBe('m.py')
      expect(module?.names).toEqual(expect.arrayContaining(['os', 'X', 'Y', 'C', 'f']))
      // Constants as a reader would write them (3.6 keeps 10**30 unfolded).
      expect(module?.constants).toEqual(expect.arrayContaining(['1', '2.5', '"s"', 'b"b"', 'None']))
      expect(byName.get('f')?.constants).toEqual(expect.arrayContaining(['"a"', '"const"']))
      expect(byName.get('f')?.names).toEqual(['os', 'path', 'join', 'str'])
      expect(byName.get('f')?.bytecode.length).toBeGreaterThan(0)
    }
  })

  it('is undefined for what is not a .pyc, and never throws or runs away on hostile bytes', () => {
    expect(parsePyc(Buffer.from('not a pyc at all, no'))).toBeUndefined()
    const real = compile('python3', makeTemp())
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat({ max: real.length - 1 }), value: fc.nat({ max: 255 }) }), {
          maxLength: 16,
        }),
        fc.nat({ max: real.length }),
        (edits, cut) => {
          const bytes = Buffer.from(real.subarray(0, Math.max(cut, 16)))
          for (const e of edits) if (e.at >= 16 && e.at < bytes.length) bytes[e.at] = e.value
          parsePyc(bytes)
        },
      ),
      { numRuns: 300 },
    )
    // Nested a thousand tuples deep, and a count that claims more than there is.
    const head = real.subarray(0, 16)
    const deep = Buffer.concat([
      head,
      Buffer.from('c'),
      Buffer.alloc(20),
      Buffer.from(')\x01'.repeat(1000)),
    ])
    expect(parsePyc(deep)).toBeUndefined()
    const huge = Buffer.concat([
      head,
      Buffer.from('c'),
      Buffer.alloc(20),
      Buffer.from([0x28, 0xff, 0xff, 0xff, 0x7f]),
    ])
    expect(parsePyc(huge)).toBeUndefined()
  })

  /** A Python 3.12 module whose constants are `consts` (marshal bytes of a tuple). */
  const module312 = (consts: Buffer): Buffer => {
    const i32 = (n: number): Buffer => {
      const b = Buffer.alloc(4)
      b.writeInt32LE(n)
      return b
    }
    const str = (t: string): Buffer =>
      Buffer.concat([Buffer.from([0x7a, t.length]), Buffer.from(t)])
    const bytes = (b: Buffer): Buffer => Buffer.concat([Buffer.from('s'), i32(b.length), b])
    const empty = Buffer.concat([Buffer.from('('), i32(0)])
    const header = Buffer.concat([Buffer.from([0xcb, 0x0d, 0x0d, 0x0a]), Buffer.alloc(12)])
    return Buffer.concat([
      header,
      Buffer.from('c'),
      Buffer.alloc(20),
      bytes(Buffer.from([0x97, 0x00, 0x79, 0x00])),
      consts,
      empty,
      empty,
      bytes(Buffer.alloc(0)),
      str('/x/m.py'),
      str('<module>'),
      str('<module>'),
      i32(1),
      bytes(Buffer.alloc(0)),
      bytes(Buffer.alloc(0)),
    ])
  }
  const tuple = (items: Buffer[], ref = false): Buffer => {
    const head = Buffer.from([ref ? 0x28 | 0x80 : 0x28, 0, 0, 0, 0])
    head.writeInt32LE(items.length, 1)
    return Buffer.concat([head, ...items])
  }
  const ref = (slot: number): Buffer => {
    const b = Buffer.from('r\0\0\0\0', 'latin1')
    b.writeInt32LE(slot, 1)
    return b
  }

  it('reads references that double at each level, and a very long integer, in bounded work', () => {
    // t0 = (None, None); t_k = (t_k-1, t_k-1), 25 deep: written out, 2^25 items.
    const levels = [tuple([Buffer.from('N'), Buffer.from('N')], true)]
    for (let k = 1; k < 25; k++) levels.push(tuple([ref(k - 1), ref(k - 1)], true))
    const dag = parsePyc(module312(tuple([...levels, ref(24)])))
    const last = dag?.codes[0]?.constants.at(-1) ?? ''
    // Each level's text is its items' (each kept short), not the whole of what is below it.
    expect(last).toMatch(/characters, sha256 [0-9a-f]{16}\)/)
    expect(last.length).toBeLessThan(1200)
    // 100,000 digits of 15 bits: told apart by its digest, read in linear time.
    const digits = Buffer.alloc(5 + 200_000, 0xff)
    digits.write('l', 0, 'latin1')
    digits.writeInt32LE(100_000, 1)
    const long = parsePyc(module312(tuple([digits])))
    expect(long?.codes[0]?.constants).toEqual([
      expect.stringMatching(/^<int of 100000 15-bit digits, sha256 [0-9a-f]{16}>$/),
    ])
  })

  it('refuses a value that holds itself', () => {
    // A tuple whose only item is a reference to the tuple being read.
    expect(parsePyc(module312(tuple([tuple([ref(0)], true)])))).toBeUndefined()
    // The same reference once the tuple is read is fine.
    expect(parsePyc(module312(tuple([tuple([Buffer.from('N')], true), ref(0)])))).toBeDefined()
  })
})
