import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  annotate,
  buildLog,
  inert,
  inertLines,
  summaryText,
} from '../../../src/action/workflow-log.js'

/** What the runner strips before it looks for `::` (String.TrimStart: char.IsWhiteSpace). */
const dotnetTrimStart = (line: string): string =>
  line.replace(/^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/, '')

function capture() {
  let text = ''
  return { log: { write: (s: string) => (text += s) }, text: () => text }
}

describe('the workflow log', () => {
  it('writes one command line per annotation, whatever the message holds', () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string(), { nil: undefined }), (message, title) => {
        const { log, text } = capture()
        annotate(log, 'error', message, title)
        const lines = text().split('\n')
        expect(lines).toHaveLength(2)
        expect(lines[0]).toMatch(/^::error[ :]/)
        // The message comes back as the runner reads it.
        const data = (lines[0] ?? '').replace(/^::error(?: [^:]*)?::/, '')
        expect(data.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')).toBe(message)
      }),
    )
  })

  it('pins a message about a line of a file to that line', () => {
    const { log, text } = capture()
    annotate(log, 'error', 'ledger.jsonl:3: the chain is broken', 'reproof gate')
    expect(text()).toBe(
      '::error title=reproof gate,file=ledger.jsonl,line=3::ledger.jsonl:3: the chain is broken\n',
    )
  })

  it('never lets a build line start a workflow command', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.constantFrom('x\r::error::owned', '\r::add-mask::'))),
        (lines) => {
          const { log, text } = capture()
          const build = buildLog(log)
          build.onEvent({ kind: 'run-started', id: 'a' })
          for (const line of lines)
            build.onEvent({ kind: 'run-output', id: 'a', line: line.replace(/\n/g, ' ') })
          build.close()
          const commands = text()
            .split(/\r?\n|\r/)
            .filter((l) => l.startsWith('::'))
          expect(commands).toEqual([
            '::group::reproof build: the two runs (their output as A| and B|)',
            '::endgroup::',
          ])
        },
      ),
    )
  })

  it('makes any text inert: no line reads as a command in either form, and nothing else changes', () => {
    const risky = fc.constantFrom(
      '::',
      '##[',
      ' ',
      '\t',
      '\n',
      '\r',
      'error',
      'set-output name=x;]',
      ':',
      '#',
      '[',
      'a',
      // What .NET's TrimStart also takes for blanks before the runner reads a command.
      '\u00a0',
      '\u0085',
      '\u2003',
      '\u2028',
      '\u3000',
      '\v',
      '\f',
    )
    const text = fc.oneof(
      fc.string(),
      fc.array(risky).map((parts) => parts.join('')),
    )
    fc.assert(
      fc.property(text, (raw) => {
        const out = inert(raw)
        for (const line of out.split(/\r\n|\r|\n/))
          expect(dotnetTrimStart(line).startsWith('::')).toBe(false)
        expect(out).not.toContain('##[')
        expect(out.replaceAll('\u200b', '')).toBe(raw.replaceAll('\u200b', ''))
      }),
    )
  })

  it('passes a stream on by whole lines, so a command cut between writes is caught', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(40)), (cuts) => {
        const raw =
          'build says: ##[set-output name=attestation-id;]1\n    ::error title=Verified::ok\nlast'
        let out = ''
        const lines = inertLines({ write: (s: string) => (out += s) })
        let at = 0
        for (const cut of [...cuts.map((c) => Math.min(raw.length, c)), raw.length].sort(
          (a, b) => a - b,
        )) {
          lines.write(raw.slice(at, cut))
          at = cut
        }
        lines.end()
        expect(out).toBe(inert(raw))
      }),
    )
  })
})

describe('the job summary', () => {
  it('shows each line of a message on its own, its Markdown and control characters escaped', () => {
    expect(summaryText('first step\nthen *this*\r\nand `that`\u0007')).toBe(
      'first step<br>then \\*this\\*<br>and \\`that\\`\\\\x07',
    )
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 5 }), (lines) => {
        const shown = summaryText(lines.join('\n'))
        // No raw line break or control character reaches the Markdown.
        const controls = Array.from({ length: shown.length }, (_, i) => shown.charCodeAt(i))
        expect(controls.some((code) => code < 0x20 || code === 0x7f)).toBe(false)
        expect(shown.split('<br>').length).toBeGreaterThanOrEqual(lines.length)
      }),
    )
  })
})
