import { Writable } from 'node:stream'
import type { Budget } from '../formats/limits.js'
import type { NormalizeMode, NormalizeRules } from './rules.js'

// Large reads and zlib chunks: each small one is a round trip to the thread pool.
export const MiB = 1024 * 1024

/** Every format a normalizer names, `unknown` for a file of none. */
export const NORMALIZED_FORMATS = [
  'png',
  'mo',
  'cpio',
  'tar',
  'tar.gz',
  'tar.zst',
  'tar.xz',
  'tar.bz2',
  'gzip',
  'zstd',
  'xz',
  'bzip2',
  'zip',
  'jar',
  'wheel',
  'ar',
  'unknown',
] as const

export type NormalizedFormat = (typeof NORMALIZED_FORMATS)[number]

export interface NormalizeOutcome {
  input: string
  /** Where the result was written; null when nothing was (unknown format, or unchanged in place). */
  output: string | null
  format: NormalizedFormat
  mode: NormalizeMode
  changed: boolean
  /** What the normalizer changed, for people and for the build record. */
  changes: string[]
  /**
   * Why a file of a format reproof normalizes was left as it is (a signed jar or APK,
   * whose signature any rewrite would break).
   */
  kept?: string
  digests: { before: string; after: string }
}

/** One file being normalized: what a normalizer is handed. */
export interface Job {
  input: string
  /** A directory of this run's own, for spooling; removed at the end. */
  work: string
  rules: NormalizeRules
  budget: Budget
  /** Rewrite into reproof's layout even when no field changes (compare mode). */
  canonical: boolean
  /** Up to 64 KiB of the file's start. */
  head: Buffer
  /** What the outcome will say: a normalizer sets them as it learns them. */
  said: { format: NormalizedFormat; changes: string[]; kept?: string }
  /** Writes the output through `fill`, atomically (in place only when it changed). */
  write(fill: (out: Writable) => Promise<void>): Promise<NormalizeOutcome>
  /** Nothing to change: the output is the input, byte for byte. */
  keep(): Promise<NormalizeOutcome>
  /**
   * A member taken out to `file` (a `.deb`'s `data.tar.gz`) normalized as a file of its
   * own, its output in `dir` (see member-file.ts). Absent for a member's own job: one
   * level deep.
   */
  normalizeMember?: (name: string, file: string, dir: string) => Promise<NormalizedMember>
}

/** A member of an archive normalized as a file of its own: where its new bytes are. */
export interface NormalizedMember {
  /** The new content, or undefined when it stays as it is. */
  file?: string
  /** A new member name, when compare mode wrote a compressed tar out as a plain one. */
  name?: string
  format: NormalizedFormat
  changes: string[]
  /** Why it was left as it is, when it needed a change. */
  kept?: string
}

/** A format's normalizer: rewrites the job's file, or keeps it when nothing needs a change. */
export type Normalizer = (job: Job) => Promise<NormalizeOutcome>

/**
 * A canonical rewrite of an archive none of whose fields changed: if its bytes differ
 * (an unchanged result reports no change at all), the layout is what changed.
 */
export function orReencoded(changes: string[], layout: string): string[] {
  return changes.length > 0 ? changes : [`headers rewritten in reproof's layout (${layout})`]
}

/** Writes a whole buffer as the job's output. */
export function writeBytes(job: Job, bytes: Buffer): Promise<NormalizeOutcome> {
  return job.write(async (out) => {
    out.end(bytes)
    await Promise.resolve()
  })
}

/** A sink that reads a stream whole and keeps nothing: for checking a body before it is copied. */
export function discard(): Writable {
  return new Writable({
    write: (_chunk, _encoding, next) => {
      next()
    },
  })
}
