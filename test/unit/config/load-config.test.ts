import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  toBuildOptions,
  parseEnvRequest,
  type BuildConfig,
} from '../../../src/config/build-options.js'
import { formatDuration, parseDuration } from '../../../src/config/duration.js'
import { chooseEpoch, parseEpoch } from '../../../src/config/epoch.js'
import { parseBuildConfig } from '../../../src/config/load-config.js'
import {
  DEFAULT_VARIATIONS,
  resolveVariations,
  splitList,
  VARIATIONS,
} from '../../../src/config/variations.js'
import { codeOf } from '../../helpers.js'

describe('parseEpoch', () => {
  it('accepts exactly the non-negative decimal integers up to year 9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253402300799 }), (n) => {
        expect(parseEpoch(String(n), 'x')).toBe(n)
      }),
    )
  })

  it('rejects every string that is not only digits', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !/^[0-9]+$/.test(s)),
        (s) => {
          expect(codeOf(() => parseEpoch(s, 'x'))).toBe('E_INPUT')
        },
      ),
    )
  })

  it('rejects values beyond the year 9999 and leading signs', () => {
    for (const s of ['253402300800', '99999999999999999999', '+5', '-0', '0x10', '1e3']) {
      expect(
        codeOf(() => parseEpoch(s, 'x')),
        s,
      ).toBe('E_INPUT')
    }
  })
})

describe('chooseEpoch', () => {
  it('takes flag, then config, then environment, then git, then 0', () => {
    expect(chooseEpoch({ flag: '1', config: 2, environment: '3', gitCommitTime: 4 })).toEqual({
      value: 1,
      source: 'flag',
    })
    expect(chooseEpoch({ config: 2, environment: '3', gitCommitTime: 4 })).toEqual({
      value: 2,
      source: 'config',
    })
    expect(chooseEpoch({ environment: '3', gitCommitTime: 4 })).toEqual({
      value: 3,
      source: 'environment',
    })
    expect(chooseEpoch({ gitCommitTime: 4 })).toEqual({ value: 4, source: 'git' })
    expect(chooseEpoch({})).toEqual({ value: 0, source: 'default' })
  })

  it('never falls back past an invalid value', () => {
    expect(codeOf(() => chooseEpoch({ environment: 'yesterday', gitCommitTime: 4 }))).toBe(
      'E_INPUT',
    )
  })

  it('refuses a commit time no SOURCE_DATE_EPOCH can be (git takes dates before 1970 and past 9999)', () => {
    for (const time of [-1, 253402300800, 300000000000])
      expect(() => chooseEpoch({ gitCommitTime: time }), String(time)).toThrow(
        /^the commit's time \(git\), taken as the epoch: /,
      )
    expect(chooseEpoch({ gitCommitTime: 253402300799 })).toEqual({
      value: 253402300799,
      source: 'git',
    })
  })
})

describe('parseDuration', () => {
  it('round-trips sums of units', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 1, max: 59 }),
        (h, m, s) => {
          expect(parseDuration(`${h}h${m}m${s}s`, 'x')).toBe(((h * 60 + m) * 60 + s) * 1000)
        },
      ),
    )
  })

  it('reads a bare number as seconds and refuses zero, junk and more than 7 days', () => {
    expect(parseDuration('90', 'x')).toBe(90_000)
    expect(parseDuration('250ms', 'x')).toBe(250)
    for (const s of ['0', '0s', '', 'soon', '5 m', '-5s', '1.5s', '8d'])
      expect(
        codeOf(() => parseDuration(s, 'x')),
        s,
      ).toBe('E_INPUT')
  })

  it('formats for people', () => {
    expect(formatDuration(120)).toBe('120ms')
    expect(formatDuration(2500)).toBe('2.5s')
    expect(formatDuration(125_000)).toBe('2m05s')
  })
})

describe('resolveVariations', () => {
  const layer = (vary: string[], noVary: string[] = []) => ({ vary, noVary, where: 'test' })
  const names = (layers: ReturnType<typeof layer>[]) => resolveVariations(layers).names

  it('starts from path, time and ordering, none of them asked for by name', () => {
    expect(resolveVariations([])).toEqual({
      names: DEFAULT_VARIATIONS,
      explicit: [],
      turnedOff: [],
    })
  })

  it('adds and removes, and never loses path', () => {
    const name = fc.constantFrom(...VARIATIONS.filter((v) => v !== 'path'))
    fc.assert(
      fc.property(fc.array(name), fc.array(name), (add, remove) => {
        const removeOnly = remove.filter((r) => !add.includes(r))
        const { names: result, explicit } = resolveVariations([layer(add, removeOnly)])
        expect(result).toContain('path')
        for (const a of add) expect(result).toContain(a)
        for (const r of removeOnly) expect(result).not.toContain(r)
        // Always in the canonical order, without repeats.
        expect(result).toEqual(VARIATIONS.filter((v) => result.includes(v)))
        // Exactly the names given to --vary are explicit.
        expect(explicit).toEqual(VARIATIONS.filter((v) => (add as string[]).includes(v)))
      }),
    )
  })

  it('lets a later layer undo an earlier one', () => {
    expect(names([layer(['umask']), layer([], ['umask'])])).not.toContain('umask')
    expect(resolveVariations([layer(['umask']), layer([], ['umask'])]).explicit).toEqual([])
  })

  it('expands all, and no-vary all keeps path', () => {
    expect(resolveVariations([layer(['all'])])).toEqual({
      names: [...VARIATIONS],
      explicit: [],
      turnedOff: [],
    })
    expect(names([layer([], ['all'])])).toEqual(['path'])
  })

  it('takes all but the ones turned off', () => {
    const result = names([layer(['all'], ['time'])])
    expect(result).toEqual(VARIATIONS.filter((v) => v !== 'time'))
  })

  it('keeps what a layer names in its vary list when its no-vary list says all', () => {
    expect(resolveVariations([layer(['umask'], ['all'])])).toEqual({
      names: ['path', 'umask'],
      explicit: ['umask'],
      turnedOff: DEFAULT_VARIATIONS.filter((v) => v !== 'path').map((name) => ({
        name,
        by: 'test no-vary',
      })),
    })
  })

  it('names a variation an earlier layer asked for and a later one turned off', () => {
    const { names: chosen, turnedOff } = resolveVariations([
      layer(['umask']),
      { ...layer([], ['all']), noVaryName: '--no-vary' },
    ])
    expect(chosen).toEqual(['path'])
    expect(turnedOff).toContainEqual({ name: 'umask', by: '--no-vary' })
  })

  it('refuses an empty value in a list of variations', () => {
    for (const value of ['', ' ', ',', ' , '])
      expect(
        codeOf(() => splitList([value], '--vary')),
        JSON.stringify(value),
      ).toBe('E_USAGE')
    expect(splitList(['time,umask', 'tz'], '--vary')).toEqual(['time', 'umask', 'tz'])
  })

  it('names the variations a no-vary list turned off, by the last list that did', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.subarray([...VARIATIONS]), fc.subarray([...VARIATIONS]))),
        (lists) => {
          const layers = lists.map(([vary, noVary], i) => ({
            vary: vary.filter((v) => !noVary.includes(v)),
            noVary: noVary.filter((v) => v !== 'path'),
            where: `layer ${i}`,
            noVaryName: `list ${i}`,
          }))
          const { names: chosen, turnedOff } = resolveVariations(layers)
          // Exactly those on at some point (a default, or asked for) and not chosen in the
          // end, each by the last list that removed it.
          expect(turnedOff.map((t) => t.name)).toEqual(
            VARIATIONS.filter(
              (v) =>
                !chosen.includes(v) &&
                (DEFAULT_VARIATIONS.includes(v) || layers.some((l) => l.vary.includes(v))),
            ),
          )
          for (const { name, by } of turnedOff) {
            const last = layers.findLastIndex((l) => (l.noVary as readonly string[]).includes(name))
            expect(by).toBe(`list ${last}`)
          }
        },
      ),
    )
  })

  it('refuses unknown names, contradictions and turning path off', () => {
    expect(codeOf(() => resolveVariations([layer(['moon'])]))).toBe('E_USAGE')
    expect(codeOf(() => resolveVariations([layer(['tz'], ['tz'])]))).toBe('E_USAGE')
    expect(codeOf(() => resolveVariations([layer([], ['path'])]))).toBe('E_USAGE')
  })
})

describe('toBuildOptions', () => {
  const base = { out: ['a'] }

  it('resolves paths against the working dir and the config dir', () => {
    const options = toBuildOptions(
      { ...base, source: 'src', record: 'r.json' },
      ['make'],
      { outDir: 'dist' },
      '/w',
      '/w/src',
    )
    expect(options.source).toBe('/w/src')
    expect(options.record).toBe('/w/r.json')
    expect(options.outDir).toBe('/w/src/dist')
  })

  it('defaults the out dir to the source', () => {
    expect(toBuildOptions(base, ['make'], {}, '/w', '/w').outDir).toBe('/w')
  })

  it('refuses globs that climb out of the build root', () => {
    for (const glob of ['../x', '/etc/passwd', 'a/../../b']) {
      expect(
        codeOf(() => toBuildOptions({ out: [glob] }, ['make'], {}, '/w', '/w')),
        glob,
      ).toBe('E_USAGE')
    }
  })

  it('merges env with flags winning and refuses managed names', () => {
    const options = toBuildOptions(
      { ...base, env: ['A=flag'] },
      ['make'],
      { env: ['A=config', 'B=1'] },
      '/w',
      '/w',
    )
    expect(options.env).toEqual([
      { name: 'A', value: 'flag' },
      { name: 'B', value: '1', fromConfig: true },
    ])
    for (const bad of [
      'HOME=/x',
      'SOURCE_DATE_EPOCH=1',
      'LD_PRELOAD=x',
      'FAKETIME=+1d',
      '1BAD=x',
      'A-B=1',
    ]) {
      expect(
        codeOf(() => parseEnvRequest(bad)),
        bad,
      ).toBe('E_USAGE')
    }
  })

  it("lets the source tree's config describe the build, never loosen its isolation", () => {
    const options = (config: BuildConfig) => () =>
      toBuildOptions(base, ['make'], config, '/w', '/w/src')
    // Tightening, and describing, are the tree's to say.
    expect(
      options({ sandbox: true, network: false, requireSandbox: true, env: ['CC=gcc'] })(),
    ).toMatchObject({
      sandbox: true,
      network: false,
      env: [{ name: 'CC', value: 'gcc' }],
    })
    expect(options({ outDir: 'dist', record: 'out/r.json' })().outDir).toBe('/w/src/dist')
    for (const [config, said] of [
      [
        { sandbox: false },
        /"sandbox": false: a source tree may not loosen its own isolation; pass --no-sandbox/,
      ],
      [{ network: true }, /"network": true: .*pass --network/],
      [{ env: ['CI_TOKEN'] }, /"env" passes CI_TOKEN through from the caller/],
      [
        { outDir: '/home/runner/.ssh' },
        /"outDir": \/home\/runner\/\.ssh is outside the source tree.*--out-dir/,
      ],
      [{ record: '../r.json' }, /"record": \.\.\/r\.json is outside/],
      [{ tempDir: '/tmp/x' }, /"tempDir"/],
      [{ report: 'a/../../b.html' }, /"report"/],
    ] as [BuildConfig, RegExp][]) {
      expect(options(config)).toThrow(said)
      expect(codeOf(options(config))).toBe('E_INPUT')
    }
    // Nor through a link the tree holds: `escape` leads out of it.
    const tree = fs.mkdtempSync(path.join(os.tmpdir(), 'reproof-config-'))
    try {
      fs.symlinkSync(os.tmpdir(), path.join(tree, 'escape'))
      fs.mkdirSync(path.join(tree, 'dist'))
      const inTree = (config: BuildConfig) => () =>
        toBuildOptions(base, ['make'], config, tree, tree)
      expect(inTree({ outDir: 'escape' })).toThrow(/"outDir": escape is outside the source tree/)
      expect(inTree({ record: 'escape/new/r.json' })).toThrow(/"record"/)
      expect(inTree({ outDir: 'dist', record: 'dist/new/r.json' })().outDir).toBe(
        path.join(tree, 'dist'),
      )
    } finally {
      fs.rmSync(tree, { recursive: true, force: true })
    }
    // The same, given by the caller on the command line, is the caller's choice.
    const chosen = toBuildOptions(
      { ...base, sandbox: false, network: true, env: ['CI_TOKEN'], outDir: '/o' },
      ['make'],
      {},
      '/w',
      '/w/src',
    )
    expect(chosen).toMatchObject({
      sandbox: false,
      network: true,
      outDir: '/o',
      env: [{ name: 'CI_TOKEN' }],
    })
  })

  it('needs a command and an output', () => {
    expect(codeOf(() => toBuildOptions(base, [], {}, '/w', '/w'))).toBe('E_USAGE')
    expect(codeOf(() => toBuildOptions({}, ['make'], {}, '/w', '/w'))).toBe('E_USAGE')
  })
})

describe('parseBuildConfig', () => {
  it('refuses unknown keys, wrong types and bad JSON, naming the file', () => {
    for (const text of [
      '{"outputs":["x"]}',
      '{"epoch":"5"}',
      '{"epoch":-1}',
      '{"keep":"yes"}',
      '[]',
      '{',
      '{"out":[]}',
    ]) {
      let message = ''
      try {
        parseBuildConfig(text, 'reproof.config.json')
      } catch (err) {
        message = (err as Error).message
      }
      expect(message, text).toMatch(/^reproof\.config\.json/)
    }
  })

  it('accepts every valid shape', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            command: fc.array(fc.string({ minLength: 1 }), { minLength: 1 }),
            epoch: fc.nat(),
            keep: fc.boolean(),
            vary: fc.array(fc.constantFrom(...VARIATIONS)),
          },
          { requiredKeys: [] },
        ),
        (config) => {
          expect(parseBuildConfig(JSON.stringify(config), 'c')).toEqual(config)
        },
      ),
    )
  })
})
