import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { hashFile, hashFiles } from '../../../src/digest/hash-file.js'
import { manifestDigest, type Manifest } from '../../../src/digest/manifest-digest.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

const sha256 = (bytes: Uint8Array): string =>
  crypto.createHash('sha256').update(bytes).digest('hex')

describe('hashFiles', () => {
  it('gives each file its SHA-256, size and mode, in the order asked, in workers or not', async () => {
    await fc.assert(
      fc.asyncProperty(
        // 64 files or more (and no byte count given) go to worker threads; fewer stay here.
        fc.oneof(
          fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 12 }),
          fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 64, maxLength: 80 }),
        ),
        async (contents) => {
          const dir = makeTemp()
          const files = contents.map((bytes, i) => {
            const file = path.join(dir, `f${i}`)
            fs.writeFileSync(file, bytes, { mode: i % 2 === 0 ? 0o644 : 0o755 })
            return file
          })
          const digests = await hashFiles(files)
          expect(digests.map((d) => [d.sha256, d.size])).toEqual(
            contents.map((bytes) => [sha256(bytes), bytes.length]),
          )
          expect(digests.map((d) => d.mode & 0o777)).toEqual(
            contents.map((_, i) => (i % 2 === 0 ? 0o644 : 0o755)),
          )
        },
      ),
      { numRuns: 20 },
    )
  })

  it('hashes a file larger than its read buffer, and a name that is not UTF-8', async () => {
    const dir = makeTemp()
    const bytes = crypto.randomBytes(5 * 1024 * 1024 + 7)
    const name = Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0x66, 0xff, 0x66])])
    fs.writeFileSync(name, bytes)
    expect((await hashFile(name)).sha256).toBe(sha256(bytes))
  })
})

describe('manifestDigest', () => {
  const entry = fc.record(
    {
      name: fc.string({ minLength: 1 }),
      sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
      size: fc.nat(),
      executable: fc.constant(true as const),
    },
    { requiredKeys: ['name', 'sha256', 'size'] },
  )

  it('does not depend on the order of an entry’s fields, and changes with any of them', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 6 }), fc.nat(), (manifest: Manifest, pick) => {
        const reordered = manifest.map((e) => Object.fromEntries(Object.entries(e).reverse()))
        expect(manifestDigest(reordered as Manifest)).toBe(manifestDigest(manifest))
        if (manifest.length === 0) return
        const i = pick % manifest.length
        const changed = manifest.map((e, j) => (j === i ? { ...e, size: e.size + 1 } : e))
        expect(manifestDigest(changed)).not.toBe(manifestDigest(manifest))
        const flipped = manifest.map((e, j) => {
          if (j !== i) return e
          const { executable, ...rest } = e
          return executable === true ? rest : { ...rest, executable: true as const }
        })
        expect(manifestDigest(flipped)).not.toBe(manifestDigest(manifest))
      }),
    )
  })
})
