// One reproof snapshot of a 20,000-file tree against `cp -a` of the same tree, both
// into the same tmpfs. Target: reproof ≤ 1.5 × cp -a.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { compare, fmt, REPO, timed } from './lib/common.mjs'

const FILES = Number(process.env.BENCH_FILES ?? 20000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)

const src = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-snapshot-'))
for (let i = 0; i < FILES; i++) {
  const dir = path.join(src, `d${i % 200}`, `e${i % 7}`)
  fs.mkdirSync(dir, { recursive: true })
  // Sizes like a source tree's: mostly a few KiB, some larger.
  fs.writeFileSync(
    path.join(dir, `file${i}.c`),
    'x'.repeat(i % 10 === 0 ? 40000 : 1000 + (i % 4000)),
  )
}
const destParent = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir()
const dest = path.join(destParent, `bench-snapshot-dest-${process.pid}`)
const result = compare(ROUNDS, () => fs.rmSync(dest, { recursive: true, force: true }), {
  'cp -a': () => timed(['cp', '-a', src, dest]).ms,
  reproof: () => timed(['node', path.join(REPO, 'bench/lib/snapshot-once.mjs'), src, dest]).ms,
})
fs.rmSync(dest, { recursive: true, force: true })
fs.rmSync(src, { recursive: true, force: true })

console.log(
  `snapshot of ${FILES} files: cp -a ${fmt(result['cp -a'])}, reproof ${fmt(result.reproof)} (incl. node start-up)`,
)
const ratio = result.reproof / result['cp -a']
console.log(`  ratio ${ratio.toFixed(3)}x; target ≤ 1.5x: ${ratio <= 1.5 ? 'met' : 'MISSED'}`)
