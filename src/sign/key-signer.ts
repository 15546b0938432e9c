import crypto from 'node:crypto'
import type { Signer } from '@sigstore/sign'
import { keyHint, type KeyKind } from './keys.js'

/**
 * A Sigstore signer over a local private key: ECDSA P-256 with SHA-256 (DER signature)
 * or Ed25519. The bundle carries a public-key hint, never the key itself.
 */
export function keySigner(privateKey: crypto.KeyObject, kind: KeyKind): Signer {
  const publicKey = crypto.createPublicKey(privateKey)
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
  const hint = keyHint(publicKey)
  return {
    sign: (data: Buffer) =>
      Promise.resolve({
        signature: crypto.sign(kind === 'ed25519' ? null : 'sha256', data, privateKey),
        key: { $case: 'publicKey' as const, publicKey: publicPem, hint },
      }),
  }
}
