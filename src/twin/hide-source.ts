import fs from 'node:fs'
import { planHiding, type HidePlan } from '../sandbox/hide-paths.js'

/**
 * What a build must not see of the host: the checkout its snapshot was taken from (the
 * source directory, its git work tree, and the rest of its repository: git directories,
 * a linked work tree's main checkout, a submodule's superproject). The build works in the snapshot; reading the
 * checkout instead (an absolute path, a lookup upward from a temp dir inside it) reads
 * untracked files both runs agree on, and a yes from a commit that does not build. A
 * directory holding the home directory, a PATH entry or the system's files stays
 * visible (hide-paths.ts), and the caller names it.
 */
export function hideSource(
  source: string,
  /** The work tree's top, and the repository's other places (GitSource.related). */
  repository: readonly string[],
  callerEnv: Readonly<Record<string, string | undefined>>,
  /** Files the build must not read (the signing key), covered wherever they are. */
  secretFiles: readonly string[] = [],
): HidePlan {
  const dirs = [source, ...repository].flatMap(realPath)
  const needed = [
    ...neededPaths(callerEnv),
    // A command on the PATH that is a link into the checkout (what `npm link` makes).
    ...pathDirs(callerEnv).flatMap((dir) => linksInto(dir, dirs)),
  ]
  return planHiding({ files: secretFiles.flatMap(realPath), dirs, needed })
}

/** `p` with every link resolved, as a list of one; none when it does not exist. */
export function realPath(p: string): string[] {
  try {
    return [fs.realpathSync(p)]
  } catch {
    return []
  }
}

const pathDirs = (env: Readonly<Record<string, string | undefined>>): string[] =>
  (env.PATH ?? '').split(':').filter((p) => p.startsWith('/'))

/** What a build may need of the host: the home directory and the PATH entries, as real paths. */
export function neededPaths(env: Readonly<Record<string, string | undefined>>): string[] {
  return [env.HOME ?? '', ...pathDirs(env)]
    .filter((p) => p.startsWith('/'))
    .flatMap((p) => realPath(p)[0] ?? p)
}

/** The real paths of the links in `dir` that lead into any of `roots`. */
function linksInto(dir: string, roots: readonly string[]): string[] {
  let entries: fs.Dirent[]
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true })
  } catch {
    return []
  }
  const inside = (p: string): boolean => roots.some((r) => p === r || p.startsWith(`${r}/`))
  return entries.flatMap((entry) => {
    if (!entry.isSymbolicLink()) return []
    try {
      const target = fs.realpathSync(`${dir}/${entry.name}`)
      return inside(target) ? [target] : []
    } catch {
      return []
    }
  })
}
