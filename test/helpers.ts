import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import { GENESIS, type LedgerRecord } from '../src/gate/decide.js'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { main } from '../src/cli/main.js'
import { ReproofError } from '../src/errors.js'

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const BIN = path.join(REPO, 'bin', 'reproof.js')

const cleanups: string[] = []

/** A fresh directory that the caller owns; removed by `cleanupTemp`. */
export function makeTemp(prefix = 'reproof-test-', parent = os.tmpdir()): string {
  const dir = fs.mkdtempSync(path.join(parent, prefix))
  cleanups.push(dir)
  return dir
}

/** A parent for build roots on tmpfs (listing order follows creation order there). */
export function makeTempParent(): string {
  return makeTemp('parent-', fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir())
}

/**
 * Runs `fn` with a temporary directory of its own (TMPDIR), and returns that directory:
 * gates in other test files run meanwhile, so leftovers are counted there alone.
 */
export async function withOwnTmpdir(fn: () => Promise<void>): Promise<string> {
  const saved = process.env.TMPDIR
  const own = makeTemp()
  process.env.TMPDIR = own
  try {
    await fn()
  } finally {
    // Assigning undefined would set the text "undefined".
    if (saved === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = saved
  }
  return own
}

export function cleanupTemp(): void {
  // Retried: a process a test killed may finish its last system call (a file made) while
  // the directory is emptied.
  for (const dir of cleanups.splice(0))
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
}

/** Copies a fixture project into a temp dir, so that tests never write into fixtures/. */
export function copyFixture(name: string): string {
  const dir = path.join(makeTemp(), name)
  fs.cpSync(path.join(REPO, 'fixtures', name), dir, { recursive: true })
  return dir
}

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** Runs the CLI in-process, with its own streams and environment. */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const code = await main(['node', 'reproof', ...args], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { PATH: process.env.PATH, ...env },
  })
  return { code, stdout, stderr }
}

/**
 * A key pair `dir`/k, and a twin build of `source` by `make` into `dir`/out, its artifact
 * `hello` signed with that key into `dir`/bundle.json as `builder`.
 */
export async function signedMakeBuild(
  source: string,
  dir: string,
  builder: string,
): Promise<{ run: CliRun; bundle: string; pub: string; artifact: string }> {
  await runCli(['keygen', '--out', path.join(dir, 'k')])
  const bundle = path.join(dir, 'bundle.json')
  // prettier-ignore
  const run = await runCli([
    'build', '-C', source, '-o', 'hello', '--out-dir', path.join(dir, 'out'),
    '--temp-dir', makeTempParent(), '--bundle', bundle, '--key', path.join(dir, 'k.key'),
    '--builder-id', builder, '--', 'make',
  ])
  return { run, bundle, pub: path.join(dir, 'k.pub'), artifact: path.join(dir, 'out', 'hello') }
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv
  /** Where it runs (default: the tests' own directory). */
  cwd?: string
  onStderr?: (text: string, child: ReturnType<typeof spawn>) => void
  /** Sends SIGTERM this long after the start, as a CI runner cancelling a step does. */
  killAfterMs?: number
  /**
   * Sends SIGTERM once this holds (asked every 10 ms): at a point of the work, not of the
   * clock, which a loaded machine reaches before the program has even started.
   */
  killWhen?: () => boolean
}

/** Spawns the real executable. */
export function spawnCli(args: string[], options: SpawnOptions = {}): Promise<CliRun> {
  return spawnProgram([process.execPath, BIN, ...args], options)
}

/** Spawns a program (which may itself run the executable), collecting its output. */
export function spawnProgram(argv: string[], options: SpawnOptions = {}): Promise<CliRun> {
  const [file = '', ...args] = argv
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      env: options.env ?? { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    const timer =
      options.killAfterMs === undefined
        ? undefined
        : setTimeout(() => child.kill('SIGTERM'), options.killAfterMs)
    const poll =
      options.killWhen === undefined
        ? undefined
        : setInterval(() => {
            if (options.killWhen?.() !== true) return
            clearInterval(poll)
            child.kill('SIGTERM')
          }, 10)
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      options.onStderr?.(stderr, child)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      clearInterval(poll)
      resolve({
        code: code ?? (signal === null ? -1 : 128 + os.constants.signals[signal]),
        stdout,
        stderr,
      })
    })
  })
}

export function listDir(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir) : []
}

/** Runs git with a fixed identity; `env` can pin commit dates. */
export function git(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  input?: string | Buffer,
): string {
  return execFileSync('git', args, {
    cwd,
    ...(input === undefined ? {} : { input }),
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.invalid',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.invalid',
      ...env,
    },
    encoding: 'utf8',
  })
}

/** The code of the ReproofError `f` throws, or undefined when it throws nothing. */
export function codeOf(f: () => unknown): string | undefined {
  try {
    f()
    return undefined
  } catch (err) {
    return err instanceof ReproofError ? err.code : 'not a ReproofError'
  }
}

/** What `f` throws, or undefined when it returns. */
export function thrown(f: () => void): unknown {
  try {
    f()
  } catch (err) {
    return err
  }
  return undefined
}

/** The first record of a ledger: a deploy to prod, `over` changing any field. */
export function firstLedgerRecord(over: Partial<LedgerRecord> = {}): LedgerRecord {
  return {
    seq: 1,
    env: 'prod',
    action: 'deploy',
    digest: 'a'.repeat(64),
    bundleDigest: 'b'.repeat(64),
    prev: GENESIS,
    at: '2026-01-01T00:00:00.000Z',
    actor: 'ci',
    ...over,
  }
}

/**
 * A zip rearranged the way Mozilla's build optimizes jars (omni.ja): a 4-byte
 * read-ahead length, the central directory and its end record, then the members, each
 * central entry's offset moved by what now comes before them. `zip` must have no
 * prefix, no zip64 records and no comment after its end record's fixed part.
 */
export function toMozillaZip(zip: Buffer, readAhead = 0, gap = Buffer.alloc(0)): Buffer {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 5, 6]))
  const size = zip.readUInt32LE(end + 12)
  const offset = zip.readUInt32LE(end + 16)
  const central = Buffer.from(zip.subarray(offset, offset + size))
  const record = Buffer.from(zip.subarray(end, end + 22))
  // `gap`: bytes between the end record and the first member, which no member owns.
  const shift = 4 + size + record.length + gap.length
  for (let at = 0; at < central.length;) {
    central.writeUInt32LE(central.readUInt32LE(at + 42) + shift, at + 42)
    at +=
      46 +
      central.readUInt16LE(at + 28) +
      central.readUInt16LE(at + 30) +
      central.readUInt16LE(at + 32)
  }
  record.writeUInt32LE(4, 16)
  const head = Buffer.alloc(4)
  head.writeUInt32LE(readAhead, 0)
  return Buffer.concat([head, central, record, gap, zip.subarray(0, offset)])
}

/** Every Python 3 on PATH that this machine has (python3 at least), by version. */
export function pythons(): string[] {
  const found = new Map<string, string>()
  for (const name of ['python3', ...Array.from({ length: 10 }, (_, i) => `python3.${i + 6}`)]) {
    try {
      const version = execFileSync(name, ['-c', 'import sys; print(sys.version_info[1])'], {
        encoding: 'utf8',
      }).trim()
      if (!found.has(version)) found.set(version, name)
    } catch {
      // Not installed.
    }
  }
  return [...found.values()]
}

/**
 * Runs a Python script in `dir`, with test/rawtar.py importable (`from rawtar import
 * member, ext, rec, END`): tars put together by hand.
 */
export function python(dir: string, script: string): void {
  execFileSync('python3', ['-c', script], {
    cwd: dir,
    env: { ...process.env, PYTHONPATH: path.join(REPO, 'test') },
  })
}
