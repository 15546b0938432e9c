import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import fc from 'fast-check'
import tar from 'tar-stream'
import { afterAll, describe, expect, it } from 'vitest'
import { Budget, DEFAULT_LIMITS } from '../../src/diff/limits.js'
import { gzipBodyOffset, gzipHeaderChanges, stableGzipHeader } from '../../src/normalize/gzip.js'
import {
  compareZipNames,
  dosDateTime,
  sortWheelRecord,
  stableExtraFields,
  stableMode,
  stableMtime,
  stripManifestHostHeaders,
} from '../../src/normalize/rules.js'
import { normalizeTar } from '../../src/normalize/tar.js'
import { normalizeFile } from '../../src/normalize/normalize-file.js'
import { stablePng } from '../../src/normalize/png.js'
import { ReproofError } from '../../src/errors.js'
import { cleanupTemp, makeTemp } from '../helpers.js'

afterAll(cleanupTemp)

const rules = { epoch: 1_700_000_000, setMtime: false, mode: 'ship' as const }

describe('normalization rules', () => {
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
    const manifest =
      'Manifest-Version: 1.0\r\nBuilt-By: alice\r\nCreated-By: 17.0.15 (Debian)\r\nMain-Class: app.Main\r\nBuild-Jdk-Spec: 17\r\n  continued\r\n\r\n'
    expect(stripManifestHostHeaders(manifest)).toBe(
      'Manifest-Version: 1.0\r\nMain-Class: app.Main\r\n\r\n',
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
          expect(stableGzipHeader(head)).toEqual(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]))
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

const memberArb: fc.Arbitrary<Member[]> = fc
  .uniqueArray(fc.stringMatching(/^[a-z]{1,6}(\/[a-z]{1,6}){0,2}$/), { minLength: 1, maxLength: 8 })
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

describe('cpio and gettext normalization on hostile bytes', () => {
  it('gives a result or a reproof error, never a crash', async () => {
    const { normalizeCpio } = await import('../../src/normalize/cpio.js')
    const { stableMo } = await import('../../src/normalize/mo.js')
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('070701', '070702'),
        fc.uint8Array({ maxLength: 400, size: 'max' }),
        async (magic, tail) => {
          const out = new PassThrough()
          const drained = collect(out)
          try {
            await normalizeCpio(
              Readable.from([Buffer.concat([Buffer.from(magic), Buffer.from(tail)])]),
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
