import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { compareElfSections } from '../../../src/diff/elf-diff.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

function object(dir: string, code: string): Buffer {
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'x.c'), code)
  execFileSync('gcc', ['-g', '-O1', '-c', 'x.c'], { cwd: dir })
  return fs.readFileSync(path.join(dir, 'x.o'))
}

const CODE = 'int f(int x) { return x * 3; }\n'

describe('compareElfSections', () => {
  it('names the string section that holds the build path, with the two paths', () => {
    const root = makeTemp()
    const a = object(path.join(root, 'one'), CODE)
    const b = object(path.join(root, 'two-longer'), CODE)
    const result = compareElfSections(a, b)
    const line = result?.sections.find((s) => s.name === '.debug_line_str')
    expect(line?.strings).toEqual({
      a: [path.join(root, 'one')],
      b: [path.join(root, 'two-longer')],
    })
    // Code is the same: .text does not differ, though everything after the strings moved.
    expect(result?.sections.map((s) => s.name)).not.toContain('.text')
  })

  it('names .text when the code changed, and nothing for identical files', () => {
    const root = makeTemp()
    const a = object(path.join(root, 'same'), CODE)
    const b = object(path.join(root, 'same2'), CODE.replace('3', '5'))
    expect(compareElfSections(a, b)?.sections.map((s) => s.name)).toContain('.text')
    expect(compareElfSections(a, a)).toEqual({ sections: [], unlisted: 0 })
    expect(compareElfSections(a, Buffer.from('plain text'))).toBeUndefined()
  })
})
