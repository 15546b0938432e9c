import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { execFile, execFileSync, spawn } from 'node:child_process'
import { ownedTempName } from '../../src/owned-temp.js'
import {
  BIN,
  cleanupTemp,
  copyFixture,
  listDir,
  makeTemp,
  makeTempParent,
  spawnCli,
  spawnProgram,
} from '../helpers.js'

afterEach(cleanupTemp)

function spawnCommand(
  argv: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      argv[0] ?? '',
      argv.slice(1),
      { env: { PATH: process.env.PATH, TERM: 'xterm', ...env } },
      (err, stdout) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout })
      },
    )
  })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
}

// A build that starts a process in a new session (escaping the process group) and
// records its pid outside the workspace, then waits.
// Outside the sandbox (where a PID namespace does this), processes that left the
// build's process group are found by the run's HOME and killed; they write their pids
// where the test can see them, which the sandbox's read-only file system would refuse.
function lingeringBuild(pidDir: string): string[] {
  return [
    '--no-sandbox',
    '--env',
    `PID_DIR=${pidDir}`,
    '--',
    'sh',
    '-c',
    'setsid sleep 300 & echo $! > "$PID_DIR/$$"; sleep 300',
  ]
}

/** Spawns `reproof build` on a fresh copy of a fixture, with build roots in a fresh parent. */
async function spawnBuild(
  fixture: string,
  args: string[],
  options: Parameters<typeof spawnCli>[1] = {},
) {
  const source = copyFixture(fixture)
  const parent = makeTempParent()
  const run = await spawnCli(['build', '-C', source, '--temp-dir', parent, ...args], options)
  return { ...run, source, parent }
}

function recordedPids(dir: string): number[] {
  return listDir(dir).map((f) => Number(fs.readFileSync(path.join(dir, f), 'utf8').trim()))
}

describe('the reproof executable', () => {
  it('prints help and version with exit 0', async () => {
    const help = await spawnCli(['build', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('--out <glob>')
    const version = await spawnCli(['--version'])
    expect(version.code).toBe(0)
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })

  it('keeps its exit code when the reader of its output goes away (| head)', async () => {
    const dir = makeTemp()
    for (const side of ['a', 'b']) {
      fs.mkdirSync(path.join(dir, side))
      for (let i = 0; i < 400; i++)
        fs.writeFileSync(path.join(dir, side, `f${i}.txt`), `${side} ${i}\n`)
    }
    const run = await spawnCommand(
      [
        'bash',
        '-c',
        `"${process.execPath}" "${BIN}" diff "${dir}/a" "${dir}/b" 2>"${dir}/stderr" | head -c 10 >/dev/null; echo "\${PIPESTATUS[0]}"`,
      ],
      {},
    )
    // 1: the trees differ; not 0 as if all was well, nor a crash on the closed pipe
    // (which exits 1 too, with a stack trace on stderr).
    expect(run.stdout.trim()).toBe('1')
    expect(fs.readFileSync(path.join(dir, 'stderr'), 'utf8')).toBe('')
  })

  it('gives exit 2 for usage errors', async () => {
    expect((await spawnCli(['build', '--bogus'])).code).toBe(2)
    expect((await spawnCli(['nonsense'])).code).toBe(2)
    const noCommand = await spawnCli(['build', '-o', 'x'])
    expect(noCommand.code).toBe(2)
    expect(noCommand.stderr).toMatch(/^reproof: no build command/m)
    const badVary = await spawnCli(['build', '-o', 'x', '--vary', 'moon', '--', 'true'])
    expect(badVary.code).toBe(2)
    expect(badVary.stderr).toContain('unknown variation "moon"')
  })

  it('shows a table and a verdict to people', async () => {
    const run = await spawnBuild('hello-c', ['-o', 'hello', '--', 'make'])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^hello\s+\d+\s+[0-9a-f]{64} =$/m)
    expect(run.stdout).toMatch(
      /^reproducible under path, .*: 1 artifact\(s\) byte-identical in both runs$/m,
    )
    expect(run.stderr).toContain('run A started')
    expect(listDir(run.parent)).toEqual([])
  })

  it('on Ctrl-C stops both process trees, removes the temp dirs and exits 130', async () => {
    const pids = makeTemp()
    const run = await spawnBuild(
      'hello-c',
      ['-o', 'hello', '--no-vary', 'time,file-times', ...lingeringBuild(pids)],
      {
        onStderr: (text, child) => {
          if (text.includes('run B started') && !child.killed) {
            void waitFor(() => recordedPids(pids).length === 2).then(() => child.kill('SIGINT'))
          }
        },
      },
    )
    expect(run.code).toBe(130)
    expect(run.stderr).toContain('interrupted')
    expect(listDir(run.parent)).toEqual([])
    const escaped = recordedPids(pids)
    expect(escaped).toHaveLength(2)
    await waitFor(() => escaped.every((pid) => !alive(pid)))
    for (const pid of escaped) expect(alive(pid), `pid ${pid}`).toBe(false)
  })

  it('on timeout kills even processes that left the process group', async () => {
    const pids = makeTemp()
    const run = await spawnBuild('hello-c', [
      '-o',
      'hello',
      // Long enough for run B to start 2.5 s after run A, and leave its process too.
      '--timeout',
      '4s',
      ...lingeringBuild(pids),
    ])
    expect(run.code).toBe(4)
    expect(listDir(run.parent)).toEqual([])
    const escaped = recordedPids(pids)
    expect(escaped).toHaveLength(2)
    await waitFor(() => escaped.every((pid) => !alive(pid)))
    for (const pid of escaped) expect(alive(pid), `pid ${pid}`).toBe(false)
  })

  it('on a terminal, shows a live line per run and colors the verdict unless NO_COLOR', async () => {
    const source = copyFixture('hello-c')
    const parent = makeTempParent()
    const command = `${process.execPath} ${BIN} build -C ${source} -o out.txt --temp-dir ${parent} -- sh -c 'echo step-one; sleep 1; echo done > out.txt'`
    // script(1) gives the command a real pseudo-terminal.
    const colored = await spawnCommand(['script', '-qec', command, '/dev/null'], {})
    expect(colored.code).toBe(0)
    expect(colored.stdout).toMatch(/run A running \d/)
    expect(colored.stdout).toContain('step-one')
    expect(colored.stdout).toContain('\u001b[2K')
    expect(colored.stdout).toContain('\u001b[32mreproducible')
    const plain = await spawnCommand(['script', '-qec', command, '/dev/null'], { NO_COLOR: '1' })
    expect(plain.code).toBe(0)
    expect(plain.stdout).toMatch(/reproducible under .*: 1 artifact\(s\)/)
    expect(plain.stdout).not.toContain('\u001b[32m')
    expect(listDir(parent)).toEqual([])
  })

  it('after a SIGKILL, the next build in the same place removes the orphaned workspace', async () => {
    const source = copyFixture('hello-c')
    const parent = makeTempParent()
    const killed = await spawnCli(
      ['build', '-C', source, '--temp-dir', parent, '-o', 'hello', '--', 'sleep', '60'],
      {
        onStderr: (text, child) => {
          if (text.includes('run B started') && !child.killed) child.kill('SIGKILL')
        },
      },
    )
    expect(killed.code).toBe(128 + 9)
    expect(listDir(parent)).toHaveLength(1)
    // A workspace kept on purpose is never taken for an orphan.
    const kept = await spawnCli([
      'build',
      '-C',
      source,
      '--temp-dir',
      parent,
      '--keep',
      '-o',
      'hello',
      '--',
      'make',
    ])
    expect(kept.code).toBe(0)
    const after = listDir(parent)
    expect(after).toHaveLength(1)
    expect(kept.stdout).toContain(`build roots kept in ${path.join(parent, after[0] ?? '')}`)
  })

  it.each([[[]], [['--no-sandbox']]])(
    'hands the build no descriptor its own caller left open (%j)',
    async (flags: string[]) => {
      // A caller's descriptor reached both runs: run A wrote a random value through it and
      // run B read it back, and the two "reproduced"; it also let the build write to a
      // host file past the read-only mounts.
      const dir = makeTemp()
      const chan = path.join(dir, 'chan')
      fs.writeFileSync(chan, '')
      const script =
        'if [ -e /proc/self/fd/20 ]; then echo handed > out.txt; echo seen >> /proc/self/fd/20; else echo clean > out.txt; fi'
      const source = copyFixture('hello-c')
      const out = path.join(dir, 'out')
      // prettier-ignore
      const run = await spawnProgram([
        'bash', '-c', 'exec "$@" 20<>"$0"', chan,
        process.execPath, BIN, 'build', '-C', source, '--temp-dir', makeTempParent(), '--out-dir', out,
        '--no-explain', ...flags, '-o', 'out.txt', '--', 'sh', '-c', script,
      ])
      expect(run.code, run.stderr).toBe(0)
      expect(fs.readFileSync(path.join(out, 'out.txt'), 'utf8')).toBe('clean\n')
      expect(fs.readFileSync(chan, 'utf8')).toBe('')
    },
  )

  it('leaves no temp dirs after a failing build', async () => {
    const run = await spawnBuild('hello-c', ['-o', 'hello', '--', 'false'])
    expect(run.code).toBe(3)
    expect(listDir(run.parent)).toEqual([])
  })

  it('keeps both roots with --keep when the build is not reproducible', async () => {
    const run = await spawnBuild('timestamp', ['-o', 'out/*', '--keep', '--json', '--', 'make'])
    expect(run.code).toBe(1)
    const result = JSON.parse(run.stdout) as { kept: string; runs: { root: string }[] }
    expect(listDir(run.parent)).toHaveLength(1)
    expect(result.kept.startsWith(run.parent)).toBe(true)
    for (const r of result.runs)
      expect(fs.existsSync(path.join(r.root, 'out', 'stamp.txt'))).toBe(true)
    // The text says where, and asks for no --keep it was given.
    const text = await spawnBuild('timestamp', [
      '-o',
      'out/*',
      '--keep',
      '--no-explain',
      '--',
      'make',
    ])
    expect(text.stdout).toContain('build roots kept in ')
    expect(text.stdout).not.toContain('use --keep')
  })
})

describe('reproof normalize after a SIGKILL', () => {
  it('leaves a temp file and a work dir, which the next normalize of the same file removes', async () => {
    const dir = makeTemp()
    const tmp = makeTempParent()
    // A tar of 512 MiB of zeros: long enough to be killed while its output is written.
    execFileSync('sh', ['-c', 'truncate -s 512M big && tar cf in.tar big && rm big'], { cwd: dir })
    const [input, output] = [path.join(dir, 'in.tar'), path.join(dir, 'out.tar')]
    const args = [BIN, 'normalize', '--epoch', '0', input, '-o', output]
    const env = { PATH: process.env.PATH ?? '', TMPDIR: tmp }
    const temps = () => listDir(dir).filter((f) => f.startsWith('.out.tar.reproof-'))
    const child = spawn(process.execPath, args, { env, stdio: 'ignore' })
    const closed = new Promise((resolve) => child.on('close', resolve))
    await waitFor(() => temps().some((f) => fs.statSync(path.join(dir, f)).size > 0))
    child.kill('SIGKILL')
    await closed
    expect(temps()).toHaveLength(1)
    expect(listDir(tmp).filter((f) => f.startsWith('reproof-normalize-'))).toHaveLength(1)
    // A temp file of a process that still runs (this one), and one of another pid
    // namespace, are not the next run's to remove.
    const own = ownedTempName('out.tar')
    const foreign = '.out.tar.reproof-o00000000.1.1.01234567'
    for (const name of [own, foreign]) fs.writeFileSync(path.join(dir, name), '')
    execFileSync('sh', ['-c', 'echo small > f && tar cf in.tar f'], { cwd: dir })
    const again = await spawnProgram([process.execPath, ...args], { env })
    expect(again.code, again.stderr).toBe(0)
    expect(temps().sort()).toEqual([own, foreign].sort())
    expect(listDir(tmp)).toEqual([])
  })
})
