import { showAlike, toDisplayLine, toDisplayText, toEscapedLine } from '../../file-names.js'
import { displayedLines, namesShown } from './diff-text.js'
import { plural } from './plural.js'
import { describePlaces } from './binary-places.js'
import { notComparedText, type DiffReport } from '../../diff/report.js'
import { differHeadline, isSummarized, patternPaths } from '../../diff/summarize.js'
import { describeKind } from './diff-text.js'

/** For a GitHub job summary: a table first, then collapsible details per path. */
export function renderDiffMarkdown(report: DiffReport): string {
  const out: string[] = []
  if (report.identical)
    return [
      `**Identical**: ${code(report.a)} and ${code(report.b)} (${report.stats.compared} compared${notComparedText(report)})`,
      ...report.warnings.map((w) => `> warning: ${cell(w)}`),
      '',
    ].join('\n')
  out.push(
    `### ${differHeadline(report.stats)}`,
    '',
    `A: ${code(report.a)}  `,
    `B: ${code(report.b)}`,
    '',
  )
  const shown = report.items.filter((i) => !isSummarized(i, report.summaries))
  const name = namesShown(report)
  out.push('| path | difference | likely cause |', '| --- | --- | --- |')
  for (const item of shown) {
    const causes = [...new Set(item.hints.map((h) => h.cause))].join(', ') || '—'
    out.push(
      `| ${code(name(item.path))} | ${describeKind(item)}${item.format === undefined ? '' : ` (${item.format})`} | ${causes} |`,
    )
  }
  for (const s of report.summaries)
    out.push(
      `| ${s.count} entries | ${cell(`${s.description}: ${patternPaths(s, name)}`)} | ${s.kind === 'metadata' && s.fields.includes('mtime') ? 'timestamp' : '—'} |`,
    )
  out.push('')
  for (const item of shown) {
    const body: string[] = []
    if (item.message !== undefined) body.push(cell(item.message), '')
    for (const f of item.fields ?? []) {
      // Two values that would show alike (a name renamed only in its Unicode form): escaped.
      const shown = showAlike(f.a, f.b) ? toEscapedLine : (v: string) => v
      body.push(`- ${code(f.field)}: ${code(shown(f.a))} → ${code(shown(f.b))}`)
    }
    if (item.order !== undefined)
      body.push(
        `- A order: ${item.order.a.map((n) => code(name(n))).join(', ')}`,
        `- B order: ${item.order.b.map((n) => code(name(n))).join(', ')}`,
      )
    if (item.text !== undefined)
      body.push('', '```diff', fence(displayedLines(item.text.unified).join('\n')), '```')
    if (item.binary !== undefined) {
      body.push(
        `First difference at offset ${item.binary.offset}; ${plural(item.binary.differingBytes, 'byte')} differ.`,
        '',
        '```',
        'A',
        fence(item.binary.hex[0]),
        'B',
        fence(item.binary.hex[1]),
        '```',
        ...describePlaces(item.binary).map((l) => `- ${cell(l)}`),
      )
    }
    for (const h of item.hints)
      body.push(`- **${h.cause}**: ${cell(h.evidence)}. Fix: ${cell(h.fix)}`)
    if (body.length === 0) continue
    out.push(
      '<details>',
      `<summary><code>${html(name(item.path))}</code>: ${describeKind(item)}</summary>`,
      '',
      ...body,
      '',
      '</details>',
      '',
    )
  }
  for (const w of report.warnings) out.push(`> warning: ${cell(w)}`)
  return `${out.join('\n')}\n`
}

/**
 * The report within `max` bytes (GitHub drops a job summary over 1 MiB): as many of its
 * items as fit, then the line `more` gives for how many are left out.
 */
export function fittedDiffMarkdown(
  report: DiffReport,
  max: number,
  more: (count: number) => string,
): string {
  const render = (count: number): string =>
    renderDiffMarkdown({ ...report, items: report.items.slice(0, count) })
  const whole = render(report.items.length)
  if (Buffer.byteLength(whole) <= max) return whole
  // The most items that fit, with room for the line that says how many are left out.
  const room = max - 400
  let fits = 0
  for (let lo = 0, hi = report.items.length; lo <= hi;) {
    const mid = Math.floor((lo + hi) / 2)
    if (Buffer.byteLength(render(mid)) <= room) {
      fits = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return `${render(fits)}${more(report.items.length - fits)}\n`
}

/**
 * Text for a line or a table cell: shown escaped, on one line, and inert. What a build
 * writes (a member's name, a warning) reaches a job summary, which GitHub renders with
 * HTML: a name holding `<h2>` or `[text](url)` showed a heading or a link of its own
 * choosing, a second verdict beside reproof's.
 */
export function cell(text: string): string {
  return inlineText(text.replace(/\r?\n/g, ' '))
}

/** One line of text as Markdown that renders as that text: every marker escaped. */
export function inlineText(line: string): string {
  return toDisplayText(line).replace(MARKERS, '\\$&')
}

// What Markdown reads as a marker, and the same but for what `code` writes as entities.
// `&` too: a named entity (`&ZeroWidthSpace;`) renders as the character it names. And
// what GFM's autolinks start from (`https:`, `www.`, an address's `@`): a member named
// `https://evil.example/login` or `admin@evil.example` became a link of its choosing
// (an escaped character is a text of its own, which no autolink reads across).
const MARKERS = /[\\`*_{}[\]<>()#+!|~&.:@]/g
const MARKERS_BUT_ANGLES = /[\\`*_{}[\]()#+!|~.:@]/g

/**
 * Text shown as code, as an HTML element: a code span's backticks let a tag that
 * straddles them (`<a title="` and `">` on either side) take precedence. Inside `<code>`
 * Markdown is still read (an emphasis could open in one element and close in the next):
 * its markers are escaped as in `cell`, and `<`, `>` and `&` are entities.
 */
export function code(text: string): string {
  return `<code>${html(text).replace(MARKERS_BUT_ANGLES, '\\$&')}</code>`
}

function fence(text: string): string {
  return text.split('\n').map(toDisplayLine).join('\n').replace(/```/g, '`\u200b``')
}

function html(text: string): string {
  return toDisplayText(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
