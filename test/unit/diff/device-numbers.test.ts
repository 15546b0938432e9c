import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { deviceNumbers } from '../../../src/diff/diff-inputs.js'

/** glibc's makedev, in BigInt: the inverse of what deviceNumbers undoes. */
const makedev = (major: bigint, minor: bigint): bigint =>
  ((major & 0xfffn) << 8n) |
  ((major & ~0xfffn) << 32n) |
  (minor & 0xffn) |
  ((minor & ~0xffn) << 12n)

describe('deviceNumbers', () => {
  it('splits what makedev joins, as ls -l shows it', () => {
    expect(deviceNumbers(259)).toBe('1,3')
    expect(deviceNumbers(1280)).toBe('5,0')
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0x1fffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (major, minor) => {
          const rdev = makedev(BigInt(major), BigInt(minor))
          fc.pre(rdev <= BigInt(Number.MAX_SAFE_INTEGER))
          expect(deviceNumbers(Number(rdev))).toBe(`${major},${minor}`)
        },
      ),
    )
  })
})
