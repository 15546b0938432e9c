import fs from 'node:fs'

/** reproof's own version, as package.json states it; recorded in every build record. */
export const VERSION: string = (
  JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
).version
