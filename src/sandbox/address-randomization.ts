import fs from 'node:fs'

/**
 * Address-space layout randomization, as the runs would inherit it. Both runs normally
 * load programs at random addresses, so a build that writes an address it ran at (a
 * pointer printed, a hash table keyed by addresses) differs between them. Started with
 * it off (`setarch -R`, a debugger, a CI wrapper), reproof passed that on to both runs,
 * and such a build came out "reproducible" under variations that never touched it.
 */
export type AddressRandomization =
  | { kind: 'on' }
  /** kernel.randomize_va_space is 0: no process of the machine can have it. */
  | { kind: 'kernel-off' }
  /** It is 1: the stack, mmap and shared libraries move, but not the heap (brk). */
  | { kind: 'kernel-partial' }
  /**
   * Off in reproof's own process (ADDR_NO_RANDOMIZE); `restore` is the argument vector
   * that turns it back on for what it runs (`setarch <machine>`), when that works here.
   */
  | { kind: 'inherited-off'; restore: string[] | undefined; partial?: boolean }

// ADDR_NO_RANDOMIZE, from linux/personality.h.
const ADDR_NO_RANDOMIZE = 0x0040000

/** What the kernel and this process say; anything unreadable is taken as the default (on). */
export function readAddressRandomization(
  read: (file: string) => string = (file) => fs.readFileSync(file, 'utf8'),
): { kernelOff: boolean; kernelPartial: boolean; inheritedOff: boolean } {
  const text = (file: string): string | undefined => {
    try {
      return read(file).trim()
    } catch {
      return undefined
    }
  }
  const personality = Number.parseInt(text('/proc/self/personality') ?? '0', 16)
  const kernel = text('/proc/sys/kernel/randomize_va_space')
  return {
    kernelOff: kernel === '0',
    kernelPartial: kernel === '1',
    inheritedOff: Number.isInteger(personality) && (personality & ADDR_NO_RANDOMIZE) !== 0,
  }
}

/** The isolation note for randomization that neither run has, or undefined when both do. */
export function addressRandomizationNote(state: AddressRandomization): string | undefined {
  const reproduces =
    'both runs load programs at the same addresses, so a build that writes an address it ran at (a pointer printed, a table ordered by addresses) reproduces'
  if (state.kind === 'kernel-off')
    return `address-space randomization is off on this machine (kernel.randomize_va_space = 0): ${reproduces}`
  if (
    state.kind === 'kernel-partial' ||
    (state.kind === 'inherited-off' && state.partial === true && state.restore !== undefined)
  )
    return 'address-space randomization is partial on this machine (kernel.randomize_va_space = 1): the heap starts at the same address in both runs, so a build that writes the address of what it allocated there reproduces'
  if (state.kind === 'inherited-off' && state.restore === undefined)
    return `reproof was started with address-space randomization off (setarch -R, a debugger), and setarch could not turn it back on: ${reproduces}`
  return undefined
}
