import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import {
  OWNER_FILE,
  ownedTempDir,
  ownerGone,
  ownerMark,
  removeOrphanedDirs,
} from '../../src/owned-temp.js'
import { cleanupTemp, makeTemp } from '../helpers.js'

afterEach(cleanupTemp)

/** The pid of a process that has ended. */
function endedPid(): number {
  const run = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' })
  return Number(run.stdout.trim())
}

describe('owner marks', () => {
  const mine = ownerMark(process.pid) ?? ''
  const [namespace = '', , start = ''] = mine.split(' ')

  it('call this process alive, and an ended one or a reused pid gone', () => {
    expect(mine).toMatch(/^\d+ \d+ \d+$/)
    expect(ownerGone(mine)).toBe(false)
    expect(ownerGone(`${namespace} ${endedPid()} ${start}`)).toBe(true)
    // The same pid, started at another time: another process.
    expect(ownerGone(`${namespace} ${process.pid} ${Number(start) + 1}`)).toBe(true)
  })

  it('never judge a process of another pid namespace, nor a mark not read whole', () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(), fc.nat(), (text, pid, time) => {
        // Never throws; anything not of this namespace is not gone.
        const gone = ownerGone(text)
        if (!text.trim().startsWith(`${namespace} `)) expect(gone).toBe(false)
        const foreign = `${Number(namespace) + 1 + (time % 7)} ${pid + 1} ${time}`
        expect(ownerGone(foreign)).toBe(false)
      }),
    )
    expect(ownerGone(`${namespace} ${endedPid()}`)).toBe(false)
    expect(ownerGone('')).toBe(false)
  })
})

describe('owned temp dirs', () => {
  it('removes only the orphans of its own prefix, never one kept, unowned or alive', () => {
    const parent = makeTemp()
    const make = (name: string, mark?: string): string => {
      const dir = path.join(parent, name)
      fs.mkdirSync(dir)
      if (mark !== undefined) fs.writeFileSync(path.join(dir, OWNER_FILE), mark)
      return name
    }
    const [namespace = '', , start = ''] = (ownerMark(process.pid) ?? '').split(' ')
    const dead = `${namespace} ${endedPid()} ${start}`
    make('reproof-x-Orphan', dead)
    const kept = [
      make('reproof-x-unownd'),
      make('reproof-x-Alive1', ownerMark(process.pid)),
      make('reproof-y-Orphan', dead),
      make('reproof-x-toolong', dead),
      make('reproof-x-Foreig', `${Number(namespace) + 1} 1 1`),
    ]
    const made = path.basename(ownedTempDir(parent, 'reproof-x-'))
    expect(fs.readdirSync(parent).sort()).toEqual([...kept, made].sort())
    expect(fs.readFileSync(path.join(parent, made, OWNER_FILE), 'utf8')).toBe(
      ownerMark(process.pid),
    )
    // Swept once a process: a second call reads the directory no more.
    make('reproof-x-Later1', dead)
    removeOrphanedDirs(parent, 'reproof-x-')
    expect(fs.existsSync(path.join(parent, 'reproof-x-Later1'))).toBe(true)
  })
})
