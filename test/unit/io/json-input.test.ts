import { describe, expect, it } from 'vitest'
import { parseJsonInput } from '../../../src/io/json-input.js'
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
