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
  it('gives each file its SHA-256, size and mode, in the order asked, in workers or not, names as bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        // 64 files or more go to worker threads when the byte count given is large, or
        // when none is given and the first 64 suggest a large rest; fewer stay here.
        fc.oneof(
          fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 12 }),
          fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 64, maxLength: 80 }),
        ),
        fc.constantFrom(undefined, 1000, 1 << 30),
        async (contents, totalBytes) => {
          const dir = makeTemp()
          // Every third name is not UTF-8, opened by its bytes (a Buffer path).
          const files = contents.map((bytes, i) => {
            const file =
              i % 3 === 1
                ? Buffer.concat([Buffer.from(`${dir}/f${i}`), Buffer.from([0xff])])
                : path.join(dir, `f${i}`)
            fs.writeFileSync(file, bytes, { mode: i % 2 === 0 ? 0o644 : 0o755 })
            return file
          })
          const digests = await hashFiles(files, { totalBytes })
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

  it('hashes files at the edges of its 1 MiB reads, and a large tree sampled to workers', async () => {
    const dir = makeTemp()
    const MiB = 1024 * 1024
    const edges = [0, 1, MiB - 1, MiB, MiB + 1, 2 * MiB, 2 * MiB + 3]
    // 64 files of 1 MiB or more first: their sizes put the rest (more than 64 MiB) on
    // worker threads. Sparse, so that the test writes almost nothing.
    const sizes = [...Array.from({ length: 64 }, (_, i) => MiB + i), ...edges, ...edges]
    const files = sizes.map((size, i) => {
      const file = path.join(dir, `f${i}`)
      fs.writeFileSync(file, `${i}:`)
      fs.truncateSync(file, Math.max(size, 0))
      return file
    })
    for (const digests of [await hashFiles(files), await hashFiles(files.slice(64))])
      expect(digests.map((d) => [d.sha256, d.size])).toEqual(
        files
          .slice(files.length - digests.length)
          .map((file) => [sha256(fs.readFileSync(file)), fs.statSync(file).size]),
      )
  })

  it('hands names that are not UTF-8 to the worker threads as bytes', async () => {
    // 300 sparse files of 1 MiB: long enough to hash that the workers, once started,
    // take a share; every third name is not UTF-8.
    const dir = makeTemp()
    const files = Array.from({ length: 300 }, (_, i) => {
      const file =
        i % 3 === 1
          ? Buffer.concat([Buffer.from(`${dir}/f${i}`), Buffer.from([0xff])])
          : path.join(dir, `f${i}`)
      fs.writeFileSync(file, `${i}:`)
      fs.truncateSync(file, 1024 * 1024)
      return file
    })
    const digests = await hashFiles(files, { totalBytes: 300 * 1024 * 1024 })
    expect(digests.map((d) => d.sha256)).toEqual(files.map((f) => sha256(fs.readFileSync(f))))
  })

  it('refuses a text path holding NUL rather than hand a worker shifted paths', async () => {
    const dir = makeTemp()
    const files = Array.from({ length: 70 }, (_, i) => path.join(dir, `f${i}`))
    for (const file of files) fs.writeFileSync(file, 'x')
    files[3] = `${dir}/f\u00003`
    await expect(hashFiles(files, { totalBytes: 1 << 30 })).rejects.toThrow(/NUL/)
  })

  it('fails with the error of a file that cannot be read, whichever thread meets it', async () => {
    const dir = makeTemp()
    const files = Array.from({ length: 300 }, (_, i) => {
      const file = path.join(dir, `f${i}`)
      if (i !== 150) fs.writeFileSync(file, `${i}`)
      return file
    })
    for (const totalBytes of [undefined, 1 << 30])
      await expect(hashFiles(files, { totalBytes })).rejects.toMatchObject({
        message: expect.stringContaining('f150') as unknown,
      })
  })

  it('follows no link put in a file’s place when asked not to, in this thread or a worker', async () => {
    const dir = makeTemp()
    fs.writeFileSync(path.join(dir, 'outside'), 'secret')
    const files = Array.from({ length: 300 }, (_, i) => {
      const file = path.join(dir, `f${i}`)
      if (i === 150) fs.symlinkSync(path.join(dir, 'outside'), file)
      else fs.writeFileSync(file, `${i}`)
      return file
    })
    for (const totalBytes of [undefined, 1 << 30]) {
      await expect(hashFiles(files, { totalBytes, noFollow: true })).rejects.toMatchObject({
        code: 'ELOOP',
      })
      // Unasked, a link is read through (a build's link artifacts).
      const digests = await hashFiles(files, { totalBytes })
      expect(digests[150]?.sha256).toBe(sha256(Buffer.from('secret')))
    }
    await expect(hashFiles([files[150] ?? ''], { noFollow: true })).rejects.toMatchObject({
      code: 'ELOOP',
    })
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
