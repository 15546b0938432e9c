import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bytesBeyond } from '../../../src/diff/engine.js'
import { diffBinary, diffText } from '../../../src/diff/content-diff.js'
import { parseGzipHeader } from '../../../src/formats/compressed.js'
import {
  causesBetween,
  contentHints,
  defaultHintContext,
  fieldHints,
  findTimes,
  type HintContext,
} from '../../../src/diff/hints.js'
import { isSummarized, patternPaths, summarizePatterns } from '../../../src/diff/summarize.js'
import type { DiffItem } from '../../../src/diff/report.js'

const NOW = 1_795_000_000 // 2026-11-18T11:06:40Z
// What a build knows: both runs' times (run B's clock 397 days ahead, as under libfaketime).
const context: HintContext = {
  roots: [['/tmp/reproof-x/a/proj'], ['/tmp/reproof-x/b-path-canary0123456789/proj']],
  canary: 'canary0123456789',
  timeWindows: [
    [NOW - 3600, NOW + 3600],
    [NOW - 3600, NOW + 3600 + 397 * 86400],
  ],
  timesKnown: true,
}
// What a plain `reproof diff` of two files knows: nothing of when they were made.
const guessed = defaultHintContext([[], []], NOW)

async function hintsFor(a: string | Buffer, b: string | Buffer, known = context) {
  const [x, y] = [Buffer.from(a), Buffer.from(b)]
  const text =
    typeof a === 'string' && typeof b === 'string'
      ? await diffText(a, b, ['a', 'b'], 100)
      : undefined
  return contentHints(x, y, text === undefined ? { binary: diffBinary(x, y) } : { text }, known)
}

describe('content hints', () => {
  it('recognizes times written as epoch seconds, milliseconds and nanoseconds', async () => {
    expect((await hintsFor(`t=${NOW}\n`, `t=${NOW + 397 * 86400}\n`))[0]?.cause).toBe('timestamp')
    expect((await hintsFor(`${NOW}123\n`, `${NOW + 5}456\n`))[0]?.cause).toBe('timestamp')
    // Run B's clock is 397 days ahead in this context, as under libfaketime.
    const later = NOW + 397 * 86400 + 1
    expect((await hintsFor(`${NOW}123456789\n`, `${later}987654321\n`))[0]?.evidence).toBe(
      `A: 1795000000123456789 (2026-11-18T11:06:40Z); B: ${later}987654321 (2027-12-20T11:06:41Z)`,
    )
  })

  it('recognizes ISO 8601, date(1) and __DATE__ forms', async () => {
    const iso = (t: number) => new Date(t * 1000).toISOString()
    expect((await hintsFor(`built ${iso(NOW)}\n`, `built ${iso(NOW + 60)}\n`))[0]?.cause).toBe(
      'timestamp',
    )
    expect(
      (await hintsFor('Wed Nov 18 11:06:40 UTC 2026\n', 'Sun Dec 20 11:06:41 UTC 2027\n'))[0]
        ?.cause,
    ).toBe('timestamp')
    expect(
      (await hintsFor('version 1 (Nov 18 2026)\n', 'version 1 (Dec 20 2027)\n'))[0]?.cause,
    ).toBe('timestamp')
    // A day alone, as `date +%F` writes it; not a version or an id that looks like one.
    expect((await hintsFor('built on 2026-11-18\n', 'built on 2027-12-20\n'))[0]?.cause).toBe(
      'timestamp',
    )
    expect((await hintsFor('id 2026-11-18-a\n', 'id 2027-12-20-a\n'))[0]?.cause).toBe('unexplained')
  })

  it('reads the epoch written in two time zones as a time, when the zone was varied', async () => {
    // SOURCE_DATE_EPOCH 2023-11-14T22:13:20Z, written by `date +%F` in UTC and in UTC+14.
    const epoch = 1_700_000_000
    const [a, b] = ['2023-11-14\n', '2023-11-15\n']
    // Far from when the runs ran, and the zone not varied: no time of theirs.
    expect((await hintsFor(a, b)).map((h) => h.cause)).toEqual(['unexplained'])
    const zoned: HintContext = {
      ...context,
      epochInZones: [epoch - 12 * 3600, epoch + 14 * 3600],
    }
    const [hint] = await hintsFor(a, b, zoned)
    expect(hint?.cause).toBe('timestamp')
    expect(hint?.evidence).toContain('SOURCE_DATE_EPOCH written in two time zones')
    expect(hint?.fix).toContain('UTC')
    // A time of the runs themselves keeps the usual fix.
    const [now] = await hintsFor('built on 2026-11-18\n', 'built on 2027-12-20\n', zoned)
    expect(now?.fix).toContain('SOURCE_DATE_EPOCH instead of the current time')
    // The epoch of a commit of the day is also when the runs ran: still the zone's doing.
    const today: HintContext = { ...context, epochInZones: [NOW - 12 * 3600, NOW + 14 * 3600] }
    const [fresh] = await hintsFor('built 2026-11-18 11:06\n', 'built 2026-11-18 21:36\n', today)
    expect(fresh?.fix).toContain('UTC')
    // Two readings of the clock seconds apart are not a zone's.
    const [ticks] = await hintsFor(
      'built 2026-11-18 11:06:40\n',
      'built 2026-11-18 11:06:47\n',
      today,
    )
    expect(ticks?.fix).toContain('SOURCE_DATE_EPOCH instead of the current time')
    // Days far from the epoch are not its.
    expect((await hintsFor('2020-01-01\n', '2020-01-02\n', zoned))[0]?.cause).toBe('unexplained')
  })

  it('names what else differs on a line whose times changed', async () => {
    const [a, b] = [
      'built 2026-11-18 11:07 version 1.2.3\n',
      'built 2026-11-18 11:12 version 1.2.4\n',
    ]
    const hints = await hintsFor(a, b)
    expect(hints.map((h) => h.cause)).toEqual(['timestamp', 'unexplained'])
    expect(hints[1]?.evidence).toContain('version 1.2.3')
    // A weekday changes with its date: nothing else differs there.
    const only = await hintsFor('Wed Nov 18 11:06:40 UTC 2026\n', 'Sun Dec 20 11:06:41 UTC 2027\n')
    expect(only.map((h) => h.cause)).toEqual(['timestamp'])
  })

  it('does not call numbers far from the builds times', async () => {
    expect((await hintsFor('id=1000000001\n', 'id=1000000002\n'))[0]?.cause).toBe('unexplained')
  })

  it('finds 32-bit timestamps in binaries, little- and big-endian, when both runs’ times are known', async () => {
    const a = Buffer.alloc(64, 0x41)
    const b = Buffer.from(a)
    a.writeUInt32LE(NOW, 20)
    b.writeUInt32LE(NOW + 397 * 86400, 20)
    expect((await hintsFor(a, b))[0]).toMatchObject({
      cause: 'timestamp',
      evidence:
        'A: 1795000000 (2026-11-18T11:06:40Z); B: 1829300800 (2027-12-20T11:06:40Z), 32-bit little-endian at offset 20',
    })
    a.writeUInt32BE(NOW, 20)
    b.writeUInt32BE(NOW + 397 * 86400 + 7, 20)
    expect((await hintsFor(a, b))[0]?.evidence).toContain('big-endian at offset 20')
    // The same words in a plain diff of two files: nothing says when they were made.
    expect((await hintsFor(a, b, guessed))[0]?.cause).toBe('unexplained')
  })

  it('reads no time into a binary word unless both sides decode into their own run’s time', async () => {
    const a = Buffer.alloc(64, 0x41)
    const b = Buffer.from(a)
    a.writeUInt32LE(NOW, 20)
    b.writeUInt32LE(NOW - 7200, 20) // before run B began: not its time
    expect((await hintsFor(a, b))[0]?.cause).toBe('unexplained')
  })

  it('gives no timestamp for binary differences without a time in a plain diff (bytes of a path, random words)', async () => {
    // An object file built in two directories: its differing bytes are a path ("lf/x"),
    // which as a 32-bit word reads as a date in 2027.
    const a = Buffer.concat([Buffer.alloc(16), Buffer.from('/home/self/x.c\0'), Buffer.alloc(16)])
    const b = Buffer.concat([Buffer.alloc(16), Buffer.from('/home/else/x.c\0'), Buffer.alloc(16)])
    expect((await hintsFor(a, b, guessed)).map((h) => h.cause)).not.toContain('timestamp')
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 8, maxLength: 200 }),
        fc.uint8Array({ minLength: 8, maxLength: 200 }),
        (x, y) => {
          const [p, q] = [Buffer.from(x), Buffer.from(y)]
          fc.pre(!p.equals(q))
          // Random bytes hold no written time (a digit run of ten is all but impossible).
          fc.pre(!/[0-9]{10}/.test(p.toString('latin1') + q.toString('latin1')))
          const causes = contentHints(p, q, { binary: diffBinary(p, q) }, guessed).map(
            (h) => h.cause,
          )
          expect(causes).not.toContain('timestamp')
        },
      ),
    )
  })

  it('takes a date written as one from any year in a plain diff, a bare number only near now', async () => {
    expect(
      (
        await hintsFor(
          'PO-Revision-Date: 2015-06-24 12:42+0200\n',
          'PO-Revision-Date: 2015-06-24 14:57+0200\n',
          guessed,
        )
      )[0]?.evidence,
    ).toBe(
      // The zone's offset is taken off: the time shown in UTC is the time it was.
      'A: 2015-06-24 12:42+0200 (2015-06-24T10:42:00Z); B: 2015-06-24 14:57+0200 (2015-06-24T12:57:00Z)',
    )
    // RFC 2822, as a Debian changelog writes it; a zone by name is shown as read, not as UTC.
    expect(
      (
        await hintsFor(
          ' -- A <a@b>  Wed, 24 Jun 2015 19:40:02 +0200\n',
          ' -- A <a@b>  Wed, 24 Jun 2015 19:40:25 +0200\n',
          guessed,
        )
      )[0]?.evidence,
    ).toBe(
      'A: 24 Jun 2015 19:40:02 +0200 (2015-06-24T17:40:02Z); B: 24 Jun 2015 19:40:25 +0200 (2015-06-24T17:40:25Z)',
    )
    expect(
      (
        await hintsFor(
          'Built Nov 21 14:20:33 CET 2015\n',
          'Built Nov 21 14:21:03 CET 2015\n',
          guessed,
        )
      )[0]?.evidence,
    ).toBe(
      'A: Nov 21 14:20:33 CET 2015 (2015-11-21 14:20:33 CET); B: Nov 21 14:21:03 CET 2015 (2015-11-21 14:21:03 CET)',
    )
    // Digits inside a run of hex (font data in a PostScript file) are no time, nor a
    // ten-digit number paired with a sixteen-digit one.
    expect(
      (
        await hintsFor(
          'CC672A2E3269DC1588530888A81FA4688A01E64B9D449AB4D916EFA148F06381\n',
          'F04C80FBF6E052087D557D1585821545730623BCD485D1E8F0803EFCE197F62D\n',
          guessed,
        )
      ).map((h) => h.cause),
    ).toEqual(['unexplained'])
    expect(
      (await hintsFor('t=1588530888 x\n', 't=1585821545730623 x\n', guessed)).map((h) => h.cause),
    ).toEqual(['unexplained'])
    // A bare number near now is a time only when it is said to be one: alone on its line,
    // or after a word of time; a ten-digit setting that changed is no time.
    const bare = async (a: string, b: string) => (await hintsFor(a, b, guessed)).map((h) => h.cause)
    const [t1, t2] = [NOW - 3 * 86_400, NOW - 3 * 86_400 + 100]
    expect(await bare(`max_upload_bytes = ${t1}\n`, `max_upload_bytes = ${t2}\n`)).toEqual([
      'unexplained',
    ])
    // A word of time is a word: not the start of `timeout`, nor inside `mandate`.
    for (const key of ['timeout = ', 'mandate = ', 'updates_at_most = '])
      expect(await bare(`${key}${t1}\n`, `${key}${t2}\n`), key).toEqual(['unexplained'])
    for (const [before, after] of [
      ['', '\n'],
      ['built_at = ', '\n'],
      ['{"buildTime": ', '}\n'],
      ['{"ts": ', '}\n'],
      ['var buildTS int64 = ', '\n'],
      ['static final long BUILD = ', ';\n'],
      ['lastUpdate=', '\n'],
      ['[', '] starting build\n'],
      ['', ' INFO starting\n'],
    ])
      expect(await bare(`${before}${t1}${after}`, `${before}${t2}${after}`), before).toEqual([
        'timestamp',
      ])
    // Two lines with the same date, one of which changes: the changed one is the evidence.
    const head = 'POT-Creation-Date: 2015-06-24 12:42+0200\n'
    expect(
      (
        await hintsFor(
          `${head}PO-Revision-Date: 2015-06-24 12:42+0200\n`,
          `${head}PO-Revision-Date: 2015-06-24 14:57+0200\n`,
          guessed,
        )
      )[0]?.cause,
    ).toBe('timestamp')
    // In a binary the same printable run can hold both: counted, the unchanged date cancels.
    const bin = (t: string) =>
      Buffer.from(`\0\0Created 2015-06-24 12:42, revised 2015-06-24 ${t}\0\0`, 'latin1')
    expect((await hintsFor(bin('12:42'), bin('14:57'), guessed))[0]?.evidence).toBe(
      'A: 2015-06-24 12:42 (2015-06-24T12:42:00Z); B: 2015-06-24 14:57 (2015-06-24T14:57:00Z)',
    )
    expect((await hintsFor('t=1434000000\n', 't=1434000099\n', guessed))[0]?.cause).toBe(
      'unexplained',
    )
  })

  it('wants a time on both sides: one side’s date alone is no time that changed', async () => {
    const iso = new Date(NOW * 1000).toISOString()
    expect((await hintsFor(`x\nbuilt ${iso}\n`, 'x\nbuilt by me\n', guessed))[0]?.cause).toBe(
      'unexplained',
    )
  })

  it('names the build path with its offset', async () => {
    const hints = await hintsFor(
      'src=/tmp/reproof-x/a/proj/main.c\n',
      'src=/tmp/reproof-x/b-path-canary0123456789/proj/main.c\n',
    )
    expect(hints[0]).toMatchObject({ cause: 'build-path' })
    expect(hints[0]?.evidence).toContain('"/tmp/reproof-x/a/proj" at offset 4')
    expect(hints[0]?.fix).toContain('-ffile-prefix-map')
  })

  it('names a build path in a plain diff when both sides hold the same file under other directories', async () => {
    const obj = (dir: string) =>
      Buffer.concat([Buffer.alloc(16), Buffer.from(`${dir}/src/x.c\0`), Buffer.alloc(16)])
    const hints = await hintsFor(obj('/home/self'), obj('/tmp/build-2'), guessed)
    expect(hints[0]).toMatchObject({
      cause: 'build-path',
      evidence:
        'A holds "/home/self/src/x.c", B "/tmp/build-2/src/x.c": the same name under another directory',
    })
    expect(hints[0]?.fix).toContain('-ffile-prefix-map')
    // A dependency of another version (libtool's .la files name it) is no build path.
    const la = (version: string) => `libdir='/opt/deps/zlib-${version}/lib/libz.la'\n`
    expect((await hintsFor(la('1.2.13'), la('1.3.1'), guessed)).map((h) => h.cause)).toEqual([
      'unexplained',
    ])
    // Another file, or a path on one side only, is a change of content, not of place.
    expect(
      (await hintsFor('use /usr/lib/libfoo.so\n', 'use /usr/lib/libbar.so\n', guessed)).map(
        (h) => h.cause,
      ),
    ).toEqual(['unexplained'])
    expect((await hintsFor('x\n', 'see /usr/share/doc/x\n', guessed)).map((h) => h.cause)).toEqual([
      'unexplained',
    ])
    // Two include directories of the system that end alike (other headers, other code),
    // or two directories whose last names only match, are not one file moved.
    const strings = (p: string) => Buffer.concat([Buffer.alloc(16), Buffer.from(`${p}\0`)])
    for (const [x, y] of [
      ['/usr/include', '/usr/lib/gcc/x86_64-linux-gnu/12/include'],
      ['/home/a/include', '/srv/other/include'],
    ] as const)
      expect((await hintsFor(strings(x), strings(y), guessed)).map((h) => h.cause)).toEqual([
        'unexplained',
      ])
    // A URL's path is not a build path.
    expect(
      (await hintsFor('https://a.example/v1/x.js\n', 'https://b.example/v2/x.js\n', guessed)).map(
        (h) => h.cause,
      ),
    ).toEqual(['unexplained'])
  })

  it('names JSON whose object keys come in another order, and not JSON that is only laid out otherwise', async () => {
    const hints = await hintsFor(
      '{"b": 1, "a": [1, {"y": 2, "x": 3}]}\n',
      '{"a": [1, {"x": 3, "y": 2}], "b": 1}\n',
    )
    expect(hints.map((h) => h.cause)).toEqual(['ordering'])
    expect(hints[0]?.fix).toContain('sort_keys')
    expect(
      (await hintsFor('{"a": 1, "b": 2}\n', '{\n  "a": 1,\n  "b": 2\n}\n')).map((h) => h.cause),
    ).toEqual(['unexplained'])
    expect((await hintsFor('{"a": 1}\n', '{"a": 2}\n')).map((h) => h.cause)).toEqual([
      'unexplained',
    ])
  })

  it('names reordered lines, and the locale when it was varied', async () => {
    expect((await hintsFor('a\nb\nc\n', 'c\na\nb\n')).map((h) => h.cause)).toEqual(['ordering'])
    // A final line break on one side only moves no line.
    expect((await hintsFor('a\nb', 'a\nb\n')).map((h) => h.cause)).toEqual(['unexplained'])
    const withLocale = contentHints(
      Buffer.from('x'),
      Buffer.from('y'),
      {
        text: (await diffText('a\nB\n', 'B\na\n', ['a', 'b'], 10)) ?? {
          unified: '',
          truncated: false,
          removed: [],
          added: [],
        },
      },
      { ...context, localeVaried: true },
    )
    expect(withLocale.map((h) => h.cause)).toEqual(['ordering', 'locale'])
  })

  it('names the host name and other injected values by the canary', async () => {
    expect(
      (await hintsFor('host=builder\n', 'host=reproof-canary0123456789\n')).map((h) => h.cause),
    ).toEqual(['hostname'])
    expect((await hintsFor('v=\n', 'v=canary0123456789\n')).map((h) => h.cause)).toEqual([
      'environment',
    ])
    // A HOME beside run B's build root holds the canary outside that root: the build path
    // is named, and the variable's canary too (it was taken for the path's, and dropped).
    // The roots as a twin build gives them: each root and its parent, run B's below a
    // directory of the source's own name (src-<canary>) in its workspace.
    const [dirA, dirB] = ['/tmp/reproof-x/a', '/tmp/reproof-x/b-path-canary0123456789']
    const build: HintContext = {
      ...context,
      roots: [
        [`${dirA}/proj`, dirA],
        [`${dirB}/src-canary0123456789/proj-canary0123456789`, `${dirB}/src-canary0123456789`],
      ],
    }
    const home = await hintsFor(
      `home is ${dirA}/home\n`,
      `home is ${dirB}/home-missing-canary0123456789\n`,
      build,
    )
    expect(home.map((h) => h.cause)).toContain('environment')
    expect(home.find((h) => h.cause === 'environment')?.evidence).toBe(
      'the variation canary "canary0123456789" appears in B at offset 60, outside its build root',
    )
    // Under run B's workspace alone (its HOME and TMPDIR beside the root), the canary is
    // the build path's, no variable's: also where the root's own names hold it.
    for (const [a, b] of [
      [`tmp ${dirA}/tmp/cc1.o\n`, `tmp ${dirB}/tmp/cc1.o\n`],
      [`home=${dirA}/home\n`, `home=${dirB}/home\n`],
    ] as const) {
      const causes = (await hintsFor(a, b, build)).map((h) => h.cause)
      expect(causes).toContain('build-path')
      expect(causes).not.toContain('environment')
    }
    const nested = `${dirB}/src-canary0123456789/app-canary0123456789`
    const moved: HintContext = {
      ...context,
      roots: [
        [`${dirA}/app`, dirA],
        [nested, path.dirname(nested)],
      ],
    }
    const pwd = await hintsFor(`${dirA}/app\n`, `${nested}\n`, moved)
    expect(pwd.map((h) => h.cause)).toEqual(['build-path'])
    // Run B's domain name holds the host name's canary: it is named as the domain.
    const domain = await hintsFor('d=(none)\n', 'd=reproof-canary0123456789.invalid\n')
    expect(domain.map((h) => [h.cause, h.evidence])).toEqual([
      [
        'hostname',
        'run B\'s domain name "reproof-canary0123456789.invalid" appears in B at offset 2',
      ],
    ])
    expect(domain[0]?.fix).toMatch(/domain name/)
  })

  it('says what a path, host name or canary leaves unexplained beside it', async () => {
    const causes = async (a: string, b: string, known = context) =>
      (await hintsFor(a, b, known)).map((h) => h.cause)
    const [rootA, rootB] = ['/tmp/reproof-x/a/proj', '/tmp/reproof-x/b-path-canary0123456789/proj']
    // The build's own roots, and a key beside them.
    expect(await causes(`built_in=${rootA}\nkey=1a2b\n`, `built_in=${rootB}\nkey=ffee\n`)).toEqual([
      'build-path',
      'unexplained',
    ])
    expect(await causes(`built_in=${rootA}\nkey=1a2b\n`, `built_in=${rootB}\nkey=1a2b\n`)).toEqual([
      'build-path',
    ])
    // A plain diff of copied files: the same file under two directories.
    const plain = async (a: string, b: string) => causes(a, b, guessed)
    expect(
      await plain(
        'source=/home/alice/src/proj/main.c\nverify_tls=true\n',
        'source=/tmp/build-b/proj/main.c\nverify_tls=false\n',
      ),
    ).toEqual(['build-path', 'unexplained'])
    const [, last] = await hintsFor(
      'source=/home/alice/src/proj/main.c\nverify_tls=true\n',
      'source=/tmp/build-b/proj/main.c\nverify_tls=false\n',
      guessed,
    )
    expect(last?.evidence).toMatch(
      /^the lines differ besides their build paths too: .*verify_tls=false/,
    )
    expect(
      await plain(
        'source=/home/alice/src/proj/main.c\nverify_tls=true\n',
        'source=/tmp/build-b/proj/main.c\nverify_tls=true\n',
      ),
    ).toEqual(['build-path'])
    // The same directories, another file: not the build path's doing.
    expect(
      await plain(
        'plugin=/home/alice/src/proj/lib/libssl.so\n',
        'plugin=/tmp/build-b/proj/lib/backdoor.so\n',
      ),
    ).not.toEqual(['build-path'])
    expect(
      await causes(`plugin=${rootA}/lib/libssl.so\n`, `plugin=${rootB}/lib/backdoor.so\n`),
    ).toEqual(['build-path', 'unexplained'])
    // Run A's host name is not known: the word holding B's canary stands for any word.
    expect(
      await causes('host=builder\nseed=1\n', 'host=reproof-canary0123456789\nseed=2\n'),
    ).toEqual(['hostname', 'unexplained'])
    expect(
      await causes('host=builder\nseed=1\n', 'host=reproof-canary0123456789\nseed=1\n'),
    ).toEqual(['hostname'])
  })

  it('says what a path or a time leaves unexplained in a binary of no structure', async () => {
    const [rootA, rootB] = ['/tmp/reproof-x/a/proj', '/tmp/reproof-x/b-path-canary0123456789/proj']
    const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000', '')
    const blob = (root: string, flag: number, date = iso(NOW)) =>
      Buffer.concat([
        Buffer.from([0x7f, 0x42, 0x4c, 0x42, 1, 2, 3]),
        Buffer.from(`${root}/src/main.c\0built ${date}\0`),
        Buffer.alloc(40, 0x11),
        Buffer.from([flag]),
        Buffer.alloc(8, 0x22),
      ])
    const causes = async (a: Buffer, b: Buffer) => (await hintsFor(a, b)).map((h) => h.cause)
    expect(await causes(blob(rootA, 1), blob(rootB, 1))).toEqual(['build-path'])
    const flagged = await hintsFor(blob(rootA, 1), blob(rootB, 0))
    expect(flagged.map((h) => h.cause)).toEqual(['build-path', 'unexplained'])
    expect(flagged[1]?.evidence).toMatch(/^the bytes differ besides their build paths too: /)
    // A written time, put back, and a flag beside it.
    const later = iso(NOW + 5)
    expect(await causes(blob(rootA, 1), blob(rootA, 1, later))).toEqual(['timestamp'])
    expect(await causes(blob(rootA, 1), blob(rootA, 0, later))).toEqual([
      'timestamp',
      'unexplained',
    ])
    // Without the roots (copies compared): every path under the moved directories, and a
    // length written before a path of another length, follow from the move.
    const plain = async (a: Buffer, b: Buffer) =>
      (await hintsFor(a, b, guessed)).map((h) => h.cause)
    const paths = (root: string) =>
      Buffer.concat([
        Buffer.from([0x7f, 0x42, 0x4c, 0x42]),
        Buffer.from(`${root}/src/main.c\0`),
        Buffer.alloc(30, 0x11),
        Buffer.from(`${root}/include/util.h\0`),
      ])
    expect(await plain(paths('/build/one'), paths('/build/two'))).toEqual(['build-path'])
    const prefixed = (root: string) => {
      const text = Buffer.from(`${root}/src/main.c`)
      const length = Buffer.alloc(2)
      length.writeUInt16LE(text.length)
      return Buffer.concat([Buffer.from([0, 1, 0x42, 2, 3]), length, text, Buffer.alloc(20, 0x11)])
    }
    expect(await plain(prefixed('/home/ci/build'), prefixed('/tmp/b'))).toEqual(['build-path'])
  })

  it('falls back to unexplained, saying what it looked for', async () => {
    const hints = await hintsFor(Buffer.from([1, 2, 3, 4]), Buffer.from([1, 9, 3, 8]))
    expect(hints).toHaveLength(1)
    expect(hints[0]?.cause).toBe('unexplained')
    expect(hints[0]?.fix).not.toMatch(/random seed/)
    expect(hints[0]?.evidence).toContain('2 bytes differ in 2 places')
    const text = await hintsFor('version 1\n', 'version 2\n')
    expect(text[0]?.evidence).toMatch(/^1 line removed, 1 line added with no time/)
    // Past the 64 places the hints look at, a path is not seen: that is said, not "none".
    const a = Buffer.alloc(200_000, 0x90)
    const b = Buffer.from(a)
    for (let i = 0; i < 64; i++) b[1000 + i * 1000] = 0x55
    a.write('\0/home/alice/src/x.c\0', 190_000, 'latin1')
    b.write('\0/home/bobby/src/x.c\0', 190_000, 'latin1')
    expect((await hintsFor(a, b))[0]?.evidence).toBe(
      '69 bytes differ in 65 places with no time, path, order or host name found in the first 64 of them (the rest were not searched)',
    )
  })

  it('always gives at least one hint, each with evidence and a fix', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        (x, y) => {
          const [a, b] = [Buffer.from(x), Buffer.from(y)]
          if (a.equals(b)) return
          const hints = contentHints(a, b, { binary: diffBinary(a, b) }, context)
          expect(hints.length).toBeGreaterThan(0)
          for (const h of hints) {
            expect(h.evidence).not.toBe('')
            expect(h.fix).not.toBe('')
          }
        },
      ),
    )
  })
})

describe('link order', () => {
  const causes = (functions: [string[], string[]]) => {
    const [x, y] = [Buffer.from('\x7fELF one'), Buffer.from('\x7fELF two')]
    return contentHints(x, y, { binary: diffBinary(x, y), functions }, context).map((h) => h.cause)
  }

  it('calls the same functions in another order ordering, and nothing else that', () => {
    expect(
      causes([
        ['main', 'fa', 'fb'],
        ['main', 'fb', 'fa'],
      ]),
    ).toEqual(['ordering'])
    // The same order, or other functions (one renamed, one added) in another order, is not link order.
    expect(
      causes([
        ['main', 'fa', 'fb'],
        ['main', 'fa', 'fb'],
      ]),
    ).not.toContain('ordering')
    expect(
      causes([
        ['main', 'fa', 'fb'],
        ['main', 'fc', 'fa'],
      ]),
    ).not.toContain('ordering')
    expect(
      causes([
        ['main', 'fa'],
        ['f0', 'main', 'fa'],
      ]),
    ).not.toContain('ordering')
  })
})

describe('field hints', () => {
  it('names the fields no cause explains beside one that has a cause, for a member', () => {
    const fields = [
      { field: 'mtime', a: '2024-01-01T00:00:00Z', b: '2024-01-02T00:00:00Z' },
      { field: 'link target', a: 'config.real', b: '/etc/shadow' },
      { field: 'pax.SCHILY.xattr.security.capability', a: '(absent)', b: '0x01' },
    ]
    const hints = fieldHints(fields, { rest: true })
    expect(hints.map((h) => h.cause)).toEqual(['timestamp', 'unexplained'])
    expect(hints[1]?.evidence).toBe(
      'no cause found for link target, pax.SCHILY.xattr.security.capability',
    )
    // Every field explained, or none: nothing more is said.
    expect(fieldHints(fields.slice(0, 1), { rest: true }).map((h) => h.cause)).toEqual([
      'timestamp',
    ])
    expect(fieldHints(fields.slice(1), { rest: true })).toEqual([])
    // A compressed size beside content that differs follows from the content.
    expect(
      fieldHints(
        [fields[0] ?? { field: '', a: '', b: '' }, { field: 'compressed size', a: '10', b: '12' }],
        { rest: true, contentDiffers: true },
      ).map((h) => h.cause),
    ).toEqual(['timestamp'])
  })

  it('tells umask from other permission changes', () => {
    expect(fieldHints([{ field: 'mode', a: '0644', b: '0664' }])[0]?.cause).toBe('umask')
    // A font's unique identifier: a date as FontForge writes it, and nothing else, differs.
    const font = (a: string, b: string) =>
      fieldHints([{ field: 'unique font identifier', a, b }])[0]?.cause
    expect(font('FontForge 2.0 : Demo : 23-6-2015', 'FontForge 2.0 : Demo : 25-6-2015')).toBe(
      'timestamp',
    )
    expect(font('Demo : 1.0 : 23-6-2015', 'Demo : 1.1 : 25-6-2015')).toBeUndefined()
    expect(font('Demo : 45-13-2015', 'Demo : 23-6-2015')).toBeUndefined()
    expect(font('Demo 1.0', 'Demo 1.1')).toBeUndefined()
    // Twice in a row: a pattern's state from one call never decides the next.
    expect(font('A : 1-2-2015', 'A : 2-2-2015')).toBe('timestamp')
    expect(font('A : 1-2-2015', 'A : 2-2-2015')).toBe('timestamp')
    expect(fieldHints([{ field: 'last mounted on', a: '/mnt/a', b: '/mnt/b' }])[0]?.cause).toBe(
      'build-path',
    )
    expect(fieldHints([{ field: 'last mounted on', a: '', b: '/mnt/b' }])).toEqual([])
    // A list of every file's time that grew: a file was added, whatever its time.
    const times = (field: string, a: string, b: string) =>
      fieldHints([{ field, a, b }]).map((h) => h.cause)
    expect(times('file mtimes', '1700000000, 1700000000', '1700000000, 1700000001')).toEqual([
      'timestamp',
    ])
    expect(times('file mtimes', '1700000000', '1700000000, 1700000000')).toEqual([])
    expect(
      times(
        'file mtimes',
        '3 values, 35 characters, sha256 aa',
        '4 values, 46 characters, sha256 bb',
      ),
    ).toEqual([])
    const iso = (n: number, latest: string) =>
      `${n} records, the latest recorded ${latest} (times sha256 ab)`
    expect(times('file times', iso(5, '2024'), iso(6, '2024'))).toEqual([])
    expect(times('file times 2', iso(5, '2024'), iso(5, '2025'))).toEqual(['timestamp'])
    // The MS-DOS archive bit alone is no permission, nor are the file-type bits (GNU ar's
    // 100644 against `ar D`'s 644): said as what they are, never umask or permissions.
    for (const [field, a, b] of [
      ['external attributes', '0x81a40020', '0x81a40000'],
      ['mode', '100644', '644'],
    ] as const) {
      const [hint, ...more] = fieldHints([{ field, a, b }])
      expect(more).toEqual([])
      expect(hint?.cause).toBe('unexplained')
      expect(hint?.evidence).toContain(
        `${field}: ${a} → ${b}: the same permissions; only the file-type bits`,
      )
    }
    expect(
      fieldHints([{ field: 'external attributes', a: '0x81a40000', b: '0x81ed0000' }])[0]?.cause,
    ).toBe('permissions')
    // Zip extra fields: the cause of the field that differs, not of every field there is.
    const extra = (a: string, b: string) =>
      fieldHints([{ field: 'extra fields', a, b }]).map((h) => h.cause)
    expect(
      extra('0x5455:0380009265 0x7875:0104000000', '0x5455:0380009265 0x7875:0104e803'),
    ).toEqual(['user'])
    expect(
      extra('0x5455:0380009265 0x7875:0104000000', '0x5455:0380009266 0x7875:0104000000'),
    ).toEqual(['timestamp'])
    expect(extra('0x000a:00', '0x000a:01 0x7855:00')).toEqual(['timestamp', 'user'])
    expect(extra('0x5455:01 0xcafe:00', '0x5455:01 0xcafe:01')).toEqual([])
    expect(fieldHints([{ field: 'mode', a: '0644', b: '0755' }])[0]?.cause).toBe('permissions')
    // An exec bit is kept by normalizing: the fix is in the build, not in reproof normalize.
    expect(fieldHints([{ field: 'mode', a: '0644', b: '0755' }])[0]?.fix).toMatch(
      /^set the exec bit explicitly in the build/,
    )
    expect(fieldHints([{ field: 'mode', a: '0644', b: '4644' }])[0]?.fix).toMatch(/tar --mode/)
    // A private umask (077) against 022: group and other bits only, exec bits among them.
    for (const [a, b] of [
      ['0700', '0755'],
      ['0600', '0644'],
      ['040700', '040755'],
    ] as const)
      expect(fieldHints([{ field: 'mode', a, b }])[0], `${a} ${b}`).toMatchObject({
        cause: 'umask',
        evidence: `mode: ${a} → ${b} (group/other permission bits)`,
      })
    // The owner's exec bit, or a setuid bit, is never a umask's doing.
    expect(fieldHints([{ field: 'mode', a: '0600', b: '0700' }])[0]?.cause).toBe('permissions')
    expect(fieldHints([{ field: 'mode', a: '0755', b: '04755' }])[0]?.cause).toBe('permissions')
    expect(
      fieldHints([{ field: 'external attributes', a: '0x81a40000', b: '0x81b40000' }])[0]?.cause,
    ).toBe('umask')
    // A mode that is no number (a damaged ar header's `10 644`) gives no cause at all.
    for (const [a, b] of [
      ['0100644', '10 644'],
      ['0644', 'not a number: "0000 644"'],
      ['0644', '(none)'],
    ] as const)
      expect(fieldHints([{ field: 'mode', a, b }]), `${a} ${b}`).toEqual([])
  })

  it('maps times, owners, names and compression', () => {
    const causes = (field: string) => fieldHints([{ field, a: '1', b: '2' }]).map((h) => h.cause)
    expect(causes('mtime')).toEqual(['timestamp'])
    expect(causes('pax.atime')).toEqual(['timestamp'])
    expect(causes('uname')).toEqual(['user'])
    // A PAX record holds an owner past the header's digits (uid 5000000).
    for (const field of ['pax.uid', 'pax.gid', 'pax.uname', 'pax.gname'])
      expect(causes(field), field).toEqual(['user'])
    expect(causes('pax.SCHILY.xattr.user.uid')).toEqual([])
    // Two bare names are two files, not two places: no build path, but the fix is known.
    expect(causes('name')).toEqual(['unexplained'])
    expect(fieldHints([{ field: 'name', a: 'f1', b: '(absent)' }])[0]?.fix).toMatch(/^gzip -n/)
    expect(fieldHints([{ field: 'name', a: '/b/one/x', b: '/b/two/x' }])[0]?.cause).toBe(
      'build-path',
    )
    expect(causes('compressed size')).toEqual(['compression'])
    expect(causes('debug time 2')).toEqual(['timestamp'])
    expect(causes('debug time')).toEqual(['timestamp'])
  })

  it("calls a PE's PDB path the build path only when it is the same file in another directory, else unexplained", () => {
    const pdb = (a: string, b: string) =>
      fieldHints([{ field: 'PDB path', a, b }]).map((h) => h.cause)
    expect(pdb('C:\\w\\one\\app.pdb', 'C:\\w\\two\\app.pdb')).toEqual(['build-path'])
    expect(pdb('/tmp/a/app.pdb', '/tmp/b/app.pdb')).toEqual(['build-path'])
    // Another file: another debug file, which no time beside it explains.
    expect(pdb('C:\\w\\app.pdb', 'C:\\w\\lib.pdb')).toEqual(['unexplained'])
  })
})

describe('findTimes', () => {
  it('reads back any time it is given in each form', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_000_000_000, max: 4_000_000_000 }), (t) => {
        const iso = new Date(t * 1000).toISOString().slice(0, 19)
        expect(findTimes(`x ${t} y`).map((f) => f.seconds)).toContain(t)
        expect(findTimes(`x ${t}000 y`).map((f) => f.seconds)).toContain(t)
        expect(findTimes(`at ${iso}Z`).map((f) => f.seconds)).toContain(t)
      }),
    )
  })
})

describe('diffBinary', () => {
  it('finds the first difference and counts every differing byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (x, y) => {
        const [a, b] = [Buffer.from(x), Buffer.from(y)]
        const d = diffBinary(a, b)
        let count = Math.abs(a.length - b.length)
        let first = -1
        for (let i = 0; i < Math.min(a.length, b.length); i++) {
          if (a[i] !== b[i]) {
            count++
            if (first === -1) first = i
          }
        }
        expect(d.differingBytes).toBe(count)
        expect(d.offset).toBe(first === -1 ? Math.min(a.length, b.length) : first)
      }),
    )
  })
})

describe('parseGzipHeader', () => {
  it('reads mtime, OS, name and comment', () => {
    const head = Buffer.concat([
      Buffer.from([0x1f, 0x8b, 8, 0x18, 0, 0, 0, 0, 0, 3]),
      Buffer.from('app.tar\0note\0'),
    ])
    head.writeUInt32LE(1_700_000_000, 4)
    expect(parseGzipHeader(head)).toMatchObject({
      mtime: '2023-11-14T22:13:20Z (1700000000)',
      os: 'Unix',
      name: 'app.tar',
      comment: 'note',
    })
  })

  it('never throws on any header bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(typeof parseGzipHeader(Buffer.from(bytes)).mtime).toBe('string')
      }),
    )
  })
})

describe('summarizePatterns', () => {
  it('groups ten or more items that differ in the same fields', () => {
    const items: DiffItem[] = Array.from({ length: 25 }, (_, i) => ({
      path: `t!f${i}`,
      kind: 'metadata',
      fields: [{ field: 'mtime', a: '1', b: '2' }],
      message: 'content identical',
      hints: [],
    }))
    items.push({
      path: 't!g',
      kind: 'metadata',
      fields: [{ field: 'mode', a: '1', b: '2' }],
      message: 'content identical',
      hints: [],
    })
    const summaries = summarizePatterns(items)
    expect(summaries).toHaveLength(1)
    expect(summaries[0]).toMatchObject({
      count: 25,
      fields: ['mtime'],
      examples: Array.from({ length: 20 }, (_, i) => `t!f${i}`),
      description: '25 entries: mtime differs, content identical',
    })
    const [first] = summaries
    if (first === undefined) throw new Error('no pattern')
    expect(patternPaths(first, (p) => p)).toBe(
      `${Array.from({ length: 20 }, (_, i) => `t!f${i}`).join(', ')}, and 5 more (--json lists every one)`,
    )
  })

  it('folds by every value but a time: a rename or an attribute unlike the others stands apart', () => {
    // Twelve members renamed, one of them somewhere else entirely; twelve xattrs set,
    // one of them to another value: neither may hide in "12 entries: ... differs".
    const renamed: DiffItem[] = Array.from({ length: 12 }, (_, i) => ({
      path: `t!old${i}`,
      kind: 'metadata',
      fields: [
        { field: 'renamed', a: `old${i}`, b: i === 7 ? 'etc/cron.d/evil' : `new${i}` },
        { field: 'mtime', a: String(i), b: String(i + 1) },
      ],
      message: 'content identical',
      hints: [],
    }))
    const xattrs: DiffItem[] = Array.from({ length: 12 }, (_, i) => ({
      path: `t!x${i}`,
      kind: 'metadata',
      fields: [{ field: 'pax.SCHILY.xattr.user.note', a: 'a', b: i === 3 ? 'cap_sys_admin' : 'b' }],
      message: 'content identical',
      hints: [],
    }))
    const summaries = summarizePatterns([...renamed, ...xattrs])
    expect(summaries.map((s) => s.count)).toEqual([11])
    expect(summaries[0]?.fields).toEqual(['pax.SCHILY.xattr.user.note'])
    for (const item of [...renamed, ...xattrs.slice(3, 4)])
      expect(isSummarized(item, summaries), item.path).toBe(false)
  })

  it('never calls content identical that is not: entries whose content differs too', () => {
    const items: DiffItem[] = Array.from({ length: 12 }, (_, i) => ({
      path: `t!f${i}`,
      kind: 'metadata',
      fields: [
        { field: 'mode', a: '0700', b: '0755' },
        { field: 'mtime', a: '1', b: '2' },
      ],
      hints: [],
    }))
    const summaries = summarizePatterns(items)
    expect(summaries.map((s) => s.description)).toEqual([
      '12 entries: mode, mtime differ (mode 0700 → 0755), content not identical (each shown on its own)',
    ])
    expect(items.some((item) => isSummarized(item, summaries))).toBe(false)
  })

  it('folds an item only into a pattern of its kind, fields and message: none is left unshown', () => {
    const item = fc.record({
      kind: fc.constantFrom('metadata' as const, 'only-in-a' as const, 'content' as const),
      fields: fc.subarray(['mode', 'mtime', 'uid']),
      message: fc.constantFrom(undefined, 'content identical', 'link target differs'),
    })
    fc.assert(
      fc.property(fc.array(item, { maxLength: 40 }), (drawn) => {
        const items = drawn.map(
          (d, i) =>
            ({
              path: `t!f${i}`,
              kind: d.kind,
              fields: d.fields.map((field) => ({ field, a: '1', b: '2' })),
              ...(d.message === undefined ? {} : { message: d.message }),
              hints: [],
            }) as DiffItem,
        )
        const summaries = summarizePatterns(items)
        for (const it of items.filter((x) => isSummarized(x, summaries))) {
          const fields = (it.fields ?? []).map((f) => f.field).sort()
          // The pattern it is folded into counts it and says what it says.
          expect(
            summaries.some(
              (s) =>
                s.kind === it.kind &&
                s.fields.join(',') === fields.join(',') &&
                s.message === it.message,
            ),
          ).toBe(true)
        }
      }),
    )
    // As a tar of ten files whose mode and content differ beside one whose mode only does.
    const many: DiffItem[] = Array.from({ length: 10 }, (_, i) => ({
      path: `t!f${i}`,
      kind: 'metadata',
      fields: [{ field: 'mode', a: '0644', b: '0664' }],
      hints: [],
    }))
    const alone: DiffItem = {
      path: 't!run.sh',
      kind: 'metadata',
      fields: [{ field: 'mode', a: '0755', b: '0664' }],
      message: 'content identical',
      hints: [],
    }
    expect(isSummarized(alone, summarizePatterns([...many, alone]))).toBe(false)
  })

  it('folds no item into a pattern of other causes or other mode values: a setuid bit is shown', () => {
    const umask = (i: number): DiffItem => ({
      path: `t!f${i}`,
      kind: 'metadata',
      fields: [{ field: 'mode', a: '0644', b: '0664' }],
      message: 'content identical',
      hints: [{ cause: 'umask', evidence: 'group write', fix: 'umask 022' }],
    })
    const setuid: DiffItem = {
      path: 't!bin/su',
      kind: 'metadata',
      fields: [{ field: 'mode', a: '0755', b: '04755' }],
      message: 'content identical',
      hints: [{ cause: 'umask', evidence: 'made up, to share the cause', fix: 'x' }],
    }
    const items = [...Array.from({ length: 12 }, (_, i) => umask(i)), setuid]
    const summaries = summarizePatterns(items)
    expect(summaries.map((s) => s.description)).toEqual([
      '12 entries: mode differs (mode 0644 → 0664), content identical; cause: umask',
    ])
    expect(isSummarized(setuid, summaries)).toBe(false)
    expect(items.filter((i) => isSummarized(i, summaries))).toHaveLength(12)
    // The same values under another cause are not one pattern either.
    const other: DiffItem = {
      ...umask(99),
      hints: [{ cause: 'permissions', evidence: 'e', fix: 'f' }],
    }
    expect(isSummarized(other, summarizePatterns([...items, other]))).toBe(false)
    // Nor an owner made root among members moved to another user.
    const moved = (i: number, uid: string): DiffItem => ({
      path: `t!f${i}`,
      kind: 'metadata',
      fields: [
        { field: 'mtime', a: String(i), b: String(i + 1) },
        { field: 'uid', a: '1000', b: uid },
      ],
      message: 'content identical',
      hints: [],
    })
    const root = moved(11, '0')
    const owners = [...Array.from({ length: 11 }, (_, i) => moved(i, '1001')), root]
    const folded = summarizePatterns(owners)
    expect(folded.map((s) => s.description)).toEqual([
      '11 entries: mtime, uid differ (uid 1000 → 1001), content identical',
    ])
    expect(isSummarized(root, folded)).toBe(false)
  })
})

describe('bytesBeyond', () => {
  it('counts exactly the differing bytes outside the spans both sides share, and none when they hold them all', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.array(fc.tuple(fc.nat({ max: 80 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.array(fc.tuple(fc.nat({ max: 70 }), fc.nat({ max: 10 })), { maxLength: 4 }),
        fc.nat({ max: 3 }),
        fc.option(fc.array(fc.tuple(fc.nat({ max: 70 }), fc.nat({ max: 10 })), { maxLength: 4 })),
        (bytes, changes, rawSpans, extra, rawSpansB) => {
          const a = Buffer.from(bytes)
          const b = Buffer.concat([Buffer.from(bytes), Buffer.alloc(extra)])
          for (const [at, value] of changes) if (at < b.length) b[at] = value
          const spans = rawSpans.map(([start, length]) => [start, start + length] as const)
          const spansB = (rawSpansB ?? rawSpans).map(
            ([start, length]) => [start, start + length] as const,
          )
          // Inside a span of each side (overlapping and in any order).
          const inside = (at: number) =>
            spans.some(([s, e]) => at >= s && at < e) && spansB.some(([s, e]) => at >= s && at < e)
          let expected = extra
          let first = extra > 0 ? a.length : -1
          for (let at = a.length - 1; at >= 0; at--)
            if (a[at] !== b[at] && !inside(at)) {
              expected++
              first = at
            }
          const got = bytesBeyond(a, b, spans, spansB)
          if (expected === 0) expect(got).toBeUndefined()
          else expect(got).toEqual({ count: expected, first })
        },
      ),
    )
  })
})

describe('hints in a binary after an insertion', () => {
  it('never takes a date or path both sides hold, shifted to another offset, for one that changed', async () => {
    const record = (i: number, date: string) =>
      Buffer.concat([
        Buffer.from(
          `\u0001\u0002rec${i}\u0000${date}\u0000/srv/tenant${String(i).padStart(3, '0')}/config.yml\u0000`,
        ),
        Buffer.alloc(7, i),
      ])
    const dates = ['2023-02-03 11:00:00', '2023-03-04 12:00:00', '2023-04-05 13:00:00']
    const a = Buffer.concat(dates.map((d, i) => record(i, d)))
    // B: one record more, at the front, with its own date and path; the rest unchanged.
    const b = Buffer.concat([record(999, '2023-06-01 12:00:00'), a])
    const causes = (await hintsFor(a, b, guessed)).map((h) => h.cause)
    expect(causes).not.toContain('timestamp')
    expect(causes).not.toContain('build-path')
    // The same date changed in place is still one.
    const c = Buffer.from(
      a.toString('latin1').replace('2023-02-03 11:00:00', '2023-02-03 11:05:00'),
      'latin1',
    )
    expect((await hintsFor(a, c, guessed)).map((h) => h.cause)).toContain('timestamp')
  })
})

describe('JSON key order', () => {
  it('is named only when the values as written are the same, not when a number rounds or a key repeats', async () => {
    const causes = async (a: string, b: string) => (await hintsFor(a, b)).map((h) => h.cause)
    expect(await causes('{"id": 1, "name": "x"}\n', '{"name": "x", "id": 1}\n')).toContain(
      'ordering',
    )
    expect(
      await causes(
        '{"id": 9007199254740993, "name": "x"}\n',
        '{"name": "x", "id": 9007199254740992}\n',
      ),
    ).not.toContain('ordering')
    expect(await causes('{"a": 1, "b": 2, "a": 3}\n', '{"b": 2, "a": 3}\n')).not.toContain(
      'ordering',
    )
  })
})

describe('lines in another order', () => {
  it('says when only one side ends in a line break, which no reordering explains', async () => {
    const [hint] = await hintsFor('b\na', 'a\nb\n')
    expect(hint?.cause).toBe('ordering')
    expect(hint?.evidence).toMatch(/, and only one side ends in a line break$/)
    // Two lines, one of them moved (a line diff removes it and adds it elsewhere).
    expect(hint?.evidence).toMatch(/^the same 2 lines in another order \(1 moved\)/)
    expect((await hintsFor('b\na\nc\nd\n', 'a\nb\nc\nd\n'))[0]?.evidence).toBe(
      'the same 4 lines in another order (1 moved)',
    )
  })
})

describe('causesBetween', () => {
  const part = fc.stringMatching(/^[a-z0-9_]{1,8}$/)
  it('takes one known build root for the other as a build path, however deep each lies', () => {
    const roots: [string[], string[]] = [['/w/a/proj'], ['/w/b-path-c1/src-c1/proj-c1']]
    expect(
      causesBetween('RUNPATH /w/a/proj/lib', 'RUNPATH /w/b-path-c1/src-c1/proj-c1/lib', { roots }),
    ).toEqual(['build-path'])
    // Without the roots, a directory name is not a file name: not taken.
    expect(
      causesBetween('RUNPATH /w/a/proj/lib', 'RUNPATH /w/b-path-c1/src-c1/proj-c1/lib'),
    ).toBeUndefined()
    // The root put for the other, and something else too: not explained by it.
    expect(
      causesBetween('/w/a/proj/lib', '/w/b-path-c1/src-c1/proj-c1/lib64', { roots }),
    ).toBeUndefined()
  })

  it('takes a written time for a build time only where a build could have run: an expiry moved to 2099 is not one', () => {
    const now = Date.UTC(2026, 11, 7) / 1000
    const windows: [[number, number], [number, number]] = [
      [now - 86_400, now],
      [now - 86_400, now],
    ]
    const dated = (when: string): string => `built ${when} here`
    expect(causesBetween(dated('2026-12-06T10:00:00Z'), dated('2026-12-07T09:00:00Z'))).toEqual([
      'timestamp',
    ])
    // Past the end of the window (two years on without one), or before 1980: a date, not a build's time.
    for (const [x, y] of [
      ['2025-01-01T00:00:00Z', '2099-12-31T00:00:00Z'],
      ['1970-01-01T00:00:00Z', '2026-12-07T09:00:00Z'],
    ] as const)
      expect(causesBetween(dated(x), dated(y)), `${x} ${y}`).toBeUndefined()
    expect(
      causesBetween(dated('2026-12-06T10:00:00Z'), dated('2027-06-01T00:00:00Z'), {
        roots: [[], []],
        timeWindows: windows,
      }),
    ).toBeUndefined()
  })

  it('names a build path for the same file under other directories, and nothing for another file', () => {
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 4 }), part, part, (dirs, x, y) => {
        const [a, b] = [`/home/${x}/${dirs.join('/')}/m.py`, `/tmp/${y}/${dirs.join('/')}/m.py`]
        expect(causesBetween(a, b)).toEqual(['build-path'])
        expect(causesBetween(`path = "${a}"`, `path = "${b}"`)).toEqual(['build-path'])
        // Another file, or the path beside another change, is not explained.
        expect(causesBetween(a, b.replace('m.py', 'n.py'))).toBeUndefined()
        expect(causesBetween(`${a} 1`, `${b} 2`)).toBeUndefined()
      }),
    )
  })

  it('names a written time, never a bare number', () => {
    expect(causesBetween('built 2024-01-01T00:00:00Z', 'built 2024-01-02T10:00:00Z')).toEqual([
      'timestamp',
    ])
    expect(causesBetween('1700000000', '1700000100')).toBeUndefined()
    // __TIME__ on its own, and a date with the time after it; not a time elsewhere in a text.
    expect(causesBetween('10:00:00', '11:30:00')).toEqual(['timestamp'])
    expect(causesBetween('Jan  1 2024 10:00:00', 'Mar  2 2024 11:30:00')).toEqual(['timestamp'])
    expect(
      causesBetween(
        'valid until Jan  1 2025, backup at 02:00',
        'valid until Dec 31 2035, backup at 23:59',
      ),
    ).toBeUndefined()
    expect(causesBetween('/a/one/x.c 2024-01-01 10:00', '/b/x.c 2024-01-01 11:00')).toEqual([
      'build-path',
      'timestamp',
    ])
    expect(causesBetween('/usr/lib/x.so', '/usr/lib64/x.so')).toBeUndefined()
  })
})
