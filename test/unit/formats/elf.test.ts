import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { elfLayout, partAt } from '../../../src/formats/elf.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

/** `gcc -g -c` of a small C file in `dir`: a relocatable object with debug sections. */
function object(dir: string, code = 'int f(int x) { return x * 3; }\n'): Buffer {
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'x.c'), code)
  execFileSync('gcc', ['-g', '-c', 'x.c'], { cwd: dir })
  return fs.readFileSync(path.join(dir, 'x.o'))
}

describe('elfLayout', () => {
  it('names the sections gcc writes, in file order, within the file', () => {
    const bytes = object(makeTemp())
    const parts = elfLayout(bytes)
    const names = parts?.map((p) => p.name) ?? []
    expect(names[0]).toBe('ELF header')
    for (const name of [
      '.text',
      '.debug_info',
      '.debug_line_str',
      '.symtab',
      '.strtab',
      'section headers',
    ])
      expect(names).toContain(name)
    for (const p of parts ?? []) expect(p.offset + p.size).toBeLessThanOrEqual(bytes.length)
    expect(parts?.find((p) => p.name === '.debug_line_str')?.strings).toBe(true)
    expect(parts?.find((p) => p.name === '.text')?.strings).toBeUndefined()
    const text = parts?.find((p) => p.name === '.text')
    expect(text === undefined ? undefined : partAt(parts ?? [], text.offset)).toBe('.text')
  })

  it('is undefined for what is not ELF, and never reads outside damaged or hostile bytes', () => {
    expect(elfLayout(Buffer.from('not an elf file at all'))).toBeUndefined()
    const real = object(makeTemp())
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat({ max: real.length - 1 }), value: fc.nat({ max: 255 }) }), {
          maxLength: 12,
        }),
        fc.nat({ max: real.length }),
        (edits, cut) => {
          const bytes = Buffer.from(real.subarray(0, Math.max(cut, 16)))
          for (const e of edits) if (e.at < bytes.length) bytes[e.at] = e.value
          const parts = elfLayout(bytes)
          for (const p of parts ?? []) {
            expect(p.offset).toBeGreaterThanOrEqual(0)
            expect(p.offset + p.size).toBeLessThanOrEqual(bytes.length)
          }
        },
      ),
    )
  })
})
