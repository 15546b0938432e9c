import fsSync from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import fg from 'fast-glob'
import { compareBytes } from '../canonical.js'
import { ReproofError } from '../errors.js'
import { resolveInside } from '../sandbox/contain.js'
import { hashFiles } from './hash-file.js'

import type { Manifest } from './manifest-digest.js'

export type { Manifest, ManifestEntry } from './manifest-digest.js'

export interface GlobMatches {
  glob: string
  count: number
}

/**
 * Finds the artifacts the globs name below `root` and hashes them. A glob that names
 * a directory takes every file below it. Symbolic links are followed only while they
 * stay inside the root; one that leaves it is refused, never read.
 */
export async function collectManifest(
  root: string,
  globs: readonly string[],
): Promise<{ manifest: Manifest; matches: GlobMatches[] }> {
  const names = new Set<string>()
  const matches: GlobMatches[] = []
  for (const glob of globs) {
    const found = await fg(glob, {
      cwd: root,
      dot: true,
      onlyFiles: false,
      followSymbolicLinks: false,
      markDirectories: true,
    })
    let count = 0
    for (const match of found) {
      if (match.endsWith('/')) {
        const below = await fg('**', {
          cwd: path.join(root, match),
          dot: true,
          onlyFiles: false,
          followSymbolicLinks: false,
        })
        for (const inner of below) {
          if (await addArtifact(root, `${match}${inner}`, names)) count++
        }
      } else if (await addArtifact(root, match, names)) {
        count++
      }
    }
    matches.push({ glob, count })
  }
  const sorted = [...names].sort(compareBytes)
  const digests = await hashFiles(sorted.map((name) => path.join(root, name)))
  const manifest = sorted.map((name, i) => {
    const digest = digests[i]
    if (digest === undefined) throw new Error(`no digest for ${name}`)
    return { name, sha256: digest.sha256, size: digest.size }
  })
  return { manifest, matches }
}

/** Adds a regular file (or a link that stays inside the root and ends at one). */
async function addArtifact(root: string, name: string, names: Set<string>): Promise<boolean> {
  const stat = fsSync.lstatSync(path.join(root, name))
  if (stat.isFile()) {
    names.add(name)
    return true
  }
  if (!stat.isSymbolicLink()) return false
  const resolved = await resolveInside(root, name)
  if (resolved.kind !== 'inside') {
    throw new ReproofError(
      'E_INPUT',
      `artifact ${name}: symbolic link leads outside the build root; refused`,
      {
        path: name,
        found: await fs.readlink(path.join(root, name)),
      },
    )
  }
  if (!(await fs.stat(resolved.path)).isFile()) return false
  names.add(name)
  return true
}
