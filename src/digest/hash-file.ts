import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'

// 1 MiB reads: large enough that syscalls vanish against hashing, small enough that
// memory stays flat whatever the file size.
const CHUNK = 1024 * 1024
// How long hashing may hold the event loop before it lets signals and timers run.
const SLICE_MS = 20

export interface FileDigest {
  sha256: string
  size: number
  /** The file's mode as opened (fstat): one stat fewer per file than asking again. */
  mode: number
}

// Below this many files, or this many bytes when the caller knows, a worker's start-up
// (30 to 50 ms here) costs more than it saves: 4,000 files of 1.6 KB hashed in 40 ms.
const MIN_FILES_FOR_WORKERS = 64
const MIN_BYTES_FOR_WORKERS = 64 * 1024 * 1024

/**
 * Hashes many files with synchronous reads into one reused buffer per thread: on
 * 20,000 files of 30 KB, promise-based reads spent 185 µs a file in scheduling alone,
 * twice the cost of hashing them. Large sets are shared with worker threads (one per
 * core besides this one, four threads at most): every thread takes the next file from
 * one shared counter, so this thread hashes while the workers start, and no thread
 * idles while another has a long file. Memory stays one buffer per thread.
 *
 * `helpers`, started by the caller before it knew the files (see HashHelpers), are used
 * if the work is worth them and released either way.
 */
export async function hashFiles(
  // A Buffer path (a name that is not UTF-8) reaches a worker as a Uint8Array, which fs
  // takes as a path just the same.
  files: readonly (string | Buffer)[],
  options: {
    totalBytes?: number
    helpers?: HashHelpers
    /** Files of a tree that may change: a link put in one's place is not followed (ELOOP). */
    noFollow?: boolean
  } = {},
): Promise<FileDigest[]> {
  const helpers = options.helpers ?? new HashHelpers(0)
  const flags = options.noFollow === true ? NO_FOLLOW : fs.constants.O_RDONLY
  try {
    const { totalBytes } = options
    // A few files are worth a worker when the caller knows they are large (two 50 MB
    // archives compared: each thread hashes one).
    const large = totalBytes !== undefined && totalBytes >= MIN_BYTES_FOR_WORKERS
    if (helperCount() < 1 || (files.length < MIN_FILES_FOR_WORKERS && !large))
      return await hashInThisThread(files, flags)
    if (totalBytes !== undefined && !large) return await hashInThisThread(files, flags)
    const work = new SharedWork(files, flags)
    // Sizes unknown (a walked tree, listed without a stat per file): the first files
    // hashed here say whether the rest is worth the workers.
    if (totalBytes !== undefined) work.hire(helpers)
    const buffer = Buffer.allocUnsafe(CHUNK)
    const clock = { last: performance.now() }
    let hashed = 0
    let bytes = 0
    try {
      for (let i = work.take(); i < files.length; i = work.take()) {
        const hashing = hashOne(files[i] ?? '', buffer, clock, flags)
        const digest = hashing instanceof Promise ? await hashing : hashing
        work.results[i] = digest
        hashed++
        bytes += digest.size
        const rest = files.length - i - 1
        if (hashed === MIN_FILES_FOR_WORKERS && (bytes / hashed) * rest >= MIN_BYTES_FOR_WORKERS)
          work.hire(helpers)
      }
    } catch (err) {
      work.stop(err)
    }
    return await work.finish()
  } finally {
    helpers.release()
  }
}

const helperCount = (): number => Math.min(os.availableParallelism(), 4) - 1

/**
 * Files hashed by worker threads alone, while this thread goes on with other work (a
 * comparison reading the same files); with no core to spare, here, between its reads.
 */
export async function hashFilesAside(files: readonly (string | Buffer)[]): Promise<FileDigest[]> {
  if (helperCount() < 1) return await hashInThisThread(files, fs.constants.O_RDONLY)
  const helpers = new HashHelpers(0)
  try {
    const work = new SharedWork(files, fs.constants.O_RDONLY)
    work.hire(helpers)
    return await work.finish()
  } finally {
    helpers.release()
  }
}

/**
 * Hash workers started ahead of their files: a worker takes 30 to 50 ms to start here,
 * which a caller can spend listing the files. Idle, a worker waits for its files and
 * holds the process open for nothing: it is unreferenced until it has work, and
 * `release` ends those never given any.
 */
export class HashHelpers {
  private readonly idle: Worker[] = []

  /** `count` workers (by default one per core besides this thread, four threads in all). */
  constructor(count = helperCount()) {
    for (let k = 0; k < count; k++) {
      const worker = startWorker()
      worker.unref()
      this.idle.push(worker)
    }
  }

  /** An idle worker, or a new one. */
  take(): Worker {
    const worker = this.idle.pop() ?? startWorker()
    worker.ref()
    return worker
  }

  release(): void {
    for (const worker of this.idle.splice(0)) worker.postMessage(null)
  }
}

/**
 * A hash worker. Its source is CommonJS, and a worker inherits the process's flags: under
 * `--input-type=module` (a script that imports reproof) it was read as a module, had no
 * `require`, and died before its first file. None are passed on; it needs none.
 */
function startWorker(): Worker {
  return new Worker(WORKER_SOURCE, { eval: true, execArgv: [] })
}

/** The files of one `hashFiles` call, a counter every thread takes the next from, and the digests. */
class SharedWork {
  readonly results: (FileDigest | undefined)[]
  private readonly next = new Int32Array(new SharedArrayBuffer(4))
  private readonly workers: Promise<void>[] = []
  private failure: { err: unknown } | undefined

  constructor(
    private readonly files: readonly (string | Buffer)[],
    private readonly flags: number,
  ) {
    this.results = new Array<FileDigest | undefined>(files.length)
  }

  take(): number {
    return Atomics.add(this.next, 0, 1)
  }

  /** Puts a worker per helper thread on the files (once). */
  hire(helpers: HashHelpers): void {
    if (this.workers.length > 0) return
    for (let k = 0; k < helperCount(); k++) this.workers.push(this.run(helpers.take()))
  }

  /** No thread takes another file; the first error is what `finish` throws. */
  stop(err: unknown): void {
    this.failure ??= { err }
    Atomics.store(this.next, 0, this.files.length)
  }

  /** Every digest, once every worker is done, or the first error (an unreadable file). */
  async finish(): Promise<FileDigest[]> {
    await Promise.all(this.workers)
    if (this.failure !== undefined) throw this.failure.err
    // A search in the engine rather than a copy made in script: 20,000 digests.
    const missing = this.results.indexOf(undefined)
    if (missing !== -1) throw new Error(`no digest for file ${missing}`)
    return this.results as FileDigest[]
  }

  // Never rejects: a worker's error stops the others and waits for `finish`, so that
  // no rejection goes unhandled while this thread is still hashing. Done once its
  // digests are in: its exit (15 to 20 ms of tearing down here) is not waited for.
  private run(worker: Worker): Promise<void> {
    return new Promise((resolve) => {
      worker.once('message', (done: WorkerDigests) => {
        for (let k = 0; k < done.at.length; k++) {
          this.results[done.at[k] ?? 0] = {
            sha256: done.hex.slice(k * 64, k * 64 + 64),
            size: done.sizes[k] ?? 0,
            mode: done.modes[k] ?? 0,
          }
        }
        worker.unref()
        resolve()
      })
      worker.once('error', (err) => {
        this.stop(err)
        resolve()
      })
      worker.once('exit', (code) => {
        if (code !== 0) this.stop(new Error(`hash worker exited with ${code}`))
        resolve()
      })
      worker.postMessage({ ...packPaths(this.files), next: this.next, flags: this.flags })
    })
  }
}

/**
 * A worker's digests, packed: the files' indexes, sizes and modes in typed arrays and
 * the hex digests in one string, 64 characters each. As 10,000 objects they took 20 ms
 * to copy from the worker, which this thread waited for at the end.
 */
interface WorkerDigests {
  at: Int32Array
  sizes: Float64Array
  modes: Uint32Array
  hex: string
}

/**
 * The paths, packed for a worker: text paths in one string, split at NUL (which no path
 * holds), and the few Buffer paths (names that are not UTF-8) by index. 20,000 strings
 * took 6 ms to copy one by one.
 */
function packPaths(files: readonly (string | Buffer)[]): {
  joined: string
  raw: [number, Uint8Array][]
} {
  const raw: [number, Uint8Array][] = []
  const texts = files.map((file, i) => {
    // The separator: a path holding one would shift every later index, and so digests.
    if (typeof file === 'string' && file.includes('\0'))
      throw new Error(`a path to hash holds a NUL byte: ${JSON.stringify(file)}`)
    if (typeof file === 'string') return file
    raw.push([i, file])
    return ''
  })
  return { joined: texts.join('\0'), raw }
}

async function hashInThisThread(
  files: readonly (string | Buffer)[],
  flags: number,
): Promise<FileDigest[]> {
  const buffer = Buffer.allocUnsafe(CHUNK)
  const results: FileDigest[] = []
  const clock = { last: performance.now() }
  for (const file of files) {
    const hashing = hashOne(file, buffer, clock, flags)
    results.push(hashing instanceof Promise ? await hashing : hashing)
  }
  return results
}

// Plain CommonJS evaluated in the worker, so that it runs the same from compiled
// output and from sources under test, with no second file to ship. It repeats
// hashOne's loop: a worker cannot import the module that starts it without a file.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const fs = require('node:fs')
const crypto = require('node:crypto')
parentPort.once('message', (work) => {
  // null: released unused. Either way the worker ends once this listener is gone.
  if (work === null) return
  const files = work.joined.split('\\0')
  for (const [i, bytes] of work.raw) files[i] = bytes
  const done = hashShare(files, work.next, work.flags)
  parentPort.postMessage(done, [done.at.buffer, done.sizes.buffer, done.modes.buffer])
})
function hashShare(files, next, flags) {
  const buffer = Buffer.allocUnsafe(${CHUNK})
  const at = [], sizes = [], modes = [], hex = []
  for (let i = Atomics.add(next, 0, 1); i < files.length; i = Atomics.add(next, 0, 1)) {
    const fd = fs.openSync(files[i], flags)
    try {
      const { mode, size: statSize } = fs.fstatSync(fd)
      const first = fs.readSync(fd, buffer, 0, buffer.length, null)
      let size = first
      let digest
      if (first < buffer.length && size >= statSize) {
        digest = crypto.hash('sha256', buffer.subarray(0, first))
      } else {
        const hash = crypto.createHash('sha256').update(buffer.subarray(0, first))
        for (;;) {
          const n = fs.readSync(fd, buffer, 0, buffer.length, null)
          if (n === 0) break
          hash.update(buffer.subarray(0, n))
          size += n
          if (n < buffer.length && size >= statSize) break
        }
        digest = hash.digest('hex')
      }
      at.push(i)
      sizes.push(size)
      modes.push(mode)
      hex.push(digest)
    } finally {
      fs.closeSync(fd)
    }
  }
  return {
    at: Int32Array.from(at),
    sizes: Float64Array.from(sizes),
    modes: Uint32Array.from(modes),
    hex: hex.join(''),
  }
}
`

export async function hashFile(file: string | Buffer): Promise<FileDigest> {
  return await hashOne(
    file,
    Buffer.allocUnsafe(CHUNK),
    { last: performance.now() },
    fs.constants.O_RDONLY,
  )
}

// A file that is not a regular one (a FIFO put in its place) is not waited on.
const NO_FOLLOW = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK

/**
 * One file's digest: at once when it fits one read (most files of a tree), so that a
 * tree of small files costs no promise and no await per file; a promise for a longer
 * one, which lets signals and timers in between reads.
 */
function hashOne(
  file: string | Buffer,
  buffer: Buffer,
  clock: { last: number },
  flags: number,
): FileDigest | Promise<FileDigest> {
  const fd = fs.openSync(file, flags)
  // Once the rest is read asynchronously, that reading closes the file.
  let handedOver = false
  try {
    const { mode, size: statSize } = fs.fstatSync(fd)
    // Most files of a tree fit one read, and a short read at or past the size fstat
    // gave is the end: hashed in one call, with no hash object to make and collect and
    // no read to be told 0 (a third of a small file's system calls).
    const first = fs.readSync(fd, buffer, 0, buffer.length, null)
    if (first < buffer.length && first >= statSize)
      return { sha256: crypto.hash('sha256', buffer.subarray(0, first)), size: first, mode }
    handedOver = true
    return hashRest(fd, buffer, clock, { first, statSize, mode }).finally(() => {
      fs.closeSync(fd)
    })
  } finally {
    if (!handedOver) fs.closeSync(fd)
  }
}

async function hashRest(
  fd: number,
  buffer: Buffer,
  clock: { last: number },
  { first, statSize, mode }: { first: number; statSize: number; mode: number },
): Promise<FileDigest> {
  const hash = crypto.createHash('sha256').update(buffer.subarray(0, first))
  let size = first
  for (;;) {
    const bytesRead = fs.readSync(fd, buffer, 0, buffer.length, null)
    if (bytesRead === 0) break
    hash.update(buffer.subarray(0, bytesRead))
    size += bytesRead
    if (bytesRead < buffer.length && size >= statSize) break
    if (performance.now() - clock.last > SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve))
      clock.last = performance.now()
    }
  }
  return { sha256: hash.digest('hex'), size, mode }
}
