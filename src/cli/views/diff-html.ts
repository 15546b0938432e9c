import { showAlike, toDisplayText, toEscapedLine } from '../../file-names.js'
import { plural } from './plural.js'
import { describePlaces } from './binary-places.js'
import { notComparedText, type DiffItem, type DiffReport } from '../../diff/report.js'
import { differHeadline, isSummarized, patternPaths } from '../../diff/summarize.js'
import { describeKind, displayedLines, namesShown } from './diff-text.js'

/**
 * A self-contained page (no scripts, fonts or images from anywhere): a summary table,
 * then each difference with its content side by side and its likely causes.
 */
export function renderDiffHtml(report: DiffReport): string {
  const shown = report.items.filter((i) => !isSummarized(i, report.summaries))
  const name = namesShown(report)
  const rows = shown
    .map(
      (item, i) =>
        `<tr><td><a href="#d${i}"><code>${esc(name(item.path))}</code></a></td><td>${esc(describeKind(item))}${item.format === undefined ? '' : ` <span class="fmt">${esc(item.format)}</span>`}</td><td>${item.hints.map((h) => `<span class="cause">${esc(h.cause)}</span>`).join(' ')}</td></tr>`,
    )
    .join('\n')
  const patterns = report.summaries
    .map(
      (s) =>
        `<li>${esc(s.description)}: <span class="dim">${esc(patternPaths(s, name))}</span></li>`,
    )
    .join('\n')
  const sections = shown.map((item, i) => section(item, i, name)).join('\n')
  const verdict = report.identical
    ? `<p class="same">Identical (${report.stats.compared} compared${esc(notComparedText(report))}).</p>`
    : `<p class="differ">${differHeadline(report.stats)}.</p>`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>reproof diff: ${esc(report.a)} vs ${esc(report.b)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem; color: #1b1f24; background: #fff; }
h1 { font-size: 1.3rem; } h2 { font-size: 1rem; margin-top: 2rem; word-break: break-all; }
code, pre, td.code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
table { border-collapse: collapse; } td, th { border: 1px solid #d0d7de; padding: 2px 8px; vertical-align: top; text-align: left; }
.same { color: #1a7f37; font-weight: 600; } .differ { color: #cf222e; font-weight: 600; }
.fmt, .dim { color: #57606a; } .cause { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 3px; padding: 0 4px; }
table.side { width: 100%; table-layout: fixed; } table.side td { white-space: pre-wrap; word-break: break-all; border: none; border-right: 1px solid #d0d7de; }
td.del { background: #ffebe9; } td.add { background: #e6ffec; } td.gap { background: #f6f8fa; color: #57606a; }
.hint { margin: .3rem 0; } .fix { color: #57606a; }
</style>
</head>
<body>
<h1>reproof diff</h1>
<p>A: <code>${esc(report.a)}</code><br>B: <code>${esc(report.b)}</code></p>
${verdict}
${shown.length === 0 ? '' : `<table><tr><th>path</th><th>difference</th><th>likely cause</th></tr>\n${rows}\n</table>`}
${patterns === '' ? '' : `<h2>Repeated patterns</h2><ul>${patterns}</ul>`}
${sections}
${report.warnings.map((w) => `<p class="dim">warning: ${esc(w)}</p>`).join('\n')}
</body>
</html>
`
}

function section(item: DiffItem, i: number, name: (name: string) => string): string {
  const parts: string[] = [
    `<h2 id="d${i}"><code>${esc(name(item.path))}</code> <span class="fmt">${esc(describeKind(item))}</span></h2>`,
  ]
  if (item.message !== undefined) parts.push(`<p>${esc(item.message)}</p>`)
  if (item.fields !== undefined && item.fields.length > 0) {
    parts.push(
      `<table><tr><th>field</th><th>A</th><th>B</th></tr>${item.fields.map((f) => `<tr><td>${esc(f.field)}</td><td class="del"><code>${esc(alikeEscaped(f.a, f.b))}</code></td><td class="add"><code>${esc(alikeEscaped(f.b, f.a))}</code></td></tr>`).join('')}</table>`,
    )
  }
  const order = item.order
  if (order !== undefined) {
    parts.push(
      sideBySide(
        Array.from({ length: Math.max(order.a.length, order.b.length) }, (_, k) => {
          const [a, b] = [order.a[k], order.b[k]]
          return {
            a: a === undefined ? undefined : name(a),
            b: b === undefined ? undefined : name(b),
            cls: 'del',
          }
        }),
      ),
    )
  }
  if (item.text !== undefined)
    parts.push(
      // As the terminal shows them: a removed and an added line that would look alike
      // (`é` composed and decomposed) escaped, so that the two cells differ.
      sideBySide(toRows(displayedLines(item.text.unified))),
      item.text.truncated ? '<p class="dim">… more lines (raise --max-lines)</p>' : '',
    )
  if (item.binary !== undefined) {
    parts.push(
      `<p>First difference at offset ${item.binary.offset} (0x${item.binary.offset.toString(16)}); ${plural(item.binary.differingBytes, 'byte')} differ.</p>`,
    )
    // A row a line of each dump (a cell escapes a line break, as a file's text needs).
    const [dumpA, dumpB] = item.binary.hex.map((dump) => dump.split('\n'))
    parts.push(
      sideBySide(
        Array.from({ length: Math.max(dumpA?.length ?? 0, dumpB?.length ?? 0) }, (_, k) => {
          const [a, b] = [dumpA?.[k], dumpB?.[k]]
          return { a, b, cls: a === b ? 'same' : 'del' }
        }),
      ),
    )
    const places = describePlaces(item.binary)
    if (places.length > 0)
      parts.push(`<ul class="places">${places.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`)
  }
  for (const h of item.hints)
    parts.push(
      `<p class="hint"><span class="cause">${esc(h.cause)}</span> ${esc(h.evidence)}<br><span class="fix">fix: ${esc(h.fix)}</span></p>`,
    )
  return parts.join('\n')
}

interface Row {
  a: string | undefined
  b: string | undefined
  cls: 'same' | 'del' | 'gap'
}

/** Pairs removed and added lines of each hunk row by row, context lines on both sides. */
function toRows(lines: readonly string[]): Row[] {
  const rows: Row[] = []
  let removed: string[] = []
  let added: string[] = []
  const flush = (): void => {
    for (let k = 0; k < Math.max(removed.length, added.length); k++)
      rows.push({ a: removed[k], b: added[k], cls: 'del' })
    removed = []
    added = []
  }
  for (const line of lines.slice(2)) {
    if (line.startsWith('@@')) {
      flush()
      rows.push({ a: line, b: line, cls: 'gap' })
    } else if (line.startsWith('-')) removed.push(line.slice(1))
    else if (line.startsWith('+')) added.push(line.slice(1))
    else {
      flush()
      rows.push({ a: line.slice(1), b: line.slice(1), cls: 'same' })
    }
  }
  flush()
  return rows
}

function sideBySide(
  rows: readonly { a: string | undefined; b: string | undefined; cls: string }[],
): string {
  const cell = (text: string | undefined, cls: string, side: 'del' | 'add'): string =>
    `<td class="code ${cls === 'del' && text !== undefined ? side : cls === 'gap' ? 'gap' : ''}">${esc(text ?? '')}</td>`
  return `<table class="side"><tr><th>A</th><th>B</th></tr>${rows.map((r) => `<tr>${cell(r.a, r.cls, 'del')}${cell(r.b, r.cls, 'add')}</tr>`).join('')}</table>`
}

/** Text from the inputs as HTML: control characters escaped as in a terminal, tabs kept. */
function esc(text: string): string {
  return text
    .split('\t')
    .map(toDisplayText)
    .join('\t')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
}

/** A value shown escaped past ASCII where it would look like the other side's. */
function alikeEscaped(value: string, other: string): string {
  return showAlike(value, other) ? toEscapedLine(value) : value
}
