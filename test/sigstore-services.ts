import crypto from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  fulcioHandler,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  rekorHandler,
  tsaHandler,
} from '@sigstore/mock'

/**
 * Keyless signing end to end over real HTTP on loopback: @sigstore/mock's Fulcio, Rekor
 * and TSA behind a node:http server, with an OIDC token endpoint in the GitHub Actions
 * shape. The Rekor route can be told to record an entry and then never answer, the way a
 * lost response looks from the client; and it answers a duplicate with 409, as Rekor does.
 */

export const ISSUER = 'https://token.actions.githubusercontent.com'
export const SUBJECT = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main'
const WORKFLOW_REF = 'acme/app/.github/workflows/release.yml@refs/heads/main'

export interface Services {
  base: string
  trustedRoot: object
  entriesCreated: () => number
  hangRekor: (on: boolean) => void
  /** Makes the log answer without the entry's verification (no inclusion promise or proof). */
  stripVerification: (on: boolean) => void
  /**
   * Makes the log's answers wrong in one way: its inclusion proof left out (the promise
   * kept), its promise garbage, or its time later than a certificate lives.
   */
  tamperLog: (how: 'no-proof' | 'bad-promise' | 'late' | undefined) => void
  /** Makes the log, or the timestamp authority, answer with its previous answer (a replay). */
  replay: (what: 'log' | 'timestamp' | undefined) => void
  /** Runs `hook` right after the log records an entry, before it answers. */
  onLogEntry: (hook: (() => void) | undefined) => void
  /** Makes Fulcio refuse every token, quoting it back in its error as some services do. */
  refuseTokens: (on: boolean) => void
  /** Claims the next OIDC tokens carry besides iss, sub and aud; Fulcio writes them into the certificate. */
  setClaims: (claims: Record<string, string>) => void
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

/** A log's answer made wrong as `tamperLog` says. */
function tampered(response: string, how: 'no-proof' | 'bad-promise' | 'late'): string {
  const entries = JSON.parse(response) as Record<string, Record<string, unknown>>
  for (const entry of Object.values(entries)) {
    const verification = entry.verification as Record<string, unknown>
    if (how === 'no-proof') delete verification.inclusionProof
    if (how === 'bad-promise')
      verification.signedEntryTimestamp = Buffer.from('not a signature').toString('base64')
    if (how === 'late') entry.integratedTime = Number(entry.integratedTime) + 3600
  }
  return JSON.stringify(entries)
}

/** A log's answer with each entry's `verification` (its promise and proof) taken out. */
function withoutVerification(response: string): string {
  const entries = JSON.parse(response) as Record<string, Record<string, unknown>>
  for (const entry of Object.values(entries)) delete entry.verification
  return JSON.stringify(entries)
}

function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

export async function startServices(options: { clockOffsetMs?: number } = {}): Promise<Services> {
  const keys = () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
  // One clock for every service, on a whole second: the mock TSA writes fractional
  // seconds that @sigstore/core cannot always parse, and a shared instant keeps the
  // certificate, the log entry and the timestamp consistent with each other. It is two
  // seconds ahead: the mocks' CA and TSA certificates take their notBefore from the real
  // clock while they are made, and a clock behind that (when making them crossed a
  // second boundary) made the chain invalid at signing time, now and then, under load.
  // A test can put every service's clock elsewhere (a signature from the future).
  const clock = new Date(Math.floor(Date.now() / 1000) * 1000 + 2000 + (options.clockOffsetMs ?? 0))
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
  let strip = false
  let tamper: 'no-proof' | 'bad-promise' | 'late' | undefined
  let replaying: 'log' | 'timestamp' | undefined
  let lastEntry: string | undefined
  let lastStamp:
    { statusCode: number; response: string | ArrayBufferView; contentType?: string } | undefined
  let afterEntry: (() => void) | undefined
  let claims: Record<string, string> = {}
  let refuse = false
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
          // The workflow the runner's environment names (runnerEnv), as GitHub's token
          // carries it: Fulcio writes it into the certificate as its Build Config URI.
          const jwt = `${b64url({ alg: 'none' })}.${b64url({ workflow_ref: WORKFLOW_REF, ...claims, iss: ISSUER, sub: claims.sub ?? SUBJECT, aud: 'sigstore', exp: Math.floor(Date.now() / 1000) + 600 })}.sig`
          reply(200, JSON.stringify({ value: jwt }))
          return
        }
        if (req.method === 'POST' && url.pathname === fulcio.path) {
          if (refuse) {
            const token = (JSON.parse(body) as { credentials?: { oidcIdentityToken?: string } })
              .credentials?.oidcIdentityToken
            reply(401, JSON.stringify({ code: 401, message: `invalid identity token ${token}` }))
            return
          }
          const r = await fulcio.fn(body)
          reply(r.statusCode, r.response, r.contentType)
          return
        }
        if (req.method === 'POST' && url.pathname === timestamp.path) {
          const fresh = await timestamp.fn(body)
          const r = replaying === 'timestamp' && lastStamp !== undefined ? lastStamp : fresh
          lastStamp = fresh
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
          afterEntry?.()
          // Recorded, but the answer is lost: the client can only time out.
          if (hang) {
            hanging.push(res)
            return
          }
          const answer = replaying === 'log' && lastEntry !== undefined ? lastEntry : response
          lastEntry = response
          const shown = tamper === undefined ? answer : tampered(answer, tamper)
          reply(201, strip ? withoutVerification(shown) : shown)
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

  const past = new Date(clock.getTime() - 3600_000).toISOString()
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
    replay: (what) => {
      replaying = what
    },
    hangRekor: (on) => {
      hang = on
    },
    stripVerification: (on) => {
      strip = on
    },
    tamperLog: (how) => {
      tamper = how
    },
    onLogEntry: (hook) => {
      afterEntry = hook
    },
    refuseTokens: (on) => {
      refuse = on
    },
    setClaims: (next) => {
      claims = next
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

/** What the runner gives a job with id-token: write, pointed at the loopback services. */
export function runnerEnv(services: Services): Record<string, string> {
  return {
    GITHUB_ACTIONS: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_WORKFLOW_REF: WORKFLOW_REF,
    GITHUB_REPOSITORY: 'acme/app',
    GITHUB_RUN_ID: '7',
    ACTIONS_ID_TOKEN_REQUEST_URL: `${services.base}/token?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token',
  }
}
