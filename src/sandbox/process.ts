import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import fsp from 'node:fs/promises'

/** The only module that starts processes: small queries, and build runs. */

export interface CapturedResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** True when the process could not be started at all (ENOENT, EACCES). */
  failedToStart: boolean
}

// Queries (git, probes) print little; more than this is not the answer we expect.
const MAX_CAPTURE_BYTES = 16 * 1024 * 1024

/** Runs a short query command and captures its output, with a hard time limit. */
export function runCaptured(
  argv: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<CapturedResult> {
  const [file, ...args] = argv
  if (file === undefined) throw new TypeError('runCaptured: empty argv')
  return new Promise((resolve) => {
    let child: ChildProcess
    try {
      child = spawn(file, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      })
    } catch {
      resolve({ code: null, signal: null, stdout: '', stderr: '', failedToStart: true })
      return
    }
    const out: Buffer[] = []
    const err: Buffer[] = []
    let size = 0
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_CAPTURE_BYTES) child.kill('SIGKILL')
      else into.push(chunk)
    }
    child.stdout?.on('data', collect(out))
    child.stderr?.on('data', collect(err))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000)
    let failedToStart = false
    child.on('error', () => {
      failedToStart = true
    })
    child.stdin?.on('error', () => undefined)
    child.stdin?.end(options.input ?? '')
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        failedToStart,
      })
    })
  })
}

export interface BuildProcessOptions {
  argv: readonly string[]
  cwd: string
  env: Record<string, string>
  stdoutLog: string
  stderrLog: string
  /** Called with each complete line the build prints, for the live status. */
  onLine?: (line: string) => void
}

export interface BuildProcess {
  pid: number | undefined
  /** Resolves when the process has exited and its logs are flushed. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: string }>
  /** Kills the whole process group, then whatever is left that carries `marker`. */
  kill(): Promise<void>
}

/**
 * Starts a build command in its own process group, so that a timeout or Ctrl-C can
 * stop everything it started, and streams its output into log files.
 */
export function startBuildProcess(options: BuildProcessOptions, marker: string): BuildProcess {
  const [file, ...args] = options.argv
  if (file === undefined) throw new TypeError('startBuildProcess: empty argv')
  const stdout = fs.openSync(options.stdoutLog, 'w')
  const stderr = fs.openSync(options.stderrLog, 'w')
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines = lineSplitter(options.onLine)
  const pump = (stream: NodeJS.ReadableStream | null, fd: number): Promise<void> =>
    new Promise((resolve) => {
      if (stream === null) {
        resolve()
        return
      }
      stream.on('data', (chunk: Buffer) => {
        fs.writeSync(fd, chunk)
        lines(chunk)
      })
      stream.on('end', resolve)
      stream.on('error', () => {
        resolve()
      })
    })
  const pumps = Promise.all([pump(child.stdout, stdout), pump(child.stderr, stderr)])
  let spawnError: string | undefined
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err) => {
      spawnError = err.message
      resolve({ code: null, signal: null })
    })
    child.on('exit', (code, signal) => {
      resolve({ code, signal })
    })
  })
  const done = (async () => {
    const status = await exited
    // Output pipes may be held open by a daemonised grandchild; do not wait forever.
    await Promise.race([pumps, delay(2000)])
    fs.closeSync(stdout)
    fs.closeSync(stderr)
    return spawnError === undefined ? status : { ...status, error: spawnError }
  })()
  return {
    pid: child.pid,
    done,
    async kill() {
      if (child.pid !== undefined) {
        signalGroup(child.pid, 'SIGTERM')
        const quit = await Promise.race([exited.then(() => true), delay(3000).then(() => false)])
        if (!quit) signalGroup(child.pid, 'SIGKILL')
        signalGroup(child.pid, 'SIGKILL')
      }
      await killMarked(marker)
      if (child.pid !== undefined) await removeFaketimeMemory(child.pid)
    },
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // The group is already gone.
  }
}

/**
 * A build may start processes that leave its process group (setsid, daemons). Each
 * run's environment holds a unique HOME, so any process still carrying it is ours.
 */
async function killMarked(marker: string): Promise<void> {
  let pids: string[]
  try {
    pids = (await fsp.readdir('/proc')).filter((p) => /^[0-9]+$/.test(p))
  } catch {
    return // no /proc: the process group kill is all we can do
  }
  const needle = Buffer.from(`\0${marker}\0`)
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue
    try {
      const environ = await fsp.readFile(`/proc/${pid}/environ`)
      if (Buffer.concat([Buffer.from('\0'), environ]).includes(needle))
        process.kill(Number(pid), 'SIGKILL')
    } catch {
      // Gone, or not ours to read.
    }
  }
}

/** The faketime wrapper removes its shared memory on exit, but not when killed. */
async function removeFaketimeMemory(pid: number): Promise<void> {
  await fsp.rm(`/dev/shm/faketime_shm_${pid}`, { force: true })
  await fsp.rm(`/dev/shm/sem.faketime_sem_${pid}`, { force: true })
}

function lineSplitter(onLine: ((line: string) => void) | undefined): (chunk: Buffer) => void {
  if (onLine === undefined) return () => undefined
  let pending = ''
  return (chunk) => {
    pending += chunk.toString('utf8')
    const parts = pending.split('\n')
    pending = parts.pop() ?? ''
    if (pending.length > 4096) pending = pending.slice(-4096)
    for (const line of parts) if (line.trim() !== '') onLine(line)
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
