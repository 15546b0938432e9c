import { describe, expect, it } from 'vitest'
import { overlapNote, vsockNote } from '../../../src/sandbox/shared-kernel.js'

describe('what both sandboxed runs share of the kernel', () => {
  it('says the overlap of runs that run at once, and never of runs one after the other', () => {
    expect(overlapNote(false)).toMatch(/pseudo-terminals .* locks .*--sequential/)
    expect(overlapNote(true)).toBeUndefined()
  })

  it('says AF_VSOCK only where the machine offers it', () => {
    expect(vsockNote(() => true)).toMatch(/AF_VSOCK/)
    expect(vsockNote(() => false)).toBeUndefined()
  })
})
