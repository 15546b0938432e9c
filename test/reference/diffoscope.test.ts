import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { DiffReport } from '../../src/diff/report.js'
import { cleanupTemp, makeTemp, runCli } from '../helpers.js'

/**
 * diffoscope is the reference: for pairs with known differences, reproof must name the
 * same differing files and archive members that diffoscope does.
 */

afterEach(cleanupTemp)

interface DiffoscopeNode {
  source1: string
  unified_diff?: string
  details?: DiffoscopeNode[]
}

// Nodes diffoscope adds for its own views of a file, not for members.
const VIEW =
  /\{\}|^file list$|^header$|^zipinfo|^zipnote|^filetype|^metadata|^encoding|^stat |^\.rodata|^readelf|^objdump|^strings/

/** diffoscope's JSON report on a pair it finds different. */
function diffoscope(a: string, b: string, ...flags: string[]): DiffoscopeNode {
  const run = spawnSync('diffoscope', ['--json', '-', ...flags, a, b], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  })
  expect(run.status, run.stderr).toBe(1)
  return JSON.parse(run.stdout) as DiffoscopeNode
}

/** The member paths diffoscope found differing content in, in reproof's `outer!inner` notation. */
function diffoscopePaths(a: string, b: string): string[] {
  const root = diffoscope(a, b, '--exclude-directory-metadata=yes')
  const out: string[] = []
  // Inside a directory pair diffoscope names files by their full path (sometimes
  // without the leading slash); inside archives, by member name.
  const underA = (name: string): string | undefined => {
    const base = a.replace(/^\//, '')
    const bare = name.replace(/^\//, '')
    return bare.startsWith(`${base}/`) ? bare.slice(base.length + 1) : undefined
  }
  const visit = (node: DiffoscopeNode, prefix: string): void => {
    for (const child of node.details ?? []) {
      const name = child.source1
      if (VIEW.test(name)) continue
      // An rpm's payload is "content", beside its "header".
      if (name.endsWith('-content') || name === 'content') {
        visit(child, prefix)
        continue
      }
      const treePath = underA(name)
      const full = treePath ?? (prefix === '' ? name : `${prefix}!${name}`)
      const inner = (child.details ?? []).filter((d) => !VIEW.test(d.source1))
      // A directory holds tree paths; an archive holds members named below it.
      if (inner.length > 0)
        visit(child, inner.every((d) => underA(d.source1) !== undefined) ? '' : full)
      else out.push(full)
    }
  }
  visit(root, '')
  return out.sort()
}

async function reproofPaths(a: string, b: string, prefix: string): Promise<string[]> {
  const run = await runCli(['diff', a, b, '--json'])
  const report = JSON.parse(run.stdout) as DiffReport
  return report.items
    .filter((i) => i.kind === 'content' && i.nested !== true)
    .map((i) =>
      prefix !== '' && i.path.startsWith(`${prefix}!`) ? i.path.slice(prefix.length + 1) : i.path,
    )
    .sort()
}

const sh = (cwd: string, script: string): void => {
  execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd })
}

function treePair(files: number, changed: number[]): string {
  const dir = makeTemp()
  for (const side of ['a', 'b']) {
    for (let i = 0; i < files; i++) {
      const file = path.join(dir, side, `d${i % 5}`, `f${i}.txt`)
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, side === 'b' && changed.includes(i) ? `changed ${i}\n` : `line ${i}\n`)
    }
  }
  return dir
}

describe('reproof diff against diffoscope', () => {
  it('names the same differing files in a tree pair', async () => {
    const dir = treePair(60, [3, 17, 42])
    const ours = await reproofPaths(path.join(dir, 'a'), path.join(dir, 'b'), '')
    expect(ours).toEqual(['d2/f17.txt', 'd2/f42.txt', 'd3/f3.txt'])
    expect(diffoscopePaths(path.join(dir, 'a'), path.join(dir, 'b'))).toEqual(ours)
  })

  it('names the same differing members in a tar.gz pair', async () => {
    const dir = treePair(40, [5, 6])
    sh(dir, 'tar --sort=name -czf a.tgz -C a . && tar --sort=name -czf b.tgz -C b .')
    const ours = await reproofPaths(path.join(dir, 'a.tgz'), path.join(dir, 'b.tgz'), 'a.tgz')
    expect(ours).toEqual(['./d0/f5.txt', './d1/f6.txt'])
    expect(diffoscopePaths(path.join(dir, 'a.tgz'), path.join(dir, 'b.tgz'))).toEqual(ours)
  })

  it('names the same differing members in a zip pair', async () => {
    const dir = treePair(30, [1, 29])
    sh(dir, '(cd a && zip -qrX ../a.zip .) && (cd b && zip -qrX ../b.zip .)')
    const ours = await reproofPaths(path.join(dir, 'a.zip'), path.join(dir, 'b.zip'), 'a.zip')
    expect(ours).toEqual(['d1/f1.txt', 'd4/f29.txt'])
    expect(diffoscopePaths(path.join(dir, 'a.zip'), path.join(dir, 'b.zip'))).toEqual(ours)
  })

  it('names the same differing members in a jar pair, and in a jar inside a tgz', async () => {
    const dir = treePair(20, [7])
    sh(
      dir,
      'for s in a b; do (cd $s && jar cf ../$s.jar .); mkdir $s-outer; cp $s.jar $s-outer/app.jar; tar --sort=name -czf $s-outer.tgz -C $s-outer app.jar; done',
    )
    const jar = await reproofPaths(path.join(dir, 'a.jar'), path.join(dir, 'b.jar'), 'a.jar')
    expect(jar).toEqual(['d2/f7.txt'])
    expect(diffoscopePaths(path.join(dir, 'a.jar'), path.join(dir, 'b.jar'))).toEqual(jar)
    const nested = await reproofPaths(
      path.join(dir, 'a-outer.tgz'),
      path.join(dir, 'b-outer.tgz'),
      'a-outer.tgz',
    )
    expect(nested).toEqual(['app.jar!d2/f7.txt'])
    expect(diffoscopePaths(path.join(dir, 'a-outer.tgz'), path.join(dir, 'b-outer.tgz'))).toEqual(
      nested,
    )
  })
})

describe('reproof diff against diffoscope, inside formats reproof reads itself', () => {
  it('names the same differing members in a tar.zst pair and in an odc cpio pair', async () => {
    const dir = treePair(12, [2, 9])
    sh(
      dir,
      'for s in a b; do (cd $s && find . -type f | LC_ALL=C sort | cpio -o -H odc --quiet > ../$s.cpio; tar --sort=name --mtime=@0 -cf - . | zstd -q -o ../$s.tar.zst); done',
    )
    const cpio = await reproofPaths(path.join(dir, 'a.cpio'), path.join(dir, 'b.cpio'), 'a.cpio')
    expect(cpio).toEqual(['d2/f2.txt', 'd4/f9.txt'])
    expect(diffoscopePaths(path.join(dir, 'a.cpio'), path.join(dir, 'b.cpio'))).toEqual(cpio)
    const zst = await reproofPaths(
      path.join(dir, 'a.tar.zst'),
      path.join(dir, 'b.tar.zst'),
      'a.tar.zst',
    )
    expect(zst).toEqual(['./d2/f2.txt', './d4/f9.txt'])
    // diffoscope names the decompressed tar as a level of its own.
    const theirs = diffoscopePaths(path.join(dir, 'a.tar.zst'), path.join(dir, 'b.tar.zst'))
    expect(theirs.map((p) => p.replace(/^a\.tar!/, ''))).toEqual(zst)
  })

  it('names the same differing members and header tags in an rpm pair', async () => {
    const dir = makeTemp()
    fs.writeFileSync(
      path.join(dir, 'p.spec'),
      'Name: p\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\nBuildArch: noarch\n%description\nd\n%install\nmkdir -p %{buildroot}/opt/p\necho %{v} > %{buildroot}/opt/p/v.txt\necho same > %{buildroot}/opt/p/same.txt\n%files\n/opt/p\n',
    )
    for (const side of ['a', 'b'])
      sh(
        dir,
        `HOME=${dir} rpmbuild -bb --quiet --define "_topdir ${dir}/t${side}" --define "v ${side}" --define "_buildhost h-${side}" p.spec && mv t${side}/RPMS/noarch/p-1-1.noarch.rpm ${side}.rpm`,
      )
    const [a, b] = [path.join(dir, 'a.rpm'), path.join(dir, 'b.rpm')]
    const ours = await reproofPaths(a, b, 'a.rpm')
    expect(ours).toEqual(['./opt/p/v.txt'])
    expect(diffoscopePaths(a, b)).toEqual(ours)
    // Every tag diffoscope shows changed that names a build input, reproof names as a field
    // (the build time too, when the two builds fell in different seconds).
    const run = await runCli(['diff', a, b, '--json'])
    const fields = (JSON.parse(run.stdout) as DiffReport).items[0]?.fields?.map((f) => f.field)
    const header = diffoscope(a, b).details?.find((d) => d.source1 === 'header')
    const changed = new Set(
      [...(header?.unified_diff ?? '').matchAll(/^[-+]([A-Z0-9]+): /gm)].map((m) => m[1] ?? ''),
    )
    const named: Record<string, string> = {
      BUILDTIME: 'build time',
      BUILDHOST: 'build host',
      FILEMTIMES: 'file mtimes',
      FILEDIGESTS: 'file digests',
      FILEMD5S: 'file digests',
    }
    expect([...changed]).toContain('BUILDHOST')
    for (const tag of changed) if (tag in named) expect(fields).toContain(named[tag])
  })

  it('names the same differing classes in a jar pair', async () => {
    const dir = makeTemp()
    for (const side of ['a', 'b'])
      for (const [name, value] of [
        ['One', 1],
        ['Two', side === 'a' ? 2 : 22],
        ['Three', 3],
      ] as const) {
        fs.mkdirSync(path.join(dir, side), { recursive: true })
        fs.writeFileSync(
          path.join(dir, side, `${name}.java`),
          `public class ${name} { public static int v() { return ${value}; } }\n`,
        )
      }
    sh(
      dir,
      'for s in a b; do (cd $s && javac -g:none --release 11 *.java && jar --create --file ../$s.jar --date=2000-01-01T00:00:00Z *.class); done',
    )
    const ours = await reproofPaths(path.join(dir, 'a.jar'), path.join(dir, 'b.jar'), 'a.jar')
    expect(ours).toEqual(['Two.class'])
    expect(diffoscopePaths(path.join(dir, 'a.jar'), path.join(dir, 'b.jar'))).toEqual(ours)
  })

  it('names every ELF section diffoscope shows differing among the sections it finds', async () => {
    const dir = makeTemp()
    for (const side of ['p1', 'p2']) {
      fs.mkdirSync(path.join(dir, side))
      fs.writeFileSync(
        path.join(dir, side, 'y.c'),
        `const char *where(void) { return __FILE__; }\nint f(int x) { return x * ${side === 'p1' ? 3 : 5}; }\n`,
      )
      sh(path.join(dir, side), `gcc -g -O1 -c ${path.join(dir, side, 'y.c')}`)
    }
    const [a, b] = [path.join(dir, 'p1/y.o'), path.join(dir, 'p2/y.o')]
    const run = await runCli(['diff', a, b, '--json'])
    const report = JSON.parse(run.stdout) as DiffReport
    const ours = new Set((report.items[0]?.binary?.sections ?? []).map((s) => s.name))
    const theirs = diffoscopeSections(a, b)
    // diffoscope reads the code, the strings and the debug lines through readelf and
    // objdump; each section it names that way must be one reproof calls different.
    expect(theirs).toEqual(expect.arrayContaining(['.text', '.debug_line_str']))
    for (const name of theirs) expect(ours).toContain(name)
  })
})

/** The ELF sections diffoscope names in its views that differ (`--section=.text`, `--string-dump=.x`). */
function diffoscopeSections(a: string, b: string): string[] {
  const out = new Set<string>()
  const visit = (node: DiffoscopeNode): void => {
    for (const m of node.source1.matchAll(/--(?:section|string-dump|hex-dump)=(\.[\w.]+)/g))
      if (m[1] !== undefined) out.add(m[1])
    for (const child of node.details ?? []) visit(child)
  }
  visit(diffoscope(a, b))
  return [...out].sort()
}
