import path from 'node:path'
import type { VariationName } from '../config/variations.js'
import { faketimeEnvironment, faketimeLauncher, realClockShims, type Faketime } from './faketime.js'
import type { AddressRandomization } from './address-randomization.js'

/**
 * Planning the two runs is pure: given the machine's capabilities and the directories
 * already chosen, it says exactly what each run gets. Probing and spawning live elsewhere.
 */

export type RunId = 'a' | 'b'

export interface RunLayout {
  id: RunId
  /** The run's private directory, holding everything below. */
  dir: string
  /** The build root: the snapshot of the source, where the command runs. */
  root: string
  home: string
  tmp: string
  stdoutLog: string
  stderrLog: string
}

export interface Capabilities {
  /** libfaketime, when installed and really shifting the clock. */
  faketime: Faketime | undefined
  /** Why an installed libfaketime is not used. */
  faketimeRefused?: string
  /** The per-run namespace sandbox (see namespace-sandbox.ts), or why it cannot be had. */
  sandbox: { available: true } | { available: false; reason: string }
  /** Rootless user and UTS namespaces work (unshare): the fallback's hostname and user. */
  namespaces: boolean
  taskset: boolean
  cpuCount: number
  /** An installed locale whose collation differs from C's, for the locale variation. */
  unusualLocale: string | undefined
  /** tzdata has run B's far zones by name (see FAR_ZONES). */
  zoneNames?: boolean
  uid: number
  gid: number
  /** The name of `uid` (USER and LOGNAME of run A, as a login would set them). */
  userName?: string
  /** Address-space randomization as the runs would inherit it (on where not said). */
  addressRandomization?: AddressRandomization
}

export interface RunSetup {
  id: RunId
  layout: RunLayout
  env: Record<string, string>
  /**
   * Argument vector that precedes the user's command: a user namespace, CPU pinning,
   * the clock, then a shell that sets the umask and enters the build root.
   */
  launcher: string[]
  creationOrder: 'ascending' | 'descending'
  /** Milliseconds after run A's start before run B may start (the file-times variation). */
  minStartGapMs: number
  /** Directories to create before the run (an extra PATH entry, HOME). */
  mkdirs: string[]
  /** Executable files to write before the run (the real-clock shims). */
  files: { path: string; content: string }[]
  /** Host and domain name the sandbox gives the run (sandbox only). */
  hostname: string
  domainname: string
  /**
   * The process IDs of the build start above this (sandbox only; 0: from 1, as the
   * kernel starts a PID namespace). Two fresh PID namespaces would otherwise hand both
   * runs the same IDs, and an ID written into an output would never differ.
   */
  firstPid: number
  /**
   * Inode numbers to take before the run's files are made (sandbox only): a fresh tmpfs
   * numbers its files from the same start, and both runs would get the same numbers.
   */
  inodeOffset: number
}

/**
 * One field says what became of a variation: `effective` (run B really saw a different
 * world, by construction or shown by a probe), `no-effect` (applied, but a probe saw no
 * difference on this machine), `not-applied` (the machine lacks what it needs: `note`
 * says what, `fix` how to get it). Only `effective` counts as varied.
 */
export type VariationStatus = 'effective' | 'no-effect' | 'not-applied'

export interface VariationRecord {
  name: VariationName
  status: VariationStatus
  a: string
  b: string
  note?: string
  fix?: string
  /**
   * What of the build an effective variation is known not to reach, short enough for the
   * verdict's one line (`not Go programs`): the note says it at length below, where it
   * was missed.
   */
  reach?: string
}

export interface PlanInput {
  variations: readonly VariationName[]
  capabilities: Capabilities
  /** Run each build in its own namespaces (decided from the capabilities and the flags). */
  sandbox: boolean
  layouts: { a: RunLayout; b: RunLayout }
  canary: string
  epoch: number
  path: string
  passThrough: Record<string, string>
}

export interface RunPlan {
  runs: { a: RunSetup; b: RunSetup }
  variations: VariationRecord[]
  /** Variations planned as effective that a probe must confirm (see judgeEffectiveness). */
  toConfirm: VariationName[]
}

// Far enough that the date, the day of the week and the month all differ; and the time
// of day too: whole days alone left `date +%H:%M` and __TIME__ the same in both runs.
const OFFSET = { days: 397, hours: 7, minutes: 13, seconds: 17 }
export const FAKETIME_OFFSET_SECONDS =
  ((OFFSET.days * 24 + OFFSET.hours) * 60 + OFFSET.minutes) * 60 + OFFSET.seconds
/** As the verdict and the record say it. */
export const FAKETIME_OFFSET_TEXT = `+${OFFSET.days} days ${OFFSET.hours} h ${OFFSET.minutes} min ${OFFSET.seconds} s`
const FAKETIME_OFFSET = `+${FAKETIME_OFFSET_SECONDS}`
// Stamps of one-second resolution (tar, gzip) differ when the runs start more than a
// second apart, and DOS times (zip, jar: two seconds) when more than two: a 1.1 s gap let
// a zip of generated files match in about half of the runs. The half second beyond two
// lets run A fall that far behind B (a cold cache) before file-time-drift.ts must say
// that a file's times were not varied: with 2.1 s it said so for one `make` in three.
const STAGGER_MS = 2500
const VARIED_UID = 4242

/**
 * The variables a variation leaves as the caller passed them (`--env`, the config's
 * `"env"`) rather than varying them: both runs keep the value, and the variation's
 * record says so. Every other variable a variation varies is set apart in run B
 * whatever run A was given.
 */
export const KEPT_WHEN_PASSED = {
  user: ['USER', 'LOGNAME'],
  // A shell's $HOSTNAME is the environment's when it has one, the kernel's name only
  // when not: given, a build that writes $HOSTNAME saw the same name in both runs.
  hostname: ['HOSTNAME'],
} as const satisfies Partial<Record<VariationName, readonly string[]>>

// How a variation's note says a variable the caller gave kept it from the build: the
// probe's "no difference" keeps the note, which says why.
const PASSED_TO_BOTH = 'as passed to both runs'

/** The part of a variation's note that names what the caller passed to both runs, as ` (…)`. */
function keptBy(note: string | undefined): string {
  if (note?.includes(PASSED_TO_BOTH) !== true) return ''
  const part = note.split('; ').find((p) => p.includes(PASSED_TO_BOTH)) ?? note
  return ` (${part})`
}

/**
 * Whether an OpenMP count (OMP_NUM_THREADS, OMP_THREAD_LIMIT) is one thread: run B's
 * count is 1, so a count of 1 given to run A leaves the CPU count the same in both, as
 * the runtimes take it: the first number of a list, spaces, a plus sign (libgomp reads
 * it with strtoul, which takes one; GNU nproc does not) and leading zeros aside.
 */
export function ompCountIsOne(value: string): boolean {
  return /^\s*\+?0*1\s*(,|$)/.test(value)
}

/** The variables that set OpenMP's thread count, which GNU nproc prints too. */
export const OMP_COUNTS = ['OMP_NUM_THREADS', 'OMP_THREAD_LIMIT'] as const
// Far from run A's zone: UTC+14, or UTC-12 when run A's zone (given with --env TZ) is
// already at +14. By name where the machine has tzdata (glibc reads the file; ICU, and
// so Node, and Java know the name themselves); in POSIX form where it has none, which
// glibc reads without tzdata but ICU-based runtimes ignore (they see UTC: said in a note).
const FAR_ZONES = { named: 'Etc/GMT-14', posix: '<+14>-14' }
const OTHER_FAR_ZONES = { named: 'Etc/GMT+12', posix: '<-12>+12' }
// Run A's names in the sandbox; the kernel's own default domain name is "(none)".
const FIXED_HOSTNAME = 'reproof'
const FIXED_DOMAINNAME = '(none)'
const NO_NAMESPACES =
  'user namespaces are not permitted here (unshare --user failed), so reproof could not give run B its own'
const NAMESPACES_FIX =
  'allow unprivileged user namespaces (sysctl kernel.apparmor_restrict_unprivileged_userns=0, or run where they are permitted)'

/**
 * Whether reproof sets this variable in run A itself, to this value where the value is
 * always one (baseEnv's, and the cpus variation's `-j`): what a record or a statement may
 * say came `from: "reproof"`. Another name (a `CFLAGS`), or another value (`MAKEFLAGS`
 * holding more than `-jN`), was not written by a build, and a rebuild would pass it over.
 */
export function setByReproof(name: string, value?: string): boolean {
  const form = SET_BY_REPROOF.get(name)
  if (form === undefined) return false
  return value === undefined || form === null || form.test(value)
}

// Each name, with the only form its value takes (null: the machine's or the run's own).
const SET_BY_REPROOF = new Map<string, RegExp | null>([
  ['PATH', null],
  ['TZ', /^UTC$/],
  ['LANG', /^C\.UTF-8$/],
  ['LC_ALL', /^C\.UTF-8$/],
  ['USER', null],
  ['LOGNAME', null],
  ['HOME', null],
  ['TMPDIR', null],
  ['SOURCE_DATE_EPOCH', /^[0-9]+$/],
  ['MAKEFLAGS', /^-j[0-9]+$/],
])

/** The environment every run starts from: nothing of the caller's but PATH and --env. */
export function baseEnvironment(input: {
  path: string
  home: string
  tmp: string
  epoch: number
  passThrough: Record<string, string>
  user: string
}): Record<string, string> {
  return {
    PATH: input.path,
    TZ: 'UTC',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    // A login sets them, and builds write them (a jar's Built-By): without them both
    // runs would write the same fallback, and the user variation would not reach them.
    USER: input.user,
    LOGNAME: input.user,
    ...input.passThrough,
    HOME: input.home,
    TMPDIR: input.tmp,
    SOURCE_DATE_EPOCH: String(input.epoch),
  }
}

/**
 * A zone's offset from UTC in hours at `at` (ms), when it can be told: a POSIX zone
 * (`<+14>-14`, `EST5EDT`: the standard offset, whose sign is west-positive) or one Intl
 * knows by name.
 */
export function offsetHours(given: string | undefined, at: number): number | undefined {
  if (given === undefined) return undefined
  // `:Zone` is the POSIX way to name a zone by its file; glibc reads it as `Zone`. A
  // zone file's path (`/usr/share/zoneinfo/Etc/GMT-14`) names the zone below zoneinfo/.
  const file = given.startsWith(':') ? given.slice(1) : given
  const below = /\/zoneinfo\/(?:posix\/|right\/)?(.+)$/.exec(file)
  const zone = file.startsWith('/') && below !== null ? (below[1] ?? file) : file
  const posix = /^(?:<[^>]*>|[A-Za-z]{3,})([+-]?)(\d{1,2})(?::(\d{2}))?/.exec(zone)
  if (posix !== null)
    return (posix[1] === '-' ? 1 : -1) * (Number(posix[2]) + Number(posix[3] ?? 0) / 60)
  try {
    const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
      .formatToParts(at)
      .find((p) => p.type === 'timeZoneName')?.value
    const m = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(name ?? '')
    if (m === null) return undefined
    return m[1] === undefined ? 0 : (m[1] === '-' ? -1 : 1) * (Number(m[2]) + Number(m[3]) / 60)
  } catch {
    return undefined
  }
}

/**
 * Run B's zone: at another offset than run A's (at the build's time and now), and where
 * one can, on another calendar day at the build's time. Zones 14 hours apart leave a
 * build that writes the local date of SOURCE_DATE_EPOCH alike for ten hours of every
 * day; of UTC+14 and UTC-12 (26 hours apart) one always moves the date.
 */
export function farZones(
  zoneA: string | undefined,
  epochMs: number,
  nowMs: number,
): { named: string; posix: string } {
  const candidates = [FAR_ZONES, OTHER_FAR_ZONES].filter(
    (zone) =>
      ![epochMs, nowMs].some((at) => offsetHours(zoneA, at) === offsetHours(zone.posix, at)),
  )
  const hoursA = offsetHours(zoneA ?? 'UTC', epochMs)
  const day = (hours: number | undefined): string | undefined =>
    hours === undefined
      ? undefined
      : new Date(epochMs + hours * 3_600_000).toISOString().slice(0, 10)
  return (
    candidates.find((zone) => day(offsetHours(zone.posix, epochMs)) !== day(hoursA)) ??
    candidates[0] ??
    FAR_ZONES
  )
}

/** What every variation's row is handed: the plan so far, and how to record. */
interface Planning {
  input: PlanInput
  caps: Capabilities
  layouts: PlanInput['layouts']
  canary: string
  a: RunSetup
  b: RunSetup
  record: (r: VariationRecord, confirm?: boolean) => void
  notApplied: (name: VariationName, value: string, note: string, fix?: string) => void
  /** Hostname and user need their own namespaces: the sandbox's, or unshare in the fallback. */
  hasNamespaces: boolean
}

/** What the rows decide about run B (and A's CPUs) that the launchers apply at the end. */
interface Varied {
  umaskB: string
  uidB: number
  gidB: number
  pinB: boolean
  fakeTimeB: string[]
}

type Applier = (name: VariationName, planning: Planning, out: Varied) => void

/** Host and domain names, from run B's own UTS namespace. */
const utsName: Applier = (name, { input, canary, b, record, notApplied, hasNamespaces }) => {
  const fixed = name === 'hostname' ? FIXED_HOSTNAME : FIXED_DOMAINNAME
  if (hasNamespaces) {
    const value = name === 'hostname' ? `reproof-${canary}` : `reproof-${canary}.invalid`
    if (name === 'hostname') b.hostname = value
    else b.domainname = value
    // Only the kernel's name moves: the files that name the machine are its own in both
    // runs, and a build that reads one sees the same name twice.
    const note =
      name === 'hostname'
        ? 'the kernel’s name only (uname -n, hostname, gethostname()): /etc/hostname, /etc/hosts and /etc/mailname are the machine’s in both runs'
        : 'the kernel’s NIS domain name only (domainname, uname): the DNS domain (hostname -d, dnsdomainname, /etc/resolv.conf) is the machine’s in both runs'
    const kept = name === 'hostname' && input.passThrough.HOSTNAME !== undefined
    record(
      {
        name,
        status: 'effective',
        a: input.sandbox ? fixed : 'the machine’s',
        b: value,
        note: kept
          ? `${note}; HOSTNAME ${PASSED_TO_BOTH}, not varied (a shell's $HOSTNAME is the one given)`
          : note,
        ...(kept ? { reach: 'not $HOSTNAME, passed to both runs' } : {}),
      },
      true,
    )
  } else {
    notApplied(name, 'the machine’s', NO_NAMESPACES, NAMESPACES_FIX)
  }
}

/**
 * How run B gets each variation, or why it cannot: one row per variation. Each row
 * changes the two runs' setups and records what was varied (or not, and why).
 */
const APPLY: Record<VariationName, Applier> = {
  path: (name, { layouts, record }) => {
    record({ name, status: 'effective', a: layouts.a.root, b: layouts.b.root })
  },
  time: (name, { caps, a, b, record, notApplied }, out) => {
    if (caps.faketime !== undefined) {
      // faketime.ts says why each setting is there. Set by the launcher, after the
      // namespaces are entered, so that nothing of it lands in the machine's /dev/shm.
      out.fakeTimeB = faketimeLauncher(caps.faketime, FAKETIME_OFFSET)
      Object.assign(b.env, faketimeEnvironment(caps.faketime))
      const shims = realClockShims(caps.faketime)
      // Each run gets the shims' directory in its own directory, beside its root: a build
      // that writes its PATH then differs between the runs (and is blamed on the clock,
      // without which there is no such directory). One directory for both, in the
      // workspace, had a new random name each invocation: both runs wrote the same PATH
      // and were called reproducible, though no other build would write that PATH again.
      for (const run of shims.length > 0 ? [a, b] : []) {
        const dir = path.join(run.layout.dir, 'real-clock')
        run.env.PATH = `${dir}:${run.env.PATH ?? ''}`
        run.mkdirs.push(dir)
        run.files.push(...shims.map((f) => ({ path: `${dir}/${f.name}`, content: f.content })))
      }
      const version = caps.faketime.version === undefined ? '' : ` ${caps.faketime.version}`
      record(
        {
          name,
          status: 'effective',
          a: 'real clock',
          b: `clock ${FAKETIME_OFFSET_TEXT} (libfaketime)`,
          // Always: what libfaketime cannot reach is not only what was found here.
          note: clockNote(
            shims.map((f) => f.name),
            caps.faketime.unreachable,
            version,
          ),
          // Go is here: a build that runs a Go program (`go run gen.go > out.txt`) writes
          // the real time in both runs, and reproduced "under time".
          ...(caps.faketime.unreachable.includes('go') ? { reach: 'not Go programs' } : {}),
        },
        true,
      )
    } else {
      notApplied(
        name,
        'real clock',
        `${caps.faketimeRefused ?? 'libfaketime is not installed'}, so the clock was not varied`,
        caps.faketimeRefused === undefined
          ? 'install libfaketime (apt-get install faketime, dnf install libfaketime, brew install libfaketime)'
          : undefined,
      )
    }
  },
  'file-times': (name, { b, record }) => {
    // The kernel stamps the files a build writes with the real time, whatever
    // libfaketime says, and no namespace moves the real clock: only starting run B
    // later gives its files other times. Two and a half seconds is what tar and gzip
    // (1 s) and zip and jar (2 s DOS times) see while the runs keep pace;
    // file-time-drift.ts names the files for which they did not.
    b.minStartGapMs = STAGGER_MS
    record({
      name,
      status: 'effective',
      a: 'written files stamped with the real time',
      b: `run B starts ${STAGGER_MS / 1000} s later, so the files it writes carry times ${STAGGER_MS / 1000} s later`,
      // The snapshot sets the source's access and modification times; no call sets a
      // change or birth time, which is when each run's copy was made, both before run A
      // starts; HOME and TMPDIR are made then too.
      note: "the source's change and birth times (stat -c %Z, %W) are when its snapshot was copied, and the times of the HOME and TMPDIR reproof makes when they were made, within a second of each other in both runs: a time read from one of them (not written by the build) is not varied; whether run B kept its lead is checked on the files both runs left and on when their commands ended, not on files written and removed while run A had fallen behind",
    })
  },
  ordering: (name, { b, record }) => {
    b.creationOrder = 'descending'
    record(
      {
        name,
        status: 'effective',
        a: 'source entries created in byte order',
        // tmpfs lists a directory in creation order: the snapshot's directories list
        // in opposite orders in the two runs, those the build makes alike.
        b: 'source entries created in reverse byte order (directories the build makes itself list alike in both runs)',
      },
      true,
    )
  },
  umask: (name, { record }, out) => {
    out.umaskB = '0002'
    record({ name, status: 'effective', a: '0022', b: '0002' }, true)
  },
  tz: (name, { input, caps, a, b, record }) => {
    // At the build's own time (SOURCE_DATE_EPOCH), which is what a build formats.
    // And now, where a zone's offset moved since (Pacific/Kiritimati was -10:40 in 1970).
    const zones = farZones(a.env.TZ, input.epoch * 1000, Date.now())
    const zone = caps.zoneNames === true ? zones.named : zones.posix
    b.env.TZ = zone
    // Confirmed by the probes: run A's zone may be one reproof cannot place.
    record(
      {
        name,
        status: 'effective',
        a: a.env.TZ ?? 'UTC',
        b: zone,
        ...(caps.zoneNames === true
          ? {}
          : {
              note: 'no tzdata here, so the zone is written in POSIX form: programs that read zones by name only (Node, ICU, Java) saw UTC in both runs',
            }),
      },
      true,
    )
  },
  locale: (name, { caps, a, b, record, notApplied }) => {
    if (caps.unusualLocale === undefined) {
      notApplied(
        name,
        a.env.LC_ALL ?? '',
        'no locale with a different collation is installed (locale -a)',
        'install one, e.g. apt-get install locales-all',
      )
      return
    }
    // Where run A already has the unusual locale (the caller's --env), run B takes C's
    // byte order: the two runs still sort apart, and a pinned LC_ALL cannot turn the
    // variation off.
    const other =
      a.env.LC_ALL !== undefined && sameLocale(a.env.LC_ALL, caps.unusualLocale)
        ? 'C.UTF-8'
        : caps.unusualLocale
    b.env.LANG = other
    b.env.LC_ALL = other
    // Confirmed by the probes: `locale -a` lists what reproof's own environment finds,
    // and the build's may not load it (LOCPATH, LOCALE_ARCHIVE, GUIX_LOCPATH).
    record({ name, status: 'effective', a: a.env.LC_ALL ?? '', b: other }, true)
  },
  home: (name, { layouts, canary, b, record }) => {
    b.env.HOME = `${layouts.b.dir}/home-missing-${canary}`
    b.mkdirs = b.mkdirs.filter((d) => d !== layouts.b.home)
    record({
      name,
      status: 'effective',
      a: `${layouts.a.home} (exists)`,
      b: `${b.env.HOME} (does not exist)`,
    })
  },
  user: (name, { input, caps, record, notApplied, hasNamespaces, a, b, canary }, out) => {
    if (hasNamespaces) {
      out.uidB = caps.uid === VARIED_UID ? VARIED_UID + 1 : VARIED_UID
      out.gidB = out.uidB
      // The name goes with the uid, but for one the caller passed: that one both keep.
      const given = KEPT_WHEN_PASSED.user.filter((v) => input.passThrough[v] !== undefined)
      for (const variable of KEPT_WHEN_PASSED.user)
        if (!given.includes(variable)) b.env[variable] = `user-${canary}`
      record(
        {
          name,
          status: 'effective',
          a: `uid ${caps.uid}, USER ${a.env.USER ?? ''}`,
          b: `uid ${out.uidB} (user namespace), USER ${b.env.USER ?? ''}`,
          ...(given.length === 0
            ? {}
            : { note: `${given.join(' and ')} ${PASSED_TO_BOTH}, not varied` }),
        },
        true,
      )
    } else {
      notApplied(name, `uid ${caps.uid}`, NO_NAMESPACES, NAMESPACES_FIX)
    }
  },
  hostname: utsName,
  domain: utsName,
  env: (name, { canary, b, record }) => {
    b.env.REPROOF_VARIATION = canary
    record({ name, status: 'effective', a: '(unset)', b: `REPROOF_VARIATION=${canary}` })
  },
  'exec-path': (name, { layouts, canary, a, b, record }) => {
    const extra = `${layouts.b.dir}/bin-${canary}`
    b.env.PATH = `${extra}:${b.env.PATH ?? ''}`
    b.mkdirs.push(extra)
    record({ name, status: 'effective', a: a.env.PATH ?? '', b: b.env.PATH })
  },
  cpus: (name, { caps, a, b, record, notApplied }, out) => {
    if (caps.taskset && caps.cpuCount > 1) {
      // Run B, which starts later (file-times), gets the one CPU: slower as well as later,
      // it never catches up with run A in a step that goes faster on more CPUs. Given
      // every CPU, it did, and a file both wrote there carried the same time.
      out.pinB = true
      // After the MAKEFLAGS the build was given (--env), not instead of it: make takes
      // the last -j, and the other flags (V=1, -k) stay as the user set them.
      const given =
        a.env.MAKEFLAGS === undefined || a.env.MAKEFLAGS === '' ? '' : `${a.env.MAKEFLAGS} `
      a.env.MAKEFLAGS = `${given}-j${caps.cpuCount}`
      b.env.MAKEFLAGS = `${given}-j1`
      // OpenMP's count, where the build was given one (--env): nproc prints it rather
      // than the affinity's, and the runtimes use it. Run B's is its one CPU; a count
      // the build was given as 1 stays the same in both runs, which the probe then sees.
      const omp = OMP_COUNTS.filter((v) => a.env[v] !== undefined)
      for (const v of omp) b.env[v] = '1'
      const one = omp.filter((v) => ompCountIsOne(a.env[v] ?? ''))
      const shown = (env: Record<string, string | undefined>): string =>
        [`MAKEFLAGS=${env.MAKEFLAGS ?? ''}`, ...omp.map((v) => `${v}=${env[v] ?? ''}`)].join(', ')
      record(
        {
          name,
          status: 'effective',
          // Affinity is what nproc and sched_getaffinity see; /proc/cpuinfo and
          // /sys still show every CPU (os.cpu_count(), getconf).
          a: `${caps.cpuCount} CPUs by affinity (nproc), ${shown(a.env)}`,
          b: `1 CPU by affinity (nproc), ${shown(b.env)}`,
          // Said with the verdict, as the clock's limits are: a build that counts CPUs
          // another way saw the same number in both runs.
          note: `by affinity and -j only: /proc/cpuinfo, getconf _NPROCESSORS_ONLN and os.cpu_count() count every CPU in both runs${
            one.length === 0
              ? ''
              : `; ${one.join(' and ')} ${PASSED_TO_BOTH} as 1, so nproc and OpenMP count one CPU in both`
          }`,
          ...(one.length === 0 ? {} : { reach: `not OpenMP: ${one.join(' and ')}=1 given` }),
        },
        true,
      )
    } else if (caps.cpuCount > 1) {
      notApplied(name, `${caps.cpuCount} CPUs`, 'taskset is not installed', 'install util-linux')
    } else {
      notApplied(name, '1 CPU', 'the machine has one CPU')
    }
  },
}

/**
 * What every run's sandbox starts with and run A, the reference, keeps: the fixed host
 * and domain names, process IDs where the kernel starts them. Run A's sandbox is set up
 * from this before the plan exists (twin/prepare-runs.ts).
 */
export const REFERENCE_SANDBOX = {
  hostname: FIXED_HOSTNAME,
  domainname: FIXED_DOMAINNAME,
  firstPid: 0,
} as const

export function planRuns(input: PlanInput): RunPlan {
  const { capabilities: caps, layouts, canary } = input
  const setup = (id: RunId): RunSetup => ({
    id,
    layout: layouts[id],
    env: baseEnvironment({
      ...input,
      home: layouts[id].home,
      tmp: layouts[id].tmp,
      user: caps.userName ?? `user${caps.uid}`,
    }),
    launcher: [],
    creationOrder: 'ascending',
    minStartGapMs: 0,
    mkdirs: [layouts[id].home, layouts[id].tmp],
    files: [],
    inodeOffset: 0,
    ...REFERENCE_SANDBOX,
  })
  const a = setup('a')
  const b = setup('b')
  b.firstPid = firstPidFor(canary)
  // Outside the sandbox both runs share one file system, where run B's files come later.
  b.inodeOffset = input.sandbox ? 64 + (firstPidFor(canary) % 64) : 0
  const records: VariationRecord[] = []
  const toConfirm: VariationName[] = []
  const record = (r: VariationRecord, confirm = false): void => {
    records.push(r)
    if (confirm && r.status === 'effective') toConfirm.push(r.name)
  }
  // Hostname and user need their own namespaces: the sandbox's, or unshare in the fallback.
  const hasNamespaces = input.sandbox || caps.namespaces
  const notApplied = (name: VariationName, value: string, note: string, fix?: string): void => {
    record({ name, status: 'not-applied', a: value, b: value, note, ...(fix ? { fix } : {}) })
  }
  const out: Varied = {
    umaskB: '0022',
    uidB: caps.uid,
    gidB: caps.gid,
    pinB: false,
    fakeTimeB: [],
  }
  const planning: Planning = {
    input,
    caps,
    layouts,
    canary,
    a,
    b,
    record,
    notApplied,
    hasNamespaces,
  }
  for (const name of input.variations) APPLY[name](name, planning, out)
  addLaunchers(a, b, out, { sandbox: input.sandbox, caps, layouts })

  return { runs: { a, b }, variations: records, toConfirm }
}

/**
 * The launchers the rows' decisions come down to, in the order they nest: the user (and
 * without the sandbox, the UTS namespace for the names), CPU pinning, the shifted clock,
 * then the shell that sets the umask and enters the build root.
 */
function addLaunchers(
  a: RunSetup,
  b: RunSetup,
  out: Varied,
  {
    sandbox,
    caps,
    layouts,
  }: { sandbox: boolean; caps: Capabilities; layouts: PlanInput['layouts'] },
): void {
  const { umaskB, uidB, gidB, pinB, fakeTimeB } = out

  // Randomization turned off in reproof's own process is turned back on in both runs:
  // passed on, it made a build that writes its addresses reproduce.
  const aslr = caps.addressRandomization
  if (aslr?.kind === 'inherited-off' && aslr.restore !== undefined) {
    a.launcher.push(...aslr.restore)
    b.launcher.push(...aslr.restore)
  }
  if (sandbox) {
    // Inside the sandbox the build gets a user namespace of its own, nested in the run's:
    // it runs as an ordinary user there (root in a namespace would be a variation of its
    // own), with no capability over the mounts that keep the rest of the system read-only.
    a.launcher.push(...userLauncher(caps.uid, caps.gid))
    b.launcher.push(...userLauncher(uidB, gidB))
  } else if (b.hostname !== FIXED_HOSTNAME || b.domainname !== FIXED_DOMAINNAME) {
    const steps = [
      b.hostname !== FIXED_HOSTNAME ? 'hostname "$1"' : '',
      b.domainname !== FIXED_DOMAINNAME ? 'domainname "$2"' : '',
    ]
    b.launcher.push(
      'unshare',
      '--user',
      '--map-root-user',
      '--uts',
      '--',
      '/bin/sh',
      '-c',
      `${steps.filter((s) => s !== '').join(' && ')} && shift 2 && exec "$@"`,
      'reproof-uts',
      b.hostname,
      b.domainname,
      // Back to an ordinary user inside: root in a namespace would be a variation of its own.
      ...userLauncher(uidB, gidB),
    )
  } else if (uidB !== caps.uid) {
    b.launcher.push(...userLauncher(uidB, gidB))
  }
  if (pinB) b.launcher.push('taskset', '-c', '0')
  b.launcher.push(...fakeTimeB)
  a.launcher.push(...shellLauncher('0022', layouts.a.root))
  b.launcher.push(...shellLauncher(umaskB, layouts.b.root))
}

/** What the shifted clock does not reach here, for the time variation's note. */
function clockNote(
  shimmed: readonly string[],
  unreachable: readonly string[],
  version: string,
): string {
  const them = (names: readonly string[]): string => (names.length === 1 ? 'it' : 'them')
  return [
    ...(shimmed.length > 0
      ? [
          `${shimmed.join(', ')} runs on the real clock, if the build uses ${them(shimmed)}: libfaketime${version} deadlocks ${them(shimmed)} at start-up (0.9.11 and later do not)`,
        ]
      : []),
    // libfaketime is preloaded into programs that load glibc: a statically linked one (a
    // Go binary, a `gcc -static` tool), or one linked against musl, reads the clock itself.
    // A build that ran one and wrote its time came out the same in both runs, and the
    // variation said effective.
    `statically linked programs read the real clock${
      unreachable.includes('go')
        ? ' (Go programs among them: the Go runtime does not ask libc)'
        : ''
    }: libfaketime reaches only programs that load the C library it was built for (glibc), not those of musl or another libc, so a time such a program writes is not varied`,
    // A program that loads libc but makes the system call itself bypasses the wrapper.
    'a program that makes the clock_gettime system call itself (syscall(SYS_clock_gettime), raw assembly) reads the real clock though it loads libc: libfaketime wraps the library’s functions, not the kernel’s calls',
    // It reaches them through LD_PRELOAD and FAKETIME in their environment: a build
    // whose steps start with a cleared one wrote the real time in both runs.
    'programs started with a cleared environment read the real clock too (env -i, a build tool’s strict action environment, sudo): libfaketime reaches a program through LD_PRELOAD and FAKETIME in its environment',
    // The kernel stamps the files a build writes with the real time: a date read back
    // from one (`date -r file`, `stat`) is not moved 397 days; the file-times variation
    // (run B starts later) is what moves it, by seconds.
    'the times the kernel gives the files a build writes are the real clock’s: a date read back from one (date -r, stat) differs between the runs only by the file-times variation’s seconds, so a day it writes is not varied',
    // Times the kernel reports as counts since boot, made a date by the reader.
    'a date made from what the kernel counts since boot is the real one: a process’s start time (ps -o lstart), the boot time and uptime (/proc/stat btime plus /proc/uptime), and the monotonic and boot clocks, which libfaketime leaves alone; the hardware clock (/sys/class/rtc/rtc0/since_epoch, hwclock) reads the real date too',
  ].join('; ')
}

/** Somewhere in 10,000 to 29,999, from the canary: far from run A's, and repeatable. */
function firstPidFor(canary: string): number {
  const n = Number.parseInt(canary.slice(-4), 16)
  return 10_000 + (Number.isNaN(n) ? 0 : n % 20_000)
}

function userLauncher(uid: number, gid: number): string[] {
  return ['unshare', '--user', `--map-user=${uid}`, `--map-group=${gid}`, '--']
}

// The working directory is set here, not by the spawner: inside the sandbox the build
// root exists only in the run's own mount namespace.
/**
 * The last launcher: the umask, the build root, and the build's environment, given as
 * `NAME=value` arguments up to a `--` (see launchArguments), then the command. The
 * programs before it (nsenter, unshare, setarch, taskset, faketime) run with reproof's
 * PATH and libfaketime's settings only (launchEnvironment): a provenance's or a source
 * tree's LD_AUDIT, LD_LIBRARY_PATH, GCONV_PATH or LOCPATH loaded its own code into
 * nsenter, on the host, before it entered the sandbox; and its PATH chose the launchers.
 */
function shellLauncher(mask: string, root: string): string[] {
  return [
    '/bin/sh',
    '-c',
    `umask ${mask} && cd "$1" && shift && while [ "$1" != -- ]; do export "$1" || exit 126; shift; done && shift && exec "$@"`,
    'reproof-run',
    root,
  ]
}

/** libfaketime's settings: read by the preloaded library, which the wrapper sets up. */
const isFaketimeSetting = (name: string): boolean =>
  name.startsWith('FAKETIME') || name === 'NO_FAKE_STAT' || name === 'FAKE_UTIME'

/**
 * The environment the launchers run with: reproof's own PATH to find them on
 * (launchPath) and libfaketime's settings, nothing of the build's.
 */
export function launchEnvironment(
  env: Readonly<Record<string, string>>,
  ownPath: string | undefined,
): Record<string, string> {
  const out: Record<string, string> = { PATH: launchPath(ownPath) }
  for (const [name, value] of Object.entries(env)) if (isFaketimeSetting(name)) out[name] = value
  return out
}

/**
 * What follows a run's launchers: the build's environment for the last launcher to
 * export (all of it but libfaketime's settings, which reach it already), `--`, then
 * the command.
 */
export function launchArguments(
  env: Readonly<Record<string, string>>,
  command: readonly string[],
): string[] {
  const exported = Object.entries(env)
    .filter(([name]) => !isFaketimeSetting(name))
    .map(([name, value]) => `${name}=${value}`)
  return [...exported, '--', ...command]
}

// Where the launchers' own programs are looked for, after the build's PATH.
const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

/**
 * The PATH the launchers run with: the one reproof was started with, then the system's;
 * absolute directories only (an empty entry is the working directory). Never the
 * build's: it may come from the source tree's configuration (`"env": ["PATH=..."]`), and
 * an `nsenter` or `unshare` found there would run outside the sandbox it is to set up.
 * The last launcher sets the build's own before the command starts.
 */
export function launchPath(ownPath: string | undefined): string {
  const dirs = [...(ownPath ?? '').split(':'), ...SYSTEM_PATH]
  return [...new Set(dirs.filter((d) => d.startsWith('/')))].join(':')
}

/**
 * Variations asked for by name must take effect: a build that was meant to vary the
 * clock and silently did not is the kind of yes reproof must never give. Checked once
 * on the plan (not applied) and again on the probes' judgement (no effect).
 */
export function checkExplicitVariations(
  records: readonly VariationRecord[],
  explicit: readonly VariationName[],
): { name: VariationName; note: string; fix?: string }[] {
  return records
    .filter((r) => explicit.includes(r.name) && r.status !== 'effective')
    .map((r) => ({
      name: r.name,
      note: r.note ?? 'not available here',
      ...(r.fix ? { fix: r.fix } : {}),
    }))
}

/** What a probe run reports about the world a build will see. */
export interface ProbeReport {
  time: number
  umask: string
  uid: string
  hostname: string
  domain: string
  cpus: string
  /** The offset from UTC that the C library gives the run's TZ now (`date +%z`). */
  tz: string
  /** How the run's locale sorts a few letters (`sort`): what a build that sorts sees. */
  collation: string
}

// The CPU count as the build's nproc gives it, in the build's environment: GNU nproc
// prints OMP_NUM_THREADS (capped by OMP_THREAD_LIMIT) where that sets it, as OpenMP
// runtimes take it, so a count the environment fixes in both runs is seen as one.

export const PROBE_SCRIPT =
  'printf "%s\\n" "$(date +%s)" "$(umask)" "$(id -u)" "$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)" "$(domainname 2>/dev/null || cat /proc/sys/kernel/domainname)" "$(nproc 2>/dev/null || echo 0)" "$(date +%z)" "$(printf "b\\nA\\na\\nB\\nt\\nz\\ns\\n" | sort 2>/dev/null | tr -d "\\n")"'

export function parseProbe(output: string): ProbeReport | undefined {
  const lines = output.split('\n')
  if (lines.length < 7) return undefined
  const [
    time = '',
    umask = '',
    uid = '',
    hostname = '',
    domain = '',
    cpus = '',
    tz = '',
    collation = '',
  ] = lines
  if (!/^[0-9]+$/.test(time)) return undefined
  return { time: Number(time), umask, uid, hostname, domain, cpus, tz, collation }
}

/**
 * Confirms each variation planned as effective with what the probes of the two runs
 * (and the listing-order check) saw; one the probes show made no difference becomes
 * `no-effect`, with the reason.
 */
export function judgeEffectiveness(
  plan: Pick<RunPlan, 'variations' | 'toConfirm'>,
  probes: { a: ProbeReport; b: ProbeReport },
  listingOrderDiffers: boolean,
  /** Whether the source has a directory of two entries or more, whose order can differ. */
  sourceHasOrder = true,
): VariationRecord[] {
  const differs: Partial<Record<VariationName, boolean>> = {
    time: Math.abs(probes.b.time - probes.a.time) > 86_400,
    ordering: listingOrderDiffers && sourceHasOrder,
    umask: probes.a.umask !== probes.b.umask,
    user: probes.a.uid !== probes.b.uid,
    hostname: probes.a.hostname !== probes.b.hostname,
    domain: probes.a.domain !== probes.b.domain,
    cpus: probes.a.cpus !== probes.b.cpus,
    tz: probes.a.tz !== probes.b.tz,
    // C sorts capitals first, most locales do not, and some (Estonian) put z before t.
    locale: probes.a.collation !== probes.b.collation,
  }
  return plan.variations.map((r) => {
    if (r.status !== 'effective' || !plan.toConfirm.includes(r.name)) return r
    if (differs[r.name] !== false) return r
    const note =
      r.name !== 'ordering'
        ? `a probe run saw no difference between the runs${keptBy(r.note)}`
        : sourceHasOrder
          ? 'directory listings came back in the same order in both runs on this filesystem'
          : 'no directory of the source holds two entries or more, so there was no order to reverse'
    return { ...r, status: 'no-effect', note }
  })
}

/**
 * Whether two locale names are one locale as glibc finds it: the codeset is compared
 * without case or dashes (`en_US.UTF-8` is `en_US.utf8`).
 */
export function sameLocale(x: string, y: string): boolean {
  const norm = (name: string): string => {
    const dot = name.indexOf('.')
    if (dot === -1) return name
    const at = name.indexOf('@', dot)
    const codeset = name.slice(dot + 1, at === -1 ? undefined : at)
    return `${name.slice(0, dot)}.${codeset.toLowerCase().replace(/-/g, '')}${at === -1 ? '' : name.slice(at)}`
  }
  return norm(x) === norm(y)
}
