import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupTemp, makeTemp, runCli } from '../helpers.js'

// A zip is read in two orders (the central directory's by unzip and Java's ZipFile,
// where the data lies by streaming readers) and with a host byte that says whether its
// attributes hold a Unix mode, and `\` a separator. A rewrite has one order and is made
// by Unix: what any of that would change for some reader is refused, never "normalized".

afterEach(cleanupTemp)

const python = (cwd: string, script: string): void => {
  execFileSync('python3', ['-c', script], { cwd })
}

const run = (cwd: string, cmd: string): string =>
  execFileSync('sh', ['-c', cmd], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

/** A zip of `[name, content, host, unix mode]` members, in that order, by Python's zipfile. */
function makeZip(dir: string, file: string, members: [string, string, number, number][]): void {
  execFileSync('python3', ['-c', MAKE_ZIP, file, JSON.stringify(members)], { cwd: dir })
}
const MAKE_ZIP = `
import sys, zipfile, json
z = zipfile.ZipFile(sys.argv[1], 'w')
for n, c, host, mode in json.loads(sys.argv[2]):
    i = zipfile.ZipInfo(n, (1980, 1, 1, 0, 0, 0)); i.create_system = host; i.external_attr = mode << 16
    z.writestr(i, c)
z.close()
`

/**
 * A zip made by hand, each member's name a Python bytes literal with its flags as given:
 * Python's zipfile flags every name it writes that is not ASCII.
 */
function flaggedZip(dir: string, file: string, members: [string, string, number][]): void {
  const list = members.map(([name, data, flags]) => `(${name}, b'${data}', ${flags})`).join(', ')
  python(
    dir,
    `
import struct, zlib
out = bytearray(); cd = bytearray()
for name, data, flags in [${list}]:
    crc = zlib.crc32(data); off = len(out)
    out += struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, flags, 0, 0, 0x21, crc, len(data), len(data), len(name), 0) + name + data
    cd += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 0x031e, 20, flags, 0, 0, 0x21, crc, len(data), len(data), len(name), 0, 0, 0, 0, 0o100644 << 16, off) + name
o = len(out); out += cd + struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, ${members.length}, ${members.length}, len(cd), o, 0)
open('${file}', 'wb').write(out)
`,
  )
}

async function normalize(dir: string, file: string, ...flags: string[]) {
  const out = path.join(dir, `out-${file}`)
  const result = await runCli([
    'normalize',
    '--epoch',
    '315532800',
    ...flags,
    '-o',
    out,
    path.join(dir, file),
  ])
  return { ...result, out, written: fs.existsSync(out) }
}

/** Each input refused (exit 2, its message, no output written). */
async function refused(dir: string, cases: readonly (readonly [string, RegExp])[]): Promise<void> {
  for (const [file, message] of cases) {
    const result = await normalize(dir, file)
    expect(result.code, file).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(result.written).toBe(false)
  }
}

/** What unzip extracts: each path, its type and mode. */
function unzipped(dir: string, file: string): string {
  return run(
    dir,
    `rm -rf x && mkdir x && cd x && unzip -qo ../${file} 2>/dev/null; find . -mindepth 1 -printf '%p %y %m\\n' | sort`,
  )
}

/** A tar of one-byte files of these names, in this order, written by Python's tarfile, then normalized. */
async function normalizedTar(dir: string, file: string, names: string[]) {
  python(
    dir,
    `
import tarfile, io
with tarfile.open(${JSON.stringify(file)}, 'w') as t:
    for n in ${JSON.stringify(names)}:
        i = tarfile.TarInfo(n); i.size = 1; t.addfile(i, io.BytesIO(b'x'))
`,
  )
  return normalize(dir, file)
}

describe('reproof normalize on zips whose readers disagree', () => {
  it('refuses modes that some readers honour and others do not, and DOS backslashes', async () => {
    const dir = makeTemp()
    // OS X (host 19): unzip and libarchive ignore its mode; made by Unix, it would count.
    makeZip(dir, 'osx.zip', [['lnk', 'run.sh', 19, 0o120755]])
    // FAT (host 0) with a link's mode whose owner bits match the DOS attributes: unzip
    // makes a link of it, libarchive a file.
    makeZip(dir, 'fat.zip', [['link', 'target.txt', 0, 0o120644]])
    expect(unzipped(dir, 'fat.zip')).toBe('./link l 777\n')
    // unzip reads `\` as `/` in a name from a DOS host only.
    makeZip(dir, 'slash.zip', [['dir\\a.txt', 'A', 0, 0]])
    await refused(dir, [
      ['osx.zip', /made on host 19, whose mode bits \(120755\)/],
      ['fat.zip', /made on host 0, whose mode bits \(120644\)/],
      ['slash.zip', /holds a backslash and was made on host 0/],
    ])
    // A mode unzip does not take from a DOS host (owner bits that are not the DOS
    // attributes', as Python on Windows writes 0o777) is no mode: kept as a plain file.
    makeZip(dir, 'plain.zip', [['notes.txt', '/etc/passwd', 0, 0o120777]])
    const plain = await normalize(dir, 'plain.zip')
    expect(plain.code, plain.stderr).toBe(0)
    expect(unzipped(dir, 'out-plain.zip')).toBe(unzipped(dir, 'plain.zip'))
  })

  it('refuses to reorder members that extract to one path, or one below a file or a link', async () => {
    const dir = makeTemp()
    for (const [file, first, second] of [
      ['alias.zip', 'x', './x'],
      ['slashes.zip', 'd/y', 'd//y'],
      ['file.zip', 'a/b', 'a'],
    ] as const)
      makeZip(dir, file, [
        [first, 'first', 3, 0o100644],
        [second, 'second', 3, 0o100644],
      ])
    // `./l/f` is `l/f`: written through the link `l` before sorting, into a directory after.
    makeZip(dir, 'link.zip', [
      ['t/', '', 3, 0o40755],
      ['l', 't', 3, 0o120777],
      ['./l/f', 'via link', 3, 0o100644],
    ])
    expect(unzipped(dir, 'alias.zip')).toBe('./x f 644\n')
    expect(run(dir, 'cat x/x')).toBe('second')
    await refused(dir, [
      ['alias.zip', /extracted to the same path as another member/],
      ['slashes.zip', /extracted to the same path as another member/],
      ['file.zip', /lies below a, which is not a directory/],
      ['link.zip', /lies below l, a symbolic link of the archive/],
    ])
    // A tar alike: GNU tar keeps the directory `a` (the file `a` cannot replace it).
    const tar = await normalizedTar(dir, 'file.tar', ['a/b', 'a'])
    expect(tar.code).toBe(2)
    expect(tar.stderr).toMatch(/\(a\/b\) lies below a, which is not a directory/)
    // In the order they would be sorted to already, nothing moves: kept.
    makeZip(dir, 'sorted.zip', [
      ['x', 'first', 3, 0o100644],
      ['x/', '', 3, 0o40755],
    ])
    expect((await normalize(dir, 'sorted.zip')).code).toBe(0)
  })

  it('refuses to reorder names that some reader extracts to one path: at a NUL, or `\\` as `/`', async () => {
    const dir = makeTemp()
    // Every zip reader ends a name at a NUL; libarchive reads `\\` as `/` whoever made
    // the zip. Each pair is in the order sorting would swap.
    makeZip(dir, 'nul.zip', [
      ['aQc', 'first', 3, 0o100644],
      ['aQb', 'second', 3, 0o100644],
    ])
    const file = path.join(dir, 'nul.zip')
    fs.writeFileSync(
      file,
      Buffer.from(fs.readFileSync(file).toString('latin1').replaceAll('aQ', 'a\0'), 'latin1'),
    )
    makeZip(dir, 'backslash.zip', [
      ['d\\x', 'first', 3, 0o100644],
      ['d/x', 'second', 3, 0o100644],
    ])
    expect(run(dir, 'rm -rf n && mkdir n && cd n && unzip -qo ../nul.zip && ls && cat a')).toBe(
      'a\nsecond',
    )
    expect(run(dir, 'rm -rf b && mkdir b && cd b && bsdtar -xf ../backslash.zip && cat d/x')).toBe(
      'second',
    )
    await refused(dir, [
      ['nul.zip', /extracted to the same path as another member/],
      ['backslash.zip', /extracted to the same path as another member/],
    ])
    // A tar: GNU tar ends a PAX path at a NUL (Python's tarfile cannot make the file).
    python(
      dir,
      `
import tarfile, io
with tarfile.open('nul.tar', 'w', format=tarfile.PAX_FORMAT) as t:
    for n, pax, c in (('b', {'path': 'b\\x00z'}, b'first'), ('b', {}, b'second')):
        i = tarfile.TarInfo(n); i.size = len(c); i.pax_headers = pax; t.addfile(i, io.BytesIO(c))
`,
    )
    expect(run(dir, 'rm -rf t && mkdir t && cd t && tar -xf ../nul.tar && ls && cat b')).toBe(
      'b\nsecond',
    )
    await refused(dir, [['nul.tar', /is extracted to the same path as another entry/]])
  })

  it("refuses a tar name whose header's prefix bytes GNU tar and Python's tarfile read apart", async () => {
    const dir = makeTemp()
    // A ustar header with a prefix, its magic then made another's: GNU tar reads no
    // prefix there, Python's tarfile (and libarchive under `ustarX`) does. Old GNU keeps
    // its access time there (tar -G), which Python's tarfile reads as a prefix too.
    python(
      dir,
      `
import tarfile, io
for path, magic in (('other.tar', b'ustarX'), ('gnu.tar', b'ustar  \\0'), ('ustar.tar', b'ustar\\0')):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.USTAR_FORMAT) as t:
        i = tarfile.TarInfo('p' * 60 + '/' + 'n' * 60); i.size = 1; t.addfile(i, io.BytesIO(b'x'))
    data = bytearray(buf.getvalue())
    data[257:257 + len(magic)] = magic
    if path == 'gnu.tar': data[345:500] = b'14612345670\\0'.ljust(155, b'\\0')
    data[148:156] = b' ' * 8
    data[148:156] = b'%06o\\0 ' % sum(data[:512])
    open(path, 'wb').write(bytes(data))
`,
    )
    expect(run(dir, 'tar -tf other.tar')).toBe(`${'n'.repeat(60)}\n`)
    expect(
      run(dir, `python3 -c "import tarfile; print(tarfile.open('other.tar').getnames()[0])"`),
    ).toBe(`${'p'.repeat(60)}/${'n'.repeat(60)}\n`)
    await refused(dir, [
      [
        'other.tar',
        /bytes 345 to 499 of its header are not empty, which Python's tarfile reads as a prefix/,
      ],
      ['gnu.tar', /reads as a prefix of the name \("14612345670\/n+"\)/],
    ])
    // Under ustar's own magic every reader joins the prefix: normalized.
    expect((await normalize(dir, 'ustar.tar')).code).toBe(0)
  })

  it('refuses a local header whose flags or extra field say what the central directory does not', async () => {
    const dir = makeTemp()
    // Three members; then b.txt's local header alone is marked encrypted, or its extra
    // field's time field claims 200 bytes where it holds 5 (unzip -t refuses that).
    python(
      dir,
      `
import zipfile, struct
def make(path):
    with zipfile.ZipFile(path, 'w') as z:
        for n in ('a.txt', 'b.txt', 'c.txt'):
            i = zipfile.ZipInfo(n, (1980, 1, 1, 0, 0, 0)); i.create_system = 3; i.external_attr = 0o100644 << 16
            if n == 'b.txt': i.extra = struct.pack('<HHB4s', 0x5455, 5, 1, b'\\0\\0\\0\\0')
            z.writestr(i, n * 3)
    with zipfile.ZipFile(path) as z:
        return z.getinfo('b.txt').header_offset
for path, patch in (('flags.zip', 'flags'), ('extra.zip', 'extra')):
    at = make(path)
    data = bytearray(open(path, 'rb').read())
    if patch == 'flags': data[at + 6] |= 1
    else:
        name = struct.unpack('<H', data[at + 26:at + 28])[0]
        struct.pack_into('<H', data, at + 30 + name + 2, 200)
    open(path, 'wb').write(bytes(data))
`,
    )
    await refused(dir, [
      ['flags.zip', /disagrees with the central directory on its flags \(0x0001 against 0x0000/],
      ['extra.zip', /disagrees with the central directory on its extra field \(a field runs past/],
    ])
  })

  it('refuses a member whose flags say its data is a patch, strongly encrypted, or its headers masked', async () => {
    // The rewrite keeps only the flags it knows: the data would then read as the file.
    const dir = makeTemp()
    python(
      dir,
      `
import zipfile, struct
for name, bit in (('patch.zip', 0x20), ('strong.zip', 0x40), ('masked.zip', 0x2000)):
    with zipfile.ZipFile(name, 'w') as z:
        z.writestr(zipfile.ZipInfo('a.txt', (1980, 1, 1, 0, 0, 0)), 'aaa')
    data = bytearray(open(name, 'rb').read())
    for magic, at in ((b'PK\\x03\\x04', 6), (b'PK\\x01\\x02', 8)):
        i = data.find(magic)
        struct.pack_into('<H', data, i + at, struct.unpack_from('<H', data, i + at)[0] | bit)
    open(name, 'wb').write(bytes(data))
`,
    )
    await refused(dir, [
      ['patch.zip', /a\.txt: its data is a patch \(flag bit 5\)/],
      // The zip reader itself refuses this one.
      ['strong.zip', /strong encryption/],
      ['masked.zip', /a\.txt: its headers are masked \(flag bit 13\)/],
    ])
  })

  it('refuses an end record that names another disk, which sends bsdtar to stream it', async () => {
    const dir = makeTemp()
    makeZip(dir, 'disk.zip', [['a.sh', 'echo\n', 3, 0o100755]])
    const file = path.join(dir, 'disk.zip')
    const bytes = fs.readFileSync(file)
    // The central directory's disk, in the end record (22 bytes from the end, no comment).
    bytes.writeUInt16LE(8, bytes.length - 22 + 6)
    fs.writeFileSync(file, bytes)
    await refused(dir, [
      ['disk.zip', /the central directory on disk 8, 1 of 1 entries on this disk/],
    ])
  })

  it('refuses a member of a file type no system has, which the rewrite would make a plain file', async () => {
    const dir = makeTemp()
    makeZip(dir, 'type.zip', [['link', 'dir/sub', 3, 0o160777]])
    await refused(dir, [['type.zip', /has a file type no system has \(mode 160777\)/]])
    // The types there are stay what they are.
    makeZip(dir, 'fifo.zip', [['pipe', '', 3, 0o010644]])
    expect((await normalize(dir, 'fifo.zip')).code).toBe(0)
  })

  it("refuses to reorder a name flagged UTF-8 and one in code page 437 that Python's zipfile reads as one", async () => {
    const dir = makeTemp()
    // `café` flagged UTF-8, then `caf\x82` unflagged (é in code page 437), made by hand:
    // Python writes every name it is given flagged. To unzip they are two files; to
    // Python one path, and the last listed is what it extracts.
    flaggedZip(dir, 'enc.zip', [
      ["b'caf\\xc3\\xa9'", 'utf8-flagged', 0x800],
      ["b'caf\\x82'", 'cp437', 0],
    ])
    const read = execFileSync(
      'python3',
      ['-c', "import zipfile; print(zipfile.ZipFile('enc.zip').read('café').decode())"],
      { cwd: dir, encoding: 'utf8' },
    )
    expect(read.trim()).toBe('cp437')
    await refused(dir, [
      ['enc.zip', /is extracted by Python's zipfile to the same path as another member/],
    ])
  })

  it('refuses to reorder two names of one path to zipfile on Windows, a backslash in code page 437 and a slash in UTF-8', async () => {
    const dir = makeTemp()
    // To unzip and libarchive `caf\x82\\x` and `café/x` are two paths; to Python on
    // Windows, reading the first in code page 437 with `\\` its separator, one.
    flaggedZip(dir, 'sep.zip', [
      ["b'caf\\xc3\\xa9/x'", 'utf8-flagged', 0x800],
      ["b'caf\\x82\\\\x'", 'cp437', 0],
    ])
    // What else Python on Windows makes one path of: `:` and `_`, a trailing dot, a drive.
    const pairs: [string, string, string][] = [
      ['colon.zip', 'd/a_b.txt', 'd/a:b.txt'],
      ['dot.zip', 'x.', 'x'],
      ['drive.zip', 'y', 'C:/y'],
      ['relative-drive.zip', 'y', 'c:y'],
      // Any one character before a colon is a drive to ntpath, and so is a UNC share.
      ['digit-drive.zip', 'y', '1:y'],
      ['unc.zip', 'x', '//?/UNC/srv/share/x'],
      ['share.zip', 'x', '//srv/share/x'],
    ]
    for (const [file, first, second] of pairs)
      makeZip(dir, file, [
        [first, 'one', 3, 0o100644],
        [second, 'two', 3, 0o100644],
      ])
    await refused(
      dir,
      ['sep.zip', ...pairs.map(([file]) => file)].map((file) => [
        file,
        /is extracted by Python's zipfile to the same path as another member/,
      ]),
    )
  })

  it('refuses to reorder members one path apart only in case or Unicode normalization', async () => {
    const dir = makeTemp()
    // On macOS and Windows each pair is one file, and the last written stays.
    const nfc = '\u00e9.txt'
    const nfd = 'e\u0301.txt'
    makeZip(dir, 'case.zip', [
      ['a.txt', 'lower', 3, 0o100644],
      ['A.txt', 'upper', 3, 0o100644],
    ])
    makeZip(dir, 'nfc.zip', [
      [nfc, 'composed', 3, 0o100644],
      [nfd, 'decomposed', 3, 0o100644],
    ])
    await refused(dir, [
      [
        'case.zip',
        /A\.txt is extracted to the same path as another member where case or Unicode normalization is ignored/,
      ],
      [
        'nfc.zip',
        /extracted to the same path as another member where case or Unicode normalization is ignored/,
      ],
    ])
    const tar = await normalizedTar(dir, 'case.tar', ['a.txt', 'A.txt'])
    expect(tar.code).toBe(2)
    expect(tar.stderr).toMatch(
      /\(A\.txt\) is extracted to the same path as another entry where case/,
    )
    // Already in the order sorting gives: nothing moves, and nothing is refused.
    makeZip(dir, 'kept.zip', [
      ['A.txt', 'upper', 3, 0o100644],
      ['a.txt', 'lower', 3, 0o100644],
    ])
    expect((await normalize(dir, 'kept.zip')).code).toBe(0)
  })

  it('judges order where the data lies too: an EPUB keeps its mimetype first', async () => {
    const dir = makeTemp()
    // The data in one order, the central directory in another.
    python(
      dir,
      `
import zipfile
def make(path, entries, order):
    z = zipfile.ZipFile(path, 'w')
    for n, c, m, method in entries:
        i = zipfile.ZipInfo(n, (1980, 1, 1, 0, 0, 0)); i.create_system = 3; i.external_attr = m << 16; i.compress_type = method
        z.writestr(i, c)
    z.filelist = [z.filelist[k] for k in order]; z.close()
S, D = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
make('book.epub', [('mimetype', 'application/epub+zip', 0o100644, S), ('META-INF/container.xml', '<container/>', 0o100644, D), ('OEBPS/c.opf', '<package/>', 0o100644, D)], [1, 0, 2])
make('phys.zip', [('l/f', 'data', 0o100644, S), ('t/', '', 0o40755, S), ('l', 't', 0o120777, S)], [2, 1, 0])
`,
    )
    const book = await normalize(dir, 'book.epub')
    expect(book.code, book.stderr).toBe(0)
    // An OCF reader checks the first local header: `mimetype`, stored.
    expect(fs.readFileSync(book.out).subarray(30, 38).toString('latin1')).toBe('mimetype')
    // Streamed, `l/f` came before the link (into a directory `l`); in the central
    // directory's order, after it: either way a sort moves it across the link.
    const phys = await normalize(dir, 'phys.zip')
    expect(phys.code).toBe(2)
    expect(phys.stderr).toMatch(/lies below l, a symbolic link/)
  })

  it("keeps a jar's manifest first and whole whatever its case and line ends, as Java reads it", async () => {
    const dir = makeTemp()
    const sources = {
      'Main.java':
        'package app; public class Main { public static void main(String[] a) { System.out.println("Main ran"); } }\n',
      'ReadManifest.java':
        'import java.util.jar.*; import java.io.*;\npublic class ReadManifest { public static void main(String[] a) throws Exception { try (JarInputStream j = new JarInputStream(new FileInputStream(a[0]))) { Manifest m = j.getManifest(); System.out.println(m == null ? "none" : m.getMainAttributes().getValue("Main-Class")); } } }\n',
    }
    for (const [name, text] of Object.entries(sources)) fs.writeFileSync(path.join(dir, name), text)
    run(dir, 'javac -d . Main.java')
    python(
      dir,
      `
import zipfile
z = zipfile.ZipFile('mixed.jar', 'w', zipfile.ZIP_DEFLATED)
z.writestr('META-INF/', ''); z.writestr('META-INF/Manifest.mf', 'Manifest-Version: 1.0\\r\\nBuilt-By: me\\r\\nMain-Class: app.Main\\r\\n\\r\\n')
z.writestr('META-INF/LICENSE', 'lic'); z.write('app/Main.class'); z.close()
z = zipfile.ZipFile('cr.jar', 'w', zipfile.ZIP_DEFLATED)
z.writestr('META-INF/MANIFEST.MF', b'Manifest-Version: 1.0\\nBuilt-By: me\\rMain-Class: app.Main\\n\\n')
z.write('app/Main.class'); z.close()
`,
    )
    const mixed = await normalize(dir, 'mixed.jar')
    expect(mixed.code, mixed.stderr).toBe(0)
    expect(run(dir, `java ReadManifest.java ${mixed.out}`).trim()).toBe('app.Main')
    // It is the jar's manifest, whose build host goes when asked.
    const dropped = await normalize(dir, 'mixed.jar', '--drop-build-host')
    expect(run(dir, `unzip -p ${dropped.out} META-INF/Manifest.mf`)).toBe(
      'Manifest-Version: 1.0\r\nMain-Class: app.Main\r\n\r\n',
    )
    // A lone CR ends a manifest line: Main-Class is a header of its own, and stays.
    expect(run(dir, 'java -jar cr.jar').trim()).toBe('Main ran')
    const cr = await normalize(dir, 'cr.jar', '--drop-build-host')
    expect(cr.code, cr.stderr).toBe(0)
    expect(run(dir, `java -jar ${cr.out}`).trim()).toBe('Main ran')
    expect(run(dir, `unzip -p ${cr.out} META-INF/MANIFEST.MF`)).not.toMatch(/Built-By/)
  })

  it('reads a streamed zip64 member whose local sizes are deferred to its descriptor', async () => {
    const dir = makeTemp()
    // CPython writes 0xffffffff in the local header and zeros in its zip64 field.
    python(
      dir,
      `
import zipfile, io
class Unseekable(io.RawIOBase):
    def __init__(s, f): s.f = f
    def writable(s): return True
    def write(s, b): return s.f.write(b)
with open('streamed.zip', 'wb') as raw:
    z = zipfile.ZipFile(Unseekable(raw), 'w', zipfile.ZIP_DEFLATED)
    with z.open('a.txt', 'w', force_zip64=True) as w: w.write(b'a' * 500)
    z.close()
`,
    )
    run(dir, 'unzip -tq streamed.zip')
    const streamed = await normalize(dir, 'streamed.zip')
    expect(streamed.code, streamed.stderr).toBe(0)
    run(dir, `unzip -tq ${streamed.out}`)
    expect(run(dir, `unzip -p ${streamed.out} a.txt`)).toBe('a'.repeat(500))
  })
})
