import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { trustedRootProblem } from '../../../src/verify/trusted-root.js'
import { REPO } from '../../helpers.js'

type Json = Record<string, unknown>

const real = JSON.parse(
  fs.readFileSync(path.join(REPO, 'fixtures', 'real-sigstore', 'trusted_root.json'), 'utf8'),
) as Json

/** The public-good root with one change made by `edit`. */
function edited(edit: (root: Record<string, Json[]>) => void): unknown {
  const root = structuredClone(real) as Record<string, Json[]>
  edit(root)
  return root
}

const at = (root: Record<string, Json[]>, list: string, i: number): Json => {
  const item = root[list]?.[i]
  if (item === undefined) throw new Error(`the fixture has no ${list}[${i}]`)
  return item
}

describe('trusted roots', () => {
  it('accepts both trusted root versions, and a root without any of the lists', () => {
    expect(trustedRootProblem(real)).toBeUndefined()
    expect(
      trustedRootProblem({
        ...real,
        mediaType: 'application/vnd.dev.sigstore.trustedroot.v0.2+json',
      }),
    ).toBeUndefined()
    expect(
      trustedRootProblem({
        mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      }),
    ).toBeUndefined()
  })

  it('names what is wrong at the top', () => {
    expect(trustedRootProblem([])).toBe('the top: not a JSON object')
    expect(trustedRootProblem(null)).toBe('the top: not a JSON object')
    expect(trustedRootProblem({})).toBe(
      'mediaType: null is not a trusted root version reproof knows',
    )
    expect(trustedRootProblem({ mediaType: 7 })).toBe(
      'mediaType: 7 is not a trusted root version reproof knows',
    )
    expect(trustedRootProblem({ mediaType: 'x'.repeat(200) })).toBe(
      `mediaType: "${'x'.repeat(79)} is not a trusted root version reproof knows`,
    )
  })

  it('names the field of a log that is not whole, in either list', () => {
    for (const list of ['tlogs', 'ctlogs']) {
      const key = (r: Record<string, Json[]>): Json => at(r, list, 1).publicKey as Json
      const start = '2021-01-12T11:53:27Z'
      const cases: [(root: Record<string, Json[]>) => void, string][] = [
        [(r) => (r[list] = {} as Json[]), `${list}: not a list`],
        [(r) => (r[list] = [at(r, list, 0), 'x' as unknown as Json]), `${list}[1]: not an object`],
        [(r) => delete at(r, list, 1).logId, `${list}[1].logId.keyId: missing`],
        [(r) => ((at(r, list, 1).logId as Json).keyId = ''), `${list}[1].logId.keyId: missing`],
        [(r) => delete at(r, list, 1).publicKey, `${list}[1].publicKey: missing`],
        [(r) => (key(r).rawBytes = 5), `${list}[1].publicKey.rawBytes: missing`],
        [
          (r) => (key(r).validFor = { start: '2021-01-12' }),
          `${list}[1].publicKey.validFor.start: missing or not an RFC 3339 time`,
        ],
        [
          (r) => (key(r).validFor = { start, end: 'soon' }),
          `${list}[1].publicKey.validFor.end: not an RFC 3339 time`,
        ],
        [
          (r) => (key(r).validFor = { start, end: '2021-01-12T11:53:26.999Z' }),
          `${list}[1].publicKey.validFor.end: before its start`,
        ],
      ]
      for (const [edit, problem] of cases)
        expect(trustedRootProblem(edited(edit)), problem).toBe(problem)
    }
  })

  it('names the field of an authority that is not whole, in either list', () => {
    for (const list of ['certificateAuthorities', 'timestampAuthorities']) {
      const chain = (r: Record<string, Json[]>): Json => at(r, list, 0).certChain as Json
      const cases: [(root: Record<string, Json[]>) => void, string][] = [
        [(r) => (r[list] = 'x' as unknown as Json[]), `${list}: not a list`],
        [(r) => (r[list] = [null as unknown as Json]), `${list}[0]: not an object`],
        [
          (r) => delete at(r, list, 0).certChain,
          `${list}[0].certChain.certificates: missing or empty`,
        ],
        [
          (r) => (chain(r).certificates = []),
          `${list}[0].certChain.certificates: missing or empty`,
        ],
        [
          (r) => (chain(r).certificates = [{ rawBytes: 'MIIB' }, {}]),
          `${list}[0].certChain.certificates[1].rawBytes: missing`,
        ],
        [
          (r) => (chain(r).certificates = ['MIIB']),
          `${list}[0].certChain.certificates[0].rawBytes: missing`,
        ],
        [
          (r) => delete at(r, list, 0).validFor,
          `${list}[0].validFor: missing (every key and authority needs a validity window)`,
        ],
        [
          (r) => (at(r, list, 0).validFor = { start: '2021-13-01T00:00:00Z' }),
          `${list}[0].validFor.start: missing or not an RFC 3339 time`,
        ],
      ]
      for (const [edit, problem] of cases)
        expect(trustedRootProblem(edited(edit)), problem).toBe(problem)
    }
  })

  it('takes RFC 3339 times with fractions and offsets, an end equal to the start, and nothing else', () => {
    const withWindow = (validFor: object) =>
      trustedRootProblem({
        mediaType: 'application/vnd.dev.sigstore.trustedroot.v0.2+json',
        timestampAuthorities: [{ certChain: { certificates: [{ rawBytes: 'MIIB' }] }, validFor }],
      })
    for (const start of [
      '2021-01-12T11:53:27Z',
      '2021-01-12T11:53:27.5Z',
      '2021-01-12T11:53:27+02:00',
      '2021-01-12T11:53:27.123-05:30',
      '2024-02-29T00:00:00Z',
    ]) {
      expect(withWindow({ start }), start).toBeUndefined()
      expect(withWindow({ start, end: start }), start).toBeUndefined()
    }
    for (const start of [
      ' 2021-01-12T11:53:27Z',
      '2021-01-12T11:53:27Z ',
      '2021-01-12 11:53:27Z',
      '2021-01-12T11:53:27',
      '2021-01-12T11:53:27.Z',
      '2021-01-12T11:53:27+0200',
      '2021-13-12T11:53:27Z',
      // Date.parse takes an expanded year; RFC 3339 does not.
      '+002021-01-12T11:53:27Z',
      // Nor a day the month does not have, which Date.parse rolls into the next month.
      '2021-02-30T00:00:00Z',
      '2021-04-31T00:00:00Z',
      '2023-02-29T00:00:00Z',
      1610452407,
    ]) {
      expect(withWindow({ start }), String(start)).toBe(
        'timestampAuthorities[0].validFor.start: missing or not an RFC 3339 time',
      )
    }
  })
})
