import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { BuildRecord } from '../../../src/records/build-record.js'
import { runEvidence, statementBytes, toStatement } from '../../../src/attest/statement.js'
import { validateStatement } from '../../../src/attest/validate-statement.js'

const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`))
const name = fc.stringMatching(/^[a-z]{1,8}(\/[a-z]{1,8}){0,2}$/)

const recordArb: fc.Arbitrary<BuildRecord> = fc
  .record({
    artifacts: fc.uniqueArray(fc.record({ name, sha256: hex(64), size: fc.nat() }), {
      selector: (a) => a.name,
      minLength: 1,
      maxLength: 5,
    }),
    commit: fc.option(hex(40)),
    dirty: fc.boolean(),
    repository: fc.option(
      fc.constantFrom('https://github.com/acme/app.git', 'git@github.com:acme/app.git'),
    ),
    lockfiles: fc.array(fc.record({ path: name, sha256: hex(64) }), { maxLength: 3 }),
    epoch: fc.nat(2_000_000_000),
    normalized: fc.boolean(),
  })
  .map(({ artifacts, commit, dirty, repository, lockfiles, epoch, normalized }) => {
    const manifest = artifacts.map((a) => ({ ...a }))
    return {
      recordType: 'https://reproof.dev/build-record',
      version: 2,
      reproofVersion: '0.1.0',
      command: ['make'],
      source: {
        path: '/src',
        ...(commit === null
          ? {}
          : {
              git: {
                commit,
                commitTime: 1,
                dirty,
                ...(repository === null ? {} : { repository }),
              },
            }),
        files: 1,
        bytes: 1,
        lockfiles,
      },
      outputs: ['out'],
      exclude: [],
      excludedOutputs: [],
      epoch: { value: epoch, source: 'flag' },
      environment: [{ name: 'TZ', value: 'UTC', from: 'reproof' }],
      canary: 'canary0',
      variations: [{ name: 'path', status: 'effective', a: 'x', b: 'y' }],
      isolation: { kind: 'namespaces', network: 'none', notes: [] },
      runs: [
        {
          id: 'a',
          root: '/a',
          exitCode: 0,
          signal: null,
          durationMs: 1,
          manifest,
          manifestDigest: '0'.repeat(64),
          leftovers: [],
        },
        {
          id: 'b',
          root: '/b',
          exitCode: 0,
          signal: null,
          durationMs: 1,
          manifest,
          manifestDigest: '0'.repeat(64),
          leftovers: [],
        },
      ],
      result: {
        reproducible: true,
        verdict: normalized ? 'reproducible-after-normalization' : 'reproducible',
        reproducibleWithoutNormalization: !normalized,
        differences: [],
        wouldMatchAfterNormalization: [],
      },
      normalization: normalized
        ? {
            mode: 'ship',
            artifacts: artifacts.map((a) => ({
              name: a.name,
              format: 'tar',
              raw: [a.sha256, a.sha256],
              normalized: ['f'.repeat(64), 'f'.repeat(64)],
              changes: [['x'], ['x']],
            })),
          }
        : null,
      startedAt: '2026-11-22T10:00:00.000Z',
      finishedAt: '2026-11-22T10:01:00.000Z',
    }
  })

describe('toStatement', () => {
  it('always builds a statement that follows the in-toto and SLSA field rules', () => {
    fc.assert(
      fc.property(recordArb, fc.webUrl(), (record, builderId) => {
        validateStatement(toStatement(record, { builderId, attestedBy: 'reproof build' }))
      }),
    )
  })

  it('names every artifact once, with the digest that ships, and both runs as evidence', () => {
    fc.assert(
      fc.property(recordArb, (record) => {
        const statement = toStatement(record, { builderId: 'b', attestedBy: 'reproof build' })
        const shipped = runEvidence(record)[0]?.artifacts ?? []
        expect(statement.subject).toEqual(
          shipped.map((a) => ({ name: a.name, digest: { sha256: a.sha256 } })),
        )
        const manifests = statement.predicate.runDetails.byproducts.map(
          (b) => JSON.parse(Buffer.from(b.content ?? '', 'base64').toString()) as unknown,
        )
        expect(manifests).toHaveLength(2)
        for (const m of manifests) expect(m).toEqual(shipped)
      }),
    )
  })

  it('names the commit built as its source by digest only when the tree was that commit', () => {
    fc.assert(
      fc.property(recordArb, (record) => {
        const git = record.source.git
        const source = toStatement(record, {
          builderId: 'b',
          attestedBy: 'reproof build',
        }).predicate.buildDefinition.resolvedDependencies.filter((d) => d.name === 'source')
        if (git === undefined) expect(source).toEqual([])
        else if (!git.dirty) expect(source[0]?.digest).toEqual({ gitCommit: git.commit })
        else {
          // Uncommitted changes: not a build of that commit, so no digest claims it.
          expect(source.every((d) => d.digest === undefined)).toBe(true)
          expect(source.every((d) => !(d.uri ?? '').endsWith(`@${git.commit}`))).toBe(true)
          for (const d of source)
            expect(d.annotations).toEqual({ dirty: true, basedOnCommit: git.commit })
        }
      }),
    )
  })

  it('signs each variation with its status and, where it held only in part, its note', () => {
    fc.assert(
      fc.property(recordArb, (record) => {
        const noted: BuildRecord = {
          ...record,
          variations: [
            { name: 'path', status: 'effective', a: 'x', b: 'y' },
            { name: 'file-times', status: 'no-effect', a: 'a', b: 'b', note: 'not varied' },
          ],
        }
        const statement = toStatement(noted, { builderId: 'b', attestedBy: 'reproof build' })
        const internal = statement.predicate.buildDefinition.internalParameters as {
          variations: unknown
        }
        expect(internal.variations).toEqual([
          { name: 'path', status: 'effective' },
          { name: 'file-times', status: 'no-effect', note: 'not varied' },
        ])
        validateStatement(statement)
      }),
      { numRuns: 10 },
    )
  })

  it('signs what the sandbox could not do, and why there was none', () => {
    fc.assert(
      fc.property(recordArb, (record) => {
        const leaky: BuildRecord = {
          ...record,
          isolation: {
            kind: 'namespaces',
            network: 'none',
            notes: ['the Unix socket /run/x.sock stayed reachable from the build'],
          },
        }
        const internal = (s: BuildRecord) =>
          (
            toStatement(s, { builderId: 'b', attestedBy: 'reproof build' }).predicate
              .buildDefinition.internalParameters as {
              isolation: unknown
            }
          ).isolation
        expect(internal(leaky)).toEqual(leaky.isolation)
        const none: BuildRecord = {
          ...record,
          isolation: { kind: 'process', reason: '--no-sandbox', network: 'host', notes: [] },
        }
        expect(internal(none)).toEqual({ kind: 'process', network: 'host', reason: '--no-sandbox' })
      }),
      { numRuns: 10 },
    )
  })

  it('is canonical: the same record gives the same bytes, whatever its key order', () => {
    const reverseKeys = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reverseKeys)
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(
              Object.entries(value)
                .reverse()
                .map(([k, v]) => [k, reverseKeys(v)]),
            )
          : value
    fc.assert(
      fc.property(recordArb, (record) => {
        const a = statementBytes(
          toStatement(record, { builderId: 'b', attestedBy: 'reproof build' }),
        )
        const b = statementBytes(
          toStatement(reverseKeys(record) as BuildRecord, {
            builderId: 'b',
            attestedBy: 'reproof build',
          }),
        )
        expect(a.equals(b)).toBe(true)
      }),
    )
  })
})

describe('validateStatement', () => {
  it('refuses what the specs forbid', () => {
    const [sample] = fc.sample(recordArb, { numRuns: 1, seed: 1 })
    if (sample === undefined) throw new Error('no sample')
    const good = toStatement(sample, {
      builderId: 'https://ci.example.com',
      attestedBy: 'reproof attest',
    })
    const broken: [string, (s: typeof good) => void][] = [
      [
        'uppercase hex',
        (s) =>
          ((s.subject[0] as { digest: Record<string, string> }).digest.sha256 = 'A'.repeat(64)),
      ],
      ['no subject', (s) => (s.subject = [])],
      [
        'local time',
        (s) => (s.predicate.runDetails.metadata.startedOn = '2026-11-22T10:00:00+01:00'),
      ],
      ['empty builder', (s) => (s.predicate.runDetails.builder.id = '')],
      [
        'descriptor without digest, uri or content',
        (s) => s.predicate.buildDefinition.resolvedDependencies.push({ name: 'x' }),
      ],
    ]
    for (const [what, breakIt] of broken) {
      const copy = structuredClone(good)
      breakIt(copy)
      expect(() => {
        validateStatement(copy)
      }, what).toThrow(/not valid/)
    }
  })
})
