import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it, type TestContext } from 'vitest'
import type { BuildResult } from '../../src/twin/run-build.js'
import { cleanupTemp, copyFixture, listDir, makeTempParent, runCli } from '../helpers.js'

/**
 * Real toolchains under the default variations, run B on libfaketime's clock. Each must
 * end, reproducible or not, well within --timeout: rustc used to hang there for good.
 */

afterEach(cleanupTemp)

// Generous, but far below the per-test limit: a hang shows as a failure, not a stall.
const BUILD_TIMEOUT = '5m'
const TEST_TIMEOUT_MS = 7 * 60_000

/** The directory on PATH, or in the usual install places, that holds `tool`. */
function toolDir(tool: string, extra: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), ...extra].filter((d) => d !== '')
  return dirs.find((d) => {
    try {
      fs.accessSync(path.join(d, tool), fs.constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

const faketimeInstalled = spawnSync('faketime', ['--version']).status === 0

/** PATH without any directory holding `tool`, with `first` in front when given. */
function pathWithout(tool: string, first?: string): string {
  const dirs = (process.env.PATH ?? '/usr/bin:/bin')
    .split(':')
    .filter((d) => d !== '' && !fs.existsSync(path.join(d, tool)))
  return [...(first === undefined ? [] : [first]), ...dirs].join(':')
}

async function build(source: string, args: string[], env: Record<string, string> = {}) {
  const parent = makeTempParent()
  const started = Date.now()
  const run = await runCli(
    // The pairs that explain a difference are tested in build-explain.test.ts.
    [
      'build',
      '-C',
      source,
      '--temp-dir',
      parent,
      '--timeout',
      BUILD_TIMEOUT,
      '--json',
      '--no-explain',
      ...args,
    ],
    env,
  )
  const seconds = (Date.now() - started) / 1000
  expect(listDir(parent)).toEqual([])
  const result = run.stdout === '' ? undefined : (JSON.parse(run.stdout) as BuildResult)
  const time = result?.variations.find((v) => v.name === 'time')
  return { ...run, result, seconds, time }
}

/**
 * A build of a copy of `fixture` with run B under libfaketime for sure: skipped where it
 * is not installed. rustc is kept off PATH, so that no program runs on the real clock.
 */
async function fakedBuild(ctx: TestContext, fixture: string, args: string[]) {
  if (!faketimeInstalled) ctx.skip('libfaketime is not installed')
  const source = copyFixture(fixture)
  const outcome = await build(source, args, { PATH: pathWithout('rustc') })
  expect(outcome.time?.b, outcome.stderr).toContain('libfaketime')
  return { ...outcome, source }
}

describe('toolchains under the time variation', () => {
  it(
    'builds a Rust crate with cargo --release --offline, and ends',
    async (ctx) => {
      const cargoDir = toolDir('cargo', [path.join(os.homedir(), '.cargo', 'bin')])
      if (cargoDir === undefined) ctx.skip('cargo is not installed')
      // Each run gets a fresh HOME, where rustup's proxies would find no toolchain: a
      // rustup install needs RUSTUP_HOME passed through. CARGO_HOME may stay the run's
      // own ($HOME/.cargo): an offline crate without dependencies writes nothing there.
      const rustupHome = process.env.RUSTUP_HOME ?? path.join(os.homedir(), '.rustup')
      const env = fs.existsSync(rustupHome) ? ['--env', `RUSTUP_HOME=${rustupHome}`] : []
      const source = copyFixture('rust-hello')
      const { code, stderr, seconds, time } = await build(
        source,
        [
          ...env,
          '-o',
          'target/release/rust-hello',
          '--',
          'cargo',
          'build',
          '--release',
          '--offline',
        ],
        { PATH: `${cargoDir}:${process.env.PATH ?? ''}` },
      )
      expect([0, 1], stderr).toContain(code)
      // The clock moved for the build, and for rustc too, or rustc ran on the real clock
      // where libfaketime would hang it, and the record says so; never the silent hang.
      if (faketimeInstalled) {
        expect(time?.status).toBe('effective')
        expect(time?.b).toMatch(/libfaketime/)
        if (time?.note !== undefined) expect(time.note).toMatch(/^rustc runs on the real clock/)
      }
      expect(seconds).toBeLessThan(240)
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'builds a jar with javac and jar, and ends',
    async (ctx) => {
      if (toolDir('javac') === undefined || toolDir('jar') === undefined)
        ctx.skip('javac and jar are not installed')
      const source = copyFixture('java-hello')
      const args = ['-o', 'out/hello.jar', '--', 'sh', 'build.sh']
      const { code, stderr, seconds } = await build(source, args)
      expect([0, 1], stderr).toContain(code)
      expect(seconds).toBeLessThan(240)
    },
    TEST_TIMEOUT_MS,
  )

  it(
    'keeps the JVM’s timed waits their full length on the shifted clock',
    async (ctx) => {
      if (toolDir('javac') === undefined || toolDir('java') === undefined)
        ctx.skip('javac and java are not installed')
      const script =
        'mkdir -p out/classes && javac -d out/classes src/demo/TimedWait.java && java -cp out/classes demo.TimedWait > out/wait.txt'
      const args = ['-o', 'out/wait.txt', '--', 'sh', '-c', script]
      const { code, stderr, result, source } = await fakedBuild(ctx, 'java-hello', args)
      // Both waits lasted their second: the same file in both runs.
      expect(code, stderr).toBe(0)
      expect(result?.reproducible).toBe(true)
      expect(fs.readFileSync(path.join(source, 'out', 'wait.txt'), 'utf8')).toBe('full\n')
    },
    TEST_TIMEOUT_MS,
  )

  it('shifts the date a build sees, so a build that records it is not reproducible', async (ctx) => {
    const script = 'mkdir -p out && date +%F > out/day.txt'
    const args = ['-o', 'out/day.txt', '--', 'sh', '-c', script]
    const { code, result, time } = await fakedBuild(ctx, 'hello-c', args)
    expect(code).toBe(1)
    expect(time?.status).toBe('effective')
    expect(result?.differences.map((d) => d.name)).toEqual(['out/day.txt'])
    const diff = result?.explanation?.items.find((i) => i.path === 'out/day.txt')?.text?.unified
    // The one changed line on each side: "-2026-12-02" against "+2028-01-03".
    const lines = (diff ?? '').split('\n').filter((l) => /^[-+]\d{4}-\d\d-\d\d$/.test(l))
    const day = (sign: string) => Date.parse(lines.find((l) => l.startsWith(sign))?.slice(1) ?? '')
    // 397 days, and the 7 h 13 min on top may reach into the next day.
    expect([397, 398]).toContain((day('+') - day('-')) / 86_400_000)
  })

  it('shifts the time of day too, so a build that records only the hour is not reproducible', async (ctx) => {
    const script = 'mkdir -p out && date -u +%H:%M > out/clock.txt'
    const args = ['-o', 'out/clock.txt', '--', 'sh', '-c', script]
    const { code, result, time } = await fakedBuild(ctx, 'hello-c', args)
    expect(time?.status).toBe('effective')
    expect(code).toBe(1)
    expect(result?.differences.map((d) => d.name)).toEqual(['out/clock.txt'])
  })

  it('leaves the file times a build reads as they are on disk', async (ctx) => {
    const args = ['-o', 'out/mtime.txt', '--epoch', '1700000000', '--', 'make']
    const { code, stderr, source } = await fakedBuild(ctx, 'mtime-reader', args)
    expect(code, stderr).toBe(0)
    expect(fs.readFileSync(path.join(source, 'out', 'mtime.txt'), 'utf8')).toBe('1700000000\n')
  })

  it('does not wait for a daemon the build leaves behind', async (ctx) => {
    // libfaketime's wrapper waits for every process holding its keep-alive pipe.
    const script = 'mkdir -p out && echo done > out/x && (sleep 25 >/dev/null 2>&1 &)'
    const { code, seconds } = await fakedBuild(ctx, 'hello-c', [
      '-o',
      'out/x',
      '--',
      'sh',
      '-c',
      script,
    ])
    expect(code).toBe(0)
    expect(seconds).toBeLessThan(20)
  })
})
