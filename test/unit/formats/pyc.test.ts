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
})
