import { toDisplayLine, toDisplayText } from '../../file-names.js'
import { plural } from './plural.js'
import { describePlaces } from './binary-places.js'
import { notComparedText, type DiffReport } from '../../diff/report.js'
import { differHeadline, isSummarized } from '../../diff/summarize.js'
import { describeKind } from './diff-text.js'

/** For a GitHub job summary: a table first, then collapsible details per path. */
export function renderDiffMarkdown(report: DiffReport): string {
  const out: string[] = []
  if (report.identical)
    return [
      `**Identical**: \`${cell(report.a)}\` and \`${cell(report.b)}\` (${report.stats.compared} compared${notComparedText(report)})`,
      ...report.warnings.map((w) => `> warning: ${cell(w)}`),
      '',
    ].join('\n')
  out.push(
    `### ${differHeadline(report.stats)}`,
    '',
    `A: \`${cell(report.a)}\`  `,
    `B: \`${cell(report.b)}\``,
    '',
  )
  const shown = report.items.filter((i) => !isSummarized(i, report.summaries))
  out.push('| path | difference | likely cause |', '| --- | --- | --- |')
  for (const item of shown) {
    const causes = [...new Set(item.hints.map((h) => h.cause))].join(', ') || '—'
    out.push(
      `| \`${cell(item.path)}\` | ${describeKind(item)}${item.format === undefined ? '' : ` (${item.format})`} | ${causes} |`,
    )
  }
  for (const s of report.summaries)
    out.push(
      `| ${s.count} entries | ${cell(s.description)} | ${s.kind === 'metadata' && s.fields.includes('mtime') ? 'timestamp' : '—'} |`,
    )
  out.push('')
  for (const item of shown) {
    const body: string[] = []
    if (item.message !== undefined) body.push(cell(item.message), '')
    for (const f of item.fields ?? [])
      body.push(`- \`${cell(f.field)}\`: \`${cell(f.a)}\` → \`${cell(f.b)}\``)
    if (item.order !== undefined)
      body.push(
        `- A order: ${item.order.a.map((n) => `\`${cell(n)}\``).join(', ')}`,
        `- B order: ${item.order.b.map((n) => `\`${cell(n)}\``).join(', ')}`,
      )
    if (item.text !== undefined) body.push('', '```diff', fence(item.text.unified), '```')
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
      `<summary><code>${html(item.path)}</code>: ${describeKind(item)}</summary>`,
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

/** Text for a table cell or a code span: shown escaped, no pipe, backtick or line break. */
export function cell(text: string): string {
  return toDisplayText(text).replace(/\|/g, '\\|').replace(/`/g, "'").replace(/\n/g, ' ')
}

function fence(text: string): string {
  return text.split('\n').map(toDisplayLine).join('\n').replace(/```/g, '`\u200b``')
}

function html(text: string): string {
  return toDisplayText(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
