import { ReproofError } from '../errors.js'

/**
 * What run B changes relative to run A. `path` cannot be turned off: the two build
 * roots always differ, in name and in length.
 */
export const VARIATIONS = [
  'path',
  'time',
  'file-times',
  'ordering',
  'umask',
  'tz',
  'locale',
  'home',
  'user',
  'hostname',
  'domain',
  'env',
  'exec-path',
  'cpus',
] as const

export type VariationName = (typeof VARIATIONS)[number]

export const DEFAULT_VARIATIONS: readonly VariationName[] = [
  'path',
  'time',
  'file-times',
  'ordering',
]

export function isVariationName(name: string): name is VariationName {
  return (VARIATIONS as readonly string[]).includes(name)
}

/** Splits `a,b c` lists as given on the command line or in the config file. */
export function splitList(values: readonly string[], where: string): string[] {
  return values.flatMap((value) => {
    const names = value.split(/[\s,]+/).filter((v) => v !== '')
    // `--vary "$UNSET"` asked for something and got the defaults without a word.
    if (names.length === 0)
      throw new ReproofError(
        'E_USAGE',
        `${where}: an empty value; name variations (${VARIATIONS.join(', ')}, all), or leave it out`,
      )
    return names
  })
}

/** The variations run B gets, and which of them were asked for by name. */
export interface ChosenVariations {
  names: VariationName[]
  /**
   * Named in a --vary or config `vary` list (not a default, not through `all`): one of
   * these that cannot be applied stops the build instead of being noted.
   */
  explicit: VariationName[]
  /** Defaults a no-vary list took away, and which list: named so, not as "not asked for". */
  turnedOff: { name: VariationName; by: string }[]
}

/**
 * Applies additions and removals to the defaults, in layers (config file, then flags).
 * A layer may not name one variation literally on both sides: that is almost surely a
 * mistake, and silently picking one would hide it. `all` is not such a name: `--vary
 * all --no-vary time` means every variation but time.
 */
export function resolveVariations(
  layers: readonly {
    vary: readonly string[]
    noVary: readonly string[]
    where: string
    /** How its no-vary list is named where a variation it turned off is reported. */
    noVaryName?: string
  }[],
): ChosenVariations {
  const chosen = new Set<VariationName>(DEFAULT_VARIATIONS)
  const explicit = new Set<VariationName>()
  const turnedOff = new Map<VariationName, string>()
  for (const layer of layers) {
    const add = expand(layer.vary, `${layer.where} vary`)
    // `no-vary all` means every variation that can be turned off, and those this layer
    // names in its vary list are not among them: `--vary umask --no-vary all` is umask
    // alone, as `--vary all --no-vary umask` is all but umask.
    const remove = expand(layer.noVary, `${layer.where} no-vary`).filter(
      (name) => !(name === 'path' && !layer.noVary.includes('path')) && !layer.vary.includes(name),
    )
    for (const name of layer.vary) {
      if (name !== 'all' && layer.noVary.includes(name)) {
        throw new ReproofError('E_USAGE', `${layer.where}: "${name}" is both varied and not varied`)
      }
    }
    if (remove.includes('path')) {
      throw new ReproofError(
        'E_USAGE',
        `${layer.where} no-vary: "path" cannot be turned off; the two build roots always differ`,
      )
    }
    for (const name of add) {
      chosen.add(name)
      turnedOff.delete(name)
    }
    for (const name of layer.vary) if (isVariationName(name)) explicit.add(name)
    for (const name of remove) {
      // A default, or one an earlier layer (the config file) asked for: turned off, and
      // said so, not "not asked for".
      if (chosen.has(name) || DEFAULT_VARIATIONS.includes(name) || turnedOff.has(name))
        turnedOff.set(name, layer.noVaryName ?? `${layer.where} no-vary`)
      chosen.delete(name)
      explicit.delete(name)
    }
  }
  const names = VARIATIONS.filter((name) => chosen.has(name))
  return {
    names,
    explicit: names.filter((name) => explicit.has(name)),
    turnedOff: VARIATIONS.filter((name) => turnedOff.has(name)).map((name) => ({
      name,
      by: turnedOff.get(name) ?? '',
    })),
  }
}
function expand(values: readonly string[], where: string): VariationName[] {
  const out: VariationName[] = []
  for (const value of values) {
    if (value === 'all') {
      out.push(...VARIATIONS)
    } else if (isVariationName(value)) {
      out.push(value)
    } else {
      throw new ReproofError(
        'E_USAGE',
        `${where}: unknown variation "${value}" (known: ${VARIATIONS.join(', ')}, all)`,
        { found: value },
      )
    }
  }
  return out
}
