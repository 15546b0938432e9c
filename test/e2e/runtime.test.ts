import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { BIN, REPO } from '../helpers.js'

/** True when `version` is inside the package's engines range. */
function inEngines(version: string): boolean {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number)
  return (
    major >= 26 ||
    (major === 24 && minor >= 15) ||
    (major === 22 && (minor > 22 || (minor === 22 && patch >= 2)))
  )
}

/** Runs the CLI as if on another Node version: process.versions.node is set before it loads. */
function runAs(version: string, args: string[]): ReturnType<typeof spawnSync> {
  const pretend = `Object.defineProperty(process.versions, 'node', { value: '${version}' })`
  return spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(pretend)}`, BIN, ...args],
    { encoding: 'utf8' },
  )
}

describe('the runtime', () => {
  it('is one the package supports, and the engines field says the same range', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
      engines: { node: string }
    }
    expect(pkg.engines.node).toBe('^22.22.2 || ^24.15.0 || >=26')
    expect(inEngines(process.versions.node), process.version).toBe(true)
  })

  it('refuses an unsupported Node in one line, exit 3, and runs on a supported one', () => {
    for (const version of ['20.20.2', '22.22.1', '23.11.0', '24.14.9', '25.0.0']) {
      const r = runAs(version, ['--version'])
      expect(r.status, version).toBe(3)
      expect(r.stdout).toBe('')
      expect(r.stderr).toBe(
        `reproof: Node ${version} is not supported; it needs Node ^22.22.2, ^24.15.0 or 26 and later\n`,
      )
    }
    for (const version of ['22.22.2', '22.23.0', '24.15.0', '26.0.0', '30.1.2']) {
      const r = runAs(version, ['--version'])
      expect(r.status, version).toBe(0)
      expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/)
    }
  })

  it("reports an error nothing caught in one line, exit 3, never as Node's crash and exit 1", () => {
    // Exit 1 means "not reproducible": a bug must never read as an answer.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reproof-crash-'))
    try {
      fs.writeFileSync(path.join(dir, 'in.txt'), 'x\n')
      const bug = `setTimeout(() => Promise.reject(new Error('a bug')), 1500)`
      const r = spawnSync(
        process.execPath,
        [
          '--import',
          `data:text/javascript,${encodeURIComponent(bug)}`,
          BIN,
          'build',
          '--no-sandbox',
          '-C',
          dir,
          '-o',
          'out.txt',
          '--',
          'sh',
          '-c',
          'sleep 5; echo built > out.txt',
        ],
        { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } },
      )
      expect(r.status).toBe(3)
      expect(r.stderr).toMatch(/^reproof: internal error: a bug$/m)
      expect(r.stderr).not.toMatch(/ at /)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
