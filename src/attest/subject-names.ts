import { firstFew } from '../first-few.js'
import {
  lookAlikes,
  mixesScripts,
  posesAsAscii,
  toDisplayText,
  toEscapedLine,
} from '../file-names.js'

/**
 * Subject names as a person reads them: escaped where two would look alike (`é` composed
 * and decomposed) or a name mixes scripts (`pаyload` with a Cyrillic а), so that two
 * subjects never show as one name with two digests.
 */
export function subjectNamesShown(names: readonly string[]): (name: string) => string {
  const alike = lookAlikes(names)
  return (name) =>
    alike.has(name) || mixesScripts(name) || posesAsAscii(name)
      ? toEscapedLine(name)
      : toDisplayText(name)
}

/**
 * Subjects that are one file where case or Unicode normalization is ignored (macOS's and
 * Windows' file systems): signed apart, but a verifier there holds one file for both,
 * and its digest matches one subject at most. Said, not refused: a Linux build may write
 * both. Pure.
 */
export function subjectNameWarnings(names: readonly string[]): string[] {
  const byFold = new Map<string, string[]>()
  for (const name of names) {
    const fold = name.normalize('NFD').toLowerCase().normalize('NFC')
    byFold.set(fold, [...(byFold.get(fold) ?? []), name])
  }
  const shown = subjectNamesShown(names)
  return [...byFold.values()]
    .filter((group) => group.length > 1)
    .map(
      (group) =>
        `subjects ${firstFew(group.map(shown), 3)} are one name where case or Unicode normalization is ignored (macOS, Windows): a verifier there has one file for them`,
    )
}
