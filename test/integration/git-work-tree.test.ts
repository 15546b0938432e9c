import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { snapshotMatchesCommit, workTreeMatchesHead } from '../../src/sandbox/git.js'
import { cleanupTemp, git, makeTemp, makeTempParent, runCli } from '../helpers.js'

afterEach(cleanupTemp)

/** A repository with a file, an executable and a link, committed. */
function repository(): string {
  const dir = makeTemp()
  fs.writeFileSync(path.join(dir, 'data.txt'), 'same bytes\n')
  fs.writeFileSync(path.join(dir, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 })
  fs.symlinkSync('data.txt', path.join(dir, 'link'))
  git(dir, ['init', '-q'])
  git(dir, ['add', '.'])
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@x.invalid', 'commit', '-qm', 'c'])
  return dir
}

describe('workTreeMatchesHead', () => {
  it('holds for a fresh checkout, and fails for each way the bytes the build takes differ', async () => {
    expect(await workTreeMatchesHead(repository())).toBe(true)
    const changes: Record<string, (dir: string) => void> = {
      'an exec bit set': (dir) => {
        fs.chmodSync(path.join(dir, 'data.txt'), 0o755)
      },
      'an exec bit cleared': (dir) => {
        fs.chmodSync(path.join(dir, 'run.sh'), 0o644)
      },
      // The same bytes through a link: the snapshot takes the link, not the bytes.
      'a file become a link to the same bytes': (dir) => {
        fs.writeFileSync(path.join(dir, 'copy.txt'), 'same bytes\n')
        fs.rmSync(path.join(dir, 'data.txt'))
        fs.symlinkSync('copy.txt', path.join(dir, 'data.txt'))
      },
      'a link to another target': (dir) => {
        fs.rmSync(path.join(dir, 'link'))
        fs.symlinkSync('run.sh', path.join(dir, 'link'))
      },
      'a link become a file': (dir) => {
        fs.rmSync(path.join(dir, 'link'))
        fs.writeFileSync(path.join(dir, 'link'), 'data.txt')
      },
      'a file removed': (dir) => {
        fs.rmSync(path.join(dir, 'data.txt'))
      },
      'a file of the same size rewritten': (dir) => {
        fs.writeFileSync(path.join(dir, 'data.txt'), 'SAME bytes\n')
      },
    }
    for (const [what, change] of Object.entries(changes)) {
      const dir = repository()
      change(dir)
      expect(await workTreeMatchesHead(dir), what).toBe(false)
    }
  })

  it('holds for files a checkout converts by their attributes (CRLF line ends), never through a filter', async () => {
    // Gradle's own .gitattributes keeps gradlew.bat with CRLF; its blob is LF.
    const dir = makeTemp()
    fs.writeFileSync(path.join(dir, '.gitattributes'), '*.bat text eol=crlf\n*.bin filter=fake\n')
    fs.writeFileSync(path.join(dir, 'gradlew.bat'), '@echo off\r\necho hi\r\n')
    git(dir, ['init', '-q'])
    git(dir, ['add', '.'])
    git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@x.invalid', 'commit', '-qm', 'c'])
    fs.rmSync(path.join(dir, 'gradlew.bat'))
    git(dir, ['checkout', '--', 'gradlew.bat'])
    expect(fs.readFileSync(path.join(dir, 'gradlew.bat'), 'utf8')).toContain('\r\n')
    expect(await workTreeMatchesHead(dir)).toBe(true)
    // The same file with LF line ends: its blob's bytes, but not what a checkout writes.
    fs.writeFileSync(path.join(dir, 'gradlew.bat'), '@echo off\necho hi\n')
    expect(await workTreeMatchesHead(dir)).toBe(false)
    fs.writeFileSync(path.join(dir, 'gradlew.bat'), '@echo off\r\necho ho\r\n')
    expect(await workTreeMatchesHead(dir)).toBe(false)
    // Another encoding in the work tree than in the blob: clean as the checkout writes it.
    const encoded = makeTemp()
    fs.writeFileSync(path.join(encoded, '.gitattributes'), '*.txt working-tree-encoding=UTF-16LE\n')
    fs.writeFileSync(path.join(encoded, 'a.txt'), Buffer.from('héllo\n', 'utf16le'))
    git(encoded, ['init', '-q'])
    git(encoded, ['add', '.'])
    git(encoded, ['-c', 'user.name=t', '-c', 'user.email=t@x.invalid', 'commit', '-qm', 'c'])
    expect(await workTreeMatchesHead(encoded)).toBe(true)
    // A file under a filter is not read back through it (it would run a program), even
    // where another of its attributes converts it: its filter would run, here leaving a mark.
    const marked = makeTemp()
    const mark = path.join(marked, 'ran')
    fs.writeFileSync(path.join(marked, '.gitattributes'), '*.bat filter=mark text eol=crlf\n')
    fs.writeFileSync(path.join(marked, 'x.bat'), 'a\r\n')
    git(marked, ['init', '-q'])
    git(marked, ['config', 'filter.mark.clean', 'cat'])
    git(marked, ['config', 'filter.mark.smudge', `sh -c 'touch ${mark}; cat'`])
    git(marked, ['add', '.'])
    git(marked, ['-c', 'user.name=t', '-c', 'user.email=t@x.invalid', 'commit', '-qm', 'c'])
    expect(await workTreeMatchesHead(marked)).toBe(false)
    expect(fs.existsSync(mark)).toBe(false)
    // A file under a filter is not read back through it (it would run a program).
    const filtered = makeTemp()
    fs.writeFileSync(path.join(filtered, '.gitattributes'), '*.bin filter=upper\n')
    fs.writeFileSync(path.join(filtered, 'x.bin'), 'abc\n')
    const id = ['-c', 'user.name=t', '-c', 'user.email=t@x.invalid']
    const upper = ['-c', 'filter.upper.clean=cat', '-c', 'filter.upper.smudge=tr a-z A-Z']
    git(filtered, ['init', '-q'])
    git(filtered, [...upper, 'add', '.'])
    git(filtered, [...id, 'commit', '-qm', 'c'])
    fs.writeFileSync(path.join(filtered, 'x.bin'), 'ABC\n')
    expect(await workTreeMatchesHead(filtered)).toBe(false)
  })

  it('takes conversions from the commit alone, not from attributes beside it', async () => {
    const id = ['-c', 'user.name=t', '-c', 'user.email=t@x.invalid']
    // A CRLF file whose commit says nothing of line ends: other bytes than the blob's.
    const crlf = (dir: string): void => {
      fs.rmSync(path.join(dir, 'app', 'x.txt'))
      git(dir, ['checkout', '--', 'app/x.txt'])
      expect(fs.readFileSync(path.join(dir, 'app', 'x.txt'), 'utf8')).toBe('a\r\nb\r\n')
    }
    const repo = (): string => {
      const dir = makeTemp()
      fs.mkdirSync(path.join(dir, 'app'))
      fs.writeFileSync(path.join(dir, 'app', 'x.txt'), 'a\nb\n')
      fs.writeFileSync(path.join(dir, '.gitattributes'), '*.md text\n')
      git(dir, ['init', '-q'])
      git(dir, ['add', '.'])
      git(dir, [...id, 'commit', '-qm', 'c'])
      return dir
    }
    // The repository's info/attributes.
    const info = repo()
    fs.writeFileSync(path.join(info, '.git', 'info', 'attributes'), '*.txt text eol=crlf\n')
    crlf(info)
    expect(await workTreeMatchesHead(info)).toBe(false)
    // An untracked .gitattributes in the work tree.
    const untracked = repo()
    fs.writeFileSync(path.join(untracked, 'app', '.gitattributes'), '*.txt text eol=crlf\n')
    crlf(untracked)
    expect(await workTreeMatchesHead(path.join(untracked, 'app'))).toBe(false)
    // The tracked .gitattributes above a subdirectory, edited: status of the subdirectory
    // does not see it.
    const above = repo()
    fs.writeFileSync(path.join(above, '.gitattributes'), '*.txt text eol=crlf\n')
    crlf(above)
    expect(await workTreeMatchesHead(path.join(above, 'app'))).toBe(false)
    // The same conversion committed, built from the subdirectory: clean.
    const committed = repo()
    fs.writeFileSync(path.join(committed, '.gitattributes'), '*.txt text eol=crlf\n')
    git(committed, ['add', '.'])
    git(committed, [...id, 'commit', '-qm', 'd'])
    crlf(committed)
    expect(await workTreeMatchesHead(path.join(committed, 'app'))).toBe(true)
  })
})

describe('snapshotMatchesCommit', () => {
  /** A copy as the snapshot makes it: files, the exec bit, the link as a link. */
  function copyOf(dir: string, names: readonly string[]): string {
    const copy = makeTemp()
    for (const name of names) {
      const from = path.join(dir, name)
      if (fs.lstatSync(from).isSymbolicLink())
        fs.symlinkSync(fs.readlinkSync(from), path.join(copy, name))
      else fs.copyFileSync(from, path.join(copy, name))
    }
    return copy
  }

  it('holds for a copy of the commit, whole or with names left out, and fails for a copy that differs', async () => {
    const dir = repository()
    const commit = git(dir, ['rev-parse', 'HEAD']).trim()
    const all = ['data.txt', 'run.sh', 'link']
    expect(await snapshotMatchesCommit(dir, commit, copyOf(dir, all), new Set(all))).toBe(true)
    // A file of the commit the copy does not hold, whatever the work tree holds now (one
    // that vanished while the tree was listed and came back): the build did not have it.
    const some = ['data.txt', 'link']
    expect(await snapshotMatchesCommit(dir, commit, copyOf(dir, some), new Set(some))).toBe(false)
    // A file changed in the copy, though the work tree is clean.
    const edited = copyOf(dir, all)
    fs.writeFileSync(path.join(edited, 'data.txt'), 'other bytes\n')
    expect(await snapshotMatchesCommit(dir, commit, edited, new Set(all))).toBe(false)
    // A name the copy holds that the commit does not.
    const extra = copyOf(dir, all)
    fs.writeFileSync(path.join(extra, 'new.txt'), 'x')
    expect(await snapshotMatchesCommit(dir, commit, extra, new Set([...all, 'new.txt']))).toBe(
      false,
    )
    // A file the commit has that the copy left out and the work tree no longer has:
    // deleted before the listing, not excluded.
    fs.rmSync(path.join(dir, 'run.sh'))
    expect(await snapshotMatchesCommit(dir, commit, copyOf(dir, some), new Set(some))).toBe(false)
    git(dir, ['checkout', '--', 'run.sh'])
    // The work tree's later commit is not the one named.
    fs.writeFileSync(path.join(dir, 'data.txt'), 'committed later\n')
    git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@x.invalid', 'commit', '-qam', 'd'])
    expect(await snapshotMatchesCommit(dir, commit, copyOf(dir, all), new Set(all))).toBe(false)
  })
})

describe('a repository whose config turns replace refs back on', () => {
  it('is read as its commits are, so a work tree of the replacement is not clean', async () => {
    const dir = repository()
    const recorded = git(dir, ['rev-parse', 'HEAD']).trim()
    fs.writeFileSync(path.join(dir, 'data.txt'), 'the replacement\n')
    git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@x.invalid', 'commit', '-qam', 'r'])
    const replacement = git(dir, ['rev-parse', 'HEAD']).trim()
    git(dir, ['reset', '-q', '--hard', recorded])
    git(dir, ['replace', recorded, replacement])
    git(dir, ['config', 'core.useReplaceRefs', 'true'])
    // Checked out through the replacement: the work tree holds its file, not the commit's.
    git(dir, ['checkout', '-q', '-f', 'HEAD'])
    fs.rmSync(path.join(dir, 'data.txt'))
    git(dir, ['checkout', '--', 'data.txt'])
    expect(fs.readFileSync(path.join(dir, 'data.txt'), 'utf8')).toBe('the replacement\n')
    expect(await workTreeMatchesHead(dir)).toBe(false)
  })
})

describe('a source tree that holds the files of a bare repository', () => {
  it('is never taken for a repository: its config and filters do not run', async () => {
    const outer = makeTemp()
    const app = path.join(outer, 'app')
    const marker = path.join(makeTemp(), 'filter-ran')
    fs.mkdirSync(app)
    fs.writeFileSync(path.join(app, 'Makefile'), 'all:\n\techo hello > out.txt\n')
    git(outer, ['init', '-q'])
    // app/ made a bare repository whose work tree is itself, with a clean filter that
    // leaves a mark; then its files committed as plain files of the outer repository.
    git(app, ['init', '-q', '--bare', '.'])
    git(app, ['config', 'core.bare', 'false'])
    git(app, ['config', 'core.worktree', '.'])
    git(app, ['config', 'filter.x.clean', `sh -c 'touch ${marker}; cat'`])
    git(app, ['add', 'Makefile'])
    git(app, ['commit', '-qm', 'inner'])
    fs.mkdirSync(path.join(app, 'info'), { recursive: true })
    fs.writeFileSync(path.join(app, 'info', 'attributes'), 'Makefile filter=x\n')
    // Its index then says the Makefile changed since: git must read it, through the filter.
    fs.utimesSync(path.join(app, 'Makefile'), 1, 1)
    fs.rmSync(path.join(app, 'hooks'), { recursive: true, force: true })
    git(outer, ['add', '-f', 'app'])
    git(outer, ['commit', '-qm', 'c'])
    fs.rmSync(marker, { force: true })
    // Built from there, as `reproof build -C app` or a rebuild of a commit holding it is.
    const run = await runCli([
      'build',
      '-C',
      app,
      '--temp-dir',
      makeTempParent(),
      '--no-explain',
      '-o',
      'out.txt',
      '--',
      'make',
    ])
    expect(fs.existsSync(marker), run.stderr).toBe(false)
    expect(await workTreeMatchesHead(app)).toBe(false)
    expect(fs.existsSync(marker)).toBe(false)
  })
})
