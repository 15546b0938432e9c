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
  target: 'node24',
  format: 'esm',
  legalComments: 'none',
  logLevel: 'warning',
  define: { __REPROOF_VERSION__: JSON.stringify(version) },
  plugins: [
    {
      // src/load-cjs.ts loads packages through createRequire, which esbuild cannot
      // follow; a plain require() with the same names it bundles.
      name: 'bundle-load-cjs',
      setup(b) {
        b.onLoad({ filter: /[\\/]src[\\/]load-cjs\.ts$/ }, (args) => {
          const source = fs.readFileSync(args.path, 'utf8')
          const contents = source
            .replace(/^const load = createRequire\(import\.meta\.url\)$/m, '')
            .replace(/\bload\('/g, "require('")
          if (contents === source || /\bload\(/.test(contents))
            throw new Error(`${args.path}: no longer the shape this plugin rewrites`)
          return { contents, loader: 'ts' }
        })
      },
    },
  ],
  // Bundled CommonJS packages call require() for Node's built-in modules.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
})
