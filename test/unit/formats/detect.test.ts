import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { detectFileFormat } from '../../../src/formats/detect.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

const head = (file: string): Buffer => fs.readFileSync(file).subarray(0, 512)

describe('detectFileFormat', () => {
  it('names each format from what real tools write', () => {
    const dir = makeTemp()
    fs.writeFileSync(path.join(dir, 'a.txt'), 'hello\n')
    const run = (cmd: string, args: string[], input?: string) =>
      execFileSync(cmd, args, {
        cwd: dir,
        stdio: ['pipe', 'pipe', 'ignore'],
        ...(input === undefined ? {} : { input }),
      })
    run('tar', ['-cf', 'a.tar', 'a.txt'])
    run('cp', ['a.txt', 'b.txt'])
    run('gzip', ['-k', 'b.txt'])
    run('ar', ['rc', 'a.a', 'a.txt'])
    fs.writeFileSync(path.join(dir, 'a.cpio'), run('cpio', ['-o', '-H', 'newc'], 'a.txt'))
    expect(detectFileFormat(head(path.join(dir, 'a.tar')))).toBe('tar')
    expect(detectFileFormat(head(path.join(dir, 'b.txt.gz')))).toBe('gzip')
    expect(detectFileFormat(head(path.join(dir, 'a.a')))).toBe('ar')
    expect(detectFileFormat(head(path.join(dir, 'a.cpio')))).toBe('cpio')
    expect(detectFileFormat(head(path.join(dir, 'a.txt')))).toBeUndefined()
    expect(detectFileFormat(zlib.gzipSync('x'))).toBe('gzip')
  })

  it('knows a gettext catalog in either byte order and a PNG by its signature', () => {
    const le = Buffer.alloc(28)
    le.writeUInt32LE(0x950412de, 0)
    const be = Buffer.alloc(28)
    be.writeUInt32BE(0x950412de, 0)
    expect(detectFileFormat(le)).toBe('mo')
    expect(detectFileFormat(be)).toBe('mo')
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])
    expect(detectFileFormat(png)).toBe('png')
    expect(detectFileFormat(png.subarray(0, 7))).toBeUndefined()
  })

  it('never names a format for bytes that start with none of the magic numbers', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const b = Buffer.from(bytes)
        const magicStart = [0x1f, 0x42, 0xfd, 0x28, 0x50, 0x21, 0x30, 0xc7, 0x71, 0xde, 0x95, 0x89]
        fc.pre(b.length === 0 || !magicStart.includes(b[0] ?? -1))
        fc.pre(b.subarray(257, 262).toString('latin1') !== 'ustar')
        expect(detectFileFormat(b)).toBeUndefined()
      }),
    )
  })
})
