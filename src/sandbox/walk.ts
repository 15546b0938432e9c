import fs from 'node:fs'
import { fromLatin1Name, fromNameBytes, toFsPath } from '../file-names.js'

export interface TreeEntry {
  /** Relative to the walk's root, `/`-separated, in the name form. */
  rel: string
  kind: 'file' | 'dir' | 'symlink' | 'other'
  /** Where it really is, when a directory on its way is a link (see glob-fs.ts's Redirect). */
  real?: string
}

/**
 * Visits every entry below `root`/`from` (`from` itself excluded), parents before
 * children, links never followed; `visit` returns whether to go into a directory. Names
 * are read as bytes, so a name that is not UTF-8 comes through as it is (not as U+FFFD,
 * which no later call could open).
 *
 * Synchronous on purpose: one readdir per directory without a promise per entry is what
 * keeps a 20,000-file walk fast.
 */
export function walkTree(root: string, from: string, visit: (entry: TreeEntry) => boolean): void {
  const walk = (rel: string): void => {
    for (const entry of listEntries(root, rel)) {
      if (visit(entry) && entry.kind === 'dir') walk(entry.rel)
    }
  }
  walk(from)
}

/**
 * The entries of `root`/`rel`, each with its kind and its path below `root` (in the name
 * form), links not followed.
 *
 * Listed as Latin-1, every byte one character, so that the exact bytes come back
 * (fromLatin1Name) without a Buffer per name: 20,000 names in 20 ms rather than 50. The
 * kind of a name that is not ASCII is asked again by its exact bytes: where the file
 * system gives no kind in the listing (XFS without ftype, some NFS and FUSE mounts),
 * Node looks it up by the name it was given, which for such a name is other bytes (a
 * symbolic link `café` would be taken for the file `cafÃ©` beside it). A directory whose
 * own path is not UTF-8 is listed as bytes: Node cannot join a Latin-1 name to it.
 */
export function listEntries(root: string, rel: string): TreeEntry[] {
  const below = (name: string): string => (rel === '' ? name : `${rel}/${name}`)
  const dir = toFsPath(root, rel)
  if (typeof dir !== 'string') {
    return fs
      .readdirSync(dir, { withFileTypes: true, encoding: 'buffer' })
      .map((dirent) => ({ rel: below(fromNameBytes(dirent.name)), kind: kindOf(dirent) }))
  }
  return fs.readdirSync(dir, { withFileTypes: true, encoding: 'latin1' }).map((dirent) => {
    const name = fromLatin1Name(dirent.name)
    if (name === dirent.name) return { rel: below(name), kind: kindOf(dirent) }
    const exact = below(name)
    return { rel: exact, kind: kindOf(fs.lstatSync(toFsPath(root, exact))) }
  })
}

function kindOf(dirent: {
  isFile(): boolean
  isDirectory(): boolean
  isSymbolicLink(): boolean
}): TreeEntry['kind'] {
  if (dirent.isFile()) return 'file'
  if (dirent.isDirectory()) return 'dir'
  return dirent.isSymbolicLink() ? 'symlink' : 'other'
}
