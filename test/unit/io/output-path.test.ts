import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  canonicalFile,
  checkDistinctFiles,
  checkOutputDir,
  checkOutputFile,
} from '../../../src/io/output-path.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

describe('checkOutputFile', () => {
  it('accepts a file that exists or can be created, even under directories yet to be made', () => {
    const dir = makeTemp()
    fs.writeFileSync(path.join(dir, 'old.json'), '{}')
    for (const file of ['old.json', 'new.json', 'a/b/new.json'])
      expect(() => {
        checkOutputFile('--out', path.join(dir, file))
      }).not.toThrow()
  })

  it('refuses a device or a FIFO, which the rename would replace with a regular file', () => {
    const dir = makeTemp()
    const fifo = path.join(dir, 'fifo')
    execFileSync('mkfifo', [fifo])
    for (const file of [fifo, '/dev/null'])
      expect(() => {
        checkOutputFile('-o', file)
      }).toThrow(/is not a regular file \(a device, FIFO or socket\)/)
    expect(fs.statSync('/dev/null').isCharacterDevice()).toBe(true)
  })

  it('refuses a directory, and a path under a file, naming the flag and the path', () => {
    const dir = makeTemp()
    fs.mkdirSync(path.join(dir, 'taken'))
    fs.writeFileSync(path.join(dir, 'file'), '')
    expect(() => {
      checkOutputFile('--bundle', path.join(dir, 'taken'))
    }).toThrow(/^--bundle .*taken: is a directory/)
    expect(() => {
      checkOutputFile('--bundle', path.join(dir, 'file', 'x.json'))
    }).toThrow(/^--bundle .*x\.json: a parent is not a directory/)
    expect(() => {
      checkOutputFile('--bundle', path.join(dir, 'file', 'deeper', 'x.json'))
    }).toThrow(/^--bundle .*x\.json: /)
  })
})

describe('checkOutputDir', () => {
  it('accepts a directory or a path where one can be made, and names the file in the way', () => {
    const dir = makeTemp()
    fs.writeFileSync(path.join(dir, 'file'), '')
    for (const ok of [dir, path.join(dir, 'a', 'b')])
      expect(() => {
        checkOutputDir('--out-dir', ok)
      }).not.toThrow()
    expect(() => {
      checkOutputDir('--out-dir', path.join(dir, 'file'))
    }).toThrow(/^--out-dir .*file: not a directory$/)
    expect(() => {
      checkOutputDir('--state-dir', path.join(dir, 'file', 'a', 'b'))
    }).toThrow(/^--state-dir .*b: .*file is not a directory$/)
  })
})

describe('checkDistinctFiles', () => {
  it('sees one file through a link, even below directories not made yet', () => {
    const dir = makeTemp()
    fs.mkdirSync(path.join(dir, 'real'))
    fs.symlinkSync('real', path.join(dir, 'lnk'))
    const via = path.join(dir, 'lnk', 'new', 'b.json')
    const real = path.join(dir, 'real', 'new', 'b.json')
    expect(canonicalFile(via)).toBe(canonicalFile(real))
    expect(() => {
      checkDistinctFiles([
        { flag: '--bundle', file: via },
        { flag: '--statement', file: real },
      ])
    }).toThrow(/--statement .*: the same file as --bundle/)
    expect(() => {
      checkDistinctFiles([
        { flag: '--bundle', file: via },
        { flag: '--statement', file: path.join(dir, 'real', 'new', 's.json') },
      ])
    }).not.toThrow()
  })
})
