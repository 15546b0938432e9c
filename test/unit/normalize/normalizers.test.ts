import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import zlib from 'node:zlib'
import fc from 'fast-check'
import tar from 'tar-stream'
import { afterAll, describe, expect, it } from 'vitest'
import { Budget, DEFAULT_LIMITS } from '../../../src/formats/limits.js'
import { gzipBodyOffset, gzipHeaderChanges, stableGzipHeader } from '../../../src/normalize/gzip.js'
import { compareBytes } from '../../../src/canonical.js'
import { zipFlavor } from '../../../src/normalize/zip.js'
import {
  compareZipNames,
  DOS_EPOCH,
  dosDateTime,
  isSpecialBitsChange,
  lateTimesChange,
  NPM_MTIME,
  sortWheelRecord,
  specialBitsChange,
  stableExtraFields,
  stableMode,
  stableMtime,
  stripManifestHostHeaders,
  type NormalizeRules,
} from '../../../src/normalize/rules.js'
import { normalizeTar } from '../../../src/normalize/tar.js'
import { normalizeFile, prepareFile } from '../../../src/normalize/normalize-file.js'
import { gzipMemberRun } from '../../../src/formats/gzip-members.js'
import { stablePng } from '../../../src/normalize/png.js'
import { ReproofError } from '../../../src/errors.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterAll(cleanupTemp)

const rules = { epoch: 1_700_000_000, setMtime: false, mode: 'ship' as const }

describe('normalization rules', () => {
  it('knows its own line about set-id bits removed, and no other line', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ name: fc.uint8Array({ maxLength: 12 }), mode: fc.nat(0o7777) }), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.string(),
        (members, other) => {
          const line = specialBitsChange(members)
          expect(isSpecialBitsChange(line)).toBe(true)
          expect(isSpecialBitsChange(other)).toBe(false)
          expect(isSpecialBitsChange(`${other}${line}`)).toBe(/^\d*$/.test(other))
          // The same members in another order say the same; another member or mode, not.
          expect(specialBitsChange([...members].reverse())).toBe(line)
          const [first] = members
          if (first !== undefined) {
            const changed = { ...first, mode: first.mode ^ 0o4000 }
            expect(specialBitsChange([changed, ...members.slice(1)])).not.toBe(line)
          }
        },
      ),
    )
    expect(isSpecialBitsChange(lateTimesChange(3, 0o77777777777, 'tar header'))).toBe(false)
  })

  it('clamps mtimes to the epoch, or forces them', () => {
    fc.assert(
      fc.property(fc.nat(4_000_000_000), fc.nat(4_000_000_000), (mtime, epoch) => {
        expect(stableMtime(mtime, { ...rules, epoch })).toBe(Math.min(mtime, epoch))
        expect(stableMtime(mtime, { ...rules, epoch, setMtime: true })).toBe(epoch)
      }),
    )
  })

  it('keeps only the exec bit of modes', () => {
    fc.assert(
      fc.property(fc.nat(0o7777), (mode) => {
        expect(stableMode('file', mode)).toBe(mode & 0o111 ? 0o755 : 0o644)
        expect(stableMode('directory', mode)).toBe(0o755)
        expect(stableMode('symlink', mode)).toBe(0o777)
      }),
    )
  })

  it('writes DOS times that read back as the same UTC instant, floored at 1980, to 2 s', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_000_000_000 }), (t) => {
        const { date, time } = dosDateTime(t)
        const back =
          Date.UTC(
            ((date >> 9) & 0x7f) + 1980,
            ((date >> 5) & 0xf) - 1,
            date & 0x1f,
            time >> 11,
            (time >> 5) & 0x3f,
            (time & 0x1f) * 2,
          ) / 1000
        const expected = Math.min(Math.max(t, 315532800), Date.UTC(2107, 11, 31, 23, 59, 58) / 1000)
        if (t < 4102444800) expect(back).toBe(expected - (expected % 2))
      }),
    )
  })

  it('puts META-INF/ and the manifest first, then byte order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.constantFrom('META-INF/', 'META-INF/MANIFEST.MF', 'A.class', 'META-INF/a', 'b/', 'Z'),
        ),
        (names) => {
          const sorted = [...names].sort(compareZipNames)
          const firsts = sorted.filter((n) => n === 'META-INF/' || n === 'META-INF/MANIFEST.MF')
          expect(sorted.slice(0, firsts.length)).toEqual(firsts)
          if (firsts.length === 2) expect(firsts).toEqual(['META-INF/', 'META-INF/MANIFEST.MF'])
        },
      ),
    )
  })

  it('removes time and uid/gid extra fields, keeping the rest', () => {
    const fields = [
      { id: 0x5455, data: Buffer.from([3, 1, 2, 3, 4]) },
      { id: 0x000a, data: Buffer.alloc(32) },
      { id: 0x7875, data: Buffer.from([1, 4, 232, 3, 0, 0, 4, 232, 3, 0, 0]) },
      { id: 0xcafe, data: Buffer.alloc(0) },
    ]
    const out = stableExtraFields(fields)
    expect(out.map((f) => f.id)).toEqual([0xcafe])
  })

  it('sorts a wheel RECORD idempotently, and drops jar build-host headers with their continuations', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z/]{1,10},sha256=[a-z]{4},[0-9]{1,3}$/), {
          minLength: 1,
        }),
        (lines) => {
          const once = sortWheelRecord(`${lines.join('\n')}\n`)
          expect(sortWheelRecord(once)).toBe(once)
          expect(
            once
              .split('\n')
              .filter((l) => l !== '')
              .sort(),
          ).toEqual([...lines].sort())
        },
      ),
    )
    // A quoted path with a line break is one row, sorted whole; unclosed quotes: kept.
    expect(
      sortWheelRecord(
        '"pkg/a\nzzz.py",sha256=x,1\npkg/__init__.py,sha256=y,2\np-1.dist-info/RECORD,,\n',
      ),
    ).toBe('"pkg/a\nzzz.py",sha256=x,1\np-1.dist-info/RECORD,,\npkg/__init__.py,sha256=y,2\n')
    expect(sortWheelRecord('b,,\n"a\n')).toBe('b,,\n"a\n')
    const manifest =
      'Manifest-Version: 1.0\r\nBuilt-By: alice\r\nCreated-By: 17.0.15 (Debian)\r\nMain-Class: app.Main\r\nBuild-Jdk-Spec: 17\r\n  continued\r\n\r\n'
    expect(stripManifestHostHeaders(manifest)).toBe(
      'Manifest-Version: 1.0\r\nMain-Class: app.Main\r\n\r\n',
    )
    // Each line kept keeps its own end; with nothing to drop, nothing changes.
    expect(
      stripManifestHostHeaders('Manifest-Version: 1.0\nBuilt-By: a\r\nMain-Class: a.B\r\n\n'),
    ).toBe('Manifest-Version: 1.0\nMain-Class: a.B\r\n\n')
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom('Main-Class: a', ' x', 'Name: p/', '', 'Sealed: true'),
            fc.constantFrom('\r\n', '\n', '\r'),
          ),
        ),
        (lines) => {
          const text = lines.map(([line, end]) => line + end).join('')
          expect(stripManifestHostHeaders(text)).toBe(text)
        },
      ),
    )
  })

  it('finds where gzip data starts for any combination of optional header fields', () => {
    fc.assert(
      fc.property(
        fc.option(fc.uint8Array({ maxLength: 20 })),
        fc.option(fc.stringMatching(/^[a-z.]{0,12}$/)),
        fc.option(fc.stringMatching(/^[a-z ]{0,12}$/)),
        fc.boolean(),
        (extra, name, comment, hcrc) => {
          const flags =
            (extra !== null ? 4 : 0) |
            (name !== null ? 8 : 0) |
            (comment !== null ? 16 : 0) |
            (hcrc ? 2 : 0)
          const parts = [Buffer.from([0x1f, 0x8b, 8, flags, 1, 2, 3, 4, 2, 11])]
          if (extra !== null) parts.push(Buffer.from([extra.length, 0]), Buffer.from(extra))
          if (name !== null) parts.push(Buffer.from(`${name}\0`))
          if (comment !== null) parts.push(Buffer.from(`${comment}\0`))
          if (hcrc) parts.push(Buffer.from([9, 9]))
          const head = Buffer.concat(parts)
          expect(gzipBodyOffset(Buffer.concat([head, Buffer.from('BODY')]), 'x')).toBe(head.length)
          // The extra field carries meaning (BGZF's block sizes): kept, with its flag.
          expect(stableGzipHeader(head)).toEqual(
            Buffer.concat([
              Buffer.from([0x1f, 0x8b, 8, extra !== null ? 4 : 0, 0, 0, 0, 0, 2, 3]),
              ...(extra !== null ? [Buffer.from([extra.length, 0]), Buffer.from(extra)] : []),
            ]),
          )
          expect(gzipBodyOffset(stableGzipHeader(head), 'x')).toBe(stableGzipHeader(head).length)
        },
      ),
    )
  })

  it('keeps the OS byte portable writers choose (255, unknown) and makes any other one Unix', () => {
    fc.assert(
      fc.property(fc.nat(255), (os) => {
        const head = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, os])
        expect(stableGzipHeader(head)[9]).toBe(os === 255 ? 255 : 3)
        expect(gzipHeaderChanges(head)).toEqual(
          os === 3 || os === 255 ? [] : [`OS byte ${os} set to 3 (Unix)`],
        )
      }),
    )
  })
})

interface Member {
  name: string
  type: 'file' | 'directory' | 'symlink'
  body: Buffer
  mtime: number
  mode: number
  uid: number
  uname: string
  target?: string
}

/** Names without one that another lies below (`a` beside `a/b`). */
function withoutFilesAbove(names: string[]): string[] {
  return names.filter((o) => !names.some((n) => n.startsWith(`${o}/`)))
}

const memberArb: fc.Arbitrary<Member[]> = fc
  .uniqueArray(fc.stringMatching(/^[a-z]{1,6}(\/[a-z]{1,6}){0,2}$/), { minLength: 1, maxLength: 8 })
  // No file above another member (`a` and `a/b`): which of the two an extractor keeps
  // depends on their order, and normalizing refuses to sort such an archive.
  .map(withoutFilesAbove)
  .chain((names) =>
    fc.tuple(
      ...names.map((name) =>
        fc.record({
          name: fc.constant(name),
          type: fc.constantFrom('file' as const, 'file' as const, 'symlink' as const),
          body: fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)),
          // Build outputs are written after the epoch, so clamping brings them all to it.
          mtime: fc.integer({ min: 1_700_000_000, max: 2_000_000_000 }),
          mode: fc.nat(0o777),
          uid: fc.nat(60000),
          uname: fc.constantFrom('', 'root', 'builder'),
          target: fc.constant('elsewhere'),
        }),
      ),
    ),
  )
  // No link above another member (`l` and `l/f`): there the order is the meaning (the
  // member lands in a directory or through the link), and normalizing refuses to sort
  // across it (see link-order.test.ts), so "the same members in another order" is not
  // the same archive.
  .map((members) =>
    members.map((m) =>
      m.type === 'symlink' && members.some((o) => o.name.startsWith(`${m.name}/`))
        ? { ...m, type: 'file' as const }
        : m,
    ),
  )

/** The same members with other metadata and in another order. */
const variantArb = (members: Member[]): fc.Arbitrary<Member[]> =>
  fc
    .tuple(
      fc.shuffledSubarray(members, { minLength: members.length, maxLength: members.length }),
      fc.array(fc.tuple(fc.integer({ min: 1_700_000_000, max: 2_000_000_000 }), fc.nat(60000)), {
        minLength: members.length,
        maxLength: members.length,
      }),
    )
    .map(([order, meta]) =>
      order.map((m, i) => ({
        ...m,
        mtime: meta[i]?.[0] ?? 0,
        uid: meta[i]?.[1] ?? 0,
        uname: 'other',
        mode: (m.mode & 0o111) | 0o600,
      })),
    )

async function packTar(members: Member[]): Promise<Buffer> {
  const pack = tar.pack()
  for (const m of members) {
    const header = {
      name: m.name,
      mtime: new Date(m.mtime * 1000),
      mode: m.mode,
      uid: m.uid,
      gid: m.uid,
      uname: m.uname,
      gname: m.uname,
    }
    if (m.type === 'symlink') pack.entry({ ...header, type: 'symlink', linkname: m.target ?? '' })
    else pack.entry({ ...header, type: 'file' }, m.body)
  }
  pack.finalize()
  return collect(pack as unknown as AsyncIterable<Buffer>)
}

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** The normalized archive: the input itself when nothing in it needs to change. */
async function normalizeTarBytes(bytes: Buffer, tarRules = rules): Promise<Buffer> {
  const budget = new Budget(DEFAULT_LIMITS)
  return normalizeTar(
    Readable.from([bytes]),
    makeTemp(),
    tarRules,
    budget,
    'x.tar',
    (plan, write) => {
      if (!plan.rewrite) return Promise.resolve(bytes)
      const out = new PassThrough()
      const collected = collect(out)
      return write(out).then(() => collected)
    },
  )
}

async function listTar(
  bytes: Buffer,
): Promise<{ name: string; type: string; body: string; exec: boolean; link: string }[]> {
  const extract = tar.extract()
  Readable.from([bytes]).pipe(extract)
  const out = []
  for await (const entry of extract) {
    const body = await collect(entry as AsyncIterable<Buffer>)
    // The exec bit means nothing on a link; tar writes 0777 there.
    const exec = entry.header.type === 'file' && (entry.header.mode & 0o111) !== 0
    out.push({
      name: entry.header.name,
      type: entry.header.type,
      body: body.toString('hex'),
      exec,
      link: entry.header.linkname,
    })
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1))
}

describe('tar normalization', () => {
  it('is deterministic, idempotent and content-preserving', async () => {
    await fc.assert(
      fc.asyncProperty(
        memberArb.chain((m) => fc.tuple(fc.constant(m), variantArb(m))),
        async ([members, variant]) => {
          const [a, b] = [await packTar(members), await packTar(variant)]
          const [na, nb] = [await normalizeTarBytes(a), await normalizeTarBytes(b)]
          // Deterministic: same members and content, other metadata and order, same bytes.
          expect(na.equals(nb)).toBe(true)
          // Idempotent.
          expect((await normalizeTarBytes(na)).equals(na)).toBe(true)
          // Content-preserving: names, types, contents, link targets, exec bits.
          expect(await listTar(na)).toEqual(await listTar(a))
        },
      ),
      { numRuns: 40 },
    )
  })
})

describe('tar normalization with --set-mtime', () => {
  it('gives identical bytes whatever the original times', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(2_000_000_000), fc.nat(2_000_000_000), async (t1, t2) => {
        const member = (mtime: number): Member => ({
          name: 'f',
          type: 'file',
          body: Buffer.from('x'),
          mtime,
          mode: 0o644,
          uid: 0,
          uname: '',
        })
        const forced = { ...rules, setMtime: true }
        const [a, b] = [await packTar([member(t1)]), await packTar([member(t2)])]
        expect(
          (await normalizeTarBytes(a, forced)).equals(await normalizeTarBytes(b, forced)),
        ).toBe(true)
      }),
      { numRuns: 20 },
    )
  })
})

describe('zip normalization', () => {
  it('gives identical bytes for zips of the same files made at other times, in another order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.stringMatching(/^[a-z]{1,8}$/), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(1_000_000_000), { minLength: 6, maxLength: 6 }),
        fc.boolean(),
        async (names, times, extraFields) => {
          const dir = makeTemp()
          for (const side of ['a', 'b']) {
            fs.mkdirSync(path.join(dir, side))
            for (const [i, n] of names.entries()) {
              const file = path.join(dir, side, n)
              fs.writeFileSync(file, `${n}\n`.repeat(i + 1))
              const t = side === 'a' ? 1_700_000_000 : 1_700_000_000 + (times[i] ?? 0)
              fs.utimesSync(file, t, t)
            }
          }
          execFileSync('zip', ['-q', ...(extraFields ? [] : ['-X']), '../a.zip', ...names], {
            cwd: path.join(dir, 'a'),
          })
          execFileSync('zip', ['-q', '../b.zip', ...[...names].reverse()], {
            cwd: path.join(dir, 'b'),
          })
          // zip with and without -X lays entries out differently: only reproof's own layout
          // (what a build falls back to when two runs' copies differ) makes them one.
          const canonical = { ...rules, canonical: true }
          const outs = []
          for (const side of ['a', 'b']) {
            const out = path.join(dir, `${side}.norm.zip`)
            await normalizeFile(path.join(dir, `${side}.zip`), out, canonical, DEFAULT_LIMITS)
            outs.push(fs.readFileSync(out))
          }
          expect(outs[0]?.equals(outs[1] ?? Buffer.alloc(0))).toBe(true)
          const again = path.join(dir, 'again.zip')
          const second = await normalizeFile(
            path.join(dir, 'a.norm.zip'),
            again,
            canonical,
            DEFAULT_LIMITS,
          )
          expect(second.changed).toBe(false)
          expect(
            execFileSync('unzip', ['-t', path.join(dir, 'a.norm.zip')], { encoding: 'utf8' }),
          ).toContain('No errors detected')
        },
      ),
      { numRuns: 15 },
    )
  })
})

describe('PNG normalization', () => {
  it('never crashes on hostile bytes behind a PNG signature, and is idempotent', () => {
    const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300, size: 'max' }), (tail) => {
        try {
          const once = stablePng(Buffer.concat([signature, Buffer.from(tail)]), 'x.png')
          expect(stablePng(once.bytes, 'x.png').bytes.equals(once.bytes)).toBe(true)
        } catch (err) {
          expect(err).toBeInstanceOf(ReproofError)
        }
      }),
    )
  })
})

describe('PNG chunks', () => {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8)
    head.writeUInt32BE(data.length, 0)
    head.write(type, 4, 'latin1')
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])), 0)
    return Buffer.concat([head, data, crc])
  }
  const chunksArb = fc.array(
    fc.record({
      type: fc.constantFrom('IHDR', 'IDAT', 'tEXt', 'tIME', 'zTXt', 'PLTE'),
      data: fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)),
    }),
    { minLength: 1, maxLength: 5 },
  )

  it('keeps every chunk whose CRC holds and refuses any byte changed in one, or bytes after IEND', () => {
    fc.assert(
      fc.property(
        chunksArb,
        fc.nat(),
        fc.uint8Array({ minLength: 1, maxLength: 8 }),
        (chunks, pick, tail) => {
          const body = chunks.map((c) => chunk(c.type, c.data))
          const png = Buffer.concat([signature, ...body, chunk('IEND', Buffer.alloc(0))])
          const once = stablePng(png, 'x.png')
          expect(stablePng(once.bytes, 'x.png').bytes.equals(once.bytes)).toBe(true)
          // One byte of a chunk's type, data or CRC changed: CRC-32 catches every such change.
          const first = body[0] ?? Buffer.alloc(0)
          const at = 8 + 4 + (pick % (first.length - 4))
          const corrupt = Buffer.from(png)
          corrupt[at] = (corrupt[at] ?? 0) ^ 0x01
          expect(() => stablePng(corrupt, 'x.png')).toThrow(ReproofError)
          expect(() => stablePng(Buffer.concat([png, Buffer.from(tail)]), 'x.png')).toThrow(
            /bytes after its IEND chunk/,
          )
        },
      ),
    )
  })
})

describe('cpio and gettext normalization on hostile bytes', () => {
  it('gives a result or a reproof error, never a crash', async () => {
    const { normalizeCpio } = await import('../../../src/normalize/cpio.js')
    const { stableMo } = await import('../../../src/normalize/mo.js')
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          Buffer.from('070701'),
          Buffer.from('070702'),
          Buffer.from('070707'),
          Buffer.from([0xc7, 0x71]),
          Buffer.from([0x71, 0xc7]),
        ),
        fc.uint8Array({ maxLength: 400, size: 'max' }),
        async (magic, tail) => {
          const out = new PassThrough()
          const drained = collect(out)
          try {
            await normalizeCpio(
              Readable.from([Buffer.concat([magic, Buffer.from(tail)])]),
              out,
              rules,
              new Budget(DEFAULT_LIMITS),
              'x.cpio',
            )
            await drained
          } catch (err) {
            expect(err).toBeInstanceOf(ReproofError)
          }
        },
      ),
      { numRuns: 100 },
    )
    fc.assert(
      // At least a header's worth of bytes: shorter input is refused before any table is read.
      fc.property(fc.uint8Array({ minLength: 28, maxLength: 200 }), (bytes) => {
        const mo = Buffer.from(bytes)
        mo.writeUInt32LE(0x950412de, 0)
        try {
          stableMo(mo, rules, 'x.mo')
        } catch (err) {
          if (!(err instanceof ReproofError)) throw err
        }
      }),
    )
  })
})

describe('gettext normalization of a catalog whose strings share bytes', () => {
  it("refuses to rewrite the header's dates where another string reads the same bytes", async () => {
    const { stableMo } = await import('../../../src/normalize/mo.js')
    // Two messages: the header, and "hi", whose translation is the tail of the header's
    // bytes (legal: strings are found by offset and length alone).
    const header = Buffer.from(
      'Content-Type: text/plain; charset=UTF-8\nPOT-Creation-Date: 2023-01-02 03:04+0100\n',
    )
    const make = (shared: boolean, hashed = false): Buffer => {
      const strings = 28 + 32
      const hi = strings + 1
      const head = hi + 3
      const date = header.indexOf('POT-Creation-Date')
      const ints = [
        0x950412de,
        0,
        2,
        28,
        44,
        // a hash table of one slot, which lies in the header's bytes when `hashed`
        hashed ? 1 : 0,
        hashed ? head + date : 0,
        // originals: "" and "hi"
        0,
        strings,
        2,
        hi,
        // translations: the header, and "hi"'s
        header.length,
        head,
        shared ? header.length - date : 2,
        shared ? head + date : hi,
      ]
      const tables = Buffer.alloc(ints.length * 4)
      ints.forEach((v, i) => tables.writeUInt32LE(v, i * 4))
      return Buffer.concat([tables, Buffer.from('\0hi\0'), header, Buffer.from('\0')])
    }
    expect(stableMo(make(false), rules, 'x.mo').changed).toEqual(['POT-Creation-Date'])
    expect(() => stableMo(make(true), rules, 'x.mo')).toThrow(
      /the translation of message 1 shares bytes with the header entry/,
    )
    expect(() => stableMo(make(false, true), rules, 'x.mo')).toThrow(
      /the hash table shares bytes with the header entry/,
    )
  })
})

const EPOCH = rules.epoch

/** An archive to normalize, and whether every field in it is already stable. */
interface Made {
  kind: string
  stable: boolean
  make: () => Promise<Buffer>
}

/**
 * The same fields in another writer's layout: zero ids and device numbers left empty
 * (as node-tar writes them for npm) and the archive padded to 10 KiB records (GNU tar).
 */
function sparseTar(bytes: Buffer): Buffer {
  const out = Buffer.alloc(Math.ceil(bytes.length / 10240) * 10240)
  bytes.copy(out)
  for (let at = 0; at + 512 <= out.length;) {
    const block = out.subarray(at, at + 512)
    if (block.every((b) => b === 0)) break
    for (const start of [108, 116, 329, 337])
      if (/^0*[ \0]*$/.test(block.toString('latin1', start, start + 8)))
        block.fill(0, start, start + 8)
    block.fill(0x20, 148, 156)
    const sum = block.reduce((a, b) => a + b, 0)
    block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1')
    at += 512 + Math.ceil(Number.parseInt(block.toString('latin1', 124, 135), 8) / 512) * 512
  }
  return out
}

const tarArb: fc.Arbitrary<{ members: Member[]; sparse: boolean; stable: boolean }> = fc
  .record({
    members: memberArb,
    state: fc.constantFrom('as made', 'stable', 'npm'),
    sparse: fc.boolean(),
    age: fc.nat(1_000_000),
  })
  .map(({ members, state, sparse, age }) => {
    if (state === 'as made') return { members, sparse, stable: false }
    const npm = state === 'npm'
    const settled = members.map((m) => ({
      ...m,
      name: npm ? `package/${m.name}` : m.name,
      mtime: npm ? NPM_MTIME : EPOCH - age,
      mode: stableMode(m.type, m.mode),
      uid: 0,
      uname: '',
    }))
    // npm keeps its own order; anything else is stable only in byte order of names.
    if (!npm) settled.sort((a, b) => compareBytes(a.name, b.name))
    return { members: settled, sparse, stable: true }
  })

interface GzipHeader {
  os: number
  mtime: number
  name: string | null
  level: number
}

const gzipHeaderArb: fc.Arbitrary<GzipHeader> = fc.record({
  os: fc.constantFrom(3, 255, 11),
  mtime: fc.constantFrom(0, 1_800_000_000),
  name: fc.option(fc.constantFrom('a', 'b.tar'), { nil: null }),
  level: fc.constantFrom(1, 6, 9),
})

const isStableGzip = (h: GzipHeader): boolean =>
  h.mtime === 0 && h.name === null && (h.os === 3 || h.os === 255)

function gzipWith(h: GzipHeader, payload: Buffer): Buffer {
  const head = Buffer.from([0x1f, 0x8b, 8, h.name === null ? 0 : 8, 0, 0, 0, 0, 0, h.os])
  head.writeUInt32LE(h.mtime, 4)
  head[8] = h.level === 9 ? 2 : h.level === 1 ? 4 : 0
  const trailer = Buffer.alloc(8)
  trailer.writeUInt32LE(zlib.crc32(payload), 0)
  trailer.writeUInt32LE(payload.length, 4)
  const name = h.name === null ? Buffer.alloc(0) : Buffer.from(`${h.name}\0`)
  return Buffer.concat([head, name, zlib.deflateRawSync(payload, { level: h.level }), trailer])
}

interface ZipMember {
  name: string
  data: Buffer
  method: 0 | 8
  time: number
  mode: number
  extraTime: boolean
  descriptor: boolean
}

/** A zip as other writers lay it out: version made by, data descriptors and extra fields vary. */
function makeZip(members: ZipMember[], madeBy: number): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const m of members) {
    const { date, time } = dosDateTime(m.time)
    const data = m.method === 8 ? zlib.deflateRawSync(m.data) : m.data
    const crc = zlib.crc32(m.data)
    const name = Buffer.from(m.name)
    // 0x5455: flags, then mtime, and the access time in the local header only.
    const ut = (local: boolean): Buffer => {
      if (!m.extraTime) return Buffer.alloc(0)
      const field = Buffer.alloc(local ? 13 : 9)
      field.writeUInt16LE(0x5455, 0)
      field.writeUInt16LE(local ? 9 : 5, 2)
      field[4] = 3
      field.writeUInt32LE(m.time, 5)
      if (local) field.writeUInt32LE(m.time + 7, 9)
      return field
    }
    const shared = (buf: Buffer, at: number, inLocal: boolean, extra: number): void => {
      const deferred = inLocal && m.descriptor
      buf.writeUInt16LE(m.descriptor ? 8 : 0, at)
      buf.writeUInt16LE(m.method, at + 2)
      buf.writeUInt16LE(time, at + 4)
      buf.writeUInt16LE(date, at + 6)
      buf.writeUInt32LE(deferred ? 0 : crc, at + 8)
      buf.writeUInt32LE(deferred ? 0 : data.length, at + 12)
      buf.writeUInt32LE(deferred ? 0 : m.data.length, at + 16)
      buf.writeUInt16LE(name.length, at + 20)
      buf.writeUInt16LE(extra, at + 22)
    }
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    shared(local, 6, true, ut(true).length)
    const descriptor = Buffer.alloc(m.descriptor ? 16 : 0)
    if (m.descriptor) {
      descriptor.writeUInt32LE(0x08074b50, 0)
      descriptor.writeUInt32LE(crc, 4)
      descriptor.writeUInt32LE(data.length, 8)
      descriptor.writeUInt32LE(m.data.length, 12)
    }
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(madeBy, 4)
    central.writeUInt16LE(20, 6)
    shared(central, 8, false, ut(false).length)
    central.writeUInt32LE(((0o100000 | m.mode) << 16) >>> 0, 38)
    central.writeUInt32LE(offset, 42)
    const entry = Buffer.concat([local, name, ut(true), data, descriptor])
    locals.push(entry)
    centrals.push(Buffer.concat([central, name, ut(false)]))
    offset += entry.length
  }
  const directory = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(members.length, 8)
  end.writeUInt16LE(members.length, 10)
  end.writeUInt32LE(directory.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, directory, end])
}

const zipArb: fc.Arbitrary<Made> = fc
  .record({
    names: fc
      .uniqueArray(fc.stringMatching(/^[a-z]{1,6}(\/[a-z]{1,6})?$/), {
        minLength: 1,
        maxLength: 6,
      })
      .map(withoutFilesAbove),
    flavor: fc.constantFrom('zip', 'jar', 'wheel'),
    stable: fc.boolean(),
    madeBy: fc.constantFrom(0x031e, 0x0014, 0x0314),
    members: fc.array(
      fc.record({
        data: fc.uint8Array({ maxLength: 100 }).map((u) => Buffer.from(u)),
        method: fc.constantFrom(0 as const, 8 as const),
        time: fc.integer({ min: DOS_EPOCH, max: 2_000_000_000 }),
        mode: fc.nat(0o777),
        extraTime: fc.boolean(),
        descriptor: fc.boolean(),
      }),
      { minLength: 8, maxLength: 8 },
    ),
  })
  .map(({ names, flavor, stable, madeBy, members }) => {
    const all = [...names]
    if (flavor === 'jar') all.push('META-INF/MANIFEST.MF')
    if (flavor === 'wheel') all.push('w-1.dist-info/RECORD')
    const record = sortWheelRecord(all.map((n) => `${n},sha256=x,1`).join('\n'))
    const made = all.map((name, i): ZipMember => {
      const m = members[i]
      if (m === undefined) throw new Error('more names than members')
      const data = name.endsWith('RECORD')
        ? Buffer.from(stable ? record : record.split('\n').reverse().join('\n'))
        : m.data
      if (!stable) return { ...m, name, data }
      const time = Math.min(m.time, EPOCH)
      return { ...m, name, data, time, mode: stableMode('file', m.mode), extraTime: false }
    })
    if (stable) made.sort((a, b) => compareZipNames(a.name, b.name))
    // A stable zip is made by Unix: from a DOS host (0x0014) the mode bits are no mode,
    // and the rewrite makes them 0644.
    const host = stable && madeBy >> 8 !== 3 ? 0x0314 : madeBy
    return { kind: flavor, stable, make: () => Promise.resolve(makeZip(made, host)) }
  })

const arArb: fc.Arbitrary<Made> = fc
  .record({
    members: fc.uniqueArray(
      fc.record({
        name: fc.stringMatching(/^[a-z]{1,8}\.o$/),
        data: fc.uint8Array({ maxLength: 60 }).map((u) => Buffer.from(u)),
        mtime: fc.nat(2_000_000_000),
        uid: fc.nat(60000),
        mode: fc.nat(0o777),
      }),
      { selector: (m) => m.name, minLength: 1, maxLength: 5 },
    ),
    stable: fc.boolean(),
  })
  .map(({ members, stable }) => {
    const parts = [Buffer.from('!<arch>\n')]
    for (const m of members) {
      const [mtime, uid, mode] = stable ? [0, 0, 0o644] : [m.mtime, m.uid, m.mode]
      const header = `${`${m.name}/`.padEnd(16)}${String(mtime).padEnd(12)}${String(uid).padEnd(6)}${String(uid).padEnd(6)}${mode.toString(8).padEnd(8)}${String(m.data.length).padEnd(10)}\`\n`
      parts.push(Buffer.from(header, 'latin1'), m.data)
      if (m.data.length % 2 === 1) parts.push(Buffer.from('\n'))
    }
    return { kind: 'ar', stable, make: () => Promise.resolve(Buffer.concat(parts)) }
  })

const cpioArb: fc.Arbitrary<Made> = fc
  .record({
    members: fc.uniqueArray(
      fc.record({
        name: fc.stringMatching(/^[a-z]{1,8}$/),
        data: fc.uint8Array({ maxLength: 60 }).map((u) => Buffer.from(u)),
        mtime: fc.nat(2_000_000_000),
        uid: fc.nat(60000),
        mode: fc.nat(0o777),
        ino: fc.nat(1_000_000),
      }),
      { selector: (m) => m.name, minLength: 1, maxLength: 5 },
    ),
    stable: fc.boolean(),
    // Hex digits in either case: GNU cpio writes upper case, others lower.
    lower: fc.boolean(),
  })
  .map(({ members, stable, lower }) => {
    const hex = (v: number): string => {
      const h = v.toString(16).padStart(8, '0')
      return lower ? h : h.toUpperCase()
    }
    const entry = (name: string, data: Buffer, fields: number[]): Buffer => {
      const head = `070701${[...fields, data.length, 0, 0, 0, 0, name.length + 1, 0].map(hex).join('')}`
      const named = Buffer.concat([Buffer.from(head), Buffer.from(`${name}\0`)])
      const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)])
      return Buffer.concat([pad(named), pad(data)])
    }
    const parts = members.map((m, i) =>
      stable
        ? entry(m.name, m.data, [
            i + 1,
            0o100000 | stableMode('file', m.mode),
            0,
            0,
            1,
            Math.min(m.mtime, EPOCH),
          ])
        : entry(m.name, m.data, [m.ino, 0o100000 | m.mode, m.uid, m.uid, 1, m.mtime]),
    )
    parts.push(entry('TRAILER!!!', Buffer.alloc(0), [0, 0, 0, 0, 1, 0]))
    return { kind: 'cpio', stable, make: () => Promise.resolve(Buffer.concat(parts)) }
  })

const pngArb: fc.Arbitrary<Made> = fc
  .record({
    time: fc.boolean(),
    dateText: fc.boolean(),
    comment: fc.boolean(),
    // Any text chunk, compressed or not, whose keyword is one of ImageMagick's dates.
    textType: fc.constantFrom('tEXt', 'zTXt', 'iTXt'),
    keyword: fc.constantFrom('date:create', 'date:modify', 'date:exif:DateTime', 'Creation Time'),
  })
  .map(({ time, dateText, comment, textType, keyword }) => {
    const chunk = (type: string, data: Buffer): Buffer => {
      const length = Buffer.alloc(4)
      length.writeUInt32BE(data.length)
      const crc = Buffer.alloc(4)
      crc.writeUInt32BE(zlib.crc32(Buffer.concat([Buffer.from(type), data])))
      return Buffer.concat([length, Buffer.from(type), data, crc])
    }
    const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0])
    const bytes = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      time ? chunk('tIME', Buffer.from([7, 234, 1, 2, 3, 4, 5])) : Buffer.alloc(0),
      dateText ? chunk(textType, Buffer.from(`${keyword}\u00002030-01-01`)) : Buffer.alloc(0),
      comment ? chunk('tEXt', Buffer.from('Comment\u0000kept')) : Buffer.alloc(0),
      chunk('IDAT', zlib.deflateSync(Buffer.from([0, 128]))),
      chunk('IEND', Buffer.alloc(0)),
    ])
    return { kind: 'png', stable: !time && !dateText, make: () => Promise.resolve(bytes) }
  })

const moArb: fc.Arbitrary<Made> = fc
  .record({
    // Near the epoch, or in the years 0 to 99 (which Date.UTC reads as 1900 to 1999).
    minutes: fc.oneof(
      fc.integer({ min: -500_000, max: 500_000 }),
      fc.integer({ min: -1_064_000_000, max: -1_034_000_000 }),
    ),
    zone: fc.constantFrom('+0000', '+0100', '-0530'),
  })
  .map(({ minutes, zone }) => {
    const at = new Date((Math.floor(EPOCH / 60) + minutes) * 60_000)
    const shift =
      (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3)))
    const local = new Date(at.getTime() + shift * 60_000).toISOString()
    const header = `Content-Type: text/plain; charset=UTF-8\nPO-Revision-Date: ${local.slice(0, 10)} ${local.slice(11, 16)}${zone}\n`
    const text = Buffer.from(header, 'latin1')
    // One message, the header: tables at 28 and 36, no hash table, strings from 44.
    const tables = Buffer.alloc(44)
    for (const [offset, value] of [
      [0, 0x950412de],
      [8, 1],
      [12, 28],
      [16, 36],
      [24, 44],
      [32, 44],
      [36, text.length],
      [40, 45],
    ])
      tables.writeUInt32LE(value ?? 0, offset ?? 0)
    const bytes = Buffer.concat([tables, Buffer.from([0]), text, Buffer.from([0])])
    return {
      kind: 'mo',
      stable: zone === '+0000' && at.getTime() / 1000 <= EPOCH,
      make: () => Promise.resolve(bytes),
    }
  })

const archiveArb: fc.Arbitrary<Made> = fc.oneof(
  tarArb.map(({ members, sparse, stable }) => ({
    kind: 'tar',
    stable,
    make: async () => {
      const bytes = await packTar(members)
      return sparse ? sparseTar(bytes) : bytes
    },
  })),
  fc.tuple(tarArb, gzipHeaderArb).map(([{ members, sparse, stable }, header]) => ({
    kind: 'tar.gz',
    stable: stable && isStableGzip(header),
    make: async () => {
      const bytes = await packTar(members)
      return gzipWith(header, sparse ? sparseTar(bytes) : bytes)
    },
  })),
  fc.tuple(fc.uint8Array({ maxLength: 200 }), gzipHeaderArb).map(([payload, header]) => ({
    kind: 'gzip',
    stable: isStableGzip(header),
    make: () => Promise.resolve(gzipWith(header, Buffer.from(payload))),
  })),
  zipArb,
  arArb,
  cpioArb,
  pngArb,
  moArb,
)

const anyRulesArb: fc.Arbitrary<NormalizeRules> = fc.oneof(
  { arbitrary: fc.constant(rules), weight: 3 },
  fc.record({
    epoch: fc.constant(EPOCH),
    setMtime: fc.boolean(),
    mode: fc.constantFrom('ship' as const, 'compare' as const),
    canonical: fc.boolean(),
  }),
)

describe('normalization of any archive', () => {
  it('keeps what needs no change, reaches its fixed point at once, and says only what changed', async () => {
    await fc.assert(
      fc.asyncProperty(archiveArb, anyRulesArb, async (made, r) => {
        const dir = makeTemp()
        const [input, once, twice] = ['input', 'once', 'twice'].map((f) => path.join(dir, f))
        const bytes = await made.make()
        // The bytes themselves, for a counterexample: `made` prints only how they were made.
        const what = `${made.kind} ${bytes.toString('base64')}`
        fs.writeFileSync(input ?? '', bytes)
        const first = await normalizeFile(input ?? '', once ?? '', r, DEFAULT_LIMITS)
        const normal = fs.readFileSync(once ?? '')
        expect(first.format, what).toBe(made.kind)
        // Unchanged means the very same bytes, and a change is always said.
        if (!first.changed) expect(normal.equals(bytes), what).toBe(true)
        expect(first.changes.length > 0, what).toBe(first.changed)
        if (made.stable && r === rules) expect(first.changes, what).toEqual([])
        // A PNG with a time in it (tIME, a date text chunk of any kind) always changes.
        if (made.kind === 'png' && !made.stable) expect(first.changed, what).toBe(true)
        const second = await normalizeFile(once ?? '', twice ?? '', r, DEFAULT_LIMITS)
        expect(second, what).toMatchObject({ changed: false, changes: [] })
        expect(fs.readFileSync(twice ?? '').equals(normal), what).toBe(true)
        // In place, as a build normalizes: the same bytes, and nothing written if unchanged.
        const inPlace = await normalizeFile(input ?? '', input ?? '', r, DEFAULT_LIMITS)
        expect(fs.readFileSync(input ?? '').equals(normal), what).toBe(true)
        expect(inPlace.output === null, what).toBe(!first.changed)
      }),
      { numRuns: 200 },
    )
  })
})

describe('a gzip file of several members', () => {
  interface GzipPart {
    data: Uint8Array
    mtime: number
    os: number
    extra: Uint8Array | null
    name: string | null
    comment: string | null
    hcrc: boolean
  }
  // One member as writers lay it out, with any of the optional header fields.
  const memberArb: fc.Arbitrary<GzipPart> = fc.record({
    data: fc.uint8Array({ maxLength: 300 }),
    mtime: fc.constantFrom(0, 1_800_000_000),
    os: fc.constantFrom(3, 255, 11),
    extra: fc.option(fc.uint8Array({ minLength: 4, maxLength: 12 }), { nil: null }),
    name: fc.option(fc.constantFrom('a', 'b.txt'), { nil: null }),
    comment: fc.option(fc.constantFrom('made here', ''), { nil: null }),
    hcrc: fc.boolean(),
  })
  const layOut = (m: GzipPart): { header: Buffer; stable: Buffer; rest: Buffer } => {
    const flags =
      (m.extra !== null ? 4 : 0) |
      (m.name !== null ? 8 : 0) |
      (m.comment !== null ? 16 : 0) |
      (m.hcrc ? 2 : 0)
    const fixed = Buffer.from([0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, m.os])
    fixed.writeUInt32LE(m.mtime, 4)
    const extra = m.extra === null ? [] : [Buffer.from([m.extra.length, 0]), Buffer.from(m.extra)]
    const parts = [fixed, ...extra]
    if (m.name !== null) parts.push(Buffer.from(`${m.name}\0`))
    if (m.comment !== null) parts.push(Buffer.from(`${m.comment}\0`))
    if (m.hcrc) {
      const crc = Buffer.alloc(2)
      crc.writeUInt16LE(zlib.crc32(Buffer.concat(parts)) & 0xffff)
      parts.push(crc)
    }
    const trailer = Buffer.alloc(8)
    trailer.writeUInt32LE(zlib.crc32(m.data), 0)
    trailer.writeUInt32LE(m.data.length, 4)
    // What a stable header is, written out here rather than asked of the code under test.
    const stableFixed = Buffer.from([0x1f, 0x8b, 8, m.extra !== null ? 4 : 0, 0, 0, 0, 0, 0])
    return {
      header: Buffer.concat(parts),
      stable: Buffer.concat([stableFixed, Buffer.from([m.os === 255 ? 255 : 3]), ...extra]),
      rest: Buffer.concat([zlib.deflateRawSync(m.data), trailer]),
    }
  }

  it('makes every member header stable and copies each deflate stream as it is', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(memberArb, { minLength: 1, maxLength: 4 }), async (members) => {
        const dir = makeTemp()
        const laid = members.map(layOut)
        const bytes = Buffer.concat(laid.flatMap((m) => [m.header, m.rest]))
        const what = bytes.toString('base64')
        fs.writeFileSync(path.join(dir, 'in'), bytes)
        const out = path.join(dir, 'out')
        const result = await normalizeFile(path.join(dir, 'in'), out, rules, DEFAULT_LIMITS)
        const expected = Buffer.concat(laid.flatMap((m) => [m.stable, m.rest]))
        expect(fs.readFileSync(out).equals(expected), what).toBe(true)
        expect(result.changed, what).toBe(!expected.equals(bytes))
        expect(zlib.gunzipSync(fs.readFileSync(out)).equals(zlib.gunzipSync(bytes)), what).toBe(
          true,
        )
      }),
      { numRuns: 150 },
    )
  })

  it('is refused when a later member is corrupt, and rewritten whole when padding follows', async () => {
    const dir = makeTemp()
    const plain = {
      data: Buffer.from('hello\n'),
      mtime: 7,
      os: 3,
      extra: null,
      name: 'a',
      comment: null,
      hcrc: false,
    }
    const one = layOut(plain)
    const good = Buffer.concat([one.header, one.rest])
    const badCrc = Buffer.from(good)
    badCrc.writeUInt32LE(badCrc.readUInt32LE(badCrc.length - 8) ^ 1, badCrc.length - 8)
    const badHeader = Buffer.concat([layOut({ ...plain, hcrc: true }).header, one.rest])
    badHeader.writeUInt8(badHeader.readUInt8(10) ^ 1, 10)
    fs.writeFileSync(path.join(dir, 'bad'), Buffer.concat([good, badCrc]))
    fs.writeFileSync(path.join(dir, 'bad-header'), Buffer.concat([good, badHeader]))
    await expect(
      normalizeFile(path.join(dir, 'bad-header'), path.join(dir, 'bh.out'), rules, DEFAULT_LIMITS),
    ).rejects.toMatchObject({ code: 'E_INPUT' })
    await expect(
      normalizeFile(path.join(dir, 'bad'), path.join(dir, 'bad.out'), rules, DEFAULT_LIMITS),
    ).rejects.toMatchObject({ code: 'E_INPUT' })
    expect(fs.existsSync(path.join(dir, 'bad.out'))).toBe(false)
    // Zeros after the last member, as tape writers pad: gzip -d ignores them; the file
    // is written as one new stream, and the report says so.
    fs.writeFileSync(path.join(dir, 'padded'), Buffer.concat([good, good, Buffer.alloc(512)]))
    const padded = await normalizeFile(
      path.join(dir, 'padded'),
      path.join(dir, 'padded.out'),
      rules,
      DEFAULT_LIMITS,
    )
    expect(padded.changes.join('\n')).toMatch(/one new stream/)
    expect(zlib.gunzipSync(fs.readFileSync(path.join(dir, 'padded.out'))).toString()).toBe(
      'hello\nhello\n',
    )
  })
})

describe('zipFlavor', () => {
  it('calls a zip a wheel by its top-level RECORD, a jar by its manifest, and otherwise a zip', () => {
    expect(zipFlavor(['pkg/__init__.py', 'pkg-1.0.dist-info/RECORD', 'META-INF/MANIFEST.MF'])).toBe(
      'wheel',
    )
    expect(zipFlavor(['a/pkg-1.0.dist-info/RECORD', 'META-INF/MANIFEST.MF'])).toBe('jar')
    expect(zipFlavor(['META-INF/MANIFEST.MF/', 'x.dist-info/RECORDS'])).toBe('zip')
    expect(zipFlavor([])).toBe('zip')
  })
})

describe('Ctrl-C while normalizing', () => {
  // Each stage that reads or writes a large file hears the signal at its next MiB: one
  // that did not ran on for seconds, or named the interrupt as the input's fault.
  const interrupted = { code: 'E_INTERRUPTED' }
  const random = (n: number): Buffer => crypto.randomBytes(n)

  it('stops the rewrite of a tar from its spool', async () => {
    const controller = new AbortController()
    const file = (name: string, body: Buffer): Member => {
      return { name, type: 'file', body, mtime: 1_800_000_000, mode: 0o644, uid: 7, uname: 'u' }
    }
    // Out of order, with owners: a rewrite, and its large member read back from the spool.
    const bytes = await packTar([
      file('b.bin', random(3 * 1024 * 1024)),
      file('a', Buffer.from('a')),
    ])
    const written = normalizeTar(
      Readable.from([bytes]),
      makeTemp(),
      rules,
      new Budget(DEFAULT_LIMITS, controller.signal),
      'x.tar',
      (plan, write) => {
        expect(plan.rewrite).toBe(true)
        controller.abort()
        const out = new PassThrough()
        out.resume()
        return write(out)
      },
    )
    await expect(written).rejects.toMatchObject(interrupted)
  })

  it('stops the walk of gzip members', async () => {
    const controller = new AbortController()
    const file = path.join(makeTemp(), 'x.gz')
    fs.writeFileSync(file, zlib.gzipSync(random(3 * 1024 * 1024)))
    controller.abort()
    const walk = gzipMemberRun(file, new Budget(DEFAULT_LIMITS, controller.signal), (h) =>
      gzipBodyOffset(h, file),
    )
    await expect(walk).rejects.toMatchObject(interrupted)
  })

  it('names an interrupt, or a limit, in a large zip member as what it is, not as corruption', async () => {
    const dir = makeTemp()
    // Stored and over 8 MiB: read as a stream, not in one go.
    fs.writeFileSync(path.join(dir, 'big.bin'), random(9 * 1024 * 1024))
    execFileSync('zip', ['-q', '-0', '-X', 'x.zip', 'big.bin'], { cwd: dir })
    const zip = path.join(dir, 'x.zip')
    const controller = new AbortController()
    controller.abort()
    const out = path.join(dir, 'out.zip')
    await expect(
      prepareFile(zip, out, rules, DEFAULT_LIMITS, controller.signal),
    ).rejects.toMatchObject(interrupted)
    const limited = prepareFile(zip, out, rules, { ...DEFAULT_LIMITS, maxBytes: 1024 * 1024 })
    await expect(limited).rejects.toMatchObject({ context: { limit: '--max-bytes' } })
    await expect(limited).rejects.not.toThrow(/corrupt/)
    expect(fs.readdirSync(dir).sort()).toEqual(['big.bin', 'x.zip'])
  })
})
