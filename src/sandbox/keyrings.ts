import fs from 'node:fs'

/**
 * The kernel keyrings a process possesses beyond its user's own: a session keyring it
 * inherited (pam_keyinit gives every login one; `keyctl session`, a container runtime or
 * a service manager another). Namespaces do not reach keyrings: both runs inherit it from
 * reproof, and a key one run adds there, the other can read. A user's own keyring and
 * user-session keyring are per user namespace, one for each run's.
 *
 * Read from /proc/keys, one line per key: serial, flags (Q: possessed), usage, expiry,
 * permissions, uid, gid, type, description. Pure.
 */
export function inheritedKeyrings(procKeys: string): string[] {
  const found: string[] = []
  for (const line of procKeys.split('\n')) {
    const fields = line.trim().split(/\s+/)
    const [, flags = '', , , , , , type = '', ...rest] = fields
    if (type !== 'keyring' || !flags.includes('Q')) continue
    const name = rest.join(' ').replace(/: [^:]*$/, '')
    if (/^(_uid_ses\.\d+|_uid\.\d+|\.user_reg)$/.test(name)) continue
    found.push(name)
  }
  return found
}

/** What the isolation notes say of a keyring both runs inherit, if there is one. */
export function sharedKeyringNote(
  read: () => string = () => fs.readFileSync('/proc/keys', 'utf8'),
): string | undefined {
  let procKeys: string
  try {
    procKeys = read()
  } catch {
    // No /proc/keys: a kernel without keyrings, nothing to share.
    return undefined
  }
  const names = inheritedKeyrings(procKeys)
  if (names.length === 0) return undefined
  return `both runs hold reproof's session keyring (${names.join(', ')}): a key one run adds there, the other can read; start reproof in a session keyring of its own (keyctl session - reproof build ...) to keep them apart`
}
