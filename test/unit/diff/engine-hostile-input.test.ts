import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import fc from 'fast-check'
import tar from 'tar-stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DiffEngine } from '../../../src/diff/engine.js'
import { detectFormat } from '../../../src/formats/detect.js'
import { defaultHintContext } from '../../../src/diff/hints.js'
import { DEFAULT_LIMITS } from '../../../src/formats/limits.js'
import { bufferSource } from '../../../src/formats/source.js'
import { ReproofError } from '../../../src/errors.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

const limits = { ...DEFAULT_LIMITS, maxBytes: 64 * 1024 * 1024, maxEntries: 10_000 }

async function compareBuffers(a: Buffer, b: Buffer): Promise<DiffEngine> {
  const engine = new DiffEngine({
    maxLines: 50,
    limits,
    context: defaultHintContext([[], []], 1_700_000_000),
  })
  await engine.compare('x', bufferSource(a, 'x'), bufferSource(b, 'x'), 0)
  return engine
}

/** Either a report, or one of reproof's own errors (a limit): never a crash or a hang. */
async function survives(a: Buffer, b: Buffer): Promise<void> {
  try {
    const engine = await compareBuffers(a, b)
    if (!a.equals(b)) expect(engine.items.length).toBeGreaterThan(0)
  } catch (err) {
    expect(err).toBeInstanceOf(ReproofError)
  }
}

async function makeTar(files: [string, Buffer][]): Promise<Buffer> {
  const pack = tar.pack()
  for (const [name, body] of files) pack.entry({ name, mtime: new Date(0) }, body)
  pack.finalize()
  const chunks: Buffer[] = []
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk)
  return Buffer.concat(chunks)
}

function makeAr(files: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n')]
  for (const [name, body] of files) {
    const header = `${`${name}/`.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(body.length).padEnd(10)}\`\n`
    parts.push(
      Buffer.from(header, 'latin1'),
      body,
      body.length % 2 === 1 ? Buffer.from('\n') : Buffer.alloc(0),
    )
  }
  return Buffer.concat(parts)
}

let zipSample: Buffer
beforeAll(() => {
  const dir = makeTemp()
  fs.writeFileSync(path.join(dir, 'one.txt'), 'one\n'.repeat(50))
  fs.writeFileSync(path.join(dir, 'two.bin'), Buffer.from([0, 1, 2, 3]))
  execFileSync('zip', ['-q', '-X', 'z.zip', 'one.txt', 'two.bin'], { cwd: dir })
  zipSample = fs.readFileSync(path.join(dir, 'z.zip'))
})
afterAll(cleanupTemp)

const name = fc.stringMatching(/^[a-z]{1,8}(\/[a-z]{1,8}){0,2}$/)
const filesArb = fc.uniqueArray(
  fc.tuple(
    name,
    fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
  ),
  { selector: ([n]) => n, minLength: 1, maxLength: 6 },
)

/** Flips, truncates or extends a valid archive. */
const mutate = (bytes: Buffer): fc.Arbitrary<Buffer> =>
  fc.oneof(
    fc
      .record({ at: fc.nat(Math.max(0, bytes.length - 1)), xor: fc.integer({ min: 1, max: 255 }) })
      .map(({ at, xor }) => {
        const copy = Buffer.from(bytes)
        copy[at] = (copy[at] ?? 0) ^ xor
        return copy
      }),
    fc.nat(bytes.length).map((n) => bytes.subarray(0, n)),
    fc.uint8Array({ maxLength: 64 }).map((extra) => Buffer.concat([bytes, Buffer.from(extra)])),
  )

describe('the diff engine on hostile input', () => {
  it('survives random bytes, including ones with archive magic in front', async () => {
    const magic = fc.constantFrom(
      Buffer.alloc(0),
      Buffer.from([0x1f, 0x8b, 8]),
      Buffer.from('PK\x03\x04'),
      Buffer.from('!<arch>\n'),
      Buffer.from('BZh9'),
      Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]),
    )
    await fc.assert(
      fc.asyncProperty(
        magic,
        fc.uint8Array({ maxLength: 2000 }),
        fc.uint8Array({ maxLength: 2000 }),
        async (m, x, y) => {
          await survives(Buffer.concat([m, Buffer.from(x)]), Buffer.concat([m, Buffer.from(y)]))
        },
      ),
      { numRuns: 150 },
    )
  })

  it('survives mutated tar, tar.gz, ar and zip archives', async () => {
    await fc.assert(
      fc.asyncProperty(
        filesArb,
        fc.constantFrom('tar', 'tgz', 'ar', 'zip'),
        fc.integer(),
        async (files, kind, seed) => {
          const base =
            kind === 'zip' ? zipSample : kind === 'ar' ? makeAr(files) : await makeTar(files)
          const valid = kind === 'tgz' ? zlib.gzipSync(base) : base
          const mutated = fc.sample(mutate(valid), { numRuns: 1, seed })[0] ?? valid
          await survives(valid, mutated)
        },
      ),
      { numRuns: 150 },
    )
  })

  it('reads an ar member size as dpkg does: decimal digits and nothing else', async () => {
    const ar = (size: string, body: string): Buffer =>
      Buffer.from(
        `!<arch>\n${'a.txt/'.padEnd(16)}${'0'.padEnd(12)}0     0     100644  ${size.padEnd(10)}\`\n${body}`,
        'latin1',
      )
    const engine = await compareBuffers(ar('4', 'abcd'), ar('4x', 'abce'))
    expect(engine.items.map((item) => [item.path, item.kind])).toEqual([['x', 'error']])
    expect(engine.items[0]?.message).toContain('bad member size "4x"')
  })

  it('finds exactly the members whose content differs in generated tar pairs', async () => {
    await fc.assert(
      fc.asyncProperty(
        filesArb,
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        async (files, flips) => {
          const changed = files.map(([n, body], i): [string, Buffer] => [
            n,
            flips[i] === true ? Buffer.concat([body, Buffer.from('!')]) : body,
          ])
          const engine = await compareBuffers(await makeTar(files), await makeTar(changed))
          const found = engine.items
            .filter((i) => i.kind === 'content' && i.nested !== true)
            .map((i) => i.path)
          const expected = files.filter((_, i) => flips[i] === true).map(([n]) => `x!${n}`)
          expect(found.sort()).toEqual(expected.sort())
        },
      ),
      { numRuns: 80 },
    )
  })
})

describe('detectFormat', () => {
  it('never calls text what holds a NUL byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(199), (bytes, at) => {
        const b = Buffer.from(bytes)
        if (b.length === 0) return
        b[at % b.length] = 0
        expect(detectFormat(b).kind).not.toBe('text')
      }),
    )
  })
})
