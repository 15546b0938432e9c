import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { exitCodeFor, fileProblem, ReproofError, unreadable } from '../../src/errors.js'
import { cleanupTemp, makeTemp } from '../helpers.js'

afterEach(cleanupTemp)

/** The error the file system gives for reading `file`. */
function readError(file: string): unknown {
  try {
    fs.readFileSync(file)
  } catch (err) {
    return err
  }
  throw new Error(`${file} was read`)
}

describe('fileProblem says what the file system said, in words', () => {
  it('names a missing file with the words the caller gives', () => {
    const dir = makeTemp()
    expect(fileProblem(readError(path.join(dir, 'nope')), 'no such file')).toBe('no such file')
    // A path through a file is as missing as a path to nothing.
    fs.writeFileSync(path.join(dir, 'file'), '')
    expect(fileProblem(readError(path.join(dir, 'file', 'below')), 'no such key')).toBe(
      'no such key',
    )
  })

  it('says a directory is a directory and a loop is a loop, not that they are missing', () => {
    const dir = makeTemp()
    expect(fileProblem(readError(dir), 'no such file')).toBe('is a directory')
    fs.symlinkSync('loop', path.join(dir, 'loop'))
    expect(fileProblem(readError(path.join(dir, 'loop')), 'no such file')).toBe(
      'a loop of symbolic links',
    )
  })

  it('says permission denied, and gives the code of anything else', () => {
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })
    expect(fileProblem(denied, 'no such file')).toBe('permission denied')
    const io = Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })
    expect(fileProblem(io, 'no such file')).toBe('cannot be read (EIO)')
    expect(fileProblem(new Error('odd'), 'no such file')).toBe('cannot be read (odd)')
  })
})

describe('ReproofError', () => {
  it('keeps the cause it was given, and maps every code to its documented exit', () => {
    const cause = new Error('underneath')
    const err = new ReproofError('E_INPUT', 'x: bad', { path: 'x' }, { cause })
    expect([err.cause, err.context.path, exitCodeFor(err.code)]).toEqual([cause, 'x', 2])
    expect(
      (
        [
          'E_REJECTED',
          'E_USAGE',
          'E_INPUT',
          'E_BUILD',
          'E_ENVIRONMENT',
          'E_LEDGER',
          'E_AMBIGUOUS',
          'E_INTERRUPTED',
        ] as const
      ).map(exitCodeFor),
    ).toEqual([1, 2, 2, 3, 3, 3, 4, 130])
  })
})

describe('unreadable', () => {
  it('says why a name given on a command line with U+FFFD is not found', () => {
    const dir = makeTemp()
    // The file is there under its bytes; the command line could only carry U+FFFD.
    fs.writeFileSync(Buffer.from(`${dir}/app\xff.txt`, 'latin1'), 'x')
    const given = path.join(dir, 'app\ufffd.txt')
    const err = unreadable(given, given, readError(given), 'no such artifact')
    expect(err.code).toBe('E_INPUT')
    expect(err.message).toBe(
      `${given}: no such artifact; its name holds U+FFFD, which a name that is not UTF-8 becomes on a command line (Node reads arguments as UTF-8): rename it, or name it through a path that is UTF-8`,
    )
    const plain = path.join(dir, 'missing.txt')
    expect(unreadable(plain, plain, readError(plain), 'no such artifact').message).toBe(
      `${plain}: no such artifact`,
    )
  })
})
