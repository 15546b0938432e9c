import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { misshapenField } from '../../../src/verify/bundle-shape.js'
import { REPO } from '../../helpers.js'

const REAL = path.join(REPO, 'fixtures', 'real-sigstore', 'bundleV03-dsse.sigstore.json')
const real = (): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(REAL, 'utf8')) as Record<string, unknown>

/** Every leaf of a JSON value, by the path misshapenField names it with. */
function leaves(value: unknown, at = ''): [string, unknown][] {
  if (Array.isArray(value))
    return value.flatMap((v: unknown, i) => leaves(v, `${at}[${String(i)}]`))
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => leaves(v, at === '' ? k : `${at}.${k}`))
  return [[at, value]]
}

function setAt(root: Record<string, unknown>, at: string, to: unknown): void {
  const keys = at
    .split(/\.|\[(\d+)\]/)
    .filter((k: string | undefined) => k !== undefined && k !== '')
  let holder = root
  for (const key of keys.slice(0, -1)) holder = holder[key] as Record<string, unknown>
  holder[keys.at(-1) ?? ''] = to
}

describe('misshapenField', () => {
  it('passes real bundles, and null or absent fields', () => {
    expect(misshapenField(real())).toBeUndefined()
    for (const name of fs.readdirSync(path.dirname(REAL)).filter((n) => n.includes('bundle')))
      expect(
        misshapenField(JSON.parse(fs.readFileSync(path.join(path.dirname(REAL), name), 'utf8'))),
        name,
      ).toBeUndefined()
    const b = real()
    setAt(b, 'verificationMaterial.timestampVerificationData', null)
    setAt(b, 'dsseEnvelope.payloadType', null)
    expect(misshapenField(b)).toBeUndefined()
  })

  it('names any field of a real bundle given in another JSON type', () => {
    const paths = leaves(real()).map(([at]) => at)
    const others = fc.constantFrom<unknown>(
      [48, 130, 1],
      ['x'],
      { x: 1 },
      true,
      1.5,
      -1,
      2 ** 60,
      '01',
      '',
    )
    fc.assert(
      fc.property(fc.constantFrom(...paths), others, (at, to) => {
        const b = real()
        const was = leaves(b).find(([p]) => p === at)?.[1]
        setAt(b, at, to)
        const found = misshapenField(b)
        // A value of the field's own type (a string for a string field) is not misshapen;
        // int64 fields hold canonical digits.
        const int64 = /(logIndex|integratedTime|treeSize)$/.test(at)
        const fits = int64
          ? (typeof to === 'string' && /^(0|[1-9]\d*)$/.test(to)) ||
            (typeof to === 'number' && Number.isSafeInteger(to) && to >= 0)
          : typeof to === typeof was && !Array.isArray(to) && typeof to !== 'object'
        if (fits) expect(found).toBeUndefined()
        else expect(found?.path).toBe(at)
      }),
    )
  })

  it('names a list given where an object is, and an object where a list is', () => {
    const b = real()
    setAt(b, 'verificationMaterial', [1])
    expect(misshapenField(b)).toEqual({ path: 'verificationMaterial', wanted: 'an object' })
    const c = real()
    setAt(c, 'verificationMaterial.tlogEntries', { 0: {} })
    expect(misshapenField(c)).toEqual({
      path: 'verificationMaterial.tlogEntries',
      wanted: 'a list',
    })
    expect(misshapenField('x')).toEqual({ path: '(the bundle)', wanted: 'an object' })
  })
})
