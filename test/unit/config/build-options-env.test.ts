import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { toBuildOptions, parseEnvRequest } from '../../../src/config/build-options.js'
import { toEnvironmentEntries } from '../../../src/records/build-record.js'
import { resolvePassThrough } from '../../../src/twin/read-inputs.js'
import { ReproofError } from '../../../src/errors.js'

function thrown(f: () => unknown): ReproofError {
  try {
    f()
  } catch (err) {
    expect(err).toBeInstanceOf(ReproofError)
    return err as ReproofError
  }
  throw new Error('expected an error')
}

const validName = fc
  .stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/)
  .filter((n) => !['HOME', 'TMPDIR', 'SOURCE_DATE_EPOCH', 'LD_PRELOAD'].includes(n))
  .filter((n) => !n.startsWith('FAKETIME'))

describe('--env requests', () => {
  it('split at the first "=": the value keeps any further ones, and may be empty', () => {
    fc.assert(
      fc.property(validName, fc.string(), (name, value) => {
        expect(parseEnvRequest(`${name}=${value}`)).toEqual({ name, value })
        expect(parseEnvRequest(name)).toEqual({ name })
      }),
    )
    expect(parseEnvRequest('A==b=c')).toEqual({ name: 'A', value: '=b=c' })
  })

  it('refuse a name that is not a shell variable name, whole', () => {
    const char = fc.constantFrom('a', 'Z', '_', '0', '9', '-', ' ', '\n', 'é', '.')
    fc.assert(
      fc.property(fc.string({ unit: char, maxLength: 6 }), (name) => {
        if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
          expect(parseEnvRequest(`${name}=v`)).toEqual({ name, value: 'v' })
        } else {
          expect(thrown(() => parseEnvRequest(`${name}=v`)).code).toBe('E_USAGE')
        }
      }),
    )
    for (const bad of ['', '=v', 'A B=1', 'A\n=1', 'xA-=1', '-A', 'Ä=1', '9=1']) {
      const err = thrown(() => parseEnvRequest(bad))
      expect(err.code, bad).toBe('E_USAGE')
      expect(err.message, bad).toContain('is not a valid variable name')
    }
    for (const good of ['_', 'a', 'Z9', '_1', 'a_b_C'])
      expect(parseEnvRequest(good).name).toBe(good)
  })

  it('refuse what reproof sets itself, and point SOURCE_DATE_EPOCH at --epoch', () => {
    for (const name of ['HOME', 'TMPDIR', 'LD_PRELOAD', 'FAKETIME', 'FAKETIME_X', 'FAKETIMEDIR']) {
      const err = thrown(() => parseEnvRequest(`${name}=1`))
      expect(err.message).toBe(`--env ${name}: reproof sets ${name} for every run itself`)
      expect(err.context.hint).toBeUndefined()
    }
    expect(thrown(() => parseEnvRequest('SOURCE_DATE_EPOCH')).context.hint).toBe('use --epoch')
    // Only the exact names, and only FAKETIME as a prefix.
    for (const name of ['HOMEDIR', 'MY_HOME', 'XFAKETIME', 'TMP']) {
      expect(parseEnvRequest(name)).toEqual({ name })
    }
  })

  it('from the config and the flags merge by name, flags winning, sorted by name', () => {
    const options = toBuildOptions(
      { out: ['a'], env: ['b=flag', 'C'] },
      ['make'],
      { env: ['b=config', 'a=1', 'B=2'] },
      '/w',
      '/w',
    )
    expect(options.env).toEqual([
      { name: 'B', value: '2', fromConfig: true },
      { name: 'C' },
      { name: 'a', value: '1', fromConfig: true },
      { name: 'b', value: 'flag' },
    ])
    // The record says where each value came from: the source tree's config is no flag.
    expect(
      toEnvironmentEntries({ B: '2', C: 'c', a: '1', b: 'flag', PATH: '/bin' }, options.env, {
        B: '2',
        C: 'c',
        a: '1',
        b: 'flag',
      }),
    ).toEqual([
      { name: 'B', value: '2', from: 'config' },
      { name: 'C', from: 'caller' },
      { name: 'PATH', value: '/bin', from: 'reproof' },
      { name: 'a', value: '1', from: 'config' },
      { name: 'b', value: 'flag', from: 'flag' },
    ])
    // A value a variation changed in run A (MAKEFLAGS with the CPU count's -j): the value
    // given, which a rebuild gives again, and what run A had.
    expect(
      toEnvironmentEntries({ B: '2 -j2', C: 'c', a: '1', b: 'flag' }, options.env, {
        B: '2',
        C: 'c',
        a: '1',
        b: 'flag',
      }).find((e) => e.name === 'B'),
    ).toEqual({ name: 'B', value: '2', effective: '2 -j2', from: 'config' })
  })
})

describe('passing the environment through', () => {
  it('gives a set value as set, and a bare name the caller’s value, empty ones included', () => {
    expect(
      resolvePassThrough(
        [{ name: 'A', value: 'given' }, { name: 'B' }, { name: 'E' }, { name: 'F', value: '' }],
        { A: 'caller', B: 'from caller', E: '' },
      ),
    ).toEqual({ A: 'given', B: 'from caller', E: '', F: '' })
  })

  it('refuses a bare name the caller does not have, saying how to give one', () => {
    const err = thrown(() => resolvePassThrough([{ name: 'A', value: '1' }, { name: 'TOKEN' }], {}))
    expect(err.code).toBe('E_INPUT')
    expect(err.message).toBe(
      "--env TOKEN: not set in reproof's environment, so there is nothing to pass through",
    )
    expect(err.context.hint).toBe('set it, or give a value: --env TOKEN=VALUE')
  })

  it('passes nothing that was not asked for', () => {
    fc.assert(
      fc.property(
        fc.dictionary(validName, fc.string()),
        fc.uniqueArray(validName),
        (callerEnv, asked) => {
          const requests = asked.map((name) => ({ name, value: `v-${name}` }))
          expect(Object.keys(resolvePassThrough(requests, callerEnv)).sort()).toEqual(
            [...asked].sort(),
          )
        },
      ),
    )
  })
})
