import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupTemp, makeTemp, spawnCli } from '../helpers.js'

afterEach(cleanupTemp)

describe('reproof diff of trees that change while they are compared', () => {
  it('never calls them identical, and never reads through a link swapped in, whatever the timing', async () => {
    const dir = makeTemp()
    const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')]
    fs.mkdirSync(a)
    fs.mkdirSync(b)
    for (let i = 0; i < 300; i++) {
      fs.writeFileSync(path.join(a, `f${i}`), `${i}\n`)
      fs.writeFileSync(path.join(b, `f${i}`), `${i}\n`)
    }
    // a/z is never b/z's bytes, but a link to a file outside that holds them; a/y is
    // never b/y, and a link to a file outside whose bytes must never be shown.
    fs.writeFileSync(path.join(dir, 'copy'), 'what b holds\n')
    fs.writeFileSync(path.join(dir, 'secret'), 'SECRET-OUTSIDE-THE-TREE\n')
    fs.writeFileSync(path.join(b, 'z'), 'what b holds\n')
    fs.writeFileSync(path.join(b, 'y'), 'DDDD\n')
    fs.writeFileSync(path.join(a, 'z'), 'AAAA\n')
    fs.writeFileSync(path.join(a, 'y'), 'CCCC\n')
    // Each name swapped atomically between the file and the link, without end.
    const swapper = spawn(
      'bash',
      [
        '-c',
        // The new names are made beside the trees, so the walk never meets them.
        `cd "$1" && while :; do
           ln -sfn ../copy .z && mv -T .z a/z; ln -sfn ../secret .y && mv -T .y a/y
           printf 'AAAA\\n' > .z && mv -T .z a/z; printf 'CCCC\\n' > .y && mv -T .y a/y
         done`,
        'swap',
        dir,
      ],
      // A group of its own, so that the ln or mv running at the end goes with it.
      { stdio: 'ignore', detached: true },
    )
    const exited = new Promise((resolve) => swapper.once('exit', resolve))
    try {
      for (let run = 0; run < 15; run++) {
        const { code, stdout, stderr } = await spawnCli(['diff', a, b, '--json'])
        // A difference found (1), or a tree that changed under the comparison (4).
        expect([1, 4], stderr).toContain(code)
        expect(stdout + stderr).not.toContain('SECRET-OUTSIDE-THE-TREE')
      }
    } finally {
      // Gone, with its children, before the directory is removed: a last `ln` made a
      // file there while it was being emptied (ENOTEMPTY).
      if (swapper.pid !== undefined) process.kill(-swapper.pid, 'SIGKILL')
      await exited
    }
  })
})
