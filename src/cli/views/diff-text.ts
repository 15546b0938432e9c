import { paint } from '../../io/paint.js'
import { describePlaces } from './binary-places.js'
import {
  looksOnScreen,
  showAlike,
  toDisplayLine,
  toDisplayText,
  toEscapedLine,
} from '../../file-names.js'
import { plural } from './plural.js'
import { notComparedText, type DiffItem, type DiffReport } from '../../diff/report.js'
import { differHeadline, isSummarized } from '../../diff/summarize.js'

/** The terminal view: one block per differing path, patterns summarized, causes last. */
export function renderDiffText(report: DiffReport, color: boolean): string {
  const c = paint(color)
  const out: string[] = []
  const [a, b] = [toDisplayText(report.a), toDisplayText(report.b)]
  if (report.identical) {
    out.push(
      c.green(
        `identical: ${a} and ${b} (${report.stats.compared} compared${notComparedText(report)})`,
      ),
    )
    for (const warning of report.warnings) out.push(c.yellow(`warning: ${toDisplayText(warning)}`))
    return `${out.join('\n')}\n`
  }
  out.push(c.bold(`${differHeadline(report.stats)}: A = ${a}, B = ${b}`))
  const escaped = lookAlikePaths(report.items)
  for (const item of report.items) {
    if (isSummarized(item, report.summaries)) continue
    out.push('', ...renderItem(item, c, escaped.has(item.path)))
  }
  if (report.summaries.length > 0) {
    out.push('', c.bold('repeated patterns:'))
    // A pattern names the fields and members it covers: from the inputs, so escaped.
    for (const s of report.summaries)
      out.push(`  ${toDisplayText(s.description)} (e.g. ${toDisplayText(s.examples.join(', '))})`)
  }
  for (const warning of report.warnings) out.push(c.yellow(`warning: ${toDisplayText(warning)}`))
  return `${out.join('\n')}\n`
}

/**
 * The paths of the items only in A and only in B that would show alike (`café` composed
 * in one tree, decomposed in the other): shown with everything past ASCII escaped.
 */
function lookAlikePaths(items: readonly DiffItem[]): Set<string> {
  const onlyA = new Map<string, string[]>()
  for (const item of items)
    if (item.kind === 'only-in-a')
      onlyA.set(looksOnScreen(item.path), [
        ...(onlyA.get(looksOnScreen(item.path)) ?? []),
        item.path,
      ])
  const out = new Set<string>()
  for (const item of items) {
    if (item.kind !== 'only-in-b') continue
    const twins = (onlyA.get(looksOnScreen(item.path)) ?? []).filter((p) => p !== item.path)
    if (twins.length === 0) continue
    out.add(item.path)
    for (const twin of twins) out.add(twin)
  }
  return out
}

function renderItem(item: DiffItem, c: ReturnType<typeof paint>, escape = false): string[] {
  const lines: string[] = []
  const label = item.format === undefined ? '' : c.dim(` [${item.format}]`)
  // A path is a file name, which may hold control characters: shown escaped.
  const path = escape ? toEscapedLine(item.path) : toDisplayText(item.path)
  lines.push(`${c.bold(path)}${label}  ${describeKind(item)}`)
  // So may a message, a field (a link target, an archive's comment, an owner's name) and
  // the members named in an order: all come from the inputs.
  const t = toDisplayText
  if (item.message !== undefined) lines.push(`  ${t(item.message)}`)
  for (const f of item.fields ?? []) {
    // Two values that would show alike (a name renamed only in its Unicode form).
    const shown = showAlike(f.a, f.b) ? toEscapedLine : t
    lines.push(`  ${t(f.field)}: ${c.red(shown(f.a))} → ${c.green(shown(f.b))}`)
  }
  if (item.order !== undefined) {
    lines.push(`  A: ${t(item.order.a.join(', '))}`, `  B: ${t(item.order.b.join(', '))}`)
  }
  if (item.text !== undefined) {
    // A file's own text may hold escape sequences: shown, never sent to the terminal.
    for (const line of displayedLines(item.text.unified)) {
      lines.push(
        `  ${line.startsWith('-') && !line.startsWith('---') ? c.red(line) : line.startsWith('+') && !line.startsWith('+++') ? c.green(line) : line}`,
      )
    }
    if (item.text.truncated) lines.push(c.dim('  … (more lines: raise --max-lines)'))
  }
  if (item.binary !== undefined) {
    lines.push(
      `  first difference at offset ${item.binary.offset} (0x${item.binary.offset.toString(16)}); ${plural(item.binary.differingBytes, 'byte')} differ`,
    )
    lines.push(
      ...item.binary.hex[0].split('\n').map((l) => `  A ${l}`),
      ...item.binary.hex[1].split('\n').map((l) => `  B ${l}`),
      // Section and symbol names come from the file.
      ...describePlaces(item.binary).map((l) => `  ${t(l)}`),
    )
  }
  // Evidence quotes the inputs (the two paths, an owner's name, the members out of order).
  for (const hint of item.hints) {
    lines.push(
      `  ${c.yellow(`cause: ${hint.cause}`)} — ${t(hint.evidence)}`,
      `    fix: ${t(hint.fix)}`,
    )
  }
  return lines
}

export function describeKind(item: DiffItem): string {
  switch (item.kind) {
    case 'content':
      // Its fields (if any) here; its differing members, if any, are items of their own.
      return item.nested === true ? 'archive differs' : 'content differs'
    case 'metadata':
      return 'metadata differs'
    case 'only-in-a':
      return 'only in A'
    case 'only-in-b':
      return 'only in B'
    case 'type':
      return 'type differs'
    case 'order':
      return 'entry order differs'
    case 'error':
      return 'could not be compared'
  }
}

/**
 * A unified diff's lines as shown: each made safe for a terminal, and a removed and an
 * added line that would then look the same (apart only by Unicode normalization, or a
 * character that shows as nothing) with everything past ASCII escaped in both.
 */
export function displayedLines(unified: string): string[] {
  const raw = unified.split('\n')
  const shown = raw.map(toDisplayLine)
  const changed = (line: string, sign: string): boolean =>
    line.startsWith(sign) && !line.startsWith(sign.repeat(3))
  // How a line looks: composed and decomposed forms alike.
  const looks = (line: string): string => line.slice(1).normalize('NFC')
  const removed = new Map<string, string[]>()
  raw.forEach((line, i) => {
    if (!changed(line, '-')) return
    const body = looks(shown[i] ?? '')
    removed.set(body, [...(removed.get(body) ?? []), line])
  })
  const alike = new Set<string>()
  raw.forEach((line, i) => {
    if (!changed(line, '+')) return
    const twins = removed.get(looks(shown[i] ?? '')) ?? []
    if (twins.some((twin) => twin.slice(1) !== line.slice(1))) {
      alike.add(line)
      for (const twin of twins) alike.add(twin)
    }
  })
  return raw.map((line, i) => (alike.has(line) ? toEscapedLine(line) : (shown[i] ?? '')))
}
