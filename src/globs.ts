import micromatch from 'micromatch'
import { toMatchName } from './file-names.js'

/** A glob ready to be matched against names in the name form (see file-names.ts). */
export interface CompiledGlob {
  glob: string
  /** The fixed directory the glob starts from, `/`-separated, '' for the root. */
  base: string
  /** True when the glob is a plain path: it names `base` itself. */
  literal: boolean
  /** How many levels below `base` a match can lie; undefined when unbounded (`**`, braces). */
  depth: number | undefined
  matches(name: string): boolean
}

// As fast-glob matches: dot files included, trailing slashes optional, `/` only.
const OPTIONS = { dot: true, posix: true, strictSlashes: false } as const

export function compileGlob(glob: string): CompiledGlob {
  const scan = micromatch.scan(glob)
  const base = scan.base.replace(/\/+$/, '')
  const rest = scan.glob
  // Without `**`, braces or extglobs (which can hold a `/`), each `/` of the rest is one
  // level: no deeper entry can match, so the walk need not go there.
  const bounded = !/\*\*|[{}()]/.test(rest)
  const matcher = micromatch.matcher(glob, OPTIONS)
  const literal = !scan.isGlob
  const from = base === '.' ? '' : base
  return {
    glob,
    base: from,
    literal,
    depth: bounded ? rest.split('/').length : undefined,
    // As in fast-glob, a glob with wildcards matches below its base, never the base
    // itself: `c/**` takes what is in `c`, not `c`.
    matches: (name) => (literal || name !== from) && matcher(toMatchName(name)),
  }
}

// Brace expansion multiplies: `{a,b}` twenty times is a million patterns. Above this many
// a glob is not pre-checked; the check of every match against the root still guards it.
const MAX_EXPANSIONS = 4096

/**
 * The first way `glob` could climb out of the directory it is matched in: a `..`
 * segment, as written or after brace expansion (`.{.,}` is `..`), or an extglob segment
 * that matches `..` and no ordinary dot file (`@(..)`, `+(.)`). Undefined if none is
 * seen. A walk of real directory entries never yields `..`, and every match is checked
 * against the build root after matching; this early check turns such globs into a
 * usage error before anything is built.
 */
export function findClimb(glob: string): string | undefined {
  for (const pattern of expandBraces(glob)) {
    for (const segment of pattern.split('/')) {
      if (segment === '..' || standsForDotDot(segment)) return pattern
    }
  }
  return undefined
}

function standsForDotDot(segment: string): boolean {
  try {
    return micromatch.isMatch('..', segment, OPTIONS) && !micromatch.isMatch('.x', segment, OPTIONS)
  } catch {
    return false // not a valid glob segment on its own, as in a brace split by a `/`
  }
}

function expandBraces(glob: string): string[] {
  if (!glob.includes('{')) return [glob]
  if (expansionBound(glob) > MAX_EXPANSIONS) return [glob]
  try {
    return micromatch.braces(glob, { expand: true })
  } catch {
    return [glob] // a range too large to expand: matching refuses it too
  }
}

/** An upper bound on how many patterns brace expansion makes, counted innermost group first. */
function expansionBound(glob: string): number {
  let text = glob
  let bound = 1
  for (;;) {
    const group = /\{([^{}]*)\}/.exec(text)
    if (group === null) return bound
    const body = group[1] ?? ''
    // A range such as `{1..9}`: braces expands at most 1,000 values (more throws).
    bound *= body.includes('..') && !body.includes(',') ? 1000 : body.split(',').length
    if (bound > MAX_EXPANSIONS) return bound
    text = `${text.slice(0, group.index)}x${text.slice(group.index + group[0].length)}`
  }
}
