// What Node's compile cache (NODE_COMPILE_CACHE, Node 22 and later) does for `reproof
// verify` and for the verify floor: each run alternates the four, so drift hits all alike.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ENV, fmt, median, REPO, sh, signedBuild, timed } from './lib/common.mjs'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 31)
const [major] = process.versions.node.split('.').map(Number)
if (major < 22) {
  console.log(
    `# compile cache: needs Node 22 or later (this is ${process.version}); nothing measured`,
  )
  process.exit(0)
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cache-'))
const { out, bundle, pub } = signedBuild(
  dir,
  'head -c 10485760 /dev/zero | tr "\\\\0" x > artifact.bin\n',
  'artifact.bin',
)
const artifact = path.join(out, 'artifact.bin')
const cached = { ...ENV, NODE_COMPILE_CACHE: path.join(dir, 'cache') }
const commands = {
  floor: [process.execPath, path.join(REPO, 'bench/lib/verify-floor.mjs'), artifact, bundle, pub],
  reproof: [
    process.execPath,
    path.join(REPO, 'bin/reproof.js'),
    'verify',
    artifact,
    '--bundle',
    bundle,
    '--key',
    pub,
  ],
}
// Fill the cache once, then alternate.
for (const argv of Object.values(commands)) timed(argv, { env: cached })
const times = { floor: [[], []], reproof: [[], []] }
for (let i = 0; i < ROUNDS; i++) {
  for (const [name, argv] of Object.entries(commands)) {
    times[name][0].push(timed(argv).ms)
    times[name][1].push(timed(argv, { env: cached }).ms)
  }
}
console.log(`# compile cache, ${process.version} (median of ${ROUNDS}, NODE_EXTRA_CA_CERTS unset)`)
for (const [name, [plain, withCache]] of Object.entries(times)) {
  console.log(`${name}: ${fmt(median(plain))} without, ${fmt(median(withCache))} with the cache`)
}
const ratio = (i) => median(times.reproof[i]) / median(times.floor[i])
console.log(
  `reproof / floor: ${ratio(0).toFixed(2)}x without, ${ratio(1).toFixed(2)}x with the cache`,
)
sh(`rm -rf ${dir}`)
