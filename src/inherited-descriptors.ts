import fs from 'node:fs'

/** O_CLOEXEC as /proc/<pid>/fdinfo writes a descriptor's flags (octal). */
const O_CLOEXEC = 0o2000000

/**
 * Closes the descriptors above stderr that this process was handed open by its caller
 * and would hand on to every program it starts: a build would inherit them in both runs
 * (run A writing through one, run B reading back, and both runs "identical"), and write
 * through them past every read-only mount. Node opens its own descriptors
 * close-on-exec; what is open without that flag came from the caller (a shell's
 * `20<>file`, a CI runner's leaked pipe, make's jobserver). The IPC channel a parent
 * Node process gave is kept. Linux only: elsewhere there is no /proc to read, and
 * nothing is closed. Returns the descriptors closed.
 *
 * Called before a program is first started (`beforeFirstChild`, through the one door to
 * node:child_process), not at start-up: a
 * command that starts none (diff, gate status) pays nothing, and a descriptor the caller
 * left open keeps its number until then, so Node's own never take its place.
 */
export function closeInheritedDescriptors(): number[] {
  let open: string[]
  try {
    open = fs.readdirSync('/proc/self/fd')
  } catch {
    return []
  }
  const channel = (process.channel as { fd?: number } | undefined)?.fd
  const closed: number[] = []
  for (const name of open) {
    const fd = Number(name)
    if (!Number.isInteger(fd) || fd <= 2 || fd === channel) continue
    let flags: number
    try {
      const info = fs.readFileSync(`/proc/self/fdinfo/${name}`, 'utf8')
      flags = parseInt(/^flags:\s*([0-7]+)$/m.exec(info)?.[1] ?? '', 8)
    } catch {
      // The listing's own descriptor, closed by now.
      continue
    }
    if (Number.isNaN(flags) || (flags & O_CLOEXEC) !== 0) continue
    try {
      fs.closeSync(fd)
      closed.push(fd)
    } catch {
      // closed meanwhile
    }
  }
  return closed
}

let closedOnce = false

/** closeInheritedDescriptors, once per process: src/child-process.ts calls it before each start. */
export function beforeFirstChild(): void {
  if (closedOnce) return
  closedOnce = true
  closeInheritedDescriptors()
}
