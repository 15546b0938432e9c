import fs from 'node:fs'
import path from 'node:path'
import { ReproofError } from '../errors.js'

/**
 * The directories from the workspace down to one run's build root, each as the kernel
 * knows it (device and inode), and the paths reproof reads them by.
 */
export interface RootChain {
  run: 'A' | 'B'
  root: string
  paths: string[]
  ids: string[]
}

/**
 * Takes note of the directories between the workspace `base` and the build `root`,
 * before the build runs. The build owns them: it could rename its root (or the run's
 * directory above it) and leave a symbolic link in its place. Every later read of the
 * root would then go where the link leads, a file of the machine's hashed and shipped as
 * the build's artifact, and with --normalize rewritten in place.
 */
export function noteRootChain(
  run: 'A' | 'B',
  base: string,
  root: string,
  view: (p: string) => string,
): RootChain {
  const paths = [base]
  for (const part of path
    .relative(base, root)
    .split('/')
    .filter((p) => p !== ''))
    paths.push(path.join(paths[paths.length - 1] ?? base, part))
  const seen = paths.map(view)
  return { run, root, paths: seen, ids: seen.map((p) => identity(run, root, p)) }
}

/**
 * Checks, once nothing the build started is left running, that every directory of the
 * chain is still the one noted: each looked at without following it, top down, so that
 * no link on the way is ever taken. Otherwise nothing below it is read.
 */
export function checkRootChain(chain: RootChain): void {
  chain.paths.forEach((p, i) => {
    if (identity(chain.run, chain.root, p) !== chain.ids[i]) throw replaced(chain.run, chain.root)
  })
}

function identity(run: 'A' | 'B', root: string, p: string): string {
  let stat: fs.BigIntStats
  try {
    stat = fs.lstatSync(p, { bigint: true })
  } catch {
    throw replaced(run, root)
  }
  if (!stat.isDirectory()) throw replaced(run, root)
  return `${stat.dev}:${stat.ino}`
}

function replaced(run: 'A' | 'B', root: string): ReproofError {
  return new ReproofError(
    'E_BUILD',
    `run ${run} moved or replaced its build root ${root} (or a directory above it in the workspace); nothing it left there was read`,
    { hint: 'a build writes below its root; it must not rename the root itself' },
  )
}
