import fsp from 'node:fs/promises'
import { firstFew } from '../first-few.js'

/**
 * The Unix sockets of the machine that a build without a network could still reach.
 *
 * A network namespace takes away every interface but loopback, and the abstract Unix
 * sockets with them, but not a socket bound to a path: `connect` needs no write access
 * to the file system, so a read-only mount does not stop it either. A build could then
 * ask a Docker or nix daemon, or a proxy, to fetch for it while its record says
 * `network: none`. The kernel lists every socket bound to a path in a network namespace
 * in /proc/net/unix; the sandbox covers each one the build can see with /dev/null.
 */

/**
 * What the covering cannot reach, said on every verdict of a build without a network:
 * the kernel's table lists only the sockets bound in reproof's own network namespace,
 * by the path each was bound to.
 */
export const UNCOVERED_SOCKETS_NOTE =
  "Unix sockets are covered only at the paths the kernel lists for reproof's own network namespace: one bound in another network namespace (a daemon's socket mounted in from a container or its host) or reached by a second name (a hard link, a bind mount) stays reachable by both runs"

// More sockets than this are not covered one by one: each is a mount, and an argument
// of the sandbox's set-up. Past it, the rest are named as left reachable.
export const MAX_COVERED_SOCKETS = 2048

/**
 * The paths in a /proc/net/unix table: the eighth column, when it is not abstract (an
 * abstract socket starts with `@`, and an unbound one has none). A path is printed as
 * its bytes, as it was given to bind(2), so it may be relative to the binder's working
 * directory; a path holding a line break cannot be read back at all (see the threat model).
 */
export function socketPathsOfTable(table: Buffer): Buffer[] {
  const paths: Buffer[] = []
  let start = 0
  while (start < table.length) {
    let end = table.indexOf(0x0a, start)
    if (end === -1) end = table.length
    const path = pathOfLine(table.subarray(start, end))
    if (path !== undefined) paths.push(path)
    start = end + 1
  }
  return paths
}

// `Num: RefCount Protocol Flags Type St Inode Path`: seven fields, then the path, which
// may hold spaces of its own.
function pathOfLine(line: Buffer): Buffer | undefined {
  // A row begins with its slot's address and a colon; the header (`Num RefCount...`) does not.
  const first = line.indexOf(0x20)
  if (first < 1 || line[first - 1] !== 0x3a) return undefined
  let at = 0
  for (let field = 0; field < 7; field++) {
    while (at < line.length && line[at] === 0x20) at++
    if (at === line.length) return undefined
    while (at < line.length && line[at] !== 0x20) at++
  }
  if (line[at] !== 0x20 || at + 1 >= line.length || line[at + 1] === 0x40) return undefined
  return line.subarray(at + 1)
}

export interface HostSockets {
  /** Sockets the build could see, to be covered, each once. */
  paths: string[]
  /** Sockets that cannot be covered, said in the build record. */
  notes: string[]
}

/**
 * The sockets of reproof's own network namespace that a build would see: those below
 * `hidden` (directories the sandbox replaces with a private file system) are out of
 * its sight already.
 */
export async function hostSockets(hidden: readonly string[]): Promise<HostSockets> {
  let table: Buffer
  try {
    table = await fsp.readFile('/proc/net/unix')
  } catch {
    return {
      paths: [],
      notes: [
        'the Unix sockets of the machine could not be listed (no /proc/net/unix), so none was covered',
      ],
    }
  }
  const seen = new Set<string>()
  const notes: string[] = []
  let unnamed = 0
  const relative = new Set<string>()
  for (const bytes of socketPathsOfTable(table)) {
    const path = bytes.toString('utf8')
    // A path that is not UTF-8 cannot be passed to the set-up as text.
    if (!Buffer.from(path, 'utf8').equals(bytes)) unnamed++
    else if (!path.startsWith('/')) relative.add(path)
    else if (!hidden.some((dir) => path.startsWith(`${dir}/`))) seen.add(path)
  }
  const paths: string[] = []
  const lost: string[] = []
  for (const path of seen) {
    const stat = await fsp.lstat(path).catch(() => undefined)
    if (stat?.isSocket() === true) paths.push(path)
    else lost.push(path)
  }
  if (unnamed > 0)
    notes.push(`${unnamed} Unix socket(s) whose path is not UTF-8 stayed reachable from the build`)
  // Sockets the kernel lists by a name that does not lead to them here: bound by a
  // relative path, moved since, or bound in another mount namespace. Where they are
  // cannot be told, so they could not be covered; said, not assumed away.
  const shown = (names: readonly string[]): string => firstFew(names, 3)
  if (relative.size > 0)
    notes.push(
      `${relative.size} Unix socket(s) bound by a relative path (${shown([...relative].sort())}) could not be found, so were not covered`,
    )
  if (lost.length > 0)
    notes.push(
      `${lost.length} Unix socket(s) not at the path they were bound to (${shown(lost.sort())}: moved, or bound in another mount namespace) could not be covered`,
    )
  if (paths.length > MAX_COVERED_SOCKETS) {
    notes.push(
      `${paths.length - MAX_COVERED_SOCKETS} Unix socket(s) past the first ${MAX_COVERED_SOCKETS} stayed reachable from the build`,
    )
  }
  return { paths: paths.sort().slice(0, MAX_COVERED_SOCKETS), notes }
}
