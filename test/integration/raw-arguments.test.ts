import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { refuseMangledArguments } from '../../src/cli/raw-arguments.js'
import { BIN, cleanupTemp, makeTemp, runCli, spawnProgram } from '../helpers.js'

afterEach(cleanupTemp)

// Node reads a command line as UTF-8: the byte 0xff arrives as U+FFFD, the name of
// another file, which an attacker can put beside the real one.
describe('arguments that are not UTF-8', () => {
  it('are refused before anything is read, while a name typed with U+FFFD itself is taken', async () => {
    const dir = makeTemp()
    fs.writeFileSync(path.join(dir, 'app\ufffd'), 'the real artifact')
    fs.writeFileSync(Buffer.from(`${dir}/app\xff`, 'latin1'), 'another file')
    fs.writeFileSync(path.join(dir, 'ref'), 'the real artifact')
    const run = (name: string) =>
      spawnProgram([
        'sh',
        '-c',
        `exec "$0" "$1" diff "$(printf '%s/${name}' "$2")" "$2/ref"`,
        process.execPath,
        BIN,
        dir,
      ])
    const mangled = await run('app\\377')
    expect(mangled.code).toBe(2)
    expect(mangled.stdout).toBe('')
    expect(mangled.stderr).toMatch(/^reproof: argument '.*app\\xff' is not UTF-8: /)
    expect(mangled.stderr.trim().split('\n')).toHaveLength(1)
    // The same character typed as UTF-8 (EF BF BD) is a name like any other.
    const typed = await run('app\\357\\277\\275')
    expect(typed.code).toBe(0)
    expect(typed.stdout).toMatch(/^identical: /)
  })

  it('are refused in process, where no command line shows what was typed', async () => {
    const dir = makeTemp()
    const run = await runCli(['diff', path.join(dir, 'a\ufffd'), path.join(dir, 'b')])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/holds U\+FFFD, which Node makes of bytes that are not UTF-8/)
    expect(() => {
      refuseMangledArguments(['node', 'reproof', 'diff', 'a', 'b'])
    }).not.toThrow()
  })
})
