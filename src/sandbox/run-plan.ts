import type { VariationName } from '../config/variations.js'
import { faketimeEnvironment, faketimeLauncher, type Faketime } from './faketime.js'

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
  /** libfaketime, when installed and safe to use here. */
  faketime: Faketime | undefined
  /** Why an installed libfaketime is not used. */
  faketimeRefused?: string
  /** Rootless user and UTS namespaces work (unshare). */
  namespaces: boolean
  taskset: boolean
  cpuCount: number
  /** An installed locale whose collation differs from C's, for the locale variation. */
  unusualLocale: string | undefined
  uid: number
  gid: number
}

export interface RunSetup {
  id: RunId
  layout: RunLayout
  env: Record<string, string>
  /** Argument vector that precedes the user's command: namespaces, CPU pinning, umask. */
  launcher: string[]
  creationOrder: 'ascending' | 'descending'
  /** Milliseconds after run A's start before run B may start (time variation fallback). */
  minStartGapMs: number
  /** Directories to create before the run (an extra PATH entry, HOME). */
  mkdirs: string[]
}

export interface VariationRecord {
  name: VariationName
  applied: boolean
  /** Confirmed by a probe or by construction; false when applied but shown to have no effect. */
  effective: boolean
  a: string
  b: string
  note?: string
}

export interface PlanInput {
  variations: readonly VariationName[]
  capabilities: Capabilities
  layouts: { a: RunLayout; b: RunLayout }
  canary: string
  epoch: number
  path: string
  passThrough: Record<string, string>
}

export interface RunPlan {
  runs: { a: RunSetup; b: RunSetup }
  variations: VariationRecord[]
}

// Far enough that the date, the day of the week and the month all differ.
export const FAKETIME_OFFSET_DAYS = 397
const FAKETIME_OFFSET = `+${FAKETIME_OFFSET_DAYS}d`
// Stamps of one-second resolution differ when runs start more than a second apart.
const STAGGER_MS = 1100
const VARIED_UID = 4242
// Far apart: UTC-12 against UTC+14, written in POSIX form so that no tzdata is needed.
const FAR_TZ = '<+14>-14'

/** The environment every run starts from: nothing of the caller's but PATH and --env. */
export function baseEnvironment(input: {
  path: string
  home: string
  tmp: string
  epoch: number
  passThrough: Record<string, string>
}): Record<string, string> {
  return {
    PATH: input.path,
    TZ: 'UTC',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    ...input.passThrough,
    HOME: input.home,
    TMPDIR: input.tmp,
    SOURCE_DATE_EPOCH: String(input.epoch),
  }
}

export function planRuns(input: PlanInput): RunPlan {
  const { capabilities: caps, layouts, canary } = input
  const setup = (id: RunId): RunSetup => ({
    id,
    layout: layouts[id],
    env: baseEnvironment({ ...input, home: layouts[id].home, tmp: layouts[id].tmp }),
    launcher: [],
    creationOrder: 'ascending',
    minStartGapMs: 0,
    mkdirs: [layouts[id].home, layouts[id].tmp],
  })
  const a = setup('a')
  const b = setup('b')
  const records: VariationRecord[] = []
  const record = (r: VariationRecord): void => {
    records.push(r)
  }
  let umaskB = '0022'
  let uidB: number | undefined
  let hostnameB: string | undefined
  let domainB: string | undefined
  let pinA = false
  let fakeTimeB: string[] = []

  for (const name of input.variations) {
    switch (name) {
      case 'path':
        record({ name, applied: true, effective: true, a: layouts.a.root, b: layouts.b.root })
        break
      case 'time':
        if (caps.faketime !== undefined) {
          // faketime.ts says why each setting is there.
          fakeTimeB = faketimeLauncher(caps.faketime, FAKETIME_OFFSET)
          Object.assign(b.env, faketimeEnvironment(caps.faketime))
          record({
            name,
            applied: true,
            effective: false,
            a: 'real clock',
            b: `clock ${FAKETIME_OFFSET} (libfaketime)`,
          })
        } else {
          b.minStartGapMs = STAGGER_MS
          record({
            name,
            applied: true,
            effective: true,
            a: 'real clock',
            b: `real clock, started ${STAGGER_MS} ms later`,
            note: `${caps.faketimeRefused ?? 'libfaketime not installed'}: only stamps of second resolution or finer are exposed`,
          })
        }
        break
      case 'ordering':
        b.creationOrder = 'descending'
        record({
          name,
          applied: true,
          effective: false,
          a: 'entries created in byte order',
          b: 'entries created in reverse byte order',
        })
        break
      case 'umask':
        umaskB = '0002'
        record({ name, applied: true, effective: false, a: '0022', b: '0002' })
        break
      case 'tz':
        b.env.TZ = FAR_TZ
        record({ name, applied: true, effective: true, a: a.env.TZ ?? 'UTC', b: FAR_TZ })
        break
      case 'locale':
        if (caps.unusualLocale !== undefined) {
          b.env.LANG = caps.unusualLocale
          b.env.LC_ALL = caps.unusualLocale
          record({
            name,
            applied: true,
            effective: true,
            a: a.env.LC_ALL ?? '',
            b: caps.unusualLocale,
          })
        } else {
          record({
            name,
            applied: false,
            effective: false,
            a: a.env.LC_ALL ?? '',
            b: a.env.LC_ALL ?? '',
            note: 'no locale with a different collation is installed (locale -a)',
          })
        }
        break
      case 'home':
        b.env.HOME = `${layouts.b.dir}/home-missing-${canary}`
        b.mkdirs = b.mkdirs.filter((d) => d !== layouts.b.home)
        record({
          name,
          applied: true,
          effective: true,
          a: `${layouts.a.home} (exists)`,
          b: `${b.env.HOME} (does not exist)`,
        })
        break
      case 'user':
        if (caps.namespaces) {
          uidB = caps.uid === VARIED_UID ? VARIED_UID + 1 : VARIED_UID
          record({
            name,
            applied: true,
            effective: false,
            a: `uid ${caps.uid}`,
            b: `uid ${uidB} (user namespace)`,
          })
        } else {
          record({
            name,
            applied: false,
            effective: false,
            a: `uid ${caps.uid}`,
            b: `uid ${caps.uid}`,
            note: 'user namespaces are not available (unshare --user failed)',
          })
        }
        break
      case 'hostname':
      case 'domain':
        if (caps.namespaces) {
          const value = name === 'hostname' ? `reproof-${canary}` : `reproof-${canary}.invalid`
          if (name === 'hostname') hostnameB = value
          else domainB = value
          record({ name, applied: true, effective: false, a: 'the machine’s', b: value })
        } else {
          record({
            name,
            applied: false,
            effective: false,
            a: 'the machine’s',
            b: 'the machine’s',
            note: 'UTS namespaces are not available (unshare --uts failed)',
          })
        }
        break
      case 'env':
        b.env.REPROOF_VARIATION = canary
        record({
          name,
          applied: true,
          effective: true,
          a: '(unset)',
          b: `REPROOF_VARIATION=${canary}`,
        })
        break
      case 'exec-path': {
        const extra = `${layouts.b.dir}/bin-${canary}`
        b.env.PATH = `${extra}:${b.env.PATH ?? ''}`
        b.mkdirs.push(extra)
        record({ name, applied: true, effective: true, a: a.env.PATH ?? '', b: b.env.PATH })
        break
      }
      case 'cpus':
        if (caps.taskset && caps.cpuCount > 1) {
          pinA = true
          a.env.MAKEFLAGS = '-j1'
          b.env.MAKEFLAGS = `-j${caps.cpuCount}`
          record({
            name,
            applied: true,
            effective: false,
            a: '1 CPU, MAKEFLAGS=-j1',
            b: `${caps.cpuCount} CPUs, MAKEFLAGS=-j${caps.cpuCount}`,
          })
        } else {
          record({
            name,
            applied: false,
            effective: false,
            a: `${caps.cpuCount} CPUs`,
            b: `${caps.cpuCount} CPUs`,
            note: caps.cpuCount > 1 ? 'taskset is not installed' : 'the machine has one CPU',
          })
        }
        break
    }
  }

  if (pinA) a.launcher.push('taskset', '-c', '0')
  b.launcher.push(...fakeTimeB)
  if (hostnameB !== undefined || domainB !== undefined) {
    const steps = [
      hostnameB !== undefined ? 'hostname "$1"' : '',
      domainB !== undefined ? 'domainname "$2"' : '',
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
      hostnameB ?? '',
      domainB ?? '',
      // Back to an ordinary user inside: root in a namespace would be a variation of its own.
      'unshare',
      '--user',
      `--map-user=${uidB ?? caps.uid}`,
      `--map-group=${uidB ?? caps.gid}`,
      '--',
    )
  } else if (uidB !== undefined) {
    b.launcher.push('unshare', '--user', `--map-user=${uidB}`, `--map-group=${uidB}`, '--')
  }
  a.launcher.push(...umaskLauncher('0022'))
  b.launcher.push(...umaskLauncher(umaskB))

  return { runs: { a, b }, variations: records }
}

function umaskLauncher(mask: string): string[] {
  return ['/bin/sh', '-c', `umask ${mask} && exec "$@"`, 'reproof-run']
}

/** What a probe run reports about the world a build will see. */
export interface ProbeReport {
  time: number
  umask: string
  uid: string
  hostname: string
  domain: string
  cpus: string
}

export const PROBE_SCRIPT =
  'printf "%s\\n" "$(date +%s)" "$(umask)" "$(id -u)" "$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)" "$(domainname 2>/dev/null || cat /proc/sys/kernel/domainname)" "$(nproc 2>/dev/null || echo 0)"'

export function parseProbe(output: string): ProbeReport | undefined {
  const lines = output.split('\n')
  if (lines.length < 6) return undefined
  const [time = '', umask = '', uid = '', hostname = '', domain = '', cpus = ''] = lines
  if (!/^[0-9]+$/.test(time)) return undefined
  return { time: Number(time), umask, uid, hostname, domain, cpus }
}

/**
 * Marks each applied variation effective only when the probes of the two runs (and
 * the listing-order check) show that the builds really see a difference.
 */
export function judgeEffectiveness(
  records: readonly VariationRecord[],
  probes: { a: ProbeReport; b: ProbeReport },
  listingOrderDiffers: boolean,
): VariationRecord[] {
  const differs: Partial<Record<VariationName, boolean>> = {
    time: Math.abs(probes.b.time - probes.a.time) > 86_400,
    ordering: listingOrderDiffers,
    umask: probes.a.umask !== probes.b.umask,
    user: probes.a.uid !== probes.b.uid,
    hostname: probes.a.hostname !== probes.b.hostname,
    domain: probes.a.domain !== probes.b.domain,
    cpus: probes.a.cpus !== probes.b.cpus,
  }
  return records.map((r) => {
    if (!r.applied) return r
    const probed = differs[r.name]
    // Variations applied by construction (path, env, stagger) keep their verdict.
    if (probed === undefined || r.effective) return r
    const note = probed
      ? r.note
      : r.name === 'ordering'
        ? 'directory listings come back in the same order on this filesystem (use a tmpfs --temp-dir)'
        : 'a probe run saw no difference between the runs'
    return { ...r, effective: probed, ...(note === undefined ? {} : { note }) }
  })
}
