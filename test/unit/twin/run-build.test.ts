import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
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

describe('runBuild of a git work tree', () => {
  function repository(): string {
    const source = makeTemp()
    fs.writeFileSync(path.join(source, 'build.sh'), 'mkdir -p out && cp input.txt out/a.txt\n')
    fs.writeFileSync(path.join(source, 'input.txt'), 'committed\n')
    execFileSync(
      'sh',
      ['-c', 'git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm one'],
      { cwd: source },
    )
    return source
  }

  async function build(source: string, onPhase: (text: string) => void) {
    const options = toBuildOptions(
      { out: ['out/a.txt'], outDir: path.join(makeTemp(), 'dist'), tempDir: makeTempParent() },
      ['sh', 'build.sh'],
      {},
      source,
      source,
    )
    return await runBuild(options, {
      callerEnv: { PATH: process.env.PATH },
      onEvent: (event) => {
        if (event.kind === 'phase') onPhase(event.text)
      },
    })
  }

  it('records a tree found clean, then changed before it was copied, as having uncommitted changes', async () => {
    const source = repository()
    // Checked clean, then edited as the build roots are made, before the snapshot.
    const { result, record } = await build(source, (text) => {
      if (text.startsWith('preparing'))
        fs.writeFileSync(path.join(source, 'input.txt'), 'edited after the check\n')
    })
    expect(fs.readFileSync(path.join(result.outDir ?? '', 'out/a.txt'), 'utf8')).toBe(
      'edited after the check\n',
    )
    expect(record.source.git?.dirty).toBe(true)
    expect(result.warnings.join('\n')).toContain(
      'the work tree changed while it was copied: the snapshot built is not commit',
    )
  })

  it('records a tree that stayed clean as clean, its lockfiles read from the snapshot', async () => {
    const source = repository()
    fs.writeFileSync(path.join(source, 'package-lock.json'), '{"lockfileVersion":3}\n')
    execFileSync(
      'sh',
      ['-c', 'git add -A && git -c user.name=t -c user.email=t@t commit -qm two'],
      {
        cwd: source,
      },
    )
    const { record } = await build(source, () => undefined)
    expect(record.source.git?.dirty).toBe(false)
    expect(record.source.lockfiles).toEqual([
      {
        path: 'package-lock.json',
        sha256: crypto.createHash('sha256').update('{"lockfileVersion":3}\n').digest('hex'),
      },
    ])
  })
})
