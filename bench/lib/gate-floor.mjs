// The floor for `reproof gate deploy`: the verify floor (bare @sigstore/verify and a
// hash), then one durable append of a line: to a file with the file and its directory
// fsynced, or, for a git ledger, a shallow clone, a commit and a push.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const [artifact, bundleFile, , ledger] = process.argv.slice(2)
await import('./verify-floor.mjs')
const line = `${JSON.stringify({ artifact, bundleFile, n: process.pid })}\n`
if (ledger.startsWith('git:')) {
  const [url, branch] = ledger.slice(4).split('#')
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-floor-'))
  const git = (...args) => execFileSync('git', ['-C', work, ...args], { stdio: 'pipe' })
  execFileSync('git', ['clone', '-q', '--depth', '1', '--branch', branch, url, work])
  fs.appendFileSync(path.join(work, 'ledger.jsonl'), line)
  git('add', 'ledger.jsonl')
  git('-c', 'user.name=floor', '-c', 'user.email=floor@example', 'commit', '-q', '-m', 'floor')
  git('push', '-q', 'origin', `HEAD:${branch}`)
  fs.rmSync(work, { recursive: true, force: true })
} else {
  const fd = fs.openSync(ledger, 'a')
  fs.writeSync(fd, line)
  fs.fsyncSync(fd)
  fs.closeSync(fd)
  const dir = fs.openSync(path.dirname(ledger), 'r')
  fs.fsyncSync(dir)
  fs.closeSync(dir)
}
