import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { uploadAttestation } from '../../../src/action/attestation-upload.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

/** GitHub's attestations endpoint on loopback, answering with `answers` in turn. */
async function api(answers: [number, string][]) {
  const requests: { url: string; auth: string | undefined; body: string }[] = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      requests.push({ url: req.url ?? '', auth: req.headers.authorization, body })
      const [status, text] = answers[Math.min(requests.length, answers.length) - 1] ?? [500, '']
      res.writeHead(status, { 'content-type': 'application/json' }).end(text)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const env = {
    GITHUB_API_URL: base,
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_REPOSITORY: 'owner/repo',
  }
  return { requests, env, close: () => server.close() }
}

function bundleFile(): string {
  const file = path.join(makeTemp(), 'b.sigstore.json')
  fs.writeFileSync(
    file,
    JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }),
  )
  return file
}

const fast = { timeoutMs: 5000, retries: 3, wait: () => Promise.resolve() }

describe('storing a bundle with GitHub attestations', () => {
  it("posts the bundle to the repository's endpoint and names what GitHub stored", async () => {
    const server = await api([[201, '{"id":4242}']])
    try {
      const file = bundleFile()
      const stored = await uploadAttestation(file, server.env, 'tok', fast)
      expect(stored).toEqual({
        id: '4242',
        url: 'https://github.example/owner/repo/attestations/4242',
      })
      expect(server.requests).toHaveLength(1)
      expect(server.requests[0]?.url).toBe('/repos/owner/repo/attestations')
      expect(server.requests[0]?.auth).toBe('Bearer tok')
      expect(JSON.parse(server.requests[0]?.body ?? '')).toEqual({
        bundle: JSON.parse(fs.readFileSync(file, 'utf8')) as unknown,
      })
    } finally {
      server.close()
    }
  })

  it('tries again on server errors, and says the outcome is unknown when none answers', async () => {
    const flaky = await api([
      [503, ''],
      [502, ''],
      [201, '{"id":7}'],
    ])
    try {
      expect((await uploadAttestation(bundleFile(), flaky.env, 'tok', fast)).id).toBe('7')
      expect(flaky.requests).toHaveLength(3)
    } finally {
      flaky.close()
    }
    const down = await api([[503, '']])
    try {
      await expect(uploadAttestation(bundleFile(), down.env, 'tok', fast)).rejects.toMatchObject({
        code: 'E_AMBIGUOUS',
        message: expect.stringMatching(/did not answer \(HTTP 503\).*a retry is safe/) as unknown,
      })
      expect(down.requests).toHaveLength(4)
    } finally {
      down.close()
    }
  })

  it('takes an answer without an id GitHub could give (0, text, a line break) as no answer', async () => {
    for (const body of [
      '{"id":0}',
      '{"id":-3}',
      '{"id":1.5}',
      '{"id":"1\\n::error::x"}',
      `{"id":"${'9'.repeat(2000)}"}`,
      '{"id":{}}',
      '{}',
    ]) {
      const server = await api([[201, body]])
      try {
        await expect(
          uploadAttestation(bundleFile(), server.env, 'tok', fast),
          body,
        ).rejects.toMatchObject({ code: 'E_AMBIGUOUS' })
      } finally {
        server.close()
      }
    }
    const string = await api([[201, '{"id":"12"}']])
    try {
      expect((await uploadAttestation(bundleFile(), string.env, 'tok', fast)).id).toBe('12')
    } finally {
      string.close()
    }
  })

  it("takes a refusal as final, with the API's message and the permission it needs", async () => {
    const server = await api([[403, '{"message":"Resource not accessible by integration"}']])
    try {
      await expect(uploadAttestation(bundleFile(), server.env, 'tok', fast)).rejects.toMatchObject({
        code: 'E_ENVIRONMENT',
        message: expect.stringContaining(
          'HTTP 403: Resource not accessible by integration',
        ) as unknown,
        context: { hint: expect.stringContaining('attestations: write') as unknown },
      })
      expect(server.requests).toHaveLength(1)
    } finally {
      server.close()
    }
  })
})
