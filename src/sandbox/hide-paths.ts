/**
 * What a build hides from its command: every build, the checkout it was taken from
 * (twin/hide-source.ts); a rebuild, more, as follows. What a rebuild hides from the command it runs. The command is the signer's: were it
 * hostile, it could look for the artifact under verification on the verifier's disk and
 * copy it out as "rebuilt". So the artifacts, the directories they are in, the source
 * repository and the working directory are covered inside the sandbox, except a
 * directory the build needs (one holding the home directory, a PATH entry or the
 * system's files), where only the artifacts in it are covered. An artifact is covered
 * wherever it is (an installed /usr/bin/app too): the build is to make it, not run it.
 */

export interface HideInputs {
  /** The artifacts under verification, as real paths (no symbolic link in them). */
  files: readonly string[]
  /** Directories to cover when the build can do without them, as real paths. */
  dirs: readonly string[]
  /** Directories the build may need: the home directory and the PATH entries, as real paths. */
  needed: readonly string[]
}

export interface HidePlan {
  /** Paths to cover, none below another. */
  hide: string[]
  /** Directories left visible, and why. */
  visible: { path: string; why: string }[]
  /** Artifacts that could not be covered, and why. */
  unhidden: { path: string; why: string }[]
}

// Where a build's tools and libraries live: never covered, whatever is in them.
const SYSTEM_DIRS = [
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/etc',
  '/opt',
  '/var',
  '/nix',
  '/gnu',
  '/snap',
  '/proc',
  '/sys',
  '/dev',
  '/run',
]

// The sandbox gives the build private file systems here: nothing of the host's shows.
const PRIVATE_ALREADY = ['/tmp', '/dev/shm']

/** `p` is `dir` or below it. */
function isUnder(p: string, dir: string): boolean {
  return dir === '/' || p === dir || p.startsWith(`${dir}/`)
}

/** The paths to cover (pure). */
export function planHiding(inputs: HideInputs): HidePlan {
  const needed = [...inputs.needed.filter((p) => p.startsWith('/')), ...SYSTEM_DIRS]
  const hide: string[] = []
  const visible: HidePlan['visible'] = []
  const unhidden: HidePlan['unhidden'] = []
  const privateAlready = (p: string): boolean => PRIVATE_ALREADY.some((d) => isUnder(p, d))
  for (const dir of new Set(inputs.dirs)) {
    if (privateAlready(dir)) continue
    const holds = needed.find((n) => isUnder(n, dir))
    if (holds !== undefined) {
      visible.push({ path: dir, why: `it holds ${holds}, which the build may need` })
      continue
    }
    if (dir.includes('\n')) {
      visible.push({ path: dir, why: 'its name holds a newline' })
      continue
    }
    hide.push(dir)
  }
  for (const file of new Set(inputs.files)) {
    if (privateAlready(file) || hide.some((d) => isUnder(file, d))) continue
    if (file.includes('\n')) {
      unhidden.push({ path: file, why: 'its name holds a newline' })
      continue
    }
    // Not a file after all, but a directory the build needs.
    const holds = needed.find((n) => isUnder(n, file))
    if (holds !== undefined) {
      unhidden.push({ path: file, why: `it holds ${holds}, which the build may need` })
      continue
    }
    hide.push(file)
  }
  // Nothing below a path already covered; sorted, so an outer path comes first.
  const all = [...new Set(hide)]
  const outermost = all.filter((p) => !all.some((q) => q !== p && isUnder(p, q))).sort()
  return { hide: outermost, visible, unhidden }
}
