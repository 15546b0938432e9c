import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import {
  decideGate,
  GENESIS,
  recordBytes,
  recordHash,
  toState,
  type LedgerRecord,
} from '../../../src/gate/decide.js'
import {
  FileLedger,
  keptBundleName,
  MAX_LEDGER_BYTES,
  type Durability,
} from '../../../src/gate/ledger.js'
import { MAX_BUNDLE_BYTES } from '../../../src/verify/run-verify.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

const sha256 = (bytes: string | Buffer): string =>
  crypto.createHash('sha256').update(bytes).digest('hex')

/** A chain of releases over two environments (or those given, in turn), as a gate writes them. */
function chain(count: number, from: LedgerRecord[] = [], envs?: readonly string[]): LedgerRecord[] {
  const records = [...from]
  for (let i = 0; i < count; i++) {
    const env =
      envs === undefined
        ? records.length % 3 === 2
          ? 'staging'
          : 'prod'
        : (envs[records.length % envs.length] ?? 'prod')
    const last = records.at(-1)
    records.push({
      seq: records.filter((r) => r.env === env).length + 1,
      env,
      action: 'deploy',
      digest: sha256(String(records.length)),
      bundleDigest: 'f'.repeat(64),
      prev: last === undefined ? GENESIS : recordHash(last),
      at: '2026-01-01T00:00:00.000Z',
      actor: 'ci',
    })
  }
  return records
}
function nth(records: readonly LedgerRecord[], i: number): LedgerRecord {
  const record = records[i]
  if (record === undefined) throw new Error(`no record ${i}`)
  return record
}

/** What `work` throws; a test fails on `throw undefined` too, which toThrow lets pass. */
function thrown(work: () => unknown): unknown {
  try {
    work()
  } catch (err) {
    return err
  }
  throw new Error('nothing was thrown')
}

/** The same records, each `prev` the hash of the record before as it now is. */
function relink(records: readonly LedgerRecord[]): LedgerRecord[] {
  const out: LedgerRecord[] = []
  for (const r of records) {
    const last = out.at(-1)
    out.push({ ...r, prev: last === undefined ? GENESIS : recordHash(last) })
  }
  return out
}
const lines = (records: readonly LedgerRecord[]): string =>
  records.map((r) => `${recordBytes(r)}\n`).join('')

/** The checkpoint of a ledger holding `records`, worked out here from the records alone. */
function checkpointOf(file: string, records: readonly LedgerRecord[]): object {
  const envs: Record<
    string,
    {
      seq: number
      current: string
      released: string
      version?: number
      rollbacks?: string
      versions?: Record<string, number>
    }
  > = {}
  for (const r of records) {
    const env = (Object.hasOwn(envs, r.env) ? envs[r.env] : undefined) ?? {
      seq: 0,
      current: '',
      released: '',
    }
    env.seq = r.seq
    env.current = r.digest
    // Each digest once, in the order it was first released.
    if (!(env.released.match(/.{64}/g) ?? ([] as string[])).includes(r.digest))
      env.released += r.digest
    if (r.version !== undefined) {
      env.version = Math.max(env.version ?? 0, r.version)
      env.versions = { ...env.versions, [r.digest]: r.version }
    }
    // Every rollback, by its digest and reason, each once, so that a retry repeats none.
    const key = sha256(`${r.digest}\0${r.reason ?? ''}`)
    if (
      r.action === 'rollback' &&
      !(env.rollbacks?.match(/.{64}/g) ?? ([] as string[])).includes(key)
    )
      env.rollbacks = (env.rollbacks ?? '') + key
    envs[r.env] = env
  }
  const last = records.at(-1)
  const latestAt = records
    .map((r) => r.at)
    .reduce<string | undefined>(
      (x, y) => (x === undefined || Date.parse(y) > Date.parse(x) ? y : x),
      undefined,
    )
  return {
    form: 5,
    ...(latestAt === undefined ? {} : { latestAt }),
    ledger: path.resolve(file),
    bytes: Buffer.byteLength(lines(records)),
    sha256: sha256(lines(records)),
    records: records.length,
    head: last === undefined ? GENESIS : recordHash(last),
    envs,
  }
}
const checkpointIn = (ledger: FileLedger): unknown =>
  JSON.parse(fs.readFileSync(ledger.checkpointFile ?? '', 'utf8'))

/** A ledger file and a state directory for its checkpoint; fsyncs counted. */
function setUp(records: readonly LedgerRecord[] = []) {
  const dir = makeTemp()
  const file = path.join(dir, 'ledgers', 'ledger.jsonl')
  const state = path.join(dir, 'state')
  fs.mkdirSync(path.dirname(file), { recursive: true })
  if (records.length > 0) fs.writeFileSync(file, lines(records))
  const synced: string[] = []
  const durability: Durability = {
    fsync: (fd) => {
      synced.push(`fd:${fs.fstatSync(fd).size}`)
      fs.fsyncSync(fd)
    },
    syncDir: (d) => {
      synced.push(`dir:${d}`)
      return Promise.resolve()
    },
  }
  const open = (): FileLedger => new FileLedger(file, durability, state)
  return { dir, file, state, synced, open }
}

describe('a file ledger checkpoint', () => {
  it('is kept per ledger under the state directory, and only with one', () => {
    const { file, state, open } = setUp(chain(2))
    const key = sha256(path.resolve(file)).slice(0, 32)
    expect(open().checkpointFile).toBe(path.join(state, 'file-ledgers', `${key}.json`))
    const none = new FileLedger(file)
    expect(none.checkpointFile).toBeUndefined()
    expect(none.read().records).toHaveLength(2)
    expect(fs.existsSync(state)).toBe(false)
    expect(none.label).toBe(file)
    expect(none.recordsLabel).toBe(file)
  })

  it("records the bytes read, their hash, the chain head and each environment's releases", () => {
    const records = chain(5)
    const { file, open } = setUp(records)
    const ledger = open()
    expect(ledger.read().records).toEqual(records)
    expect(checkpointIn(ledger)).toEqual({
      form: 5,
      ledger: path.resolve(file),
      bytes: Buffer.byteLength(lines(records)),
      sha256: sha256(lines(records)),
      records: 5,
      head: recordHash(nth(records, 4)),
      latestAt: '2026-01-01T00:00:00.000Z',
      envs: {
        prod: {
          seq: 4,
          current: nth(records, 4).digest,
          released: [0, 1, 3, 4].map((i) => nth(records, i).digest).join(''),
        },
        staging: { seq: 1, current: nth(records, 2).digest, released: nth(records, 2).digest },
      },
    })
  })

  it('continues from the verified bytes, and its hash over the whole ledger, as the ledger grows', () => {
    const first = chain(3)
    const { file, open } = setUp(first)
    open().read()
    const grown = chain(4, first)
    fs.appendFileSync(file, lines(grown.slice(3)))
    const ledger = open()
    expect(ledger.read().records).toEqual(grown)
    const again = chain(2, grown)
    fs.appendFileSync(file, lines(again.slice(7)))
    expect(open().read().records).toEqual(again)
    expect(checkpointIn(ledger)).toEqual(checkpointOf(file, again))
  })

  it('numbers the lines after it as lines of the whole ledger, and checks their chain', () => {
    const first = chain(3)
    const { file, open } = setUp(first)
    open().read()
    const next = chain(2, first)
    const bad = { ...nth(next, 4), seq: 9 }
    fs.appendFileSync(file, lines([nth(next, 3), bad]))
    expect(() => open().read()).toThrow(new RegExp(`^${file}:5: sequence 9 in prod, expected 4`))
    fs.writeFileSync(file, lines([...first, nth(next, 4)]))
    expect(() => open().read()).toThrow(new RegExp(`^${file}:4: its prev`))
  })

  it('stops the gate when the verified bytes were rewritten or cut', () => {
    const records = chain(3)
    const { file, open } = setUp(records)
    const ledger = open()
    ledger.read()
    const size = Buffer.byteLength(lines(records))
    // Named with the checkpoints of the file itself (by device and inode) and of its name
    // in its directory: remove them all to accept it.
    const stop = new RegExp(
      `^${escapeRegExp(`${file}: its first ${size} bytes are not the ones this machine verified (checkpoint ${ledger.checkpointFile ?? ''}, `)}[^ ]+\\.json, [^ ]+\\.json\\): the ledger was cut or rewritten`,
    )
    // A valid chain of the same length, other records: only the checkpoint tells.
    const other = relink(records.map((r) => ({ ...r, actor: 'CI' })))
    fs.writeFileSync(file, lines(other))
    expect(new FileLedger(file).read().records).toEqual(other)
    expect(thrown(() => open().read())).toMatchObject({
      code: 'E_LEDGER',
      message: expect.stringMatching(stop) as unknown,
      context: { path: file },
    })
    fs.writeFileSync(file, lines(records.slice(0, 2)))
    expect(() => open().read()).toThrow(
      `${file}: its first ${size} bytes are not the ones this machine verified`,
    )
    // The lookup a rollback makes before the lock stops too, rather than answer from it.
    expect(() => open().peek()).toThrow(
      `${file}: its first ${size} bytes are not the ones this machine verified`,
    )
    fs.writeFileSync(file, lines(other))
    expect(() => open().peek()).toThrow(/not the ones this machine verified/)
    fs.writeFileSync(file, '')
    expect(() => open().read()).toThrow(/not the ones this machine verified/)
  })

  it('stops the gate on a ledger cut back under one path when it is reached by another', () => {
    // Verified through its own path; cut back; then named through a link to its directory.
    const records = chain(3)
    const { dir, file, state, open } = setUp(records)
    open().read()
    const link = path.join(dir, 'other-way')
    fs.symlinkSync(path.dirname(file), link)
    const through = path.join(link, path.basename(file))
    fs.writeFileSync(file, lines(records.slice(0, 1)))
    const size = Buffer.byteLength(lines(records))
    expect(() => new FileLedger(through, undefined, state).read()).toThrow(
      `${through}: its first ${size} bytes are not the ones this machine verified`,
    )
    expect(() => new FileLedger(through, undefined, state).peek()).toThrow(
      /not the ones this machine verified/,
    )
    // And the other way about: verified through the link first, cut under the file's path.
    fs.writeFileSync(file, lines(records))
    const { file: second, state: state2, dir: dir2 } = setUp(records)
    const link2 = path.join(dir2, 'via')
    fs.symlinkSync(path.dirname(second), link2)
    new FileLedger(path.join(link2, path.basename(second)), undefined, state2).read()
    fs.writeFileSync(second, lines(records.slice(0, 2)))
    expect(() => new FileLedger(second, undefined, state2).read()).toThrow(
      /not the ones this machine verified/,
    )
    // Every checkpoint must hold, not only the longest: one of a path kept from before
    // (a gate that kept none of the file itself) still stops a rewritten history.
    const { dir: dir3, file: third, state: state3 } = setUp(records)
    const link3 = path.join(dir3, 'old-way')
    fs.symlinkSync(path.dirname(third), link3)
    const old = new FileLedger(path.join(link3, path.basename(third)), undefined, state3)
    old.read()
    // Removed, all but the link's: the one of the file's path and the file's own.
    const kept = old.checkpointFile ?? ''
    for (const name of fs.readdirSync(path.dirname(kept)))
      if (path.join(path.dirname(kept), name) !== kept)
        fs.rmSync(path.join(path.dirname(kept), name))
    const other = relink(chain(5).map((r) => ({ ...r, actor: 'CI' })))
    fs.writeFileSync(third, lines(other))
    expect(new FileLedger(third, undefined, state3).read().records).toEqual(other)
    expect(() =>
      new FileLedger(path.join(link3, path.basename(third)), undefined, state3).read(),
    ).toThrow(/not the ones this machine verified/)
  })

  it('stops the gate when it is not a checkpoint, or not of this ledger', () => {
    const { file, open } = setUp(chain(2))
    const ledger = open()
    const checkpointFile = ledger.checkpointFile ?? ''
    ledger.read()
    const good = JSON.parse(fs.readFileSync(checkpointFile, 'utf8')) as Record<string, unknown>
    const envOf = (env: string): object => (good.envs as Record<string, object>)[env] ?? {}
    for (const text of [
      'not json',
      JSON.stringify({ ...good, ledger: `${path.resolve(file)}.other` }),
      JSON.stringify({ ...good, bytes: -1 }),
      JSON.stringify({ ...good, sha256: 'x' }),
      JSON.stringify({ ...good, sha256: `${String(good.sha256)}0` }),
      JSON.stringify({ ...good, sha256: `0${String(good.sha256)}` }),
      JSON.stringify({ ...good, head: 'A'.repeat(64) }),
      JSON.stringify({ ...good, head: `${String(good.head)}0` }),
      JSON.stringify({ ...good, head: `0${String(good.head)}` }),
      JSON.stringify({ ...good, records: -1 }),
      JSON.stringify({ ...good, envs: { prod: { ...envOf('prod'), seq: 0 } } }),
      JSON.stringify({ ...good, envs: { 'a/b': envOf('prod') } }),
      JSON.stringify({ ...good, envs: { prod: { ...envOf('prod'), current: 'x' } } }),
      JSON.stringify({ ...good, envs: { prod: { ...envOf('prod'), released: '' } } }),
      JSON.stringify({
        ...good,
        envs: { prod: { ...envOf('prod'), released: `${'a'.repeat(64)}0` } },
      }),
      JSON.stringify({ ...good, envs: { prod: { ...envOf('prod'), version: -1 } } }),
      JSON.stringify({ ...good, envs: { prod: { ...envOf('prod'), extra: 1 } } }),
      JSON.stringify({ ...good, extra: 1 }),
      // The first form, with a field of the second.
      JSON.stringify({
        ledger: good.ledger,
        bytes: good.bytes,
        sha256: good.sha256,
        head: good.head,
        seqs: {},
        records: 0,
      }),
    ]) {
      fs.writeFileSync(checkpointFile, text)
      expect(
        thrown(() => open().read()),
        text,
      ).toMatchObject({
        code: 'E_LEDGER',
        // Of another file: which one, and where the path leads now, said as well.
        message: expect.stringMatching(
          new RegExp(
            `^${`${checkpointFile}: not the checkpoint of ${file}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[;:] .*the gate stops until a person has looked$`,
          ),
        ) as unknown,
        context: { path: checkpointFile },
      })
    }
    fs.rmSync(checkpointFile)
    fs.mkdirSync(checkpointFile)
    expect(() => open().read()).toThrow(/EISDIR/)
  })

  it('gives the same state and records as reading the whole chain, wherever it was taken', () => {
    const draft = fc.record({
      env: fc.constantFrom('prod', 'staging', 'eu-1'),
      digest: fc.constantFrom('a', 'b', 'c', 'd').map((c) => c.repeat(64)),
      action: fc.constantFrom('deploy' as const, 'rollback' as const),
      version: fc.option(fc.nat(20), { nil: undefined }),
    })
    fc.assert(
      fc.property(fc.array(draft, { maxLength: 14 }), fc.nat(), fc.nat(), (drafts, a, b) => {
        // A ledger gates could have written: each draft decided on what came before it.
        let records: LedgerRecord[] = []
        for (const d of drafts) {
          const base = {
            env: d.env,
            digest: d.digest,
            bundleDigest: 'f'.repeat(64),
            at: '2026-01-01T00:00:00.000Z',
            actor: 'ci',
          }
          const decision = decideGate(
            toState(records),
            d.action === 'deploy'
              ? {
                  kind: 'deploy',
                  ...base,
                  ...(d.version === undefined ? {} : { version: d.version }),
                }
              : { kind: 'rollback', ...base, reason: 'r' },
            true,
          )
          if (decision.kind === 'append') records = [...records, decision.record]
        }
        // Checkpoints after the first `first` records, then after `second`, then all.
        const first = a % (records.length + 1)
        const second = first + (b % (records.length - first + 1))
        const { file, open } = setUp(records.slice(0, first))
        if (first === 0) fs.writeFileSync(file, '')
        for (const upTo of [first, second, records.length]) {
          fs.writeFileSync(file, lines(records.slice(0, upTo)))
          const ledger = open()
          const read = ledger.read()
          expect(read.state).toEqual(toState(records.slice(0, upTo)))
          expect(read.records).toEqual(records.slice(0, upTo))
          expect(checkpointIn(ledger)).toEqual(checkpointOf(file, records.slice(0, upTo)))
        }
        cleanupTemp()
      }),
      { numRuns: 60 },
    )
  })

  it('covers the record a gate appended, so the next gate checks nothing again', async () => {
    const records = chain(4)
    const { file, open } = setUp(records)
    const next = nth(chain(1, records), 4)
    const ledger = open()
    const seen = await ledger.transact(
      (read) => ({
        append: { record: next, bundle: Buffer.from('b'), bundleDigest: 'e'.repeat(64) },
        result: read.state.head,
      }),
      1000,
    )
    expect(seen).toBe(recordHash(nth(records, 3)))
    expect(checkpointIn(ledger)).toEqual(checkpointOf(file, [...records, next]))
    expect(open().read().state).toEqual(toState([...records, next]))
    // The appended line is verified bytes now: changing it is a rewrite.
    fs.writeFileSync(file, lines([...records, { ...next, actor: 'someone else' }]))
    expect(() => open().read()).toThrow(/not the ones this machine verified/)
  })

  it('keeps environments whose names are properties of every object (prototype, constructor)', () => {
    const names = ['prototype', 'constructor', 'toString', 'hasOwnProperty', 'prod']
    const first = chain(10, [], names)
    const { file, open } = setUp(first)
    expect(open().read().state).toEqual(toState(first))
    expect(checkpointIn(open())).toEqual(checkpointOf(file, first))
    // Read again from the checkpoint: every environment is where it was.
    const grown = chain(5, first, names)
    fs.appendFileSync(file, lines(grown.slice(10)))
    const state = open().read().state
    expect(state).toEqual(toState(grown))
    expect(state.envs.get('prototype')?.seq).toBe(3)
    expect(state.envs.get('constructor')?.seq).toBe(3)
  })

  it('of the first form is checked, then replaced after the whole chain was read again', () => {
    const records = chain(3)
    const { file, open } = setUp(records)
    const ledger = open()
    const text = lines(records)
    const firstForm = {
      ledger: path.resolve(file),
      bytes: Buffer.byteLength(text),
      sha256: sha256(text),
      head: recordHash(nth(records, 2)),
      seqs: { prod: 2, staging: 1 },
    }
    fs.mkdirSync(path.dirname(ledger.checkpointFile ?? ''), { recursive: true })
    fs.writeFileSync(ledger.checkpointFile ?? '', JSON.stringify(firstForm))
    const grown = chain(1, records)
    fs.appendFileSync(file, lines(grown.slice(3)))
    expect(ledger.read().state).toEqual(toState(grown))
    expect(checkpointIn(ledger)).toEqual(checkpointOf(file, grown))
    // Its bytes are still the ones verified: a rewrite under it stops the gate.
    fs.writeFileSync(ledger.checkpointFile ?? '', JSON.stringify(firstForm))
    fs.writeFileSync(file, lines(relink(records.map((r) => ({ ...r, actor: 'CI' })))))
    expect(() => open().read()).toThrow(/not the ones this machine verified/)
  })

  it('of the second and third forms, which kept no rollback or only the last, is read again whole', () => {
    // Two rollbacks, then a checkpoint that does not know of both (written before it kept them).
    const deployed = chain(2)
    const rollback = (to: LedgerRecord, reason: string, after: LedgerRecord): LedgerRecord => ({
      ...after,
      seq: after.seq + 1,
      env: 'prod',
      action: 'rollback',
      digest: to.digest,
      reason,
      prev: recordHash(after),
    })
    const first = rollback(nth(deployed, 0), 'bad release', nth(deployed, 1))
    const records = [...deployed, first, rollback(nth(deployed, 1), 'not so bad', first)]
    const keys = [
      sha256(`${nth(deployed, 0).digest}\0bad release`),
      sha256(`${nth(deployed, 1).digest}\0not so bad`),
    ]
    const { file, open } = setUp(records)
    const ledger = open()
    const complete = checkpointOf(file, records)
    // The same checkpoint as the second form wrote it (no form, no rollback), and as the
    // third (form 3, each environment's last rollback alone).
    const secondForm = JSON.stringify(complete, (key, value: unknown) =>
      key === 'form' || key === 'rollbacks' ? undefined : value,
    )
    expect(secondForm).not.toMatch(/form|rollback/i)
    const thirdForm = JSON.stringify(complete, (key, value: unknown) =>
      key === 'form' ? 3 : key === 'rollbacks' ? undefined : value,
    ).replace(/"seq":4,/, `"seq":4,"lastRollback":"${keys[1] ?? ''}",`)
    expect(thirdForm).toMatch(/"lastRollback"/)
    for (const older of [secondForm, thirdForm]) {
      fs.mkdirSync(path.dirname(ledger.checkpointFile ?? ''), { recursive: true })
      fs.writeFileSync(ledger.checkpointFile ?? '', older)
      expect([...(ledger.read().state.envs.get('prod')?.rollbacks ?? [])]).toEqual(keys)
      expect(checkpointIn(ledger)).toEqual(complete)
    }
  })

  it('of an empty ledger holds no records and starts the chain', () => {
    const { file, open } = setUp()
    fs.writeFileSync(file, '')
    const ledger = open()
    const read = ledger.read()
    expect([read.records, read.recovered, read.state]).toEqual([
      [],
      undefined,
      { head: GENESIS, envs: new Map() },
    ])
    expect(checkpointIn(ledger)).toEqual(checkpointOf(file, []))
    const records = chain(2)
    fs.writeFileSync(file, lines(records))
    expect(open().read().records).toEqual(records)
  })
})

describe('a file ledger', () => {
  it('moves a torn last line aside, keeps it as evidence, and cuts it off durably', () => {
    const records = chain(2)
    const { file, synced, open } = setUp(records)
    const torn = recordBytes(nth(chain(1, records), 2)).slice(0, 40)
    fs.appendFileSync(file, torn)
    // Outside the lock the partial line is left alone.
    expect(open().peek()).toEqual(records)
    expect(fs.readFileSync(file, 'utf8')).toBe(lines(records) + torn)
    const read = open().read()
    expect([read.records, read.recovered]).toEqual([
      records,
      `${file}.torn-${sha256(torn).slice(0, 16)}`,
    ])
    expect(fs.readFileSync(read.recovered ?? '', 'utf8')).toBe(torn)
    expect(fs.readFileSync(file, 'utf8')).toBe(lines(records))
    // The locked read makes what it found durable first (a record a killed gate wrote
    // and never synced), then the cut.
    expect(synced).toEqual([
      `fd:${Buffer.byteLength(lines(records) + torn)}`,
      `fd:${Buffer.byteLength(lines(records))}`,
    ])
    const again = open().read()
    expect([again.records, again.recovered]).toEqual([records, undefined])
  })

  it('moves aside the zeros a power failure leaves of an append, but no other tail', () => {
    const records = chain(2)
    for (const tail of [
      Buffer.alloc(300),
      Buffer.concat([Buffer.alloc(8), Buffer.from(recordBytes(nth(chain(1, records), 2)))]),
    ]) {
      const { file, open } = setUp(records)
      fs.appendFileSync(file, tail)
      const read = open().read()
      expect([read.records, read.recovered]).toEqual([
        records,
        `${file}.torn-${sha256(tail).slice(0, 16)}`,
      ])
      expect(fs.readFileSync(read.recovered ?? '')).toEqual(tail)
      expect(fs.readFileSync(file, 'utf8')).toBe(lines(records))
    }
    const { file, open } = setUp(records)
    fs.appendFileSync(file, 'notes')
    expect(() => open().read()).toThrow(/no part of a record/)
    expect(fs.readFileSync(file, 'utf8')).toBe(`${lines(records)}notes`)
  })

  it('reads as empty before its first record', () => {
    const { open } = setUp()
    const read = open().read()
    expect([read.records, read.recovered, read.state]).toEqual([
      [],
      undefined,
      { head: GENESIS, envs: new Map() },
    ])
    expect(open().peek()).toEqual([])
  })

  it("says a system call that fails in a lookup or a read as the machine's, naming the ledger", () => {
    // A directory where the checkpoint should be: EISDIR, an internal error once.
    const { file, open } = setUp(chain(2))
    const checkpoint = open().checkpointFile ?? ''
    fs.mkdirSync(checkpoint, { recursive: true })
    for (const read of [() => open().peek(), () => open().read()])
      expect(thrown(read)).toMatchObject({
        code: 'E_ENVIRONMENT',
        message: expect.stringMatching(new RegExp(`^${file}: EISDIR`)) as unknown,
      })
  })

  it('says whether any read of the command found no checkpoint, a lookup included', () => {
    const { open } = setUp(chain(2))
    const ledger = open()
    expect(ledger.anyReadUnanchored).toBe(false)
    ledger.peek()
    expect(ledger.anyReadUnanchored).toBe(true)
    // The first full read saved one: a new command's reads are anchored.
    ledger.read()
    const next = open()
    next.peek()
    next.read()
    expect(next.anyReadUnanchored).toBe(false)
  })

  it('refuses a ledger larger than any history before reading it', () => {
    const { file, open } = setUp()
    fs.writeFileSync(file, '')
    fs.truncateSync(file, MAX_LEDGER_BYTES + 1)
    for (const read of [() => open().read(), () => open().peek()])
      expect(thrown(read)).toMatchObject({
        code: 'E_LEDGER',
        message: `${file}: ${MAX_LEDGER_BYTES + 1} bytes, more than the ${MAX_LEDGER_BYTES} a ledger may hold; the gate stops until a person has looked (reproof gate check)`,
        context: { path: file },
      })
  })

  it('does not take a ledger it cannot open for an empty one', () => {
    const { file } = setUp()
    fs.writeFileSync(file, '')
    expect(() => new FileLedger(path.join(file, 'ledger.jsonl')).read()).toThrow(
      /ledger\.jsonl: not there, or a parent is not a directory/,
    )
  })

  // Linux lists a process's open descriptors in /proc/self/fd.
  it.runIf(fs.existsSync('/proc/self/fd'))('closes every file it opens', async () => {
    const records = chain(2)
    const { dir, file, open: ledgerOf } = setUp(records)
    // Only this ledger's files: the test runner opens descriptors of its own meanwhile.
    const open = (): string[] =>
      fs.readdirSync('/proc/self/fd').flatMap((fd) => {
        try {
          const target = fs.readlinkSync(`/proc/self/fd/${fd}`)
          return target.startsWith(dir) ? [target] : []
        } catch {
          return []
        }
      })
    expect(open()).toEqual([])
    fs.appendFileSync(file, '{"torn')
    const ledger = ledgerOf()
    ledger.read()
    ledger.peek()
    await ledger.transact(
      () => ({
        append: {
          record: nth(chain(1, records), 2),
          bundle: Buffer.from('b'),
          bundleDigest: 'e'.repeat(64),
        },
        result: undefined,
      }),
      1000,
    )
    fs.writeFileSync(file, '')
    fs.truncateSync(file, MAX_LEDGER_BYTES + 1)
    expect(() => ledgerOf().read()).toThrow()
    expect(open()).toEqual([])
  })

  it('keeps bundles beside it by digest, and reports what it holds under each', () => {
    const { file, open } = setUp()
    const ledger = open()
    const dir = path.dirname(file)
    expect(keptBundleName('ab')).toBe('bundles/ab.sigstore.json')
    fs.mkdirSync(path.join(dir, 'bundles'))
    fs.writeFileSync(path.join(dir, keptBundleName('a')), 'bundle a')
    fs.writeFileSync(path.join(dir, keptBundleName('b')), '')
    fs.truncateSync(path.join(dir, keptBundleName('b')), MAX_BUNDLE_BYTES + 1)
    fs.writeFileSync(path.join(dir, keptBundleName('c')), '')
    fs.truncateSync(path.join(dir, keptBundleName('c')), MAX_BUNDLE_BYTES)
    const found = ledger.storedDigests(['a', 'b', 'c', 'd', 'a'])
    expect([...found.entries()]).toEqual([
      ['a', sha256('bundle a')],
      ['b', `more than ${MAX_BUNDLE_BYTES} bytes`],
      ['c', sha256(Buffer.alloc(MAX_BUNDLE_BYTES))],
      ['d', undefined],
    ])
    expect(ledger.bundleFile('a')).toBe(path.join(dir, keptBundleName('a')))
    expect(ledger.bundleFile('d')).toBeUndefined()
  })

  it('appends nothing when the step decides nothing, and keeps each bundle once, as the bytes its name says', async () => {
    const records = chain(1)
    const { file, synced, open } = setUp(records)
    const ledger = open()
    expect(await ledger.transact(() => ({ result: 'nothing' }), 1000)).toBe('nothing')
    expect(fs.readFileSync(file, 'utf8')).toBe(lines(records))
    // Nothing appended; what was read, made durable before it was decided on, its
    // directory entry too: a record a killed gate wrote and never synced is not answered
    // "unchanged" from the page cache.
    expect(synced).toEqual([`fd:${Buffer.byteLength(lines(records))}`, `dir:${path.dirname(file)}`])
    const bundle = Buffer.from('the bundle')
    const bundleDigest = sha256(bundle)
    const kept = path.join(path.dirname(file), keptBundleName(bundleDigest))
    fs.mkdirSync(path.dirname(kept))
    // Other bytes under its name: a record must not name a bundle the store lacks.
    fs.writeFileSync(kept, 'other bytes')
    const [next, after] = chain(2, records).slice(1)
    const seen: number[] = []
    for (const record of [next, after]) {
      if (record === undefined) throw new Error('no record')
      await ledger.transact((read) => {
        seen.push(read.records.length)
        return { append: { record, bundle, bundleDigest }, result: undefined }
      }, 1000)
      if (record === next) expect(fs.readFileSync(kept)).toEqual(bundle)
    }
    expect(seen).toEqual([1, 2])
    // The right bytes, kept once: the second record found them and wrote nothing.
    expect(fs.readdirSync(path.dirname(kept))).toEqual([path.basename(kept)])
    expect(open().read().records).toEqual([...records, next, after])
  })

  it('creates its directory on the first append', async () => {
    const dir = makeTemp()
    const file = path.join(dir, 'a', 'b', 'ledger.jsonl')
    const ledger = new FileLedger(file)
    const record = nth(chain(1), 0)
    await ledger.transact(
      () => ({
        append: { record, bundle: Buffer.from('b'), bundleDigest: 'e'.repeat(64) },
        result: 1,
      }),
      1000,
    )
    expect(fs.readFileSync(file, 'utf8')).toBe(`${recordBytes(record)}\n`)
    expect(fs.readFileSync(path.join(dir, 'a', 'b', keptBundleName('e'.repeat(64))), 'utf8')).toBe(
      'b',
    )
  })
})

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
