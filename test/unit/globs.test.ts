import { describe, expect, it } from 'vitest'
import { toBuildOptions } from '../../src/config/build-options.js'
import { ReproofError } from '../../src/errors.js'
import { findClimb } from '../../src/globs.js'

// Patterns fast-glob turns into `..` (brace expansion) or that name `..` as an extglob.
const CLIMBING = [
  '.{.,}/.{.,}/home/me/secret',
  '{x,..}/y',
  'a/{b,..}/../c',
  '@(..)/y',
  '+(.)/y',
  '*(.)/y',
  '?(..)/y',
  'a/{b,{c,..}}/y',
]
const ORDINARY = [
  '.*',
  'dist/.?*',
  'a..b',
  'a/..b/c',
  '{a,b}/*.js',
  '**/*.{js,map}',
  'out/{1..3}.txt',
  './dist',
  '{..,x}/y', // braces leave this one alone: it matches `x/y` only
]

describe('findClimb', () => {
  it('sees `..` through brace expansion and extglobs', () => {
    for (const glob of CLIMBING) expect(findClimb(glob), glob).toBeDefined()
    expect(findClimb('.{.,}/.{.,}/home/me/secret')).toBe('../../home/me/secret')
  })

  it('lets ordinary globs through, dot files and `..` inside names included', () => {
    for (const glob of ORDINARY) expect(findClimb(glob), glob).toBeUndefined()
  })

  it('does not expand a brace bomb', () => {
    expect(findClimb('{a,b}'.repeat(40))).toBeUndefined()
    expect(findClimb('{1..100000}/x')).toBeUndefined()
  })
})

describe('toBuildOptions', () => {
  const refusal = (fn: () => unknown): ReproofError => {
    try {
      fn()
    } catch (err) {
      if (err instanceof ReproofError) return err
      throw err
    }
    throw new Error('not refused')
  }

  it('refuses globs that expand to `..`, from flags and from the config file', () => {
    for (const glob of CLIMBING) {
      const flag = refusal(() => toBuildOptions({ out: [glob] }, ['make'], {}, '/w', '/w'))
      expect(flag.code, glob).toBe('E_USAGE')
      expect(flag.message).toContain(`--out ${glob}: `)
      const config = refusal(() => toBuildOptions({}, ['make'], { out: [glob] }, '/w', '/w/src'))
      expect(config.message).toContain(`/w/src/reproof.config.json "out" ${glob}: `)
      const exclude = refusal(() =>
        toBuildOptions({ out: ['a'] }, ['make'], { exclude: [glob] }, '/w', '/w'),
      )
      expect(exclude.message).toContain('"exclude"')
    }
  })

  it('accepts ordinary globs', () => {
    for (const glob of ORDINARY) {
      expect(toBuildOptions({ out: [glob] }, ['make'], {}, '/w', '/w').outputs).toEqual([glob])
    }
  })
})
