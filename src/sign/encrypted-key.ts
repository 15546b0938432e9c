import crypto from 'node:crypto'
import { derElement } from '../der.js'

/**
 * A private key as PKCS#8 EncryptedPrivateKeyInfo, PBES2 with PBKDF2-HMAC-SHA256 and
 * AES-256-CBC (RFC 8018), in PEM. Node writes the same scheme with OpenSSL's default of
 * 2,048 iterations, a guess of the passphrase costing a millisecond; OWASP asks 600,000
 * for PBKDF2-HMAC-SHA256. Node (OpenSSL) reads it back with `createPrivateKey`.
 */
export const KEY_ITERATIONS = 600_000

export function encryptPrivateKey(key: crypto.KeyObject, passphrase: string): string {
  const plain = key.export({ type: 'pkcs8', format: 'der' })
  const salt = crypto.randomBytes(16)
  const iv = crypto.randomBytes(16)
  const derived = crypto.pbkdf2Sync(passphrase, salt, KEY_ITERATIONS, 32, 'sha256')
  const cipher = crypto.createCipheriv('aes-256-cbc', derived, iv)
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()])
  const info = sequence(
    sequence(
      oid(PBES2),
      sequence(
        sequence(
          oid(PBKDF2),
          sequence(octetString(salt), integer(KEY_ITERATIONS), sequence(oid(HMAC_SHA256), NULL)),
        ),
        sequence(oid(AES_256_CBC), octetString(iv)),
      ),
    ),
    octetString(encrypted),
  )
  const lines = info.toString('base64').match(/.{1,64}/g) ?? []
  return `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${lines.join('\n')}\n-----END ENCRYPTED PRIVATE KEY-----\n`
}

const PBES2 = '1.2.840.113549.1.5.13'
const PBKDF2 = '1.2.840.113549.1.5.12'
const HMAC_SHA256 = '1.2.840.113549.2.9'
const AES_256_CBC = '2.16.840.1.101.3.4.1.42'
const NULL = Buffer.from([0x05, 0x00])

const sequence = (...items: Buffer[]): Buffer => derElement(0x30, Buffer.concat(items))
const octetString = (bytes: Buffer): Buffer => derElement(0x04, bytes)

function integer(value: number): Buffer {
  const bytes: number[] = []
  for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256)
  // A leading bit set would read as negative.
  if (bytes.length === 0 || (bytes[0] ?? 0) >= 0x80) bytes.unshift(0)
  return derElement(0x02, Buffer.from(bytes))
}

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number)
  const out = [first * 40 + second]
  for (const arc of rest) {
    const base128: number[] = []
    for (let v = arc; ; v = Math.floor(v / 128)) {
      base128.unshift((v % 128) | (base128.length === 0 ? 0 : 0x80))
      if (v < 128) break
    }
    out.push(...base128)
  }
  return derElement(0x06, Buffer.from(out))
}
