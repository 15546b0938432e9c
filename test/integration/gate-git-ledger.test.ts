import { execFileSync, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import {
  deploy,
  deployArgs,
  freshGate,
  kit,
  release,
  remote,
  rollback,
  useGateKit,
} from '../gate-kit.js'
import { BIN, cleanupTemp, git, makeTemp, spawnProgram } from '../helpers.js'

afterEach(cleanupTemp)
useGateKit()

// A mount namespace of one's own, where a bind mount needs no privilege.
const canBindMount =
  spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'true']).status === 0

/** Commits `tree` on top of `parents` in `bare`, as a person or another tool would. */
function commitTree(bare: string, tree: string, parents: string[], message: string): string {
  return git(bare, ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p]), '-m', message], {
    GIT_AUTHOR_NAME: 'someone',
    GIT_AUTHOR_EMAIL: 'someone@example.com',
    GIT_COMMITTER_NAME: 'someone',
    GIT_COMMITTER_EMAIL: 'someone@example.com',
  }).trim()
}

/** A tree of `bare` holding `files` (name → blob id, or tree id for a directory). */
function makeTree(bare: string, files: Record<string, string>): string {
  const lines = Object.entries(files).map(([name, id]) => {
    const type = git(bare, ['cat-file', '-t', id]).trim()
    return `${type === 'tree' ? '040000 tree' : '100644 blob'} ${id}\t${name}\n`
  })
  return git(bare, ['mktree'], {}, lines.join('')).trim()
}

const blob = (bare: string, text: string | Buffer) =>
  git(bare, ['hash-object', '-w', '--stdin'], {}, text).trim()

describe('what a git ledger says when it cannot be used', () => {
  it('names the remote and git’s own reason when the remote cannot be read', async () => {
    const missing = path.join(makeTemp(), 'nowhere.git')
    const run = await freshGate()(`git:${missing}#releases`, ['status', '--env', 'prod'])
    expect(run.code, run.stderr).toBe(3)
    expect(run.result?.error?.code).toBe('E_LEDGER')
    expect(run.stderr).toContain(`git:${missing}#releases: cannot read the ledger: fatal: '`)
    expect(run.stderr).toContain('does not appear to be a git repository')
  })

  it('names git’s reason when the branch is listed but its commits cannot be fetched', async () => {
    const { bare, ledger } = remote()
    // A branch that names a commit the remote does not have.
    fs.writeFileSync(path.join(bare, 'refs', 'heads', 'releases'), `${'1'.repeat(40)}\n`)
    const run = await freshGate()(ledger, ['status', '--env', 'prod'])
    expect(run.code, run.stderr).toBe(3)
    expect(run.result?.error?.code).toBe('E_LEDGER')
    expect(run.stderr).toMatch(/cannot fetch the ledger: (?:fatal|error): /)
  })

  it('takes a branch whose name only ends as the ledger’s for no ledger, not for the ledger', async () => {
    const { bare, ledger } = remote()
    // `git ls-remote` matches by the tail: refs/heads/x/refs/heads/releases answers too.
    const tree = makeTree(bare, { 'README.md': blob(bare, 'a decoy\n') })
    git(bare, [
      'update-ref',
      'refs/heads/x/refs/heads/releases',
      commitTree(bare, tree, [], 'decoy'),
    ])
    const run = await freshGate()(ledger, ['status', '--env', 'prod'])
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({ env: 'prod', current: null })
  })

  it('refuses a branch without ledger.jsonl', async () => {
    const { bare, ledger } = remote()
    const tree = makeTree(bare, { 'README.md': blob(bare, 'not a ledger\n') })
    git(bare, ['update-ref', 'refs/heads/releases', commitTree(bare, tree, [], 'readme')])
    const run = await freshGate()(ledger, ['status', '--env', 'prod'])
    expect(run.code, run.stderr).toBe(3)
    expect(run.stderr).toContain(`${ledger}: the branch has no ledger.jsonl`)
    expect(run.stderr).toContain('hint: a ledger branch holds only what gates commit')
  })

  it('refuses a ledger.jsonl over the size limit before reading it', async () => {
    const { bare, ledger } = remote()
    // 256 MiB and one byte of zeros, written as git writes a loose object (zlib of a
    // header and the content, named by its SHA-1), several times faster than git does.
    const content = Buffer.alloc(256 * 1024 * 1024 + 1)
    const header = Buffer.from(`blob ${content.length}\0`)
    const big = crypto.createHash('sha1').update(header).update(content).digest('hex')
    const object = path.join(bare, 'objects', big.slice(0, 2), big.slice(2))
    fs.mkdirSync(path.dirname(object), { recursive: true })
    fs.writeFileSync(object, zlib.deflateSync(Buffer.concat([header, content]), { level: 1 }))
    const tree = makeTree(bare, { 'ledger.jsonl': big })
    git(bare, ['update-ref', 'refs/heads/releases', commitTree(bare, tree, [], 'big')])
    const run = await freshGate()(ledger, ['status', '--env', 'prod'])
    expect(run.code, run.stderr).toBe(3)
    expect(run.result?.error?.code).toBe('E_LEDGER')
    expect(run.stderr).toContain(`${ledger}:ledger.jsonl`)
    expect(run.stderr).toContain('268435457 bytes')
  }, 30_000)
})

describe('the history a git ledger accepts', () => {
  it('accepts commits before the ledger existed, and refuses a ledger.jsonl that is a directory', async () => {
    const { bare, ledger, read } = remote()
    await deploy(ledger, 0)
    // The branch, begun by hand with a README, then the first release's tree on top.
    const readme = makeTree(bare, { 'README.md': blob(bare, 'the release ledger\n') })
    const begun = commitTree(bare, readme, [], 'readme')
    const release0 = git(bare, ['rev-parse', 'releases^{tree}']).trim()
    git(bare, [
      'update-ref',
      'refs/heads/releases',
      commitTree(bare, release0, [begun], 'the first release'),
    ])
    const run = await freshGate()(ledger, deployArgs(1))
    expect([run.code, run.result?.decision], run.stderr).toEqual([0, 'recorded'])
    expect(read()).toHaveLength(2)

    const other = remote()
    const inner = makeTree(other.bare, { 'x.txt': blob(other.bare, 'x\n') })
    const dir = makeTree(other.bare, { 'ledger.jsonl': inner })
    const first = commitTree(other.bare, dir, [], 'a directory named ledger.jsonl')
    git(other.bare, ['update-ref', 'refs/heads/releases', first])
    // A later commit holds a real ledger (the first one's), so only the history is wrong.
    const text = git(bare, ['cat-file', 'blob', 'releases~1:ledger.jsonl'])
    const tree = makeTree(other.bare, { 'ledger.jsonl': blob(other.bare, text) })
    git(other.bare, [
      'update-ref',
      'refs/heads/releases',
      commitTree(other.bare, tree, [first], 'then a file'),
    ])
    const refused = await freshGate()(other.ledger, ['status', '--env', 'prod'])
    expect(refused.code, refused.stderr).toBe(3)
    expect(refused.stderr).toContain(`commit ${first}: its ledger.jsonl is not a file`)
    expect(refused.result?.error?.path).toBe(other.ledger)
  })

  it('checks the first commit too when this machine verified nothing yet', async () => {
    const { bare, ledger } = remote()
    await deploy(ledger, 0)
    const text = git(bare, ['cat-file', 'blob', 'releases:ledger.jsonl'])
    // A first commit holding half a record, completed by the second: the tip is sound,
    // but the first commit's ledger was never a ledger.
    const half = makeTree(bare, { 'ledger.jsonl': blob(bare, text.slice(0, 20)) })
    const first = commitTree(bare, half, [], 'half a record')
    const whole = git(bare, ['rev-parse', 'releases^{tree}']).trim()
    git(bare, ['update-ref', 'refs/heads/releases', commitTree(bare, whole, [first], 'the rest')])
    const run = await freshGate()(ledger, ['status', '--env', 'prod'])
    expect(run.code, run.stderr).toBe(3)
    expect(run.stderr).toContain(`commit ${first}:`)
  })

  it.runIf(canBindMount)(
    'stops on a history cut back under one path when a bind mount reaches the repository by another',
    async () => {
      const { bare, ledger } = remote()
      for (const i of [0, 1, 2]) expect((await deploy(ledger, i)).code).toBe(0)
      // A force push: the branch back at its first record.
      git(bare, ['update-ref', 'refs/heads/releases', 'releases~2'])
      const mounted = path.join(makeTemp(), 'mounted')
      fs.mkdirSync(mounted)
      // prettier-ignore
      const run = spawnSync('unshare', [
        '--user', '--map-root-user', '--mount', 'sh', '-c', 'mount --bind "$1" "$2" && shift 2 && exec "$@"', 'bind',
        path.dirname(bare), mounted,
        process.execPath, BIN, 'gate', ...deployArgs(1), '--ledger', `git:${mounted}/ledger.git#releases`, '--json',
      ], { env: { PATH: process.env.PATH ?? '', XDG_STATE_HOME: kit.state }, encoding: 'utf8' })
      // Release 1, superseded by 2, was not recorded again on the cut history.
      expect(run.status, run.stderr).toBe(3)
      expect(run.stderr).toContain('does not descend from')
      expect(git(bare, ['rev-list', '--count', 'releases']).trim()).toBe('1')
    },
  )

  it('keeps what a read-only command verified: a later replacement of the branch is refused', async () => {
    const { bare, ledger } = remote()
    await deploy(ledger, 0)
    const state = makeTemp()
    const status = await freshGate(state)(ledger, ['status', '--env', 'prod'])
    expect(status.code, status.stderr).toBe(0)
    // The same ledger, committed again: a consistent history, but not the one verified.
    const tree = git(bare, ['rev-parse', 'releases^{tree}']).trim()
    const verified = git(bare, ['rev-parse', 'releases']).trim()
    git(bare, ['update-ref', 'refs/heads/releases', commitTree(bare, tree, [], 'again')])
    const again = await freshGate(state)(ledger, ['status', '--env', 'prod'])
    expect(again.code, again.stderr).toBe(3)
    expect(again.stderr).toContain(`does not descend from ${verified}`)
  })
})

describe('the commits a git ledger makes', () => {
  it('says in each commit what was released, by whom and why, dated by the record', async () => {
    const { bare, ledger, read } = remote()
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    const back = await rollback(ledger, 0, 'bad release', kit.pub)
    expect(back.code, back.stderr).toBe(0)
    const records = read()
    const log = git(bare, [
      'log',
      '--reverse',
      '--format=%an <%ae>|%cn <%ce>|%aI|%cI|%B%x00',
      'releases',
    ])
      .split('\0')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '')
    expect(log).toHaveLength(3)
    for (const [i, r] of records.entries()) {
      // git keeps whole seconds.
      const at = r.at.replace(/(?:\.\d+)?Z$/, '+00:00')
      const reason = r.reason === undefined ? '' : `\nreason: ${r.reason}`
      expect(log[i]).toBe(
        `reproof gate <gate@reproof.invalid>|reproof gate <gate@reproof.invalid>|${at}|${at}|` +
          `prod #${r.seq}: ${r.action} ${r.digest}\n\nby ${r.actor}${reason}`,
      )
    }
    expect(records[2]?.reason).toBe('bad release')
  })

  it('works on its own repository whatever git repository the caller’s environment names', async () => {
    const { ledger, read } = remote()
    // As inside a git hook: GIT_DIR and GIT_INDEX_FILE name the caller's repository.
    const caller = makeTemp()
    git(caller, ['init', '-q'])
    fs.writeFileSync(path.join(caller, 'file.txt'), 'the caller’s work\n')
    git(caller, ['add', 'file.txt'])
    const index = fs.readFileSync(path.join(caller, '.git', 'index'))
    const env = {
      GIT_DIR: path.join(caller, '.git'),
      GIT_WORK_TREE: caller,
      GIT_INDEX_FILE: path.join(caller, '.git', 'index'),
      GIT_OBJECT_DIRECTORY: path.join(caller, '.git', 'objects'),
    }
    const run = await freshGate()(ledger, deployArgs(0), env)
    expect([run.code, run.result?.decision], run.stderr).toEqual([0, 'recorded'])
    expect(read()).toHaveLength(1)
    expect(fs.readFileSync(path.join(caller, '.git', 'index'))).toEqual(index)
    expect(git(caller, ['for-each-ref'])).toBe('')
  })
})

describe('a git ledger racing other gates', () => {
  /**
   * A `git` on PATH that, before each of the first `times` pushes to `bare`, moves its
   * branch one commit on (an empty commit, as another gate's would be for this test), so
   * the push is not a fast-forward.
   */
  function racingGit(bare: string, times: number): string {
    const dir = makeTemp()
    const real = execFileSync('sh', ['-c', 'command -v git']).toString().trim()
    const file = path.join(dir, 'git')
    fs.writeFileSync(
      file,
      [
        '#!/bin/sh',
        `if [ "$2" = push ] && [ "$(ls ${dir}/raced-* 2>/dev/null | wc -l)" -lt ${times} ]; then`,
        `  touch ${dir}/raced-$$`,
        `  tip=$(${real} -C ${bare} rev-parse releases)`,
        '  export GIT_AUTHOR_NAME=other GIT_AUTHOR_EMAIL=o@example.com GIT_COMMITTER_NAME=other GIT_COMMITTER_EMAIL=o@example.com',
        `  next=$(${real} -C ${bare} commit-tree "$tip^{tree}" -p "$tip" -m "another gate")`,
        `  ${real} -C ${bare} update-ref refs/heads/releases "$next"`,
        'fi',
        `exec ${real} "$@"`,
        '',
      ].join('\n'),
    )
    fs.chmodSync(file, 0o755)
    return dir
  }

  it('decides again on the new tip when another gate pushed first, and records on top', async () => {
    const { bare, ledger, read } = remote()
    await deploy(ledger, 0)
    const bin = racingGit(bare, 2)
    const run = await freshGate()(ledger, deployArgs(1), { PATH: `${bin}:${process.env.PATH}` })
    expect([run.code, run.result?.decision], run.stderr).toEqual([0, 'recorded'])
    expect(read()).toHaveLength(2)
    // The first release, two commits of the other gate, then this one on top.
    expect(git(bare, ['log', '--format=%s', 'releases']).trim().split('\n')).toEqual([
      `prod #2: deploy ${release(1).digest}`,
      'another gate',
      'another gate',
      `prod #1: deploy ${release(0).digest}`,
    ])
  })

  it('never moves this machine’s checkpoint back to an older commit another gate of it verified past', async () => {
    const { ledger } = remote()
    const other = makeTemp()
    await freshGate(other)(ledger, deployArgs(0))
    // The checkpoint's name is the ledger's, on every machine.
    const [name] = fs.readdirSync(path.join(other, 'git-ledgers'))
    const state = makeTemp()
    const file = path.join(state, 'git-ledgers', name ?? '')
    // While this read checks the history it fetched, a gate of this machine verifies a
    // later commit (here one this read never fetched) and keeps it as the checkpoint.
    const later = 'f'.repeat(40)
    const dir = makeTemp()
    const real = execFileSync('sh', ['-c', 'command -v git']).toString().trim()
    fs.writeFileSync(
      path.join(dir, 'git'),
      [
        '#!/bin/sh',
        `if [ "$2" = rev-list ] && [ ! -e '${file}' ]; then`,
        `  mkdir -p '${path.dirname(file)}'`,
        `  printf '%s\\n' '{"commit":"${later}","ledger":"${ledger}"}' > '${file}'`,
        'fi',
        `exec ${real} "$@"`,
        '',
      ].join('\n'),
    )
    fs.chmodSync(path.join(dir, 'git'), 0o755)
    const run = await freshGate(state)(ledger, ['status', '--env', 'prod'], {
      PATH: `${dir}:${process.env.PATH}`,
    })
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ commit: later, ledger })
  })

  it('is exit 4, retry safe, when other gates keep winning, naming them as the reason', async () => {
    const { bare, ledger, read } = remote()
    await deploy(ledger, 0)
    const bin = racingGit(bare, 100)
    const run = await freshGate()(ledger, deployArgs(1), { PATH: `${bin}:${process.env.PATH}` })
    expect(run.code, run.stderr).toBe(4)
    expect(run.result?.error?.code).toBe('E_AMBIGUOUS')
    expect(run.stderr).toContain(
      `${ledger}: other gates kept moving the ledger; nothing was recorded after 8 attempts, and a retry is safe`,
    )
    expect(read()).toHaveLength(1)
  })
})

// As root, a directory's mode stops nothing: the state disk that cannot be written is
// played by an unprivileged user and a read-only directory.
const asNobody =
  process.getuid?.() === 0 && fs.existsSync('/usr/sbin/runuser') ? describe : describe.skip

asNobody('a git ledger whose checkpoint cannot be saved', () => {
  it('still answers "recorded" once the push landed, and the next gate reads on', async () => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), 'reproof-nobody-gate-'))
    try {
      fs.chmodSync(top, 0o755)
      const files = [0, 1].flatMap((i) => [release(i).bundle, release(i).artifact])
      for (const [i, file] of [...files, kit.pub].entries()) {
        const copy = path.join(top, `${i}-${path.basename(file)}`)
        fs.copyFileSync(file, copy)
        fs.chmodSync(copy, 0o644)
      }
      const copyOf = (file: string): string =>
        path.join(top, `${[...files, kit.pub].indexOf(file)}-${path.basename(file)}`)
      fs.chownSync(top, 65534, 65534)
      const nobody = (args: string[]) =>
        spawnProgram(['runuser', '-u', 'nobody', '--', ...args], {
          env: { PATH: process.env.PATH ?? '', HOME: top },
        })
      const bare = path.join(top, 'ledger.git')
      expect((await nobody(['git', 'init', '-q', '--bare', bare])).code).toBe(0)
      const state = path.join(top, 'state')
      const deployOf = (i: number) =>
        nobody([
          process.execPath,
          BIN,
          'gate',
          'deploy',
          '--ledger',
          `git:${bare}#releases`,
          '--state-dir',
          state,
          '--env',
          'prod',
          '--bundle',
          copyOf(release(i).bundle),
          '--key',
          copyOf(kit.pub),
          copyOf(release(i).artifact),
        ])
      const first = await deployOf(0)
      expect(first.code, first.stderr).toBe(0)
      fs.chmodSync(path.join(state, 'git-ledgers'), 0o555)
      const second = await deployOf(1)
      expect(second.code, second.stderr).toBe(0)
      expect(second.stdout).toMatch(/recorded as prod #2/)
      const onBranch = git(bare, ['-c', 'safe.directory=*', 'show', 'releases:ledger.jsonl'])
      expect(onBranch.trim().split('\n')).toHaveLength(2)
      // The next gate verifies from the checkpoint it has, and finds #2 current.
      fs.chmodSync(path.join(state, 'git-ledgers'), 0o755)
      const again = await deployOf(1)
      expect(again.code, again.stderr).toBe(0)
      expect(again.stdout).toMatch(/already current/)
    } finally {
      fs.rmSync(top, { recursive: true, force: true })
    }
  })
})
