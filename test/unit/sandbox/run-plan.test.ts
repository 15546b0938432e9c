import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { VARIATIONS, type VariationName } from '../../../src/config/variations.js'
import {
  checkExplicitVariations,
  judgeEffectiveness,
  launchArguments,
  launchEnvironment,
  launchPath,
  farZones,
  parseProbe,
  offsetHours,
  ompCountIsOne,
  planRuns,
  type Capabilities,
  type PlanInput,
  type ProbeReport,
  type RunLayout,
} from '../../../src/sandbox/run-plan.js'

const layout = (id: 'a' | 'b', dir: string): RunLayout => ({
  id,
  dir,
  root: `${dir}/proj`,
  home: `${dir}/home`,
  tmp: `${dir}/tmp`,
  stdoutLog: `${dir}/stdout.log`,
  stderrLog: `${dir}/stderr.log`,
})

const fullCaps: Capabilities = {
  sandbox: { available: true },
  faketime: {
    wrapper: 'faketime',
    version: '0.9.10',
    missingSymbols: [],
    realClockFor: [],
    unreachable: [],
  },
  namespaces: true,
  taskset: true,
  cpuCount: 4,
  unusualLocale: 'et_EE.UTF-8',
  uid: 1000,
  gid: 1000,
}
const noCaps: Capabilities = {
  sandbox: { available: false, reason: 'unshare failed' },
  faketime: undefined,
  namespaces: false,
  taskset: false,
  cpuCount: 1,
  unusualLocale: undefined,
  uid: 1000,
  gid: 1000,
}

const input = (
  variations: VariationName[],
  capabilities = fullCaps,
  sandbox = false,
): PlanInput => ({
  variations,
  capabilities,
  sandbox,
  layouts: { a: layout('a', '/t/a'), b: layout('b', '/t/b-path-canaryX') },
  canary: 'canaryX',
  epoch: 99,
  path: '/usr/bin:/bin',
  passThrough: { CC: 'gcc' },
})

const subset = fc
  .subarray([...VARIATIONS])
  .map((v) => (v.includes('path') ? v : ['path' as const, ...v]))

describe('planRuns', () => {
  it('gives both runs the clean base environment, and run A never varies', () => {
    fc.assert(
      fc.property(subset, fc.boolean(), (variations, caps) => {
        const { runs } = planRuns(input(variations, caps ? fullCaps : noCaps))
        for (const run of [runs.a, runs.b]) {
          expect(run.env.SOURCE_DATE_EPOCH).toBe('99')
          expect(run.env.CC).toBe('gcc')
          expect(run.env.TMPDIR).toBe(run.layout.tmp)
          expect(run.launcher.slice(-5)).toEqual([
            '/bin/sh',
            '-c',
            expect.stringMatching(/^umask 00[02]2 && cd "\$1" && shift && while /),
            'reproof-run',
            run.layout.root,
          ])
          // The launchers run with reproof's PATH and libfaketime's settings alone; the
          // build's environment follows them, for the last to export.
          const launching = launchEnvironment(run.env, '/opt/bin:/usr/bin')
          expect(Object.keys(launching).filter((k) => k !== 'PATH' && !k.includes('FAKE'))).toEqual(
            [],
          )
          expect(launching.PATH?.startsWith('/opt/bin:/usr/bin')).toBe(true)
          const after = launchArguments(run.env, ['make'])
          expect(after.slice(-2)).toEqual(['--', 'make'])
          expect(after).toContain(`PATH=${run.env.PATH ?? ''}`)
          expect(after).toContain('CC=gcc')
        }
        expect(runs.a.env.TZ).toBe('UTC')
        expect(runs.a.env.LC_ALL).toBe('C.UTF-8')
        expect(runs.a.env.HOME).toBe('/t/a/home')
        expect(runs.a.creationOrder).toBe('ascending')
        expect(runs.a.minStartGapMs).toBe(0)
        expect(runs.a.launcher.join(' ')).toMatch(/umask 0022/)
      }),
    )
  })

  it('records every requested variation once, in order, and applies only what the machine can do', () => {
    fc.assert(
      fc.property(subset, fc.boolean(), (variations, caps) => {
        const { variations: records } = planRuns(input(variations, caps ? fullCaps : noCaps))
        expect(records.map((r) => r.name)).toEqual(variations)
        // Nothing is both not applied and claimed; a missing capability always says why.
        for (const r of records) {
          expect(['effective', 'not-applied']).toContain(r.status)
          if (r.status === 'not-applied') expect(r.note).toBeTruthy()
          if (r.status === 'not-applied') expect(r.a).toBe(r.b)
        }
      }),
    )
  })

  it('never calls time varied without libfaketime, and says why', () => {
    const { variations, toConfirm } = planRuns(input(['path', 'time'], noCaps))
    const time = variations.find((v) => v.name === 'time')
    expect(time?.status).toBe('not-applied')
    expect(time?.note).toBe('libfaketime is not installed, so the clock was not varied')
    expect(time?.fix).toContain('apt-get install faketime')
    expect(toConfirm).not.toContain('time')
  })

  it('varies hostname, domain and user from the sandbox, and runs A under fixed names', () => {
    const { runs, variations } = planRuns(
      input(['path', 'hostname', 'domain', 'user'], noCaps, true),
    )
    expect(variations.every((v) => v.status === 'effective')).toBe(true)
    expect(runs.a.hostname).toBe('reproof')
    expect(runs.a.domainname).toBe('(none)')
    expect(runs.b.hostname).toBe('reproof-canaryX')
    expect(runs.b.domainname).toBe('reproof-canaryX.invalid')
    // Only the kernel's names move; the files that name the machine are said not to.
    const note = (name: string) => variations.find((v) => v.name === name)?.note
    expect(note('hostname')).toMatch(
      /\/etc\/hostname, \/etc\/hosts and \/etc\/mailname are the machine’s in both runs/,
    )
    expect(note('domain')).toMatch(
      /the DNS domain \(hostname -d, dnsdomainname, \/etc\/resolv\.conf\) is the machine’s/,
    )
    // Both runs drop to an ordinary user in a nested namespace; only B's uid differs.
    expect(runs.a.launcher.slice(0, 5)).toEqual([
      'unshare',
      '--user',
      '--map-user=1000',
      '--map-group=1000',
      '--',
    ])
    expect(runs.b.launcher).toContain('--map-user=4242')
    // The names a login sets go with the uid: the caller's in A (by uid when it has no
    // name), another in B.
    expect([runs.a.env.USER, runs.a.env.LOGNAME]).toEqual(['user1000', 'user1000'])
    expect([runs.b.env.USER, runs.b.env.LOGNAME]).toEqual(['user-canaryX', 'user-canaryX'])
    const named = planRuns(input(['path', 'user'], { ...noCaps, userName: 'alice' }, true))
    expect(named.runs.a.env.USER).toBe('alice')
    expect(named.runs.b.env.USER).toBe('user-canaryX')
    // A name the caller passes is kept in both, and said to be.
    const passed = planRuns({
      ...input(['path', 'user'], noCaps, true),
      passThrough: { USER: 'ci' },
    })
    expect([passed.runs.a.env.USER, passed.runs.b.env.USER]).toEqual(['ci', 'ci'])
    expect(passed.runs.b.env.LOGNAME).toBe('user-canaryX')
    expect(passed.variations.find((v) => v.name === 'user')?.note).toBe(
      'USER as passed to both runs, not varied',
    )
    // Unvaried, both runs have the caller's.
    expect(planRuns(input(['path'], noCaps, true)).runs.b.env.USER).toBe('user1000')
    // Without the sandbox or namespaces they cannot be applied, and say so.
    const fallback = planRuns(input(['path', 'hostname', 'user'], noCaps, false))
    for (const v of fallback.variations.slice(1)) {
      expect(v.status).toBe('not-applied')
      expect(v.note).toContain('user namespaces')
    }
  })

  it('lists the variations asked for by name that cannot be applied', () => {
    const { variations } = planRuns(input(['path', 'time', 'locale', 'umask'], noCaps))
    const missing = checkExplicitVariations(variations, ['time', 'umask'])
    expect(missing.map((m) => m.name)).toEqual(['time'])
    expect(missing[0]?.fix).toContain('faketime')
    expect(checkExplicitVariations(variations, [])).toEqual([])
    // Applied but shown to have no effect does not take effect either.
    const same = {
      time: 1,
      umask: '0022',
      uid: '0',
      hostname: 'h',
      domain: 'd',
      cpus: '2',
      tz: '+0000',
      collation: 'ABabstz',
    }
    const judged = judgeEffectiveness(
      planRuns(input(['path', 'ordering'])),
      { a: same, b: same },
      false,
    )
    expect(checkExplicitVariations(judged, ['ordering']).map((m) => m.name)).toEqual(['ordering'])
  })

  it('injects the canary wherever it injects a value', () => {
    const { runs } = planRuns(input(['path', 'hostname', 'domain', 'env', 'exec-path', 'home']))
    expect(runs.b.hostname).toBe('reproof-canaryX')
    expect(runs.b.launcher).toContain('reproof-canaryX')
    expect(runs.b.launcher).toContain('reproof-canaryX.invalid')
    expect(runs.b.env.REPROOF_VARIATION).toBe('canaryX')
    expect(runs.b.env.PATH?.split(':')[0]).toContain('canaryX')
    expect(runs.b.env.HOME).toContain('canaryX')
    expect(runs.b.mkdirs).not.toContain(runs.b.env.HOME)
  })

  it('runs rustc on the real clock where libfaketime would deadlock it, in both runs, and says so', () => {
    const faketime = {
      wrapper: 'faketime',
      version: '0.9.10',
      missingSymbols: [],
      realClockFor: [{ name: 'rustc', path: "/opt/rust's/bin/rustc" }],
      unreachable: [],
    }
    const { runs, variations } = planRuns(input(['path', 'time'], { ...fullCaps, faketime }))
    // A directory in each run's own: a build that writes its PATH differs, never writes
    // the same random workspace name in both runs (which no other build writes again).
    expect(runs.a.env.PATH).not.toBe(runs.b.env.PATH)
    for (const run of [runs.a, runs.b]) {
      const dir = `${run.layout.dir}/real-clock`
      expect(run.env.PATH?.split(':')[0]).toBe(dir)
      expect(run.mkdirs).toContain(dir)
      expect(run.files.map((f) => f.path)).toEqual([`${dir}/rustc`])
      expect(run.files[0]?.content).toContain(
        `unset LD_PRELOAD\nexec '/opt/rust'\\''s/bin/rustc' "$@"`,
      )
    }
    const time = variations.find((v) => v.name === 'time')
    expect(time?.status).toBe('effective')
    const SYSCALL =
      'a program that makes the clock_gettime system call itself (syscall(SYS_clock_gettime), raw assembly) reads the real clock though it loads libc: libfaketime wraps the library’s functions, not the kernel’s calls'
    const CLEARED =
      'programs started with a cleared environment read the real clock too (env -i, a build tool’s strict action environment, sudo): libfaketime reaches a program through LD_PRELOAD and FAKETIME in its environment'
    const KERNEL =
      'the times the kernel gives the files a build writes are the real clock’s: a date read back from one (date -r, stat) differs between the runs only by the file-times variation’s seconds, so a day it writes is not varied; a date made from what the kernel counts since boot is the real one: a process’s start time (ps -o lstart), the boot time and uptime (/proc/stat btime plus /proc/uptime), and the monotonic and boot clocks, which libfaketime leaves alone; the hardware clock (/sys/class/rtc/rtc0/since_epoch, hwclock) reads the real date too'
    const STATIC = `statically linked programs read the real clock: libfaketime reaches only programs that load the C library it was built for (glibc), not those of musl or another libc, so a time such a program writes is not varied; ${SYSCALL}; ${CLEARED}; ${KERNEL}`
    expect(time?.note).toBe(
      `rustc runs on the real clock, if the build uses it: libfaketime 0.9.10 deadlocks it at start-up (0.9.11 and later do not); ${STATIC}`,
    )
    // A libfaketime that can skip the failing look-ups needs no shim.
    const skipping = { ...faketime, missingSymbols: ['__ftime'], realClockFor: [] }
    const plain = planRuns(input(['path', 'time'], { ...fullCaps, faketime: skipping }))
    expect(plain.runs.b.files).toEqual([])
    expect(plain.runs.b.env.FAKETIME_IGNORE_SYMBOLS).toBe('__ftime')
    // Never without a note: a static binary (gcc -static, Go) reads the clock itself.
    expect(plain.variations.find((v) => v.name === 'time')?.note).toBe(STATIC)
    // Go reads the clock without libc: where it is installed, the note names it.
    const withGo = { ...skipping, unreachable: ['go'] }
    const go = planRuns(input(['path', 'time'], { ...fullCaps, faketime: withGo }))
    expect(go.variations.find((v) => v.name === 'time')?.note).toBe(
      `statically linked programs read the real clock (Go programs among them: the Go runtime does not ask libc): libfaketime reaches only programs that load the C library it was built for (glibc), not those of musl or another libc, so a time such a program writes is not varied; ${SYSCALL}; ${CLEARED}; ${KERNEL}`,
    )
    // And the verdict's one line says it, not only the note below it.
    expect(go.variations.find((v) => v.name === 'time')?.reach).toBe('not Go programs')
    expect(plain.variations.find((v) => v.name === 'time')?.reach).toBeUndefined()
  })

  it('starts run B later for the file-times variation alone, with or without libfaketime', () => {
    for (const caps of [noCaps, fullCaps]) {
      const staggered = planRuns(input(['path', 'file-times'], caps))
      expect(staggered.runs.b.minStartGapMs).toBeGreaterThanOrEqual(2000)
      expect(staggered.runs.a.minStartGapMs).toBe(0)
      expect(staggered.variations[1]).toMatchObject({ name: 'file-times', status: 'effective' })
      // The clock alone does not wait: no namespace moves the real clock the kernel stamps with.
      const clock = planRuns(input(['path', 'time'], caps))
      expect(clock.runs.b.minStartGapMs).toBe(0)
    }
    const faked = planRuns(input(['path', 'time']))
    expect(faked.runs.b.launcher.slice(0, 3)).toEqual(['faketime', '-f', '+34326797'])
  })

  it('turns address randomization back on in both runs when reproof was started without it', () => {
    const restore = ['setarch', 'x86_64', '--']
    for (const sandbox of [false, true]) {
      const off = planRuns(
        input(
          ['path', 'cpus'],
          { ...fullCaps, addressRandomization: { kind: 'inherited-off', restore } },
          sandbox,
        ),
      )
      // First, so that everything the run starts inherits it.
      expect(off.runs.a.launcher.slice(0, 3)).toEqual(restore)
      expect(off.runs.b.launcher.slice(0, 3)).toEqual(restore)
    }
    for (const addressRandomization of [
      { kind: 'on' } as const,
      { kind: 'kernel-off' } as const,
      { kind: 'inherited-off', restore: undefined } as const,
    ]) {
      const { runs } = planRuns(input(['path', 'cpus'], { ...fullCaps, addressRandomization }))
      expect([...runs.a.launcher, ...runs.b.launcher]).not.toContain('setarch')
    }
  })

  it('pins run B, which starts later, to one CPU and sets MAKEFLAGS for the cpus variation', () => {
    const { runs } = planRuns(input(['path', 'cpus']))
    expect(runs.b.launcher.slice(0, 3)).toEqual(['taskset', '-c', '0'])
    expect(runs.a.launcher).not.toContain('taskset')
    expect(runs.a.env.MAKEFLAGS).toBe('-j4')
    expect(runs.b.env.MAKEFLAGS).toBe('-j1')
    // After the flags the build was given, which stay, and which the record shows.
    const given = planRuns({ ...input(['path', 'cpus']), passThrough: { MAKEFLAGS: 'V=1 -k' } })
    expect(given.runs.a.env.MAKEFLAGS).toBe('V=1 -k -j4')
    expect(given.runs.b.env.MAKEFLAGS).toBe('V=1 -k -j1')
    expect(given.variations.find((v) => v.name === 'cpus')).toMatchObject({
      a: '4 CPUs by affinity (nproc), MAKEFLAGS=V=1 -k -j4',
      b: '1 CPU by affinity (nproc), MAKEFLAGS=V=1 -k -j1',
    })
    // An OpenMP count of one given to the build is run B's too: nproc counts one CPU in
    // both, said with the plan and kept by the probe's "no difference".
    const one = planRuns({ ...input(['path', 'cpus']), passThrough: { OMP_NUM_THREADS: '1' } })
    const cpus = one.variations.find((v) => v.name === 'cpus')
    expect(cpus?.reach).toBe('not OpenMP: OMP_NUM_THREADS=1 given')
    expect(cpus?.note).toContain(
      'OMP_NUM_THREADS as passed to both runs as 1, so nproc and OpenMP count one CPU in both',
    )
    const probe = {
      time: 0,
      umask: '0022',
      uid: '0',
      hostname: 'h',
      domain: 'd',
      cpus: '1',
      tz: '+0000',
      collation: 'x',
    }
    const judged = judgeEffectiveness(one, { a: probe, b: probe }, true)
    expect(judged.find((v) => v.name === 'cpus')).toMatchObject({
      status: 'no-effect',
      note: 'a probe run saw no difference between the runs (OMP_NUM_THREADS as passed to both runs as 1, so nproc and OpenMP count one CPU in both)',
    })
    const four = planRuns({ ...input(['path', 'cpus']), passThrough: { OMP_NUM_THREADS: '4' } })
    expect(four.variations.find((v) => v.name === 'cpus')?.reach).toBeUndefined()
  })

  it('counts an OpenMP count as one thread as the runtimes read it', () => {
    // `+1` too: libgomp reads it with strtoul, which takes the sign.
    for (const v of ['1', ' 1', '01', '1,4', '1 ', ' 001 , 2', '+1', ' +01,2'])
      expect(ompCountIsOne(v), JSON.stringify(v)).toBe(true)
    for (const v of ['', '0', '2', '10', '11', '4,1', 'one', '1x', '-1', '+-1', '++1'])
      expect(ompCountIsOne(v), JSON.stringify(v)).toBe(false)
  })

  it('keeps $HOSTNAME the caller passed in both runs, and says the hostname variation does not reach it', () => {
    const passed = planRuns({
      ...input(['path', 'hostname'], fullCaps, true),
      passThrough: { HOSTNAME: 'ci' },
    })
    expect([passed.runs.a.env.HOSTNAME, passed.runs.b.env.HOSTNAME]).toEqual(['ci', 'ci'])
    const hostname = passed.variations.find((v) => v.name === 'hostname')
    expect(hostname).toMatchObject({
      status: 'effective',
      reach: 'not $HOSTNAME, passed to both runs',
    })
    expect(hostname?.note).toContain('HOSTNAME as passed to both runs, not varied')
    expect(
      planRuns(input(['path', 'hostname'], fullCaps, true)).variations.find(
        (v) => v.name === 'hostname',
      )?.reach,
    ).toBeUndefined()
  })

  it('moves run B to a zone other than run A’s, whatever --env TZ gives run A', () => {
    for (const [zoneA, hoursA] of [
      [undefined, 0],
      ['UTC', 0],
      ['<+14>-14', 14],
      ['Pacific/Kiritimati', 14],
      ['EST5EDT', -5],
      ['<-12>+12', -12],
      ['Etc/GMT-14', 14],
      // The POSIX form that names a zone by its file.
      [':Etc/GMT-14', 14],
      [':Pacific/Kiritimati', 14],
      // A zone file's path, as given or after a colon.
      ['/usr/share/zoneinfo/Etc/GMT-14', 14],
      [':/usr/share/zoneinfo/posix/Pacific/Kiritimati', 14],
    ] as const) {
      for (const zoneNames of [true, false]) {
        const plan = input(['path', 'tz'], { ...fullCaps, zoneNames })
        const { runs, variations } = planRuns({
          ...plan,
          epoch: 1_700_000_000,
          passThrough: zoneA === undefined ? {} : { TZ: zoneA },
        })
        expect(offsetHours(runs.a.env.TZ, 1_700_000_000_000), String(zoneA)).toBe(hoursA)
        const b = offsetHours(runs.b.env.TZ, 0)
        expect(b, String(zoneA)).not.toBe(hoursA)
        const tz = variations.find((v) => v.name === 'tz')
        expect(tz).toMatchObject({ status: 'effective', b: runs.b.env.TZ })
        // By name where tzdata has it, which ICU-based runtimes (Node, Java) honour too;
        // in POSIX form, which they ignore, only without it, and said.
        expect(runs.b.env.TZ?.startsWith('Etc/')).toBe(zoneNames)
        expect(tz?.note === undefined).toBe(zoneNames)
      }
    }
  })

  it('gives run B a zone that Node itself reads, where tzdata has it by name', () => {
    const { runs } = planRuns({ ...input(['path', 'tz'], { ...fullCaps, zoneNames: true }) })
    const hours = (zone: string | undefined) =>
      new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hour: 'numeric',
        hourCycle: 'h23',
      }).format(0)
    // At 00:01 UTC (the plan's epoch, 99) UTC+14 is the same day: run B goes to UTC-12.
    expect([hours(runs.a.env.TZ), hours(runs.b.env.TZ)].map(Number)).toEqual([0, 12])
  })

  it('puts run B on another calendar day than run A at the build’s time, whatever the time', () => {
    const day = (zone: string | undefined, at: number) =>
      new Intl.DateTimeFormat('en-CA', { timeZone: zone ?? 'UTC' }).format(at)
    fc.assert(
      fc.property(
        fc.integer({ min: 315_532_800, max: 4_000_000_000 }),
        fc.constantFrom(
          undefined,
          'UTC',
          'Etc/GMT-14',
          'Etc/GMT+12',
          'America/New_York',
          'Asia/Kolkata',
          'Pacific/Chatham',
        ),
        (epoch, zoneA) => {
          const zone = farZones(zoneA, epoch * 1000, Date.now()).named
          expect(day(zone, epoch * 1000)).not.toBe(day(zoneA, epoch * 1000))
        },
      ),
    )
  })

  it("varies the locale whatever run A's LC_ALL, by C's order where A has the other locale", () => {
    const plan = input(['path', 'locale'])
    // The same locale by other spellings of its codeset, as glibc reads them.
    for (const given of ['et_EE.UTF-8', 'et_EE.utf8', 'et_EE.Utf-8']) {
      const same = planRuns({ ...plan, passThrough: { LC_ALL: given } })
      expect(same.variations.find((v) => v.name === 'locale')?.status, given).toBe('effective')
      expect(same.runs.a.env.LC_ALL).toBe(given)
      expect([same.runs.b.env.LC_ALL, same.runs.b.env.LANG]).toEqual(['C.UTF-8', 'C.UTF-8'])
    }
    const pinned = planRuns({ ...plan, passThrough: { LC_ALL: 'C', LANG: 'C' } })
    expect(pinned.runs.a.env.LC_ALL).toBe('C')
    expect(pinned.runs.b.env.LC_ALL).toBe('et_EE.UTF-8')
    const other = planRuns(plan)
    expect(other.variations.find((v) => v.name === 'locale')?.status).toBe('effective')
    expect(other.runs.b.env.LC_ALL).toBe('et_EE.UTF-8')
    expect(other.runs.a.env.LC_ALL).toBe('C.UTF-8')
  })

  it('returns to the caller’s uid after setting the hostname, unless user is varied', () => {
    const hostOnly = planRuns(input(['path', 'hostname'])).runs.b.launcher
    expect(hostOnly).toContain('--map-user=1000')
    const both = planRuns(input(['path', 'hostname', 'user'])).runs.b.launcher
    expect(both).toContain('--map-user=4242')
  })
})

describe('probes and effectiveness', () => {
  const probe = (over: Partial<ProbeReport> = {}): ProbeReport => ({
    time: 1000,
    umask: '0022',
    uid: '0',
    hostname: 'h',
    domain: '(none)',
    cpus: '2',
    tz: '+0000',
    collation: 'ABabstz',
    ...over,
  })

  it('parses what the probe script prints', () => {
    expect(parseProbe('1700000000\n0022\n0\nhost\n(none)\n2\n+1400\naAbBszt\n')).toEqual({
      time: 1700000000,
      umask: '0022',
      uid: '0',
      hostname: 'host',
      domain: '(none)',
      cpus: '2',
      tz: '+1400',
      collation: 'aAbBszt',
    })
    expect(parseProbe('')).toBeUndefined()
    expect(parseProbe('soon\n0022\n0\nh\nd\n2\n')).toBeUndefined()
  })

  it('calls a variation effective only when the probes differ', () => {
    const plan = planRuns(
      input(['path', 'time', 'ordering', 'umask', 'user', 'hostname', 'cpus', 'tz', 'locale']),
    )
    const none = judgeEffectiveness(plan, { a: probe(), b: probe() }, false)
    expect(none.filter((v) => v.status === 'effective').map((v) => v.name)).toEqual(['path'])
    expect(none.filter((v) => v.status === 'no-effect')).toHaveLength(8)
    expect(none.find((v) => v.name === 'ordering')?.note).toContain('same order')
    const all = judgeEffectiveness(
      plan,
      {
        a: probe(),
        b: probe({
          time: 1000 + 397 * 86400,
          umask: '0002',
          uid: '4242',
          hostname: 'x',
          cpus: '4',
          tz: '+1400',
          collation: 'aAbBszt',
        }),
      },
      true,
    )
    expect(all.every((v) => v.status === 'effective')).toBe(true)
    // A source with no directory of two entries: reversing it reverses nothing.
    const single = judgeEffectiveness(plan, { a: probe(), b: probe() }, true, false)
    const ordering = single.find((v) => v.name === 'ordering')
    expect(ordering?.status).toBe('no-effect')
    expect(ordering?.note).toMatch(/no directory of the source holds two entries or more/)
  })
})

describe('launchPath', () => {
  it("holds reproof's own absolute directories, then the system's, never an empty or relative one", () => {
    fc.assert(
      fc.property(
        fc.option(
          fc.array(fc.constantFrom('', '/opt/bin', '/usr/bin', 'rel', '.'), { maxLength: 5 }),
        ),
        (own) => {
          const dirs = launchPath(own?.join(':')).split(':')
          expect(dirs.every((d) => d.startsWith('/'))).toBe(true)
          expect(new Set(dirs).size).toBe(dirs.length)
          const first = [...new Set((own ?? []).filter((d) => d.startsWith('/')))]
          expect(dirs.slice(0, first.length)).toEqual(first)
          for (const d of ['/usr/bin', '/bin', '/usr/sbin']) expect(dirs).toContain(d)
        },
      ),
    )
  })
})
