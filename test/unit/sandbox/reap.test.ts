import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { BuildOptions } from '../../../src/config/build-options.js'
import { isReproofError } from '../../../src/errors.js'
import { reapUntilGone, type ProcessInfo } from '../../../src/sandbox/process.js'
import type { RunId, RunSetup } from '../../../src/sandbox/run-plan.js'
import { runTwice, type RunContext } from '../../../src/twin/run-twice.js'

const started: number[] = []
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
})

function sleeper(): number {
  const child = spawn('sleep', ['600'], { stdio: 'ignore', detached: true })
  child.unref()
  if (child.pid === undefined) throw new Error('sleep did not start')
  started.push(child.pid)
  return child.pid
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch {
    return false
  }
}

const killAll = (left: ProcessInfo[]): Promise<void> => {
  for (const p of left) process.kill(p.pid, 'SIGKILL')
  return Promise.resolve()
}

describe('reapUntilGone', () => {
  it('lists again after killing, and kills what an earlier listing missed', async () => {
    const seen = sleeper()
    const missed = sleeper()
    let listings = 0
    // The first listing misses one process, as a listing can miss one between fork and
    // exec; the loop ends only when a listing finds nothing.
    const list = (): Promise<ProcessInfo[]> => {
      listings++
      const pids = listings === 1 ? [seen] : [seen, missed]
      return Promise.resolve(pids.filter(alive).map((pid) => ({ pid, name: `p${pid}` })))
    }
    const names = await reapUntilGone(list, killAll)
    expect(names.sort()).toEqual([`p${seen}`, `p${missed}`].sort())
    expect(alive(seen)).toBe(false)
    expect(alive(missed)).toBe(false)
  })

  it('takes no single empty listing for the end: a second one finds what it missed', async () => {
    const missed = sleeper()
    let listings = 0
    // The first listing finds nothing (the process between fork and exec, say).
    const list = (): Promise<ProcessInfo[]> => {
      listings++
      const pids = listings === 1 ? [] : [missed]
      return Promise.resolve(pids.filter(alive).map((pid) => ({ pid, name: 'late' })))
    }
    expect(await reapUntilGone(list, killAll)).toEqual(['late'])
    expect(alive(missed)).toBe(false)
  })

  it('fails the run, naming them, when what was left is still running at the deadline', async () => {
    const pid = sleeper()
    const list = (): Promise<ProcessInfo[]> => Promise.resolve([{ pid, name: 'stubborn' }])
    const error = await reapUntilGone(list, () => Promise.resolve(), 200).catch((e: unknown) => e)
    expect(isReproofError(error) && error.code).toBe('E_ENVIRONMENT')
    expect((error as Error).message).toMatch(
      /could not be stopped \(stubborn\).*nothing was compared/,
    )
  })
})

describe('runTwice, when what a run left behind cannot be stopped', () => {
  it('reports that error, stops the other run, and never crashes on it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reproof-reap-'))
    try {
      const context = (id: RunId, reap: () => Promise<string[]>): RunContext => {
        const runDir = path.join(dir, id)
        fs.mkdirSync(runDir)
        const setup = {
          id,
          layout: {
            id,
            dir: runDir,
            root: runDir,
            home: runDir,
            tmp: runDir,
            stdoutLog: path.join(runDir, 'stdout'),
            stderrLog: path.join(runDir, 'stderr'),
          },
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: runDir },
          launcher: [],
          creationOrder: 'ascending',
          minStartGapMs: 0,
          mkdirs: [],
          files: [],
          hostname: 'h',
          domainname: 'd',
          firstPid: 0,
          inodeOffset: 0,
        } satisfies RunSetup
        return { setup, enter: [], cwd: runDir, reap, variedWith: 'path' }
      }
      const stuck = (): Promise<string[]> =>
        Promise.reject(new Error('the build left processes that could not be stopped'))
      let reapedB = false
      const runs = {
        // A ends at once and cannot be cleaned up; B would run for ten minutes.
        a: context('a', stuck),
        b: context('b', () => {
          reapedB = true
          return Promise.resolve([])
        }),
      }
      const options = {
        command: ['sh', '-c', 'test "$HOME" = "${HOME%/b}" || exec sleep 600'],
        sequential: false,
      } as unknown as BuildOptions
      const t0 = Date.now()
      const error = await runTwice(runs, options, {}, () => undefined).catch((e: unknown) => e)
      expect((error as Error).message).toMatch(/could not be stopped/)
      expect(Date.now() - t0).toBeLessThan(60_000)
      expect(reapedB).toBe(true)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
