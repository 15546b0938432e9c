import { runCaptured, sweepStaleFaketimeMemory } from './process.js'
import { findOnPath } from '../find-on-path.js'

/**
 * How run B gets a shifted wall clock from libfaketime without hanging the toolchains
 * that are known to hang under it. Every setting below was measured on Debian 12
 * (glibc 2.36, libfaketime 0.9.10) and against libfaketime 0.9.12 built from source,
 * with rustc 1.95, OpenJDK 17 and Go 1.19; the numbers quoted are from those runs.
 *
 * What stays shifted under these settings: date, time(), gettimeofday(),
 * clock_gettime(CLOCK_REALTIME), __DATE__ (when SOURCE_DATE_EPOCH is unset),
 * SystemTime::now() in build scripts and Rust programs, System.currentTimeMillis() in
 * the JVM, and the time that `touch` (utime with "now") writes to disk. What is not:
 * the modification time the kernel gives a file on write(), and anything Go reads, as
 * the Go runtime asks the kernel for the time without going through libc.
 */

/** What the capability probe found out about libfaketime. */
export interface Faketime {
  /** The `faketime` wrapper program: it finds the library and sets LD_PRELOAD. */
  wrapper: string
  /** libfaketime's version as the wrapper reports it ("0.9.10"), when it says. */
  version: string | undefined
  /**
   * Symbols libfaketime looks up at start-up and cannot find here. Versions 0.9.11 and
   * later report them under FAKETIME_DEBUG_DLSYM=1; older ones report nothing.
   */
  missingSymbols: readonly string[]
  /**
   * Programs on the caller's PATH that this libfaketime would hang, by absolute path:
   * run them on the real clock (see realClockShims). Empty when libfaketime can be told
   * to skip the look-ups that hang them.
   */
  realClockFor: readonly { name: string; path: string }[]
  /**
   * Toolchains on the caller's PATH whose programs never see libfaketime's clock: Go's
   * runtime reads the time from the kernel (the vDSO), not through libc.
   */
  unreachable: readonly string[]
}

/** The environment run B needs on top of its own, for the given libfaketime. */
export function faketimeEnvironment(faketime: Faketime): Record<string, string> {
  const env: Record<string, string> = {
    // Leave CLOCK_MONOTONIC alone. Programs hand absolute monotonic deadlines to calls
    // libfaketime does not intercept (pthread_cond_clockwait, which libstdc++'s
    // std::condition_variable::wait_for uses, futexes); with a faked monotonic clock a
    // one-second wait_for did not return within 5 s at +397d or at -397d.
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
    // With the monotonic clock left alone, libfaketime's own pthread_cond_timedwait must
    // not "fix" monotonic deadlines: it does so by default on glibc 2.30 and later and
    // then every timed wait on a CLOCK_MONOTONIC condition variable returns at once.
    // The JVM parks that way: Thread.sleep busy-waits (1 s of sleep cost 1.4 s of CPU),
    // Object.wait(1000) returned after about 0.1 s, and compiling one class with javac
    // took 10 to 24 s instead of 1 s. With the fix off, all three behave as outside.
    FAKETIME_FORCE_MONOTONIC_FIX: '0',
    // File times are facts on disk, not readings of the clock. With stat faking on, a
    // program calling plain stat() (no 64-bit file offsets) saw every mtime 397 days
    // later, the source files' SOURCE_DATE_EPOCH included, while stat64/statx callers
    // (coreutils, Perl, Python, the JVM, Rust) saw the disk: a build that clamps its
    // mtimes would differ between the runs for libfaketime's sake alone. (Any value
    // turns stat faking off, "0" included.)
    NO_FAKE_STAT: '1',
    // utime/utimensat: "now" becomes the shifted now (touch writes a date 397 days
    // ahead), explicit times are written as given. FAKE_UTIME=1 would write them shifted
    // back by 397 days: `touch -d @$SOURCE_DATE_EPOCH` would no longer give the epoch.
    FAKE_UTIME: '0',
    // The shared memory of the faketime wrapper only matters for start-at dates and
    // clock rates, not for a plain offset. Attaching to it at start-up (sem_open)
    // allocates memory, which is the second half of the rustc deadlock below.
    FAKETIME_DISABLE_SHM: '1',
  }
  // rustc brings its own jemalloc, whose first allocation, made by a static constructor
  // in libLLVM before libfaketime's own constructor has run, reads the clock while it
  // holds jemalloc's init lock. libfaketime then initialises itself: each dlsym() of a
  // symbol glibc does not have builds an error message with malloc(), which waits for
  // that same lock, forever (`rustc --version` and `cargo build` never return under
  // libfaketime 0.9.10 whatever its settings). From 0.9.11 on, libfaketime can skip
  // the look-ups it is told will fail, and with shared memory off as well, rustc
  // starts in 0.1 to 0.5 s and `cargo build --release` of a small crate takes 2.4 s.
  if (faketime.missingSymbols.length > 0)
    env.FAKETIME_IGNORE_SYMBOLS = faketime.missingSymbols.join(',')
  return env
}

/**
 * The argument vector that starts run B's command under libfaketime.
 *
 * The wrapper, not a bare LD_PRELOAD: 0.9.10 cannot do without shared memory, and the
 * wrapper owns it and removes it at the end, where every exec'ing shell would leak one.
 * The wrapper also waits for every process that inherited its keep-alive pipe, and a
 * daemon a build leaves behind (a Gradle daemon, a compiler server) inherits it too:
 * a background `sleep 8` kept it waiting 8 s. So the first thing under the wrapper
 * closes the descriptors above stderr, which at that point are only the wrapper's.
 */
export function faketimeLauncher(faketime: Faketime, offset: string): string[] {
  return [
    faketime.wrapper,
    '-f',
    offset,
    '/bin/sh',
    '-c',
    'exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- && exec "$@"',
    'reproof-faketime',
  ]
}

/**
 * Programs libfaketime is known to deadlock at start-up unless it can skip the symbol
 * look-ups that fail (0.9.11 and later, with FAKETIME_IGNORE_SYMBOLS; see above).
 * Running them on the real clock costs the variation little: rustc's own output
 * carries no clock reading unless a build script or a macro puts one there, and build
 * scripts, run by cargo, still see the shifted clock.
 */
const DEADLOCKED_WITHOUT_SKIPPING = ['rustc']

/** Toolchains whose programs read the clock without libc, so without libfaketime. */
const UNREACHABLE = ['go']

export interface FaketimeProbe {
  /** Installed and shifting the clock. */
  faketime: Faketime | undefined
  /** Why an installed libfaketime is not to be used. */
  refused?: string
}

/**
 * Finds libfaketime's wrapper and checks that it really shifts the clock (a broken
 * preload would make the variation a lie), learns which start-up look-ups fail, and
 * which programs on the caller's PATH must therefore run on the real clock.
 */
export async function probeFaketime(
  offsetSeconds: number,
  env: NodeJS.ProcessEnv,
): Promise<FaketimeProbe> {
  const wrapper = 'faketime'
  const about = await runCaptured([wrapper, '--version'], { env, timeoutMs: 10_000 })
  if (about.code !== 0) return { faketime: undefined }
  const version = /Version ([0-9][0-9.]*)/.exec(about.stdout)?.[1]
  const unprobed: Faketime = {
    wrapper,
    version,
    missingSymbols: [],
    realClockFor: [],
    unreachable: [],
  }
  const offset = `+${offsetSeconds}`
  const launcher = faketimeLauncher(unprobed, offset)
  const probeEnv = { ...env, ...faketimeEnvironment(unprobed), FAKETIME_DEBUG_DLSYM: '1' }
  await sweepStaleFaketimeMemory()
  const clock = await runCaptured([...launcher, 'date', '+%s'], {
    env: probeEnv,
    timeoutMs: 10_000,
  })
  const shifted = Number(clock.stdout.trim()) - Math.floor(Date.now() / 1000)
  if (clock.code !== 0 || !(shifted > offsetSeconds - 30 * 86_400)) {
    // The wrapper without its preload library: libfaketime is not installed.
    if (clock.stderr.includes('cannot be preloaded')) return { faketime: undefined }
    // Installed but not working is not "not installed": say what it printed.
    const said =
      lastLine(clock.stderr) ?? (clock.code === 0 ? 'the real time' : `exit ${clock.code}`)
    return {
      faketime: undefined,
      refused: `libfaketime did not shift the clock (faketime -f ${offset} date: ${said})`,
    }
  }
  const missingSymbols = parseMissingSymbols(clock.stderr)
  const realClockFor =
    missingSymbols.length > 0
      ? []
      : DEADLOCKED_WITHOUT_SKIPPING.flatMap((name) => {
          const found = findOnPath(name, env.PATH)
          return found === undefined ? [] : [{ name, path: found }]
        })
  const unreachable = UNREACHABLE.filter((name) => findOnPath(name, env.PATH) !== undefined)
  return { faketime: { ...unprobed, missingSymbols, realClockFor, unreachable } }
}

function lastLine(text: string): string | undefined {
  const lines = text.split('\n').filter((line) => line.trim() !== '')
  return lines.at(-1)?.trim()
}

/**
 * Scripts, named as the programs they stand for, that run each program of
 * `realClockFor` without libfaketime: a directory of them goes first on the build's
 * PATH. cargo finds rustc on PATH, so a Rust build goes through them.
 */
export function realClockShims(faketime: Faketime): { name: string; content: string }[] {
  return faketime.realClockFor.map(({ name, path: real }) => ({
    name,
    content: `#!/bin/sh\n# libfaketime${faketime.version === undefined ? '' : ` ${faketime.version}`} deadlocks ${name} at start-up: it runs on the real clock.\nunset LD_PRELOAD\nexec '${real.replace(/'/g, "'\\''")}' "$@"\n`,
  }))
}

/** The symbols named by FAKETIME_DEBUG_DLSYM's "Cannot find symbol" lines, each once. */
export function parseMissingSymbols(stderr: string): string[] {
  const found = stderr
    .split('\n')
    .map((line) => /^\[FAKETIME_DEBUG_DLSYM\] Cannot find symbol: (\S+)$/.exec(line.trim())?.[1])
    .filter((s): s is string => s !== undefined)
  return [...new Set(found)]
}
