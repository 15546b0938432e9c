import { describe, expect, it } from 'vitest'
import { renderVerify } from '../../../../src/cli/views/verify.js'
import type { VerifyResult } from '../../../../src/verify/run-verify.js'

const ESC = '\u001b'

describe("verify's human answer", () => {
  it('escapes every name that comes from outside, so none can talk to the terminal', () => {
    const evil = `app${ESC}[2J${ESC}]0;owned\u0007.bin`
    const result = {
      verified: false,
      artifacts: [{ path: evil, sha256: 'a'.repeat(64) }],
      checks: [
        { name: 'signature', ok: true },
        { name: 'log entry', ok: false, found: 'no entry' },
        {
          name: `subject for ${evil}`,
          ok: false,
          wanted: { sha256: 'a'.repeat(64) },
          // From a signed statement: JSON escapes C0 controls, not a one-byte CSI (C1)
          // or a bidi override.
          found: ['\u009b2A\u009b0Jverified: app.bin\u202e'],
          reason: 'subject-mismatch',
        },
      ],
      identity: {
        kind: 'certificate',
        subjectAlternativeName: `https://github.com/acme/app${ESC}[31m`,
        issuer: `https://token.actions.githubusercontent.com${ESC}[0m`,
        facts: {},
      },
      reason: 'subject-mismatch',
      unchecked: [`a log entry${ESC}[1A`],
      explanation: [{ path: evil, kind: 'content', hints: [] }],
    } as unknown as VerifyResult
    const text = renderVerify(result, false)
    expect(text).not.toContain(ESC)
    expect(text).not.toContain('\u0007')
    expect(text).not.toMatch(/[\u0080-\u009f\u202a-\u202e]/)
    expect(text).toContain('NOT verified (subject-mismatch)')
    // A check that wanted nothing in particular says only what it found.
    expect(text).toContain('FAILED log entry\n       found:  "no entry"\n')
    expect(text).not.toContain('undefined')
    expect(text).toContain('FAILED subject for app\\x1b[2J')
    expect(text).toContain('differs: app\\x1b[2J')
    expect(text).toContain('signed by https://github.com/acme/app\\x1b[31m')
  })
})
