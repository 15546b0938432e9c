import type { LedgerRecord } from './decide.js'

/** What the store holds for a bundle digest: the SHA-256 of its bytes, or nothing. */
export type StoredDigests = ReadonlyMap<string, string | undefined>

export interface StoreProblem {
  /** 1-based line of the first record whose bundle is wrong. */
  line: number
  record: LedgerRecord
  /** The digest of what is stored under the record's name, or undefined when nothing is. */
  found: string | undefined
}

/**
 * The first record whose kept bundle is missing or is not the bytes its digest names.
 * Every record's bundle is stored before the record is appended, so neither can happen
 * without someone editing the store.
 */
export function firstStoreProblem(
  records: readonly LedgerRecord[],
  stored: StoredDigests,
): StoreProblem | undefined {
  for (const [i, record] of records.entries()) {
    const found = stored.get(record.bundleDigest)
    if (found !== record.bundleDigest) return { line: i + 1, record, found }
  }
  return undefined
}
