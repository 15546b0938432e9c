import fs from 'node:fs/promises'
import { parseJsonBytes, parseJsonInput } from '../io/json-input.js'
import { readBounded } from '../io/read-bounded.js'
import path from 'node:path'
import * as v from 'valibot'
import { ReproofError } from '../errors.js'
import { BuildConfigSchema, CONFIG_FILE, type BuildConfig } from './build-options.js'

// A configuration file is a few hundred bytes; anything near this is not one.
const MAX_CONFIG_BYTES = 1024 * 1024

/**
 * Reads `reproof.config.json` from the source dir, if there is one, and validates it.
 * It is the source tree's (a pull request's), and must be a file of it: a link is
 * refused, wherever it leads. One to /dev/zero was read until memory ran out, one to
 * /proc/self/environ showed the start of reproof's environment in its parse error, and
 * one the commit holds, leading to a file it does not (under .git/), shaped a build that
 * was then called a build of the commit. It is read as a regular file of bounded size.
 */
export async function loadBuildConfig(sourceDir: string): Promise<BuildConfig> {
  const file = path.join(sourceDir, CONFIG_FILE)
  let stat
  try {
    stat = await fs.lstat(file)
  } catch (err) {
    if (isNotFound(err)) return {}
    throw new ReproofError('E_INPUT', `${file}: cannot be read`, { path: file }, { cause: err })
  }
  if (stat.isSymbolicLink())
    throw new ReproofError(
      'E_INPUT',
      `${file}: a symbolic link; the configuration must be a file of the source tree`,
      { path: file },
    )
  return parseBuildConfig(readBounded(file, MAX_CONFIG_BYTES, file), file)
}

export function parseBuildConfig(text: string | Buffer, file: string): BuildConfig {
  const json =
    typeof text === 'string' ? parseJsonInput(text, file, file) : parseJsonBytes(text, file, file)
  // valibot's objects accept arrays (they are objects to JavaScript); a config is not one.
  if (Array.isArray(json))
    throw new ReproofError('E_INPUT', `${file}: must be a JSON object`, { path: file })
  const parsed = v.safeParse(BuildConfigSchema, json)
  if (!parsed.success) {
    const issue = parsed.issues[0]
    const at = v.getDotPath(issue)
    const where = at === null ? '' : ` at "${at}"`
    throw new ReproofError('E_INPUT', `${file}${where}: ${issue.message}`, { path: file })
  }
  return parsed.output
}

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
}
