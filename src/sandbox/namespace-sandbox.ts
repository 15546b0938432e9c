import fsp from 'node:fs/promises'
import { ReproofError } from '../errors.js'
import { hostSockets } from './host-sockets.js'
import {
  reapUntilGone,
  runCaptured,
  startHolder,
  stillRunning,
  type Holder,
  type ProcessInfo,
} from './process.js'

/**
 * The per-run sandbox, rootless, made of util-linux programs that every Linux
 * distribution ships (unshare, nsenter, mount), so that it needs nothing installed:
 *
 * - A holder process per run owns a new user, mount, PID, UTS and IPC namespace (and a
 *   network namespace unless --network). Inside it, a small shell script makes every
 *   inherited mount read-only, mounts private tmpfs file systems on /tmp, /dev/shm and
 *   the run's own directory, sets the host and domain name, brings up loopback, says
 *   "ready", and waits. It is PID 1 of the run's PID namespace: when it exits, the
 *   kernel kills every process left there.
 * - reproof fills the run's directory from outside, through /proc/<pid>/root: the build
 *   root exists only on the run's private tmpfs, where directory listings follow
 *   creation order on every host file system, so the ordering variation bites.
 * - The probe and the build enter those namespaces with nsenter, then a nested user
 *   namespace of their own (see run-plan.ts), so they hold no capability over the
 *   mounts and cannot make anything writable again.
 * - When the build command ends, whatever it left running is listed and killed.
 */

// Holder commands are found here, not on the build's PATH, which the user controls.
const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin'

// $1 the workspace (both runs' directories and logs), $2 the run's directory inside it,
// $3 host name, $4 domain name, $5 "isolated" when the network namespace is new, $6 the
// last process ID before the build's (0: the kernel's own), $7 the user's runtime
// directory to hide when isolated ("" for none), $8 the paths to hide from the build, one
// a line (a directory gets an empty file system, a file /dev/null), then the Unix
// sockets to cover when isolated (host-sockets.ts). Prints "note ..." lines,
// then "ready"; then answers "kill" (every other process of its PID namespace, nested
// namespaces included) with "killed", and ends when its standard input closes. Mounts
// already read-only are left alone, and only a mount point with an escape in its name
// (\040 for a space) costs a subshell to decode: each process here is a few
// milliseconds of every run's set-up.
const HOLDER_SCRIPT = String.raw`
set -u
PATH=${SYSTEM_PATH}
while read -r _ _ _ _ mnt opts _; do
  case $mnt in /proc|/proc/*) continue ;; esac
  case ,$opts, in *,ro,*) continue ;; esac
  case $mnt in *\\*) mnt=$(printf '%b' "$mnt") ;; esac
  mount -o remount,bind,ro -- "$mnt" 2>/dev/null || printf 'note writable %s\n' "$mnt"
done < /proc/self/mountinfo
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp || exit 10
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm || exit 11
# The runtime directory holds the user's daemons' sockets (a rootless Docker's among
# them, bound in a network namespace of its own, so not in the list below).
if [ "$5" = isolated ] && [ -n "$7" ] && [ -d "$7" ]; then
  mount -t tmpfs -o mode=0700,nosuid,nodev tmpfs "$7" || printf 'note runtime %s\n' "$7"
fi
# Hidden before the workspace is mounted: a hidden directory may hold it.
printf '%s\n' "$8" | while IFS= read -r hide; do
  if [ -d "$hide" ]; then mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$hide" || exit 15
  elif [ -e "$hide" ]; then mount --bind /dev/null "$hide" || exit 15
  fi
done || exit 15
mkdir -p -- "$1" && mount -t tmpfs -o mode=0700 tmpfs "$1" || exit 12
mkdir -p -- "$2" || exit 12
hostname -- "$3" || exit 13
domainname -- "$4" || exit 13
if [ "$5" = isolated ]; then
  ip link set lo up 2>/dev/null || printf 'note loopback is down (iproute2 not installed)\n'
fi
if [ "$6" != 0 ]; then
  echo "$6" > /proc/sys/kernel/ns_last_pid || printf 'note process IDs could not be moved\n'
fi
# The kernel's knobs under /proc, read-only from here on (as container runtimes make
# them): to their permission checks a build run by root is root of the host, whatever
# namespace it is in, so /proc/sys/kernel/core_pattern would run a program of its choice
# outside every namespace. Covered, they also keep a nested /proc from being mounted.
for knob in /proc/sys /proc/sysrq-trigger /proc/irq /proc/bus /proc/fs; do
  [ -e "$knob" ] || continue
  { mount --bind -- "$knob" "$knob" && mount -o remount,bind,ro -- "$knob"; } 2>/dev/null ||
    { [ "$knob" = /proc/sys ] && exit 16; printf 'note writable %s\n' "$knob"; }
done
isolation=$5
shift 8
if [ "$isolation" = isolated ]; then
  for socket do
    mount --bind /dev/null "$socket" 2>/dev/null || printf 'note socket %s\n' "$socket"
  done
fi
# The build enters a nested user namespace of its own (run-plan.ts): refuse now if it cannot.
unshare --user --map-user=1 --map-group=1 -- true || exit 14
echo ready
while read -r command; do
  [ "$command" = kill ] && { kill -9 -1 2>/dev/null; echo killed; }
done
`

const SETUP_FAILURES: Record<number, string> = {
  10: 'a tmpfs could not be mounted on /tmp',
  11: 'a tmpfs could not be mounted on /dev/shm',
  12: 'the workspace could not be mounted',
  13: 'the host name could not be set',
  14: 'a nested user namespace could not be made',
  15: 'a path to hide from the build could not be covered',
  16: '/proc/sys could not be made read-only',
}

export type SandboxSupport = { available: true } | { available: false; reason: string }

function holderArgv(options: { isolateNetwork: boolean; pdeathsig: boolean }): string[] {
  return [
    // Dies with reproof: a killed reproof must not leave a build running.
    ...(options.pdeathsig ? ['setpriv', '--pdeathsig', 'KILL'] : []),
    'unshare',
    '--user',
    '--map-root-user',
    '--mount',
    '--propagation',
    'private',
    '--pid',
    '--fork',
    '--kill-child',
    '--mount-proc',
    '--uts',
    '--ipc',
    ...(options.isolateNetwork ? ['--net'] : []),
    '/bin/sh',
    '-c',
    HOLDER_SCRIPT,
    'reproof-sandbox',
  ]
}

let pdeathsigSupport: Promise<boolean> | undefined

function hasPdeathsig(): Promise<boolean> {
  pdeathsigSupport ??= runCaptured(['setpriv', '--pdeathsig', 'KILL', 'true'], {
    timeoutMs: 10_000,
  }).then((r) => r.code === 0)
  return pdeathsigSupport
}

export interface RunSandbox {
  /** The path through which reproof reaches `p`, a path inside the run's namespaces. */
  view(p: string): string
  /** Argument vector that enters the run's namespaces (before the run's launcher). */
  enter: string[]
  /** What the sandbox could not do (a mount left writable, loopback down). */
  notes: string[]
  /** Kills every process left in the run's PID namespace but its init; returns their names. */
  reap(): Promise<string[]>
  /** Ends the holder: the namespaces, their processes and the private tmpfs go with it. */
  close(): Promise<void>
}

/** Where the run's sandbox is set up: its workspace, its directory, its names and network. */
export interface SandboxOptions {
  /** The workspace: hidden from the run by a tmpfs of its own (the other run's files). */
  base: string
  /** The run's directory, below `base`. */
  dir: string
  hostname: string
  domainname: string
  network: boolean
  /** Process IDs of the build start above this (0: where the kernel starts them). */
  firstPid: number
  /**
   * Absolute paths, free of symbolic links, the build must not read: a directory is
   * covered by an empty file system, a file by /dev/null. None may hold a newline.
   */
  hide: readonly string[]
}

/** Sets a run's sandbox up; exit 3 naming what failed when it cannot be had. */
export async function openSandbox(options: SandboxOptions): Promise<RunSandbox> {
  const opened = await tryOpenSandbox(options)
  if ('sandbox' in opened) return opened.sandbox
  throw new ReproofError(
    'E_ENVIRONMENT',
    `the build sandbox could not be set up (${opened.reason})`,
    { hint: 'pass --no-sandbox to build with process isolation only' },
  )
}

/**
 * Sets a run's sandbox up, or says why it cannot be had here: the first run's sandbox
 * is also the probe of whether namespaces work, so that a build sets up no sandbox
 * only to throw it away.
 */
export async function tryOpenSandbox(
  options: SandboxOptions,
): Promise<{ sandbox: RunSandbox } | { available: false; reason: string }> {
  const runtimeDir = options.network ? '' : userRuntimeDir()
  // Out of the build's sight already: replaced by private file systems below.
  const sockets = options.network
    ? { paths: [], notes: [] }
    : await hostSockets([
        '/tmp',
        '/dev/shm',
        options.base,
        ...(runtimeDir ? [runtimeDir] : []),
        ...options.hide,
      ])
  const holder = startHolder(
    [
      ...holderArgv({ isolateNetwork: !options.network, pdeathsig: await hasPdeathsig() }),
      options.base,
      options.dir,
      options.hostname,
      options.domainname,
      options.network ? 'shared' : 'isolated',
      String(options.firstPid),
      runtimeDir,
      options.hide.join('\n'),
      ...sockets.paths,
    ],
    { PATH: SYSTEM_PATH },
  )
  const notes: string[] = [...sockets.notes, ...rootNote()]
  try {
    for (;;) {
      const line = await holder.nextLine()
      if (line === undefined) {
        const { code, stderr } = await holder.exited
        const said = stderr.trim().split('\n').pop()
        const reason =
          (code === null ? undefined : SETUP_FAILURES[code]) ??
          (code === null && stderr.includes('ENOENT') ? 'unshare is not installed' : undefined) ??
          (said === undefined || said === '' ? `unshare exited ${code}` : said)
        return { available: false, reason }
      }
      if (line === 'ready') break
      if (line.startsWith('note ')) notes.push(describeNote(line.slice(5)))
    }
    const init = await initPid(holder)
    return {
      sandbox: {
        view: (p) => `/proc/${init}/root${p}`,
        enter: [
          'nsenter',
          `--target=${init}`,
          '--user',
          '--mount',
          '--uts',
          '--ipc',
          '--pid',
          // Entering the host's own network namespace would need privilege; with --network
          // the holder never left it.
          ...(options.network ? [] : ['--net']),
          // Keep reproof's own IDs: in the run's user namespace they are root, which lets
          // the nested namespace of the launcher map the build's user.
          '--preserve-credentials',
          '--',
        ],
        notes,
        reap: () => reapNamespace(holder, init),
        close: () => holder.close(),
      },
    }
  } catch (err) {
    await holder.close()
    throw err
  }
}

function describeNote(note: string): string {
  const [kind = '', ...rest] = note.split(' ')
  const subject = rest.join(' ')
  if (kind === 'writable')
    return `${subject} stayed writable to the build (the kernel refused a read-only remount)`
  if (kind === 'socket')
    return `the Unix socket ${subject} stayed reachable from the build (it could not be covered)`
  if (kind === 'runtime')
    return `the runtime directory ${subject} and its sockets stayed visible to the build (it could not be hidden)`
  return note
}

/**
 * Run by root, the build maps to root of the host: namespaces take its capabilities over
 * the machine, not the kernel's checks of file owners, so what root may write and is not
 * behind a read-only mount (a device file) stays within its reach.
 */
function rootNote(): string[] {
  return process.getuid?.() === 0
    ? [
        "reproof runs as root, so the build is root of the host to the kernel's file checks: device files stay within its reach (run reproof as an ordinary user)",
      ]
    : []
}

/** The user's runtime directory (/run/user/<uid>), where the user's daemons listen. */
function userRuntimeDir(): string {
  return process.getuid === undefined ? '' : `/run/user/${process.getuid()}`
}

/** The holder is unshare; the namespace's init is its only child. */
async function initPid(holder: Holder): Promise<number> {
  const children = await fsp.readFile(`/proc/${holder.pid}/task/${holder.pid}/children`, 'utf8')
  const pid = Number(children.trim().split(/\s+/)[0])
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new ReproofError('E_ENVIRONMENT', 'the build sandbox lost its init process')
  }
  return pid
}

/**
 * Names and kills every process left in the run's PID namespace but its init, nested
 * namespaces included (a tool that runs its own sandbox): they are all listed in the
 * namespace's own /proc, and the init's kill(-1) reaches them all. A build that forks
 * faster than it is killed is still bounded: the namespace's init exits when the
 * sandbox closes, and the kernel kills what is left.
 */
function reapNamespace(holder: Holder, init: number): Promise<string[]> {
  const nsProc = `/proc/${init}/root/proc`
  return reapUntilGone(
    () => runningIn(nsProc),
    async () => {
      holder.send('kill')
      if ((await holder.nextLine()) !== 'killed')
        throw new ReproofError('E_ENVIRONMENT', 'the build sandbox lost its init process')
    },
  )
}

/** Names of the running processes (see stillRunning) of a PID namespace's /proc, but its init. */
async function runningIn(nsProc: string): Promise<ProcessInfo[]> {
  let entries: string[]
  try {
    entries = await fsp.readdir(nsProc)
  } catch {
    return []
  }
  const found: ProcessInfo[] = []
  for (const pid of entries) {
    if (!/^[0-9]+$/.test(pid) || pid === '1') continue
    try {
      if (!(await stillRunning(nsProc, pid))) continue
      found.push({
        pid: Number(pid),
        name: (await fsp.readFile(`${nsProc}/${pid}/comm`, 'utf8')).trim(),
      })
    } catch {
      // gone meanwhile
    }
  }
  return found
}
