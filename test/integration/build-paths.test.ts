import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { BuildRecord } from '../../src/records/build-record.js'
import type { BuildResult } from '../../src/twin/run-build.js'
import {
  cleanupTemp,
  copyFixture,
  git,
  listDir,
  makeTemp,
  makeTempParent,
  runCli,
} from '../helpers.js'

afterEach(cleanupTemp)

async function build(source: string, args: string[]) {
  const parent = makeTempParent()
  // The pairs that explain a difference are tested in build-explain.test.ts.
  const run = await runCli(['build', '-C', source, '--temp-dir', parent, '--no-explain', ...args])
  expect(listDir(parent)).toEqual([])
  const result =
    args.includes('--json') && run.stdout !== ''
      ? (JSON.parse(run.stdout) as BuildResult)
      : undefined
  return { ...run, result }
}

/** `sh -c script` as the build, each of `outs` an --out glob. */
function shellBuild(source: string, outs: string[], script: string, flags: string[] = []) {
  return build(source, [...outs.flatMap((o) => ['-o', o]), ...flags, '--', 'sh', '-c', script])
}

function commitAll(source: string, message: string): void {
  git(source, ['init', '-q'])
  git(source, ['add', '.'])
  git(source, ['commit', '-qm', message])
}

/** A path below `dir` whose last part is given as bytes. */
function bytePath(dir: string, ...bytes: number[]): Buffer {
  return Buffer.concat([Buffer.from(`${dir}/`), Buffer.from(bytes)])
}

const FF_C = [0x66, 0xff, 0x2e, 0x63] // f\xff.c
const ESC_TXT = [...Buffer.from('e\u001b[31mvil\n.txt')]

describe('artifacts are outputs, never inputs', () => {
  it('varies how deep the root lies, so that a relative path out of the tree differs', async () => {
    // A depfile or source map names /usr/include and $HOME relative to the build's
    // directory: at another checkout those paths are other paths too.
    const source = makeTemp()
    const run = await shellBuild(
      source,
      ['rel.txt'],
      'realpath -m --relative-to=. /usr/include/stdio.h "$HOME/.cache/x" > rel.txt',
      ['--json'],
    )
    expect(run.code, run.stderr).toBe(1)
    expect(run.result?.differences.map((d) => d.name)).toEqual(['rel.txt'])
  })

  it('hashes the file an absolute link artifact leads to when its target goes through a link and back', async () => {
    // `out -> $PWD/d/../f` with `d -> sub/deeper`: the kernel reads sub/f, which differs
    // between the runs, not the f beside it, which does not.
    const source = makeTemp()
    const run = await shellBuild(
      source,
      ['out'],
      'mkdir -p sub/deeper && echo same > f && od -An -N8 -tx1 /dev/urandom > sub/f && ln -s sub/deeper d && ln -s "$PWD/d/../f" out',
      ['--json', '--out-dir', makeTemp()],
    )
    expect(run.code, run.stderr).toBe(1)
    expect(run.result?.differences.map((d) => d.name)).toEqual(['out'])
  })

  it('builds afresh when the source still holds the artifact of an earlier run', async () => {
    const source = copyFixture('hello-c')
    // The first build copies `hello` back into the source, the default --out-dir.
    const first = await build(source, ['-o', 'hello', '--json', '--', 'make'])
    expect(first.code).toBe(0)
    expect(fs.existsSync(path.join(source, 'hello'))).toBe(true)
    const hello = path.join(source, 'hello.c')
    fs.writeFileSync(
      hello,
      fs.readFileSync(hello, 'utf8').replace('reproducible world', 'fresh build'),
    )

    // The snapshot gives every file the same mtime, so make would find the old `hello` up to date.
    const record = path.join(makeTemp(), 'record.json')
    const second = await build(source, ['-o', 'hello', '--json', '--record', record, '--', 'make'])
    expect(second.code).toBe(0)
    expect(second.result?.excludedOutputs).toEqual(['hello'])
    expect(execFileSync(path.join(source, 'hello'), { encoding: 'utf8' })).toBe(
      'hello, fresh build\n',
    )
    const written = JSON.parse(fs.readFileSync(record, 'utf8')) as BuildRecord
    expect(written.excludedOutputs).toEqual(['hello'])
    expect(written.source.files).toBe(2) // Makefile and hello.c

    const human = await build(source, ['-o', 'hello', '--', 'make'])
    expect(human.stdout).toMatch(
      /^warning: left out of the snapshot because --out matches them .*: hello$/m,
    )
  })

  it('builds afresh when the stale artifact is reached through a link in the glob', async () => {
    const source = copyFixture('hello-c')
    fs.writeFileSync(
      path.join(source, 'Makefile'),
      'out/hello: hello.c\n\tgcc -o out/hello hello.c\n',
    )
    fs.mkdirSync(path.join(source, 'build'))
    fs.symlinkSync('build', path.join(source, 'out'))
    // The first build copies out/hello back through the link, into build/hello.
    expect((await build(source, ['-o', 'out/hello', '--', 'make'])).code).toBe(0)
    expect(fs.existsSync(path.join(source, 'build', 'hello'))).toBe(true)
    const hello = path.join(source, 'hello.c')
    fs.writeFileSync(
      hello,
      fs.readFileSync(hello, 'utf8').replace('reproducible world', 'fresh build'),
    )
    const outDir = makeTemp()
    const second = await build(source, [
      '-o',
      'out/hello',
      '--json',
      '--out-dir',
      outDir,
      '--',
      'make',
    ])
    expect(second.code, second.stderr).toBe(0)
    expect(second.result?.excludedOutputs).toEqual(['out/hello'])
    expect(execFileSync(path.join(outDir, 'out', 'hello'), { encoding: 'utf8' })).toBe(
      'hello, fresh build\n',
    )
  })

  it('normalizes an archive a link artifact leads to, and ships the link as what it then reads', async () => {
    const source = path.join(makeTemp(), 'src')
    fs.mkdirSync(source)
    fs.writeFileSync(path.join(source, 'f.txt'), 'hello\n')
    const outDir = makeTemp()
    // The tar's member time differs from the epoch: normalization rewrites it in place.
    const script =
      'mkdir -p dist && tar --mtime=@1000000 -cf dist/pkg.tar f.txt && ln -s pkg.tar dist/latest.tar'
    const record = path.join(makeTemp(), 'record.json')
    const { code, result, stderr } = await shellBuild(source, ['dist'], script, [
      '--json',
      '--normalize',
      '--out-dir',
      outDir,
      '--record',
      record,
    ])
    expect(code, stderr).toBe(0)
    const digests = Object.fromEntries(
      result?.artifacts.map((a) => [a.name, a.digest.sha256]) ?? [],
    )
    expect(digests['dist/latest.tar']).toBe(digests['dist/pkg.tar'])
    expect(fs.readFileSync(path.join(outDir, 'dist', 'latest.tar'))).toEqual(
      fs.readFileSync(path.join(outDir, 'dist', 'pkg.tar')),
    )
    // What is signed is what ships: the link's subject is the normalized archive's
    // digest, not the digest the link read before normalization.
    const keys = makeTemp()
    await runCli(['keygen', '--out', path.join(keys, 'k')])
    const statement = path.join(keys, 'statement.json')
    // prettier-ignore
    const attested = await runCli([
      'attest', '--record', record, '--bundle', path.join(keys, 'b.json'), '--key',
      path.join(keys, 'k.key'), '--builder-id', 'https://ci.example.com/test', '--statement', statement,
      '--sha512', outDir,
    ])
    expect(attested.code, attested.stderr).toBe(0)
    const { subject } = JSON.parse(fs.readFileSync(statement, 'utf8')) as {
      subject: { name: string; digest: { sha256: string } }[]
    }
    for (const s of subject)
      expect(s.digest.sha256, s.name).toBe(
        crypto
          .createHash('sha256')
          .update(fs.readFileSync(path.join(outDir, s.name)))
          .digest('hex'),
      )
  })

  it('leaves tracked artifacts out of a git snapshot too, whole directories as one name', async () => {
    const source = copyFixture('hello-c')
    fs.mkdirSync(path.join(source, 'dist'))
    fs.writeFileSync(path.join(source, 'dist', 'stale.txt'), 'stale')
    commitAll(source, 'with a committed output')
    const { code, result } = await shellBuild(
      source,
      ['dist'],
      'test ! -e dist && mkdir dist && ls > dist/listing.txt',
      ['--json', '--out-dir', makeTemp()],
    )
    expect(code).toBe(0)
    expect(result?.excludedOutputs).toEqual(['dist'])
    expect(result?.artifacts.map((a) => a.name)).toEqual(['dist/listing.txt'])
  })
})

describe('what a build writes never replaces its inputs', () => {
  it('refuses a record or report that would overwrite a source file, or an --out-dir no directory can be, before building', async () => {
    const source = makeTemp()
    fs.writeFileSync(path.join(source, 'main.c'), 'int main(void) { return 0; }\n')
    const script = 'echo x > out.txt'
    for (const [flag, name] of [
      ['--record', 'main.c'],
      ['--report', 'main.c'],
    ] as const) {
      const run = await shellBuild(source, ['out.txt'], script, [flag, path.join(source, name)])
      expect(run.code, run.stderr).toBe(2)
      expect(run.stderr).toMatch(/a file of the source tree that reproof did not write/)
    }
    // From the source tree's own config too.
    fs.writeFileSync(path.join(source, 'reproof.config.json'), '{"record": "main.c"}')
    expect((await shellBuild(source, ['out.txt'], script)).code).toBe(2)
    expect(fs.readFileSync(path.join(source, 'main.c'), 'utf8')).toBe(
      'int main(void) { return 0; }\n',
    )
    // An --out-dir that is a file, or under one, is refused before building.
    fs.writeFileSync(path.join(source, 'reproof.config.json'), '{}')
    for (const outDir of [path.join(source, 'main.c'), path.join(source, 'main.c', 'out')]) {
      const run = await shellBuild(source, ['out.txt'], 'echo built >&2; echo x > out.txt', [
        '--out-dir',
        outDir,
      ])
      expect(run.code, run.stderr).toBe(2)
      expect(run.stderr).toMatch(/^reproof: --out-dir .*not a directory\n$/)
      expect(run.stderr).not.toContain('built')
    }
    // A record reproof wrote there is written again, run after run.
    fs.writeFileSync(path.join(source, 'reproof.config.json'), '{"record": "build-record.json"}')
    for (let i = 0; i < 2; i++) {
      const run = await shellBuild(source, ['out.txt'], script, ['--no-vary', 'file-times'])
      expect(run.code, run.stderr).toBe(0)
    }
  })
})

describe('globs stay inside the build root', () => {
  it('refuses a glob that brace expansion turns into `..`, from a flag or the config file', async () => {
    const source = copyFixture('hello-c')
    const outDir = makeTemp()
    const glob = '.{.,}/.{.,}/.{.,}/.{.,}/.{.,}/.{.,}/.{.,}/.{.,}/etc/hostname'
    const flag = await build(source, ['-o', glob, '--out-dir', outDir, '--', 'make'])
    expect(flag.code).toBe(2)
    expect(flag.stderr.trim().split('\n')).toEqual([
      `reproof: --out ${glob}: globs are relative to the build root and may not contain ".." (it expands to ../../../../../../../../etc/hostname)`,
    ])
    fs.writeFileSync(
      path.join(source, 'reproof.config.json'),
      JSON.stringify({ command: ['make'], out: ['{x,..}/secret'] }),
    )
    const config = await build(source, ['--out-dir', outDir])
    expect(config.code).toBe(2)
    expect(config.stderr).toContain(`reproof.config.json "out" {x,..}/secret: globs are relative`)
    expect(listDir(outDir)).toEqual([])
  })

  it('refuses a directory link that leads outside, naming the glob and the path, copying nothing', async () => {
    const source = copyFixture('hello-c')
    const outside = makeTemp()
    fs.writeFileSync(path.join(outside, 'secret'), 'secret')
    const outDir = makeTemp()
    for (const glob of ['lnk/*', 'lnk/secret']) {
      const { code, stderr } = await shellBuild(
        source,
        [glob, 'hello'],
        `make && ln -s ${outside} lnk`,
        ['--json', '--out-dir', outDir],
      )
      expect(code, glob).toBe(2)
      expect(stderr.trim().split('\n'), glob).toEqual([
        `reproof: --out ${glob}: lnk: leads outside the build root; refused`,
      ])
    }
    expect(listDir(outDir)).toEqual([])
  })

  it('refuses to write through a link in --out-dir that leads outside it, copying nothing', async () => {
    const source = copyFixture('hello-c')
    const outDir = makeTemp()
    const elsewhere = makeTemp()
    fs.symlinkSync(elsewhere, path.join(outDir, 'bin'))
    const { code, stderr } = await shellBuild(
      source,
      ['a.txt', 'bin/*'],
      'echo a > a.txt && mkdir bin && echo app > bin/app',
      ['--json', '--out-dir', outDir],
    )
    expect(code).toBe(2)
    expect(stderr.trim().split('\n')).toEqual([
      `reproof: --out-dir ${outDir}: artifact bin/app would be written outside it through a symbolic link; nothing was copied`,
    ])
    expect(listDir(elsewhere)).toEqual([])
    expect(listDir(outDir)).toEqual(['bin'])
  })

  it('refuses a directory where an artifact goes, or a file where its directory would be, copying nothing', async () => {
    const source = copyFixture('hello-c')
    for (const [inTheWay, why] of [
      ['b', 'a directory is where it would go'],
      ['sub', 'a file is where its directory would be'],
    ] as const) {
      const outDir = makeTemp()
      if (inTheWay === 'b') fs.mkdirSync(path.join(outDir, 'b'))
      else fs.writeFileSync(path.join(outDir, 'sub'), 'an older file\n')
      const { code, stderr } = await shellBuild(
        source,
        ['a', 'b', 'sub/c'],
        'echo a > a && echo b > b && mkdir sub && echo c > sub/c',
        ['--json', '--out-dir', outDir],
      )
      expect(code, inTheWay).toBe(2)
      expect(stderr.trim()).toMatch(
        new RegExp(
          `^reproof: --out-dir ${outDir}: artifact (b|sub/c) cannot be copied there: ${why}; nothing was copied$`,
        ),
      )
      // Not `a`, copied before the one in the way was met.
      expect(fs.existsSync(path.join(outDir, 'a')), inTheWay).toBe(false)
    }
  })
})

describe('names are bytes', () => {
  function sourceWithOddNames(): string {
    const source = copyFixture('hello-c')
    fs.writeFileSync(bytePath(source, ...FF_C), 'int odd;\n')
    fs.writeFileSync(bytePath(source, ...ESC_TXT), 'escape\n')
    return source
  }
  // Writes `out/\xff.bin` (from f\xff.c) and `out/a<newline>b.txt` (from the escape file).
  const SCRIPT = `mkdir -p out && cat f*.c > "out/$(printf '\\377').bin" && cat e*.txt > "out/$(printf 'a\\nb').txt"`

  it('snapshots, hashes and copies names that are not UTF-8 exactly, and records them unambiguously', async () => {
    const source = sourceWithOddNames()
    const outDir = makeTemp()
    const record = path.join(makeTemp(), 'record.json')
    const { code, result, stderr } = await shellBuild(source, ['out/*'], SCRIPT, [
      '--json',
      '--record',
      record,
      '--out-dir',
      outDir,
    ])
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(result?.artifacts.map((a) => a.name)).toEqual(['out/a\nb.txt', 'out/\u0000ff.bin'])
    expect(result?.source.files).toBe(4)
    const copied = fs.readdirSync(path.join(outDir, 'out'), { encoding: 'buffer' })
    expect(copied.sort((x, y) => Buffer.compare(x, y))).toEqual([
      Buffer.from('a\nb.txt'),
      Buffer.from([0xff, ...Buffer.from('.bin')]),
    ])
    expect(
      fs.readFileSync(bytePath(path.join(outDir, 'out'), 0xff, ...Buffer.from('.bin')), 'utf8'),
    ).toBe('int odd;\n')
    const text = fs.readFileSync(record, 'utf8')
    expect(text).toContain('"name": "out/\\u0000ff.bin"')
    const written = JSON.parse(text) as BuildRecord
    expect(written.runs[0]?.manifest.map((e) => e.name)).toEqual([
      'out/a\nb.txt',
      'out/\u0000ff.bin',
    ])
  })

  it('finds a name with a line break under a directory output and under **, and compares it', async () => {
    const source = sourceWithOddNames()
    for (const glob of ['out', 'out/**']) {
      const ok = await shellBuild(source, [glob], SCRIPT, ['--json'])
      expect(ok.code, glob).toBe(0)
      expect(ok.result?.artifacts.map((a) => a.name)).toEqual(['out/a\nb.txt', 'out/\u0000ff.bin'])
      // A file whose bytes differ between the runs, named with a line break: a no.
      const random = await shellBuild(
        source,
        [glob],
        `mkdir -p out && echo same > out/x && head -c 16 /dev/urandom > "out/$(printf 'b\\nc')"`,
        ['--json'],
      )
      expect([random.code, random.result?.differences.map((d) => d.name)], glob).toEqual([
        1,
        ['out/b\nc'],
      ])
    }
  })

  it('names a FIFO under a directory output, which holds no bytes to compare', async () => {
    const source = sourceWithOddNames()
    const { code, result } = await shellBuild(
      source,
      ['out'],
      'mkdir -p out && echo same > out/x && mkfifo out/pipe',
      ['--json'],
    )
    expect(code).toBe(0)
    expect(result?.artifacts.map((a) => a.name)).toEqual(['out/x'])
    expect(result?.warnings).toContain(
      'not compared (a FIFO, socket or device file holds no bytes): out/pipe',
    )
    // Made by one run alone (run B's path holds its canary): said so.
    const one = await shellBuild(
      source,
      ['out'],
      'mkdir -p out && echo same > out/x && case "$PWD" in *canary*) mkfifo out/pipe ;; esac',
      ['--json'],
    )
    expect(one.result?.warnings).toContain(
      'not compared (a FIFO, socket or device file holds no bytes): out/pipe (run B only)',
    )
    // Many: the first twenty named, the rest counted, in one bounded line.
    const many = await shellBuild(
      source,
      ['out'],
      'mkdir -p out && echo same > out/x && for i in $(seq 10 59); do mkfifo out/p$i; done',
      ['--json'],
    )
    const names = Array.from({ length: 20 }, (_, i) => `out/p${i + 10}`).join(', ')
    expect(many.result?.warnings).toContain(
      `not compared (a FIFO, socket or device file holds no bytes): ${names} and 30 more`,
    )
    // Left by both runs, but a FIFO by one and a socket by the other: not the same outputs.
    const other = await shellBuild(
      source,
      ['out'],
      `mkdir -p out && echo same > out/x && case "$PWD" in *canary*) python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("out/pipe")' ;; *) mkfifo out/pipe ;; esac`,
      ['--json', '--no-explain'],
    )
    expect(other.code, other.stderr).toBe(1)
    expect(other.result?.differences).toEqual([
      {
        name: 'out/pipe',
        kind: 'content',
        digests: [null, null],
        sizes: [null, null],
        special: ['a FIFO', 'a socket'],
      },
    ])
    // Its report, on the terminal and in HTML, never reads "identical": the one
    // difference is there, unexplained, though nothing of it could be opened.
    const report = path.join(makeTemp(), 'report.html')
    const shown = await shellBuild(
      source,
      ['out'],
      `mkdir -p out && echo same > out/x && case "$PWD" in *canary*) python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("out/pipe")' ;; *) mkfifo out/pipe ;; esac`,
      ['--no-explain', '--report', report],
    )
    expect(shown.code).toBe(1)
    expect(shown.stderr).not.toMatch(/identical:/)
    expect(shown.stderr).toContain('run A left a FIFO, run B a socket')
    const html = fs.readFileSync(report, 'utf8')
    expect(html).not.toContain('Identical')
    expect(html).toContain('out/pipe')
  })

  it('explains an artifact whose name is not UTF-8, never calling the runs identical', async () => {
    const source = sourceWithOddNames()
    const { code, result, stdout } = await shellBuild(
      source,
      ['out'],
      'mkdir -p out && date +%N > "$(printf \'out/n\\377\')"',
      ['--json', '--no-explain'],
    )
    expect(code).toBe(1)
    expect(stdout).not.toMatch(/identical: run A and run B/)
    const [difference] = result?.differences ?? []
    expect(difference?.explanation?.map((i) => [i.path, i.kind])).toEqual([
      [difference?.name, 'content'],
    ])
  })

  it('shows such names escaped, never raw, in the human view and in errors', async () => {
    const source = sourceWithOddNames()
    const ok = await shellBuild(source, ['out/*'], SCRIPT, ['--out-dir', makeTemp()])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/^out\/\\xff\.bin {2}/m)
    expect(ok.stdout).toMatch(/^out\/a\\nb\.txt {2}/m)
    // eslint-disable-next-line no-control-regex -- nothing of the names may reach the terminal raw
    expect(ok.stdout).not.toMatch(/[\u0000\u001b\ufffd]/)

    const bad = await shellBuild(source, ['l*'], `ln -s /etc/hostname "$(printf 'l\\033[31mk')"`, [
      '--json',
    ])
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toEqual([
      'reproof: --out l*: artifact l\\x1b[31mk: symbolic link leads outside the build root; refused',
      '  found: /etc/hostname',
    ])
    // eslint-disable-next-line no-control-regex -- nor in the error as JSON
    expect(bad.stdout).not.toMatch(/[\u0000\u001b]/)
    expect(JSON.parse(bad.stdout)).toMatchObject({
      error: { code: 'E_INPUT', found: '/etc/hostname' },
    })
  })

  it('reports a differing artifact with such a name, compared raw, without crashing', async () => {
    const source = sourceWithOddNames()
    fs.mkdirSync(bytePath(source, 0xfe))
    fs.writeFileSync(bytePath(source, 0xfe, 0x2f, 0x78), 'nested') // \xfe/x
    // The build root's path differs between the runs (the path variation).
    const script = `${SCRIPT} && cat "$(printf '\\376')/x" > out/nested.txt && pwd > "out/$(printf '\\375').txt"`
    const { code, result } = await shellBuild(source, ['out/*'], script, ['--json', '--normalize'])
    expect(code).toBe(1)
    expect(result?.source.files).toBe(5)
    expect(result?.differences.map((d) => d.name)).toEqual(['out/\u0000fd.txt'])
    // With --normalize, the one artifact a normalizer cannot open is said to be compared raw.
    expect(result?.warnings).toContain(
      'out/\\xfd.txt was not normalized (its name is not UTF-8); its raw digests are compared',
    )
  })

  it('takes names that are not UTF-8 from a git work tree, as tracked', async () => {
    const source = sourceWithOddNames()
    commitAll(source, 'odd names')
    fs.writeFileSync(bytePath(source, 0x75, 0xfe), 'untracked') // u\xfe: not in the snapshot
    const { code, result } = await shellBuild(source, ['out/*'], SCRIPT, ['--json'])
    expect(code).toBe(0)
    expect(result?.source.git?.dirty).toBe(false)
    expect(result?.source.files).toBe(4)
    expect(result?.artifacts.map((a) => a.name)).toContain('out/\u0000ff.bin')
  })
})
