import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import type { SourceEntry } from '../../../src/sandbox/source-files.js'
import { holdsKey, secretCopies } from '../../../src/twin/secret-copies.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

const spki = (key: crypto.KeyObject): Buffer =>
  crypto.createPublicKey(key).export({ type: 'spki', format: 'der' })

describe('holdsKey', () => {
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
  const ed = crypto.generateKeyPairSync('ed25519').privateKey
  const other = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey

  it('finds the key in every form Node reads it in, and no other key', () => {
    const pem = ec.export({ type: 'pkcs8', format: 'pem' }) as string
    const forms: [string, Buffer][] = [
      ['PKCS#8 PEM without its last newline', Buffer.from(pem.trimEnd())],
      ['SEC1 PEM', Buffer.from(ec.export({ type: 'sec1', format: 'pem' }))],
      ['PKCS#8 DER', ec.export({ type: 'pkcs8', format: 'der' })],
      ['SEC1 DER', ec.export({ type: 'sec1', format: 'der' })],
      ['PEM with CRLF line ends', Buffer.from(pem.replace(/\n/g, '\r\n'))],
      ['PEM inside a shell script', Buffer.from(`#!/bin/sh\ncat > k <<EOF\n${pem}EOF\n`)],
      ['PEM as a JSON string', Buffer.from(JSON.stringify({ signing: pem }))],
      ['a JWK', Buffer.from(JSON.stringify(ec.export({ format: 'jwk' })))],
      ['a JWK set', Buffer.from(JSON.stringify({ keys: [ec.export({ format: 'jwk' })] }))],
    ]
    for (const [what, content] of forms) {
      expect(holdsKey(content, spki(ec)), what).toBe(true)
      expect(holdsKey(content, spki(other)), `${what}, another key`).toBe(false)
    }
    expect(holdsKey(ed.export({ type: 'pkcs8', format: 'der' }), spki(ed))).toBe(true)
    // The public key alone is no copy of the private one.
    const pub = crypto.createPublicKey(ec)
    expect(holdsKey(Buffer.from(pub.export({ type: 'spki', format: 'pem' })), spki(ec))).toBe(false)
    expect(holdsKey(Buffer.from(JSON.stringify(pub.export({ format: 'jwk' }))), spki(ec))).toBe(
      false,
    )
  })

  it('opens no encrypted copy (of no use without its passphrase), and reads many BEGIN lines in one pass', () => {
    const encrypted = Buffer.from(
      ec.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'p1' }),
    )
    expect(holdsKey(encrypted, spki(ec))).toBe(false)
    const der = ec.export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: 'p1' })
    expect(holdsKey(der, spki(ec))).toBe(false)
    // 64 KiB of BEGIN lines and no END, then the key: found, without reading the text
    // once per BEGIN line.
    const pem = ec.export({ type: 'pkcs8', format: 'pem' }) as string
    const crafted = Buffer.from(`${'-----BEGIN PRIVATE KEY-----\n'.repeat(2300)}${pem}`)
    const started = process.hrtime.bigint()
    expect(holdsKey(crafted, spki(ec))).toBe(true)
    expect(holdsKey(crafted, spki(other))).toBe(false)
    // Not a timing test: a bound far above one pass (about 1 ms) and far below the 100 ms
    // a BEGIN-by-BEGIN search took.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2000)
  })

  it('finds no key in bytes that hold none', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, der) => {
        const content = Buffer.from(der ? [0x30, ...bytes] : bytes)
        expect(holdsKey(content, spki(ec))).toBe(false)
      }),
    )
  })
})

describe('secretCopies', () => {
  it('names a copy by its bytes without the key, and one in another form with it', () => {
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    const dir = makeTemp()
    const keyFile = path.join(dir, 'k.key')
    fs.writeFileSync(keyFile, ec.export({ type: 'pkcs8', format: 'pem' }))
    const source = path.join(dir, 'src')
    fs.mkdirSync(source)
    fs.copyFileSync(keyFile, path.join(source, 'same.pem'))
    fs.writeFileSync(path.join(source, 'sec1.pem'), ec.export({ type: 'sec1', format: 'pem' }))
    fs.writeFileSync(path.join(source, 'big.bin'), Buffer.alloc(65 * 1024, 0x30))
    const entries: SourceEntry[] = ['same.pem', 'sec1.pem', 'big.bin'].map((rel) => ({
      kind: 'file',
      rel,
      mode: 0o644,
      size: fs.statSync(path.join(source, rel)).size,
    }))
    expect(secretCopies(source, entries, [keyFile])).toEqual([
      { secret: keyFile, rel: 'same.pem', form: 'copy' },
    ])
    expect(
      secretCopies(source, entries, [keyFile], { publicKey: crypto.createPublicKey(ec) }),
    ).toEqual([
      { secret: keyFile, rel: 'same.pem', form: 'copy' },
      { secret: keyFile, rel: 'sec1.pem', form: 'same key' },
    ])
  })
})
