import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { copyArtifacts } from '../../src/twin/copy-artifacts.js'
import { toBuildOptions } from '../../src/config/build-options.js'
import { collectManifest } from '../../src/digest/manifest.js'
import { ReproofError } from '../../src/errors.js'
import { fromNameBytes } from '../../src/file-names.js'
import { compileGlob, findClimb, questionMarksAsClasses } from '../../src/globs.js'
import { cleanupTemp, makeTemp } from '../helpers.js'

afterEach(cleanupTemp)

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
  '{/etc,x}/passwd', // an absolute path climbs out as surely
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

  it('refuses a glob whose braces expand too far to be matched, naming where it came from', () => {
    const bomb = '{a,b}'.repeat(13)
    const flag = refusal(() => toBuildOptions({ out: [bomb] }, ['make'], {}, '/w', '/w'))
    expect(flag.code).toBe('E_USAGE')
    expect(flag.message).toBe(
      `--out ${bomb}: its braces expand to too many patterns (at most 4096, 1000 from a range)`,
    )
    const exclude = refusal(() =>
      toBuildOptions({ out: ['a'], exclude: ['{1..2000}'] }, ['make'], {}, '/w', '/w'),
    )
    expect(exclude.message).toBe(
      '--exclude {1..2000}: its braces expand to too many patterns (at most 4096, 1000 from a range)',
    )
  })

  it('accepts ordinary globs', () => {
    for (const glob of ORDINARY) {
      expect(toBuildOptions({ out: [glob] }, ['make'], {}, '/w', '/w').outputs).toEqual([glob])
    }
  })
})

describe('matching artifacts inside the build root', () => {
  function buildRoot(): { root: string; outside: string } {
    const base = makeTemp()
    const root = path.join(base, 'work', 'root')
    const outside = path.join(base, 'home', 'me')
    fs.mkdirSync(root, { recursive: true })
    fs.mkdirSync(outside, { recursive: true })
    fs.writeFileSync(path.join(outside, 'secret'), 'secret')
    fs.mkdirSync(path.join(root, 'x'))
    fs.writeFileSync(path.join(root, 'x', 'y'), 'y')
    return { root, outside }
  }

  it('never matches above the root, whatever the glob expands to', async () => {
    const { root } = buildRoot()
    // Straight to the matcher, without the pattern check in front of it.
    for (const glob of [...CLIMBING, '{..,x}/y']) {
      const { manifest } = await collectManifest(root, [glob])
      for (const entry of manifest) expect(entry.name, glob).toBe('x/y')
    }
    // A `..` in the fixed part of a glob is refused outright.
    await expect(collectManifest(root, ['../../home/me/*'])).rejects.toThrow(
      '--out ../../home/me/*: ../../home/me: leads outside the build root; refused',
    )
  })

  it('refuses a link to a directory outside, naming the glob and the path, before reading', async () => {
    const { root, outside } = buildRoot()
    // A FIFO: reading it would block, so the refusal must come before any read.
    execFileSync('mkfifo', [path.join(outside, 'pipe')])
    fs.symlinkSync(outside, path.join(root, 'lnk'))
    for (const glob of ['lnk/secret', 'lnk/*', 'lnk/**', 'lnk/pipe']) {
      const failure = collectManifest(root, [glob])
      await expect(failure, glob).rejects.toMatchObject({ code: 'E_INPUT' })
      await expect(failure, glob).rejects.toThrow(
        `--out ${glob}: lnk: leads outside the build root; refused`,
      )
    }
    // Not a match (the walk does not enter links), so not an error either.
    expect((await collectManifest(root, ['**/secret'])).manifest).toEqual([])
  })

  it('follows a link on the way that stays inside, as a shell would', async () => {
    const { root } = buildRoot()
    fs.symlinkSync('x', path.join(root, 'alias'))
    const { manifest } = await collectManifest(root, ['alias/*', 'alias'])
    expect(manifest.map((e) => e.name)).toEqual(['alias/y'])
  })

  it('takes names that are not UTF-8, exactly', async () => {
    const { root } = buildRoot()
    fs.mkdirSync(path.join(root, 'out'))
    fs.writeFileSync(Buffer.from(`${root}/out/\xff.bin`, 'latin1'), 'bytes')
    const { manifest } = await collectManifest(root, ['out/*.bin'])
    expect(manifest.map((e) => e.name)).toEqual([
      fromNameBytes(Buffer.from('out/\xff.bin', 'latin1')),
    ])
    expect(manifest[0]?.size).toBe(5)
  })

  it('compiles globs with the base they start from', () => {
    expect(compileGlob('out/*.bin')).toMatchObject({ base: 'out', literal: false })
    expect(compileGlob('out/**')).toMatchObject({ base: 'out', literal: false })
    expect(compileGlob('./dist/')).toMatchObject({ base: 'dist', literal: true })
  })
})

describe('copying artifacts out', () => {
  it('refuses, before copying anything, a write through a link that leaves --out-dir', async () => {
    const root = makeTemp()
    fs.mkdirSync(path.join(root, 'sub'))
    fs.writeFileSync(path.join(root, 'a.txt'), 'a')
    fs.writeFileSync(path.join(root, 'sub', 'app'), 'app')
    const outDir = makeTemp()
    const elsewhere = makeTemp()
    fs.symlinkSync(elsewhere, path.join(outDir, 'sub'))
    const { manifest } = await collectManifest(root, ['a.txt', 'sub/app'])
    const failure = copyArtifacts(root, manifest, outDir, 0)
    await expect(failure).rejects.toMatchObject({ code: 'E_INPUT' })
    await expect(failure).rejects.toThrow(
      /artifact sub\/app would be written outside it through a symbolic link/,
    )
    expect(fs.readdirSync(elsewhere)).toEqual([])
    expect(fs.readdirSync(outDir)).toEqual(['sub'])
  })

  it('refuses a link in --out-dir whose absolute target goes through another link and back with ..', async () => {
    // `x -> <out>/d/../y` with `d -> elsewhere/certs`: the kernel writes to elsewhere/y.
    const root = makeTemp()
    fs.mkdirSync(path.join(root, 'x'))
    fs.writeFileSync(path.join(root, 'x', 'app'), 'app')
    const outDir = makeTemp()
    const elsewhere = makeTemp()
    fs.mkdirSync(path.join(elsewhere, 'certs'))
    fs.mkdirSync(path.join(elsewhere, 'y'))
    fs.symlinkSync(path.join(elsewhere, 'certs'), path.join(outDir, 'd'))
    fs.symlinkSync(`${outDir}/d/../y`, path.join(outDir, 'x'))
    const { manifest } = await collectManifest(root, ['x/app'])
    await expect(copyArtifacts(root, manifest, outDir, 0)).rejects.toThrow(
      /artifact x\/app would be written outside it through a symbolic link/,
    )
    expect(fs.readdirSync(path.join(elsewhere, 'y'))).toEqual([])
  })

  it('writes through a link that stays inside, and copies names that are not UTF-8', async () => {
    const root = makeTemp()
    fs.mkdirSync(path.join(root, 'sub'))
    fs.writeFileSync(Buffer.from(`${root}/sub/\xff`, 'latin1'), 'ff')
    const outDir = makeTemp()
    fs.mkdirSync(path.join(outDir, 'real'))
    fs.symlinkSync('real', path.join(outDir, 'sub'))
    const { manifest } = await collectManifest(root, ['sub/*'])
    await copyArtifacts(root, manifest, outDir, 0)
    expect(fs.readdirSync(path.join(outDir, 'real'), { encoding: 'buffer' })).toEqual([
      Buffer.from([0xff]),
    ])
  })
})

describe('the ? wildcard', () => {
  it('is written as a class only where it is a wildcard', () => {
    expect(
      ['ou?/app', 'out/\\?pp', '[?]ut', '[!?]x', '[]?]y', '?(a|b)/c', 'a??'].map(
        questionMarksAsClasses,
      ),
    ).toEqual(['ou[^/]/app', 'out/\\?pp', '[?]ut', '[!?]x', '[]?]y', '?(a|b)/c', 'a[^/][^/]'])
  })

  it('matches one character in any component, as micromatch says, directories taking what is below', async () => {
    const { default: fc } = await import('fast-check')
    const { default: micromatch } = await import('micromatch')
    const names = ['a', 'b', 'ab', 'ba', 'a?']
    const file = fc.array(fc.constantFrom(...names), { minLength: 1, maxLength: 3 })
    const segment = fc
      .array(fc.constantFrom('a', 'b', '?', '*'), { minLength: 1, maxLength: 3 })
      .map((chars) => chars.join(''))
      .filter((s) => s.includes('?'))
    const pattern = fc
      .array(fc.oneof(segment, fc.constantFrom(...names.slice(0, 4))), {
        minLength: 1,
        maxLength: 3,
      })
      .map((parts) => parts.join('/'))
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(file, { minLength: 1, maxLength: 6, selector: (parts) => parts.join('/') }),
        pattern,
        async (files, glob) => {
          const root = makeTemp()
          const made: string[] = []
          for (const parts of files) {
            const rel = parts.join('/')
            // A file where another needs a directory, or the reverse, is left out.
            if (made.some((m) => m.startsWith(`${rel}/`) || rel.startsWith(`${m}/`))) continue
            fs.mkdirSync(path.join(root, ...parts.slice(0, -1)), { recursive: true })
            fs.writeFileSync(path.join(root, rel), rel)
            made.push(rel)
          }
          const expected = made
            .filter((f) => {
              const parts = f.split('/')
              return parts.some((_, i) =>
                micromatch.isMatch(parts.slice(0, i + 1).join('/'), glob, { dot: true }),
              )
            })
            .sort()
          const { manifest } = await collectManifest(root, [glob])
          expect(manifest.map((e) => e.name).sort(), glob).toEqual(expected)
        },
      ),
      { numRuns: 60 },
    )
  })
})
