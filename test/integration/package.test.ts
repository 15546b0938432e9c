import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanupTemp, makeTemp, REPO } from '../helpers.js'

// The package as npm would publish it: `npm pack` of this checkout (its dist/ built by
// `npm ci`), unpacked into a fresh directory where only the declared runtime
// dependencies can be found.

interface Packed {
  files: { path: string }[]
  filename: string
  version: string
}

let dir: string
let packed: Packed
let installed: string
beforeAll(() => {
  dir = makeTemp()
  const out = execFileSync(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', dir],
    { cwd: REPO, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } },
  )
  const [first] = JSON.parse(out) as Packed[]
  if (first === undefined) throw new Error('npm pack reported nothing')
  packed = first
  installed = path.join(dir, 'app', 'node_modules', 'reproof')
  fs.mkdirSync(installed, { recursive: true })
  execFileSync('tar', [
    '-xzf',
    path.join(dir, packed.filename),
    '-C',
    installed,
    '--strip-components=1',
  ])
  // Only what package.json declares for run time: a module the code needs and the
  // package does not declare fails here, as it would for a user.
  const { dependencies } = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>
  }
  for (const name of Object.keys(dependencies)) {
    const link = path.join(dir, 'app', 'node_modules', name)
    fs.mkdirSync(path.dirname(link), { recursive: true })
    fs.symlinkSync(path.join(REPO, 'node_modules', name), link)
  }
}, 120_000)
afterAll(cleanupTemp)

const run = (args: string[], cwd = dir) =>
  spawnSync(process.execPath, [path.join(installed, 'bin', 'reproof.js'), ...args], {
    cwd,
    encoding: 'utf8',
  })

describe('the npm package', () => {
  it('ships the program, its docs and license, and nothing of the workshop', () => {
    const files = packed.files.map((f) => f.path)
    expect(files).toEqual(
      expect.arrayContaining([
        'bin/reproof.js',
        'dist/cli/main.js',
        'LICENSE',
        'README.md',
        'CHANGELOG.md',
        'action.yml',
        'docs/threat-model.md',
      ]),
    )
    // No source maps pointing at sources it does not ship, no sources, tests or fixtures.
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([])
    expect(
      files.filter((f) => /^(src|test|fixtures|node_modules|\.compile-cache)\//.test(f)),
    ).toEqual([])
  })

  it('links only to files it ships, from every document it ships', () => {
    const files = new Set(packed.files.map((f) => f.path))
    const broken: string[] = []
    for (const doc of [...files].filter((f) => f.endsWith('.md'))) {
      const text = fs.readFileSync(path.join(installed, doc), 'utf8')
      for (const [, target] of text.matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)) {
        if (target === undefined || /^[a-z]+:/i.test(target)) continue
        const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(doc), target))
        const asDir = resolved.endsWith('/') ? resolved : `${resolved}/`
        if (!files.has(resolved) && ![...files].some((f) => f.startsWith(asDir)))
          broken.push(`${doc} → ${target}`)
      }
    }
    expect(broken).toEqual([])
  })

  it('runs from where it is installed: its version, a diff and a normalize', () => {
    const version = run(['--version'])
    expect(version.status, version.stderr).toBe(0)
    expect(version.stdout.trim()).toBe(packed.version)
    fs.writeFileSync(path.join(dir, 'a.txt'), 'one\n')
    fs.writeFileSync(path.join(dir, 'b.txt'), 'two\n')
    const diff = run(['diff', '--json', 'a.txt', 'b.txt'])
    expect(diff.status, diff.stderr).toBe(1)
    expect((JSON.parse(diff.stdout) as { identical: boolean }).identical).toBe(false)
    execFileSync('zip', ['-q', 'x.zip', 'a.txt', 'b.txt'], { cwd: dir })
    const normalize = run(['normalize', '--json', '--epoch', '0', '--in-place', 'x.zip'])
    expect(normalize.status, normalize.stderr).toBe(0)
    execFileSync('unzip', ['-tq', 'x.zip'], { cwd: dir })
  })

  it('keeps its compiled code in its own directory, not a shared one, unless told not to', () => {
    const cache = path.join(installed, '.compile-cache')
    const env: NodeJS.ProcessEnv = { ...process.env }
    delete env.NODE_COMPILE_CACHE
    const start = (extra: Record<string, string> = {}) =>
      spawnSync(process.execPath, [path.join(installed, 'bin', 'reproof.js'), '--version'], {
        cwd: dir,
        env: { ...env, ...extra },
      })
    fs.rmSync(cache, { recursive: true, force: true })
    expect(start({ NODE_DISABLE_COMPILE_CACHE: '1' }).status).toBe(0)
    expect(fs.existsSync(cache)).toBe(false)
    expect(start().status).toBe(0)
    const entries = fs.readdirSync(cache, { recursive: true, withFileTypes: true })
    expect(entries.filter((e) => e.isFile()).length).toBeGreaterThan(0)
  })
})
