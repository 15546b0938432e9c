import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { toBuildOptions } from '../../../src/config/build-options.js'
import { decideVerdict } from '../../../src/twin/judge-artifacts.js'
import { runBuild } from '../../../src/twin/run-build.js'
import { cleanupTemp, makeTemp, makeTempParent } from '../../helpers.js'

afterEach(cleanupTemp)

describe('decideVerdict', () => {
  it('says reproducible only of identical bytes, and names normalization when it was needed', () => {
    expect(decideVerdict(true, true)).toBe('reproducible')
    expect(decideVerdict(false, true)).toBe('reproducible-after-normalization')
    expect(decideVerdict(false, false)).toBe('not-reproducible')
    // Raw bytes equal but the compared ones not cannot happen; it would still be a no.
    expect(decideVerdict(true, false)).toBe('not-reproducible')
  })
})

describe('runBuild', () => {
  it('takes its times from the clock it is given: the record’s start and finish', async () => {
    const source = makeTemp()
    fs.writeFileSync(path.join(source, 'build.sh'), 'mkdir -p out && echo hello > out/a.txt\n')
    const options = toBuildOptions(
      {
        out: ['out/a.txt'],
        outDir: path.join(makeTemp(), 'dist'),
        epoch: '1700000000',
        tempDir: makeTempParent(),
      },
      ['sh', 'build.sh'],
      {},
      source,
      source,
    )
    let now = Date.UTC(2030, 0, 1)
    const { result, record } = await runBuild(options, {
      callerEnv: { PATH: process.env.PATH },
      // Each reading is a second later than the last.
      clock: () => (now += 1000),
    })
    expect(result.verdict).toBe('reproducible')
    expect(record.startedAt).toBe('2030-01-01T00:00:01.000Z')
    expect(Date.parse(record.finishedAt)).toBeGreaterThan(Date.parse(record.startedAt))
    expect(Date.parse(record.finishedAt)).toBeLessThan(Date.UTC(2030, 0, 1, 0, 1))
  })
})
