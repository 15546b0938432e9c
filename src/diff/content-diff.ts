import { toDisplayText } from '../file-names.js'

// Myers diff is quadratic in the worst case; past these it is not worth waiting for.
const MAX_TEXT_DIFF_BYTES = 4 * 1024 * 1024
const TEXT_DIFF_TIMEOUT_MS = 2000

export interface TextDiff {
  unified: string
  truncated: boolean
  removed: string[]
  added: string[]
}

/** A unified diff limited to `maxLines` lines, and the changed lines for the hints. */
export async function diffText(
  a: string,
  b: string,
  labels: [string, string],
  maxLines: number,
): Promise<TextDiff | undefined> {
  if (a.length + b.length > MAX_TEXT_DIFF_BYTES) return undefined
  const { structuredPatch } = await import('diff')
  const patch = structuredPatch(labels[0], labels[1], a, b, '', '', {
    context: 3,
    timeout: TEXT_DIFF_TIMEOUT_MS,
  })
  if (patch === undefined) return undefined
  // A label is a name: one that is not UTF-8 shows its bytes as \xNN, as everywhere.
  const lines = [`--- ${toDisplayText(labels[0])}`, `+++ ${toDisplayText(labels[1])}`]
  const removed: string[] = []
  const added: string[] = []
  for (const hunk of patch.hunks) {
    lines.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`)
    for (const line of hunk.lines) {
      lines.push(line)
      if (line.startsWith('-')) removed.push(line.slice(1))
      else if (line.startsWith('+')) added.push(line.slice(1))
    }
  }
  const truncated = lines.length > maxLines
  return { unified: lines.slice(0, maxLines).join('\n'), truncated, removed, added }
}

export interface BinaryDiff {
  offset: number
  differingBytes: number
  hex: [string, string]
  /** Up to 64 [start, end) ranges of differing bytes, for the hints. */
  ranges: [number, number][]
}

/** First differing offset, the count of differing bytes, and a hex dump around the first one. */
export function diffBinary(a: Buffer, b: Buffer): BinaryDiff {
  const common = Math.min(a.length, b.length)
  let offset = -1
  let differing = Math.abs(a.length - b.length)
  const ranges: [number, number][] = []
  let start = -1
  for (let i = 0; i < common; i++) {
    if (a[i] !== b[i]) {
      differing++
      if (offset === -1) offset = i
      if (start === -1) start = i
    } else if (start !== -1) {
      if (ranges.length < 64) ranges.push([start, i])
      start = -1
    }
  }
  if (start !== -1 && ranges.length < 64) ranges.push([start, common])
  if (offset === -1) offset = common
  if (a.length !== b.length && ranges.length < 64)
    ranges.push([common, Math.max(a.length, b.length)])
  const from = Math.max(0, (offset & ~0xf) - 16)
  return {
    offset,
    differingBytes: differing,
    hex: [hexDump(a, from, 64), hexDump(b, from, 64)],
    ranges,
  }
}

export function hexDump(bytes: Buffer, from: number, length: number): string {
  const lines: string[] = []
  for (let at = from; at < Math.min(bytes.length, from + length); at += 16) {
    const row = bytes.subarray(at, Math.min(at + 16, bytes.length))
    const hex = [...row].map((x) => x.toString(16).padStart(2, '0')).join(' ')
    const ascii = [...row]
      .map((x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.'))
      .join('')
    lines.push(`${at.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${ascii}|`)
  }
  return lines.length === 0 ? '(no bytes here)' : lines.join('\n')
}
