import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { VariationRecord } from '../../../src/sandbox/run-plan.js'
import { fileTimeDrift, withFileTimeDrift } from '../../../src/twin/file-time-drift.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

/** Writes `name` (bytes) under `root` with the modification time `ms`. */
function written(root: string, name: Buffer, ms: number): void {
  const file = Buffer.concat([Buffer.from(`${root}/`), name])
  fs.mkdirSync(path.dirname(file.toString()), { recursive: true })
  fs.writeFileSync(file, 'x')
  fs.utimesSync(file, ms / 1000, ms / 1000)
}

describe('fileTimeDrift', () => {
  it('names the files both runs wrote within two seconds, names that are not UTF-8 too', async () => {
    const a = makeTemp()
    const b = makeTemp()
    const start = 1_700_000_000_000
    const bad = Buffer.from([0x78, 0xff]) // "x" and a byte that is not UTF-8
    written(a, bad, start + 1000)
    written(b, bad, start + 1500)
    written(a, Buffer.from('far.txt'), start + 1000)
    written(b, Buffer.from('far.txt'), start + 9000)
    // From the snapshot (older than the run): varies by design in neither run.
    written(a, Buffer.from('old.txt'), start - 5000)
    written(b, Buffer.from('old.txt'), start - 5000)
    // From the snapshot too, with a commit just made: its time is the snapshot's exactly.
    const snapshot = start + 500
    written(a, Buffer.from('source.c'), snapshot)
    written(b, Buffer.from('source.c'), snapshot)
    const drift = await fileTimeDrift({ a, b }, { a: start, b: start }, snapshot)
    expect(drift).toEqual({ close: ['x\u0000ff'], compared: 2, incomplete: false })
  })
})

describe("fileTimeDrift over each run's $TMPDIR", () => {
  it('names what both runs staged there within two seconds, and passes over a $TMPDIR the build removed', async () => {
    const [a, b, tmpA, tmpB] = [makeTemp(), makeTemp(), makeTemp(), makeTemp()]
    const start = 1_700_000_000_000
    // A tree staged to be archived: the archive carries these times, not the archive's own.
    written(tmpA, Buffer.from('stage/f'), start + 1000)
    written(tmpB, Buffer.from('stage/f'), start + 1100)
    written(a, Buffer.from('out/x.tar'), start + 1000)
    written(b, Buffer.from('out/x.tar'), start + 4000)
    const drift = await fileTimeDrift({ a, b }, { a: start, b: start }, 0, [
      { label: '$TMPDIR', a: tmpA, b: tmpB },
    ])
    expect(drift).toEqual({ close: ['$TMPDIR/stage/f'], compared: 2, incomplete: false })
    // A run's own /tmp, and its HOME, are such places too.
    const [shmA, shmB] = [makeTemp(), makeTemp()]
    written(shmA, Buffer.from('pkg/g'), start + 1000)
    written(shmB, Buffer.from('pkg/g'), start + 1500)
    const places = await fileTimeDrift({ a, b }, { a: start, b: start }, 0, [
      { label: '$TMPDIR', a: tmpA, b: tmpB },
      { label: '/tmp', a: shmA, b: shmB },
    ])
    expect(places).toEqual({
      close: ['$TMPDIR/stage/f', '/tmp/pkg/g'],
      compared: 3,
      incomplete: false,
    })
    fs.rmSync(tmpB, { recursive: true })
    const gone = await fileTimeDrift({ a, b }, { a: start, b: start }, 0, [
      { label: '$TMPDIR', a: tmpA, b: tmpB },
    ])
    expect(gone).toEqual({ close: [], compared: 1, incomplete: false })
  })
})

describe('withFileTimeDrift', () => {
  const variations: VariationRecord[] = [
    {
      name: 'time',
      status: 'effective',
      a: 'real clock',
      b: 'clock +397 days 7 h 13 min 17 s (libfaketime)',
    },
    { name: 'file-times', status: 'effective', a: 'real', b: 'later', note: 'kept' },
  ]

  it('names the close files on the file-times variation alone, after any note it had, and on its verdict line', () => {
    const out = withFileTimeDrift(variations, {
      close: ['a', 'b', 'c', 'd'],
      compared: 9,
      incomplete: false,
    })
    expect(out[0]).toEqual(variations[0])
    // Claimed for the files it reached; the verdict's line names what it did not reach,
    // which an archive of them would not show.
    expect(out[1]?.status).toBe('effective')
    expect(out[1]?.reach).toBe(
      'not 4 of the 9 file(s) both runs wrote, written less than 2 s apart (a, b, c and 1 more)',
    )
    expect(out[1]?.note).toMatch(
      /^kept; file times not varied for 4 of the 9 file\(s\) both runs wrote \(a, b, c and 1 more\)/,
    )
  })

  it('calls the variation of no effect when not one file both runs wrote drifted', () => {
    const out = withFileTimeDrift(variations, { close: ['a', 'b'], compared: 2, incomplete: false })
    expect(out[1]).toMatchObject({ name: 'file-times', status: 'no-effect' })
    expect(out[1]?.note).toMatch(/file times not varied for 2 of the 2 file\(s\)/)
  })

  it('claims no effect, and says why, when the check could not look at every file; changes nothing when every file drifted', () => {
    const big = withFileTimeDrift(variations, { close: [], compared: 0, incomplete: 'too-many' })
    expect(big[1]).toMatchObject({ name: 'file-times', status: 'no-effect' })
    expect(big[1]?.note).toMatch(
      /^kept; file times could not be compared between the runs: the build trees hold more than/,
    )
    const locked = withFileTimeDrift(variations, { close: [], compared: 4, incomplete: 'unlisted' })
    expect(locked[1]).toMatchObject({ name: 'file-times', status: 'no-effect' })
    expect(locked[1]?.note).toMatch(/a directory reproof cannot list/)
    expect(withFileTimeDrift(variations, { close: [], compared: 3, incomplete: false })).toEqual(
      variations,
    )
  })

  it('claims no effect when run B ended less than two seconds after run A, whatever the files left say', () => {
    // Files left to compare all drifted, but what both wrote last (deleted since, or its
    // time set) was written at about the same moment.
    const drifted = { close: [], compared: 3, incomplete: false as const }
    for (const gap of [-3000, 0, 1999]) {
      const out = withFileTimeDrift(variations, drifted, gap)
      expect(out[0]).toEqual(variations[0])
      expect(out[1]).toMatchObject({ name: 'file-times', status: 'no-effect' })
      expect(out[1]?.note).toMatch(
        /^kept; file times not varied for what both runs wrote last: run B's command ended -?[0-9.]+ s after run A's, less than 2 s/,
      )
    }
    for (const gap of [2000, 2600, undefined])
      expect(withFileTimeDrift(variations, drifted, gap)).toEqual(variations)
  })

  it('claims no effect when no file both runs wrote kept its time (the build set them all): the check had nothing to look at', () => {
    const reset = withFileTimeDrift(variations, { close: [], compared: 0, incomplete: false })
    expect(reset[1]).toMatchObject({ name: 'file-times', status: 'no-effect' })
    expect(reset[1]?.note).toMatch(/no file both runs wrote kept the time it was written at/)
  })
})
