// reproof build of a single-threaded build of a few seconds, against running the
// same build once. Target: with the sandbox on, reproof ≤ 1.15 × plain + 0.5 s for the
// work of isolating and comparing two builds, that is with every variation but
// file-times, whose 2.5 s wait before run B is that variation's fixed price (see
// bench/RESULTS.md). Also: the default (file times varied), the same without the
// sandbox, two plain builds at once (the floor of any concurrent twin build), and the
// sandbox's own set-up cost per run.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { compare, fmt, median, REPO, timed } from './lib/common.mjs'

const { openSandbox } = await import(path.join(REPO, 'dist/sandbox/namespace-sandbox.js'))

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
const plainDir2 = path.join(os.tmpdir(), `bench-plain2-${process.pid}`)
const outDir = path.join(os.tmpdir(), `bench-out-${process.pid}`)
const reproof = (...flags) =>
  // prettier-ignore
  timed([
    'node', path.join(REPO, 'bin/reproof.js'), 'build', '-C', src, '-o', 'big',
    '--out-dir', outDir, '--epoch', '1700000000', ...flags, '--', 'make', '-s',
  ]).ms
const result = compare(
  ROUNDS,
  () => {
    for (const dir of [plainDir, plainDir2]) {
      fs.rmSync(dir, { recursive: true, force: true })
      fs.cpSync(src, dir, { recursive: true })
    }
    fs.rmSync(outDir, { recursive: true, force: true })
  },
  {
    plain: () => timed(['make', '-C', plainDir, '-s']).ms,
    // The floor of any twin build that runs both builds at once: two plain makes at once.
    twoPlain: () =>
      timed(['sh', '-c', `make -C ${plainDir} -s & make -C ${plainDir2} -s & wait`]).ms,
    reproof: () => reproof(),
    noFileTimes: () => reproof('--no-vary', 'file-times'),
    unsandboxed: () => reproof('--no-sandbox'),
  },
)

// The sandbox's own cost, measured in-process: per run the holder's set-up (namespaces,
// read-only remounts, tmpfs, host name, the nested namespace check) and tear-down. Run
// A's set-up is also the build's probe of whether the sandbox can be had.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sandbox-'))
const SETUPS = Number(process.env.BENCH_SETUPS ?? 20)
const setupTimes = []
for (let i = 0; i < SETUPS; i++) {
  const base = path.join(scratch, `run-${i}`)
  fs.mkdirSync(base)
  const t0 = performance.now()
  // prettier-ignore
  const sandbox = await openSandbox({
    base, dir: path.join(base, 'b'), hostname: 'reproof', domainname: '(none)', network: false,
    firstPid: 10_000,
  })
  await sandbox.close()
  setupTimes.push(performance.now() - t0)
}
fs.rmSync(scratch, { recursive: true, force: true })
fs.rmSync(src, { recursive: true, force: true })
fs.rmSync(plainDir, { recursive: true, force: true })
fs.rmSync(plainDir2, { recursive: true, force: true })
fs.rmSync(outDir, { recursive: true, force: true })

const budget = 1.15 * result.plain + 500
console.log(
  `overhead: plain make ${fmt(result.plain)}, reproof build ${fmt(result.reproof)} (two runs, concurrent, sandboxed), without the sandbox ${fmt(result.unsandboxed)}`,
)
console.log(
  `  ratio ${(result.reproof / result.plain).toFixed(3)}x (without the sandbox ${(result.unsandboxed / result.plain).toFixed(3)}x); within 1.15x + 0.5 s = ${fmt(budget)} with the 2.5 s file-times wait: ${result.reproof <= budget ? 'yes' : 'no'}`,
)
console.log(
  `  without the file-times variation (sandbox on, clock varied, no 2.5 s wait): ${fmt(result.noFileTimes)}, ratio ${(result.noFileTimes / result.plain).toFixed(3)}x; target ≤ 1.15x + 0.5 s: ${result.noFileTimes <= budget ? 'met' : 'MISSED'}`,
)
console.log(
  `  two plain makes at once (the floor of two concurrent runs): ${fmt(result.twoPlain)}, ${(result.twoPlain / result.plain).toFixed(3)}x one; reproof without the file-times wait over that floor: ${(result.noFileTimes / result.twoPlain).toFixed(3)}x`,
)
console.log(
  `sandbox set-up and tear-down per run: median ${fmt(median(setupTimes))} (${SETUPS} runs)`,
)
