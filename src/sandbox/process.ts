import { execFileSync, spawn, type ChildProcess } from '../child-process.js'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import { ReproofError } from '../errors.js'

/** Small queries, and build runs: the programs reproof starts, through src/child-process.ts. */

export interface CapturedResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  /** The same output as bytes, for output that is not text (a file's contents). */
  stdoutBytes: Buffer
  stderr: string
  /** True when the process could not be started at all (ENOENT, EACCES). */
  failedToStart: boolean
  pid: number | undefined
}

// Queries (git, probes) print little; more than this is not the answer we expect.
const MAX_CAPTURE_BYTES = 16 * 1024 * 1024

/**
 * Runs a short command to completion, synchronously, with exactly the environment given:
 * nothing is inherited that the caller did not pass. Returns its standard output; throws
 * Node's error (exit status, `stderr`) when it fails, outlives `timeoutMs` or prints more
 * than `maxBuffer`.
 */
export function runSync(
  argv: readonly string[],
  options: {
    env: Readonly<Record<string, string | undefined>>
    input?: string | Buffer
    timeoutMs: number
    maxBuffer: number
  },
): Buffer {
  const [file, ...args] = argv
  if (file === undefined) throw new TypeError('runSync: empty argv')
  return execFileSync(file, args, {
    // stdio given either way: without it, execFileSync also copies the child's stderr to
    // this process's, which reached the log unfiltered (in the Action, past the filter
    // that keeps workflow commands inert).
    ...(options.input === undefined
      ? { stdio: ['ignore', 'pipe', 'pipe'] }
      : { input: options.input, stdio: ['pipe', 'pipe', 'pipe'] }),
    env: options.env,
    timeout: options.timeoutMs,
    maxBuffer: options.maxBuffer,
  })
}

/**
 * Runs a short query command and captures its output, with a hard time limit. Past
 * `maxBytes` of standard output (16 MiB unless told), or 16 MiB of errors, it is killed: that is not the answer expected.
 */
export function runCaptured(
  argv: readonly string[],
  options: {
    cwd?: string
    env?: NodeJS.ProcessEnv
    timeoutMs?: number
    input?: string | Buffer
    maxBytes?: number
  } = {},
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
      resolve({
        code: null,
        signal: null,
        stdout: '',
        stdoutBytes: Buffer.alloc(0),
        stderr: '',
        failedToStart: true,
        pid: undefined,
      })
      return
    }
    const out: Buffer[] = []
    const err: Buffer[] = []
    const collect = (into: Buffer[], max: number) => {
      let size = 0
      return (chunk: Buffer) => {
        size += chunk.length
        if (size > max) child.kill('SIGKILL')
        else into.push(chunk)
      }
    }
    child.stdout?.on('data', collect(out, options.maxBytes ?? MAX_CAPTURE_BYTES))
    child.stderr?.on('data', collect(err, MAX_CAPTURE_BYTES))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000)
    let failedToStart = false
    child.on('error', () => {
      failedToStart = true
    })
    child.stdin?.on('error', () => undefined)
    child.stdin?.end(options.input ?? '')
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const stdoutBytes = Buffer.concat(out)
      resolve({
        code,
        signal,
        stdout: stdoutBytes.toString('utf8'),
        stdoutBytes,
        stderr: Buffer.concat(err).toString('utf8'),
        failedToStart,
        pid: child.pid,
      })
    })
  })
}

export interface BuildProcessOptions {
  argv: readonly string[]
  /** Absent inside the sandbox: the launcher enters the build root there. */
  cwd: string | undefined
  env: Record<string, string>
  stdoutLog: string
  stderrLog: string
  /** Called with each complete line the build prints, for the live status. */
  onLine?: (line: string) => void
  /**
   * Kills whatever the build left running once its command has ended and returns
   * their names; by default, its process group and every process carrying `marker`.
   */
  reap?: () => Promise<string[]>
}

export interface BuildStatus {
  code: number | null
  signal: NodeJS.Signals | null
  error?: string
  /** Names of the processes the build left running, killed when it ended. */
  leftovers: string[]
}

export interface BuildProcess {
  pid: number | undefined
  /** Resolves when the process has exited, its leftovers are killed and its logs flushed. */
  done: Promise<BuildStatus>
  /** Kills the whole process group, then whatever is left that carries `marker`. */
  kill(): Promise<void>
}

// Output still open this long after the leftovers were killed is not worth waiting for.
const PIPE_DRAIN_MS = 2000

/**
 * Starts a build command in its own process group, so that a timeout or Ctrl-C can
 * stop everything it started, and streams its output into log files. When the command
 * ends, nothing it started may outlive it: a daemon would hold the output pipes open
 * and could change the artifacts while they are hashed.
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
  const reap = options.reap ?? (() => reapGroup(child.pid, marker))
  const done = (async (): Promise<BuildStatus> => {
    const status = await exited
    const leftovers = await reap()
    if (child.pid !== undefined) await removeFaketimeMemory(child.pid)
    await Promise.race([pumps, delay(PIPE_DRAIN_MS)])
    fs.closeSync(stdout)
    fs.closeSync(stderr)
    return { ...status, leftovers, ...(spawnError === undefined ? {} : { error: spawnError }) }
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
      await reapGroup(child.pid, marker)
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
 * Outside the sandbox, what a build left running is found two ways: its process group,
 * and, for processes that left the group (setsid, daemons), the unique HOME every
 * run's environment holds.
 */
function reapGroup(group: number | undefined, marker: string): Promise<string[]> {
  const needle = Buffer.from(`\0${marker}\0`)
  return reapUntilGone(
    () =>
      findProcesses(async (pid) => {
        const stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8')
        // Fields after the command name, which may itself hold spaces and parentheses.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        if (group !== undefined && Number(fields[2]) === group) return true
        const environ = await fsp.readFile(`/proc/${pid}/environ`)
        return Buffer.concat([Buffer.from('\0'), environ]).includes(needle)
      }),
    (left) => {
      for (const p of left) {
        try {
          process.kill(p.pid, 'SIGKILL')
        } catch {
          // Gone meanwhile.
        }
      }
      return Promise.resolve()
    },
  )
}

// How long what a build left behind may take to die once killed. A killed process lives
// on until the kernel schedules it, which on a loaded machine takes a while; one that
// never dies (stuck in the kernel) or forks faster than it is killed fails the run.
const REAP_DEADLINE_MS = 10_000
// The pause before the listing that confirms an empty one: long enough for a process
// caught between fork and exec to be readable again.
const CONFIRM_MS = 20

/**
 * Lists what a build left running and kills it, again and again, until a listing finds
 * nothing. One listing is not enough: it can miss a process that is between fork and
 * exec (its environment unreadable for a moment, its group not yet left), and a process
 * sent SIGKILL is still listed until it has died. Nor is one empty listing: the process
 * it missed would go on running, so a second, a moment later, must find nothing too.
 * Returns the name of every process killed; throws when some are still running at the
 * deadline, because the outputs could then still change while they are hashed.
 */
export async function reapUntilGone(
  list: () => Promise<ProcessInfo[]>,
  kill: (left: ProcessInfo[]) => Promise<void>,
  deadlineMs = REAP_DEADLINE_MS,
): Promise<string[]> {
  const killed = new Map<number, string>()
  const start = performance.now()
  for (let pause = 5; ; pause = Math.min(pause * 2, 200)) {
    let left = await list()
    if (left.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, CONFIRM_MS))
      left = await list()
      if (left.length === 0) return [...killed.values()]
    }
    for (const p of left) if (!killed.has(p.pid)) killed.set(p.pid, p.name)
    if (performance.now() - start > deadlineMs) {
      const names = [...new Set(left.map((p) => p.name))].slice(0, 5)
      throw new ReproofError(
        'E_ENVIRONMENT',
        `the build left processes that could not be stopped (${names.join(', ')}); its outputs could still change, so nothing was compared`,
      )
    }
    await kill(left)
    // A timer that holds the process open: the build's own handles may all be closed.
    await new Promise((resolve) => setTimeout(resolve, pause))
  }
}

/**
 * libfaketime, preloaded, makes its shared memory in the first process it loads into
 * and never removes it. The launcher only execs, so that process is the one spawned.
 * (Inside the sandbox it lands on the run's private /dev/shm and goes with it.)
 */
export async function removeFaketimeMemory(pid: number): Promise<void> {
  for (const name of [`faketime_shm_${pid}`, `sem.faketime_sem_${pid}`])
    await removeOwnFile(`${SHARED_MEMORY}/${name}`)
}

const SHARED_MEMORY = '/dev/shm'
const FAKETIME_MEMORY = /^(?:faketime_shm_|sem\.faketime_sem_)([1-9][0-9]{0,9})$/

/**
 * Removes the shared memory libfaketime left behind for processes that are gone (a
 * wrapper killed by a timeout, a program that exec'd before its clean-up ran, earlier
 * runs of anything). libfaketime names it by its creator's PID and creates it with
 * O_EXCL: when a later process gets that PID, as it soon does where PIDs wrap at 32768,
 * the faketime wrapper stops with "shm_open: File exists" and the build fails for no
 * fault of its own. A name whose PID is running is left alone, whoever made it.
 */
export async function sweepStaleFaketimeMemory(): Promise<void> {
  let names: string[]
  try {
    names = await fsp.readdir(SHARED_MEMORY)
  } catch {
    return
  }
  for (const name of names) {
    const pid = FAKETIME_MEMORY.exec(name)?.[1]
    if (pid === undefined || fs.existsSync(`/proc/${pid}`)) continue
    await removeOwnFile(`${SHARED_MEMORY}/${name}`)
  }
}

/**
 * Only a plain file of this user's: another user's file under a reused PID is not ours,
 * and a failure to clean up is no reason to fail the build.
 */
async function removeOwnFile(file: string): Promise<void> {
  const uid = process.getuid?.()
  const stat = await fsp.lstat(file).catch(() => undefined)
  if (stat?.isFile() !== true || (uid !== undefined && stat.uid !== uid)) return
  await fsp.unlink(file).catch(() => undefined)
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

export interface Holder {
  pid: number | undefined
  /** The next line the holder printed; undefined once its output has ended. */
  nextLine(): Promise<string | undefined>
  exited: Promise<{ code: number | null; stderr: string }>
  /** Writes one line to its standard input. */
  send(line: string): void
  /** Closes its standard input (its signal to end), then kills it if it lingers. */
  close(): Promise<void>
}

/**
 * Starts a long-lived helper that reports on its standard output line by line and
 * ends when its standard input closes (the sandbox holder).
 */
export function startHolder(argv: readonly string[], env: Record<string, string>): Holder {
  const [file, ...args] = argv
  if (file === undefined) throw new TypeError('startHolder: empty argv')
  const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] })
  const lines: string[] = []
  const waiting: ((line: string | undefined) => void)[] = []
  let ended = false
  let pending = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8')
    const parts = pending.split('\n')
    pending = parts.pop() ?? ''
    for (const line of parts) {
      const waiter = waiting.shift()
      if (waiter === undefined) lines.push(line)
      else waiter(line)
    }
  })
  child.stdout.on('end', () => {
    ended = true
    for (const waiter of waiting.splice(0)) waiter(undefined)
  })
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 64 * 1024) stderr += chunk.toString('utf8')
  })
  child.stdin.on('error', () => undefined)
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => {
    child.on('error', (err) => {
      stderr += err.message
      resolve({ code: null, stderr })
    })
    child.on('close', (code) => {
      resolve({ code, stderr })
    })
  })
  return {
    pid: child.pid,
    nextLine: () => {
      const line = lines.shift()
      if (line !== undefined || ended) return Promise.resolve(line)
      return new Promise((resolve) => waiting.push(resolve))
    },
    exited,
    send(line) {
      child.stdin.write(`${line}\n`)
    },
    async close() {
      child.stdin.end()
      const quit = await Promise.race([exited.then(() => true), delay(5000).then(() => false)])
      if (!quit) child.kill('SIGKILL')
      await exited
    },
  }
}

export interface ProcessInfo {
  pid: number
  name: string
}

/** A process's state letter, from the text of its `stat`. */
const stateOf = (stat: string): string =>
  stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)

/**
 * Whether process `pid` of a /proc (the machine's, or a PID namespace's) runs. A zombie
 * holds nothing open, unless only its main thread has ended: a main thread that calls
 * pthread_exit shows `Z` while the process's other threads go on, holding what they
 * hold. Throws when the process is gone.
 */
export async function stillRunning(proc: string, pid: string): Promise<boolean> {
  if (stateOf(await fsp.readFile(`${proc}/${pid}/stat`, 'utf8')) !== 'Z') return true
  let threads: string[]
  try {
    threads = await fsp.readdir(`${proc}/${pid}/task`)
  } catch {
    return false
  }
  for (const tid of threads) {
    if (tid === pid) continue
    try {
      if (stateOf(await fsp.readFile(`${proc}/${pid}/task/${tid}/stat`, 'utf8')) !== 'Z')
        return true
    } catch {
      // ended meanwhile
    }
  }
  return false
}

/**
 * Running processes (by /proc) for which `select` holds (see stillRunning: a zombie
 * whose threads have all ended is not running; inside the sandbox only the namespace's
 * end reaps it). Processes that vanish meanwhile are skipped.
 */
export async function findProcesses(
  select: (pid: number) => Promise<boolean>,
): Promise<ProcessInfo[]> {
  let pids: number[]
  try {
    pids = (await fsp.readdir('/proc')).filter((p) => /^[0-9]+$/.test(p)).map(Number)
  } catch {
    return []
  }
  const found: ProcessInfo[] = []
  for (const pid of pids) {
    if (pid === process.pid) continue
    try {
      if (!(await stillRunning('/proc', String(pid)))) continue
      if (!(await select(pid))) continue
      const name = (await fsp.readFile(`/proc/${pid}/comm`, 'utf8')).trim()
      found.push({ pid, name })
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found
}
