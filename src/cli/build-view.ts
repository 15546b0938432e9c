import type { BuildResult } from '../build/run-build.js'
import { formatDuration } from '../config/duration.js'
import { toDisplayText as shown } from '../file-names.js'
import { paint } from './output.js'

// Beyond this many, the warning names the first ones and counts the rest (--json has all).
const MAX_NAMES_IN_WARNING = 10

/**
 * The human view of a twin build: a verdict, a table of artifacts, the differences.
 * Names are shown escaped (`\xff`, `\n`): nothing in a file name reaches the terminal raw.
 */
export function renderBuildHuman(result: BuildResult, color: boolean): string {
  const c = paint(color)
  const out: string[] = []
  if (result.excludedOutputs.length > 0) {
    out.push(c.yellow(`warning: ${excludedWarning(result.excludedOutputs)}`))
  }
  for (const warning of result.warnings) out.push(c.yellow(`warning: ${shown(warning)}`))
  const variations = result.variations
    .filter((v) => v.applied)
    .map((v) => (v.effective ? v.name : `${v.name} (no effect here)`))
  out.push(
    `epoch ${result.epoch} (${result.epochSource}); varied: ${variations.join(', ')}; ` +
      `runs took ${result.runs.map((r) => `${r.id.toUpperCase()} ${formatDuration(r.durationMs)}`).join(', ')}`,
  )
  out.push('')
  const differing = new Map(result.differences.map((d) => [d.name, d]))
  const width = Math.max(
    8,
    ...result.artifacts.map((a) => shown(a.name).length),
    ...result.differences.map((d) => shown(d.name).length),
  )
  out.push(c.bold(`${'artifact'.padEnd(width)}  ${'size'.padStart(10)}  sha256`))
  for (const artifact of result.artifacts) {
    const mark = differing.has(artifact.name) ? c.red('≠') : c.green('=')
    out.push(
      `${shown(artifact.name).padEnd(width)}  ${String(artifact.size).padStart(10)}  ${artifact.digest.sha256} ${mark}`,
    )
  }
  for (const d of result.differences) {
    if (d.kind === 'only-in-b')
      out.push(`${shown(d.name).padEnd(width)}  ${'-'.padStart(10)}  (only in run B) ${c.red('≠')}`)
  }
  out.push('')
  if (result.reproducible) {
    out.push(c.green(`reproducible: ${result.artifacts.length} artifact(s) identical in both runs`))
    if (!result.reproducibleWithoutNormalization) {
      const touched = (result.normalization?.artifacts ?? []).filter((a) => a.raw[0] !== a.raw[1])
      out.push(
        c.yellow(
          `  only after normalization: ${touched.map((a) => shown(a.name)).join(', ')} differed in archive metadata alone`,
        ),
      )
      for (const a of touched)
        for (const change of a.changes[1])
          out.push(c.dim(`    ${shown(a.name)} (run B): ${shown(change)}`))
    }
    if (result.outDir !== null) out.push(`copied to ${result.outDir}`)
  } else {
    out.push(
      c.red(
        `NOT reproducible: ${result.differences.length} of ${countNames(result)} artifact(s) differ`,
      ),
    )
    for (const d of result.differences) {
      const [a, b] = d.digests
      out.push(`  ${shown(d.name)}`)
      out.push(`    A ${a ?? '(missing)'}${d.sizes[0] === null ? '' : `  ${d.sizes[0]} bytes`}`)
      out.push(`    B ${b ?? '(missing)'}${d.sizes[1] === null ? '' : `  ${d.sizes[1]} bytes`}`)
    }
    out.push(c.dim('nothing was copied out; use --keep to inspect both build roots'))
  }
  if (result.record !== null) out.push(`build record: ${result.record}`)
  if (result.kept !== null) out.push(`build roots kept in ${result.kept}`)
  return `${out.join('\n')}\n`
}

function excludedWarning(names: readonly string[]): string {
  const listed = names.slice(0, MAX_NAMES_IN_WARNING).map(shown).join(', ')
  const more =
    names.length > MAX_NAMES_IN_WARNING ? ` and ${names.length - MAX_NAMES_IN_WARNING} more` : ''
  return `left out of the snapshot because --out matches them (artifacts are built, never taken from the source): ${listed}${more}`
}

function countNames(result: BuildResult): number {
  return new Set([...result.artifacts.map((a) => a.name), ...result.differences.map((d) => d.name)])
    .size
}
