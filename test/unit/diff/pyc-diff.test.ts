import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { comparePycs } from '../../../src/diff/pyc-diff.js'
import { cleanupTemp, makeTemp, pythons } from '../../helpers.js'

afterAll(cleanupTemp)

/**
 * One source compiled in two directories of one length (so that the sources are of one
 * size), by absolute path, at one mtime: each side's .pyc, after `change` made B's source.
 */
function pair(python: string, source: string, change = (s: string): string => s): [Buffer, Buffer] {
  const root = makeTemp()
  return (['one', 'two'] as const).map((side) => {
    const dir = path.join(root, side, 'src')
    fs.mkdirSync(dir, { recursive: true })
    const file = path.join(dir, 'm.py')
    fs.writeFileSync(file, side === 'one' ? source : change(source))
    fs.utimesSync(file, 1_700_000_000, 1_700_000_000)
    execFileSync(python, ['-c', `import py_compile; py_compile.compile(${JSON.stringify(file)})`], {
      env: { PATH: process.env.PATH ?? '' },
    })
    const [pyc = ''] = fs.readdirSync(path.join(dir, '__pycache__'))
    return fs.readFileSync(path.join(dir, '__pycache__', pyc))
  }) as [Buffer, Buffer]
}

const SOURCE = `import os
HERE = os.path.dirname(__file__)
def f(a, b):
    x = a
    return x + b + 1
# padding
`

describe('comparePycs: whether a path or a time explains every difference', () => {
  const found = pythons()

  it('explains a build in another directory, and a path or time held as a constant', () => {
    for (const python of found) {
      const [a, b] = pair(python, SOURCE)
      const moved = comparePycs(a, b)?.explanation
      expect(moved, python).toEqual({
        causes: [expect.objectContaining({ cause: 'build-path' })],
      })
      const built = `${SOURCE}WHERE = "DIR/src/data"\nWHEN = "2024-01-01T00:00:00Z"\n`
      const [c, d] = pair(python, built.replace('DIR', '/opt/one'), (s) =>
        s.replace('/opt/one', '/opt/two').replace('01T', '02T'),
      )
      const causes = comparePycs(c, d)?.explanation
      expect(
        causes && 'causes' in causes ? causes.causes.map((h) => h.cause) : causes,
        python,
      ).toEqual(['build-path', 'timestamp'])
    }
  })

  it('names what no path or time explains: an argument, a local name, a constant, bytes after the module', () => {
    for (const python of found) {
      const cases: [(s: string) => string, RegExp][] = [
        // Each change keeps the source's size, which would be named first.
        [
          (s) => s.replace('def f(a, b):', 'def f(a,*,b):').replace('padding', 'paddin'),
          /^(<module>\.)?f: argcount 2 → argcount 1$/,
        ],
        [
          (s) => s.replaceAll('x', 'y'),
          /^(<module>\.)?f: (localsplusnames|varnames) \("a", "b", "x"\) → /,
        ],
        [(s) => s.replace('+ 1', '+ 2'), /^constant \d of (<module>\.)?f: 1 → 2$/],
        [(s) => s.replace('+ 1', '+1.'), /^constant \d of (<module>\.)?f: 1 → 1\.0$/],
        [(s) => `${s}# a comment\n`, /^source size \d+ → \d+: compiled from other sources$/],
      ]
      for (const [change, reason] of cases) {
        const [a, b] = pair(python, SOURCE, change)
        const found = comparePycs(a, b)?.explanation
        const why = found !== undefined && 'unexplained' in found ? found.unexplained : ''
        expect(why, `${python} ${change.toString()}`).toMatch(reason)
      }
      const [a, b] = pair(python, SOURCE)
      expect(comparePycs(a, Buffer.concat([b, Buffer.from('JUNK')]))?.explanation).toEqual({
        unexplained: "bytes after the module's code differ (0 and 4)",
      })
      // Another Python's magic, or one this does not read: nothing else is known.
      for (const magic of [a.readUInt16LE(0) + 1, 19_999]) {
        const other = Buffer.from(b)
        other.writeUInt16LE(magic, 0)
        const found = comparePycs(a, other)?.explanation
        expect(found !== undefined && 'unexplained' in found ? found.unexplained : '').toMatch(
          /^(compiled by Python|the code of side B could not be read)/,
        )
      }
    }
  })
})
