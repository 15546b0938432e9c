import { describe, expect, it } from 'vitest'
import { classifyPushFailure } from '../../src/gate/git-ledger.js'

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
})
