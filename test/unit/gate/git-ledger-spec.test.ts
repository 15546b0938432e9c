import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { isReproofError } from '../../../src/errors.js'
import { checkpointUrl, GitLedger, parseGitLedgerSpec } from '../../../src/gate/git-ledger.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

describe('git ledger address', () => {
  it('reads back the url and branch it was written with', () => {
    const url = fc
      .stringMatching(/^[a-z/:.@]{1,30}$/)
      .filter((u) => !u.startsWith('-') && !u.includes('#') && !u.startsWith('file:'))
    const branch = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,9}(\/[a-z0-9][a-z0-9_-]{0,9})?$/)
    fc.assert(
      fc.property(url, branch, (u, b) => {
        const remote = /^[a-z]+:\/\//.test(u) || /^[^/]*:/.test(u)
        // A local path comes back absolute: git runs elsewhere than the caller.
        expect(parseGitLedgerSpec(`git:${u}#${b}`)).toEqual({
          url: remote ? u : path.resolve(u),
          branch: b,
        })
      }),
    )
  })

  it('makes a local path absolute, from wherever it was written and however spelled', () => {
    expect(parseGitLedgerSpec('git:.#ledger').url).toBe(process.cwd())
    expect(parseGitLedgerSpec('git:remote.git#ledger').url).toBe(path.resolve('remote.git'))
    // git reads file:// with any host as the local path after it.
    for (const spelling of ['file:///srv/a b', 'file://localhost/srv/a%20b', 'FILE://x/srv/a b'])
      expect(parseGitLedgerSpec(`git:${spelling}#l`).url, spelling).toBe('/srv/a b')
    expect(() => parseGitLedgerSpec('git:file:///srv/a%zz#l')).toThrow(
      '--ledger git:file:///srv/a%zz#l: the address has a broken % escape',
    )
    expect(parseGitLedgerSpec('git:https://example.com/r.git#l').url).toBe(
      'https://example.com/r.git',
    )
  })

  it('never returns something git would read as an option or a ref range', () => {
    fc.assert(
      fc.property(fc.string(), (rest) => {
        try {
          const { url, branch } = parseGitLedgerSpec(`git:${rest}`)
          expect(url).not.toMatch(/^-/)
          expect(branch).not.toMatch(/^-|\.\.|\s/)
        } catch (err) {
          expect(isReproofError(err) && err.code === 'E_USAGE').toBe(true)
        }
      }),
    )
  })

  it('takes the last # as the branch, defaulting to reproof-ledger', () => {
    expect(parseGitLedgerSpec('git:https://example.com/r.git')).toEqual({
      url: 'https://example.com/r.git',
      branch: 'reproof-ledger',
    })
    expect(parseGitLedgerSpec('git:/srv/a#b.git#rel/v1.x_y-z')).toEqual({
      url: '/srv/a#b.git',
      branch: 'rel/v1.x_y-z',
    })
    expect(parseGitLedgerSpec(`git:/r#A${'b'.repeat(99)}`).branch).toHaveLength(100)
  })

  it('refuses an empty url, one read as an option, and branch names git would refuse', () => {
    for (const spec of ['git:', 'git:#main', 'git:-u#main', 'git:--upload-pack=x'])
      expect(() => parseGitLedgerSpec(spec), spec).toThrow(
        `--ledger ${spec}: expected git:<url>#<branch>`,
      )
    for (const branch of [
      '',
      '-b',
      '.b',
      '/b',
      'a..b',
      'a.lock',
      'a/',
      'a//b',
      'a/.b',
      'a.',
      'x.lock/y',
      'a b',
      'a~1',
      `a${'b'.repeat(100)}`,
      'main\n',
    ])
      expect(() => parseGitLedgerSpec(`git:/r#${branch}`), branch).toThrow(
        `--ledger git:/r#${branch}: "${branch}" is not a usable branch name`,
      )
    expect(parseGitLedgerSpec('git:/r#a.locked').branch).toBe('a.locked')
  })

  it('takes a branch name exactly when git would make that branch', () => {
    const name = fc.stringMatching(/^[a-z0-9./_-]{1,12}$/)
    fc.assert(
      fc.property(name, (branch) => {
        let ours = true
        try {
          parseGitLedgerSpec(`git:/r#${branch}`)
        } catch {
          ours = false
        }
        const gits =
          spawnSync('git', ['check-ref-format', `refs/heads/${branch}`]).status === 0 &&
          !branch.startsWith('-') &&
          /^[a-z0-9]/.test(branch)
        // Ours is stricter in one way only: a name begins with a letter or a digit.
        expect(ours, branch).toBe(gits)
      }),
      { numRuns: 300 },
    )
  })

  it('names the address without its credentials in every refusal', () => {
    for (const spec of [
      'git:https://alice:s3cr3t@git.example/r.git#a..b',
      'git:https://alice:s3cr3t@git.example/r.git?t=1#a/.b',
    ]) {
      let message = ''
      try {
        parseGitLedgerSpec(spec)
      } catch (err) {
        message = (err as Error).message
      }
      expect(message, spec).toMatch(/^--ledger git:https:\/\/git\.example\//)
      expect(message).not.toContain('s3cr3t')
    }
  })
})

describe('checkpointUrl', () => {
  it('spells one local path one way while no repository is there', () => {
    const local = path.resolve('ledgers/r.git')
    for (const spelling of [
      local,
      `${local}/`,
      `${local}//`,
      `file://${local}`,
      `file://localhost${local}`,
      'ledgers/r.git',
      './ledgers/r.git/',
    ])
      expect(checkpointUrl(spelling), spelling).toBe(local)
  })

  it('keys every path git opens one repository by as that repository', () => {
    const dir = fs.realpathSync(makeTemp())
    execFileSync('git', ['init', '-q', '--bare', path.join(dir, 'ledger.git')])
    execFileSync('git', ['init', '-q', path.join(dir, 'work')])
    fs.symlinkSync(path.join(dir, 'ledger.git'), path.join(dir, 'alias.git'))
    fs.symlinkSync(dir, path.join(dir, 'up'))
    const bare = path.join(dir, 'ledger.git')
    // git adds `.git` itself, and a link leads to the same repository.
    for (const spelling of [
      bare,
      `${bare}/`,
      path.join(dir, 'ledger'),
      `file://${path.join(dir, 'ledger')}`,
      path.join(dir, 'alias.git'),
      path.join(dir, 'alias'),
      path.join(dir, 'up', 'ledger.git'),
    ])
      expect(checkpointUrl(spelling), spelling).toBe(bare)
    // A work tree and its .git directory are one repository.
    for (const spelling of [path.join(dir, 'work'), path.join(dir, 'work', '.git')])
      expect(checkpointUrl(spelling), spelling).toBe(path.join(dir, 'work', '.git'))
    // A `.git` file naming the repository (a submodule's, relative or not), and a linked
    // work tree (`git worktree add`), whose own git directory shares the repository's.
    fs.mkdirSync(path.join(dir, 'pointer'))
    fs.writeFileSync(path.join(dir, 'pointer', '.git'), `gitdir: ${bare}\n`)
    fs.mkdirSync(path.join(dir, 'relative'))
    fs.writeFileSync(path.join(dir, 'relative', '.git'), 'gitdir: ../ledger.git\n')
    expect(checkpointUrl(path.join(dir, 'pointer')), 'pointer').toBe(bare)
    expect(checkpointUrl(path.join(dir, 'relative')), 'relative').toBe(bare)
    execFileSync(
      'git',
      ['-C', path.join(dir, 'work'), 'commit', '-q', '--allow-empty', '-m', 'x'],
      {
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'a',
          GIT_AUTHOR_EMAIL: 'a@b',
          GIT_COMMITTER_NAME: 'a',
          GIT_COMMITTER_EMAIL: 'a@b',
        },
      },
    )
    execFileSync('git', [
      '-C',
      path.join(dir, 'work'),
      'worktree',
      'add',
      '-q',
      path.join(dir, 'linked'),
    ])
    expect(checkpointUrl(path.join(dir, 'linked')), 'linked').toBe(path.join(dir, 'work', '.git'))
    // As git reads a gitfile: its line breaks all dropped, a relative path taken from
    // where a link leads (`via/../ledger.git` is beside the link's target, not the link).
    fs.mkdirSync(path.join(dir, 'padded'))
    fs.writeFileSync(path.join(dir, 'padded', '.git'), `gitdir: ${bare}\r\n\n${'\n'.repeat(5000)}`)
    expect(checkpointUrl(path.join(dir, 'padded')), 'padded').toBe(bare)
    const deep = path.join(dir, 'deep')
    fs.mkdirSync(path.join(deep, 'work'), { recursive: true })
    execFileSync('git', ['init', '-q', '--bare', path.join(deep, 'ledger.git')])
    fs.writeFileSync(path.join(deep, 'work', '.git'), 'gitdir: ../ledger.git\n')
    fs.symlinkSync(path.join(deep, 'work'), path.join(dir, 'via'))
    expect(checkpointUrl(path.join(dir, 'via')), 'via').toBe(path.join(deep, 'ledger.git'))
    // A FIFO where a commondir would be is not opened (the open waits for a writer).
    const fifo = path.join(dir, 'fifo.git')
    execFileSync('git', ['init', '-q', '--bare', fifo])
    execFileSync('mkfifo', [path.join(fifo, 'commondir')])
    expect(checkpointUrl(fifo)).toBe(fifo)
    // A file that only looks like one is no repository: the path is its own.
    fs.mkdirSync(path.join(dir, 'junk'))
    fs.writeFileSync(path.join(dir, 'junk', '.git'), 'gitdir: /nowhere\n')
    expect(checkpointUrl(path.join(dir, 'junk'))).toBe(path.join(dir, 'junk'))
  })

  it("takes the spellings of a forge's repository for one, and other repositories apart", () => {
    const one = [
      'https://git.example/o/r.git/',
      'https://git.example/o/r',
      'https://GIT.example:443/O/R.git',
      'https://user@git.example/o/r.git',
      'git@git.example:o/r.git',
      'git.example:o/r',
      'ssh://git@git.example/o/r.git',
      'ssh://git@git.example:2222/o/r',
      'git://git.example/o/r.git',
    ]
    for (const spelling of one)
      expect(checkpointUrl(spelling), spelling).toBe('remote:git.example/o/r')
    for (const other of [
      'https://git.example/o/r2',
      'https://git.example/o2/r',
      'https://other.example/o/r',
      'git@git.example:o/r/sub.git',
    ])
      expect(checkpointUrl(other), other).not.toBe('remote:git.example/o/r')
  })
})

describe('git ledger close', () => {
  it('never throws: it runs after the answer, a pushed record included', () => {
    const ledger = GitLedger.open(path.join(makeTemp(), 'r.git'), 'l', makeTemp(), process.env)
    const spy = vi.spyOn(fs, 'rmSync').mockImplementation(() => {
      throw Object.assign(new Error('EBUSY: resource busy or locked, rmdir'), { code: 'EBUSY' })
    })
    try {
      expect(() => {
        ledger.close()
      }).not.toThrow()
      expect(spy).toHaveBeenCalled()
    } finally {
      spy.mockRestore()
      ledger.close()
    }
  })
})
