import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { GENESIS, recordBytes, type LedgerRecord } from '../../../src/gate/decide.js'
import { GitLedger } from '../../../src/gate/git-ledger.js'
import {
  checkAppendable,
  FileLedger,
  MAX_LEDGER_BYTES,
  parseLedger,
  type Ledger,
} from '../../../src/gate/ledger.js'
import { isReproofError } from '../../../src/errors.js'
import { cleanupTemp, firstLedgerRecord, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

const bundle = Buffer.from('{"bundle":true}')
const bundleDigest = crypto.createHash('sha256').update(bundle).digest('hex')

const record = (over: Partial<LedgerRecord> = {}): LedgerRecord =>
  firstLedgerRecord({ bundleDigest, ...over })

const append = (ledger: Ledger, r: LedgerRecord) =>
  ledger.transact(() => ({ append: { record: r, bundle, bundleDigest }, result: 'recorded' }), 5000)

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  return isReproofError(err) ? err.code : String(err)
}

const EMPTY = { head: GENESIS, envs: new Map() }

describe('a record is written only if every reader would accept it', () => {
  it('refuses a line over 64 KiB, a broken chain, and a ledger past its size limit', () => {
    const line = (r: LedgerRecord) => `${recordBytes(r)}\n`
    expect(() => {
      checkAppendable(line(record({ actor: 'x'.repeat(70_000) })), 0, EMPTY, 'L')
    }).toThrow(/more than the 65536 a ledger line may hold/)
    expect(() => {
      checkAppendable(line(record({ prev: 'b'.repeat(64) })), 0, EMPTY, 'L')
    }).toThrow(/one no reader accepts .*the chain is broken.*nothing was recorded/)
    expect(() => {
      checkAppendable(line(record({ seq: 2 })), 0, EMPTY, 'L')
    }).toThrow(/sequence 2 in prod, expected 1/)
    const ok = line(record())
    expect(() => {
      checkAppendable(ok, MAX_LEDGER_BYTES - Buffer.byteLength(ok), EMPTY, 'L')
    }).not.toThrow()
    expect(() => {
      checkAppendable(ok, MAX_LEDGER_BYTES - Buffer.byteLength(ok) + 1, EMPTY, 'L')
    }).toThrow(/past the 268435456 bytes a ledger may hold; nothing was recorded/)
  })

  it('in a file ledger: nothing is appended, and the ledger reads back as before', async () => {
    const file = path.join(makeTemp(), 'ledger.jsonl')
    const ledger = new FileLedger(file)
    expect(await codeOf(append(ledger, record({ actor: 'x'.repeat(70_000) })))).toBe('E_INPUT')
    expect(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '').toBe('')
    expect(await append(ledger, record())).toBe('recorded')
    expect(await codeOf(append(ledger, record({ seq: 2, actor: 'y'.repeat(70_000) })))).toBe(
      'E_INPUT',
    )
    expect(parseLedger(fs.readFileSync(file, 'utf8'), file)).toEqual([record()])
  })

  it('in a git ledger: nothing is pushed, and every reader still reads it', async () => {
    const bare = path.join(makeTemp(), 'ledger.git')
    execFileSync('git', ['init', '-q', '--bare', bare])
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: makeTemp() }
    const ledger = GitLedger.open(bare, 'releases', makeTemp(), env)
    try {
      expect(await append(ledger, record())).toBe('recorded')
      expect(await codeOf(append(ledger, record({ seq: 2, actor: 'y'.repeat(70_000) })))).toBe(
        'E_INPUT',
      )
    } finally {
      ledger.close()
    }
    // A reader with no checkpoint of this ledger: one record, readable.
    const fresh = GitLedger.open(bare, 'releases', makeTemp(), env)
    try {
      expect(fresh.peek()).toEqual([record()])
    } finally {
      fresh.close()
    }
  })
})
