import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isReproofError } from '../../src/errors.js'
import { parseGitLedgerSpec } from '../../src/gate/git-ledger.js'

describe('git ledger address', () => {
  it('reads back the url and branch it was written with', () => {
    const url = fc
      .stringMatching(/^[a-z/:.@]{1,30}$/)
      .filter((u) => !u.startsWith('-') && !u.includes('#'))
    const branch = fc.stringMatching(/^[a-z0-9][a-z0-9/_-]{0,20}$/)
    fc.assert(
      fc.property(url, branch, (u, b) => {
        expect(parseGitLedgerSpec(`git:${u}#${b}`)).toEqual({ url: u, branch: b })
      }),
    )
  })

  it('never returns something git would read as an option or a ref range', () => {
    fc.assert(
      fc.property(fc.string(), (rest) => {
        try {
          const { url, branch } = parseGitLedgerSpec(`git:${rest}`)
          expect(url).not.toMatch(/^-/)
          expect(branch).not.toMatch(/^-|\.\.|\s/)
        } catch (err) {
          expect(isReproofError(err) && err.code === 'E_USAGE').toBe(true)
        }
      }),
    )
  })
})
