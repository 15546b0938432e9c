// Bundles the GitHub Action into one self-contained file, .github/action/index.mjs,
// committed so that the action runs without npm install. esbuild's output depends only
// on its inputs and its version (locked), so CI rebuilds it and fails on any difference:
// the action proves its own reproducibility.
import fs from 'node:fs'
import path from 'node:path'
import { build } from 'esbuild'

const { version } = JSON.parse(fs.readFileSync('package.json', 'utf8'))
const { metafile } = await build({
  metafile: true,
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

// The licenses of every package the bundle holds, beside it: the bundle ships their code,
// so it ships their notices. Written from esbuild's own list of what it bundled, in a
// fixed order, so CI's check that the bundle is fresh covers this file too.
const packages = new Map()
for (const input of Object.keys(metafile.inputs)) {
  const at = input.lastIndexOf('node_modules/')
  if (at === -1) continue
  const rest = input.slice(at + 'node_modules/'.length).split('/')
  const name = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
  packages.set(input.slice(0, at) + 'node_modules/' + name, name)
}
const sections = []
for (const [dir, name] of [...packages].sort(
  (a, b) => a[1].localeCompare(b[1]) || a[0].localeCompare(b[0]),
)) {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
  const files = fs
    .readdirSync(dir)
    .filter((f) => /^(licen[cs]e|copying|notice)/i.test(f))
    .sort()
  const texts = files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8').trim())
  sections.push(
    [
      `## ${name} ${pkg.version}`,
      '',
      `License: ${typeof pkg.license === 'string' ? pkg.license : JSON.stringify(pkg.license ?? 'not stated')}`,
      '',
      ...(texts.length === 0
        ? ['(the package ships no license file)']
        : texts.map((t) => ['```', t, '```'].join('\n'))),
    ].join('\n'),
  )
}
fs.writeFileSync(
  '.github/action/THIRD_PARTY_NOTICES.md',
  `# Third-party notices\n\nThe action bundle (index.mjs) holds code from these packages, under these licenses.\n\n${sections.join('\n\n')}\n`,
)
