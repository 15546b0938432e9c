import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { hashFile, hashFiles } from '../../../src/digest/hash-file.js'
import { collectManifest } from '../../../src/digest/manifest.js'
import { ReproofError } from '../../../src/errors.js'
import { writeFileAtomic, copyFileAtomic } from '../../../src/io/atomic-write.js'
import { isInside, resolveInside } from '../../../src/sandbox/contain.js'
import { snapshotSource } from '../../../src/sandbox/snapshot.js'
import { listSourceEntries } from '../../../src/sandbox/source-files.js'
import { listingOrderDiffers } from '../../../src/sandbox/workspace.js'
import { cleanupTemp, makeTemp, makeTempParent } from '../../helpers.js'

afterEach(cleanupTemp)

describe('isInside', () => {
  it('agrees with a plain component walk', () => {
    const segment = fc.constantFrom('a', 'b', '..', '.', '..a', 'a..')
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (parts) => {
        let depth = 0
        let escaped = false
        for (const p of parts) {
          if (p === '..') depth--
          else if (p !== '.') depth++
          if (depth < 0) escaped = true
        }
        // Once above /root, no segment here can lead back into it.
        expect(isInside('/root', path.join('/root', ...parts))).toBe(!escaped)
      }),
    )
  })
})

describe('resolveInside', () => {
  it('follows links inside the root and stops at any that leave it', async () => {
    const root = makeTemp()
    fs.mkdirSync(path.join(root, 'p/q'), { recursive: true })
    fs.writeFileSync(path.join(root, 'p/q/file'), 'x')
    fs.symlinkSync('q/file', path.join(root, 'p/ok'))
    fs.symlinkSync('..', path.join(root, 'p/up')) // to the root: fine
    fs.symlinkSync('up/..', path.join(root, 'p/sneaky')) // lexically p/, really above the root
    fs.symlinkSync('/etc/passwd', path.join(root, 'abs'))
    fs.symlinkSync('loop', path.join(root, 'loop'))
    fs.symlinkSync('missing/x', path.join(root, 'dangling'))
    expect(await resolveInside(root, 'p/ok')).toEqual({
      kind: 'inside',
      path: path.join(root, 'p/q/file'),
      rel: 'p/q/file',
    })
    expect((await resolveInside(root, 'p/up')).kind).toBe('inside')
    expect((await resolveInside(root, 'p/sneaky')).kind).toBe('outside')
    expect((await resolveInside(root, 'abs')).kind).toBe('outside')
    expect((await resolveInside(root, 'loop')).kind).toBe('loop')
    expect((await resolveInside(root, 'dangling')).kind).toBe('dangling')
    expect((await resolveInside(root, '../x')).kind).toBe('outside')
  })
})

describe('snapshotSource', () => {
  function sourceTree(): string {
    const src = makeTemp()
    for (const f of ['b.txt', 'a.txt', 'c/z', 'c/y', 'exec.sh']) {
      fs.mkdirSync(path.dirname(path.join(src, f)), { recursive: true })
      fs.writeFileSync(path.join(src, f), f)
    }
    fs.chmodSync(path.join(src, 'exec.sh'), 0o711)
    fs.chmodSync(path.join(src, 'a.txt'), 0o600)
    fs.symlinkSync('c/z', path.join(src, 'link'))
    fs.mkdirSync(path.join(src, 'empty'))
    return src
  }

  it('copies content, keeps links, and normalizes modes and times', async () => {
    const src = sourceTree()
    const dest = path.join(makeTemp(), 'root')
    const { entries } = listSourceEntries(src, {
      tracked: undefined,
      exclude: [],
      outputs: [],
    })
    const stats = await snapshotSource(entries, src, dest, { epoch: 12345, order: 'ascending' })
    expect(stats).toMatchObject({ files: 5, symlinks: 1 })
    expect(fs.readFileSync(path.join(dest, 'c/y'), 'utf8')).toBe('c/y')
    expect(fs.readlinkSync(path.join(dest, 'link'))).toBe('c/z')
    expect(fs.statSync(path.join(dest, 'a.txt')).mode & 0o777).toBe(0o644)
    expect(fs.statSync(path.join(dest, 'exec.sh')).mode & 0o777).toBe(0o755)
    expect(fs.statSync(path.join(dest, 'empty')).mode & 0o777).toBe(0o755)
    for (const p of ['a.txt', 'c', 'c/z', 'empty', '.'])
      expect(fs.statSync(path.join(dest, p)).mtimeMs, p).toBe(12345000)
    expect(fs.lstatSync(path.join(dest, 'link')).mtimeMs).toBe(12345000)
  })

  it('creates entries in opposite orders for the two runs, which tmpfs lists back', async () => {
    const src = sourceTree()
    const parent = makeTempParent()
    const { entries } = listSourceEntries(src, {
      tracked: undefined,
      exclude: [],
      outputs: [],
    })
    await snapshotSource(entries, src, path.join(parent, 'a'), { epoch: 0, order: 'ascending' })
    await snapshotSource(entries, src, path.join(parent, 'b'), { epoch: 0, order: 'descending' })
    const list = (d: string) => execFileSync('ls', ['-U', d], { encoding: 'utf8' })
    if (await listingOrderDiffers({ a: path.join(parent, 'a'), b: path.join(parent, 'b') })) {
      expect(list(path.join(parent, 'a', 'c'))).not.toBe(list(path.join(parent, 'b', 'c')))
    }
  })

  it('honours --exclude and never takes .git', () => {
    const src = sourceTree()
    fs.mkdirSync(path.join(src, '.git'))
    fs.writeFileSync(path.join(src, '.git/HEAD'), 'x')
    const { entries } = listSourceEntries(src, {
      tracked: undefined,
      exclude: ['c/**', 'b.txt'],
      outputs: [],
    })
    expect(entries.map((e) => e.rel)).toEqual(['a.txt', 'c', 'empty', 'exec.sh', 'link'])
  })

  it('refuses special files, naming them', () => {
    const src = makeTemp()
    execFileSync('mkfifo', [path.join(src, 'pipe')])
    const failure = () => listSourceEntries(src, { tracked: undefined, exclude: [], outputs: [] })
    expect(failure).toThrow(expect.objectContaining({ code: 'E_INPUT' }))
    expect(failure).toThrow(/pipe/)
  })

  it('refuses links that leave the tree, lexically or through other links', async () => {
    for (const [name, target, extra] of [
      ['out', '../outside', undefined],
      ['abs', '/etc', undefined],
      ['sneaky', 'up/..', ['up', '.']],
    ] as const) {
      const src = makeTemp()
      fs.writeFileSync(path.join(src, 'f'), '')
      if (extra !== undefined) fs.symlinkSync(extra[1], path.join(src, extra[0]))
      fs.symlinkSync(target, path.join(src, name))
      const { entries } = listSourceEntries(src, {
        tracked: undefined,
        exclude: [],
        outputs: [],
      })
      await expect(
        snapshotSource(entries, src, path.join(makeTemp(), 'r'), { epoch: 0, order: 'ascending' }),
        name,
      ).rejects.toMatchObject({
        code: 'E_INPUT',
      })
    }
  })
})

describe('hashing', () => {
  it('opens names that are not UTF-8 by their bytes, in worker threads too', async () => {
    const dir = makeTemp()
    // 80 files: enough for the worker threads, which get the paths as plain bytes.
    const files = Array.from({ length: 80 }, (_, i) =>
      Buffer.concat([Buffer.from(`${dir}/${i}`), Buffer.from([0xff])]),
    )
    for (const [i, f] of files.entries()) fs.writeFileSync(f, String(i))
    const digests = await hashFiles(files)
    expect(digests.map((d) => d.size)).toEqual(files.map((_, i) => String(i).length))
    expect(digests[7]?.sha256).toBe(crypto.createHash('sha256').update('7').digest('hex'))
  })

  it('matches openssl on files of any size, chunk boundaries included', async () => {
    const dir = makeTemp()
    const MiB = 1024 * 1024
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0, 1, MiB - 1, MiB, MiB + 1, 3 * MiB + 17),
        fc.integer(),
        async (size, seed) => {
          const file = path.join(dir, `f${size}`)
          const data = crypto.createHash('sha512').update(String(seed)).digest()
          fs.writeFileSync(file, Buffer.alloc(size, data))
          const expected = execFileSync('openssl', ['dgst', '-sha256', '-r', file], {
            encoding: 'utf8',
          }).split(' ')[0]
          const digest = await hashFile(file)
          expect(digest).toEqual({ sha256: expected, size, mode: fs.statSync(file).mode })
        },
      ),
      { numRuns: 12 },
    )
  })

  it('hashes many files in the given order, in this thread or in workers', async () => {
    const dir = makeTemp()
    // 150 files go to worker threads; the first 30 alone stay in this thread.
    const files = Array.from({ length: 150 }, (_, i) => {
      const f = path.join(dir, String(i))
      fs.writeFileSync(f, String(i).repeat(i * 1000))
      return f
    })
    const digests = await hashFiles(files)
    for (const [i, f] of files.entries()) {
      expect(digests[i]?.sha256).toBe(
        crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex'),
      )
    }
  })
})

describe('collectManifest', () => {
  it('expands directories, follows inside links, sorts by bytes and counts per glob', async () => {
    const root = makeTemp()
    fs.mkdirSync(path.join(root, 'dist/sub'), { recursive: true })
    for (const f of ['dist/b', 'dist/a', 'dist/sub/B', 'top.bin'])
      fs.writeFileSync(path.join(root, f), f)
    fs.symlinkSync('../top.bin', path.join(root, 'dist/link'))
    const { manifest, matches } = await collectManifest(root, ['dist', '*.bin', 'none/*'])
    expect(manifest.map((e) => e.name)).toEqual([
      'dist/a',
      'dist/b',
      'dist/link',
      'dist/sub/B',
      'top.bin',
    ])
    expect(manifest.find((e) => e.name === 'dist/link')?.sha256).toBe(
      manifest.find((e) => e.name === 'top.bin')?.sha256,
    )
    expect(matches).toEqual([
      { glob: 'dist', count: 4 },
      { glob: '*.bin', count: 1 },
      { glob: 'none/*', count: 0 },
    ])
  })
})

describe('atomic writes', () => {
  it('replaces a file and leaves no temp file, also when the copy fails', async () => {
    const dir = makeTemp()
    const target = path.join(dir, 'sub', 'out.json')
    await writeFileAtomic(target, 'one')
    await writeFileAtomic(target, 'two')
    expect(fs.readFileSync(target, 'utf8')).toBe('two')
    await expect(
      copyFileAtomic(path.join(dir, 'missing'), target, { mode: 0o644, mtime: 0 }),
    ).rejects.toThrow()
    expect(fs.readFileSync(target, 'utf8')).toBe('two')
    expect(fs.readdirSync(path.dirname(target))).toEqual(['out.json'])
  })
})

describe('atomic writes that fail', () => {
  it('name the file they were writing, in one line, and leave no temp file', async () => {
    const dir = makeTemp()
    fs.mkdirSync(path.join(dir, 'taken'))
    const err = await writeFileAtomic(path.join(dir, 'taken'), 'x').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ReproofError)
    expect((err as Error).message).toBe(
      `${path.join(dir, 'taken')}: cannot write it: it is a directory`,
    )
    fs.writeFileSync(path.join(dir, 'file'), '')
    const under = await writeFileAtomic(path.join(dir, 'file', 'x'), 'x').catch((e: unknown) => e)
    expect((under as Error).message).toMatch(/file\/x: cannot write it: /)
    expect(fs.readdirSync(dir).sort()).toEqual(['file', 'taken'])
  })

  it('leave an error about the source a copy reads as it is', async () => {
    const dir = makeTemp()
    const err = await copyFileAtomic(path.join(dir, 'missing'), path.join(dir, 'out'), {
      mode: 0o644,
      mtime: 0,
    }).catch((e: unknown) => e)
    expect(err).not.toBeInstanceOf(ReproofError)
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT')
    expect(fs.readdirSync(dir)).toEqual([])
  })
})
