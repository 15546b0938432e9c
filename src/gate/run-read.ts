import { ReproofError } from '../errors.js'
import { otherSpelling, type LedgerRecord } from './decide.js'
import { refuseFromTheFuture, type LedgerRead } from './ledger.js'
import { openLedger } from './open-ledger.js'
import type { GateReadOptions } from '../config/gate-options.js'

/** An environment's current release, as `gate status` answers. */
export interface GateStatus {
  env: string
  /** The digest of the current release; null before the first. */
  current: string | null
  /** The sequence number of the environment's last record; 0 before the first. */
  seq: number
  /**
   * Where a torn last line, found and moved aside by this read, was put; null when there
   * was none. Said by every command that reads: a line cut off is never silent.
   */
  recovered: string | null
  /** No checkpoint of this ledger on this machine before this read (see LedgerRead). */
  unanchored: boolean
}

/** `gate status`: the current release of an environment, from the checked ledger. */
export async function runGateStatus(options: GateReadOptions): Promise<GateStatus> {
  const read = await readLedger(options)
  const state = read.state.envs.get(options.env)
  return {
    env: options.env,
    current: state?.current ?? null,
    seq: state?.seq ?? 0,
    recovered: read.recovered ?? null,
    unanchored: read.unanchored,
  }
}

/** `gate history`: an environment's records, oldest first, from the checked ledger. */
export async function runGateHistory(
  options: GateReadOptions,
): Promise<{ records: LedgerRecord[]; recovered: string | null; unanchored: boolean }> {
  const read = await readLedger(options)
  return {
    records: read.records.filter((r) => r.env === options.env),
    recovered: read.recovered ?? null,
    unanchored: read.unanchored,
  }
}

/**
 * The ledger read as a gate reads it (the chain and, for a git ledger, its whole history
 * checked; a torn last line moved aside), under its lock, with nothing appended.
 */
async function readLedger(options: GateReadOptions): Promise<LedgerRead> {
  const ledger = openLedger(options.ledger, options)
  try {
    const read = await ledger.transact((read) => ({ result: read }), options.lockTimeoutMs)
    // A record's time is a gate's clock, never evidence; one no gate could have written
    // yet is a record `gate check` refuses, and no answer stands on it.
    refuseFromTheFuture(read, ledger.recordsLabel, Date.now())
    // `PROD` read as "no release" while `prod` has them, which a gate refuses to write.
    const spelt = otherSpelling(read.state, options.env)
    if (spelt !== undefined)
      throw new ReproofError(
        'E_INPUT',
        `--env ${options.env}: no environment of ${ledger.label}, but ${spelt} is: names that differ in case only would be two environments; give the name as the ledger has it${
          // The read that found it moved a torn last line aside: said here, as it is said
          // nowhere else (the next read finds none).
          read.recovered === undefined
            ? ''
            : `. A torn last line of the ledger was moved to ${read.recovered}`
        }`,
        { wanted: options.env, found: spelt },
      )
    return read
  } finally {
    ledger.close()
  }
}
