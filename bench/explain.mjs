// What explaining a build that does not reproduce costs: a build whose 400 text outputs
// (200 lines of random hex each) differ in every run. reproof build with --no-explain
// (two builds, hashed, every difference explained), and by default (the further pairs
// that look for the variation that causes each difference, too), against the reference
// for the explanation itself: diffoscope comparing the two runs' outputs, kept by
// reproof build --keep. The ratio is reproof's whole build, explanation included, to
// diffoscope's comparison alone of the same two trees.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { compare, fmt, REPO, timed } from './lib/common.mjs'

const FILES = Number(process.env.BENCH_FILES ?? 400)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-explain-'))
const src = path.join(work, 'src')
fs.mkdirSync(src)
fs.writeFileSync(
  path.join(src, 'build.sh'),
  `mkdir -p out && python3 -c "import os\nfor i in range(${FILES}): open('out/f%d.txt' % i, 'w').write(''.join(os.urandom(32).hex(' ') + chr(10) for _ in range(200)))"\n`,
)
const reproof = (flags, options = {}) =>
  // prettier-ignore
  timed([
    'node', path.join(REPO, 'bin/reproof.js'), 'build', '-C', src, '-o', 'out/*.txt',
    '--epoch', '1700000000', '--no-vary', 'file-times', ...flags, '--', 'sh', 'build.sh',
  ], { expectStatus: 1, ...options })

// The two runs' outputs, kept once, for diffoscope.
const kept = JSON.parse(
  reproof(['--keep', '--no-explain', '--json', '--temp-dir', work], { maxBuffer: 1 << 30 }).stdout,
)
const [a, b] = kept.runs.map((r) => path.join(r.root, 'out'))

const result = compare(ROUNDS, undefined, {
  // The builds alone, one after the other: what any twin build takes before comparing.
  plain: () => timed(['sh', '-c', `cd ${src} && sh build.sh && sh build.sh`]).ms,
  noExplain: () => reproof(['--no-explain']).ms,
  explain: () => reproof([]).ms,
  diffoscope: () =>
    timed(['diffoscope', '--no-progress', '--text', '/dev/null', a, b], { expectStatus: 1 }).ms,
})
fs.rmSync(work, { recursive: true, force: true })

console.log(`# explaining a build whose ${FILES} text outputs all differ (median of ${ROUNDS})`)
console.log(`two plain builds, one after the other: ${fmt(result.plain)}`)
console.log(
  `reproof build --no-explain (two runs, compared, every difference explained): ${fmt(result.noExplain)}`,
)
console.log(
  `reproof build (also the pairs that find the variation behind each): ${fmt(result.explain)}`,
)
console.log(`diffoscope over the two runs' outputs: ${fmt(result.diffoscope)}`)
console.log(
  `reproof build --no-explain / diffoscope alone: ${(result.noExplain / result.diffoscope).toFixed(2)}x the time, building included`,
)
