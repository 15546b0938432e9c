import { execFileSync, spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import type { DiffReport } from '../../src/diff/report.js'
import { Spool } from '../../src/formats/spool.js'
import { findOnPath } from '../../src/find-on-path.js'
import { BIN, cleanupTemp, listDir, makeTemp, spawnProgram } from '../helpers.js'

afterEach(cleanupTemp)

/** `reproof diff --json` of two files that differ (exit 1): the report's items. */
async function differingItems(a: string, b: string, ...flags: string[]) {
  const run = await spawnProgram([process.execPath, BIN, 'diff', '--json', ...flags, a, b])
  expect(run.code, run.stderr).toBe(1)
  return (JSON.parse(run.stdout) as DiffReport).items
}

const MiB = 1024 * 1024

/**
 * `reproof diff --json` in its own process and temp dir, reporting the process's peak
 * resident memory (the kernel's count, read as it exits).
 */
async function diffMeasured(a: string, b: string, tmp: string) {
  const preload = path.join(tmp, '..', 'peak.cjs')
  fs.writeFileSync(
    preload,
    "process.on('exit', () => require('fs').writeSync(2, `\\npeak-rss-kib ${process.resourceUsage().maxRSS}\\n`))\n",
  )
  const run = await spawnProgram(
    [process.execPath, '--require', preload, BIN, 'diff', a, b, '--json'],
    { env: { PATH: process.env.PATH ?? '', TMPDIR: tmp } },
  )
  const peak = Number(/peak-rss-kib (\d+)/.exec(run.stderr)?.[1])
  return { ...run, report: JSON.parse(run.stdout) as DiffReport, peakMiB: peak / 1024 }
}

/**
 * `a.tar` and `b.tar` in a new directory, each of the files `files(side)` gives, with a
 * `tmp/` beside them for the run's temporary files.
 */
function tarPair(files: (side: 'a' | 'b') => Record<string, Buffer>) {
  const dir = makeTemp()
  const tmp = path.join(dir, 'tmp')
  fs.mkdirSync(tmp)
  for (const side of ['a', 'b'] as const) {
    const root = path.join(dir, side)
    fs.mkdirSync(root)
    for (const [name, bytes] of Object.entries(files(side)))
      fs.writeFileSync(path.join(root, name), bytes)
    execFileSync('tar', ['--mtime=@0', '--sort=name', '-cf', `../${side}.tar`, '.'], {
      cwd: root,
    })
    fs.rmSync(root, { recursive: true })
  }
  return { dir, tmp }
}

describe('reproof diff on large differing members', () => {
  it('stays under 256 MiB: a 160 MiB member is streamed, a 12 MiB one spooled, and the spool is gone after', async () => {
    const { dir, tmp } = tarPair((side) => {
      const big = Buffer.alloc(160 * MiB, 0x2a)
      const mid = Buffer.alloc(12 * MiB, 0x41)
      if (side === 'b') {
        big[1000] = 0
        big[100 * MiB] = 0
        mid[7] = 0x42
      }
      return { 'big.bin': big, 'mid.txt': mid, 'small.txt': Buffer.from(`${side}\n`) }
    })
    const run = await diffMeasured(path.join(dir, 'a.tar'), path.join(dir, 'b.tar'), tmp)
    expect(run.code).toBe(1)
    const byPath = new Map(run.report.items.map((i) => [i.path, i]))
    const big = byPath.get('a.tar!./big.bin')
    expect(big?.binary).toMatchObject({ offset: 1000, differingBytes: 2, places: 2 })
    expect(big?.binary?.regions?.map((r) => r.offset)).toEqual([1000, 100 * MiB])
    expect(big?.message).toMatch(/compared as it streamed/)
    // No cause is guessed without the bytes around the difference.
    expect(big?.hints).toEqual([])
    // The spooled member is held once read back (under the streaming size): compared whole.
    const mid = byPath.get('a.tar!./mid.txt')
    expect(mid?.binary?.offset ?? mid?.text?.unified).toBeDefined()
    expect(byPath.has('a.tar!./small.txt')).toBe(true)
    expect(run.peakMiB).toBeGreaterThan(0)
    expect(run.peakMiB).toBeLessThan(256)
    expect(listDir(tmp)).toEqual([])
  }, 120_000)
  it('walks a gzip of thousands of empty members in bounded memory, and stops at SIGTERM', async () => {
    // 5,000 empty members, then one that differs: each member's header was held in a
    // 64 KiB buffer of its own (20,000 took 2.5 GB), and no check of a stop ran in the walk.
    const dir = makeTemp()
    const tmp = path.join(dir, 'tmp')
    fs.mkdirSync(tmp)
    const member = (data: Buffer) =>
      Buffer.concat([
        Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]),
        zlib.deflateRawSync(data),
        Buffer.from(new Uint32Array([zlib.crc32(data), data.length]).buffer),
      ])
    const empty = member(Buffer.alloc(0))
    for (const [side, last] of [
      ['a', 'x'],
      ['b', 'y'],
    ] as const)
      fs.writeFileSync(
        path.join(dir, `${side}.gz`),
        Buffer.concat([...Array.from({ length: 5000 }, () => empty), member(Buffer.from(last))]),
      )
    const run = await diffMeasured(path.join(dir, 'a.gz'), path.join(dir, 'b.gz'), tmp)
    expect(run.code, run.stderr).toBe(1)
    expect(run.peakMiB).toBeLessThan(256)
    // Stopped while it walks 20,000: it answers at once, not when the walk is done.
    fs.writeFileSync(
      path.join(dir, 'c.gz'),
      Buffer.concat([...Array.from({ length: 20000 }, () => empty), member(Buffer.from('x'))]),
    )
    fs.writeFileSync(
      path.join(dir, 'd.gz'),
      Buffer.concat([...Array.from({ length: 20000 }, () => empty), member(Buffer.from('y'))]),
    )
    const started = Date.now()
    const stopped = await spawnProgram(
      [process.execPath, BIN, 'diff', path.join(dir, 'c.gz'), path.join(dir, 'd.gz')],
      { env: { PATH: process.env.PATH ?? '', TMPDIR: tmp }, killAfterMs: 1500 },
    )
    expect(stopped.code, stopped.stderr).toBe(130)
    expect(Date.now() - started).toBeLessThan(8000)
    expect(listDir(tmp)).toEqual([])
  }, 120_000)

  it('reports members in archive order, though it compares the ones it holds in memory first', async () => {
    // 'a.big' and 'c.big' (over 8 MiB) are spooled; 'b.small' and 'd.small' are held.
    const { dir, tmp } = tarPair((side) => {
      const files: Record<string, Buffer> = {}
      for (const name of ['a.big', 'b.small', 'c.big', 'd.small']) {
        const bytes = Buffer.alloc(name.endsWith('.big') ? 10 * MiB : 4096, 0x2a)
        if (side === 'b') bytes[100] = 0
        files[name] = bytes
      }
      return files
    })
    const run = await diffMeasured(path.join(dir, 'a.tar'), path.join(dir, 'b.tar'), tmp)
    expect(run.code).toBe(1)
    expect(run.report.items.filter((i) => i.kind === 'content').map((i) => i.path)).toEqual([
      'a.tar',
      'a.tar!./a.big',
      'a.tar!./b.small',
      'a.tar!./c.big',
      'a.tar!./d.small',
    ])
  })
})

describe('reproof diff on many small members', () => {
  it('keeps small members as views of their read blocks only while the blocks kept stay bounded', async () => {
    // Each small differing member lies in a block of its own, between two large identical
    // members: keeping each as a view of its block, uncharged, held every block of both
    // archives (over 400 MiB). Gzipped: the members of a tar on disk are not kept in a
    // first pass at all (it is read again), those of a decompressed stream are.
    const count = 220
    const { dir, tmp } = tarPair((side) => {
      const files: Record<string, Buffer> = {}
      const large = Buffer.alloc(MiB, 0x33)
      for (let i = 0; i < count; i++) {
        const n = String(i).padStart(3, '0')
        files[`${n}-large.bin`] = large
        files[`${n}-small.txt`] = Buffer.from(`${side} ${i}\n`)
      }
      return files
    })
    execFileSync('gzip', ['-1', '-n', 'a.tar', 'b.tar'], { cwd: dir })
    const run = await diffMeasured(path.join(dir, 'a.tar.gz'), path.join(dir, 'b.tar.gz'), tmp)
    expect(run.code, run.stderr).toBe(1)
    const differing = run.report.items.filter((i) => i.kind === 'content' && i.text !== undefined)
    expect(differing).toHaveLength(count)
    expect(differing[7]?.text?.unified).toContain('-a 7')
    expect(run.peakMiB).toBeLessThan(256)
    expect(listDir(tmp)).toEqual([])
  }, 180_000)
})

describe('reproof diff on nested and compressed members', () => {
  it('stays under 256 MiB through three levels of nested tars, each holding members', async () => {
    const dir = makeTemp()
    const tmp = path.join(dir, 'tmp')
    fs.mkdirSync(tmp)
    const same = Buffer.alloc(64 * 1024, 7)
    // One level: 512 identical small files, six differing 4 MiB members, and the next
    // level's tar (or, at the bottom, a differing 24 MiB leaf).
    const level = (side: 'a' | 'b', depth: number, into: string): void => {
      const root = path.join(dir, `${side}${depth}`)
      fs.mkdirSync(path.join(root, 'same'), { recursive: true })
      for (let i = 0; i < 512; i++) fs.writeFileSync(path.join(root, 'same', `s${i}`), same)
      for (let i = 0; i < 6; i++) {
        const z = Buffer.alloc(4 * MiB, i)
        if (side === 'b') z[i] = 0xff
        fs.writeFileSync(path.join(root, `z${i}`), z)
      }
      if (depth === 3) {
        const leaf = Buffer.alloc(24 * MiB, 3)
        if (side === 'b') leaf[leaf.length - 1] = 4
        fs.writeFileSync(path.join(root, 'leaf.bin'), leaf)
      } else level(side, depth + 1, path.join(root, 'inner.tar'))
      execFileSync('tar', ['--mtime=@0', '--sort=name', '-cf', into, '.'], { cwd: root })
      fs.rmSync(root, { recursive: true })
    }
    for (const side of ['a', 'b'] as const) {
      level(side, 1, path.join(dir, `${side}.tar`))
      execFileSync('gzip', ['-n1', path.join(dir, `${side}.tar`)])
    }
    const run = await diffMeasured(path.join(dir, 'a.tar.gz'), path.join(dir, 'b.tar.gz'), tmp)
    expect(run.code).toBe(1)
    const paths = run.report.items.filter((i) => i.kind === 'content').map((i) => i.path)
    expect(paths).toContain('a.tar.gz!./inner.tar!./inner.tar!./leaf.bin')
    expect(paths.filter((p) => /!\.\/z[0-5]$/.test(p))).toHaveLength(18)
    expect(run.peakMiB).toBeLessThan(256)
    expect(listDir(tmp)).toEqual([])
  }, 180_000)

  it('charges a large compressed leaf to --max-bytes once, as it is read once', async () => {
    const dir = makeTemp()
    const bytes = Buffer.alloc(30 * MiB, 9)
    fs.writeFileSync(path.join(dir, 'a'), bytes)
    bytes[bytes.length - 1] = 8
    fs.writeFileSync(path.join(dir, 'b'), bytes)
    execFileSync('gzip', ['-n1', 'a', 'b'], { cwd: dir })
    const run = await spawnProgram(
      [process.execPath, BIN, 'diff', 'a.gz', 'b.gz', '--json', '--max-bytes', '64M'].map((x) =>
        x === 'a.gz' || x === 'b.gz' ? path.join(dir, x) : x,
      ),
    )
    // 60 MiB decompressed in all: within 64M; read three times, it was refused.
    expect(run.code, run.stderr).toBe(1)
    const item = (JSON.parse(run.stdout) as DiffReport).items[0]
    expect(item?.binary).toMatchObject({ offset: 30 * MiB - 1, differingBytes: 1 })
  })

  it('holds a zip inside a gzip stream to --max-member-bytes, though it spools it', async () => {
    const dir = makeTemp()
    for (const side of ['a', 'b']) {
      fs.mkdirSync(path.join(dir, side))
      // Twenty members of 1 MiB, one differing: only the zip itself is over the limit.
      for (let i = 0; i < 20; i++)
        fs.writeFileSync(
          path.join(dir, side, `m${i}`),
          Buffer.alloc(MiB, side === 'b' && i === 3 ? 2 : 1),
        )
      execFileSync('zip', ['-q0X', `../${side}.zip`, '.', '-r'], { cwd: path.join(dir, side) })
      execFileSync('gzip', ['-n1', `${side}.zip`], { cwd: dir })
    }
    const run = await spawnProgram([
      process.execPath,
      BIN,
      'diff',
      path.join(dir, 'a.zip.gz'),
      path.join(dir, 'b.zip.gz'),
      '--json',
      '--max-member-bytes',
      '17M',
    ])
    expect(run.code, run.stderr).toBe(1)
    const messages = (JSON.parse(run.stdout) as DiffReport).items.map((i) => i.message ?? '')
    expect(messages).toContainEqual(
      expect.stringMatching(/zip\.gz: .*over the 17825792-byte limit/),
    )
  })

  it('compares content over --max-member-bytes by digest: the same is no difference, another is shown by digests', async () => {
    const dir = makeTemp()
    const content = crypto.randomBytes(3 * MiB)
    fs.writeFileSync(path.join(dir, 'x'), content)
    // The same content under two header times, and other content.
    const gzip = (name: string, mtime: number, data: Buffer) => {
      fs.writeFileSync(path.join(dir, 'x'), data)
      fs.utimesSync(path.join(dir, 'x'), mtime, mtime)
      fs.writeFileSync(
        path.join(dir, name),
        execFileSync('gzip', ['-c', path.join(dir, 'x')], { maxBuffer: 16 * MiB }),
      )
    }
    gzip('a.gz', 1e9, content)
    gzip('b.gz', 1e9 + 100, content)
    gzip('c.gz', 1e9, Buffer.concat([content, Buffer.from('!')]))
    const diff = (b: string) =>
      differingItems(path.join(dir, 'a.gz'), path.join(dir, b), '--max-member-bytes', '1M')
    const same = await diff('b.gz')
    expect(same.map((i) => i.kind)).toEqual(['metadata'])
    expect(same[0]?.hints.map((h) => h.cause)).toEqual(['timestamp'])
    const other = await diff('c.gz')
    const content3 = other.find((i) => i.kind === 'content')
    expect(content3?.digests).toEqual([
      crypto.createHash('sha256').update(content).digest('hex'),
      crypto
        .createHash('sha256')
        .update(Buffer.concat([content, Buffer.from('!')]))
        .digest('hex'),
    ])
    expect(content3?.sizes).toEqual([3 * MiB, 3 * MiB + 1])
    expect(content3?.message).toBe(
      'over the 1048576-byte limit of a member read whole into memory (raise it with --max-member-bytes): compared by digest and size only',
    )
  })

  it('compares two xz streams of over 24 MiB as they stream, with the xz program and without it', async () => {
    const dir = makeTemp()
    const content = crypto.randomBytes(30 * MiB)
    fs.writeFileSync(path.join(dir, 'a'), content)
    content[29 * MiB] = (content[29 * MiB] ?? 0) ^ 1
    fs.writeFileSync(path.join(dir, 'b'), content)
    execFileSync('xz', ['-0', '-T1', path.join(dir, 'a'), path.join(dir, 'b')])
    // Without the program on the PATH, the embedded decoder, which decodes one stream at
    // a time: the two sides read in step waited on each other for ever (exit 13).
    const noXz = makeTemp()
    for (const env of [{ PATH: process.env.PATH ?? '' }, { PATH: noXz }]) {
      const run = await spawnProgram(
        [process.execPath, BIN, 'diff', '--json', path.join(dir, 'a.xz'), path.join(dir, 'b.xz')],
        { env: { ...env, TMPDIR: dir } },
      )
      expect(run.code, `${env.PATH}: ${run.stderr}`).toBe(1)
      const item = (JSON.parse(run.stdout) as DiffReport).items[0]
      expect(item?.binary).toMatchObject({ offset: 29 * MiB, differingBytes: 1 })
    }
    // Nothing of the spool is left.
    expect(fs.readdirSync(dir).sort()).toEqual(['a.xz', 'b.xz'])
  })

  it('ends after its report when a scan inside xz or bzip2 stops early, with the programs and without them', async () => {
    const dir = makeTemp()
    const at = (name: string): string => path.join(dir, name)
    fs.mkdirSync(at('src'))
    fs.writeFileSync(at('src/big'), crypto.randomBytes(2 * MiB))
    fs.writeFileSync(at('src/small'), 'hi\n')
    execFileSync('tar', ['-C', at('src'), '-cf', at('ok.tar'), 'big', 'small'])
    // A header that fails its checksum: the scan of that side stops at byte 0.
    const bad = fs.readFileSync(at('ok.tar'))
    bad[148] = 0x58
    fs.writeFileSync(at('bad.tar'), bad)
    for (const tool of ['xz', 'bzip2']) execFileSync(tool, ['-k', at('ok.tar'), at('bad.tar')])
    // A gzip inside xz over 24 MiB a side, each side read at once on the embedded decoder.
    const text = Buffer.from(crypto.randomBytes(20 * MiB).toString('base64'))
    for (const name of ['a', 'b']) {
      if (name === 'b') text[text.length - 2] = 0x21
      const gz = execFileSync('gzip', ['-n', '-1', '-c'], { input: text, maxBuffer: 64 * MiB })
      fs.writeFileSync(
        at(`${name}.gz.xz`),
        execFileSync('xz', ['-0', '-T1', '-c'], { input: gz, maxBuffer: 64 * MiB }),
      )
    }
    const noXz = makeTemp()
    const pairs = [
      ['bad.tar.xz', 'ok.tar.xz'],
      ['bad.tar.bz2', 'ok.tar.bz2'],
    ]
    for (const env of [{ PATH: process.env.PATH ?? '' }, { PATH: noXz }])
      for (const [a = '', b = ''] of [
        ...pairs,
        ...(env.PATH === noXz ? [['a.gz.xz', 'b.gz.xz']] : []),
      ]) {
        // Left open, a decoder program blocked writing into a pipe nobody read, and the
        // process never ended; the embedded decoder held the lock side B waited on (exit 13).
        const run = await spawnProgram([process.execPath, BIN, 'diff', at(a), at(b)], {
          env: { ...env, TMPDIR: dir },
          killAfterMs: 60_000,
        })
        expect(run.code, `${a} ${env.PATH}: ${run.stderr}`).toBe(1)
      }
  })

  it('reads a large bzip2 stream through the bzip2 program, and fails it on trailing garbage the program only warns of', async () => {
    const dir = makeTemp()
    // Over the 1 MiB from which the program is used, where it is installed.
    const content = Buffer.from(crypto.randomBytes(1536 * 1024).toString('base64'))
    fs.writeFileSync(path.join(dir, 'a'), content)
    content[1000] = 0x21
    fs.writeFileSync(path.join(dir, 'b'), content)
    execFileSync('bzip2', [path.join(dir, 'a'), path.join(dir, 'b')])
    expect(fs.statSync(path.join(dir, 'a.bz2')).size).toBeGreaterThan(MiB)
    fs.copyFileSync(path.join(dir, 'a.bz2'), path.join(dir, 'c.bz2'))
    fs.appendFileSync(path.join(dir, 'c.bz2'), 'garbage')
    const diff = (b: string) => differingItems(path.join(dir, 'a.bz2'), path.join(dir, b))
    const changed = await diff('b.bz2')
    expect(changed.find((i) => i.kind === 'content')?.text?.unified).toContain('!')
    // bzip2 says "trailing garbage after EOF ignored" and exits 0: not the same content.
    const garbage = await diff('c.bz2')
    expect(garbage.map((i) => i.kind)).toContain('error')
    expect(garbage.map((i) => i.message ?? '').join('\n')).toMatch(/c\.bz2: corrupt bzip2 data/)
  })

  it("counts a tar.gz's bytes once against --max-bytes, in diff and in normalize", async () => {
    const dir = makeTemp()
    // 3 MiB in a tar: 3 MiB decompressed a side, which the tar's own read counted again.
    // A diff reads each side's content twice (the scan, then the member that differs)
    // and the first MiB once more (what the stream holds): 14 MiB, 20 counted twice;
    // normalize reads it once, and the first MiB again: 4 MiB, 7 counted twice.
    fs.mkdirSync(path.join(dir, 'tree'))
    fs.writeFileSync(path.join(dir, 'tree', 'r'), crypto.randomBytes(3 * MiB))
    execFileSync('tar', ['-czf', 'a.tgz', '-C', 'tree', 'r'], { cwd: dir })
    fs.writeFileSync(path.join(dir, 'tree', 'r'), crypto.randomBytes(3 * MiB))
    execFileSync('tar', ['-czf', 'b.tgz', '-C', 'tree', 'r'], { cwd: dir })
    const cli = (...args: string[]) => spawnProgram([process.execPath, BIN, ...args])
    const diff = await cli(
      'diff',
      '--max-bytes',
      '16M',
      path.join(dir, 'a.tgz'),
      path.join(dir, 'b.tgz'),
    )
    expect(diff.code, diff.stderr).toBe(1)
    const tight = await cli(
      'diff',
      '--max-bytes',
      '5M',
      path.join(dir, 'a.tgz'),
      path.join(dir, 'b.tgz'),
    )
    expect(tight.code).toBe(2)
    const normalized = await cli(
      'normalize',
      '--epoch',
      '0',
      '--max-bytes',
      '5M',
      '-o',
      path.join(dir, 'out.tgz'),
      path.join(dir, 'a.tgz'),
    )
    expect(normalized.code, normalized.stderr).toBe(0)
  })

  it('ends, and counts, whatever the decoders do: a side that failed, a program killed, nested xz, a zip in a gzip', async () => {
    const dir = makeTemp()
    const at = (name: string) => path.join(dir, name)
    const cli = (args: string[], env: Record<string, string> = {}) =>
      spawnProgram([process.execPath, BIN, 'diff', ...args], {
        env: { PATH: process.env.PATH ?? '', TMPDIR: dir, ...env },
      })
    // Over 24 MiB decoded against a copy cut short: the read side kept bzip2 running, and
    // the process never ended after its report.
    fs.writeFileSync(at('h.txt'), crypto.randomBytes(20 * MiB).toString('base64'))
    execFileSync('bzip2', ['-k', at('h.txt')])
    fs.writeFileSync(at('cut.bz2'), fs.readFileSync(at('h.txt.bz2')).subarray(0, 5 * MiB))
    const cut = await cli([at('h.txt.bz2'), at('cut.bz2')])
    expect(cut.code, cut.stderr).toBe(1)
    expect(cut.stdout).toContain('cut.bz2: corrupt bzip2 data')
    // A decoder program killed (out of memory, say): the stream fails, the diff ends.
    const killing = makeTemp()
    fs.writeFileSync(
      path.join(killing, 'bzip2'),
      `#!/bin/sh\n${findOnPath('bzip2', process.env.PATH) ?? 'bzip2'} "$@" | head -c 100000\nkill -9 $$\n`,
    )
    fs.chmodSync(path.join(killing, 'bzip2'), 0o755)
    const killed = await cli([at('h.txt.bz2'), at('cut.bz2')], {
      PATH: `${killing}:${process.env.PATH ?? ''}`,
    })
    expect(killed.code, killed.stderr).toBe(1)
    // BZIP2=-q silenced the warning that fails a stream with trailing garbage.
    fs.copyFileSync(at('h.txt.bz2'), at('g.bz2'))
    fs.appendFileSync(at('g.bz2'), 'garbage')
    const quiet = await cli([at('h.txt.bz2'), at('g.bz2')], { BZIP2: '-q' })
    expect(quiet.code).toBe(1)
    expect(quiet.stdout).toContain('g.bz2: corrupt bzip2 data')
    // xz inside xz on the embedded decoder (one stream at a time): exit 13, no report.
    const noXz = makeTemp()
    const small = crypto.randomBytes(2 * MiB).toString('base64')
    for (const [name, text] of [
      ['a', small],
      ['b', `${small}!`],
    ] as const) {
      const inner = execFileSync('xz', ['-T1', '-c'], { input: text, maxBuffer: 64 * MiB })
      fs.writeFileSync(
        at(`${name}.xz.xz`),
        execFileSync('xz', ['-0', '-c'], { input: inner, maxBuffer: 64 * MiB }),
      )
    }
    const nested = await cli([at('a.xz.xz'), at('b.xz.xz')], { PATH: noXz })
    expect(nested.code, nested.stderr).toBe(1)
    expect(nested.stdout).toContain('content differs')
    // A zip in a gzip: its members inflate into bytes no decoder counted.
    execFileSync(
      'python3',
      [
        '-c',
        "import zipfile,os\nb=b''.join(b'\\0'*2000+os.urandom(1) for _ in range(1000))*20\nfor n,t in (('c.zip',b'1'),('d.zip',b'2')):\n  z=zipfile.ZipFile(n,'w',zipfile.ZIP_DEFLATED)\n  [z.writestr(f'm{i}',b+t) for i in range(3)]\n  z.close()",
      ],
      { cwd: dir },
    )
    execFileSync('gzip', ['-n', 'c.zip', 'd.zip'], { cwd: dir })
    const zipped = await cli(['--max-bytes', '100M', at('c.zip.gz'), at('d.zip.gz')])
    expect(zipped.code, zipped.stdout).toBe(2)
    expect(zipped.stderr).toContain('decompressed bytes in all')
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('reproof-'))).toEqual([])
  })

  it('names a temporary directory it cannot write as the failure (exit 3), not the input', async () => {
    const { dir } = tarPair((side) => ({ 'big.bin': Buffer.alloc(10 * MiB, side === 'a' ? 1 : 2) }))
    const run = await spawnProgram(
      [process.execPath, BIN, 'diff', path.join(dir, 'a.tar'), path.join(dir, 'b.tar')],
      { env: { PATH: process.env.PATH ?? '', TMPDIR: path.join(dir, 'missing') } },
    )
    expect(run.code).toBe(3)
    expect(run.stderr).toMatch(/the temporary directory .*missing: cannot hold/)
    expect(run.stdout).toBe('')
  })
})

describe('reproof diff interrupted', () => {
  it('stops on Ctrl-C with exit 130, prints nothing and leaves no spool', async () => {
    const { dir, tmp } = tarPair((side) => ({
      'big.bin': Buffer.alloc(200 * MiB, side === 'a' ? 1 : 2),
    }))
    const child = spawn(
      process.execPath,
      [BIN, 'diff', path.join(dir, 'a.tar'), path.join(dir, 'b.tar')],
      { env: { PATH: process.env.PATH ?? '', TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    // The spool appears once the differing member is being read a second time.
    while (listDir(tmp).length === 0) await new Promise((r) => setTimeout(r, 10))
    child.kill('SIGINT')
    expect(await exited).toBe(130)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/interrupted/)
    expect(listDir(tmp)).toEqual([])
  }, 120_000)
})

describe('Spool', () => {
  it('removes its files, open or not, whatever happened', () => {
    const parent = makeTemp()
    const spool = new Spool(parent)
    const done = spool.sink('one')
    done.add(Buffer.from('abc'))
    expect(done.done().size).toBe(3)
    spool.sink('two').add(Buffer.from('left open'))
    expect(listDir(parent)).toHaveLength(1)
    spool.remove()
    expect(listDir(parent)).toEqual([])
  })
})
