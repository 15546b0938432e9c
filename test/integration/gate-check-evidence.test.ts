import { spawn, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { GENESIS, recordBytes, type LedgerRecord } from '../../src/gate/decide.js'
import { parseLedger } from '../../src/gate/ledger.js'
import {
  cloneLedger,
  deploy,
  deployArgs,
  gate,
  kit,
  release,
  remote,
  useGateKit,
} from '../gate-kit.js'
import { cleanupTemp, makeTemp, runCli, withOwnTmpdir } from '../helpers.js'

afterEach(cleanupTemp)
useGateKit()

/** The ledger text for these records, every link recomputed: a forger's rewrite. */
function forge(records: readonly Omit<LedgerRecord, 'prev'>[]): string {
  let prev = GENESIS
  let text = ''
  for (const r of records) {
    const line = recordBytes({ ...r, prev })
    prev = crypto.createHash('sha256').update(line).digest('hex')
    text += `${line}\n`
  }
  return text
}

const read = (ledger: string): LedgerRecord[] =>
  parseLedger(fs.readFileSync(ledger, 'utf8'), ledger)

// Each check as on a machine that never saw the ledger before: one that did would refuse
// these rewrites earlier, by its checkpoint (tested below), before weighing any evidence.
const check = (ledger: string, key = kit.pub, extra: string[] = []) =>
  gate(ledger, ['check', '--key', key, '--state-dir', makeTemp(), ...extra])

describe('gate check verifies the evidence of every record, not only the links', () => {
  it('keeps, in each record, the policy and the signer it was verified with', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0, ['--builder-id', 'https://ci.example.com', '--require-reproduced'])
    const [record] = read(ledger)
    expect(record).toMatchObject({
      format: 2,
      policy: { builderId: 'https://ci.example.com', requireReproduced: true },
      signer: { kind: 'key' },
    })
    const run = await check(ledger)
    expect([run.code, JSON.parse(run.stdout)], run.stderr).toEqual([
      0,
      {
        ok: true,
        records: 1,
        bundles: 1,
        reverified: 1,
        legacy: 0,
        recovered: null,
        unanchored: true,
        unchecked: [],
      },
    ])
  })

  it('holds every record to the policy it is given, whatever policy the record says it met', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0, ['--builder-id', 'https://ci.example.com'])
    await deploy(ledger, 1, ['--builder-id', 'https://ci.example.com'])
    // Anyone who can append can write a record's policy: here, none at all.
    const records = read(ledger)
    fs.writeFileSync(ledger, forge(records.map((r, i) => (i === 1 ? { ...r, policy: {} } : r))))
    const state = ['--state-dir', makeTemp()]
    expect((await gate(ledger, ['check', '--key', kit.pub, ...state])).code).toBe(0)
    // What the check asks is asked of every record: the kit's builder is not this one.
    const held = await gate(ledger, [
      'check',
      '--key',
      kit.pub,
      '--builder-id',
      'https://other.example.com',
      ...state,
    ])
    expect(held.code, held.stdout).toBe(3)
    expect(held.stderr).toMatch(/builder-id/)
    const met = await gate(ledger, [
      'check',
      '--key',
      kit.pub,
      '--builder-id',
      'https://ci.example.com',
      ...state,
    ])
    expect(met.code, met.stderr).toBe(0)
    // A predicate type from a record would replace the default one (SLSA provenance),
    // so that an SBOM by the same signer passed: only the caller's counts. Here the
    // record names another type, and its SLSA bundle is still checked as SLSA.
    fs.writeFileSync(
      ledger,
      forge(
        records.map((r, i) =>
          i === 1 ? { ...r, policy: { predicateType: 'https://example.com/sbom' } } : r,
        ),
      ),
    )
    const typed = await gate(ledger, ['check', '--key', kit.pub, '--state-dir', makeTemp()])
    expect(typed.code, typed.stderr).toBe(0)
  })

  it('refuses a recomputed chain whose current record names a digest no kept bundle attests', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    const records = read(ledger)
    // The last record now names release 3, never deployed; the chain is recomputed.
    fs.writeFileSync(
      ledger,
      forge(records.map((r, i) => (i === 1 ? { ...r, digest: release(2).digest } : r))),
    )
    // The chain holds together: a machine without a checkpoint takes the forged release as current.
    const status = await gate(ledger, ['status', '--env', 'prod', '--state-dir', makeTemp()])
    expect(status.stdout).toContain(release(2).digest)
    // The machine that deployed both releases kept the bytes it verified, and stops.
    const here = await gate(ledger, ['status', '--env', 'prod'])
    expect([here.code, here.stderr]).toEqual([
      3,
      expect.stringContaining('bytes are not the ones this machine verified') as unknown,
    ])
    const run = await check(ledger)
    expect(run.code).toBe(3)
    expect(run.result).toEqual({
      error: expect.objectContaining({ code: 'E_LEDGER', exit: 3 }) as unknown,
    })
    expect(run.stderr).toContain(
      `ledger.jsonl:2: prod #2: its kept bundle does not attest its digest ${release(2).digest}`,
    )
  })

  it('replays every decision: a well-chained record no gate writes is found and named', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    const [first, second] = read(ledger)
    if (first === undefined || second === undefined) throw new Error('two records expected')
    const next = { ...first, seq: 3, at: second.at }
    for (const [record, why] of [
      // Release 0 again as a deploy: superseded, it comes back only by a rollback.
      [next, /was released to prod before and superseded/],
      // A rollback with no reason.
      [{ ...next, action: 'rollback' as const }, /a rollback without a reason/],
    ] as const) {
      fs.writeFileSync(ledger, forge([first, second, record]))
      const run = await check(ledger)
      expect(run.code, run.stderr).toBe(3)
      expect(run.stderr).toMatch(/ledger\.jsonl:3: prod #3: a record no gate writes \(/)
      expect(run.stderr).toMatch(why)
    }
  })

  it('names a record dated after this machine’s clock, which no gate could have written yet', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    const [first, second] = read(ledger)
    if (first === undefined || second === undefined) throw new Error('two records expected')
    // A rollback to release 0 with a reason, dated in 2100: every rule holds but time.
    const future = {
      ...first,
      seq: 3,
      action: 'rollback' as const,
      reason: 'x',
      at: '2100-01-01T00:00:00.000Z',
    }
    fs.writeFileSync(ledger, forge([first, second, future]))
    const run = await check(ledger)
    expect(run.code, run.stderr).toBe(3)
    const named =
      /ledger\.jsonl:3: prod #3: a record no gate writes \(its time 2100-01-01T00:00:00\.000Z is more than 5 minutes after this machine's/
    expect(run.stderr).toMatch(named)
    // Every other reader stops on it too: status reported from it (exit 0), and deploys
    // and rollbacks were refused as if this machine's clock were behind (exit 1).
    const state = makeTemp()
    for (const args of [
      ['status', '--env', 'prod'],
      ['history', '--env', 'prod'],
      deployArgs(2),
      ['rollback', '--env', 'prod', '--to', first.digest, '--reason', 'incident', '--key', kit.pub],
    ]) {
      const before = fs.readFileSync(ledger)
      const stopped = await gate(ledger, [...args, '--state-dir', state])
      expect(stopped.code, `${args[0] ?? ''}: ${stopped.stderr}`).toBe(3)
      expect(stopped.stderr).toMatch(named)
      expect(fs.readFileSync(ledger)).toEqual(before)
    }
  })

  it('stops status and deploy, not only check, on a well-chained record no gate writes', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    const state = makeTemp()
    const at = (args: string[]) => gate(ledger, [...args, '--state-dir', state])
    expect((await at(deployArgs(0))).code).toBe(0)
    expect((await at(deployArgs(1))).code).toBe(0)
    const [first, second] = read(ledger)
    if (first === undefined || second === undefined) throw new Error('two records expected')
    // Appended by hand after the checkpoint: a record of the first form, no policy or
    // signer kept, of a digest never attested.
    const forged: Omit<LedgerRecord, 'prev'> = { ...second, seq: 3, digest: 'e'.repeat(64) }
    delete forged.format
    delete forged.policy
    delete forged.signer
    fs.writeFileSync(ledger, forge([first, second, forged]))
    for (const args of [['status', '--env', 'prod'], deployArgs(2)]) {
      const run = await at(args)
      expect(run.code, args.join(' ')).toBe(3)
      expect(run.stderr).toMatch(
        /ledger\.jsonl:3: prod #3: a record no gate writes \(one of the first form/,
      )
      expect(run.stdout).not.toContain('e'.repeat(12))
    }
  })

  it('refuses a record whose time is not one a gate writes, whatever its policy', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    const [record] = read(ledger)
    if (record === undefined) throw new Error('no record')
    // A record is verified again as of its own time: without one, a maximum age meant
    // nothing, and without a maximum age the forged time passed.
    for (const at of ['not a time', '2026-02-30T00:00:00Z', '2026-01-01T00:00:00+01:00']) {
      for (const policy of [{ ...record.policy, maxAgeMs: 1000 }, record.policy]) {
        fs.writeFileSync(ledger, forge([{ ...record, at, policy }]))
        const run = await check(ledger)
        expect(run.code, at).toBe(3)
        expect(run.stderr).toContain(`its time ${JSON.stringify(at)} is not one a gate writes`)
      }
    }
    // The milliseconds may be left out.
    fs.writeFileSync(ledger, forge([{ ...record, at: record.at.replace(/\.\d{3}Z$/, 'Z') }]))
    expect((await check(ledger)).code).toBe(0)
  })

  it('refuses a record whose kept policy its bundle does not meet, or whose signer is not the bundle signer', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0, ['--builder-id', 'https://ci.example.com'])
    const [record] = read(ledger)
    if (record === undefined) throw new Error('no record')
    fs.writeFileSync(
      ledger,
      forge([{ ...record, policy: { builderId: 'https://ci.example.com/other' } }]),
    )
    const policy = await check(ledger)
    expect(policy.code).toBe(3)
    expect(policy.stderr).toContain(
      'ledger.jsonl:1: prod #1: its kept bundle does not verify now with the policy the record kept (builder-id: builder id)',
    )
    // The check's own --builder-id, which the bundle meets, adds to the record's policy;
    // it does not replace it.
    const given = await check(ledger, kit.pub, ['--builder-id', 'https://ci.example.com'])
    expect(given.code, given.stdout).toBe(3)
    expect(given.stderr).toContain('the policy the record kept (builder-id: builder id)')
    fs.writeFileSync(ledger, forge([{ ...record, signer: { kind: 'key', hint: 'f'.repeat(64) } }]))
    const signer = await check(ledger)
    expect(signer.code).toBe(3)
    expect(signer.stderr).toMatch(
      /its kept bundle was signed by key [0-9a-f]{16}, not by key f{16}/,
    )
  })

  it('names the policy a kept bundle fails: the one given, where the record kept none', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    const given = await check(ledger, kit.pub, ['--builder-id', 'https://elsewhere.example'])
    expect(given.code, given.stdout).toBe(3)
    expect(given.stderr).toContain('does not verify now with the policy given (builder-id')
  })

  it('refuses a kept bundle that is the bytes its name says but not a bundle', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    const [record] = read(ledger)
    if (record === undefined) throw new Error('no record')
    // Whoever can write the store and the ledger can make the two agree on anything:
    // keep these bytes under their own digest, and name them in the record.
    const keepAndName = (bytes: string): void => {
      const digest = crypto.createHash('sha256').update(bytes).digest('hex')
      fs.writeFileSync(path.join(path.dirname(ledger), 'bundles', `${digest}.sigstore.json`), bytes)
      fs.writeFileSync(ledger, forge([{ ...record, bundleDigest: digest }]))
    }
    keepAndName('not a bundle\n')
    const run = await check(ledger)
    expect([run.code, run.result]).toEqual([
      3,
      { error: expect.objectContaining({ code: 'E_LEDGER', path: ledger }) as unknown },
    ])
    expect(run.stderr).toMatch(/^reproof: .*ledger\.jsonl:1: its kept bundle: /m)
    // JSON, but not a Sigstore bundle: refused by the verification.
    keepAndName('{"mediaType":"application/json"}\n')
    const other = await check(ledger)
    expect(other.code).toBe(3)
    expect(other.stderr).toContain('prod #1: its kept bundle does not verify now')
  })

  it('refuses when a kept bundle no longer verifies under the trust given (a revoked key)', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    const run = await check(ledger, kit.otherPub)
    expect(run.code).toBe(3)
    expect(run.stderr).toContain(
      'does not verify now with the trust given (no policy asked more) (untrusted-key',
    )
  })

  it('verifies records written before policies were kept with no policy, and says so', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    const legacy = read(ledger).map(
      ({ prev: _p, format: _f, policy: _policy, signer: _s, ...r }) => r,
    )
    fs.writeFileSync(ledger, forge(legacy))
    const run = await check(ledger)
    expect([run.code, JSON.parse(run.stdout)], run.stderr).toEqual([
      0,
      {
        ok: true,
        records: 1,
        bundles: 1,
        reverified: 0,
        legacy: 1,
        recovered: null,
        unanchored: true,
        unchecked: [],
      },
    ])
    // Still checked for what it names: another digest is refused.
    fs.writeFileSync(ledger, forge(legacy.map((r) => ({ ...r, digest: release(1).digest }))))
    expect((await check(ledger)).stderr).toContain('does not attest its digest')
    // A record that says format 2 must carry both.
    fs.writeFileSync(ledger, forge(legacy.map((r) => ({ ...r, format: 2 as const }))))
    expect((await check(ledger)).stderr).toContain(
      'format 2 records, and only they, carry both policy and signer',
    )
  })

  it('on a machine that verified the ledger, refuses it rewritten or cut back, valid chain or not', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    const state = makeTemp()
    const here = (...args: string[]) => gate(ledger, [...args, '--state-dir', state])
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    expect((await here('check', '--key', kit.pub)).code).toBe(0)
    const text = fs.readFileSync(ledger, 'utf8')
    // Cut back to the first record: a valid chain, and the last release is gone.
    fs.writeFileSync(ledger, text.slice(0, text.indexOf('\n') + 1))
    const cut = await here('check', '--key', kit.pub)
    expect(cut.code).toBe(3)
    expect(cut.stderr).toMatch(/are not the ones this machine verified .*cut or rewritten/)
    // Nor does it show the cut ledger's current release as current.
    expect((await here('status', '--env', 'prod')).code).toBe(3)
    // The same bytes back: accepted again; an appended record is checked as usual.
    fs.writeFileSync(ledger, text)
    expect((await here('check', '--key', kit.pub)).code).toBe(0)
  })

  it('on a machine that verified the ledger, refuses a link on its path re-pointed at another ledger', async () => {
    const dir = makeTemp()
    const state = makeTemp()
    // A release directory behind a link, as `current -> v1` deployments are laid out.
    fs.mkdirSync(path.join(dir, 'v1'))
    fs.symlinkSync('v1', path.join(dir, 'current'))
    const ledger = path.join(dir, 'current', 'ledger.jsonl')
    const here = (at: string, args: string[]) => gate(at, [...args, '--state-dir', state])
    expect((await here(ledger, deployArgs(0))).code).toBe(0)
    expect((await here(ledger, deployArgs(1))).code).toBe(0)
    const text = fs.readFileSync(ledger, 'utf8')
    // Re-pointed at a copy cut back to its first record: release 0 is current there.
    fs.mkdirSync(path.join(dir, 'v2'))
    fs.writeFileSync(path.join(dir, 'v2', 'ledger.jsonl'), text.slice(0, text.indexOf('\n') + 1))
    fs.rmSync(path.join(dir, 'current'))
    fs.symlinkSync('v2', path.join(dir, 'current'))
    const swapped = await here(ledger, deployArgs(0))
    expect(swapped.code, swapped.stdout).toBe(3)
    expect(swapped.stderr).toMatch(/not the checkpoint of .* the path now leads to/)
    // The file itself made a link to a fresh, empty ledger.
    const other = path.join(makeTemp(), 'ledger.jsonl')
    expect((await here(other, deployArgs(0))).code).toBe(0)
    expect((await here(other, deployArgs(1))).code).toBe(0)
    fs.renameSync(other, `${other}.orig`)
    fs.writeFileSync(`${other}.new`, '')
    fs.symlinkSync(path.basename(`${other}.new`), other)
    const fresh = await here(other, deployArgs(0))
    expect(fresh.code, fresh.stdout).toBe(3)
    expect(fresh.stderr).toMatch(/not the checkpoint of .* the path now leads to/)
  })

  it('locks the ledger file itself, which every path to it shares (a bind mount has its own .lock)', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    // Another holder of the file's own lock, as a gate through another mount would be.
    // One process holds it (exec: killing it lets go), not flock(1) and a child.
    const holder = spawn('sh', ['-c', 'exec 9<"$0"; flock -x 9; exec sleep 30', ledger], {
      stdio: 'ignore',
    })
    try {
      for (let i = 0; i < 100 && spawnSync('flock', ['-n', ledger, 'true']).status === 0; i++)
        await new Promise((r) => setTimeout(r, 50))
      const waited = await gate(ledger, [...deployArgs(1), '--lock-timeout', '1s'])
      expect(waited.code, waited.stdout).toBe(4)
      expect(waited.stderr).toMatch(/stayed locked by another gate/)
    } finally {
      holder.kill()
    }
    expect((await deploy(ledger, 1)).code).toBe(0)
  })

  it('needs the trust the gates use', async () => {
    const ledger = path.join(makeTemp(), 'ledger.jsonl')
    await deploy(ledger, 0)
    const run = await runCli(['gate', 'check', '--ledger', ledger])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('gate check verifies every kept bundle again')
  })

  it('on a git ledger, keeps every bundle in the tree: a check after several releases finds them all', async () => {
    const { ledger } = remote()
    await deploy(ledger, 0)
    await deploy(ledger, 1)
    await deploy(ledger, 2)
    const run = await check(ledger)
    expect([run.code, JSON.parse(run.stdout)], run.stderr).toEqual([
      0,
      {
        ok: true,
        records: 3,
        bundles: 3,
        reverified: 3,
        legacy: 0,
        recovered: null,
        unanchored: true,
        unchecked: [],
      },
    ])
  })

  it('on a git ledger, removes its temporary clone whatever the answer', async () => {
    const { bare, ledger } = remote()
    await deploy(ledger, 0)
    const own = await withOwnTmpdir(async () => {
      expect((await check(ledger)).code).toBe(0)
      expect((await check(ledger, kit.otherPub)).code).toBe(3)
    })
    expect(fs.readdirSync(own).filter((n) => n.startsWith('reproof-ledger-'))).toEqual([])
    expect(fs.existsSync(bare)).toBe(true)
  })

  it('on a git ledger, refuses an appended record that names a digest its bundle does not attest', async () => {
    const { bare, ledger } = remote()
    await deploy(ledger, 0)
    // Someone with push access appends a well-formed, well-linked record for release 3,
    // naming the bundle kept for release 1: the history only appends.
    const clone = cloneLedger(bare)
    const file = path.join(clone.work, 'ledger.jsonl')
    const records = parseLedger(fs.readFileSync(file, 'utf8'), file)
    const first = records[0]
    if (first === undefined) throw new Error('no record')
    fs.writeFileSync(file, forge([...records, { ...first, seq: 2, digest: release(2).digest }]))
    clone.commit('append a release')
    clone.push()
    const run = await check(ledger)
    expect(run.code).toBe(3)
    expect(run.stderr).toContain(
      `ledger.jsonl:2: prod #2: its kept bundle does not attest its digest ${release(2).digest}`,
    )
  })
})
