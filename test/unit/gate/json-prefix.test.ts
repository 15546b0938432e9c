import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { beginsWithWholeJson } from '../../../src/gate/json-prefix.js'

// Records as the ledger writes them: objects of strings (a reason, an actor) that may hold
// any character, brackets and quotes included, and nested objects and arrays.
const text = fc.string({ unit: 'binary', maxLength: 40 })
const braces = fc.stringMatching(/^[{}[\]"\\]{0,120}$/)
const record = fc.dictionary(
  fc.string({ maxLength: 8 }),
  fc.oneof(text, braces, fc.array(braces, { maxLength: 3 }), fc.dictionary(text, braces)),
  { minKeys: 1, maxKeys: 6 },
)

describe('beginsWithWholeJson', () => {
  it('finds no whole record in any strict part of one, and finds it whatever follows', () => {
    fc.assert(
      fc.property(
        record,
        fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
        fc.uint8Array({ maxLength: 16 }),
        (value, cuts, after) => {
          const line = Buffer.from(JSON.stringify(value))
          // The cut just before the last byte, and a few anywhere.
          for (const cut of [line.length - 1, ...cuts.map((n) => n % line.length)])
            expect(beginsWithWholeJson(line.subarray(0, cut)), `${cut} of ${line.toString()}`).toBe(
              false,
            )
          expect(beginsWithWholeJson(Buffer.concat([line, after]))).toBe(true)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('reads a reason of a hundred closing braces as text, not as the record ending', () => {
    const line = Buffer.from(JSON.stringify({ reason: '}'.repeat(100), seq: 3 }))
    expect(beginsWithWholeJson(line.subarray(0, line.length - 5))).toBe(false)
    expect(beginsWithWholeJson(line)).toBe(true)
  })

  it('takes nothing else for a record: zeros, a closing bracket first, a value that is not JSON', () => {
    for (const bytes of ['\0\0\0', ']', '}{"a":1}', '{"a":1,}', '{"a" 1}', 'abc'])
      expect(beginsWithWholeJson(Buffer.from(bytes)), bytes).toBe(false)
  })
})
