import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { workTreeMatchesHead } from '../../src/sandbox/git.js'
import { cleanupTemp, git, makeTemp } from '../helpers.js'

afterEach(cleanupTemp)

/** A repository with a file, an executable and a link, committed. */
function repository(): string {
  const dir = makeTemp()
  fs.writeFileSync(path.join(dir, 'data.txt'), 'same bytes\n')
  fs.writeFileSync(path.join(dir, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 })
  fs.symlinkSync('data.txt', path.join(dir, 'link'))
  git(dir, ['init', '-q'])
  git(dir, ['add', '.'])
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@x.invalid', 'commit', '-qm', 'c'])
  return dir
}

describe('workTreeMatchesHead', () => {
  it('holds for a fresh checkout, and fails for each way the bytes the build takes differ', async () => {
    expect(await workTreeMatchesHead(repository())).toBe(true)
    const changes: Record<string, (dir: string) => void> = {
      'an exec bit set': (dir) => {
        fs.chmodSync(path.join(dir, 'data.txt'), 0o755)
      },
      'an exec bit cleared': (dir) => {
        fs.chmodSync(path.join(dir, 'run.sh'), 0o644)
      },
      // The same bytes through a link: the snapshot takes the link, not the bytes.
      'a file become a link to the same bytes': (dir) => {
        fs.writeFileSync(path.join(dir, 'copy.txt'), 'same bytes\n')
        fs.rmSync(path.join(dir, 'data.txt'))
        fs.symlinkSync('copy.txt', path.join(dir, 'data.txt'))
      },
      'a link to another target': (dir) => {
        fs.rmSync(path.join(dir, 'link'))
        fs.symlinkSync('run.sh', path.join(dir, 'link'))
      },
      'a link become a file': (dir) => {
        fs.rmSync(path.join(dir, 'link'))
        fs.writeFileSync(path.join(dir, 'link'), 'data.txt')
      },
      'a file removed': (dir) => {
        fs.rmSync(path.join(dir, 'data.txt'))
      },
      'a file of the same size rewritten': (dir) => {
        fs.writeFileSync(path.join(dir, 'data.txt'), 'SAME bytes\n')
      },
    }
    for (const [what, change] of Object.entries(changes)) {
      const dir = repository()
      change(dir)
      expect(await workTreeMatchesHead(dir), what).toBe(false)
    }
  })
})
