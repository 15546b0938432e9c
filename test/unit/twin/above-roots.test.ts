import { describe, expect, it } from 'vitest'
import { aboveRoots } from '../../../src/twin/prepare-runs.js'

const layout = (id: 'a' | 'b', dir: string, root: string) => ({
  id,
  dir,
  root,
  home: `${dir}/home`,
  tmp: `${dir}/tmp`,
  stdoutLog: `${dir}/stdout.log`,
  stderrLog: `${dir}/stderr.log`,
})

describe('aboveRoots', () => {
  const workspace = {
    base: '/w',
    layouts: {
      a: layout('a', '/w/a', '/w/a/app'),
      b: layout('b', '/w/b-path-c', '/w/b-path-c/src-c/app-c'),
    },
  }

  it('pairs the directories above each root by how far up, within the workspace', () => {
    const levels = aboveRoots(workspace, { a: '/w/a/home', b: '/w/b-path-c/home-missing-c' })
    expect(levels.map((l) => [l.label, l.a, l.b])).toEqual([
      ['..', '/w/a', '/w/b-path-c/src-c'],
      ['../..', '/w', '/w/b-path-c'],
    ])
    // Each leaves out the way down to the root, $HOME as given, $TMPDIR and the other run.
    expect(levels[0]?.skip).toEqual({
      a: ['/w/a/app', '/w/a/home', '/w/a/tmp', '/w/b-path-c'],
      b: ['/w/b-path-c/src-c/app-c', '/w/b-path-c/home-missing-c', '/w/b-path-c/tmp', '/w/a'],
    })
    expect(levels[1]?.skip.a).toContain('/w/a')
    expect(levels[1]?.skip.b).toContain('/w/b-path-c/src-c')
  })

  it('never climbs out of the workspace', () => {
    for (const level of aboveRoots(workspace, { a: '/h', b: '/h' }))
      for (const dir of [level.a, level.b]) expect(dir === '/w' || dir.startsWith('/w/')).toBe(true)
  })

  it("in the sandbox, pairs run B's workspace with what lies above run A's, where that is private", () => {
    const shm = {
      base: '/dev/shm/p/w',
      layouts: {
        a: layout('a', '/dev/shm/p/w/a', '/dev/shm/p/w/a/app'),
        b: layout('b', '/dev/shm/p/w/b-path-c', '/dev/shm/p/w/b-path-c/src-c/app-c'),
      },
    }
    const homes = { a: '/h', b: '/h' }
    expect(aboveRoots(shm, homes, true).map((l) => [l.label, l.a, l.b, l.skip.a])).toEqual([
      ['..', '/dev/shm/p/w/a', '/dev/shm/p/w/b-path-c/src-c', expect.any(Array)],
      ['../..', '/dev/shm/p/w', '/dev/shm/p/w/b-path-c', expect.any(Array)],
      ['../../..', '/dev/shm/p', '/dev/shm/p/w', ['/dev/shm/p/w']],
    ])
    // Outside the sandbox, or above a workspace on a disk (read-only there): not read.
    expect(aboveRoots(shm, homes, false)).toHaveLength(2)
    expect(aboveRoots(workspace, homes, true)).toHaveLength(2)
  })
})
