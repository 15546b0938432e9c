import crypto from 'node:crypto'

/** The SHA-256 of `data` (a string as UTF-8), in lowercase hex: how reproof names content. */
export function sha256Hex(data: string | Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex')
}
