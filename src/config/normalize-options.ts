import fs from 'node:fs'
import { fileIdentity } from '../io/file-identity.js'
import path from 'node:path'
import { ReproofError, unreadable } from '../errors.js'
import { checkOutputFile } from '../io/output-path.js'
import { toLimits } from './diff-options.js'
import { chooseEpoch, type Epoch } from './epoch.js'
import type { NormalizeFlags } from './flags.js'
import type { DiffLimits } from '../formats/limits.js'

export type NormalizeMode = 'ship' | 'compare'

export interface NormalizeRules {
  epoch: number
  /** Force every mtime to the epoch instead of clamping to it. */
  setMtime: boolean
  mode: NormalizeMode
  /** Ship mode: drop a jar manifest's build-host headers too (compare mode always does). */
  dropBuildHost?: boolean
  /**
   * Rewrite every tar and zip in reproof's own layout (tar.gz recompressed), even when
   * none of its fields needs changing. Archives that differ only in how their writer
   * lays them out (header format, data descriptors, compressor) then come out
   * identical, at the price of the writer's bytes: an npm tarball loses npm's digest.
   */
  canonical?: boolean
}

/** `reproof normalize`'s request: each input with where it goes, checked before any is written. */
export interface NormalizeOptions {
  files: { input: string; output: string }[]
  rules: NormalizeRules
  epoch: Epoch
  limits: DiffLimits
  /** Aborted on Ctrl-C or SIGTERM. */
  signal?: AbortSignal
}

/**
 * Maps the flags onto options, refusing what cannot be done before anything is
 * written: neither or both of -o and --in-place, an input that is not a readable
 * regular file, several inputs without an output directory, two inputs with one output.
 */
export function toNormalizeOptions(
  inputs: readonly string[],
  flags: NormalizeFlags,
  callerEnv: Readonly<Record<string, string | undefined>>,
): NormalizeOptions {
  if ((flags.out === undefined) === (flags.inPlace !== true))
    throw new ReproofError('E_USAGE', 'give either -o <path> or --in-place')
  if (flags.setMtime === true && flags.clampMtime === true)
    throw new ReproofError('E_USAGE', 'give at most one of --set-mtime and --clamp-mtime')
  const epoch = chooseEpoch({ flag: flags.epoch, environment: callerEnv.SOURCE_DATE_EPOCH })
  for (const file of inputs) {
    let stat
    try {
      stat = fs.statSync(file)
    } catch (err) {
      throw unreadable(file, file, err)
    }
    if (!stat.isFile())
      throw new ReproofError('E_INPUT', `${file}: not a regular file`, { path: file })
    // Renaming over a link would put a file where the link was and leave its target as
    // it was: the opposite of "in place".
    if (flags.inPlace === true && fs.lstatSync(file).isSymbolicLink())
      throw new ReproofError(
        'E_INPUT',
        `${file}: a symbolic link; give its target to --in-place, or write elsewhere with -o`,
        { path: file },
      )
    // The same for a file of several names: renamed over one, the others keep the old
    // bytes, and the change the report says was made is made to one name of it.
    if (flags.inPlace === true && stat.nlink > 1)
      throw new ReproofError(
        'E_INPUT',
        `${file}: a file of ${stat.nlink} hard links; replaced in place, the other names would keep its old bytes: write elsewhere with -o`,
        { path: file },
      )
  }
  if (flags.out !== undefined && inputs.length > 1 && !isDir(flags.out))
    throw new ReproofError(
      'E_USAGE',
      `-o ${flags.out}: with several inputs, -o must be an existing directory`,
    )
  const files = inputs.map((input) => ({
    input,
    output:
      flags.inPlace === true
        ? input
        : inputs.length > 1 || isDir(flags.out)
          ? path.join(flags.out ?? '.', path.basename(input))
          : (flags.out ?? input),
  }))
  // By the file each names: two hard links to one file, or one reached through a linked
  // directory, were normalized twice into two files (the link between them undone).
  if (new Set(files.map((f) => fileIdentity(f.output, { replaced: true }))).size !== files.length)
    throw new ReproofError(
      'E_USAGE',
      'two inputs would be written to the same output; give them distinct names',
    )
  // Every output is checked before any input is read: one that cannot be written (a
  // directory in its place, a parent that is a file) would otherwise fail at its rename,
  // after the outputs before it had replaced what was there.
  if (flags.inPlace !== true) for (const { output } of files) checkOutputFile('-o', output)
  return {
    files,
    epoch,
    rules: {
      epoch: epoch.value,
      // Set, not clamped, unless asked: archives of the same content then come out as
      // the same bytes whenever their members were written.
      setMtime: flags.clampMtime !== true,
      mode: (flags.mode ?? 'ship') as NormalizeMode,
      ...(flags.dropBuildHost === true ? { dropBuildHost: true } : {}),
      ...(flags.canonical === true ? { canonical: true } : {}),
    },
    limits: toLimits(flags),
  }
}

function isDir(p: string | undefined): boolean {
  return p !== undefined && fs.existsSync(p) && fs.statSync(p).isDirectory()
}
