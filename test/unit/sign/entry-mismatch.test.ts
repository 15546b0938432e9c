import crypto from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { entryMismatch } from '../../../src/sign/keyless.js'

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64')
const sha = (bytes: Uint8Array): string => crypto.createHash('sha256').update(bytes).digest('hex')

/** A log entry's body for a signature over a payload, as Rekor records each kind. */
function body(kind: 'dsse' | 'intoto', signature: Buffer, payload: Uint8Array): string {
  const payloadHash = { algorithm: 'sha256', value: sha(payload) }
  return kind === 'dsse'
    ? b64({
        apiVersion: '0.0.1',
        kind,
        spec: {
          payloadHash,
          signatures: [{ signature: signature.toString('base64'), verifier: 'x' }],
        },
      })
    : b64({
        apiVersion: '0.0.2',
        kind,
        spec: {
          content: {
            payloadHash,
            envelope: {
              signatures: [{ sig: Buffer.from(signature.toString('base64')).toString('base64') }],
            },
          },
        },
      })
}

describe('entryMismatch', () => {
  it("takes an entry of this signature over this payload, and no other's", () => {
    const bytes = fc.uint8Array({ minLength: 1, maxLength: 80 })
    fc.assert(
      fc.property(
        fc.constantFrom('dsse' as const, 'intoto' as const),
        bytes,
        bytes,
        bytes,
        bytes,
        (kind, sig, payload, otherSig, otherPayload) => {
          const signature = Buffer.from(sig)
          expect(
            entryMismatch(body(kind, signature, payload), signature, Buffer.from(payload)),
          ).toBeUndefined()
          if (!Buffer.from(otherSig).equals(signature))
            expect(
              entryMismatch(
                body(kind, Buffer.from(otherSig), payload),
                signature,
                Buffer.from(payload),
              ),
            ).toBe('another signature')
          if (sha(otherPayload) !== sha(payload))
            expect(
              entryMismatch(body(kind, signature, otherPayload), signature, Buffer.from(payload)),
            ).toBe('another payload')
        },
      ),
    )
  })

  it('refuses bodies it cannot read, and entries of other kinds', () => {
    const signature = Buffer.from('sig')
    const payload = Buffer.from('payload')
    expect(entryMismatch('not base64 json', signature, payload)).toBe('its body is not JSON')
    expect(
      entryMismatch(b64({ kind: 'hashedrekord', apiVersion: '0.0.1' }), signature, payload),
    ).toBe('an entry of kind hashedrekord 0.0.1')
    expect(
      entryMismatch(
        b64({ kind: 'dsse', apiVersion: '0.0.1', spec: { signatures: [] } }),
        signature,
        payload,
      ),
    ).toBe('not one signature')
  })
})
