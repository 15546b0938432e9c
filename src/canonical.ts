/**
 * UTF-8 byte order, independent of locale: everything reproof hashes or signs is
 * sorted by it. Below U+D800, UTF-16 code unit order is UTF-8 byte order, so most
 * comparisons never encode anything (sorting 20,000 paths was 150 ms with Buffers).
 */
export function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    if (x < 0xd800 && y < 0xd800) return x - y
    // Surrogates or U+E000 and above: compare the rest as bytes, from a whole character.
    const from = i > 0 && isHighSurrogate(a.charCodeAt(i - 1)) ? i - 1 : i
    return Buffer.compare(Buffer.from(a.slice(from), 'utf8'), Buffer.from(b.slice(from), 'utf8'))
  }
  return a.length - b.length
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}

/**
 * JSON with object keys sorted by byte order at every level and no insignificant
 * white space, so that equal values always give equal bytes (and equal digests).
 * Written out directly rather than by copying into sorted objects first: the ledger
 * checks every record this way, and the copies were most of the cost.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    // As JSON.stringify does: an element that has no JSON form is written as null.
    return `[${value.map((item) => (hasJsonForm(item) ? canonicalJson(item) : 'null')).join(',')}]`
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>
    const keys = Object.keys(record)
      .filter((key) => hasJsonForm(record[key]))
      .sort(compareBytes)
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`
  }
  return JSON.stringify(value)
}

function hasJsonForm(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol'
}
