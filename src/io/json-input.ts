import { isUtf8 } from 'node:buffer'
import { ReproofError } from '../errors.js'

/**
 * Parses a file the user gave as JSON; anything else is bad input, named by `label`
 * (the flag and file, as the message should say it) with the parser's reason. A key
 * given twice in one object is refused: JSON.parse keeps the last, another reader may
 * keep the first, and a policy's `"builderId"` written twice would quietly be the second.
 */
export function parseJsonInput(text: string, label: string, file: string): unknown {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new ReproofError(
      'E_INPUT',
      `${label}: not JSON (${(err as Error).message})`,
      { path: file },
      { cause: err },
    )
  }
  const repeated = repeatedKey(text)
  if (repeated !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `${label}: the key ${JSON.stringify(repeated.key)} is given twice in one object (at character ${repeated.at})`,
      { path: file },
    )
  return json
}

/**
 * {@link parseJsonInput} of a file's bytes, which must be UTF-8 (as JSON's RFC 8259 asks
 * of a file). Decoded leniently, every byte that is not became U+FFFD: two files that say
 * different things read alike, and a record's `make\xff` was signed as `make\uFFFD`.
 */
export function parseJsonBytes(bytes: Buffer, label: string, file: string): unknown {
  if (!isUtf8(bytes)) throw new ReproofError('E_INPUT', `${label}: not UTF-8`, { path: file })
  return parseJsonInput(bytes.toString('utf8'), label, file)
}

/**
 * The first key that occurs twice in one object of `text`, which must be valid JSON.
 * Keys compare as JSON.parse reads them (`"a"` and `"\u0061"` are one key); with
 * `caseFolded`, also as a reader that matches names without regard to case does (Go's
 * encoding/json, which in-toto's Go tools read statements with: `subject`, `Subject` and
 * `ſubject` are one field to it, and the last one given counts).
 */
export function repeatedKey(
  text: string,
  { caseFolded = false }: { caseFolded?: boolean } = {},
): { key: string; first: string; at: number } | undefined {
  // One entry per open container: the keys seen so far, as compared and as given
  // (objects), or null (arrays).
  const open: (Map<string, string> | null)[] = []
  let expectKey = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22 /* " */) {
      const start = i
      for (i++; text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++
      const keys = open.at(-1)
      if (expectKey && keys) {
        const key = JSON.parse(text.slice(start, i + 1)) as string
        // Upper case then lower: `ſ` (U+017F) and `K` (U+212A) meet `s` and `k`.
        const seen = caseFolded ? key.toUpperCase().toLowerCase() : key
        const first = keys.get(seen)
        if (first !== undefined) return { key, first, at: start }
        keys.set(seen, key)
        expectKey = false
      }
    } else if (c === 0x7b /* { */) {
      open.push(new Map())
      expectKey = true
    } else if (c === 0x5b /* [ */) {
      open.push(null)
      expectKey = false
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop()
      expectKey = false
    } else if (c === 0x2c /* , */) {
      expectKey = open.at(-1) instanceof Map
    }
  }
  return undefined
}
