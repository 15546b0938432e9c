import fs from 'node:fs'

// Set when the action is bundled into one file, which has no package.json beside it.
declare const __REPROOF_VERSION__: string | undefined

/** reproof's own version, as package.json states it; recorded in every build record. */
export const VERSION: string =
  typeof __REPROOF_VERSION__ === 'string'
    ? __REPROOF_VERSION__
    : (
        JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
          version: string
        }
      ).version
