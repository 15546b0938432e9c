import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import type { DiffReport } from '../../src/diff/report.js'
import { cleanupTemp, makeTemp, python, runCli, spawnCli } from '../helpers.js'

// What an archive holds beside its members, and members a reader takes that a listing
// hides: each a difference that was dropped, or a cause given wrongly, before.

afterEach(cleanupTemp)

async function diff(dir: string, a: string, b: string, ...flags: string[]) {
  const run = await runCli(['diff', '--json', ...flags, path.join(dir, a), path.join(dir, b)])
  const report = run.stdout === '' ? undefined : (JSON.parse(run.stdout) as DiffReport)
  return { ...run, report }
}

/** Every field that differs, as `member field: a → b` (the archive's own with no member). */
function fieldsOf(report: DiffReport | undefined): string[] {
  return (report?.items ?? []).flatMap((i) =>
    (i.fields ?? []).map((f) => `${i.path.split('!')[1] ?? ''} ${f.field}: ${f.a} → ${f.b}`),
  )
}

const contentItems = (report: DiffReport | undefined): string[] =>
  (report?.items ?? []).filter((i) => i.kind === 'content' && i.nested !== true).map((i) => i.path)

/** Runs shell commands in `dir`. */
const shellIn =
  (dir: string) =>
  (cmd: string): void => {
    execFileSync('sh', ['-c', cmd], { cwd: dir })
  }

describe('tar', () => {
  it('never reads one PAX record and the same key repeated alike', async () => {
    const dir = makeTemp()
    // One record `a,b`, against two records `a` and `b` (tar and tarfile keep the last).
    python(
      dir,
      `
import tarfile, io
def rec(k, v):
    body = f' {k}={v}\\n'
    n = len(body) + 1
    while len(f'{n}{body}') != n: n += 1
    return f'{n}{body}'
def mk(path, records):
    data = ''.join(rec(k, v) for k, v in records).encode()
    info = tarfile.TarInfo('f'); info.size = 1
    h = tarfile.TarInfo('././@PaxHeader'); h.type = tarfile.XHDTYPE; h.size = len(data)
    out = io.BytesIO()
    out.write(h.tobuf(tarfile.USTAR_FORMAT)); out.write(data + b'\\0' * ((512 - len(data) % 512) % 512))
    out.write(info.tobuf(tarfile.USTAR_FORMAT)); out.write(b'x' + b'\\0' * 511); out.write(b'\\0' * 1024)
    open(path, 'wb').write(out.getvalue())
mk('one.tar', [('SCHILY.xattr.user.k', 'a,b')])
mk('two.tar', [('SCHILY.xattr.user.k', 'a'), ('SCHILY.xattr.user.k', 'b')])
`,
    )
    const kept = execFileSync(
      'python3',
      [
        '-c',
        "import tarfile; print(tarfile.open('two.tar').getmember('f').pax_headers['SCHILY.xattr.user.k'])",
      ],
      { cwd: dir, encoding: 'utf8' },
    )
    expect(kept.trim()).toBe('b')
    const { code, report } = await diff(dir, 'one.tar', 'two.tar')
    expect(code).toBe(1)
    expect(fieldsOf(report)).toEqual(['f pax.SCHILY.xattr.user.k: a,b → ["a","b"]'])
  })

  it('names data after the end of the archive, also beside a member that differs', async () => {
    const dir = makeTemp()
    const sh = shellIn(dir)
    sh('echo one > one && echo evil > evil && tar --format=gnu --mtime=@0 -cf base.tar one')
    sh('tar --format=gnu --mtime=@0 -cf evil.tar evil && cp base.tar plain.tar')
    sh(
      'echo ONE > one && tar --format=gnu --mtime=@0 -cf base2.tar one && cat base2.tar evil.tar > joined.tar',
    )
    // GNU tar itself reads the appended archive with -i.
    expect(execFileSync('tar', ['-itf', 'joined.tar'], { cwd: dir, encoding: 'utf8' })).toBe(
      'one\nevil\n',
    )
    const { code, report } = await diff(dir, 'base.tar', 'joined.tar')
    expect(code).toBe(1)
    expect(fieldsOf(report)).toEqual([
      expect.stringMatching(/^ data after the end: \(absent\) → 10240 bytes, sha256 [0-9a-f]{64}$/),
    ])
    expect(contentItems(report)).toEqual(['base.tar!one'])
    // Zeros after the end are tar's padding, not data.
    sh('head -c 4096 /dev/zero >> plain.tar')
    expect(fieldsOf((await diff(dir, 'base.tar', 'plain.tar')).report)).toEqual([])
  })

  it('applies a global header to the members after it, and compares record keys as bytes', async () => {
    const dir = makeTemp()
    python(
      dir,
      `
import tarfile
from rawtar import END, ext, member as file, rec
member = lambda n, d: file(n, d, uname='root')
g = lambda k, v: ext(tarfile.XGLTYPE, rec(k, v), 'pax_global_header')
open('glob-a.tar', 'wb').write(g(b'uname', b'alice') + member('f1', b'1\\n') + g(b'uname', b'bob') + member('f2', b'2\\n') + END)
open('glob-b.tar', 'wb').write(g(b'uname', b'bob') + member('f1', b'1\\n') + g(b'uname', b'bob') + member('f2', b'two\\n') + END)
open('key-a.tar', 'wb').write(ext(tarfile.XHDTYPE, rec(b'SCHILY.xattr.user.\\xff', b'1')) + member('f', b'x') + END)
open('key-b.tar', 'wb').write(ext(tarfile.XHDTYPE, rec(b'SCHILY.xattr.user.\\xfe', b'1')) + member('f', b'x') + END)
open('path.tar', 'wb').write(g(b'path', b'elsewhere') + member('f', b'x') + END)
bomb = ext(tarfile.XHDTYPE, rec(b'a', b'b') * 80)
open('bomb.tar', 'wb').write(bomb * 4000 + member('f', b'x') + END)
many = ext(tarfile.XGLTYPE, b''.join(rec(b'k%d' % i, b'v') for i in range(100)), 'pax_global_header')
open('many.tar', 'wb').write(many + member('f', b'x') + END)
`,
    )
    // Python's tarfile reads f1 as alice's: so must the comparison.
    const owners = execFileSync(
      'python3',
      ['-c', "import tarfile; print([m.uname for m in tarfile.open('glob-a.tar')])"],
      { cwd: dir, encoding: 'utf8' },
    )
    expect(owners.trim()).toBe("['alice', 'bob']")
    const glob = await diff(dir, 'glob-a.tar', 'glob-b.tar')
    expect(fieldsOf(glob.report)).toEqual([
      ' global uname: ["alice","bob"] → ["bob","bob"]',
      'f1 pax.uname: alice → bob',
    ])
    expect(contentItems(glob.report)).toEqual(['glob-a.tar!f2'])
    expect(fieldsOf((await diff(dir, 'key-a.tar', 'key-b.tar')).report)).toEqual([
      'f pax.SCHILY.xattr.user.\u0000ff: 1 → (absent)',
      'f pax.SCHILY.xattr.user.\u0000fe: (absent) → 1',
    ])
    // A global path: GNU tar and tarfile move every member, libarchive none.
    const moved = await diff(dir, 'path.tar', 'glob-a.tar')
    expect(moved.report?.items[0]?.message).toMatch(/sets "path": tar readers disagree/)
    // 4,000 extension headers before one entry: refused at the second, not read for minutes.
    const started = process.hrtime.bigint()
    const bomb = await diff(dir, 'bomb.tar', 'glob-a.tar')
    expect(Number(process.hrtime.bigint() - started) / 1e9).toBeLessThan(10)
    expect(bomb.report?.items[0]?.message).toMatch(
      /two extension headers of type x before one entry/,
    )
    // Each global record is a field of every member after it: a few, not thousands.
    const many = await diff(dir, 'many.tar', 'glob-a.tar')
    expect(many.report?.items[0]?.message).toMatch(/puts 100 records in effect \(at most 64\)/)
  })

  it('shows a numeric field that is no number as its bytes, not as 0', async () => {
    const dir = makeTemp()
    python(
      dir,
      `
import tarfile, io
for side, mtime in (('a', b'x0000000001'), ('b', b'y0000000002')):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.GNU_FORMAT) as t:
        for n, d in (('f', b'x'), ('g', side.encode())):
            i = tarfile.TarInfo(n); i.size = 1; t.addfile(i, io.BytesIO(d))
    data = bytearray(buf.getvalue()); h = data[0:512]
    h[136:148] = mtime + b'\\0'; h[148:156] = b'        '; h[148:156] = ('%06o\\0 ' % sum(h)).encode()
    data[0:512] = h; open(side + '.tar', 'wb').write(bytes(data))
`,
    )
    const { report } = await diff(dir, 'a.tar', 'b.tar')
    expect(fieldsOf(report)).toEqual([
      'f mtime: not a number: "x0000000001\\u0000" → not a number: "y0000000002\\u0000"',
    ])
  })

  it('never calls a second member of one name a rename of another, and warns of it', async () => {
    const dir = makeTemp()
    python(
      dir,
      `
import tarfile, io
def make(p, entries):
    with tarfile.open(p, 'w', format=tarfile.GNU_FORMAT) as t:
        for n, d in entries:
            i = tarfile.TarInfo(n); i.size = len(d); t.addfile(i, io.BytesIO(d))
make('a.tar', [('x', b'version one\\n'), ('y', b'version two\\n')])
make('b.tar', [('x', b'version one\\n'), ('x', b'version two\\n')])
`,
    )
    const { code, report } = await diff(dir, 'a.tar', 'b.tar')
    expect(code).toBe(1)
    expect(report?.items.map((i) => `${i.path} ${i.kind}`)).toEqual([
      'a.tar content',
      'a.tar!y only-in-a',
      'b.tar!x#2 only-in-b',
    ])
    expect(report?.warnings).toEqual([
      expect.stringMatching(/^a\.tar \(B\): 2 members are named "x"/),
    ])
  })
})

describe('ar', () => {
  it('shows a mode field that is no octal number as it stands, with no cause read into it', async () => {
    const dir = makeTemp()
    const sh = shellIn(dir)
    sh('printf x > m && ar rcD a.a m && cp a.a b.a')
    // The member's mode field (bytes 40 to 48 of its header, after the 8-byte magic).
    const b = fs.readFileSync(path.join(dir, 'b.a'))
    expect(b.toString('latin1', 8 + 40, 8 + 48)).toBe('644     ')
    b.write('10 644  ', 8 + 40, 'latin1')
    fs.writeFileSync(path.join(dir, 'b.a'), b)
    const { report } = await diff(dir, 'a.a', 'b.a')
    expect(fieldsOf(report)).toEqual(['m mode: 0644 → 10 644'])
    expect(report?.items[0]?.hints.map((h) => h.cause)).not.toContain('permissions')
  })

  it('calls a static library’s symbol table derived when only its offsets moved, not when its symbols changed', async () => {
    const dir = makeTemp()
    const sh = shellIn(dir)
    sh('printf "int f(void){return 1;}\\n" > a1.c && printf "int h(void){return 7;}\\n" > b.c')
    sh('printf "int f(void){int x = 2; return x * 3 + 1;}\\n" > a2.c')
    sh('printf "int f(void){return 1;}\\nint g(void){return 5;}\\n" > a3.c')
    sh('gcc -c b.c -o b.o')
    // The first member grows, or gains a symbol; the second is the same.
    for (const n of ['1', '2', '3'])
      sh(`gcc -c a${n}.c -o a.o && rm -f lib${n}.a && ar rcsD lib${n}.a a.o b.o`)
    const hintOf = async (other: string): Promise<string[]> => {
      const { report } = await diff(dir, 'lib1.a', other)
      const table = report?.items.find((i) => i.path.endsWith('lib1.a!/'))
      return table?.hints.map((h) => h.cause) ?? []
    }
    expect(await hintOf('lib2.a')).toEqual(['derived'])
    expect(await hintOf('lib3.a')).toEqual(['unexplained'])
    // Two objects that both define f, their offsets swapped in the table alone: no member
    // moved, and the linker now takes f from the other one. Not derived.
    sh('printf "int f(void){return 66;}\\n" > evil.c && gcc -c evil.c -o evil.o')
    sh('gcc -c a1.c -o good.o && rm -f swap1.a && ar rcsD swap1.a good.o evil.o')
    sh(
      `python3 -c "
import struct
d = bytearray(open('swap1.a', 'rb').read())
t = 8 + 60
a, b = struct.unpack_from('>II', d, t + 4)
struct.pack_into('>II', d, t + 4, b, a)
open('swap2.a', 'wb').write(bytes(d))"`,
    )
    const { report } = await diff(dir, 'swap1.a', 'swap2.a')
    const table = report?.items.find((i) => i.path.endsWith('swap1.a!/'))
    expect(table?.hints.map((h) => h.cause)).toEqual(['unexplained'])
    // The same members archived in another order (a list a parallel make wrote): the
    // table follows them, and is ordering, not unexplained.
    sh('gcc -c a3.c -o a.o && rm -f ab.a ba.a && ar rcsD ab.a a.o b.o && ar rcsD ba.a b.o a.o')
    const reordered = await diff(dir, 'ab.a', 'ba.a')
    expect(
      reordered.report?.items.map((i) => [i.path, i.kind, i.hints.map((h) => h.cause)]),
    ).toEqual([
      ['ab.a', 'content', []],
      ['ab.a', 'order', ['ordering']],
      ['ab.a!/', 'content', ['ordering']],
    ])
  })
})

describe('ar long names', () => {
  it('refuses a long name past the end of its name table, never reading it as no name', async () => {
    const dir = makeTemp()
    // Two members whose /N names lie past the 6-byte table: read as empty, they were one.
    shellIn(dir)(
      `python3 -c "
def h(name, size): return (name.ljust(16) + '0'.ljust(12) + '0'.ljust(6) + '0'.ljust(6) + '644'.ljust(8) + str(size).ljust(10) + '\\x60\\n').encode()
for side, data in (('a', b'one\\n'), ('b', b'two\\n')):
    open(side + '.a', 'wb').write(b'!<arch>\\n' + h('//', 6) + b'x.o/\\n\\n' + h('/999', 4) + data + h('/1000', 4) + data)
"`,
    )
    const { code, report } = await diff(dir, 'a.a', 'b.a')
    expect(code).toBe(1)
    expect(report?.items.map((i) => i.message)).toContain(
      'side A: a.a: not a readable ar archive (long name /999 past the end of the name table (6 bytes))',
    )
  })
})

describe('cpio', () => {
  it('names a hard link that extracts to other bytes, though its own stored bytes are the same', async () => {
    const dir = makeTemp()
    // newc stores a link group's data once, with its last link: x is stored empty in both,
    // and extracts to y's data in one and to z's in the other.
    python(
      dir,
      `
def newc(name, mode, ino, nlink, data):
    n = name.encode() + b'\\0'
    h = b'070701' + b''.join(b'%08X' % v for v in [ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(n), 0])
    out = h + n
    out += b'\\0' * ((4 - len(out) % 4) % 4) + data
    return out + b'\\0' * ((4 - len(out) % 4) % 4)
def arch(path, entries):
    out = b''.join(newc(*e) for e in entries) + newc('TRAILER!!!', 0, 0, 1, b'')
    open(path, 'wb').write(out + b'\\0' * ((512 - len(out) % 512) % 512))
arch('c.cpio', [('x', 0o100644, 5, 2, b''), ('y', 0o100644, 5, 2, b'secret data\\n'), ('z', 0o100644, 7, 1, b'other data\\n')])
arch('d.cpio', [('x', 0o100644, 5, 2, b''), ('y', 0o100644, 6, 1, b'secret data\\n'), ('z', 0o100644, 5, 2, b'other data\\n')])
`,
    )
    const extracted = (file: string) =>
      execFileSync(
        'sh',
        ['-c', `mkdir -p out-${file} && cd out-${file} && cpio -id --quiet < ../${file} && cat x`],
        {
          cwd: dir,
          encoding: 'utf8',
        },
      )
    expect([extracted('c.cpio'), extracted('d.cpio')]).toEqual(['secret data\n', 'other data\n'])
    const { code, report } = await diff(dir, 'c.cpio', 'd.cpio')
    expect(code).toBe(1)
    const x = report?.items.find((i) => i.path === 'c.cpio!x')
    expect(x?.fields?.map((f) => f.field)).toEqual(['linked content'])
    expect(x?.message).toBeUndefined()
  })

  it('reads every archive of a concatenated initramfs, and names what follows the last', async () => {
    const dir = makeTemp()
    const sh = shellIn(dir)
    sh('mkdir e m1 m2 && echo micro > e/ucode && echo init-v1 > m1/init && echo init-v2 > m2/init')
    sh('touch -d @0 e/ucode m1/init m2/init')
    for (const d of ['e', 'm1', 'm2']) sh(`cd ${d} && ls | cpio -o -H newc --quiet > ../${d}.cpio`)
    sh('cat e.cpio m1.cpio > one.img && cat e.cpio m2.cpio > two.img')
    sh('cat e.cpio m1.cpio > tail.img && printf "junk" >> tail.img')
    const { code, report } = await diff(dir, 'one.img', 'two.img')
    expect(code).toBe(1)
    expect(contentItems(report)).toEqual(['one.img!init'])
    expect(fieldsOf((await diff(dir, 'one.img', 'tail.img')).report)).toEqual([
      expect.stringMatching(/^ data after the trailer: \(absent\) → 4 bytes, sha256 [0-9a-f]{64}$/),
    ])
  })

  it("reads data stored in a trailer as the trailer's, not as the next archive", async () => {
    const dir = makeTemp()
    python(
      dir,
      `
def newc(name, data):
    n = name.encode() + b'\\0'
    f = [1, 0o100644 if data is not None else 0, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(n), 0]
    h = b'070701' + b''.join(b'%08X' % v for v in f) + n
    return h + b'\\0' * (-len(h) % 4) + data + b'\\0' * (-len(data) % 4)
for path, hidden in (('a.cpio', b'hidden one\\n'), ('b.cpio', b'hidden two\\n')):
    open(path, 'wb').write(newc('x', b'same\\n') + newc('TRAILER!!!', hidden))
`,
    )
    const { code, report } = await diff(dir, 'a.cpio', 'b.cpio')
    expect(code).toBe(1)
    expect(fieldsOf(report)).toEqual([
      expect.stringMatching(
        /^ data of the trailer: 11 bytes, sha256 [0-9a-f]{64} → 11 bytes, sha256 [0-9a-f]{64}$/,
      ),
    ])
  })

  it('names hard links by the first of their group, in time linear in the group', async () => {
    const dir = makeTemp()
    // 20,000 names of one inode: a list of all the others per name was 2 GB at 10,000.
    python(
      dir,
      `
def newc(entries):
    out = []
    for name, data, ino, nlink in entries + [('TRAILER!!!', b'', 0, 1)]:
        f = [ino, 0o100644, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0]
        h = ('070701' + ''.join('%08X' % v for v in f) + name + '\\0').encode()
        out.append(h + b'\\0' * (-len(h) % 4) + data + b'\\0' * (-len(data) % 4))
    return b''.join(out)
n = 20000
open('a.cpio', 'wb').write(newc([('f%d' % i, b'', 7, n) for i in range(n)]))
open('b.cpio', 'wb').write(newc([('f%d' % i, b'', 7 if i else 8, n) for i in range(n)]))
`,
    )
    // In its own process: the bundled CLI, as a user runs it.
    const run = await spawnCli([
      'diff',
      '--json',
      path.join(dir, 'a.cpio'),
      path.join(dir, 'b.cpio'),
    ])
    expect(run.code).toBe(1)
    const fields = fieldsOf(JSON.parse(run.stdout) as DiffReport)
    expect(fields.slice(0, 3)).toEqual([
      'f0 inode: 7 → 8',
      'f0 hard links: 20000 → (absent)',
      'f1 hard link of: f0 → (absent)',
    ])
    expect(fields).toContain('f1 hard links: (absent) → 19999')
  })
})

/** A zip of one member `m` whose data is `compress(content)`, stored as `method`. */
function oneMemberZip(content: Buffer, method: number, compress: (b: Buffer) => Buffer): Buffer {
  const data = compress(content)
  const crc = zlib.crc32(content)
  const name = Buffer.from('m')
  const common = (h: Buffer, at: number) => {
    h.writeUInt16LE(63, at) // version needed: 6.3, for the methods of APPNOTE 6.3
    h.writeUInt16LE(method, at + 4)
    h.writeUInt16LE(0x5021, at + 8) // 2020-01-01
    h.writeUInt32LE(crc, at + 10)
    h.writeUInt32LE(data.length, at + 14)
    h.writeUInt32LE(content.length, at + 18)
    h.writeUInt16LE(name.length, at + 22)
  }
  const local = Buffer.alloc(30)
  local.writeUInt32LE(0x04034b50, 0)
  common(local, 4)
  const central = Buffer.alloc(46)
  central.writeUInt32LE(0x02014b50, 0)
  central.writeUInt16LE(63, 4)
  common(central, 6)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(1, 8)
  end.writeUInt16LE(1, 10)
  end.writeUInt32LE(46 + name.length, 12)
  end.writeUInt32LE(30 + name.length + data.length, 16)
  return Buffer.concat([local, name, data, central, name, end])
}

describe('zip', () => {
  it('decompresses bzip2 members as zip -Z bzip2 writes them, and names a method it cannot read', async () => {
    const dir = makeTemp()
    python(
      dir,
      `
import zipfile
def mk(path, content, method, name='m'):
    with zipfile.ZipFile(path, 'w') as z:
        i = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)); i.compress_type = method
        z.writestr(i, content)
lines = ''.join(f'{n}\\n' for n in range(5000)).encode()
mk('b1.zip', lines, zipfile.ZIP_BZIP2)
mk('b2.zip', lines.replace(b'\\n4000\\n', b'\\n4000 changed\\n'), zipfile.ZIP_BZIP2)
mk('l1.zip', b'one\\n' * 100, zipfile.ZIP_LZMA)
mk('l2.zip', b'two\\n' * 100, zipfile.ZIP_LZMA)
`,
    )
    expect(execFileSync('zipinfo', [path.join(dir, 'b1.zip')], { encoding: 'utf8' })).toContain(
      'bzp2',
    )
    // The line that changed, from the decompressed members.
    const bzip2 = await diff(dir, 'b1.zip', 'b2.zip')
    expect(bzip2.code, bzip2.stderr).toBe(1)
    const item = bzip2.report?.items.find((i) => i.path === 'b1.zip!m' && i.kind === 'content')
    expect(item?.text?.unified).toContain('+4000 changed')
    // A bzip2 member whose data is damaged: an error, never the same content.
    const damaged = fs.readFileSync(path.join(dir, 'b1.zip'))
    damaged[200] = (damaged[200] ?? 0) ^ 0xff
    fs.writeFileSync(path.join(dir, 'b3.zip'), damaged)
    const broken = await diff(dir, 'b1.zip', 'b3.zip')
    expect(broken.code).toBe(1)
    expect(broken.report?.items.map((i) => i.message ?? '')).toContainEqual(
      expect.stringMatching(/^side B: .*!m: corrupt bzip2 data/),
    )
    // Zstandard (93) and xz (95), as 7-Zip and WinZip write them: written here by hand.
    for (const [method, compress] of [
      [93, (b: Buffer) => zlib.zstdCompressSync(b)],
      [95, (b: Buffer) => execFileSync('xz', ['-c'], { input: b })],
    ] as const) {
      for (const [name, content] of [
        [`${method}a.zip`, 'same\n'.repeat(500)],
        [`${method}b.zip`, `${'same\n'.repeat(499)}other\n`],
      ] as const)
        fs.writeFileSync(path.join(dir, name), oneMemberZip(Buffer.from(content), method, compress))
      const run = await diff(dir, `${method}a.zip`, `${method}b.zip`)
      expect(run.code, run.stderr).toBe(1)
      const text = run.report?.items.find((i) => i.kind === 'content' && i.path.endsWith('!m'))
        ?.text?.unified
      expect(text, String(method)).toContain('+other')
      expect((await diff(dir, `${method}a.zip`, `${method}a.zip`)).code).toBe(0)
    }
    // A bzip2 member of two streams, its directory's CRC and size those of both: one
    // stream is what a zip member holds (7-Zip and Python find a CRC error). Not the same.
    const x = Buffer.from('first half\n'.repeat(300))
    const y = Buffer.from('second half\n'.repeat(300))
    const bz = (b: Buffer) => execFileSync('bzip2', ['-c'], { input: b })
    fs.writeFileSync(path.join(dir, 'one.zip'), oneMemberZip(Buffer.concat([x, y]), 12, bz))
    fs.writeFileSync(
      path.join(dir, 'two.zip'),
      oneMemberZip(Buffer.concat([x, y]), 12, () => Buffer.concat([bz(x), bz(y)])),
    )
    const streams = await diff(dir, 'one.zip', 'two.zip')
    expect(streams.code).toBe(1)
    expect(streams.report?.items.map((i) => i.message ?? '')).toContainEqual(
      expect.stringMatching(/^side B: .*!m: corrupt bzip2 data/),
    )
    expect(streams.report?.items.map((i) => i.message ?? '')).not.toContain('content identical')
    // LZMA is not read: said so by its method, and the member is not called the same.
    const lzma = await diff(dir, 'l1.zip', 'l2.zip')
    expect(lzma.code).toBe(1)
    expect(lzma.report?.items.map((i) => i.message ?? '')).toContainEqual(
      'side A: l1.zip!m: compressed by method 14 (LZMA), which reproof does not decompress (it reads stored, deflate, bzip2, zstd and xz members)',
    )
  })

  // A zip whose central directory leaves out its first entry, which a streaming reader
  // (Java's ZipInputStream) still takes; then another member that differs.
  const HIDDEN = `
import zipfile, struct, io, sys
def hidden(path, first, last):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w') as z:
        for n, d in (('evil.txt', first), ('a.txt', 'hello\\n'), ('b.txt', last)):
            z.writestr(zipfile.ZipInfo(n, (1980, 1, 1, 0, 0, 0)), d)
    d = b.getvalue(); e = d.rfind(b'PK\\x05\\x06'); size, off = struct.unpack('<II', d[e+12:e+20])
    cd = d[off:off+size]; n, x, c = struct.unpack('<HHH', cd[28:34]); cd = cd[46+n+x+c:]
    t = bytearray(d[e:]); struct.pack_into('<HHII', t, 8, 2, 2, len(cd), off)
    open(path, 'wb').write(d[:off] + cd + bytes(t))
hidden('h-a.zip', 'harmless', 'one')
hidden('h-b.zip', 'EVIL!!!!', 'two')
`

  it('counts the bytes before the first member listed as bytes no member owns', async () => {
    const dir = makeTemp()
    python(dir, HIDDEN)
    const { report } = await diff(dir, 'h-a.zip', 'h-b.zip')
    expect(fieldsOf(report)).toEqual([
      expect.stringMatching(
        /^ bytes no member owns: 46 \(sha256 [0-9a-f]{64}\) → 46 \(sha256 [0-9a-f]{64}\)$/,
      ),
    ])
    expect(contentItems(report)).toEqual(['h-a.zip!b.txt'])
  })

  it('names central directory entries past the count of the end record, which Python extracts', async () => {
    const dir = makeTemp()
    // B's directory, by its size, holds a second entry pointing into a.txt's stored data;
    // the end record still counts one.
    python(
      dir,
      `
import struct, zlib
def local(name, data):
    n = name.encode()
    return struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, 0, 0, 0x21, zlib.crc32(data), len(data), len(data), len(n), 0) + n + data
def central(name, data, off):
    n = name.encode()
    return struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 0x031e, 20, 0, 0, 0, 0x21, zlib.crc32(data), len(data), len(data), len(n), 0, 0, 0, 0, 0o100644 << 16, off) + n
def end(count, size, off):
    return struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, count, count, size, off, 0)
hidden = b'#!/bin/sh\\necho pwned\\n'
content = b'README\\n' + local('evil.sh', hidden) + b'\\nend\\n'
lf = local('a.txt', content)
a = central('a.txt', content, 0)
b = a + central('evil.sh', hidden, 30 + len('a.txt') + len(b'README\\n'))
open('a.zip', 'wb').write(lf + a + end(1, len(a), len(lf)))
open('b.zip', 'wb').write(lf + b + end(1, len(b), len(lf)))
`,
    )
    const names = execFileSync(
      'python3',
      ['-c', "import zipfile; print(zipfile.ZipFile('b.zip').namelist())"],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    )
    expect(names.trim()).toBe("['a.txt', 'evil.sh']")
    const { code, report } = await diff(dir, 'a.zip', 'b.zip')
    expect(code).toBe(1)
    expect(fieldsOf(report)).toEqual([
      expect.stringMatching(
        /^ central directory past its count: \(absent\) → 53 bytes \(sha256 [0-9a-f]{64}\)$/,
      ),
    ])
  })

  it('names a second central directory between the one read and the end records, which unzip extracts from', async () => {
    const dir = makeTemp()
    // B: the directory yauzl reads (the zip64 end record's), then a local header and a
    // directory pointing at it (the classic end record's), then the end records.
    python(
      dir,
      `
import zipfile, io, struct
def z(entries):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w') as zf:
        for n, d in entries:
            zi = zipfile.ZipInfo(n, (1980, 1, 1, 0, 0, 0)); zi.external_attr = 0o644 << 16; zf.writestr(zi, d)
    return b.getvalue()
def parts(data):
    cd = data.find(b'PK\\x01\\x02'); eo = data.rfind(b'PK\\x05\\x06')
    return data[:cd], data[cd:eo]
good = [('f', b'good\\n'), ('g', b'1\\n')]
gl, gcd = parts(z(good))
el, ecd = parts(z([('f', b'evil\\n')]))
first = bytearray(ecd[:46 + 1]); struct.pack_into('<I', first, 42, len(gl) + len(gcd))
evil_cd = bytes(first) + gcd[47:]
evil_at = len(gl) + len(gcd) + len(el)
z64_at = evil_at + len(evil_cd)
z64 = struct.pack('<4sQHHIIQQQQ', b'PK\\x06\\x06', 44, 45, 45, 0, 0, 2, 2, len(gcd), len(gl))
loc = struct.pack('<4sIQI', b'PK\\x06\\x07', 0, z64_at, 1)
eocd = struct.pack('<4sHHHHIIH', b'PK\\x05\\x06', 0, 0, 2, 2, len(evil_cd), evil_at, 0)
open('a.zip', 'wb').write(z(good))
open('b.zip', 'wb').write(gl + gcd + el + evil_cd + z64 + loc + eocd)
# C: the second directory between the zip64 end record and its locator, naming the
# first member otherwise (unzip lists e where yauzl reads f): no other byte is extra.
renamed = gcd[:46] + b'e' + gcd[47:]
z64_at = len(gl) + len(gcd)
evil_at = z64_at + len(z64)
z64 = struct.pack('<4sQHHIIQQQQ', b'PK\\x06\\x06', 44, 45, 45, 0, 0, 2, 2, len(gcd), len(gl))
loc = struct.pack('<4sIQI', b'PK\\x06\\x07', 0, z64_at, 1)
eocd = struct.pack('<4sHHHHIIH', b'PK\\x05\\x06', 0, 0, 2, 2, len(renamed), evil_at, 0)
open('c.zip', 'wb').write(gl + gcd + z64 + renamed + loc + eocd)
`,
    )
    for (const other of ['b.zip', 'c.zip']) {
      const { code, report } = await diff(dir, 'a.zip', other)
      expect(code, other).toBe(1)
      expect(fieldsOf(report), other).toEqual([
        expect.stringMatching(
          /^ bytes after the central directory: \(absent\) → \d+ bytes \(sha256 [0-9a-f]{64}\)$/,
        ),
      ])
    }
  })

  it('compares the version a reader needs to extract a member, in both headers', async () => {
    const dir = makeTemp()
    python(
      dir,
      `
import zipfile, struct
with zipfile.ZipFile('a.zip', 'w') as z:
    z.writestr(zipfile.ZipInfo('x.txt', (2020, 1, 1, 0, 0, 0)), 'x')
d = bytearray(open('a.zip', 'rb').read())
struct.pack_into('<H', d, 4, 99)
c = d.find(b'PK\\x01\\x02'); struct.pack_into('<H', d, c + 6, 99)
open('b.zip', 'wb').write(bytes(d))
`,
    )
    expect(() => execFileSync('unzip', ['-tq', 'b.zip'], { cwd: dir, stdio: 'pipe' })).toThrow()
    const { code, report } = await diff(dir, 'a.zip', 'b.zip')
    expect(code).toBe(1)
    expect(fieldsOf(report)).toEqual([
      expect.stringMatching(/^x\.txt version needed: \d\.\d → 9\.9$/),
    ])
  })

  it('compares APK signing blocks, and does not take a forged trailer for one', async () => {
    const dir = makeTemp()
    // A block of 40 bytes of its own before the central directory; `forge` breaks its
    // leading size field, so the trailer alone claims the bytes.
    python(
      dir,
      `
import zipfile, io, struct
def apk(path, filler, forge=False):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w') as z:
        z.writestr(zipfile.ZipInfo('a.txt', (1980, 1, 1, 0, 0, 0)), 'hello\\n')
    d = b.getvalue(); e = d.rfind(b'PK\\x05\\x06'); off = struct.unpack('<I', d[e+16:e+20])[0]
    size = 40 + 8 + 16
    block = struct.pack('<Q', 1 if forge else size) + filler * 40 + struct.pack('<Q', size) + b'APK Sig Block 42'
    t = bytearray(d[e:]); struct.pack_into('<I', t, 16, off + len(block))
    open(path, 'wb').write(d[:off] + block + d[off:e] + bytes(t))
apk('s-a.apk', b'X'); apk('s-b.apk', b'Y'); apk('f-a.apk', b'X', True); apk('f-b.apk', b'Y', True)
`,
    )
    const signed = await diff(dir, 's-a.apk', 's-b.apk')
    expect(signed.code).toBe(1)
    expect(fieldsOf(signed.report)).toEqual([
      expect.stringMatching(
        /^ APK signing block: 72 bytes \(sha256 [0-9a-f]{64}\) → 72 bytes \(sha256 [0-9a-f]{64}\)$/,
      ),
    ])
    const forged = await diff(dir, 'f-a.apk', 'f-b.apk')
    expect(forged.code).toBe(1)
    expect(fieldsOf(forged.report)).toEqual([
      expect.stringMatching(
        /^ bytes no member owns: 72 \(sha256 [0-9a-f]{64}\) → 72 \(sha256 [0-9a-f]{64}\)$/,
      ),
    ])
  })

  it('compares data descriptors and checks with what the directory says, beside other differences', async () => {
    const dir = makeTemp()
    python(
      dir,
      `
import zipfile, io, struct
class Stream(io.RawIOBase):
    def __init__(s): s.b = bytearray()
    def writable(s): return True
    def write(s, x): s.b += x; return len(x)
def make(extra):
    u = Stream()
    with zipfile.ZipFile(u, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo('a.txt', (1980, 1, 1, 0, 0, 0)), b'hello hello hello\\n', zipfile.ZIP_DEFLATED)
        z.writestr(zipfile.ZipInfo('b.txt', (1980, 1, 1, 0, 0, 0)), extra, zipfile.ZIP_DEFLATED)
    return bytearray(u.b)
open('dd-a.zip', 'wb').write(make(b'one'))
d = make(b'two'); i = d.find(b'PK\\x07\\x08'); d[i + 4] ^= 1
open('dd-b.zip', 'wb').write(d)
# A CRC-32 that is not the content's, in both headers: unzip -t fails on it.
d = make(b'two'); crc = zipfile.crc32(b'hello hello hello\\n')
bad = struct.pack('<I', crc ^ 1); good = struct.pack('<I', crc)
open('crc-b.zip', 'wb').write(bytes(d).replace(good, bad))
`,
    )
    const dd = await diff(dir, 'dd-a.zip', 'dd-b.zip')
    expect(fieldsOf(dd.report)).toEqual([
      expect.stringMatching(
        /^a\.txt data descriptor: \(absent\) → crc32 [0-9a-f]+, \d+ compressed, 18$/,
      ),
    ])
    expect(contentItems(dd.report)).toEqual(['dd-a.zip!b.txt'])
    expect(() => execFileSync('unzip', ['-tq', 'crc-b.zip'], { cwd: dir, stdio: 'pipe' })).toThrow()
    const crc = await diff(dir, 'dd-a.zip', 'crc-b.zip')
    expect(fieldsOf(crc.report)).toContainEqual(
      expect.stringMatching(/^a\.txt crc32: [0-9a-f]+ → [0-9a-f]+$/),
    )
    // Beside content that differs, its check and size say nothing more.
    expect(fieldsOf(crc.report).filter((f) => f.startsWith('b.txt'))).toEqual([])
  })

  it('names a check that is not its content, where the content proves the same in other compressed bytes', async () => {
    const dir = makeTemp()
    python(
      dir,
      `
import zipfile, struct
text = ''.join('line %d abcabc\\n' % i for i in range(3000)).encode()
def make(path, level, mtime=(1980, 1, 1, 0, 0, 0)):
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr(zipfile.ZipInfo('m.txt', mtime), text, zipfile.ZIP_DEFLATED, level)
make('a.zip', 1); make('b.zip', 9); make('c.zip', 9, (1990, 1, 1, 0, 0, 0))
crc = struct.pack('<I', zipfile.crc32(text)); bad = struct.pack('<I', zipfile.crc32(text) ^ 1)
for name in ('b.zip', 'c.zip'):
    open('bad-' + name, 'wb').write(open(name, 'rb').read().replace(crc, bad))
`,
    )
    expect(() => execFileSync('unzip', ['-tq', 'bad-b.zip'], { cwd: dir, stdio: 'pipe' })).toThrow()
    // Only the compression differs: the compressor is the cause.
    const recompressed = await diff(dir, 'a.zip', 'b.zip')
    expect(recompressed.report?.items.at(-1)?.message).toBe('content identical')
    expect(recompressed.report?.items.at(-1)?.hints.map((h) => h.cause)).toEqual(['compression'])
    // The same content and a CRC-32 that is not its: said, not passed over.
    for (const [bad, other] of [
      ['bad-b.zip', []],
      ['bad-c.zip', [expect.stringMatching(/^m\.txt mtime: /)]],
    ] as const) {
      const { report } = await diff(dir, 'a.zip', bad)
      const item = report?.items.find((i) => i.path.endsWith('!m.txt'))
      expect(item?.message).toMatch(/^content identical, yet its crc32 differs: one side's/)
      expect(fieldsOf(report)).toEqual(
        expect.arrayContaining([
          ...other,
          expect.stringMatching(/^m\.txt crc32: [0-9a-f]+ → [0-9a-f]+$/),
        ]),
      )
    }
  })
})

describe('gzip', () => {
  it('blames the header, not compression, when only the name or the extra field differs', async () => {
    const dir = makeTemp()
    const sh = shellIn(dir)
    sh('mkdir g1 g2 && echo same > g1/short && echo same > g2/a-much-longer-name')
    sh('touch -d @1000 g1/short g2/a-much-longer-name')
    sh('gzip -c g1/short > a.gz && gzip -c g2/a-much-longer-name > b.gz')
    python(
      dir,
      `
import gzip, struct
body = gzip.compress(b'payload\\n', mtime=0)[10:]
for name, extra in (('x1.gz', b'AB\\x02\\x00xy'), ('x2.gz', b'AB\\x02\\x00zz')):
    open(name, 'wb').write(b'\\x1f\\x8b\\x08\\x04' + b'\\0' * 4 + b'\\x00\\x03' + struct.pack('<H', len(extra)) + extra + body)
`,
    )
    const named = await diff(dir, 'a.gz', 'b.gz')
    expect(named.report?.items.map((i) => i.kind)).toEqual(['metadata'])
    expect(fieldsOf(named.report)).toEqual([' name: short → a-much-longer-name'])
    const extra = await diff(dir, 'x1.gz', 'x2.gz')
    expect(fieldsOf(extra.report)).toEqual([' extra: 414202007879 → 414202007a7a'])
    expect(extra.report?.items.flatMap((i) => i.hints.map((h) => h.cause))).not.toContain(
      'compression',
    )
  })
})

describe('tar fields readers ignore', () => {
  it('shows a mode past its permissions, device numbers on a file and a directory size, beside a content difference', async () => {
    const dir = makeTemp()
    // In each pair, f's content differs too: the fields must show beside it, not only
    // when nothing else differs.
    python(
      dir,
      `
import tarfile, io
def make(name, data):
    with tarfile.open(name, 'w', format=tarfile.USTAR_FORMAT) as t:
        i = tarfile.TarInfo('f'); i.size = 1; t.addfile(i, io.BytesIO(data))
        d = tarfile.TarInfo('d'); d.type = tarfile.DIRTYPE; t.addfile(d)
def patched(src, dst, at, value):
    b = bytearray(open(src, 'rb').read())
    b[at:at + len(value)] = value
    start = at - at % 512
    b[start + 148:start + 156] = b' ' * 8
    b[start + 148:start + 156] = b'%06o\\0 ' % sum(b[start:start + 512])
    open(dst, 'wb').write(b)
make('x.tar', b'x'); make('y.tar', b'y')
patched('y.tar', 'mode.tar', 100, b'0100644\\0')
patched('y.tar', 'dev.tar', 329, b'0000005\\0')
patched('y.tar', 'dsize.tar', 1024 + 124, b'00000000005\\0')
`,
    )
    for (const [file, field] of [
      ['mode.tar', 'f mode: 0644 → 0100644'],
      ['dev.tar', 'f device: (absent) → 5,0'],
      ['dsize.tar', 'd/ size field: (absent) → 5'],
    ] as const) {
      const run = await diff(dir, 'x.tar', file)
      expect(fieldsOf(run.report), file).toContain(field)
      expect(contentItems(run.report)).toContain('x.tar!f')
      // No permission bit changed: no cause says one did.
      expect(run.report?.items.flatMap((i) => i.hints.map((h) => h.cause))).not.toContain(
        'permissions',
      )
    }
    // ar alike: a writer may put the file type in the mode (100644), GNU ar -D does not.
    shellIn(dir)('echo one > m.o && ar rcD x.a m.o && echo two > m.o && ar rcD y.a m.o')
    const bytes = fs.readFileSync(path.join(dir, 'y.a'))
    bytes.write('100644  ', 8 + 40, 'latin1')
    fs.writeFileSync(path.join(dir, 'z.a'), bytes)
    const ar = await diff(dir, 'x.a', 'z.a')
    expect(fieldsOf(ar.report)).toContain('m.o mode: 0644 → 0100644')
  })

  it('warns of a member another tar reader names otherwise, beside any other difference', async () => {
    // A GNU long name beside a PAX path (GNU tar takes the path, Python's tarfile and
    // bsdtar the long name), and a prefix under GNU's magic (Python joins it, GNU tar
    // does not): the same bytes may extract elsewhere.
    const dir = makeTemp()
    python(
      dir,
      `
import tarfile, io
from rawtar import END, ext, long_name, member, rec, with_checksum
open('a.tar', 'wb').write(member('good.txt', b'x') + member('other.txt', b'o') + END)
long = long_name(tarfile.GNUTYPE_LONGNAME, b'../../evil.txt')
pax = ext(tarfile.XHDTYPE, rec(b'path', b'good.txt'))
open('b.tar', 'wb').write(long + pax + member('good.txt', b'x') + member('other.txt', b'o', 100) + END)
with tarfile.open('c.tar', 'w', format=tarfile.GNU_FORMAT) as t:
    i = tarfile.TarInfo('good.txt'); i.size = 1; t.addfile(i, io.BytesIO(b'x'))
    i = tarfile.TarInfo('other.txt'); i.size = 1; i.mtime = 100; t.addfile(i, io.BytesIO(b'o'))
c = bytearray(open('c.tar', 'rb').read())
c[345:359] = b'../../tmp/evil'
open('c.tar', 'wb').write(bytes(with_checksum(c)))
`,
    )
    for (const [file, said] of [
      [
        'b.tar',
        /its name is given twice, by a GNU long name \(\.\.\/\.\.\/evil\.txt\) and a PAX path record/,
      ],
      [
        'c.tar',
        /bytes 345 to 499 of its header are not empty, which Python's tarfile reads as a prefix/,
      ],
    ] as const) {
      const run = await diff(dir, 'a.tar', file)
      expect(run.code, file).toBe(1)
      expect(run.report?.warnings.join('\n'), file).toMatch(said)
    }
  })

  it("names an ar member's padding byte when it is not a line feed", async () => {
    const dir = makeTemp()
    shellIn(dir)('printf abc > odd && ar rcD x.a odd')
    const bytes = fs.readFileSync(path.join(dir, 'x.a'))
    expect(bytes[bytes.length - 1]).toBe(0x0a)
    bytes[bytes.length - 1] = 0x58
    fs.writeFileSync(path.join(dir, 'y.a'), bytes)
    const run = await diff(dir, 'x.a', 'y.a')
    expect(run.code).toBe(1)
    expect(fieldsOf(run.report)).toContain('odd padding byte: (absent) → 0x58')
  })
})

describe('zip times and attributes', () => {
  it('never reads two stored DOS times alike, and compares the internal attributes', async () => {
    const dir = makeTemp()
    // Member y: 00:00:60 against 00:01:00, day 0 of February against January 31, the
    // text bit against none; member x the same in each pair.
    python(
      dir,
      `
import zipfile, struct
def mk(name, t=None, d=None, internal=0):
    with zipfile.ZipFile(name, 'w') as z:
        z.writestr(zipfile.ZipInfo('x', (2020, 1, 1, 0, 0, 0)), 'x')
        i = zipfile.ZipInfo('y', (2020, 1, 1, 0, 0, 0)); i.internal_attr = internal
        z.writestr(i, 'same')
    b = bytearray(open(name, 'rb').read())
    local = b.find(b'PK\\x03\\x04', 1); central = b.find(b'PK\\x01\\x02', b.find(b'PK\\x01\\x02') + 1)
    if t is not None: struct.pack_into('<H', b, local + 10, t); struct.pack_into('<H', b, central + 12, t)
    if d is not None: struct.pack_into('<H', b, local + 12, d); struct.pack_into('<H', b, central + 14, d)
    open(name, 'wb').write(b)
mk('s60.zip', t=30); mk('m1.zip', t=1 << 5)
mk('feb0.zip', d=(40 << 9) | (2 << 5)); mk('jan31.zip', d=(40 << 9) | (1 << 5) | 31)
mk('feb30.zip', d=(40 << 9) | (2 << 5) | 30); mk('mar1.zip', d=(40 << 9) | (3 << 5) | 1)
mk('binary.zip'); mk('text.zip', internal=1)
`,
    )
    const seconds = await diff(dir, 's60.zip', 'm1.zip')
    expect(seconds.code).toBe(1)
    expect(fieldsOf(seconds.report)).toEqual([
      'y mtime: not a time: DOS date 0x5021, time 0x001e → 2020-01-01T00:01:00Z (1577836860) (DOS, no zone)',
    ])
    const days = await diff(dir, 'feb0.zip', 'jan31.zip')
    expect(fieldsOf(days.report)).toEqual([
      'y mtime: not a time: DOS date 0x5040, time 0x0000 → 2020-01-31T00:00:00Z (1580428800) (DOS, no zone)',
    ])
    // A day the month does not have (February 30 of 2020 is March 1 to Date.UTC).
    const pastMonth = await diff(dir, 'feb30.zip', 'mar1.zip')
    expect(fieldsOf(pastMonth.report)).toEqual([
      'y mtime: not a time: DOS date 0x505e, time 0x0000 → 2020-03-01T00:00:00Z (1583020800) (DOS, no zone)',
    ])
    const attributes = await diff(dir, 'binary.zip', 'text.zip')
    expect(fieldsOf(attributes.report)).toEqual(['y internal attributes: 0x0 → 0x1'])
  })
})

describe('gzip inside another compression', () => {
  it("reads a later member's header there too, rather than blame the compressor", async () => {
    const dir = makeTemp()
    python(
      dir,
      `
import gzip
for name, t in (('a.gz', 5), ('b.gz', 6)):
    open(name, 'wb').write(gzip.compress(b'hello', mtime=0) + gzip.compress(b'world', mtime=t))
`,
    )
    shellIn(dir)('xz -k a.gz && xz -k b.gz')
    for (const [a, b] of [
      ['a.gz', 'b.gz'],
      ['a.gz.xz', 'b.gz.xz'],
    ] as const) {
      const run = await diff(dir, a, b)
      expect(run.code).toBe(1)
      expect(fieldsOf(run.report), a).toEqual([
        ' mtime 2: 1970-01-01T00:00:05Z (5) → 1970-01-01T00:00:06Z (6)',
      ])
      expect(run.report?.items.flatMap((i) => i.hints.map((h) => h.cause))).not.toContain(
        'compression',
      )
    }
  })
})

describe('bzip2', () => {
  it("says a stream is corrupt in reproof's words, not a decoder's", async () => {
    const dir = makeTemp()
    const head = Buffer.from('BZh91AY&SY\x00\x00\x00\x00garbagegarbage', 'latin1')
    fs.writeFileSync(path.join(dir, 'a.bz2'), head)
    fs.writeFileSync(path.join(dir, 'b.bz2'), Buffer.concat([head, Buffer.from('x')]))
    const run = await diff(dir, 'a.bz2', 'b.bz2')
    const said = (run.report?.items ?? []).map((i) => i.message ?? '').join('\n')
    expect(said).toMatch(/\.bz2: corrupt bzip2 data$/m)
  })

  it('stops a bomb at the ratio limit without expanding a whole block first', async () => {
    const dir = makeTemp()
    const sh = shellIn(dir)
    sh(
      'head -c 45000000 /dev/zero | bzip2 -9 > z1.bz2 && (head -c 45000000 /dev/zero; echo) | bzip2 -9 > z2.bz2',
    )
    const before = process.memoryUsage().rss
    const { code, stderr } = await diff(dir, 'z1.bz2', 'z2.bz2')
    expect(code).toBe(2)
    expect(stderr).toMatch(/decompresses to more than 1000 times its compressed size/)
    // The old decoder held the block as an array of numbers: over a gigabyte.
    expect((process.memoryUsage().rss - before) / 1024 ** 2).toBeLessThan(200)
  })

  it('reads streams one after another, and what a block holds, exactly', async () => {
    const dir = makeTemp()
    const lines = Array.from({ length: 300_000 }, (_, i) => `${i}\n`).join('')
    fs.writeFileSync(path.join(dir, 'seq'), lines)
    fs.writeFileSync(path.join(dir, 'seq2'), lines.replace('\n77777\n', '\nchanged\n'))
    const sh = shellIn(dir)
    sh(
      'bzip2 -k -c seq > a.bz2 && bzip2 -c seq2 > b.bz2 && cat a.bz2 a.bz2 > aa.bz2 && cat seq seq > seqseq',
    )
    const changed = await diff(dir, 'a.bz2', 'b.bz2')
    expect(changed.report?.items[0]?.text?.unified).toContain('-77777\n+changed')
    sh('bzip2 -c seqseq > same.bz2')
    // Two streams of the content, against one stream of both: the same content.
    const joined = await diff(dir, 'aa.bz2', 'same.bz2')
    expect(
      joined.report?.items.filter((i) => i.kind === 'content' && i.text !== undefined),
    ).toEqual([])
  })
})

describe('the terminal view', () => {
  it('sends no control character from an archive to the terminal', async () => {
    const dir = makeTemp()
    python(
      dir,
      `
import tarfile, io
for side, mtime in (('a', 0), ('b', 1)):
    with tarfile.open(side + '.tar', 'w', format=tarfile.PAX_FORMAT) as t:
        for i in range(10):
            ti = tarfile.TarInfo('\\x1b[31mRED\\x1b]0;TITLE\\x07%d' % i); ti.size = 1; ti.mtime = mtime
            ti.uname = '\\x1b[2J' + side
            t.addfile(ti, io.BytesIO(b'x'))
`,
    )
    const run = await runCli(['diff', path.join(dir, 'a.tar'), path.join(dir, 'b.tar')])
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/repeated patterns/)
    // eslint-disable-next-line no-control-regex
    expect(run.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/)
    // One member, so that its item and the evidence of its cause (the owner) are shown.
    python(
      dir,
      `
import tarfile, io
for side in ('a', 'b'):
    with tarfile.open('one-' + side + '.tar', 'w', format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo('f'); ti.size = 1; ti.uname = '\\x1b[2J' + side
        t.addfile(ti, io.BytesIO(b'x'))
`,
    )
    const one = await runCli(['diff', path.join(dir, 'one-a.tar'), path.join(dir, 'one-b.tar')])
    expect(one.stdout).toMatch(/cause: user — .*\\x1b\[2J/)
    // eslint-disable-next-line no-control-regex
    expect(one.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/)
  })
})
