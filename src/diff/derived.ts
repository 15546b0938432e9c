import { withoutDotParts } from '../file-names.js'
import type { DiffItem, Hint } from './report.js'
import { firstFew } from '../first-few.js'

/**
 * Checksum lists (md5sums, SHA256SUMS, a wheel's RECORD) change whenever a file they
 * list changes: such a list is not a cause of its own. A text item whose every changed
 * line is a checksum line for a file that itself differs in this report gets the hint
 * `derived` in place of `unexplained`. Pure; the items are returned, changed or not.
 */
export function markDerived(items: readonly DiffItem[]): DiffItem[] {
  const changed = items.filter(
    (i) => i.kind !== 'metadata' && i.kind !== 'order' && i.kind !== 'error',
  )
  const differingAt = new Set(changed.map((i) => normalPath(i.path)))
  return items.map((item) => {
    if (
      item.kind !== 'content' ||
      item.text === undefined ||
      item.text.truncated ||
      item.hints.length !== 1 ||
      item.hints[0]?.cause !== 'unexplained'
    )
      return item
    const own = plainName(item.path)
    const listed = changedLines(item.text.unified).map(listedName)
    if (listed.length === 0 || listed.some((n) => n === undefined || n === own)) return item
    const names = [...new Set(listed as string[])]
    // A wheel's RECORD names files from the wheel's root, a .deb's md5sums from its
    // data archive's root (the list is in control.tar.*, beside it): matched there, in
    // the same package, never in another archive that happens to hold a file of that
    // name. Any other list (SHA256SUMS, foo.sha256, an md5sums outside a package) names
    // them from its own directory: `x` in `sub/SHA256SUMS` is `sub/x`.
    const levels = item.path.split('!')
    const dir = item.path.slice(
      0,
      Math.max(item.path.lastIndexOf('/'), item.path.lastIndexOf('!')) + 1,
    )
    const differs = (n: string): boolean => {
      if (/(^|\/)RECORD$/.test(levels.at(-1) ?? '') && levels.length >= 2)
        return differingAt.has(normalPath(`${levels.slice(0, -1).join('!')}!${n}`))
      if (/(^|\/)md5sums$/.test(levels.at(-1) ?? '') && levels.length >= 2) {
        // The package: where the control archive is (`x.deb!`, or a directory of both).
        const control = levels.at(-2) ?? ''
        const outer = levels.slice(0, -2).join('!')
        const deb = `${outer}${outer === '' ? '' : '!'}${control.slice(0, control.lastIndexOf('/') + 1)}`
        return changed.some(
          (i) =>
            i.path.startsWith(deb) &&
            i.path.split('!').length === levels.length &&
            plainName(i.path) === n,
        )
      }
      return differingAt.has(normalPath(`${dir}${n}`))
    }
    if (!names.every(differs)) return item
    const hint: Hint = {
      cause: 'derived',
      evidence: `every changed line is the checksum of a file that differs itself: ${firstFew(names, 3)}`,
      fix: 'nothing to fix here: the list follows the files it lists; fix those',
    }
    return { ...item, hints: [hint] }
  })
}

/** The lines a unified diff removes or adds, without its two header lines. */
function changedLines(unified: string): string[] {
  return unified
    .split('\n')
    .filter((l) => /^[-+]/.test(l) && !l.startsWith('--- ') && !l.startsWith('+++ '))
    .map((l) => l.slice(1))
}

/**
 * The file a checksum line lists: `<hex digest>  <name>` (md5sum, sha256sum, the `*`
 * of binary mode too) or `<name>,sha256=<base64url>,<size>` (a wheel's RECORD).
 */
function listedName(line: string): string | undefined {
  const sums = /^[0-9a-fA-F]{32,128} [ *](.+)$/.exec(line)
  if (sums?.[1] !== undefined) return plainName(sums[1])
  const record = /^(.+),sha(?:256|384|512)=[A-Za-z0-9_-]+,[0-9]*$/.exec(line)
  if (record?.[1] !== undefined) return plainName(record[1])
  return undefined
}

/** A path as lists name it: the innermost member's name, without `./` or a leading `/`. */
function plainName(p: string): string {
  const inner = p.slice(p.lastIndexOf('!') + 1)
  return inner.replace(/^(?:\.\/|\/)+/, '')
}

/** A path with its `.` and empty parts left out, in each archive it passes through. */
function normalPath(p: string): string {
  return p.split('!').map(withoutDotParts).join('!')
}
