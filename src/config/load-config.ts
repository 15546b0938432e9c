import fs from 'node:fs/promises'
import { parseJsonInput } from '../io/json-input.js'
import path from 'node:path'
import * as v from 'valibot'
import { ReproofError } from '../errors.js'
import { BuildConfigSchema, CONFIG_FILE, type BuildConfig } from './build-options.js'

// A configuration file is a few hundred bytes; anything near this is not one.
const MAX_CONFIG_BYTES = 1024 * 1024

/** Reads `reproof.config.json` from the source dir, if there is one, and validates it. */
export async function loadBuildConfig(sourceDir: string): Promise<BuildConfig> {
  const file = path.join(sourceDir, CONFIG_FILE)
  let text: string
  try {
    const stat = await fs.stat(file)
    if (stat.size > MAX_CONFIG_BYTES) {
      throw new ReproofError('E_INPUT', `${file}: larger than ${MAX_CONFIG_BYTES} bytes`, {
        path: file,
      })
    }
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    if (isNotFound(err)) return {}
    throw err instanceof ReproofError
      ? err
      : new ReproofError('E_INPUT', `${file}: cannot be read`, { path: file }, { cause: err })
  }
  return parseBuildConfig(text, file)
}

export function parseBuildConfig(text: string, file: string): BuildConfig {
  const json = parseJsonInput(text, file, file)
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
