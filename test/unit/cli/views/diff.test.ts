import fc from 'fast-check'
import MarkdownIt from 'markdown-it'
import { describe, expect, it } from 'vitest'
import type { DiffReport } from '../../../../src/diff/report.js'
import { renderDiffHtml } from '../../../../src/cli/views/diff-html.js'
import { fittedDiffMarkdown, renderDiffMarkdown } from '../../../../src/cli/views/diff-markdown.js'
import { displayedLines, renderDiffText } from '../../../../src/cli/views/diff-text.js'
import { looksOnScreen, mixesScripts, toEscapedLine } from '../../../../src/file-names.js'

/** A report whose every string came from a hostile archive. */
function hostile(text: string): DiffReport {
  return {
    identical: false,
    a: `a${text}`,
    b: `b${text}`,
    items: [
      {
        path: 'z.txt',
        kind: 'content',
        text: {
          unified: `--- a/z\n+++ b/z\n@@ -1 +1 @@\n-l${text}\n+m${text}\tend`,
          truncated: false,
        },
        hints: [],
      },
      {
        path: `x${text}`,
        kind: 'metadata',
        fields: [{ field: `f${text}`, a: `a${text}`, b: `b${text}` }],
        message: `m${text}`,
        hints: [],
      },
      {
        path: 'y.zip',
        kind: 'order',
        order: { a: [`o${text}`], b: ['p'] },
        hints: [],
      },
    ],
    summaries: [],
    warnings: [`w${text}`],
    stats: { compared: 2, differing: 2 },
    notCompared: [],
  }
}

// What a terminal acts on: C0 and C1 controls and DEL (tabs aside), and NUL.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/

describe('the diff views', () => {
  it('show no control character from the inputs: names, fields, messages, orders, warnings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const report = hostile(text)
        expect(renderDiffText(report, false)).not.toMatch(CONTROL)
        expect(renderDiffMarkdown(report)).not.toMatch(CONTROL)
        expect(renderDiffHtml(report)).not.toMatch(CONTROL)
      }),
    )
  })

  it('show the warnings of an identical report, and its labels escaped', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const report = { ...hostile(text), identical: true, items: [] }
        for (const view of [renderDiffText(report, false), renderDiffMarkdown(report)]) {
          expect(view).not.toMatch(CONTROL)
          expect(view).toContain('warning: w')
        }
      }),
    )
  })

  it('render as Markdown with no element the inputs chose: names, fields, messages and warnings stay text', () => {
    // GitHub renders a job summary with HTML allowed, and its autolinks: a member named
    // `<h2>...`, `[text](url)` or `https://evil.example/login` showed a heading or a link
    // of its own beside the verdict.
    const md = new MarkdownIt({ html: true, linkify: true })
    const tags = (markdown: string) =>
      [...md.render(markdown).matchAll(/<\/?([a-zA-Z][\w-]*)/g)].map((m) => m[1]).join(' ')
    const shape = tags(renderDiffMarkdown(hostile('plain')))
    const piece = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 8 }),
      fc.constantFrom(
        '<h2>reproducible</h2>',
        '[download](https://evil.example)',
        '![i](https://evil.example/i.png)',
        '<a href="https://evil.example">',
        '<details><summary>x',
        '<!--',
        '`',
        '``',
        '"',
        '*',
        '_',
        '#',
        '|',
        '\\',
        '&lt;h1&gt;',
        '&#60;b&#62;',
        '<https://evil.example>',
        'https://evil.example/login',
        'www.evil.com',
        'admin@evil.com',
        'mailto:admin@evil.com',
        '\n# heading\n',
        '\n---\n',
      ),
    )
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 6 }), (pieces) => {
        expect(tags(renderDiffMarkdown(hostile(pieces.join(''))))).toBe(shape)
      }),
      { numRuns: 300 },
    )
  })

  it('keeps a Markdown report under what a job summary holds, saying how many differences it leaves out', () => {
    const item = (i: number): DiffReport['items'][number] => ({
      path: `f${i}.txt`,
      kind: 'content',
      text: {
        unified: `--- a/f\n+++ b/f\n@@ -1 +1 @@\n-${'a'.repeat(4000)}\n+${'b'.repeat(4000)}`,
        truncated: false,
      },
      hints: [],
    })
    const report: DiffReport = {
      ...hostile(''),
      items: Array.from({ length: 600 }, (_, i) => item(i)),
    }
    const max = 1000 * 1024
    expect(Buffer.byteLength(renderDiffMarkdown(report))).toBeGreaterThan(max)
    const fitted = fittedDiffMarkdown(report, max, (more) => `MORE ${more}`)
    expect(Buffer.byteLength(fitted)).toBeLessThanOrEqual(max)
    const shown = (fitted.match(/<summary>/g) ?? []).length
    expect(shown).toBeGreaterThan(100)
    expect(fitted.trimEnd().endsWith(`MORE ${600 - shown}`)).toBe(true)
    // What fits is left whole.
    const small = { ...report, items: report.items.slice(0, 3) }
    expect(fittedDiffMarkdown(small, max, () => 'MORE')).toBe(renderDiffMarkdown(small))
  })

  it('renders a named entity in a name or warning as the text it is, not the character it names', () => {
    const md = new MarkdownIt({ html: true })
    const rendered = md.render(
      renderDiffMarkdown(hostile('../&ZeroWidthSpace;etc&shy;/&rlm;passwd')),
    )
    expect(rendered).not.toMatch(/[\u200b\u00ad\u200f]/)
    expect(rendered).toContain('&amp;ZeroWidthSpace;')
  })

  it('shows two lines that would look alike apart in HTML, as on the terminal', () => {
    const report: DiffReport = {
      ...hostile(''),
      items: [
        {
          path: 'conf',
          kind: 'content',
          text: {
            unified: '--- a/conf\n+++ b/conf\n@@ -1 +1 @@\n-user=caf\u00e9\n+user=cafe\u0301',
            truncated: false,
          },
          hints: [],
        },
      ],
    }
    const html = renderDiffHtml(report)
    expect(html).toContain('user=caf\\u{e9}')
    expect(html).toContain('user=cafe\\u{301}')
  })

  it('shows a hex dump in HTML a line a row, the lines that differ marked', () => {
    const line = (offset: string, bytes: string): string => `${offset}  ${bytes}`
    const report: DiffReport = {
      ...hostile(''),
      items: [
        {
          path: 'app.bin',
          kind: 'content',
          binary: {
            offset: 16,
            differingBytes: 1,
            hex: [
              [line('00000000', '00 01'), line('00000010', 'aa bb')].join('\n'),
              [line('00000000', '00 01'), line('00000010', 'aa cc')].join('\n'),
            ],
          },
          hints: [],
        },
      ],
    }
    const html = renderDiffHtml(report)
    expect(html).not.toContain('\\n')
    expect(html).toContain(
      '<td class="code ">00000000  00 01</td><td class="code ">00000000  00 01</td>',
    )
    expect(html).toContain(
      '<td class="code del">00000010  aa bb</td><td class="code add">00000010  aa cc</td>',
    )
  })

  it('shows a terminal escape in a link target as text', () => {
    const text = renderDiffText(hostile('\u001b]0;pwned\u0007'), false)
    expect(text).toContain('a\\x1b]0;pwned\\x07')
  })
})

describe('displayedLines', () => {
  it('escapes a removed and an added line that would look the same, and only those', () => {
    const unified = [
      '--- a/x',
      '+++ b/x',
      '@@ -1,3 +1,3 @@',
      ' same é',
      '-caf\u00e9',
      '-plain',
      '+cafe\u0301',
      '+other',
    ].join('\n')
    expect(displayedLines(unified)).toEqual([
      '--- a/x',
      '+++ b/x',
      '@@ -1,3 +1,3 @@',
      ' same é',
      '-caf\\u{e9}',
      '-plain',
      '+cafe\\u{301}',
      '+other',
    ])
  })

  it('never shows two lines that differ alike', () => {
    const text = fc.string({
      unit: fc.constantFrom('a', 'é', 'e\u0301', '\ufeff', '\u200b', ' ', '\t'),
    })
    fc.assert(
      fc.property(text, text, (x, y) => {
        fc.pre(x !== y)
        const [removed, added] = displayedLines(`-${x}\n+${y}`)
        expect(removed?.slice(1)).not.toBe(added?.slice(1))
      }),
    )
    // Many of each, some equal: every removed and added pair that differs shows apart.
    const line = fc.string({ unit: fc.constantFrom('é', 'e\u0301', 'a'), maxLength: 3 })
    const lines = fc.array(line, { minLength: 1, maxLength: 6 })
    fc.assert(
      fc.property(lines, lines, (xs, ys) => {
        const shown = displayedLines(
          [...xs.map((x) => `-${x}`), ...ys.map((y) => `+${y}`)].join('\n'),
        )
        const removed = shown.slice(0, xs.length)
        const added = shown.slice(xs.length)
        for (const [i, x] of xs.entries())
          for (const [j, y] of ys.entries()) {
            if (x === y) continue
            expect(removed[i]?.slice(1)).not.toBe(added[j]?.slice(1))
            // Two that would look alike are both shown with everything past ASCII escaped.
            if (looksOnScreen(x) === looksOnScreen(y)) {
              expect(removed[i]).toBe(toEscapedLine(`-${x}`))
              expect(added[j]).toBe(toEscapedLine(`+${y}`))
            }
          }
      }),
      { numRuns: 300 },
    )
  })
})

describe('names and values that would show alike', () => {
  // Composed and decomposed forms, and characters that show as nothing.
  const text = fc.string({
    unit: fc.constantFrom(
      'a',
      'é',
      'e\u0301',
      '\ufeff',
      '\u200b',
      ' ',
      '\u034f',
      '\ufe0f',
      '\u2062',
      '\u00ad',
      // A line break beside a space: shown as `\n`, never as the space it once became.
      '\n',
    ),
    minLength: 1,
  })
  // Every place a name shows: items only on one side, an item of each kind beside one
  // only in B, a rename's two values, an order list.
  const report = (x: string, y: string): DiffReport => ({
    identical: false,
    a: 'a',
    b: 'b',
    items: [
      { path: `t/${x}`, kind: 'only-in-a', sizes: [1, null], hints: [] },
      { path: `t/${y}`, kind: 'only-in-b', sizes: [null, 1], hints: [] },
      { path: `u/${x}`, kind: 'content', hints: [] },
      { path: `u/${y}`, kind: 'only-in-b', sizes: [null, 1], hints: [] },
      {
        path: 'z.tar!m',
        kind: 'metadata',
        fields: [{ field: 'renamed', a: x, b: y }],
        hints: [],
      },
      { path: 'o.tar', kind: 'order', order: { a: [x, y], b: [y, x] }, hints: [] },
    ],
    summaries: [],
    warnings: [],
    stats: { compared: 3, differing: 3 },
    notCompared: [],
  })

  it('never shows two names or two field values that differ alike, in text or Markdown', () => {
    // Two names apart in their bytes, most often only in how they look alike: one in
    // another Unicode form, or with a character that shows as nothing.
    const pair = fc.oneof(
      fc.tuple(text, text),
      fc
        .tuple(text, fc.constantFrom('NFC', 'NFD', '\u200b', '\u034f', '\ufe0f', '\u2062'))
        .map(([x, how]) => [x, how.length > 1 ? x.normalize(how as 'NFC' | 'NFD') : `${x}${how}`]),
      text.map((x) => [`${x} `, `${x}\n`]),
    )
    fc.assert(
      fc.property(pair, ([x, y]) => {
        fc.pre(x !== y)
        // As a reader sees them: composed and decomposed alike.
        const seen = (v: string | undefined) => (v ?? '').normalize('NFC')
        const lines = renderDiffText(report(x, y), false).split('\n')
        const header = (prefix: string, kind: string) =>
          seen(
            lines
              .find((l) => l.startsWith(prefix) && l.endsWith(`  ${kind}`))
              ?.slice(0, -kind.length - 2),
          )
        expect(header('t/', 'only in A')).not.toBe(header('t/', 'only in B'))
        expect(header('u/', 'content differs')).not.toBe(header('u/', 'only in B'))
        const field = lines.find((l) => l.startsWith('  renamed: ')) ?? ''
        const [a, b] = field.slice('  renamed: '.length).split(' → ')
        expect(seen(a)).not.toBe(seen(b))
        const order = lines.find((l) => l.startsWith('  A: ')) ?? ''
        const [first, second] = order.slice('  A: '.length).split(', ')
        expect(seen(first)).not.toBe(seen(second))
        const md = renderDiffMarkdown(report(x, y))
        const values = /renamed<\/code>: (<code>.*<\/code>) → (<code>.*<\/code>)/.exec(md)
        expect(values).not.toBeNull()
        expect(seen(values?.[1])).not.toBe(seen(values?.[2]))
        const rows = [...md.matchAll(/^\| <code>(t\/[^<]*)<\/code> \|/gmu)].map((m) => seen(m[1]))
        expect(new Set(rows).size).toBe(2)
      }),
    )
  })

  it('shows a name that passes for ASCII escaped, alone or beside the name it mimics', () => {
    // An ASCII name and the same with one character drawn alike: another script's
    // letter, a compatibility form, another space.
    const looks: [string, string][] = [
      ['x', '\u0445'],
      ['a', '\u0430'],
      ['O', '\u041e'],
      ['o', '\u03bf'],
      ['l', '\u217c'],
      ['.', '\u2024'],
      [' ', '\u00a0'],
      [' ', '\u200a'],
      ['1', '\uff11'],
    ]
    const ascii = fc.string({ unit: fc.constantFrom('a', 'b', '-', '.', '1', 'z'), maxLength: 6 })
    fc.assert(
      fc.property(ascii, fc.constantFrom(...looks), ascii, (head, [plain, look], tail) => {
        const [x, y] = [`${head}${plain}${tail}`, `${head}${look}${tail}`]
        const lines = renderDiffText(report(x, y), false).split('\n')
        // The name that only B holds, and both sides of the rename, say what they are.
        const hex = `\\u{${(look.codePointAt(0) ?? 0).toString(16)}}`
        expect(lines.some((l) => l === `t/${head}${hex}${tail}  only in B`)).toBe(true)
        const field = lines.find((l) => l.startsWith('  renamed: ')) ?? ''
        expect(field.split(' → ')[1]).toBe(`${head}${hex}${tail}`)
        // Alone, with nothing it mimics beside it, too.
        const alone = renderDiffText(
          { ...report(x, y), items: report(x, y).items.slice(1, 2) },
          false,
        )
        expect(alone).toContain(`t/${head}${hex}${tail}`)
      }),
    )
    // A name in another script is not taken for ASCII: shown as it is.
    for (const name of ['отчёт.txt', 'αβγ.txt', 'données.csv'])
      expect(renderDiffText(report(name, 'x'), false)).toContain(`t/${name}  only in A`)
  })

  it('shows a name that mixes Latin letters with look-alikes of another script escaped', () => {
    // `pаyload` with a Cyrillic а beside `payload`: one letter of another script.
    const lines = renderDiffText(report('payload', 'p\u0430yload'), false)
    expect(lines).toContain('t/p\\u{430}yload')
    expect(lines).toContain('t/payload')
    // A word of one script, whatever it is, is shown as it is.
    expect(mixesScripts('отчёт/report.txt')).toBe(false)
    expect(mixesScripts('αβγ.txt')).toBe(false)
    expect(mixesScripts('dаta')).toBe(true)
    expect(mixesScripts('Ωmega')).toBe(true)
  })
})
