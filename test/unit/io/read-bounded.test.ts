import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { readBounded } from '../../../src/io/read-bounded.js'
import { cleanupTemp, makeTemp, thrown } from '../../helpers.js'

afterEach(cleanupTemp)

describe('readBounded', () => {
  it('reads a regular file of up to the limit whole, and refuses one byte more', () => {
    const dir = makeTemp()
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), (bytes, max) => {
        const file = path.join(dir, 'f')
        fs.writeFileSync(file, bytes)
        if (bytes.length <= max) {
          expect(readBounded(file, max, '--x f')).toEqual(Buffer.from(bytes))
        } else {
          expect(thrown(() => readBounded(file, max, '--x f'))).toMatchObject({
            code: 'E_INPUT',
            message: `--x f: more than ${max} bytes; refused before parsing`,
          })
        }
      }),
    )
  })

  it('refuses a device, a FIFO with no writer and a directory at once, naming the input', () => {
    const dir = makeTemp()
    const fifo = path.join(dir, 'fifo')
    execFileSync('mkfifo', [fifo])
    for (const [file, what] of [
      ['/dev/zero', 'not a regular file (a FIFO, socket or device)'],
      [fifo, 'not a regular file (a FIFO, socket or device)'],
      [dir, 'a directory'],
    ] as const) {
      expect(thrown(() => readBounded(file, 1024, `--bundle ${file}`))).toMatchObject({
        code: 'E_INPUT',
        message: `--bundle ${file}: ${what}, not a file to read`,
      })
    }
    expect(thrown(() => readBounded(path.join(dir, 'none'), 1, '--key none'))).toMatchObject({
      code: 'E_INPUT',
      message: '--key none: no such file',
    })
  })
})
