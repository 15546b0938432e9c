// reproof diff against diffoscope on the same pairs: a 2,000-file tree with 1 % of the
// files changed, and tar.gz, zip and jar pairs, an ELF pair (objects built in two
// directories) and a .deb pair; then a large tar pair that differs only in mtimes, and
// reproof's peak memory on a 1 GB tar pair whose members all differ. Targets: ≥ 20x faster than diffoscope on
// every pair, with the same differing paths found; within 3x of `diff -rq` on the tree.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { ENV, fmt, REPO, sh } from './lib/common.mjs'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1)
const BIG_MB = Number(process.env.BENCH_BIG_MB ?? 450)
const HUGE_MB = Number(process.env.BENCH_HUGE_MB ?? 1024)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-diff-'))

function run(argv) {
  const t0 = performance.now()
  const r = spawnSync(argv[0], argv.slice(1), { env: ENV, encoding: 'utf8', maxBuffer: 1 << 30 })
  const ms = performance.now() - t0
  if (r.status !== 1)
    throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.slice(-1000)}`)
  return { ms, stdout: r.stdout }
}

const VIEW = /\{\}|^file list$|^zipinfo|^zipnote|^filetype|^metadata|^encoding|^stat /
// Files or members whose content diffoscope found differing: the leaves of its tree,
// leaving out its views of a file, and a nested archive whose only difference is its
// listing (metadata, which reproof reports apart from content).
function diffoscopeCount(json) {
  const root = JSON.parse(json)
  let n = 0
  const onlyListing = (node) =>
    node.unified_diff == null &&
    (node.details ?? []).length > 0 &&
    node.details.every((d) => d.source1 === 'file list')
  const visit = (node) => {
    for (const child of node.details ?? []) {
      if (VIEW.test(child.source1)) continue
      const inner = (child.details ?? []).filter((d) => !VIEW.test(d.source1))
      if (inner.length > 0 || child.source1.endsWith('-content')) visit(child)
      else if (!onlyListing(child)) n++
    }
  }
  visit(root)
  // Two single files (an ELF pair): every node under the root is a view of that file.
  const views = root.details ?? []
  if (n === 0 && views.length > 0 && views.some((d) => d.source1 !== 'file list')) n = 1
  return n
}
const reproofCount = (json) =>
  JSON.parse(json).items.filter((i) => i.kind === 'content' && i.nested !== true).length

function pair(name, a, b) {
  const times = { reproof: [], diffoscope: [] }
  let counts
  for (let i = 0; i < ROUNDS; i++) {
    const ours = run(['node', path.join(REPO, 'bin/reproof.js'), 'diff', '--json', a, b])
    const theirs = run(['diffoscope', '--json', '-', '--exclude-directory-metadata=yes', a, b])
    times.reproof.push(ours.ms)
    times.diffoscope.push(theirs.ms)
    counts = [reproofCount(ours.stdout), diffoscopeCount(theirs.stdout)]
  }
  const r = Math.min(...times.reproof)
  const d = Math.min(...times.diffoscope)
  console.log(
    `${name.padEnd(34)} reproof ${fmt(r).padStart(8)}  diffoscope ${fmt(d).padStart(8)}  ${(d / r).toFixed(1).padStart(5)}x  differing: ${counts[0]} vs ${counts[1]}${counts[0] === counts[1] ? '' : '  MISMATCH'}`,
  )
  return d / r
}

// The tree pair: 2,000 files of source-like sizes, 20 changed in b/.
for (const side of ['a', 'b']) {
  for (let i = 0; i < 2000; i++) {
    const file = path.join(dir, side, `m${i % 40}`, `f${i}.txt`)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(
      file,
      `${'line of text\n'.repeat(20 + (i % 200))}${side === 'b' && i % 100 === 7 ? 'changed\n' : ''}`,
    )
  }
}
sh(
  `cd ${dir} && tar --sort=name -czf a.tgz -C a . && tar --sort=name -czf b.tgz -C b . && (cd a && zip -qrX ../a.zip .) && (cd b && zip -qrX ../b.zip .) && (cd a && jar cf ../a.jar .) && (cd b && jar cf ../b.jar .)`,
)

// An ELF pair: an object of 3,000 functions with debug information, compiled in two
// directories. A .deb pair: a package of that tree whose one file and build differ.
const elf = path.join(dir, 'elf')
for (const side of ['one', 'two-longer']) {
  const src = path.join(elf, side, 'src')
  fs.mkdirSync(src, { recursive: true })
  fs.writeFileSync(
    path.join(src, 'x.c'),
    Array.from(
      { length: 3000 },
      (_, i) => `int f${i}(int x) { return x * ${i} + ${i % 7}; }\n`,
    ).join(''),
  )
  sh(`cd ${src} && gcc -g -O1 -c x.c`)
}
for (const side of ['a', 'b']) {
  const pkg = path.join(dir, `deb-${side}`)
  fs.mkdirSync(path.join(pkg, 'DEBIAN'), { recursive: true })
  fs.writeFileSync(
    path.join(pkg, 'DEBIAN/control'),
    'Package: bench\nVersion: 1.0\nArchitecture: all\nMaintainer: bench <bench@example.org>\nDescription: bench\n',
  )
  sh(
    `mkdir -p ${pkg}/usr/share/bench && cp -r ${path.join(dir, side)}/. ${pkg}/usr/share/bench/ && dpkg-deb --root-owner-group -Zxz -b ${pkg} ${dir}/${side}.deb > /dev/null`,
  )
}

console.log(`# reproof diff vs diffoscope (best of ${ROUNDS})`)
const ratios = [
  pair('2,000-file tree, 1 % changed', path.join(dir, 'a'), path.join(dir, 'b')),
  pair('tar.gz of that tree', path.join(dir, 'a.tgz'), path.join(dir, 'b.tgz')),
  pair('zip of that tree', path.join(dir, 'a.zip'), path.join(dir, 'b.zip')),
  pair('jar of that tree', path.join(dir, 'a.jar'), path.join(dir, 'b.jar')),
  pair('.deb of that tree (data.tar.xz)', path.join(dir, 'a.deb'), path.join(dir, 'b.deb')),
  pair(
    'ELF objects, 3,000 functions, -g',
    path.join(elf, 'one/src/x.o'),
    path.join(elf, 'two-longer/src/x.o'),
  ),
]

// The floor for a tree: `diff -rq` reads both trees and says which files differ.
{
  const times = { reproof: [], diff: [], node: [] }
  for (let i = 0; i < Math.max(ROUNDS, 5); i++) {
    times.node.push(
      run([
        'node',
        path.join(REPO, 'bench/lib/read-trees.mjs'),
        path.join(dir, 'a'),
        path.join(dir, 'b'),
      ]).ms,
    )
    times.reproof.push(
      run([
        'node',
        path.join(REPO, 'bin/reproof.js'),
        'diff',
        '--json',
        path.join(dir, 'a'),
        path.join(dir, 'b'),
      ]).ms,
    )
    times.diff.push(run(['diff', '-rq', path.join(dir, 'a'), path.join(dir, 'b')]).ms)
  }
  const r = Math.min(...times.reproof)
  const d = Math.min(...times.diff)
  const n = Math.min(...times.node)
  console.log(
    `${'2,000-file tree vs diff -rq'.padEnd(34)} reproof ${fmt(r).padStart(8)}  diff -rq ${fmt(d).padStart(8)}  ${(r / d).toFixed(1)}x the time; target ≤ 3x: ${r / d <= 3 ? 'met' : 'MISSED'}`,
  )
  // The floor for any Node process: list, read and hash both trees, nothing else.
  console.log(
    `${'  the same read by bare Node'.padEnd(34)} node    ${fmt(n).padStart(8)}  diff -rq ${fmt(d).padStart(8)}  ${(n / d).toFixed(1)}x the time; reproof ${(r / n).toFixed(1)}x bare Node`,
  )
}

// A large tar pair whose members are identical and whose mtimes all differ: 20,000
// members, like an unpacked node_modules or a JDK image.
const big = path.join(dir, 'big')
const files = Number(process.env.BENCH_BIG_FILES ?? 20000)
const block = Buffer.alloc(Math.floor((BIG_MB * 1024 * 1024) / files))
for (let i = 0; i < files; i++) {
  const sub = path.join(big, 'src', `d${i % 100}`)
  fs.mkdirSync(sub, { recursive: true })
  block.writeUInt32LE(i, 0)
  fs.writeFileSync(path.join(sub, `blob${i}.bin`), block)
}
sh(
  `cd ${big} && tar --sort=name --mtime=@1000000000 -cf a.tar src && tar --sort=name --mtime=@1100000000 -cf b.tar src`,
)
ratios.push(
  pair(
    `${BIG_MB} MB tar pair (${files} members), mtimes only`,
    path.join(big, 'a.tar'),
    path.join(big, 'b.tar'),
  ),
)
fs.rmSync(big, { recursive: true, force: true })

// Memory on a 1 GB pair whose every member differs in content (one byte of each 64 MiB
// member) and in mtime: reproof alone (diffoscope would take many minutes). Target:
// peak RSS under 256 MiB, whatever the number and size of differing members.
const huge = path.join(dir, 'huge')
const hugeBlock = Buffer.alloc(64 * 1024 * 1024)
for (const side of ['a', 'b']) {
  fs.mkdirSync(path.join(huge, side, 'src'), { recursive: true })
  for (let i = 0; i < HUGE_MB / 64; i++) {
    hugeBlock.writeUInt32LE(i, 0)
    hugeBlock[1_000_000] = side === 'a' ? 0 : 1
    fs.writeFileSync(path.join(huge, side, 'src', `part${i}.bin`), hugeBlock)
  }
}
sh(
  `cd ${huge}/a && tar --sort=name --mtime=@1000000000 -cf ../a.tar src && cd ${huge}/b && tar --sort=name --mtime=@1100000000 -cf ../b.tar src && rm -r ${huge}/a ${huge}/b`,
)
const t0 = performance.now()
const timed = spawnSync(
  '/usr/bin/time',
  [
    '-f',
    '%M',
    'node',
    path.join(REPO, 'bin/reproof.js'),
    'diff',
    path.join(huge, 'a.tar'),
    path.join(huge, 'b.tar'),
  ],
  { env: ENV, encoding: 'utf8', maxBuffer: 1 << 30 },
)
const hugeMs = performance.now() - t0
if (timed.status !== 1) throw new Error(`reproof diff of the 1 GB pair exited ${timed.status}`)
const rssKiB = Number(timed.stderr.trim().split('\n').pop())
console.log(
  `${HUGE_MB} MB tar pair, every member's content differs: reproof ${fmt(hugeMs)}, peak RSS ${(rssKiB / 1024).toFixed(0)} MiB; target < 256 MiB: ${rssKiB < 256 * 1024 ? 'met' : 'MISSED'}`,
)
fs.rmSync(dir, { recursive: true, force: true })

const worst = Math.min(...ratios)
console.log(
  `worst ratio ${worst.toFixed(1)}x; target ≥ 20x on every pair: ${worst >= 20 ? 'met' : 'MISSED'}`,
)
