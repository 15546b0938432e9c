import { paint } from '../../io/paint.js'
import { describePlaces } from './binary-places.js'
import {
  looksOnScreen,
  lookAlikes,
  mixesScripts,
  posesAsAscii,
  showAlike,
  toDisplayLine,
  toDisplayText,
  toEscapedLine,
} from '../../file-names.js'
import { plural } from './plural.js'
import { notComparedText, type DiffItem, type DiffReport } from '../../diff/report.js'
import { differHeadline, isSummarized, patternPaths } from '../../diff/summarize.js'

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
  const name = namesShown(report)
  for (const item of report.items) {
    if (isSummarized(item, report.summaries)) continue
    out.push('', ...renderItem(item, c, name))
  }
  if (report.summaries.length > 0) {
    out.push('', c.bold('repeated patterns:'))
    // A pattern names the fields and members it covers: from the inputs, so escaped.
    for (const s of report.summaries)
      out.push(`  ${toDisplayText(s.description)}: ${patternPaths(s, name)}`)
  }
  for (const warning of report.warnings) out.push(c.yellow(`warning: ${toDisplayText(warning)}`))
  return `${out.join('\n')}\n`
}

/**
 * How each name of a report is shown: escaped past ASCII where it would look like
 * another name of the report (`café` composed and decomposed, an item's path, a member
 * in an order list, an example of a pattern), else as toDisplayText shows it.
 */
export function namesShown(report: DiffReport): (name: string) => string {
  const alike = lookAlikes(
    report.items.flatMap((i) => [
      i.path,
      ...(i.order === undefined ? [] : [...i.order.a, ...i.order.b]),
    ]),
  )
  return (name) =>
    alike.has(name) || mixesScripts(name) || posesAsAscii(name)
      ? toEscapedLine(name)
      : toDisplayText(name)
}

function renderItem(
  item: DiffItem,
  c: ReturnType<typeof paint>,
  name: (name: string) => string = toDisplayText,
): string[] {
  const lines: string[] = []
  const label = item.format === undefined ? '' : c.dim(` [${item.format}]`)
  // A path is a file name, which may hold control characters: shown escaped.
  lines.push(`${c.bold(name(item.path))}${label}  ${describeKind(item)}`)
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
    lines.push(
      `  A: ${item.order.a.map(name).join(', ')}`,
      `  B: ${item.order.b.map(name).join(', ')}`,
    )
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
  const looks = (line: string): string => looksOnScreen(line.slice(1))
  // The removed lines' texts, by how they look: a set, so that many equal lines cost
  // no more than one.
  const removed = new Map<string, Set<string>>()
  for (const line of raw) {
    if (!changed(line, '-')) continue
    const look = looks(line)
    const texts = removed.get(look)
    if (texts === undefined) removed.set(look, new Set([line.slice(1)]))
    else texts.add(line.slice(1))
  }
  const alike = new Set<string>()
  const escapedLooks = new Set<string>()
  for (const line of raw) {
    if (!changed(line, '+')) continue
    const look = looks(line)
    const twins = removed.get(look)
    if (twins === undefined || (twins.size === 1 && twins.has(line.slice(1)))) continue
    alike.add(line)
    if (escapedLooks.has(look)) continue
    escapedLooks.add(look)
    for (const twin of twins) alike.add(`-${twin}`)
  }
  return raw.map((line, i) => (alike.has(line) ? toEscapedLine(line) : (shown[i] ?? '')))
}
