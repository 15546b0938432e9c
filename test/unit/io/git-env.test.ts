import { execFileSync } from 'node:child_process'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ledgerGitEnv, REPOSITORY_ENV } from '../../../src/io/git-env.js'

describe('ledgerGitEnv', () => {
  it('drops every variable this git says locates a repository, but the -c settings', () => {
    const local = execFileSync('git', ['rev-parse', '--local-env-vars'], { encoding: 'utf8' })
      .split('\n')
      .filter((name) => name !== '')
    // What a hook runs with, besides: its quarantine for objects, and a ref namespace.
    const hook = ['GIT_QUARANTINE_PATH', 'GIT_NAMESPACE']
    const env = Object.fromEntries(
      [...local, ...hook, 'PATH', 'HOME', 'GIT_SSH_COMMAND'].map((n) => [n, `/x/${n}`]),
    )
    const kept = ledgerGitEnv(env)
    const settings = ['GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_COUNT']
    for (const name of local) expect(name in kept, name).toBe(settings.includes(name))
    for (const name of hook) expect(name in kept, name).toBe(false)
    expect(kept).toEqual({
      PATH: '/x/PATH',
      HOME: '/x/HOME',
      GIT_SSH_COMMAND: '/x/GIT_SSH_COMMAND',
      ...Object.fromEntries(settings.filter((n) => local.includes(n)).map((n) => [n, `/x/${n}`])),
    })
  })

  it('keeps every other variable as it is', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string().filter((n) => !REPOSITORY_ENV.includes(n)),
          fc.string(),
        ),
        (env) => {
          expect(ledgerGitEnv(env)).toEqual(env)
        },
      ),
    )
  })
})
