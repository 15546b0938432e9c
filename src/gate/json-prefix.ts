/**
 * Whether `bytes` begin with a whole JSON object or array, whatever follows it: a crash
 * mid-append leaves a strict part of one record, never a whole one (a line break swapped
 * for other bytes hid a whole record from a check of the fragment as one value). Pure.
 *
 * One pass finds where the first value's brackets close, outside strings; that prefix is
 * then parsed once. Trying to parse at every `}` gave up after 64 of them and called a
 * torn record whose reason held a hundred `}` whole.
 */
export function beginsWithWholeJson(bytes: Buffer): boolean {
  const text = bytes.toString('utf8')
  let depth = 0
  let inString = false
  let escaped = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (escaped) escaped = false
      else if (c === '\\') escaped = true
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') {
      // The first value closes here (or a bracket closes that never opened): it parses
      // now or never, as no longer prefix is one value.
      if (--depth > 0) continue
      try {
        JSON.parse(text.slice(0, i + 1))
        return true
      } catch {
        return false
      }
    }
  }
  return false
}
