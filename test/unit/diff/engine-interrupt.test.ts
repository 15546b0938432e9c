import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { diffPaths } from '../../../src/diff/diff-inputs.js'
import { DiffEngine } from '../../../src/diff/engine.js'
import { defaultHintContext } from '../../../src/diff/hints.js'
import { Budget, DEFAULT_LIMITS } from '../../../src/formats/limits.js'
import { bufferSource, fileSource } from '../../../src/formats/source.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

// Ctrl-C aborts this signal; every way the comparison spends its time must stop on it.
const aborted = (): AbortSignal => {
  const controller = new AbortController()
  controller.abort()
  return controller.signal
}

const options = (signal: AbortSignal) => ({
  maxLines: 50,
  limits: DEFAULT_LIMITS,
  context: defaultHintContext([[], []], 1_700_000_000),
  signal,
})

const interrupted = expect.objectContaining({ code: 'E_INTERRUPTED' }) as unknown

describe('an interrupted comparison', () => {
  it('stops before comparing two held sources', async () => {
    const engine = new DiffEngine(options(aborted()))
    const compared = engine.compare(
      'x',
      bufferSource(Buffer.from('a'), 'x'),
      bufferSource(Buffer.from('b'), 'x'),
      0,
    )
    await expect(compared).rejects.toEqual(interrupted)
  })

  it('stops walking two trees between entries', async () => {
    const dir = makeTemp()
    for (const side of ['a', 'b']) {
      fs.mkdirSync(path.join(dir, side))
      fs.writeFileSync(path.join(dir, side, 'f'), 'same\n')
    }
    await expect(
      diffPaths(path.join(dir, 'a'), path.join(dir, 'b'), options(aborted())),
    ).rejects.toEqual(interrupted)
  })

  it('stops streaming two large files', async () => {
    const dir = makeTemp()
    const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')]
    fs.writeFileSync(a, Buffer.alloc(30 * 1024 * 1024, 1))
    fs.writeFileSync(b, Buffer.alloc(30 * 1024 * 1024, 2))
    const controller = new AbortController()
    const engine = new DiffEngine(options(controller.signal))
    // Aborted once the comparison is under way: only the streaming can see it.
    const compared = engine.compare('a', fileSource(a), fileSource(b), 0, ['x', 'y'])
    controller.abort()
    await expect(compared).rejects.toEqual(interrupted)
  })

  it('stops any reader at its next chunk, through the budget it charges', () => {
    const budget = new Budget(DEFAULT_LIMITS, aborted())
    expect(() => {
      budget.spendBytes(1, 'x.tar')
    }).toThrow(expect.objectContaining({ code: 'E_INTERRUPTED' }) as Error)
    expect(() => {
      new Budget(DEFAULT_LIMITS, new AbortController().signal).spendBytes(1, 'x.tar')
    }).not.toThrow()
  })
})
