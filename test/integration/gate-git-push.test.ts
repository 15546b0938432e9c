import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { deploy, deployArgs, hook, remote, useGateKit } from '../gate-kit.js'
import { cleanupTemp, git, makeTemp, runCli, spawnCli } from '../helpers.js'

afterEach(cleanupTemp)
useGateKit()

describe('what a refused or failed push of a git ledger means', () => {
  it('is exit 3 with the remote message when a hook always refuses, nothing recorded', async () => {
    const { bare, ledger, read } = remote()
    await deploy(ledger, 0)
    const tip = git(bare, ['rev-parse', 'releases']).trim()
    hook(bare, 'pre-receive', 'echo "the release ledger is frozen by policy" >&2; exit 1')
    const run = await deploy(ledger, 1)
    expect(run.code, run.stderr).toBe(3)
    // No decision, only the error.
    expect(run.result).toEqual({
      error: expect.objectContaining({ code: 'E_ENVIRONMENT', exit: 3, path: ledger }) as unknown,
    })
    expect(run.stderr).toContain(
      'the remote refused the push: pre-receive hook declined: the release ledger is frozen by policy',
    )
    expect(run.stderr).toContain('Nothing was recorded')
    expect(run.stderr).not.toContain('retry is safe')
    expect(git(bare, ['rev-parse', 'releases']).trim()).toBe(tip)
    expect(read()).toHaveLength(1)
  })

  it('treats a refusal while another gate moved the branch as a race: decides again and records on top', async () => {
    const { bare, ledger, read } = remote()
    await deploy(ledger, 0)
    // Another gate's release, made on a copy and kept aside in the remote.
    const copy = `${bare}-copy`
    fs.cpSync(bare, copy, { recursive: true })
    await deploy(`git:${copy}#releases`, 1)
    git(bare, ['fetch', '-q', copy, 'releases:refs/aside/other'])
    // The first push finds that release landed meanwhile, and the remote says no.
    hook(
      bare,
      'pre-receive',
      [
        'if [ ! -e raced ]; then',
        '  touch raced',
        '  env -u GIT_QUARANTINE_PATH git update-ref refs/heads/releases refs/aside/other',
        '  echo "another push won" >&2; exit 1',
        'fi',
      ].join('\n'),
    )
    const run = await deploy(ledger, 2)
    expect([run.code, run.result?.decision], run.stderr).toEqual([0, 'recorded'])
    expect(run.result?.record?.seq).toBe(3)
    expect(read()).toHaveLength(3)
    fs.rmSync(copy, { recursive: true, force: true })
  })

  it('retries a push whose connection died before the branch moved, and records it once', async () => {
    const { bare, ledger, read } = remote()
    await deploy(ledger, 0)
    // The next push dies on the remote before the ref is updated; the remote still answers.
    hook(bare, 'pre-receive', 'if [ ! -e lost ]; then touch lost; kill -9 $PPID; fi')
    const run = await deploy(ledger, 1)
    expect([run.code, run.result?.decision], run.stderr).toEqual([0, 'recorded'])
    expect(fs.existsSync(`${bare}/lost`)).toBe(true)
    expect(read()).toHaveLength(2)
    expect(git(bare, ['rev-list', '--count', 'releases']).trim()).toBe('2')
  })

  it('is exit 4, not "recorded", when git sends the push to another repository than the one read', async () => {
    const { bare, ledger } = remote()
    const elsewhere = remote()
    // The caller's git settings, which a gate keeps (they may carry credentials or a proxy).
    const run = await runCli(['gate', ...deployArgs(0), '--ledger', ledger, '--json'], {
      XDG_STATE_HOME: makeTemp(),
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: `url.${elsewhere.bare}.pushInsteadOf`,
      GIT_CONFIG_VALUE_0: bare,
    })
    expect(run.code, run.stderr).toBe(4)
    expect(run.stderr).toMatch(/does not hold it: git's settings may send pushes elsewhere/)
    expect(git(bare, ['branch', '--list', 'releases'])).toBe('')
    expect(elsewhere.read()).toHaveLength(1)
  })

  it('is exit 4, retry safe, when every push loses its connection and none landed', async () => {
    const { bare, ledger } = remote()
    hook(bare, 'pre-receive', 'kill -9 $PPID')
    const run = await deploy(ledger, 0)
    expect(run.code, run.stderr).toBe(4)
    expect(run.result).toEqual({
      error: expect.objectContaining({ code: 'E_AMBIGUOUS', exit: 4 }) as unknown,
    })
    expect(run.stderr).toMatch(
      /the push kept failing \(.*\); .* an unanswered push may still land: the release may or may not be recorded, and a retry is safe/,
    )
    expect(git(bare, ['branch', '--list', 'releases'])).toBe('')
  })

  it('is exit 4, not "cannot read the ledger", when reading fails after a push went unanswered', async () => {
    const { bare, ledger } = remote()
    await deploy(ledger, 0)
    // A git that loses the push's answer (the push itself not made), then answers the
    // read-back that follows, then loses the connection on the next read.
    const bin = makeTemp()
    const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim()
    fs.writeFileSync(
      path.join(bin, 'git'),
      [
        '#!/bin/sh',
        `state=${bin}/state`,
        'case " $* " in',
        `  *" push "*) touch "$state.pushed"; echo "fatal: the remote end hung up unexpectedly" >&2; exit 128 ;;`,
        `  *" ls-remote "*) if [ -e "$state.pushed" ]; then if [ -e "$state.read" ]; then echo "fatal: unable to access: Connection reset by peer" >&2; exit 128; fi; touch "$state.read"; fi ;;`,
        'esac',
        `exec ${real} "$@"`,
      ].join('\n'),
      { mode: 0o755 },
    )
    const run = await runCli(['gate', ...deployArgs(1), '--ledger', ledger, '--json'], {
      XDG_STATE_HOME: makeTemp(),
      PATH: `${bin}:${process.env.PATH ?? ''}`,
    })
    expect(fs.existsSync(path.join(bin, 'state.read'))).toBe(true)
    expect(run.code, run.stderr).toBe(4)
    expect(run.stderr).toMatch(
      /a push did not answer \(.*\), and then: .*Connection reset by peer.*; the release may or may not be recorded/,
    )
    expect(git(bare, ['rev-list', '--count', 'releases']).trim()).toBe('1')
  })
})

describe('a gate on a git ledger stopped before its push', () => {
  /** A `git` that stops at `ls-remote` (the ledger's read), first doing `what`. */
  function slowGit(what: string): { env: NodeJS.ProcessEnv; reading: string } {
    const bin = makeTemp()
    const reading = path.join(bin, 'reading')
    const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim()
    fs.writeFileSync(
      path.join(bin, 'git'),
      `#!/bin/sh\nfor a in "$@"; do [ "$a" = ls-remote ] && { touch ${reading}; ${what}; }; done\nexec ${real} "$@"\n`,
    )
    fs.chmodSync(path.join(bin, 'git'), 0o755)
    return {
      env: { PATH: `${bin}:${process.env.PATH ?? ''}`, XDG_STATE_HOME: makeTemp() },
      reading,
    }
  }

  it('records nothing and exits 130 when SIGTERM comes while git reads the ledger', async () => {
    const { bare, ledger } = remote()
    const { env, reading } = slowGit('sleep 2')
    // git runs synchronously: the signal came while it read, and was seen only after the push.
    const run = await spawnCli(['gate', ...deployArgs(0), '--ledger', ledger], {
      env,
      killWhen: () => fs.existsSync(reading),
    })
    expect(run.code, run.stderr).toBe(130)
    expect(run.stderr).toContain('interrupted; nothing was written')
    expect(() => git(bare, ['rev-parse', '--verify', '-q', 'releases'])).toThrow()
  })

  it('says interrupted, not an unreadable ledger, when Ctrl-C kills git as it reads', async () => {
    const { bare, ledger } = remote()
    // Ctrl-C at a terminal signals the whole group: git dies of it first.
    const { env } = slowGit('kill -INT $$')
    const run = await spawnCli(['gate', ...deployArgs(0), '--ledger', ledger], { env })
    expect(run.code, run.stderr).toBe(130)
    expect(run.stderr).toContain('interrupted; nothing was written')
    expect(run.stderr).not.toContain('cannot read the ledger')
    expect(() => git(bare, ['rev-parse', '--verify', '-q', 'releases'])).toThrow()
  })
})
