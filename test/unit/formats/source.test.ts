import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { heldFileSource, openFlags, readHead } from '../../../src/formats/source.js'
import { OffsetFileReader } from '../../../src/formats/zip-offset-reader.js'
import { scanZip } from '../../../src/formats/zip.js'
import { Budget, DEFAULT_LIMITS } from '../../../src/formats/limits.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'source-'))
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk)
  return Buffer.concat(chunks)
}

describe('heldFileSource', () => {
  it('reads a tree’s file only as the regular file it was, never through a link put in its place', async () => {
    const outside = path.join(dir, 'outside')
    fs.writeFileSync(outside, 'secret')
    const link = path.join(dir, 'link')
    fs.symlinkSync(outside, link)
    expect(() => heldFileSource(link, 'link')).toThrow(expect.objectContaining({ code: 'ELOOP' }))
    const fifo = path.join(dir, 'fifo')
    execFileSync('mkfifo', [fifo])
    // Never waits on a FIFO for a writer.
    expect(() => heldFileSource(fifo, 'fifo')).toThrow(
      expect.objectContaining({ code: 'E_AMBIGUOUS' }),
    )
    // A larger file, read as it is needed: every open after a swap refuses the link.
    const big = path.join(dir, 'big')
    fs.writeFileSync(big, Buffer.alloc(8192, 0x61))
    const source = heldFileSource(big, 'big', 4096)
    fs.rmSync(big)
    fs.symlinkSync(outside, big)
    await expect(readHead(source, 16)).rejects.toMatchObject({ code: 'ELOOP' })
    expect(() => source.open()).toThrow(expect.objectContaining({ code: 'ELOOP' }))
    // The zip reader's own reader of a file's range opens it with the source's flags.
    fs.symlinkSync(outside, path.join(dir, 'range-link'))
    expect(
      () => new OffsetFileReader(path.join(dir, 'range-link'), 0, undefined, openFlags(source)),
    ).toThrow(expect.objectContaining({ code: 'ELOOP' }))
    // The zip reader opens it again itself, with or without a prefix: never through a link.
    const zip = path.join(dir, 'z.zip')
    execFileSync('sh', ['-c', 'printf hi > m.txt && zip -q -X z.zip m.txt'], { cwd: dir })
    for (const prefix of ['', '#!/bin/sh\n']) {
      fs.writeFileSync(
        zip,
        Buffer.concat([Buffer.from(prefix), fs.readFileSync(path.join(dir, 'z.zip'))]),
      )
      const held = heldFileSource(zip, 'z.zip', 16)
      fs.renameSync(zip, `${zip}.real`)
      fs.symlinkSync(`${zip}.real`, zip)
      await expect(
        scanZip(held, 'z.zip', new Budget(DEFAULT_LIMITS), () => undefined),
      ).rejects.toMatchObject({ code: 'ELOOP' })
      fs.rmSync(zip)
      fs.renameSync(`${zip}.real`, zip)
    }
  })

  it('holds a small file whole and leaves a larger one on disk, the same bytes either way', async () => {
    for (const size of [0, 1, 4096, 4097]) {
      const file = path.join(dir, `f${size}`)
      const bytes = Buffer.alloc(size, 0x61)
      if (size > 0) bytes[size - 1] = 0x62
      fs.writeFileSync(file, bytes)
      const source = heldFileSource(file, 'label', 4096)
      expect(source.label).toBe('label')
      expect(source.size).toBe(size)
      expect(source.buffer !== undefined).toBe(size <= 4096)
      expect(source.file !== undefined).toBe(size > 4096)
      expect(await readAll(source.open() as AsyncIterable<Buffer>)).toEqual(bytes)
      expect(await readHead(source, 10)).toEqual(bytes.subarray(0, 10))
    }
  })
})
