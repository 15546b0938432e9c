import { execFileSync, spawn, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import type { NormalizeOutcome } from '../../src/normalize/normalize-file.js'
import {
  BIN,
  cleanupTemp,
  makeTemp,
  runCli,
  spawnCli,
  toMozillaZip,
  withOwnTmpdir,
} from '../helpers.js'

afterEach(cleanupTemp)

// A mount namespace of one's own, where a bind mount needs no privilege.
const canBindMount =
  spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'true']).status === 0

const EPOCH = '1700000000'
const sh = (cwd: string, script: string): string =>
  execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd, encoding: 'utf8' })

/** Runs `reproof normalize` with file arguments (and -o) taken relative to `dir`. */
async function normalize(dir: string, args: string[]) {
  const resolved = args.map((a, i) =>
    a.startsWith('-') || args[i - 1] === '--mode' ? a : path.resolve(dir, a),
  )
  const run = await runCli(['normalize', '--json', '--epoch', EPOCH, ...resolved])
  const files =
    run.stdout === '' ? [] : (JSON.parse(run.stdout) as { files: NormalizeOutcome[] }).files
  return { ...run, files }
}

/** A small tree with an executable, a nested dir and a symlink, made at build time. */
function tree(dir: string, name: string): string {
  const root = path.join(dir, name)
  sh(
    dir,
    `mkdir -p ${name}/bin ${name}/lib/deep && echo 'int x;' > ${name}/lib/deep/x.c && printf '#!/bin/sh\\necho hi\\n' > ${name}/bin/run && chmod 775 ${name}/bin/run && chmod 664 ${name}/lib/deep/x.c && ln -s deep/x.c ${name}/lib/link && touch -d @1800000000 ${name}/bin/run`,
  )
  return root
}

/** A program's exit status when run with no arguments, or undefined when it is not there. */
function spawnSyncStatus(program: string): number | undefined {
  const run = spawnSync(program, [], { stdio: 'ignore' })
  return run.error === undefined ? (run.status ?? undefined) : undefined
}

describe('reproof normalize with real tools', () => {
  it('normalizes a zip of 130,000 members, more than a call takes as arguments', async () => {
    // Their offsets, given to Math.min as arguments, overflowed the stack (exit 3).
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import zipfile
with zipfile.ZipFile('big.zip', 'w') as z:
    for i in range(130000):
        z.writestr(zipfile.ZipInfo('f%d' % i, (2020, 1, 1, 0, 0, 0)), b'')
PY`,
    )
    const run = await normalize(dir, ['big.zip', '-o', 'out.zip'])
    expect([run.code, run.stderr]).toEqual([0, ''])
    expect(run.files[0]?.changed).toBe(true)
  })

  it('makes two tar.gz of the same tree, made differently, identical and still valid', async () => {
    const dir = makeTemp()
    tree(dir, 'pkg')
    sh(
      dir,
      'tar -czf one.tgz pkg && sleep 1 && touch pkg/lib/deep/x.c && find pkg | sort -r | tar --owner=7 --group=8 --no-recursion -T - -cf - | gzip --name > two.tgz',
    )
    const { code, files } = await normalize(dir, ['one.tgz', 'two.tgz', '--in-place'])
    expect(code).toBe(0)
    expect(files.map((f) => f.format)).toEqual(['tar.gz', 'tar.gz'])
    expect(
      fs.readFileSync(path.join(dir, 'one.tgz')).equals(fs.readFileSync(path.join(dir, 'two.tgz'))),
    ).toBe(true)
    sh(dir, 'gzip -t one.tgz')
    const listing = sh(dir, 'tar -tvzf one.tgz')
    expect(listing).not.toMatch(/ 7\/8 /)
    expect(
      listing
        .split('\n')
        .filter((l) => l !== '')
        .every((l) => l.includes(' 0/0 ')),
    ).toBe(true)
    expect(listing).toMatch(/^-rwxr-xr-x 0\/0 .* 2023-11-14 22:13 pkg\/bin\/run$/m)
    expect(listing).toMatch(/^lrwxrwxrwx 0\/0 .* pkg\/lib\/link -> deep\/x.c$/m)
    // The gzip header: mtime 0, no name, OS Unix.
    const header = fs.readFileSync(path.join(dir, 'one.tgz')).subarray(0, 10)
    expect(header.readUInt32LE(4)).toBe(0)
    expect(header[3]).toBe(0)
    expect(header[9]).toBe(3)
    // Content preserved: extract and compare with the tree.
    sh(dir, 'mkdir x && tar -xzf one.tgz -C x && diff -r pkg x/pkg')
  })

  it('writes a tar.gz of many MiB, of small and large members, that GNU tar extracts whole', async () => {
    // Several 1 MiB blocks on their way to the compressor, each lent and given back: a
    // block reused too soon would show as content that differs after extraction.
    const dir = makeTemp()
    const files = Array.from({ length: 400 }, (_, i) => [
      `big/d${i % 9}/f${i}.bin`,
      crypto.randomBytes(i % 50 === 0 ? 700_000 + i : 3_000 + i * 7),
    ])
    for (const [name, data] of files) {
      fs.mkdirSync(path.dirname(path.join(dir, String(name))), { recursive: true })
      fs.writeFileSync(path.join(dir, String(name)), data as Buffer)
    }
    sh(dir, 'tar -czf one.tgz big && tar --owner=3 -cf - big | gzip -1 > two.tgz')
    const { code } = await normalize(dir, ['one.tgz', 'two.tgz', '--in-place'])
    expect(code).toBe(0)
    expect(fs.statSync(path.join(dir, 'one.tgz')).size).toBeGreaterThan(6 * 1024 * 1024)
    expect(
      fs.readFileSync(path.join(dir, 'one.tgz')).equals(fs.readFileSync(path.join(dir, 'two.tgz'))),
    ).toBe(true)
    sh(dir, 'gzip -t one.tgz && mkdir x && tar -xzf one.tgz -C x && diff -r big x/big')
  })

  it('with --canonical, makes archives already normal but laid out by other writers identical', async () => {
    // The same members and metadata: GNU tar's default 10 KiB records against 1 KiB
    // ones, gzip -9 against -1. Each is already normal, and kept as its writer made it.
    const dir = makeTemp()
    sh(
      dir,
      'mkdir -p pkg/bin && printf "#!/bin/sh\\n" > pkg/bin/run && chmod 755 pkg/bin/run && echo x > pkg/x',
    )
    const tar =
      'tar --sort=name --mtime=@1700000000 --owner=0 --group=0 --numeric-owner --mode=go-w'
    sh(
      dir,
      `${tar} -cf a.tar pkg && ${tar} -b 2 -cf b.tar pkg && gzip -n -9 -c a.tar > a.tar.gz && gzip -n -1 -c b.tar > b.tar.gz`,
    )
    for (const [a, b] of [
      ['a.tar', 'b.tar'],
      ['a.tar.gz', 'b.tar.gz'],
    ] as const) {
      const kept = await normalize(dir, [a, b, '-o', makeTemp()])
      expect(
        kept.files.map((f) => f.changed),
        kept.stderr,
      ).toEqual([false, false])
      expect(kept.files[0]?.digests.after).not.toBe(kept.files[1]?.digests.after)
      const out = makeTemp()
      const run = await normalize(dir, [a, b, '-o', out, '--canonical'])
      expect(run.code, run.stderr).toBe(0)
      expect(JSON.parse(run.stdout)).toMatchObject({ mode: 'ship', canonical: true })
      expect(run.files[0]?.digests.after).toBe(run.files[1]?.digests.after)
      // Lossless still: GNU tar lists what the original holds.
      const listing = (file: string) => sh(dir, `tar -tvf ${file}`)
      expect(listing(path.join(out, a))).toBe(listing(path.join(dir, a)))
    }
  })

  it("keeps a Clojure namespace's source older than its compiled class, or Clojure compiles it again at each start", async () => {
    // RT.load takes __init.class only when it is strictly newer than the .clj or .cljc.
    // Both written after the epoch: set or clamped, both would get it.
    const dir = makeTemp()
    sh(
      dir,
      [
        'mkdir -p my && echo "(ns my.core)" > my/core.clj && echo "(ns my.util)" > my/util.cljc',
        'printf "\\xca\\xfe" > my/core__init.class && printf "\\xca\\xfe" > my/util__init.class',
        'touch -d @1800000000 my/*.clj my/*.cljc && touch -d @1800000300 my/*.class',
        'zip -q -X aot.jar my/core.clj my/util.cljc my/core__init.class my/util__init.class',
      ].join(' && '),
    )
    const times = (file: string): Record<string, string> =>
      JSON.parse(
        sh(
          dir,
          `python3 -c "import json, zipfile; print(json.dumps({i.filename: '%04d-%02d-%02d %02d:%02d:%02d' % i.date_time for i in zipfile.ZipFile('${file}').infolist()}))"`,
        ),
      ) as Record<string, string>
    // An odd epoch: a DOS time keeps even seconds, so one second less would be no older.
    for (const args of [[], ['--clamp-mtime']]) {
      const out = path.join(makeTemp(), 'aot.jar')
      const run = await runCli([
        'normalize',
        '--epoch',
        '1700000001',
        ...args,
        path.join(dir, 'aot.jar'),
        '-o',
        out,
      ])
      expect(run.code, run.stderr).toBe(0)
      const t = times(out)
      expect(t['my/core.clj']).toBe('2023-11-14 22:13:18')
      expect(t['my/util.cljc']).toBe('2023-11-14 22:13:18')
      expect(t['my/core__init.class']).toBe('2023-11-14 22:13:20')
      // Normalizing again changes nothing.
      const again = await runCli([
        'normalize',
        '--epoch',
        '1700000001',
        ...args,
        out,
        '--in-place',
        '--json',
      ])
      expect((JSON.parse(again.stdout) as { files: NormalizeOutcome[] }).files[0]?.changed).toBe(
        false,
      )
    }
  })

  it('leaves an already normal file untouched in place, and says so', async () => {
    const dir = makeTemp()
    tree(dir, 'pkg')
    sh(
      dir,
      'tar --sort=name --mtime=@1600000000 --owner=0 --group=0 --numeric-owner --mode=go-w -cf a.tar pkg',
    )
    await normalize(dir, ['a.tar', '--in-place'])
    const before = fs.statSync(path.join(dir, 'a.tar'))
    const { files } = await normalize(dir, ['a.tar', '--in-place'])
    expect(files[0]?.changed).toBe(false)
    expect(files[0]?.output).toBeNull()
    expect(fs.statSync(path.join(dir, 'a.tar')).mtimeMs).toBe(before.mtimeMs)
  })

  it('normalizes a zip for unzip and python, and a jar that still runs', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `mkdir -p app && cat > app/Main.java <<'JAVA'
public class Main { public static void main(String[] a) { System.out.println("normalized and running"); } }
JAVA
cd app && javac -d . Main.java && jar cfe ../app.jar Main Main.class && cd .. && zip -q -r other.zip app`,
    )
    const { code, files } = await normalize(dir, ['app.jar', 'other.zip', '--in-place'])
    expect(code).toBe(0)
    expect(files.map((f) => f.format)).toEqual(['jar', 'zip'])
    expect(sh(dir, 'java -jar app.jar').trim()).toBe('normalized and running')
    expect(sh(dir, 'jar tf app.jar').split('\n').slice(0, 2)).toEqual([
      'META-INF/',
      'META-INF/MANIFEST.MF',
    ])
    expect(sh(dir, 'unzip -t other.zip')).toContain('No errors detected')
    expect(
      sh(
        dir,
        `python3 -c "import zipfile; z = zipfile.ZipFile('other.zip'); print(z.testzip(), sorted({i.date_time for i in z.infolist()}))"`,
      ).trim(),
    ).toBe('None [(2023, 11, 14, 22, 13, 20)]')
  })

  it('keeps symbolic links a zip stores as links', async () => {
    const dir = makeTemp()
    tree(dir, 'pkg')
    sh(dir, 'zip -q -r -y links.zip pkg')
    const { files } = await normalize(dir, ['links.zip', '--in-place'])
    expect(files[0]?.changed).toBe(true)
    expect(sh(dir, 'zipinfo links.zip pkg/lib/link')).toMatch(/^lrwxrwxrwx /)
    sh(dir, 'mkdir x && cd x && unzip -q ../links.zip')
    expect(fs.readlinkSync(path.join(dir, 'x', 'pkg', 'lib', 'link'))).toBe('deep/x.c')
  })

  it('keeps a wheel’s RECORD sorted and consistent', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `mkdir -p w/demo w/demo-1.0.dist-info && echo 'x = 1' > w/demo/__init__.py && echo 'Wheel-Version: 1.0' > w/demo-1.0.dist-info/WHEEL
printf 'demo/__init__.py,sha256=abc,6\\ndemo-1.0.dist-info/WHEEL,sha256=def,19\\ndemo-1.0.dist-info/RECORD,,\\n' > w/demo-1.0.dist-info/RECORD
cd w && zip -q -r ../demo-1.0-py3-none-any.whl demo-1.0.dist-info demo`,
    )
    const { files } = await normalize(dir, ['demo-1.0-py3-none-any.whl', '--in-place'])
    expect(files[0]?.format).toBe('wheel')
    expect(files[0]?.changes).toContain('demo-1.0.dist-info/RECORD rewritten')
    const record = sh(dir, 'unzip -p demo-1.0-py3-none-any.whl demo-1.0.dist-info/RECORD')
    expect(record.trim().split('\n')).toEqual([
      'demo-1.0.dist-info/RECORD,,',
      'demo-1.0.dist-info/WHEEL,sha256=def,19',
      'demo/__init__.py,sha256=abc,6',
    ])
    expect(sh(dir, 'unzip -t demo-1.0-py3-none-any.whl')).toContain('No errors detected')
  })

  it('keeps the bytes of RECORD rows and manifest values that are not UTF-8', async () => {
    // Decoded as UTF-8 they came back as U+FFFD: a path changed, and "normalized".
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import zipfile
with zipfile.ZipFile('w.whl', 'w') as z:
    z.writestr('d-1.dist-info/RECORD', b'pkg/caf\\xe9.py,sha256=a,1\\nd-1.dist-info/RECORD,,\\n')
with zipfile.ZipFile('a.jar', 'w') as z:
    z.writestr('META-INF/MANIFEST.MF', b'Manifest-Version: 1.0\\r\\nBuilt-By: x\\r\\nX-Name: caf\\xe9\\r\\n\\r\\n')
PY`,
    )
    const run = await normalize(dir, ['w.whl', 'a.jar', '--drop-build-host', '--in-place'])
    expect(run.code, run.stderr).toBe(0)
    const bytes = (zip: string, member: string) =>
      execFileSync('unzip', ['-p', path.join(dir, zip), member])
    expect(bytes('w.whl', 'd-1.dist-info/RECORD')).toEqual(
      Buffer.from('d-1.dist-info/RECORD,,\npkg/caf\xe9.py,sha256=a,1\n', 'latin1'),
    )
    expect(bytes('a.jar', 'META-INF/MANIFEST.MF')).toEqual(
      Buffer.from('Manifest-Version: 1.0\r\nX-Name: caf\xe9\r\n\r\n', 'latin1'),
    )
  })

  it('sets ar headers as deterministic mode does, keeping members, order and exec bits', async () => {
    const dir = makeTemp()
    sh(
      dir,
      'echo one > b.o && echo two > a.o && chmod 644 a.o b.o && ar rcU lib.a b.o a.o && ar rcD ref.a b.o a.o',
    )
    const { files } = await normalize(dir, ['lib.a', '-o', 'out.a'])
    expect(files[0]?.format).toBe('ar')
    expect(
      fs.readFileSync(path.join(dir, 'out.a')).equals(fs.readFileSync(path.join(dir, 'ref.a'))),
    ).toBe(true)
    expect(sh(dir, 'ar p out.a a.o')).toBe('two\n')
    // GNU ar's deterministic mode writes 644 for every member; an exec bit is kept, as 755,
    // and said, so that `ar x` gives back an executable.
    sh(dir, 'chmod 775 a.o && ar rcU exec.a b.o a.o')
    const exec = await normalize(dir, ['exec.a', '-o', 'exec-out.a'])
    expect(exec.files[0]?.changes).toEqual([
      '2 of 2 member headers set to mtime 0, uid/gid 0, mode 644 (755 for the 1 with an exec bit, kept)',
    ])
    expect(sh(dir, 'ar tv exec-out.a').split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^rw-r--r-- 0\/0 +4 .* b\.o$/) as unknown,
      expect.stringMatching(/^rwxr-xr-x 0\/0 +4 .* a\.o$/) as unknown,
    ])
    // With a long-name table (GNU ar leaves its time, owner and mode blank) and a symbol
    // table: what deterministic mode writes is left as it is, byte for byte.
    sh(
      dir,
      "echo 'int a;' > a.c && gcc -c a.c -o a_name_longer_than_sixteen.o && ar rcU long.a a_name_longer_than_sixteen.o b.o && ar rcD longref.a a_name_longer_than_sixteen.o b.o && mkdir long.out",
    )
    const long = await normalize(dir, ['long.a', 'longref.a', '-o', 'long.out'])
    expect(long.code, long.stderr).toBe(0)
    expect(long.files[1]?.changed).toBe(false)
    expect(
      fs
        .readFileSync(path.join(dir, 'long.out/long.a'))
        .equals(fs.readFileSync(path.join(dir, 'longref.a'))),
    ).toBe(true)
  })

  it('names a member whose set-id bits it drops by its real name, GNU long or BSD', async () => {
    // GNU ar keeps a long name in its `//` table (`/0` in the header), BSD ar before the
    // data (`#1/3`): the report said `/0` and `#1/3`, which name nothing a reader sees.
    const dir = makeTemp()
    sh(
      dir,
      `echo s > a_setuid_member_with_a_long_name.o && chmod 4755 a_setuid_member_with_a_long_name.o && ar rcU gnu.a a_setuid_member_with_a_long_name.o
       echo t > t.o && chmod 4755 t.o && ar rcU short.a t.o
       python3 -c "
body = b's.oss\\n'
header = b'#1/3'.ljust(16) + b'0'.ljust(12) + b'0'.ljust(6) + b'0'.ljust(6) + b'104755'.ljust(8) + str(len(body)).encode().ljust(10) + b'\\x60\\n'
open('bsd.a', 'wb').write(b'!<arch>\\n' + header + body)"
       mkdir out`,
    )
    const run = await normalize(dir, ['gnu.a', 'bsd.a', 'short.a', '-o', 'out'])
    expect(run.code, run.stderr).toBe(0)
    // A short GNU name without the slash that ends it in the header, as `ar t` lists it.
    for (const [i, member] of [
      [0, 'a_setuid_member_with_a_long_name.o'],
      [1, 's.o'],
      [2, 't.o'],
    ] as const)
      expect(run.files[i]?.changes).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `bits removed \\(the stable modes have none\\): ${member.replace('.', '\\.')} \\(4755\\)`,
          ),
        ),
      )
  })

  it('reports unknown formats and leaves them alone', async () => {
    const dir = makeTemp()
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'just text\n')
    const { code, files, stdout } = await normalize(dir, ['notes.txt', '--in-place'])
    expect(code).toBe(0)
    expect(files[0]).toMatchObject({ format: 'unknown', changed: false, output: null })
    expect(stdout).toContain('"format": "unknown"')
  })

  it('refuses corrupt archives with exit 2, leaving no output and no temp file', async () => {
    const dir = makeTemp()
    tree(dir, 'pkg')
    sh(
      dir,
      'tar -czf good.tgz pkg && head -c 150 good.tgz > cut.tgz && (cd pkg && zip -q -r ../good.zip .) && head -c 200 good.zip > cut.zip',
    )
    for (const file of ['cut.tgz', 'cut.zip']) {
      const before = fs.readdirSync(dir).sort()
      const run = await runCli([
        'normalize',
        '--epoch',
        EPOCH,
        path.join(dir, file),
        '-o',
        path.join(dir, `${file}.out`),
      ])
      expect(run.code, file).toBe(2)
      expect(run.stderr.trim().split('\n')[0]).toMatch(
        new RegExp(`^reproof: .*${file.replace('.', '\\.')}`),
      )
      expect(fs.readdirSync(dir).sort()).toEqual(before)
    }
  })

  it('refuses a Mozilla-optimized zip (central directory first), whose layout it would not keep, writing nothing', async () => {
    const dir = makeTemp()
    tree(dir, 'pkg')
    sh(dir, '(cd pkg && zip -q -X -r ../good.zip .)')
    fs.writeFileSync(
      path.join(dir, 'omni.ja'),
      toMozillaZip(fs.readFileSync(path.join(dir, 'good.zip'))),
    )
    const before = fs.readdirSync(dir).sort()
    const run = await runCli([
      'normalize',
      path.join(dir, 'omni.ja'),
      '-o',
      path.join(dir, 'out.ja'),
    ])
    expect(run.code).toBe(2)
    expect(run.stderr.trim()).toMatch(
      /^reproof: .*omni\.ja: a Mozilla-optimized zip .*does not rewrite this layout$/,
    )
    expect(fs.readdirSync(dir).sort()).toEqual(before)
  })

  it('knows an old (v7) tar, which has no magic, by its header checksum, alone and inside gzip', async () => {
    const dir = makeTemp()
    tree(dir, 'pkg')
    sh(
      dir,
      'tar --format=v7 -cf v7.tar pkg && gzip -c v7.tar > v7.tgz && touch -d @1600000000 pkg/lib/deep/x.c',
    )
    sh(dir, 'tar --format=v7 -cf later.tar pkg')
    const run = await normalize(dir, ['v7.tar', 'later.tar', 'v7.tgz', '--in-place'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.files.map((f) => f.format)).toEqual(['tar', 'tar', 'tar.gz'])
    expect(
      fs
        .readFileSync(path.join(dir, 'v7.tar'))
        .equals(fs.readFileSync(path.join(dir, 'later.tar'))),
    ).toBe(true)
    expect(sh(dir, 'tar -tvzf v7.tgz')).toMatch(
      /^-rw-r--r-- .* 2023-11-14 22:13 pkg\/lib\/deep\/x\.c$/m,
    )
  })

  it('refuses a cut, corrupt or padded-with-junk tar with exit 2 and the offset, writing nothing', async () => {
    const dir = makeTemp()
    tree(dir, 'pkg')
    sh(
      dir,
      [
        'tar -cf good.tar pkg && cp good.tar keep.tar',
        'head -c 700 good.tar > cut.tar',
        'head -c 1700 good.tar | gzip -n > cut-in-gzip.tgz',
        'cp good.tar corrupt.tar && printf X | dd of=corrupt.tar bs=1 seek=520 conv=notrunc 2>/dev/null',
        'cp good.tar junk.tar && printf JUNKJUNK >> junk.tar',
      ].join(' && '),
    )
    const expected: Record<string, RegExp> = {
      'cut.tar': /cut\.tar: not a readable tar \(truncated: .* at byte 512/,
      'cut-in-gzip.tgz': /cut-in-gzip\.tgz: not a readable tar \(truncated: .* at byte 1536/,
      'corrupt.tar': /corrupt\.tar: not a readable tar \(corrupt header at byte 512/,
      'junk.tar':
        /junk\.tar: not a readable tar \(data after the end of the archive, at byte \d+\)/,
    }
    const own = await withOwnTmpdir(async () => {
      for (const [file, message] of Object.entries(expected)) {
        const before = fs.readdirSync(dir).sort()
        const run = await runCli([
          'normalize',
          '--epoch',
          EPOCH,
          path.join(dir, file),
          '-o',
          path.join(dir, `${file}.out`),
        ])
        expect(run.code, file).toBe(2)
        expect(run.stderr.trim().split('\n')).toHaveLength(1)
        expect(run.stderr).toMatch(message)
        expect(fs.readdirSync(dir).sort()).toEqual(before)
      }
      // In place, a good archive before a bad one: neither is touched, nothing is left.
      const listed = fs.readdirSync(dir).sort()
      const run = await runCli([
        'normalize',
        '--epoch',
        EPOCH,
        '--in-place',
        path.join(dir, 'keep.tar'),
        path.join(dir, 'junk.tar'),
      ])
      expect(run.code).toBe(2)
      expect(
        fs
          .readFileSync(path.join(dir, 'keep.tar'))
          .equals(fs.readFileSync(path.join(dir, 'good.tar'))),
      ).toBe(true)
      expect(fs.readdirSync(dir).sort()).toEqual(listed)
    })
    // Nothing left in the temp directory the runs used.
    expect(fs.readdirSync(own)).toEqual([])
  })

  it('reads a gzip or zip body whole before copying it: corrupt, cut or junk-padded is exit 2', async () => {
    const dir = makeTemp()
    sh(
      dir,
      [
        'head -c 60000 /dev/urandom | base64 > t.txt && gzip -c t.txt > t.gz && zip -q t.zip t.txt',
        'head -c 20000 t.gz > cut.gz && cp t.gz junk.gz && printf JUNK >> junk.gz && cat t.gz cut.gz > two.gz',
        // zlib stops, in silence, at bytes after a member that start with a zero.
        "cp t.gz zjunk.gz && printf '\\0JUNK' >> zjunk.gz && tar -cf t.tar t.txt && gzip -c t.tar > t.tgz && cp t.tgz zjunk.tgz && printf '\\0\\0JUNK' >> zjunk.tgz",
        'cp t.gz zeros.gz && head -c 512 /dev/zero >> zeros.gz',
        `cp t.gz crc.gz && printf X | dd of=crc.gz bs=1 seek=$(( $(stat -c %s t.gz) - 6 )) conv=notrunc 2>/dev/null`,
        'cp t.zip body.zip && printf XXXX | dd of=body.zip bs=1 seek=3000 conv=notrunc 2>/dev/null',
      ].join(' && '),
    )
    // A CRC-32 that does not match the content, in both of its places.
    const zip = fs.readFileSync(path.join(dir, 't.zip'))
    for (const signature of ['PK\x03\x04', 'PK\x01\x02']) {
      const at = zip.indexOf(signature, 0, 'latin1')
      const crcAt = at + (signature === 'PK\x03\x04' ? 14 : 16)
      zip[crcAt] = (zip[crcAt] ?? 0) ^ 0xff
    }
    fs.writeFileSync(path.join(dir, 'crc.zip'), zip)
    // Where the fault lies: from the end of the last whole member.
    const end = fs.statSync(path.join(dir, 't.gz')).size
    const expected: Record<string, RegExp> = {
      'cut.gz': /cut\.gz: corrupt gzip data from byte 0 \(unexpected end of file\)/,
      'junk.gz': new RegExp(
        `junk\\.gz: corrupt gzip data from byte ${end}, after 1 whole member \\(`,
      ),
      'two.gz': new RegExp(
        `two\\.gz: corrupt gzip data from byte ${end}, after 1 whole member \\(unexpected end of file\\)`,
      ),
      'zjunk.gz':
        /zjunk\.gz: 5 bytes after the gzip data \(from byte \d+\) are neither a gzip member nor zero padding/,
      'zjunk.tgz': /zjunk\.tgz: 6 bytes after the gzip data \(from byte \d+\) are neither/,
      'crc.gz': /crc\.gz: corrupt gzip data from byte 0 \(incorrect data check\)/,
      'body.zip': /body\.zip!t\.txt: corrupt zip member/,
      'crc.zip': /crc\.zip!t\.txt: corrupt zip member \(its CRC-32 is [0-9a-f]{8}, its header says/,
    }
    for (const [file, message] of Object.entries(expected)) {
      const before = fs.readdirSync(dir).sort()
      const run = await runCli(['normalize', path.join(dir, file), '-o', path.join(dir, 'out')])
      expect(run.code, file).toBe(2)
      expect(run.stderr).toMatch(message)
      expect(fs.readdirSync(dir).sort()).toEqual(before)
    }
    // Zeros after the last member are padding, as gzip takes them.
    const good = await runCli([
      'normalize',
      path.join(dir, 't.gz'),
      path.join(dir, 'zeros.gz'),
      path.join(dir, 't.zip'),
      '-o',
      makeTemp(),
    ])
    expect(good.code).toBe(0)
  })

  it('refuses to rewrite a symbolic link or a file of several hard links in place, and reads through a link to write elsewhere', async () => {
    const dir = makeTemp()
    tree(dir, 'pkg')
    sh(dir, 'tar -cf real.tar pkg && ln -s real.tar link.tar')
    const inPlace = await runCli([
      'normalize',
      '--epoch',
      EPOCH,
      '--in-place',
      path.join(dir, 'link.tar'),
    ])
    expect(inPlace.code).toBe(2)
    expect(inPlace.stderr).toMatch(/link\.tar: a symbolic link/)
    expect(fs.lstatSync(path.join(dir, 'link.tar')).isSymbolicLink()).toBe(true)
    const out = await runCli([
      'normalize',
      '--epoch',
      EPOCH,
      path.join(dir, 'link.tar'),
      '-o',
      path.join(dir, 'out.tar'),
    ])
    expect(out.code).toBe(0)
    sh(dir, 'tar -tf out.tar > /dev/null')
    // A file of two names: replaced under one, the other kept the old bytes.
    sh(dir, 'ln real.tar hard.tar')
    const before = fs.readFileSync(path.join(dir, 'real.tar'))
    const hard = await runCli([
      'normalize',
      '--epoch',
      EPOCH,
      '--in-place',
      path.join(dir, 'hard.tar'),
    ])
    expect([hard.code, hard.stderr.trim()]).toEqual([
      2,
      `reproof: ${path.join(dir, 'hard.tar')}: a file of 2 hard links; replaced in place, the other names would keep its old bytes: write elsewhere with -o`,
    ])
    expect(fs.readFileSync(path.join(dir, 'hard.tar')).equals(before)).toBe(true)
    expect(fs.statSync(path.join(dir, 'hard.tar')).nlink).toBe(2)
  })

  it('sets every time to the epoch by default, so that the same content gives the same bytes; clamps when asked', async () => {
    const dir = makeTemp()
    tree(dir, 'pkg')
    sh(
      dir,
      [
        'cp -r pkg old && touch -d @1000000000 old/lib/deep/x.c',
        '(cd pkg && TZ=UTC zip -q -X -r ../new.zip .) && (cd old && TZ=Asia/Tokyo zip -q -X -r ../old.zip .)',
        'cp new.zip new2.zip && cp old.zip old2.zip',
      ].join(' && '),
    )
    const set = await normalize(dir, ['new.zip', 'old.zip', '--in-place'])
    expect(set.code).toBe(0)
    expect(digest(path.join(dir, 'new.zip'))).toBe(digest(path.join(dir, 'old.zip')))
    expect(set.files[1]?.changes.join('\n')).toMatch(/\d+ DOS times set to the epoch \(UTC\)/)
    const clamped = await normalize(dir, ['new2.zip', 'old2.zip', '--in-place', '--clamp-mtime'])
    expect(clamped.code).toBe(0)
    expect(digest(path.join(dir, 'new2.zip'))).not.toBe(digest(path.join(dir, 'old2.zip')))
    expect(clamped.files[0]?.changes.join('\n')).toMatch(/DOS times clamped to the epoch/)
    const both = await normalize(dir, ['new2.zip', '--in-place', '--clamp-mtime', '--set-mtime'])
    expect(both.code).toBe(2)
  })

  it('drops a jar manifest’s build-host headers in ship mode only when asked', async () => {
    const dir = makeTemp()
    tree(dir, 'pkg')
    sh(
      dir,
      `printf 'Manifest-Version: 1.0\nBuilt-By: someone\nBuild-Jdk: 21\nMain-Class: App\n' > m.txt && jar cfm app.jar m.txt -C pkg . && cp app.jar kept.jar`,
    )
    await normalize(dir, ['kept.jar', '--in-place'])
    expect(sh(dir, 'unzip -p kept.jar META-INF/MANIFEST.MF')).toMatch(/Built-By: someone/)
    await normalize(dir, ['app.jar', '--in-place', '--drop-build-host'])
    const manifest = sh(dir, 'unzip -p app.jar META-INF/MANIFEST.MF')
    expect(manifest).not.toMatch(/Built-By|Build-Jdk/)
    expect(manifest).toMatch(/Main-Class: App/)
  })

  it('leaves a signed jar as it is, with a note, and its signature still verifies', async () => {
    const dir = makeTemp()
    tree(dir, 'pkg')
    sh(
      dir,
      [
        // A member whose name sorts before META-INF/: sorted first, it would hide the
        // signature files from JarInputStream.
        'echo a > pkg/A.txt && jar cf app.jar -C pkg .',
        'keytool -genkeypair -keystore ks.p12 -storetype PKCS12 -storepass secret -keypass secret -alias k -dname CN=test -keyalg EC -validity 2 >/dev/null 2>&1',
        'jarsigner -keystore ks.p12 -storepass secret app.jar k >/dev/null 2>&1',
        'cp app.jar signed.jar',
      ].join(' && '),
    )
    const run = await normalize(dir, ['app.jar', '-o', 'out.jar'])
    expect(run.code).toBe(0)
    expect(run.files[0]).toMatchObject({ changed: false, changes: [] })
    expect(run.files[0]?.kept).toMatch(/a signed jar \(META-INF\/K\.SF\)/)
    expect(digest(path.join(dir, 'out.jar'))).toBe(digest(path.join(dir, 'signed.jar')))
    expect(sh(dir, 'jarsigner -verify out.jar')).toMatch(/jar verified/)
    // What class loaders check: JarInputStream finds the signers of every member.
    fs.writeFileSync(
      path.join(dir, 'Check.java'),
      `import java.util.jar.*;
public class Check {
  public static void main(String[] args) throws Exception {
    try (JarInputStream in = new JarInputStream(new java.io.FileInputStream(args[0]), true)) {
      int signed = 0;
      for (JarEntry e; (e = in.getNextJarEntry()) != null; ) {
        in.readAllBytes();
        // The signature files themselves carry no signers.
        if (e.isDirectory() || e.getName().startsWith("META-INF/")) continue;
        if (e.getCodeSigners() == null) throw new Exception("unsigned: " + e.getName());
        signed++;
      }
      System.out.println(signed + " signed");
    }
  }
}
`,
    )
    expect(sh(dir, 'java Check.java out.jar').trim()).toMatch(/^[1-9]\d* signed$/)
    const text = await runCli([
      'normalize',
      '--epoch',
      EPOCH,
      path.join(dir, 'app.jar'),
      '--in-place',
    ])
    expect(text.stdout).toMatch(/left as it is: a signed jar/)
    // Left as it is, but read first: a signed jar with a corrupt member is refused.
    const bytes = fs.readFileSync(path.join(dir, 'signed.jar'))
    const header = bytes.indexOf(Buffer.from('PK\x03\x04A.txt', 'latin1').subarray(4)) - 30
    expect(bytes.toString('latin1', header + 30, header + 35)).toBe('A.txt')
    const dataStart =
      header + 30 + bytes.readUInt16LE(header + 26) + bytes.readUInt16LE(header + 28)
    bytes[dataStart] = (bytes[dataStart] ?? 0) ^ 0xff
    fs.writeFileSync(path.join(dir, 'corrupt.jar'), bytes)
    const corrupt = await normalize(dir, ['corrupt.jar', '-o', 'corrupt-out.jar'])
    expect(corrupt.code).toBe(2)
    expect(corrupt.stderr).toMatch(/corrupt\.jar!A\.txt: corrupt zip member/)
    expect(fs.existsSync(path.join(dir, 'corrupt-out.jar'))).toBe(false)
  })

  it('reads a member’s mode bits only where its host makes them a mode, as unzip does', async () => {
    const dir = makeTemp()
    // Made on host 0 (FAT) with a Unix mode in the upper half, as Python's zipfile on
    // Windows writes a `.bat`: unzip makes plain files of them, and so must the rewrite.
    const zipOf = (name: string, host: number) =>
      sh(
        dir,
        `python3 -c "
import zipfile
z = zipfile.ZipFile('${name}', 'w')
for n, mode, data in [('notes.txt', 0o120777, b'/etc/passwd'), ('setup.bat', 0o100777, b'echo')]:
    i = zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0)); i.create_system = ${host}; i.external_attr = (mode << 16) | 0x20
    z.writestr(i, data)
z.close()"`,
      )
    zipOf('fat.zip', 0)
    const fat = await normalize(dir, ['fat.zip', '-o', 'fat.out.zip'])
    expect(fat.code, fat.stderr).toBe(0)
    const listed = (file: string) =>
      sh(
        dir,
        `rm -rf x && mkdir x && cd x && unzip -q ../${file} && ls -l --time-style=+ | tail -n +2 | cut -c1-10`,
      )
    expect(listed('fat.out.zip')).toBe(listed('fat.zip'))
    expect(listed('fat.out.zip')).toBe('-rw-r--r--\n-rw-r--r--\n')
    // A host whose readers may take the bits as a mode, or not: not decided for them.
    zipOf('atari.zip', 5)
    const atari = await normalize(dir, ['atari.zip', '-o', 'atari.out.zip'])
    expect(atari.code).toBe(2)
    expect(atari.stderr).toMatch(/made on host 5, whose mode bits \(120777\).*refused/)
    expect(fs.existsSync(path.join(dir, 'atari.out.zip'))).toBe(false)
  })

  it.skipIf(spawnSyncStatus('zipalign') === undefined)(
    'keeps an APK that zipalign aligned aligned, though a META-INF/MANIFEST.MF makes it a jar too',
    async () => {
      const dir = makeTemp()
      // Debian's zipalign pads with zeros and writes no 0xd935 field: the APK is known
      // by its AndroidManifest.xml, whatever else it holds.
      sh(
        dir,
        `python3 -c "
import zipfile
with zipfile.ZipFile('raw.apk', 'w') as z:
    for name, data, method in [('classes.dex', b'dex' * 400, 8), ('res/raw.bin', b'b' * 1001, 0), ('META-INF/MANIFEST.MF', b'Manifest-Version: 1.0' + bytes([10]), 8), ('lib/arm64-v8a/libz.so', b'ELF' * 3001, 0), ('AndroidManifest.xml', b'<manifest/>' * 7, 8)]:
        i = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)); i.compress_type = method; i.create_system = 3; i.external_attr = 0o100644 << 16
        z.writestr(i, data)
" && zipalign -p 4 raw.apk app.apk && zipalign -c -p 4 app.apk`,
      )
      const run = await normalize(dir, ['app.apk', '-o', 'out.apk'])
      expect(run.code, run.stderr).toBe(0)
      expect(run.files[0]?.changed).toBe(true)
      sh(dir, 'zipalign -c -p 4 out.apk')
    },
  )

  it.each([4096, 16384])(
    'keeps stored members of an aligned APK aligned, native libraries on %i',
    async (page) => {
      const dir = makeTemp()
      // Stored members padded as zipalign pads them (a 0xd935 field), listed out of order
      // and with other times, so that normalizing rewrites the archive.
      sh(
        dir,
        `python3 -c "
import struct, zipfile, zlib
members = [('res/raw/b.bin', b'b' * 1001, 0), ('AndroidManifest.xml', b'<manifest/>' * 7, 8), ('lib/arm64-v8a/libx.so', b'ELF' * 3001, 0), ('assets/a.txt', b'a' * 33, 0), ('classes.dex', b'dex' * 400, 8), ('apex_payload.img', b'img' * 99, 0)]
out = bytearray(); central = bytearray()
for name, data, method in members:
    body = zlib.compress(data)[2:-4] if method else data
    n = name.encode(); align = ${page} if name.endswith('.so') else 4096 if name.endswith('.img') else 4
    pad = 0
    if method == 0:
        pad = (align - (len(out) + 30 + len(n) + 6) % align) % align
    extra = struct.pack('<HHH', 0xd935, 2 + pad, align) + bytes(pad) if method == 0 else b''
    crc = zlib.crc32(data)
    head = struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, method, 0x6000, 0x5021, crc, len(body), len(data), len(n), len(extra))
    central += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 0x0314, 20, 0, method, 0x6000, 0x5021, crc, len(body), len(data), len(n), 0, 0, 0, 0, 0o100644 << 16, len(out)) + n
    out += head + n + extra + body
end = struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, len(members), len(members), len(central), len(out), 0)
open('app.apk', 'wb').write(bytes(out + central + end))
"`,
      )
      const run = await normalize(dir, ['app.apk', '-o', 'out.apk'])
      expect(run.code).toBe(0)
      expect(run.files[0]?.changed).toBe(true)
      const offsets = JSON.parse(
        sh(
          dir,
          `python3 -c "
import json, zipfile
z = zipfile.ZipFile('out.apk'); out = {}
for i in z.infolist():
    z.read(i.filename)
    f = z.fp; f.seek(i.header_offset + 26); import struct; nl, el = struct.unpack('<HH', f.read(4))
    out[i.filename] = [i.compress_type, i.header_offset + 30 + nl + el]
print(json.dumps(out))"`,
        ),
      ) as Record<string, [number, number]>
      for (const [name, [method, start]] of Object.entries(offsets)) {
        if (method !== 0) continue
        // A member's own declared 4096 (zipalign -f 4096, an APEX payload) is kept too.
        expect(start % (name.endsWith('.so') ? page : name.endsWith('.img') ? 4096 : 4), name).toBe(
          0,
        )
      }
      expect(Object.keys(offsets)).toHaveLength(6)
      sh(dir, 'unzip -tq out.apk')
    },
  )

  it('normalizes a zip too large to hold, read from the file, and checks its members there too', async () => {
    const dir = makeTemp()
    sh(
      dir,
      'mkdir big && head -c 70000000 /dev/zero > big/zeros.bin && echo small > big/s.txt && (cd big && zip -q -0 ../big.zip zeros.bin s.txt)',
    )
    const run = await normalize(dir, ['big.zip', '-o', 'out.zip'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.files[0]?.changed).toBe(true)
    expect(sh(dir, 'unzip -tq out.zip')).toMatch(/No errors/)
    // The same zip with a byte of the stored data changed: its CRC-32 no longer matches.
    const bytes = fs.readFileSync(path.join(dir, 'big.zip'))
    bytes[1000] = 1
    fs.writeFileSync(path.join(dir, 'bad.zip'), bytes)
    const bad = await normalize(dir, ['bad.zip', '-o', 'bad.out.zip'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/bad\.zip!zeros\.bin: corrupt zip member \(its CRC-32/)
  })

  it('normalizes a tar inside zstd and writes zstd again; leaves a tar inside xz or bzip2 alone, saying why', async () => {
    const dir = makeTemp()
    tree(dir, 'pkg')
    sh(
      dir,
      [
        'tar --zstd -cf a.tar.zst pkg && sleep 1 && touch pkg/lib/deep/x.c && tar --owner=7 --zstd -cf b.tar.zst pkg',
        'tar -cJf a.tar.xz pkg && cp a.tar.xz kept.tar.xz && tar -cjf a.tar.bz2 pkg',
        'tar --sort=name --mtime=@1700000000 --owner=0 --group=0 --numeric-owner --mode=go-w --exclude=link -cJf stable.tar.xz pkg',
        'head -c $(( $(stat -c %s a.tar.zst) - 9 )) a.tar.zst > cut.tar.zst',
        // Not a tar: a cut stream, and junk after the last frame, which Node's decoder ignores.
        'seq 100000 | zstd -q > t.zst && head -c $(( $(stat -c %s t.zst) - 9 )) t.zst > cut.zst',
        'cp t.zst junk.zst && printf JUNKJUNK >> junk.zst',
      ].join(' && '),
    )
    const zst = await normalize(dir, ['a.tar.zst', 'b.tar.zst', '--in-place'])
    expect(zst.code).toBe(0)
    expect(zst.files.map((f) => f.format)).toEqual(['tar.zst', 'tar.zst'])
    expect(zst.files[0]?.changes).toContain('recompressed with zstd level 3')
    expect(digest(path.join(dir, 'a.tar.zst'))).toBe(digest(path.join(dir, 'b.tar.zst')))
    sh(
      dir,
      'zstd -tq a.tar.zst && mkdir x && tar --zstd -xf a.tar.zst -C x && diff -r pkg/bin x/pkg/bin',
    )
    const other = await normalize(dir, ['a.tar.xz', 'a.tar.bz2', 'stable.tar.xz', '-o', makeTemp()])
    expect(other.code).toBe(0)
    expect(other.files.map((f) => [f.format, f.changed])).toEqual([
      ['tar.xz', false],
      ['tar.bz2', false],
      ['tar.xz', false],
    ])
    expect(other.files[0]?.kept).toMatch(/a tar inside xz that needs changes/)
    expect(other.files[1]?.kept).toMatch(/a tar inside bzip2 that needs changes/)
    // Nothing to change: no reason to give.
    expect(other.files[2]?.kept).toBeUndefined()
    for (const file of ['cut.tar.zst', 'cut.zst', 'junk.zst']) {
      const cut = await normalize(dir, [file, '-o', 'cut.out'])
      expect(cut.code, file).toBe(2)
      expect(fs.existsSync(path.join(dir, 'cut.out'))).toBe(false)
    }
  })

  it('rewrites the headers of a gzip file of many members without a word from Node on stderr', async () => {
    // A stream copied per member left its listeners on the output: Node's leak warning.
    const dir = makeTemp()
    const members = Array.from({ length: 40 }, (_, i) =>
      zlib.gzipSync(`part ${i}\n`, { level: 6 }),
    ).map((m) => Buffer.concat([m.subarray(0, 4), Buffer.from([1, 2, 3, 4]), m.subarray(8)]))
    fs.writeFileSync(path.join(dir, 'many.gz'), Buffer.concat(members))
    const out = path.join(dir, 'out.gz')
    const run = await spawnCli([
      'normalize',
      '--epoch',
      EPOCH,
      path.join(dir, 'many.gz'),
      '-o',
      out,
    ])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).not.toContain('Warning')
    expect(zlib.gunzipSync(fs.readFileSync(out)).toString()).toBe(
      Array.from({ length: 40 }, (_, i) => `part ${i}\n`).join(''),
    )
  })

  it("keeps a gzip header's extra field, and a BGZF file's blocks, whole", async () => {
    const dir = makeTemp()
    tree(dir, 'pkg')
    // BGZF (as bgzip and samtools write): gzip members of at most 64 KiB, each with a BC
    // extra field giving its own size, which the indexes of such files rely on.
    fs.writeFileSync(
      path.join(dir, 'bgzf.py'),
      `import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
out = open(sys.argv[2], 'wb')
for i in range(0, len(data), 30000):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = c.compress(data[i:i + 30000]) + c.flush()
    size = 18 + len(body) + 8
    out.write(struct.pack('<4BI2BH2BHH', 31, 139, 8, 4, 123456, 0, 3, 6, 66, 67, 2, size - 1))
    out.write(body + struct.pack('<II', zlib.crc32(data[i:i + 30000]), len(data[i:i + 30000])))
`,
    )
    sh(
      dir,
      'tar -cf pkg.tar pkg && seq 100000 > numbers.txt && python3 bgzf.py pkg.tar pkg.tar.gz && python3 bgzf.py numbers.txt numbers.txt.gz',
    )
    const blocks = (file: string): string =>
      sh(
        dir,
        `python3 -c "
import struct, sys
b = open('${file}', 'rb').read(); at = 0; n = 0
while at < len(b):
    assert b[at:at + 4] == bytes([31, 139, 8, 4]) and b[at + 12:at + 14] == b'BC', at
    at += struct.unpack('<H', b[at + 16:at + 18])[0] + 1; n += 1
print(n)"`,
      ).trim()
    const before = blocks('numbers.txt.gz')
    const run = await normalize(dir, ['numbers.txt.gz', 'pkg.tar.gz', '-o', makeTemp()])
    expect(run.code, run.stderr).toBe(0)
    // Every block's mtime changed; every block keeps its BC field and size.
    expect(run.files[0]?.changes).toEqual([`gzip headers (${before} members): mtime set to 0`])
    expect(blocks(run.files[0]?.output ?? '')).toBe(before)
    const mtimes = sh(
      dir,
      `python3 -c "
import struct
b = open('${run.files[0]?.output ?? ''}', 'rb').read(); at = 0; t = set()
while at < len(b):
    t.add(struct.unpack('<I', b[at + 4:at + 8])[0]); at += struct.unpack('<H', b[at + 16:at + 18])[0] + 1
print(sorted(t))"`,
    ).trim()
    expect(mtimes).toBe('[0]')
    expect(sh(dir, `gzip -dc ${run.files[0]?.output ?? ''} | cmp - numbers.txt && echo same`)).toBe(
      'same\n',
    )
    // A tar inside that needs changes cannot be recompressed without losing the blocks.
    expect(run.files[1]?.kept).toMatch(/a gzip stream with an extra field in a header/)
    expect(digest(run.files[1]?.output ?? '')).toBe(digest(path.join(dir, 'pkg.tar.gz')))
  })

  it("keeps an extra field in a later member's header, or before padding, as it keeps the first's", async () => {
    // Two files that differ only in a later member's extra field, and two padded ones
    // that differ in the first's: a new stream would make each pair the same bytes.
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import io, struct, tarfile, zlib
def member(data, extra=None):
    head = b'\\x1f\\x8b\\x08' + bytes([4 if extra else 0]) + b'\\0\\0\\0\\0\\0\\x03'
    if extra:
        head += struct.pack('<H', len(extra)) + extra
    c = zlib.compressobj(6, 8, -15)
    return head + c.compress(data) + c.flush() + struct.pack('<II', zlib.crc32(data), len(data))
b = io.BytesIO()
with tarfile.open(fileobj=b, mode='w', format=tarfile.USTAR_FORMAT) as t:
    i = tarfile.TarInfo('f'); i.size = 5; i.mtime = 1600000000; t.addfile(i, io.BytesIO(b'hello'))
tar = b.getvalue()
for side, x in (('a', b'xy'), ('b', b'zz')):
    open('later.%s.tgz' % side, 'wb').write(member(tar[:512]) + member(tar[512:], b'AB\\x02\\x00' + x))
    open('padded.%s.gz' % side, 'wb').write(member(b'hello', b'AB\\x02\\x00' + x) + b'\\0' * 16)
PY`,
    )
    const files = ['later.a.tgz', 'later.b.tgz', 'padded.a.gz', 'padded.b.gz']
    const run = await normalize(dir, [...files, '-o', makeTemp()])
    expect(run.code, run.stderr).toBe(0)
    expect(
      run.files.map((f) => f.kept),
      run.stdout,
    ).toEqual([
      expect.stringMatching(/a gzip stream with an extra field in a header/),
      expect.stringMatching(/a gzip stream with an extra field in a header/),
      expect.stringMatching(/not a plain run of members .* with an extra field in a header/),
      expect.stringMatching(/not a plain run of members .* with an extra field in a header/),
    ])
    for (const [i, file] of files.entries())
      expect(digest(run.files[i]?.output ?? '')).toBe(digest(path.join(dir, file)))
  })

  it('reads every frame of a zstd stream, and leaves one with skippable frames as it is, saying why', async () => {
    const dir = makeTemp()
    tree(dir, 'pkg')
    // A tar cut in two mid-entry, each half its own frame (as zstd -c a b, or pzstd, write).
    sh(
      dir,
      [
        'tar -cf a.tar pkg && head -c 1536 a.tar > one && tail -c +1537 a.tar > two',
        '(zstd -qc one && zstd -qc two) > frames.tar.zst && zstd -dc frames.tar.zst | cmp - a.tar',
        // A skippable frame (magic 0x184D2A5E), where a seekable stream keeps its seek table.
        "cp frames.tar.zst skip.tar.zst && printf '\\x5e\\x2a\\x4d\\x18\\x04\\x00\\x00\\x00SEEK' >> skip.tar.zst",
      ].join(' && '),
    )
    const run = await normalize(dir, ['frames.tar.zst', '-o', 'out.tar.zst'])
    expect(run.code, run.stderr).toBe(0)
    // Every member is still there, with its content.
    expect(sh(dir, 'zstd -dc out.tar.zst | tar -t | sort')).toBe(sh(dir, 'tar -tf a.tar | sort'))
    sh(dir, 'mkdir x && zstd -dc out.tar.zst | tar -x -C x && diff -r pkg/lib x/pkg/lib')
    const skip = await normalize(dir, ['skip.tar.zst', '-o', 'skip.out'])
    expect(skip.code).toBe(0)
    expect(skip.files[0]?.kept).toMatch(/1 skippable frame/)
    expect(digest(path.join(dir, 'skip.out'))).toBe(digest(path.join(dir, 'skip.tar.zst')))
  })

  it('checks every output before it writes any, and leaves no directory it made when it writes nothing', async () => {
    const dir = makeTemp()
    sh(
      dir,
      'echo hi > f && tar cf a.tar f && cp a.tar b.tar && mkdir -p out/b.tar && echo was > out/a.tar && printf "!<arch>\\nx/              0           0     0     644     10        \\x60\\nshort" > cut.a',
    )
    const blocked = await normalize(dir, ['a.tar', 'b.tar', '-o', 'out'])
    expect(blocked.code).toBe(2)
    expect(blocked.stderr).toMatch(/-o .*out\/b\.tar: is a directory/)
    expect(fs.readFileSync(path.join(dir, 'out/a.tar'), 'utf8')).toBe('was\n')
    const cut = await normalize(dir, ['cut.a', '-o', 'new/deeper/cut.a'])
    expect(cut.code).toBe(2)
    // The message names the file, and nothing made for it is left.
    expect(cut.stderr).toMatch(
      /cut\.a: not a readable ar archive \(truncated: the member at byte 8 holds 5 of its 10 bytes\)/,
    )
    expect(fs.existsSync(path.join(dir, 'new'))).toBe(false)
  })

  it('needs exactly one of -o and --in-place', async () => {
    const dir = makeTemp()
    fs.writeFileSync(path.join(dir, 'x'), 'x')
    expect((await runCli(['normalize', path.join(dir, 'x')])).code).toBe(2)
    expect((await runCli(['normalize', path.join(dir, 'x'), '--in-place', '-o', 'y'])).code).toBe(2)
    expect((await runCli(['normalize', path.join(dir, 'missing'), '--in-place'])).code).toBe(2)
  })

  it('clears comments, recompresses and drops build-host headers in compare mode only', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `mkdir -p j/META-INF && printf 'Manifest-Version: 1.0\\r\\nBuilt-By: alice\\r\\n\\r\\n' > j/META-INF/MANIFEST.MF && echo data > j/data.txt && (cd j && zip -q -r -9 ../a.jar META-INF data.txt) && (cd j && sed -i 's/alice/bob/' META-INF/MANIFEST.MF && zip -q -r -1 ../b.jar META-INF data.txt && echo note | zip -q -z ../b.jar)`,
    )
    await normalize(dir, ['a.jar', 'b.jar', '--in-place'])
    expect(
      fs.readFileSync(path.join(dir, 'a.jar')).equals(fs.readFileSync(path.join(dir, 'b.jar'))),
    ).toBe(false)
    const { files } = await normalize(dir, ['a.jar', 'b.jar', '--in-place', '--mode', 'compare'])
    expect(files.every((f) => f.mode === 'compare')).toBe(true)
    expect(
      fs.readFileSync(path.join(dir, 'a.jar')).equals(fs.readFileSync(path.join(dir, 'b.jar'))),
    ).toBe(true)
    expect(sh(dir, 'unzip -p a.jar META-INF/MANIFEST.MF')).not.toContain('Built-By')
  })

  it('makes one zip of the same content whoever wrote it, in compare mode', async () => {
    const dir = makeTemp()
    // Info-ZIP marks a text member with the internal text bit; Python never does.
    sh(
      dir,
      `mkdir t && echo hello > t/t.txt && (cd t && zip -q ../info.zip t.txt) && python3 -c "
import zipfile
with zipfile.ZipFile('py.zip', 'w') as z:
    i = zipfile.ZipInfo('t.txt', (2001, 1, 1, 0, 0, 0)); i.external_attr = 0o100644 << 16; i.create_system = 3
    z.writestr(i, 'hello\\n')
"`,
    )
    const run = await normalize(dir, ['info.zip', 'py.zip', '--in-place', '--mode', 'compare'])
    expect(run.code, run.stderr).toBe(0)
    expect(
      fs.readFileSync(path.join(dir, 'info.zip')).equals(fs.readFileSync(path.join(dir, 'py.zip'))),
    ).toBe(true)
  })
})

describe('reproof build and archive metadata', () => {
  const tarBuild = () => {
    const source = makeTemp()
    fs.mkdirSync(path.join(source, 'src'))
    fs.writeFileSync(path.join(source, 'src', 'a.txt'), 'a\n')
    // The build touches the file, so the tar carries each run's own build time.
    const script = 'mkdir -p out && touch src/a.txt && tar -czf out/app.tgz src'
    return { source, command: ['--', 'sh', '-c', script] }
  }
  interface Result {
    reproducible: boolean
    verdict: string
    reproducibleWithoutNormalization: boolean
    wouldMatchAfterNormalization: string[]
    artifacts: { digest: { sha256: string } }[]
    normalization: { artifacts: { raw: string[]; normalized: string[] }[] } | null
  }

  it('says "not reproducible" when the archives differ as written, and which would match after normalize', async () => {
    const { source, command } = tarBuild()
    const outDir = makeTemp()
    const args = ['build', '-C', source, '-o', 'out/app.tgz', '--epoch', EPOCH, '--out-dir', outDir]
    const run = await runCli([...args, '--json', '--no-vary', 'ordering', ...command])
    expect(run.code).toBe(1)
    const result = JSON.parse(run.stdout) as Result
    expect(result.verdict).toBe('not-reproducible')
    expect(result.wouldMatchAfterNormalization).toEqual(['out/app.tgz'])
    expect(result.normalization).toBeNull()
    expect(fs.readdirSync(outDir)).toEqual([])
    const human = await runCli([...args, '--no-vary', 'ordering', ...command])
    expect(human.code).toBe(1)
    expect(human.stdout).toMatch(
      /^ {2}out\/app\.tgz would match after `reproof normalize --canonical --epoch 1700000000 -o <out> <file>` of each run's copy .*--normalize makes that part of the build/m,
    )
  })

  it('with --normalize, is reproducible after normalization, says so, and ships the normalized archive', async () => {
    const { source, command } = tarBuild()
    const outDir = makeTemp()
    const record = path.join(makeTemp(), 'record.json')
    // prettier-ignore
    const run = await runCli([
      'build', '-C', source, '-o', 'out/app.tgz', '--epoch', EPOCH, '--json', '--out-dir', outDir,
      '--normalize', '--record', record, '--no-vary', 'ordering', ...command,
    ])
    expect(run.code).toBe(0)
    const result = JSON.parse(run.stdout) as Result
    expect(result.reproducible).toBe(true)
    expect(result.verdict).toBe('reproducible-after-normalization')
    expect(result.reproducibleWithoutNormalization).toBe(false)
    const [artifact] = result.normalization?.artifacts ?? []
    expect(artifact?.raw[0]).not.toBe(artifact?.raw[1])
    expect(artifact?.normalized[0]).toBe(artifact?.normalized[1])
    expect(result.artifacts[0]?.digest.sha256).toBe(artifact?.normalized[0])
    expect(sh(outDir, 'tar -tvzf out/app.tgz')).toMatch(/0\/0 .* 2023-11-14 22:13 src\/a.txt/)
    // The record says that normalization was part of the build, and what it changed.
    const written = JSON.parse(fs.readFileSync(record, 'utf8')) as {
      normalization: { mode: string; artifacts: { changes: string[][] }[] }
      result: { verdict: string }
    }
    expect(written.result.verdict).toBe('reproducible-after-normalization')
    expect(written.normalization.mode).toBe('ship')
    expect(written.normalization.artifacts[0]?.changes[1]).toContainEqual(
      expect.stringMatching(/mtimes set to the epoch/),
    )
  })
})

describe('reproof build --normalize and times before the epoch', () => {
  it('sets every time to the epoch, as reproof normalize does, so that older times agree too', async () => {
    // Each run stamps its file with another time long before the epoch: clamped, both
    // stayed as they were, and the build was "not reproducible" after normalization.
    const source = makeTemp()
    fs.writeFileSync(path.join(source, 'a.txt'), 'a\n')
    const script =
      'mkdir -p out && touch -d @$(od -An -N2 -tu2 /dev/urandom | tr -d " ") a.txt && tar -cf out/app.tar a.txt'
    // prettier-ignore
    const run = await runCli([
      'build', '-C', source, '-o', 'out/app.tar', '--epoch', EPOCH, '--json', '--out-dir', makeTemp(),
      '--normalize', '--no-explain', '--', 'sh', '-c', script,
    ])
    expect(run.code, run.stderr).toBe(0)
    expect((JSON.parse(run.stdout) as { verdict: string }).verdict).toBe(
      'reproducible-after-normalization',
    )
  })
})

describe('reproof normalize on PNG images', () => {
  it('removes time chunks and keeps the image exact', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import struct, zlib
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
def png(when, note):
    raw = b''.join(b'\\x00' + bytes([x * 40, 255 - x * 40, 128]) * 4 for x in range(4))
    return (b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 4, 4, 8, 2, 0, 0, 0))
        + chunk(b'tIME', struct.pack('>HBBBBB', *when)) + chunk(b'tEXt', b'date:create\\x00' + note)
        + chunk(b'tEXt', b'Comment\\x00kept') + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))
open('a.png', 'wb').write(png((2026, 1, 2, 3, 4, 5), b'2026-01-02T03:04:05'))
open('b.png', 'wb').write(png((2027, 6, 7, 8, 9, 10), b'2027-06-07T08:09:10'))
PY`,
    )
    const { files } = await normalize(dir, ['a.png', 'b.png', '--in-place'])
    expect(files.map((f) => f.format)).toEqual(['png', 'png'])
    expect(files[0]?.changes).toEqual(['tIME chunk removed', 'tEXt date:create chunk removed'])
    const [a, b] = [
      fs.readFileSync(path.join(dir, 'a.png')),
      fs.readFileSync(path.join(dir, 'b.png')),
    ]
    expect(a.equals(b)).toBe(true)
    expect(a.includes('Comment')).toBe(true)
    // Every chunk CRC still checks out, and the pixels decode the same.
    expect(
      sh(
        dir,
        `python3 -c "
import struct, zlib
d = open('a.png','rb').read(); at = 8; ok = True; idat = b''
while at < len(d):
    n, = struct.unpack('>I', d[at:at+4]); t = d[at+4:at+8]; body = d[at+8:at+8+n]
    ok = ok and struct.unpack('>I', d[at+8+n:at+12+n])[0] == zlib.crc32(t + body) & 0xffffffff
    idat += body if t == b'IDAT' else b''; at += 12 + n
print(ok, len(zlib.decompress(idat)))"`,
      ).trim(),
    ).toBe('True 52')
  })
})

describe('reproof normalize on cpio archives and gettext catalogs', () => {
  for (const format of ['newc', 'crc', 'odc', 'bin'])
    it(`makes ${format} cpio archives of the same tree, made at other times and inodes, identical and still extractable`, async () => {
      const dir = makeTemp()
      sh(
        dir,
        `mkdir -p a/etc b && echo conf > a/etc/app.conf && printf '#!/bin/sh\\n' > a/init && chmod 700 a/init && touch -d @1800000000 a/init && ln a/etc/app.conf a/etc/same.conf
cp -a a/. b/ && touch -d @1900000000 b/init b/etc/app.conf
(cd a && find . | sort | cpio -o -H ${format} --quiet > ../a.cpio) && (cd b && find . | sort | cpio -o -H ${format} --quiet > ../b.cpio)`,
      )
      const { files } = await normalize(dir, ['a.cpio', 'b.cpio', '--in-place'])
      expect(files.map((f) => f.format)).toEqual(['cpio', 'cpio'])
      expect(files[0]?.changed).toBe(true)
      expect(
        fs.readFileSync(path.join(dir, 'a.cpio')).equals(fs.readFileSync(path.join(dir, 'b.cpio'))),
      ).toBe(true)
      const listing = sh(dir, 'cpio -itv --quiet < a.cpio')
      expect(listing).toMatch(/^-rwxr-xr-x +1 root +root .* init$/m)
      expect(listing).toMatch(/^-rw-r--r-- +2 root +root .* etc\/same\.conf$/m)
      sh(
        dir,
        'mkdir x && cd x && cpio -id --quiet < ../a.cpio && diff -r ../a/etc etc && cmp ../a/init init && test $(stat -c %h etc/same.conf) = 2',
      )
    })

  it('sorts zip names by their bytes, also names flagged UTF-8 that are not', async () => {
    // Both decode to x\uFFFD: compared as text they tied, and kept the input's order.
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import struct, zipfile
for name, order in (('a.zip', ('xA', 'xB')), ('b.zip', ('xB', 'xA'))):
    with zipfile.ZipFile(name, 'w') as z:
        for n in order:
            z.writestr(zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0)), b'data')
    data = bytearray(open(name, 'rb').read().replace(b'xA', b'x\\xff').replace(b'xB', b'x\\xfe'))
    for sig, at in ((b'PK\\x03\\x04', 6), (b'PK\\x01\\x02', 8)):
        i = data.find(sig)
        while i != -1:
            struct.pack_into('<H', data, i + at, struct.unpack_from('<H', data, i + at)[0] | 0x800)
            i = data.find(sig, i + 1)
    open(name, 'wb').write(data)
PY`,
    )
    expect(sh(dir, 'unzip -tq a.zip')).toContain('No errors')
    const run = await normalize(dir, ['a.zip', 'b.zip', '--in-place'])
    expect(run.code, run.stderr).toBe(0)
    const bytes = (name: string) => fs.readFileSync(path.join(dir, name))
    expect(bytes('a.zip').equals(bytes('b.zip'))).toBe(true)
  })

  it("drops PKWARE's Unix extra field of times and owners, which unzip applies", async () => {
    // Kept, a member extracted with the time it holds, not the epoch, and two zips apart
    // by that time alone stayed apart.
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import struct, zipfile
for name, t in (('a.zip', 1600000000), ('b.zip', 1600000999)):
    with zipfile.ZipFile(name, 'w') as z:
        i = zipfile.ZipInfo('f', (2020, 1, 1, 0, 0, 0)); i.create_system = 3
        i.external_attr = 0o100644 << 16
        i.extra = struct.pack('<HHIIHH', 0x000d, 12, t, t, 1000, 1000)
        z.writestr(i, b'x')
PY`,
    )
    const run = await normalize(dir, ['a.zip', 'b.zip', '--in-place'])
    expect(run.code, run.stderr).toBe(0)
    const bytes = (name: string) => fs.readFileSync(path.join(dir, name))
    expect(bytes('a.zip').equals(bytes('b.zip'))).toBe(true)
    sh(dir, 'mkdir x && cd x && TZ=UTC unzip -q ../a.zip')
    expect(fs.statSync(path.join(dir, 'x', 'f')).mtimeMs / 1000).toBe(Number(EPOCH))
  })

  it("drops libarchive's PAX birth time, as the other times are dropped", async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import io, tarfile
for name, born in (('a.tar', '1700000000'), ('b.tar', '1700000999.5')):
    with tarfile.open(name, 'w', format=tarfile.PAX_FORMAT) as t:
        i = tarfile.TarInfo('f'); i.size = 1; i.mtime = 1600000000
        i.pax_headers = {'LIBARCHIVE.creationtime': born}
        t.addfile(i, io.BytesIO(b'x'))
PY`,
    )
    const run = await normalize(dir, ['a.tar', 'b.tar', '--in-place'])
    expect(run.code, run.stderr).toBe(0)
    const bytes = (name: string) => fs.readFileSync(path.join(dir, name))
    expect(bytes('a.tar').equals(bytes('b.tar'))).toBe(true)
    expect(bytes('a.tar').includes('creationtime')).toBe(false)
  })

  it('writes a rewritten newc field in the case of its header, so lower-case archives converge', async () => {
    // bsdtar writes newc hex in lower case, GNU cpio in upper. A field rewritten was upper
    // case whatever its header: one archive made under umask 002 (a mode to rewrite) and
    // one under 022 (the mode already stable) came out apart, 000081A4 against 000081a4.
    const dir = makeTemp()
    sh(
      dir,
      `for m in 022 002; do mkdir -p t$m && (umask $m && echo x > t$m/f && mkdir t$m/d) && touch -d @1700000000 t$m/f t$m/d t$m
(cd t$m && find . | sort | cpio -o -H newc --quiet --reproducible > ../u$m.cpio); done
python3 - <<'PY'
for m in ('022', '002'):
    data = bytearray(open('u%s.cpio' % m, 'rb').read()); at = 0
    while True:
        data[at + 6:at + 110] = bytes(data[at + 6:at + 110]).lower()
        size, name = int(data[at + 54:at + 62], 16), int(data[at + 94:at + 102], 16)
        end = at + 110 + name; end += -end % 4
        trailer = data[at + 110:at + 110 + name - 1] == b'TRAILER!!!'
        at = end + size; at += -at % 4
        if trailer: break
    open('l%s.cpio' % m, 'wb').write(data)
PY`,
    )
    const { files } = await normalize(dir, [
      'l022.cpio',
      'l002.cpio',
      'u022.cpio',
      'u002.cpio',
      '--in-place',
    ])
    expect(files.map((f) => f.format)).toEqual(['cpio', 'cpio', 'cpio', 'cpio'])
    const bytes = (name: string) => fs.readFileSync(path.join(dir, name))
    expect(bytes('l022.cpio').equals(bytes('l002.cpio'))).toBe(true)
    expect(bytes('u022.cpio').equals(bytes('u002.cpio'))).toBe(true)
    expect(sh(dir, 'cpio -itv --quiet < l002.cpio')).toMatch(/^-rw-r--r-- .* f$/m)
  })

  it('refuses a PAX number that is not decimal, and a name given twice that readers choose between differently', async () => {
    // Each was read one way here and another by GNU tar and Python's tarfile: `size=0x400`
    // hid the next header as data, a record length `0x14` found a path they do not, and
    // a GNU long name beside a PAX path is chosen by the order of the headers in Python.
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import tarfile
def pad(b): return b + b'\\0' * (-len(b) % 512)
def hdr(name, size, typ=tarfile.REGTYPE, uid=0, mtime=0):
    i = tarfile.TarInfo(name); i.size = size; i.type = typ; i.uid = uid; i.mtime = mtime
    return i.tobuf(format=tarfile.USTAR_FORMAT)
def member(name, data, **kw): return hdr(name, len(data), **kw) + pad(data)
def pax(records): return hdr('PaxHeader', len(records), tarfile.XHDTYPE) + pad(records)
def longname(name): return hdr('././@LongLink', len(name) + 1, tarfile.GNUTYPE_LONGNAME) + pad(name + b'\\0')
end = b'\\0' * 1024
cases = {
  'hexsize.tar': member('b-first', b'B') + pax(b'14 size=0x400\\n') + hdr('a', 0) + member('b-first', b'EVIL', uid=1000, mtime=100000000),
  'hexlength.tar': pax(b'18 mtime=999999.5\\n0x14 path=evil-name\\n') + member('innocent', b'x'),
  'twonames.tar': longname(b'dup') + pax(b'12 path=zzz\\n') + member('q', b'V2') + member('dup', b'V1'),
  'samename.tar': longname(b'zzz') + pax(b'12 path=zzz\\n') + member('q', b'V2') + member('dup', b'V1'),
}
for name, body in cases.items(): open(name, 'wb').write(body + end)
PY`,
    )
    const refused = {
      'hexsize.tar': /hexsize\.tar: .*corrupt size of the entry at byte 2048/,
      'hexlength.tar': /hexlength\.tar: .*malformed PAX record in the header at byte 0/,
      'twonames.tar':
        /twonames\.tar: the entry at byte 2048 \(zzz\): its name is given twice, by a GNU long name \(dup\) and a PAX path record \(zzz\)/,
    }
    for (const [name, message] of Object.entries(refused)) {
      const run = await normalize(dir, [name, '-o', `${name}.out`])
      expect(run.code, `${name}: ${run.stderr}`).toBe(2)
      expect(run.stderr).toMatch(message)
      expect(fs.existsSync(path.join(dir, `${name}.out`))).toBe(false)
    }
    // The same name given both ways: every reader agrees, and it is normalized.
    const same = await normalize(dir, ['samename.tar', '-o', 'samename.out'])
    expect(same.code, same.stderr).toBe(0)
    expect(sh(dir, 'tar -tf samename.out').split('\n').filter(Boolean).sort()).toEqual([
      'dup',
      'zzz',
    ])
  })

  it('refuses to sort a tar whose hard link names a member it holds twice (tar -r)', async () => {
    const dir = makeTemp()
    // x, then a newer x appended, then a hard link L to x: L means the newer copy.
    sh(
      dir,
      `python3 -c "
import tarfile, io
t = tarfile.open('orig.tar', 'w', format=tarfile.GNU_FORMAT)
for d in (b'v1\\n', b'v2-new\\n'):
    i = tarfile.TarInfo('x'); i.size = len(d); t.addfile(i, io.BytesIO(d))
i = tarfile.TarInfo('L'); i.type = tarfile.LNKTYPE; i.linkname = 'x'; t.addfile(i)
t.close()
"`,
    )
    const run = await runCli([
      'normalize',
      '--epoch',
      EPOCH,
      path.join(dir, 'orig.tar'),
      '-o',
      path.join(dir, 'norm.tar'),
    ])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(
      /the hard link at byte \d+ names x, which the archive holds more than once/,
    )
    expect(fs.existsSync(path.join(dir, 'norm.tar'))).toBe(false)
  })

  it('refuses to move an entry across a symbolic link above it (tar, zip), which would change where it is written', async () => {
    // `l/f` before `l -> d`: GNU tar makes a directory l holding f. Sorted, `l` comes
    // first, and f would be written through the link into d.
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import io, tarfile
kinds = {'d/': (tarfile.DIRTYPE, '', None), 'l': (tarfile.SYMTYPE, 'd', None), 'l/f': (tarfile.REGTYPE, '', b'secret\\n')}
for name, order in (('before', ['d/', 'l/f', 'l']), ('after', ['d/', 'l', 'l/f'])):
    with tarfile.open(name + '.tar', 'w', format=tarfile.USTAR_FORMAT) as t:
        for n in order:
            kind, target, data = kinds[n]
            i = tarfile.TarInfo(n); i.type = kind; i.linkname = target; i.mtime = 1600000000
            if data: i.size = len(data)
            t.addfile(i, io.BytesIO(data) if data else None)
PY
mkdir x && (tar -xf before.tar -C x 2>/dev/null || true) && test -d x/l && test ! -L x/l && test -f x/l/f`,
    )
    const moved = await normalize(dir, ['before.tar', '-o', 'before.out'])
    expect(moved.code, moved.stderr).toBe(2)
    expect(moved.stderr).toMatch(
      /before\.tar: the entry at byte 512 \(l\/f\) lies below l, a symbolic link of the archive; sorting would change/,
    )
    expect(fs.existsSync(path.join(dir, 'before.out'))).toBe(false)
    // The link already before the entry: the order of the two stays, and it is normalized.
    const kept = await normalize(dir, ['after.tar', '-o', 'after.out'])
    expect(kept.code, kept.stderr).toBe(0)
    // The same in a zip: bsdtar makes a directory l when l/f comes first.
    sh(
      dir,
      `python3 - <<'PY'
import zipfile
for name, order in (('before.zip', ['l/f', 'l']), ('after.zip', ['l', 'l/f'])):
    with zipfile.ZipFile(name, 'w') as z:
        for n in order:
            info = zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = (0o120777 if n == 'l' else 0o100644) << 16
            z.writestr(info, 'd' if n == 'l' else 'secret\\n')
PY`,
    )
    const zipMoved = await normalize(dir, ['before.zip', '-o', 'before.zout'])
    expect(zipMoved.code, zipMoved.stderr).toBe(2)
    expect(zipMoved.stderr).toMatch(/before\.zip: the member l\/f lies below l, a symbolic link/)
    expect(fs.existsSync(path.join(dir, 'before.zout'))).toBe(false)
    // A link `L` is `l` where case is ignored (macOS, Windows): `l/f` lies below it there.
    sh(
      dir,
      `python3 - <<'PY'
import io, tarfile, zipfile
with tarfile.open('case.tar', 'w', format=tarfile.USTAR_FORMAT) as t:
    for n, kind, target, data in (('l/f', tarfile.REGTYPE, '', b'secret\\n'), ('L', tarfile.SYMTYPE, 'd', None)):
        i = tarfile.TarInfo(n); i.type = kind; i.linkname = target; i.mtime = 1600000000
        if data: i.size = len(data)
        t.addfile(i, io.BytesIO(data) if data else None)
with zipfile.ZipFile('case.zip', 'w') as z:
    for n in ('l/f', 'L'):
        info = zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0))
        info.create_system = 3
        info.external_attr = (0o120777 if n == 'L' else 0o100644) << 16
        z.writestr(info, 'd' if n == 'L' else 'secret\\n')
PY`,
    )
    for (const [file, message] of [
      ['case.tar', /case\.tar: the entry at byte 0 \(l\/f\) lies below L, a symbolic link/],
      ['case.zip', /case\.zip: the member l\/f lies below L, a symbolic link/],
    ] as const) {
      const folded = await normalize(dir, [file, '-o', `${file}.out`])
      expect(folded.code, folded.stderr).toBe(2)
      expect(folded.stderr).toMatch(message)
    }
    const zipKept = await normalize(dir, ['after.zip', '-o', 'after.zout'])
    expect(zipKept.code, zipKept.stderr).toBe(0)
  })

  it('refuses to reorder a tar with an entry or a hard link’s target reached through a link of the archive', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import io, tarfile
def make(name, entries):
    with tarfile.open(name, 'w', format=tarfile.USTAR_FORMAT) as t:
        for n, kind, target, data in entries:
            i = tarfile.TarInfo(n); i.type = kind; i.linkname = target; i.mtime = 1600000000
            if data: i.size = len(data)
            t.addfile(i, io.BytesIO(data) if data else None)
D, S, L, F = tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.REGTYPE
# Sorted, the hard link a_h comes before m_l, through which its target is reached.
make('hard.tar', [('z_dir/', D, '', None), ('z_dir/f', F, '', b'x\\n'), ('m_l', S, 'z_dir', None), ('a_h', L, 'm_l/f', None)])
# Sorted, y/q/f is written through y before zz/q/ is made.
make('dirs.tar', [('zz/', D, '', None), ('zz/q/', D, '', None), ('y', S, 'zz', None), ('y/q/f', F, '', b'x\\n')])
PY
mkdir x1 x2 && tar -xf hard.tar -C x1 && tar -xf dirs.tar -C x2 && test -f x1/a_h && test -f x2/zz/q/f`,
    )
    for (const [name, entry, link] of [
      ['hard', 'a_h', 'm_l'],
      ['dirs', 'y/q/f', 'y'],
    ]) {
      const run = await normalize(dir, [`${name}.tar`, '-o', `${name}.out`])
      expect(run.code, run.stderr).toBe(2)
      expect(run.stderr).toContain(
        `(${entry}) is written or found through ${link}, a symbolic link of the archive`,
      )
      expect(fs.existsSync(path.join(dir, `${name}.out`))).toBe(false)
    }
  })

  it('refuses to reorder entries tar extracts to one path, and keeps a hard link after its target however each is spelt', async () => {
    const dir = makeTemp()
    // `a`, then a newer `./a` appended: tar leaves the second; sorted, `./a` would come first.
    sh(dir, 'echo v1 > a && tar cf same.tar a && echo v2 > a && tar rf same.tar ./a')
    const same = await normalize(dir, ['same.tar', '-o', 'same.out'])
    expect(same.code).toBe(2)
    expect(same.stderr).toMatch(
      /same\.tar: the entry at byte 1024 \(\.\/a\) is extracted to the same path/,
    )
    expect(fs.existsSync(path.join(dir, 'same.out'))).toBe(false)
    // A hard link `./a` to `./z`: by bytes it sorts before `z`, but must follow it.
    sh(
      dir,
      `python3 -c "
import tarfile, io
t = tarfile.open('link.tar', 'w', format=tarfile.GNU_FORMAT)
i = tarfile.TarInfo('z'); i.size = 3; t.addfile(i, io.BytesIO(b'zz\\n'))
i = tarfile.TarInfo('./a'); i.type = tarfile.LNKTYPE; i.linkname = './z'; t.addfile(i)
t.close()
"`,
    )
    const link = await normalize(dir, ['link.tar', '-o', 'link.out'])
    expect(link.code, link.stderr).toBe(0)
    expect(sh(dir, 'mkdir x && tar -xf link.out -C x && cat x/a')).toBe('zz\n')
    // Written before its target, a hard link does not extract: moved after it, the
    // archive would extract what it did not. Refused.
    sh(
      dir,
      `python3 -c "
import tarfile, io
t = tarfile.open('early.tar', 'w', format=tarfile.GNU_FORMAT)
i = tarfile.TarInfo('a'); i.type = tarfile.LNKTYPE; i.linkname = 'z'; t.addfile(i)
i = tarfile.TarInfo('z'); i.size = 3; t.addfile(i, io.BytesIO(b'zz\\n'))
t.close()
"`,
    )
    const early = await normalize(dir, ['early.tar', '-o', 'early.out'])
    expect(early.code, early.stderr).toBe(2)
    expect(early.stderr).toContain(
      'early.tar: the hard link at byte 0 (a) comes before z, the file it links to, so tar cannot make it',
    )
  })

  it('keeps file capabilities, ACLs, IMA/EVM signatures and BSD file flags, drops other extended attributes, and names set-id bits it removes', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import io, tarfile
with tarfile.open('x.tar', 'w', format=tarfile.PAX_FORMAT) as t:
    info = tarfile.TarInfo('ping'); info.size = 2; info.mode = 0o4755
    info.pax_headers = {'SCHILY.xattr.security.capability': 'CAP', 'SCHILY.xattr.security.selinux': 'label', 'SCHILY.xattr.system.posix_acl_access': 'ACL', 'SCHILY.xattr.security.ima': 'IMA', 'SCHILY.xattr.security.evm': 'EVM', 'SCHILY.xattr.user.origin': 'url', 'SCHILY.fflags': 'schg,uappnd', 'SCHILY.xattr.security.SMACK64EXEC': 'Net', 'SCHILY.xattr.user.pax.flags': 'm', 'LIBARCHIVE.xattr.security%2Ecapability': 'Q0FQ', 'LIBARCHIVE.xattr.%73ystem.posix_acl_default': 'QUNM', 'LIBARCHIVE.xattr.user%2Eorigin': 'dXJs'}
    t.addfile(info, io.BytesIO(b'hi'))
PY`,
    )
    const run = await normalize(dir, ['x.tar', '-o', 'y.tar'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.files[0]?.changes).toContainEqual(
      expect.stringMatching(
        /^1 setuid, setgid or sticky bits removed \(the stable modes have none\): ping \(4755\) \[members [0-9a-f]{16}\]$/,
      ),
    )
    const kept = sh(
      dir,
      `python3 -c "
import tarfile
m = tarfile.open('y.tar').getmember('ping')
print(oct(m.mode), sorted(k for k in m.pax_headers if k.startswith(('SCHILY', 'LIBARCHIVE'))))"`,
    )
    expect(kept.trim()).toBe(
      "0o755 ['LIBARCHIVE.xattr.%73ystem.posix_acl_default', 'LIBARCHIVE.xattr.security%2Ecapability', 'SCHILY.fflags', 'SCHILY.xattr.security.SMACK64EXEC', 'SCHILY.xattr.security.capability', 'SCHILY.xattr.security.evm', 'SCHILY.xattr.security.ima', 'SCHILY.xattr.system.posix_acl_access', 'SCHILY.xattr.user.pax.flags']",
    )
  })

  it('names set-id bits it removes from a FIFO, a device or an unknown type, and refuses a sparse type under the POSIX magic', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import sys, tarfile
sys.path.insert(0, ${JSON.stringify(path.join(process.cwd(), 'test'))})
from rawtar import member, with_checksum, END
# An unknown type, which GNU tar extracts as a file, setuid; a FIFO setuid.
unknown = bytearray(member('su', b'abc', mode=0o4755))
unknown[156:157] = b'A'
fifo = tarfile.TarInfo('ff'); fifo.type = tarfile.FIFOTYPE; fifo.mode = 0o4755
open('odd.tar', 'wb').write(bytes(with_checksum(unknown)) + fifo.tobuf(format=tarfile.USTAR_FORMAT) + END)
PY
mkdir sp && truncate -s 3M sp/s1 && printf A | dd of=sp/s1 bs=1 seek=1000000 conv=notrunc 2>/dev/null
tar -cSf gnu.tar --format=oldgnu -C sp s1
# Old GNU's sparse member under POSIX ustar's magic: GNU tar reads a plain file of what
# follows, Python's tarfile the sparse one.
python3 - <<'PY'
import sys
sys.path.insert(0, ${JSON.stringify(path.join(process.cwd(), 'test'))})
from rawtar import with_checksum
d = bytearray(open('gnu.tar', 'rb').read())
h = bytearray(d[0:512]); assert h[156:157] == b'S'
h[257:265] = b'ustar\\x0000'
d[0:512] = with_checksum(h)
open('sparse.tar', 'wb').write(bytes(d))
PY`,
    )
    const run = await normalize(dir, ['odd.tar', '-o', 'odd.out'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.files[0]?.changes).toContainEqual(
      expect.stringMatching(
        /^2 setuid, setgid or sticky bits removed .*: ff \(4755\), su \(4755\)/,
      ),
    )
    const sparse = await normalize(dir, ['sparse.tar', '-o', 'sparse.out'])
    expect(sparse.code, sparse.stderr).toBe(2)
    expect(sparse.stderr).toContain("a GNU sparse member (type S) under a magic other than GNU's")
    expect(fs.existsSync(path.join(dir, 'sparse.out'))).toBe(false)
  })

  it('refuses a tar that ends without its end-of-archive blocks', async () => {
    const dir = makeTemp()
    sh(
      dir,
      'echo one > a && echo two > b && tar cf whole.tar a b && head -c 1024 whole.tar > cut.tar',
    )
    const cut = await normalize(dir, ['cut.tar', '-o', 'cut.out'])
    expect(cut.code).toBe(2)
    expect(cut.stderr).toMatch(
      /cut\.tar: the tar ends at byte 1024 without its end-of-archive blocks/,
    )
    expect(fs.existsSync(path.join(dir, 'cut.out'))).toBe(false)
  })

  it('keeps two files with one inode number on two devices apart (newc, made by hand)', async () => {
    const dir = makeTemp()
    // Two unrelated files, each linked elsewhere (nlink 2), inode 42 on devices 8 and 9.
    const hex = (v: number): string => v.toString(16).padStart(8, '0')
    const entry = (name: string, data: string, ino: number, dev: number, nlink: number) => {
      const fields = [ino, 0o100644, 0, 0, nlink, 0, data.length, dev, 0, 0, 0, name.length + 1, 0]
      const head = Buffer.from(`070701${fields.map(hex).join('')}${name}\0`)
      const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)])
      return Buffer.concat([pad(head), pad(Buffer.from(data))])
    }
    fs.writeFileSync(
      path.join(dir, 'x.cpio'),
      Buffer.concat([
        entry('one', 'first file\n', 42, 8, 2),
        entry('two', 'second file\n', 42, 9, 2),
        entry('TRAILER!!!', '', 0, 0, 1),
      ]),
    )
    await normalize(dir, ['x.cpio', '--in-place'])
    sh(dir, 'mkdir out && cd out && cpio -id --quiet < ../x.cpio')
    expect(fs.readFileSync(path.join(dir, 'out/one'), 'utf8')).toBe('first file\n')
    expect(fs.readFileSync(path.join(dir, 'out/two'), 'utf8')).toBe('second file\n')
  })

  it('refuses a crc cpio archive whose checksum disagrees with its data, as GNU cpio does', async () => {
    const dir = makeTemp()
    // A link first: GNU cpio sums a regular file's data only, and writes 0 for a link.
    sh(
      dir,
      'mkdir t && echo hello > t/f && ln -s some/target t/l && (cd t && printf "l\\nf\\n" | cpio -o -H crc --quiet) > ok.cpio',
    )
    const ok = fs.readFileSync(path.join(dir, 'ok.cpio'))
    // The check field is the header's thirteenth: 6 + 12 * 8 bytes in.
    const bad = Buffer.from(ok)
    const file = ok.indexOf('070702', 1, 'latin1')
    bad.write('00001234', file + 102, 'latin1')
    fs.writeFileSync(path.join(dir, 'bad.cpio'), bad)
    // GNU cpio says so, though its exit status stays 0.
    expect(sh(dir, 'mkdir x && cd x && cpio -id --quiet < ../bad.cpio 2>&1')).toMatch(
      /checksum error/,
    )
    expect((await normalize(dir, ['ok.cpio', '-o', 'ok.out'])).code).toBe(0)
    const run = await normalize(dir, ['bad.cpio', '-o', 'bad.out'])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(
      /bad\.cpio: .*the checksum of the entry at byte \d+ is 00001234, but its data sums to 0000021E/,
    )
    expect(fs.existsSync(path.join(dir, 'bad.out'))).toBe(false)
  })

  it('reads only TRAILER!!! and its NUL as the end of a cpio archive, as extractors do', async () => {
    const dir = makeTemp()
    // Two files of two links each, with an entry between them named `TRAILER!!!X`
    // (11 bytes, no NUL): a file to GNU cpio and libarchive, whose inode numbering must
    // not start again after it (the two files would become links of one another).
    sh(
      dir,
      `python3 - <<'PY'
def newc(name, data=b'', ino=0, nlink=1, mode=0o100644):
    head = '070701' + ''.join('%08X' % v for v in (ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name), 0))
    named = head.encode() + name
    pad = lambda b: b + bytes((4 - len(b) % 4) % 4)
    return pad(named) + pad(data)
end = newc(b'TRAILER!!!\\0', nlink=1, mode=0)
open('fake.cpio', 'wb').write(newc(b'a\\0', b'AAAA\\n', 100, 2) + newc(b'TRAILER!!!X', b'', 5) + newc(b'b\\0', b'BBBB\\n', 200, 2) + end)
open('nul.cpio', 'wb').write(newc(b'a\\0', b'AAAA\\n', 100) + newc(b'TRAILER!!!\\0x\\0', b'', 5) + newc(b'b\\0', b'BBBB\\n', 200) + end)
PY`,
    )
    expect(
      sh(dir, 'mkdir in && cd in && cpio -id --quiet < ../fake.cpio 2>/dev/null; cat a b'),
    ).toBe('AAAA\nBBBB\n')
    const run = await normalize(dir, ['fake.cpio', '-o', 'fake.out'])
    expect(run.code, run.stderr).toBe(0)
    expect(
      sh(dir, 'mkdir out && cd out && cpio -id --quiet < ../fake.out 2>/dev/null; cat a b'),
    ).toBe('AAAA\nBBBB\n')
    expect(sh(dir, 'mkdir bsd && cd bsd && bsdtar -xf ../fake.out && cat a b')).toBe('AAAA\nBBBB\n')
    // `TRAILER!!!` up to a NUL, and more: GNU cpio stops there, libarchive reads on.
    const nul = await normalize(dir, ['nul.cpio', '-o', 'nul.out'])
    expect(nul.code).toBe(2)
    expect(nul.stderr).toMatch(/GNU cpio reads it as the end of the archive, libarchive as a file/)
    expect(fs.existsSync(path.join(dir, 'nul.out'))).toBe(false)
  })

  it('normalizes each cpio archive of a concatenation, as an initramfs is made, and refuses junk after one', async () => {
    const dir = makeTemp()
    sh(
      dir,
      [
        'mkdir c1 c2 && echo one > c1/x && echo two > c2/y && touch -d 2002-02-02 c2/y',
        '(cd c1 && echo x | cpio -o -H newc --quiet) > 1.cpio && (cd c2 && echo y | cpio -o -H newc --quiet) > 2.cpio',
        'cat 1.cpio 2.cpio > both.cpio && (cat 1.cpio; printf JUNK) > junk.cpio',
      ].join(' && '),
    )
    const both = await normalize(dir, ['both.cpio', '-o', 'both.out'])
    expect(both.code, both.stderr).toBe(0)
    // Each part, normalized alone, is what the concatenation's parts became.
    const one = await normalize(dir, ['1.cpio', '-o', '1.out'])
    const two = await normalize(dir, ['2.cpio', '-o', '2.out'])
    expect(one.code + two.code).toBe(0)
    const parts = Buffer.concat(['1.out', '2.out'].map((f) => fs.readFileSync(path.join(dir, f))))
    expect(fs.readFileSync(path.join(dir, 'both.out')).equals(parts)).toBe(true)
    expect(
      sh(dir, `tail -c ${fs.statSync(path.join(dir, '2.out')).size} both.out | cpio -itv --quiet`),
    ).toMatch(/1970|2023/)
    const junk = await normalize(dir, ['junk.cpio', '-o', 'junk.out'])
    expect(junk.code).toBe(2)
    expect(junk.stderr).toMatch(
      /junk\.cpio: .*bytes after its TRAILER!!! entry, at byte \d+, are neither zeros nor another cpio archive/,
    )
    expect(fs.existsSync(path.join(dir, 'junk.out'))).toBe(false)
  })

  it('refuses a cpio archive cut before its trailer, and one with more entries than its inode field can number', async () => {
    const dir = makeTemp()
    sh(
      dir,
      'mkdir s && echo one > s/a && echo two > s/b && (cd s && ls | cpio -o -H newc --quiet > ../whole.cpio) && head -c $(grep -abo TRAILER whole.cpio | cut -d: -f1 | xargs -I{} expr {} - 110) whole.cpio > cut.cpio',
    )
    expect(sh(dir, 'cpio -it < cut.cpio 2>&1 || true')).toMatch(/premature end/)
    const cut = await normalize(dir, ['cut.cpio', '-o', 'cut.out'])
    expect(cut.code).toBe(2)
    expect(cut.stderr).toMatch(/cut\.cpio: .*no TRAILER!!! entry/)
    expect(fs.existsSync(path.join(dir, 'cut.out'))).toBe(false)
    // Old binary cpio numbers inodes in 16 bits: a, 65,535 others, then b, each a hard link
    // of one other file. Renumbered by position, b's would wrap onto a's.
    sh(
      dir,
      `python3 - <<'PY'
import struct
def entry(name, data, ino, nlink):
    n = name.encode() + b'\\0'
    head = struct.pack('<13H', 0o70707, 0, ino, 0o100644, 0, 0, nlink, 0, 0, 0, len(n), 0, len(data)) + n
    if len(head) % 2: head += b'\\0'
    return head + data + (b'\\0' if len(data) % 2 else b'')
out = [entry('a', b'AAAA', 100, 2)]
out += [entry('f%d' % i, b'', 1000 + i % 60000, 1) for i in range(65535)]
out += [entry('b', b'BBBB', 200, 2), entry('TRAILER!!!', b'', 0, 1)]
open('many.cpio', 'wb').write(b''.join(out))
PY`,
    )
    const many = await normalize(dir, ['many.cpio', '-o', 'many.out'])
    expect(many.code).toBe(2)
    expect(many.stderr).toMatch(
      /many\.cpio: .*more entries than its inode field can number \(65535\)/,
    )
    expect(fs.existsSync(path.join(dir, 'many.out'))).toBe(false)
  })

  it('sets the dates in a gettext catalog’s header without moving anything else', async () => {
    const dir = makeTemp()
    const po = (date: string) =>
      `msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"POT-Creation-Date: ${date}\\n"\n"PO-Revision-Date: ${date}\\n"\n"X-Upstream-PO-Revision-Date: 2019-05-05 11:11+0000\\n"\n\nmsgid "Hello"\nmsgstr "Bonjour"\n`
    fs.writeFileSync(path.join(dir, 'a.po'), po('2026-11-22 10:00+0100'))
    fs.writeFileSync(path.join(dir, 'b.po'), po('2027-01-05 08:30-0500'))
    sh(dir, 'msgfmt -o a.mo a.po && msgfmt -o b.mo b.po')
    const { files } = await normalize(dir, ['a.mo', 'b.mo', '--in-place'])
    expect(files.map((f) => f.format)).toEqual(['mo', 'mo'])
    // msgfmt keeps PO-Revision-Date (and drops POT-Creation-Date) in the catalog header.
    expect(files[0]?.changes).toEqual(['PO-Revision-Date set to the epoch (UTC)'])
    expect(
      fs.readFileSync(path.join(dir, 'a.mo')).equals(fs.readFileSync(path.join(dir, 'b.mo'))),
    ).toBe(true)
    expect(
      sh(
        dir,
        `python3 -c "import gettext; t = gettext.GNUTranslations(open('a.mo','rb')); print(t.gettext('Hello'), t.info()['po-revision-date'], t.info()['x-upstream-po-revision-date'])"`,
      ).trim(),
    ).toBe('Bonjour 2023-11-14 22:13+0000 2019-05-05 11:11+0000')
  })
})

const digest = (file: string, algorithm = 'sha256', encoding: 'hex' | 'base64' = 'hex'): string =>
  crypto.createHash(algorithm).update(fs.readFileSync(file)).digest(encoding)

/**
 * A tiny package packed by the real npm (it has no dependencies, so npm stays offline):
 * an executable, a path too long for a plain tar header, and npm's own integrity string.
 */
function npmPack(dir: string): { tarball: string; integrity: string } {
  const deep = 'lib/a-directory-name-long-enough/to-need-more-than-a-hundred-bytes-of-path'
  sh(
    dir,
    `mkdir -p pkg/${deep} && echo '{"name":"tiny","version":"1.0.0","bin":{"tiny":"cli.js"}}' > pkg/package.json && printf '#!/usr/bin/env node\\n' > pkg/cli.js && chmod 755 pkg/cli.js && echo 'module.exports = 1' > pkg/${deep}/index.js`,
  )
  const out = execFileSync('npm', ['pack', '--offline', '--json', '--pack-destination', dir], {
    cwd: path.join(dir, 'pkg'),
    env: { ...process.env, npm_config_cache: path.join(dir, 'npm-cache') },
    encoding: 'utf8',
  })
  const [packed] = JSON.parse(out) as { filename: string; integrity: string }[]
  if (packed === undefined) throw new Error('npm pack reported no tarball')
  return { tarball: path.join(dir, packed.filename), integrity: packed.integrity }
}

describe('reproof normalize output, taken by the tools that install it', () => {
  it('a package tarball made by tar installs with npm from the normalized file', async () => {
    const dir = makeTemp()
    sh(
      dir,
      [
        'mkdir -p package/lib && printf \'{"name":"tiny-tar","version":"1.0.0","main":"lib/index.js"}\' > package/package.json',
        "echo 'module.exports = 42' > package/lib/index.js && touch -d @1900000000 package/lib/index.js",
        'tar --owner=7 --group=8 -czf tiny.tgz package',
      ].join(' && '),
    )
    const run = await normalize(dir, ['tiny.tgz', '--in-place'])
    expect(run.files[0]?.changed).toBe(true)
    sh(
      dir,
      'mkdir app && cd app && echo {} > package.json && npm install --offline --no-audit --no-fund --silent ../tiny.tgz >/dev/null',
    )
    expect(sh(dir, 'node -p "require(\'./app/node_modules/tiny-tar\')"').trim()).toBe('42')
  })

  it('a wheel whose RECORD hashes still match, importable from the normalized file and installed by pip', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 -c "
import base64, hashlib, zipfile
files = {'demo/__init__.py': b'ANSWER = 42\\n', 'demo-1.0.dist-info/WHEEL': b'Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n', 'demo-1.0.dist-info/METADATA': b'Metadata-Version: 2.1\\nName: demo\\nVersion: 1.0\\n'}
h = lambda b: 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b'=').decode()
record = ''.join(f'{n},{h(b)},{len(b)}\\n' for n, b in reversed(list(files.items()))) + 'demo-1.0.dist-info/RECORD,,\\n'
with zipfile.ZipFile('demo-1.0-py3-none-any.whl', 'w', zipfile.ZIP_DEFLATED) as z:
    for n, b in reversed(list(files.items())): z.writestr(n, b)
    z.writestr('demo-1.0.dist-info/RECORD', record)
"`,
    )
    const run = await normalize(dir, ['demo-1.0-py3-none-any.whl', '--in-place'])
    expect(run.files[0]).toMatchObject({ format: 'wheel', changed: true })
    // What an installer checks: every member listed, with its digest and size.
    const checked = sh(
      dir,
      `python3 -c "
import base64, csv, hashlib, io, sys, zipfile
z = zipfile.ZipFile('demo-1.0-py3-none-any.whl')
rows = list(csv.reader(io.TextIOWrapper(z.open('demo-1.0.dist-info/RECORD'))))
for name, digest, size in rows:
    if not digest: continue
    data = z.read(name)
    assert digest == 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode(), name
    assert int(size) == len(data), name
assert sorted(r[0] for r in rows) == sorted(z.namelist())
sys.path.insert(0, 'demo-1.0-py3-none-any.whl')
import demo
print(demo.ANSWER)
"`,
    )
    expect(checked.trim()).toBe('42')
    // And pip installs it, offline, from the normalized file.
    execFileSync(
      'python3',
      [
        '-m',
        'pip',
        'install',
        '--no-index',
        '--no-deps',
        '--target',
        'site',
        'demo-1.0-py3-none-any.whl',
      ],
      {
        cwd: dir,
        env: {
          ...process.env,
          PIP_DISABLE_PIP_VERSION_CHECK: '1',
          // Into a directory of the test's own, never the system's.
          PIP_BREAK_SYSTEM_PACKAGES: '1',
        },
        stdio: 'pipe',
      },
    )
    expect(sh(dir, 'PYTHONPATH=site python3 -c "import demo; print(demo.ANSWER)"').trim()).toBe(
      '42',
    )
    expect(fs.existsSync(path.join(dir, 'site/demo-1.0.dist-info/RECORD'))).toBe(true)
  })

  it('a .deb whose ar headers dpkg-deb still reads, with the same control and files', async () => {
    const dir = makeTemp()
    sh(
      dir,
      [
        'mkdir -p pkg/DEBIAN pkg/usr/share/demo && echo hello > pkg/usr/share/demo/hello.txt',
        "printf 'Package: demo\\nVersion: 1.0\\nArchitecture: all\\nMaintainer: x <x@example.org>\\nDescription: demo\\n' > pkg/DEBIAN/control",
        'dpkg-deb --build pkg demo.deb >/dev/null && cp demo.deb before.deb',
      ].join(' && '),
    )
    const run = await normalize(dir, ['demo.deb', '--in-place'])
    expect(run.files[0]?.format).toBe('ar')
    expect(sh(dir, 'dpkg-deb --field demo.deb Package').trim()).toBe('demo')
    expect(sh(dir, 'dpkg-deb --contents demo.deb | awk "{print \\$6}"')).toBe(
      sh(dir, 'dpkg-deb --contents before.deb | awk "{print \\$6}"'),
    )
    sh(
      dir,
      'dpkg-deb --extract demo.deb x && cmp x/usr/share/demo/hello.txt pkg/usr/share/demo/hello.txt',
    )
    // A size that is not all digits (`4abc`): dpkg refuses it, and so does normalize.
    const header = (name: string, size: string) =>
      `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${size.padEnd(10)}\`\n`
    fs.writeFileSync(path.join(dir, 'odd.a'), `!<arch>\n${header('debian-binary', '4abc')}2.0\n`)
    const odd = await normalize(dir, ['odd.a', '-o', 'odd.out'])
    expect([odd.code, odd.stderr]).toEqual([2, expect.stringMatching(/bad member size "4abc"/)])
    expect(fs.existsSync(path.join(dir, 'odd.out'))).toBe(false)
  })
})

describe('reproof normalize keeps what needs no change', () => {
  it('gives a zip whose times needed setting the bytes of the same zip already at the epoch', async () => {
    // Info-ZIP writes "made by 3.0, needs 1.0" for stored members. The rewrite wrote 2.0
    // in both, so whether a build's times happened to be at the epoch decided the bytes.
    const dir = makeTemp()
    sh(dir, 'mkdir s && echo a > s/a.txt && echo b > s/b.txt')
    // At the epoch (1700000000, an even second, as DOS times are), and a year after.
    sh(dir, `touch -d @${EPOCH} s/* && cd s && TZ=UTC zip -q -X -0 ../early.zip a.txt b.txt`)
    sh(dir, 'touch -d @1730000000 s/* && cd s && TZ=UTC zip -q -X -0 ../late.zip a.txt b.txt')
    const early = await normalize(dir, ['early.zip', '-o', 'early.n.zip'])
    const late = await normalize(dir, ['late.zip', '-o', 'late.n.zip'])
    expect([early.code, late.code]).toEqual([0, 0])
    expect(early.files[0]?.changed).toBe(false)
    expect(late.files[0]?.changed).toBe(true)
    expect(digest(path.join(dir, 'late.n.zip'))).toBe(digest(path.join(dir, 'early.zip')))
    sh(dir, 'unzip -tq late.n.zip')
  })

  it('leaves a tar split over several gzip streams (an Alpine package) as it is, rather than merge them', async () => {
    const dir = makeTemp()
    // As abuild writes one: signature, control and data, each its own gzip stream, the
    // first two tars without their end blocks; the members' owners and times need a change.
    sh(
      dir,
      `python3 - <<'PY'
import gzip, io, tarfile
def part(name, data, end):
    b = io.BytesIO()
    t = tarfile.open(fileobj=b, mode='w', format=tarfile.USTAR_FORMAT)
    i = tarfile.TarInfo(name); i.size = len(data); i.mtime = 1700000000; i.uid = 1000
    t.addfile(i, io.BytesIO(data))
    if end: t.close()
    return gzip.compress(b.getvalue(), mtime=0)
open('hello.apk', 'wb').write(part('.SIGN.RSA.key.pub', b'sig', False) + part('.PKGINFO', b'pkgname = hello\\n', False) + part('usr/bin/hello', b'#!/bin/sh\\n', True))
PY`,
    )
    expect(sh(dir, 'tar -tzf hello.apk')).toBe('.SIGN.RSA.key.pub\n.PKGINFO\nusr/bin/hello\n')
    // Zero padding after the last stream (which gzip -t reads past) changes nothing.
    sh(dir, 'cp hello.apk padded.apk && head -c 512 /dev/zero >> padded.apk && gzip -t padded.apk')
    for (const file of ['hello.apk', 'padded.apk']) {
      const before = digest(path.join(dir, file))
      const run = await normalize(dir, [file, '-o', `out-${file}`])
      expect(run.code, run.stderr).toBe(0)
      expect(run.files[0]?.kept).toMatch(/split over 3 gzip streams/)
      expect(digest(path.join(dir, `out-${file}`))).toBe(before)
    }
    // One stream and padding: written as one new stream, and the report says so.
    sh(dir, 'echo x > f && tar -czf one.tgz f && head -c 512 /dev/zero >> one.tgz')
    const one = await normalize(dir, ['one.tgz', '-o', 'out-one.tgz'])
    expect(one.code, one.stderr).toBe(0)
    expect(one.files[0]?.changes).toContain(
      'written as one new stream: the file is not a plain run of gzip members (it has padding after the last, say)',
    )
  })

  it('keeps a real npm pack tarball byte for byte, to another file and in place', async () => {
    const dir = makeTemp()
    const { tarball, integrity } = npmPack(dir)
    const before = digest(tarball)
    const copy = await normalize(dir, [tarball, '-o', 'copy.tgz'])
    expect(copy.files[0]).toMatchObject({ format: 'tar.gz', changed: false, changes: [] })
    expect(digest(path.join(dir, 'copy.tgz'))).toBe(before)
    const inPlace = await normalize(dir, [tarball, '--in-place'])
    expect(inPlace.files[0]).toMatchObject({ changed: false, changes: [], output: null })
    expect(inPlace.files[0]?.digests).toEqual({ before, after: before })
    expect(digest(tarball)).toBe(before)
    // The digest npm publishes under is the one reproof reports.
    expect(`sha512-${digest(tarball, 'sha512', 'base64')}`).toBe(integrity)
    // A tar of `package/` names that npm did not make is sorted like any other: the same
    // files in two orders come out the same.
    sh(
      dir,
      'mkdir -p other/package && echo a > other/package/a && echo b > other/package/b && tar -C other -cf ab.tar package/a package/b && tar -C other -cf ba.tar package/b package/a',
    )
    const sorted = await normalize(dir, ['ab.tar', 'ba.tar', '--in-place'])
    expect(sorted.code, sorted.stderr).toBe(0)
    expect(digest(path.join(dir, 'ab.tar'))).toBe(digest(path.join(dir, 'ba.tar')))
  })

  it.each([[[]], [['--normalize']]])(
    'runs npm pack twice and ships and reports npm’s digest (flags: %j)',
    async (flags: string[]) => {
      const source = makeTemp()
      const { tarball } = npmPack(source)
      fs.rmSync(tarball)
      const outDir = makeTemp()
      // The build packs for real, in each run; npm's cache goes to the run's temp dir.
      // prettier-ignore
      const run = await runCli([
        'build', '-C', path.join(source, 'pkg'), '-o', 'tiny-1.0.0.tgz', '--epoch', EPOCH,
        '--json', '--out-dir', outDir, ...flags, '--', 'sh', '-c',
        'npm_config_cache="$TMPDIR/npm" npm pack --offline --silent >/dev/null',
      ])
      expect(run.code).toBe(0)
      const result = JSON.parse(run.stdout) as {
        verdict: string
        artifacts: { digest: { sha256: string } }[]
      }
      expect(result.verdict).toBe('reproducible')
      // npm's own bytes: what npm pack makes of the same package outside reproof.
      const reference = npmPack(makeTemp())
      expect(result.artifacts[0]?.digest.sha256).toBe(digest(reference.tarball))
      expect(digest(path.join(outDir, 'tiny-1.0.0.tgz'))).toBe(digest(reference.tarball))
    },
  )

  it('with --normalize, builds archives one run made with every field stable and the other not, reproducibly', async () => {
    const source = makeTemp()
    // Run B's umask leaves group write on: its archives need a change, run A's none.
    const script = `mkdir -p out && echo data > gen.txt && touch -d @1600000000 gen.txt
tar --sort=name --mtime=@1700000000 --owner=0 --group=0 --numeric-owner -cf - gen.txt | gzip -n > out/app.tgz
tar --sort=name --mtime=@1700000000 --owner=0 --group=0 --numeric-owner --zstd -cf out/app.tar.zst gen.txt
TZ=UTC zip -q -X out/app.zip gen.txt`
    const outDir = makeTemp()
    // prettier-ignore
    const run = await runCli([
      'build', '-C', source, '-o', 'out/app.tgz', '-o', 'out/app.tar.zst', '-o', 'out/app.zip', '--epoch', EPOCH,
      '--json', '--out-dir', outDir, '--vary', 'umask', '--normalize', '--', 'sh', '-c', script,
    ])
    expect(run.code).toBe(0)
    const result = JSON.parse(run.stdout) as {
      reproducible: boolean
      reproducibleWithoutNormalization: boolean
      artifacts: { name: string; digest: { sha256: string } }[]
      normalization: { artifacts: { name: string; normalized: string[]; changes: string[][] }[] }
    }
    expect(result.reproducibleWithoutNormalization).toBe(false)
    expect(result.reproducible).toBe(true)
    for (const name of ['out/app.tgz', 'out/app.tar.zst', 'out/app.zip']) {
      const record = result.normalization.artifacts.find((x) => x.name === name)
      expect(record?.normalized[0]).toBe(record?.normalized[1])
      // Run A's archive needed no change of its own; it is rewritten in reproof's layout.
      expect(record?.changes[0]).not.toEqual([])
      expect(digest(path.join(outDir, name))).toBe(record?.normalized[0])
    }
  })

  // Each archive is made by the tool that makes it in real builds; `canonical` ones are
  // made with every field already stable, so the first pass must keep them as they are.
  const made: { kind: string; file: string; script: string; canonical?: boolean }[] = [
    { kind: 'jar (jar)', file: 'app.jar', script: 'jar cf app.jar -C pkg .' },
    { kind: 'zip (zip -X)', file: 'app.zip', script: 'zip -q -X -r app.zip pkg' },
    {
      kind: 'zip (zip -X, stable fields)',
      file: 'stable.zip',
      script:
        'chmod -R go-w pkg && find pkg -exec touch -h -d @1700000000 {} + && find pkg | sort | TZ=UTC zip -q -X -y stable.zip -@',
      canonical: true,
    },
    {
      kind: 'wheel (python zipfile)',
      file: 'demo-1.0-py3-none-any.whl',
      script: `mkdir -p w/demo w/demo-1.0.dist-info && echo 'x = 1' > w/demo/__init__.py && echo 'Wheel-Version: 1.0' > w/demo-1.0.dist-info/WHEEL
printf 'demo/__init__.py,sha256=abc,6\\ndemo-1.0.dist-info/WHEEL,sha256=def,19\\ndemo-1.0.dist-info/RECORD,,\\n' > w/demo-1.0.dist-info/RECORD
python3 -c "
import os, zipfile
with zipfile.ZipFile('demo-1.0-py3-none-any.whl', 'w', zipfile.ZIP_DEFLATED) as z:
    for top, dirs, files in os.walk('w'):
        for f in files: z.write(os.path.join(top, f), os.path.relpath(os.path.join(top, f), 'w'))"`,
    },
    {
      kind: 'wheel (python zipfile, stable fields)',
      file: 'stable-1.0-py3-none-any.whl',
      script: `python3 -c "
import zipfile
with zipfile.ZipFile('stable-1.0-py3-none-any.whl', 'w', zipfile.ZIP_DEFLATED) as z:
    for name, data in [('stable-1.0.dist-info/RECORD', 'stable-1.0.dist-info/RECORD,,\\nstable/__init__.py,sha256=abc,6\\n'), ('stable/__init__.py', 'x = 1\\n')]:
        info = zipfile.ZipInfo(name, (2023, 11, 14, 22, 13, 20))
        info.external_attr = 0o100644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, data)"`,
      canonical: true,
    },
    {
      kind: 'tar.gz (GNU tar, stable fields, gzip -n)',
      file: 'stable.tgz',
      // --mode applies to symbolic links too, whose stable mode is 0777: the link stays out.
      script:
        'tar --sort=name --mtime=@1700000000 --owner=0 --group=0 --numeric-owner --mode=go-w --exclude=link -cf - pkg | gzip -n > stable.tgz',
      canonical: true,
    },
    { kind: 'tar.gz (tar -czf)', file: 'app.tgz', script: 'tar -czf app.tgz pkg' },
    { kind: 'tar (GNU tar)', file: 'app.tar', script: 'tar --owner=7 -cf app.tar pkg' },
    { kind: 'gzip (gzip, with name)', file: 'x.c.gz', script: 'gzip -c pkg/lib/deep/x.c > x.c.gz' },
    {
      kind: 'ar (ar rcU)',
      file: 'lib.a',
      script: 'cp pkg/lib/deep/x.c b.o && cp pkg/bin/run a.o && ar rcU lib.a b.o a.o',
    },
    {
      kind: 'cpio (newc)',
      file: 'app.cpio',
      script: 'find pkg | sort | cpio -o -H newc --quiet > app.cpio',
    },
    {
      kind: 'mo (msgfmt)',
      file: 'app.mo',
      script: `printf 'msgid ""\\nmsgstr ""\\n"Content-Type: text/plain; charset=UTF-8\\\\n"\\n"PO-Revision-Date: 2030-01-02 03:04+0100\\\\n"\\n' > app.po && msgfmt -o app.mo app.po`,
    },
    {
      kind: 'png (with tIME)',
      file: 'app.png',
      script: `python3 -c "
import struct, zlib
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
open('app.png', 'wb').write(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 1, 1, 8, 0, 0, 0, 0))
    + chunk(b'tIME', struct.pack('>HBBBBB', 2030, 1, 2, 3, 4, 5)) + chunk(b'IDAT', zlib.compress(b'\\x00\\x80')) + chunk(b'IEND', b''))"`,
    },
  ]

  it.each(made)('normalizes a $kind once and for all', async ({ file, script, canonical }) => {
    const dir = makeTemp()
    tree(dir, 'pkg')
    sh(dir, script)
    const first = await normalize(dir, [file, '-o', 'once'])
    const second = await normalize(dir, ['once', '-o', 'twice'])
    const [input, once, twice] = [file, 'once', 'twice'].map((f) =>
      fs.readFileSync(path.join(dir, f)),
    )
    expect(first.files[0]?.format).not.toBe('unknown')
    expect(first.files[0]?.changed).toBe(canonical !== true)
    // A change that happened is said; none is claimed when nothing happened.
    expect((first.files[0]?.changes.length ?? 0) > 0).toBe(first.files[0]?.changed)
    if (canonical === true) expect(once?.equals(input ?? Buffer.alloc(0))).toBe(true)
    expect(second.files[0]).toMatchObject({ changed: false, changes: [] })
    expect(twice?.equals(once ?? Buffer.alloc(0))).toBe(true)
  })
})

describe('reproof normalize on zips inside zips, and zips after a prefix', () => {
  /** A fat jar as Spring Boot lays one out: a library jar stored under BOOT-INF/lib/. */
  function fatJar(dir: string, out: string): void {
    sh(
      dir,
      `mkdir -p ${out}/lib ${out}/app ${out}/fat/BOOT-INF/lib
javac -d ${out}/lib src/Lib.java && jar --create --file ${out}/fat/BOOT-INF/lib/lib.jar -C ${out}/lib .
javac -d ${out}/app src/Main.java && cp ${out}/app/Main.class ${out}/fat/
jar --create --no-compress --file ${out}/fat.jar --main-class Main -C ${out}/fat .`,
    )
  }

  it('normalizes the jars inside a fat jar: two builds at different times become identical, stored, and still run', async () => {
    const dir = makeTemp()
    fs.mkdirSync(path.join(dir, 'src'))
    fs.writeFileSync(
      path.join(dir, 'src/Lib.java'),
      'package lib; public class Lib { public static String greet() { return "from the nested jar"; } }\n',
    )
    // Loads the library out of the fat jar, as a fat jar's launcher does.
    fs.writeFileSync(
      path.join(dir, 'src/Main.java'),
      `import java.io.*; import java.net.*; import java.nio.file.*;
public class Main { public static void main(String[] a) throws Exception {
  try (InputStream in = Main.class.getResourceAsStream("/BOOT-INF/lib/lib.jar")) {
    Path t = Files.createTempFile("lib", ".jar"); Files.copy(in, t, StandardCopyOption.REPLACE_EXISTING);
    URLClassLoader l = new URLClassLoader(new URL[]{t.toUri().toURL()});
    System.out.println(l.loadClass("lib.Lib").getMethod("greet").invoke(null)); } } }
`,
    )
    fatJar(dir, 'one')
    sh(dir, 'sleep 2')
    fatJar(dir, 'two')
    expect(digest(path.join(dir, 'one/fat.jar'))).not.toBe(digest(path.join(dir, 'two/fat.jar')))
    const run = await normalize(dir, ['one/fat.jar', 'two/fat.jar', '--in-place'])
    expect(run.code).toBe(0)
    expect(run.files[0]?.changes).toContain('1 nested archive normalized: BOOT-INF/lib/lib.jar')
    expect(digest(path.join(dir, 'one/fat.jar'))).toBe(digest(path.join(dir, 'two/fat.jar')))
    expect(sh(dir, 'java -jar one/fat.jar').trim()).toBe('from the nested jar')
    // Still stored, as a fat jar's loader needs; and the jar inside is normal itself.
    expect(sh(dir, 'unzip -v one/fat.jar BOOT-INF/lib/lib.jar')).toMatch(/ Stored /)
    sh(dir, 'unzip -p one/fat.jar BOOT-INF/lib/lib.jar > inner.jar && unzip -tq inner.jar')
    const dates = sh(
      dir,
      `python3 -c "import zipfile; print({i.date_time for i in zipfile.ZipFile('inner.jar').infolist()})"`,
    )
    expect(dates.trim()).toBe('{(2023, 11, 14, 22, 13, 20)}')
  })

  it('leaves a signed jar inside as it is, and a member that only looks like a zip, saying so', async () => {
    const dir = makeTemp()
    tree(dir, 'pkg')
    sh(
      dir,
      [
        'jar cf signed.jar -C pkg .',
        'keytool -genkeypair -keystore ks.p12 -storetype PKCS12 -storepass secret -keypass secret -alias k -dname CN=test -keyalg EC -validity 2 >/dev/null 2>&1',
        'jarsigner -keystore ks.p12 -storepass secret signed.jar k >/dev/null 2>&1',
        // Starts as a zip does, and is not one.
        "printf 'PK\\003\\004 not a zip at all, only its first four bytes' > fake.zip",
        'mkdir -p outer/lib && cp signed.jar fake.zip outer/lib/ && cd outer && zip -q -r ../outer.zip lib',
      ].join(' && '),
    )
    const run = await normalize(dir, ['outer.zip', '-o', 'out.zip'])
    expect(run.code).toBe(0)
    const said = [...(run.files[0]?.changes ?? []), run.files[0]?.kept ?? ''].join('\n')
    expect(said).toMatch(/nested lib\/signed\.jar: a signed jar \(META-INF\/K\.SF\)/)
    expect(said).toMatch(/nested lib\/fake\.zip: left as it is: .*not a readable zip archive/)
    sh(dir, 'unzip -p out.zip lib/signed.jar > got.jar && unzip -p out.zip lib/fake.zip > got.zip')
    expect(digest(path.join(dir, 'got.jar'))).toBe(digest(path.join(dir, 'signed.jar')))
    expect(digest(path.join(dir, 'got.zip'))).toBe(digest(path.join(dir, 'fake.zip')))
    expect(sh(dir, 'jarsigner -verify got.jar')).toMatch(/jar verified/)
  })

  it("leaves a wheel's RECORD as it is where a checksum list holds its digest or a signature beside it signs it", async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import hashlib, zipfile
record = b'b.py,sha256=x,1\\na.py,sha256=y,1\\npkg-1.dist-info/RECORD,,\\n'
for name, extra in [
    ('sums.whl', ('SHA256SUMS', hashlib.sha256(record).hexdigest().encode() + b'  pkg-1.dist-info/RECORD\\n')),
    ('sha3.whl', ('CHECKSUMS', hashlib.sha3_256(record).hexdigest().encode() + b'  pkg-1.dist-info/RECORD\\n')),
    ('signed.whl', ('pkg-1.dist-info/RECORD.jws', b'{"signatures": []}')),
    ('plain.whl', None),
]:
    with zipfile.ZipFile(name, 'w') as z:
        z.writestr('a.py', 'a'); z.writestr('b.py', 'b'); z.writestr('pkg-1.dist-info/RECORD', record)
        if extra: z.writestr(*extra)
PY`,
    )
    fs.mkdirSync(path.join(dir, 'out'))
    const run = await normalize(dir, [
      'sums.whl',
      'sha3.whl',
      'signed.whl',
      'plain.whl',
      '-o',
      'out',
    ])
    expect(run.code, run.stderr).toBe(0)
    const said = run.files.map((f) => f.changes.join('\n'))
    expect(said[0]).toContain('pkg-1.dist-info/RECORD: left as it is, SHA256SUMS holds its digest')
    expect(said.splice(1, 1)[0]).toContain(
      'pkg-1.dist-info/RECORD: left as it is, CHECKSUMS holds its digest',
    )
    // A signed wheel is left whole, as ever.
    expect(fs.readFileSync(path.join(dir, 'out', 'signed.whl'))).toEqual(
      fs.readFileSync(path.join(dir, 'signed.whl')),
    )
    expect(said[2]).toContain('RECORD rewritten')
    // The list still checks out in what ships.
    expect(
      sh(dir, 'mkdir x && cd x && unzip -q ../out/sums.whl && sha256sum -c SHA256SUMS'),
    ).toContain('pkg-1.dist-info/RECORD: OK')
    // A binary wheel: a native library over 4 MiB, which is not searched, does not stop
    // the sort (two builds whose RECORDs differ in order come out the same), and is said.
    sh(
      dir,
      `python3 - <<'PY'
import os, zipfile
native = os.urandom(5 * 1024 * 1024)
for name, lines in [('b1.whl', [b'a.py,,', b'pkg/_n.so,,']), ('b2.whl', [b'pkg/_n.so,,', b'a.py,,'])]:
    with zipfile.ZipFile(name, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('a.py', 'a'); z.writestr('pkg/_n.so', native)
        z.writestr('pkg-1.dist-info/RECORD', b'\\n'.join(lines + [b'pkg-1.dist-info/RECORD,,']) + b'\\n')
PY`,
    )
    const binary = await normalize(dir, ['b1.whl', 'b2.whl', '-o', 'out'])
    expect(binary.code, binary.stderr).toBe(0)
    expect(binary.files[0]?.changes.join('\n')).toContain(
      'pkg-1.dist-info/RECORD (1 member too large or compressed otherwise not searched for its digest) rewritten',
    )
    expect(fs.readFileSync(path.join(dir, 'out', 'b1.whl'))).toEqual(
      fs.readFileSync(path.join(dir, 'out', 'b2.whl')),
    )
  })

  it('leaves a zip inside as it is where any other member holds its digest or signs it, and a signed wheel whole', async () => {
    const dir = makeTemp()
    sh(
      dir,
      [
        'mkdir c && echo class > c/A.class && (cd c && jar cf ../foo-1.0.jar A.class) && cp foo-1.0.jar lib.jar',
        // A bundle with a SHA256SUMS, one with an SHA-1 in another layout, one with a signature beside it.
        'sha256sum foo-1.0.jar > SHA256SUMS && zip -q -X sums.zip foo-1.0.jar SHA256SUMS',
        "printf 'artifact: %s\\n' $(sha1sum lib.jar | cut -c1-40 | tr a-f A-F) > meta.txt && zip -q -X sha1.zip lib.jar meta.txt",
        'echo signature > lib.jar.asc && zip -q -X signed.zip lib.jar lib.jar.asc',
        'zip -q -X plain.zip lib.jar',
        // A SHA-384 list; and an SBOM over 4 MiB, which is not searched, holding the SHA-256.
        'sha384sum lib.jar > SHA384SUMS && zip -q -X sha384.zip lib.jar SHA384SUMS',
        '{ head -c 4000000 /dev/urandom | base64; sha256sum lib.jar; } > sbom.json && zip -q -X big.zip lib.jar sbom.json',
      ].join(' && '),
    )
    fs.mkdirSync(path.join(dir, 'out'))
    const run = await normalize(dir, [
      'sums.zip',
      'sha1.zip',
      'signed.zip',
      'plain.zip',
      'sha384.zip',
      'big.zip',
      '-o',
      'out',
    ])
    expect(run.code, run.stderr).toBe(0)
    const said = run.files.map((f) => f.changes.join('\n'))
    expect(said[0]).toContain('nested foo-1.0.jar: left as it is, SHA256SUMS holds its digest')
    expect(said[1]).toContain('nested lib.jar: left as it is, meta.txt holds its digest')
    expect(said[2]).toContain(
      'nested lib.jar: left as it is, lib.jar.asc beside it signs or checks it',
    )
    // With nothing pinning it, the zip inside is normalized.
    expect(said[3]).toContain('1 nested archive normalized: lib.jar')
    expect(said[4]).toContain('nested lib.jar: left as it is, SHA384SUMS holds its digest')
    expect(said[5]).toContain(
      'nested lib.jar: left as it is, the archive holds members reproof does not search',
    )
    sh(path.join(dir, 'out'), 'mkdir x && cd x && unzip -q ../sums.zip && sha256sum -c SHA256SUMS')
    // A wheel whose RECORD is signed (PEP 427: RECORD.jws) is left whole: sorting RECORD would break it.
    sh(
      dir,
      `python3 - <<'PY'
import zipfile
with zipfile.ZipFile('pkg-1.0-py3-none-any.whl', 'w') as z:
    for n, b in [('pkg/__init__.py', ''), ('pkg-1.0.dist-info/RECORD', 'pkg/b.py,,\\npkg/a.py,,\\n'), ('pkg-1.0.dist-info/RECORD.jws', '{}')]:
        z.writestr(zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0)), b)
PY`,
    )
    const wheel = await normalize(dir, ['pkg-1.0-py3-none-any.whl', '-o', 'wheel.out'])
    expect(wheel.code, wheel.stderr).toBe(0)
    expect(wheel.files[0]?.kept).toMatch(/a signed package \(pkg-1\.0\.dist-info\/RECORD\.jws\)/)
    expect(digest(path.join(dir, 'wheel.out'))).toBe(
      digest(path.join(dir, 'pkg-1.0-py3-none-any.whl')),
    )
  })

  it('stops on SIGTERM (exit 130): nothing put in place, no temporary file left', async () => {
    const dir = makeTemp()
    const tmp = makeTemp()
    sh(dir, 'head -c 400000000 /dev/zero > big && tar -cf big.tar big && rm big')
    const run = await spawnCli(
      ['normalize', 'big.tar', '--in-place'].map((a) => (a === 'big.tar' ? path.join(dir, a) : a)),
      {
        env: { PATH: process.env.PATH ?? '', TMPDIR: tmp },
        // Once its work directory is made: the 400 MB are then being read.
        killWhen: () => fs.readdirSync(tmp).length > 0,
      },
    )
    expect(run.code, run.stderr).toBe(130)
    expect(fs.readdirSync(tmp)).toEqual([])
    expect(fs.readdirSync(dir)).toEqual(['big.tar'])
  })

  it.runIf(canBindMount)(
    'names the outputs already in place when a later one cannot be put there',
    () => {
      // A file mounted over (a container's volume) cannot be renamed over: EBUSY, after
      // the first input was put in place.
      const dir = makeTemp()
      sh(dir, 'printf x > f && tar --mtime=@5 -cf a.tar f && cp a.tar b.tar && cp a.tar over')
      const before = fs.readFileSync(path.join(dir, 'b.tar'))
      // prettier-ignore
      const run = spawnSync('unshare', [
        '--user', '--map-root-user', '--mount', 'sh', '-c', 'mount --bind over b.tar && exec "$@"', 'sh',
        process.execPath, BIN, 'normalize', '--epoch', EPOCH, '--in-place', 'a.tar', 'b.tar',
      ], { cwd: dir, env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' })
      expect(run.status, run.stderr).toBe(3)
      expect(run.stderr).toMatch(
        /b\.tar: .*; already put in place before it, normalized whole: .*a\.tar; the rest are as they were/,
      )
      expect(fs.readFileSync(path.join(dir, 'b.tar'))).toEqual(before)
      expect(fs.readFileSync(path.join(dir, 'a.tar'))).not.toEqual(before)
      expect(fs.readdirSync(dir).sort()).toEqual(['a.tar', 'b.tar', 'f', 'over'])
    },
  )

  it('refuses a file with an access control list, whose group bits are its mask, before any is written', async () => {
    const dir = makeTemp()
    sh(dir, 'printf x > f && tar --mtime=@5 -cf a.tar f && cp a.tar b.tar && chmod 640 b.tar')
    // user::rw- user:1000:rw- group::--- mask::rw- other::---: ls shows 640 as 660.
    const set = spawnSync(
      'python3',
      [
        '-c',
        `import os, struct
e = lambda t, p, i: struct.pack('<HHI', t, p, i)
acl = struct.pack('<I', 2) + e(1, 6, 0xffffffff) + e(2, 6, 1000) + e(4, 0, 0xffffffff) + e(0x10, 6, 0xffffffff) + e(0x20, 0, 0xffffffff)
os.setxattr('b.tar', 'system.posix_acl_access', acl)`,
      ],
      { cwd: dir },
    )
    if (set.status !== 0) return // a file system without ACLs: nothing to refuse
    const before = fs.readFileSync(path.join(dir, 'a.tar'))
    // Through a link too: -o reads what it leads to.
    fs.symlinkSync('b.tar', path.join(dir, 'link.tar'))
    for (const [args, named] of [
      [['a.tar', 'b.tar', '--in-place'], 'b.tar'],
      [['b.tar', '-o', 'out.tar'], 'b.tar'],
      [['link.tar', '-o', 'out.tar'], 'link.tar'],
    ] as const) {
      const run = await normalize(dir, [...args])
      expect(run.code, run.stderr).toBe(2)
      expect(run.stderr).toContain(`${named}: it has a POSIX access control list`)
    }
    expect(fs.readFileSync(path.join(dir, 'a.tar'))).toEqual(before)
    expect(fs.readdirSync(dir).sort()).toEqual(['a.tar', 'b.tar', 'f', 'link.tar'])
  })

  it.runIf(spawnSyncStatus('strace') !== undefined)(
    'fsyncs every directory it made for an output into its parent',
    () => {
      const dir = makeTemp()
      sh(dir, 'printf x > f && tar --mtime=@5 -cf a.tar f')
      // prettier-ignore
      const run = spawnSync('strace', [
        '-f', '-qq', '-e', 'trace=openat,fsync', '-o', 'trace.txt',
        process.execPath, BIN, 'normalize', '--epoch', EPOCH, 'a.tar', '-o', 'n1/n2/out.tar',
      ], { cwd: dir, env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' })
      expect(run.status, run.stderr).toBe(0)
      // Which paths an fsync'd descriptor was opened as, by descriptor, in order.
      const opened = new Map<string, string>()
      const synced = new Set<string>()
      for (const line of fs.readFileSync(path.join(dir, 'trace.txt'), 'utf8').split('\n')) {
        const open = /openat\(AT_FDCWD, "([^"]*)".* = (\d+)$/.exec(line)
        if (open !== null) opened.set(open[2] ?? '', open[1] ?? '')
        const sync = /fsync\((\d+)\)/.exec(line)
        if (sync !== null) synced.add(path.resolve(dir, opened.get(sync[1] ?? '') ?? ''))
      }
      for (const d of [dir, path.join(dir, 'n1'), path.join(dir, 'n1', 'n2')])
        expect([...synced], d).toContain(d)
    },
  )

  it.runIf(spawnSyncStatus('strace') !== undefined)(
    'answers unknown (exit 4) to a second Ctrl-C among the renames, and the next run recovers',
    async () => {
      const dir = makeTemp()
      sh(
        dir,
        'printf x > f && tar --mtime=@5 -cf a.tar f && tar --mtime=@6 -cf b.tar f && mkdir out',
      )
      // The first rename held for seconds after it is done: the outputs are then partly
      // in place when the two signals come.
      // prettier-ignore
      const tracer = spawn('strace', [
        '-f', '-qq', '-o', '/dev/null', '-e', 'trace=rename,renameat,renameat2',
        '-e', 'inject=rename,renameat,renameat2:delay_exit=4000000:when=1',
        process.execPath, BIN, 'normalize', '--epoch', EPOCH, 'a.tar', 'b.tar', '-o', 'out',
      ], { cwd: dir, env: { PATH: process.env.PATH ?? '' } })
      let stderr = ''
      tracer.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      const exited = new Promise<number | null>((resolve) => tracer.on('exit', resolve))
      // The node process strace started, once its first rename is held.
      let node: number | undefined
      for (let i = 0; i < 100 && node === undefined; i++) {
        await new Promise((r) => setTimeout(r, 100))
        if (fs.existsSync(path.join(dir, 'out', 'a.tar'))) {
          const children = spawnSync('pgrep', ['-P', String(tracer.pid)], { encoding: 'utf8' })
          node = Number(children.stdout.trim().split('\n')[0]) || undefined
        }
      }
      if (node === undefined) throw new Error(`the first output never appeared: ${stderr}`)
      process.kill(node, 'SIGINT')
      await new Promise((r) => setTimeout(r, 200))
      process.kill(node, 'SIGINT')
      expect(await exited, stderr).toBe(4)
      expect(stderr).toContain(
        'reproof: stopped while writing; whether it was written is unknown, and a retry is safe',
      )
      // The output in place is whole; the retry puts the rest, and the temp file the stop
      // left is an orphan the next run in that place removes.
      expect(fs.readFileSync(path.join(dir, 'out', 'a.tar')).length).toBe(2048)
      const retry = await normalize(dir, ['a.tar', 'b.tar', '-o', path.join(dir, 'out')])
      expect(retry.code, retry.stderr).toBe(0)
      expect(fs.readdirSync(path.join(dir, 'out')).sort()).toEqual(['a.tar', 'b.tar'])
    },
  )

  it('says a missing temporary directory or a file size limit is the machine’s, not a bug', () => {
    const dir = makeTemp()
    sh(dir, 'head -c 3000000 /dev/urandom > f && tar --mtime=@5 -cf a.tar f')
    const run = (script: string, tmp: string) =>
      spawnSync(
        'sh',
        [
          '-c',
          `${script}; exec "$@"`,
          'sh',
          process.execPath,
          BIN,
          'normalize',
          '--epoch',
          EPOCH,
          'a.tar',
          '-o',
          'out.tar',
        ],
        {
          cwd: dir,
          env: { PATH: process.env.PATH ?? '', TMPDIR: tmp },
          encoding: 'utf8',
        },
      )
    const missing = run('true', path.join(dir, 'nowhere'))
    expect(missing.status, missing.stderr).toBe(3)
    expect(missing.stderr).toMatch(/^reproof: the temporary directory does not exist/)
    // A file size limit under the archive's size: the spool's write fails (EFBIG).
    const limited = run('ulimit -f 1000', dir)
    expect(limited.status, limited.stderr).toBe(3)
    expect(limited.stderr).toMatch(
      /^reproof: the system refused a write.*EFBIG.*not a fault of reproof's/,
    )
    expect(limited.stderr).not.toContain('internal error')
    // No output, and nothing of the spool left in the temporary directory.
    expect(fs.readdirSync(dir).sort()).toEqual(['a.tar', 'f'])
  })

  it('knows one file by another name: two hard links are one input, a linked directory is in place', async () => {
    const dir = makeTemp()
    sh(
      dir,
      'mkdir real && printf x > f && tar --mtime=@5 -cf real/a.tar f && chmod 4750 real/a.tar && ln real/a.tar h.tar && ln -s real lnk',
    )
    const twice = await normalize(dir, ['real/a.tar', 'h.tar', '--in-place'])
    expect(twice.code, twice.stderr).toBe(2)
    // A file of two names is refused in place whichever is given, twice or once.
    expect(twice.stderr).toContain('a file of 2 hard links; replaced in place')
    // Through the linked directory, -o names the input itself: its mode (setuid) stays.
    const through = await normalize(dir, ['real/a.tar', '-o', 'lnk/a.tar'])
    expect(through.code, through.stderr).toBe(0)
    expect(fs.statSync(path.join(dir, 'real', 'a.tar')).mode & 0o7777).toBe(0o4750)
    // An output that is a link to the input is replaced, as a link output is: a new file
    // of the caller's, not the input's setuid bit copied onto it.
    fs.symlinkSync('real/a.tar', path.join(dir, 'to-input.tar'))
    const link = await normalize(dir, ['real/a.tar', '-o', 'to-input.tar'])
    expect(link.code, link.stderr).toBe(0)
    expect(fs.lstatSync(path.join(dir, 'to-input.tar')).isFile()).toBe(true)
    expect(fs.statSync(path.join(dir, 'to-input.tar')).mode & 0o7000).toBe(0)
  })

  it('normalizes in place a file whose name is near the longest a name can be', async () => {
    // The temp name beside it was the name and a suffix: too long to be made (exit 3).
    const dir = makeTemp()
    const name = `${'a'.repeat(247)}.tar`
    sh(dir, `printf x > f && tar --mtime=@5 -cf ${name} f`)
    const run = await normalize(dir, [name, '--in-place'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.files[0]?.changed).toBe(true)
    expect(fs.readdirSync(dir).sort()).toEqual([name, 'f'])
  })

  it('refuses a zip with bytes between members that no member owns, or members that overlap', async () => {
    const dir = makeTemp()
    // A member the central directory does not list: unzip and zipfile see two members,
    // a streaming reader three. And two entries over the same bytes, as zip bombs are made.
    sh(
      dir,
      `echo a > a.txt && echo hidden > hidden.txt && echo c > c.txt && zip -q -X full.zip a.txt hidden.txt c.txt && python3 - <<'PY'
import struct
data = open('full.zip', 'rb').read()
end = data.rfind(b'PK\\x05\\x06')
size, start = struct.unpack('<II', data[end + 12:end + 20])
central, entries, p = data[start:start + size], [], 0
while p < size:
    n, m, k = struct.unpack('<HHH', central[p + 28:p + 34])
    entries.append(central[p:p + 46 + n + m + k])
    p += 46 + n + m + k
def write(name, listed):
    body = b''.join(listed)
    tail = data[end:end + 8] + struct.pack('<HHII', len(listed), len(listed), len(body), start) + data[end + 20:end + 22]
    open(name, 'wb').write(data[:start] + body + tail)
write('hidden.zip', [e for e in entries if b'hidden' not in e])
write('overlap.zip', entries + [entries[0].replace(b'a.txt', b'b.txt')])
PY
unzip -tq hidden.zip && python3 -c "import zipfile; assert len(zipfile.ZipFile('hidden.zip').namelist()) == 2"`,
    )
    const hidden = await normalize(dir, ['hidden.zip', '-o', 'hidden.out'])
    expect(hidden.code).toBe(2)
    expect(hidden.stderr).toMatch(/hidden\.zip: \d+ bytes that belong to no member at byte \d+/)
    expect(fs.existsSync(path.join(dir, 'hidden.out'))).toBe(false)
    const overlap = await normalize(dir, ['overlap.zip', '-o', 'overlap.out'])
    expect(overlap.code).toBe(2)
    expect(overlap.stderr).toMatch(/overlap\.zip: members that overlap/)
    // Data descriptors (what jar and a zip written to a pipe leave after each member) are
    // a member's own.
    sh(
      dir,
      'rm -f a.jar && jar cf a.jar a.txt c.txt && printf x | zip -q -X - a.txt c.txt - > piped.zip',
    )
    const owned = await normalize(dir, ['a.jar', 'piped.zip', '-o', makeTemp()])
    expect(owned.code, owned.stderr).toBe(0)
  })

  it('refuses a ".." part in a name or a hard link target, and a zip member whose Unicode Path field names another path', async () => {
    // Where such a member lands (or which file such a link means) depends on the
    // extractor: GNU tar and unzip drop what comes before, Python refuses or ignores it.
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import io, struct, tarfile, zipfile, zlib
def tar(name, members):
    with tarfile.open(name, 'w', format=tarfile.GNU_FORMAT) as t:
        for m, data in members:
            t.addfile(m, io.BytesIO(data) if data is not None else None)
def info(name, size=0, link=None):
    i = tarfile.TarInfo(name); i.size = size
    if link is not None: i.type = tarfile.LNKTYPE; i.linkname = link
    return i
tar('link.tar', [(info('b', 3), b'bbb'), (info('a', link='d/../b'), None)])
tar('name.tar', [(info('../x', 3), b'xxx')])
with zipfile.ZipFile('dots.zip', 'w') as z:
    z.writestr(zipfile.ZipInfo('b', (2020, 1, 1, 0, 0, 0)), 'v1')
    z.writestr(zipfile.ZipInfo('../b', (2020, 1, 1, 0, 0, 0)), 'v2')
with zipfile.ZipFile('upath.zip', 'w') as z:
    i = zipfile.ZipInfo('zzz', (2020, 1, 1, 0, 0, 0))
    i.extra = struct.pack('<HHBI', 0x7075, 9, 1, zlib.crc32(b'zzz')) + b'same'
    z.writestr(i, 'v1')
PY`,
    )
    const expected: Record<string, string> = {
      'link.tar':
        'link.tar: the entry at byte 1024 (a) has a ".." part in its hard link target: GNU tar drops what comes before it',
      'name.tar': 'name.tar: the entry at byte 0 (../x) has a ".." part in its name',
      'dots.zip': `dots.zip: the member ../b has a ".." part in its name, which unzip and Python's zipfile drop: where it lands depends on the reader; refused`,
      'upath.zip': `upath.zip: the member zzz has an Info-ZIP Unicode Path field naming another path (same), which unzip extracts it to and Python's zipfile does not`,
    }
    for (const [file, message] of Object.entries(expected)) {
      const run = await normalize(dir, [file, '-o', `${file}.out`])
      expect(run.code, `${file}: ${run.stderr}`).toBe(2)
      expect(run.stderr).toContain(message)
      expect(fs.existsSync(path.join(dir, `${file}.out`))).toBe(false)
    }
  })

  it('keeps a zip member a FIFO, a device or a socket when its mode makes it one', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import stat, zipfile
with zipfile.ZipFile('kinds.zip', 'w') as z:
    for name, kind in [('fifo', stat.S_IFIFO), ('chr', stat.S_IFCHR), ('blk', stat.S_IFBLK), ('sock', stat.S_IFSOCK), ('file', stat.S_IFREG)]:
        info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
        info.create_system = 3
        info.external_attr = (kind | 0o640) << 16
        z.writestr(info, '')
PY`,
    )
    const run = await normalize(dir, ['kinds.zip', '-o', 'kinds.out.zip'])
    expect(run.code, run.stderr).toBe(0)
    const modes = sh(
      dir,
      "python3 -c \"import zipfile; print(*(f'{i.filename} {i.external_attr >> 16:o}' for i in zipfile.ZipFile('kinds.out.zip').infolist()))\"",
    )
    expect(modes.trim()).toBe('blk 60644 chr 20644 fifo 10644 file 100644 sock 140644')
  })

  it('refuses a zip member compressed by a method it cannot check, naming the method', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 -c "
import zipfile
for method, name in [(zipfile.ZIP_LZMA, 'lzma.zip'), (zipfile.ZIP_BZIP2, 'bzip2.zip')]:
    with zipfile.ZipFile(name, 'w', method) as z:
        z.writestr('a.txt', 'hello ' * 100)
"`,
    )
    for (const [file, method] of [
      ['lzma.zip', '14 (LZMA)'],
      ['bzip2.zip', '12 (bzip2)'],
    ] as const) {
      const run = await normalize(dir, [file, '-o', `${file}.out`])
      expect(run.code).toBe(2)
      expect(run.stderr.trim()).toBe(
        `reproof: ${path.join(dir, file)}!a.txt: compressed by method ${method}, which reproof cannot check (it reads stored and deflated members); refused`,
      )
      expect(fs.existsSync(path.join(dir, `${file}.out`))).toBe(false)
    }
  })

  it('refuses a zip whose local headers and central directory disagree, or with bytes before its end record', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `echo hi > good.txt && zip -q -X z.zip good.txt && python3 - <<'PY'
import struct
data = bytearray(open('z.zip', 'rb').read())
def save(name, change):
    copy = bytearray(data); change(copy); open(name, 'wb').write(bytes(copy))
# What a streaming reader sees: another name, method or size than the directory lists.
save('name.zip', lambda b: b.__setitem__(slice(30, 38), b'evil.sh!'))
save('method.zip', lambda b: b.__setitem__(slice(8, 10), struct.pack('<H', 0 if b[8] == 8 else 8)))
save('size.zip', lambda b: b.__setitem__(slice(22, 26), struct.pack('<I', 999)))
end = data.rfind(b'PK\\x05\\x06')
open('gap.zip', 'wb').write(bytes(data[:end]) + b'JUNK' + bytes(data[end:]))
# The end record's size of the central directory, 10 bytes off (unzip and zipfile refuse it).
save('cdsize.zip', lambda b: struct.pack_into('<I', b, end + 12, struct.unpack('<I', b[end + 12:end + 16])[0] + 10))
# Flags that promise a data descriptor, in both headers, and none after the data.
cd = data.find(b'PK\\x01\\x02')
def nodesc(b):
    struct.pack_into('<H', b, 6, struct.unpack('<H', b[6:8])[0] | 8)
    struct.pack_into('<H', b, cd + 8, struct.unpack('<H', b[cd + 8:cd + 10])[0] | 8)
save('nodesc.zip', nodesc)
# The local header alone promising one (no descriptor follows), and the directory alone
# promising one that follows (a streaming reader does not skip it).
save('localdesc.zip', lambda b: struct.pack_into('<H', b, 6, struct.unpack('<H', b[6:8])[0] | 8))
import zlib
body = open('good.txt', 'rb').read()
n = struct.unpack('<H', data[26:28])[0]
size = struct.unpack('<I', data[18:22])[0]
desc = struct.pack('<IIII', 0x08074b50, zlib.crc32(body), size, size)
b = bytearray(data[:30 + n + size]) + desc + data[30 + n + size:]
c = b.find(b'PK\x01\x02')
struct.pack_into('<H', b, c + 8, struct.unpack('<H', b[c + 8:c + 10])[0] | 8)
e = b.rfind(b'PK\x05\x06')
struct.pack_into('<I', b, e + 16, struct.unpack('<I', b[e + 16:e + 20])[0] + len(desc))
open('centraldesc.zip', 'wb').write(bytes(b))
# A field only in the local header: libarchive's 0x6c78, which bsdtar reads a member's
# mode from (here a symlink's); the directory's copy says a plain file.
xl = struct.pack('<HHH', 0x6c78, 2, 0o120777)
n = struct.unpack('<H', data[26:28])[0]
b = bytearray(data[:30 + n]) + xl + data[30 + n:]
struct.pack_into('<H', b, 28, len(xl))
e = b.rfind(b'PK\\x05\\x06')
struct.pack_into('<I', b, e + 16, struct.unpack('<I', b[e + 16:e + 20])[0] + len(xl))
open('xl.zip', 'wb').write(bytes(b))
# The same field in both copies is the member's, and is kept.
import zipfile
info = zipfile.ZipInfo('good.txt', (2020, 1, 1, 0, 0, 0))
info.extra = xl
with zipfile.ZipFile('both.zip', 'w') as z:
    z.writestr(info, 'hi\\n')
PY`,
    )
    const expected: Record<string, RegExp> = {
      'name.zip':
        /name\.zip: the local header at byte 0 disagrees with the central directory on its name; refused/,
      'method.zip':
        /method\.zip: the local header at byte 0 disagrees with the central directory on its compression method/,
      'size.zip':
        /size\.zip: the local header at byte 0 disagrees with the central directory on its uncompressed size/,
      'gap.zip':
        /gap\.zip: 4 bytes between the central directory and its end record, at byte \d+; refused/,
      'cdsize.zip':
        /cdsize\.zip: its end record says the central directory holds \d+ bytes, but it holds \d+; refused/,
      'nodesc.zip':
        /nodesc\.zip!good\.txt: its flags promise a data descriptor, and none follows its data at byte \d+; refused/,
      'localdesc.zip':
        /localdesc\.zip: the local header at byte 0 disagrees with the central directory on its flags \(0x0008 against 0x0000: .*a data descriptor/,
      'centraldesc.zip':
        /centraldesc\.zip: the local header at byte 0 disagrees with the central directory on its flags \(0x0000 against 0x0008: .*a data descriptor/,
      'xl.zip':
        /xl\.zip: the local header at byte 0 disagrees with the central directory on its extra field 0x6c78; refused/,
    }
    for (const [file, message] of Object.entries(expected)) {
      const run = await normalize(dir, [file, '-o', `${file}.out`])
      expect(run.code, file).toBe(2)
      expect(run.stderr).toMatch(message)
      expect(fs.existsSync(path.join(dir, `${file}.out`))).toBe(false)
    }
    const both = await normalize(dir, ['both.zip', '-o', 'both.out'])
    expect(both.code, both.stderr).toBe(0)
    expect(
      sh(
        dir,
        'python3 -c "import zipfile; print(zipfile.ZipFile(\'both.out\').infolist()[0].extra.hex())"',
      ),
    ).toBe('786c0200ffa1\n')
    // A zip64 archive (forced by zip -fz) ends with its own end record and locator.
    sh(dir, 'printf x | zip -q -X -fz z64.zip -')
    const z64 = await normalize(dir, ['z64.zip', '-o', 'z64.out'])
    expect(z64.code, z64.stderr).toBe(0)
    // Its two end records apart (Python's zipfile reads the zip64 one's size, unzip the
    // other's count): readers see other members. And a member before an empty
    // directory, which streaming readers find and a rewrite would drop.
    sh(
      dir,
      `python3 - <<'PY'
import struct
data = bytearray(open('z64.zip', 'rb').read())
loc = data.rfind(b'PK\\x06\\x07')
rec = struct.unpack('<Q', data[loc + 8:loc + 16])[0]
size = struct.unpack('<Q', data[rec + 40:rec + 48])[0]
apart = bytearray(data); struct.pack_into('<Q', apart, rec + 40, size + 10)
end = data.rfind(b'PK\\x05\\x06')
struct.pack_into('<I', apart, end + 12, size)
open('apart.zip', 'wb').write(bytes(apart))
member = data[:data.find(b'PK\\x01\\x02')]
open('hidden.zip', 'wb').write(bytes(member) + struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 0, 0, 0, len(member), 0))
PY`,
    )
    for (const [file, message] of [
      [
        'apart.zip',
        /apart\.zip: its end record and its zip64 end record disagree on the central directory's size/,
      ],
      [
        'hidden.zip',
        /hidden\.zip: its first \d+ bytes .*belong to no member its central directory lists/,
      ],
    ] as const)
      for (const flags of [[], ['--canonical']]) {
        const run = await normalize(dir, [file, ...flags, '-o', `${file}.out`])
        expect(run.code, file).toBe(2)
        expect(run.stderr).toMatch(message)
        expect(fs.existsSync(path.join(dir, `${file}.out`))).toBe(false)
      }
  })

  it('refuses a zip with bytes before its first member that it cannot keep, and a name in a DOS code page', async () => {
    const dir = makeTemp()
    sh(
      dir,
      [
        // A zip appended to another, offsets fixed up: Java's ZipInputStream reads one.txt.
        'echo one > one.txt && echo two > two.txt && zip -q -X first.zip one.txt && zip -q -X second.zip two.txt',
        'cat first.zip second.zip > cat.zip && zip -q -A cat.zip && unzip -tq cat.zip',
      ].join(' && '),
    )
    const cat = await normalize(dir, ['cat.zip', '-o', 'cat.out'])
    expect(cat.code).toBe(2)
    expect(cat.stderr).toMatch(
      /cat\.zip: its first \d+ bytes .* belong to no member its central directory lists/,
    )
    expect(fs.existsSync(path.join(dir, 'cat.out'))).toBe(false)
    // Made on MS-DOS, named in code page 437 (0x82 is é there), no UTF-8 flag.
    sh(
      dir,
      `python3 - <<'PY'
import zipfile
with zipfile.ZipFile('dos.zip', 'w') as z:
    info = zipfile.ZipInfo('cafX.txt', (2020, 1, 1, 0, 0, 0))
    info.create_system = 0
    z.writestr(info, 'x')
data = open('dos.zip', 'rb').read().replace(b'cafX.txt', b'caf\\x82.txt')
open('dos.zip', 'wb').write(data)
PY`,
    )
    const dos = await normalize(dir, ['dos.zip', '-o', 'dos.out'])
    expect(dos.code).toBe(2)
    expect(dos.stderr).toMatch(/dos\.zip: the name of the member at byte 0 is in a DOS code page/)
    expect(fs.existsSync(path.join(dir, 'dos.out'))).toBe(false)
    // Made on MS-DOS, the directory attribute on a name with no slash: bsdtar makes a
    // directory of it, unzip a file; a rewrite (made by Unix, a file) would decide.
    sh(
      dir,
      `python3 - <<'PY'
import zipfile
for name, attr in (('dosdir.zip', 0x10), ('dosfile.zip', 0)):
    with zipfile.ZipFile(name, 'w') as z:
        info = zipfile.ZipInfo('p', (2020, 1, 1, 0, 0, 0))
        info.create_system = 0
        info.external_attr = attr
        z.writestr(info, b'')
PY`,
    )
    const dosdir = await normalize(dir, ['dosdir.zip', '-o', 'dosdir.out'])
    expect(dosdir.code).toBe(2)
    expect(dosdir.stderr).toMatch(
      /dosdir\.zip: the member at byte 0 \(p\) has the MS-DOS directory attribute but a name without a trailing slash/,
    )
    expect(fs.existsSync(path.join(dir, 'dosdir.out'))).toBe(false)
    const dosfile = await normalize(dir, ['dosfile.zip', '-o', 'dosfile.out'])
    expect(dosfile.code, dosfile.stderr).toBe(0)
  })

  it('checks the data of a directory entry too', async () => {
    const dir = makeTemp()
    // A directory entry carrying deflate data, then that data corrupted.
    sh(
      dir,
      `python3 - <<'PY'
import zipfile
with zipfile.ZipFile('dir.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr(zipfile.ZipInfo('d/', (2020, 1, 1, 0, 0, 0)), 'x' * 200 + 'some data of its own ' * 20)
    z.writestr(zipfile.ZipInfo('f.txt', (2020, 1, 1, 0, 0, 0)), 'f')
b = bytearray(open('dir.zip', 'rb').read())
at = b.index(b'd/') + 2
b[at + 4:at + 12] = b'\\xff' * 8
open('bad.zip', 'wb').write(b)
PY`,
    )
    expect(sh(dir, 'unzip -tq bad.zip 2>&1 || true')).not.toMatch(/No errors/)
    const run = await normalize(dir, ['bad.zip', '-o', 'bad.out'])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/bad\.zip!d\/: corrupt zip member/)
    expect(fs.existsSync(path.join(dir, 'bad.out'))).toBe(false)
  })

  it('leaves a zip inside as it is where an attestation, a compressed list, its name or a signature elsewhere pins it', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import base64, bz2, gzip, hashlib, io, json, lzma, zipfile
inner = io.BytesIO()
with zipfile.ZipFile(inner, 'w') as z:
    z.writestr(zipfile.ZipInfo('b.txt', (2020, 5, 5, 5, 5, 6)), 'bbb')
    z.writestr(zipfile.ZipInfo('a.txt', (2020, 5, 5, 5, 5, 6)), 'aaa')
inner = inner.getvalue()
digest = hashlib.sha256(inner).hexdigest()
statement = json.dumps({'_type': 'https://in-toto.io/Statement/v1', 'subject': [{'name': 'app.jar', 'digest': {'sha256': digest}}]})
envelope = json.dumps({'payloadType': 'application/vnd.in-toto+json', 'payload': base64.b64encode(statement.encode()).decode(), 'signatures': []})
def outer(path, members):
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
        for n, b in members: z.writestr(zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0)), b)
outer('dsse.zip', [('app.jar', inner), ('app.jar.intoto.jsonl', envelope)])
outer('sums.zip', [('app.jar', inner), ('SHA256SUMS.gz', gzip.compress(f'{digest}  app.jar\\n'.encode()))])
outer('cas.zip', [('blobs/sha256/' + digest, inner)])
outer('sig.zip', [('lib/app.jar', inner), ('signatures/app.jar.asc', 'signature')])
outer('plain.zip', [('lib/app.jar', inner), ('README', 'nothing pins it')])
# The list inside a sibling zip, deflated there: its raw bytes show no digest.
sibling = io.BytesIO()
with zipfile.ZipFile(sibling, 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr(zipfile.ZipInfo('SHA256SUMS', (2020, 1, 1, 0, 0, 0)), f'{digest}  lib/app.jar\\n' * 3, zipfile.ZIP_DEFLATED)
with zipfile.ZipFile('sibling.zip', 'w', zipfile.ZIP_STORED) as z:
    for n, b in [('lib/app.jar', inner), ('meta/checksums.zip', sibling.getvalue())]:
        z.writestr(zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0)), b)
# The same in a sibling zip too large to search (5 MiB of other data beside the list).
import os
large = io.BytesIO()
with zipfile.ZipFile(large, 'w') as z:
    z.writestr(zipfile.ZipInfo('SHA256SUMS', (2020, 1, 1, 0, 0, 0)), f'{digest}  lib/app.jar\\n', zipfile.ZIP_DEFLATED)
    z.writestr(zipfile.ZipInfo('data.bin', (2020, 1, 1, 0, 0, 0)), os.urandom(5 * 1024 * 1024))
with zipfile.ZipFile('large.zip', 'w', zipfile.ZIP_STORED) as z:
    for n, b in [('lib/app.jar', inner), ('meta/checksums.zip', large.getvalue())]:
        z.writestr(zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0)), b)
# Lists compressed in a form normalize does not read: what they hold is not known.
sums = ''.join(f'{i:064x}  other{i}\\n' for i in range(50)) + f'{digest}  app.jar\\n'
outer('bz2.zip', [('app.jar', inner), ('SUMS.bz2', bz2.compress(sums.encode()))])
outer('xz.zip', [('app.jar', inner), ('SUMS.xz', lzma.compress(sums.encode()))])
PY`,
    )
    const zips = [
      'dsse.zip',
      'sums.zip',
      'cas.zip',
      'sig.zip',
      'plain.zip',
      'bz2.zip',
      'xz.zip',
      'sibling.zip',
      'large.zip',
    ]
    fs.mkdirSync(path.join(dir, 'out'))
    const run = await normalize(dir, [...zips, '-o', 'out'])
    expect(run.code, run.stderr).toBe(0)
    const said = run.files.map((f) => f.changes.join('\n'))
    expect(said[0]).toContain(
      'nested app.jar: left as it is, app.jar.intoto.jsonl holds its digest',
    )
    expect(said[1]).toContain('nested app.jar: left as it is, SHA256SUMS.gz holds its digest')
    expect(said[2]).toMatch(/left as it is, blobs\/sha256\/[0-9a-f]{64} is named by its digest/)
    expect(said[3]).toContain(
      'nested lib/app.jar: left as it is, signatures/app.jar.asc signs or checks it',
    )
    // Nothing pins it: normalized.
    expect(said[4]).toMatch(/1 nested archive normalized: lib\/app\.jar/)
    expect(said[7]).toContain(
      'nested lib/app.jar: left as it is, meta/checksums.zip!SHA256SUMS holds its digest',
    )
    expect(said[8]).toMatch(
      /nested lib\/app\.jar: left as it is, the archive holds members reproof does not search for a list of its digests/,
    )
    for (const text of said.slice(5, 7))
      expect(text).toMatch(
        /nested app\.jar: left as it is, the archive holds members reproof does not search for a list of its digests \(.*bzip2, xz/,
      )
    const inner = (zip: string, name: string) =>
      sh(
        dir,
        `python3 -c "import hashlib, zipfile; print(hashlib.sha256(zipfile.ZipFile('out/${zip}').read('${name}')).hexdigest())"`,
      ).trim()
    const pinned = sh(
      dir,
      `python3 -c "import hashlib, zipfile; print(hashlib.sha256(zipfile.ZipFile('dsse.zip').read('app.jar')).hexdigest())"`,
    ).trim()
    expect(inner('dsse.zip', 'app.jar')).toBe(pinned)
    expect(inner('sig.zip', 'lib/app.jar')).toBe(pinned)
    expect(inner('bz2.zip', 'app.jar')).toBe(pinned)
    expect(inner('xz.zip', 'app.jar')).toBe(pinned)
    expect(inner('sibling.zip', 'lib/app.jar')).toBe(pinned)
    expect(inner('large.zip', 'lib/app.jar')).toBe(pinned)
    expect(inner('plain.zip', 'lib/app.jar')).not.toBe(pinned)
  })

  it("leaves a zip inside as it is where a list of digests names it (a wheel's RECORD, a manifest's digests), and signed NuGet and VSIX packages whole", async () => {
    const dir = makeTemp()
    sh(
      dir,
      `python3 - <<'PY'
import base64, hashlib, io, zipfile
h = lambda b: 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b'=').decode()
inner = io.BytesIO()
with zipfile.ZipFile(inner, 'w') as z:
    z.writestr(zipfile.ZipInfo('b.txt', (2020, 5, 5, 5, 5, 6)), 'bbb')
    z.writestr(zipfile.ZipInfo('a.txt', (2020, 5, 5, 5, 5, 6)), 'aaa')
inner = inner.getvalue()
open('inner.jar', 'wb').write(inner)
files = {'pkg/__init__.py': b'', 'pkg/data/lib.jar': inner, 'pkg-1.0.dist-info/WHEEL': b'Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n'}
record = ''.join(f'{n},{h(b)},{len(b)}\\n' for n, b in files.items()) + 'pkg-1.0.dist-info/RECORD,,\\n'
files['pkg-1.0.dist-info/RECORD'] = record.encode()
with zipfile.ZipFile('pkg-1.0-py3-none-any.whl', 'w', zipfile.ZIP_DEFLATED) as z:
    for n, b in files.items(): z.writestr(zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0)), b)
manifest = 'Manifest-Version: 1.0\\r\\n\\r\\nName: lib/inner.jar\\r\\nSHA-256-Digest: ' + base64.b64encode(hashlib.sha256(inner).digest()).decode() + '\\r\\n\\r\\n'
with zipfile.ZipFile('digests.jar', 'w') as z:
    z.writestr(zipfile.ZipInfo('META-INF/MANIFEST.MF', (2020, 1, 1, 0, 0, 0)), manifest)
    z.writestr(zipfile.ZipInfo('lib/inner.jar', (2020, 1, 1, 0, 0, 0)), inner)
for name, sig in [('signed.nupkg', '.signature.p7s'), ('signed.vsix', 'package/services/digital-signature/origin.psdor'), ('signed.msix', 'AppxSignature.p7x')]:
    with zipfile.ZipFile(name, 'w') as z:
        z.writestr(zipfile.ZipInfo('b.txt', (2020, 5, 5, 5, 5, 6)), 'b')
        z.writestr(zipfile.ZipInfo(sig, (2020, 5, 5, 5, 5, 6)), 'signature')
PY`,
    )
    fs.mkdirSync(path.join(dir, 'out'))
    const run = await normalize(dir, [
      'pkg-1.0-py3-none-any.whl',
      'digests.jar',
      'signed.nupkg',
      'signed.vsix',
      'signed.msix',
      '-o',
      'out',
    ])
    expect(run.code, run.stderr).toBe(0)
    const said = (i: number) =>
      [...(run.files[i]?.changes ?? []), run.files[i]?.kept ?? ''].join('\n')
    expect(said(0)).toContain(
      "nested pkg/data/lib.jar: left as it is, the wheel's RECORD holds its digest",
    )
    expect(said(1)).toContain(
      "nested lib/inner.jar: left as it is, the jar manifest's per-entry digests holds its digest",
    )
    expect(run.files[2]?.kept).toMatch(/a signed package \(\.signature\.p7s\)/)
    expect(run.files[3]?.kept).toMatch(/a signed package \(package\/services\/digital-signature\//)
    expect(run.files[4]?.kept).toMatch(/a signed package \(AppxSignature\.p7x\)/)
    // What the lists say still holds.
    const check = sh(
      path.join(dir, 'out'),
      `python3 -c "
import base64, csv, hashlib, io, zipfile
z = zipfile.ZipFile('pkg-1.0-py3-none-any.whl')
for name, digest, size in csv.reader(io.StringIO(z.read('pkg-1.0.dist-info/RECORD').decode())):
    if digest: assert digest == 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(z.read(name)).digest()).rstrip(b'=').decode(), name
assert zipfile.ZipFile('digests.jar').read('lib/inner.jar') == open('../inner.jar', 'rb').read()
print('ok')"`,
    )
    expect(check.trim()).toBe('ok')
    for (const f of ['signed.nupkg', 'signed.vsix'])
      expect(digest(path.join(dir, 'out', f))).toBe(digest(path.join(dir, f)))
  })

  it("keeps an EPUB's mimetype first and stored, at the top and inside a jar", async () => {
    const dir = makeTemp()
    sh(
      dir,
      [
        'mkdir -p book/META-INF book/OEBPS && printf application/epub+zip > book/mimetype',
        'echo "<container/>" > book/META-INF/container.xml && echo "<package/>" > book/OEBPS/content.opf',
        'cd book && zip -q0X ../book.epub mimetype && zip -qrX ../book.epub META-INF OEBPS && cd ..',
        'mkdir -p app/templates && cp book.epub app/templates/ && cd app && zip -qr ../app.jar templates',
      ].join(' && '),
    )
    const run = await normalize(dir, ['book.epub', 'app.jar', '--in-place'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.files[1]?.changes).toContain('1 nested archive normalized: templates/book.epub')
    sh(dir, 'unzip -p app.jar templates/book.epub > inner.epub')
    for (const epub of ['book.epub', 'inner.epub']) {
      const entries = sh(
        dir,
        `python3 -c "import zipfile; print([(i.filename, i.compress_type) for i in zipfile.ZipFile('${epub}').infolist()])"`,
      )
      expect(entries.trim(), epub).toMatch(/^\[\('mimetype', 0\), \('META-INF\/', /)
    }
  })

  it('normalizes zips inside zips three deep, and says which deeper one it left as it is', async () => {
    const dir = makeTemp()
    sh(
      dir,
      'echo a > a.txt && zip -q l0.zip a.txt && for i in 1 2 3 4; do zip -q l$i.zip l$((i-1)).zip; done',
    )
    const run = await normalize(dir, ['l4.zip', '-o', 'out.zip'])
    expect(run.code).toBe(0)
    expect(run.files[0]?.changes).toEqual(
      expect.arrayContaining([
        '1 nested archive normalized: l3.zip',
        'nested l3.zip!l2.zip!l1.zip!l0.zip: left as it is, more than 3 zips deep',
      ]),
    )
    sh(
      dir,
      'mkdir x && cd x && unzip -q ../out.zip && unzip -q l3.zip && unzip -q l2.zip && unzip -q l1.zip',
    )
    expect(digest(path.join(dir, 'x/l0.zip'))).toBe(digest(path.join(dir, 'l0.zip')))
    expect(sh(dir, 'zipinfo x/l1.zip')).toMatch(/23-Nov-14 22:13 l0\.zip/)
  })

  it('keeps a zipapp’s #! line and a jmod’s magic, and the way the offsets count, and both still work', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `mkdir app && echo 'print("zipapp runs")' > app/__main__.py
python3 -m zipapp app -p '/usr/bin/env python3' -o one.pyz && sleep 2 && touch app/__main__.py
python3 -m zipapp app -p '/usr/bin/env python3' -o two.pyz
mkdir -p j/classes/m && echo 'module m {}' > j/module-info.java && javac -d j/classes j/module-info.java
jmod create --class-path j/classes m.jmod
mkdir cls && echo 'public class Hello { public static void main(String[] a) { System.out.println("script jar runs"); } }' > Hello.java
javac -d cls Hello.java && jar --create --file hello.jar --main-class Hello -C cls .
printf '#!/bin/sh\\nexec java -jar "$0" "$@"\\n' > stub.sh && cat stub.sh hello.jar > relative.run && cp relative.run absolute.run && zip -qA absolute.run`,
    )
    const files = ['one.pyz', 'two.pyz', 'm.jmod', 'relative.run', 'absolute.run']
    const run = await normalize(dir, [...files, '--in-place'])
    expect(run.code).toBe(0)
    expect(run.files.map((f) => [f.format, f.changed])).toEqual(
      files.map((f) => [f.endsWith('.pyz') || f.endsWith('.jmod') ? 'zip' : 'jar', true]),
    )
    expect(digest(path.join(dir, 'one.pyz'))).toBe(digest(path.join(dir, 'two.pyz')))
    expect(fs.readFileSync(path.join(dir, 'one.pyz'), 'latin1')).toMatch(
      /^#!\/usr\/bin\/env python3\nPK/,
    )
    expect(sh(dir, 'python3 one.pyz').trim()).toBe('zipapp runs')
    expect(sh(dir, 'jmod describe m.jmod')).toMatch(/^m\b/)
    expect(fs.readFileSync(path.join(dir, 'm.jmod')).subarray(0, 6)).toEqual(
      Buffer.from([0x4a, 0x4d, 1, 0, 0x50, 0x4b]),
    )
    for (const script of ['relative.run', 'absolute.run'])
      expect(sh(dir, `sh ${script}`).trim()).toBe('script jar runs')
    // Offsets still count as they did: from the zip (unzip warns of the prefix) or from the file.
    expect(sh(dir, 'unzip -t relative.run 2>&1 || true')).toMatch(/extra bytes at beginning/)
    expect(sh(dir, 'unzip -t absolute.run 2>&1')).not.toMatch(/extra bytes/)
  })

  it('reads and normalizes a zipapp too large to hold in memory, from the file', async () => {
    const dir = makeTemp()
    // 70 MB stored, so that neither diff (16 MiB) nor normalize (64 MiB) reads it whole.
    sh(
      dir,
      `mkdir app && echo 'print("big zipapp runs")' > app/__main__.py && head -c 70000000 /dev/urandom > app/blob.bin
python3 -c "
import zipfile
for name, extra in [('a.pyz', b'1'), ('b.pyz', b'2')]:
    with open(name, 'wb') as f:
        f.write(b'#!/usr/bin/env python3\\n')
        with zipfile.ZipFile(f, 'w', zipfile.ZIP_STORED) as z:
            z.write('app/__main__.py', '__main__.py')
            z.write('app/blob.bin', 'blob.bin')
            z.writestr(zipfile.ZipInfo('extra.txt', (2020, 1, 1, 0, 0, 0)), extra)
"`,
    )
    const diff = await runCli(['diff', '--json', path.join(dir, 'a.pyz'), path.join(dir, 'b.pyz')])
    expect(diff.code, diff.stderr).toBe(1)
    const items = (JSON.parse(diff.stdout) as { items: { path: string; nested?: boolean }[] }).items
    expect(items.filter((i) => i.nested !== true).map((i) => i.path)).toEqual(['a.pyz!extra.txt'])
    const run = await normalize(dir, ['a.pyz', '--in-place'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.files[0]).toMatchObject({ format: 'zip', changed: true })
    expect(sh(dir, 'python3 a.pyz').trim()).toBe('big zipapp runs')
    expect(
      sh(dir, 'python3 -c "import zipfile; print(zipfile.ZipFile(\'a.pyz\').testzip())"').trim(),
    ).toBe('None')
  })

  it('tells two zipapps apart by their #! line alone', async () => {
    const dir = makeTemp()
    sh(
      dir,
      `mkdir app && echo 'print(1)' > app/__main__.py && touch -d @1700000000 app/__main__.py
python3 -m zipapp app -p '/usr/bin/python3' -o a.pyz && python3 -m zipapp app -p '/usr/bin/env python3' -o b.pyz`,
    )
    const run = await runCli(['diff', '--json', path.join(dir, 'a.pyz'), path.join(dir, 'b.pyz')])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('#!/usr/bin/python3')
    expect(run.stdout).toContain('#!/usr/bin/env python3')
  })
})
