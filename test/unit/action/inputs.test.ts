import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  flag,
  inInputTerms,
  input,
  list,
  toArgv,
  TRUST_INPUTS,
} from '../../../src/action/inputs.js'
import { REPO } from '../../helpers.js'

const item = fc
  .string({ minLength: 1, maxLength: 20 })
  .filter((s) => !/[\r\n]/.test(s) && s.trim() === s && s !== '')

describe('action inputs', () => {
  it('reads a list one item per line, ignoring blanks; a comma is part of an item', () => {
    fc.assert(
      fc.property(
        fc.array(item, { maxLength: 8 }),
        fc.constantFrom('\n', '\n\n', '\r\n'),
        (items, sep) => {
          expect(list({ INPUT_ARTIFACTS: items.join(sep) }, 'artifacts')).toEqual(items)
        },
      ),
    )
    expect(list({ INPUT_OUTPUTS: 'out/*.{txt,md}\ndist/a,b.tgz' }, 'outputs')).toEqual([
      'out/*.{txt,md}',
      'dist/a,b.tgz',
    ])
  })

  it('accepts the hyphenated and the underscored spelling of a name alike', () => {
    fc.assert(
      fc.property(item, (value) => {
        expect(input({ 'INPUT_OUT-DIR': value }, 'out-dir')).toBe(value)
        expect(input({ INPUT_OUT_DIR: value }, 'out-dir')).toBe(value)
      }),
    )
  })

  it('refuses the underscored spelling beside the one the runner sets, rather than drop it', () => {
    // The runner sets every declared input (to its default, or ''): a workflow's
    // `builder_id:` came beside an empty `builder-id`, and verify passed unchecked.
    fc.assert(
      fc.property(item, fc.constantFrom('', 'false', 'x'), (value, preset) => {
        expect(() =>
          input({ 'INPUT_BUILDER-ID': preset, INPUT_BUILDER_ID: value }, 'builder-id'),
        ).toThrow(/^input builder_id: this action's input is builder-id, with hyphens/)
      }),
    )
    // Empty beside it is no input at all.
    expect(input({ 'INPUT_BUILDER-ID': 'x', INPUT_BUILDER_ID: '' }, 'builder-id')).toBe('x')
    const verify = {
      INPUT_MODE: 'verify',
      INPUT_ARTIFACTS: 'dist/app',
      INPUT_BUNDLE: 'b.json',
      'INPUT_PUBLIC-KEY': 'k.pub',
      'INPUT_REQUIRE-REPRODUCED': 'false',
      'INPUT_GITHUB-TOKEN': 'ghs_x',
    }
    expect(() => toArgv({ ...verify, INPUT_REQUIRE_REPRODUCED: 'true' })).toThrow(
      /^input require_reproduced: /,
    )
    // An input always set, which a mode that does not read it lets through.
    expect(() => toArgv({ ...verify, INPUT_GITHUB_TOKEN: 'ghs_y' })).toThrow(
      /^input github_token: /,
    )
    expect(toArgv(verify).argv).toContain('dist/app')
  })

  it('takes the booleans @actions/core takes (YAML 1.2 core schema), and nothing else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.constantFrom('true', 'True', 'TRUE', 'false', 'False', 'FALSE', 'yes', 'tRue'),
        ),
        (value) => {
          const env = { INPUT_KEYLESS: value }
          const t = value.trim()
          if (t === '' || ['false', 'False', 'FALSE'].includes(t))
            expect(flag(env, 'keyless')).toBe(false)
          else if (['true', 'True', 'TRUE'].includes(t)) expect(flag(env, 'keyless')).toBe(true)
          else expect(() => flag(env, 'keyless')).toThrow(/input keyless: .* is not a boolean/)
        },
      ),
    )
  })

  it('names inputs, not flags, in the messages it passes on', () => {
    const { inputOf } = toArgv({
      INPUT_MODE: 'gate',
      INPUT_ARTIFACTS: 'a',
      INPUT_ENVIRONMENT: 'prod',
      INPUT_BUNDLE: 'b.json',
      INPUT_LEDGER: 'git:https://example.com/releases.git#ledger',
    })
    expect(inInputTerms('--env prod: no such environment; see --key and --bundle', inputOf)).toBe(
      'input environment prod: no such environment; see input public-key and input bundle',
    )
    const build = toArgv({ INPUT_COMMAND: 'make', INPUT_OUTPUTS: 'x' }).inputOf
    expect(inInputTerms('--out-dir x: not a directory (--keyless needs --bundle)', build)).toBe(
      'input out-dir x: not a directory (input keyless needs input bundle)',
    )
    // A flag no input gives stays as it is.
    expect(inInputTerms('--max-bytes 1: too small', build)).toBe('--max-bytes 1: too small')
    expect(() =>
      toArgv({ INPUT_COMMAND: 'make', INPUT_OUTPUTS: 'x', 'INPUT_OUT-DIR': '--' }),
    ).toThrow(/^input out-dir: "--" is not a value it takes/)
    expect(() =>
      toArgv({ INPUT_COMMAND: 'make', INPUT_OUTPUTS: 'x', INPUT_EXCLUDE: 'a\n--' }),
    ).toThrow(/^input exclude: /)
    // Nor a short option in prose (the verdict quotes `ps -o lstart`).
    const prose = 'process start times (ps -o lstart) differ'
    expect(inInputTerms(prose, build)).toBe(prose)
    expect(inInputTerms('--out x: matched no file', build)).toBe('input outputs x: matched no file')
  })

  it('refuses an input its mode does not read, rather than answer without it', () => {
    const verify = {
      INPUT_MODE: 'verify',
      INPUT_ARTIFACTS: 'dist/app',
      INPUT_BUNDLE: 'b.json',
      INPUT_PUBLIC_KEY: 'k.pub',
      // As the runner sets them from action.yml's defaults: asking for nothing.
      INPUT_KEEP: 'false',
      INPUT_GITHUB_TOKEN: 'ghs_x',
      INPUT_GATE_ACTION: 'deploy',
    }
    expect(toArgv(verify).mode).toBe('verify')
    for (const [name, value] of [
      ['SOURCE', 'https://github.com/some/other-repo'],
      ['COMMAND', 'make'],
      ['REQUIRE_SANDBOX', 'true'],
      ['LEDGER', 'ledger.jsonl'],
    ] as const) {
      expect(() => toArgv({ ...verify, [`INPUT_${name}`]: value }), name).toThrow(
        new RegExp(`^input ${name.toLowerCase().replace('_', '-')}: not used in verify mode`),
      )
    }
    // Build mode reads the signing inputs even where a fork's pull request cannot sign.
    expect(
      toArgv({ INPUT_COMMAND: 'make', INPUT_OUTPUTS: 'out', INPUT_KEY: 'k', INPUT_BUNDLE: 'b' })
        .mode,
    ).toBe('build')
    expect(() =>
      toArgv({ INPUT_COMMAND: 'make', INPUT_OUTPUTS: 'out', INPUT_ARTIFACTS: 'dist/app' }),
    ).toThrow(/^input artifacts: not used in build mode/)
    // A rollback names its digest; an artifact beside it would be checked by nothing.
    const gate = {
      INPUT_MODE: 'gate',
      INPUT_ENVIRONMENT: 'prod',
      INPUT_LEDGER: 'l.jsonl',
      INPUT_PUBLIC_KEY: 'k.pub',
    }
    expect(() =>
      toArgv({
        ...gate,
        INPUT_GATE_ACTION: 'rollback',
        INPUT_TO: 'a'.repeat(64),
        INPUT_REASON: 'r',
        INPUT_ARTIFACTS: 'dist/app',
      }),
    ).toThrow(/^input artifacts: not used in gate mode/)
    // A deploy records one artifact: a second would be dropped.
    expect(() =>
      toArgv({ ...gate, INPUT_BUNDLE: 'b.json', INPUT_ARTIFACTS: 'dist/a\ndist/b' }),
    ).toThrow(/^input artifacts: a deploy records one artifact, and 2 were given/)
  })

  it("refuses to gate a release from a run for a fork's change", () => {
    // Its code may be the fork's, perhaps with this repository's ledger token: any
    // artifact ever signed could be recorded, an older release among them.
    const dir = fs.mkdtempSync(path.join(REPO, '.tmp-gate-fork-'))
    try {
      const event = (name: string, payload: unknown) => {
        const file = path.join(dir, `${name}.json`)
        fs.writeFileSync(file, JSON.stringify(payload))
        return { GITHUB_EVENT_NAME: name, GITHUB_EVENT_PATH: file }
      }
      const pr = {
        pull_request: {
          head: { repo: { full_name: 'someone/fork', fork: true } },
          base: { repo: { full_name: 'owner/repo' } },
        },
      }
      const gate = {
        INPUT_MODE: 'gate',
        INPUT_ENVIRONMENT: 'prod',
        INPUT_LEDGER: 'l.jsonl',
        INPUT_PUBLIC_KEY: 'k.pub',
        INPUT_BUNDLE: 'b.json',
        INPUT_ARTIFACTS: 'dist/app',
      }
      for (const env of [
        event('pull_request', pr),
        event('pull_request_review', pr),
        event('pull_request_target', pr),
        event('issue_comment', { issue: { pull_request: {} } }),
      ])
        expect(() => toArgv({ ...gate, ...env }), env.GITHUB_EVENT_NAME).toThrow(
          /^mode gate: this is .*, whose code may be the fork's; gate releases in a workflow of this repository's own events/,
        )
      expect(toArgv({ ...gate, ...event('push', {}) }).mode).toBe('gate')
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('names a required input that is missing, before the CLI would name its flag', () => {
    const verify = { INPUT_MODE: 'verify', INPUT_ARTIFACTS: 'dist/app', INPUT_PUBLIC_KEY: 'k' }
    expect(() => toArgv(verify)).toThrow(/^input bundle: required in verify mode$/)
    const gate = { INPUT_MODE: 'gate', INPUT_PUBLIC_KEY: 'k', INPUT_BUNDLE: 'b.json' }
    expect(() => toArgv({ ...gate, INPUT_ARTIFACTS: 'app' })).toThrow(
      /^input environment: required in gate mode$/,
    )
    // The ledger is named: the workspace's default goes with the runner, and with it
    // every release it recorded.
    expect(() => toArgv({ ...gate, INPUT_ENVIRONMENT: 'prod', INPUT_ARTIFACTS: 'app' })).toThrow(
      /^input ledger: required in gate mode/,
    )
    const prod = { ...gate, INPUT_ENVIRONMENT: 'prod', INPUT_LEDGER: '/srv/ledger.jsonl' }
    expect(() => toArgv({ ...prod, INPUT_BUNDLE: '', INPUT_ARTIFACTS: 'app' })).toThrow(
      /^input bundle: required for a deploy$/,
    )
    const rollback = { ...prod, INPUT_GATE_ACTION: 'rollback' }
    expect(() => toArgv({ ...rollback, INPUT_REASON: 'r' })).toThrow(
      /^input to: required for a rollback$/,
    )
    expect(() => toArgv({ ...rollback, INPUT_TO: 'a'.repeat(64) })).toThrow(
      /^input reason: required for a rollback$/,
    )
    expect(toArgv({ ...rollback, INPUT_TO: 'a'.repeat(64), INPUT_REASON: 'r' }).mode).toBe('gate')
  })

  it('never lets an artifact line become a reproof option', () => {
    const verify = { INPUT_MODE: 'verify', INPUT_BUNDLE: 'b.json', INPUT_PUBLIC_KEY: 'k.pub' }
    const gate = {
      ...verify,
      INPUT_MODE: 'gate',
      INPUT_ENVIRONMENT: 'prod',
      INPUT_LEDGER: '/srv/ledger.jsonl',
    }
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constantFrom('--help', '-h', '-V', '--version', '--key=other.pub', '--', '-'),
          fc.string({ minLength: 1 }).map((s) => `-${s}`),
        ),
        (line) => {
          fc.pre(line.trim() !== '' && !/[\r\n]/.test(line))
          for (const env of [verify, gate]) {
            const { argv } = toArgv({ ...env, INPUT_ARTIFACTS: line })
            const end = argv.indexOf('--')
            // Every artifact after the end of options: read as a path, whatever it says.
            expect(end).toBeGreaterThan(0)
            expect(argv.slice(end + 1)).toEqual([line.trim()])
          }
        },
      ),
    )
  })

  it('never lets the build command become reproof options', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => s.trim() !== ''),
        (command) => {
          const { argv } = toArgv({ INPUT_COMMAND: command, INPUT_OUTPUTS: 'out' })
          const dash = argv.indexOf('--')
          expect(argv.slice(dash)).toEqual(['--', 'sh', '-c', command.trim()])
        },
      ),
    )
  })
})

describe('action.yml', () => {
  const yml = fs.readFileSync(path.join(REPO, 'action.yml'), 'utf8')
  const declared = [
    ...(/^inputs:\n([\s\S]*?)^outputs:/m.exec(yml)?.[1] ?? '').matchAll(/^ {2}([a-z-]+):$/gm),
  ].map((m) => m[1] ?? '')
  const source = fs.readFileSync(path.join(REPO, 'src', 'action', 'inputs.ts'), 'utf8')
  const read = new Set([
    ...[
      ...source.matchAll(
        /\b(?:input|list|flag|opt|need|bool|either|each|get)\(\s*(?:[\w.]+,\s*)?'([a-z-]+)'/g,
      ),
    ].map((m) => m[1] ?? ''),
    ...TRUST_INPUTS,
  ])

  it('reads every declared input', () => {
    expect(declared.length).toBeGreaterThan(10)
    for (const name of declared) expect(read, name).toContain(name)
  })

  it('declares every input the program reads', () => {
    for (const name of read) expect(declared, name).toContain(name)
  })
})
