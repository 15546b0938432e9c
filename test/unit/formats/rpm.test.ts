import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { ReproofError } from '../../../src/errors.js'
import { Budget, DEFAULT_LIMITS } from '../../../src/formats/limits.js'
import { scanRpm } from '../../../src/formats/rpm.js'
import { memorySink } from '../../../src/formats/member.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

const scan = (bytes: Buffer) =>
  scanRpm(Readable.from([bytes]), 'x.rpm', new Budget(DEFAULT_LIMITS), (key) => memorySink(key))

type Tag =
  | { tag: number; kind: 'string'; value: string }
  | { tag: number; kind: 'strings'; value: string[] }
  | { tag: number; kind: 'int32'; value: number[] }
  | { tag: number; kind: 'bin'; value: Uint8Array }

/** A header structure as rpm writes one: magic, counts, the index, the store (aligned). */
function header(tags: readonly Tag[]): Buffer {
  const index: Buffer[] = []
  let store = Buffer.alloc(0)
  for (const t of tags) {
    let body: Buffer
    let type: number
    let count: number
    if (t.kind === 'int32') {
      store = Buffer.concat([store, Buffer.alloc((4 - (store.length % 4)) % 4)])
      body = Buffer.alloc(4 * t.value.length)
      t.value.forEach((v, i) => body.writeUInt32BE(v, 4 * i))
      ;[type, count] = [4, t.value.length]
    } else if (t.kind === 'bin') {
      body = Buffer.from(t.value)
      ;[type, count] = [7, t.value.length]
    } else {
      const values = t.kind === 'string' ? [t.value] : t.value
      body = Buffer.concat(values.map((v) => Buffer.from(`${v}\0`, 'utf8')))
      ;[type, count] = [t.kind === 'string' ? 6 : 8, values.length]
    }
    const entry = Buffer.alloc(16)
    entry.writeUInt32BE(t.tag, 0)
    entry.writeUInt32BE(type, 4)
    entry.writeUInt32BE(store.length, 8)
    entry.writeUInt32BE(count, 12)
    index.push(entry)
    store = Buffer.concat([store, body])
  }
  const intro = Buffer.alloc(16)
  intro.writeUInt32BE(0x8eade801, 0)
  intro.writeUInt32BE(tags.length, 8)
  intro.writeUInt32BE(store.length, 12)
  return Buffer.concat([intro, ...index, store])
}

/** An rpm: lead, an empty signature header (padded to 8), `tags`, an uncompressed empty cpio. */
function rpm(tags: readonly Tag[]): Buffer {
  const lead = Buffer.alloc(96)
  lead.writeUInt32BE(0xedabeedb, 0)
  lead[4] = 3
  const signature = header([])
  const pad = Buffer.alloc((8 - (signature.length % 8)) % 8)
  const trailer = Buffer.from(
    `070701${'0'.repeat(8 * 5)}00000001${'0'.repeat(8 * 5)}0000000B00000000TRAILER!!!\0`,
    'latin1',
  )
  const cpio = Buffer.concat([trailer, Buffer.alloc((4 - (trailer.length % 4)) % 4)])
  return Buffer.concat([lead, signature, pad, header(tags), cpio])
}

// Tags reproof does not name (so that each comes back as `tag N`), outside the region tags.
const unnamed = fc.integer({ min: 100_000, max: 200_000 })
const text = fc.string({ maxLength: 12 }).filter((s) => !s.includes('\0'))
const tag: fc.Arbitrary<Tag> = fc.oneof(
  fc.record({ tag: unnamed, kind: fc.constant('string' as const), value: text }),
  fc.record({
    tag: unnamed,
    kind: fc.constant('strings' as const),
    value: fc.array(text, { minLength: 1, maxLength: 4 }),
  }),
  fc.record({
    tag: unnamed,
    kind: fc.constant('int32' as const),
    value: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({
    tag: unnamed,
    kind: fc.constant('bin' as const),
    value: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
)
const shown = (t: Tag): string =>
  t.kind === 'string'
    ? t.value
    : t.kind === 'bin'
      ? Buffer.from(t.value).toString('hex')
      : t.kind === 'strings' &&
          (t.value.some((v) => v.includes(', ')) || t.value[0]?.startsWith('['))
        ? JSON.stringify(t.value)
        : t.value.map(String).join(', ')

describe('scanRpm', () => {
  it('refuses entries that point at the same bytes over and over, before decoding them all', async () => {
    // 60,000 entries, each the whole 64 KiB store as 16,384 numbers: 4 GB of values to
    // decode from a 1 MB file. A written header's entries do not overlap.
    const store = Buffer.alloc(65_536, 1)
    const count = 60_000
    const index = Buffer.alloc(16 * count)
    for (let i = 0; i < count; i++) {
      index.writeUInt32BE(100_000 + i, 16 * i)
      index.writeUInt32BE(4, 16 * i + 4)
      index.writeUInt32BE(0, 16 * i + 8)
      index.writeUInt32BE(store.length / 4, 16 * i + 12)
    }
    const intro = Buffer.alloc(16)
    intro.writeUInt32BE(0x8eade801, 0)
    intro.writeUInt32BE(count, 8)
    intro.writeUInt32BE(store.length, 12)
    const good = rpm([])
    // The main header of an rpm with no tags is its last 16 bytes before the payload.
    const lead = good.subarray(0, 96 + header([]).length)
    const bytes = Buffer.concat([lead, intro, index, store, good.subarray(lead.length + 16)])
    await expect(scan(bytes)).rejects.toThrow(/entries span \d+ bytes of a store of 65536/)
  })

  it('reads back every tag of a header, whatever its type, as the field it is', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(tag, { maxLength: 8, selector: (t) => t.tag }),
        async (tags) => {
          const { inventory } = await scan(rpm(tags))
          expect(inventory.members).toEqual([])
          const expected = Object.fromEntries(tags.map((t) => [`tag ${t.tag}`, shown(t)]))
          expect(inventory.meta).toEqual({
            format: 'rpm 3.0',
            'lead type': '0',
            'lead arch': '0',
            'lead name': '',
            'lead os': '0',
            'lead signature type': '0',
            'payload format': 'newc',
            ...expected,
          })
        },
      ),
    )
  })

  it('never reads two different lists of strings alike', async () => {
    const list = fc.array(
      fc.constantFrom('a', 'b', ', ', 'a, b', '', '"', '["a"]', '["a', 'b"]', '['),
      {
        minLength: 1,
        maxLength: 3,
      },
    )
    await fc.assert(
      fc.asyncProperty(list, list, async (x, y) => {
        const read = async (value: string[]) =>
          (await scan(rpm([{ tag: 100_000, kind: 'strings', value }]))).inventory.meta['tag 100000']
        if (JSON.stringify(x) !== JSON.stringify(y)) expect(await read(x)).not.toBe(await read(y))
      }),
    )
    const split = (await scan(rpm([{ tag: 100_000, kind: 'strings', value: ['a', 'b'] }])))
      .inventory.meta
    expect(split['tag 100000']).toBe('a, b')
  })

  it("compares the lead's fields and the signature's padding, bytes rpm itself no longer reads", async () => {
    const good = rpm([])
    const edited = Buffer.from(good)
    edited.writeUInt16BE(1, 6)
    edited.write('hello-1.0-1\0junk', 10, 'latin1')
    edited[95] = 7
    const meta = (await scan(edited)).inventory.meta
    expect(meta).toMatchObject({
      'lead type': '1',
      'lead name': 'hello-1.0-1',
      'lead name field after its NUL': expect.stringMatching(/^6a756e6b0+$/) as unknown,
      'lead reserved': `${'00'.repeat(15)}07`,
    })
    expect((await scan(good)).inventory.meta['lead reserved']).toBeUndefined()
    // A signature header of 20 bytes' store is padded by 4 bytes, which are read.
    const signature = header([{ tag: 1000, kind: 'int32', value: [5] }])
    const padded = (fill: number) =>
      Buffer.concat([
        good.subarray(0, 96),
        signature,
        Buffer.alloc((8 - (signature.length % 8)) % 8, fill),
        good.subarray(96 + 16),
      ])
    expect(signature.length % 8 !== 0).toBe(true)
    expect((await scan(padded(0))).inventory.meta['signature padding']).toBeUndefined()
    expect((await scan(padded(9))).inventory.meta['signature padding']).toMatch(/^(09)+$/)
  })

  it('names a payload compressor it does not read rather than misreading the payload', async () => {
    const lzma = rpm([{ tag: 1125, kind: 'string', value: 'lzma' }])
    await expect(scan(lzma)).rejects.toThrow(
      /payload compressed with lzma, which reproof does not read/,
    )
    // Named as none, an uncompressed cpio is read as it is.
    const none = await scan(rpm([{ tag: 1125, kind: 'string', value: 'none' }]))
    expect(none.inventory.meta['payload compressor']).toBe('none')
  })

  it('reads what rpmbuild writes, and never fails but as bad input on any cut or corruption of it', async () => {
    const dir = makeTemp()
    fs.writeFileSync(
      path.join(dir, 'p.spec'),
      'Name: p\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\nBuildArch: noarch\n%description\nd\n%install\nmkdir -p %{buildroot}/opt/p\necho hi > %{buildroot}/opt/p/v.txt\n%files\n/opt/p/v.txt\n',
    )
    execFileSync(
      'rpmbuild',
      ['-bb', '--quiet', '--define', `_topdir ${dir}/t`, '--define', '_buildhost h', 'p.spec'],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir } },
    )
    const real = fs.readFileSync(path.join(dir, 't/RPMS/noarch/p-1-1.noarch.rpm'))
    const { inventory, captured } = await scan(real)
    expect(inventory.meta['package name']).toBe('p')
    expect(inventory.meta['build host']).toBe('h')
    expect(inventory.members.map((m) => m.name)).toEqual(['./opt/p/v.txt'])
    expect(captured.get('./opt/p/v.txt')?.buffer?.toString()).toBe('hi\n')
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: real.length }),
        fc.array(fc.tuple(fc.nat({ max: real.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          maxLength: 4,
        }),
        async (cut, flips) => {
          const bytes = Buffer.from(real.subarray(0, cut))
          for (const [at, value] of flips) if (at < bytes.length) bytes[at] = value
          await scan(bytes).then(
            () => undefined,
            (err: unknown) => {
              expect(err).toBeInstanceOf(ReproofError)
            },
          )
        },
      ),
      { numRuns: 200 },
    )
  })
})
