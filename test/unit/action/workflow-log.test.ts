import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { annotate, buildLog } from '../../../src/action/workflow-log.js'

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
})
