import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseJsonBytes, parseJsonInput, repeatedKey } from '../../../src/io/json-input.js'
import { ReproofError } from '../../../src/errors.js'

describe('parseJsonInput', () => {
  it('gives the value of JSON, and refuses anything else as bad input naming the file and why', () => {
    expect(parseJsonInput('{"a":[1]}', '--policy p.json', 'p.json')).toEqual({ a: [1] })
    let thrown: unknown
    try {
      parseJsonInput('{"a":', '--policy p.json', 'p.json')
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(ReproofError)
    expect(thrown).toMatchObject({ code: 'E_INPUT', context: { path: 'p.json' } })
    expect((thrown as ReproofError).message).toMatch(/^--policy p\.json: not JSON \(.+\)$/)
    expect((thrown as ReproofError).cause).toBeInstanceOf(SyntaxError)
  })
})

describe('parseJsonBytes', () => {
  it('refuses bytes that are not UTF-8, which a lenient decoding reads as U+FFFD', () => {
    const refused = (bytes: Buffer) => () => parseJsonBytes(bytes, '--record r.json', 'r.json')
    expect(parseJsonBytes(Buffer.from('{"c":"make\u00e9"}'), 'l', 'f')).toEqual({ c: 'makeé' })
    for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf]])
      expect(
        refused(Buffer.concat([Buffer.from('{"c":"make'), Buffer.from(bad), Buffer.from('"}')])),
      ).toThrow(/^--record r\.json: not UTF-8$/)
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const json = JSON.stringify({ text })
        expect(parseJsonBytes(Buffer.from(json), 'l', 'f')).toEqual(JSON.parse(json))
      }),
    )
  })
})

// JSON whose objects may repeat a key, written out by hand (JSON.stringify never repeats
// one), with the answer known from how it was made.
interface Made {
  text: string
  repeats: boolean
}
const keyArb = fc.constantFrom('a', 'b', 'é', '\\u0061', 'a"b', '\\\\', '{', ',')
const madeArb: fc.Arbitrary<Made> = fc.letrec<{ value: Made }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<Made>(
      { text: '1', repeats: false },
      { text: '"x,{]"', repeats: false },
      { text: 'null', repeats: false },
      { text: '"\\"}"', repeats: false },
    ),
    fc.array(tie('value'), { maxLength: 3 }).map((items) => ({
      text: `[${items.map((i) => i.text).join(',')}]`,
      repeats: items.some((i) => i.repeats),
    })),
    fc
      .array(fc.tuple(keyArb, tie('value'), fc.constantFrom('', ' ', '\n')), { maxLength: 4 })
      .map((pairs) => {
        const keys = pairs.map(([k]) => JSON.parse(`"${k.replace(/"/g, '\\"')}"`) as string)
        return {
          text: `{${pairs.map(([k, v, ws]) => `${ws}"${k.replace(/"/g, '\\"')}"${ws}:${ws}${v.text}`).join(',')}}`,
          repeats: new Set(keys).size < keys.length || pairs.some(([, v]) => v.repeats),
        }
      }),
  ),
})).value

describe('repeatedKey', () => {
  it('finds a key given twice in one object, however it is escaped, and nothing else', () => {
    fc.assert(
      fc.property(madeArb, ({ text, repeats }) => {
        expect(() => JSON.parse(text) as unknown, text).not.toThrow()
        expect(repeatedKey(text) !== undefined, text).toBe(repeats)
      }),
      { numRuns: 500 },
    )
  })

  it('finds, when asked, two keys of one object that differ only in case, as a Go reader matches them', () => {
    const folded = (text: string) => repeatedKey(text, { caseFolded: true })
    expect(folded('{"subject":1,"Subject":2}')).toEqual({
      key: 'Subject',
      first: 'subject',
      at: 13,
    })
    expect(folded('{"subject":1,"\\u017fubject":2}')).toMatchObject({ key: '\u017fubject' })
    expect(folded('{"k":1,"\u212a":2}')).toMatchObject({ first: 'k' })
    expect(repeatedKey('{"subject":1,"Subject":2}')).toBeUndefined()
    // Keys of different objects are apart, folded or not.
    expect(folded('{"a":{"B":1},"b":{"A":2}}')).toBeUndefined()
    fc.assert(
      fc.property(madeArb, ({ text, repeats }) => {
        if (repeats) expect(folded(text), text).toBeDefined()
      }),
    )
  })

  it('refuses a policy that says a requirement twice', () => {
    expect(() =>
      parseJsonInput('{"builderId":"x","n":{"builderId":1},"builderId":"y"}', '--policy p', 'p'),
    ).toThrow(/^--policy p: the key "builderId" is given twice in one object \(at character 37\)$/)
  })
})
