// Builds dist/, what bin/reproof.js runs: reproof's own modules bundled by esbuild into
// a few ES modules, split where a command is loaded lazily, so that a command loads its
// code in a handful of files rather than a hundred (14 ms of a 118 ms diff of two
// object files went to finding and linking modules). Packages stay in node_modules,
// loaded as they are. Type checking is `npm run typecheck`; this only translates.
// Besides the CLI, the modules the benchmarks (and one test, in a process of its own)
// drive directly are entries of their own.
import fs from 'node:fs'
import { build } from 'esbuild'

const { version } = JSON.parse(fs.readFileSync('package.json', 'utf8'))
fs.rmSync('dist', { recursive: true, force: true })
await build({
  entryPoints: [
    'src/cli/main.ts',
    'src/digest/manifest.ts',
    'src/gate/decide.ts',
    'src/sandbox/namespace-sandbox.ts',
    'src/sandbox/source-files.ts',
    'src/sandbox/snapshot.ts',
    'src/io/retry.ts',
  ],
  outbase: 'src',
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  packages: 'external',
  logLevel: 'warning',
  // dist/ has no package.json beside it to read the version from.
  define: { __REPROOF_VERSION__: JSON.stringify(version) },
})
