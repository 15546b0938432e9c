// `reproof gate deploy` against its floor: the verify floor (bare @sigstore/verify and a
// hash, bench/lib/verify-floor.mjs) followed by one durable append, to a file (fsync of
// the file and its directory) or to a git branch (clone, commit, push). `reproof verify`
// of the same artifact runs in the same rounds, so the ledger's own cost shows too.
// Cases: a new file ledger, a file ledger holding 10,000 earlier records (the gate reads
// and checks the whole chain before deciding), and a git ledger on a local bare remote.
// Every round deploys a new digest: one build signs a bundle naming all of them.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { compare, fmt, REPO, sh, signedBuild, timed } from './lib/common.mjs'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15)
const HISTORY = 10_000
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-gate-'))
const reproof = path.join(REPO, 'bin/reproof.js')
const floor = path.join(REPO, 'bench/lib/gate-floor.mjs')
const { GENESIS, recordHash, recordBytes } = await import(path.join(REPO, 'dist/gate/decide.js'))

const CASES = ['new file ledger', `file ledger of ${HISTORY} records`, 'git ledger, local remote']
const count = CASES.length * ROUNDS

// `count` artifacts of 10 MB, each with its own first line, signed in one bundle.
const { out, bundle, pub } = signedBuild(
  dir,
  `for i in $(seq 0 ${count}); do { echo "$i"; head -c 10485760 /dev/zero; } > art-$i.bin; done\n`,
  'art-*.bin',
)
let next = 0
const artifact = () => path.join(out, `art-${++next}.bin`)
// The floor and verify have no ledger rule against repeats, so they take one artifact.
const first = path.join(out, 'art-0.bin')

/** A valid chain of `n` deploys spread over 50 other environments. */
function history(n) {
  const seq = new Map()
  let prev = GENESIS
  const lines = []
  for (let i = 0; i < n; i++) {
    const env = `staging-${i % 50}`
    const record = {
      seq: (seq.get(env) ?? 0) + 1,
      env,
      action: 'deploy',
      digest: recordHash({ i, kind: 'digest' }),
      bundleDigest: recordHash({ i, kind: 'bundle' }),
      prev,
      at: '2026-01-01T00:00:00.000Z',
      actor: 'bench',
    }
    seq.set(env, record.seq)
    lines.push(recordBytes(record))
    prev = recordHash(record)
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}

function ledgers(caseIndex) {
  const base = path.join(dir, `case-${caseIndex}`)
  fs.mkdirSync(path.join(base, 'gate'), { recursive: true })
  fs.mkdirSync(path.join(base, 'floor'), { recursive: true })
  if (caseIndex < 2) {
    const text = history(caseIndex === 0 ? 0 : HISTORY)
    for (const who of ['gate', 'floor'])
      fs.writeFileSync(path.join(base, who, 'ledger.jsonl'), text)
    return {
      gate: path.join(base, 'gate', 'ledger.jsonl'),
      floor: path.join(base, 'floor', 'ledger.jsonl'),
    }
  }
  const remotes = {}
  for (const who of ['gate', 'floor']) {
    const url = path.join(base, `${who}.git`)
    const seed = path.join(base, `${who}-seed`)
    sh(
      `git init -q --bare ${url} && git init -q -b reproof-ledger ${seed} && touch ${seed}/ledger.jsonl`,
    )
    if (who === 'floor') {
      sh(
        `cd ${seed} && git add ledger.jsonl && git -c user.name=b -c user.email=b@e commit -q -m seed && git push -q ${url} reproof-ledger`,
      )
    }
    remotes[who] = url
  }
  return {
    gate: `git:${remotes.gate}#reproof-ledger`,
    floor: `git:${remotes.floor}#reproof-ledger`,
  }
}

console.log(
  `# reproof gate deploy against the floor (median of ${ROUNDS}, 10 MB artifacts, NODE_EXTRA_CA_CERTS unset)`,
)
for (const [i, name] of CASES.entries()) {
  const ledger = ledgers(i)
  const result = compare(ROUNDS, undefined, {
    floor: () => timed(['node', floor, first, bundle, pub, ledger.floor]).ms,
    verify: () => timed(['node', reproof, 'verify', first, '--bundle', bundle, '--key', pub]).ms,
    gate: () =>
      timed([
        'node',
        reproof,
        'gate',
        'deploy',
        '--env',
        'prod',
        '--ledger',
        ledger.gate,
        '--bundle',
        bundle,
        '--key',
        pub,
        artifact(),
      ]).ms,
  })
  console.log(
    `${name}: floor ${fmt(result.floor)}, reproof verify ${fmt(result.verify)}, reproof gate deploy ${fmt(result.gate)}: ${(result.gate / result.floor).toFixed(2)}x the floor`,
  )
}
sh(`rm -rf ${dir}`)
