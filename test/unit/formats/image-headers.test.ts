import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { knownHeaderFields } from '../../../src/formats/binary-headers.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

/*
 * Each format made by its own tool, twice, at two known times: xorriso and fontTools
 * take them from SOURCE_DATE_EPOCH, mke2fs from E2FSPROGS_FAKE_TIME, lcms (through
 * Pillow) from the clock, set with faketime. The system's Python holds the modules
 * Debian installs.
 */
const PYTHON = '/usr/bin/python3'
const UUID = '5ba1a5c8-0000-4000-8000-000000000001'

let dir: string
const made: Record<string, [Buffer, Buffer]> = {}

function run(argv: string[], env: Record<string, string> = {}): void {
  const [program = '', ...args] = argv
  execFileSync(program, args, {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: 'ignore',
  })
}

const ICC = `from PIL import ImageCms
import sys
open(sys.argv[1], 'wb').write(ImageCms.ImageCmsProfile(ImageCms.createProfile('sRGB')).tobytes())`

const FONT = `import sys
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
fb = FontBuilder(1000, isTTF=True)
fb.setupGlyphOrder(['.notdef', 'A'])
fb.setupCharacterMap({65: 'A'})
pen = TTGlyphPen(None)
pen.moveTo((0, 0)); pen.lineTo((500, 700)); pen.lineTo((1000, 0)); pen.closePath()
fb.setupGlyf({'.notdef': pen.glyph(), 'A': pen.glyph()})
fb.setupHorizontalMetrics({'.notdef': (1000, 0), 'A': (1000, 0)})
fb.setupHorizontalHeader(ascent=800, descent=-200)
fb.setupNameTable({'familyName': 'Demo', 'styleName': 'Regular', 'uniqueFontIdentifier': sys.argv[2]})
fb.setupOS2(); fb.setupPost()
fb.save(sys.argv[1])`

beforeAll(() => {
  dir = makeTemp()
  fs.mkdirSync(path.join(dir, 'tree'))
  fs.writeFileSync(path.join(dir, 'tree', 'a.txt'), 'hello\n')
  // xorriso takes the volume dates from SOURCE_DATE_EPOCH, a directory's from its mtime.
  for (const file of ['tree/a.txt', 'tree'])
    fs.utimesSync(path.join(dir, file), 1_600_000_000, 1_600_000_000)
  fs.writeFileSync(path.join(dir, 'icc.py'), ICC)
  fs.writeFileSync(path.join(dir, 'font.py'), FONT)
  const times = [1_700_000_000, 1_700_000_100] as const
  const both = (make: (time: number, out: string) => void, ext: string): [Buffer, Buffer] =>
    times.map((time, i) => {
      const out = path.join(dir, `${i}.${ext}`)
      make(time, out)
      return fs.readFileSync(out)
    }) as [Buffer, Buffer]
  made.iso = both((t, out) => {
    run(['xorriso', '-as', 'mkisofs', '-o', out, 'tree'], { SOURCE_DATE_EPOCH: String(t) })
  }, 'iso')
  made.ext4 = both((t, out) => {
    run(
      [
        'mke2fs',
        '-q',
        '-F',
        '-t',
        'ext4',
        '-d',
        'tree',
        '-U',
        UUID,
        '-E',
        `hash_seed=${UUID}`,
        out,
        '2M',
      ],
      { E2FSPROGS_FAKE_TIME: String(t) },
    )
  }, 'img')
  made.icc = both((t, out) => {
    run(
      [
        'faketime',
        '-f',
        new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' '),
        PYTHON,
        'icc.py',
        out,
      ],
      {
        TZ: 'UTC',
      },
    )
  }, 'icc')
  made.font = both((t, out) => {
    run([PYTHON, 'font.py', out, `Demo : ${t === times[0] ? '23-6-2015' : '25-6-2015'}`], {
      SOURCE_DATE_EPOCH: String(t),
    })
  }, 'ttf')
})
afterAll(cleanupTemp)

const fieldsOf = (format: string, i: 0 | 1) =>
  knownHeaderFields(made[format]?.[i] ?? Buffer.alloc(0))?.fields ?? {}

describe('time fields of images, profiles and fonts, as their tools write them', () => {
  it("reads an ISO 9660 image's volume dates, as xorriso takes them from SOURCE_DATE_EPOCH", () => {
    expect(knownHeaderFields(made.iso?.[0] ?? Buffer.alloc(0))?.format).toBe('ISO 9660')
    expect(fieldsOf('iso', 0)['volume creation time']).toBe('2023-11-14T22:13:20.00+00:00')
    expect(fieldsOf('iso', 1)['volume creation time']).toBe('2023-11-14T22:15:00.00+00:00')
    expect(fieldsOf('iso', 0)['root directory time']).toBe('2020-09-13T12:26:40+00:00')
    // Times fixed and nothing else varied, the image is the same: what the hint's fix says.
    expect(made.iso?.[0].subarray(0, 32768)).toEqual(made.iso?.[1].subarray(0, 32768))
  })

  it("reads an ext4 superblock's times and ids, as mke2fs writes them", () => {
    expect(fieldsOf('ext4', 0)).toMatchObject({
      'file system creation time': '2023-11-14T22:13:20Z (1700000000)',
      'superblock write time': '2023-11-14T22:13:20Z (1700000000)',
      'superblock mount time': 'none',
      'file system UUID': UUID.replaceAll('-', ''),
      'directory hash seed': UUID.replaceAll('-', ''),
      'last mounted on': '',
    })
    expect(fieldsOf('ext4', 1)['file system creation time']).toBe(
      '2023-11-14T22:15:00Z (1700000100)',
    )
  })

  it("reads an ICC profile's creation date, as lcms stamps the clock's", () => {
    expect(fieldsOf('icc', 0)['profile creation time']).toBe('2023-11-14T22:13:20Z')
    expect(fieldsOf('icc', 1)['profile creation time']).toBe('2023-11-14T22:15:00Z')
  })

  it("reads a font's head times and unique identifier, as fontTools writes them", () => {
    expect(fieldsOf('font', 0)).toMatchObject({
      'head modified': '2023-11-14T22:13:20Z (1700000000)',
      'unique font identifier': 'Demo : 23-6-2015',
    })
    expect(fieldsOf('font', 1)['head modified']).toBe('2023-11-14T22:15:00Z (1700000100)')
  })

  it('never throws and never reads past the end, whatever is cut off or changed', () => {
    const real = Object.values(made).flat()
    fc.assert(
      fc.property(
        fc.nat({ max: real.length - 1 }),
        fc.nat(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 20 }),
        (which, cut, changes) => {
          const whole = real[which] ?? Buffer.alloc(0)
          const bytes = Buffer.from(whole.subarray(0, cut % (whole.length + 1)))
          // Where the headers are: the first 64 KiB (an ISO's descriptors start at 32 KiB).
          const span = Math.min(bytes.length, 65_536)
          for (const [at, value] of changes) if (span > 0) bytes[at % span] = value
          knownHeaderFields(bytes)
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('an ISO image whose records all point to one continuation area', () => {
  it('reads that area once, so the work is bounded by the image', () => {
    const SECTOR = 2048
    const both32 = (n: number): Buffer => {
      const b = Buffer.alloc(8)
      b.writeUInt32LE(n, 0)
      b.writeUInt32BE(n, 4)
      return b
    }
    const record = (
      extent: number,
      length: number,
      flags: number,
      name: Buffer,
      use: Buffer,
    ): Buffer => {
      const body = Buffer.concat([
        Buffer.from([0]),
        both32(extent),
        both32(length),
        Buffer.from([100, 1, 1, 0, 0, 0, 0, flags, 0, 0, 1, 0, 0, 1, name.length]),
        name,
        name.length % 2 === 0 ? Buffer.from([0]) : Buffer.alloc(0),
      ])
      return Buffer.concat([Buffer.from([body.length + use.length + 1]), body, use])
    }
    // 40 sectors of records, each pointing to one area of 400 sectors of 4-byte entries.
    const [dirAt, dirSectors, areaSectors] = [20, 40, 400]
    const ce = Buffer.concat([
      Buffer.from('CE\x1c\x01', 'latin1'),
      both32(dirAt + dirSectors),
      both32(0),
      both32(areaSectors * SECTOR),
    ])
    const one = record(0, 0, 0, Buffer.from('A'), ce)
    const sector = Buffer.alloc(SECTOR)
    for (let at = 0; at + one.length <= SECTOR; at += one.length) one.copy(sector, at)
    const pvd = Buffer.alloc(SECTOR)
    pvd[0] = 1
    pvd.write('CD001', 1, 'latin1')
    pvd[6] = 1
    record(dirAt, dirSectors * SECTOR, 2, Buffer.from([0]), Buffer.alloc(0)).copy(pvd, 156)
    const end = Buffer.alloc(SECTOR)
    end[0] = 255
    end.write('CD001', 1, 'latin1')
    const image = Buffer.concat([
      Buffer.alloc(16 * SECTOR),
      pvd,
      end,
      Buffer.alloc(2 * SECTOR),
      ...Array.from({ length: dirSectors }, () => sector),
      Buffer.from('AB\x04\x01'.repeat((areaSectors * SECTOR) / 4), 'latin1'),
    ])
    // Read once per record, the area would take minutes (a million entries, 1,300 times),
    // past the test's time limit.
    expect(knownHeaderFields(image)?.fields['file times']).toMatch(/records/)
  })
})

describe('what is not an image', () => {
  it('takes no file for ext4 by its magic alone', () => {
    const bytes = Buffer.alloc(4096)
    bytes.writeUInt16LE(0xef53, 1024 + 0x38)
    expect(knownHeaderFields(bytes)).toBeUndefined()
    // With what a superblock must hold besides, it is one.
    bytes.writeUInt32LE(128, 1024)
    bytes.writeUInt32LE(1024, 1024 + 4)
    bytes.writeUInt32LE(1, 1024 + 0x4c)
    expect(knownHeaderFields(bytes)?.format).toBe('ext4')
  })
})
