import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { generateKeyPair, keyHint, loadPrivateKey, writeKeyPair } from '../../../src/sign/keys.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

const failure = (fn: () => unknown): Error & { code?: string } => {
  try {
    fn()
  } catch (err) {
    return err as Error & { code?: string }
  }
  throw new Error('expected a failure')
}

describe('keys', () => {
  it('writes a pair once, private key 0600, and reads it back only with its passphrase', () => {
    const dir = makeTemp()
    const base = path.join(dir, 'release')
    const { privateFile, publicFile } = writeKeyPair(base, generateKeyPair('s3cret pass'))
    expect(fs.statSync(privateFile).mode & 0o777).toBe(0o600)
    expect(loadPrivateKey(privateFile, 's3cret pass').kind).toBe('ecdsa-p256')
    const wrong = failure(() => loadPrivateKey(privateFile, 'another'))
    expect(wrong.message).toMatch(/the passphrase is wrong/)
    const none = failure(() => loadPrivateKey(privateFile, undefined))
    expect(none.message).toMatch(/give --passphrase-env/)
    // Never overwritten, and the first file is not left half-made.
    const again = failure(() => writeKeyPair(base, generateKeyPair(undefined)))
    expect(again.message).toMatch(/already exists/)
    expect(fs.readFileSync(publicFile, 'utf8')).toMatch(/BEGIN PUBLIC KEY/)
  })

  it('refuses a passphrase for a key that is not encrypted: the caller believes it protected', () => {
    const dir = makeTemp()
    const { privateFile } = writeKeyPair(path.join(dir, 'plain'), generateKeyPair(undefined))
    expect(loadPrivateKey(privateFile, undefined).kind).toBe('ecdsa-p256')
    const given = failure(() => loadPrivateKey(privateFile, 'a passphrase'))
    expect(given.code).toBe('E_INPUT')
    expect(given.message).toMatch(/not encrypted, though a passphrase was given/)
  })

  it('refuses key types Sigstore verifiers do not share, without quoting the key', () => {
    const dir = makeTemp()
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const file = path.join(dir, 'rsa.key')
    fs.writeFileSync(file, pem)
    const err = failure(() => loadPrivateKey(file, undefined))
    expect(err.code).toBe('E_INPUT')
    expect(err.message).toMatch(/only ECDSA P-256 and Ed25519/)
    const body = pem.split('\n')[1] ?? ''
    expect(err.message).not.toContain(body.slice(0, 16))
  })

  it('accepts Ed25519, and names a key by the SHA-256 of its SPKI DER, as cosign does', () => {
    const dir = makeTemp()
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519')
    const file = path.join(dir, 'ed.key')
    fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }))
    expect(loadPrivateKey(file, undefined).kind).toBe('ed25519')
    const der = publicKey.export({ type: 'spki', format: 'der' })
    expect(keyHint(publicKey)).toBe(crypto.createHash('sha256').update(der).digest('hex'))
  })
})
