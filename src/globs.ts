import { ReproofError } from './errors.js'
import { toDisplayText } from './file-names.js'
import { micromatch } from './load-cjs.js'

/** A glob as reproof hands it to fast-glob. */
export interface CompiledGlob {
  glob: string
  /** The fixed directory the glob starts from, `/`-separated, '' for the root. */
  base: string
  /** True when the glob is a plain path: it names `base` itself. */
  literal: boolean
  /**
   * What fast-glob is given: the glob's brace expansions, less those that name `..` or
   * an absolute path. No entry of a walk below the root has such a name, so they can
   * match nothing there; fast-glob, though, would read them as paths, and outside.
   */
  patterns: string[]
}

// Brace expansion multiplies: `{a,b}` twenty times is a million patterns. fast-glob
// expands every brace before it matches, so a glob above this many is refused.
const MAX_PATTERNS = 4096

/**
 * Compiles a glob; refused when its braces expand to more than `MAX_PATTERNS` patterns.
 * `what` says where the glob came from (`--out`), for the message.
 */
export function compileGlob(glob: string, what?: string): CompiledGlob {
  // The whole tree, as micromatch scans it, without loading micromatch.
  if (glob === '**') return { glob, base: '', literal: false, patterns: ['**'] }
  const expanded = expandBraces(glob)
  if (expanded === undefined) {
    const shown = toDisplayText(glob)
    throw new ReproofError(
      'E_USAGE',
      `${what === undefined ? shown : `${what} ${shown}`}: its braces expand to too many patterns (at most ${MAX_PATTERNS}, 1000 from a range)`,
      { hint: 'give several globs, or fewer alternatives' },
    )
  }
  const scan = micromatch().scan(glob)
  const base = scan.base.replace(/\/+$/, '')
  return {
    glob,
    base: base === '.' ? '' : base,
    literal: !scan.isGlob,
    patterns: expanded
      .filter((pattern) => !pattern.startsWith('/') && !pattern.split('/').includes('..'))
      .map(questionMarksAsClasses),
  }
}

/**
 * Each `?` wildcard written as the class `[^/]`, which matches the same (any one
 * character but `/`). fast-glob finds where to start walking with glob-parent, which
 * takes `?` for a plain character: `ou?/app` was looked for under a directory named
 * `ou?`, and `out/app` went unmatched. A `?` escaped, inside a class, or opening an
 * extglob (`?(a|b)`) is left as it is.
 */
export function questionMarksAsClasses(pattern: string): string {
  if (!pattern.includes('?')) return pattern
  let out = ''
  let inClass = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? ''
    if (c === '\\') {
      out += c + (pattern[i + 1] ?? '')
      i++
    } else if (inClass) {
      out += c
      if (c === ']') inClass = false
    } else if (c === '[') {
      inClass = true
      out += c
      // A `]` first in a class is a member, not its end.
      if (pattern[i + 1] === '!' || pattern[i + 1] === '^') out += pattern[++i] ?? ''
      if (pattern[i + 1] === ']') out += pattern[++i] ?? ''
    } else if (c === '?' && pattern[i + 1] !== '(') out += '[^/]'
    else out += c
  }
  return out
}

// As fast-glob matches: dot files included, trailing slashes optional, `/` only.
const OPTIONS = { dot: true, posix: true, strictSlashes: false } as const

/**
 * The first way `glob` could climb out of the directory it is matched in: a `..`
 * segment or an absolute path, as written or after brace expansion (`.{.,}` is `..`),
 * or an extglob segment that matches `..` and no ordinary dot file (`@(..)`, `+(.)`).
 * Undefined if none is seen. A walk of real directory entries never yields `..`, and
 * every match is checked against the build root after matching; this early check turns
 * such globs into a usage error before anything is built.
 */
export function findClimb(glob: string): string | undefined {
  // Above the bound nothing is expanded; compileGlob refuses such a glob anyway.
  for (const pattern of expandBraces(glob) ?? [glob]) {
    if (pattern.startsWith('/')) return pattern
    for (const segment of pattern.split('/')) {
      if (segment === '..' || standsForDotDot(segment)) return pattern
    }
  }
  return undefined
}

function standsForDotDot(segment: string): boolean {
  try {
    return (
      micromatch().isMatch('..', segment, OPTIONS) && !micromatch().isMatch('.x', segment, OPTIONS)
    )
  } catch {
    return false // not a valid glob segment on its own, as in a brace split by a `/`
  }
}

/** The patterns fast-glob would expand `glob` into; undefined above `MAX_PATTERNS`. */
function expandBraces(glob: string): string[] | undefined {
  if (!glob.includes('{')) return [glob]
  if (expansionBound(glob) > MAX_PATTERNS) return undefined
  try {
    // fast-glob's own options: it expands the patterns it is given the same way again,
    // which changes nothing in patterns that are already expanded.
    const patterns = micromatch().braces(glob, { expand: true, nodupes: true, keepEscaping: true })
    return [...new Set(patterns.filter((p) => p !== ''))]
  } catch {
    return undefined // a range too large to expand
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
    if (bound > MAX_PATTERNS) return bound
    text = `${text.slice(0, group.index)}x${text.slice(group.index + group[0].length)}`
  }
}
