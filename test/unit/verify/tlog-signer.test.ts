import crypto from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { entrySignerMismatch } from '../../../src/verify/tlog-signer.js'

const pem = (label: string, der: Buffer): string =>
  `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ${label}-----\n`
const b64 = (text: string): string => Buffer.from(text).toString('base64')
const entry = (kind: string, version: string, body: unknown) => ({
  kindVersion: { kind, version },
  canonicalizedBody: Buffer.from(JSON.stringify(body)),
})

describe('entrySignerMismatch', () => {
  const leafDer = crypto.randomBytes(300)
  const leaf = { certificate: leafDer }
  const other = crypto.randomBytes(300)
  const key = crypto.randomBytes(91)
  const dsse1 = (verifier: string) =>
    entry('dsse', '0.0.1', {
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: { signatures: [{ signature: 'x', verifier }] },
    })
  const intoto2 = (publicKey: string) =>
    entry('intoto', '0.0.2', {
      apiVersion: '0.0.2',
      kind: 'intoto',
      spec: { content: { envelope: { signatures: [{ publicKey, sig: 'x' }] } } },
    })
  const dsse2 = (verifier: unknown) =>
    entry('dsse', '0.0.2', {
      apiVersion: '0.0.2',
      kind: 'dsse',
      spec: { dsseV002: { signatures: [{ content: 'x', verifier }] } },
    })

  it("accepts only entries that name the bundle's certificate as the signer", () => {
    const mine = b64(pem('CERTIFICATE', leafDer))
    expect(entrySignerMismatch([dsse1(mine)], leaf)).toBeUndefined()
    expect(entrySignerMismatch([intoto2(mine)], leaf)).toBeUndefined()
    expect(
      entrySignerMismatch(
        [dsse2({ x509Certificate: { rawBytes: leafDer.toString('base64') } })],
        leaf,
      ),
    ).toBeUndefined()
    // Another certificate, a bare key, or something unreadable: refused.
    expect(entrySignerMismatch([dsse1(b64(pem('CERTIFICATE', other)))], leaf)).toMatch(
      /under another certificate/,
    )
    expect(entrySignerMismatch([intoto2(b64(pem('PUBLIC KEY', key)))], leaf)).toMatch(
      /bare public key/,
    )
    expect(
      entrySignerMismatch([dsse2({ publicKey: { rawBytes: key.toString('base64') } })], leaf),
    ).toMatch(/bare public key/)
    expect(entrySignerMismatch([dsse1(b64('not a key'))], leaf)).toMatch(/cannot be read/)
    expect(entrySignerMismatch([dsse1(mine), dsse1(b64(pem('CERTIFICATE', other)))], leaf)).toMatch(
      /entry 2/,
    )
    // A kind whose signer is not read here, or a body that says nothing: not trusted.
    expect(
      entrySignerMismatch(
        [entry('rekord', '0.0.1', { kind: 'rekord', apiVersion: '0.0.1' })],
        leaf,
      ),
    ).toMatch(/does not read/)
    expect(
      entrySignerMismatch([entry('dsse', '0.0.1', { kind: 'dsse', apiVersion: '0.0.1' })], leaf),
    ).toMatch(/names no signer/)
    expect(
      entrySignerMismatch([{ canonicalizedBody: Buffer.from('{'), kindVersion: undefined }], leaf),
    ).toMatch(/not JSON/)
  })

  it('accepts with a key only entries that name that key, however its DER is written', () => {
    const { publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const { publicKey: another } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const der = (k: crypto.KeyObject) => k.export({ type: 'spki', format: 'der' })
    const signer = { key: publicKey }
    expect(
      entrySignerMismatch([dsse1(b64(pem('PUBLIC KEY', der(publicKey))))], signer),
    ).toBeUndefined()
    expect(
      entrySignerMismatch(
        [dsse2({ publicKey: { rawBytes: der(publicKey).toString('base64') } })],
        signer,
      ),
    ).toBeUndefined()
    expect(entrySignerMismatch([dsse1(b64(pem('PUBLIC KEY', der(another))))], signer)).toMatch(
      /under another key than the key that verified/,
    )
    expect(entrySignerMismatch([dsse1(b64(pem('CERTIFICATE', leafDer)))], signer)).toMatch(
      /under a certificate/,
    )
  })
})
