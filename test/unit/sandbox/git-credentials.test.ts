import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { stripCredentials } from '../../../src/sandbox/git.js'

describe('stripCredentials', () => {
  it('takes out users, passwords, tokens in the query, and keeps the repository', () => {
    expect(stripCredentials('https://x-access-token:ghs_SECRET@github.com/acme/app.git')).toBe(
      'https://github.com/acme/app.git',
    )
    // A URL Node does not parse (a port out of range) keeps no credentials either.
    expect(
      stripCredentials('https://x-access-token:ghs_SECRET@github.com:99999/acme/app.git'),
    ).toBe('https://github.com:99999/acme/app.git')
    expect(stripCredentials('https://gitlab.example.com/acme/app.git?private_token=SECRET')).toBe(
      'https://gitlab.example.com/acme/app.git',
    )
    expect(stripCredentials('git@github.com:acme/app.git')).toBe('git@github.com:acme/app.git')
  })

  it('never keeps a password or a query token, whatever the URL around it', () => {
    const secret = fc.stringMatching(/^[A-Za-z0-9_]{12,20}$/).map((s) => `SECRET${s}`)
    const host = fc.constantFrom(
      'github.com',
      'git.example.com',
      'h',
      'github.com:99999',
      '[::1]:8080',
    )
    fc.assert(
      fc.property(
        secret,
        host,
        fc.constantFrom('https', 'http', 'ssh', 'git'),
        (token, where, scheme) => {
          for (const url of [
            `${scheme}://user:${token}@${where}/acme/app.git`,
            `${scheme}://${token}@${where}/acme/app.git`,
            `${scheme}://${where}/acme/app.git?token=${token}`,
          ]) {
            expect(stripCredentials(url), url).not.toContain(token)
            // What a build records reads as recorded: attest refuses a repository this
            // would change, so it must change nothing the second time.
            const once = stripCredentials(url)
            expect(stripCredentials(once), url).toBe(once)
          }
        },
      ),
    )
  })
})
