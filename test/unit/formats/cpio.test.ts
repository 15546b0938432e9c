import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { scanCpio } from '../../../src/formats/cpio.js'
import { memorySink } from '../../../src/formats/member.js'
import { Budget, DEFAULT_LIMITS } from '../../../src/formats/limits.js'
import { ReproofError } from '../../../src/errors.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

/** A cpio archive of a file, a directory and a link, written by GNU cpio in `format`. */
function archive(format: string): Buffer {
  const dir = makeTemp()
  fs.mkdirSync(path.join(dir, 'd'))
  fs.writeFileSync(path.join(dir, 'd/file.txt'), 'hello\n')
  fs.chmodSync(path.join(dir, 'd/file.txt'), 0o640)
  fs.symlinkSync('file.txt', path.join(dir, 'd/link'))
  fs.utimesSync(path.join(dir, 'd/file.txt'), 1_700_000_000, 1_700_000_000)
  return execFileSync('cpio', ['-o', '-H', format], {
    cwd: dir,
    input: 'd\nd/file.txt\nd/link\n',
    stdio: ['pipe', 'pipe', 'ignore'],
  })
}

const scan = (bytes: Buffer) =>
  scanCpio(Readable.from([bytes]), 'x.cpio', new Budget(DEFAULT_LIMITS), (key) => memorySink(key))

describe('scanCpio', () => {
  for (const format of ['newc', 'crc', 'odc', 'bin']) {
    it(`reads what GNU cpio writes as ${format}: types, modes, times, content and link targets`, async () => {
      const { inventory, captured } = await scan(archive(format))
      const byName = new Map(inventory.members.map((m) => [m.name, m]))
      expect([...byName.keys()]).toEqual(['d', 'd/file.txt', 'd/link'])
      expect(byName.get('d')?.type).toBe('directory')
      expect(byName.get('d/file.txt')).toMatchObject({
        type: 'file',
        size: 6,
        meta: { mode: '0640', mtime: '2023-11-14T22:13:20Z (1700000000)' },
      })
      expect(captured.get('d/file.txt')?.buffer?.toString()).toBe('hello\n')
      expect(byName.get('d/link')).toMatchObject({ type: 'symlink', linkTarget: 'file.txt' })
    })
  }

  it("shows a crc archive's checksum, and the sum of the data where the two disagree", async () => {
    const good = archive('crc')
    const at = good.indexOf('070702', 1, 'latin1')
    const bad = Buffer.from(good)
    // The second header is the file's; its check field is the thirteenth, 6 + 12 * 8 in.
    bad.write('00001234', at + 102, 'latin1')
    const meta = async (bytes: Buffer) =>
      (await scan(bytes)).inventory.members.find((m) => m.name === 'd/file.txt')?.meta
    // "hello\n" sums to 0x21E.
    expect((await meta(good))?.checksum).toBe('0000021E')
    expect((await meta(bad))?.checksum).toBe('00001234 (the data sums to 0000021E)')
    expect((await scan(good)).inventory.meta.format).toBe('crc')
    expect((await meta(archive('newc')))?.checksum).toBeUndefined()
    // A link's target is data too, which GNU cpio does not sum: its check field is 0.
    const link = (await scan(good)).inventory.members.find((m) => m.name === 'd/link')
    expect(link?.meta.checksum).toBeUndefined()
    expect(link?.meta['check field']).toBeUndefined()
  })

  it('refuses every truncation or corruption with a reproof error, never anything else', async () => {
    const real = archive('newc')
    const old = archive('bin')
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.nat(),
        fc.array(fc.record({ at: fc.nat(), value: fc.nat({ max: 255 }) }), { maxLength: 6 }),
        async (useOld, cut, edits) => {
          const source = useOld ? old : real
          const bytes = Buffer.from(source.subarray(0, 6 + (cut % (source.length - 6))))
          for (const e of edits) bytes[e.at % bytes.length] = e.value
          try {
            await scan(bytes)
          } catch (err) {
            expect(err).toBeInstanceOf(ReproofError)
          }
        },
      ),
      { numRuns: 200 },
    )
  })
})

/** One newc entry: its header's fields as given (the rest 0), its name and its data. */
function newcEntry(
  name: string,
  fields: { mode: number; ino?: number; nlink?: number; devmajor?: number; rdevmajor?: number },
  data = Buffer.alloc(0),
): Buffer {
  const hex = (n: number): string => n.toString(16).padStart(8, '0')
  const nameBytes = Buffer.from(`${name}\0`)
  const values = [
    fields.ino ?? 0,
    fields.mode,
    0,
    0,
    fields.nlink ?? 1,
    0,
    data.length,
    fields.devmajor ?? 0,
    0,
    fields.rdevmajor ?? 0,
    0,
    nameBytes.length,
    0,
  ]
  const header = Buffer.from(`070701${values.map(hex).join('')}`)
  const pad = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4)
  return Buffer.concat([
    header,
    nameBytes,
    pad(header.length + nameBytes.length),
    data,
    pad(data.length),
  ])
}

describe('scanCpio: what the file system gave, and data beside no file', () => {
  it('names inode, link count, file system device, a non-device rdev and a directory’s data', async () => {
    const bytes = Buffer.concat([
      newcEntry('d', { mode: 0o40755, ino: 7, nlink: 2, devmajor: 8 }, Buffer.from('hidden')),
      newcEntry('f', { mode: 0o100644, ino: 9, rdevmajor: 3 }, Buffer.from('x')),
      newcEntry('TRAILER!!!', { mode: 0 }),
    ])
    const { inventory } = await scan(bytes)
    const [d, f] = inventory.members
    expect(d?.meta).toMatchObject({
      inode: '7',
      links: '2',
      'file system device': '8,0',
      data: expect.stringMatching(/^6 bytes, sha256 [0-9a-f]{64}$/) as unknown,
    })
    expect(f?.meta).toMatchObject({ inode: '9', links: '1', device: '3,0' })
    expect(f?.meta.data).toBeUndefined()
    expect(f?.meta['name field after its NUL']).toBeUndefined()
  })

  it('names the bytes a name field holds past its NUL, which no reader extracts', async () => {
    const bytes = Buffer.concat([
      newcEntry('f\0xy', { mode: 0o100644 }, Buffer.from('x')),
      newcEntry('TRAILER!!!', { mode: 0 }),
    ])
    const [f] = (await scan(bytes)).inventory.members
    expect(f?.name).toBe('f')
    expect(f?.meta['name field after its NUL']).toBe('787900')
  })
})
