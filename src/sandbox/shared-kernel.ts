import fs from 'node:fs'

/**
 * What of the kernel both sandboxed runs share, beyond keyrings (keyrings.ts): the
 * namespaces reproof makes do not cover it, so the isolation notes say it.
 */

/**
 * While both runs are alive at once (the default), a process of one can leave a value
 * where a process of the other finds it: a pseudo-terminal of the host's devpts (its
 * window size, its contents), a named pipe of the host's (a read-only mount still
 * opens a FIFO for writing), or a lock taken on a file both can read (/etc/passwd, a
 * compiler). A build that passes a value that way came out "reproducible" with a random
 * one. Run one after the other, neither outlives its run's PID namespace.
 */
export function overlapNote(sequential: boolean): string | undefined {
  if (sequential) return undefined
  return "both runs are alive at once and share the host's pseudo-terminals (/dev/pts), its named pipes (a FIFO on a read-only mount still opens for writing) and the locks taken on files both can read (/etc/passwd, a compiler): a build that passes a value from one run to the other through them reproduces it; --sequential runs them one after the other, where neither outlives its run"
}

/**
 * AF_VSOCK, a virtual machine's sockets to its host and its other guests, has one
 * address space for the machine: no network namespace takes it away, and the two runs
 * can reach each other (and the host) through it.
 */
export function vsockNote(
  offered: () => boolean = () => fs.existsSync('/sys/module/vsock') || fs.existsSync('/dev/vsock'),
): string | undefined {
  if (!offered()) return undefined
  return 'this machine offers virtual-machine sockets (AF_VSOCK), which no network namespace takes away: both runs can open them, to each other and to the host'
}
