import { describe, expect, it } from 'vitest'
import { toBuildOptions } from '../../../src/config/build-options.js'
import { ReproofError } from '../../../src/errors.js'
import { compileGlob, findClimb } from '../../../src/globs.js'

function refusal(f: () => unknown): ReproofError {
  try {
    f()
  } catch (err) {
    expect(err).toBeInstanceOf(ReproofError)
    return err as ReproofError
  }
  throw new Error('not refused')
}

const withOut = (glob: string) => toBuildOptions({ out: [glob] }, ['make'], {}, '/w', '/w')

describe('compiling a glob', () => {
  it('finds the fixed directory it starts from', () => {
    expect(compileGlob('a//*').base).toBe('a')
    expect(compileGlob('./*').base).toBe('')
    expect(compileGlob('*.js').base).toBe('')
    expect(compileGlob('.')).toMatchObject({ base: '', literal: true })
  })

  it('expands braces without empty or repeated patterns, and leaves escaped ones alone', () => {
    expect(compileGlob('{,a}').patterns).toEqual(['a'])
    expect(compileGlob('{a,b,a}/x').patterns).toEqual(['a/x', 'b/x'])
    expect(compileGlob('a/\\{b,c\\}').patterns).toEqual(['a/\\{b,c\\}'])
    // Braces without a comma or a range are plain text, and cost nothing.
    expect(compileGlob('{a}{b}{c}{d}{e}').patterns).toEqual(['{a}{b}{c}{d}{e}'])
  })

  it('counts every range as a thousand patterns, and refuses a range braces cannot expand', () => {
    expect(compileGlob('{1..3}').patterns).toEqual(['1', '2', '3'])
    expect(compileGlob('{1..2}{a,b,c,d}').patterns).toHaveLength(8)
    expect(refusal(() => compileGlob('{1..2}{1..2}')).code).toBe('E_USAGE')
    expect(refusal(() => compileGlob('{1..5000}')).code).toBe('E_USAGE')
  })

  it('names the glob, and where it came from when told', () => {
    const glob = `{a,b}${'{c,d}'.repeat(12)}`
    const bare = refusal(() => compileGlob(glob))
    expect(bare.message).toBe(
      `${glob}: its braces expand to too many patterns (at most 4096, 1000 from a range)`,
    )
    expect(bare.context.hint).toBe('give several globs, or fewer alternatives')
    expect(refusal(() => compileGlob(glob, '--out')).message).toMatch(/^--out \{a,b\}/)
  })
})

describe('globs that climb', () => {
  it('are seen in a glob too large to expand as well', () => {
    const glob = `..${'/{a,b}'.repeat(13)}`
    expect(findClimb(glob)).toBe(glob)
  })

  it('are refused before anything is built, saying what they expand to', () => {
    expect(refusal(() => withOut('.{.,}/x')).message).toBe(
      '--out .{.,}/x: globs are relative to the build root and may not contain ".." (it expands to ../x)',
    )
    expect(refusal(() => withOut('/etc/passwd')).message).toBe(
      '--out /etc/passwd: globs are relative to the build root and may not contain ".."',
    )
  })

  it('include a glob holding a NUL byte, which no path can', () => {
    expect(refusal(() => withOut('dist/a\0b')).code).toBe('E_USAGE')
  })

  it('include an empty glob, which names nothing (fast-glob threw on it: exit 3)', () => {
    for (const empty of ['', ' '])
      expect(refusal(() => withOut(empty))).toMatchObject({
        code: 'E_USAGE',
        message: '--out: an empty glob names no file',
      })
  })
})

describe('negated globs', () => {
  it('are refused as --out or --exclude, while an extglob "!(...)" is a glob like any other', () => {
    expect(refusal(() => withOut('!dist/*.map'))).toMatchObject({
      code: 'E_USAGE',
      message: '--out !dist/*.map: negated globs are not supported',
    })
    expect(
      refusal(() => toBuildOptions({ out: ['dist'], exclude: ['!x'] }, ['make'], {}, '/w', '/w'))
        .message,
    ).toBe('--exclude !x: negated globs are not supported')
    expect(withOut('dist/!(*.map)').outputs).toEqual(['dist/!(*.map)'])
    expect(withOut('!(*.map)').outputs).toEqual(['!(*.map)'])
  })
})

describe('a value the config gives', () => {
  it("is named as the config's, not as the flag, when it is wrong", () => {
    const fromConfig = refusal(() =>
      toBuildOptions({ out: ['dist'] }, ['make'], { timeout: 'soon' }, '/w', '/w'),
    )
    expect(fromConfig.message).toMatch(
      /^\/w\/reproof\.config\.json "timeout": "soon" is not a duration/,
    )
    const fromFlag = refusal(() =>
      toBuildOptions({ out: ['dist'], timeout: 'soon' }, ['make'], { timeout: '5m' }, '/w', '/w'),
    )
    expect(fromFlag.message).toMatch(/^--timeout: "soon" is not a duration/)
  })
})
