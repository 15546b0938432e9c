import { spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import micromatch from 'micromatch'
import { afterEach, describe, expect, it } from 'vitest'
import { collectManifest } from '../../../src/digest/manifest.js'
import { ReproofError } from '../../../src/errors.js'
import { compareNames, fromMatchName, fromNameBytes, toMatchName } from '../../../src/file-names.js'
import { fastGlob } from '../../../src/load-cjs.js'
import { compileGlob } from '../../../src/globs.js'
import {
  confinedFileSystem,
  globConfined,
  listedFileSystem,
  literalPath,
  matchListed,
  normalizeFound,
} from '../../../src/sandbox/glob-fs.js'
import { listSourceEntries } from '../../../src/sandbox/source-files.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

/** A build root inside `base/work/root`, a secret in `base/home/me`, and `x/y` in the root. */
function buildRoot(): { root: string; outside: string } {
  const base = makeTemp()
  const root = path.join(base, 'work', 'root')
  const outside = path.join(base, 'home', 'me')
  fs.mkdirSync(path.join(root, 'x'), { recursive: true })
  fs.mkdirSync(outside, { recursive: true })
  fs.writeFileSync(path.join(outside, 'secret'), 'secret')
  fs.writeFileSync(path.join(root, 'x', 'y'), 'y')
  return { root, outside }
}

function refusalOf(call: () => unknown): unknown {
  try {
    call()
  } catch (err) {
    return err
  }
  throw new Error('not refused')
}

/** A Node-style call with a callback, as a promise. */
function callback<T>(
  call: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    call((err, value) => {
      if (err === null) resolve(value as T)
      else reject(err)
    })
  })
}

// Names fast-glob would read as glob syntax if it ever took a name for a pattern.
const ODD = ['a[1].txt', 'b*c', '{x,y}', '(p)', '!n', 'back\\slash', 'q?', '@(z)']

describe('patterns and paths', () => {
  it('sees a pattern that names one path, escapes and all', () => {
    expect(literalPath('./dist/')).toBe('dist')
    expect(literalPath('a\\[1\\]/b\\*c')).toBe('a[1]/b*c')
    expect(literalPath('a/\\{x,y\\}')).toBe('a/{x,y}')
    expect(literalPath('back\\\\slash')).toBe('back\\slash')
    for (const glob of ['a/*', 'a[1]', '{a,b}', '!a', '@(a)', '**']) {
      expect(literalPath(glob), glob).toBeUndefined()
    }
  })

  it('takes a pattern for a plain path without fast-glob only where fast-glob would', () => {
    const piece = fc.constantFrom(
      ...'ab./\\*?[](){}!+@|,-'.split(''),
      ...['{a,b}', '{1..3}', '[ab]', '@(a)', '!(a)', '(a|b)', '+(a)', '\\*', '**'],
    )
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 8 }), (pieces) => {
        const pattern = pieces.join('')
        const scan = micromatch.scan(pattern)
        // The answer fast-glob's own test leads to (the code before the shortcut).
        const expected = !fastGlob().isDynamicPattern(pattern, { dot: true })
          ? normalizeFound(pattern)
          : scan.isGlob || scan.negated
            ? undefined
            : normalizeFound(pattern.replace(/\\(.)/gsu, '$1'))
        expect(literalPath(pattern)).toBe(expected)
      }),
      { numRuns: 3000 },
    )
  })

  it('compiles `**` as micromatch scans it', () => {
    const scan = micromatch.scan('**')
    expect(compileGlob('**')).toEqual({
      glob: '**',
      base: scan.base,
      literal: !scan.isGlob,
      patterns: ['**'],
    })
  })

  it('makes what fast-glob gives plain', () => {
    for (const [found, plain] of [
      ['a/b', 'a/b'],
      ['./a', 'a'],
      ['a//b/', 'a/b'],
      ['.', ''],
      ['./', ''],
      ['a/./b', 'a/b'],
      ['.a/..b', '.a/..b'],
    ]) {
      expect(normalizeFound(found ?? ''), found).toBe(plain)
    }
  })
})

describe('confinedFileSystem', () => {
  it('refuses a path outside the root when handed one directly, by every call', async () => {
    const { root, outside } = buildRoot()
    const adapter = confinedFileSystem(root)
    for (const p of [outside, path.join(root, '..', '..', 'home'), path.dirname(root), '/']) {
      for (const call of [
        () => adapter.lstatSync(p),
        () => adapter.statSync(p),
        () => adapter.readdirSync(p, { withFileTypes: true }),
        () => adapter.readdirSync(p),
      ]) {
        const err = refusalOf(call)
        expect(err, p).toBeInstanceOf(ReproofError)
        // Named as the path it resolves to, both in the message and for the report.
        expect(err).toMatchObject({
          code: 'E_INPUT',
          message: `${path.resolve(p)}: outside ${root}, where globs are matched; refused`,
          context: { path: path.resolve(p) },
        })
      }
      await expect(
        callback((done) => {
          adapter.lstat(p, done)
        }),
        p,
      ).rejects.toMatchObject({
        code: 'E_INPUT',
      })
      await expect(
        callback((done) => {
          adapter.stat(p, done)
        }),
      ).rejects.toMatchObject({
        code: 'E_INPUT',
      })
      await expect(
        callback((done) => {
          adapter.readdir(p, { withFileTypes: true }, done)
        }),
      ).rejects.toMatchObject({ code: 'E_INPUT' })
    }
    // Lexically inside, however written: read.
    expect(adapter.readdirSync(path.join(root, 'x', '..', 'x'))).toEqual(['y'])
  })

  it('ends a glob that names `..`, given to fast-glob without the checks in front of it', () => {
    const { root } = buildRoot()
    for (const pattern of ['../../home/me/*', '../../home/me/secret', '../*/me/**']) {
      expect(() => globConfined(root, '', [pattern]), pattern).toThrow(
        expect.objectContaining({
          code: 'E_INPUT',
          message: expect.stringContaining('where globs are matched; refused') as unknown,
        }),
      )
    }
  })

  it('reads names as bytes, hands them over in the match form, and opens them by bytes', () => {
    const { root } = buildRoot()
    fs.writeFileSync(Buffer.from(`${root}/x/\xff.bin`, 'latin1'), 'ff')
    const adapter = confinedFileSystem(root)
    const name = toMatchName(fromNameBytes(Buffer.from([0xff, ...Buffer.from('.bin')])))
    expect(name).toBe('\udcff.bin')
    const dirents = adapter.readdirSync(path.join(root, 'x'), { withFileTypes: true })
    expect(dirents.map((d) => d.name).sort()).toEqual(['y', name])
    expect(dirents.every((d) => d.isFile() && !d.isDirectory())).toBe(true)
    expect(adapter.lstatSync(path.join(root, 'x', name)).size).toBe(2)
    // The name form's own escape, typed into a path, names no byte.
    expect(() => adapter.lstatSync(path.join(root, 'x', '\u0000ff.bin'))).toThrow(
      expect.objectContaining({ code: 'ENOENT' }),
    )
  })
})

describe('listedFileSystem', () => {
  it('serves the listed names and the directories that hold them, and nothing else', () => {
    const adapter = listedFileSystem('/r', [
      { rel: 'src/a.c', isDirectory: false },
      { rel: 'empty', isDirectory: true },
    ])
    const names = (p: string): string[] =>
      adapter
        .readdirSync(p, { withFileTypes: true })
        .map((d) => `${d.name}${d.isDirectory() ? '/' : ''}`)
    expect(names('/r').sort()).toEqual(['empty/', 'src/'])
    expect(names('/r/src')).toEqual(['a.c'])
    expect(names('/r/empty')).toEqual([])
    expect(adapter.lstatSync('/r/src/a.c').isFile()).toBe(true)
    expect(() => adapter.readdirSync('/r/src/a.c')).toThrow(
      expect.objectContaining({ code: 'ENOENT' }),
    )
    expect(() => adapter.lstatSync('/r/b.c')).toThrow(expect.objectContaining({ code: 'ENOENT' }))
    expect(() => adapter.readdirSync('/')).toThrow(expect.objectContaining({ code: 'E_INPUT' }))
    expect(() => adapter.lstatSync('/r/../etc/passwd')).toThrow(
      expect.objectContaining({ code: 'E_INPUT' }),
    )
  })

  it('matches names that hold glob syntax as plain names', () => {
    const listed = ODD.map((name) => ({ rel: `d/${name}`, isDirectory: false }))
    const adapter = listedFileSystem('/r', listed)
    const match = (glob: string): string[] =>
      [...matchListed('/r', adapter, compileGlob(glob).patterns)].sort()
    expect(match('d/*')).toEqual(ODD.map((name) => `d/${name}`).sort())
    expect(match('d/a\\[1\\].txt')).toEqual(['d/a[1].txt'])
    expect(match('d/\\{x,y\\}')).toEqual(['d/{x,y}'])
    expect(match('d/b\\*c')).toEqual(['d/b*c'])
    // Unescaped, the same text is a glob: `{x,y}` is two names.
    expect(match('d/{x,y}')).toEqual([])
  })
})

describe('matching artifacts with fast-glob', () => {
  it('takes names that hold glob syntax, by wildcard, below a directory, and escaped', async () => {
    const { root } = buildRoot()
    fs.mkdirSync(path.join(root, 'dist'))
    fs.mkdirSync(path.join(root, 'sq[1]'))
    fs.writeFileSync(path.join(root, 'sq[1]', 'f'), 'f')
    for (const name of ODD) fs.writeFileSync(path.join(root, 'dist', name), name)
    const expected = ODD.map((name) => `dist/${name}`).sort()
    const names = async (glob: string): Promise<string[]> =>
      (await collectManifest(root, [glob])).manifest.map((e) => e.name).sort()
    expect(await names('dist')).toEqual(expected)
    expect(await names('dist/*')).toEqual(expected)
    expect(await names('dist/**')).toEqual(expected)
    expect(await names('*')).toEqual([...expected, 'sq[1]/f', 'x/y'].sort())
    expect(await names('sq\\[1\\]/*')).toEqual(['sq[1]/f'])
    expect(await names('sq\\[1\\]')).toEqual(['sq[1]/f'])
    expect(await names('dist/b\\*c')).toEqual(['dist/b*c'])
    expect(await names('dist/{\\{x\\,y\\},q?}')).toEqual(['dist/q?', 'dist/{x,y}'])
  })

  it('counts a stray byte as one character', async () => {
    const { root } = buildRoot()
    fs.mkdirSync(path.join(root, 'out'))
    fs.writeFileSync(Buffer.from(`${root}/out/\xff.bin`, 'latin1'), 'bytes')
    fs.writeFileSync(path.join(root, 'out', 'é.bin'), 'text')
    const { manifest } = await collectManifest(root, ['out/?.bin'])
    expect(manifest.map((e) => e.name)).toEqual(['out/é.bin', 'out/\u0000ff.bin'])
  })

  it('refuses a link outside that a brace expansion walks into', async () => {
    const { root, outside } = buildRoot()
    fs.symlinkSync(outside, path.join(root, 'lnk'))
    await expect(collectManifest(root, ['{lnk,x}/*'])).rejects.toThrow(
      '--out {lnk,x}/*: lnk: leads outside the build root; refused',
    )
    await expect(collectManifest(root, ['{lnk/secret,x/y}'])).rejects.toThrow(
      '--out {lnk/secret,x/y}: lnk: leads outside the build root; refused',
    )
  })

  it('reads through a link to an absolute directory inside the root as the build saw it', async () => {
    const { root } = buildRoot()
    // The build saw its root at `seenAs`; on this machine that path holds a decoy, which
    // the kernel would read if it followed the link itself.
    const seenAs = path.join(makeTemp(), 'as-seen')
    for (const [dir, content] of [
      [root, 'built'],
      [seenAs, 'decoy'],
    ] as const) {
      fs.mkdirSync(path.join(dir, 'build', 'sub'), { recursive: true })
      fs.writeFileSync(path.join(dir, 'build', 'app'), content)
      fs.writeFileSync(path.join(dir, 'build', 'sub', 'lib'), content)
    }
    fs.symlinkSync('app', path.join(root, 'build', 'link'))
    fs.symlinkSync(path.join(seenAs, 'build'), path.join(root, 'out'))
    const sha = crypto.createHash('sha256').update('built').digest('hex')
    for (const [glob, names] of [
      ['out/app', ['out/app']],
      ['out/*', ['out/app', 'out/link', 'out/sub/lib']],
      ['out/**', ['out/app', 'out/link', 'out/sub/lib']],
      ['out', ['out/app', 'out/link', 'out/sub/lib']],
      ['out/sub', ['out/sub/lib']],
    ] as const) {
      const { manifest, places } = await collectManifest(root, [glob], { seenAs })
      expect(manifest.map((e) => e.name)).toEqual(names)
      for (const entry of manifest) expect(entry.sha256, `${glob}: ${entry.name}`).toBe(sha)
      expect(String(places.at(names[0]))).toBe(path.join(root, names[0].replace('out', 'build')))
    }
    // A link artifact is itself where it is, and read where it leads.
    const { places } = await collectManifest(root, ['out/link'], { seenAs })
    expect(fs.lstatSync(places.at('out/link')).isSymbolicLink()).toBe(true)
    expect(places.readFrom('out/link')).toBe(path.join(root, 'build', 'app'))
  })

  it('refuses a glob whose braces expand too far to be matched', async () => {
    const { root } = buildRoot()
    const bomb = '{a,b}'.repeat(13)
    await expect(collectManifest(root, [bomb])).rejects.toMatchObject({
      code: 'E_USAGE',
      message: `--out ${bomb}: its braces expand to too many patterns (at most 4096, 1000 from a range)`,
    })
    await expect(collectManifest(root, ['out/{1..5000}'])).rejects.toMatchObject({
      code: 'E_USAGE',
    })
    // 4,096 exactly is matched.
    expect((await collectManifest(root, [`x/${'{y,z}'.repeat(12)}`])).manifest).toEqual([])
  })
})

describe('matching the source listing with fast-glob', () => {
  it('leaves out what --exclude and --out name, text or glob syntax alike', () => {
    const src = makeTemp()
    for (const f of ['a[1].c', 'été.txt', 'keep.c', 'dist/app', 'build/x/y.o']) {
      fs.mkdirSync(path.dirname(path.join(src, f)), { recursive: true })
      fs.writeFileSync(path.join(src, f), f)
    }
    const listing = listSourceEntries(src, {
      tracked: undefined,
      exclude: ['a\\[1\\].c', 'é*'],
      outputs: ['dist/', '**/*.o'],
    })
    expect(listing.entries.map((e) => e.rel)).toEqual(['build', 'build/x', 'keep.c'])
    expect(listing.excludedOutputs).toEqual(['build/x/y.o', 'dist'])
  })

  it('leaves out a directory a wildcard names, whole, and matches tracked names only', () => {
    const src = makeTemp()
    for (const f of ['out1/a', 'out1/sub/b', 'out2/c', 'src/main.c', 'untracked/out3/d']) {
      fs.mkdirSync(path.dirname(path.join(src, f)), { recursive: true })
      fs.writeFileSync(path.join(src, f), f)
    }
    const walked = listSourceEntries(src, { tracked: undefined, exclude: [], outputs: ['out*/**'] })
    expect(walked.excludedOutputs).toEqual(['out1', 'out2'])
    const tracked = listSourceEntries(src, {
      tracked: ['out1/a', 'out1/sub/b', 'src/main.c'],
      exclude: ['**/out3'],
      outputs: ['**/out*'],
    })
    expect(tracked.entries.map((e) => e.rel)).toEqual(['src/main.c'])
    expect(tracked.excludedOutputs).toEqual(['out1'])
  })
})

describe('`**` walked without fast-glob', () => {
  // Name parts that fast-glob and a walk could see differently: dot files, glob syntax,
  // line breaks, bytes that are not UTF-8.
  const part = fc.constantFrom<Buffer>(
    Buffer.from('a'),
    Buffer.from('.hidden'),
    Buffer.from('[x]*'),
    Buffer.from('{a,b}'),
    Buffer.from('line\nbreak'),
    Buffer.from('caf\xc3\xa9', 'latin1'),
    Buffer.from('raw\xff', 'latin1'),
    Buffer.from('!neg'),
  )
  const node = fc.record({
    dir: fc.integer({ min: 0, max: 3 }),
    name: part,
    kind: fc.constantFrom('file', 'dir', 'link-in', 'link-dir', 'link-out', 'fifo'),
  })

  it('finds what fast-glob finds: every entry, links unfollowed, names as bytes', () => {
    fc.assert(
      fc.property(fc.array(node, { maxLength: 14 }), fc.boolean(), (nodes, fromSub) => {
        const { root, outside } = buildRoot()
        const dirs = [Buffer.from('x')]
        const fifos: Buffer[] = []
        for (const [i, n] of nodes.entries()) {
          const parent = dirs[n.dir % dirs.length] ?? Buffer.from('x')
          const name = Buffer.concat([n.name, Buffer.from(String(i))])
          const at = Buffer.concat([Buffer.from(`${root}/`), parent, Buffer.from('/'), name])
          if (n.kind === 'file') fs.writeFileSync(at, 'x')
          else if (n.kind === 'dir') {
            fs.mkdirSync(at)
            dirs.push(Buffer.concat([parent, Buffer.from('/'), name]))
          } else if (n.kind === 'link-in') fs.symlinkSync('y', at)
          else if (n.kind === 'link-dir') fs.symlinkSync(`${root}/x`, at)
          else if (n.kind === 'link-out') fs.symlinkSync(outside, at)
          else fifos.push(at)
        }
        // Made by their bytes (mkfifo takes a path as text, which would encode them), in
        // one process: one each made the test slow enough to time out on a loaded machine.
        if (fifos.length > 0) {
          const made = spawnSync('python3', [
            '-c',
            'import os, sys; [os.mkfifo(bytes.fromhex(p)) for p in sys.argv[1:]]',
            ...fifos.map((f) => f.toString('hex')),
          ])
          expect(made.status).toBe(0)
        }
        const from = fromSub ? 'x' : ''
        const walked = globConfined(root, from, ['**'])
        const globbed = fastGlob()
          .sync(['**'], {
            dot: true,
            onlyFiles: false,
            followSymbolicLinks: false,
            suppressErrors: false,
            unique: false,
            objectMode: true,
            cwd: path.join(root, from),
            fs: confinedFileSystem(root),
          })
          .map((e) => {
            const rel = fromMatchName(normalizeFound(e.path))
            const kind = e.dirent.isFile()
              ? 'file'
              : e.dirent.isDirectory()
                ? 'dir'
                : e.dirent.isSymbolicLink()
                  ? 'symlink'
                  : 'other'
            return { rel: from === '' ? rel : `${from}/${rel}`, kind }
          })
        const byName = (a: { rel: string }, b: { rel: string }) => compareNames(a.rel, b.rel)
        expect([...walked].sort(byName)).toEqual([...globbed].sort(byName))
        cleanupTemp()
      }),
      { numRuns: 60 },
    )
    // Sixty trees made, walked twice and removed: 30 s and more on a loaded machine.
  }, 180_000)
})
