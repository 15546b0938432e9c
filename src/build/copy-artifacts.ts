import fs from 'node:fs/promises'
import path from 'node:path'
import type { Manifest } from '../digest/manifest.js'
import { ReproofError } from '../errors.js'
import { copyFileAtomic } from '../io/atomic-write.js'

/** Copies run A's artifacts out, each atomically, checking every copy against its digest. */
export async function copyArtifacts(
  root: string,
  manifest: Manifest,
  outDir: string,
  epoch: number,
): Promise<void> {
  for (const entry of manifest) {
    const source = path.join(root, entry.name)
    const mode = ((await fs.stat(source)).mode & 0o111) !== 0 ? 0o755 : 0o644
    const written = await copyFileAtomic(source, path.join(outDir, entry.name), {
      mode,
      mtime: epoch,
    })
    if (written !== entry.sha256) {
      throw new ReproofError(
        'E_BUILD',
        `artifact ${entry.name} changed while it was being copied out`,
        {
          wanted: entry.sha256,
          found: written,
        },
      )
    }
  }
}
