import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { VARIATIONS, type VariationName } from '../../src/config/variations.js'
import {
  judgeEffectiveness,
  parseProbe,
  planRuns,
  type Capabilities,
  type PlanInput,
  type ProbeReport,
  type RunLayout,
} from '../../src/sandbox/run-plan.js'

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
  faketime: { wrapper: 'faketime', version: '0.9.10', missingSymbols: [] },
  namespaces: true,
  taskset: true,
  cpuCount: 4,
  unusualLocale: 'et_EE.UTF-8',
  uid: 1000,
  gid: 1000,
}
const noCaps: Capabilities = {
  faketime: undefined,
  namespaces: false,
  taskset: false,
  cpuCount: 1,
  unusualLocale: undefined,
  uid: 1000,
  gid: 1000,
}

const input = (variations: VariationName[], capabilities = fullCaps): PlanInput => ({
  variations,
  capabilities,
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
          expect(run.launcher.slice(-4, -1)).toEqual([
            '/bin/sh',
            '-c',
            expect.stringMatching(/^umask 00[02]2 && exec "\$@"$/),
          ])
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
        for (const r of records) if (!r.applied) expect(r.effective).toBe(false)
      }),
    )
  })

  it('injects the canary wherever it injects a value', () => {
    const { runs } = planRuns(input(['path', 'hostname', 'domain', 'env', 'exec-path', 'home']))
    expect(runs.b.launcher).toContain('reproof-canaryX')
    expect(runs.b.launcher).toContain('reproof-canaryX.invalid')
    expect(runs.b.env.REPROOF_VARIATION).toBe('canaryX')
    expect(runs.b.env.PATH?.split(':')[0]).toContain('canaryX')
    expect(runs.b.env.HOME).toContain('canaryX')
    expect(runs.b.mkdirs).not.toContain(runs.b.env.HOME)
  })

  it('falls back to a staggered start without libfaketime', () => {
    const { runs, variations } = planRuns(input(['path', 'time'], noCaps))
    expect(runs.b.minStartGapMs).toBeGreaterThanOrEqual(1000)
    expect(variations[1]?.note).toContain('libfaketime')
    const faked = planRuns(input(['path', 'time']))
    expect(faked.runs.b.launcher.slice(0, 3)).toEqual(['faketime', '-f', '+397d'])
    expect(faked.runs.b.minStartGapMs).toBe(0)
  })

  it('pins run A to one CPU and sets MAKEFLAGS for the cpus variation', () => {
    const { runs } = planRuns(input(['path', 'cpus']))
    expect(runs.a.launcher.slice(0, 3)).toEqual(['taskset', '-c', '0'])
    expect(runs.a.env.MAKEFLAGS).toBe('-j1')
    expect(runs.b.env.MAKEFLAGS).toBe('-j4')
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
    ...over,
  })

  it('parses what the probe script prints', () => {
    expect(parseProbe('1700000000\n0022\n0\nhost\n(none)\n2\n')).toEqual({
      time: 1700000000,
      umask: '0022',
      uid: '0',
      hostname: 'host',
      domain: '(none)',
      cpus: '2',
    })
    expect(parseProbe('')).toBeUndefined()
    expect(parseProbe('soon\n0022\n0\nh\nd\n2\n')).toBeUndefined()
  })

  it('calls a variation effective only when the probes differ', () => {
    const { variations } = planRuns(
      input(['path', 'time', 'ordering', 'umask', 'user', 'hostname', 'cpus']),
    )
    const none = judgeEffectiveness(variations, { a: probe(), b: probe() }, false)
    expect(none.filter((v) => v.effective).map((v) => v.name)).toEqual(['path'])
    expect(none.find((v) => v.name === 'ordering')?.note).toContain('same order')
    const all = judgeEffectiveness(
      variations,
      {
        a: probe(),
        b: probe({
          time: 1000 + 397 * 86400,
          umask: '0002',
          uid: '4242',
          hostname: 'x',
          cpus: '4',
        }),
      },
      true,
    )
    expect(all.every((v) => v.effective)).toBe(true)
  })
})
