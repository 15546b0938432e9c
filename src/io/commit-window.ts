/**
 * Whether a durable write is under way. A second Ctrl-C stops reproof at once; during a
 * write (a ledger record, its checkpoint) that exit cannot say "nothing was written":
 * the write may have landed. The CLI then answers unknown (exit 4), which a retry
 * settles, instead of interrupted (exit 130).
 */
let open = 0

export async function asCommit<T>(write: () => Promise<T>): Promise<T> {
  open++
  try {
    return await write()
  } finally {
    open--
  }
}

export function committing(): boolean {
  return open > 0
}
