import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO } from '../../helpers.js'

const dir = path.join(REPO, '.github', 'workflows')
const workflows = fs.readdirSync(dir).filter((f) => f.endsWith('.yml'))

describe('the example workflows', () => {
  it('pin every action of another repository to a full commit', () => {
    const unpinned: string[] = []
    for (const file of workflows) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8')
      for (const [, ref] of text.matchAll(/^\s*(?:-\s*)?uses:\s*(\S+)/gm)) {
        if (ref === undefined || ref.startsWith('./')) continue
        if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(ref)) unpinned.push(`${file}: ${ref}`)
      }
    }
    expect(workflows.length).toBeGreaterThanOrEqual(3)
    expect(unpinned).toEqual([])
  })

  it('keep credentials out of the checkout and of later steps', () => {
    for (const file of workflows) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8')
      expect(text, file).not.toMatch(/git config --global/)
      expect(text, file).not.toMatch(/extraheader/)
    }
    const release = fs.readFileSync(path.join(dir, 'release.yml'), 'utf8')
    expect(release).toMatch(/ledger-token: \$\{\{ github\.token \}\}/)
  })

  it("never expand an expression inside a step's script, in the workflows or the docs", () => {
    // `run: echo "${{ steps.x.outputs.digests }}"` runs what an artifact's name holds:
    // values reach a script through env only.
    const texts = [
      ...workflows.map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')] as const),
      ...['README.md', 'docs/action.md'].map(
        (f) => [f, fs.readFileSync(path.join(REPO, f), 'utf8')] as const,
      ),
    ]
    for (const [file, text] of texts) {
      const lines = text.split('\n')
      lines.forEach((line, i) => {
        const run = /^(\s*)(-\s+)?run:\s*(.*)$/.exec(line)
        if (run === null) return
        const indent = (run[1] ?? '').length + (run[2] ?? '').length
        // A block scalar (`|`, `>-`): the lines indented past the key are the script.
        const block = /^[|>][-+]?$/.test(run[3] ?? '')
        const script = [run[3] ?? '']
        if (block)
          for (const next of lines.slice(i + 1)) {
            if (next.trim() !== '' && next.length - next.trimStart().length <= indent) break
            script.push(next)
          }
        expect(script.join('\n'), `${file}: ${line.trim()}`).not.toMatch(/\$\{\{/)
      })
    }
  })

  it("gate a release on an identity pattern that a tag's workflow identity matches whole", async () => {
    const release = fs.readFileSync(path.join(dir, 'release.yml'), 'utf8')
    const pattern = /certificate-identity-regexp: (.+)$/m.exec(release)?.[1] ?? ''
    const { matchesWhole } = await import('../../../src/bounded-regexp.js')
    const regexp = pattern.replace('${{ github.repository }}', 'acme/app')
    const identity = 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3'
    expect(matchesWhole(regexp, identity)).toBe(true)
    expect(matchesWhole(regexp, identity.replace('release.yml', 'other.yml'))).toBe(false)
  })

  it('publish to npm with provenance, naming the repository they run in first', () => {
    const publish = fs.readFileSync(path.join(dir, 'publish.yml'), 'utf8')
    const name = publish.indexOf('npm pkg set repository.type=git')
    const release = publish.indexOf('run: npm publish --provenance')
    expect(name).toBeGreaterThan(-1)
    expect(release).toBeGreaterThan(name)
    expect(publish).toMatch(
      /REPOSITORY: \$\{\{ github\.server_url \}\}\/\$\{\{ github\.repository \}\}/,
    )
    expect(publish).toMatch(/id-token: write/)
  })
})
