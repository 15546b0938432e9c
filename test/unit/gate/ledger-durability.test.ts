import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { recordBytes, type LedgerRecord } from '../../../src/gate/decide.js'
import { FileLedger, keptBundleName, type Durability } from '../../../src/gate/ledger.js'
import { syncDir } from '../../../src/io/atomic-write.js'
import { cleanupTemp, firstLedgerRecord, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

type Event =
  | { kind: 'fsync'; ledger: string; bundleKept: boolean }
  | { kind: 'sync-dir'; dir: string }
  | { kind: 'answer' }

/** The first record of a ledger, deploying to prod with the bundle `bundleDigest`. */
const firstRecord = (bundleDigest: string): LedgerRecord => firstLedgerRecord({ bundleDigest })

describe('a file ledger', () => {
  it('fsyncs the appended record, then its directory, before the append is answered', async () => {
    const file = path.join(makeTemp(), 'ledger.jsonl')
    const bundle = Buffer.from('{"bundle":true}')
    const bundleDigest = crypto.createHash('sha256').update(bundle).digest('hex')
    const events: Event[] = []
    // The real calls, recorded with what the ledger held when each was made.
    const durability: Durability = {
      fsync: (fd) => {
        events.push({
          kind: 'fsync',
          ledger: fs.readFileSync(file, 'utf8'),
          bundleKept: fs.existsSync(path.join(path.dirname(file), keptBundleName(bundleDigest))),
        })
        fs.fsyncSync(fd)
      },
      // Recorded once done, and slow: an answer that does not wait for it comes first.
      syncDir: async (dir) => {
        await syncDir(dir)
        await new Promise((resolve) => setTimeout(resolve, 50))
        events.push({ kind: 'sync-dir', dir })
      },
    }
    const record = firstRecord(bundleDigest)
    const answer = await new FileLedger(file, durability).transact(
      () => ({ append: { record, bundle, bundleDigest }, result: 'recorded' }),
      1000,
    )
    events.push({ kind: 'answer' })
    expect(answer).toBe('recorded')
    expect(events).toEqual([
      { kind: 'fsync', ledger: `${recordBytes(record)}\n`, bundleKept: true },
      { kind: 'sync-dir', dir: path.dirname(file) },
      { kind: 'answer' },
    ])
  })

  it("says a disk's failure before the line is written as the disk's, with nothing recorded", async () => {
    // The read's fsync (the ledger is there) and the stored bundle's: an internal error once.
    const bundle = Buffer.from('{"bundle":true}')
    const bundleDigest = crypto.createHash('sha256').update(bundle).digest('hex')
    const record = firstRecord(bundleDigest)
    const append = () => ({ append: { record, bundle, bundleDigest }, result: 'recorded' })
    for (const failing of [1, 2]) {
      const file = path.join(makeTemp(), 'ledger.jsonl')
      fs.writeFileSync(file, '')
      if (failing === 2) {
        // Stored already: its fsync is the second call, after the read's.
        fs.mkdirSync(path.join(path.dirname(file), 'bundles'))
        fs.writeFileSync(path.join(path.dirname(file), keptBundleName(bundleDigest)), bundle)
      }
      let calls = 0
      const durability: Durability = {
        fsync: (fd) => {
          if (++calls === failing)
            throw Object.assign(new Error('EIO: i/o error, fsync'), {
              code: 'EIO',
              syscall: 'fsync',
            })
          fs.fsyncSync(fd)
        },
        syncDir,
      }
      const err = await new FileLedger(file, durability).transact(append, 1000).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err, String(failing)).toMatchObject({
        code: 'E_ENVIRONMENT',
        message: `${file}: EIO: i/o error, fsync; nothing was recorded`,
      })
      expect(fs.readFileSync(file, 'utf8')).toBe('')
    }
  })

  it('appends only to the file it read, as long as it read it: one replaced or grown under the lock is refused', async () => {
    const bundle = Buffer.from('{"bundle":true}')
    const bundleDigest = crypto.createHash('sha256').update(bundle).digest('hex')
    const record = firstRecord(bundleDigest)
    const append = () => ({ append: { record, bundle, bundleDigest }, result: 'recorded' })
    for (const change of ['replaced', 'grown'] as const) {
      const file = path.join(makeTemp(), 'ledger.jsonl')
      fs.writeFileSync(file, '')
      // Stored already: its fsync (the second call, after the read's) is where the ledger
      // is changed behind the gate's back, between its decision and its append.
      fs.mkdirSync(path.join(path.dirname(file), 'bundles'))
      fs.writeFileSync(path.join(path.dirname(file), keptBundleName(bundleDigest)), bundle)
      let calls = 0
      const durability: Durability = {
        fsync: (fd) => {
          if (++calls === 2) {
            if (change === 'replaced') {
              fs.writeFileSync(`${file}.new`, '')
              fs.renameSync(`${file}.new`, file)
            } else fs.appendFileSync(file, 'x')
          }
          fs.fsyncSync(fd)
        },
        syncDir,
      }
      const err = await new FileLedger(file, durability).transact(append, 1000).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err, change).toMatchObject({
        code: 'E_LEDGER',
        message: expect.stringMatching(
          /the ledger changed while this gate held its lock .*nothing was recorded$/,
        ) as unknown,
      })
      expect(fs.readFileSync(file, 'utf8'), change).toBe(change === 'grown' ? 'x' : '')
    }
  })

  it('says nothing was recorded only once the line is durably taken back, else that it is unknown', async () => {
    const bundle = Buffer.from('{"bundle":true}')
    const bundleDigest = crypto.createHash('sha256').update(bundle).digest('hex')
    const record = firstRecord(bundleDigest)
    // The fsync of the appended line fails (EIO); the take-back's fsync fails too, or not.
    for (const takeBackFails of [false, true]) {
      const file = path.join(makeTemp(), 'ledger.jsonl')
      let appended = false
      const durability: Durability = {
        fsync: (fd) => {
          const holds = fs.existsSync(file) && fs.readFileSync(file).length > 0
          if (holds) appended = true
          if (holds || (appended && takeBackFails)) throw new Error('EIO: i/o error, fsync')
          fs.fsyncSync(fd)
        },
        syncDir,
      }
      const answer = new FileLedger(file, durability).transact(
        () => ({ append: { record, bundle, bundleDigest }, result: 'recorded' }),
        1000,
      )
      if (takeBackFails) {
        await expect(answer).rejects.toMatchObject({ code: 'E_AMBIGUOUS' })
      } else {
        await expect(answer).rejects.toMatchObject({
          code: 'E_ENVIRONMENT',
          message: expect.stringMatching(/nothing was recorded$/) as unknown,
        })
        expect(fs.readFileSync(file, 'utf8')).toBe('')
      }
    }
  })

  it('makes a bundle found in the store durable before the record that names it', async () => {
    // A gate killed between its rename of the bundle and the sync of the store's
    // directory: the retry finds the bundle, and must not trust the page cache for it.
    const file = path.join(makeTemp(), 'ledger.jsonl')
    const bundle = Buffer.from('{"bundle":true}')
    const bundleDigest = crypto.createHash('sha256').update(bundle).digest('hex')
    const kept = path.join(path.dirname(file), keptBundleName(bundleDigest))
    fs.mkdirSync(path.dirname(kept), { recursive: true })
    fs.writeFileSync(kept, bundle)
    const events: string[] = []
    const durability: Durability = {
      fsync: (fd) => {
        events.push(
          fs.existsSync(file) && fs.readFileSync(file).length > 0 ? 'fsync ledger' : 'fsync',
        )
        fs.fsyncSync(fd)
      },
      syncDir: async (dir) => {
        await syncDir(dir)
        events.push(`sync-dir ${dir}`)
      },
    }
    const record = firstRecord(bundleDigest)
    await new FileLedger(file, durability).transact(
      () => ({ append: { record, bundle, bundleDigest }, result: 'recorded' }),
      1000,
    )
    const storeSynced = events.indexOf(`sync-dir ${path.dirname(kept)}`)
    expect(storeSynced).toBeGreaterThan(-1)
    expect(storeSynced).toBeLessThan(events.indexOf('fsync ledger'))
  })

  it('answers a directory that cannot be synced after the write as unknown (exit 4), not as nothing recorded', async () => {
    const file = path.join(makeTemp(), 'ledger.jsonl')
    const bundle = Buffer.from('{"bundle":true}')
    const bundleDigest = crypto.createHash('sha256').update(bundle).digest('hex')
    const durability: Durability = {
      fsync: fs.fsyncSync,
      syncDir: () => Promise.reject(new Error('EIO: i/o error')),
    }
    const record = firstRecord(bundleDigest)
    await expect(
      new FileLedger(file, durability).transact(
        () => ({ append: { record, bundle, bundleDigest }, result: 'recorded' }),
        1000,
      ),
    ).rejects.toMatchObject({
      code: 'E_AMBIGUOUS',
      message: expect.stringMatching(/may or may not be recorded, and a retry is safe$/) as unknown,
    })
  })

  it('syncs the directory before a retry answers from a record already there, and answers unknown when it cannot', async () => {
    // A gate appended and synced the line, then died before syncing the directory of the
    // ledger it had just made: the retry finds its record and says so, after both syncs.
    const file = path.join(makeTemp(), 'ledger.jsonl')
    const bundle = Buffer.from('{"bundle":true}')
    const bundleDigest = crypto.createHash('sha256').update(bundle).digest('hex')
    const record = firstRecord(bundleDigest)
    fs.writeFileSync(file, `${recordBytes(record)}\n`)
    const events: string[] = []
    const durability: Durability = {
      fsync: (fd) => {
        events.push('fsync')
        fs.fsyncSync(fd)
      },
      syncDir: async (dir) => {
        await syncDir(dir)
        events.push(`sync-dir ${dir}`)
      },
    }
    const answer = await new FileLedger(file, durability).transact(
      () => ({ result: 'unchanged' }),
      1000,
    )
    events.push('answer')
    expect(answer).toBe('unchanged')
    expect(events.slice(-2)).toEqual([`sync-dir ${path.dirname(file)}`, 'answer'])
    expect(events).toContain('fsync')
    const failing: Durability = {
      fsync: fs.fsyncSync,
      syncDir: () => Promise.reject(new Error('EIO: i/o error')),
    }
    await expect(
      new FileLedger(file, failing).transact(() => ({ result: 'unchanged' }), 1000),
    ).rejects.toMatchObject({
      code: 'E_AMBIGUOUS',
      message: expect.stringMatching(/could not be synced .*a retry is safe$/) as unknown,
    })
  })

  it('writes the last line again before a retry answers from it: pages an fsync failed on are clean after it', async () => {
    // Linux after an fsync's EIO: the pages it could not write are marked clean and stay
    // readable, and the next fsync has nothing to write and succeeds. A gate killed
    // after such a failure (or whose take-back failed too) left a record in the page
    // cache only; the retry found it there and answered "unchanged".
    const file = path.join(makeTemp(), 'ledger.jsonl')
    const bundle = Buffer.from('{"bundle":true}')
    const bundleDigest = crypto.createHash('sha256').update(bundle).digest('hex')
    const record = firstRecord(bundleDigest)
    fs.writeFileSync(file, `${recordBytes(record)}\n`)
    // The model: what the disk holds, and the file's modification time at the last
    // fsync tried (a write since then is what makes pages dirty again).
    const past = new Date(1_000_000_000)
    fs.utimesSync(file, past, past)
    const ledgerIno = fs.statSync(file).ino
    let disk = ''
    let lastTried = fs.statSync(file, { bigint: true }).mtimeNs
    const durability: Durability = {
      fsync: (fd) => {
        const stat = fs.fstatSync(fd, { bigint: true })
        if (stat.ino !== BigInt(ledgerIno)) {
          fs.fsyncSync(fd)
          return
        }
        if (stat.mtimeNs === lastTried) return
        lastTried = stat.mtimeNs
        fs.fsyncSync(fd)
        disk = fs.readFileSync(file, 'utf8')
      },
      syncDir,
    }
    const answer = await new FileLedger(file, durability).transact(
      () => ({ result: 'unchanged' }),
      1000,
    )
    expect(answer).toBe('unchanged')
    expect(disk).toBe(`${recordBytes(record)}\n`)
  })
})
