import { spawn, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { GENESIS, recordBytes } from '../../src/gate/decide.js'
import { parseLedger } from '../../src/gate/ledger.js'
import {
  deploy,
  deployArgs,
  freshGate,
  gate,
  kit,
  race,
  release,
  rollback,
  rollbackArgs,
  useGateKit,
} from '../gate-kit.js'
import { BIN, cleanupTemp, makeTemp, runCli, spawnCli } from '../helpers.js'
import { resigner } from '../resigner.js'
import { REAL_BUNDLE, REAL_IDENTITY, REAL_ROOT, REAL_TGZ } from '../real-sigstore.js'

afterEach(cleanupTemp)
useGateKit()

/** Whether nobody holds the ledger's lock now (asked of the kernel, without waiting). */
function lockIsFree(ledger: string): boolean {
  return spawnSync('flock', ['--nonblock', `${ledger}.lock`, 'true']).status === 0
}

// A mount namespace of one's own, where a bind mount needs no privilege.
const canBindMount =
  spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'true']).status === 0

describe('reproof gate', () => {
  it.runIf(canBindMount).each(['cut in place', 'replaced by a cut-back copy'])(
    'stops on a ledger %s under one path when a bind mount reaches it by another',
    async (how) => {
      const dir = makeTemp()
      const ledger = path.join(dir, 'ledgers', 'ledger.jsonl')
      fs.mkdirSync(path.dirname(ledger))
      for (const i of [0, 1, 2]) expect((await deploy(ledger, i)).code).toBe(0)
      const [first] = fs.readFileSync(ledger, 'utf8').split('\n')
      if (how === 'cut in place') fs.writeFileSync(ledger, `${first ?? ''}\n`)
      else {
        // A new file (cp and mv, sed -i, an editor): another inode under the same name.
        fs.writeFileSync(`${ledger}.new`, `${first ?? ''}\n`)
        fs.renameSync(`${ledger}.new`, ledger)
      }
      const mounted = path.join(dir, 'mounted')
      fs.mkdirSync(mounted)
      // prettier-ignore
      const run = spawnSync('unshare', [
        '--user', '--map-root-user', '--mount', 'sh', '-c', 'mount --bind "$1" "$2" && shift 2 && exec "$@"', 'bind',
        path.dirname(ledger), mounted,
        process.execPath, BIN, 'gate', ...deployArgs(1), '--ledger', path.join(mounted, 'ledger.jsonl'), '--json',
      ], { env: { PATH: process.env.PATH ?? '', XDG_STATE_HOME: kit.state }, encoding: 'utf8' })
      // Release 1, superseded by 2, was not deployed again as the ledger's second record.
      expect(run.status, run.stderr).toBe(3)
      expect(run.stderr).toContain('are not the ones this machine verified')
      expect(fs.readFileSync(ledger, 'utf8')).toBe(`${first ?? ''}\n`)
    },
  )

  it('records releases, treats the current one as done, and refuses a downgrade', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    expect((await deploy(ledger, 0)).result?.decision).toBe('recorded')
    const again = await deploy(ledger, 0)
    expect([again.code, again.result?.decision]).toEqual([0, 'unchanged'])
    expect((await deploy(ledger, 1)).result?.record?.seq).toBe(2)
    const downgrade = await deploy(ledger, 0)
    expect([downgrade.code, downgrade.result?.decision]).toEqual([1, 'refused'])
    expect(downgrade.result?.why).toContain('gate rollback')
    expect(parseLedger(fs.readFileSync(ledger, 'utf8'), ledger)).toHaveLength(2)
  })

  it('says when a record begins a ledger or an environment: a mistyped --ledger or --env starts one', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    const begins = (run: Awaited<ReturnType<typeof deploy>>): unknown =>
      (JSON.parse(run.stdout) as { begins: unknown }).begins
    const first = await deploy(ledger, 0)
    expect([first.code, begins(first)]).toEqual([0, 'ledger'])
    expect(first.result?.why).toContain(
      `the first record of ${ledger}, which was empty or not there`,
    )
    const next = await deploy(ledger, 1)
    expect([next.code, begins(next), next.result?.why]).toEqual([
      0,
      null,
      `deploy of ${next.result?.why?.slice(10, 22)} recorded as prod #2`,
    ])
    const staging = await gate(ledger, [...deployArgs(0).map((a) => (a === 'prod' ? 'prdo' : a))])
    expect([staging.code, begins(staging)]).toEqual([0, 'environment'])
    expect(staging.result?.why).toContain('the first release to prdo in this ledger')
    expect(begins(await deploy(ledger, 1))).toBeNull()
  })

  it('says when this machine kept no checkpoint of the ledger: a cut before the read cannot be seen', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    const here = freshGate()
    for (const i of [0, 1, 2]) expect((await here(ledger, deployArgs(i))).code).toBe(0)
    const anchored = (run: { stdout: string }): unknown =>
      (JSON.parse(run.stdout) as { unanchored: unknown }).unanchored
    const status = (gate: ReturnType<typeof freshGate>) => gate(ledger, ['status', '--env', 'prod'])
    const known = await status(here)
    expect([known.code, anchored(known), known.stderr]).toEqual([0, false, ''])
    // Cut back to its first record: this machine stops; one with no checkpoint cannot
    // tell, answers from it, and says what it could not see.
    const [first] = fs.readFileSync(ledger, 'utf8').split('\n')
    fs.writeFileSync(ledger, `${first ?? ''}\n`)
    expect((await status(here)).code).toBe(3)
    const elsewhere = freshGate()
    const blind = await status(elsewhere)
    expect([blind.code, anchored(blind)]).toEqual([0, true])
    expect(blind.stderr).toMatch(
      /^reproof: warning: this machine kept no checkpoint of this ledger/,
    )
    const deployed = await elsewhere(ledger, deployArgs(1))
    expect([deployed.code, anchored(deployed)]).toEqual([0, false])
    expect(deployed.stderr).toBe('')
  })

  it('refuses a --ledger that looks like a URL but is not git: (exit 2), creating nothing', async () => {
    const dir = makeTemp()
    for (const spec of [
      'GIT:/x/ledger.git#rel',
      'https://git.example/l.git#l',
      `file://${dir}/l`,
    ]) {
      // Run where a path would land in a directory of the test's own.
      const run = await spawnCli(['gate', ...deployArgs(0), '--ledger', spec], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', XDG_STATE_HOME: kit.state },
      })
      expect(run.code, spec).toBe(2)
      expect(run.stderr).toMatch(
        /is not a ledger scheme; a ledger on a git branch is git:<url>#<branch>/,
      )
    }
    // A file name with a colon is still a file, given as a path.
    expect((await deploy(path.join(dir, 'a:b.jsonl'), 0)).code).toBe(0)
    expect(fs.readdirSync(dir).filter((f) => !f.startsWith('.'))).toEqual([
      'a:b.jsonl',
      'a:b.jsonl.lock',
      'bundles',
    ])
  })

  it('refuses a --reason or --actor longer than a record keeps, before anything is recorded (exit 2)', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    const before = fs.readFileSync(ledger, 'utf8')
    const long = await rollback(ledger, 0, 'x'.repeat(70_000), kit.pub)
    expect(long.code).toBe(2)
    expect(long.stderr).toMatch(/^reproof: --reason: 70000 bytes, more than the 4096/)
    const actor = await deploy(ledger, 2, ['--actor', 'a'.repeat(300)])
    expect(actor.code).toBe(2)
    expect(actor.stderr).toMatch(/^reproof: --actor: 300 bytes, more than the 256/)
    expect(fs.readFileSync(ledger, 'utf8')).toBe(before)
  })

  it('rolls back only to a past release that still verifies, with a reason, from the stored bundle', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    const never = await rollback(ledger, 2, 'test', kit.pub, ['--bundle', release(2).bundle])
    expect([never.code, never.result?.decision]).toEqual([1, 'refused'])
    // Without a bundle to verify, the same answer (the gate's refusal, which the Action
    // reads as its decision), not a request for one.
    const neverStored = await rollback(ledger, 2, 'test', kit.pub)
    expect([neverStored.code, neverStored.result?.decision]).toEqual([1, 'refused'])
    expect(neverStored.result?.why).toContain('never released to prod')
    expect(neverStored.result?.verification).toBeNull()
    // The key was "revoked": today's trust no longer includes it.
    const revoked = await rollback(ledger, 0, 'bad release', kit.otherPub)
    expect([revoked.code, revoked.result?.decision]).toEqual([1, 'refused'])
    // A stored bundle swapped for another valid one is tampering, not a release to return to.
    const kept = fs.readFileSync(release(0).bundle)
    const storedFile = path.join(
      path.dirname(ledger),
      'bundles',
      `${crypto.createHash('sha256').update(kept).digest('hex')}.sigstore.json`,
    )
    fs.copyFileSync(release(1).bundle, storedFile)
    const swapped = await rollback(ledger, 0, 'bad release', kit.pub)
    expect(swapped.code).toBe(3)
    expect(swapped.stderr).toContain(
      'its content is not the bundle its name and the ledger record say',
    )
    // Replaced by what is not a file: the store edited too (exit 3), not the caller's input.
    fs.rmSync(storedFile)
    fs.mkdirSync(storedFile)
    const notAFile = await rollback(ledger, 0, 'bad release', kit.pub)
    expect(notAFile.code, notAFile.stderr).toBe(3)
    expect(notAFile.stderr).toContain(
      'the bundle the ledger keeps cannot be read as one (the file: a directory',
    )
    fs.rmdirSync(storedFile)
    fs.writeFileSync(storedFile, kept)
    const back = await rollback(ledger, 0, 'bad release', kit.pub)
    expect([back.code, back.result?.decision]).toEqual([0, 'recorded'])
    const status = await gate(ledger, ['status', '--env', 'prod'])
    expect(status.stdout).toContain(release(0).digest)
    const history = JSON.parse((await gate(ledger, ['history', '--env', 'prod'])).stdout) as {
      action: string
      reason?: string
    }[]
    expect(history.map((r) => r.action)).toEqual(['deploy', 'deploy', 'rollback'])
    expect(history[2]?.reason).toBe('bad release')
  })

  it('rolls back only with a bundle that attests the digest returned to', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    // Release 0 was released; release 1's bundle is valid, but does not name release 0.
    const other = await rollback(ledger, 0, 'wrong bundle', kit.pub, [
      '--bundle',
      release(1).bundle,
    ])
    expect([other.code, other.result?.decision]).toEqual([1, 'refused'])
    expect(other.result?.record).toBeNull()
    const right = await rollback(ledger, 0, 'right bundle', kit.pub, [
      '--bundle',
      release(0).bundle,
    ])
    expect([right.code, right.result?.decision, right.result?.record?.seq]).toEqual([
      0,
      'recorded',
      3,
    ])
    expect(right.result?.why).toBe(
      `rollback of ${release(0).digest.slice(0, 12)} recorded as prod #3`,
    )
  })

  it('rolls back only with a bundle that meets the policy the release was recorded with', async () => {
    // Deployed under a builder id; a rollback given another bundle of the same signer
    // and no policy returned to the digest on an attestation that policy refused.
    const { pub, resigned } = await resigner(release(0).bundle)
    const sha256 = (i: number) => release(i).digest.replace(/^sha256:/, '')
    const first = await resigned('first.json', () => undefined)
    const second = await resigned('second.json', (s) => {
      s.subject = [{ name: 'app.txt', digest: { sha256: sha256(1) } }]
    })
    const elsewhere = await resigned('elsewhere.json', (s) => {
      ;(
        s.predicate as unknown as { runDetails: { builder: { id: string } } }
      ).runDetails.builder.id = 'https://elsewhere.example'
    })
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    const policy = ['--key', pub, '--builder-id', 'https://ci.example.com']
    for (const [i, bundle] of [first, second].entries()) {
      const run = await gate(ledger, [
        'deploy',
        '--env',
        'prod',
        '--bundle',
        bundle,
        ...policy,
        release(i).artifact,
      ])
      expect(run.code, run.stderr).toBe(0)
    }
    const back = (bundle: string) =>
      gate(ledger, [...rollbackArgs(0, 'r', pub), '--bundle', bundle])
    const refused = await back(elsewhere)
    expect([refused.code, refused.result?.decision], refused.stderr).toEqual([1, 'refused'])
    expect(refused.stdout).toContain('builder-id')
    const recorded = await back(first)
    expect([recorded.code, recorded.result?.decision], recorded.stderr).toEqual([0, 'recorded'])
    // The rollback's record says what it met: the release's builder id among it.
    const records = parseLedger(fs.readFileSync(ledger, 'utf8'), ledger)
    expect(records[2]?.policy?.builderId).toBe('https://ci.example.com')
    // A rollback record that kept less (as one given a policy that conflicted did): the
    // next rollback to the release still meets the policy it was deployed under.
    let prev = GENESIS
    const lines = records.map((r, i) => {
      const line = recordBytes({ ...r, prev, ...(i === 2 ? { policy: {} } : {}) })
      prev = crypto.createHash('sha256').update(line).digest('hex')
      return `${line}\n`
    })
    fs.writeFileSync(ledger, lines.join(''))
    const fresh = freshGate()
    const away = await fresh(ledger, rollbackArgs(1, 'r2', pub))
    expect(away.code, away.stderr).toBe(0)
    const again = await fresh(ledger, [...rollbackArgs(0, 'r3', pub), '--bundle', elsewhere])
    expect([again.code, again.result?.decision], again.stderr).toEqual([1, 'refused'])
  })

  it('asks for --bundle when the bundle kept for a past release is gone from the store', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    const kept = crypto
      .createHash('sha256')
      .update(fs.readFileSync(release(0).bundle))
      .digest('hex')
    fs.rmSync(path.join(path.dirname(ledger), 'bundles', `${kept}.sigstore.json`))
    const gone = await rollback(ledger, 0, 'bad release', kit.pub)
    expect([gone.code, gone.result]).toEqual([
      2,
      { error: expect.objectContaining({ code: 'E_INPUT', path: ledger }) as unknown },
    ])
    expect(gone.stderr).toContain(
      `--to ${release(0).digest}: no stored bundle for it in prod; give --bundle`,
    )
    expect(parseLedger(fs.readFileSync(ledger, 'utf8'), ledger)).toHaveLength(2)
    // The bundle given by hand is verified as any other, and the rollback recorded.
    const given = await rollback(ledger, 0, 'bad release', kit.pub, ['--bundle', release(0).bundle])
    expect([given.code, given.result?.decision]).toEqual([0, 'recorded'])
  })

  it('shows history with what the ledger holds escaped: a reason cannot talk to the terminal', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    const reason = 'bad release\u001b[2J\u001b]0;owned\u0007'
    expect((await rollback(ledger, 0, reason, kit.pub)).code).toBe(0)
    const run = await runCli(['gate', 'history', '--env', 'prod', '--ledger', ledger], {
      XDG_STATE_HOME: kit.state,
    })
    expect(run.code).toBe(0)
    const controls = Array.from(Buffer.from(run.stdout)).filter(
      (byte) => byte !== 0x0a && (byte < 0x20 || byte === 0x7f),
    )
    expect(controls).toEqual([])
    expect(run.stdout).toContain('(bad release\\x1b[2J')
  })

  it('reads a ledger not made yet as empty, and creates nothing doing so', async () => {
    const dir = makeTemp()
    const ledger = path.join(dir, 'not-yet', '.reproof', 'ledger.jsonl')
    const env = { XDG_STATE_HOME: kit.state }
    const status = await runCli(
      ['gate', 'status', '--env', 'prod', '--json', '--ledger', ledger],
      env,
    )
    expect(status.code, status.stderr).toBe(0)
    // Not there, and no checkpoint of it here: a ledger deleted would read the same,
    // and that is said.
    expect(JSON.parse(status.stdout)).toEqual({
      env: 'prod',
      current: null,
      seq: 0,
      recovered: null,
      unanchored: true,
    })
    expect(status.stderr).toMatch(/^reproof: warning: this machine kept no checkpoint/)
    const history = await runCli(
      ['gate', 'history', '--env', 'prod', '--json', '--ledger', ledger],
      env,
    )
    expect([history.code, history.stdout.trim()]).toEqual([0, '[]'])
    // Checked, it is nothing to check: not a check that passed.
    const check = await runCli(['gate', 'check', '--key', kit.pub, '--ledger', ledger], env)
    expect(check.code, check.stderr).toBe(2)
    expect(fs.existsSync(path.join(dir, 'not-yet'))).toBe(false)
    // The first deploy makes it.
    await deploy(ledger, 0)
    expect(fs.existsSync(ledger)).toBe(true)
    // A ledger that is there but cannot be read is no empty ledger.
    const blocked = path.join(dir, 'file-not-dir')
    fs.writeFileSync(blocked, 'x')
    const loop = path.join(dir, 'loop.jsonl')
    fs.symlinkSync(loop, loop)
    for (const unreadable of [path.join(blocked, 'ledger.jsonl'), loop]) {
      const run = await runCli(
        ['gate', 'check', '--key', kit.pub, '--json', '--ledger', unreadable],
        env,
      )
      expect(run.code, unreadable).not.toBe(0)
      const read = await runCli(['gate', 'status', '--env', 'prod', '--ledger', unreadable], env)
      expect(read.code, unreadable).not.toBe(0)
    }
  })

  it('opens the file the kernel reaches by the path given, and refuses a path it cannot follow', async () => {
    // `link/../l.jsonl` is l.jsonl beside what link points at, not beside link: read by
    // text, a fresh empty ledger was made beside link, and a superseded release deployed.
    const dir = makeTemp()
    fs.mkdirSync(path.join(dir, 'a', 'b', 'c'), { recursive: true })
    fs.mkdirSync(path.join(dir, 'w'))
    fs.symlinkSync('../a/b/c', path.join(dir, 'w', 'link'))
    const real = path.join(dir, 'a', 'b', 'l.jsonl')
    for (const i of [0, 1]) expect((await deploy(real, i)).code).toBe(0)
    // Joined by hand: path.join would read the `..` by text too.
    const through = `${dir}/w/link/../l.jsonl`
    const status = await gate(through, ['status', '--env', 'prod'])
    expect(JSON.parse(status.stdout)).toMatchObject({ current: release(1).digest, seq: 2 })
    expect((await gate(through, deployArgs(0))).result?.decision).toBe('refused')
    expect(fs.existsSync(path.join(dir, 'w', 'l.jsonl'))).toBe(false)
    // A ledger named as another one's lock would be overwritten by that one's gate.
    const lock = await gate(path.join(dir, 'x.lock'), ['status', '--env', 'prod'])
    expect([lock.code, lock.stderr.trim()]).toEqual([
      2,
      `reproof: --ledger ${path.join(dir, 'x.lock')}: a ledger may not be named *.lock, which is the name of another ledger's lock`,
    ])
    // Relative to a working directory whose name is not UTF-8: refused, nothing made.
    const odd = spawnSync(
      'sh',
      [
        '-c',
        'mkdir "$(printf "d\\377")" && cd "$(printf "d\\377")" && exec "$@"',
        'odd',
        process.execPath,
        BIN,
        'gate',
        'status',
        '--env',
        'prod',
        '--ledger',
        'l.jsonl',
      ],
      {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', XDG_STATE_HOME: kit.state },
        encoding: 'utf8',
      },
    )
    expect([odd.status, odd.stderr.trim()]).toEqual([
      2,
      "reproof: --ledger l.jsonl: the working directory's name is not UTF-8, so a path relative to it cannot be followed; give the ledger's absolute path",
    ])
  })

  /** A release (0 unless said) deployed in-process to a ledger (a fresh one unless given), with the given clock. */
  async function deployWithClock(
    clock: () => number,
    ledger = path.join(makeTemp(), 'ledger.jsonl'),
    i = 0,
  ) {
    const { runGate } = await import('../../src/gate/run-gate.js')
    const result = await runGate(
      { kind: 'deploy', artifact: release(i).artifact, bundle: release(i).bundle },
      {
        env: 'prod',
        ledger,
        stateDir: makeTemp(),
        callerEnv: { PATH: process.env.PATH },
        clock,
        actor: 'test',
        trust: { kind: 'keys', keys: [kit.pub], trustedRoot: undefined },
        policy: {},
        lockTimeoutMs: 5000,
      },
    )
    return { ledger, result }
  }

  it('takes its clock as a dependency: the record says the time the clock gave', async () => {
    const fixed = Date.parse('2031-05-06T07:08:09.000Z')
    const { ledger, result } = await deployWithClock(() => fixed)
    expect([result.decision, result.record?.at]).toEqual(['recorded', '2031-05-06T07:08:09.000Z'])
    expect(parseLedger(fs.readFileSync(ledger, 'utf8'), ledger)[0]?.at).toBe(
      '2031-05-06T07:08:09.000Z',
    )
  })

  it('records the time it verified at, not a later one after waiting for the lock', async () => {
    // Each reading of the clock a minute later: what --max-age judged must be the time kept.
    let now = Date.parse('2031-05-06T07:08:09.000Z')
    const { result } = await deployWithClock(() => (now += 60_000) - 60_000)
    expect([result.decision, result.record?.at]).toEqual(['recorded', '2031-05-06T07:08:09.000Z'])
  })

  it('asks for a retry when a release was recorded after it verified, while it waited for the lock', async () => {
    // Verified ten minutes before the record another gate wrote while this one waited
    // (a long --lock-timeout): no clock is wrong, and the release was not refused.
    const at = Date.parse('2031-05-06T07:08:09.000Z')
    const { ledger } = await deployWithClock(() => at)
    const next = (clock: () => number) => deployWithClock(clock, ledger, 1)
    let reads = 0
    await expect(next(() => (reads++ === 0 ? at - 600_000 : at + 60_000))).rejects.toMatchObject({
      code: 'E_AMBIGUOUS',
      message: expect.stringMatching(
        /waited for the ledger's lock .* a retry .* is safe$/,
      ) as unknown,
    })
    expect(parseLedger(fs.readFileSync(ledger, 'utf8'), ledger)).toHaveLength(1)
  })

  it('reads an environment named in another case than the ledger has it as a mistake, not as empty', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    for (const read of ['status', 'history']) {
      const run = await gate(ledger, [read, '--env', 'PROD'])
      expect(run.code, read).toBe(2)
      expect(run.stderr).toContain(
        `--env PROD: no environment of ${ledger}, but prod is: names that differ in case only would be two environments`,
      )
    }
    // The read that refuses moved a torn last line aside: it says so, as no later read will.
    fs.appendFileSync(ledger, '{"seq":2,"env":"prod","action":"dep')
    const torn = await gate(ledger, ['status', '--env', 'PROD'])
    expect(torn.code).toBe(2)
    expect(torn.stderr).toMatch(/\. A torn last line of the ledger was moved to \S+\.torn-/)
    // A write is refused the same way, and an environment of its own spelling reads as one.
    const write = await gate(ledger, [...deployArgs(1).map((a) => (a === 'prod' ? 'PROD' : a))])
    expect([write.code, write.result?.decision]).toEqual([1, 'refused'])
    expect((await gate(ledger, ['status', '--env', 'staging'])).code).toBe(0)
  })

  it('takes environment names of letters, digits, dot, dash and underscore only', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    for (const env of ['a/b', '.hidden', 'x y', 'é', `a${'b'.repeat(64)}`, 'prod\n']) {
      const run = await gate(ledger, [
        'deploy',
        '--env',
        env,
        '--bundle',
        release(0).bundle,
        '--key',
        kit.pub,
        release(0).artifact,
      ])
      expect(run.code, env).toBe(2)
      expect(run.stderr).toContain(': letters, digits, dot, dash and underscore only')
      // A read is asked the same: `prod\n` is not prod, and has no answer of its own.
      for (const read of ['status', 'history']) {
        const asked = await gate(ledger, [read, '--env', env])
        expect(asked.code, `${read} ${env}`).toBe(2)
      }
    }
    expect(fs.existsSync(ledger)).toBe(false)
    // A version is a number, not a size.
    const sized = await deploy(ledger, 0, ['--release-version', '2K'])
    expect([sized.code, fs.existsSync(ledger)]).toEqual([2, false])
    // Nothing to check is not a check that passed.
    const nothing = await gate(ledger, ['check', '--key', kit.pub])
    expect(nothing.code).toBe(2)
    expect(nothing.stderr).toMatch(/holds no record .*nothing to check/)
    const ok = await gate(ledger, [
      'deploy',
      '--env',
      `a${'b'.repeat(63)}`,
      '--bundle',
      release(0).bundle,
      '--key',
      kit.pub,
      release(0).artifact,
    ])
    expect(ok.code, ok.stderr).toBe(0)
  })

  it('refuses a deploy whose attestation does not verify, and a replayed version', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    const wrongKey = await gate(ledger, [
      'deploy',
      '--env',
      'prod',
      '--bundle',
      release(0).bundle,
      '--key',
      kit.otherPub,
      release(0).artifact,
    ])
    expect([wrongKey.code, wrongKey.result?.decision]).toEqual([1, 'refused'])
    expect((await deploy(ledger, 1, ['--release-version', '7'])).result?.decision).toBe('recorded')
    expect((await deploy(ledger, 2, ['--release-version', '6'])).result?.decision).toBe('refused')
    expect(
      (await deploy(ledger, 2, ['--release-version', '8', '--min-version', '9'])).result?.decision,
    ).toBe('refused')
  })

  it('refuses an attestation that names the artifact by SHA-512 only: the ledger keeps its SHA-256', async () => {
    // npm's own publish attestation (public-good Sigstore, offline): its subject names
    // the tarball by SHA-512 alone. `reproof verify` accepts it; the gate, which records
    // and later checks the SHA-256, must not.
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    const args = ['--bundle', REAL_BUNDLE, '--trusted-root', REAL_ROOT, ...REAL_IDENTITY]
    const verified = await runCli(['verify', REAL_TGZ, ...args])
    expect(verified.code, verified.stderr).toBe(0)
    const refused = await gate(ledger, [
      'deploy',
      '--env',
      'prod',
      '--max-age',
      '36500d',
      ...args,
      REAL_TGZ,
    ])
    expect([refused.code, refused.result?.decision]).toEqual([1, 'refused'])
    expect(fs.existsSync(ledger) ? fs.readFileSync(ledger, 'utf8') : '').toBe('')
  })

  it("refuses a subject whose SHA-256 is the artifact's and whose SHA-512 is another file's", async () => {
    // `reproof verify` matches neither file to such a subject; the gate, matching by
    // SHA-256, recorded it, and `gate check` called the record sound.
    const { pub, resigned } = await resigner(release(0).bundle)
    const sha512 = (file: string) =>
      crypto.createHash('sha512').update(fs.readFileSync(file)).digest('hex')
    const resign = (name: string, digest: Record<string, string>) =>
      resigned(name, (s) => {
        s.subject = [{ name: 'app', digest }]
      })
    const sha256 = release(0).digest.replace(/^sha256:/, '')
    const mixed = await resign('mixed.json', { sha256, sha512: sha512(release(1).artifact) })
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    const args = (bundle: string) => ['deploy', '--env', 'prod', '--bundle', bundle, '--key', pub]
    const refused = await gate(ledger, [...args(mixed), release(0).artifact])
    expect([refused.code, refused.result?.decision], refused.stderr).toEqual([1, 'refused'])
    expect(refused.stdout).toContain('subject-mismatch')
    expect(fs.existsSync(ledger) ? fs.readFileSync(ledger, 'utf8') : '').toBe('')
    // Both digests the file's: recorded, as before.
    const both = await resign('both.json', { sha256, sha512: sha512(release(0).artifact) })
    const recorded = await gate(ledger, [...args(both), release(0).artifact])
    expect([recorded.code, recorded.result?.decision], recorded.stderr).toEqual([0, 'recorded'])
    // A digest argument cannot check the SHA-512 beside it, and says so.
    const byDigest = await runCli(['verify', `sha256:${sha256}`, '--bundle', mixed, '--key', pub])
    expect(byDigest.code).toBe(0)
    expect(byDigest.stdout).toContain(
      'not checked: the SHA-512 a subject names, which an artifact given as a sha256: digest cannot be checked against',
    )
    // A rollback names a digest, as that verify did: the gate says what it did not check,
    // in its answer and in every check of the ledger after.
    const other = await resign('other.json', {
      sha256: release(1).digest.replace(/^sha256:/, ''),
    })
    expect((await gate(ledger, [...args(other), release(1).artifact])).code).toBe(0)
    const text = (extra: string[]) =>
      runCli(['gate', ...extra, '--ledger', ledger, '--key', pub], { XDG_STATE_HOME: kit.state })
    const back = await text([
      'rollback',
      '--env',
      'prod',
      '--to',
      sha256,
      '--reason',
      'r',
      '--bundle',
      mixed,
    ])
    expect([back.code, back.stdout.trimEnd().split('\n').slice(1)], back.stderr).toEqual([
      0,
      [
        '  not checked: the SHA-512 a subject names, which an artifact given as a sha256: digest cannot be checked against',
      ],
    ])
    const check = await text(['check'])
    expect([check.code, check.stdout.trimEnd().split('\n').slice(1)], check.stderr).toEqual([
      0,
      [
        '  not checked: the SHA-512 a subject names, which an artifact given as a sha256: digest cannot be checked against (the records on lines 1, 3)',
      ],
    ])
  })

  it('does not repeat a rollback retried after another release landed (exit 4 said a retry is safe)', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    expect((await rollback(ledger, 0, 'release 1 is broken', kit.pub)).result?.decision).toBe(
      'recorded',
    )
    await deploy(ledger, 2)
    // The same request again (its first answer lost): release 2 stays current.
    const retried = await rollback(ledger, 0, 'release 1 is broken', kit.pub)
    expect([retried.code, retried.result?.decision]).toEqual([1, 'refused'])
    expect(retried.result?.why).toMatch(/already returned to .* for this reason/)
    const status = await gate(ledger, ['status', '--env', 'prod'])
    expect(status.stdout).toContain(release(2).digest)
  })

  it('refuses a --state-dir that is no directory, or under a file, before reading', async () => {
    const dir = makeTemp()
    const file = path.join(dir, 'file')
    fs.writeFileSync(file, 'x')
    for (const state of [file, path.join(file, 'below')]) {
      const ledger = `--ledger=${path.join(dir, 'ledger.jsonl')}`
      const run = await runCli(['gate', 'status', '--env=prod', ledger, `--state-dir=${state}`])
      expect(run.code, run.stderr).toBe(2)
      expect(run.stderr).toMatch(/^reproof: --state-dir .*(not a directory|is not a directory)\n$/)
    }
  })

  it('cuts nothing from a file that is no ledger, whatever its last line', async () => {
    const dir = makeTemp()
    const notes = 'this is not a ledger\nimportant last line without newline'
    for (const [name, bytes] of [
      ['notes.txt', Buffer.from(notes)],
      ['archive.bin', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0xff])],
      ['first-line.jsonl', Buffer.from('not a record\n{"action":"deploy"')],
    ] as const) {
      const file = path.join(dir, name)
      fs.writeFileSync(file, bytes)
      const state = `--state-dir=${makeTemp()}`
      const run = await runCli(['gate', 'status', '--env=prod', `--ledger=${file}`, state])
      expect(run.code, `${name}: ${run.stderr}`).toBe(3)
      expect(fs.readFileSync(file).equals(bytes), name).toBe(true)
    }
    expect(fs.readdirSync(dir).filter((f) => f.includes('.torn-'))).toEqual([])
  })

  it('moves a torn last line aside as evidence and goes on', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    fs.appendFileSync(ledger, '{"action":"deploy","actor":"x"')
    const next = await deploy(ledger, 1)
    expect(next.result?.decision).toBe('recorded')
    const torn = fs.readdirSync(path.dirname(ledger)).filter((f) => f.includes('.torn-'))
    expect(torn).toHaveLength(1)
    expect(fs.readFileSync(path.join(path.dirname(ledger), torn[0] ?? ''), 'utf8')).toBe(
      '{"action":"deploy","actor":"x"',
    )
    const checked = await gate(ledger, ['check', '--key', kit.pub])
    expect(checked.code, checked.stderr).toBe(0)
    // A read that moves one aside says so too: in its JSON, on stderr, and as text.
    for (const form of [['--json'], []]) {
      fs.appendFileSync(ledger, '{"seq":3,"env":"prod"')
      const status = await runCli([
        'gate',
        'status',
        '--env',
        'prod',
        '--ledger',
        ledger,
        '--state-dir',
        makeTemp(),
        ...form,
      ])
      expect(status.code, status.stderr).toBe(0)
      expect(status.stdout + status.stderr).toMatch(
        /a torn last line of the ledger .* was moved to/,
      )
      if (form.length > 0)
        expect((JSON.parse(status.stdout) as { recovered: string }).recovered).toMatch(/\.torn-/)
    }
    fs.appendFileSync(ledger, '{"seq":3,"env":"prod"')
    const history = await runCli(['gate', 'history', '--env', 'prod', '--ledger', ledger, '--json'])
    expect(history.code).toBe(0)
    expect(JSON.parse(history.stdout)).toHaveLength(2)
    expect(history.stderr).toMatch(/a torn last line of the ledger .* was moved to/)
  })

  it('answers 3 with nothing recorded when the disk takes only part of the record', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    // Release 1's bundle kept already (staged first), so that the record is all it writes.
    const staged = await gate(
      ledger,
      deployArgs(1).map((a) => (a === 'prod' ? 'staging' : a)),
    )
    expect(staged.result?.decision).toBe('recorded')
    const before = fs.readFileSync(ledger)
    // A file size limit that ends inside the next record: the write stops short, as on a
    // full disk. (Node ignores SIGXFSZ, so the write returns what it wrote.)
    const run = spawnSync(
      'prlimit',
      [
        `--fsize=${before.length + 100}`,
        process.execPath,
        BIN,
        'gate',
        ...deployArgs(1),
        '--ledger',
        ledger,
      ],
      { env: { PATH: process.env.PATH ?? '', XDG_STATE_HOME: kit.state }, encoding: 'utf8' },
    )
    expect(run.status, run.stdout).toBe(3)
    expect(run.stdout).not.toMatch(/recorded/)
    expect(run.stderr).toMatch(/the record could not be appended \(.*\); nothing was recorded/)
    expect(fs.readFileSync(ledger)).toEqual(before)
    // Nothing acknowledged was lost, and the next gate finds the ledger as it was.
    const next = await deploy(ledger, 1)
    expect([next.code, next.result?.record?.seq]).toEqual([0, 2])
    expect(fs.readdirSync(path.dirname(ledger)).filter((f) => f.includes('.torn-'))).toEqual([])
  })

  it('takes one lock for one ledger, whatever path leads to it', async () => {
    const dir = makeTemp()
    const ledger = path.join(dir, 'real', 'ledger.jsonl')
    await deploy(ledger, 0)
    fs.symlinkSync('real', path.join(dir, 'alias'))
    const viaDir = path.join(dir, 'alias', 'ledger.jsonl')
    const viaFile = path.join(dir, 'link.jsonl')
    fs.symlinkSync(ledger, viaFile)
    // A gate holding the ledger's lock, as reached by its own path: the others must wait
    // for it, and here give up (exit 4) rather than append beside it.
    const holder = spawn('flock', [`${ledger}.lock`, 'sleep', '30'], {
      stdio: 'ignore',
      detached: true,
    })
    try {
      await new Promise((resolve) => setTimeout(resolve, 300))
      for (const other of [viaDir, viaFile]) {
        const run = await deploy(other, 1, ['--lock-timeout', '1s'])
        expect(run.code, run.stderr).toBe(4)
      }
    } finally {
      // flock and its sleep, which holds the lock too.
      process.kill(-(holder.pid ?? 0), 'SIGKILL')
    }
    // The bundles are kept beside the ledger itself, whichever path named it.
    expect((await deploy(viaFile, 1)).result?.record?.seq).toBe(2)
    expect(fs.readdirSync(path.join(dir, 'real', 'bundles'))).toHaveLength(2)
    expect(fs.existsSync(path.join(dir, 'bundles'))).toBe(false)
    // Two names of one file no path resolution joins: refused, not locked twice.
    fs.linkSync(ledger, path.join(dir, 'hard.jsonl'))
    const hard = await deploy(path.join(dir, 'hard.jsonl'), 2)
    expect(hard.code).toBe(2)
    expect(hard.stderr).toMatch(/hard links; a ledger must have one name/)
    fs.rmSync(path.join(dir, 'hard.jsonl'))
    // A link to nothing is not a ledger to start.
    fs.symlinkSync(path.join(dir, 'none', 'x.jsonl'), path.join(dir, 'dangling.jsonl'))
    const dangling = await deploy(path.join(dir, 'dangling.jsonl'), 0)
    expect(dangling.code).toBe(2)
    expect(dangling.stderr).toMatch(/a symbolic link to nothing/)
  })

  it('stops on a whole record whose line break was taken away, and cuts nothing', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    fs.truncateSync(ledger, fs.statSync(ledger).size - 1)
    // Its line break swapped for other bytes, as much as removed.
    fs.appendFileSync(ledger, ' x')
    const cut = fs.readFileSync(ledger)
    // A machine that never saw this ledger, and one that verified it to its end.
    for (const check of [
      await runCli([
        'gate',
        'check',
        '--key',
        kit.pub,
        '--ledger',
        ledger,
        '--state-dir',
        makeTemp(),
      ]),
      await deploy(ledger, 2),
    ]) {
      expect(check.code, check.stdout).toBe(3)
      expect(check.stderr).toMatch(
        /whole record but no line break|not the ones this machine verified/,
      )
      expect(fs.readFileSync(ledger)).toEqual(cut)
    }
  })

  it('records nothing when stopped before the write (a cancelled job)', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    const before = fs.readFileSync(ledger)
    const holder = spawn('flock', [`${ledger}.lock`, 'sleep', '30'], {
      stdio: 'ignore',
      detached: true,
    })
    try {
      await new Promise((resolve) => setTimeout(resolve, 300))
      const child = spawn(process.execPath, [BIN, 'gate', ...deployArgs(1), '--ledger', ledger], {
        env: { PATH: process.env.PATH ?? '', XDG_STATE_HOME: kit.state },
      })
      let stderr = ''
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
      // Verified, and waiting for the lock: stopped there, while the lock is still held.
      await new Promise((resolve) => setTimeout(resolve, 2500))
      child.kill('SIGINT')
      expect(await exited, stderr).toBe(130)
      expect(stderr).toMatch(
        /interrupted while waiting for the ledger's lock; nothing was recorded/,
      )
      // Ctrl-C at a terminal goes to the whole group, flock(1) included, which dies of it.
      const group = spawn(process.execPath, [BIN, 'gate', ...deployArgs(1), '--ledger', ledger], {
        env: { PATH: process.env.PATH ?? '', XDG_STATE_HOME: kit.state },
        detached: true,
      })
      let said = ''
      group.stderr.on('data', (d: Buffer) => (said += d.toString()))
      const ended = new Promise<number | null>((resolve) => group.on('close', resolve))
      await new Promise((resolve) => setTimeout(resolve, 2500))
      process.kill(-(group.pid ?? 0), 'SIGINT')
      expect(await ended, said).toBe(130)
      expect(said).toMatch(/nothing was recorded/)
    } finally {
      try {
        process.kill(-(holder.pid ?? 0), 'SIGKILL')
      } catch {
        // gone already
      }
    }
    expect(fs.readFileSync(ledger)).toEqual(before)
  })

  it('keeps the bundle a record names, whatever sat under its name in the store', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    const name = `${crypto
      .createHash('sha256')
      .update(fs.readFileSync(release(1).bundle))
      .digest('hex')}.sigstore.json`
    const kept = path.join(path.dirname(ledger), 'bundles', name)
    fs.writeFileSync(kept, 'other bytes')
    expect((await deploy(ledger, 1)).result?.record?.seq).toBe(2)
    expect(fs.readFileSync(kept)).toEqual(fs.readFileSync(release(1).bundle))
    // A directory there cannot be replaced: nothing is recorded.
    const name2 = `${crypto
      .createHash('sha256')
      .update(fs.readFileSync(release(2).bundle))
      .digest('hex')}.sigstore.json`
    fs.mkdirSync(path.join(path.dirname(ledger), 'bundles', name2))
    const before = fs.readFileSync(ledger)
    const refused = await deploy(ledger, 2)
    expect(refused.code, refused.stdout).toBe(3)
    expect(fs.readFileSync(ledger)).toEqual(before)
  })

  it('stops, naming the record, on an edited record or a forged link', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    const lines = fs.readFileSync(ledger, 'utf8').split('\n')
    fs.writeFileSync(
      ledger,
      [lines[0]?.replace('"actor":"', '"actor":"mallory-'), lines[1], ''].join('\n'),
    )
    const edited = await runCli(['gate', 'check', '--key', kit.pub, '--ledger', ledger])
    expect(edited.code).toBe(3)
    expect(edited.stderr).toMatch(/ledger\.jsonl:2: its prev .* the chain is broken/)
    expect((await deploy(ledger, 2)).code).toBe(3)
    fs.writeFileSync(ledger, `${'x'.repeat(70_000)}\n`)
    expect(
      (await runCli(['gate', 'check', '--key', kit.pub, '--ledger', ledger])).stderr,
    ).toContain('ledger.jsonl:1: line too long')
    // Refused by its size, before a byte is read (a sparse file: nothing is written).
    fs.truncateSync(ledger, 300 * 1024 * 1024)
    const huge = await runCli(['gate', 'check', '--key', kit.pub, '--ledger', ledger])
    expect(huge.code).toBe(3)
    expect(huge.stderr).toMatch(
      /ledger\.jsonl: 314572800 bytes, more than the \d+ a ledger may hold/,
    )
  })

  it('keeps one valid chain with 8 processes deploying and rolling back at once', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    const decisions = await race(ledger, () => 'prod')
    const records = parseLedger(fs.readFileSync(ledger, 'utf8'), ledger)
    expect(records.length).toBe(decisions.filter((d) => d === 'recorded').length)
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1))
    expect(lockIsFree(ledger)).toBe(true)
  })

  it('refuses a ledger that is not a regular file, at once (exit 2), never waiting on it', async () => {
    const dir = makeTemp()
    const ledger = path.join(dir, 'ledger.jsonl')
    spawnSync('mkfifo', [ledger])
    const t0 = Date.now()
    for (const args of [deployArgs(0), ['status', '--env', 'prod']]) {
      const run = await gate(ledger, [...args, '--lock-timeout', '60s'])
      expect(run.code, run.stderr).toBe(2)
      expect(run.stderr).toMatch(/ledger\.jsonl: not a regular file/)
    }
    expect(Date.now() - t0).toBeLessThan(30_000)
    // Refused before its lock was taken: nothing is left beside it.
    expect(fs.readdirSync(dir)).toEqual(['ledger.jsonl'])
    // A directory, named as one: its link count is not the ledger's hard links.
    const status = await gate(dir, ['status', '--env', 'prod'])
    expect([status.code, status.stderr]).toEqual([
      2,
      `reproof: --ledger ${dir}: not a regular file (a directory); name the ledger file itself\n`,
    ])
  })

  it('waits for a gate holding the lock, then answers 4 with nothing recorded', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    // Another holder of the same kernel lock, as another gate would be.
    const holder = spawn('flock', ['--no-fork', `${ledger}.lock`, 'sleep', '60'], {
      stdio: 'ignore',
    })
    try {
      while (lockIsFree(ledger)) await new Promise((resolve) => setTimeout(resolve, 20))
      const before = fs.readFileSync(ledger, 'utf8')
      const waited = await deploy(ledger, 1, ['--lock-timeout', '700ms'])
      expect(waited.code, waited.stderr).toBe(4)
      expect(waited.stderr).toContain('stayed locked by another gate')
      expect(waited.stderr).toContain('a retry is safe')
      expect(fs.readFileSync(ledger, 'utf8')).toBe(before)
    } finally {
      holder.kill('SIGKILL')
    }
    await new Promise((resolve) => holder.once('close', resolve))
    expect((await deploy(ledger, 1)).result?.decision).toBe('recorded')
  })

  it('is not held back by a lock file a killed gate left behind', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    fs.writeFileSync(`${ledger}.lock`, JSON.stringify({ pid: 2 ** 22 + 1, host: os.hostname() }))
    expect((await deploy(ledger, 0, ['--lock-timeout', '1s'])).result?.decision).toBe('recorded')
  })

  it(
    'loses nothing acknowledged when hundreds of gates are killed with SIGKILL at random points',
    { timeout: 120_000 },
    async () => {
      const ledger = path.join(makeTemp(), 'ledger.jsonl')
      const env = { ...process.env }
      delete env.NODE_EXTRA_CA_CERTS
      const acknowledged: string[] = []
      // A first release, not interrupted, so that every later step is a rollback to append.
      await deploy(ledger, 0)
      await deploy(ledger, 1)
      // Hundreds of kills, four gates at a time so that kills also land while others wait
      // on the lock; bounded in time for CI.
      const deadline = Date.now() + 70_000
      const once = async (i: number): Promise<void> => {
        const r = release(i % 2)
        const args = [
          'gate',
          'rollback',
          '--env',
          'prod',
          '--to',
          r.digest,
          '--reason',
          `step ${i}`,
        ]
        const out = await new Promise<string>((resolve) => {
          const child = spawn(
            process.execPath,
            [BIN, ...args, '--key', kit.pub, '--ledger', ledger, '--json'],
            { env, stdio: ['ignore', 'pipe', 'ignore'] },
          )
          let text = ''
          child.stdout.on('data', (d: Buffer) => (text += d.toString()))
          // Anywhere from start-up to after the append: the kill lands at every stage.
          setTimeout(() => child.kill('SIGKILL'), 100 + Math.floor(Math.random() * 900))
          child.on('close', () => {
            resolve(text)
          })
        })
        if (out.includes('"recorded"'))
          acknowledged.push((JSON.parse(out) as { record: { prev: string } }).record.prev)
      }
      let iterations = 0
      while (iterations < 240 && Date.now() < deadline) {
        await Promise.all([0, 1, 2, 3].map((k) => once(iterations + k)))
        iterations += 4
      }
      expect(iterations).toBeGreaterThanOrEqual(100)
      // Some gates finish before their kill, or the test proves nothing about acknowledgements.
      expect(acknowledged.length).toBeGreaterThan(0)
      // A killed gate's lock went with it: the kernel let go of it.
      const check = await runCli(['gate', 'check', '--key', kit.pub, '--ledger', ledger, '--json'])
      expect(check.code, check.stderr).toBe(0)
      const records = parseLedger(fs.readFileSync(ledger, 'utf8'), ledger)
      for (const prev of acknowledged) expect(records.some((r) => r.prev === prev)).toBe(true)
      expect(new Set(records.map((r) => r.prev)).size).toBe(records.length)
    },
  )
})
