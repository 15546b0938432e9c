import { describe, expect, it } from 'vitest'
import { DiffEngine } from '../../../src/diff/engine.js'
import { defaultHintContext } from '../../../src/diff/hints.js'
import { DEFAULT_LIMITS } from '../../../src/formats/limits.js'
import { bufferSource } from '../../../src/formats/source.js'

// Texts whose every line differs, interleaved with shared ones: Myers' search is long.
const text = (seed: string): Buffer =>
  Buffer.from(
    Array.from({ length: 600 }, (_, i) => (i % 3 === 0 ? `same ${i}` : `${seed} ${i}`)).join('\n'),
  )

async function compareFiles(textDiffsMs: number | undefined, files: number) {
  const engine = new DiffEngine({
    maxLines: 20,
    limits: DEFAULT_LIMITS,
    context: defaultHintContext([[], []], 1_700_000_000),
    ...(textDiffsMs === undefined ? {} : { textDiffsMs }),
  })
  for (let i = 0; i < files; i++)
    await engine.compare(
      `f${i}.txt`,
      bufferSource(text(`a${i}`), `f${i}.txt`),
      bufferSource(text(`b${i}`), `f${i}.txt`),
      0,
    )
  return engine
}

describe('the time text diffs take in one comparison', () => {
  it('is bounded in all: once spent, differing texts are shown as binary places, and said once', async () => {
    const spent = await compareFiles(0, 4)
    // Every file still differs; none is a text diff past the budget.
    expect(spent.items.filter((i) => i.kind === 'content')).toHaveLength(4)
    expect(spent.items.filter((i) => 'text' in i && i.text !== undefined)).toHaveLength(0)
    expect(spent.warnings.filter((w) => w.startsWith('text diffs took'))).toEqual([
      'text diffs took 0 s in all: f0.txt and the differing text files after it are shown as binary places, not as lines',
    ])
    // Within it, they are lines.
    const whole = await compareFiles(undefined, 2)
    expect(whole.items.filter((i) => 'text' in i && i.text !== undefined)).toHaveLength(2)
    expect(whole.warnings).toEqual([])
  })
})
