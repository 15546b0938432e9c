// Hashing a 20,000-file, ~600 MB tree with reproof's manifest code (the glob walk, the
// checks, SHA-256 and the modes) against `openssl dgst -sha256` in two processes, the
// hardware's limit here, and `find | xargs -0 -P2 sha256sum`. Then the peak memory of
// hashing one 1 GB artifact. Targets: ≥ 0.8 × openssl's throughput; < 150 MB peak
// memory on 1 GB.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { compare, fmt, REPO, sh, timed } from './lib/common.mjs'

const FILES = Number(process.env.BENCH_FILES ?? 20000)
const TOTAL_MB = Number(process.env.BENCH_MB ?? 600)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-hash-'))
const per = Math.floor((TOTAL_MB * 1024 * 1024) / FILES)
const block = Buffer.alloc(per)
for (let i = 0; i < FILES; i++) {
  const dir = path.join(root, `d${i % 100}`)
  fs.mkdirSync(dir, { recursive: true })
  block.writeUInt32LE(i, 0) // distinct content per file
  fs.writeFileSync(path.join(dir, `f${i}`), block)
}
const hashTree = () =>
  JSON.parse(timed(['node', path.join(REPO, 'bench/lib/hash-tree.mjs'), root]).stdout)
hashTree() // warm the page cache for everyone
const result = compare(ROUNDS, undefined, {
  sha256sum: () => sh(`find ${root} -type f -print0 | xargs -0 -P2 sha256sum > /dev/null`).ms,
  'openssl (2 procs)': () =>
    sh(`find ${root} -type f -print0 | xargs -0 -P2 -n 2000 openssl dgst -sha256 > /dev/null`).ms,
  // The least any Node process does for it (bench/lib/hash-floor.mjs): the floor.
  'bare Node': () => timed(['node', path.join(REPO, 'bench/lib/hash-floor.mjs'), root]).ms,
  reproof: () => timed(['node', path.join(REPO, 'bench/lib/hash-tree.mjs'), root]).ms,
})
const { files, bytes } = hashTree()
fs.rmSync(root, { recursive: true, force: true })
const gbps = (ms) => (bytes / 1e9 / (ms / 1000)).toFixed(2)
console.log(`hashing ${files} files, ${(bytes / 1e6).toFixed(0)} MB (page cache warm):`)
for (const [name, ms] of Object.entries(result))
  console.log(`  ${name.padEnd(18)} ${fmt(ms).padStart(8)}  ${gbps(ms)} GB/s`)
const ratio = result['openssl (2 procs)'] / result.reproof
console.log(
  `  throughput ratio reproof / openssl ${ratio.toFixed(2)}x (reproof / sha256sum ${(result.sha256sum / result.reproof).toFixed(2)}x); target ≥ 0.8x of openssl: ${ratio >= 0.8 ? 'met' : 'MISSED'}`,
)
console.log(
  `  bare Node / openssl ${(result['openssl (2 procs)'] / result['bare Node']).toFixed(2)}x; reproof takes ${(result.reproof / result['bare Node']).toFixed(2)}x bare Node's time`,
)

const bigDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-big-'))
const big = path.join(bigDir, 'artifact.bin')
sh(`head -c 1073741824 /dev/urandom > ${big}`)
const measured = JSON.parse(
  timed(['node', path.join(REPO, 'bench/lib/hash-tree.mjs'), bigDir]).stdout,
)
const sum = sh(`sha256sum ${big}`).ms
const own = timed(['node', path.join(REPO, 'bench/lib/hash-tree.mjs'), bigDir]).ms
fs.rmSync(bigDir, { recursive: true, force: true })
console.log(
  `one 1 GiB artifact: reproof ${fmt(own)} vs sha256sum ${fmt(sum)}; peak RSS ${(measured.maxRssKiB / 1024).toFixed(0)} MiB; target < 150 MB: ${measured.maxRssKiB * 1024 < 150e6 ? 'met' : 'MISSED'}`,
)
