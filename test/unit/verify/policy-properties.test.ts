import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { certificateFacts, utf8String } from '../../../src/verify/certificate-facts.js'
import {
  checkStatement,
  FUTURE_SKEW_MS,
  githubUrl,
  repositoryKey,
} from '../../../src/verify/policy.js'
import { trustedRootProblem } from '../../../src/verify/trusted-root.js'
import type { VerifiedTime } from '../../../src/verify/verify-signature.js'
import { REPO } from '../../helpers.js'
import { derElement } from '../../der.js'

/** A DER UTF8String of `text`, in the shortest length form. */
const der = (text: string): Buffer => derElement(0x0c, Buffer.from(text, 'utf8'))

const oid = (n: number) => ({ id: [1, 3, 6, 1, 4, 1, 57264, 1, n] })

describe('certificate facts', () => {
  it('reads every DER UTF8String back exactly, and nothing that is not one', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        expect(utf8String(der(text))).toBe(text)
        const bytes = der(text)
        // A byte more, a byte less, another tag: not a UTF8String that fills the value.
        expect(utf8String(Buffer.concat([bytes, Buffer.from([0])]))).toBeUndefined()
        expect(utf8String(bytes.subarray(0, bytes.length - 1))).toBeUndefined()
        expect(utf8String(Buffer.concat([Buffer.from([0x13]), bytes.subarray(1)]))).toBeUndefined()
      }),
    )
    // The long form for a length under 128 is not DER.
    expect(utf8String(Buffer.from([0x0c, 0x81, 0x01, 0x41]))).toBeUndefined()
    // Invalid UTF-8 is not read as text.
    expect(utf8String(Buffer.from([0x0c, 0x01, 0xff]))).toBeUndefined()
  })

  it('names the facts by their OIDs, and a fact stated twice or unreadable is not stated', () => {
    const facts = certificateFacts([
      { oid: oid(12), value: der('https://github.com/acme/app') },
      { oid: oid(11), value: der('github-hosted') },
      { oid: oid(14), value: der('refs/heads/main') },
      { oid: oid(14), value: der('refs/heads/evil') },
      { oid: oid(13), value: Buffer.from('raw, not DER') },
      { oid: { id: [2, 5, 29, 17] }, value: der('not a Fulcio fact') },
    ])
    expect(facts).toEqual({
      sourceRepositoryUri: 'https://github.com/acme/app',
      runnerEnvironment: 'github-hosted',
    })
  })
})

describe('repository names', () => {
  it('compares the forms one repository is written in as equal, and others as not', () => {
    const same = [
      'https://github.com/acme/app',
      'git+https://github.com/acme/app.git',
      'https://github.com/Acme/App/',
      'git@github.com:acme/app.git',
      'ssh://git@github.com/acme/app',
      'https://token@github.com/acme/app.git',
      'https://user:p@ss@github.com/acme/app',
      githubUrl('acme/app'),
      githubUrl('github.com/acme/app'),
    ]
    for (const form of same) expect(repositoryKey(form), form).toBe('https://github.com/acme/app')
    expect(repositoryKey('https://github.com/acme/app2')).not.toBe(repositoryKey(same[0] ?? ''))
    expect(repositoryKey('https://github.com/evil/app')).not.toBe(repositoryKey(same[0] ?? ''))
    // Off GitHub, paths keep their case.
    expect(repositoryKey('https://git.example.com/Acme/App')).not.toBe(
      repositoryKey('https://git.example.com/acme/app'),
    )
  })

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.string(), (uri) => {
        expect(repositoryKey(repositoryKey(uri))).toBe(repositoryKey(uri))
      }),
    )
  })

  it('takes bounded work on an address written to be worked over (a signed statement may hold 8 MiB)', () => {
    const started = performance.now()
    const long = ['.git', '/', ' git+'].map((part) =>
      repositoryKey(`https://github.com/acme/app${part.repeat(40_000)}`),
    )
    expect(repositoryKey(`git+${'git+'.repeat(1000)}https://github.com/acme/app.git/`)).toBe(
      'https://github.com/acme/app',
    )
    expect(performance.now() - started).toBeLessThan(5_000)
    // Too long to be a repository's address: compared as written, never as acme/app.
    for (const key of long) expect(key).not.toBe('https://github.com/acme/app')
  })
})

describe('subjects', () => {
  const artifact = { path: 'a', sha256: 'a256', sha512: 'a512' }
  // Each algorithm a subject names: the artifact's digest, another file's, or none.
  const digestArb = fc.record(
    {
      sha256: fc.constantFrom('a256', 'b256'),
      sha512: fc.constantFrom('a512', 'b512'),
    },
    { requiredKeys: [] },
  )
  const subjectOk = (subjects: Record<string, string>[], sha256Required: boolean) =>
    checkStatement(
      'application/vnd.in-toto+json',
      {
        _type: 'https://in-toto.io/Statement/v1',
        subject: subjects.map((digest, i) => ({ name: `s${i}`, digest })),
        predicateType: 'https://slsa.dev/provenance/v1',
        predicate: {},
      },
      [artifact],
      {},
      { kind: 'key' },
      [],
      0,
      { sha256Required },
    ).find((c) => c.name === 'subject for a')?.ok

  it("matches a subject only when a digest it names is the file's and none is another file's, and by SHA-256 where the gate needs it", () => {
    fc.assert(
      fc.property(fc.array(digestArb, { maxLength: 4 }), fc.boolean(), (subjects, required) => {
        const agrees = (d: Record<string, string>) =>
          Object.keys(d).length > 0 &&
          Object.entries(d).every(([k, v]) => v === artifact[k as 'sha256' | 'sha512'])
        const expected = subjects.some((d) => agrees(d) && (!required || 'sha256' in d))
        expect(subjectOk(subjects, required)).toBe(expected)
      }),
    )
  })
})

describe('verified times', () => {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'a', digest: { sha256: 'ab' } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {},
  }
  const now = Date.UTC(2026, 11, 2)
  const day = 86_400_000
  const check = (times: VerifiedTime[], maxAgeMs?: number) =>
    checkStatement(
      'application/vnd.in-toto+json',
      statement,
      [{ path: 'a', sha256: 'ab' }],
      maxAgeMs === undefined ? {} : { maxAgeMs },
      // Under a certificate: a key signature has no age to measure (policy.test.ts).
      { kind: 'certificate', facts: {} },
      times,
      now,
    ).filter((c) => !c.ok)

  it('measures the age from the earliest verified time: a fresh timestamp over an old signature does not make it new', () => {
    const old: VerifiedTime = { time: now - 400 * day, source: 'transparency log' }
    const fresh: VerifiedTime = { time: now - 1000, source: 'timestamp authority' }
    expect(check([fresh, old], day).map((c) => c.reason)).toEqual(['too-old'])
    expect(check([fresh], day)).toEqual([])
    expect(check([], day).map((c) => c.reason)).toEqual(['too-old'])
  })

  it('refuses a time further in the future than the skew, with or without --max-age', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10 * day, max: 10 * day }), (offset) => {
        const failed = check([{ time: now + offset, source: 'timestamp authority' }])
        expect(failed.length > 0).toBe(offset > FUTURE_SKEW_MS)
      }),
    )
  })
})

describe('trusted roots', () => {
  const real = JSON.parse(
    fs.readFileSync(path.join(REPO, 'fixtures', 'real-sigstore', 'trusted_root.json'), 'utf8'),
  ) as Record<string, { publicKey?: { validFor?: object }; validFor?: object }[]>

  it('accepts the public-good root, and names the field of a key or CA without a validity window', () => {
    expect(trustedRootProblem(real)).toBeUndefined()
    const noStart = structuredClone(real)
    delete noStart.tlogs?.[1]?.publicKey?.validFor
    expect(trustedRootProblem(noStart)).toBe(
      'tlogs[1].publicKey.validFor: missing (every key and authority needs a validity window)',
    )
    const startless = structuredClone(real)
    const ca = startless.certificateAuthorities?.[0]
    if (ca !== undefined) ca.validFor = { end: '2030-01-01T00:00:00Z' }
    expect(trustedRootProblem(startless)).toBe(
      'certificateAuthorities[0].validFor.start: missing or not an RFC 3339 time',
    )
    expect(trustedRootProblem({ ...real, mediaType: 'application/json' })).toMatch(/^mediaType: /)
  })
})

describe('the reproduced check', () => {
  const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex')
  const subject = sha('artifact')
  const manifest = (digests: string[]) =>
    JSON.stringify(digests.map((d) => ({ name: 'a', sha256: d })))
  const byproduct = (name: string, content: string, digest = sha(content)) => ({
    name,
    content: Buffer.from(content).toString('base64'),
    digest: { sha256: digest },
    annotations: { reproducible: true },
  })
  const decide = (byproducts: object[]) =>
    checkStatement(
      'application/vnd.in-toto+json',
      {
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'a', digest: { sha256: subject } }],
        predicateType: 'https://slsa.dev/provenance/v1',
        predicate: { runDetails: { byproducts } },
      },
      [{ path: 'a', sha256: subject }],
      { requireReproduced: true },
      { kind: 'key' },
      [],
      0,
    ).find((c) => c.name === 'reproduced by two runs')?.ok

  it('needs both runs, each manifest intact and holding every subject', () => {
    const a = byproduct('reproof/run-a/manifest.json', manifest([subject]))
    const b = byproduct('reproof/run-b/manifest.json', manifest([subject]))
    expect(decide([a, b])).toBe(true)
    expect(decide([a])).toBe(false)
    expect(decide([a, a])).toBe(false)
    // A run whose manifest does not hold the subject: not proof that it produced it.
    expect(decide([a, byproduct('reproof/run-b/manifest.json', manifest([sha('other')]))])).toBe(
      false,
    )
    // A manifest whose content does not match its recorded digest proves nothing.
    const forged = byproduct('reproof/run-b/manifest.json', manifest([subject]), sha('x'))
    expect(decide([a, forged])).toBe(false)
  })
})
