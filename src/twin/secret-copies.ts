import crypto from 'node:crypto'
import fs from 'node:fs'
import { toFsPath } from '../file-names.js'
import type { SourceEntry } from '../sandbox/source-files.js'

// A key file is a few hundred bytes; one past this is read for nothing.
const MAX_SECRET_BYTES = 64 * 1024
// A private key in DER is under 3 KB even for RSA-8192; a file past this is not one.
const MAX_DER_BYTES = 8 * 1024

/** The signing key as the copy check knows it: its public half. */
export interface SecretKey {
  publicKey: crypto.KeyObject
}

/**
 * The files the build's copy of the source would hold that are one of `secrets` (the
 * signing key): at its path, through a hard link, or copied, byte for byte or, with the
 * key known (`key`), in another form that holds the same private key in the clear (PEM
 * or DER in any of the encodings Node reads, PEM inside another text or a JSON string, a
 * JWK). An encrypted copy is not opened: it is of no use without its passphrase, and a
 * crafted one (a key derivation of 2^31 rounds) held the build for minutes, deaf to
 * Ctrl-C. The sandbox covers the key where it is, not
 * a copy the snapshot made: a build that read that copy shipped the private key, signed.
 * Only files of at most 64 KiB are read.
 */
export function secretCopies(
  source: string,
  entries: readonly SourceEntry[],
  secrets: readonly string[],
  key?: SecretKey,
): { secret: string; rel: string; form: 'copy' | 'same key' }[] {
  const found: { secret: string; rel: string; form: 'copy' | 'same key' }[] = []
  const wanted = key?.publicKey.export({ type: 'spki', format: 'der' })
  for (const secret of secrets) {
    let bytes: Buffer
    try {
      if (fs.statSync(secret).size > MAX_SECRET_BYTES) continue
      bytes = fs.readFileSync(secret)
    } catch {
      // Not there: loading the key says so, as bad input.
      continue
    }
    for (const entry of entries) {
      if (entry.kind !== 'file') continue
      if (entry.size !== bytes.length && (wanted === undefined || entry.size > MAX_SECRET_BYTES))
        continue
      let content: Buffer
      try {
        content = fs.readFileSync(toFsPath(source, entry.rel))
      } catch {
        // Unreadable here: the snapshot meets it, and says so.
        continue
      }
      if (content.equals(bytes)) found.push({ secret, rel: entry.rel, form: 'copy' })
      else if (wanted !== undefined && holdsKey(content, wanted))
        found.push({ secret, rel: entry.rel, form: 'same key' })
    }
  }
  return found
}

/**
 * Whether `content` holds the private key whose public key (SPKI DER) is `wanted`, in a
 * form Node reads. Pure but for the parsing OpenSSL does.
 */
export function holdsKey(content: Buffer, wanted: Buffer): boolean {
  const same = (input: crypto.PrivateKeyInput | crypto.JsonWebKeyInput): boolean => {
    try {
      return crypto
        .createPublicKey(crypto.createPrivateKey(input))
        .export({ type: 'spki', format: 'der' })
        .equals(wanted)
    } catch {
      return false
    }
  }
  if (content.length <= MAX_DER_BYTES && content[0] === 0x30) {
    for (const type of ['pkcs8', 'sec1', 'pkcs1'] as const)
      if (same({ key: content, format: 'der', type })) return true
  }
  const text = content.toString('latin1')
  // PEM blocks, also as a JSON or YAML string holds one (`\n` written as two characters).
  for (const block of pemBlocks(text)) {
    const pem = block.replace(/\\r/g, '').replace(/\\n/g, '\n')
    if (same({ key: pem, format: 'pem' })) return true
  }
  // A JWK: an object with the private part `d`.
  if (text.includes('"kty"') && text.includes('"d"')) {
    let json: unknown
    try {
      json = JSON.parse(content.toString('utf8'))
    } catch {
      return false
    }
    const candidates = [json, ...(isKeySet(json) ? json.keys : [])]
    for (const jwk of candidates)
      if (
        typeof jwk === 'object' &&
        jwk !== null &&
        'd' in jwk &&
        same({ key: jwk as crypto.JsonWebKey, format: 'jwk' })
      )
        return true
  }
  return false
}

/**
 * The private-key PEM blocks of `text`, each from its BEGIN line to the END line that
 * closes it. In one pass: a regular expression that looked for each BEGIN's END read to
 * the end of the text once per BEGIN (100 ms for 64 KiB of BEGIN lines with no END).
 */
function pemBlocks(text: string): string[] {
  // Each END line closes the last BEGIN line of its kind before it that no END closed:
  // the BEGIN lines of a kind, in order, walked once with the ENDs of that kind.
  const begins = new Map<string, number[]>()
  for (const begin of text.matchAll(/-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----/g)) {
    const kind = begin[1] ?? ''
    const list = begins.get(kind) ?? []
    list.push(begin.index)
    begins.set(kind, list)
  }
  const blocks: string[] = []
  const next = new Map<string, number>()
  for (const end of text.matchAll(/-----END ([A-Z0-9 ]*PRIVATE KEY)-----/g)) {
    const kind = end[1] ?? ''
    const list = begins.get(kind) ?? []
    let i = next.get(kind) ?? 0
    let last: number | undefined
    for (; i < list.length && (list[i] ?? Infinity) < end.index; i++) last = list[i]
    next.set(kind, i)
    if (last !== undefined) blocks.push(text.slice(last, end.index + end[0].length))
  }
  return blocks
}

function isKeySet(json: unknown): json is { keys: unknown[] } {
  return typeof json === 'object' && json !== null && 'keys' in json && Array.isArray(json.keys)
}
