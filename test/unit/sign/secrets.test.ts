import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { maskCommand, redact } from '../../../src/sign/secrets.js'

const part = fc.stringMatching(/^[A-Za-z0-9_-]{8,40}$/)
const jwt = fc.tuple(part, part, part).map(([h, p, s]) => `eyJ${h}.${p}.${s}`)

describe('redact', () => {
  it('leaves no secret, nor any part of 8 characters or more, in what it returns', () => {
    fc.assert(
      fc.property(fc.string(), jwt, fc.string(), (before, token, after) => {
        const [, payload = '', signature = ''] = token.split('.')
        const out = redact(`${before}${token}${after} (${payload}) ${signature}`, [token])
        expect(out).not.toContain(token)
        expect(out).not.toContain(payload)
        expect(out).not.toContain(signature)
      }),
    )
  })

  it('hides anything shaped like a token even when it was not named', () => {
    fc.assert(
      fc.property(jwt, (token) => {
        expect(redact(`refused: ${token}`, [])).toBe('refused: [redacted]')
      }),
    )
  })

  it('changes nothing in text that holds no secret and nothing like a token', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z .,:]*$/), (text) => {
        expect(redact(text, ['abcdefgh-not-here'])).toBe(text)
      }),
    )
  })
})

describe('maskCommand', () => {
  it('masks each line of a secret in GitHub Actions, and says nothing elsewhere', () => {
    expect(maskCommand('one\ntwo', { GITHUB_ACTIONS: 'true' })).toBe(
      '::add-mask::one\n::add-mask::two\n',
    )
    expect(maskCommand('one', {})).toBe('')
    expect(maskCommand('', { GITHUB_ACTIONS: 'true' })).toBe('')
  })

  it('masks the very value: what the runner unescapes from each command is a line of the secret', () => {
    // The runner's reading of a command's data (actions/runner, ActionCommand.UnescapeData).
    const unescape = (data: string): string =>
      data.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
    expect(maskCommand('s3cr%25et', { GITHUB_ACTIONS: 'true' })).toBe('::add-mask::s3cr%2525et\n')
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', '%', '2', '5', '0', 'A', 'D', '\r', '\n') }),
        (secret) => {
          const masked = maskCommand(secret, { GITHUB_ACTIONS: 'true' })
            .split('\n')
            .filter((line) => line !== '')
            .map((line) => {
              expect(line.startsWith('::add-mask::')).toBe(true)
              return unescape(line.slice('::add-mask::'.length))
            })
          expect(masked).toEqual(secret.split(/\r?\n/).filter((line) => line !== ''))
        },
      ),
    )
  })
})
