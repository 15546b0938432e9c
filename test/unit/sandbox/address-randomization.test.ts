import { describe, expect, it } from 'vitest'
import {
  addressRandomizationNote,
  readAddressRandomization,
} from '../../../src/sandbox/address-randomization.js'

describe('address randomization', () => {
  const reading =
    (files: Record<string, string>) =>
    (file: string): string => {
      const text = files[file]
      if (text === undefined) throw new Error(`ENOENT: ${file}`)
      return text
    }

  it('reads the personality flag and the kernel setting, taking the unreadable as on', () => {
    const read = (personality: string | undefined, kernel: string | undefined) =>
      readAddressRandomization(
        reading({
          ...(personality === undefined ? {} : { '/proc/self/personality': personality }),
          ...(kernel === undefined ? {} : { '/proc/sys/kernel/randomize_va_space': kernel }),
        }),
      )
    expect(read('00000000\n', '2\n')).toEqual({
      kernelOff: false,
      kernelPartial: false,
      inheritedOff: false,
    })
    // setarch -R sets ADDR_NO_RANDOMIZE; other flags beside it do not hide it.
    expect(read('00040000\n', '2\n')).toEqual({
      kernelOff: false,
      kernelPartial: false,
      inheritedOff: true,
    })
    expect(read('04440000\n', '1\n')).toEqual({
      kernelOff: false,
      kernelPartial: true,
      inheritedOff: true,
    })
    expect(read('00400000\n', '0\n')).toEqual({
      kernelOff: true,
      kernelPartial: false,
      inheritedOff: false,
    })
    expect(read(undefined, undefined)).toEqual({
      kernelOff: false,
      kernelPartial: false,
      inheritedOff: false,
    })
    expect(read('garbage', '2')).toEqual({
      kernelOff: false,
      kernelPartial: false,
      inheritedOff: false,
    })
  })

  it('names what neither run has, and nothing when both have it', () => {
    expect(addressRandomizationNote({ kind: 'on' })).toBeUndefined()
    expect(
      addressRandomizationNote({ kind: 'inherited-off', restore: ['setarch', 'x86_64', '--'] }),
    ).toBeUndefined()
    expect(addressRandomizationNote({ kind: 'kernel-off' })).toMatch(
      /^address-space randomization is off on this machine \(kernel\.randomize_va_space = 0\): both runs load programs at the same addresses/,
    )
    expect(addressRandomizationNote({ kind: 'kernel-partial' })).toMatch(
      /^address-space randomization is partial on this machine \(kernel\.randomize_va_space = 1\): the heap/,
    )
    // Turned back on, it is only as much as the machine gives.
    expect(
      addressRandomizationNote({ kind: 'inherited-off', restore: ['setarch'], partial: true }),
    ).toMatch(/^address-space randomization is partial on this machine/)
    expect(addressRandomizationNote({ kind: 'inherited-off', restore: undefined })).toMatch(
      /^reproof was started with address-space randomization off .*setarch could not turn it back on/,
    )
  })
})
