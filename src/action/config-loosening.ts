import path from 'node:path'
import { ReproofError } from '../errors.js'
import { loadBuildConfig } from '../config/load-config.js'
import { resolveVariations, splitList, type VariationName } from '../config/variations.js'
import { input, list } from './inputs.js'

type Env = Readonly<Record<string, string | undefined>>

/**
 * In the Action, the workflow decides what a build is checked under, not the tree it
 * builds: a pull request's own reproof.config.json turned the time variation off, and a
 * build that wrote the date passed (named as turned off, but green). A default variation
 * the source tree's config turns off is refused unless the step's `no-vary` input turns
 * it off too (the workflow accepts it) or its `vary` input turns it back on. The CLI
 * leaves this to its caller, who chose the tree (see resolveVariations).
 */
export async function refuseConfigLoosening(env: Env, cwd: string): Promise<void> {
  const source = path.resolve(cwd, input(env, 'source') ?? '.')
  const config = await loadBuildConfig(source)
  const workflowOff = splitList(list(env, 'no-vary'), 'input no-vary')
  const workflowOn = splitList(list(env, 'vary'), 'input vary')
  // A variable the tree sets that a variation the workflow runs would vary: the tree's
  // `"env": ["USER=bob"]` kept the user variation from reaching USER, and a build that
  // writes $USER passed.
  const { names: varied } = resolveVariations([
    { vary: workflowOn, noVary: workflowOff, where: 'input' },
  ])
  for (const entry of config.env ?? []) {
    const name = entry.slice(0, entry.includes('=') ? entry.indexOf('=') : undefined)
    const variation = variationOfVariable(name)
    if (variation !== undefined && varied.includes(variation))
      throw new ReproofError(
        'E_USAGE',
        `reproof.config.json "env" sets ${name}, which the ${variation} variation the workflow runs would vary: a source tree (a pull request's) may not pin what its workflow varies; to accept it, add ${variation} to input no-vary`,
      )
  }
  const noVary = splitList(config.noVary ?? [], 'reproof.config.json "noVary"')
  if (noVary.length === 0) return
  const { turnedOff } = resolveVariations([{ vary: [], noVary, where: 'reproof.config.json' }])
  const loosened = turnedOff
    .map((t) => t.name)
    .filter(
      (name) =>
        !workflowOff.includes(name) &&
        !workflowOff.includes('all') &&
        !workflowOn.includes(name) &&
        !workflowOn.includes('all'),
    )
  if (loosened.length > 0)
    throw new ReproofError(
      'E_USAGE',
      `reproof.config.json "noVary" turns off ${loosened.join(', ')}, which the workflow does not: a source tree (a pull request's) may not loosen the check its workflow runs; to accept it, add ${loosened.join(', ')} to input no-vary`,
    )
}

/** The variation that varies an environment variable run B sees, if one does. */
function variationOfVariable(name: string): VariationName | undefined {
  if (name === 'USER' || name === 'LOGNAME') return 'user'
  if (name === 'TZ') return 'tz'
  if (name === 'LANG' || name === 'LANGUAGE' || name.startsWith('LC_')) return 'locale'
  return undefined
}
