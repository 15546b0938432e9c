// reproof build of a single-threaded build of a few seconds, against running the
// same build once. Target: reproof ≤ 1.15 × plain + 0.5 s.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { compare, fmt, REPO, timed } from './lib/common.mjs'

const FUNCTIONS = Number(process.env.BENCH_FUNCTIONS ?? 420) // ≈ 4 s of gcc -O2 here
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

const src = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-overhead-'))
let code = ''
for (let i = 0; i < FUNCTIONS; i++) {
  code += `static unsigned f${i}(unsigned x) { unsigned s = ${i};
  for (unsigned k = 0; k < (x & 63); k++) { s = s * 2654435761u + (k ^ ${i}); if (s % 7 == ${i % 7}) s ^= k << 3; }
  switch (x % 5) { case 0: s += ${i}; break; case 1: s ^= ${i * 7}u; break; case 2: s -= x; break; default: s *= 3; }
  return s; }\n`
}
code += 'int main(int c, char **v) { unsigned t = 0; (void)v;\n'
for (let i = 0; i < FUNCTIONS; i++) code += `  t += f${i}((unsigned)c + ${i});\n`
code += '  return (int)(t & 1); }\n'
fs.writeFileSync(path.join(src, 'big.c'), code)
fs.writeFileSync(path.join(src, 'Makefile'), 'big: big.c\n\t$(CC) -O2 -o $@ big.c\n')

const plainDir = path.join(os.tmpdir(), `bench-plain-${process.pid}`)
const outDir = path.join(os.tmpdir(), `bench-out-${process.pid}`)
const result = compare(
  ROUNDS,
  () => {
    fs.rmSync(plainDir, { recursive: true, force: true })
    fs.cpSync(src, plainDir, { recursive: true })
    fs.rmSync(outDir, { recursive: true, force: true })
  },
  {
    plain: () => timed(['make', '-C', plainDir, '-s']).ms,
    reproof: () =>
      timed([
        'node',
        path.join(REPO, 'bin/reproof.js'),
        'build',
        '-C',
        src,
        '-o',
        'big',
        '--out-dir',
        outDir,
        '--epoch',
        '1700000000',
        '--',
        'make',
        '-s',
      ]).ms,
  },
)
fs.rmSync(src, { recursive: true, force: true })
fs.rmSync(plainDir, { recursive: true, force: true })
fs.rmSync(outDir, { recursive: true, force: true })

const budget = 1.15 * result.plain + 500
console.log(
  `overhead: plain make ${fmt(result.plain)}, reproof build ${fmt(result.reproof)} (two runs, concurrent)`,
)
console.log(
  `  ratio ${(result.reproof / result.plain).toFixed(3)}x; target ≤ 1.15x + 0.5 s = ${fmt(budget)}: ${result.reproof <= budget ? 'met' : 'MISSED'}`,
)
