import { execFileSync, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { DiffReport } from '../../src/diff/report.js'
import { BIN, cleanupTemp, makeTemp, runCli, spawnProgram, toMozillaZip } from '../helpers.js'

afterEach(cleanupTemp)

const sh = (cwd: string, script: string): string =>
  execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd, encoding: 'utf8' })

/** A directory holding `tree/a.txt`, to make images of. */
function treeOfOneFile(): string {
  const dir = makeTemp()
  fs.mkdirSync(path.join(dir, 'tree'))
  fs.writeFileSync(path.join(dir, 'tree', 'a.txt'), 'hello\n')
  return dir
}

async function diff(a: string, b: string, ...flags: string[]) {
  const run = await runCli(['diff', a, b, '--json', ...flags])
  const report = run.stdout === '' ? undefined : (JSON.parse(run.stdout) as DiffReport)
  return { ...run, report }
}

const paths = (report: DiffReport | undefined, kind?: string) =>
  (report?.items ?? []).filter((i) => kind === undefined || i.kind === kind).map((i) => i.path)

/** Two trees a/ and b/ with the same files; `change` edits b/ afterwards. */
function twoTrees(
  files: Record<string, string>,
  change: (b: string) => void = () => undefined,
): string {
  const dir = makeTemp()
  for (const side of ['a', 'b']) {
    for (const [name, content] of Object.entries(files)) {
      const file = path.join(dir, side, name)
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, content)
    }
  }
  change(path.join(dir, 'b'))
  return dir
}

describe('reproof diff', () => {
  it('warns of a PAX path or link target that covers another name in the header, not of what writers leave there', async () => {
    const dir = makeTemp()
    // What GNU tar, bsdtar, Python's tarfile and git archive leave under a PAX path: a
    // long name cut, a name beyond ASCII with `?` for each character or cut between two,
    // bsdtar's long-link mark, git's `<id>.data`. Each archive against one with a file
    // more, so that both are read.
    const long = `${'d'.repeat(60)}/${'n'.repeat(120)}`
    // Deeper than ustar's 255 bytes: bsdtar leaves directories out of the middle.
    const deep = Array.from({ length: 20 }, (_, i) => `dir${i}_abcdefghij`).join('/')
    const names = `${long} 'é-ü.txt' ü-dir lnk dir0_abcdefghij`
    sh(
      dir,
      `mkdir -p ${'d'.repeat(60)} ü-dir ${deep} && echo d > ${deep}/a_long_file_name.tar.gz && echo x > ${long} && echo y > 'é-ü.txt' && echo w > ü-dir/${'é'.repeat(70)} && ln -s ${long} lnk && echo z > z
       for more in '' z; do
         tar --format=posix -cf gnu$more.tar ${names} $more
         bsdtar --format=pax -cf bsd$more.tar ${names} $more
         python3 -c "import sys, tarfile; t = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT); [t.add(n) for n in sys.argv[2:]]; t.close()" py$more.tar ${names} $more
       done
       git init -q && git add ${names} && git -c user.name=a -c user.email=a@b commit -qm x && git archive -o git.tar HEAD
       git add z && git -c user.name=a -c user.email=a@b commit -qm z && git archive -o gitz.tar HEAD`,
    )
    for (const writer of ['gnu', 'bsd', 'py', 'git']) {
      const { code, report } = await diff(
        path.join(dir, `${writer}.tar`),
        path.join(dir, `${writer}z.tar`),
      )
      expect([code, report?.warnings], writer).toEqual([1, []])
    }
    // The same PAX path over header names `x` and `evil`: alike to GNU tar, not to a
    // reader of headers alone.
    for (const [side, header] of [
      ['a', 'x'],
      ['b', 'evil'],
      ['c', 'x-'],
      ['d', `${'0'.repeat(40)}.data`],
    ] as const)
      sh(
        dir,
        `python3 -c "
import io, tarfile
t = tarfile.open('${side}.tar', 'w', format=tarfile.PAX_FORMAT)
info = tarfile.TarInfo('x'); info.size = 3; info.pax_headers = {'path': 'x-safe' if '${side}' == 'c' else 'x'}
t.addfile(info, io.BytesIO(b'hi\\n')); t.close()
b = bytearray(open('${side}.tar', 'rb').read())
b[1024:1124] = b'${header}'.ljust(100, b'\\0')
h = b[1024:1536]; h[148:156] = b' ' * 8
b[1172:1180] = ('%06o\\0 ' % sum(h)).encode()
open('${side}.tar', 'wb').write(bytes(b))"`,
      )
    const { code, report } = await diff(path.join(dir, 'a.tar'), path.join(dir, 'b.tar'))
    expect(code).toBe(1)
    expect(report?.warnings.join('\n')).toContain(
      'its PAX path record (x) covers another name in its header (evil), which a reader that ignores PAX records extracts',
    )
    // A short name that begins the PAX path's is no name cut to fit: a reader of headers
    // alone extracts `x-`, not `x-safe`.
    const prefix = await diff(path.join(dir, 'a.tar'), path.join(dir, 'c.tar'))
    expect(prefix.report?.warnings.join('\n')).toContain(
      'its PAX path record (x-safe) covers another name in its header (x-)',
    )
    // git archive's mark, over a name that would have fitted: no mark of git's.
    const mark = await diff(path.join(dir, 'a.tar'), path.join(dir, 'd.tar'))
    expect(mark.report?.warnings.join('\n')).toContain(
      `its PAX path record (x) covers another name in its header (${'0'.repeat(40)}.data)`,
    )
  })

  it('says identical files are identical (exit 0)', async () => {
    const dir = twoTrees({ 'x.txt': 'same\n' })
    const { code, report } = await diff(path.join(dir, 'a/x.txt'), path.join(dir, 'b/x.txt'))
    expect(code).toBe(0)
    expect(report?.identical).toBe(true)
  })

  it('says what an identical verdict on two trees did not look at: owners, hard links, extended attributes, mtimes', async () => {
    const dir = twoTrees({ 'x.txt': 'same\n' })
    // Two names of one file beside two files, and another owner: both identical.
    fs.linkSync(path.join(dir, 'a/x.txt'), path.join(dir, 'a/y.txt'))
    fs.copyFileSync(path.join(dir, 'b/x.txt'), path.join(dir, 'b/y.txt'))
    if (process.getuid?.() === 0) fs.chownSync(path.join(dir, 'b/y.txt'), 4321, 4321)
    const { code, report } = await diff(path.join(dir, 'a'), path.join(dir, 'b'))
    expect(code).toBe(0)
    expect(report?.notCompared).toEqual([
      'owners',
      'extended attributes',
      'hard links',
      'mtimes',
      'inode flags',
    ])
    const text = await runCli(['diff', path.join(dir, 'a'), path.join(dir, 'b')])
    expect(text.stdout).toMatch(
      /^identical: .* \(2 compared; owners, extended attributes, hard links, mtimes and inode flags not compared\)$/m,
    )
  })

  it("compares the two inputs' own modes: a tree made private or a file made executable is not identical", async () => {
    const dir = twoTrees({ 'f.txt': 'same\n' })
    fs.chmodSync(path.join(dir, 'b'), 0o700)
    const trees = await diff(path.join(dir, 'a'), path.join(dir, 'b'))
    expect(trees.code).toBe(1)
    expect(trees.report?.items.map((i) => [i.path, i.kind, i.fields?.[0]?.field])).toEqual([
      ['.', 'metadata', 'mode'],
    ])
    fs.chmodSync(path.join(dir, 'b', 'f.txt'), 0o755)
    const files = await diff(path.join(dir, 'a', 'f.txt'), path.join(dir, 'b', 'f.txt'))
    expect(files.code).toBe(1)
    expect(files.report?.items[0]?.hints[0]?.cause).toBe('permissions')
    expect(files.report?.items[0]?.message).toBe('content identical')
  })

  it("names what only B holds, and a patch's B side, after B's file when the two are named apart", async () => {
    const dir = twoTrees({ 'package/m': 'old\n', 'package/gone': 'x\n' }, (b) => {
      fs.writeFileSync(path.join(b, 'package/m'), 'new\n')
      fs.rmSync(path.join(b, 'package/gone'))
      fs.writeFileSync(path.join(b, 'package/new'), 'y\n')
    })
    sh(dir, 'tar -cf app-1.0.tar -C a package && tar -cf app-1.1.tar -C b package')
    const { report } = await diff(path.join(dir, 'app-1.0.tar'), path.join(dir, 'app-1.1.tar'))
    expect(paths(report, 'only-in-b')).toEqual(['app-1.1.tar!package/new'])
    expect(paths(report, 'only-in-a')).toEqual(['app-1.0.tar!package/gone'])
    const patch = report?.items.find((i) => i.path === 'app-1.0.tar!package/m')?.text?.unified
    expect(patch?.split('\n').slice(0, 2)).toEqual([
      '--- a/app-1.0.tar!package/m',
      '+++ b/app-1.1.tar!package/m',
    ])
    // Many new in B: the summary's examples are B's too.
    for (let i = 0; i < 12; i++)
      fs.writeFileSync(path.join(dir, 'b/package', `added${i}`), `${i}\n`)
    sh(dir, 'tar -cf app-1.2.tar -C b package')
    const many = await diff(path.join(dir, 'app-1.0.tar'), path.join(dir, 'app-1.2.tar'))
    const examples = (many.report?.summaries ?? []).flatMap((s) => s.examples)
    expect(examples.length).toBeGreaterThan(0)
    for (const e of examples) expect(e).toMatch(/^app-1\.2\.tar!/)
    // Two plain files: the patch's sides are their own names.
    const text = await diff(path.join(dir, 'a/package/m'), path.join(dir, 'b/package/new'))
    expect(text.report?.items[0]?.text?.unified.split('\n').slice(0, 2)).toEqual([
      '--- a/m',
      '+++ b/new',
    ])
    // What B's side could not read is named after B's file too.
    sh(dir, 'cd a && zip -q ../app-1.0.zip package/m')
    const zip = fs.readFileSync(path.join(dir, 'app-1.0.zip'))
    zip[zip.indexOf('PK\x01\x02', 0, 'latin1') + 10] = 99 // a method reproof cannot read
    fs.writeFileSync(path.join(dir, 'app-1.1.zip'), zip)
    const unread = await diff(path.join(dir, 'app-1.0.zip'), path.join(dir, 'app-1.1.zip'))
    expect(unread.report?.items.flatMap((i) => (i.kind === 'error' ? [i.message] : []))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^side B: app-1\.1\.zip!package\/m: /)]),
    )
  })

  it('finds a changed, an added and a removed file in two trees', async () => {
    const dir = twoTrees(
      { 'keep.txt': 'k\n', 'lib/change.txt': 'before\n', 'gone.txt': 'g\n' },
      (b) => {
        fs.writeFileSync(path.join(b, 'lib/change.txt'), 'after\n')
        fs.rmSync(path.join(b, 'gone.txt'))
        fs.writeFileSync(path.join(b, 'new.txt'), 'n\n')
      },
    )
    const { code, report } = await diff(path.join(dir, 'a'), path.join(dir, 'b'))
    expect(code).toBe(1)
    expect(paths(report, 'content')).toEqual(['lib/change.txt'])
    expect(paths(report, 'only-in-a')).toEqual(['gone.txt'])
    expect(paths(report, 'only-in-b')).toEqual(['new.txt'])
    expect(report?.items.find((i) => i.path === 'lib/change.txt')?.text?.unified).toContain(
      '-before\n+after',
    )
  })

  it('takes a tree’s modes from the files as read, and a file that became something else by its type', async () => {
    const dir = twoTrees({ 'run.sh': 'echo\n', x: 'x\n', 'd/f': 'f\n', same: 's\n' }, (b) => {
      fs.chmodSync(path.join(b, 'run.sh'), 0o755)
      fs.rmSync(path.join(b, 'x'))
      fs.symlinkSync('same', path.join(b, 'x'))
      fs.rmSync(path.join(b, 'd'), { recursive: true })
      fs.writeFileSync(path.join(b, 'd'), 'now a file\n')
    })
    const { code, report } = await diff(path.join(dir, 'a'), path.join(dir, 'b'))
    expect(code).toBe(1)
    const fields = (p: string) =>
      report?.items.find((i) => i.path === p)?.fields?.map((f) => [f.field, f.a, f.b])
    expect(fields('run.sh')).toEqual([['mode', '0644', '0755']])
    expect(fields('x')).toEqual([['type', 'file', 'symlink']])
    expect(fields('d')).toEqual([['type', 'directory', 'file']])
    expect(paths(report, 'only-in-a')).toEqual(['d/f'])
    expect(report?.items.some((i) => i.path === 'same')).toBe(false)
  })

  it('never calls FIFOs, sockets or devices identical when their kind, mode or device differs', async () => {
    const dir = makeTemp()
    const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')]
    fs.mkdirSync(a)
    fs.mkdirSync(b)
    sh(
      dir,
      'mkfifo -m 644 a/p && mkfifo -m 600 b/p && mkfifo a/same && mkfifo b/same && mkfifo -m 600 b/s',
    )
    sh(dir, 'python3 -c "import socket; socket.socket(socket.AF_UNIX).bind(\'a/s\')"')
    // Device nodes need CAP_MKNOD; where it is missing, the FIFOs and sockets still count.
    const devices =
      spawnSync('sh', ['-c', 'mknod a/d c 1 3 && mknod b/d c 1 5'], { cwd: dir }).status === 0
    const { code, report } = await diff(a, b)
    expect(code).toBe(1)
    const fields = Object.fromEntries(
      (report?.items ?? []).map((i) => [i.path, (i.fields ?? []).map((f) => [f.field, f.a, f.b])]),
    )
    expect(fields.p).toEqual([['mode', '0644', '0600']])
    expect(fields.s).toEqual([
      ['file type', 'socket', 'fifo'],
      ['mode', expect.any(String) as unknown, '0600'],
    ])
    expect(fields.same).toBeUndefined()
    if (devices) expect(fields.d).toEqual([['device', '1,3', '1,5']])
    // Of another type, a special file's content is not called identical.
    const socket = report?.items.find((i) => i.path === 's')
    expect(socket?.message).not.toBe('content identical')
  })

  it('names what a build path leaves differing in a binary of no structure unexplained', async () => {
    const dir = makeTemp()
    const blob = (root: string, flag: number) =>
      Buffer.concat([
        Buffer.from([0x7f, 0x42, 0x4c, 0x42, 1, 2, 3]),
        Buffer.from(`${root}/src/main.c\0`),
        Buffer.alloc(40, 0x11),
        Buffer.from([flag]),
        Buffer.alloc(8, 0x22),
      ])
    for (const side of ['a', 'b']) fs.mkdirSync(path.join(dir, side))
    const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')]
    fs.writeFileSync(path.join(a, 'app.bin'), blob(a, 1))
    fs.writeFileSync(path.join(b, 'app.bin'), blob(b, 1))
    const causes = async () =>
      ((await diff(a, b)).report?.items ?? []).flatMap((i) => i.hints.map((h) => h.cause))
    expect(await causes()).toEqual(['build-path'])
    // A flag byte beside the path: not the path's doing.
    fs.writeFileSync(path.join(b, 'app.bin'), blob(b, 0))
    expect(await causes()).toEqual(['build-path', 'unexplained'])
  })

  it('compares names that are not UTF-8 as the bytes they are: never "identical" by losing them', async () => {
    const dir = makeTemp()
    const name = (text: string, byte: number) =>
      Buffer.concat([Buffer.from(text), Buffer.from([byte])])
    const at = (side: string, n: Buffer) => Buffer.concat([Buffer.from(`${dir}/${side}/`), n])
    for (const side of ['a', 'b']) fs.mkdirSync(path.join(dir, side))
    fs.writeFileSync(at('a', name('x', 0xff)), 'one\n')
    fs.writeFileSync(at('b', name('x', 0xff)), 'two\n')
    fs.writeFileSync(at('a', name('only', 0xfe)), 'a\n')
    fs.symlinkSync(name('t', 0xfd), at('a', name('link', 0x80)))
    fs.symlinkSync(name('t', 0xfc), at('b', name('link', 0x80)))
    const { code, report } = await diff(path.join(dir, 'a'), path.join(dir, 'b'))
    expect(code).toBe(1)
    expect(report?.items.map((i) => [i.path, i.kind])).toEqual([
      ['link\u000080', 'metadata'],
      ['only\u0000fe', 'only-in-a'],
      ['x\u0000ff', 'content'],
    ])
    expect(report?.stats.compared).toBe(3)
    const text = await runCli(['diff', path.join(dir, 'a'), path.join(dir, 'b')])
    expect(text.stdout).toContain('--- a/x\\xff')
    expect(text.stdout).not.toContain('\u0000')
  })

  it('reads tar names as bytes, a sparse file by its real name, and a global header as the archive’s field', async () => {
    const dir = makeTemp()
    sh(
      dir,
      [
        // One commit time for both: the entries' mtimes (the commit's time) then agree.
        "export GIT_COMMITTER_DATE='@1600000000 +0000' GIT_AUTHOR_DATE='@1600000000 +0000'",
        'git init -q g && cd g && echo a > f && git add f && git -c user.email=a@b -c user.name=a commit -qm 1',
        'git archive --format=tar HEAD > ../one.tar && git -c user.email=a@b -c user.name=a commit -q --allow-empty -m 2',
        'git archive --format=tar HEAD > ../two.tar && cd ..',
        `mkdir -p s/a s/b && printf x > "s/a/$(printf 'n\\xff')" && printf x > "s/b/$(printf 'n\\xfe')"`,
        'truncate -s 4M s/a/sparse s/b/sparse && printf y >> s/b/sparse',
        'tar --format=posix --sparse -cf a.tar -C s/a . && tar --format=posix --sparse -cf b.tar -C s/b .',
      ].join(' && '),
    )
    const git = await diff(path.join(dir, 'one.tar'), path.join(dir, 'two.tar'))
    expect(git.code).toBe(1)
    const field = git.report?.items[0]?.fields?.find((f) => f.field === 'global comment')
    expect(field?.a).toMatch(/^[0-9a-f]{40}$/)
    expect(field?.a).not.toBe(field?.b)
    expect(git.report?.items.flatMap((i) => i.hints.map((h) => h.cause))).not.toContain(
      'compression',
    )
    const text = await runCli(['diff', path.join(dir, 'one.tar'), path.join(dir, 'two.tar')])
    expect(text.stdout).toMatch(
      /one\.tar \[tar\] +archive differs\n +global comment: [0-9a-f]{40} → [0-9a-f]{40}/,
    )
    // Every entry agrees; the headline says so, rather than "0 of N entries differ".
    expect(text.stdout.split('\n')[0]).toMatch(
      /^\d+ compared entries agree, yet the files differ \(see below\): A = /,
    )
    const names = await diff(path.join(dir, 'a.tar'), path.join(dir, 'b.tar'))
    // The same content under names that differ in one byte that is not UTF-8: renamed.
    const renamed = names.report?.items
      .flatMap((i) => i.fields ?? [])
      .find((f) => f.field === 'renamed')
    expect([renamed?.a, renamed?.b]).toEqual(['./n\u0000ff', './n\u0000fe'])
    expect(paths(names.report, 'content')).toContain('a.tar!./sparse')
    expect(JSON.stringify(names.report)).not.toMatch(/GNUSparseFile/)
  })

  it('compares a sparse file by what tar extracts: its holes are zeros, in every layout GNU tar writes', async () => {
    const dir = makeTemp()
    sh(
      dir,
      [
        'mkdir s d e',
        // A hole, then data, then a hole: made sparse by truncate, whole by printf.
        "truncate -s 64K s/f && printf 'mid' | dd of=s/f bs=1 seek=40000 conv=notrunc status=none && truncate -s 1M s/f",
        'cp --sparse=never s/f d/f && cp --sparse=never s/f e/f',
        "printf 'x' | dd of=e/f bs=1 seek=1000 conv=notrunc status=none",
        'tar --format=gnu -cf dense.tar -C d f && tar --format=gnu -cf edited.tar -C e f',
        'tar --format=gnu --sparse -cf old.tar -C s f',
        'for v in 0.0 0.1 1.0; do tar --format=posix --sparse --sparse-version=$v --mtime=@0 --pax-option=delete=atime,delete=ctime -cf pax-$v.tar -C s f; done',
      ].join(' && '),
    )
    for (const [file, layout] of [
      ['old.tar', 'old GNU'],
      ['pax-0.0.tar', 'GNU 0.0'],
      ['pax-0.1.tar', 'GNU 0.1'],
      ['pax-1.0.tar', 'GNU 1.0'],
    ] as const) {
      const same = await diff(path.join(dir, file), path.join(dir, 'dense.tar'))
      expect(
        paths(same.report, 'content').filter((p) => p.includes('!')),
        file,
      ).toEqual([])
      const fields = same.report?.items.flatMap((i) => i.fields ?? []) ?? []
      // Where the data lies is what the file system says (a block, here, not 3 bytes).
      expect(fields.find((f) => f.field === 'sparse')?.a).toMatch(
        new RegExp(`^\\d+\\+\\d+ 1048576\\+0; real size 1048576 \\(${layout}\\)$`),
      )
      expect(fields.map((f) => f.field)).not.toContain('pax.GNU.sparse.name')
      // A byte written into its first hole: one byte differs, where it was written.
      const edited = await runCli(['diff', path.join(dir, file), path.join(dir, 'edited.tar')])
      expect(edited.code).toBe(1)
      expect(edited.stdout).toMatch(/first difference at offset 1000 \(0x3e8\); 1 bytes? differs?/)
    }
  })

  it('compares archives of 130,000 differing members, more than a call takes as arguments', async () => {
    // Pushed as the arguments of one call, their items overflowed the stack: "could not
    // be compared", every detail and hint lost.
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import tarfile
for name, mtime in (('a.tar', 1700000000), ('b.tar', 1700000100)):
    with tarfile.open(name, 'w', format=tarfile.USTAR_FORMAT) as t:
        for i in range(130000):
            info = tarfile.TarInfo('f%d' % i); info.mtime = mtime; t.addfile(info)
PY`,
    )
    const run = await runCli(['diff', path.join(dir, 'a.tar'), path.join(dir, 'b.tar')])
    expect([run.code, run.stderr]).toEqual([1, ''])
    expect(run.stdout).toContain(
      '130,000 entries: mtime differs, content identical; cause: timestamp',
    )
  })

  it('compares PAX values and owner names as bytes: two binary capabilities are never the same text', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import io, tarfile
for name, v in (('a.tar', '\\udcff'), ('b.tar', '\\udcfe')):
    with tarfile.open(name, 'w', format=tarfile.PAX_FORMAT) as t:
        i = tarfile.TarInfo('f'); i.size = 1; i.mtime = 1600000000
        i.pax_headers = {'SCHILY.xattr.security.capability': v}
        t.addfile(i, io.BytesIO(b'x'))
PY`,
    )
    const run = await diff(path.join(dir, 'a.tar'), path.join(dir, 'b.tar'))
    expect(run.code).toBe(1)
    const field = run.report?.items
      .flatMap((i) => i.fields ?? [])
      .find((f) => f.field === 'pax.SCHILY.xattr.security.capability')
    expect([field?.a, field?.b]).toEqual(['0xff', '0xfe'])
  })

  it("compares the data of a tar entry of no kind it knows (GNU's dumpdir), never calling it identical", async () => {
    const dir = twoTrees({ x: 'a\n' }, (b) => {
      fs.writeFileSync(path.join(b, 'y'), 'b\n')
    })
    sh(
      dir,
      'for s in a b; do (cd $s && tar --mtime=@0 --owner=0 --group=0 -g ../$s.snar -cf ../$s.tar .); done',
    )
    const { report } = await diff(path.join(dir, 'a.tar'), path.join(dir, 'b.tar'))
    const root = report?.items.find((i) => i.path === 'a.tar!./')
    expect(root?.fields?.map((f) => f.field)).toContain('data')
    expect(root?.message).toBeUndefined()
  })

  it('summarizes a tar pair that differs only in mtimes, content identical', async () => {
    const files = Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [`pkg/f${i}.txt`, `${i}\n`]),
    )
    const dir = twoTrees(files)
    sh(
      dir,
      'tar --sort=name --mtime=@1000000000 -cf a.tar -C a pkg && tar --sort=name --mtime=@1100000000 -cf b.tar -C b pkg',
    )
    const { code, report, stdout } = await diff(path.join(dir, 'a.tar'), path.join(dir, 'b.tar'))
    expect(code).toBe(1)
    expect(paths(report, 'content')).toEqual(['a.tar'])
    expect(report?.summaries[0]).toMatchObject({ count: 31, kind: 'metadata', fields: ['mtime'] })
    expect(report?.summaries[0]?.description).toBe(
      '31 entries: mtime differs, content identical; cause: timestamp',
    )
    expect(report?.items.find((i) => i.kind === 'metadata')?.hints[0]?.cause).toBe('timestamp')
    expect(stdout.length).toBeLessThan(100_000)
    const text = await runCli(['diff', path.join(dir, 'a.tar'), path.join(dir, 'b.tar')])
    expect(text.stdout).toContain('31 entries: mtime differs, content identical; cause: timestamp')
    expect(text.stdout.split('\n').length).toBeLessThan(20)
  })

  it('reports the digests of two large tars hashed beside their comparison, and the members that differ across read blocks', async () => {
    // 17 MiB a side, past the size at which the files' digests are taken on another
    // thread while the members are read; a member that spans read blocks differs in its
    // last byte, read again from the file.
    const big = Buffer.alloc(17 * 1024 * 1024, 0x41)
    const dir = twoTrees({ 'pkg/big.bin': '', 'pkg/note.txt': 'same\n' })
    fs.writeFileSync(path.join(dir, 'a/pkg/big.bin'), big)
    big[big.length - 1] = 0x42
    fs.writeFileSync(path.join(dir, 'b/pkg/big.bin'), big)
    // Same first bytes and size (mtimes alike): the digests are taken first; another
    // mtime: the heads differ and the digests are taken beside.
    sh(
      dir,
      'tar --sort=name --mtime=@1000000000 -cf a.tar -C a pkg && tar --sort=name --mtime=@1000000000 -cf b.tar -C b pkg && tar --sort=name --mtime=@1100000000 -cf c.tar -C b pkg',
    )
    const sha = (file: string) => sh(dir, `sha256sum ${file}`).split(' ')[0]
    for (const other of ['b.tar', 'c.tar']) {
      const { code, report } = await diff(path.join(dir, 'a.tar'), path.join(dir, other))
      expect(code).toBe(1)
      const archive = report?.items.find((i) => i.path === 'a.tar')
      expect(archive?.digests).toEqual([sha('a.tar'), sha(other)])
      const member = report?.items.find(
        (i) => i.path === 'a.tar!pkg/big.bin' && i.kind === 'content',
      )
      expect(member?.digests).toEqual([
        sh(dir, 'sha256sum a/pkg/big.bin').split(' ')[0],
        sh(dir, 'sha256sum b/pkg/big.bin').split(' ')[0],
      ])
      expect(paths(report, 'content').filter((p) => p.includes('note'))).toEqual([])
    }
  })

  it('goes through gzip into tar to the changed member, and reports the gzip header', async () => {
    const dir = twoTrees(
      { 'package/lib/index.js': 'module.exports = 1\n', 'package/README': 'r\n' },
      (b) => {
        fs.writeFileSync(path.join(b, 'package/lib/index.js'), 'module.exports = 2\n')
      },
    )
    sh(
      dir,
      'tar --sort=name --mtime=@0 -cf - -C a package | gzip -c > a.tgz; touch -d @1700000000 b/package; tar --sort=name --mtime=@0 -cf b.tar -C b package; touch -d @1700000000 b.tar; gzip -c --name b.tar > b.tgz',
    )
    const { report } = await diff(path.join(dir, 'a.tgz'), path.join(dir, 'b.tgz'))
    const member = report?.items.find((i) => i.path === 'a.tgz!package/lib/index.js')
    expect(member?.kind).toBe('content')
    expect(member?.format).toBe('text')
    expect(member?.text?.unified).toContain('-module.exports = 1\n+module.exports = 2')
    const header = report?.items.find((i) => i.path === 'a.tgz' && i.kind === 'metadata')
    expect(header?.format).toBe('gzip')
    expect(header?.fields?.map((f) => f.field)).toContain('mtime')
    expect(report?.items.find((i) => i.path === 'a.tgz' && i.kind === 'content')?.format).toBe(
      'tar.gz',
    )
  })

  it('reports a zip pair’s order, extra fields and content, like a jar', async () => {
    const dir = twoTrees({ 'one.txt': 'one\n', 'two.txt': 'two\n' }, (b) => {
      fs.writeFileSync(path.join(b, 'two.txt'), 'TWO\n')
    })
    sh(
      dir,
      '(cd a && zip -q -X ../a.zip one.txt two.txt) && (cd b && zip -q ../b.zip two.txt one.txt)',
    )
    const { report } = await diff(path.join(dir, 'a.zip'), path.join(dir, 'b.zip'))
    expect(paths(report, 'order')).toEqual(['a.zip'])
    expect(report?.items.find((i) => i.kind === 'order')?.hints[0]?.cause).toBe('ordering')
    expect(paths(report, 'content')).toEqual(['a.zip', 'a.zip!two.txt'])
    const extra = report?.items.find((i) => i.path === 'a.zip!one.txt')
    expect(extra?.kind).toBe('metadata')
    expect(extra?.message).toBe('content identical')
    expect(extra?.hints.map((h) => h.cause)).toContain('timestamp')
  })

  it('reads a Mozilla-optimized zip (central directory first), and a zip after a prefix, member by member, held or from the file', async () => {
    // Made by zip, then laid out as Mozilla's build lays out omni.ja.
    const dir = twoTrees({ 'dir/text': 'lorem\n', 'dir/same': 'same\n' }, (b) => {
      fs.writeFileSync(path.join(b, 'dir/text'), 'ipsum\n')
    })
    // Past the size a zip is read into memory at (16 MiB), it is read from the file.
    const big = Buffer.alloc(17 * 1024 * 1024)
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(Math.imul(i, 2654435761) >>> 0, i)
    for (const side of ['a', 'b']) fs.writeFileSync(path.join(dir, side, 'big.bin'), big)
    sh(
      dir,
      'for s in a b; do (cd $s && zip -q -X -0 -r ../$s-large.zip . && zip -q -X -r ../$s-small.zip . -x big.bin); done',
    )
    for (const [name, members] of [
      ['small', ['dir/', 'dir/same', 'dir/text']],
      ['large', ['big.bin', 'dir/', 'dir/same', 'dir/text']],
    ] as const) {
      for (const side of ['a', 'b']) {
        const zip = fs.readFileSync(path.join(dir, `${side}-${name}.zip`))
        fs.writeFileSync(
          path.join(dir, `${side}-${name}.ja`),
          toMozillaZip(zip, side === 'a' ? 0 : 64),
        )
      }
      const { code, report } = await diff(
        path.join(dir, `a-${name}.ja`),
        path.join(dir, `b-${name}.ja`),
      )
      expect(code, name).toBe(1)
      expect(report?.stats.compared, name).toBe(members.length + 1)
      expect(paths(report, 'content'), name).toEqual([`a-${name}.ja`, `a-${name}.ja!dir/text`])
      const container = report?.items.find((i) => i.path === `a-${name}.ja`)
      expect(container?.fields, name).toEqual([{ field: 'read-ahead length', a: '0', b: '64' }])
      const text = report?.items.find((i) => i.path === `a-${name}.ja!dir/text`)
      expect(text?.text?.unified, name).toContain('+ipsum')
    }
    // The same members, the same layout: identical.
    const same = await diff(path.join(dir, 'a-large.ja'), path.join(dir, 'a-large.ja'))
    expect(same.code).toBe(0)
    // Bytes between the end record and the first member: no member's, and compared.
    const small = fs.readFileSync(path.join(dir, 'a-small.zip'))
    fs.writeFileSync(path.join(dir, 'gap-a.ja'), toMozillaZip(small, 0, Buffer.from('AAAA')))
    fs.writeFileSync(path.join(dir, 'gap-b.ja'), toMozillaZip(small, 0, Buffer.from('BBBB')))
    const gap = await diff(path.join(dir, 'gap-a.ja'), path.join(dir, 'gap-b.ja'))
    expect(gap.code).toBe(1)
    expect(gap.report?.items[0]?.fields?.map((f) => f.field)).toEqual(['bytes no member owns'])
    expect(gap.report?.items.flatMap((i) => i.hints.map((h) => h.cause))).not.toContain(
      'compression',
    )
    // Four bytes of anything and the signature are not a zip: two such files are compared
    // as the bytes they are.
    fs.writeFileSync(path.join(dir, 'junk-a'), 'xxxxPK\u0001\u0002garbage1')
    fs.writeFileSync(path.join(dir, 'junk-b'), 'xxxxPK\u0001\u0002garbage2')
    const junk = await diff(path.join(dir, 'junk-a'), path.join(dir, 'junk-b'))
    expect(junk.code).toBe(1)
    expect(junk.report?.items.map((i) => [i.kind, i.format])).toEqual([['content', 'binary']])
    // A zip too large to hold after a `#!` line its offsets do not count (a zipapp made
    // with cat) is read from the file at its own start, member after member.
    sh(
      dir,
      "for s in a b; do (printf '#!/usr/bin/env python3\\n'; cat $s-large.zip) > $s.pyz; done",
    )
    const zipapp = await diff(path.join(dir, 'a.pyz'), path.join(dir, 'b.pyz'))
    expect(zipapp.report?.stats.compared).toBe(5)
    expect(paths(zipapp.report, 'content')).toEqual(['a.pyz', 'a.pyz!dir/text'])
  })

  it('recurses into a jar inside a tgz', async () => {
    const dir = twoTrees({ 'src/Main.txt': 'main v1\n', 'src/Other.txt': 'other\n' }, (b) => {
      fs.writeFileSync(path.join(b, 'src/Main.txt'), 'main v2\n')
    })
    sh(
      dir,
      'for s in a b; do (cd $s/src && jar cf ../app.jar Main.txt Other.txt && rm -r ../src) ; tar --sort=name --mtime=@0 -czf $s.tgz -C $s app.jar; done',
    )
    const { report } = await diff(path.join(dir, 'a.tgz'), path.join(dir, 'b.tgz'))
    expect(paths(report, 'content')).toContain('a.tgz!app.jar!Main.txt')
    expect(paths(report, 'content')).not.toContain('a.tgz!app.jar!Other.txt')
    expect(report?.items.find((i) => i.path === 'a.tgz!app.jar')?.format).toBe('zip')
  })

  it('reads ar archives (static libraries, .deb) and xz inside them', async () => {
    const dir = twoTrees({ 'data/usr/share/doc/x': 'v1\n', control: 'c\n' }, (b) => {
      fs.writeFileSync(path.join(b, 'data/usr/share/doc/x'), 'v2\n')
    })
    sh(
      dir,
      'for s in a b; do tar --sort=name --mtime=@0 -cJf $s/data.tar.xz -C $s/data usr; (cd $s && ar rcD ../$s.deb control data.tar.xz); done',
    )
    const { report } = await diff(path.join(dir, 'a.deb'), path.join(dir, 'b.deb'))
    expect(paths(report, 'content')).toContain('a.deb!data.tar.xz!usr/share/doc/x')
    expect(report?.items.find((i) => i.path === 'a.deb!data.tar.xz')?.format).toBe('tar.xz')
    sh(
      dir,
      '(cd a && ar rcU ../u1.a control) && sleep 1 && touch b/control && (cd b && ar rcU ../u2.a control)',
    )
    const meta = await diff(path.join(dir, 'u1.a'), path.join(dir, 'u2.a'))
    expect(
      meta.report?.items.find((i) => i.kind === 'metadata')?.fields?.map((f) => f.field),
    ).toContain('mtime')
  })

  it('reads a static library with its symbol table, and warns of nothing in it', async () => {
    const dir = twoTrees({ 'f.c': 'int f(void) { return 1; }\n' }, (b) => {
      fs.writeFileSync(path.join(b, 'f.c'), 'int f(void) { return 2; }\n')
    })
    // GNU ar names its symbol table "/": a member, not an absolute path.
    sh(dir, 'for s in a b; do (cd $s && gcc -c f.c && ar rcsD libf.a f.o); done')
    const { code, report } = await diff(path.join(dir, 'a/libf.a'), path.join(dir, 'b/libf.a'))
    expect(code).toBe(1)
    expect(paths(report)).toContain('libf.a!f.o')
    expect(report?.warnings).toEqual([])
  })

  it('compares the data a zip member carries though its mode says directory', async () => {
    // unzip makes a file of it; its CRC-32 alone told it apart, and forged data (here
    // the same CRC over other bytes) passed as the same.
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import zipfile
with zipfile.ZipFile('d1.zip', 'w') as z:
    i = zipfile.ZipInfo('x', (2020, 1, 1, 0, 0, 0))
    i.create_system = 3
    i.external_attr = 0o40755 << 16
    z.writestr(i, 'print("good")\\n')
data = bytearray(open('d1.zip', 'rb').read())
at = data.find(b'good')
data[at:at + 4] = b'evil'
open('d2.zip', 'wb').write(bytes(data))
PY`,
    )
    const { code, report } = await diff(path.join(dir, 'd1.zip'), path.join(dir, 'd2.zip'))
    expect(code).toBe(1)
    const member = report?.items.find((i) => i.path === 'd1.zip!x')
    expect(member?.fields?.map((f) => f.field)).toEqual(['data'])
    expect(member?.fields?.[0]?.a).not.toBe(member?.fields?.[0]?.b)
  })

  it('compares a gzip header whole when its extra field, name or comment runs past its first KiB', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import struct, zlib
body = zlib.compressobj(9, zlib.DEFLATED, -15)
data = b'same content\\n'
deflated = body.compress(data) + body.flush()
trailer = struct.pack('<II', zlib.crc32(data), len(data))
def gz(name, flags, field):
    open(name, 'wb').write(b'\\x1f\\x8b\\x08' + bytes([flags]) + b'\\0\\0\\0\\0\\0\\x03' + field + deflated + trailer)
gz('x1.gz', 4, struct.pack('<H', 2000) + b'a' * 1999 + b'1')
gz('x2.gz', 4, struct.pack('<H', 2000) + b'a' * 1999 + b'2')
gz('n1.gz', 8, b'n' * 1500 + b'1\\0')
gz('n2.gz', 8, b'n' * 1500 + b'2\\0')
PY`,
    )
    for (const [x, y, field] of [
      ['x1.gz', 'x2.gz', 'extra'],
      ['n1.gz', 'n2.gz', 'name'],
    ] as const) {
      const { code, report } = await diff(path.join(dir, x), path.join(dir, y))
      expect(code).toBe(1)
      expect(report?.items.map((i) => i.fields?.map((f) => f.field))).toEqual([[field]])
      expect(report?.items.flatMap((i) => i.hints.map((h) => h.cause))).not.toContain('compression')
    }
  })

  it('names compression for another gzip level only when the content inside is the same', async () => {
    const dir = twoTrees({ 'same.txt': 'x'.repeat(5000), 'changed.txt': 'y'.repeat(5000) }, (b) => {
      fs.writeFileSync(path.join(b, 'changed.txt'), 'z'.repeat(5000))
    })
    sh(
      dir,
      'for f in same changed; do gzip -n -1 -c a/$f.txt > a/$f.gz; gzip -n -9 -c b/$f.txt > b/$f.gz; done',
    )
    const causes = async (name: string) =>
      (
        await diff(path.join(dir, `a/${name}.gz`), path.join(dir, `b/${name}.gz`))
      ).report?.items.flatMap((i) => i.hints.map((h) => h.cause))
    expect(await causes('same')).toContain('compression')
    expect(await causes('changed')).not.toContain('compression')
    // Two members, the second's header time alone differing: that is the cause, not the
    // compressor.
    sh(
      dir,
      [
        'echo one > p1 && echo two > p2 && gzip -nc p1 > head.gz',
        'touch -d @1600000000 p2 && (cat head.gz; gzip -c p2) > a/two.gz',
        'touch -d @1700000000 p2 && (cat head.gz; gzip -c p2) > b/two.gz',
      ].join(' && '),
    )
    const two = await diff(path.join(dir, 'a/two.gz'), path.join(dir, 'b/two.gz'))
    expect(two.report?.items.map((i) => i.fields?.map((f) => f.field))).toEqual([['mtime 2']])
    expect(await causes('two')).toEqual(['timestamp'])
    // The same gzip inside a tar: read from memory, its second header still tells.
    sh(dir, 'for s in a b; do tar --mtime=@0 --owner=0 --group=0 -cf $s/two.tar -C $s two.gz; done')
    const inTar = await diff(path.join(dir, 'a/two.tar'), path.join(dir, 'b/two.tar'))
    expect(inTar.report?.items.flatMap((i) => i.hints.map((h) => h.cause))).toEqual(['timestamp'])
    // Content that differs too: the later header's time is still named, beside it.
    sh(
      dir,
      [
        'echo changed > q2 && touch -d @1700000000 q2',
        '(cat head.gz; gzip -c q2) > b/both.gz && cp a/two.gz a/both.gz',
        'for s in a b; do tar --mtime=@0 --owner=0 --group=0 -cf $s/both.tar -C $s both.gz; done',
      ].join(' && '),
    )
    for (const name of ['both.gz', 'both.tar']) {
      const both = await diff(path.join(dir, `a/${name}`), path.join(dir, `b/${name}`))
      expect(both.code).toBe(1)
      const fields = both.report?.items.flatMap((i) => i.fields?.map((f) => f.field) ?? [])
      expect(fields).toContain('mtime 2')
      expect(both.report?.items.some((i) => i.kind === 'content')).toBe(true)
    }
    // Zips of the same members at two levels: each member's content, read, is the same,
    // and its compressed size is the compressor's doing, said of every member.
    sh(
      dir,
      '(cd a && zip -q -X -1 ../one.zip same.txt changed.txt) && (cd a && zip -q -X -9 ../nine.zip same.txt changed.txt)',
    )
    const levels = await diff(path.join(dir, 'one.zip'), path.join(dir, 'nine.zip'))
    const members = levels.report?.items.filter((i) => i.path.includes('!')) ?? []
    expect(members.map((i) => [i.path, i.kind, i.message, i.hints.map((h) => h.cause)])).toEqual([
      ['one.zip!same.txt', 'metadata', 'content identical', ['compression']],
      ['one.zip!changed.txt', 'metadata', 'content identical', ['compression']],
    ])
  })

  it('says an archive’s own bytes differ, never compression, when its decompressed bytes do', async () => {
    const dir = makeTemp()
    sh(
      dir,
      [
        'echo hello > f && tar --format=gnu --mtime=@0 -cf g.tar f && tar --format=ustar --mtime=@0 -cf u.tar f',
        'gzip -n -k g.tar u.tar',
        // A large member, spooled rather than held, that differs only in its tar padding.
        'head -c 9500000 /dev/urandom > blob && tar --format=gnu --mtime=@0 -cf x.tar blob && cp x.tar y.tar',
        'printf X | dd of=y.tar bs=1 seek=$(( $(stat -c%s x.tar) - 100 )) conv=notrunc 2>/dev/null',
        'mkdir A B && cp x.tar A/m.tar && cp y.tar B/m.tar && touch -d @1600000000 A/m.tar B/m.tar',
        '(cd A && zip -q0X ../a.zip m.tar) && (cd B && zip -q0X ../b.zip m.tar)',
      ].join(' && '),
    )
    const gz = await diff(path.join(dir, 'g.tar.gz'), path.join(dir, 'u.tar.gz'))
    expect(gz.code).toBe(1)
    expect(gz.report?.items.flatMap((i) => i.hints.map((h) => h.cause))).not.toContain(
      'compression',
    )
    expect(gz.report?.items.map((i) => i.message)).toContain(
      "members and their metadata are identical; the archive's own bytes differ (format fields, padding, or what follows its end)",
    )
    // Said with what is known of it, as a cause no hint has: the archives' sizes.
    expect(gz.report?.items.flatMap((i) => i.hints)).toContainEqual(
      expect.objectContaining({
        cause: 'unexplained',
        evidence:
          'the same members: their writers laid them out apart (a field no member owns, a record size or alignment, or bytes after the end)',
      }),
    )
    // GNU tar's 10 KiB records against 1 KiB ones (-b 2): the sizes say it.
    sh(dir, 'tar --format=gnu --mtime=@0 -b 2 -cf small.tar f')
    const padded = await diff(path.join(dir, 'g.tar'), path.join(dir, 'small.tar'))
    expect(padded.code).toBe(1)
    expect(padded.report?.items.map((i) => [i.path, i.hints.map((h) => h.evidence)])).toEqual([
      [
        'g.tar',
        [
          'the same members, in archives of 10,240 bytes in A and 2,048 in B: their writers laid them out apart (a record size or alignment, or bytes after the end)',
        ],
      ],
    ])
    const zip = await diff(path.join(dir, 'a.zip'), path.join(dir, 'b.zip'))
    expect(zip.code).toBe(1)
    expect(paths(zip.report, 'content')).toContain('a.zip!m.tar')
    expect(zip.report?.items.flatMap((i) => i.hints.map((h) => h.cause))).not.toContain(
      'compression',
    )
  })

  it('names the build path of objects compiled in two directories, without knowing the roots', async () => {
    const dir = makeTemp()
    for (const side of ['one', 'two-longer']) {
      fs.mkdirSync(path.join(dir, side, 'src'), { recursive: true })
      fs.writeFileSync(path.join(dir, side, 'src/x.c'), 'int f(int x) { return x * 3; }\n')
      sh(path.join(dir, side, 'src'), 'gcc -g -c x.c')
    }
    const { code, report } = await diff(
      path.join(dir, 'one/src/x.o'),
      path.join(dir, 'two-longer/src/x.o'),
    )
    expect(code).toBe(1)
    const hints = report?.items.flatMap((i) => i.hints) ?? []
    expect(hints.map((h) => h.cause)).toEqual(['build-path'])
    expect(hints[0]?.evidence).toContain(`"${dir}/two-longer/src"`)
    // The structure: the section that holds the paths, and the paths themselves.
    const sections = report?.items[0]?.binary?.sections ?? []
    expect(sections.find((x) => x.name === '.debug_line_str')?.strings).toEqual({
      a: [`${dir}/one/src`],
      b: [`${dir}/two-longer/src`],
    })
    const human = await runCli([
      'diff',
      path.join(dir, 'one/src/x.o'),
      path.join(dir, 'two-longer/src/x.o'),
    ])
    expect(human.stdout).toContain(`section .debug_line_str: `)
    expect(human.stdout).toContain(`B only: "${dir}/two-longer/src"`)
    // Directories with no name in common: the debug strings still name where each side
    // was compiled.
    for (const side of ['p1', 'p2']) {
      fs.mkdirSync(path.join(dir, side))
      fs.writeFileSync(
        path.join(dir, side, 'y.c'),
        Array.from({ length: 40 }, (_, i) => `int f${i}(int x) { return x * ${i}; }\n`).join(''),
      )
      sh(path.join(dir, side), 'gcc -g -O1 -c y.c')
    }
    const far = await diff(path.join(dir, 'p1/y.o'), path.join(dir, 'p2/y.o'))
    expect(far.report?.items[0]?.hints.map((h) => [h.cause, h.evidence])).toEqual([
      [
        'build-path',
        `A holds "${dir}/p1", B "${dir}/p2" in .debug_line_str: the directories each side was compiled in`,
      ],
    ])
    // Compiled in one directory against two libraries' headers: the include directories
    // differ, and so do the headers in them, which no move of a directory explains.
    for (const lib of ['zlibng', 'miniz']) {
      fs.mkdirSync(path.join(dir, 'inc', lib), { recursive: true })
      fs.writeFileSync(
        path.join(dir, 'inc', lib, `${lib}.h`),
        `static inline int ${lib}(void) { return 1; }\n`,
      )
    }
    fs.mkdirSync(path.join(dir, 'same'))
    fs.writeFileSync(
      path.join(dir, 'same', 'k.c'),
      '#ifdef USE_MZ\n#include "miniz.h"\n#define LIB miniz\n#else\n#include "zlibng.h"\n#define LIB zlibng\n#endif\nint k(void) { return LIB(); }\n',
    )
    sh(
      path.join(dir, 'same'),
      `gcc -g -c -I${dir}/inc/zlibng k.c -o a.o && gcc -g -c -DUSE_MZ -I${dir}/inc/miniz k.c -o b.o`,
    )
    const libs = await diff(path.join(dir, 'same/a.o'), path.join(dir, 'same/b.o'))
    expect(libs.report?.items[0]?.hints.map((h) => h.cause)).not.toContain('build-path')
  })

  it('names a compiler flag or an #ident beside a build path as unexplained, not as the path', async () => {
    const dir = makeTemp()
    const build = (side: string, flags: string, extra = ''): string => {
      fs.mkdirSync(path.join(dir, side), { recursive: true })
      fs.writeFileSync(path.join(dir, side, 'x.c'), `int f(int x) { return x * 3; }\n${extra}`)
      sh(path.join(dir, side), `gcc -g -O1 ${flags} -c x.c`)
      return path.join(dir, side, 'x.o')
    }
    const a = build('a', '')
    for (const [b, shown] of [
      [build('b1', '-fstack-protector-strong'), '-fstack-protector-strong'],
      [build('b2', '', '#ident "built by mallory"\n'), 'built by mallory'],
    ] as const) {
      const { code, report } = await diff(a, b)
      expect(code).toBe(1)
      const hints = report?.items[0]?.hints ?? []
      expect(hints.map((h) => h.cause)).toEqual(['build-path', 'unexplained'])
      expect(hints[1]?.evidence).toContain(shown)
    }
    // The path alone: the path alone.
    const same = await diff(a, build('b3', ''))
    expect(same.report?.items[0]?.hints.map((h) => h.cause)).toEqual(['build-path'])
  })

  it('names the build path of static programs built in directories of other lengths, and code that changed beside it', async () => {
    // Every address after the path moves: thousands of differing places, too many for
    // the byte ranges kept; the path is found among the strings of the read-only data.
    const dir = makeTemp()
    const sides = ['s', 'a-much-longer-build-directory/b']
    const build = (out: string, text: string): void => {
      for (const side of sides) {
        fs.mkdirSync(path.join(dir, side), { recursive: true })
        fs.writeFileSync(
          path.join(dir, side, 'm.c'),
          `#include <assert.h>\n#include <stdio.h>\nint main(int c, char **v) { (void)v; assert(c > 0); puts("${side === sides[0] ? 'hello' : text}"); return 0; }\n`,
        )
        sh(path.join(dir, side), `gcc -O2 -static "$PWD/m.c" -o ${out}`)
      }
    }
    build('same', 'hello')
    build('changed', 'howdy')
    const causes = async (out: string) => {
      const { code, report } = await diff(
        path.join(dir, sides[0] ?? '', out),
        path.join(dir, sides[1] ?? '', out),
      )
      expect(code).toBe(1)
      expect(report?.items[0]?.binary?.places).toBeGreaterThan(64)
      return report?.items[0]?.hints ?? []
    }
    const same = await causes('same')
    expect(same[0]?.cause).toBe('build-path')
    expect(same[0]?.evidence).toContain(`B "${dir}/a-much-longer-build-directory/b/m.c"`)
    expect(same[0]?.evidence).toContain('(.rodata)')
    // (A C library function whose constant is made of two addresses may still be named:
    // such a constant is not read as addresses. main is not, nor the C library's exit,
    // whose loop ends at a `__stop_` bound just past a section, in no section itself.)
    const unexplained = same.find((h) => h.cause === 'unexplained')?.evidence ?? ''
    expect(unexplained).not.toMatch(/\bmain \(/)
    expect(unexplained).not.toContain('__run_exit_handlers')
    const changed = await causes('changed')
    expect(changed[0]?.cause).toBe('build-path')
    expect(changed.find((h) => h.cause === 'unexplained')?.evidence).toMatch(/\bmain \(/)
  })

  it('names objects linked in another order ordering, from the symbol tables', async () => {
    const dir = makeTemp()
    fs.writeFileSync(path.join(dir, 'a.c'), 'int fa(void) { return 1; }\n')
    fs.writeFileSync(path.join(dir, 'b.c'), 'int fb(void) { return 2; }\n')
    fs.writeFileSync(
      path.join(dir, 'main.c'),
      'int fa(void); int fb(void);\nint main(void) { return fa() + fb(); }\n',
    )
    sh(dir, 'gcc -O1 -c a.c b.c main.c && gcc -o x main.o a.o b.o && gcc -o y main.o b.o a.o')
    const { code, report } = await diff(path.join(dir, 'x'), path.join(dir, 'y'))
    expect(code).toBe(1)
    const hints = report?.items[0]?.hints ?? []
    expect(hints.map((h) => h.cause)).toEqual(['ordering'])
    expect(hints[0]?.evidence).toMatch(
      /functions laid out in another order: A has fa, fb…, B fb, fa…/,
    )
    // The same link order with one function's code changed too: the order does not
    // explain the code, and the function is named.
    fs.writeFileSync(path.join(dir, 'b.c'), 'int fb(void) { return 3; }\n')
    sh(dir, 'gcc -O1 -c b.c && gcc -o z main.o b.o a.o')
    const changed = await diff(path.join(dir, 'x'), path.join(dir, 'z'))
    const both = changed.report?.items[0]?.hints ?? []
    expect(both.map((h) => h.cause)).toEqual(['ordering', 'unexplained'])
    expect(both[1]?.evidence).toMatch(
      /code or data differs beyond the addresses a move changes, in 1 function, object or section: fb \(\.text at \+0x/,
    )
    // Linked in another order and calling another library function from the same slot:
    // the imports are named as such, with no place.
    const calling = (call: string): string =>
      `#include <stdio.h>\n#include <stdlib.h>\nint fa(void) { ${call}; return 1; }\n`
    fs.writeFileSync(path.join(dir, 'b.c'), 'int fb(void) { return 2; }\n')
    fs.writeFileSync(path.join(dir, 'a.c'), calling('puts("x")'))
    sh(dir, 'gcc -O1 -w -c a.c b.c && gcc -o p main.o a.o b.o')
    fs.writeFileSync(path.join(dir, 'a.c'), calling('free((void *)"x")'))
    sh(dir, 'gcc -O1 -w -c a.c && gcc -o q main.o b.o a.o')
    const imports = (await diff(path.join(dir, 'p'), path.join(dir, 'q'))).report?.items[0]?.hints
    expect(imports?.map((h) => h.cause)).toEqual(['ordering', 'unexplained'])
    expect(imports?.[1]?.evidence).toContain('functions called through the PLT')
    expect(imports?.[1]?.evidence).not.toContain('.rela.plt')
  })

  it('calls a checksum list derived when the lines that change are the files that differ', async () => {
    const dir = twoTrees({ 'bin/tool': 'v1\n', 'doc.txt': 'same\n' }, (b) => {
      fs.writeFileSync(path.join(b, 'bin/tool'), 'v2\n')
    })
    // As a .deb keeps them: md5sums in one tar, the files in another.
    sh(
      dir,
      'for s in a b; do (cd $s && sha256sum bin/tool doc.txt > SHA256SUMS && md5sum ./bin/tool > md5sums && tar cf files.tar bin doc.txt && tar cf control.tar md5sums); done',
    )
    const { report } = await diff(path.join(dir, 'a'), path.join(dir, 'b'))
    // The content's cause: the tars' members may also differ in mtime, when a/ and b/
    // were written in different seconds, which is a metadata item of its own.
    const cause = (p: string) =>
      report?.items.find((i) => i.path === p && i.kind === 'content')?.hints[0]?.cause
    expect(cause('SHA256SUMS')).toBe('derived')
    expect(cause('control.tar!md5sums')).toBe('derived')
    expect(report?.items.find((i) => i.path === 'SHA256SUMS')?.hints[0]?.evidence).toContain(
      'bin/tool',
    )
    // A list whose changed line names a file that did not change is not explained by it.
    fs.writeFileSync(path.join(dir, 'b/SHA256SUMS'), `${'0'.repeat(64)}  doc.txt\n`)
    fs.writeFileSync(path.join(dir, 'a/SHA256SUMS'), `${'1'.repeat(64)}  doc.txt\n`)
    const again = await diff(path.join(dir, 'a'), path.join(dir, 'b'))
    expect(again.report?.items.find((i) => i.path === 'SHA256SUMS')?.hints[0]?.cause).toBe(
      'unexplained',
    )
  })

  it("names a .pyc's source mtime as the time field it is", async () => {
    const dir = twoTrees({ 'm.py': 'X = 1\n' })
    sh(
      dir,
      // Compiled where it is: a .pyc holds the source's path as given (a/m.py, b/m.py).
      "touch -d @1700000000 a/m.py; touch -d @1700000100 b/m.py; for s in a b; do (cd $s && env -u SOURCE_DATE_EPOCH python3 -c \"import py_compile; py_compile.compile('m.py', 'm.pyc')\"); done",
    )
    const { report } = await diff(path.join(dir, 'a/m.pyc'), path.join(dir, 'b/m.pyc'))
    const item = report?.items[0]
    expect(item?.fields).toEqual([
      {
        field: 'source mtime',
        a: '2023-11-14T22:13:20Z (1700000000)',
        b: '2023-11-14T22:15:00Z (1700000100)',
      },
    ])
    expect(item?.hints.map((h) => h.cause)).toEqual(['timestamp'])
    expect(item?.hints[0]?.fix).toContain('SOURCE_DATE_EPOCH')
    // Its code changed too: the time is named, and so are the bytes it does not explain.
    sh(
      dir,
      "echo 'X = 2' > b/m.py; touch -d @1700000100 b/m.py; cd b && env -u SOURCE_DATE_EPOCH python3 -c \"import py_compile; py_compile.compile('m.py', 'm.pyc')\"",
    )
    const changed = (await diff(path.join(dir, 'a/m.pyc'), path.join(dir, 'b/m.pyc'))).report
    expect(changed?.items[0]?.hints.map((h) => h.cause)).toEqual(['timestamp', 'unexplained'])
    // The constant the time does not explain is named, by its code object.
    expect(changed?.items[0]?.hints[1]?.evidence).toBe('constant 0 of <module>: 1 → 2')
    // Checked by hash on one side: that side holds no time, so no time moved.
    sh(
      dir,
      "echo 'X = 1' > b/m.py; cd b && python3 -c \"import py_compile; py_compile.compile('m.py', 'm.pyc', invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)\"",
    )
    const hashed = (await diff(path.join(dir, 'a/m.pyc'), path.join(dir, 'b/m.pyc'))).report
    expect(hashed?.items[0]?.fields).toContainEqual(
      expect.objectContaining({ field: 'source mtime', b: '(absent)' }),
    )
    expect(hashed?.items[0]?.hints.map((h) => h.cause)).not.toContain('timestamp')
  })

  it('reads a .pyc by its code objects: the path it was compiled from, and the constants that changed', async () => {
    const dir = makeTemp()
    const source = 'X = 1\ndef f():\n    return "hello"\n'
    for (const side of ['one/src', 'other/longer/src']) {
      fs.mkdirSync(path.join(dir, side), { recursive: true })
      fs.writeFileSync(path.join(dir, side, 'm.py'), source)
    }
    // Compiled by absolute path, at two source times: the path and the time differ.
    sh(
      dir,
      `touch -d @1700000000 one/src/m.py && touch -d @1700000100 other/longer/src/m.py && for s in one/src other/longer/src; do python3 -c "import py_compile; py_compile.compile('$PWD/$s/m.py', '$PWD/$s/m.pyc')"; done`,
    )
    const moved = await diff(
      path.join(dir, 'one/src/m.pyc'),
      path.join(dir, 'other/longer/src/m.pyc'),
    )
    const item = moved.report?.items[0]
    expect(item?.format).toBe('pyc')
    expect(item?.binary?.structure).toBe('pyc')
    expect(item?.binary?.sections).toEqual([
      {
        name: 'file names',
        sizes: [1, 1],
        strings: { a: [`${dir}/one/src/m.py`], b: [`${dir}/other/longer/src/m.py`] },
      },
    ])
    // The path explains the bytes beyond the time: nothing is left unexplained.
    expect(item?.hints.map((h) => h.cause)).toEqual(['timestamp', 'build-path'])
    // Another constant in f, in the same place: the constant is named, and it is not explained.
    fs.writeFileSync(path.join(dir, 'other/longer/src/m.py'), source.replace('hello', 'howdy'))
    sh(
      dir,
      `touch -d @1700000100 other/longer/src/m.py && python3 -c "import py_compile; py_compile.compile('$PWD/other/longer/src/m.py', '$PWD/other/longer/src/m.pyc')"`,
    )
    const changed = (
      await diff(path.join(dir, 'one/src/m.pyc'), path.join(dir, 'other/longer/src/m.pyc'))
    ).report?.items[0]
    expect(changed?.binary?.sections?.find((s) => s.name === 'code object f')).toEqual({
      name: 'code object f',
      sizes: [expect.any(Number), expect.any(Number)],
      strings: { a: ['"hello"'], b: ['"howdy"'] },
      sameCode: true,
    })
    expect(changed?.hints.map((h) => h.cause)).toEqual(['timestamp', 'build-path', 'unexplained'])
    const human = await runCli([
      'diff',
      path.join(dir, 'one/src/m.pyc'),
      path.join(dir, 'other/longer/src/m.pyc'),
    ])
    expect(human.stdout).toContain('code object f: ')
    expect(human.stdout).toContain('A only: ""hello""')
  })

  it("names a PE file's link time, and the bytes of another change it does not explain", async () => {
    const dir = makeTemp()
    fs.writeFileSync(path.join(dir, 'x.c'), 'int start(void) { return 42; }\n')
    fs.writeFileSync(path.join(dir, 'y.c'), 'int start(void) { return 43; }\n')
    // GNU ld's PE linker (as MinGW uses it), at two times: the COFF time and the
    // checksum that follows from it differ, and the CodeView GUID is made from the content.
    // The clock stopped at each time (no `@`): a running one, on a loaded machine, had
    // moved a second on by the time ld read it.
    const link = (obj: string, out: string, time: string): string =>
      `TZ=UTC faketime -f '${time}' ld -m i386pep --insert-timestamp --build-id -e start -o ${out} ${obj} 2>/dev/null`
    sh(
      dir,
      [
        'gcc -O1 -c -fno-asynchronous-unwind-tables x.c y.c',
        'objcopy -O pe-x86-64 x.o x.obj && objcopy -O pe-x86-64 y.o y.obj',
        link('x.obj', 'a.exe', '2023-11-14 22:13:20'),
        link('x.obj', 'b.exe', '2023-11-14 22:15:00'),
        link('y.obj', 'c.exe', '2023-11-14 22:15:00'),
      ].join(' && '),
    )
    const { report } = await diff(path.join(dir, 'a.exe'), path.join(dir, 'b.exe'))
    const item = report?.items[0]
    expect(item?.fields).toEqual([
      {
        field: 'COFF time',
        a: '2023-11-14T22:13:20Z (1700000000)',
        b: '2023-11-14T22:15:00Z (1700000100)',
      },
    ])
    expect(item?.hints.map((h) => h.cause)).toEqual(['timestamp'])
    const changed = (await diff(path.join(dir, 'a.exe'), path.join(dir, 'c.exe'))).report
    expect(changed?.items[0]?.hints.map((h) => h.cause)).toEqual(['timestamp', 'unexplained'])
    expect(changed?.items[0]?.hints[1]?.evidence).toMatch(/lie outside the fields named/)
    // Its debug directory made to claim more entries than are read: the fields are not all
    // located, and the time is not said to explain the rest.
    const crafted = fs.readFileSync(path.join(dir, 'c.exe'))
    const optional = crafted.readUInt32LE(0x3c) + 24
    crafted.writeUInt32LE(17 * 28, optional + 112 + 6 * 8 + 4)
    fs.writeFileSync(path.join(dir, 'd.exe'), crafted)
    fs.chmodSync(path.join(dir, 'd.exe'), fs.statSync(path.join(dir, 'a.exe')).mode)
    const unlocated = (await diff(path.join(dir, 'a.exe'), path.join(dir, 'd.exe'))).report
    expect(unlocated?.items[0]?.hints.map((h) => [h.cause, h.evidence.slice(0, 40)])).toEqual([
      ['timestamp', expect.any(String)],
      ['unexplained', 'the places of the fields named could not'],
    ])
  })

  it("names an ISO image's volume dates as the timestamps they are, and the fix that makes them equal", async () => {
    const dir = treeOfOneFile()
    sh(
      dir,
      'touch -d @1600000000 tree/a.txt tree && for t in 1700000000 1700000100; do SOURCE_DATE_EPOCH=$t xorriso -as mkisofs -o $t.iso tree 2>/dev/null; done',
    )
    const { code, report } = await diff(
      path.join(dir, '1700000000.iso'),
      path.join(dir, '1700000100.iso'),
    )
    expect(code).toBe(1)
    const item = report?.items.find((i) => i.path === '1700000000.iso')
    expect(item?.fields).toContainEqual({
      field: 'volume creation time',
      a: '2023-11-14T22:13:20.00+00:00',
      b: '2023-11-14T22:15:00.00+00:00',
    })
    expect(item?.hints.map((h) => h.cause)).toEqual(['timestamp'])
    expect(item?.hints[0]?.fix).toMatch(/SOURCE_DATE_EPOCH/)
    // Made at two times with no SOURCE_DATE_EPOCH, with Rock Ridge and Joliet and a tree
    // below the root: every directory record and Rock Ridge time differs, and is a time.
    fs.mkdirSync(path.join(dir, 'tree', 'sub', 'deeper'), { recursive: true })
    fs.writeFileSync(path.join(dir, 'tree', 'sub', 'deeper', 'b.txt'), 'b\n')
    const make = (time: string, out: string): string =>
      `faketime -f '@${time}' xorriso -as mkisofs -R -J -o ${out} tree 2>/dev/null`
    sh(
      dir,
      [
        make('2024-01-01 00:00:00', 'one.iso'),
        make('2024-01-02 00:00:00', 'two.iso'),
        'echo changed > tree/sub/deeper/b.txt',
        make('2024-01-02 00:00:00', 'three.iso'),
      ].join(' && '),
    )
    const clock = (await diff(path.join(dir, 'one.iso'), path.join(dir, 'two.iso'))).report
    expect(clock?.items[0]?.fields?.map((f) => f.field)).toContain('file times')
    expect(clock?.items[0]?.hints.map((h) => h.cause)).toEqual(['timestamp'])
    // A file's content changed too: the times do not explain it.
    const content = (await diff(path.join(dir, 'one.iso'), path.join(dir, 'three.iso'))).report
    expect(content?.items[0]?.hints.map((h) => h.cause)).toEqual(['timestamp', 'unexplained'])
  })

  it("follows an ISO record's Rock Ridge entries into a continuation area to find its times", async () => {
    const dir = treeOfOneFile()
    sh(
      dir,
      `for t in '2024-01-01 00:00:00' '2024-01-02 00:00:00'; do faketime -f "@$t" xorriso -as mkisofs -R -o "\${t%% *}.iso" tree 2>/dev/null; done`,
    )
    // A record whose entries outgrow its 255 bytes goes on in a continuation area (CE):
    // here a.txt's PX and TF entries are moved to the free system area (sector 1) and
    // replaced by a CE entry pointing there and padding (PD), as a long name would need.
    const both = (at: number, value: number, bytes: Buffer): void => {
      bytes.writeUInt32LE(value, at)
      bytes.writeUInt32BE(value, at + 4)
    }
    const moved = (file: string): string => {
      const bytes = fs.readFileSync(path.join(dir, file))
      const root = 16 * 2048 + 156
      const extent = bytes.readUInt32LE(root + 2) * 2048
      for (let at = extent; bytes[at] !== 0; at += bytes[at] ?? 0) {
        const nameLength = bytes[at + 32] ?? 0
        if (bytes.toString('latin1', at + 33, at + 33 + nameLength) !== 'A.TXT;1') continue
        const area = at + 33 + nameLength + (nameLength % 2 === 0 ? 1 : 0)
        const px = bytes.indexOf('PX', area, 'latin1')
        const tf = px + (bytes[px + 2] ?? 0)
        expect(bytes.toString('latin1', tf, tf + 2)).toBe('TF')
        const length = tf + (bytes[tf + 2] ?? 0) - px
        const entries = Buffer.from(bytes.subarray(px, px + length))
        expect(bytes.subarray(2048, 2048 + length).every((b) => b === 0)).toBe(true)
        entries.copy(bytes, 2048)
        const ce = Buffer.alloc(length)
        ce.write('CE', 0, 'latin1')
        ce[2] = 28
        ce[3] = 1
        both(4, 1, ce)
        both(12, 0, ce)
        both(20, length, ce)
        ce.write('PD', 28, 'latin1')
        ce[30] = length - 28
        ce[31] = 1
        ce.copy(bytes, px)
        const out = `moved-${file}`
        fs.writeFileSync(path.join(dir, out), bytes)
        return path.join(dir, out)
      }
      throw new Error(`no record of a.txt in ${file}`)
    }
    const { code, report } = await diff(moved('2024-01-01.iso'), moved('2024-01-02.iso'))
    expect(code).toBe(1)
    // The times in the continuation area are located: a timestamp, nothing unexplained.
    expect(report?.items[0]?.hints.map((h) => h.cause)).toEqual(['timestamp'])
  })

  it("names a Java class's differing constants and the methods that use them, inside a jar", async () => {
    const source = (where: string, answer: number) =>
      `public class App {\n  public static String where() { return "${where}/src/App.java"; }\n  public static int answer() { return ${answer}; }\n  public static int same() { return 7; }\n}\n`
    const dir = twoTrees({ 'App.java': source('/home/one', 42) }, (b) => {
      fs.writeFileSync(path.join(b, 'App.java'), source('/tmp/two', -1))
    })
    sh(
      dir,
      'for s in a b; do (cd $s && javac -g:none --release 11 App.java && jar --create --file app.jar --date=2000-01-01T00:00:00Z App.class); done',
    )
    const { code, report } = await diff(path.join(dir, 'a/app.jar'), path.join(dir, 'b/app.jar'))
    expect(code).toBe(1)
    const item = report?.items.find((i) => i.path === 'app.jar!App.class' && i.kind === 'content')
    expect(item?.format).toBe('java-class')
    expect(item?.binary?.structure).toBe('java-class')
    const string = (side: string) => `${side}/src/App.java`
    expect(item?.binary?.sections).toEqual([
      {
        name: 'constant pool',
        sizes: [item?.binary?.sections?.[0]?.sizes[0], item?.binary?.sections?.[0]?.sizes[0]],
        strings: { a: [string('/home/one')], b: [string('/tmp/two')] },
      },
      // where()'s code is the same bytes, but the string it loads is not.
      {
        name: 'method where()Ljava/lang/String;',
        sizes: [3, 3],
        strings: {
          a: [JSON.stringify(string('/home/one'))],
          b: [JSON.stringify(string('/tmp/two'))],
        },
        sameCode: true,
      },
      // answer() changed its code (bipush 42 → iconst_m1); same() did not, so it is not listed.
      { name: 'method answer()I', sizes: [3, 2] },
    ])
    // The path explains the string, not answer()'s code.
    expect(item?.hints.map((h) => [h.cause, h.evidence])).toEqual([
      ['build-path', expect.stringContaining('/tmp/two/src/App.java')],
      ['unexplained', 'the code of method answer()I differs'],
    ])
    const text = await runCli(['diff', path.join(dir, 'a/app.jar'), path.join(dir, 'b/app.jar')])
    expect(text.stdout).toContain('A only: "/home/one/src/App.java"')
    expect(text.stdout).toContain('method answer()I: 3 bytes of code → 2 bytes of code')
    expect(text.stdout).toContain('method where()Ljava/lang/String;: 3 bytes of code, the same')
    // With the same answer, the path is all that differs, and all is explained.
    fs.writeFileSync(path.join(dir, 'b/App.java'), source('/tmp/two', 42))
    sh(dir, 'cd b && javac -g:none --release 11 App.java')
    const moved = await diff(path.join(dir, 'a/App.class'), path.join(dir, 'b/App.class'))
    expect(moved.report?.items[0]?.hints.map((h) => h.cause)).toEqual(['build-path'])
    // A class file that cannot be read: nothing beside the path is known, and that is said.
    const broken = fs.readFileSync(path.join(dir, 'b/App.class'))
    broken[10] = 99
    fs.writeFileSync(path.join(dir, 'b/Broken.class'), broken)
    const unread = await diff(path.join(dir, 'a/App.class'), path.join(dir, 'b/Broken.class'))
    expect(unread.report?.items[0]?.hints.at(-1)).toMatchObject({
      cause: 'unexplained',
      evidence: 'side B could not be read as a class file, so what else differs is not known',
    })
    // A constant in the same slot that the path does not explain, beside it: named.
    for (const [side, where, value] of [
      ['c', '/home/one', 70000],
      ['d', '/tmp/two', 70001],
    ] as const) {
      fs.mkdirSync(path.join(dir, side))
      fs.writeFileSync(
        path.join(dir, side, 'App.java'),
        source(where, 42).replace('return 7;', `return ${value};`),
      )
      sh(path.join(dir, side), 'javac -g:none --release 11 App.java')
    }
    const constant = await diff(path.join(dir, 'c/App.class'), path.join(dir, 'd/App.class'))
    expect(constant.report?.items[0]?.hints.map((h) => [h.cause, h.evidence])).toEqual([
      ['build-path', expect.any(String)],
      ['unexplained', expect.stringMatching(/^constant #\d+: 70000 → 70001$/)],
    ])
  })

  it("reads an rpm's header tags and the members of its payload, whatever it is compressed with", async () => {
    const dir = makeTemp()
    fs.writeFileSync(
      path.join(dir, 'hello.spec'),
      [
        'Name: hello',
        'Version: 1.0',
        'Release: 1',
        'Summary: test',
        'License: MIT',
        'BuildArch: noarch',
        '%description',
        'test',
        '%install',
        'mkdir -p %{buildroot}/usr/share/hello',
        'echo "%{greeting}" > %{buildroot}/usr/share/hello/greeting.txt',
        'echo same > %{buildroot}/usr/share/hello/same.txt',
        '%files',
        '/usr/share/hello/greeting.txt',
        '/usr/share/hello/same.txt',
        '',
      ].join('\n'),
    )
    for (const payload of ['w9.gzdio', 'w6.xzdio', 'w19.zstdio']) {
      for (const side of ['a', 'b'])
        sh(
          dir,
          `HOME=${dir} rpmbuild -bb --quiet --define "_topdir ${dir}/top-${side}" --define "greeting hi-${side}" --define "_buildhost host-${side}" --define "_binary_payload ${payload}" --define "source_date_epoch_from_changelog 0" hello.spec && mv top-${side}/RPMS/noarch/hello-1.0-1.noarch.rpm ${side}.rpm && rm -rf top-${side}`,
        )
      const { code, report } = await diff(path.join(dir, 'a.rpm'), path.join(dir, 'b.rpm'))
      expect(code, payload).toBe(1)
      const own = report?.items.find((i) => i.path === 'a.rpm' && i.kind === 'content')
      expect(own?.format).toBe('rpm')
      const fields = new Map((own?.fields ?? []).map((f) => [f.field, f]))
      expect(fields.get('build host')).toEqual({ field: 'build host', a: 'host-a', b: 'host-b' })
      expect(own?.hints.map((h) => h.cause)).toContain('hostname')
      const greeting = report?.items.find(
        (i) => i.path === 'a.rpm!./usr/share/hello/greeting.txt' && i.kind === 'content',
      )
      expect(greeting?.text?.unified, payload).toContain('-hi-a\n+hi-b')
      expect(
        report?.items.some(
          (i) => i.path === 'a.rpm!./usr/share/hello/same.txt' && i.kind === 'content',
        ),
      ).toBe(false)
    }
    // What follows the payload's trailer is the payload's own field, beside the
    // package's: a package field did not hide it.
    sh(
      dir,
      `HOME=${dir} rpmbuild -bb --quiet --define "_topdir ${dir}/top-g" --define "greeting hi" --define "_binary_payload w9.gzdio" hello.spec && mv top-g/RPMS/noarch/hello-1.0-1.noarch.rpm g.rpm && rm -rf top-g`,
    )
    execFileSync(
      'python3',
      [
        '-c',
        `
import gzip, struct
d = open('g.rpm', 'rb').read()
def end(o):
    n, s = struct.unpack('>II', d[o + 8:o + 16])
    return o + 16 + 16 * n + s
o = end(96); o += (8 - o % 8) % 8; o = end(o)
cpio = gzip.decompress(d[o:])
for name, junk in (('ja.rpm', b'AAAA'), ('jb.rpm', b'BBBB')):
    open(name, 'wb').write(d[:o] + gzip.compress(cpio + junk * 64, mtime=0))
`,
      ],
      { cwd: dir },
    )
    const junk = await diff(path.join(dir, 'ja.rpm'), path.join(dir, 'jb.rpm'))
    expect(junk.code).toBe(1)
    expect(junk.report?.items.flatMap((i) => i.fields ?? []).map((f) => f.field)).toContain(
      'payload data after the trailer',
    )
    // Cut short in its payload, an rpm is named unreadable, never identical.
    fs.writeFileSync(
      path.join(dir, 'cut.rpm'),
      fs.readFileSync(path.join(dir, 'b.rpm')).subarray(0, 3000),
    )
    const cut = await diff(path.join(dir, 'a.rpm'), path.join(dir, 'cut.rpm'))
    expect(cut.code).toBe(1)
    expect(cut.report?.items.some((i) => i.kind === 'error')).toBe(true)
  })

  it('reads an xz stream with a SHA-256 check through the xz program, and stops when there is none', async () => {
    const dir = twoTrees({ 'pkg/a.txt': 'one\n' }, (b) => {
      fs.writeFileSync(path.join(b, 'pkg/a.txt'), 'two\n')
    })
    sh(
      dir,
      'for s in a b; do tar --sort=name --mtime=@0 -cf - -C $s pkg | xz --check=sha256 > $s.tar.xz; done',
    )
    const [a, b] = [path.join(dir, 'a.tar.xz'), path.join(dir, 'b.tar.xz')]
    const { code, report } = await diff(a, b)
    expect(code).toBe(1)
    expect(report?.items.find((i) => i.path === 'a.tar.xz!pkg/a.txt')?.text?.unified).toContain(
      '+two',
    )
    // A stream whose check does not match is corrupt, not identical.
    const bytes = fs.readFileSync(b)
    bytes[bytes.length - 40] = (bytes[bytes.length - 40] ?? 0) ^ 0xff
    fs.writeFileSync(path.join(dir, 'bad.tar.xz'), bytes)
    const bad = await diff(a, path.join(dir, 'bad.tar.xz'))
    expect(bad.code).toBe(1)
    expect(bad.report?.items.some((i) => i.kind === 'error')).toBe(true)
    // Without the program, the diff cannot be made: exit 3, naming what to install.
    const saved = process.env.PATH
    process.env.PATH = makeTemp()
    try {
      const missing = await runCli(['diff', a, b])
      expect(missing.code).toBe(3)
      expect(missing.stderr).toContain('install xz-utils')
      expect(missing.stdout).toBe('')
    } finally {
      process.env.PATH = saved
    }
  })

  it('compares a .build-id debug file renamed by its new build id with the one it replaces', async () => {
    const dir = makeTemp()
    for (const [side, value] of [
      ['a', 1],
      ['b', 2],
    ] as const) {
      fs.mkdirSync(path.join(dir, side))
      fs.writeFileSync(path.join(dir, side, 'main.c'), `int main(void) { return ${value}; }\n`)
      sh(
        path.join(dir, side),
        [
          'gcc -g -Wl,--build-id -o app main.c',
          "id=$(readelf -n app | awk '/Build ID/ {print $3}')",
          'mkdir -p pkg/usr/lib/debug/.build-id/${id:0:2}',
          'objcopy --only-keep-debug app pkg/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug',
          'tar --sort=name --mtime=@0 --owner=0 --group=0 -cf ../' + side + '.tar -C pkg .',
        ].join(' && '),
      )
    }
    const { code, report } = await diff(path.join(dir, 'a.tar'), path.join(dir, 'b.tar'))
    expect(code).toBe(1)
    expect(paths(report, 'only-in-a')).toEqual([])
    expect(paths(report, 'only-in-b')).toEqual([])
    // The fan-out directory is renamed too; the debug file in it is the one to compare.
    const renamed = report?.items.find((i) =>
      i.fields?.some((f) => f.field === 'renamed' && f.a.endsWith('.debug')),
    )
    const name = renamed?.fields?.find((f) => f.field === 'renamed')
    // The ids come from the build (whose temp paths differ each time): one time in 256
    // they share their first byte, and the fan-out directory keeps its name.
    const sameFanOut = name?.a.split('/')[5] === name?.b.split('/')[5]
    expect(report?.items.filter((i) => i.fields?.some((f) => f.field === 'renamed'))).toHaveLength(
      sameFanOut ? 1 : 2,
    )
    expect(name?.a).toMatch(/^\.\/usr\/lib\/debug\/\.build-id\/[0-9a-f]{2}\/[0-9a-f]{38}\.debug$/)
    expect(name?.b).toMatch(/^\.\/usr\/lib\/debug\/\.build-id\/[0-9a-f]{2}\/[0-9a-f]{38}\.debug$/)
    // Compared as the ELF files they are, under A's name.
    const content = report?.items.find((i) => i.path === renamed?.path && i.kind === 'content')
    expect(content?.format).toBe('elf')
    expect(content?.binary?.sections?.map((s) => s.name)).toContain('.note.gnu.build-id')
  })

  it('pairs files of two trees renamed by a hash in their name, moved with the same content, or in a renamed directory', async () => {
    const dir = makeTemp()
    const put = (file: string, content: string) => {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
      fs.writeFileSync(path.join(dir, file), content)
    }
    put('a/dist/index.3f2a1b9c.js', 'console.log("built at one")\n')
    put('b/dist/index.77aa0b12.js', 'console.log("built at two")\n')
    put('a/share/x.txt', 'same bytes\n')
    put('b/doc/x.txt', 'same bytes\n')
    put('b/doc/more.txt', 'more\n')
    // A temporary directory's random name: the same tree below it.
    put('a/tmp.Xy12Ab/conf/a.cfg', 'one\n')
    put('b/tmp.Qw98Zz/conf/a.cfg', 'two\n')
    put('a/tmp.Xy12Ab/conf/same.cfg', 'kept\n')
    put('b/tmp.Qw98Zz/conf/same.cfg', 'kept\n')
    // Two packages of one layout, no file alike: not one renamed.
    put('a/pkgs/left-pad/index.js', 'module.exports = leftPad\n')
    put('b/pkgs/right-pad/index.js', 'module.exports = rightPad\n')
    const { code, report } = await diff(path.join(dir, 'a'), path.join(dir, 'b'))
    expect(code).toBe(1)
    const renamed = (report?.items ?? []).flatMap((i) =>
      (i.fields ?? []).filter((f) => f.field === 'renamed').map((f) => [i.path, f.b, i.message]),
    )
    expect(renamed).toEqual([
      ['dist/index.3f2a1b9c.js', 'dist/index.77aa0b12.js', undefined],
      ['share/x.txt', 'doc/x.txt', 'content identical'],
      ['tmp.Xy12Ab', 'tmp.Qw98Zz', 'content identical'],
      ['tmp.Xy12Ab/conf', 'tmp.Qw98Zz/conf', 'content identical'],
      ['tmp.Xy12Ab/conf/a.cfg', 'tmp.Qw98Zz/conf/a.cfg', undefined],
      ['tmp.Xy12Ab/conf/same.cfg', 'tmp.Qw98Zz/conf/same.cfg', 'content identical'],
    ])
    const bundle = report?.items.find(
      (i) => i.path === 'dist/index.3f2a1b9c.js' && i.kind === 'content',
    )
    expect(bundle?.text?.unified).toContain('+console.log("built at two")')
    const config = report?.items.find(
      (i) => i.path === 'tmp.Xy12Ab/conf/a.cfg' && i.kind === 'content',
    )
    expect(config?.text?.unified).toContain('-one\n+two')
    // doc/ holds more than share/ did: they stay one-sided, as does what only B has.
    expect(paths(report, 'only-in-a')).toEqual(['pkgs/left-pad', 'pkgs/left-pad/index.js', 'share'])
    expect(paths(report, 'only-in-b')).toEqual([
      'doc',
      'doc/more.txt',
      'pkgs/right-pad',
      'pkgs/right-pad/index.js',
    ])
  })

  it('reads a .deb whose data.tar.xz takes many reads, with both sides decompressed at once', async () => {
    // The xz decoder holds one lock for every xz stream until its stream ends or is
    // cancelled: a reader that stopped early once kept it, and the diff hung.
    const dir = makeTemp()
    sh(
      dir,
      [
        'for s in a b; do mkdir -p p$s/DEBIAN p$s/usr/share/x',
        "printf 'Package: t\\nVersion: 1\\nArchitecture: all\\nMaintainer: t <t@example.org>\\nDescription: t\\n' > p$s/DEBIAN/control",
        'for i in $(seq 1 200); do head -c 3000 /dev/urandom | base64 > p$s/usr/share/x/f$i.txt; done',
        'echo $s > p$s/usr/share/x/which.txt',
        'dpkg-deb --root-owner-group -Zxz -b p$s $s.deb > /dev/null; done',
      ].join('; '),
    )
    const { code, report } = await diff(path.join(dir, 'a.deb'), path.join(dir, 'b.deb'))
    expect(code).toBe(1)
    const which = report?.items.find(
      (i) => i.path === 'a.deb!data.tar.xz!./usr/share/x/which.txt' && i.kind === 'content',
    )
    expect(which?.text?.unified).toContain('-a\n+b')
  })

  it("compares what only a zip member's local header holds: its extra fields and time", async () => {
    const dir = makeTemp()
    // The same file zipped twice; only its access time (in the local 0x5455 field) moved.
    sh(
      dir,
      'mkdir z && echo content > z/f && touch -d @1700000000 z/f && (cd z && zip -q ../a.zip f) && touch -a -d @1710000000 z/f && touch -m -d @1700000000 z/f && (cd z && zip -q ../b.zip f)',
    )
    const { code, report } = await diff(path.join(dir, 'a.zip'), path.join(dir, 'b.zip'))
    expect(code).toBe(1)
    const member = report?.items.find((i) => i.path === 'a.zip!f')
    expect(member?.fields?.map((f) => f.field)).toEqual(['local extra fields'])
    expect(member?.hints.map((h) => h.cause)).toEqual(['timestamp'])
    expect(report?.items.flatMap((i) => i.hints.map((h) => h.cause))).not.toContain('compression')
  })

  it('reads every frame of a zstd stream, not only the first', async () => {
    const dir = makeTemp()
    // Two frames each (as `zstd -c x y` writes): only the second frame's content differs.
    sh(
      dir,
      'echo first | zstd -q > x.zst && echo second | zstd -q > y.zst && echo SECOND | zstd -q > z.zst && cat x.zst y.zst > a.zst && cat x.zst z.zst > b.zst',
    )
    const { code, report } = await diff(path.join(dir, 'a.zst'), path.join(dir, 'b.zst'))
    expect(code).toBe(1)
    expect(report?.items[0]?.text?.unified).toContain('+SECOND')
    expect(report?.items[0]?.hints.map((h) => h.cause)).not.toContain('compression')
  })

  it("names no build path for a line both sides hold alike, that names one side's directory", async () => {
    const dir = makeTemp()
    const [a, b] = [path.join(dir, 'out-a'), path.join(dir, 'out-b')]
    for (const [side, value] of [
      [a, 1],
      [b, 2],
    ] as const) {
      fs.mkdirSync(side)
      fs.writeFileSync(path.join(side, 'f.txt'), `docs are in ${a}/docs\nvalue=${value}\n`)
    }
    const { code, report } = await diff(a, b)
    expect(code).toBe(1)
    const causes = (report?.items ?? []).flatMap((i) => i.hints.map((h) => h.cause))
    expect(causes).not.toContain('build-path')
    expect(causes).toContain('unexplained')
  })

  it("reads past a gzip's first header that differs: a later member's header is named too", async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import struct, zlib
def member(data, mtime, name=None):
    head = b'\\x1f\\x8b\\x08' + bytes([8 if name else 0]) + struct.pack('<I', mtime) + b'\\0\\x03' + ((name + b'\\0') if name else b'')
    c = zlib.compressobj(9, 8, -15)
    return head + c.compress(data) + c.flush() + struct.pack('<II', zlib.crc32(data), len(data))
open('a.gz', 'wb').write(member(b'one\\n', 1000) + member(b'two\\n', 5, b'aaa'))
open('b.gz', 'wb').write(member(b'one\\n', 2000) + member(b'two\\n', 5, b'bbb'))
PY`,
    )
    const { code, report } = await diff(path.join(dir, 'a.gz'), path.join(dir, 'b.gz'))
    expect(code).toBe(1)
    const fields = (report?.items ?? []).flatMap((i) => (i.fields ?? []).map((f) => f.field))
    expect(fields).toEqual(['mtime', 'name 2'])
  })

  it('calls a PAX record a time only when it is one, and shows a text cut mid-character as bytes', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 -c "
import io, tarfile
for path, value in [('a.tar', 'low'), ('b.tar', 'high')]:
    with tarfile.open(path, 'w', format=tarfile.PAX_FORMAT) as t:
        info = tarfile.TarInfo('f'); info.size = 1; info.pax_headers = {'SCHILY.xattr.user.runtime': value}
        t.addfile(info, io.BytesIO(b'x'))
" && printf 'hello\\n\\342\\202' > u_a && printf 'hello\\n\\342\\203' > u_b`,
    )
    const pax = await diff(path.join(dir, 'a.tar'), path.join(dir, 'b.tar'))
    expect(pax.code).toBe(1)
    const causes = (pax.report?.items ?? []).flatMap((i) => i.hints.map((h) => h.cause))
    expect(causes).not.toContain('timestamp')
    const cut = await diff(path.join(dir, 'u_a'), path.join(dir, 'u_b'))
    expect(cut.code).toBe(1)
    const item = cut.report?.items[0]
    expect(item?.text).toBeUndefined()
    expect(item?.binary?.differingBytes).toBe(1)
  })

  it('compares a cpio hard link stored empty by the data it extracts to', async () => {
    // newc stores a link group's data once: `f` linked to `g` is stored empty, and was a
    // content difference with no cause against a plain `f` of the same bytes.
    const dir = makeTemp()
    sh(
      dir,
      `mkdir -p s1 s2 s3 && printf abc > s1/f && ln s1/f s1/g && printf abc > s2/f && printf abc > s2/g && printf abd > s3/f && printf abc > s3/g
for s in s1 s2 s3; do (cd $s && printf 'f\\ng\\n' | cpio -o -H newc --reproducible --quiet > ../$s.cpio); done`,
    )
    const same = await diff(path.join(dir, 's1.cpio'), path.join(dir, 's2.cpio'))
    expect(same.code).toBe(1)
    const kinds = (run: typeof same) =>
      (run.report?.items ?? []).filter((i) => i.path !== 's1.cpio').map((i) => [i.kind, i.path])
    expect(kinds(same)).toEqual([
      ['metadata', 's1.cpio!f'],
      ['metadata', 's1.cpio!g'],
    ])
    const other = await diff(path.join(dir, 's1.cpio'), path.join(dir, 's3.cpio'))
    expect(kinds(other)).toContainEqual(['content', 's1.cpio!f'])
    // odc stores each link's data with it, and an empty one extracts empty (GNU cpio):
    // compared by what is stored.
    sh(
      dir,
      `python3 - <<'PY'
def entry(name, data, ino, nlink):
    head = '070707%06o%06o%06o%06o%06o%06o%06o%011o%06o%011o' % (1, ino, 0o100644, 0, 0, nlink, 0, 0, len(name) + 1, len(data))
    return head.encode() + name.encode() + b'\\0' + data
trailer = entry('TRAILER!!!', b'', 0, 1)
open('o1.cpio', 'wb').write(entry('l', b'', 5, 2) + entry('h', b'hello', 5, 2) + trailer)
open('o2.cpio', 'wb').write(entry('l', b'hello', 6, 1) + entry('h', b'hello', 7, 1) + trailer)
PY`,
    )
    const odc = await diff(path.join(dir, 'o1.cpio'), path.join(dir, 'o2.cpio'))
    expect(odc.report?.items.map((i) => [i.kind, i.path])).toContainEqual(['content', 'o1.cpio!l'])
  })

  it('compares a member really named like a repeat (x#2) as a member of its own', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 -c "
import io, tarfile
def tar(path, members):
    with tarfile.open(path, 'w') as t:
        for name, data in members:
            info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
tar('a.tar', [('x', b'P'), ('x', b'Q')])
tar('b.tar', [('x', b'P'), ('x#2', b'R'), ('x', b'Q')])
"`,
    )
    const { code, report } = await diff(path.join(dir, 'a.tar'), path.join(dir, 'b.tar'))
    expect(code).toBe(1)
    // b.tar holds a member more than a.tar, the one really named x#2 (R): only in B (named
    // after b.tar), and
    // named apart from a.tar's second x, which is keyed x#2. Each x is compared with the
    // x of the same rank (P with P, Q with Q), not with a member that shares its key.
    const items = report?.items ?? []
    expect(items.filter((i) => i.path !== 'a.tar').map((i) => [i.kind, i.path, i.sizes])).toEqual([
      ['only-in-b', 'b.tar!x#2#2', [null, 1]],
    ])
    expect((report?.items ?? []).flatMap((i) => i.hints.map((h) => h.cause))).not.toContain(
      'ordering',
    )
  })

  it('names the skippable frames of a zstd stream that differ, and blames compression only when the data frames do', async () => {
    const dir = makeTemp()
    // A skippable frame (magic 0x184D2A50 to 5F, a size, a payload) after the data
    // frame, as a seekable stream's seek table is; the second pair also compresses the
    // same content at another level.
    sh(
      dir,
      `seq 1 20000 > c && zstd -q -3 c -o fast.zst && zstd -q -19 c -o slow.zst && python3 -c "
import struct
skip = lambda magic, payload: struct.pack('<II', magic, len(payload)) + payload
fast, slow = open('fast.zst', 'rb').read(), open('slow.zst', 'rb').read()
open('a.zst', 'wb').write(fast + skip(0x184D2A50, b'seek table one'))
open('b.zst', 'wb').write(fast + skip(0x184D2A50, b'seek table two'))
open('c.zst', 'wb').write(slow + skip(0x184D2A5E, b'\\x01other'))
half = open('fast.zst', 'rb').read()
open('d.zst', 'wb').write(half + skip(0x184D2A50, b'moved') + half)
open('e.zst', 'wb').write(half + half + skip(0x184D2A50, b'moved'))
"`,
    )
    const same = await diff(path.join(dir, 'a.zst'), path.join(dir, 'b.zst'))
    expect(same.code).toBe(1)
    expect(same.report?.items).toHaveLength(1)
    const frame = same.report?.items[0]
    expect(frame?.kind).toBe('metadata')
    expect(frame?.fields?.map((f) => f.field)).toEqual(['skippable frame 1'])
    expect(frame?.fields?.[0]?.a).toContain('starting "seek table one"')
    expect(frame?.fields?.[0]?.b).toContain('starting "seek table two"')
    expect(frame?.hints.map((h) => h.cause)).toEqual(['unexplained'])
    expect(frame?.hints[0]?.evidence).toContain('the data frames are identical')

    const other = await diff(path.join(dir, 'a.zst'), path.join(dir, 'c.zst'))
    expect(other.code).toBe(1)
    const items = other.report?.items ?? []
    expect(items.map((i) => i.kind)).toEqual(['metadata', 'content'])
    expect(items[0]?.fields?.[0]?.b).toContain('magic 0x184d2a5e')
    expect(items[0]?.fields?.[0]?.b).toContain('starting "\\x01other"')
    expect(items[1]?.hints.map((h) => h.cause)).toEqual(['compression'])

    // The same frames, the skippable one moved past a data frame: its place, no compressor.
    const moved = await diff(path.join(dir, 'd.zst'), path.join(dir, 'e.zst'))
    expect(moved.report?.items.map((i) => i.kind)).toEqual(['metadata'])
    const field = moved.report?.items[0]?.fields?.[0]
    expect(field?.a).toMatch(/\(after \d+ bytes of data frames\)/)
    expect(field?.a.replace(/\d+ bytes of data frames|at byte \d+/g, '')).toBe(
      field?.b.replace(/\d+ bytes of data frames|at byte \d+/g, ''),
    )
    expect(moved.report?.items[0]?.hints.map((h) => h.cause)).toEqual(['unexplained'])
  })

  it('compares device numbers, file types and hard links inside tar and cpio, not only modes and times', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import io, tarfile
def tar(name, entries):
    with tarfile.open(name, 'w', format=tarfile.GNU_FORMAT) as t:
        for info, data in entries:
            t.addfile(info, io.BytesIO(data) if data else None)
def dev(minor, kind=tarfile.CHRTYPE):
    i = tarfile.TarInfo('null'); i.type = kind; i.devmajor = 1; i.devminor = minor; return (i, None)
def reg(kind):
    i = tarfile.TarInfo('f'); i.type = kind; i.size = 2; return (i, b'hi')
tar('dev-a.tar', [dev(3)]); tar('dev-b.tar', [dev(5)])
tar('type-a.tar', [reg(tarfile.REGTYPE)]); tar('type-b.tar', [reg(tarfile.CONTTYPE)])
def newc(entries):
    out = b''
    for name, mode, data, ino, nlink, rdev in entries + [('TRAILER!!!', 0, b'', 0, 1, 0)]:
        fields = [ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev >> 8, rdev & 255, len(name) + 1, 0]
        head = ('070701' + ''.join('%08X' % f for f in fields) + name + '\\0').encode()
        out += head + b'\\0' * (-len(head) % 4) + data + b'\\0' * (-len(data) % 4)
    return out
open('node-a.cpio', 'wb').write(newc([('dev', 0o20644, b'', 1, 1, 0x103)]))
open('node-b.cpio', 'wb').write(newc([('dev', 0o10644, b'', 1, 1, 0)]))
# x and y one file (newc keeps the data with the last link), against an empty x and a y.
open('links-a.cpio', 'wb').write(newc([('x', 0o100644, b'', 7, 2, 0), ('y', 0o100644, b'secret', 7, 2, 0)]))
open('links-b.cpio', 'wb').write(newc([('x', 0o100644, b'', 7, 1, 0), ('y', 0o100644, b'secret', 8, 1, 0)]))
PY`,
    )
    const fields = async (name: string) => {
      const { code, report } = await diff(
        path.join(dir, `${name}-a.${name === 'node' || name === 'links' ? 'cpio' : 'tar'}`),
        path.join(dir, `${name}-b.${name === 'node' || name === 'links' ? 'cpio' : 'tar'}`),
      )
      expect(code, name).toBe(1)
      return report?.items.flatMap((i) =>
        (i.fields ?? []).map((f) => `${i.path.split('!')[1] ?? ''} ${f.field}: ${f.a} → ${f.b}`),
      )
    }
    expect(await fields('dev')).toEqual(['null device: 1,3 → 1,5'])
    expect(await fields('type')).toContain('f type: (absent) → contiguous-file')
    expect(await fields('node')).toEqual(
      expect.arrayContaining(['dev type: character-device → fifo', 'dev device: 1,3 → (absent)']),
    )
    expect(await fields('links')).toEqual([
      'x links: 2 → 1',
      'x hard links: 2 → (absent)',
      expect.stringMatching(/^x linked content: 6 bytes, sha256 [0-9a-f]{64} → \(absent\)$/),
      expect.stringMatching(/^y inode: \d+ → \d+$/),
      'y links: 2 → 1',
      'y hard link of: x → (absent)',
    ])
  })

  it('goes through Zstandard into a tar (.tar.zst, as a .deb of Ubuntu keeps its data)', async () => {
    const dir = twoTrees({ 'pkg/a.txt': 'one\n', 'pkg/b.txt': 'same\n' }, (b) => {
      fs.writeFileSync(path.join(b, 'pkg/a.txt'), 'two\n')
    })
    sh(
      dir,
      'for s in a b; do tar --sort=name --mtime=@0 -cf - -C $s pkg | zstd -q -19 -o $s.tar.zst; done',
    )
    const { code, report } = await diff(path.join(dir, 'a.tar.zst'), path.join(dir, 'b.tar.zst'))
    expect(code).toBe(1)
    const member = report?.items.find((i) => i.path === 'a.tar.zst!pkg/a.txt')
    expect(member?.format).toBe('text')
    expect(member?.text?.unified).toContain('+two')
    expect(report?.items.some((i) => i.path === 'a.tar.zst!pkg/b.txt')).toBe(false)
    // A Zstandard bomb stops at the ratio limit like any other.
    sh(dir, 'head -c 30000000 /dev/zero | zstd -q -19 -o zeros.zst && echo x | zstd -q -o x.zst')
    const bomb = await diff(
      path.join(dir, 'zeros.zst'),
      path.join(dir, 'x.zst'),
      '--max-ratio',
      '100',
    )
    expect(bomb.code).toBe(2)
    expect(bomb.stderr).toContain('decompresses to more than 100 times its compressed size')
    // A frame that is cut off is named as such, not called identical.
    fs.writeFileSync(
      path.join(dir, 'cut.zst'),
      fs.readFileSync(path.join(dir, 'b.tar.zst')).subarray(0, 40),
    )
    const cut = await diff(path.join(dir, 'a.tar.zst'), path.join(dir, 'cut.zst'))
    expect(cut.code).toBe(1)
    expect(cut.report?.items.some((i) => i.kind === 'error')).toBe(true)
  })

  it('reads cpio in its odc and old binary forms as well as newc, member by member', async () => {
    const dir = twoTrees({ 'x.txt': 'one\n', 'y.txt': 'same\n' }, (b) => {
      fs.writeFileSync(path.join(b, 'x.txt'), 'two\n')
      fs.chmodSync(path.join(b, 'y.txt'), 0o600)
    })
    for (const format of ['odc', 'bin']) {
      sh(
        dir,
        `for s in a b; do (cd $s && printf 'x.txt\\ny.txt\\n' | cpio -o -H ${format} 2>/dev/null > ../$s.${format}); done`,
      )
      const { code, report } = await diff(
        path.join(dir, `a.${format}`),
        path.join(dir, `b.${format}`),
      )
      expect(code).toBe(1)
      const item = (p: string) => report?.items.find((i) => i.path === `a.${format}!${p}`)
      const text = report?.items.find((i) => i.path === `a.${format}!x.txt` && i.kind === 'content')
      expect(text?.text?.unified).toContain('+two')
      expect(item('y.txt')?.fields?.find((f) => f.field === 'mode')?.b).toBe('0600')
      // Each side's inode numbers are the building file system's: named, with their cause.
      const inode = item('y.txt')?.fields?.find((f) => f.field === 'inode')
      expect(inode?.a).not.toBe(inode?.b)
      expect(item('y.txt')?.hints.map((h) => h.cause)).toContain('filesystem')
    }
  })

  it('holds differing members a batch at a time and still compares every one', async () => {
    const files = Object.fromEntries(
      Array.from({ length: 6 }, (_, i) => [`m${i}.txt`, `${'x'.repeat(500)} ${i}\n`]),
    )
    const dir = twoTrees(files, (b) => {
      for (let i = 0; i < 6; i++) fs.appendFileSync(path.join(b, `m${i}.txt`), 'changed\n')
    })
    // A zip: its members are read again for the comparison, batch by batch.
    sh(dir, 'for s in a b; do (cd $s && zip -qX ../$s.zip m*.txt); done')
    const changed = async (...flags: string[]) =>
      (await diff(path.join(dir, 'a.zip'), path.join(dir, 'b.zip'), ...flags)).report?.items
        .filter((i) => i.kind === 'content' && i.text !== undefined)
        .map((i) => i.path)
    // 1,100 bytes a pair against a cap of 1,200: one pair held at a time, six passes.
    expect(await changed('--max-member-bytes', '1200')).toEqual(await changed())
    expect(await changed('--max-member-bytes', '1200')).toHaveLength(6)
  })

  it('decompresses bzip2 to show a text difference', async () => {
    const dir = twoTrees({ 'notes.txt': 'built at 2026-01-02T03:04:05Z\n' }, (b) => {
      fs.writeFileSync(path.join(b, 'notes.txt'), 'built at 2026-05-06T07:08:09Z\n')
    })
    sh(dir, 'bzip2 -k a/notes.txt b/notes.txt')
    const { report } = await diff(
      path.join(dir, 'a/notes.txt.bz2'),
      path.join(dir, 'b/notes.txt.bz2'),
    )
    const item = report?.items.find((i) => i.kind === 'content')
    expect(item?.format).toBe('text.bz2')
    expect(item?.hints[0]?.cause).toBe('timestamp')
  })

  it('names member names that climb out, without following them', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 -c "
import tarfile, io
for name, body in (('a.tar', b'1'), ('b.tar', b'2')):
    with tarfile.open(name, 'w') as t:
        for member in ('../evil', '/abs/path', 'ok'):
            info = tarfile.TarInfo(member); info.size = 1
            t.addfile(info, io.BytesIO(body))
"`,
    )
    const { report } = await diff(path.join(dir, 'a.tar'), path.join(dir, 'b.tar'))
    expect(report?.warnings.join('\n')).toContain('climbs out with "..": ../evil')
    expect(report?.warnings.join('\n')).toContain('absolute: /abs/path')
    expect(fs.readdirSync(dir).sort()).toEqual(['a.tar', 'b.tar'])
  })

  it('stops a zip bomb at the ratio limit, naming the flag, exit 2', async () => {
    const dir = makeTemp()
    sh(
      dir,
      'head -c 50000000 /dev/zero > zeros && zip -q a.zip zeros && echo x > zeros2 && cp a.zip b.zip && zip -q b.zip zeros2',
    )
    const { code, stderr, stdout } = await diff(
      path.join(dir, 'a.zip'),
      path.join(dir, 'b.zip'),
      '--max-ratio',
      '100',
    )
    expect(code).toBe(2)
    // No report, only the error, as JSON.
    expect(Object.keys(JSON.parse(stdout) as object)).toEqual(['error'])
    expect(JSON.parse(stdout)).toMatchObject({
      error: { code: 'E_INPUT', exit: 2, limit: '--max-ratio' },
    })
    expect(stderr).toMatch(
      /^reproof: .*a\.zip!zeros: declares a size of more than 100 times its compressed size$/m,
    )
  })

  it('reads a small xz stream with a BCJ filter through the xz program, and names what to install without it', async () => {
    const dir = makeTemp()
    sh(dir, 'seq 1 5000 | xz --x86 --lzma2 -c > a.xz && seq 1 5001 | xz --x86 --lzma2 -c > b.xz')
    const { code, report } = await diff(path.join(dir, 'a.xz'), path.join(dir, 'b.xz'))
    expect(code).toBe(1)
    expect(report?.items[0]?.text?.unified).toContain('+5001')
    // Without the program, the embedded decoder cannot read the filter: said, with the fix.
    const saved = process.env.PATH
    process.env.PATH = makeTemp()
    try {
      const without = await runCli([
        'diff',
        '--json',
        path.join(dir, 'a.xz'),
        path.join(dir, 'b.xz'),
      ])
      expect(without.code).toBe(1)
      expect((JSON.parse(without.stdout) as DiffReport).items[0]?.message).toMatch(
        /corrupt xz data, or xz the embedded decoder cannot read \(.*a BCJ or delta filter\): install xz-utils/,
      )
    } finally {
      process.env.PATH = saved
    }
  })

  it('says an xz stream whose dictionary is over what it decodes is that, not corrupt', async () => {
    const dir = makeTemp()
    sh(
      dir,
      'echo hello | xz -c --lzma2=dict=128MiB > a.xz && echo bye | xz -c --lzma2=dict=128MiB > b.xz',
    )
    const { code, report } = await diff(path.join(dir, 'a.xz'), path.join(dir, 'b.xz'))
    expect(code).toBe(1)
    expect(report?.items.map((i) => [i.kind, i.message])).toContainEqual([
      'error',
      `${path.join(dir, 'a.xz')}: its xz dictionary of 128 MiB is more than the 64 MiB reproof decodes (xz's largest preset, -9e, needs 64 MiB); not compared`,
    ])
  })

  it('stops at the entry and depth limits', async () => {
    const files = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, `${i}`]))
    const dir = twoTrees(files, (b) => {
      fs.writeFileSync(path.join(b, 'f0'), 'changed')
    })
    sh(dir, 'tar -cf a.tar -C a . && tar -cf b.tar -C b .')
    const entries = await diff(
      path.join(dir, 'a.tar'),
      path.join(dir, 'b.tar'),
      '--max-entries',
      '10',
    )
    expect(entries.code).toBe(2)
    expect(entries.stderr).toContain('--max-entries')
    // Each entry counted once, though the differing member is read in a second pass: 21
    // entries a side (20 files and ./) pass at 42 and stop at 41.
    const at = (n: number) =>
      diff(path.join(dir, 'a.tar'), path.join(dir, 'b.tar'), '--max-entries', String(n))
    expect((await at(42)).code).toBe(1)
    expect((await at(41)).code).toBe(2)
    sh(
      dir,
      'cp a.tar a.n; cp b.tar b.n; for i in 1 2 3 4 5; do gzip -c a.n > a.m; mv a.m a.n; gzip -c b.n > b.m; mv b.m b.n; done',
    )
    const depth = await diff(path.join(dir, 'a.n'), path.join(dir, 'b.n'), '--max-depth', '3')
    expect(depth.code).toBe(2)
    expect(depth.stderr).toContain('--max-depth')
    const deepOk = await diff(path.join(dir, 'a.n'), path.join(dir, 'b.n'))
    expect(paths(deepOk.report, 'content')).toContain('a.n!./f0')
  })

  it('reports a truncated archive as a difference, without crashing', async () => {
    const dir = twoTrees({ 'pkg/x': 'x'.repeat(5000) })
    sh(dir, 'tar -czf a.tgz -C a pkg && head -c 100 a.tgz > b.tgz')
    const { code, report } = await diff(path.join(dir, 'a.tgz'), path.join(dir, 'b.tgz'))
    expect(code).toBe(1)
    expect(report?.items.some((i) => i.kind === 'error' || i.kind === 'content')).toBe(true)
  })

  it('compares zip and ar members by the bytes of their names, and goes on past a name that climbs out', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import zipfile
def zipped(name, members):
    with zipfile.ZipFile(name, 'w') as z:
        for n, data in members:
            z.writestr(zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0)), data)
# Other names that decoding made one: a backslash and a slash, two bytes that are not UTF-8.
zipped('a.zip', [('d/x', b'one'), ('d\\\\x', b'two'), ('../evil', b'e'), ('ok.txt', b'one')])
zipped('b.zip', [('d/x', b'two'), ('d\\\\x', b'one'), ('../evil', b'e'), ('ok.txt', b'two')])
def ar(name, members):
    out = b'!<arch>\\n'
    for n, data in members:
        out += b'#1/%d' % len(n) + b' ' * (16 - len(b'#1/%d' % len(n))) + b'0           0     0     644     ' + b'%-10d' % (len(n) + len(data)) + b'\`\\n' + n + data
        if len(out) % 2: out += b'\\n'
    open(name, 'wb').write(out)
ar('a.a', [(b'\\xff.o', b'one'), (b'\\xfe.o', b'two')])
ar('b.a', [(b'\\xff.o', b'two'), (b'\\xfe.o', b'one')])
PY`,
    )
    const zip = await diff(path.join(dir, 'a.zip'), path.join(dir, 'b.zip'))
    expect(zip.code).toBe(1)
    expect(paths(zip.report, 'content').filter((p) => p.includes('!'))).toEqual([
      'a.zip!d/x',
      'a.zip!d\\x',
      'a.zip!ok.txt',
    ])
    expect(zip.report?.warnings.join('\n')).toMatch(/climbs out with "\.\.": \.\.\/evil/)
    const ar = await diff(path.join(dir, 'a.a'), path.join(dir, 'b.a'))
    expect(ar.code).toBe(1)
    expect(paths(ar.report, 'content').filter((p) => p.includes('!'))).toHaveLength(2)
  })

  it('compares a zip link target as bytes, and the data a zip directory entry carries', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import zipfile
for side, target, data in (('a', b'caf\\xe9', b'five!'), ('b', b'caf\\xe8', b'forty-three bytes of data in a directory...')):
    with zipfile.ZipFile(side + '.zip', 'w') as z:
        link = zipfile.ZipInfo('link', date_time=(2020, 1, 1, 0, 0, 0))
        link.create_system = 3
        link.external_attr = 0o120777 << 16
        z.writestr(link, target)
        z.writestr(zipfile.ZipInfo('foo/', date_time=(2020, 1, 1, 0, 0, 0)), data)
PY`,
    )
    const { code, report } = await diff(path.join(dir, 'a.zip'), path.join(dir, 'b.zip'))
    expect(code).toBe(1)
    const fields = (p: string) =>
      report?.items.find((i) => i.path === p)?.fields?.map((f) => f.field)
    expect(fields('a.zip!link')).toContain('link target')
    expect(fields('a.zip!foo/')).toContain('data')
    expect(report?.items.flatMap((i) => i.hints.map((h) => h.cause))).not.toContain('compression')
  })

  it('never says a zip member of a name two members share is the same, for either of them', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY' 2>/dev/null
import zipfile
text = b'a line of text that compresses well\\n' * 40
for side, first, year, level in (('d1', b'aaa', 2020, 9), ('d2', b'bbb', 2021, 1)):
    with zipfile.ZipFile(side + '.zip', 'w', compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo('x', date_time=(year, 1, 1, 0, 0, 0)), first)
        same = zipfile.ZipInfo('x', date_time=(2020, 1, 1, 0, 0, 0))
        same.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(same, text, compresslevel=level)
PY`,
    )
    const { code, report } = await diff(path.join(dir, 'd1.zip'), path.join(dir, 'd2.zip'))
    expect(code).toBe(1)
    expect(report?.items.some((i) => i.path === 'd1.zip!x' && i.kind === 'content')).toBe(true)
    expect(report?.items.filter((i) => i.message === 'content identical')).toEqual([])
  })

  it('reads the local headers and hidden bytes of a zip too large to hold, from its file', async () => {
    const dir = makeTemp()
    // Over 16 MiB on disk (random bytes do not compress): read in place, not in memory.
    sh(
      dir,
      `head -c 17000000 /dev/urandom > big.bin && echo a > a.txt && echo hidden > h.txt && zip -q -X plain.zip a.txt big.bin && zip -q -X h.zip h.txt && python3 - <<'PY'
import struct
def central_start(data):
    end = data.rfind(b'PK\x05\x06')
    return end, struct.unpack('<I', data[end + 16:end + 20])[0]
plain = open('plain.zip', 'rb').read()
end, start = central_start(plain)
local = open('h.zip', 'rb').read()[:central_start(open('h.zip', 'rb').read())[1]]
tail = plain[end:end + 16] + struct.pack('<I', start + len(local)) + plain[end + 20:]
open('hidden.zip', 'wb').write(plain[:start] + local + plain[start:end] + tail)
# The first local header's time, then its "version needed", neither in the central directory.
timed = bytearray(plain); timed[10] ^= 1
open('timed.zip', 'wb').write(timed)
needs = bytearray(plain); needs[4] += 1
open('needs.zip', 'wb').write(needs)
PY`,
    )
    expect(fs.statSync(path.join(dir, 'plain.zip')).size).toBeGreaterThan(16 * 1024 * 1024)
    const hidden = await diff(path.join(dir, 'plain.zip'), path.join(dir, 'hidden.zip'))
    expect(hidden.code).toBe(1)
    expect(hidden.report?.items[0]?.fields?.map((f) => [f.field, f.a])).toEqual([
      ['bytes no member owns', '(absent)'],
    ])
    const timed = await diff(path.join(dir, 'plain.zip'), path.join(dir, 'timed.zip'))
    expect(timed.report?.items.flatMap((i) => (i.fields ?? []).map((f) => f.field))).toEqual([
      'local mtime',
    ])
    expect(timed.report?.items.flatMap((i) => i.hints.map((h) => h.cause))).toEqual(['timestamp'])
    // A's local header agrees with its directory: its value is the directory's, never
    // "(absent)", which read as a header with no time.
    const [localTime] = timed.report?.items.flatMap((i) => i.fields ?? []) ?? []
    const central = (report: DiffReport | undefined) =>
      report?.items.flatMap((i) => i.fields ?? []).find((f) => f.field === 'version needed')
    expect(localTime?.a).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\d+\) \(DOS, no zone\)$/)
    expect(localTime?.b).toMatch(/\(DOS, no zone\)$/)
    expect(localTime?.a).not.toBe(localTime?.b)
    expect(central(timed.report)).toBeUndefined()
    // The version a streaming reader needs, from the local header: named, and no cause
    // (no compressor's doing).
    const needs = await diff(path.join(dir, 'plain.zip'), path.join(dir, 'needs.zip'))
    expect(needs.code).toBe(1)
    expect(needs.report?.items.flatMap((i) => (i.fields ?? []).map((f) => [f.field, f.a]))).toEqual(
      [['local version needed', expect.not.stringMatching(/absent/) as unknown]],
    )
    expect(needs.report?.items.flatMap((i) => i.hints)).toEqual([])
  })

  it('names a zip member recompressed at the same size, and a local header CRC-32 the directory does not hold', async () => {
    const dir = makeTemp()
    // The same content as two stored deflate blocks split at another place: the same
    // compressed size, other bytes; and m2's local header given another CRC-32.
    sh(
      dir,
      `python3 - <<'PY'
import struct, zlib
def stored(data, split):
    out = b''
    for i, p in enumerate([data[:split], data[split:]]):
        out += bytes([i]) + struct.pack('<HH', len(p), len(p) ^ 0xffff) + p
    return out
def zipbytes(members):
    body = b''; central = b''
    for name, content, comp in members:
        crc = zlib.crc32(content); off = len(body)
        body += struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, 8, 0, 0x21, crc, len(comp), len(content), len(name), 0) + name + comp
        central += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 0x031e, 20, 0, 8, 0, 0x21, crc, len(comp), len(content), len(name), 0, 0, 0, 0, 0o100644 << 16, off) + name
    return body + central + struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, len(members), len(members), len(central), len(body), 0)
data = b'hello reproducible world\\n' * 20
open('a.zip', 'wb').write(zipbytes([(b'm1.txt', data, stored(data, 3)), (b'm2.txt', data, stored(data, 3))]))
b = bytearray(zipbytes([(b'm1.txt', data, stored(data, 5)), (b'm2.txt', data, stored(data, 3))]))
struct.pack_into('<I', b, b.index(b'PK\\x03\\x04', 1) + 14, 0xdeadbeef)
open('b.zip', 'wb').write(b)
PY`,
    )
    const { code, report } = await diff(path.join(dir, 'a.zip'), path.join(dir, 'b.zip'))
    expect(code).toBe(1)
    const item = (name: string) => report?.items.find((i) => i.path === `a.zip!${name}`)
    expect(item('m2.txt')?.fields).toEqual([{ field: 'local crc32', a: '20f03a47', b: 'deadbeef' }])
    expect(item('m2.txt')?.hints.map((h) => h.cause)).not.toContain('compression')
    expect(item('m1.txt')?.fields?.map((f) => f.field)).toEqual(['compressed bytes'])
    expect(item('m1.txt')?.hints.map((h) => h.cause)).toEqual(['compression'])
    // The archive's own item names no cause.
    expect(report?.items.find((i) => i.path === 'a.zip')?.hints).toEqual([])
  })

  it('names the bytes of a zip member its central directory does not list, and a local header naming another, never compression', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `echo a > a.txt && echo c > c.txt && echo hidden > h.txt && zip -q -X plain.zip a.txt c.txt && zip -q -X h.zip h.txt && python3 - <<'PY'
import struct
def central_start(data):
    end = data.rfind(b'PK\\x05\\x06')
    return end, struct.unpack('<I', data[end + 16:end + 20])[0]
plain = open('plain.zip', 'rb').read()
end, start = central_start(plain)
# h.zip's local header and data, slipped in before plain.zip's central directory.
local = open('h.zip', 'rb').read()[:central_start(open('h.zip', 'rb').read())[1]]
tail = plain[end:end + 16] + struct.pack('<I', start + len(local)) + plain[end + 20:]
open('hidden.zip', 'wb').write(plain[:start] + local + plain[start:end] + tail)
PY
unzip -tq hidden.zip`,
    )
    const { code, report } = await diff(path.join(dir, 'plain.zip'), path.join(dir, 'hidden.zip'))
    expect(code).toBe(1)
    expect(report?.items.map((i) => i.path)).toEqual(['plain.zip'])
    const fields = report?.items[0]?.fields ?? []
    expect(fields.map((f) => [f.field, f.a])).toEqual([['bytes no member owns', '(absent)']])
    expect(fields[0]?.b).toMatch(/^\d+ \(sha256 [0-9a-f]{64}\)$/)
    expect(report?.items.flatMap((i) => i.hints.map((h) => h.cause))).not.toContain('compression')
    // As many hidden bytes, other ones; and a local header naming its member otherwise
    // than the central directory (a streaming reader extracts another file).
    sh(
      dir,
      `python3 - <<'PY'
data = open('hidden.zip', 'rb').read()
open('hidden2.zip', 'wb').write(data.replace(b'hidden\\n', b'HIDDEN\\n'))
plain = open('plain.zip', 'rb').read()
at = plain.index(b'PK\\x03\\x04')
open('renamed.zip', 'wb').write(plain[:at + 30] + b'x' + plain[at + 31:])
PY`,
    )
    const other = await diff(path.join(dir, 'hidden.zip'), path.join(dir, 'hidden2.zip'))
    expect(other.code).toBe(1)
    expect(other.report?.items[0]?.fields?.map((f) => f.field)).toEqual(['bytes no member owns'])
    expect(other.report?.items.flatMap((i) => i.hints.map((h) => h.cause))).not.toContain(
      'compression',
    )
    const renamed = await diff(path.join(dir, 'plain.zip'), path.join(dir, 'renamed.zip'))
    expect(renamed.report?.items.flatMap((i) => i.fields ?? [])).toContainEqual({
      field: 'local name',
      a: '(as in its central directory)',
      b: 'x.txt',
    })
    expect(renamed.report?.items.flatMap((i) => i.hints.map((h) => h.cause))).not.toContain(
      'compression',
    )
    // A jar's data descriptors are its members' own.
    sh(dir, 'jar cf one.jar a.txt && jar cf two.jar a.txt c.txt')
    const jars = await diff(path.join(dir, 'one.jar'), path.join(dir, 'two.jar'))
    expect(jars.report?.items.flatMap((i) => i.fields ?? []).map((f) => f.field)).not.toContain(
      'bytes no member owns',
    )
  })

  it('refuses a tree deeper than the system can open, exit 2, naming it', async () => {
    const dir = makeTemp()
    // Made one level at a time from the one above, as no path to the bottom can be opened.
    sh(
      dir,
      `python3 -c "
import os
for side in 'ab':
    os.makedirs(side); fd = os.open(side, os.O_RDONLY)
    for _ in range(2100):
        os.mkdir('dd', dir_fd=fd); below = os.open('dd', os.O_RDONLY, dir_fd=fd); os.close(fd); fd = below"`,
    )
    try {
      const run = await runCli(['diff', path.join(dir, 'a'), path.join(dir, 'b')])
      expect(run.code).toBe(2)
      expect(run.stderr).toMatch(
        /a path deeper than the system can open \(\d+ directories below .*\/a\); not compared/,
      )
      expect(run.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1)
    } finally {
      // GNU rm goes down by descriptor; a path-based removal cannot reach the bottom.
      sh(dir, 'rm -rf a b')
    }
  })

  it('refuses a file against a directory, and a missing input, with exit 2', async () => {
    const dir = twoTrees({ x: '1' })
    expect((await diff(path.join(dir, 'a/x'), path.join(dir, 'b'))).code).toBe(2)
    const missing = await diff(path.join(dir, 'nope'), path.join(dir, 'b'))
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^reproof: .*nope: no such file or directory$/m)
    // A FIFO is named as what it is, not taken for "one of each".
    sh(dir, 'mkfifo p1 p2')
    const fifos = await diff(path.join(dir, 'p1'), path.join(dir, 'p2'))
    expect(fifos.code).toBe(2)
    expect(fifos.stderr).toMatch(
      /p1: a FIFO, not a file or directory; give two files or two directories/,
    )
  })

  it('renders Markdown with a table and collapsible details, and an HTML page', async () => {
    const dir = twoTrees({ 'x.txt': 'a\n' }, (b) => {
      fs.writeFileSync(path.join(b, 'x.txt'), 'b\n')
    })
    const html = path.join(dir, 'report.html')
    const md = await runCli([
      'diff',
      path.join(dir, 'a'),
      path.join(dir, 'b'),
      '--markdown',
      '--html',
      html,
    ])
    expect(md.code).toBe(1)
    expect(md.stdout).toContain('| path | difference | likely cause |')
    expect(md.stdout).toContain('<details>')
    expect(md.stdout).toContain('```diff')
    const page = fs.readFileSync(html, 'utf8')
    expect(page).toMatch(/^<!doctype html>/)
    expect(page).not.toMatch(/<script|<link|src=|url\(/)
    expect(page).toContain('class="side"')
  })
})

describe('reproof build explains its differences', () => {
  it('puts the explanation under each difference in --json, with its cause', async () => {
    const source = makeTemp()
    fs.writeFileSync(
      path.join(source, 'build.sh'),
      'mkdir -p out; date +%s > out/stamp.txt; pwd > out/where.txt; echo same > out/same.txt\n',
    )
    const report = path.join(source, 'report.html')
    const run = await runCli([
      'build',
      '-C',
      source,
      '-o',
      'out',
      '--no-vary',
      'ordering',
      '--json',
      '--report',
      report,
      '--',
      'sh',
      'build.sh',
    ])
    expect(run.code).toBe(1)
    const result = JSON.parse(run.stdout) as {
      differences: { name: string; explanation: { hints: { cause: string }[] }[] }[]
    }
    const causes = Object.fromEntries(
      result.differences.map((d) => [
        d.name,
        d.explanation.flatMap((e) => e.hints.map((h) => h.cause)),
      ]),
    )
    expect(causes).toEqual({ 'out/stamp.txt': ['timestamp'], 'out/where.txt': ['build-path'] })
    expect(run.stderr).toContain('cause: build-path')
    expect(fs.readFileSync(report, 'utf8')).toContain('out/where.txt')
  })
})

describe('reproof diff of what it may not read', () => {
  it('refuses an --html report that would overwrite one of its inputs, writing nothing', async () => {
    const dir = makeTemp()
    fs.writeFileSync(path.join(dir, 'a'), 'one\n')
    fs.writeFileSync(path.join(dir, 'b'), 'two\n')
    const run = await runCli([
      'diff',
      '--html',
      path.join(dir, 'a'),
      path.join(dir, 'a'),
      path.join(dir, 'b'),
    ])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(
      /^reproof: --html .*: the same file as input A, which it would overwrite/,
    )
    expect(run.stdout).toBe('')
    expect(fs.readFileSync(path.join(dir, 'a'), 'utf8')).toBe('one\n')
  })

  // As another user: root reads everything. Needs setpriv, and root to switch users.
  const asNobody = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0
  it.runIf(asNobody)('names a file or directory it may not read, exit 2', async () => {
    // Directly in /tmp: the test's own temp directory is its user's alone.
    const dir = makeTemp('reproof-test-', '/tmp')
    fs.chmodSync(dir, 0o755)
    for (const side of ['a', 'b']) {
      fs.mkdirSync(path.join(dir, side, 'sub'), { recursive: true })
      fs.writeFileSync(path.join(dir, side, 'f'), side)
      fs.writeFileSync(path.join(dir, side, 'sub', 'g'), 'same')
    }
    // prettier-ignore
    const nobody = (args: string[]) => spawnProgram([
      'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args,
    ].map((arg) => (arg === 'a' || arg === 'b' ? path.join(dir, arg) : arg)))
    fs.chmodSync(path.join(dir, 'a', 'f'), 0o000)
    const file = await nobody(['diff', 'a', 'b'])
    expect(file.code).toBe(2)
    expect(file.stderr.trim()).toBe(`reproof: ${dir}/a/f: permission denied`)
    fs.chmodSync(path.join(dir, 'a', 'f'), 0o644)
    fs.chmodSync(path.join(dir, 'b', 'sub'), 0o000)
    const sub = await nobody(['diff', 'a', 'b'])
    expect(sub.code).toBe(2)
    expect(sub.stderr.trim()).toBe(`reproof: ${dir}/b/sub: permission denied`)
    fs.chmodSync(path.join(dir, 'b', 'sub'), 0o755)
    // normalize alike: an input it may not read is bad input, not an internal error.
    fs.chmodSync(path.join(dir, 'a', 'f'), 0o000)
    const normalize = await nobody(['normalize', '--epoch', '0', '-o', `${dir}/out`, `${dir}/a/f`])
    expect(normalize.code).toBe(2)
    expect(normalize.stderr.trim()).toBe(`reproof: ${dir}/a/f: permission denied`)
  })
})

describe('reproof diff of two build records', () => {
  async function recordBuild(
    script: string,
    keep: boolean,
    flags: string[] = [],
  ): Promise<{ record: string; kept: string | null }> {
    const source = makeTemp()
    fs.writeFileSync(path.join(source, 'build.sh'), script)
    const record = path.join(makeTemp(), 'record.json')
    const run = await runCli([
      'build',
      '-C',
      source,
      '-o',
      'out',
      '--record',
      record,
      '--json',
      '--no-vary',
      'time,file-times,ordering',
      ...(keep ? ['--keep'] : []),
      ...flags,
      '--',
      'sh',
      'build.sh',
    ])
    expect(run.code, run.stderr).toBe(0)
    return { record, kept: (JSON.parse(run.stdout) as { kept: string | null }).kept }
  }

  it('compares the artifacts of two builds, by content while their roots are kept', async () => {
    const first = await recordBuild(
      'mkdir -p out; echo "version 1" > out/app.txt; echo same > out/same.txt\n',
      true,
    )
    const second = await recordBuild(
      'mkdir -p out; echo "version 2" > out/app.txt; echo same > out/same.txt\n',
      true,
    )
    const { code, report } = await diff(first.record, second.record)
    expect(code).toBe(1)
    expect(paths(report, 'content')).toEqual(['out/app.txt'])
    expect(report?.items[0]?.text?.unified).toContain('-version 1\n+version 2')
    for (const kept of [first.kept, second.kept])
      fs.rmSync(kept ?? '', { recursive: true, force: true })
  })

  it('falls back to the recorded digests when the roots are gone', async () => {
    const first = await recordBuild('mkdir -p out; echo 1 > out/app.txt\n', false)
    const second = await recordBuild(
      'mkdir -p out; echo 2 > out/app.txt; echo new > out/extra.txt\n',
      false,
    )
    const { code, report } = await diff(first.record, second.record)
    expect(code).toBe(1)
    expect(report?.items.map((i) => [i.path, i.kind])).toEqual([
      ['out/app.txt', 'content'],
      ['out/extra.txt', 'only-in-b'],
    ])
    expect(report?.items[0]?.message).toContain('--keep')
    const same = await diff(first.record, first.record)
    expect(same.code).toBe(0)
  })

  it('compares what each build shipped: its artifacts as normalized with --normalize', async () => {
    // A tar stamped with a time of its own: normalized, its member's time is the epoch.
    const tar = (time: string) =>
      `mkdir -p out; echo hello > f; tar --mtime=@${time} --owner=0 --group=0 --numeric-owner -cf out/app.tar f\n`
    const raw = await recordBuild(tar('2000000000'), false, ['--epoch', '1700000000'])
    const normalized = await recordBuild(tar('2000000000'), false, [
      '--epoch',
      '1700000000',
      '--normalize',
    ])
    const otherEpoch = await recordBuild(tar('2000000000'), false, [
      '--epoch',
      '1000000000',
      '--normalize',
    ])
    // Each run stamps another time after the epoch (its build path is longer in run B),
    // which normalization clamps: only the normalized tars are the same in both runs.
    const stamped = await recordBuild(tar('$((2000000000 + ${#PWD}))'), true, [
      '--epoch',
      '1700000000',
      '--normalize',
    ])
    for (const [x, y] of [
      [raw, normalized],
      [normalized, otherEpoch],
    ] as const) {
      const { code, report } = await diff(x.record, y.record)
      expect(code).toBe(1)
      expect(report?.items.map((i) => [i.path, i.kind])).toEqual([['out/app.tar', 'content']])
    }
    const same = await diff(normalized.record, stamped.record)
    expect(same.code).toBe(0)
    // Its two runs shipped the same artifacts, though they wrote other raw bytes.
    expect(same.report?.warnings).toEqual([])
    fs.rmSync(stamped.kept ?? '', { recursive: true, force: true })
  })

  it('compares run A with run A whatever order a record lists its runs in, and refuses two of one name', async () => {
    const first = await recordBuild('mkdir -p out; echo 1 > out/app.txt\n', false)
    const second = await recordBuild('mkdir -p out; echo 1 > out/app.txt\n', false)
    // Edited: run B listed first, and run A's artifact another than it was.
    const json = JSON.parse(fs.readFileSync(second.record, 'utf8')) as {
      runs: { id: string; manifest: { sha256: string }[] }[]
    }
    const [runA, runB] = json.runs
    if (runA === undefined || runB === undefined) throw new Error('two runs expected')
    for (const entry of runA.manifest) entry.sha256 = 'f'.repeat(64)
    const reordered = path.join(path.dirname(second.record), 'reordered.json')
    fs.writeFileSync(reordered, JSON.stringify({ ...json, runs: [runB, runA] }))
    const { code, report } = await diff(first.record, reordered)
    expect(code).toBe(1)
    expect(report?.items.map((i) => [i.path, i.kind])).toEqual([['out/app.txt', 'content']])
    const twice = path.join(path.dirname(second.record), 'twice.json')
    fs.writeFileSync(twice, JSON.stringify({ ...json, runs: [runB, { ...runB }] }))
    const refused = await diff(first.record, twice)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('a build record has a run a and a run b')
    // An artifact named twice: one entry would be compared, the other never seen.
    const named = path.join(path.dirname(second.record), 'named.json')
    const doubled = {
      ...runA,
      manifest: [{ ...runA.manifest[0], sha256: '0'.repeat(64) }, ...runA.manifest],
    }
    fs.writeFileSync(named, JSON.stringify({ ...json, runs: [doubled, runB] }))
    const dup = await diff(first.record, named)
    expect(dup.code).toBe(2)
    expect(dup.stderr).toContain('a manifest names an artifact twice')
  })

  it('reports an artifact executable in one record only, as the build compares it', async () => {
    const tool = (mode: string) =>
      recordBuild(`mkdir -p out; printf '#!/bin/sh\\n' > out/tool; chmod ${mode} out/tool\n`, false)
    const plain = await tool('644')
    const executable = await tool('755')
    const { code, report } = await diff(plain.record, executable.record)
    expect(code).toBe(1)
    expect(report?.items.map((i) => [i.path, i.kind])).toEqual([['out/tool', 'metadata']])
    expect(report?.items[0]?.fields).toEqual([{ field: 'executable', a: 'false', b: 'true' }])
    expect(report?.items[0]?.hints.map((h) => h.cause)).toEqual(['permissions'])
  })

  it('reports what the records say differs when the kept roots no longer show it', async () => {
    const first = await recordBuild('mkdir -p out; echo 1 > out/app.txt\n', true)
    const second = await recordBuild('mkdir -p out; echo 2 > out/app.txt\n', true)
    const roots = [first.kept, second.kept].map((kept) => {
      const record = JSON.parse(
        fs.readFileSync(kept === first.kept ? first.record : second.record, 'utf8'),
      ) as { runs: { root: string }[] }
      return record.runs[0]?.root ?? ''
    })
    // Emptied since: the artifact is in neither root. Then the same bytes in both.
    for (const root of roots) fs.rmSync(path.join(root, 'out'), { recursive: true })
    const gone = await diff(first.record, second.record)
    expect(gone.code).toBe(1)
    expect(gone.report?.items.map((i) => [i.path, i.kind])).toEqual([['out/app.txt', 'content']])
    expect(gone.report?.items[0]?.message).toContain('the recorded digests differ')
    for (const root of roots) {
      fs.mkdirSync(path.join(root, 'out'))
      fs.writeFileSync(path.join(root, 'out/app.txt'), 'same\n')
    }
    const alike = await diff(first.record, second.record)
    expect(alike.code).toBe(1)
    expect(alike.report?.items.map((i) => i.path)).toEqual(['out/app.txt'])
    for (const kept of [first.kept, second.kept])
      fs.rmSync(kept ?? '', { recursive: true, force: true })
  })

  it('reads only what a record describes: a file in its root with the recorded digest, never a path it points elsewhere', async () => {
    const first = await recordBuild('mkdir -p out; echo 1 > out/app.txt\n', false)
    const second = await recordBuild('mkdir -p out; echo 2 > out/app.txt\n', false)
    const secret = makeTemp()
    fs.writeFileSync(path.join(secret, 'passwd'), 'root:secret-line\n')
    const other = makeTemp()
    fs.writeFileSync(path.join(other, 'passwd'), 'other\n')
    // Hostile records: roots and names that lead to files the build never made, the
    // digest of A's side the real file's (a public digest is enough to ask for it).
    const secretDigest = crypto.hash('sha256', 'root:secret-line\n')
    const hostile = (file: string, root: string, name: string, digit: string): string => {
      const record = JSON.parse(fs.readFileSync(file, 'utf8')) as {
        runs: { root: string; manifest: { name: string; sha256: string; size: number }[] }[]
      }
      for (const run of record.runs) {
        run.root = root
        run.manifest = [{ name, sha256: digit === '1' ? secretDigest : digit.repeat(64), size: 1 }]
      }
      const out = path.join(makeTemp(), 'record.json')
      fs.writeFileSync(out, JSON.stringify(record))
      return out
    }
    for (const [name, rootA, rootB] of [
      ['passwd', secret, other],
      ['../passwd', path.join(secret, 'sub'), path.join(other, 'sub')],
    ] as const) {
      for (const root of [rootA, rootB]) fs.mkdirSync(root, { recursive: true })
      const run = await runCli([
        'diff',
        hostile(first.record, rootA, name, '1'),
        hostile(second.record, rootB, name, '2'),
      ])
      expect(run.code, name).toBe(1)
      expect(run.stdout).not.toContain('secret-line')
      expect(run.stdout).toContain(
        'a record names build roots that are not laid out as reproof keeps them, so they are not read',
      )
    }
    // A root given relative to wherever reproof is run: not read either.
    const relative = await spawnProgram(
      [
        process.execPath,
        BIN,
        'diff',
        hostile(first.record, '.', 'passwd', '1'),
        hostile(second.record, '.', 'passwd', '2'),
      ],
      { cwd: secret },
    )
    expect(relative.code).toBe(1)
    expect(relative.stdout).not.toContain('secret-line')
  })

  it('says so when a record describes a build whose own two runs differ', async () => {
    const first = await recordBuild('mkdir -p out; echo 1 > out/app.txt\n', false)
    const record = JSON.parse(fs.readFileSync(first.record, 'utf8')) as {
      runs: { manifest: { sha256: string }[] }[]
    }
    const entry = record.runs[1]?.manifest[0]
    if (entry !== undefined) entry.sha256 = '0'.repeat(64)
    const edited = path.join(makeTemp(), 'record.json')
    fs.writeFileSync(edited, JSON.stringify(record))
    const { code, report } = await diff(first.record, edited)
    // Run A of each is the same: identical, but not without a word about run B.
    expect(code).toBe(0)
    expect(report?.warnings).toEqual([
      `${edited}: its run B made other artifacts than its run A (the build it records did not reproduce); only run A of each record is compared`,
    ])
    // What else a record holds is named as not compared, as what is said identical.
    expect(report?.notCompared.slice(0, 2)).toEqual([
      'run B of each record',
      "the records' other fields (command, source, environment, epoch)",
    ])
  })
})
