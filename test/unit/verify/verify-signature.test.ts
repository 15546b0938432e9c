import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { bundleToJSON, type SerializedBundle } from '@sigstore/bundle'
import { DSSEBundleBuilder, RekorWitness, TSAWitness } from '@sigstore/sign'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ReproofError, type ErrorCode } from '../../../src/errors.js'
import { keySigner } from '../../../src/sign/key-signer.js'
import { keyHint } from '../../../src/sign/keys.js'
import { signKeyless } from '../../../src/sign/keyless.js'
import { signWithKey } from '../../../src/sign/sign-statement.js'
import { MAX_BUNDLE_BYTES, readBundleBytes, runVerify } from '../../../src/verify/run-verify.js'
import { rejectionReason, type Reason } from '../../../src/verify/reasons.js'
import {
  checkLogKeyWindows,
  verifyAsSigned,
  verifySignature,
  type Trust,
} from '../../../src/verify/verify-signature.js'
import { REPO, makeTemp, thrown } from '../../helpers.js'
import { ISSUER, SUBJECT, startServices, type Services } from '../../sigstore-services.js'

// Signature verification and the verify runner, in-process: real public-good bundles
// offline, bundles signed here with local keys, and keyless bundles from the loopback
// Fulcio and Rekor. The CLI's own tests cover the same ground end to end; these are
// fast enough to run once per mutant.

const REAL = path.join(REPO, 'fixtures', 'real-sigstore')
const ROOT = path.join(REAL, 'trusted_root.json')
const TGZ = path.join(REAL, 'sigstore-1.0.0.tgz')
const REAL_SAN = 'brian@dehamer.com'
const REAL_ISSUER = 'https://github.com/login/oauth'
const realBundle = (): SerializedBundle =>
  JSON.parse(
    fs.readFileSync(path.join(REAL, 'bundleV03-dsse.sigstore.json'), 'utf8'),
  ) as SerializedBundle

const keyless = (over: Partial<Extract<Trust, { kind: 'keyless' }>> = {}): Trust => ({
  kind: 'keyless',
  trustedRoot: ROOT,
  identity: REAL_SAN,
  identityRegexp: undefined,
  issuer: REAL_ISSUER,
  issuerRegexp: undefined,
  ...over,
})

/**
 * What verification throws, read flat: a no carries its reason code (`reason`, with what
 * was wanted and found); any other error has no reason.
 */
interface Refusal {
  code: ErrorCode
  message: string
  context: ReproofError['context']
  reason: Reason | undefined
  wanted?: unknown
  found?: unknown
}

async function refusal(work: Promise<unknown>): Promise<Refusal> {
  try {
    await work
  } catch (err) {
    if (err instanceof ReproofError)
      return {
        code: err.code,
        message: err.message,
        context: err.context,
        reason: rejectionReason(err),
        wanted: err.context.wanted,
        found: err.context.found,
      }
    throw err
  }
  throw new Error('verified')
}

/** The fields these tests edit, as a bundle's JSON holds them. */
interface BundleJson {
  mediaType: string
  dsseEnvelope?: { payload: string; signatures: { sig: string; keyid?: string }[] }
  messageSignature?: object
  verificationMaterial: {
    publicKey?: { hint?: string }
    certificate: { rawBytes: string }
    tlogEntries: LogEntryJson[]
    timestampVerificationData?: { rfc3161Timestamps: { signedTimestamp: string }[] }
  }
}
interface RootJson {
  tlogs: { publicKey: { validFor: { start?: string } } }[]
}
interface LogEntryJson {
  logIndex: string
  kindVersion: { kind: string; version: string }
  integratedTime: string
  logId: { keyId: string }
  inclusionPromise?: { signedEntryTimestamp: string }
  canonicalizedBody: string
  inclusionProof: {
    logIndex: string
    treeSize: string
    rootHash: string
    hashes: string[]
    checkpoint: { envelope: string }
  }
}

/** A copy of `json` with `edit` applied, as JSON is edited by hand. */
function edited(json: SerializedBundle, edit: (b: BundleJson) => void): SerializedBundle {
  const copy = structuredClone(json) as unknown as BundleJson
  edit(copy)
  return copy as unknown as SerializedBundle
}
/** The bundle's first log entry, which every bundle edited here has. */
function entryOf(b: BundleJson | SerializedBundle): LogEntryJson {
  const entry = (b as BundleJson).verificationMaterial.tlogEntries[0]
  if (entry === undefined) throw new Error('no log entry')
  return entry
}
function envelopeOf(b: BundleJson): NonNullable<BundleJson['dsseEnvelope']> {
  if (b.dsseEnvelope === undefined) throw new Error('no envelope')
  return b.dsseEnvelope
}

let dir: string
const ARTIFACT_TEXT = 'the artifact'
const ARTIFACT_SHA = crypto.createHash('sha256').update(ARTIFACT_TEXT).digest('hex')
let artifact: string
const provenance = (subject: object = { sha256: ARTIFACT_SHA }) => ({
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'app.bin', digest: subject }],
  predicateType: 'https://slsa.dev/provenance/v1',
  predicate: {
    buildDefinition: {
      buildType: 'https://reproof.dev/build/v1',
      externalParameters: { source: { uri: 'git+https://github.com/acme/app.git' } },
    },
    runDetails: { builder: { id: 'https://ci.example.com' } },
  },
})

interface Key {
  pub: string
  publicKey: crypto.KeyObject
  privateKey: crypto.KeyObject
  kind: 'ecdsa-p256' | 'ed25519'
}
let keyA: Key
let keyB: Key
let keyC: Key
function makeKey(kind: Key['kind'], name: string): Key {
  const { privateKey, publicKey } =
    kind === 'ed25519'
      ? crypto.generateKeyPairSync('ed25519')
      : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const pub = path.join(dir, `${name}.pub`)
  fs.writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }))
  return { pub, publicKey, privateKey, kind }
}
const keyTrust = (files: string[], trustedRoot?: string): Trust => ({
  kind: 'keys',
  keys: files,
  trustedRoot,
})
const sign = (key: Key, payload: unknown = provenance()): Promise<SerializedBundle> =>
  signWithKey(
    Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload)),
    key.privateKey,
    key.kind,
  )

let services: Services
let servicesRoot: string
/** A keyless bundle from the loopback services, for SUBJECT and ISSUER. */
let keylessBundle: SerializedBundle

beforeAll(async () => {
  dir = makeTemp('reproof-verify-signature-')
  artifact = path.join(dir, 'app.bin')
  fs.writeFileSync(artifact, ARTIFACT_TEXT)
  keyA = makeKey('ecdsa-p256', 'a')
  keyB = makeKey('ed25519', 'b')
  keyC = makeKey('ecdsa-p256', 'c')
  services = await startServices()
  servicesRoot = path.join(dir, 'services-root.json')
  fs.writeFileSync(servicesRoot, JSON.stringify(services.trustedRoot))
  const token = (await (
    await fetch(`${services.base}/token?audience=sigstore`, {
      headers: { authorization: 'bearer request-token' },
    })
  ).json()) as { value: string }
  const signed = await signKeyless(Buffer.from(JSON.stringify(provenance())), {
    tokenSource: { kind: 'environment', token: token.value },
    fulcioUrl: services.base,
    rekorUrl: services.base,
    tsaUrl: undefined,
    verifyBeforeWriting: (bundle) => verifyAsSigned(bundle, { file: servicesRoot }),
    timeoutMs: 5000,
    retries: 0,
    pendingFile: path.join(dir, 'pending.json'),
  })
  expect(signed.notVerified).toBeUndefined()
  keylessBundle = signed.bundle
})
afterAll(async () => {
  await services.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('verifySignature, keyless', () => {
  it('accepts a real public-good bundle with its exact identity and issuer, and its promised log time', async () => {
    const result = await verifySignature(realBundle(), keyless())
    expect(result.identity).toMatchObject({
      kind: 'certificate',
      subjectAlternativeName: REAL_SAN,
      issuer: REAL_ISSUER,
    })
    expect(result.verifiedTimes).toEqual([
      { time: Date.parse('2023-07-12T15:50:43.000Z'), source: 'transparency log' },
    ])
    expect(result.unchecked).toEqual([])
    expect(result.payloadType).toBe('application/vnd.in-toto+json')
    expect(JSON.parse(result.payload.toString('utf8'))).toMatchObject({
      subject: [{ name: 'pkg:npm/sigstore@1.0.0' }],
    })
  })

  it('matches identity and issuer exactly, or by a regular expression anchored at both ends', async () => {
    const ok = async (over: Parameters<typeof keyless>[0]) =>
      (await verifySignature(realBundle(), keyless(over))).identity.kind
    expect(await ok({ identity: undefined, identityRegexp: '[a-z]+@dehamer\\.com' })).toBe(
      'certificate',
    )
    expect(await ok({ issuer: undefined, issuerRegexp: 'https://github\\.com/.*' })).toBe(
      'certificate',
    )
    // Both ends of every alternative: "x|brian" must not match "brian@dehamer.com".
    for (const [over, reason, wanted, found] of [
      [{ identity: 'brian@dehamer.co' }, 'identity-mismatch', 'brian@dehamer.co', REAL_SAN],
      [{ identity: undefined, identityRegexp: 'brian' }, 'identity-mismatch', 'brian', REAL_SAN],
      [
        { identity: undefined, identityRegexp: 'x|brian' },
        'identity-mismatch',
        'x|brian',
        REAL_SAN,
      ],
      [
        { identity: undefined, identityRegexp: 'dehamer.com' },
        'identity-mismatch',
        'dehamer.com',
        REAL_SAN,
      ],
      [{ issuer: `${REAL_ISSUER}/` }, 'issuer-mismatch', `${REAL_ISSUER}/`, REAL_ISSUER],
      [
        { issuer: undefined, issuerRegexp: 'https://github' },
        'issuer-mismatch',
        'https://github',
        REAL_ISSUER,
      ],
      [{ issuer: undefined, issuerRegexp: 'oauth|x' }, 'issuer-mismatch', 'oauth|x', REAL_ISSUER],
    ] as const) {
      const err = await refusal(verifySignature(realBundle(), keyless(over)))
      expect(err, JSON.stringify(over)).toMatchObject({
        reason,
        wanted,
        found,
        message:
          reason === 'identity-mismatch'
            ? 'the certificate identity is not the one required'
            : 'the certificate was issued for another OIDC issuer',
      })
    }
  })

  it('wants a trusted time: a log entry without its inclusion promise gives none', async () => {
    // The promise covers integratedTime; the inclusion proof does not.
    const bundle = edited(realBundle(), (b) => {
      const entry = entryOf(b)
      delete entry.inclusionPromise
      entry.integratedTime = String(Math.floor(Date.now() / 1000))
    })
    expect(await refusal(verifySignature(bundle, keyless()))).toMatchObject({
      reason: 'signature-invalid',
      message: 'TIMESTAMP_ERROR: expected 1 timestamps, got 0',
    })
  })

  it('gives keyless bundles from Fulcio and Rekor their certificate facts and log time', async () => {
    const trust = keyless({
      trustedRoot: servicesRoot,
      identity: SUBJECT,
      issuer: ISSUER,
    })
    const result = await verifySignature(keylessBundle, trust)
    expect(result.identity).toMatchObject({
      kind: 'certificate',
      subjectAlternativeName: SUBJECT,
      issuer: ISSUER,
      facts: { issuer: ISSUER },
    })
    expect(result.verifiedTimes.map((t) => t.source)).toEqual(['transparency log'])
    expect(Math.abs((result.verifiedTimes[0]?.time ?? 0) - Date.now())).toBeLessThan(60_000)
  })

  it('refuses a keyless bundle without a log entry, or verified against another root', async () => {
    const bare = edited(keylessBundle, (b) => {
      b.verificationMaterial.tlogEntries = []
    })
    const trust = keyless({ trustedRoot: servicesRoot, identity: SUBJECT, issuer: ISSUER })
    expect(await refusal(verifySignature(bare, trust))).toMatchObject({
      reason: 'tlog-missing',
      message:
        'the bundle has no transparency-log entry; a keyless signature without one is not accepted',
    })
    // The public-good root knows neither the loopback CA nor its log.
    const other = await refusal(
      verifySignature(keylessBundle, keyless({ identity: SUBJECT, issuer: ISSUER })),
    )
    expect(other).toMatchObject({
      reason: 'signature-invalid',
      message: expect.stringMatching(/^CERTIFICATE_ERROR: /) as unknown,
    })
  })

  it('maps a tampered signature to signature-invalid, naming the library code', async () => {
    const bundle = edited(realBundle(), (b) => {
      const [signature] = envelopeOf(b).signatures
      if (signature === undefined) throw new Error('no signature')
      const sig = Buffer.from(signature.sig, 'base64')
      sig[sig.length - 1] = (sig[sig.length - 1] ?? 0) ^ 1
      signature.sig = sig.toString('base64')
    })
    const err = await refusal(verifySignature(bundle, keyless()))
    expect(err).toMatchObject({ reason: 'signature-invalid' })
    expect(err.message).toMatch(/^[A-Z_]+: /)
  })
})

describe('verifySignature, the bundle itself', () => {
  const cases: [string, (b: BundleJson) => void, string, RegExp][] = [
    [
      'an unknown media type',
      (b) => {
        b.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.0'
      },
      'bundle-invalid',
      /^the bundle's media type is not one reproof knows: "application\/vnd\.dev\.sigstore\.bundle\+json;version=0\.0"$/,
    ],
    [
      'non-canonical base64',
      (b) => {
        entryOf(b).canonicalizedBody += '}'
      },
      'bundle-invalid',
      /^the bundle's "canonicalizedBody" is not canonical base64$/,
    ],
    [
      'an unknown field nested a million levels deep',
      (b) => {
        let deep: unknown = {}
        for (let i = 0; i < 1_000_000; i++) deep = { x: deep }
        ;(b as unknown as Record<string, unknown>).extra = deep
      },
      'bundle-invalid',
      /^the bundle nests more than 64 levels deep; a Sigstore bundle nests a few$/,
    ],
    [
      'base64 inside a list',
      (b) => {
        const hashes = entryOf(b).inclusionProof.hashes
        hashes[hashes.length - 1] = `${hashes.at(-1) ?? ''}}`
      },
      'bundle-invalid',
      /^the bundle's "hashes" is not canonical base64$/,
    ],
    [
      'a certificate that is not strict DER',
      (b) => {
        const der = Buffer.from(b.verificationMaterial.certificate.rawBytes, 'base64')
        b.verificationMaterial.certificate.rawBytes = Buffer.concat([
          der,
          Buffer.from([0]),
        ]).toString('base64')
      },
      'bundle-invalid',
      /^a certificate in the bundle is not valid DER$/,
    ],
    [
      // The library turns the numbers into bytes: the strict-DER check saw no string.
      'a certificate given as a list of byte values, not strict DER',
      (b) => {
        const der = Buffer.from(b.verificationMaterial.certificate.rawBytes, 'base64')
        ;(b.verificationMaterial.certificate as { rawBytes: unknown }).rawBytes = [
          ...Buffer.concat([der, Buffer.from([0])]),
        ]
      },
      'bundle-invalid',
      /^the bundle's verificationMaterial\.certificate\.rawBytes is not a string, as the bundle format has it$/,
    ],
    [
      'a payload given as a list of byte values',
      (b) => {
        ;(envelopeOf(b) as { payload: unknown }).payload = [
          ...Buffer.from(envelopeOf(b).payload, 'base64'),
        ]
      },
      'bundle-invalid',
      /^the bundle's dsseEnvelope\.payload is not a string/,
    ],
    [
      'a checkpoint that is not text',
      (b) => {
        ;(entryOf(b).inclusionProof.checkpoint as { envelope: unknown }).envelope = 5
      },
      'bundle-invalid',
      /^the bundle's verificationMaterial\.tlogEntries\[0\]\.inclusionProof\.checkpoint\.envelope is not a string/,
    ],
    [
      'a checkpoint with no note in it',
      (b) => {
        ;(entryOf(b).inclusionProof as { checkpoint: unknown }).checkpoint = { envelope: null }
      },
      'bundle-invalid',
      /^an inclusion proof's checkpoint holds no signed note$/,
    ],
    [
      'a checkpoint that is empty',
      (b) => {
        ;(entryOf(b).inclusionProof as { checkpoint: unknown }).checkpoint = {}
      },
      'bundle-invalid',
      /^an inclusion proof's checkpoint holds no signed note$/,
    ],
    [
      'a certificate that is not one',
      (b) => {
        b.verificationMaterial.certificate.rawBytes =
          Buffer.from('not a certificate').toString('base64')
      },
      'bundle-invalid',
      /^a certificate in the bundle is not valid DER$/,
    ],
    [
      'an inclusion proof whose tree size is not its checkpoint’s',
      (b) => {
        const proof = entryOf(b).inclusionProof
        proof.treeSize = String(Number(proof.treeSize) + 1)
      },
      'bundle-invalid',
      /^an inclusion proof disagrees with its signed checkpoint \(tree size or root hash\)$/,
    ],
    [
      'an inclusion proof whose root hash is not its checkpoint’s',
      (b) => {
        const proof = entryOf(b).inclusionProof
        proof.rootHash = Buffer.alloc(32).toString('base64')
      },
      'bundle-invalid',
      /^an inclusion proof disagrees with its signed checkpoint/,
    ],
    [
      'a Rekor v2 entry whose index is not its proof’s',
      (b) => {
        const entry = entryOf(b)
        entry.kindVersion = { kind: 'dsse', version: '0.0.2' }
        entry.logIndex = String(Number(entry.inclusionProof.logIndex) + 1)
      },
      'bundle-invalid',
      /^a Rekor v2 log entry's index is not its inclusion proof's$/,
    ],
    [
      'a checkpoint signature in lenient base64',
      (b) => {
        const proof = entryOf(b).inclusionProof
        proof.checkpoint.envelope = proof.checkpoint.envelope.replace(
          /(\u2014 \S+ )(\S+)\n/,
          (_: string, head: string, sig: string) => `${head}${sig.replace(/=*$/, '')}\n`,
        )
      },
      'bundle-invalid',
      /^a checkpoint signature is not canonical base64$/,
    ],
    [
      'two signatures (the bundle format allows one)',
      (b) => {
        envelopeOf(b).signatures.push(...envelopeOf(b).signatures)
      },
      'bundle-invalid',
      /^the bundle is not a valid Sigstore bundle \(invalid bundle: content\.dsseEnvelope\.signatures\)$/,
    ],
    [
      'no signature',
      (b) => {
        envelopeOf(b).signatures = []
      },
      'bundle-invalid',
      /^the bundle is not a valid Sigstore bundle/,
    ],
    [
      'a message signature',
      (b) => {
        delete b.dsseEnvelope
        b.messageSignature = {
          messageDigest: { algorithm: 'SHA2_256', digest: Buffer.alloc(32).toString('base64') },
          signature: Buffer.alloc(64).toString('base64'),
        }
      },
      'payload-type',
      /^the bundle holds a message signature, not a DSSE attestation$/,
    ],
    [
      'no content at all',
      (b) => {
        delete b.dsseEnvelope
      },
      'bundle-invalid',
      /^the bundle is not a valid Sigstore bundle \(.+\)$/,
    ],
  ]
  for (const [what, edit, reason, message] of cases)
    it(`refuses ${what}`, async () => {
      const err = await refusal(verifySignature(edited(realBundle(), edit), keyless()))
      expect([err.reason, err.message]).toEqual([reason, expect.stringMatching(message)])
    })

  it('reads every base64 field as strictly as the signature covers it', async () => {
    // Each field, and the object that holds it under its own name.
    const holders: [string, (b: BundleJson) => object][] = [
      ['rawBytes', (b) => b.verificationMaterial.certificate],
      ['keyId', (b) => entryOf(b).logId],
      ['signedEntryTimestamp', (b) => entryOf(b).inclusionPromise ?? {}],
      ['rootHash', (b) => entryOf(b).inclusionProof],
      ['canonicalizedBody', (b) => entryOf(b)],
      ['payload', (b) => envelopeOf(b)],
      ['sig', (b) => envelopeOf(b).signatures[0] ?? {}],
      [
        'signedTimestamp',
        (b) => {
          const stamp = { signedTimestamp: 'AAAA' }
          b.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [stamp] }
          return stamp
        },
      ],
    ]
    for (const [name, holder] of holders) {
      // The same bytes, with a character Node's decoder skips.
      const bundle = edited(realBundle(), (b) => {
        const fields = holder(b) as Record<string, string>
        fields[name] = `${fields[name] ?? ''}}`
      })
      expect(await refusal(verifySignature(bundle, keyless())), name).toMatchObject({
        reason: 'bundle-invalid',
        message: `the bundle's "${name}" is not canonical base64`,
      })
    }
  })

  it('reads a tree size written as a JSON number as the same int64', async () => {
    // protobuf's JSON mapping allows either; compared as text to the checkpoint's line,
    // 23082684 was "an inclusion proof disagrees with its signed checkpoint".
    const numeric = edited(realBundle(), (b) => {
      const proof = entryOf(b).inclusionProof as unknown as {
        treeSize: unknown
        logIndex?: unknown
      }
      proof.treeSize = Number(proof.treeSize)
      proof.logIndex = Number(proof.logIndex)
    })
    expect((await verifySignature(numeric, keyless())).identity.kind).toBe('certificate')
  })

  it('reads a v0.1 bundle, whose log entry may carry a promise and no proof', async () => {
    const v01 = edited(realBundle(), (b) => {
      b.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.1'
    })
    expect((await verifySignature(v01, keyless())).identity.kind).toBe('certificate')
    const promiseOnly = edited(v01, (b) => {
      delete (entryOf(b) as { inclusionProof?: object }).inclusionProof
    })
    const result = await verifySignature(promiseOnly, keyless())
    expect(result.verifiedTimes).toEqual([
      { time: Date.parse('2023-07-12T15:50:43.000Z'), source: 'transparency log' },
    ])
  })

  it('quotes at most 100 characters of an unknown media type', async () => {
    const mediaType = `application/vnd.dev.sigstore.bundle+json;version=0.${'9'.repeat(200)}`
    const err = await refusal(verifySignature({ ...realBundle(), mediaType }, keyless()))
    expect(err.message).toBe(
      `the bundle's media type is not one reproof knows: ${JSON.stringify(mediaType).slice(0, 100)}`,
    )
  })

  it('passes over fields it does not know, null ones included', async () => {
    const bundle = { ...realBundle(), extra: null, more: [null, 1, { deeper: null }] }
    expect((await verifySignature(bundle, keyless())).identity.kind).toBe('certificate')
  })

  it('refuses a timestamp it cannot read, and a chain certificate that is not strict DER', async () => {
    const unreadable = edited(realBundle(), (b) => {
      b.verificationMaterial.timestampVerificationData = {
        rfc3161Timestamps: [{ signedTimestamp: Buffer.from('junk').toString('base64') }],
      }
    })
    expect(await refusal(verifySignature(unreadable, keyless()))).toMatchObject({
      reason: 'bundle-invalid',
      message: expect.stringMatching(/^the bundle cannot be read \(.+\)$/) as unknown,
    })
    const v02 = JSON.parse(
      fs.readFileSync(path.join(REAL, 'bundleV02-dsse.sigstore.json'), 'utf8'),
    ) as {
      verificationMaterial: { x509CertificateChain: { certificates: { rawBytes: string }[] } }
    }
    for (const cert of v02.verificationMaterial.x509CertificateChain.certificates.slice(0, 1))
      cert.rawBytes = Buffer.concat([
        Buffer.from(cert.rawBytes, 'base64'),
        Buffer.from([0]),
      ]).toString('base64')
    expect(
      await refusal(verifySignature(v02 as unknown as SerializedBundle, keyless())),
    ).toMatchObject({
      reason: 'bundle-invalid',
      message: 'a certificate in the bundle is not valid DER',
    })
  })

  it('names what disagrees in an inclusion proof', async () => {
    const proof = entryOf(realBundle()).inclusionProof
    const size = await refusal(
      verifySignature(
        edited(realBundle(), (b) => {
          entryOf(b).inclusionProof.treeSize = '1'
        }),
        keyless(),
      ),
    )
    expect(size).toMatchObject({
      wanted: { treeSize: proof.treeSize, rootHash: proof.rootHash },
      found: { treeSize: '1', rootHash: proof.rootHash },
    })
  })

  it('reads every media type it names', async () => {
    for (const mediaType of [
      'application/vnd.dev.sigstore.bundle+json;version=0.1',
      'application/vnd.dev.sigstore.bundle+json;version=0.3',
      'application/vnd.dev.sigstore.bundle.v0.3+json',
    ]) {
      const result = await verifySignature({ ...realBundle(), mediaType }, keyless())
      expect(result.identity.kind, mediaType).toBe('certificate')
    }
    const v02 = JSON.parse(
      fs.readFileSync(path.join(REAL, 'bundleV02-dsse.sigstore.json'), 'utf8'),
    ) as SerializedBundle
    expect(v02.mediaType).toBe('application/vnd.dev.sigstore.bundle+json;version=0.2')
    expect((await verifySignature(v02, keyless())).identity.kind).toBe('certificate')
    // Its signer named twice, a chain and a certificate: two readings of one bundle.
    const chain = (
      v02.verificationMaterial as { x509CertificateChain: { certificates: { rawBytes: string }[] } }
    ).x509CertificateChain
    const twice = {
      ...v02,
      verificationMaterial: { ...v02.verificationMaterial, certificate: chain.certificates[0] },
    } as SerializedBundle
    expect(await refusal(verifySignature(twice, keyless()))).toMatchObject({
      reason: 'bundle-invalid',
      message: 'the bundle names its signer more than once (certificate and x509CertificateChain)',
    })
  })
})

describe('verifySignature, trusted roots', () => {
  it('refuses a root that is missing, too large, not JSON, malformed or unreadable, naming the file', async () => {
    const file = path.join(dir, 'root-under-test.json')
    const root = JSON.parse(fs.readFileSync(ROOT, 'utf8')) as RootJson
    const attempt = () => refusal(verifySignature(realBundle(), keyless({ trustedRoot: file })))
    fs.rmSync(file, { force: true })
    expect(await attempt()).toMatchObject({
      code: 'E_INPUT',
      message: `--trusted-root ${file}: no such file`,
      context: { path: file },
    })
    fs.writeFileSync(file, '')
    fs.truncateSync(file, 4 * 1024 * 1024 + 1)
    expect(await attempt()).toMatchObject({
      code: 'E_INPUT',
      message: `--trusted-root ${file}: more than ${4 * 1024 * 1024} bytes; refused before parsing`,
      context: { path: file },
    })
    fs.writeFileSync(file, '{')
    expect(await attempt()).toMatchObject({
      code: 'E_INPUT',
      message: expect.stringMatching(/^--trusted-root .*: not JSON \(.+\)$/) as unknown,
      context: { path: file },
    })
    for (const tlog of root.tlogs.slice(0, 1)) delete tlog.publicKey.validFor.start
    fs.writeFileSync(file, JSON.stringify(root))
    expect(await attempt()).toMatchObject({
      code: 'E_INPUT',
      message: `--trusted-root ${file}: tlogs[0].publicKey.validFor.start: missing or not an RFC 3339 time`,
      context: { path: file },
    })
  })

  it('accepts a root exactly at the size limit, and uses it', async () => {
    const file = path.join(dir, 'padded-root.json')
    const text = fs.readFileSync(ROOT, 'utf8')
    fs.writeFileSync(file, text.padEnd(4 * 1024 * 1024, ' '))
    const result = await verifySignature(realBundle(), keyless({ trustedRoot: file }))
    expect(result.identity.kind).toBe('certificate')
  })

  it('refuses a bundle whose log is not in the root', async () => {
    const file = path.join(dir, 'no-logs.json')
    const root = JSON.parse(fs.readFileSync(ROOT, 'utf8')) as RootJson
    root.tlogs = []
    fs.writeFileSync(file, JSON.stringify(root))
    const err = await refusal(verifySignature(realBundle(), keyless({ trustedRoot: file })))
    expect(err.reason).toBeDefined()
    expect(err.reason).not.toBe('bundle-invalid')
  })
})

describe('verifySignature, keys', () => {
  it('verifies with the key that signed, in either kind, and reports its hint and file', async () => {
    for (const key of [keyA, keyB]) {
      const result = await verifySignature(await sign(key), keyTrust([key.pub]))
      expect(result.identity).toEqual({ kind: 'key', hint: keyHint(key.publicKey), key: key.pub })
      expect(result.verifiedTimes).toEqual([])
      expect(result.unchecked).toEqual([])
      expect(JSON.parse(result.payload.toString('utf8'))).toEqual(provenance())
    }
  })

  it('tries every key given, whatever the hint says: hex, base64, absent or unknown', async () => {
    const [a, b, c] = [keyA, keyB, keyC]
    const bundle = await sign(c)
    const hex = keyHint(c.publicKey)
    for (const hint of [hex, Buffer.from(hex, 'hex').toString('base64'), undefined, 'unknown']) {
      const json = edited(bundle, (x) => {
        x.verificationMaterial.publicKey = hint === undefined ? {} : { hint }
      })
      const result = await verifySignature(json, keyTrust([a.pub, b.pub, c.pub]))
      expect(result.identity, String(hint)).toEqual({ kind: 'key', hint: hex, key: c.pub })
    }
  })

  it('says untrusted-key when no key given signed it, naming the keys and the hint', async () => {
    const [a, b, c] = [keyA, keyB, keyC]
    const bundle = await sign(c)
    expect(await refusal(verifySignature(bundle, keyTrust([a.pub, b.pub])))).toMatchObject({
      reason: 'untrusted-key',
      message: 'the bundle was not signed with any of the given keys',
      wanted: [a.pub, b.pub],
      found: keyHint(c.publicKey),
    })
    const unhinted = edited(bundle, (x) => {
      x.verificationMaterial.publicKey = {}
    })
    expect(await refusal(verifySignature(unhinted, keyTrust([a.pub])))).toMatchObject({
      reason: 'untrusted-key',
      found: '(no key hint)',
    })
  })

  it('calls a signature that fails with the very key it names invalid, not untrusted', async () => {
    const [a, b] = [keyA, keyB]
    const bundle = edited(await sign(a), (x) => {
      envelopeOf(x).payload = Buffer.from(
        JSON.stringify(provenance({ sha256: 'f'.repeat(64) })),
      ).toString('base64')
    })
    for (const hint of [
      keyHint(a.publicKey),
      Buffer.from(keyHint(a.publicKey), 'hex').toString('base64'),
    ]) {
      const json = edited(bundle, (x) => {
        x.verificationMaterial.publicKey = { hint }
      })
      const err = await refusal(verifySignature(json, keyTrust([b.pub, a.pub])))
      expect(err, hint).toMatchObject({ reason: 'signature-invalid' })
    }
  })

  it('refuses a key file that is not a PEM public key', async () => {
    const file = path.join(dir, 'not-a-key.pub')
    fs.writeFileSync(file, 'nope')
    expect(await refusal(verifySignature(await sign(keyA), keyTrust([file])))).toMatchObject({
      code: 'E_INPUT',
      message: `--key ${file}: not a PEM public key`,
      context: { path: file },
    })
  })

  it('refuses a private key or a certificate given as --key: a yes would check neither as such', async () => {
    // Node derives the public key from either; a certificate's validity and identity
    // would go unchecked under the yes.
    const privatePem = path.join(dir, 'a.key')
    fs.writeFileSync(privatePem, keyA.privateKey.export({ type: 'pkcs8', format: 'pem' }))
    const certificate = path.join(dir, 'a.crt')
    execFileSync('openssl', [
      'req',
      '-x509',
      '-new',
      '-key',
      privatePem,
      '-subj',
      '/CN=signer',
      '-days',
      '1',
      '-out',
      certificate,
    ])
    const bundle = await sign(keyA)
    expect(await refusal(verifySignature(bundle, keyTrust([privatePem])))).toMatchObject({
      code: 'E_INPUT',
      message: `--key ${privatePem}: a PEM private key, not a public key (give the .pub file keygen wrote beside it)`,
    })
    expect(await refusal(verifySignature(bundle, keyTrust([certificate])))).toMatchObject({
      code: 'E_INPUT',
      message: expect.stringMatching(
        /^--key .*a\.crt: a PEM certificate, not a public key/,
      ) as unknown,
    })
    // The public key of the same pair verifies.
    await expect(verifySignature(bundle, keyTrust([keyA.pub]))).resolves.toBeDefined()
  })

  it('refuses a key file holding more than one key: only the first would be trusted', async () => {
    const file = path.join(dir, 'two.pub')
    fs.writeFileSync(
      file,
      `${fs.readFileSync(keyB.pub, 'utf8')}${fs.readFileSync(keyA.pub, 'utf8')}`,
    )
    expect(await refusal(verifySignature(await sign(keyA), keyTrust([file])))).toMatchObject({
      code: 'E_INPUT',
      message: `--key ${file}: holds 2 PEM blocks; give each key in a file of its own, with a --key each`,
    })
  })

  it('names the log entries it could not check without a trusted root, and checks them with one', async () => {
    const [a] = [keyA]
    // As cosign signs by default: the key's signature, and a Rekor entry for it.
    const builder = new DSSEBundleBuilder({
      signer: keySigner(a.privateKey, a.kind),
      witnesses: [new RekorWitness({ rekorBaseURL: services.base })],
    })
    const logged = bundleToJSON(
      await builder.create({
        data: Buffer.from(JSON.stringify(provenance())),
        type: 'application/vnd.in-toto+json',
      }),
    )
    const offline = await verifySignature(logged, keyTrust([a.pub]))
    expect([offline.unchecked, offline.verifiedTimes]).toEqual([
      ['1 transparency-log entry(ies): not checked, no --trusted-root was given'],
      [],
    ])
    const checked = await verifySignature(logged, keyTrust([a.pub], servicesRoot))
    expect(checked.unchecked).toEqual([])
    expect(checked.verifiedTimes.map((t) => t.source)).toEqual(['transparency log'])
    // Without its signed promise the entry still verifies by its proof; its time is a claim.
    const unpromised = edited(logged, (x) => {
      delete entryOf(x).inclusionPromise
    })
    const claim = await verifySignature(unpromised, keyTrust([a.pub], servicesRoot))
    expect([claim.unchecked, claim.verifiedTimes]).toEqual([[], []])
    // An entry that is not this envelope's fails with the root, never passes.
    const grafted = edited(await sign(a), (x) => {
      x.verificationMaterial.tlogEntries = structuredClone(
        (logged as unknown as BundleJson).verificationMaterial.tlogEntries,
      )
    })
    expect(
      (await refusal(verifySignature(grafted, keyTrust([a.pub], servicesRoot)))).reason,
    ).toBeDefined()
    // Even when the hint names no key given: a failure that is not the signature's is the
    // bundle's own fault, not an untrusted key.
    const unhinted = edited(grafted, (x) => {
      x.verificationMaterial.publicKey = {}
    })
    expect(
      await refusal(verifySignature(unhinted, keyTrust([keyB.pub, a.pub], servicesRoot))),
    ).toMatchObject({
      reason: 'signature-invalid',
      message: expect.stringMatching(/^TLOG_[A-Z_]+: /) as unknown,
    })
    // A plain key bundle with a root checks nothing more, and says the root went unused:
    // a yes must not read as a bundle logged and timestamped under it.
    const rooted = await verifySignature(await sign(a), keyTrust([a.pub], servicesRoot))
    expect([rooted.unchecked, rooted.verifiedTimes]).toEqual([
      [
        `--trusted-root ${servicesRoot}: not used, the bundle has no transparency-log entry or timestamp to check against it`,
      ],
      [],
    ])
  })
})

describe('verifySignature, keys with a log entry and a timestamp', () => {
  it('names what it could not check without a root, and takes both times with one', async () => {
    const builder = new DSSEBundleBuilder({
      signer: keySigner(keyA.privateKey, keyA.kind),
      witnesses: [
        new RekorWitness({ rekorBaseURL: services.base }),
        new TSAWitness({ tsaBaseURL: services.base }),
      ],
    })
    const stamped = bundleToJSON(
      await builder.create({
        data: Buffer.from(JSON.stringify(provenance())),
        type: 'application/vnd.in-toto+json',
      }),
    )
    const offline = await verifySignature(stamped, keyTrust([keyA.pub]))
    expect([offline.unchecked, offline.verifiedTimes]).toEqual([
      [
        '1 transparency-log entry(ies) and 1 RFC 3161 timestamp(s): not checked, no --trusted-root was given',
      ],
      [],
    ])
    const checked = await verifySignature(stamped, keyTrust([keyA.pub], servicesRoot))
    expect(checked.unchecked).toEqual([])
    expect(checked.verifiedTimes.map((t) => t.source).sort()).toEqual([
      'timestamp authority',
      'transparency log',
    ])
    for (const t of checked.verifiedTimes)
      expect(Math.abs(t.time - Date.now())).toBeLessThan(60_000)
    // A timestamp alone: no log entry to name.
    const stampOnly = edited(stamped, (b) => {
      b.verificationMaterial.tlogEntries = []
    })
    expect((await verifySignature(stampOnly, keyTrust([keyA.pub]))).unchecked).toEqual([
      '1 RFC 3161 timestamp(s): not checked, no --trusted-root was given',
    ])
  })
})

describe('runVerify', () => {
  const trust = (): Trust => keyTrust([keyA.pub])
  async function bundleFile(
    payload: unknown = provenance(),
    name = 'bundle.json',
  ): Promise<string> {
    const file = path.join(dir, name)
    fs.writeFileSync(file, JSON.stringify(await sign(keyA, payload)))
    return file
  }

  it('says yes only with the signature and the statement checked, and hashes the artifact', async () => {
    const result = await runVerify(
      { artifacts: [artifact], bundle: await bundleFile(), trust: trust(), policy: {} },
      Date.now(),
    )
    expect(result).toMatchObject({
      verified: true,
      reason: null,
      artifacts: [{ path: artifact, sha256: ARTIFACT_SHA }],
      identity: { kind: 'key', key: keyA.pub },
      unchecked: [],
    })
    expect(result.artifacts[0]).not.toHaveProperty('sha512')
    expect(result.checks[0]).toMatchObject({ name: 'signature', ok: true })
    expect(result.checks.length).toBeGreaterThan(1)
    expect(result.checks.every((c) => c.ok && !('reason' in c))).toBe(true)
    expect(result).not.toHaveProperty('explanation')
  })

  it('answers no to a payload nested deeper than any walk goes, before its signature', async () => {
    // Peeked at to learn whether to hash with SHA-512: the peek once overflowed the stack.
    const signed = await sign(keyA)
    const deep = `{"subject":${'['.repeat(200_000)}${']'.repeat(200_000)}}`
    const bytes = Buffer.from(
      JSON.stringify({
        ...signed,
        dsseEnvelope: { ...signed.dsseEnvelope, payload: Buffer.from(deep).toString('base64') },
      }),
    )
    const result = await runVerify(
      {
        artifacts: [artifact],
        bundle: 'deep.json',
        bundleBytes: bytes,
        trust: trust(),
        policy: {},
      },
      Date.now(),
    )
    expect([result.verified, result.reason]).toEqual([false, 'signature-invalid'])
  })

  it('uses the bytes given, and digests named without a file', async () => {
    const bytes = Buffer.from(JSON.stringify(await sign(keyA)))
    const result = await runVerify(
      {
        artifacts: [],
        digests: [{ path: `sha256:${ARTIFACT_SHA}`, sha256: ARTIFACT_SHA }],
        bundle: path.join(dir, 'never-read.json'),
        bundleBytes: bytes,
        trust: trust(),
        policy: {},
      },
      Date.now(),
    )
    expect([result.verified, result.artifacts]).toEqual([
      true,
      [{ path: `sha256:${ARTIFACT_SHA}`, sha256: ARTIFACT_SHA }],
    ])
  })

  it('hashes with SHA-512 too when a subject is named by it, and matches a real npm attestation', async () => {
    const result = await runVerify(
      {
        artifacts: [TGZ],
        bundle: path.join(REAL, 'bundleV03-dsse.sigstore.json'),
        trust: keyless(),
        policy: {
          predicateType: 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1',
        },
      },
      Date.parse('2023-07-13T00:00:00Z'),
    )
    const sha512 = crypto.createHash('sha512').update(fs.readFileSync(TGZ)).digest('hex')
    expect(result.artifacts).toEqual([
      {
        path: TGZ,
        sha256: crypto.createHash('sha256').update(fs.readFileSync(TGZ)).digest('hex'),
        sha512,
      },
    ])
    expect(result.verified, JSON.stringify(result.checks)).toBe(true)
  })

  it('gives each failure its reason, and never a yes', async () => {
    const no = async (payload: unknown, policy = {}) => {
      const result = await runVerify(
        { artifacts: [artifact], bundle: await bundleFile(payload), trust: trust(), policy },
        Date.now(),
      )
      expect(result.verified).toBe(false)
      return result
    }
    expect((await no(Buffer.from('not json'))).reason).toBe('statement-type')
    const notJson = await no(Buffer.from('not json'))
    expect(notJson.checks.at(-1)).toMatchObject({
      name: 'statement',
      ok: false,
      found: 'the signed payload is not JSON',
      reason: 'statement-type',
    })
    expect((await no(provenance({ sha256: 'f'.repeat(64) }))).reason).toBe('subject-mismatch')
    // Bytes that are not UTF-8 (one reader's U+FFFD, another's refusal), and a key given
    // again in another case, which a Go reader takes for the same field.
    const good = JSON.stringify(provenance())
    const notUtf8 = Buffer.concat([
      Buffer.from(good.slice(0, -1) + ',"x":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ])
    expect((await no(notUtf8)).checks.at(-1)).toMatchObject({
      found: 'the signed payload is not UTF-8',
      reason: 'statement-type',
    })
    for (const other of ['Subject', '\u017fubject', 'SUBJECT']) {
      const twice = `${good.slice(0, -1)},"${other}":[{"name":"x","digest":{"sha256":"${'e'.repeat(64)}"}}]}`
      expect((await no(Buffer.from(twice))).checks.at(-1), other).toMatchObject({
        found: expect.stringMatching(
          /beside "subject" in one object, one key to readers that ignore case$/,
        ) as unknown,
        reason: 'statement-type',
      })
    }
    const big = Buffer.from(JSON.stringify({ ...provenance(), pad: 'x'.repeat(8 * 1024 * 1024) }))
    const large = await no(big)
    expect(large.reason).toBe('bundle-invalid')
    expect(large.checks.at(-1)?.found).toBe(`the statement is larger than ${8 * 1024 * 1024} bytes`)
    // The signature check passed and is kept; the statement's size failed after it.
    expect(large.checks[0]).toMatchObject({ name: 'signature', ok: true })
  })

  it('keeps a statement exactly at the size limit', async () => {
    const statement = provenance()
    const text = JSON.stringify(statement)
    const padded = Buffer.from(
      text.slice(0, -1).concat(',"pad":"', 'x'.repeat(8 * 1024 * 1024 - text.length - 9), '"}'),
    )
    expect(padded.length).toBe(8 * 1024 * 1024)
    const result = await runVerify(
      {
        artifacts: [artifact],
        bundle: await bundleFile(padded, 'padded.json'),
        trust: trust(),
        policy: {},
      },
      Date.now(),
    )
    expect(result.verified, JSON.stringify(result.checks)).toBe(true)
  })

  it('checks source policy against the certificate for keyless bundles, the predicate for key bundles', async () => {
    const asserted = await runVerify(
      {
        artifacts: [artifact],
        bundle: await bundleFile(),
        trust: trust(),
        policy: { repo: 'acme/app' },
      },
      Date.now(),
    )
    expect(asserted.verified).toBe(true)
    expect(asserted.checks).toContainEqual(
      expect.objectContaining({
        name: 'repository (signer-asserted, from the predicate)',
        ok: true,
      }),
    )
    // The loopback token carries no repository claim: the certificate cannot answer.
    const file = path.join(dir, 'keyless.json')
    fs.writeFileSync(file, JSON.stringify(keylessBundle))
    const certified = await runVerify(
      {
        artifacts: [artifact],
        bundle: file,
        trust: keyless({ trustedRoot: servicesRoot, identity: SUBJECT, issuer: ISSUER }),
        policy: { repo: 'acme/app' },
      },
      Date.now(),
    )
    expect([certified.verified, certified.reason]).toEqual([false, 'policy-field-missing'])
    expect(certified.checks).toContainEqual(
      expect.objectContaining({ name: 'repository (from the certificate)', ok: false }),
    )
  })

  it('reads a statement of null as no statement, not as a crash', async () => {
    const result = await runVerify(
      {
        artifacts: [artifact],
        bundle: await bundleFile(Buffer.from('null')),
        trust: trust(),
        policy: {},
      },
      Date.now(),
    )
    expect([result.verified, result.reason]).toEqual([false, 'statement-type'])
  })

  // Linux lists a process's open descriptors in /proc/self/fd.
  it.runIf(fs.existsSync('/proc/self/fd'))('closes the artifacts it hashes', async () => {
    const opened = (): string[] =>
      fs.readdirSync('/proc/self/fd').flatMap((fd) => {
        try {
          const target = fs.readlinkSync(`/proc/self/fd/${fd}`)
          return target === artifact ? [target] : []
        } catch {
          return []
        }
      })
    const bundle = await bundleFile()
    for (let i = 0; i < 3; i++)
      await runVerify({ artifacts: [artifact], bundle, trust: trust(), policy: {} }, Date.now())
    expect(opened()).toEqual([])
  })

  it('rebuilds only once every other check passed, and stops on provenance it cannot rebuild from', async () => {
    const rebuild = { source: dir, callerEnv: {}, tempDir: undefined }
    // A failed check first: nothing is rebuilt, the answer is that check's no.
    const mismatch = await runVerify(
      {
        artifacts: [artifact],
        bundle: await bundleFile(provenance({ sha256: 'f'.repeat(64) })),
        trust: trust(),
        policy: {},
        rebuild,
      },
      Date.now(),
    )
    expect([mismatch.verified, mismatch.reason]).toEqual([false, 'subject-mismatch'])
    expect(mismatch.checks.map((c) => c.name)).not.toContain('rebuild')
    // Every check passed: the rebuild reads the provenance, which is not reproof's own
    // (it has no build type), so it does not say how to rebuild.
    await expect(
      runVerify(
        { artifacts: [artifact], bundle: await bundleFile(), trust: trust(), policy: {}, rebuild },
        Date.now(),
      ),
    ).rejects.toMatchObject({
      code: 'E_INPUT',
      message: expect.stringMatching(/^--rebuild: only reproof's own provenance/) as unknown,
    })
  })

  it('turns a rejected signature into a failed signature check with what was wanted and found', async () => {
    const file = await bundleFile()
    const result = await runVerify(
      { artifacts: [artifact], bundle: file, trust: keyTrust([keyB.pub]), policy: {} },
      Date.now(),
    )
    expect(result).toMatchObject({
      verified: false,
      reason: 'untrusted-key',
      identity: null,
      unchecked: [],
      checks: [
        {
          name: 'signature',
          ok: false,
          wanted: [keyB.pub],
          found: keyHint(keyA.publicKey),
          reason: 'untrusted-key',
        },
      ],
    })
  })

  it('refuses bad input as input errors, before any verdict', async () => {
    const missing = path.join(dir, 'missing.json')
    await expect(
      runVerify({ artifacts: [artifact], bundle: missing, trust: trust(), policy: {} }, 0),
    ).rejects.toMatchObject({
      code: 'E_INPUT',
      message: `--bundle ${missing}: no such file`,
      context: { path: missing },
    })
    for (const text of ['[]', 'null', '"x"', '{']) {
      const file = path.join(dir, 'odd.json')
      fs.writeFileSync(file, text)
      await expect(
        runVerify({ artifacts: [artifact], bundle: file, trust: trust(), policy: {} }, 0),
        text,
      ).rejects.toMatchObject({
        code: 'E_INPUT',
        message: `--bundle ${file}: not a JSON Sigstore bundle`,
        context: { path: file },
      })
    }
    const noArtifact = path.join(dir, 'no-artifact.bin')
    await expect(
      runVerify(
        { artifacts: [noArtifact], bundle: await bundleFile(), trust: trust(), policy: {} },
        0,
      ),
    ).rejects.toMatchObject({
      code: 'E_INPUT',
      message: `${noArtifact}: no such artifact`,
      context: { path: noArtifact },
    })
    const badKey = path.join(dir, 'bad.pub')
    fs.writeFileSync(badKey, 'x')
    await expect(
      runVerify(
        {
          artifacts: [artifact],
          bundle: await bundleFile(),
          trust: keyTrust([badKey]),
          policy: {},
        },
        0,
      ),
    ).rejects.toMatchObject({ code: 'E_INPUT' })
  })

  it('never says yes about nothing: no artifact and no digest is a usage error', async () => {
    await expect(
      runVerify(
        { artifacts: [], digests: [], bundle: await bundleFile(), trust: trust(), policy: {} },
        0,
      ),
    ).rejects.toMatchObject({
      code: 'E_USAGE',
      message: 'nothing to verify: give an artifact, or a digest as sha256:<hex>',
    })
  })

  it('reads a bundle of at most the limit, and refuses one byte more before reading it', () => {
    const file = path.join(dir, 'huge.json')
    fs.writeFileSync(file, '')
    fs.truncateSync(file, MAX_BUNDLE_BYTES)
    expect(readBundleBytes(file)).toHaveLength(MAX_BUNDLE_BYTES)
    fs.truncateSync(file, MAX_BUNDLE_BYTES + 1)
    let thrown: unknown
    try {
      readBundleBytes(file)
    } catch (err) {
      thrown = err
    }
    expect(thrown).toMatchObject({
      code: 'E_INPUT',
      message: `--bundle ${file}: more than ${MAX_BUNDLE_BYTES} bytes; refused before parsing`,
      context: { path: file },
    })
    fs.rmSync(file)
  })
})

describe('checkLogKeyWindows', () => {
  // A Rekor v2 entry is vouched for by a checkpoint whose key the library picks by its
  // hint (the first four bytes of the log ID) and name, with no look at its window.
  const logId = crypto.createHash('sha256').update('a log key').digest()
  const entity = (signed: Date) =>
    ({
      tlogEntries: [{ logId: { keyId: logId } }],
      timestamps: [{ $case: 'timestamp-authority', timestamp: { signingTime: signed } }],
    }) as unknown as Parameters<typeof checkLogKeyWindows>[1]
  const root = (validFor: { start?: Date; end?: Date }) => ({
    tlogs: [{ logId: { keyId: logId }, publicKey: { validFor } }],
  })
  // The check as a function to throw from (or not).
  const checking =
    (...args: Parameters<typeof checkLogKeyWindows>) =>
    (): void => {
      checkLogKeyWindows(...args)
    }
  const start = new Date('2025-09-22T00:00:00Z')
  const end = new Date('2025-09-23T00:00:00Z')

  it('refuses a verified time after the log key was retired, or before it began', () => {
    for (const at of ['2026-05-13T19:23:33Z', '2025-09-21T23:59:59Z']) {
      expect(checking(root({ start, end }), entity(new Date(at))), at).toThrow(
        /the transparency log key [0-9a-f]{16}… is valid from 2025-09-22T00:00:00\.000Z to 2025-09-23T00:00:00\.000Z; the timestamp authority time .* lies outside it/,
      )
      expect(rejectionReason(thrown(checking(root({ start, end }), entity(new Date(at)))))).toBe(
        'signature-invalid',
      )
    }
  })

  it('takes a time within the window, a window without an end, and logs of another hint', () => {
    expect(checking(root({ start, end }), entity(new Date('2025-09-22T12:00:00Z')))).not.toThrow()
    expect(checking(root({ start }), entity(new Date('2030-01-01T00:00:00Z')))).not.toThrow()
    const other = {
      tlogs: [{ logId: { keyId: Buffer.alloc(32, 7) }, publicKey: { validFor: { start, end } } }],
    }
    expect(checking(other, entity(new Date('2030-01-01T00:00:00Z')))).not.toThrow()
  })

  it('takes a key listed twice when one of its windows covers the time, never another key of the same hint', () => {
    const twice = {
      tlogs: [
        { logId: { keyId: logId }, publicKey: { validFor: { start, end } } },
        { logId: { keyId: logId }, publicKey: { validFor: { start: end } } },
      ],
    }
    expect(checking(twice, entity(new Date('2026-05-13T19:23:33Z')))).not.toThrow()
    // Another key whose ID starts alike: its window is not this key's.
    const alike = Buffer.concat([logId.subarray(0, 4), Buffer.alloc(28, 9)])
    const two = {
      tlogs: [
        { logId: { keyId: logId }, publicKey: { validFor: { start, end } } },
        { logId: { keyId: alike }, publicKey: { validFor: { start: end } } },
      ],
    }
    expect(checking(two, entity(new Date('2026-05-13T19:23:33Z')))).toThrow(/lies outside it/)
  })

  it('finds a log by its checkpoint key ID, which the library prefers to its log ID', () => {
    // An Ed25519 log (Rekor v2): its checkpoint key ID is not its log ID, and entries
    // name it by the former.
    const rootLogId = crypto.createHash('sha256').update('the key in DER').digest()
    const retired = {
      tlogs: [
        {
          logId: { keyId: rootLogId },
          checkpointKeyId: { keyId: logId },
          publicKey: { validFor: { start, end } },
        },
      ],
    }
    expect(checking(retired, entity(new Date('2026-05-13T19:23:33Z')))).toThrow(/lies outside it/)
    expect(checking(retired, entity(new Date('2025-09-22T12:00:00Z')))).not.toThrow()
  })
})
