import { describe, expect, it } from 'vitest'
import { classifyPushFailure, redactAddress } from '../../../src/gate/git-ledger.js'

// What git 2.39 prints for `git push --porcelain` (stdout, then stderr).
describe('classifyPushFailure', () => {
  it('a push that is not a fast-forward lost a race', () => {
    expect(
      classifyPushFailure(
        "To /r.git\n!\tabc:refs/heads/releases\t[rejected] (non-fast-forward)\nDone\nerror: failed to push some refs to '/r.git'\nhint: Updates were rejected",
      ),
    ).toEqual({ kind: 'raced', message: 'non-fast-forward' })
  })

  it('a remote that says no, with its reason and its own words', () => {
    expect(
      classifyPushFailure(
        "To /r.git\n!\tabc:refs/heads/releases\t[remote rejected] (pre-receive hook declined)\nDone\nremote: frozen        \nerror: failed to push some refs to '/r.git'",
      ),
    ).toEqual({ kind: 'refused', message: 'pre-receive hook declined: frozen' })
  })

  it('a ref the remote could not lock, or found moved under it, lost a race', () => {
    for (const reason of [
      "failed to update ref: error: cannot lock ref 'refs/heads/rel': Unable to create '/r.git/refs/heads/rel.lock': File exists.",
      "failed to update ref: cannot lock ref 'refs/heads/rel': is at 1111111 but expected 2222222",
      'failed to lock',
    ])
      expect(
        classifyPushFailure(
          `To /r.git\n!\tabc:refs/heads/rel\t[remote rejected] (${reason})\nDone\nerror: failed to push some refs to '/r.git'`,
        ).kind,
        reason,
      ).toBe('raced')
  })

  it('credentials or permissions refused before any ref was looked at', () => {
    for (const text of [
      "remote: Permission to acme/releases.git denied to bot.\nfatal: unable to access 'https://example.com/acme/releases.git/': The requested URL returned error: 403",
      'git@example.com: Permission denied (publickey).\nfatal: Could not read from remote repository.',
      "fatal: could not read Username for 'https://example.com': terminal prompts disabled",
    ])
      expect(classifyPushFailure(text).kind, text).toBe('refused')
  })

  it('a dropped connection or a timeout is an unknown outcome, named by what git said', () => {
    expect(
      classifyPushFailure(
        "Killed\nsend-pack: unexpected disconnect while reading sideband packet\nerror: error in sideband demultiplexer\nerror: failed to push some refs to '/r.git'",
      ),
    ).toEqual({
      kind: 'lost',
      message: 'send-pack: unexpected disconnect while reading sideband packet',
    })
    expect(classifyPushFailure('spawnSync git ETIMEDOUT')).toEqual({
      kind: 'lost',
      message: 'spawnSync git ETIMEDOUT',
    })
  })

  it("never reads a hook's words as a refusal when no ref was refused: the push may land", () => {
    // A pre-receive hook's banner, then git killed at its time limit while the hook ran.
    const text =
      'remote: policy: force pushes are denied to everyone on this branch (ok)\nremote: permission denied is said of force pushes only'
    expect(classifyPushFailure(text).kind).toBe('lost')
  })

  it('reads the rejection git prints without --porcelain too', () => {
    expect(
      classifyPushFailure(
        "To /r.git\n ! [rejected]        abc -> releases (fetch first)\nerror: failed to push some refs to '/r.git'",
      ),
    ).toEqual({ kind: 'raced', message: 'fetch first' })
    expect(
      classifyPushFailure(
        "To /r.git\n ! [remote rejected] abc -> releases (protected branch hook declined)\nremote:\nremote:   GH006: Protected branch update failed.  \nerror: failed to push some refs to '/r.git'",
      ),
    ).toEqual({
      kind: 'refused',
      message: 'protected branch hook declined: GH006: Protected branch update failed.',
    })
    // A line that only mentions a rejection is not git's report of one.
    expect(
      classifyPushFailure('note ! [rejected] (x)\nfatal: the remote end hung up unexpectedly'),
    ).toEqual({ kind: 'lost', message: 'note ! [rejected] (x)' })
  })

  it('knows each way a remote says no for good', () => {
    // Each matches one of the words looked for, and only that one.
    for (const text of [
      'git@example.com: Permission denied (publickey).',
      'ERROR: Permission to acme/releases.git denied.',
      'fatal: Access denied',
      'ERROR: push DENIED TO bot',
      'GitLab: You are not allowed to push code to this project.',
      'fatal: Authentication failed for https://example.com/acme/releases.git/',
      "fatal: could not read Password for 'https://bot@example.com': No such device",
      "fatal: could not read Username for 'https://example.com': No such device",
      'fatal: unable to access: The requested URL returned error: 401',
      'fatal: unable to access: The requested URL returned error: 403',
      'ERROR: Repository not found.',
      'ERROR: This repository is read-only',
    ])
      expect(classifyPushFailure(text), text).toEqual({ kind: 'refused', message: text.trim() })
    for (const text of [
      'fatal: unable to access: The requested URL returned error: 404',
      'fatal: unable to access: The requested URL returned error: 500',
      'error: RPC failed; curl 56 Recv failure: Connection reset by peer',
    ])
      expect(classifyPushFailure(text).kind, text).toBe('lost')
  })

  it('names what git said, past its own framing, or says there was no answer', () => {
    expect(
      classifyPushFailure(
        "Command failed: git push\nTo /r.git\nDone\nhint: try again\nKilled\nerror: failed to push some refs to '/r.git'\n  fatal: early EOF  \n",
      ),
    ).toEqual({ kind: 'lost', message: 'fatal: early EOF' })
    expect(classifyPushFailure('')).toEqual({ kind: 'lost', message: 'no answer' })
    expect(classifyPushFailure('To /r.git\nDone\n')).toEqual({ kind: 'lost', message: 'no answer' })
    // Only whole framing lines are skipped: these are git's words.
    expect(classifyPushFailure('Done with errors').message).toBe('Done with errors')
    expect(classifyPushFailure('Killed by signal 9').message).toBe('Killed by signal 9')
    expect(classifyPushFailure('the hint: none').message).toBe('the hint: none')
    expect(classifyPushFailure('remote: \nremote: busy').message).toBe('busy')
  })
})

describe('redactAddress', () => {
  it("takes the address's user, password and query out of what git said", () => {
    const url = 'https://alice:s3cr%2Ft@git.example/r.git?private_token=t0k'
    const said = `fatal: unable to access 'https://git.example/r.git?private_token=t0k/': 403 for alice s3cr/t ${url}`
    const out = redactAddress(said, url)
    expect(out).not.toMatch(/alice|s3cr|t0k/)
    expect(out).toContain('https://git.example/r.git')
    expect(redactAddress('git@host: Permission denied', 'ssh://git@host/r.git')).toBe(
      'git@host: Permission denied',
    )
    // A user alone over http is a token as often as not, and git's prompt names it.
    const token = 'http://ghp_T0KEN@127.0.0.1:8765/o/r.git'
    expect(
      redactAddress(
        "fatal: could not read Password for 'http://ghp_T0KEN@127.0.0.1:8765': terminal prompts disabled",
        token,
      ),
    ).toBe(
      "fatal: could not read Password for 'http://***@127.0.0.1:8765': terminal prompts disabled",
    )
    // git writes the host as given; the parser has it in lower case.
    expect(
      redactAddress(
        "fatal: could not read Password for 'http://SeCrEt@LocalHost:8765'",
        'http://SeCrEt@LocalHost:8765/x.git',
      ),
    ).toBe("fatal: could not read Password for 'http://***@LocalHost:8765'")
    // A local path has no secret: left as it is.
    expect(redactAddress('fatal: /srv/r.git: not found', '/srv/r.git')).toBe(
      'fatal: /srv/r.git: not found',
    )
  })
})
