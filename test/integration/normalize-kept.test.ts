import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupTemp, listDir, makeTemp, python, runCli } from '../helpers.js'

// What a rewrite of a tar or cpio would not keep, refused; what it changes, said; and a
// file replaced in place that stays the file it was.

afterEach(cleanupTemp)

async function normalize(dir: string, file: string, ...flags: string[]) {
  const result = await runCli([
    'normalize',
    '--epoch',
    '1000000',
    ...flags,
    ...(flags.includes('--in-place') ? [] : ['-o', path.join(dir, `out-${file}`)]),
    path.join(dir, file),
  ])
  return { ...result, written: fs.existsSync(path.join(dir, `out-${file}`)) }
}

describe('reproof normalize keeps a tar whole or refuses it', () => {
  it('refuses a volume label, active global records and fields readers parse apart', async () => {
    const dir = makeTemp()
    python(
      dir,
      `
import tarfile, io
def add(t, name, **kw):
    ti = tarfile.TarInfo(name); ti.size = 1; ti.mtime = 99
    for k, v in kw.items(): setattr(ti, k, v)
    t.addfile(ti, io.BytesIO(b'x'))
with tarfile.open('label.tar', 'w', format=tarfile.GNU_FORMAT) as t:
    ti = tarfile.TarInfo('backup-label'); ti.type = b'V'; ti.size = 5; t.addfile(ti, io.BytesIO(b'hello'))
    add(t, 'b'); add(t, 'a')
with tarfile.open('global.tar', 'w', format=tarfile.PAX_FORMAT, pax_headers={'mtime': '1600000000', 'uname': 'alice'}) as t:
    add(t, 'b'); add(t, 'a')
with tarfile.open('comment.tar', 'w', format=tarfile.PAX_FORMAT, pax_headers={'comment': 'abc123'}) as t:
    add(t, 'b'); add(t, 'a')
with tarfile.open('field.tar', 'w', format=tarfile.GNU_FORMAT) as t:
    add(t, 'a'); add(t, 'b'); add(t, 'c')
# b's mtime with a letter in it, its checksum made right: GNU tar stops, tarfile lists a alone.
data = bytearray(open('field.tar', 'rb').read())
h = data[1024:1536]; h[136:148] = b'x0000000001\\0'; h[148:156] = b'        '
h[148:156] = ('%06o\\0 ' % sum(h)).encode(); data[1024:1536] = h
open('field.tar', 'wb').write(bytes(data))
# An octal field holding a 9, which GNU tar stops at and tarfile refuses; and one of
# spaces around its digits, as old tars wrote them, which both read alike.
for name, value in (('digit.tar', b'00000000019\\0'), ('spaced.tar', b' 0000000001 ')):
    with tarfile.open(name, 'w', format=tarfile.GNU_FORMAT) as t:
        add(t, 'b'); add(t, 'a')
    data = bytearray(open(name, 'rb').read())
    h = data[1024:1536]; h[136:148] = value; h[148:156] = b'        '
    h[148:156] = ('%06o\\0 ' % sum(h)).encode(); data[1024:1536] = h
    open(name, 'wb').write(bytes(data))
`,
    )
    expect(
      execFileSync(
        'python3',
        ['-c', "import tarfile; print([m.name for m in tarfile.open('field.tar')])"],
        { cwd: dir, encoding: 'utf8' },
      ).trim(),
    ).toBe("['a']")
    for (const [file, message] of [
      ['label.tar', /a GNU volume label at byte 0/],
      ['global.tar', /the global header at byte 0 sets "(mtime|uname)" for every member after it/],
      [
        'field.tar',
        /the mtime field of the header at byte 1024 is not a number every reader parses/,
      ],
      [
        'digit.tar',
        /the mtime field of the header at byte 1024 is not a number every reader parses/,
      ],
    ] as const) {
      const result = await normalize(dir, file)
      expect(result.code, file).toBe(2)
      expect(result.stderr).toMatch(message)
      expect(result.written).toBe(false)
    }
    // Spaces around the digits: every reader takes them, and so does normalize.
    const spaced = await normalize(dir, 'spaced.tar')
    expect(spaced.code, spaced.stderr).toBe(0)
    expect(
      execFileSync('tar', ['-tf', path.join(dir, 'out-spaced.tar')], { encoding: 'utf8' }),
    ).toBe('a\nb\n')
    // `git archive`'s commit id applies to no member: kept, and the tar normalized.
    const comment = await normalize(dir, 'comment.tar')
    expect(comment.code, comment.stderr).toBe(0)
    expect(
      execFileSync('tar', ['-tf', path.join(dir, 'out-comment.tar')], { encoding: 'utf8' }),
    ).toBe('a\nb\n')
  })

  it('writes canonically only what each reader reads as before: a NUL in a PAX name, a leading slash, an old-style directory', async () => {
    const dir = makeTemp()
    python(
      dir,
      `
from rawtar import member, ext, rec, END
import tarfile
def old_dir(name):
    t = tarfile.TarInfo(name); t.mode = 0o755
    b = bytearray(t.tobuf(format=tarfile.USTAR_FORMAT)); b[156] = 0
    b[148:156] = b' ' * 8; b[148:156] = b'%06o\\0 ' % sum(b[:512])
    return bytes(b)
def regular_dir(name):
    t = tarfile.TarInfo(name); t.mode = 0o755
    return t.tobuf(format=tarfile.USTAR_FORMAT)
# GNU tar ends a PAX name at its NUL, Python's tarfile does not: a split after the NUL
# named another path for GNU tar.
open('nul.tar', 'wb').write(ext(b'x', rec(b'path', b'x' * 50 + b'\\0/' + b'y' * 60)) + member('placeholder', b'DATA') + ext(b'x', rec(b'linkpath', b'tar\\0get')) + member('ln', b'', type=tarfile.SYMTYPE, linkname='zzz') + END)
open('slash.tar', 'wb').write(ext(b'x', rec(b'path', b'/' + b'b' * 100)) + member('foo', b'hello') + ext(b'x', rec(b'path', b'//' + b'c' * 100)) + member('bar', b'world') + END)
open('olddir.tar', 'wb').write(old_dir('d/') + member('d/f', b'x') + END)
open('disputed.tar', 'wb').write(regular_dir('d/') + member('d/f', b'x') + END)
`,
    )
    // Each reader's members, in name order (canonical order is by name).
    const py = (file: string): string[] =>
      (
        JSON.parse(
          execFileSync(
            'python3',
            [
              '-c',
              'import json, sys, tarfile; print(json.dumps([[m.name, m.type.decode(), m.linkname, m.isdir()] for m in tarfile.open(sys.argv[1])]))',
              file,
            ],
            { cwd: dir, encoding: 'utf8' },
          ),
        ) as unknown[]
      )
        .map((m) => JSON.stringify(m))
        .sort()
    const gnu = (file: string): string[] =>
      execFileSync('tar', ['-tvf', file], { cwd: dir, encoding: 'utf8', stdio: 'pipe' })
        .split('\n')
        // The type and the name (modes, owners and times are what normalizing sets).
        .map((line) => line.replace(/^(.)\S* +\S+ +\S+ +\S+ +\S+ /, '$1 '))
        .sort()
    for (const file of ['nul.tar', 'slash.tar', 'olddir.tar']) {
      const result = await normalize(dir, file, '--canonical')
      expect(result.code, `${file}: ${result.stderr}`).toBe(0)
      expect(py(`out-${file}`), file).toEqual(py(file))
      expect(gnu(`out-${file}`), file).toEqual(gnu(file))
    }
    // A regular file's type with a name ending in "/": GNU tar makes a directory,
    // Python's tarfile a file; written canonically it would be one of them.
    const disputed = await normalize(dir, 'disputed.tar', '--canonical')
    expect(disputed.code).toBe(2)
    expect(disputed.stderr).toMatch(
      /disputed\.tar: the entry at byte 0 \(d\/\): .*GNU tar extracts as a directory and Python's tarfile as a file/,
    )
    expect(disputed.written).toBe(false)
    // Kept as it is outside canonical mode, where headers keep their layout.
    const kept = await normalize(dir, 'disputed.tar')
    expect(kept.code, kept.stderr).toBe(0)
    expect(py('out-disputed.tar')).toEqual(py('disputed.tar'))
  })

  it('refuses a sparse member whose map tar cannot extract, as tar does', async () => {
    const dir = makeTemp()
    const sparse = path.join(dir, 'sparse')
    fs.writeFileSync(sparse, '')
    fs.truncateSync(sparse, 1024 * 1024)
    const fd = fs.openSync(sparse, 'r+')
    fs.writeSync(fd, 'data', 500_000)
    fs.closeSync(fd)
    for (const format of ['gnu', 'posix']) {
      execFileSync('tar', [`--format=${format}`, '-S', '-cf', `${format}.tar`, 'sparse'], {
        cwd: dir,
      })
      const good = await normalize(dir, `${format}.tar`)
      expect(good.code, good.stderr).toBe(0)
    }
    python(
      dir,
      `
from rawtar import with_checksum
# old GNU: the first piece's offset past the real size, its checksum made right.
data = bytearray(open('gnu.tar', 'rb').read())
h = with_checksum(bytearray(data[:512][:386] + b'77777777777\\0' + data[398:512]))
open('badmap.tar', 'wb').write(bytes(h) + data[512:])
# PAX 1.0: the records say the map starts the data; the data holds none.
from rawtar import ext, rec, member, END
records = rec(b'GNU.sparse.major', b'1') + rec(b'GNU.sparse.minor', b'0') + rec(b'GNU.sparse.name', b'f') + rec(b'GNU.sparse.realsize', b'100')
open('nomap.tar', 'wb').write(ext(b'x', records) + member('GNUSparseFile.0/f', b'hello') + END)
`,
    )
    for (const [file, message] of [
      [
        'badmap.tar',
        /badmap\.tar: the sparse file at byte 0: a sparse map piece that ends past the real size/,
      ],
      ['nomap.tar', /nomap\.tar: the sparse file at byte \d+: the data ends inside the sparse map/],
    ] as const) {
      const result = await normalize(dir, file)
      expect(result.code, file).toBe(2)
      expect(result.stderr).toMatch(message)
      expect(result.written).toBe(false)
      // GNU tar refuses them too.
      expect(() => execFileSync('tar', ['-tvf', file], { cwd: dir, stdio: 'pipe' })).toThrow()
    }
  })

  it('refuses two extension headers of one kind before a member, and a bad field in one', async () => {
    // GNU tar and libarchive take the last of two, Python's tarfile the first; with the
    // second (times only) dropped, the first would have spoken for GNU tar.
    const dir = makeTemp()
    python(
      dir,
      `
from rawtar import END as end, ext, long_name as long, member, rec, with_checksum
pax = lambda records: ext(b'x', b''.join(rec(k, v) for k, v in records))
open('twox.tar', 'wb').write(pax([(b'path', b'A')]) + pax([(b'mtime', b'5')]) + member('h', b'x') + end)
open('twol.tar', 'wb').write(long(b'L', b'b') + long(b'L', b'z') + member('x', b'one') + member('b', b'two') + end)
bad = bytearray(pax([(b'mtime', b'5')]))
bad[136:148] = b'zzzzzzzzzzz\\0'
open('badx.tar', 'wb').write(member('a', b'1') + bytes(with_checksum(bad)) + member('b', b'2') + end)
`,
    )
    for (const [file, message] of [
      ['twox.tar', /two extension headers of type x before one entry \(the second at byte 1024\)/],
      ['twol.tar', /two extension headers of type L before one entry \(the second at byte 1024\)/],
      [
        'badx.tar',
        /the mtime field of an extension header of the entry at byte 2048 is not a number every reader parses/,
      ],
    ] as const) {
      const result = await normalize(dir, file)
      expect([result.code, result.written], file).toEqual([2, false])
      expect(result.stderr).toMatch(message)
    }
  })

  it('makes the mode libarchive copies into a PAX header, and star’s and node-tar’s access and change times, stable', async () => {
    const dir = makeTemp()
    const long = `${'n'.repeat(120)}.txt`
    for (const [side, mode] of [
      ['b1', 0o600],
      ['b2', 0o644],
    ] as const) {
      fs.mkdirSync(path.join(dir, side))
      fs.writeFileSync(path.join(dir, side, long), 'same\n')
      fs.chmodSync(path.join(dir, side, long), mode)
      execFileSync('bsdtar', ['-cf', `${side}.tar`, '-C', side, long], { cwd: dir })
    }
    // A ustar header with a prefix of at most 130 bytes, then an access and a change time.
    python(
      dir,
      `
for name, atime in (('star1.tar', 0o15305433575), ('star2.tar', 0o15305433576)):
    h = bytearray(512)
    h[0:1] = b'f'; h[100:108] = b'0000644\\0'; h[108:116] = b'0000000\\0'; h[116:124] = b'0000000\\0'
    h[124:136] = b'00000000005\\0'; h[136:148] = b'15305433570\\0'; h[156:157] = b'0'
    h[257:265] = b'ustar\\x0000'; h[345:348] = b'dir'
    h[476:488] = b'%011o\\0' % atime; h[488:500] = b'%011o\\0' % (atime + 1)
    h[148:156] = b'        '; h[148:156] = b'%06o\\0 ' % sum(h)
    open(name, 'wb').write(bytes(h) + b'same\\n' + bytes(507) + bytes(1024))
`,
    )
    for (const file of ['b1.tar', 'b2.tar', 'star1.tar', 'star2.tar']) {
      const result = await normalize(dir, file)
      expect(result.code, result.stderr).toBe(0)
    }
    const out = (file: string) => fs.readFileSync(path.join(dir, `out-${file}`))
    expect(out('b1.tar').equals(out('b2.tar'))).toBe(true)
    expect(out('star1.tar').equals(out('star2.tar'))).toBe(true)
    // What readers extract is as it was: the name, joined with its prefix, and the content.
    expect(
      execFileSync('tar', ['-tvf', path.join(dir, 'out-star1.tar')], { encoding: 'utf8' }),
    ).toMatch(/ dir\/f\n$/)
    expect(execFileSync('tar', ['-xOf', path.join(dir, 'out-b1.tar')], { encoding: 'utf8' })).toBe(
      'same\n',
    )
  })

  it('says a cpio lost its setuid, setgid and sticky bits', async () => {
    const dir = makeTemp()
    fs.mkdirSync(path.join(dir, 'tree'))
    fs.writeFileSync(path.join(dir, 'tree', 'tool'), 'x')
    fs.chmodSync(path.join(dir, 'tree', 'tool'), 0o4755)
    execFileSync('sh', ['-c', 'cd tree && ls | cpio -o -H newc --quiet > ../suid.cpio'], {
      cwd: dir,
    })
    const result = await normalize(dir, 'suid.cpio')
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/1 setuid, setgid or sticky bits removed/)
    expect(
      execFileSync('cpio', ['-tv', '--quiet'], {
        input: fs.readFileSync(path.join(dir, 'out-suid.cpio')),
        encoding: 'utf8',
      }),
    ).toMatch(/^-rwxr-xr-x/)
  })
})

describe('reproof normalize of times, names and modes a format cannot hold', () => {
  it('writes an epoch past what a time field holds as the latest it holds, and says so', async () => {
    const dir = makeTemp()
    fs.mkdirSync(path.join(dir, 'tree'))
    fs.writeFileSync(path.join(dir, 'tree', 'f'), 'hi\n')
    for (const format of ['newc', 'odc', 'bin'])
      execFileSync(
        'sh',
        ['-c', `cd tree && echo f | cpio -o -H ${format} --quiet > ../${format}.cpio`],
        {
          cwd: dir,
        },
      )
    execFileSync('tar', ['-cf', 'a.tar', '-C', 'tree', 'f'], { cwd: dir })
    execFileSync('zip', ['-qX', '../a.zip', 'f'], { cwd: path.join(dir, 'tree') })
    // 5,000,000,000 is 2128: past newc's and the binary header's 32 bits (2106) and a
    // DOS time (2107); 10,000,000,000 (2286) is past tar's and odc's 11 octal digits.
    const listing = (file: string): string =>
      execFileSync(
        'sh',
        [
          '-c',
          file.endsWith('.cpio')
            ? `TZ=UTC cpio -itv --quiet < out-${file}`
            : file.endsWith('.tar')
              ? `TZ=UTC tar -tvf out-${file} --full-time`
              : `TZ=UTC unzip -Z -T out-${file}`,
        ],
        { cwd: dir, encoding: 'utf8' },
      )
    for (const [file, epoch, latest, shown] of [
      ['newc.cpio', '5000000000', '2106-02-07T06:28:15Z', /Feb +7 +2106/],
      ['bin.cpio', '5000000000', '2106-02-07T06:28:15Z', /Feb +7 +2106/],
      ['odc.cpio', '10000000000', '2242-03-16T12:56:31Z', /Mar +16 +2242/],
      ['a.tar', '10000000000', '2242-03-16T12:56:31Z', /2242-03-16 12:56:31/],
      ['a.zip', '5000000000', '2107-12-31T23:59:58Z', /21071231\.235958/],
    ] as const) {
      const result = await runCli([
        'normalize',
        '--epoch',
        epoch,
        '-o',
        path.join(dir, `out-${file}`),
        path.join(dir, file),
      ])
      expect(result.code, `${file}: ${result.stderr}`).toBe(0)
      expect(result.stdout, file).toContain(`1 times past ${latest}, the latest a `)
      expect(listing(file), file).toMatch(shown)
    }
  })

  it('refuses a cpio name longer than a path before reading it', async () => {
    const dir = makeTemp()
    // A newc header naming 553,648,128 bytes of name, and nothing after it.
    const header = `07070100000001000081A4${'0'.repeat(16)}00000001${'0'.repeat(8)}00000000${'0'.repeat(32)}21000000${'0'.repeat(8)}`
    fs.writeFileSync(path.join(dir, 'name.cpio'), header)
    const result = await normalize(dir, 'name.cpio')
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/the name size 553648128 at byte 0 is not 1 to 4096 bytes/)
    expect(result.written).toBe(false)
  })

  it('names a cut ar member as the archive’s fault, by where its header is', async () => {
    const dir = makeTemp()
    const header = `${'data.bin'.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${'100'.padEnd(10)}\x60\n`
    fs.writeFileSync(path.join(dir, 'cut.a'), `!<arch>\n${header}only 18 bytes here`, 'latin1')
    const result = await normalize(dir, 'cut.a')
    expect(result.code).toBe(2)
    expect(result.stderr.trim()).toBe(
      `reproof: ${path.join(dir, 'cut.a')}: not a readable ar archive (truncated: the member at byte 8 holds 18 of its 100 bytes)`,
    )
    expect(result.written).toBe(false)
  })

  it('says an ar member lost its setuid bit', async () => {
    const dir = makeTemp()
    const member = (name: string, mode: string, data: string): string =>
      `${name.padEnd(16)}${'1700000000'.padEnd(12)}${'1000'.padEnd(6)}${'1000'.padEnd(6)}${mode.padEnd(8)}${String(data.length).padEnd(10)}\x60\n${data}`
    fs.writeFileSync(
      path.join(dir, 'suid.a'),
      `!<arch>\n${member('a/', '104755', 'hi')}${member('b/', '100600', 'hi')}`,
      'latin1',
    )
    const result = await normalize(dir, 'suid.a')
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/1 setuid, setgid or sticky bits removed/)
  })

  it('leaves a text file that starts like a cpio or ar archive as a file of no format', async () => {
    const dir = makeTemp()
    fs.writeFileSync(path.join(dir, 'phones.txt'), '0707010000 phone list\n')
    fs.writeFileSync(
      path.join(dir, 'notes.txt'),
      '!<arch>\nnot an archive, a note about one\n'.repeat(3),
    )
    for (const file of ['phones.txt', 'notes.txt']) {
      const result = await normalize(dir, file)
      expect(result.code, `${file}: ${result.stderr}`).toBe(0)
      expect(result.stdout).toMatch(/unknown/)
    }
  })
})

describe('reproof normalize of a tar on disk', () => {
  it('keeps every member’s content of a tar many read buffers long', async () => {
    // 600 members of 5 KB each, 3 MB in all: read into reused 1 MiB buffers, the small
    // members held for the rewrite must be copies, not views of a buffer read into again.
    const dir = makeTemp()
    const tree = path.join(dir, 'tree')
    fs.mkdirSync(tree)
    for (let i = 0; i < 600; i++)
      fs.writeFileSync(path.join(tree, `m${String(i).padStart(3, '0')}`), `${i} `.repeat(1000))
    execFileSync('tar', ['-cf', 'big.tar', '-C', 'tree', '.'], { cwd: dir })
    const result = await normalize(dir, 'big.tar')
    expect(result.code, result.stderr).toBe(0)
    const out = path.join(dir, 'out')
    fs.mkdirSync(out)
    execFileSync('tar', ['-xf', path.join(dir, 'out-big.tar'), '-C', out])
    for (let i = 0; i < 600; i++) {
      const name = `m${String(i).padStart(3, '0')}`
      expect(fs.readFileSync(path.join(out, name), 'utf8'), name).toBe(`${i} `.repeat(1000))
    }
  })
})

describe('reproof normalize of a .deb', () => {
  it('makes two packages of the same files compare equal in compare mode, and keeps what dpkg installs in ship mode', async () => {
    const dir = makeTemp()
    const pkg = path.join(dir, 'pkg')
    fs.mkdirSync(path.join(pkg, 'DEBIAN'), { recursive: true })
    fs.mkdirSync(path.join(pkg, 'usr', 'bin'), { recursive: true })
    fs.writeFileSync(
      path.join(pkg, 'DEBIAN', 'control'),
      'Package: x\nVersion: 1\nArchitecture: all\nMaintainer: a <a@example.org>\nDescription: x\n',
    )
    fs.writeFileSync(path.join(pkg, 'usr', 'bin', 'tool'), 'x\n')
    fs.chmodSync(path.join(pkg, 'usr', 'bin', 'tool'), 0o4755)
    const deb = (name: string, compression: string, mtime: number): void => {
      for (const f of ['usr/bin/tool', 'DEBIAN/control'])
        fs.utimesSync(path.join(pkg, f), mtime, mtime)
      execFileSync('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '-b', pkg, name], {
        cwd: dir,
        stdio: 'ignore',
      })
    }
    deb('a.deb', 'gzip', 1_600_000_000)
    deb('b.deb', 'gzip', 1_700_000_000)
    deb('c.deb', 'xz', 1_700_000_000)
    const normalized = async (file: string, mode: string): Promise<Buffer> => {
      const result = await normalize(dir, file, '--mode', mode)
      expect(result.code, result.stderr).toBe(0)
      return fs.readFileSync(path.join(dir, `out-${file}`))
    }
    const listing = (file: string): string =>
      execFileSync('dpkg-deb', ['-c', path.join(dir, file)], { encoding: 'utf8' })
    // Compare mode: the tars inside are normalized too, an xz one written as a plain tar.
    const [a, b, c] = [
      await normalized('a.deb', 'compare'),
      await normalized('b.deb', 'compare'),
      await normalized('c.deb', 'compare'),
    ]
    expect(a.equals(b)).toBe(true)
    expect(a.equals(c)).toBe(true)
    expect(listing('out-c.deb')).toMatch(/\.\/usr\/bin\/tool/)
    // Ship mode: the tars are copied, the setuid bit dpkg would install with them too.
    await normalized('a.deb', 'ship')
    expect(listing('out-a.deb')).toMatch(/^-rwsr-xr-x .*\.\/usr\/bin\/tool$/m)
    // A data.tar.gz that holds no tar (random bytes; a zip) is refused in compare mode,
    // named as the member.
    execFileSync('ar', ['x', 'a.deb'], { cwd: dir })
    for (const [deb, data] of [
      ['bad.deb', 'head -c 5000 /dev/urandom'],
      ['zip.deb', 'zip -q - debian-binary'],
    ] as const) {
      execFileSync(
        'sh',
        [
          '-c',
          `${data} | gzip -n > data.tar.gz && ar rc ${deb} debian-binary control.tar.gz data.tar.gz`,
        ],
        { cwd: dir },
      )
      const refused = await normalize(dir, deb, '--mode', 'compare')
      expect(refused.code).toBe(2)
      expect(refused.stderr.trim()).toBe(
        `reproof: ${path.join(dir, deb)}!data.tar.gz: not a tar archive inside`,
      )
      expect(refused.written).toBe(false)
    }
    // Ship mode copies the tars, but reads each through first: a corrupt one is refused.
    const xz = fs.readFileSync(path.join(dir, 'c.deb'))
    const data = xz.indexOf('data.tar.xz')
    const corrupt = Buffer.from(xz)
    corrupt[data + 60 + 200] = (corrupt[data + 60 + 200] ?? 0) ^ 0xff
    fs.writeFileSync(path.join(dir, 'corrupt.deb'), corrupt)
    expect(() =>
      execFileSync('dpkg-deb', ['-c', path.join(dir, 'corrupt.deb')], { stdio: 'pipe' }),
    ).toThrow()
    const shipped = await normalize(dir, 'corrupt.deb', '--mode', 'ship')
    expect(shipped.code).toBe(2)
    expect(shipped.stderr).toContain(`${path.join(dir, 'corrupt.deb')}!data.tar.xz`)
    expect(shipped.written).toBe(false)
    await normalized('c.deb', 'ship')
    expect(listing('out-c.deb')).toMatch(/^-rwsr-xr-x .*\.\/usr\/bin\/tool$/m)
    // Uncompressed (dpkg-deb -Znone), a tar is read through as a tar: a header byte
    // flipped is refused as the corrupt stream of a compressed one is.
    deb('n.deb', 'none', 1_700_000_000)
    await normalized('n.deb', 'ship')
    const plain = fs.readFileSync(path.join(dir, 'n.deb'))
    const flipped = Buffer.from(plain)
    // The second header of data.tar: its ar header is 60 bytes, its first tar header 512.
    const at = plain.indexOf('data.tar') + 60 + 512 + 100
    flipped[at] = (flipped[at] ?? 0) ^ 0x01
    fs.writeFileSync(path.join(dir, 'flipped.deb'), flipped)
    const plainBad = await normalize(dir, 'flipped.deb', '--mode', 'ship')
    expect(plainBad.code, plainBad.stderr).toBe(2)
    expect(plainBad.stderr).toContain(
      `${path.join(dir, 'flipped.deb')}!data.tar: not a readable tar`,
    )
    expect(plainBad.written).toBe(false)
  })
})

describe('reproof normalize --in-place', () => {
  it('keeps the file’s owner and every bit of its mode', async () => {
    const dir = makeTemp()
    const file = path.join(dir, 'a.tar')
    fs.writeFileSync(path.join(dir, 'f'), 'x')
    execFileSync('tar', ['--mtime=@99', '-cf', 'a.tar', 'f'], { cwd: dir })
    // Root can give it another owner; anyone can keep their own and a setgid bit.
    const owner = process.getuid?.() === 0 ? { uid: 1000, gid: 1000 } : fs.statSync(file)
    fs.chownSync(file, owner.uid, owner.gid)
    fs.chmodSync(file, 0o2640)
    const result = await normalize(dir, 'a.tar', '--in-place')
    expect(result.code, result.stderr).toBe(0)
    const after = fs.statSync(file)
    expect(after.mode & 0o7777).toBe(0o2640)
    expect([after.uid, after.gid]).toEqual([owner.uid, owner.gid])
    expect(execFileSync('tar', ['-tvf', file], { encoding: 'utf8' })).toMatch(/1970-01-12/)
    expect(listDir(dir).sort()).toEqual(['a.tar', 'f'])
  })
})
