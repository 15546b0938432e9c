// Shared helpers for the benchmarks: timing child processes and summarizing.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { performance } from 'node:perf_hooks'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

// NODE_EXTRA_CA_CERTS makes every Node start load a CA bundle (~80 ms here); it has
// nothing to do with reproof, so it is removed for everything timed.
export const ENV = { ...process.env }
delete ENV.NODE_EXTRA_CA_CERTS

/** Runs a command to completion and returns its wall time in milliseconds. */
export function timed(argv, options = {}) {
  const t0 = performance.now()
  const result = spawnSync(argv[0], argv.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: ENV,
    maxBuffer: 1 << 28,
    ...options,
  })
  const ms = performance.now() - t0
  if (result.status !== (options.expectStatus ?? 0)) {
    throw new Error(
      `${argv.join(' ')} exited ${result.status}: ${result.stderr?.toString().slice(-2000)}`,
    )
  }
  return { ms, stdout: result.stdout?.toString() ?? '', stderr: result.stderr?.toString() ?? '' }
}

export function sh(script, options = {}) {
  return timed(['bash', '-c', script], options)
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Alternates the two contenders `rounds` times (so drift hits both alike) and takes medians. */
export function compare(rounds, prepare, contenders) {
  const times = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]))
  for (let i = 0; i < rounds; i++) {
    for (const [name, run] of Object.entries(contenders)) {
      prepare?.(name)
      times[name].push(run())
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]))
}

export function fmt(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`
}

/**
 * A key and a reproducible build signed with it, in `dir`: `script` (a shell script run in
 * the build root) makes the artifacts `glob` names. Returns the paths benchmarks need.
 */
export function signedBuild(dir, script, glob) {
  const reproof = path.join(REPO, 'bin/reproof.js')
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true })
  fs.writeFileSync(path.join(dir, 'src', 'build.sh'), script)
  timed(['node', reproof, 'keygen', '--out', path.join(dir, 'k')])
  // prettier-ignore
  timed([
    'node', reproof, 'build', '-C', path.join(dir, 'src'), '-o', glob,
    '--out-dir', path.join(dir, 'out'), '--epoch', '1700000000',
    '--bundle', path.join(dir, 'bundle.json'), '--key', path.join(dir, 'k.key'),
    '--builder-id', 'https://bench.example', '--', 'sh', 'build.sh',
  ], { maxBuffer: 1 << 30 })
  return {
    out: path.join(dir, 'out'),
    bundle: path.join(dir, 'bundle.json'),
    pub: path.join(dir, 'k.pub'),
  }
}
