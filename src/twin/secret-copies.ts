import fs from 'node:fs'
import { toFsPath } from '../file-names.js'
import type { SourceEntry } from '../sandbox/source-files.js'

// A key file is a few hundred bytes; one past this is read for nothing.
const MAX_SECRET_BYTES = 64 * 1024

/**
 * The files the build's copy of the source would hold that are byte for byte one of
 * `secrets` (the signing key): at its path, through a hard link, or copied. The sandbox
 * covers the key where it is, not a copy the snapshot made: a build that read that
 * copy shipped the private key, signed. Only entries of a secret's size are read.
 */
export function secretCopies(
  source: string,
  entries: readonly SourceEntry[],
  secrets: readonly string[],
): { secret: string; rel: string }[] {
  const found: { secret: string; rel: string }[] = []
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
      if (entry.kind !== 'file' || entry.size !== bytes.length) continue
      try {
        if (fs.readFileSync(toFsPath(source, entry.rel)).equals(bytes))
          found.push({ secret, rel: entry.rel })
      } catch {
        // Unreadable here: the snapshot meets it, and says so.
      }
    }
  }
  return found
}
