import { describe, expect, it } from 'vitest'
import { renderNormalize } from '../../../../src/cli/views/normalize.js'
import type { NormalizeOutcome } from '../../../../src/normalize/normalize-file.js'

describe("normalize's human answer", () => {
  it('says what each file became, and escapes file and member names', () => {
    const outcome: NormalizeOutcome = {
      input: 'in\u001b[2J.zip',
      output: 'out/in\u001b[2J.zip',
      format: 'zip',
      mode: 'ship',
      changed: true,
      changes: ['evil\u001b]0;x\u0007.txt rewritten'],
      digests: { before: 'a', after: 'b' },
    }
    const same: NormalizeOutcome = {
      ...outcome,
      input: 'b.tar',
      output: null,
      format: 'tar',
      changed: false,
      changes: [],
    }
    const text = renderNormalize([outcome, same], false)
    expect(text).toBe(
      [
        'in\\x1b[2J.zip: zip, normalized → out/in\\x1b[2J.zip',
        '  evil\\x1b]0;x\\x07.txt rewritten',
        'b.tar: tar, already normal',
        '',
      ].join('\n'),
    )
  })
})
