import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { flag, input, list, toArgv } from '../../../src/action/inputs.js'
import { REPO } from '../../helpers.js'

const item = fc
  .string({ minLength: 1, maxLength: 20 })
  .filter((s) => !/[\n,]/.test(s) && s.trim() === s && s !== '')

describe('action inputs', () => {
  it('reads a list written one per line or comma-separated, ignoring blanks', () => {
    fc.assert(
      fc.property(
        fc.array(item, { maxLength: 8 }),
        fc.constantFrom('\n', ',', ', ', '\n\n'),
        (items, sep) => {
          expect(list({ INPUT_ARTIFACTS: items.join(sep) }, 'artifacts')).toEqual(items)
        },
      ),
    )
  })

  it('accepts the hyphenated and the underscored spelling of a name alike', () => {
    fc.assert(
      fc.property(item, (value) => {
        expect(input({ 'INPUT_OUT-DIR': value }, 'out-dir')).toBe(value)
        expect(input({ INPUT_OUT_DIR: value }, 'out-dir')).toBe(value)
      }),
    )
  })

  it('takes only true and false as booleans', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const env = { INPUT_KEYLESS: value }
        const t = value.trim()
        if (t === '' || t === 'false') expect(flag(env, 'keyless')).toBe(false)
        else if (t === 'true') expect(flag(env, 'keyless')).toBe(true)
        else expect(() => flag(env, 'keyless')).toThrow(/input keyless/)
      }),
    )
  })

  it('never lets the build command become reproof options', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => s.trim() !== ''),
        (command) => {
          const { argv } = toArgv({ INPUT_COMMAND: command, INPUT_OUTPUTS: 'out' })
          const dash = argv.indexOf('--')
          expect(argv.slice(dash)).toEqual(['--', 'sh', '-c', command.trim()])
        },
      ),
    )
  })
})

describe('action.yml', () => {
  const yml = fs.readFileSync(path.join(REPO, 'action.yml'), 'utf8')
  const declared = [
    ...(/^inputs:\n([\s\S]*?)^outputs:/m.exec(yml)?.[1] ?? '').matchAll(/^ {2}([a-z-]+):$/gm),
  ].map((m) => m[1] ?? '')
  const source = fs.readFileSync(path.join(REPO, 'src', 'action', 'inputs.ts'), 'utf8')
  const read = new Set(
    [...source.matchAll(/\b(?:input|list|flag|opt|bool)\(\s*(?:env,\s*)?'([a-z-]+)'/g)].map(
      (m) => m[1] ?? '',
    ),
  )

  it('reads every declared input', () => {
    expect(declared.length).toBeGreaterThan(10)
    for (const name of declared) expect(read, name).toContain(name)
  })

  it('declares every input the program reads', () => {
    for (const name of read) expect(declared, name).toContain(name)
  })
})
