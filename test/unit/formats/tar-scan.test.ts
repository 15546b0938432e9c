import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { packTar as packed } from '../../tar-pack.js'
import { afterAll, describe, expect, it } from 'vitest'
import { Budget, DEFAULT_LIMITS } from '../../../src/formats/limits.js'
import { memorySink, type ScanResult } from '../../../src/formats/member.js'
import { scanTar } from '../../../src/formats/tar.js'
import { FileChunks } from '../../../src/formats/file-chunks.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tar-scan-'))
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})
let files = 0

/** What a scan found, every member kept, as plain data. */
function contentOf(scan: ScanResult) {
  const kept: Record<string, string> = {}
  for (const [key, source] of scan.captured)
    kept[key] = (source.buffer ?? Buffer.alloc(0)).toString('hex')
  return { inventory: scan.inventory, kept }
}

describe('scanTar', () => {
  it('finds the same members, digests and content in a file read into reused buffers as in a stream', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            // Names past 100 bytes come with a PAX header, one more block before the entry.
            name: fc.stringMatching(/^[a-z]{1,150}$/),
            body: fc.uint8Array({ maxLength: 2000 }).map((u) => Buffer.from(u)),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.integer({ min: 1, max: 1500 }),
        async (entries, chunkSize) => {
          const bytes = await packed(entries)
          const file = path.join(dir, `t${files++}.tar`)
          fs.writeFileSync(file, bytes)
          // Every member kept: the sink holds its pieces until the next entry is read.
          const keepAll = (key: string) => memorySink(key)
          const streamed = await scanTar(
            Readable.from([bytes]),
            'x.tar',
            new Budget(DEFAULT_LIMITS),
            keepAll,
          )
          const chunks = new FileChunks(file, { chunkSize, poison: true })
          let lent: ScanResult
          try {
            lent = await scanTar(chunks, 'x.tar', new Budget(DEFAULT_LIMITS), keepAll)
          } finally {
            chunks.close()
          }
          expect(contentOf(lent)).toEqual(contentOf(streamed))
          expect(streamed.inventory.members.map((m) => m.size)).toEqual(
            entries.map((e) => e.body.length),
          )
        },
      ),
      { numRuns: 80 },
    )
  })
})
