import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { mkdirDurableSync } from '../../../src/io/atomic-write.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(() => {
  vi.restoreAllMocks()
  cleanupTemp()
})

/** The directories fsynced while `work` runs, by path. */
function synced(work: () => void): string[] {
  const opened = new Map<number, string>()
  const open = fs.openSync.bind(fs)
  vi.spyOn(fs, 'openSync').mockImplementation((file: fs.PathLike, flags?: fs.OpenMode) => {
    const fd = open(file, flags ?? 'r')
    opened.set(fd, String(file))
    return fd
  })
  const out: string[] = []
  const fsync = fs.fsyncSync.bind(fs)
  vi.spyOn(fs, 'fsyncSync').mockImplementation((fd: number) => {
    out.push(opened.get(fd) ?? `fd ${fd}`)
    fsync(fd)
  })
  work()
  return out
}

describe('mkdirDurableSync', () => {
  it('syncs each directory it makes into its parent, and nothing when all were there', () => {
    const root = makeTemp()
    const dir = path.join(root, 'x', 'y')
    expect(
      synced(() => {
        mkdirDurableSync(dir)
      }),
    ).toEqual([path.join(root, 'x'), root])
    expect(
      synced(() => {
        mkdirDurableSync(dir)
      }),
    ).toEqual([])
  })

  it('with ancestors, syncs every directory up to the root though none was made now', () => {
    // An earlier call made them and died before its sync: they exist, not yet durable.
    const root = makeTemp()
    const dir = path.join(root, 'x', 'y')
    fs.mkdirSync(dir, { recursive: true })
    const done = synced(() => {
      mkdirDurableSync(dir, { ancestors: true })
    })
    expect(done.slice(0, 2)).toEqual([path.join(root, 'x'), root])
    expect(done.at(-1)).toBe('/')
  })

  it('passes over an ancestor this user may not open (mode 0711), never one it made now', () => {
    const root = makeTemp()
    const dir = path.join(root, 'x', 'y')
    fs.mkdirSync(dir, { recursive: true })
    const open = fs.openSync.bind(fs)
    const denied = (target: string) =>
      vi.spyOn(fs, 'openSync').mockImplementation((file: fs.PathLike, flags?: fs.OpenMode) => {
        if (String(file) === target)
          throw Object.assign(new Error(`EACCES: ${target}`), { code: 'EACCES' })
        return open(file, flags ?? 'r')
      })
    denied(root)
    expect(() => {
      mkdirDurableSync(dir, { ancestors: true })
    }).not.toThrow()
    vi.restoreAllMocks()
    // Made now: its parent must be synced, or the call fails.
    const fresh = path.join(root, 'new', 'deeper')
    denied(path.join(root, 'new'))
    expect(() => {
      mkdirDurableSync(fresh, { ancestors: true })
    }).toThrow(/EACCES/)
  })
})
