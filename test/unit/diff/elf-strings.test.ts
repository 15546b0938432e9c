import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { checkElfStrings, describeStringCheck } from '../../../src/diff/elf-strings.js'
import { causesBetween } from '../../../src/diff/hints.js'
import { readElf } from '../../../src/formats/elf.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterAll(cleanupTemp)

const CODE = `#include <stdio.h>
int add(int a, int b) { return a + b; }
int main(void) { printf("%d\\n", add(1, 2)); return 0; }
`

/** `x.c` compiled in `dir` with `flags`, linked when `link`: the object's or program's bytes. */
function built(dir: string, flags: string[], { extra = '', link = false } = {}): Buffer {
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'x.c'), CODE + extra)
  const out = link ? 'x' : 'x.o'
  execFileSync('gcc', [...flags, ...(link ? [] : ['-c']), 'x.c', '-o', out], { cwd: dir })
  return fs.readFileSync(path.join(dir, out))
}

const explained = (a: string, b: string): boolean => causesBetween(a, b) !== undefined
const check = (a: Buffer, b: Buffer) => checkElfStrings(a, b, { explained })

describe('checkElfStrings', () => {
  it('passes two builds that differ by the directory they were built in, objects and programs', () => {
    const root = makeTemp()
    for (const flags of [
      ['-g', '-O1'],
      ['-g3'],
      ['-g', '-frecord-gcc-switches', `-I${root}/inc`],
      ['-g', '-gz'],
      ['-g', '-gz=zlib-gnu'],
      ['-g', '-fno-merge-debug-strings'],
      ['-g', '-gsplit-dwarf'],
    ])
      for (const link of [false, true]) {
        const a = built(path.join(root, 'one', 'src'), flags, { link })
        const b = built(path.join(root, 'two', 'deeper', 'src'), flags, { link })
        expect(a.equals(b)).toBe(false)
        expect([flags, link, check(a, b)]).toEqual([flags, link, { ok: true }])
      }
  })

  it('names a compiler flag in DW_AT_producer that differs beside the build path', () => {
    const root = makeTemp()
    const a = built(path.join(root, 'a'), ['-g', '-O1'])
    const b = built(path.join(root, 'b'), ['-g', '-O1', '-fstack-protector-strong'])
    const result = check(a, b)
    expect(result).toMatchObject({ ok: false, section: '.debug_str' })
    if (result.ok || !('section' in result)) throw new Error('expected a named string')
    expect(result.a).toMatch(/^GNU C.* -O1 /)
    expect(result.b).toContain('-fstack-protector-strong')
    expect(describeStringCheck(result)).toContain('.debug_str')
  })

  it('names a flag in a producer kept inline in .debug_info, not in .debug_str', () => {
    const root = makeTemp()
    const inline = ['-g', '-O2', '-fno-merge-debug-strings']
    const a = built(path.join(root, 'a'), inline)
    const b = built(path.join(root, 'b', 'deeper'), [...inline, '-fstack-protector-strong'])
    const result = check(a, b)
    expect(result).toMatchObject({ ok: false, section: '.debug_info' })
    if (result.ok || !('section' in result)) throw new Error('expected a named string')
    expect(result.b).toContain('-fstack-protector-strong')
  })

  it('names a .comment string that only one side holds (an #ident), and a .comment one side lacks', () => {
    const root = makeTemp()
    const a = built(path.join(root, 'a'), ['-g'])
    const b = built(path.join(root, 'b'), ['-g'], { extra: '#ident "built by mallory"\n' })
    expect(check(a, b)).toEqual({ ok: false, section: '.comment', b: 'built by mallory' })
    // No .comment at all on one side: its strings are the other's alone.
    execFileSync('objcopy', ['--remove-section', '.comment', 'x.o', 'bare.o'], {
      cwd: path.join(root, 'a'),
    })
    const bare = fs.readFileSync(path.join(root, 'a', 'bare.o'))
    expect(check(bare, a)).toMatchObject({
      ok: false,
      section: '.comment',
      b: expect.stringMatching(/^GCC: /) as unknown,
    })
  })

  it('reads compressed debug strings, so a flag in them is found too', () => {
    const root = makeTemp()
    const a = built(path.join(root, 'a'), ['-g', '-gz'])
    const b = built(path.join(root, 'b'), ['-g', '-gz', '-fno-stack-protector'])
    expect(check(a, b)).toMatchObject({ ok: false, section: '.debug_str' })
  })

  it('says a compressed section it cannot read was not compared, never that it was explained', () => {
    const root = makeTemp()
    const a = built(path.join(root, 'a'), ['-g', '-gz'])
    const b = Buffer.from(built(path.join(root, 'b'), ['-g', '-gz']))
    // Corrupt the compressed .debug_str's stream, past its header.
    const section = readElf(b)?.sections.find((s) => s.name === '.debug_str')
    expect(section?.flags).toBe(0x830)
    const at = (section?.offset ?? 0) + 24
    b.fill(0xff, at, at + 10)
    const result = check(a, b)
    expect(result.ok).toBe(false)
    expect(describeStringCheck(result as Exclude<typeof result, { ok: true }>)).toMatch(
      /not compared in full|holds/,
    )
  })

  it('takes the roots of a twin build as the directory pair, whatever their names', () => {
    const root = makeTemp()
    const [ra, rb] = [path.join(root, 'x1'), path.join(root, 'canary-zz')]
    const a = built(ra, ['-g'])
    const b = built(rb, ['-g'])
    expect(checkElfStrings(a, b, { explained: () => false, roots: [[ra], [rb]] })).toEqual({
      ok: true,
    })
  })

  it('holds for any string put in one side alone beside a path: never explained (property)', () => {
    const root = makeTemp()
    const a = built(path.join(root, 'a'), ['-g'])
    const b0 = built(path.join(root, 'b'), ['-g'])
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9 ._=-]{1,40}$/), (text) => {
        const b = withComment(b0, text)
        fc.pre(b !== undefined)
        const result = check(a, b)
        expect(result.ok).toBe(false)
      }),
      { numRuns: 50 },
    )
  })
})

/**
 * `bytes` with `.comment`'s last string overwritten by `text` (as long as it fits): a
 * string that only this side holds, in place.
 */
function withComment(bytes: Buffer, text: string): Buffer | undefined {
  const at = bytes.indexOf(Buffer.from('GCC: ('))
  if (at < 0) return undefined
  const end = bytes.indexOf(0, at)
  if (text.length > end - at) return undefined
  const out = Buffer.from(bytes)
  out.fill(0x20, at, end)
  out.write(text, at, 'latin1')
  return out
}
