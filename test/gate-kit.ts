import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, expect } from 'vitest'
import type { LedgerRecord } from '../src/gate/decide.js'
import { parseLedger } from '../src/gate/ledger.js'
import { git, makeTemp, makeTempParent, runCli, spawnCli } from './helpers.js'

/** Three releases of a tiny project, each built, reproduced and signed with one key. */
export let kit: {
  dir: string
  pub: string
  otherPub: string
  /** Where gates keep git ledger checkpoints unless a test gives its own. */
  state: string
  releases: { artifact: string; bundle: string; digest: string }[]
}

/**
 * Builds the kit once for the calling test file. With REPROOF_TEST_KIT_DIR set (mutation
 * testing runs the gate's tests once per mutant, and the build code is not what it
 * mutates), the kit is built there once and kept for later runs; the state directory
 * is new for every file either way.
 */
export function useGateKit(): void {
  beforeAll(async () => {
    const cache = process.env.REPROOF_TEST_KIT_DIR
    const state = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'reproof-gate-state-'))
    const made = cache === undefined ? undefined : readKit(cache)
    kit = { ...(made ?? (await buildKit(cache))), state }
    return () => {
      fs.rmSync(state, { recursive: true, force: true })
      if (cache === undefined) fs.rmSync(kit.dir, { recursive: true, force: true })
    }
  })
}

type Made = Omit<typeof kit, 'state'>

/** The kit kept in `cache`, its paths kept relative to it. */
function readKit(cache: string): Made | undefined {
  let kept: Made
  try {
    kept = JSON.parse(fs.readFileSync(path.join(cache, 'kit.json'), 'utf8')) as Made
  } catch {
    return undefined
  }
  const at = (p: string): string => path.join(cache, p)
  return {
    dir: cache,
    pub: at(kept.pub),
    otherPub: at(kept.otherPub),
    releases: kept.releases.map((r) => ({ ...r, artifact: at(r.artifact), bundle: at(r.bundle) })),
  }
}

async function buildKit(cache: string | undefined): Promise<Made> {
  const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'reproof-gate-'))
  await runCli(['keygen', '--out', path.join(dir, 'k')])
  await runCli(['keygen', '--out', path.join(dir, 'other')])
  const releases = []
  for (const version of ['1', '2', '3']) {
    const source = path.join(dir, `src${version}`)
    fs.mkdirSync(source)
    fs.writeFileSync(
      path.join(source, 'build.sh'),
      `mkdir -p out && echo "release ${version}" > out/app.txt\n`,
    )
    const bundle = path.join(dir, `r${version}.json`)
    // prettier-ignore
    const run = await runCli([
      'build', '-C', source, '-o', 'out/app.txt', '--epoch', '1700000000',
      '--temp-dir', makeTempParent(), '--json', '--bundle', bundle,
      '--key', path.join(dir, 'k.key'), '--builder-id', 'https://ci.example.com',
      '--', 'sh', 'build.sh',
    ])
    expect(run.code, run.stderr).toBe(0)
    const digest =
      (JSON.parse(run.stdout) as { artifacts: { digest: { sha256: string } }[] }).artifacts[0]
        ?.digest.sha256 ?? ''
    releases.push({ artifact: path.join(source, 'out', 'app.txt'), bundle, digest })
  }
  const made: Made = {
    dir,
    pub: path.join(dir, 'k.pub'),
    otherPub: path.join(dir, 'other.pub'),
    releases,
  }
  if (cache === undefined) return made
  // Kept by moving the whole kit into place at once: test files building it side by side
  // race, and the first to arrive wins; the others use its kit and drop their own.
  const relative = (p: string): string => path.relative(dir, p)
  fs.writeFileSync(
    path.join(dir, 'kit.json'),
    JSON.stringify({
      dir: '.',
      pub: relative(made.pub),
      otherPub: relative(made.otherPub),
      releases: releases.map((r) => ({
        ...r,
        artifact: relative(r.artifact),
        bundle: relative(r.bundle),
      })),
    }),
  )
  try {
    fs.renameSync(dir, cache)
  } catch {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const kept = readKit(cache)
  if (kept === undefined) throw new Error(`${cache}: no kit after building one`)
  return kept
}

export function release(i: number) {
  const r = kit.releases[i]
  if (r === undefined) throw new Error('no such release')
  return r
}

/** Runs `reproof gate ... --json` in-process, with checkpoints kept in the kit's state. */
export async function gate(ledger: string, args: string[]) {
  const run = await runCli(['gate', ...args, '--ledger', ledger, '--json'], {
    XDG_STATE_HOME: kit.state,
  })
  return {
    ...run,
    result:
      run.stdout === ''
        ? undefined
        : (JSON.parse(run.stdout) as {
            decision?: string
            why?: string
            record?: { seq: number } | null
            verification?: object | null
          }),
  }
}

/** A gate with a state directory of its own: nothing verified of any ledger yet. */
export function freshGate(state = makeTemp()) {
  return async (ledger: string, args: string[], env: Record<string, string> = {}) => {
    const run = await runCli(
      ['gate', ...args, '--ledger', ledger, '--state-dir', state, '--json'],
      env,
    )
    const result =
      run.stdout === ''
        ? undefined
        : (JSON.parse(run.stdout) as {
            decision?: string
            record?: { seq: number } | null
            error?: { code: string; message: string; path?: string }
          })
    return { ...run, result }
  }
}

/** The arguments of a deploy of release `i` to prod, verified with the kit's key. */
export const deployArgs = (i: number) => [
  'deploy',
  '--env',
  'prod',
  '--bundle',
  release(i).bundle,
  '--key',
  kit.pub,
  release(i).artifact,
]

export const deploy = (ledger: string, i: number, extra: string[] = []) =>
  gate(ledger, [...deployArgs(i), ...extra])

/** The arguments of a rollback of prod to release `i`. */
export const rollbackArgs = (i: number, reason: string, key: string) => [
  'rollback',
  '--env',
  'prod',
  '--to',
  release(i).digest,
  '--reason',
  reason,
  '--key',
  key,
]

export const rollback = (
  ledger: string,
  i: number,
  reason: string,
  key: string,
  extra: string[] = [],
) => gate(ledger, [...rollbackArgs(i, reason, key), ...extra])

/** A bare repository standing in for the shared remote, and the ledger on it. */
export function remote(): { bare: string; ledger: string; read: () => LedgerRecord[] } {
  const bare = path.join(makeTemp(), 'ledger.git')
  git(path.dirname(bare), ['init', '-q', '--bare', bare])
  return {
    bare,
    ledger: `git:${bare}#releases`,
    read: () => {
      const text = git(bare, ['cat-file', 'blob', 'releases:ledger.jsonl'])
      return parseLedger(text, 'ledger.jsonl')
    },
  }
}

export function hook(bare: string, name: string, script: string): void {
  const file = path.join(bare, 'hooks', name)
  fs.writeFileSync(file, `#!/bin/sh\n${script}\n`)
  fs.chmodSync(file, 0o755)
}

/** A working clone of the remote's ledger branch, for edits made by hand. */
export function cloneLedger(bare: string): {
  work: string
  commit: (message: string) => string
  push: (force?: boolean) => void
} {
  const work = makeTemp()
  git(work, ['clone', '-q', '--branch', 'releases', bare, '.'])
  return {
    work,
    commit: (message) => {
      git(work, ['commit', '-qam', message])
      return git(work, ['rev-parse', 'HEAD']).trim()
    },
    push: (force = false) => {
      git(work, ['push', '-q', ...(force ? ['--force'] : []), 'origin', 'HEAD:releases'])
    },
  }
}

/**
 * 8 gate processes at once against one ledger: deploys of the three releases, and
 * rollbacks to the first. Returns each one's decision.
 */
export async function race(ledger: string, envFor: (i: number) => string): Promise<string[]> {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: kit.state }
  delete env.NODE_EXTRA_CA_CERTS
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) => {
      const r = release(i % 3)
      const args =
        i % 4 === 3
          ? [
              'gate',
              'rollback',
              '--env',
              'prod',
              '--to',
              release(0).digest,
              '--reason',
              'race',
              '--bundle',
              release(0).bundle,
            ]
          : ['gate', 'deploy', '--env', envFor(i), '--bundle', r.bundle, r.artifact]
      return spawnCli([...args, '--key', kit.pub, '--ledger', ledger, '--json'], { env })
    }),
  )
  for (const r of results) expect([0, 1], r.stderr).toContain(r.code)
  return results.map((r) => (JSON.parse(r.stdout) as { decision: string }).decision)
}
