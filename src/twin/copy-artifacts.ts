import { isUtf8 } from 'node:buffer'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Manifest } from '../digest/manifest.js'
import { ReproofError } from '../errors.js'
import { toDisplayText, toFsPath, toNameBytes } from '../file-names.js'
import { copyFileAtomic } from '../io/atomic-write.js'
import { isInside, resolveInside } from '../sandbox/contain.js'

/**
 * Copies run A's artifacts out, each atomically, checking every copy against its digest.
 * Every write stays inside `outDir`: all targets are checked before the first is copied,
 * so a refusal leaves nothing half done.
 */
export async function copyArtifacts(
  root: string,
  manifest: Manifest,
  outDir: string,
  epoch: number,
  seenAs: string = root,
): Promise<void> {
  // Where each copy lands, links in --out-dir followed: two artifacts that land on one
  // file (a tracked link `out -> sub` beside `-o 'out/*' -o 'sub/*'`) would leave one
  // name holding the other's bytes, and the subject its digest is signed under would not
  // be the file shipped under its name.
  const landing = new Map<string, string>()
  // Written where it was checked to land, not to the name walked again by the kernel.
  const targets = new Map<string, string | Buffer>()
  for (const entry of manifest) {
    const target = await checkTarget(outDir, entry.name)
    // A string where it can be one: the directories made on the way are made durably.
    targets.set(entry.name, isUtf8(target) ? target.toString('utf8') : target)
    const lands = target.toString('latin1')
    const other = landing.get(lands)
    if (other !== undefined)
      throw new ReproofError(
        'E_INPUT',
        `--out-dir ${toDisplayText(outDir)}: artifacts ${toDisplayText(other)} and ${toDisplayText(entry.name)} would be written to one file, through a symbolic link there; nothing was copied`,
        { path: toDisplayText(entry.name) },
      )
    landing.set(lands, entry.name)
  }
  for (const entry of manifest) {
    // A link artifact is copied from its target, resolved inside the root as the build
    // saw it (collecting the manifest refused any other).
    const resolved = await resolveInside(root, entry.name, seenAs)
    const source = resolved.kind === 'inside' ? resolved.path : toFsPath(root, entry.name)
    const mode = ((await fs.stat(source)).mode & 0o111) !== 0 ? 0o755 : 0o644
    // Checked before the copy takes the artifact's place: a copy that is not what was
    // hashed never lands in --out-dir.
    await copyFileAtomic(source, targets.get(entry.name) ?? toFsPath(outDir, entry.name), {
      mode,
      mtime: epoch,
      expect: {
        sha256: entry.sha256,
        mismatch: (found) =>
          new ReproofError(
            'E_BUILD',
            `artifact ${toDisplayText(entry.name)} changed while it was being copied out`,
            { wanted: entry.sha256, found },
          ),
      },
    })
  }
}

/**
 * The name must stay below `outDir`, and so must every directory on the way to it: a
 * symbolic link there (say `out -> /etc`, left in the source dir, the default `--out-dir`)
 * would carry the write elsewhere. The file itself may be a link: the copy is renamed
 * over it, replacing the link, never writing through it.
 */
async function checkTarget(outDir: string, name: string): Promise<Buffer> {
  const parent = path.posix.dirname(name)
  const escapes = !isInside(outDir, path.join(outDir, name))
  const resolved = escapes || parent === '.' ? undefined : await resolveInside(outDir, parent)
  if (escapes || resolved?.kind === 'outside' || resolved?.kind === 'loop') {
    const shown = toDisplayText(name)
    throw new ReproofError(
      'E_INPUT',
      `--out-dir ${toDisplayText(outDir)}: artifact ${shown} would be written outside it${escapes ? '' : ' through a symbolic link'}; nothing was copied`,
      { path: shown },
    )
  }
  // Where the copy lands: its directory as the links there lead (made if missing), as
  // the bytes of the path (a name need not be UTF-8).
  const directory =
    resolved?.kind === 'inside' || resolved?.kind === 'dangling'
      ? Buffer.from(resolved.path)
      : Buffer.from(outDir)
  // A directory where the copy goes, or a file where its directory would be: found
  // here, before the first copy, not after some artifacts had replaced those there.
  const inTheWay =
    (await kindAt(toFsPath(outDir, name), fs.lstat)) === 'directory'
      ? 'a directory is where it would go'
      : ['file', 'not-directory'].includes(await kindAt(directory, fs.stat))
        ? 'a file is where its directory would be'
        : undefined
  if (inTheWay !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `--out-dir ${toDisplayText(outDir)}: artifact ${toDisplayText(name)} cannot be copied there: ${inTheWay}; nothing was copied`,
      { path: toDisplayText(name) },
    )
  const joined = Buffer.concat([
    directory,
    Buffer.from('/'),
    toNameBytes(path.posix.basename(name)),
  ])
  return Buffer.from(joined.toString('latin1').replace(/\/+/g, '/'), 'latin1')
}

/** What is at a path: a directory, a file (anything else), nothing, or a file on the way to it. */
async function kindAt(
  at: string | Buffer,
  stat: (p: string | Buffer) => Promise<{ isDirectory: () => boolean }>,
): Promise<'directory' | 'file' | 'none' | 'not-directory'> {
  try {
    return (await stat(at)).isDirectory() ? 'directory' : 'file'
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'not-directory' : 'none'
  }
}
