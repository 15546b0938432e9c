import { describe, expect, it } from 'vitest'
import { verifyAction } from '../../../src/cli/verify-action.js'
import { REAL_BUNDLE, REAL_ROOT, REAL_TGZ, NPM_PUBLISH } from '../../real-sigstore.js'

describe('verify, stopped by Ctrl-C', () => {
  it('answers interrupted (exit 130), not the verdict it reached meanwhile', async () => {
    let out = ''
    const streams = {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: () => true },
      env: {},
    }
    const flags = {
      bundle: REAL_BUNDLE,
      trustedRoot: REAL_ROOT,
      certificateIdentity: 'brian@dehamer.com',
      certificateOidcIssuer: 'https://github.com/login/oauth',
      predicateType: NPM_PUBLISH,
    }
    // The same verification, not stopped, is a yes.
    expect(await verifyAction([REAL_TGZ], flags, streams)).toBe(0)
    out = ''
    const controller = new AbortController()
    controller.abort()
    await expect(verifyAction([REAL_TGZ], flags, streams, controller.signal)).rejects.toMatchObject(
      { code: 'E_INTERRUPTED' },
    )
    expect(out).toBe('')
  })
})
