import fs from 'node:fs'
import { builtinModules } from 'node:module'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO } from '../helpers.js'

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : []
  })
}

/** `a`, `@scope/a` from `a/sub`, `@scope/a/sub`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? '')
}

describe('runtime dependencies', () => {
  // An import of a dev dependency passes every test and breaks only for users who
  // install the package without dev dependencies, so it is checked here.
  it('lists every package the program imports, statically or lazily, in dependencies', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>
    }
    const imported = new Set<string>()
    for (const file of sources(path.join(REPO, 'src'))) {
      const text = fs.readFileSync(file, 'utf8')
      for (const m of text.matchAll(
        // load(...) is src/load-cjs.ts's require.
        /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\(\s*|\bload\(\s*)'([^'.][^']*)'/g,
      )) {
        const name = packageOf(m[1] ?? '')
        if (!name.startsWith('node:') && !builtinModules.includes(name)) imported.add(name)
      }
    }
    expect(imported.size).toBeGreaterThan(5)
    for (const name of imported) expect(Object.keys(pkg.dependencies), name).toContain(name)
  })
})
