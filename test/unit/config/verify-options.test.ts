import fs from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { splitSubjects, toPolicy, type VerifyFlags } from '../../../src/config/verify-options.js'
import { cleanupTemp, codeOf, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

describe('toPolicy', () => {
  it('takes repositories, owners and workflows only in their own shape', () => {
    expect(
      toPolicy({
        bundle: 'b.json',
        repo: 'acme/app',
        owner: 'github.example.com/acme',
        signerRepo: 'https://github.com/acme/ci',
        signerWorkflow: 'acme/ci/.github/workflows/release.yml',
      }),
    ).toMatchObject({ repo: 'acme/app', signerRepo: 'https://github.com/acme/ci' })
    // Matched as a prefix of the signer's URI, an owner, an empty value (an unset shell
    // variable) or a host alone took any repository.
    for (const [flag, value] of [
      ['signerRepo', 'acme'],
      ['signerRepo', ''],
      ['signerRepo', 'github.com'],
      ['signerRepo', 'acme/app/extra'],
      ['repo', 'acme'],
      ['repo', ''],
      ['owner', ''],
      ['owner', 'acme/app'],
      ['signerWorkflow', 'acme/app'],
      ['signerWorkflow', ''],
      ['signerWorkflow', 'acme//.github/w.yml'],
    ] as const) {
      const flags: VerifyFlags = { bundle: 'b.json' }
      flags[flag] = value
      expect(
        codeOf(() => toPolicy(flags)),
        `${flag} ${value}`,
      ).toBe('E_USAGE')
    }
  })

  it('refuses an empty value, from a flag or the policy file, rather than require it', () => {
    // `--builder-id "$UNSET"` required a statement naming no builder, which one could.
    for (const flag of [
      'builderId',
      'sourceUri',
      'sourceRef',
      'sourceRefRegexp',
      'sourceDigest',
    ] as const) {
      const flags: VerifyFlags = { bundle: 'b.json' }
      flags[flag] = ''
      expect(
        codeOf(() => toPolicy(flags)),
        flag,
      ).toBe('E_USAGE')
      expect(
        codeOf(() => toPolicy({ bundle: 'b.json' }, { [flag]: '' })),
        flag,
      ).toBe('E_USAGE')
    }
    expect(() => toPolicy({ bundle: 'b.json', builderId: '' })).toThrow(
      '--builder-id (policy builderId): empty; give a value, or leave it out to not require one',
    )
  })
})

describe('toPolicy with a policy file', () => {
  it('takes a yes/no set false in the file as asking nothing, and refuses a flag that differs', () => {
    expect(
      toPolicy({ bundle: 'b.json' }, { denySelfHostedRunners: false, requireReproduced: false }),
    ).toEqual({})
    expect(
      toPolicy({ bundle: 'b.json', requireReproduced: true }, { requireReproduced: false }),
    ).toEqual({ requireReproduced: true })
    expect(toPolicy({ bundle: 'b.json', maxAge: '7d' }, { maxAge: '7d' })).toEqual({
      maxAgeMs: 7 * 24 * 3600 * 1000,
    })
    for (const [flags, file] of [
      [{ maxAge: '30d' }, { maxAge: '7d' }],
      [{ sourceRefRegexp: '.*' }, { sourceRefRegexp: 'refs/tags/v.*' }],
      [{ repo: 'acme/other' }, { repo: 'acme/app' }],
    ] as const)
      expect(
        codeOf(() => toPolicy({ bundle: 'b.json', ...flags }, file)),
        JSON.stringify(flags),
      ).toBe('E_USAGE')
  })
})

describe('splitSubjects', () => {
  it('takes a digest as a digest and a file as a file, and refuses an argument that is both', () => {
    const dir = makeTemp()
    const digest = `sha256:${'a'.repeat(64)}`
    const cwd = process.cwd()
    process.chdir(dir)
    try {
      expect(splitSubjects([digest, 'x.txt'])).toEqual({
        files: ['x.txt'],
        digests: [{ path: digest, sha256: 'a'.repeat(64), file: false }],
      })
      fs.writeFileSync(digest, 'other bytes\n')
      expect(codeOf(() => splitSubjects([digest]))).toBe('E_USAGE')
      expect(splitSubjects([`./${digest}`]).files).toEqual([`./${digest}`])
    } finally {
      process.chdir(cwd)
    }
  })
})
