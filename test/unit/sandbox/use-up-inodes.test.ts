import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { useUpInodes } from '../../../src/sandbox/use-up-inodes.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterAll(cleanupTemp)

describe('useUpInodes', () => {
  it('leaves nothing behind and numbers the next file later, on tmpfs', () => {
    // /dev/shm is tmpfs here, whose inode numbers only go up within one file system.
    const dir = makeTemp('inodes-', fs.existsSync('/dev/shm') ? '/dev/shm' : undefined)
    const before = fs.statSync(path.join(dir, mk(dir, 'first'))).ino
    useUpInodes(dir, 100)
    expect(fs.readdirSync(dir)).toEqual(['first'])
    const after = fs.statSync(path.join(dir, mk(dir, 'second'))).ino
    expect(after - before).toBeGreaterThanOrEqual(100)
    useUpInodes(dir, 0)
    expect(fs.readdirSync(dir).sort()).toEqual(['first', 'second'])
  })
})

function mk(dir: string, name: string): string {
  fs.writeFileSync(path.join(dir, name), '')
  return name
}
