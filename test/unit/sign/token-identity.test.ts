import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { tokenIdentity } from '../../../src/sign/keyless.js'

const b64u = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url')
const token = (claims: object): string => `${b64u({ alg: 'RS256' })}.${b64u(claims)}.sig`

describe('tokenIdentity', () => {
  it('is the same for two tokens of one identity, whatever their times and ids', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.string(), (iat, exp, jti) => {
        const claims = { iss: 'https://issuer', sub: 'repo:o/r:ref:refs/heads/main' }
        expect(tokenIdentity(token({ ...claims, iat, exp, jti }))).toBe(
          tokenIdentity(token({ ...claims, iat: iat + 1, exp: exp + 60, jti: `${jti}x` })),
        )
      }),
    )
  })

  it('differs for another issuer, subject, e-mail or workflow, and never holds the token', () => {
    const base = {
      iss: 'https://issuer',
      sub: 's',
      job_workflow_ref: 'o/r/.github/workflows/a.yml@refs/heads/main',
    }
    const ids = [
      base,
      { ...base, iss: 'https://other' },
      { ...base, sub: 't' },
      { ...base, email: 'a@example.com' },
      // One branch's workflows share GitHub's subject; Fulcio names the workflow.
      { ...base, job_workflow_ref: 'o/r/.github/workflows/b.yml@refs/heads/main' },
    ].map((claims) => tokenIdentity(token(claims)))
    expect(new Set(ids).size).toBe(ids.length)
    // Not a JWT: only itself.
    expect(tokenIdentity('opaque-1')).not.toBe(tokenIdentity('opaque-2'))
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{64}$/)
  })
})
