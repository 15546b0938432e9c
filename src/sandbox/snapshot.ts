import fs from 'node:fs'
import path from 'node:path'
import { ReproofError } from '../errors.js'
import { compareNames, toDisplayText, toFsPath, toNameBytes } from '../file-names.js'
import { isInside, resolveInside } from './contain.js'
import type { SourceEntry } from './source-files.js'

export type CreationOrder = 'ascending' | 'descending'

export interface SnapshotStats {
  files: number
  dirs: number
  symlinks: number
  bytes: number
}

interface Node {
  entry: SourceEntry | undefined
  children: Map<string, Node>
}

/**
 * Copies the source entries into `destRoot` with normalized metadata: every mtime is
 * the epoch, modes are 0644 or 0755 (only the exec bit survives), directories 0755.
 * Within each directory, entries are created in byte order or in reverse byte order:
 * on a filesystem whose listings follow creation order (tmpfs), that is what makes the
 * ordering variation visible to the build.
 */
export async function snapshotSource(
  entries: readonly SourceEntry[],
  sourceDir: string,
  destRoot: string,
  options: { epoch: number; order: CreationOrder },
): Promise<SnapshotStats> {
  for (const entry of entries) {
    if (entry.kind === 'symlink') checkLinkTarget(entry)
  }
  const tree = toTree(entries)
  const stats: SnapshotStats = { files: 0, dirs: 0, symlinks: 0, bytes: 0 }
  const time = options.epoch
  const sign = options.order === 'ascending' ? 1 : -1

  const fill = (node: Node, rel: string): void => {
    const names = [...node.children.keys()].sort((a, b) => sign * compareNames(a, b))
    for (const name of names) {
      const child = node.children.get(name)
      if (child === undefined) continue
      const childRel = rel === '' ? name : `${rel}/${name}`
      const dest = toFsPath(destRoot, childRel)
      const entry = child.entry ?? { kind: 'dir', rel: childRel }
      switch (entry.kind) {
        case 'file': {
          // copyFile carries the source mode over; chmod only when that is not already
          // the normalized one (the common case for sources saves a syscall per file).
          const mode = (entry.mode & 0o111) !== 0 ? 0o755 : 0o644
          fs.copyFileSync(toFsPath(sourceDir, childRel), dest, fs.constants.COPYFILE_EXCL)
          if ((entry.mode & 0o7777) !== mode) fs.chmodSync(dest, mode)
          fs.utimesSync(dest, time, time)
          stats.files++
          stats.bytes += entry.size
          break
        }
        case 'symlink':
          fs.symlinkSync(toNameBytes(entry.target), dest)
          fs.lutimesSync(dest, time, time)
          stats.symlinks++
          break
        case 'dir':
          fs.mkdirSync(dest, { mode: 0o755 })
          fill(child, childRel)
          // After the children: creating them changed the directory's mtime.
          fs.chmodSync(dest, 0o755)
          fs.utimesSync(dest, time, time)
          stats.dirs++
          break
      }
    }
  }
  fs.mkdirSync(destRoot, { recursive: true, mode: 0o755 })
  fill(tree, '')
  fs.chmodSync(destRoot, 0o755)
  fs.utimesSync(destRoot, time, time)

  // The lexical check above cannot see through chains of links; walk them for real.
  for (const entry of entries) {
    if (entry.kind !== 'symlink') continue
    const resolved = await resolveInside(destRoot, entry.rel)
    if (resolved.kind === 'outside' || resolved.kind === 'loop') {
      const shown = toDisplayText(path.join(sourceDir, entry.rel))
      throw new ReproofError('E_INPUT', `${shown}: symbolic link leads outside the source tree`, {
        path: shown,
        found: toDisplayText(entry.target),
      })
    }
  }
  return stats
}

function checkLinkTarget(entry: { rel: string; target: string }): void {
  const resolved = path.posix.join(path.posix.dirname(entry.rel), entry.target)
  if (
    path.posix.isAbsolute(entry.target) ||
    !isInside('/root', path.posix.join('/root', resolved))
  ) {
    const [rel, target] = [toDisplayText(entry.rel), toDisplayText(entry.target)]
    throw new ReproofError(
      'E_INPUT',
      `${rel}: symbolic link to "${target}" points outside the source tree`,
      { path: rel, found: target },
    )
  }
}

function toTree(entries: readonly SourceEntry[]): Node {
  const root: Node = { entry: undefined, children: new Map() }
  for (const entry of entries) {
    let node = root
    const parts = entry.rel.split('/')
    parts.forEach((part, i) => {
      let child = node.children.get(part)
      if (child === undefined) {
        child = { entry: undefined, children: new Map() }
        node.children.set(part, child)
      }
      if (i === parts.length - 1) child.entry = entry
      node = child
    })
  }
  return root
}
