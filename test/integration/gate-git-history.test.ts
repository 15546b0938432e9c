import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  cloneLedger,
  deploy,
  deployArgs,
  freshGate,
  gate,
  kit,
  release,
  remote,
  useGateKit,
} from '../gate-kit.js'
import { cleanupTemp, git, makeTemp, runCli } from '../helpers.js'

afterEach(cleanupTemp)
useGateKit()

const deployFresh = (ledger: string, i: number) => freshGate()(ledger, deployArgs(i))

describe('a git ledger only ever appends, across its whole history', () => {
  it('refuses a fast-forward commit that strips the final newline, naming it; the last release stays', async () => {
    const { bare, ledger, read } = remote()
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    const clone = cloneLedger(bare)
    const file = path.join(clone.work, 'ledger.jsonl')
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/\n$/, ''))
    const culprit = clone.commit('strip the newline')
    clone.push()
    for (const run of [
      await gate(ledger, ['check', '--key', kit.pub]),
      await deployFresh(ledger, 2),
    ]) {
      expect(run.code, run.stderr).toBe(3)
      expect(run.stderr).toContain(`commit ${culprit}: its ledger.jsonl ends without a newline`)
      // No answer but the error itself.
      expect(JSON.parse(run.stdout)).toEqual({
        error: expect.objectContaining({ code: 'E_LEDGER', exit: 3 }) as unknown,
      })
    }
    expect((await deploy(ledger, 2)).code).toBe(3)
    // Nothing was rewritten over it: the branch still ends at the culprit.
    expect(git(bare, ['rev-parse', 'releases']).trim()).toBe(culprit)
    git(bare, ['update-ref', 'refs/heads/releases', `${culprit}~1`])
    expect(read()).toHaveLength(2)
  })

  it('refuses, from the first commit, a commit that dropped a release, though the chain at the tip is intact', async () => {
    const { bare, ledger } = remote()
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    const clone = cloneLedger(bare)
    const file = path.join(clone.work, 'ledger.jsonl')
    const [first] = fs.readFileSync(file, 'utf8').split('\n')
    fs.writeFileSync(file, `${first ?? ''}\n`)
    const culprit = clone.commit('drop the last release')
    clone.push()
    // At its tip the chain is intact (one record): only the history shows the loss.
    const run = await deployFresh(ledger, 2)
    expect(run.code, run.stderr).toBe(3)
    expect(run.stderr).toContain(
      `commit ${culprit}: its ledger.jsonl does not start with its parent's: records were removed or changed`,
    )
    expect(git(bare, ['rev-parse', 'releases']).trim()).toBe(culprit)
  })

  it('refuses a branch replaced by another consistent history, and a deleted branch, by the checkpoint', async () => {
    const { bare, ledger } = remote()
    const state = makeTemp()
    const withState = (args: string[]) =>
      runCli(['gate', ...args, '--ledger', ledger, '--state-dir', state, '--json'])
    const deployWithState = (i: number) => withState(deployArgs(i))
    expect((await deployWithState(0)).code).toBe(0)
    expect((await deployWithState(1)).code).toBe(0)
    const tip = git(bare, ['rev-parse', 'releases']).trim()
    // One under the repository as its address opens it, one under the repository's own
    // identity (a bind mount reaches it by another path): the same commit in each.
    const checkpoints = fs.readdirSync(path.join(state, 'git-ledgers'))
    expect(checkpoints).toHaveLength(2)
    for (const checkpoint of checkpoints)
      expect(
        JSON.parse(fs.readFileSync(path.join(state, 'git-ledgers', checkpoint), 'utf8')),
      ).toEqual({ commit: tip, ledger })
    // Another ledger, valid from its first commit, with only release 1: pushed over this one.
    const other = remote()
    await deploy(other.ledger, 1)
    git(bare, ['fetch', '-q', other.bare, '+releases:releases'])
    const replaced = git(bare, ['rev-parse', 'releases']).trim()
    // A machine that never saw the old history has nothing to compare with...
    expect((await freshGate()(ledger, ['status', '--env', 'prod'])).code).toBe(0)
    // ...this one has.
    const run = await deployWithState(2)
    expect(run.code).toBe(3)
    expect(run.stderr).toContain(
      `its tip ${replaced} does not descend from ${tip}, the last commit this machine verified`,
    )
    expect(git(bare, ['rev-parse', 'releases']).trim()).toBe(replaced)
    git(bare, ['update-ref', '-d', 'refs/heads/releases'])
    const gone = await withState(['check', '--key', kit.pub])
    expect(gone.code).toBe(3)
    expect(gone.stderr).toContain(`the branch is gone, but this machine verified it at ${tip}`)
    // Put back, the history verifies again from the checkpoint.
    git(bare, ['update-ref', 'refs/heads/releases', tip])
    expect((await deployWithState(2)).code).toBe(0)
    // The same ledger spelt another way finds the same checkpoint: a replaced history is
    // seen whatever the spelling of the URL that reads it.
    const spelt = ledger.replace('#', '/#').replace('git:', 'git:file://')
    const sameLedger = (args: string[]) =>
      runCli(['gate', ...args, '--ledger', spelt, '--state-dir', state, '--json'])
    expect((await sameLedger(['status', '--env', 'prod'])).code).toBe(0)
    expect(fs.readdirSync(path.join(state, 'git-ledgers'))).toHaveLength(2)
    git(bare, ['fetch', '-q', other.bare, '+releases:releases'])
    const respelt = await sameLedger(deployArgs(0))
    expect(respelt.code).toBe(3)
    expect(respelt.stderr).toContain('the last commit this machine verified')
  })

  it('refuses a deleted branch whatever path leads git to the repository: without .git, through a link', async () => {
    const { bare, ledger } = remote()
    const state = makeTemp()
    const withState = (spec: string, args: string[]) =>
      runCli(['gate', ...args, '--ledger', spec, '--state-dir', state, '--json'])
    expect((await withState(ledger, deployArgs(0))).code).toBe(0)
    expect((await withState(ledger, deployArgs(1))).code).toBe(0)
    git(bare, ['update-ref', '-d', 'refs/heads/releases'])
    const link = path.join(makeTemp(), 'alias.git')
    fs.symlinkSync(bare, link)
    // git opens `ledger` as `ledger.git`, and a link as what it leads to: one repository,
    // whose history this machine verified. Release 0 was superseded there.
    for (const spelt of [bare.replace(/\.git$/, ''), link, link.replace(/\.git$/, '')]) {
      const run = await withState(`git:${spelt}#releases`, deployArgs(0))
      expect(run.code, `${spelt}: ${run.stdout}`).toBe(3)
      expect(run.stderr).toContain('the branch is gone, but this machine verified it at')
    }
    expect(fs.readdirSync(path.join(state, 'git-ledgers'))).toHaveLength(2)
  })

  it('refuses a history cut back in another repository that the same address now opens', async () => {
    // The address stays; what it opens changes: a link re-pointed, or a repository made
    // at the bare name git tries before `.git`. Each is a replaced history for this
    // machine, which verified the release that superseded the one deployed again.
    for (const how of ['link', 'beside'] as const) {
      const { bare } = remote()
      const dir = path.dirname(bare)
      const address = path.join(dir, how === 'link' ? 'current' : 'ledger')
      if (how === 'link') fs.symlinkSync(bare, address)
      const spec = `git:${address}#releases`
      const state = makeTemp()
      const withState = (args: string[]) =>
        runCli(['gate', ...args, '--ledger', spec, '--state-dir', state, '--json'])
      for (const i of [0, 1, 2]) expect((await withState(deployArgs(i))).code).toBe(0)
      const first = git(bare, ['rev-list', '--reverse', 'releases']).split('\n')[0] ?? ''
      const copy = path.join(dir, how === 'link' ? 'copy.git' : 'ledger')
      git(dir, ['clone', '-q', '--bare', bare, copy])
      git(copy, ['update-ref', 'refs/heads/releases', first])
      if (how === 'link') {
        fs.rmSync(address)
        fs.symlinkSync(copy, address)
      }
      const run = await withState(deployArgs(1))
      expect(run.code, `${how}: ${run.stdout}`).toBe(3)
      expect(run.stderr).toContain('the last commit this machine verified')
      expect(git(copy, ['rev-parse', 'releases']).trim()).toBe(first)
      const check = await withState(['check', '--key', kit.pub])
      expect(check.code, how).toBe(3)
    }
  })

  it('stops on a checkpoint that is not one', async () => {
    const { ledger } = remote()
    const state = makeTemp()
    await runCli([
      'gate',
      'deploy',
      '--env',
      'prod',
      '--bundle',
      release(0).bundle,
      '--key',
      kit.pub,
      release(0).artifact,
      '--ledger',
      ledger,
      '--state-dir',
      state,
    ])
    const [name] = fs.readdirSync(path.join(state, 'git-ledgers'))
    fs.writeFileSync(path.join(state, 'git-ledgers', name ?? ''), '{"commit":"x"}\n')
    const run = await runCli([
      'gate',
      'status',
      '--env',
      'prod',
      '--ledger',
      ledger,
      '--state-dir',
      state,
    ])
    expect(run.code).toBe(3)
    expect(run.stderr).toContain('not the checkpoint of')
  })
})
