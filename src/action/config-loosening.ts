import path from 'node:path'
import { ReproofError } from '../errors.js'
import { loadBuildConfig } from '../config/load-config.js'
import { resolveVariations, splitList, type VariationName } from '../config/variations.js'
import { KEPT_WHEN_PASSED, OMP_COUNTS, ompCountIsOne } from '../sandbox/run-plan.js'
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
  // A variable the tree sets that a variation the workflow runs would then leave alone:
  // the tree's `"env": ["USER=bob"]` kept the user variation from reaching USER, and a
  // build that writes $USER passed. (TZ and the locale are varied whatever run A has.)
  const { names: varied } = resolveVariations([
    { vary: workflowOn, noVary: workflowOff, where: 'input' },
  ])
  for (const entry of config.env ?? []) {
    const eq = entry.indexOf('=')
    const name = entry.slice(0, eq === -1 ? undefined : eq)
    const variation = variationOfVariable(name, eq === -1 ? undefined : entry.slice(eq + 1))
    if (variation !== undefined && varied.includes(variation))
      throw new ReproofError(
        'E_USAGE',
        `reproof.config.json "env" sets ${name}, which the ${variation} variation the workflow runs would vary but keeps when given: a source tree (a pull request's) may not pin what its workflow varies; to accept it, add ${variation} to input no-vary`,
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

/**
 * The variation the workflow runs that would leave `name` as the tree set it, if one
 * would: one that keeps a variable given (USER, HOSTNAME), or the CPU count an OpenMP
 * count of 1 pins in both runs. A value passed through from the runner (no `=`) is
 * the runner's, not the tree's, and may be anything: it counts as one.
 */
function variationOfVariable(name: string, value: string | undefined): VariationName | undefined {
  if ((OMP_COUNTS as readonly string[]).includes(name))
    return value === undefined || ompCountIsOne(value) ? 'cpus' : undefined
  return (Object.keys(KEPT_WHEN_PASSED) as (keyof typeof KEPT_WHEN_PASSED)[]).find((v) =>
    (KEPT_WHEN_PASSED[v] as readonly string[]).includes(name),
  )
}
