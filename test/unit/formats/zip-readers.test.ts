import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import yauzl from 'yauzl'
import { afterEach, describe, expect, it } from 'vitest'
import { BytesReader } from '../../../src/formats/zip-offset-reader.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

const readAt = (reader: BytesReader, length: number, position: number) =>
  new Promise<{ n: number; bytes: Buffer }>((resolve, reject) => {
    const buffer = Buffer.alloc(length)
    reader.read(buffer, 0, length, position, (err, n) => {
      if (err !== null) reject(err)
      else resolve({ n, bytes: buffer.subarray(0, n) })
    })
  })

describe('BytesReader', () => {
  it('reads what a slice of its bytes holds, and nothing past their end', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 64 }),
        fc.nat(100),
        fc.nat(100),
        async (bytes, length, position) => {
          const source = Buffer.from(bytes)
          const { n, bytes: read } = await readAt(new BytesReader(source), length, position)
          const expected = source.subarray(position, position + length)
          expect(n).toBe(expected.length)
          expect(read.equals(expected)).toBe(true)
        },
      ),
    )
  })

  it('lets yauzl list and read a zip, and refuse one cut short', async () => {
    const dir = makeTemp()
    fs.writeFileSync(path.join(dir, 'a.txt'), 'alpha\n'.repeat(100))
    fs.writeFileSync(path.join(dir, 'b.txt'), 'beta\n')
    execFileSync('zip', ['-q', 'x.zip', 'a.txt', 'b.txt'], { cwd: dir })
    const bytes = fs.readFileSync(path.join(dir, 'x.zip'))
    const open = (b: Buffer) =>
      new Promise<yauzl.ZipFile>((resolve, reject) => {
        yauzl.fromRandomAccessReader(
          new BytesReader(b),
          b.length,
          { lazyEntries: true, autoClose: false },
          (err, zip) => {
            if (err !== null) reject(err)
            else resolve(zip)
          },
        )
      })
    const zip = await open(bytes)
    const contents = await new Promise<Record<string, string>>((resolve, reject) => {
      const out: Record<string, string> = {}
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (err, stream) => {
          if (err !== null) {
            reject(err)
            return
          }
          const chunks: Buffer[] = []
          stream.on('data', (c: Buffer) => chunks.push(c))
          stream.on('end', () => {
            out[entry.fileName] = Buffer.concat(chunks).toString()
            zip.readEntry()
          })
        })
      })
      zip.on('end', () => {
        resolve(out)
      })
      zip.on('error', reject)
      zip.readEntry()
    })
    expect(contents).toEqual({ 'a.txt': 'alpha\n'.repeat(100), 'b.txt': 'beta\n' })
    // The central directory cut off: its last entry runs past the end.
    const cut = Buffer.concat([bytes.subarray(0, bytes.length - 30), Buffer.alloc(0)])
    await expect(open(cut)).rejects.toThrow()
  })
})
