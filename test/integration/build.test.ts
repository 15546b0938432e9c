import os from 'node:os'
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { describeVariations } from '../../src/cli/views/build.js'
import type { BuildResult } from '../../src/twin/run-build.js'
import type { BuildRecord } from '../../src/records/build-record.js'
import {
  cleanupTemp,
  copyFixture,
  git,
  listDir,
  makeTemp,
  makeTempParent,
  runCli,
} from '../helpers.js'

afterEach(cleanupTemp)

async function build(source: string, args: string[], env: Record<string, string> = {}) {
  const parent = makeTempParent()
  // The pairs that explain a difference are tested in build-explain.test.ts; here they
  // would only cost time.
  const run = await runCli(
    ['build', '-C', source, '--temp-dir', parent, '--json', '--no-explain', ...args],
    env,
  )
  // Whatever happened, no build root may be left behind.
  expect(listDir(parent)).toEqual([])
  const result = run.stdout === '' ? undefined : (JSON.parse(run.stdout) as BuildResult)
  return { ...run, result }
}

describe('reproof build', () => {
  it('finds a deterministic C build reproducible and copies the artifact out', async () => {
    const source = copyFixture('hello-c')
    const outDir = makeTemp()
    const { code, result } = await build(source, [
      '-o',
      'hello',
      '--out-dir',
      outDir,
      '--epoch',
      '1700000000',
      '--',
      'make',
    ])
    expect(code).toBe(0)
    expect(result?.reproducible).toBe(true)
    expect(result?.epoch).toBe(1700000000)
    expect(result?.epochSource).toBe('flag')
    expect(result?.artifacts.map((a) => a.name)).toEqual(['hello'])
    const copied = path.join(outDir, 'hello')
    expect(fs.statSync(copied).mode & 0o777).toBe(0o755)
    expect(fs.statSync(copied).mtimeMs).toBe(1700000000 * 1000)
    expect(result?.runs[0]?.manifestDigest).toBe(result?.runs[1]?.manifestDigest)
  })

  it('names what looks like an earlier build’s output in a source that is not a git checkout', async () => {
    // A developer built here before: `make` in either run may find these up to date and
    // use them as they are, so both runs agree on what neither built.
    const source = copyFixture('hello-c')
    fs.mkdirSync(path.join(source, 'lib/__pycache__'), { recursive: true })
    fs.writeFileSync(path.join(source, 'lib/util.c'), 'int util(void) { return 1; }\n')
    spawnSync('gcc', ['-c', 'lib/util.c', '-o', 'lib/util.o'], { cwd: source })
    spawnSync('gcc', ['hello.c', '-o', 'old-tool'], { cwd: source })
    fs.writeFileSync(path.join(source, 'lib/__pycache__/m.cpython-311.pyc'), 'x')
    fs.writeFileSync(path.join(source, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 })
    const { code, result } = await build(source, ['-o', 'hello', '--epoch', '1', '--', 'make'])
    expect(code).toBe(0)
    const warning = result?.warnings.find((w) => w.includes('not a git checkout'))
    expect(warning).toContain('3 files look like the output of an earlier build')
    expect(warning).toContain('(lib/__pycache__/m.cpython-311.pyc, lib/util.o, old-tool)')
    // In a git checkout only tracked files are taken: the same debris is no concern.
    git(source, ['init', '-q'])
    git(source, ['add', 'Makefile', 'hello.c'])
    git(source, ['commit', '-qm', 'init'])
    const tracked = await build(source, ['-o', 'hello', '--', 'make'])
    expect(tracked.code).toBe(0)
    expect(tracked.result?.warnings.join('\n')).not.toContain('not a git checkout')
  })

  it('finds __DATE__ reproducible, because gcc honours SOURCE_DATE_EPOCH', async () => {
    const source = copyFixture('date-macro')
    const { code, result } = await build(source, [
      '-o',
      'version',
      '--epoch',
      '1234567890',
      '--',
      'make',
    ])
    expect(code).toBe(0)
    expect(result?.reproducible).toBe(true)
    // And the artifact really carries the epoch's date, not today's.
    const text = fs.readFileSync(path.join(source, 'version')).toString('latin1')
    expect(text).toContain('Feb 13 2009')
  })

  it('names the file that records the build time, and not the file beside it', async () => {
    const source = copyFixture('timestamp')
    const { code, result, stdout } = await build(source, ['-o', 'out/*', '--', 'make'])
    expect(code).toBe(1)
    expect(result?.reproducible).toBe(false)
    expect(result?.differences.map((d) => d.name)).toEqual(['out/stamp.txt'])
    expect(stdout).not.toContain('"name": "out/static.txt",\n      "kind"')
    // Nothing is copied out of a build that is not reproducible.
    expect(fs.existsSync(path.join(source, 'out'))).toBe(false)
  })

  it('writes the HTML report with --report, whatever the verdict', async () => {
    const source = copyFixture('timestamp')
    const report = path.join(makeTemp(), 'report.html')
    const no = await build(source, ['-o', 'out/*', '--report', report, '--', 'make'])
    expect(no.code).toBe(1)
    const html = fs.readFileSync(report, 'utf8')
    expect(html).toMatch(/^<!doctype html>/i)
    expect(html).toContain('out/stamp.txt')
    // A reproducible build's report says so, and names nothing.
    const yes = await build(copyFixture('hello-c'), [
      '-o',
      'hello',
      '--report',
      report,
      '--',
      'make',
    ])
    expect(yes.code).toBe(0)
    const same = fs.readFileSync(report, 'utf8')
    expect(same).not.toContain('out/stamp.txt')
    expect(same).toMatch(/identical/i)
  })

  it('catches an absolute source path in debug info through the path variation', async () => {
    const source = copyFixture('debug-path')
    const { code, result } = await build(source, [
      '-o',
      'prog',
      '--no-vary',
      'time,file-times,ordering',
      '--',
      'make',
    ])
    expect(code).toBe(1)
    expect(result?.differences.map((d) => d.name)).toEqual(['prog'])
    expect(result?.variations.map((v) => v.name)).toEqual(['path'])
  })

  it('catches an output named after its build directory through the path variation', async () => {
    // As Gradle names a project after its directory: the same name in both runs hid it.
    const source = copyFixture('hello-c')
    const { code, result } = await build(source, [
      '-o',
      'name.txt',
      '--no-vary',
      'time,file-times,ordering',
      '--',
      'sh',
      '-c',
      'basename "$PWD" > name.txt',
    ])
    expect(code).toBe(1)
    expect(result?.differences.map((d) => d.name)).toEqual(['name.txt'])
  })

  it('catches an unsorted directory listing through the ordering variation', async () => {
    const source = copyFixture('listing')
    const { code, result } = await build(source, [
      '-o',
      'listing.txt',
      '--no-vary',
      'time,file-times',
      '--',
      'make',
    ])
    const ordering = result?.variations.find((v) => v.name === 'ordering')
    // The build root is on a tmpfs (the sandbox's own, or the test parent's without
    // it), where listing order follows creation order.
    expect(ordering?.status).toBe('effective')
    expect(code).toBe(1)
    expect(result?.differences.map((d) => d.name)).toEqual(['listing.txt'])
  })

  it('the same listing is reproducible once ordering is not varied', async () => {
    const source = copyFixture('listing')
    const { code } = await build(source, [
      '-o',
      'listing.txt',
      '--no-vary',
      'time,file-times,ordering',
      '--',
      'make',
    ])
    expect(code).toBe(0)
  })

  it('ends with exit 3 and the log tail when the build fails', async () => {
    const source = copyFixture('hello-c')
    const { code, stderr, stdout } = await build(source, [
      '-o',
      'hello',
      '--',
      'sh',
      '-c',
      'echo compiling; echo "fatal: no luck" >&2; exit 7',
    ])
    expect(code).toBe(3)
    // No verdict: only the error, as JSON.
    expect(JSON.parse(stdout)).toEqual({
      error: expect.objectContaining({ code: 'E_BUILD', exit: 3 }) as unknown,
    })
    expect(stderr).toMatch(/^reproof: build run [AB] exited with status 7$/m)
    expect(stderr).toContain('fatal: no luck')
    // What reproof changed about the build's world, and how to give it back.
    expect(stderr).toMatch(
      /reproof changed: every source file's time set to the epoch 0 \(1970-01-01: the default, for want of --epoch, SOURCE_DATE_EPOCH or a git commit; zip and others refuse times before 1980\), a fresh, empty HOME, a clean environment/,
    )
    expect(stderr).toMatch(
      /pass variables through with --env NAME, allow the network with --network/,
    )
    // An epoch given is said as given, with no word of the default.
    const given = await build(source, ['--epoch', '1700000000', '-o', 'hello', '--', 'false'])
    expect(given.code).toBe(3)
    expect(given.stderr).toMatch(
      /reproof changed: every source file's time set to the epoch 1700000000 \(2023-11-14\), a fresh/,
    )
  })

  it('answers a run that fails at once (exit 3, that run named), stopping the other rather than waiting for it or for --timeout', async () => {
    const source = copyFixture('hello-c')
    // Run A fails; run B would sleep past the timeout. Then the other way round.
    for (const [fails, sleeps] of [
      ['a', 'b'],
      ['b', 'a'],
    ] as const) {
      const started = Date.now()
      const { code, stderr } = await build(source, [
        '-o',
        'hello',
        '--timeout',
        '15s',
        '--',
        'sh',
        '-c',
        `case $PWD in */${sleeps}-path*|*/${sleeps}/*) sleep 30;; *) exit 7;; esac`,
      ])
      expect(code, stderr).toBe(3)
      expect(stderr).toMatch(
        new RegExp(`^reproof: build run ${fails.toUpperCase()} exited with status 7$`, 'm'),
      )
      expect(Date.now() - started).toBeLessThan(12_000)
    }
  })

  it('refuses a glob that matches nothing with exit 2, naming the glob', async () => {
    const source = copyFixture('hello-c')
    const { code, stderr } = await build(source, ['-o', 'nothing/*.bin', '--', 'make'])
    expect(code).toBe(2)
    expect(stderr).toContain('nothing/*.bin')
    expect(stderr.trim().split('\n')[0]).toMatch(
      /^reproof: --out nothing\/\*\.bin: matched no file/,
    )
  })

  it('keeps secrets in the caller’s environment away from the build', async () => {
    const source = copyFixture('hello-c')
    const { code, result } = await build(
      source,
      [
        '-o',
        'env.txt',
        '--env',
        'PASSED=yes',
        '--env',
        'FROM_CALLER',
        '--',
        'sh',
        '-c',
        // The whole environment is searched; only the stable part is kept as the artifact.
        'if env | grep -q hunter2; then exit 9; fi; env | grep -E "^(PASSED|FROM_CALLER|SOURCE_DATE_EPOCH|TZ|LC_ALL)=" | sort > env.txt',
      ],
      { SECRET_TOKEN: 'hunter2-secret', FROM_CALLER: 'inherited', SOURCE_DATE_EPOCH: '1600000000' },
    )
    expect(code).toBe(0)
    const env = fs.readFileSync(path.join(source, 'env.txt'), 'utf8')
    expect(env).toContain('PASSED=yes\n')
    expect(env).toContain('FROM_CALLER=inherited\n')
    expect(env).toContain('SOURCE_DATE_EPOCH=1600000000\n')
    expect(env).toContain('TZ=UTC\n')
    expect(env).toContain('LC_ALL=C.UTF-8\n')
    expect(result?.epochSource).toBe('environment')
  })

  it('takes the epoch from the HEAD commit and snapshots only tracked files', async () => {
    const source = copyFixture('hello-c')
    git(source, ['init', '-q'])
    git(source, ['add', 'Makefile', 'hello.c'])
    git(source, ['commit', '-qm', 'init'], {
      GIT_COMMITTER_DATE: '@1500000000 +0000',
      GIT_AUTHOR_DATE: '@1500000000 +0000',
    })
    fs.writeFileSync(path.join(source, 'debris.txt'), 'untracked')
    const record = path.join(makeTemp(), 'record.json')
    const { code, result } = await build(source, [
      '-o',
      'files.txt',
      '--record',
      record,
      '--',
      'sh',
      '-c',
      'ls -a > files.txt',
    ])
    expect(code).toBe(0)
    expect(result?.epoch).toBe(1500000000)
    expect(result?.epochSource).toBe('git')
    expect(fs.readFileSync(path.join(source, 'files.txt'), 'utf8').split('\n')).toEqual([
      '.',
      '..',
      'Makefile',
      'files.txt',
      'hello.c',
      '',
    ])
    const written = JSON.parse(fs.readFileSync(record, 'utf8')) as BuildRecord
    expect(written.source.git?.commit).toMatch(/^[0-9a-f]{40}$/)
    expect(written.source.git?.dirty).toBe(false)
    expect(written.epoch).toEqual({ value: 1500000000, source: 'git' })
  })

  it('records the ref the CI names only when it is the commit built', async () => {
    const source = copyFixture('hello-c')
    git(source, ['init', '-q'])
    git(source, ['add', 'Makefile', 'hello.c'])
    git(source, ['commit', '-qm', 'v1'])
    git(source, ['tag', 'v1'])
    fs.appendFileSync(path.join(source, 'hello.c'), '\n')
    git(source, ['commit', '-qam', 'v2'])
    git(source, ['tag', 'v2'])
    const head = git(source, ['rev-parse', 'HEAD']).trim()
    // Pushed to its upstream, so the branch can be named.
    const origin = path.join(makeTemp(), 'origin.git')
    git(path.dirname(origin), ['init', '-q', '--bare', origin])
    git(source, ['remote', 'add', 'origin', origin])
    git(source, ['push', '-q', '-u', 'origin', 'HEAD'])
    const refOf = async (env: Record<string, string>) => {
      const record = path.join(makeTemp(), 'record.json')
      // GITHUB_REF is GitHub Actions' word only when it runs there.
      const inActions = env.GITHUB_REF === undefined ? env : { GITHUB_ACTIONS: 'true', ...env }
      const { code, result } = await build(
        source,
        ['-o', 'hello', '--record', record, '--', 'make'],
        inActions,
      )
      expect(code).toBe(0)
      const written = JSON.parse(fs.readFileSync(record, 'utf8')) as BuildRecord
      return {
        ref: written.source.git?.ref,
        repository: written.source.git?.repository,
        warnings: result?.warnings ?? [],
      }
    }
    // Outside GitHub Actions, GITHUB_REF is anyone's variable: a local tag no repository
    // holds was named as the ref built.
    git(source, ['tag', 'local-only'])
    const outside = await refOf({ GITHUB_REF: 'refs/tags/local-only', GITHUB_ACTIONS: 'false' })
    expect(outside.ref).toBe(`refs/heads/${git(source, ['branch', '--show-current']).trim()}`)
    expect(outside.warnings.join('\n')).toMatch(/GITHUB_REF is set, but not in GitHub Actions/)
    // A tag workflow that checked out another commit: the tag is not what was built.
    // (The branch checked out, which holds it, is named instead.)
    const branch = `refs/heads/${git(source, ['branch', '--show-current']).trim()}`
    const moved = await refOf({ GITHUB_REF: 'refs/tags/v1', GITHUB_SHA: head })
    expect(moved.ref).toBe(branch)
    expect(moved.warnings.join('\n')).toMatch(
      /GITHUB_REF names refs\/tags\/v1, which is commit [0-9a-f]{12}, not the commit built/,
    )
    expect((await refOf({ GITHUB_REF: 'refs/tags/v2' })).ref).toBe('refs/tags/v2')
    // Not known here (a shallow checkout): the CI's own commit must be the one built.
    expect((await refOf({ GITHUB_REF: 'refs/pull/7/merge', GITHUB_SHA: head })).ref).toBe(
      'refs/pull/7/merge',
    )
    expect((await refOf({ GITHUB_REF: 'refs/pull/7/merge', GITHUB_SHA: 'f'.repeat(40) })).ref).toBe(
      branch,
    )
    // A commit its upstream does not have: no branch named, read beside origin's URL as
    // that repository's branch.
    fs.appendFileSync(path.join(source, 'hello.c'), '\n')
    git(source, ['commit', '-qam', 'local only'])
    const local = await refOf({})
    expect(local.ref).toBeUndefined()
    // Nor is the repository: `uri@commit` would say origin holds a commit it does not.
    expect(local.repository).toBeUndefined()
    expect(local.warnings.join('\n')).toMatch(
      /is not known to be on origin \(no remote-tracking ref of origin holds it.*\): the record names no repository for it/,
    )
    // Built by GitHub Actions from there (GITHUB_SHA), it is named.
    const head2 = git(source, ['rev-parse', 'HEAD']).trim()
    expect((await refOf({ GITHUB_ACTIONS: 'true', GITHUB_SHA: head2 })).repository).toBeDefined()
    expect(local.warnings.join('\n')).toMatch(
      new RegExp(`is not on origin's branch of ${branch} \\(not pushed, or not fetched since\\)`),
    )
    // Tracking another branch of origin, or the repository itself: git's upstream holds
    // the commit, origin's branch of that name does not.
    git(source, ['update-ref', 'refs/remotes/origin/other', 'HEAD'])
    for (const upstream of [
      ['origin', 'refs/heads/other'],
      ['.', 'refs/heads/v2-base'],
    ]) {
      git(source, ['branch', '-f', 'v2-base', 'HEAD'])
      git(source, [
        'config',
        `branch.${branch.slice('refs/heads/'.length)}.remote`,
        upstream[0] ?? '',
      ])
      git(source, [
        'config',
        `branch.${branch.slice('refs/heads/'.length)}.merge`,
        upstream[1] ?? '',
      ])
      expect(git(source, ['rev-parse', '@{upstream}']).trim()).toBe(
        git(source, ['rev-parse', 'HEAD']).trim(),
      )
      expect((await refOf({})).ref, upstream.join(' ')).toBeUndefined()
    }
  })

  it('calls the tree dirty when a tracked file is hidden from git status (skip-worktree, assume-unchanged)', async () => {
    for (const flag of ['--skip-worktree', '--assume-unchanged']) {
      const source = copyFixture('hello-c')
      git(source, ['init', '-q'])
      git(source, ['add', 'Makefile', 'hello.c'])
      git(source, ['commit', '-qm', 'init'])
      git(source, ['update-index', flag, 'hello.c'])
      fs.appendFileSync(path.join(source, 'hello.c'), '\nint evil = 1;\n')
      expect(git(source, ['status', '--porcelain'])).toBe('')
      const record = path.join(makeTemp(), 'record.json')
      const { code } = await build(source, ['-o', 'hello', '--record', record, '--', 'make'])
      expect(code, flag).toBe(0)
      const written = JSON.parse(fs.readFileSync(record, 'utf8')) as BuildRecord
      expect(written.source.git?.dirty, flag).toBe(true)
    }
  })

  it('calls the tree dirty when a reproof.config.json the commit does not hold shaped the build', async () => {
    // Untracked (or ignored), it turned the clock variation off, and the record said the
    // clean commit itself had.
    const source = copyFixture('hello-c')
    git(source, ['init', '-q'])
    git(source, ['add', 'Makefile', 'hello.c'])
    git(source, ['commit', '-qm', 'init'])
    const built = async () => {
      const record = path.join(makeTemp(), 'record.json')
      const run = await build(source, ['-o', 'hello', '--record', record, '--', 'make'])
      expect(run.code, run.stderr).toBe(0)
      return { run, written: JSON.parse(fs.readFileSync(record, 'utf8')) as BuildRecord }
    }
    expect((await built()).written.source.git?.dirty).toBe(false)
    fs.writeFileSync(path.join(source, 'reproof.config.json'), '{"noVary":["time"]}\n')
    const stray = await built()
    expect(stray.written.source.git?.dirty).toBe(true)
    expect(stray.run.stderr + stray.run.stdout).toContain('reproof.config.json is not in commit')
    // Committed, it is the commit's own: clean again.
    git(source, ['add', 'reproof.config.json'])
    git(source, ['commit', '-qm', 'config'])
    expect((await built()).written.source.git?.dirty).toBe(false)
  })

  it('calls the tree dirty when --exclude leaves out a tracked file: the build had none of it', async () => {
    // A file the commit holds and the build never saw (a hardening config, say) can change
    // what is built, and --source-digest would have passed it as the commit as it is.
    const source = copyFixture('hello-c')
    fs.writeFileSync(path.join(source, 'notes.txt'), 'kept out\n')
    git(source, ['init', '-q'])
    git(source, ['add', 'Makefile', 'hello.c', 'notes.txt'])
    git(source, ['commit', '-qm', 'init'])
    const built = async (extra: string[]) => {
      const record = path.join(makeTemp(), 'record.json')
      const run = await build(source, ['-o', 'hello', '--record', record, ...extra, '--', 'make'])
      expect(run.code, run.stderr).toBe(0)
      return { run, written: JSON.parse(fs.readFileSync(record, 'utf8')) as BuildRecord }
    }
    const left = await built(['--exclude', 'notes.txt'])
    expect(left.written.source.git?.dirty).toBe(true)
    expect(left.run.stderr + left.run.stdout).toContain(
      'the exclude globs (--exclude, or exclude in reproof.config.json) leave out 1 tracked file(s) of commit',
    )
    // An untracked file left out is no part of the commit: still clean.
    fs.writeFileSync(path.join(source, 'scratch.log'), 'x\n')
    expect((await built(['--exclude', 'scratch.log'])).written.source.git?.dirty).toBe(false)
    // An output the commit holds is left out too: the build made it afresh, where make
    // in a checkout of the commit finds it up to date and ships what was committed.
    fs.writeFileSync(path.join(source, 'hello'), 'prebuilt\n')
    git(source, ['add', 'hello'])
    git(source, ['commit', '-qm', 'prebuilt'])
    const output = await built([])
    expect(output.written.source.git?.dirty).toBe(true)
    expect(output.run.stderr + output.run.stdout).toContain(
      '--out matches 1 tracked file(s) of commit',
    )
  })

  describe('a dirty tree git status does not see', () => {
    const commit = (dir: string, files: string[]): void => {
      git(dir, ['init', '-q'])
      git(dir, ['add', ...files])
      git(dir, ['commit', '-qm', 'init'])
    }
    const dirtyOf = async (source: string, out: string): Promise<boolean | undefined> => {
      const record = path.join(makeTemp(), 'record.json')
      const { code, stderr } = await build(source, ['-o', out, '--record', record, '--', 'make'])
      expect(code, stderr).toBe(0)
      return (JSON.parse(fs.readFileSync(record, 'utf8')) as BuildRecord).source.git?.dirty
    }
    /** A repository `top` whose Makefile copies lib/data.txt, lib a submodule. */
    const withSubmodule = (): string => {
      const sub = path.join(makeTemp(), 'sub')
      fs.mkdirSync(sub)
      fs.writeFileSync(path.join(sub, 'data.txt'), 'v1\n')
      commit(sub, ['data.txt'])
      const top = path.join(makeTemp(), 'top')
      fs.mkdirSync(top)
      fs.writeFileSync(path.join(top, 'Makefile'), 'all:\n\tcp lib/data.txt out.txt\n')
      git(top, ['init', '-q'])
      git(top, ['-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', sub, 'lib'])
      git(top, ['add', 'Makefile'])
      git(top, ['commit', '-qm', 'top'])
      return top
    }
    const statusOf = (top: string): string =>
      git(top, ['status', '--porcelain', '--ignore-submodules=none', '--untracked-files=no'])

    it('an exec bit core.fileMode hides, and a file hidden in a submodule', async () => {
      // The snapshot takes the exec bit from the work tree; the commit has the file 0644.
      const modes = copyFixture('hello-c')
      commit(modes, ['Makefile', 'hello.c'])
      git(modes, ['config', 'core.fileMode', 'false'])
      fs.chmodSync(path.join(modes, 'hello.c'), 0o755)
      expect(git(modes, ['status', '--porcelain'])).toBe('')
      expect(await dirtyOf(modes, 'hello')).toBe(true)
      // A file of a submodule marked assume-unchanged, then changed.
      const top = withSubmodule()
      git(path.join(top, 'lib'), ['update-index', '--assume-unchanged', 'data.txt'])
      fs.writeFileSync(path.join(top, 'lib', 'data.txt'), 'tampered\n')
      expect(statusOf(top)).toBe('')
      expect(await dirtyOf(top, 'out.txt')).toBe(true)
    })

    it('a file rewritten and given its old size and times back, in a submodule too', async () => {
      // git status trusts an index entry whose size and times match the file: a rewrite
      // that keeps the size and puts the old modification time back (a restored backup, a
      // tool that keeps times) is not seen, here with ctime not trusted (core.trustCtime).
      const rewrite = (dir: string, file: string, text: string): void => {
        const at = path.join(dir, file)
        const old = new Date('2020-01-01T00:00:00Z')
        fs.utimesSync(at, old, old)
        git(dir, ['config', 'core.trustCtime', 'false'])
        git(dir, ['update-index', '--refresh'])
        expect(Buffer.byteLength(text)).toBe(fs.statSync(at).size)
        fs.writeFileSync(at, text)
        fs.utimesSync(at, old, old)
      }
      const plain = copyFixture('hello-c')
      commit(plain, ['Makefile', 'hello.c'])
      const original = fs.readFileSync(path.join(plain, 'hello.c'), 'utf8')
      expect(original).toContain('hello, ')
      rewrite(plain, 'hello.c', original.replace('hello, ', 'jello, '))
      expect(git(plain, ['status', '--porcelain'])).toBe('')
      expect(await dirtyOf(plain, 'hello')).toBe(true)

      const top = withSubmodule()
      expect(await dirtyOf(top, 'out.txt')).toBe(false)
      rewrite(path.join(top, 'lib'), 'data.txt', 'v2\n')
      expect(statusOf(top)).toBe('')
      expect(await dirtyOf(top, 'out.txt')).toBe(true)
    })

    it('a submodule not checked out, whose files the build never had', async () => {
      const top = withSubmodule()
      fs.writeFileSync(path.join(top, 'Makefile'), 'all:\n\techo built > out.txt\n')
      git(top, ['commit', '-qam', 'no lib needed'])
      expect(await dirtyOf(top, 'out.txt')).toBe(false)
      git(top, ['submodule', 'deinit', '-q', '-f', 'lib'])
      expect(statusOf(top)).toBe('')
      const record = path.join(makeTemp(), 'record.json')
      const { code, result } = await build(top, ['-o', 'out.txt', '--record', record, '--', 'make'])
      expect(code).toBe(0)
      expect((JSON.parse(fs.readFileSync(record, 'utf8')) as BuildRecord).source.git?.dirty).toBe(
        true,
      )
      expect(result?.warnings.join('\n')).toMatch(
        /submodules are not checked out \(lib\): the build had none of their files/,
      )
      expect(result?.warnings.join('\n')).not.toMatch(/uncommitted changes/)
      // Checked out, then made inactive: its files stay, git lists none of them, and
      // the snapshot has an empty directory.
      git(top, ['-c', 'protocol.file.allow=always', 'submodule', 'update', '-q', '--init'])
      expect(await dirtyOf(top, 'out.txt')).toBe(false)
      git(top, ['config', 'submodule.lib.active', 'false'])
      expect(statusOf(top)).toBe('')
      expect(await dirtyOf(top, 'out.txt')).toBe(true)
      git(top, ['config', '--unset', 'submodule.lib.active'])
      git(top, ['submodule', 'deinit', '-q', '-f', 'lib'])
      // A change beside it is said too: checking the submodule out would not clean it.
      fs.appendFileSync(path.join(top, 'Makefile'), '\n')
      const both = await build(top, ['-o', 'out.txt', '--', 'make'])
      expect(both.code).toBe(0)
      expect(both.result?.warnings.join('\n')).toMatch(/submodules are not checked out \(lib\)/)
      expect(both.result?.warnings.join('\n')).toMatch(/uncommitted changes to tracked files/)
    })

    it('a gitlink .gitmodules does not name (an embedded repository), named as such', async () => {
      const top = makeTemp()
      fs.writeFileSync(path.join(top, 'Makefile'), 'all:\n\techo built > out.txt\n')
      fs.mkdirSync(path.join(top, 'sub'))
      fs.writeFileSync(path.join(top, 'sub', 'data.txt'), 'v1\n')
      commit(path.join(top, 'sub'), ['data.txt'])
      commit(top, ['Makefile', 'sub'])
      expect(git(top, ['ls-files', '--stage', 'sub'])).toMatch(/^160000 /)
      const { code, result } = await build(top, ['-o', 'out.txt', '--', 'make'])
      expect(code).toBe(0)
      const warnings = result?.warnings.join('\n') ?? ''
      expect(warnings).toMatch(
        /gitlinks that \.gitmodules does not name \(sub\): commit [0-9a-f]{12} holds only their commit ids/,
      )
      expect(warnings).not.toMatch(/changed while it was copied|uncommitted changes/)
    })

    it("bytes that a clean filter maps back to the commit's, or core.autocrlf", async () => {
      // git compares through the repository's filters; the build takes the raw bytes.
      const filtered = copyFixture('hello-c')
      commit(filtered, ['Makefile', 'hello.c'])
      expect(await dirtyOf(filtered, 'hello')).toBe(false)
      fs.writeFileSync(path.join(filtered, '.git', 'info', 'attributes'), 'hello.c filter=x\n')
      git(filtered, ['config', 'filter.x.clean', 'sed s/JELLO/hello/'])
      const original = fs.readFileSync(path.join(filtered, 'hello.c'), 'utf8')
      fs.writeFileSync(path.join(filtered, 'hello.c'), original.replace('hello, ', 'JELLO, '))
      expect(git(filtered, ['status', '--porcelain', '--untracked-files=no'])).toBe('')
      expect(await dirtyOf(filtered, 'hello')).toBe(true)
      // Line ends: the work tree has CRLF, which core.autocrlf=input takes back to LF.
      const crlf = copyFixture('hello-c')
      commit(crlf, ['Makefile', 'hello.c'])
      git(crlf, ['config', 'core.autocrlf', 'input'])
      fs.writeFileSync(path.join(crlf, 'hello.c'), original.replace(/\n/g, '\r\n'))
      expect(await dirtyOf(crlf, 'hello')).toBe(true)
    })
  })

  it('reads the commit as it is: a replace ref that swaps its tree makes the tree dirty', async () => {
    const source = copyFixture('hello-c')
    git(source, ['init', '-q'])
    git(source, ['add', 'Makefile', 'hello.c'])
    git(source, ['commit', '-qm', 'good'])
    const good = git(source, ['rev-parse', 'HEAD']).trim()
    fs.appendFileSync(path.join(source, 'hello.c'), '\nint evil = 1;\n')
    git(source, ['commit', '-qam', 'evil'])
    const evil = git(source, ['rev-parse', 'HEAD']).trim()
    git(source, ['replace', good, evil])
    git(source, ['reset', '-q', '--hard', good])
    // Seen through the replace ref, the work tree is clean at the good commit.
    expect(git(source, ['status', '--porcelain'])).toBe('')
    expect(fs.readFileSync(path.join(source, 'hello.c'), 'utf8')).toContain('evil')
    const record = path.join(makeTemp(), 'record.json')
    const { code } = await build(source, ['-o', 'hello', '--record', record, '--', 'make'])
    expect(code).toBe(0)
    const written = JSON.parse(fs.readFileSync(record, 'utf8')) as BuildRecord
    expect(written.source.git?.commit).toBe(good)
    expect(written.source.git?.dirty).toBe(true)
  })

  it('normalizes the snapshot: epoch mtimes and only the exec bit of the mode', async () => {
    const source = copyFixture('hello-c')
    fs.writeFileSync(path.join(source, 'tool.sh'), '#!/bin/sh\n')
    fs.chmodSync(path.join(source, 'tool.sh'), 0o700)
    fs.chmodSync(path.join(source, 'hello.c'), 0o600)
    const { code } = await build(source, [
      '-o',
      'stat.txt',
      '--epoch',
      '1000000000',
      '--',
      'sh',
      '-c',
      'stat -c "%n %a %Y" Makefile hello.c tool.sh . > "$TMPDIR/s" && mv "$TMPDIR/s" stat.txt',
    ])
    expect(code).toBe(0)
    expect(fs.readFileSync(path.join(source, 'stat.txt'), 'utf8')).toBe(
      'Makefile 644 1000000000\nhello.c 644 1000000000\ntool.sh 755 1000000000\n. 755 1000000000\n',
    )
  })

  it('writes a build record with everything a rebuild needs', async () => {
    const source = copyFixture('hello-c')
    const record = path.join(makeTemp(), 'nested', 'record.json')
    const { code } = await build(source, [
      '-o',
      'hello',
      '--record',
      record,
      '--epoch',
      '42',
      '--env',
      'CFLAGS=-O1',
      '--',
      'make',
    ])
    expect(code).toBe(0)
    const written = JSON.parse(fs.readFileSync(record, 'utf8')) as BuildRecord
    expect(written.recordType).toBe('https://reproof.dev/build-record')
    expect(written.version).toBe(2)
    expect(written.command).toEqual(['make'])
    expect(written.outputs).toEqual(['hello'])
    expect(written.environment).toContainEqual({ name: 'CFLAGS', value: '-O1', from: 'flag' })
    expect(written.environment).toContainEqual({
      name: 'SOURCE_DATE_EPOCH',
      value: '42',
      from: 'reproof',
    })
    expect(written.runs).toHaveLength(2)
    expect(written.runs[0]?.manifest[0]?.name).toBe('hello')
    expect(written.runs.map((r) => r.leftovers)).toEqual([[], []])
    expect(written.result.reproducible).toBe(true)
    expect(written.result.verdict).toBe('reproducible')
    expect(written.normalization).toBeNull()
    expect(['namespaces', 'process']).toContain(written.isolation.kind)
  })

  it('refuses a symlink that leaves the source tree, before building', async () => {
    const source = copyFixture('hello-c')
    fs.symlinkSync('../../etc/passwd', path.join(source, 'escape'))
    const { code, stderr } = await build(source, ['-o', 'hello', '--', 'make'])
    expect(code).toBe(2)
    expect(stderr).toMatch(/escape.*points outside the source tree/)
  })

  it('refuses an artifact symlink that leaves the build root', async () => {
    const source = copyFixture('hello-c')
    const { code, stderr } = await build(source, [
      '-o',
      'link',
      '--',
      'ln',
      '-s',
      '/etc/hostname',
      'link',
    ])
    expect(code).toBe(2)
    expect(stderr).toContain('artifact link: symbolic link leads outside the build root')
  })

  it('runs with a build PATH that holds none of the programs the runs are launched with', async () => {
    // nsenter, unshare, faketime and taskset were looked for on the build's PATH, and a
    // --env PATH without them failed the run's set-up (exit 3). The build sees its PATH.
    // A directory that does not exist: the command is named by its path.
    const bin = '/nonexistent/reproof-bin'
    const source = path.join(makeTemp(), 'project')
    fs.mkdirSync(source)
    fs.writeFileSync(path.join(source, 'input.txt'), 'input\n')
    for (const isolation of [[], ['--no-sandbox']]) {
      const out = makeTemp()
      const run = await runCli(
        ['build', '-C', source, '--temp-dir', makeTempParent(), '--out-dir', out, '--vary', 'all']
          .concat(isolation, ['--no-vary', 'time,file-times,exec-path,env', '--env', `PATH=${bin}`])
          .concat(['-o', 'path.txt', '--', '/bin/sh', '-c', 'echo "$PATH" > path.txt']),
      )
      expect(run.code, `${isolation.join(' ')}: ${run.stderr}`).toBe(0)
      expect(fs.readFileSync(path.join(out, 'path.txt'), 'utf8')).toBe(`${bin}\n`)
    }
  })

  it("never launches a run with a program from the PATH the source tree's configuration gives", async () => {
    // "env": ["PATH=<a directory of the tree>"] beside an `nsenter` and an `unshare` of
    // its own: looked for on the build's PATH, they ran on the host, outside the sandbox
    // they were to set up.
    const source = path.join(makeTemp(), 'project')
    const marker = path.join(makeTemp(), 'escaped')
    fs.mkdirSync(path.join(source, 'bin'), { recursive: true })
    for (const tool of ['nsenter', 'unshare', 'taskset', 'faketime', 'setarch']) {
      fs.writeFileSync(
        path.join(source, 'bin', tool),
        `#!/bin/sh\necho ${tool} >> ${marker}\nexit 1\n`,
      )
      fs.chmodSync(path.join(source, 'bin', tool), 0o755)
    }
    fs.writeFileSync(
      path.join(source, 'reproof.config.json'),
      JSON.stringify({ env: [`PATH=${path.join(source, 'bin')}:/usr/bin:/bin`] }),
    )
    const run = await runCli(
      ['build', '-C', source, '--temp-dir', makeTempParent(), '--out-dir', makeTemp()].concat([
        '--vary',
        'all',
        '--no-vary',
        'time,file-times',
        '-o',
        'o.txt',
        '--',
        '/bin/sh',
        '-c',
        'echo x > o.txt',
      ]),
    )
    expect(run.code, run.stderr).toBe(0)
    expect(fs.existsSync(marker)).toBe(false)
  })

  it('refuses two artifacts that would land on one file through a link in --out-dir', async () => {
    // A link `out -> sub` in the source dir (the default --out-dir): run A's out/hello and
    // sub/hello were copied onto one file, and the subject signed as out/hello was not
    // the file shipped under that name.
    const source = path.join(makeTemp(), 'project')
    fs.mkdirSync(source)
    fs.writeFileSync(path.join(source, 'input.txt'), 'input\n')
    fs.symlinkSync('sub', path.join(source, 'out'))
    const script = 'rm -f out; mkdir -p out sub; echo AAA > out/hello; echo BBB > sub/hello'
    const run = await runCli(
      ['build', '-C', source, '--temp-dir', makeTempParent(), '-o', 'out/*', '-o', 'sub/*'].concat([
        '--',
        'sh',
        '-c',
        script,
      ]),
    )
    expect([run.code, run.stderr.trim().split('\n').at(-1)]).toEqual([
      2,
      `reproof: --out-dir ${source}: artifacts out/hello and sub/hello would be written to one file, through a symbolic link there; nothing was copied`,
    ])
    expect(fs.existsSync(path.join(source, 'sub'))).toBe(false)
  })

  it('reads nothing through a build root the build replaced with a link, and rewrites nothing', async () => {
    // A directory of the machine's, with an archive --normalize would rewrite.
    const victim = makeTemp()
    fs.writeFileSync(path.join(victim, 'data.txt'), 'hello\n')
    spawnSync('tar', ['-C', victim, '-cf', path.join(victim, 'app.tar'), 'data.txt'])
    const before = fs.readFileSync(path.join(victim, 'app.tar'))
    const source = copyFixture('hello-c')
    const swaps = {
      root: `me=$(basename "$PWD"); cd ..; mv "$me" "$me.x"; ln -s ${victim} "$me"`,
      // The run's directory above the root: the link leads to a tree holding a `hello-c`.
      'run directory': `run=$(dirname "$PWD"); cd "$run/.."; mv "$run" moved; mkdir -p ${victim}/up; ln -sfn ${victim} ${victim}/up/hello-c; ln -s ${victim}/up "$run"`,
    }
    for (const isolation of [[], ['--no-sandbox']])
      for (const [what, script] of Object.entries(swaps)) {
        const outDir = makeTemp()
        const { code, stderr } = await build(source, [
          ...isolation,
          '--out-dir',
          outDir,
          '--normalize',
          '-o',
          'app.tar',
          '--',
          'sh',
          '-c',
          script,
        ])
        expect(code, `${what} ${isolation.join(' ')}: ${stderr}`).toBe(3)
        expect(stderr).toMatch(/run A moved or replaced its build root/)
        expect(listDir(outDir)).toEqual([])
        expect(fs.readFileSync(path.join(victim, 'app.tar')).equals(before)).toBe(true)
      }
  })

  it('names the variations a no-vary list turned off, and which list, apart from those not asked for', async () => {
    const source = makeTemp()
    fs.writeFileSync(path.join(source, 'build.sh'), 'echo same > out.txt\n')
    fs.writeFileSync(path.join(source, 'reproof.config.json'), '{"noVary": ["ordering"]}\n')
    const args = ['-o', 'out.txt', '--no-vary', 'file-times', '--', 'sh', 'build.sh']
    const recordFile = path.join(makeTemp(), 'record.json')
    const json = await build(source, ['--record', recordFile, ...args])
    expect(json.code, json.stderr).toBe(0)
    const turnedOff = [
      { name: 'file-times', by: '--no-vary' },
      { name: 'ordering', by: 'reproof.config.json "noVary"' },
    ]
    expect(json.result?.turnedOff).toEqual(turnedOff)
    // The record keeps it too: a source's own config that switched one off is evidence.
    expect(
      (JSON.parse(fs.readFileSync(recordFile, 'utf8')) as { turnedOff: unknown }).turnedOff,
    ).toEqual(turnedOff)
    const human = await runCli([
      'build',
      '-C',
      source,
      '--temp-dir',
      makeTempParent(),
      '--no-explain',
      ...args,
    ])
    expect(human.stdout).toContain('turned off: file-times (--no-vary)')
    expect(human.stdout).toContain('turned off: ordering (reproof.config.json "noVary")')
    expect(human.stdout).toMatch(/not asked for: (?!.*ordering)(?!.*file-times).*\(--vary all\)/)
  })

  it("says without the sandbox that a run can take the other's output, which the sandbox stops", async () => {
    // Run B copies what run A wrote beside it, when it can see it; else a fresh stamp.
    const source = makeTemp()
    fs.writeFileSync(
      path.join(source, 'build.sh'),
      'for f in ../../*/*/out.txt ../../../*/*/*/out.txt; do [ -f "$f" ] && [ "$f" != ./out.txt ] && cp "$f" out.txt && exit 0; done; date +%s%N > out.txt\n',
    )
    const args = ['--sequential', '-o', 'out.txt', '--', 'sh', 'build.sh']
    const sandboxed = await build(source, args)
    expect(sandboxed.code, sandboxed.stderr).toBe(1)
    const open = await build(source, ['--no-sandbox', ...args])
    expect(open.result?.isolation.notes).toContain(
      "the two runs can read each other's build roots and the rest of the host's files: a build that takes what the other run wrote (a shared cache, a sibling's output) reproduces it",
    )
  })

  it('with --sequential, stamps every file run B writes later than any run A wrote, removed ones too', async () => {
    // Run A is slow, run B quick: B began as A ended and wrote the same intermediate
    // file within the same second; its tar showed no difference, and file-times passed.
    const source = makeTemp()
    fs.writeFileSync(
      path.join(source, 'build.sh'),
      [
        'case "$PWD" in *canary*) ;; *) sleep 3;; esac',
        'mkdir -p gen out && echo hi > gen/x',
        'tar --sort=name --owner=0 --group=0 --numeric-owner -cf out/a.tar gen',
        'rm -rf gen',
      ].join('\n'),
    )
    const { code, result } = await build(source, [
      '--sequential',
      '-o',
      'out/a.tar',
      '--',
      'sh',
      'build.sh',
    ])
    expect(code).toBe(1)
    expect(result?.reproducible).toBe(false)
  })

  it('explains a link artifact by what it leads to, which is what was compared', async () => {
    const source = copyFixture('hello-c')
    const { code, result } = await build(source, [
      '-o',
      'out/app',
      '--',
      'sh',
      '-c',
      'mkdir -p out && echo "$PWD" > out/app.real && ln -s app.real out/app',
    ])
    expect(code).toBe(1)
    const explanation = result?.differences[0]?.explanation ?? []
    expect(explanation.map((i) => [i.path, i.kind])).toEqual([['out/app', 'content']])
    expect(explanation[0]?.hints.map((h) => h.cause)).toContain('build-path')
  })

  it('refuses a matched link to a directory or a FIFO rather than leave its files out', async () => {
    for (const [made, why] of [
      [
        'mkdir -p build/lib && pwd > build/lib/config && ln -s ../build/lib out/lib',
        'symbolic link to a directory',
      ],
      [
        'mkfifo build/pipe && ln -s ../build/pipe out/pipe',
        'symbolic link to something that is not a file',
      ],
    ] as const) {
      const source = copyFixture('hello-c')
      const script = `mkdir -p out build && echo hi > out/app && ${made}`
      for (const out of ['out', 'out/*']) {
        const { code, stderr } = await build(source, ['-o', out, '--', 'sh', '-c', script])
        expect(code, `${made} ${out}`).toBe(2)
        expect(stderr).toContain(why)
      }
    }
  })

  it('refuses a --temp-dir that is not an existing directory, making nothing and saying one line', async () => {
    const source = copyFixture('hello-c')
    const dir = makeTemp()
    fs.writeFileSync(path.join(dir, 'file'), '')
    for (const [given, why] of [
      [path.join(dir, 'typo', 'tmp'), 'no such directory'],
      [path.join(dir, 'file'), 'not a directory'],
    ] as const) {
      const run = await runCli([
        'build',
        '-C',
        source,
        '--temp-dir',
        given,
        '-o',
        'hello',
        '--',
        'make',
      ])
      expect([run.code, run.stderr]).toEqual([2, `reproof: --temp-dir ${given}: ${why}\n`])
    }
    expect(fs.readdirSync(dir)).toEqual(['file'])
    // The configuration's lies in the source tree, and is made as it always was.
    fs.writeFileSync(
      path.join(source, 'reproof.config.json'),
      JSON.stringify({ out: ['hello'], command: ['make'], tempDir: '.reproof-tmp/work' }),
    )
    const configured = await runCli(['build', '-C', source])
    expect(configured.code, configured.stderr).toBe(0)
    expect(fs.readdirSync(path.join(source, '.reproof-tmp', 'work'))).toEqual([])
  })

  it('rejects a malformed epoch with exit 2 and no temp dirs', async () => {
    const source = copyFixture('hello-c')
    for (const epoch of ['-1', '1.5', ' 12', 'abc', '']) {
      const { code, stderr } = await build(source, ['-o', 'hello', '--epoch', epoch, '--', 'make'])
      expect(code, epoch).toBe(2)
      // One line, which says what an epoch is.
      expect(stderr.trim()).toMatch(
        /^reproof: --epoch: .* is not a non-negative decimal integer \(seconds since 1970-01-01T00:00:00Z, digits only\)$/,
      )
    }
    const env = await build(source, ['-o', 'hello', '--', 'make'], {
      SOURCE_DATE_EPOCH: '2024-01-01',
    })
    expect(env.code).toBe(2)
    expect(env.stderr).toContain('SOURCE_DATE_EPOCH')
  })

  it('reads reproof.config.json, with flags winning, and refuses unknown keys', async () => {
    const source = copyFixture('hello-c')
    fs.writeFileSync(
      path.join(source, 'reproof.config.json'),
      JSON.stringify({ command: ['make'], out: ['hello'], epoch: 7 }),
    )
    const ok = await build(source, ['--epoch', '8'])
    expect(ok.code).toBe(0)
    expect(ok.result?.epoch).toBe(8)
    expect(ok.result?.epochSource).toBe('flag')
    fs.writeFileSync(
      path.join(source, 'reproof.config.json'),
      JSON.stringify({ command: ['make'], outputs: ['hello'] }),
    )
    const bad = await build(source, [])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/reproof\.config\.json.*outputs/)
    // A link (to /dev/zero, which never ends; to a file of the machine, whose start a
    // parse error would show; to a file of the tree the commit does not hold, under
    // .git/): refused, nothing read. And a directory is no configuration.
    const config = path.join(source, 'reproof.config.json')
    fs.writeFileSync(path.join(source, '.git-info.json'), '{"command":["make"]}')
    for (const target of ['/dev/zero', '/proc/self/environ', '.git-info.json', 'missing.json']) {
      fs.rmSync(config)
      fs.symlinkSync(target, config)
      const linked = await build(source, ['-o', 'hello', '--', 'make'])
      expect(linked.code, target).toBe(2)
      expect(linked.stderr.trim(), target).toMatch(
        /reproof\.config\.json: a symbolic link; the configuration must be a file of the source tree$/,
      )
    }
    fs.rmSync(config)
    fs.mkdirSync(config)
    const directory = await build(source, ['-o', 'hello', '--', 'make'])
    expect(directory.code).toBe(2)
    expect(directory.stderr).toMatch(/reproof\.config\.json.*not a file to read/)
  })

  it('applies every variation it can with --vary all, and each applied one is confirmed', async () => {
    const source = copyFixture('hello-c')
    const { code, result } = await build(source, [
      '-o',
      'hello',
      '--vary',
      'all',
      '--sequential',
      '--',
      'make',
    ])
    expect(code).toBe(0)
    const names = result?.variations.map((v) => v.name)
    expect(names).toEqual([
      'path',
      'time',
      'file-times',
      'ordering',
      'umask',
      'tz',
      'locale',
      'home',
      'user',
      'hostname',
      'domain',
      'env',
      'exec-path',
      'cpus',
    ])
    for (const v of result?.variations ?? []) {
      // Not every machine can apply every variation; one that is applied must have bitten.
      expect(v.status, v.name).not.toBe('no-effect')
      if (v.status === 'not-applied') expect(v.note, v.name).toBeTruthy()
    }
  })

  it.skipIf(os.availableParallelism() < 2)(
    'gives run B one CPU in the OpenMP count the build is given too, and says so when that count is 1 in both',
    async () => {
      // GNU nproc prints OMP_NUM_THREADS when it is set, and OpenMP runtimes take it.
      const source = makeTemp()
      fs.writeFileSync(
        path.join(source, 'build.sh'),
        '#!/bin/sh\nmkdir -p out && nproc > out/n\n',
        {
          mode: 0o755,
        },
      )
      const given = (count: string) =>
        build(source, [
          '--env',
          `OMP_NUM_THREADS=${count}`,
          '--vary',
          'cpus',
          '-o',
          'out/n',
          '--',
          './build.sh',
        ])
      const two = await given('2')
      expect(two.code, two.stderr).toBe(1)
      const cpus = two.result?.variations.find((v) => v.name === 'cpus')
      expect(cpus?.status).toBe('effective')
      expect(cpus?.b).toMatch(/OMP_NUM_THREADS=1/)
      // Given as 1, the count is the same in both runs: asked for by name, that is exit 3.
      const one = await given('1')
      expect(one.code, one.stderr).toBe(3)
      expect(one.stderr).toMatch(/cpus/)
    },
  )

  it.skipIf(
    !/^(et_EE|fr_CH|tr_TR|de_DE|en_US)\./im.test(
      execFileSync('locale', ['-a'], { encoding: 'utf8' }),
    ),
  )(
    'confirms that run B sorts in its locale, and refuses a locale variation that never reached the build',
    async () => {
      const source = copyFixture('hello-c')
      const sorted = (env: string[]) =>
        build(source, [
          ...env,
          '--vary',
          'locale',
          '-o',
          'sorted',
          '--',
          'sh',
          '-c',
          'printf "b\\nA\\na\\nB\\n" | sort > sorted',
        ])
      const varied = await sorted([])
      expect(varied.code, varied.stderr).toBe(1)
      // glibc then looks for locales where there are none: run B sorts as run A does.
      // (Where the machine's locales are found all the same, as with Debian's
      // locales-all, there is no way here to keep the variation from the build.)
      const probe = execFileSync('sh', ['-c', 'printf "b\\nA\\na\\nB\\n" | sort'], {
        encoding: 'utf8',
        env: { ...process.env, LOCPATH: '/nonexistent', LC_ALL: 'et_EE.UTF-8' },
      })
      if (probe !== 'A\nB\na\nb\n') return
      const unloaded = await sorted(['--env', 'LOCPATH=/nonexistent'])
      expect(unloaded.code, unloaded.stderr).toBe(3)
      expect(unloaded.stderr).toMatch(/locale/)
    },
  )

  it('catches a build that writes the local date of SOURCE_DATE_EPOCH, whatever its hour', async () => {
    const source = copyFixture('hello-c')
    // 03:00 and 15:00 UTC: a zone 14 hours ahead of UTC keeps the date of the first.
    for (const epoch of ['1700017200', '1700060400']) {
      const run = await build(source, [
        '--epoch',
        epoch,
        '--vary',
        'tz',
        '-o',
        'day',
        '--',
        'sh',
        '-c',
        'date -d "@$SOURCE_DATE_EPOCH" +%F > day',
      ])
      expect(run.code, `${epoch}: ${run.stderr}`).toBe(1)
    }
  })

  it.skipIf(!fs.existsSync('/usr/share/zoneinfo/Etc/GMT-14'))(
    'moves run B out of a zone run A is given by its file, and says so when it cannot',
    async () => {
      const source = copyFixture('hello-c')
      const inZone = (tz: string, vary: string) =>
        build(source, [
          '--env',
          `TZ=${tz}`,
          '--vary',
          vary,
          '-o',
          'hour',
          '--',
          'sh',
          '-c',
          'date -d @0 +%H > hour',
        ])
      // Named by its path: run B goes elsewhere, and the hour differs.
      const byPath = await inZone('/usr/share/zoneinfo/Etc/GMT-14', 'tz')
      expect(byPath.code, byPath.stderr).toBe(1)
      // A path reproof cannot place: the probes see run B in the zone it chose anyway,
      // so the variation did nothing, and asked for by name, the build is refused.
      const unplaced = await inZone('/usr/share/zoneinfo/../zoneinfo/Etc/GMT-14', 'tz')
      expect(unplaced.code, unplaced.stderr).toBe(3)
      expect(unplaced.stderr).toMatch(/tz/)
      const all = await inZone('/usr/share/zoneinfo/../zoneinfo/Etc/GMT-14', 'all')
      expect(all.code, all.stderr).toBe(0)
      expect(all.result?.variations.find((v) => v.name === 'tz')?.status).toBe('no-effect')
    },
  )

  it('shows run B the varied world: clock, umask, uid, host name, TZ, HOME, PATH and CPUs', async () => {
    const source = copyFixture('hello-c')
    const parent = makeTempParent()
    const script =
      'date +%Y > world; umask >> world; id -u >> world; hostname >> world; echo "$TZ" >> world; if test -d "$HOME"; then echo home; else echo none; fi >> world; echo "${PATH%%:*}" >> world; nproc >> world; echo "$REPROOF_VARIATION" >> world; echo "$USER $LOGNAME" >> world'
    const run = await runCli([
      'build',
      '-C',
      source,
      '--temp-dir',
      parent,
      '--json',
      '--keep',
      '-o',
      'world',
      '--vary',
      'all',
      '--',
      'sh',
      '-c',
      script,
    ])
    expect(run.code).toBe(1)
    const result = JSON.parse(run.stdout) as BuildResult
    const [a, b] = result.runs.map((r) =>
      fs.readFileSync(path.join(r.root, 'world'), 'utf8').split('\n'),
    )
    const applied = new Set(
      result.variations.filter((v) => v.status === 'effective').map((v) => v.name),
    )
    const canary = /canary[0-9a-f]{10}/
    // The year moves only on libfaketime's clock, not on the staggered start.
    const faked = result.variations.some((v) => v.name === 'time' && v.b.includes('libfaketime'))
    if (faked) expect(Number(b?.[0])).toBeGreaterThan(Number(a?.[0]))
    expect([a?.[1], b?.[1]]).toEqual(['0022', '0002'])
    if (applied.has('user')) expect(b?.[2]).not.toBe(a?.[2])
    // USER and LOGNAME go with the uid: set in both, B's another.
    expect(a?.[9]).toMatch(/^\S+ \S+$/)
    if (applied.has('user'))
      expect(b?.[9]).toMatch(/^user-canary[0-9a-f]{10} user-canary[0-9a-f]{10}$/)
    if (applied.has('hostname')) expect(b?.[3]).toMatch(canary)
    expect(a?.[4]).toBe('UTC')
    expect(
      fs.existsSync('/usr/share/zoneinfo/Etc/GMT-14')
        ? ['Etc/GMT-14', 'Etc/GMT+12']
        : ['<+14>-14', '<-12>+12'],
    ).toContain(b?.[4])
    expect([a?.[5], b?.[5]]).toEqual(['home', 'none'])
    expect(b?.[6]).toMatch(canary)
    if (applied.has('cpus')) {
      // Run B, which starts later, is the slower one.
      expect(b?.[7]).toBe('1')
      expect(Number(a?.[7])).toBeGreaterThan(1)
      // What affinity does not reach is said with the verdict.
      expect(describeVariations(result.variations)).toContain(
        'cpus (by affinity and -j only: /proc/cpuinfo, getconf _NPROCESSORS_ONLN and os.cpu_count() count every CPU in both runs)',
      )
    }
    expect([a?.[8], b?.[8]]).toEqual(['', expect.stringMatching(canary)])
    fs.rmSync(result.kept ?? '', { recursive: true, force: true })
  })

  it('treats a timeout as an unknown outcome (exit 4) and cleans up', async () => {
    const source = copyFixture('hello-c')
    const { code, stderr } = await build(source, [
      '-o',
      'hello',
      '--timeout',
      '1s',
      '--',
      'sh',
      '-c',
      'sleep 30 & sleep 30',
    ])
    expect(code).toBe(4)
    expect(stderr).toContain('unknown')
    expect(stderr).toContain('a retry is safe')
  })
})
