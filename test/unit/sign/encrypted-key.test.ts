import { spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encryptPrivateKey, KEY_ITERATIONS } from '../../../src/sign/encrypted-key.js'

describe('encryptPrivateKey', () => {
  it('writes a key Node reads back only with its passphrase', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (passphrase) => {
        const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
        const pem = encryptPrivateKey(privateKey, passphrase)
        const back = crypto.createPrivateKey({ key: pem, format: 'pem', passphrase })
        expect(back.equals(privateKey)).toBe(true)
        expect(() =>
          crypto.createPrivateKey({ key: pem, format: 'pem', passphrase: `${passphrase}x` }),
        ).toThrow()
      }),
      { numRuns: 4 },
    )
  })

  it.runIf(spawnSync('openssl', ['version']).status === 0)(
    'is PBES2 with PBKDF2-HMAC-SHA256 at 600,000 iterations, as OpenSSL reads it',
    () => {
      const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
      const pem = encryptPrivateKey(privateKey, 'a passphrase')
      const parsed = spawnSync('openssl', ['asn1parse'], { input: pem, encoding: 'utf8' }).stdout
      expect(parsed).toMatch(/:PBES2/)
      expect(parsed).toMatch(/:PBKDF2/)
      expect(parsed).toMatch(/:hmacWithSHA256/)
      expect(parsed).toMatch(/:aes-256-cbc/)
      expect(parsed).toContain(
        `INTEGER           :${KEY_ITERATIONS.toString(16).toUpperCase().padStart(6, '0')}`,
      )
      const read = spawnSync('openssl', ['pkey', '-passin', 'pass:a passphrase', '-noout'], {
        input: pem,
      })
      expect(read.status).toBe(0)
    },
  )
})
