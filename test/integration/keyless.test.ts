import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { bundleFromJSON, type SerializedBundle } from '@sigstore/bundle'
import {
  fulcioHandler,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  rekorHandler,
  tsaHandler,
} from '@sigstore/mock'
import { TrustedRoot } from '@sigstore/protobuf-specs'
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { cleanupTemp, copyFixture, makeTemp, makeTempParent, runCli } from '../helpers.js'

/**
 * Keyless signing end to end over real HTTP on loopback: @sigstore/mock's Fulcio, Rekor
 * and TSA behind a node:http server, with an OIDC token endpoint in the GitHub Actions
 * shape. The Rekor route can be told to record an entry and then never answer, the way a
 * lost response looks from the client; and it answers a duplicate with 409, as Rekor does.
 */

const ISSUER = 'https://token.actions.githubusercontent.com'
const SUBJECT = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main'

interface Services {
  base: string
  trustedRoot: object
  entriesCreated: () => number
  hangRekor: (on: boolean) => void
  close: () => Promise<void>
}

/** What Rekor records for a proposed dsse v0.0.1 entry: hashes and signatures, as in rekor's types/dsse. */
function canonicalDsseBody(proposal: string): object {
  const entry = JSON.parse(proposal) as {
    spec: { proposedContent: { envelope: string; verifiers: string[] } }
  }
  const envelope = JSON.parse(entry.spec.proposedContent.envelope) as {
    payload: string
    signatures: { sig: string }[]
  }
  const sha256 = (data: string | Buffer): string =>
    crypto.createHash('sha256').update(data).digest('hex')
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(entry.spec.proposedContent.envelope) },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(envelope.payload, 'base64')) },
      signatures: envelope.signatures.map((sig, i) => ({
        signature: sig.sig,
        verifier: entry.spec.proposedContent.verifiers[i] ?? '',
      })),
    },
  }
}

function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

async function startServices(): Promise<Services> {
  const keys = () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
  // One clock for every service, on a whole second: the mock TSA writes fractional
  // seconds that @sigstore/core cannot always parse, and a shared instant keeps the
  // certificate, the log entry and the timestamp consistent with each other.
  const clock = new Date(Math.floor(Date.now() / 1000) * 1000)
  const ctlog = await initializeCTLog(keys(), clock)
  const ca = await initializeCA(keys(), ctlog, clock)
  const tsa = await initializeTSA(keys(), clock)
  const server = http.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const tlog = await initializeTLog(base, keys(), clock)
  const fulcio = fulcioHandler(ca, { strict: true, subjectClaim: 'sub' })
  const rekor = rekorHandler(tlog)
  const timestamp = tsaHandler(tsa, { strict: true })
  const entries = new Map<string, { uuid: string; response: string }>()
  let hang = false
  const hanging: http.ServerResponse[] = []

  server.on('request', (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString('utf8')
        const url = new URL(req.url ?? '/', base)
        const reply = (
          status: number,
          text: string | ArrayBufferView,
          type = 'application/json',
          headers: Record<string, string> = {},
        ): void => {
          res.writeHead(status, { 'content-type': type, ...headers })
          res.end(text)
        }
        if (req.method === 'GET' && url.pathname === '/token') {
          if (
            req.headers.authorization !== 'bearer request-token' ||
            url.searchParams.get('audience') !== 'sigstore'
          ) {
            reply(403, '{}')
            return
          }
          const jwt = `${b64url({ alg: 'none' })}.${b64url({ iss: ISSUER, sub: SUBJECT, aud: 'sigstore', exp: Math.floor(Date.now() / 1000) + 600 })}.sig`
          reply(200, JSON.stringify({ value: jwt }))
          return
        }
        if (req.method === 'POST' && url.pathname === fulcio.path) {
          const r = await fulcio.fn(body)
          reply(r.statusCode, r.response, r.contentType)
          return
        }
        if (req.method === 'POST' && url.pathname === timestamp.path) {
          const r = await timestamp.fn(body)
          reply(r.statusCode, r.response, r.contentType ?? 'application/timestamp-reply')
          return
        }
        if (req.method === 'POST' && url.pathname === rekor.path) {
          const key = crypto.createHash('sha256').update(body).digest('hex')
          const existing = entries.get(key)
          if (existing !== undefined) {
            reply(
              409,
              JSON.stringify({ code: 409, message: 'an equivalent entry already exists' }),
              'application/json',
              { location: `/api/v1/log/entries/${existing.uuid}` },
            )
            return
          }
          // Rekor stores a canonical body for a DSSE entry, not the proposal; so does this log.
          const response = JSON.stringify(await tlog.log(canonicalDsseBody(body)))
          entries.set(key, { uuid: Object.keys(JSON.parse(response) as object)[0] ?? '', response })
          // Recorded, but the answer is lost: the client can only time out.
          if (hang) {
            hanging.push(res)
            return
          }
          reply(201, response)
          return
        }
        const match = /^\/api\/v1\/log\/entries\/([0-9a-f]+)$/.exec(url.pathname)
        if (req.method === 'GET' && match !== null) {
          const found = [...entries.values()].find((e) => e.uuid === match[1])
          if (found === undefined) reply(404, '{}')
          else reply(200, found.response)
          return
        }
        reply(404, '{}')
      })()
    })
  })

  const past = new Date(Date.now() - 3600_000).toISOString()
  const b64 = (bytes: ArrayBufferView | Buffer): string =>
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: base,
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: b64(tlog.publicKey),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start: past },
        },
        logId: { keyId: crypto.createHash('sha256').update(tlog.publicKey).digest('base64') },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: base,
        certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
        validFor: { start: past },
      },
    ],
    ctlogs: [
      {
        baseUrl: base,
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: b64(ctlog.publicKey),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start: past },
        },
        logId: { keyId: b64(ctlog.logID) },
      },
    ],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'tsa' },
        certChain: {
          certificates: [
            { rawBytes: b64(tsa.intCertificate) },
            { rawBytes: b64(tsa.rootCertificate) },
          ],
        },
        validFor: { start: past },
      },
    ],
  }
  return {
    base,
    trustedRoot,
    entriesCreated: () => entries.size,
    hangRekor: (on) => {
      hang = on
    },
    close: async () => {
      for (const res of hanging) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve()
        }),
      )
    },
  }
}

let services: Services
beforeAll(async () => {
  services = await startServices()
})
afterAll(async () => {
  await services.close()
})
afterEach(cleanupTemp)

const githubEnv = (): Record<string, string> => ({
  GITHUB_ACTIONS: 'true',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_WORKFLOW_REF: 'acme/app/.github/workflows/release.yml@refs/heads/main',
  GITHUB_REPOSITORY: 'acme/app',
  GITHUB_RUN_ID: '7',
  ACTIONS_ID_TOKEN_REQUEST_URL: `${services.base}/token?api-version=2.0`,
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token',
})

async function record(dir: string): Promise<string> {
  const file = path.join(dir, 'record.json')
  const run = await runCli([
    'build',
    '-C',
    copyFixture('hello-c'),
    '-o',
    'hello',
    '--epoch',
    '1700000000',
    '--record',
    file,
    '--out-dir',
    path.join(dir, 'out'),
    '--temp-dir',
    makeTempParent(),
    '--',
    'make',
  ])
  expect(run.code).toBe(0)
  return file
}

function attest(recordFile: string, bundle: string, extra: string[] = []) {
  return runCli(
    [
      'attest',
      '--record',
      recordFile,
      '--bundle',
      bundle,
      '--keyless',
      '--fulcio-url',
      services.base,
      '--rekor-url',
      services.base,
      ...extra,
    ],
    githubEnv(),
  )
}

function verify(bundleFile: string): void {
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundleFile, 'utf8')) as SerializedBundle)
  const trust = toTrustMaterial(TrustedRoot.fromJSON(services.trustedRoot))
  // The log entry's integrated time is the trusted time, as with the public-good log.
  new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 }).verify(
    toSignedEntity(bundle),
    {
      subjectAlternativeName: SUBJECT,
      extensions: { issuer: ISSUER },
    },
  )
}

describe('reproof attest --keyless', () => {
  it('gets a GitHub OIDC token, a Fulcio certificate, a Rekor entry and a timestamp, and the bundle verifies', async () => {
    const dir = makeTemp()
    const bundle = path.join(dir, 'bundle.json')
    const run = await attest(await record(dir), bundle, ['--tsa-url', services.base])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`certificate URI:${SUBJECT}`)
    const json = JSON.parse(fs.readFileSync(bundle, 'utf8')) as SerializedBundle
    expect(json.verificationMaterial.tlogEntries).toHaveLength(1)
    // The timestamp is there and well formed; it is not verified here: @sigstore/mock's TSA
    // now and then issues timestamps @sigstore/verify rejects, whoever asked for them.
    expect(json.verificationMaterial.timestampVerificationData?.rfc3161Timestamps).toHaveLength(1)
    const withoutTimestamp = path.join(dir, 'no-tsa.json')
    fs.writeFileSync(
      withoutTimestamp,
      JSON.stringify({
        ...json,
        verificationMaterial: {
          ...json.verificationMaterial,
          timestampVerificationData: { rfc3161Timestamps: [] },
        },
      }),
    )
    verify(withoutTimestamp)
    expect(fs.existsSync(`${bundle}.pending`)).toBe(false)
  })

  it('reports a log that never answers as ambiguous (exit 4), and the retry completes without a duplicate entry', async () => {
    const dir = makeTemp()
    const bundle = path.join(dir, 'bundle.json')
    const recordFile = await record(dir)
    const before = services.entriesCreated()
    services.hangRekor(true)
    const lost = await attest(recordFile, bundle, ['--timeout', '1s', '--retries', '0'])
    services.hangRekor(false)
    expect(lost.code, lost.stderr).toBe(4)
    expect(lost.stderr).toMatch(/^reproof: the transparency log did not answer in time/m)
    expect(fs.existsSync(bundle)).toBe(false)
    expect(fs.existsSync(`${bundle}.pending`)).toBe(true)
    expect(services.entriesCreated()).toBe(before + 1)

    const retry = await attest(recordFile, bundle)
    expect(retry.code, retry.stderr).toBe(0)
    expect(services.entriesCreated()).toBe(before + 1)
    verify(bundle)
    expect(fs.existsSync(`${bundle}.pending`)).toBe(false)
  })

  it('builds and signs keylessly in one go', async () => {
    const dir = makeTemp()
    const bundle = path.join(dir, 'bundle.json')
    const run = await runCli(
      [
        'build',
        '-C',
        copyFixture('hello-c'),
        '-o',
        'hello',
        '--temp-dir',
        makeTempParent(),
        '--bundle',
        bundle,
        '--keyless',
        '--fulcio-url',
        services.base,
        '--rekor-url',
        services.base,
        '--',
        'make',
      ],
      githubEnv(),
    )
    expect(run.code, run.stderr).toBe(0)
    verify(bundle)
  })

  it('passes reproof verify keylessly, and fails without its transparency-log entry', async () => {
    const dir = makeTemp()
    const bundle = path.join(dir, 'bundle.json')
    expect((await attest(await record(dir), bundle)).code).toBe(0)
    const root = path.join(dir, 'trusted_root.json')
    fs.writeFileSync(root, JSON.stringify(services.trustedRoot))
    const artifact = path.join(dir, 'out', 'hello')
    const args = [
      'verify',
      artifact,
      '--bundle',
      bundle,
      '--trusted-root',
      root,
      '--certificate-identity',
      SUBJECT,
      '--certificate-oidc-issuer',
      ISSUER,
      '--require-reproduced',
    ]
    const ok = await runCli(args)
    expect(ok.code, ok.stdout + ok.stderr).toBe(0)
    const json = JSON.parse(fs.readFileSync(bundle, 'utf8')) as SerializedBundle
    const stripped = path.join(dir, 'stripped.json')
    fs.writeFileSync(
      stripped,
      JSON.stringify({
        ...json,
        verificationMaterial: { ...json.verificationMaterial, tlogEntries: [] },
      }),
    )
    const noLog = await runCli([
      ...args.slice(0, 2),
      '--bundle',
      stripped,
      ...args.slice(4),
      '--json',
    ])
    expect(noLog.code).toBe(1)
    expect((JSON.parse(noLog.stdout) as { reason: string }).reason).toBe('tlog-missing')
  })

  it('says what to do when the token cannot be had', async () => {
    const dir = makeTemp()
    const recordFile = await record(dir)
    const env = { ...githubEnv(), ACTIONS_ID_TOKEN_REQUEST_URL: undefined }
    const run = await runCli(
      ['attest', '--record', recordFile, '--bundle', path.join(dir, 'b.json'), '--keyless'],
      env,
    )
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('permissions: id-token: write')
    const both = await runCli([
      'attest',
      '--record',
      recordFile,
      '--bundle',
      path.join(dir, 'b.json'),
      '--keyless',
      '--key',
      'x.key',
      '--builder-id',
      'b',
    ])
    expect(both.code).toBe(2)
  })
})
