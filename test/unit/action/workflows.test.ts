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
