import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { looksLikeText } from '../../../src/formats/detect.js'

// Text as people write it: no control character but tab, newlines, form feed and escape.
const controls = new Set(
  Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).filter(
    (c) => !'\t\n\r\f\u001b'.includes(c),
  ),
)
const text = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) =>
  Array.from(s)
    .filter((c) => !controls.has(c))
    .join(''),
)

describe('looksLikeText', () => {
  it('takes UTF-8 text, and any sample of it cut mid-sequence, for text', () => {
    fc.assert(
      fc.property(text, fc.nat(), (s, cut) => {
        const bytes = Buffer.from(s)
        expect(looksLikeText(bytes)).toBe(true)
        expect(looksLikeText(bytes.subarray(0, cut % (bytes.length + 1)))).toBe(true)
      }),
    )
    // A short text's own sequences are not taken for a cut one.
    expect(looksLikeText(Buffer.from('\ufeffa\n'))).toBe(true)
    expect(looksLikeText(Buffer.from('é'))).toBe(true)
  })

  it('takes a whole file that ends mid-sequence for binary, and a whole text for text', () => {
    fc.assert(
      fc.property(text, fc.nat(), (s, cut) => {
        const bytes = Buffer.from(s)
        expect(looksLikeText(bytes, true)).toBe(true)
        const part = bytes.subarray(0, cut % (bytes.length + 1))
        // Whole, a cut text is text only when the cut fell between characters.
        const between = Buffer.from(part.toString('utf8')).equals(part)
        expect(looksLikeText(part, true)).toBe(between)
      }),
    )
    expect(looksLikeText(Buffer.from([0x68, 0x0a, 0xe2, 0x82]), true)).toBe(false)
  })

  it('takes bytes that are not UTF-8, or hold NUL or other controls, for binary', () => {
    for (const bytes of [
      [0xff, 0x61],
      [0x61, 0xc3, 0x28],
      [0x61, 0x00],
      [0x01, 0x61],
      [0xc0, 0x80],
    ])
      expect(looksLikeText(Buffer.from(bytes)), bytes.join(',')).toBe(false)
  })
})
