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
  const differingAt = new Map(changed.map((i) => [normalPath(i.path), i]))
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
    const lines = changedLines(item.text.unified)
    const listed = lines.map((l) => listedName(l.text))
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
    // The item of the file a name lists, where that file differs.
    const itemOf = (n: string): DiffItem | undefined => {
      if (/(^|\/)RECORD$/.test(levels.at(-1) ?? '') && levels.length >= 2)
        return differingAt.get(normalPath(`${levels.slice(0, -1).join('!')}!${n}`))
      if (/(^|\/)md5sums$/.test(levels.at(-1) ?? '') && levels.length >= 2) {
        // The package: where the control archive is (`x.deb!`, or a directory of both).
        const control = levels.at(-2) ?? ''
        const outer = levels.slice(0, -2).join('!')
        const deb = `${outer}${outer === '' ? '' : '!'}${control.slice(0, control.lastIndexOf('/') + 1)}`
        return changed.find(
          (i) =>
            i.path.startsWith(deb) &&
            i.path.split('!').length === levels.length &&
            plainName(i.path) === n,
        )
      }
      return differingAt.get(normalPath(`${dir}${n}`))
    }
    const listedItems = new Map(names.map((n) => [n, itemOf(n)]))
    if ([...listedItems.values()].includes(undefined)) return item
    // A file on both sides keeps its line on both: one removed and not added back (or
    // added where none was) is the list dropping or adding a file, not following it.
    // Only a file on one side is listed on that side only.
    for (const [n, listedItem] of listedItems) {
      const sides = new Set(lines.filter((_, k) => listed[k] === n).map((l) => l.side))
      const want =
        listedItem?.kind === 'only-in-a'
          ? ['-']
          : listedItem?.kind === 'only-in-b'
            ? ['+']
            : ['-', '+']
      if (sides.size !== want.length || want.some((w) => !sides.has(w as '-' | '+'))) return item
    }
    // A SHA-256 in a changed line must be the one of the file it lists, on its side: a
    // list whose line is wrong (zeros, a stale sum) is not the files' doing. Other
    // algorithms (md5sums) cannot be checked against what the diff hashes.
    let unchecked = 0
    for (const [k, line] of lines.entries()) {
      const digests = ownDigests(listedItems.get(listed[k] ?? ''))
      const sum = sha256Of(line.text)
      // A SHA-256 is checked or the hint is not given: a file with no digest to hold it
      // against (on one side only, a container) leaves a made-up sum unexplained.
      if (sum === undefined) unchecked++
      else if (digests?.[line.side === '-' ? 0 : 1] !== sum) return item
    }
    const hint: Hint = {
      cause: 'derived',
      evidence: `every changed line is the checksum of a file that differs itself${unchecked === 0 ? ', and is that file’s SHA-256' : ` (${unchecked === lines.length ? 'the sums are not SHA-256 and were not checked' : `${unchecked} of ${lines.length} lines not checked: not SHA-256`})`}: ${firstFew(names, 3)}`,
      fix: 'nothing to fix here: the list follows the files it lists; fix those',
    }
    return { ...item, hints: [hint] }
  })
}

/**
 * The digests of the file an item is of, as a list sums it: none for a compressed file,
 * whose item holds its decompressed content's (a list giving that for `foo.gz` is wrong
 * about the file, and was called derived).
 */
function ownDigests(item: DiffItem | undefined): DiffItem['digests'] {
  return /\.(?:gz|bz2|xz|zst)$/.test(item?.format ?? '') ? undefined : item?.digests
}

/**
 * The lines a unified diff removes (`-`, side A) or adds (`+`, side B): those of its
 * hunks, after the first `@@`. Its two header lines are not; an added line that itself
 * begins `++ ` (`+++ curl … | sh` in the diff) is, which a filter on `+++ ` dropped.
 */
function changedLines(unified: string): { side: '-' | '+'; text: string }[] {
  const lines = unified.split('\n')
  const hunks = lines.findIndex((l) => l.startsWith('@@'))
  return lines
    .slice(hunks === -1 ? 0 : hunks)
    .filter((l) => /^[-+]/.test(l))
    .map((l) => ({ side: l.startsWith('-') ? '-' : '+', text: l.slice(1) }))
}

/** The SHA-256 a checksum line gives, in hex: 64 hex digits, or a RECORD's `sha256=` in base64url. */
function sha256Of(line: string): string | undefined {
  const sums = /^([0-9a-fA-F]{64}) [ *]/.exec(line)
  if (sums?.[1] !== undefined) return sums[1].toLowerCase()
  const record = /,sha256=([A-Za-z0-9_-]{43}),[0-9]*$/.exec(line)
  if (record?.[1] !== undefined) return Buffer.from(record[1], 'base64url').toString('hex')
  return undefined
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
