import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { inheritedKeyrings, sharedKeyringNote } from '../../../src/sandbox/keyrings.js'

// /proc/keys as Linux 6 prints it: a login shell's, then the same under `keyctl session`.
const DEFAULTS = [
  '1075adab I--Q---     1 perm 1f3f0000     0 65534 keyring   _uid_ses.0: 1',
  '271aa084 I------     1 perm 1f030000     0     0 keyring   .dns_resolver: empty',
  '39c7be20 I--Q---     2 perm 1f3f0000     0 65534 keyring   _uid.0: empty',
  '3bbc00c6 I--Q---     1 perm 0c030000     0 65534 keyring   .user_reg: 6',
].join('\n')

describe('inheritedKeyrings', () => {
  it('names a session keyring beside the defaults, and nothing without one', () => {
    expect(inheritedKeyrings(DEFAULTS)).toEqual([])
    const session = `001476ce I--Q---     2 perm 3f030000     0     0 keyring   _ses: empty\n${DEFAULTS}`
    expect(inheritedKeyrings(session)).toEqual(['_ses'])
    const named = `0a0b0c0d I--Q---     1 perm 3f030000  1000  1000 keyring   my build: 2\n${DEFAULTS}`
    expect(inheritedKeyrings(named)).toEqual(['my build'])
    // A key (not a keyring), or one not possessed, is no session.
    expect(
      inheritedKeyrings(
        '0a0b0c0e I--Q---     1 perm 3f010000     0     0 user      build-stamp: 8\n0a0b0c0f I------     1 perm 3f030000     0     0 keyring   other: 1',
      ),
    ).toEqual([])
  })

  it('finds every possessed keyring that is not a user default, whatever the other lines', () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,11}$/)
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.boolean(), fc.boolean())), (keys) => {
        const text = keys
          .map(
            ([n, possessed, keyring], i) =>
              `${(i + 1).toString(16).padStart(8, '0')} I-${possessed ? '-Q' : '--'}---     1 perm 3f030000     0     0 ${keyring ? 'keyring' : 'user   '}   ${n}: 1`,
          )
          .join('\n')
        const expected = keys
          .filter(
            ([n, possessed, keyring]) =>
              possessed && keyring && !/^(_uid_ses\.\d+|_uid\.\d+|\.user_reg)$/.test(n),
          )
          .map(([n]) => n)
        expect(inheritedKeyrings(text)).toEqual(expected)
      }),
    )
  })

  it('says nothing where the kernel has no keyrings to read', () => {
    expect(
      sharedKeyringNote(() => {
        throw new Error('ENOENT')
      }),
    ).toBeUndefined()
    expect(sharedKeyringNote(() => DEFAULTS)).toBeUndefined()
    expect(
      sharedKeyringNote(
        () => `001476ce I--Q---     2 perm 3f030000     0     0 keyring   _ses: empty`,
      ),
    ).toMatch(/^both runs hold reproof's session keyring \(_ses\)/)
  })
})
