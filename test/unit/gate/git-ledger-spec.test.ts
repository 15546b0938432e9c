import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isReproofError } from '../../../src/errors.js'
import { checkpointUrl, parseGitLedgerSpec } from '../../../src/gate/git-ledger.js'

describe('git ledger address', () => {
  it('reads back the url and branch it was written with', () => {
    const url = fc
      .stringMatching(/^[a-z/:.@]{1,30}$/)
      .filter((u) => !u.startsWith('-') && !u.includes('#'))
    const branch = fc.stringMatching(/^[a-z0-9][a-z0-9/_-]{0,20}$/)
    fc.assert(
      fc.property(url, branch, (u, b) => {
        expect(parseGitLedgerSpec(`git:${u}#${b}`)).toEqual({ url: u, branch: b })
      }),
    )
  })

  it('never returns something git would read as an option or a ref range', () => {
    fc.assert(
      fc.property(fc.string(), (rest) => {
        try {
          const { url, branch } = parseGitLedgerSpec(`git:${rest}`)
          expect(url).not.toMatch(/^-/)
          expect(branch).not.toMatch(/^-|\.\.|\s/)
        } catch (err) {
          expect(isReproofError(err) && err.code === 'E_USAGE').toBe(true)
        }
      }),
    )
  })

  it('takes the last # as the branch, defaulting to reproof-ledger', () => {
    expect(parseGitLedgerSpec('git:https://example.com/r.git')).toEqual({
      url: 'https://example.com/r.git',
      branch: 'reproof-ledger',
    })
    expect(parseGitLedgerSpec('git:/srv/a#b.git#rel/v1.x_y-z')).toEqual({
      url: '/srv/a#b.git',
      branch: 'rel/v1.x_y-z',
    })
    expect(parseGitLedgerSpec(`git:/r#A${'b'.repeat(99)}`).branch).toHaveLength(100)
  })

  it('refuses an empty url, one read as an option, and branch names git would refuse', () => {
    for (const spec of ['git:', 'git:#main', 'git:-u#main', 'git:--upload-pack=x'])
      expect(() => parseGitLedgerSpec(spec), spec).toThrow(
        `--ledger ${spec}: expected git:<url>#<branch>`,
      )
    for (const branch of [
      '',
      '-b',
      '.b',
      '/b',
      'a..b',
      'a.lock',
      'a b',
      'a~1',
      `a${'b'.repeat(100)}`,
      'main\n',
    ])
      expect(() => parseGitLedgerSpec(`git:/r#${branch}`), branch).toThrow(
        `--ledger git:/r#${branch}: "${branch}" is not a usable branch name`,
      )
    expect(parseGitLedgerSpec('git:/r#a.locked').branch).toBe('a.locked')
  })
})

describe('checkpointUrl', () => {
  it('spells one local repository one way, and leaves remote URLs but for trailing slashes', () => {
    const local = path.resolve('ledgers/r.git')
    for (const spelling of [
      local,
      `${local}/`,
      `${local}//`,
      `file://${local}`,
      'ledgers/r.git',
      './ledgers/r.git/',
    ])
      expect(checkpointUrl(spelling), spelling).toBe(local)
    expect(checkpointUrl('https://git.example/o/r.git/')).toBe('https://git.example/o/r.git')
    expect(checkpointUrl('git@git.example:o/r.git')).toBe('git@git.example:o/r.git')
    expect(checkpointUrl('ssh://git@git.example/o/r.git')).toBe('ssh://git@git.example/o/r.git')
  })
})
