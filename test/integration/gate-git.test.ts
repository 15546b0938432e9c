import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { recordBytes, recordHash } from '../../src/gate/decide.js'
import { parseLedger } from '../../src/gate/ledger.js'
import {
  cloneLedger,
  deploy,
  deployArgs,
  freshGate,
  gate,
  hook,
  kit,
  race,
  release,
  remote,
  rollback,
  rollbackArgs,
  useGateKit,
} from '../gate-kit.js'
import { cleanupTemp, git, makeTemp, runCli, withOwnTmpdir } from '../helpers.js'

afterEach(cleanupTemp)
useGateKit()

// In a pre-receive hook: what the server does to apply a push, whatever it answers.
const KEEP_OBJECTS = 'cp -a "$GIT_QUARANTINE_PATH/." objects/'
/** A pre-receive hook that runs `first` for the first push, then `later` for every push. */
const onPush = (bare: string, first: string[], later: string[] = []) => {
  hook(
    bare,
    'pre-receive',
    [
      // Which push this is, in $n, counted in the repository.
      'n=$(cat calls 2>/dev/null || echo 0); n=$((n+1)); echo $n > calls',
      'read old new ref',
      'if [ $n = 1 ]; then',
      ...first.map((line) => `  ${line}`),
      'fi',
      ...later,
    ].join('\n'),
  )
}
const MOVE_REF =
  'env -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY -u GIT_ALTERNATE_OBJECT_DIRECTORIES git --git-dir=. update-ref "$ref" "$new" "$old"'

describe('reproof gate with a git ledger', () => {
  it('records each release as one fast-forward commit holding the record and its bundle', async () => {
    const { bare, ledger, read } = remote()
    expect((await deploy(ledger, 0)).result?.decision).toBe('recorded')
    const again = await deploy(ledger, 0)
    expect([again.code, again.result?.decision]).toEqual([0, 'unchanged'])
    expect((await deploy(ledger, 1)).result?.decision).toBe('recorded')
    expect(git(bare, ['rev-list', '--count', 'releases']).trim()).toBe('2')
    const records = read()
    expect(records.map((r) => r.digest)).toEqual([release(0).digest, release(1).digest])
    const tree = git(bare, ['ls-tree', '-r', '--name-only', 'releases'])
    expect(tree).toContain(`bundles/${records[0]?.bundleDigest ?? ''}.sigstore.json`)
    // A rollback elsewhere needs no local state: the bundle comes from the ledger's tree.
    const back = await rollback(ledger, 0, 'bad release', kit.pub)
    expect([back.code, back.result?.decision]).toEqual([0, 'recorded'])
    const status = await gate(ledger, ['status', '--env', 'prod'])
    expect(JSON.parse(status.stdout)).toMatchObject({ current: release(0).digest, seq: 3 })
    const check = await gate(ledger, ['check', '--key', kit.pub])
    expect([check.code, JSON.parse(check.stdout)]).toEqual([
      0,
      {
        ok: true,
        records: 3,
        bundles: 2,
        reverified: 3,
        legacy: 0,
        recovered: null,
        unanchored: false,
        unchecked: [],
      },
    ])
    // Someone with push access edits a kept bundle in a fast-forward commit.
    const work = makeTemp()
    git(work, ['clone', '-q', '--branch', 'releases', bare, '.'])
    const kept = `bundles/${records[1]?.bundleDigest ?? ''}.sigstore.json`
    fs.appendFileSync(path.join(work, kept), ' ')
    git(work, ['-c', 'user.name=m', '-c', 'user.email=m@example', 'commit', '-qam', 'edit'])
    git(work, ['push', '-q', 'origin', 'releases'])
    // Every command stops at that commit, not only check: a deploy carried it forward.
    const editCommit = git(work, ['rev-parse', 'HEAD']).trim()
    for (const args of [['check', '--key', kit.pub], ['status', '--env', 'prod'], deployArgs(2)]) {
      const edited = await gate(ledger, args)
      expect(edited.code, args[0]).toBe(3)
      expect(edited.stderr).toContain(
        `commit ${editCommit}: it changes ${kept}, which a gate never does`,
      )
    }
    git(work, ['rm', '-q', kept])
    git(work, ['-c', 'user.name=m', '-c', 'user.email=m@example', 'commit', '-qm', 'remove'])
    git(work, ['push', '-q', 'origin', 'releases'])
    expect((await gate(ledger, ['check', '--key', kit.pub])).stderr).toContain(
      `commit ${editCommit}: it changes ${kept}`,
    )
    expect(read()).toHaveLength(3)
  })

  it('stops every command at a commit that adds a file to the store, or two records at once', async () => {
    for (const how of ['a file beside', 'a quoted name', 'two records'] as const) {
      const { bare, ledger } = remote()
      await deploy(ledger, 0)
      const work = makeTemp()
      git(work, ['clone', '-q', '--branch', 'releases', bare, '.'])
      if (how === 'a file beside') fs.writeFileSync(path.join(work, 'bundles', 'notes.txt'), 'x\n')
      // A name git quotes in its listing: "bundles/\303\251\tx.txt".
      else if (how === 'a quoted name')
        fs.writeFileSync(path.join(work, 'bundles', 'é\tx.txt'), 'x\n')
      else {
        const [line] = fs.readFileSync(path.join(work, 'ledger.jsonl'), 'utf8').split('\n')
        fs.appendFileSync(path.join(work, 'ledger.jsonl'), `${line ?? ''}\n${line ?? ''}\n`)
      }
      git(work, ['add', '-A'])
      git(work, ['-c', 'user.name=m', '-c', 'user.email=m@example', 'commit', '-qm', how])
      git(work, ['push', '-q', 'origin', 'releases'])
      const run = await deploy(ledger, 1)
      expect(run.code, how).toBe(3)
      expect(run.stderr, how).toMatch(
        how === 'a file beside'
          ? /it adds bundles\/notes\.txt, which a gate never does/
          : how === 'a quoted name'
            ? /it adds "bundles\/\\303\\251\\tx\.txt", which a gate never does/
            : /it appends 2 records/,
      )
    }
  })

  it('never says the credentials of the ledger address, in messages, the JSON or the state it keeps', async () => {
    // Port 9 on loopback: nothing listens, and git says so at once.
    const ledger = 'git:http://alice:s3cr3tTOKEN@127.0.0.1:9/r.git?private_token=t0k#rel'
    for (const args of [['status', '--env', 'prod'], deployArgs(0)]) {
      const run = await gate(ledger, args)
      expect(run.code, run.stderr).toBe(3)
      expect(run.stdout + run.stderr, args[0]).toContain('git:http://127.0.0.1:9/r.git#rel')
      expect(run.stdout + run.stderr, args[0]).not.toMatch(/s3cr3t|t0k|alice/)
    }
    const state = path.join(kit.state, 'reproof', 'git-ledgers')
    for (const file of fs.existsSync(state) ? fs.readdirSync(state) : [])
      expect(fs.readFileSync(path.join(state, file), 'utf8')).not.toMatch(/s3cr3t|t0k/)
  })

  it('says when this machine kept no checkpoint of the branch, once', async () => {
    const { ledger } = remote()
    await deploy(ledger, 0)
    const elsewhere = freshGate()
    const first = await elsewhere(ledger, ['status', '--env', 'prod'])
    expect([first.code, (JSON.parse(first.stdout) as { unanchored: boolean }).unanchored]).toEqual([
      0,
      true,
    ])
    expect(first.stderr).toMatch(/^reproof: warning: this machine kept no checkpoint/)
    const again = await elsewhere(ledger, ['status', '--env', 'prod'])
    expect([
      (JSON.parse(again.stdout) as { unanchored: boolean }).unanchored,
      again.stderr,
    ]).toEqual([false, ''])
  })

  it('says so of a branch that is gone, or never was: a deleted ledger reads as a new one', async () => {
    // Two releases, then the branch deleted: on a runner with no checkpoint the older
    // release deploys again as a first record, and only the warning can say why.
    const { bare, ledger } = remote()
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    git(bare, ['update-ref', '-d', 'refs/heads/releases'])
    const again = await freshGate()(ledger, deployArgs(0))
    const said = JSON.parse(again.stdout) as { decision: string; unanchored: boolean }
    expect([again.code, said.decision, said.unanchored]).toEqual([0, 'recorded', true])
    expect(again.stderr).toMatch(/^reproof: warning: this machine kept no checkpoint/)
  })

  it("says so whichever read found no checkpoint: a rollback's lookup, a push race lost", async () => {
    // The first read saved the checkpoint, and the read that decided found it.
    const unanchored = (run: { stdout: string; stderr: string }) => [
      (JSON.parse(run.stdout) as { decision: string; unanchored: boolean }).decision,
      (JSON.parse(run.stdout) as { unanchored: boolean }).unanchored,
      run.stderr.startsWith('reproof: warning: this machine kept no checkpoint'),
    ]
    const { bare, ledger } = remote()
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    const back = await freshGate()(ledger, rollbackArgs(0, 'r', kit.pub))
    expect(unanchored(back), back.stderr).toEqual(['recorded', true, true])
    // Refused by the lookup alone (never released): the lookup's read is the one.
    const never = await freshGate()(ledger, rollbackArgs(2, 'r', kit.pub))
    expect(unanchored(never), never.stderr).toEqual(['refused', true, true])
    // Another gate moves the branch as this one pushes: it reads, decides and pushes again.
    onPush(bare, [
      'new=$(env -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY -u GIT_ALTERNATE_OBJECT_DIRECTORIES git -c user.name=o -c user.email=o@example --git-dir=. commit-tree "$old^{tree}" -p "$old" -m other)',
      MOVE_REF,
      'exit 1',
    ])
    const raced = await freshGate()(ledger, deployArgs(2))
    expect(unanchored(raced), raced.stderr).toEqual(['recorded', true, true])
    expect(fs.readFileSync(path.join(bare, 'calls'), 'utf8').trim()).toBe('2')
  })

  it('stops at a ledger line that is not UTF-8, and never rewrites it', async () => {
    // A record whose actor holds a raw 0xFF, chained and committed by someone who can
    // push: read as U+FFFD, it passed, and the next gate's commit changed the line.
    const { bare, ledger } = remote()
    await deploy(ledger, 0)
    const { work, commit, push } = cloneLedger(bare)
    const file = path.join(work, 'ledger.jsonl')
    const [first] = parseLedger(fs.readFileSync(file, 'utf8'), file)
    if (first === undefined) throw new Error('no record')
    const forged = recordBytes({ ...first, seq: 2, prev: recordHash(first), actor: 'evilXX' })
    const [head, tail] = forged.split('XX')
    fs.appendFileSync(
      file,
      Buffer.concat([Buffer.from(head ?? ''), Buffer.from([0xff]), Buffer.from(`${tail ?? ''}\n`)]),
    )
    commit('forged')
    push()
    const tip = git(bare, ['rev-parse', 'releases']).trim()
    for (const args of [['status', '--env', 'prod'], deployArgs(1)]) {
      const run = await gate(ledger, args)
      expect([run.code, run.stderr], args[0]).toEqual([
        3,
        expect.stringContaining('ledger.jsonl:2: not UTF-8 text, which no gate writes'),
      ])
    }
    expect(git(bare, ['rev-parse', 'releases']).trim()).toBe(tip)
  })

  it("works under a user's safe.bareRepository=explicit", async () => {
    const { ledger, read } = remote()
    const home = makeTemp()
    fs.writeFileSync(path.join(home, '.gitconfig'), '[safe]\n\tbareRepository = explicit\n')
    const run = await runCli(['gate', ...deployArgs(0), '--ledger', ledger, '--json'], {
      XDG_STATE_HOME: kit.state,
      HOME: home,
    })
    expect(run.code, run.stderr).toBe(0)
    expect(read()).toHaveLength(1)
  })

  it('gate check finds a kept bundle missing or edited, naming the record', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    const kept = path.join(
      path.dirname(ledger),
      'bundles',
      `${parseLedger(fs.readFileSync(ledger, 'utf8'), ledger)[1]?.bundleDigest ?? ''}.sigstore.json`,
    )
    fs.appendFileSync(kept, ' ')
    const edited = await gate(ledger, ['check', '--key', kit.pub])
    expect(edited.code).toBe(3)
    expect(edited.stderr).toMatch(
      /ledger\.jsonl:2: the bundle kept for prod #2 .* is not the bytes/,
    )
    fs.rmSync(kept)
    expect((await gate(ledger, ['check', '--key', kit.pub])).stderr).toMatch(
      /ledger\.jsonl:2: .* is missing/,
    )
  })

  it('keeps one chain when 8 gates deploy and roll back at once: losers fetch, decide again and retry', async () => {
    const { ledger, read } = remote()
    expect((await deploy(ledger, 0)).result?.decision).toBe('recorded')
    expect((await deploy(ledger, 1)).result?.decision).toBe('recorded')
    const decisions = await race(ledger, (i) => (i % 2 === 0 ? 'prod' : `env${i}`))
    const records = read()
    // Exactly one record per accepted decision, on one valid chain (read() checks it).
    expect(records.length - 2).toBe(decisions.filter((d) => d === 'recorded').length)
    expect((await gate(ledger, ['check', '--key', kit.pub])).code).toBe(0)
  })

  it('counts a push whose answer was lost as recorded when the branch shows it', async () => {
    const { bare, ledger, read } = remote()
    // The ref is updated, then the connection dies before the client hears back.
    hook(bare, 'post-receive', 'kill -9 $PPID')
    const run = await deploy(ledger, 0)
    expect([run.code, run.result?.decision], run.stderr).toEqual([0, 'recorded'])
    expect(read()).toHaveLength(1)
  })

  it('takes a push git was killed in (its time limit) as unanswered: recorded if it landed, else pushed again', async () => {
    // The hook's parents: receive-pack, the shell git runs it in, and `git push` itself.
    const KILL_CLIENT =
      "kill -9 $(awk '{print $4}' /proc/$(awk '{print $4}' /proc/$PPID/stat)/stat)"
    for (const landed of [true, false]) {
      const { bare, ledger, read } = remote()
      onPush(bare, [...(landed ? [KEEP_OBJECTS, MOVE_REF] : []), KILL_CLIENT, 'exit 1'])
      const run = await deploy(ledger, 0)
      expect([run.code, run.result?.decision], run.stderr).toEqual([0, 'recorded'])
      expect(read()).toHaveLength(1)
      // Landed, it was found by the read that followed; else the next attempt pushed.
      expect(fs.readFileSync(path.join(bare, 'calls'), 'utf8').trim()).toBe(landed ? '1' : '2')
    }
  })

  it('counts its own record as recorded when a push that did not answer lands after it was looked for', async () => {
    const { bare, ledger, read } = remote()
    // The first push: its objects kept and the ref moved a second later, after the
    // connection died; the second push is held, then refused, while the first lands.
    // Decided again on the branch that then holds its own record, the gate said
    // "unchanged" (or "superseded", had another gate deployed on top) of a release it
    // had just recorded.
    onPush(
      bare,
      [KEEP_OBJECTS, `(sleep 1; ${MOVE_REF}) </dev/null >/dev/null 2>&1 &`, 'kill -9 $PPID'],
      ['if [ $n = 2 ]; then sleep 2; exit 1; fi'],
    )
    const run = await deploy(ledger, 0)
    expect([run.code, run.result?.decision], run.stderr).toEqual([0, 'recorded'])
    expect(run.result?.record?.seq).toBe(1)
    expect(read()).toHaveLength(1)
    expect(fs.readFileSync(path.join(bare, 'calls'), 'utf8').trim()).toBe('2')
  })

  it('counts its own record as recorded when a push git reported refused had landed', async () => {
    const { bare, ledger, read } = remote()
    // A proxy that answers 403 after the backend took the push: git says "refused", the
    // branch holds the gate's commit, and the decision made again on it said
    // "unchanged" (or "superseded" once another gate deployed on top).
    hook(
      bare,
      'pre-receive',
      ['read old new ref', KEEP_OBJECTS, MOVE_REF, 'echo "permission denied" >&2', 'exit 1'].join(
        '\n',
      ),
    )
    const run = await deploy(ledger, 0)
    expect([run.code, run.result?.decision], run.stderr).toEqual([0, 'recorded'])
    expect(run.result?.record?.seq).toBe(1)
    expect(read()).toHaveLength(1)
  })

  it('answers "unknown" when a push git reported refused had landed and the ledger cannot be read back', async () => {
    const { bare, ledger, read } = remote()
    // Applied, then the remote gone before it was read again: "nothing recorded" (exit 3)
    // would be untrue.
    const steps = ['read old new ref', KEEP_OBJECTS, MOVE_REF, 'mv "$PWD" "$PWD.gone"']
    hook(bare, 'pre-receive', [...steps, 'echo "permission denied" >&2', 'exit 1'].join('\n'))
    const run = await deploy(ledger, 0)
    expect(run.code, run.stderr).toBe(4)
    expect(run.stderr).toMatch(/the push was refused \(.*\) and the ledger cannot be read back/)
    fs.renameSync(`${bare}.gone`, bare)
    expect(read()).toHaveLength(1)
  })

  it('stops at a branch that points at a tag, not a commit', async () => {
    const { bare, ledger } = remote()
    expect((await deploy(ledger, 0)).code).toBe(0)
    const tip = git(bare, ['rev-parse', 'refs/heads/releases']).trim()
    const tagObject = `object ${tip}\ntype commit\ntag t\ntagger x <x@x> 0 +0000\n\nm\n`
    const tag = git(bare, ['hash-object', '-t', 'tag', '-w', '--stdin'], {}, tagObject).trim()
    // Written as a file: update-ref refuses anything but a commit under refs/heads/.
    fs.writeFileSync(path.join(bare, 'refs', 'heads', 'releases'), `${tag}\n`)
    const run = await deploy(ledger, 1)
    expect(run.code, run.stderr).toBe(3)
    expect(run.stderr).toMatch(/the branch points at a tag \([0-9a-f]{40}\), not a commit/)
    expect(run.stderr).not.toContain('internal error')
  })

  it('answers "unknown" (exit 4) when the push result cannot be learned, and the retry is safe', async () => {
    const { bare, ledger, read } = remote()
    const gone = `${bare}.gone`
    hook(bare, 'post-receive', `mv "${bare}" "${gone}"; kill -9 $PPID`)
    const own = await withOwnTmpdir(async () => {
      const run = await deploy(ledger, 0)
      expect(run.code).toBe(4)
      // No decision, only the error.
      expect(run.result).toEqual({
        error: expect.objectContaining({ code: 'E_AMBIGUOUS', exit: 4 }) as unknown,
      })
      expect(run.stderr).toMatch(/may or may not be recorded.*retry is safe/)
      fs.renameSync(gone, bare)
      fs.rmSync(path.join(bare, 'hooks', 'post-receive'))
      const retry = await deploy(ledger, 0)
      expect([retry.code, retry.result?.decision]).toEqual([0, 'unchanged'])
    })
    expect(read()).toHaveLength(1)
    // Every gate removed its temporary repository, whatever the outcome.
    expect(fs.readdirSync(own).filter((n) => n.startsWith('reproof-ledger-'))).toEqual([])
  })

  it('rejects a malformed git ledger address as bad input', async () => {
    for (const spec of ['git:', 'git:/x#-evil', 'git:/x#a..b', 'git:--upload-pack=x#b']) {
      const run = await deploy(spec, 0)
      expect(run.code, spec).toBe(2)
      expect(run.stderr.trim().split('\n')).toHaveLength(1)
    }
  })

  it('says a git ledger needs git when there is none, and leaves nothing behind', async () => {
    const { ledger } = remote()
    const state = makeTemp()
    let run: Awaited<ReturnType<typeof runCli>> | undefined
    // git is found on the caller's PATH, which is all the gate passes it.
    const own = await withOwnTmpdir(async () => {
      run = await runCli(
        ['gate', 'status', '--env', 'prod', '--ledger', ledger, '--state-dir', state],
        { PATH: '/nonexistent' },
      )
    })
    expect(run?.code).toBe(3)
    expect(run?.stderr).toMatch(/^reproof: git:.*: a git ledger needs git: /)
    expect(fs.readdirSync(own)).toEqual([])
  })
})
