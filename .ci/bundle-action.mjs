// Bundles the GitHub Action into one self-contained file, .github/action/index.mjs,
// committed so that the action runs without npm install. esbuild's output depends only
// on its inputs and its version (locked), so CI rebuilds it and fails on any difference:
// the action proves its own reproducibility.
import fs from 'node:fs'
import { build } from 'esbuild'

const { version } = JSON.parse(fs.readFileSync('package.json', 'utf8'))
await build({
  entryPoints: ['src/action/index.ts'],
  outfile: '.github/action/index.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  legalComments: 'none',
  logLevel: 'warning',
  define: { __REPROOF_VERSION__: JSON.stringify(version) },
  // Bundled CommonJS packages call require() for Node's built-in modules.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
})
