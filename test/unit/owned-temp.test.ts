import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import {
  OWNER_FILE,
  ownedTempDir,
  ownedTempName,
  ownerGone,
  ownMark,
  removeOrphanedDirs,
  removeOrphanedTemps,
} from '../../src/owned-temp.js'
import { cleanupTemp, makeTemp } from '../helpers.js'

afterEach(cleanupTemp)

/** The pid of a process that has ended. */
function endedPid(): string {
  return spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim()
}

const me = ownMark()

describe('owner marks', () => {
  it('call this process alive, and an ended one or a reused pid gone', () => {
    expect(me).toBeDefined()
    if (me === undefined) return
    expect(ownerGone(me)).toBe(false)
    expect(ownerGone({ ...me, pid: endedPid() })).toBe(true)
    // The same pid, started at another time: another process.
    expect(ownerGone({ ...me, start: String(Number(me.start) + 1) })).toBe(true)
  })

  it('never judge a process of another host id, nor a mark not read whole', () => {
    if (me === undefined) return
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (host, pid, start) => {
        // Never throws; a mark of another host id (another machine, boot or pid
        // namespace) is never gone, whatever its pid.
        const gone = ownerGone({ host, pid, start })
        if (host !== me.host) expect(gone).toBe(false)
        // Not all digits: no pid or start time, never gone.
        if (!/^\d+$/.test(pid) || !/^\d+$/.test(start))
          expect(ownerGone({ host: me.host, pid, start })).toBe(false)
      }),
      { numRuns: 300 },
    )
    const ended = endedPid()
    expect(ownerGone({ host: 'ffffffff', pid: ended, start: me.start })).toBe(false)
    expect(ownerGone({ host: me.host, pid: ended, start: '' })).toBe(false)
    expect(ownerGone({ host: me.host, pid: '', start: me.start })).toBe(false)
  })
})

describe('owned temp dirs and files', () => {
  it('removes only the orphans of its own prefix, never one kept, unowned, alive or of another host', () => {
    if (me === undefined) return
    const parent = makeTemp()
    const make = (name: string, host?: string, owner?: string): string => {
      const dir = path.join(parent, name)
      fs.mkdirSync(dir)
      if (host !== undefined) fs.writeFileSync(path.join(dir, '.reproof-host'), host)
      if (owner !== undefined) fs.writeFileSync(path.join(dir, OWNER_FILE), owner)
      return name
    }
    const dead = `${endedPid()} ${me.start}`
    make('reproof-x-Orphan', me.host, dead)
    const kept = [
      make('reproof-x-unownd'),
      make('reproof-x-NoHost', undefined, dead),
      make('reproof-x-Alive1', me.host, `${me.pid} ${me.start}`),
      make('reproof-y-Orphan', me.host, dead),
      make('reproof-x-toolong', me.host, dead),
      make('reproof-x-Foreig', 'ffffffff', dead),
    ]
    const made = path.basename(ownedTempDir(parent, 'reproof-x-'))
    expect(fs.readdirSync(parent).sort()).toEqual([...kept, made].sort())
    // An older reproof reads `<pid> <start>` from the owner file, as this one writes it.
    expect(fs.readFileSync(path.join(parent, made, OWNER_FILE), 'utf8')).toBe(
      `${me.pid} ${me.start}`,
    )
    // Swept once a process: a second call reads the directory no more.
    make('reproof-x-Later1', me.host, dead)
    removeOrphanedDirs(parent, 'reproof-x-')
    expect(fs.existsSync(path.join(parent, 'reproof-x-Later1'))).toBe(true)
  })

  it('names a temp file by its owner where the name fits, and removes only orphans', () => {
    if (me === undefined) return
    const dir = makeTemp()
    const own = ownedTempName('a.tar')
    expect(own).toMatch(/^\.a\.tar\.reproof-o[0-9a-f]{8}\.[0-9a-z]+\.[0-9a-z]+\.[0-9a-f]{8}$/)
    // A name near the limit (or at it) is cut short, by whole characters: still owned,
    // and it fits.
    for (const long of ['n'.repeat(225), 'é'.repeat(127), Buffer.alloc(255, 0x6e)]) {
      const name = ownedTempName(long)
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255)
      expect(Buffer.from(name).toString('latin1')).toMatch(/\.reproof-o[0-9a-f]{8}\./)
      if (typeof name === 'string') expect(name).not.toContain('\ufffd')
    }
    const b36 = (n: string) => Number(n).toString(36)
    const orphan = `.b.tar.reproof-o${me.host}.${b36(endedPid())}.${b36(me.start)}.01234567`
    const foreign = `.c.tar.reproof-offffffff.${b36(endedPid())}.${b36(me.start)}.01234567`
    const unowned = '.d.tar.reproof-0123456789ab'
    for (const name of [own, orphan, foreign, unowned]) fs.writeFileSync(path.join(dir, name), '')
    fs.mkdirSync(path.join(dir, orphan.replace('.b.', '.e.')))
    removeOrphanedTemps(dir)
    expect(fs.readdirSync(dir).sort()).toEqual(
      [own, foreign, unowned, orphan.replace('.b.', '.e.')].sort(),
    )
  })
})
