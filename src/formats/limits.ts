import { ReproofError, throwIfAborted } from '../errors.js'

/**
 * Archives are attacker-controlled: every limit below is checked before the work it
 * bounds, and each error names the limit and the flag that raises it.
 */
export interface DiffLimits {
  /** Decompressed bytes read across both sides and all nesting levels. */
  maxBytes: number
  /** Decompressed size over compressed size, per compressed stream or member. */
  maxRatio: number
  /** Archive members across both sides and all nesting levels. */
  maxEntries: number
  /** Archives within archives. */
  maxDepth: number
  /** Largest member compared for content or recursed into (held, spooled or streamed: engine.ts). */
  maxMemberBytes: number
}

export const DEFAULT_LIMITS: DiffLimits = {
  maxBytes: 16 * 1024 ** 3,
  // Text and zero-filled images legitimately reach a few hundred; bombs reach millions.
  maxRatio: 1000,
  // An entry read costs a few KiB while the comparison holds both inventories: 500,000
  // in all (both sides) stays near a gigabyte. (Counted twice before, 1,000,000 stopped
  // at this many; counted once, the bound on memory it kept is this one.)
  maxEntries: 500_000,
  maxDepth: 8,
  maxMemberBytes: 256 * 1024 * 1024,
}

/** Counts work as it happens and stops it at the first limit crossed. */
export class Budget {
  constructor(
    readonly limits: DiffLimits,
    /** Aborted on Ctrl-C: the reader stops at its next chunk. */
    private readonly signal?: AbortSignal,
    /** What was spent, shared with the budget of a second read of the same entries. */
    private readonly spent = { bytes: 0, entries: 0 },
    /** False for a second read of entries already counted (see rereading). */
    private readonly countsEntries = true,
    /** False for a reader of bytes a decoder already counted (see decoded). */
    private readonly countsBytes = true,
  ) {}

  /**
   * This budget for a reader of what a decoder it reads through has already counted (a
   * tar inside a gzip: the gzip's decompressed bytes are the tar's): entries and stops as
   * before, bytes not counted again. Counted twice, a tar.gz of 105 MB was refused under
   * `--max-bytes 150M`, and the message said "more than 150M decompressed bytes".
   */
  decoded(): Budget {
    return new Budget(this.limits, this.signal, this.spent, this.countsEntries, false)
  }

  /**
   * This budget for a second read of an archive's entries, already counted by the first:
   * bytes and stops as before, entries not counted again. Counted twice, `--max-entries`
   * stopped at half the entries it names, and its message overstated the input.
   */
  rereading(): Budget {
    return new Budget(this.limits, this.signal, this.spent, false, this.countsBytes)
  }

  /** Ctrl-C or SIGTERM: a writer that reads no input (the rewrite from a spool) stops here. */
  stopIfAborted(): void {
    throwIfAborted(this.signal)
  }

  spendBytes(n: number, where: string): void {
    throwIfAborted(this.signal)
    if (!this.countsBytes) return
    this.spent.bytes += n
    if (this.spent.bytes > this.limits.maxBytes) {
      throw limitError(
        where,
        `more than ${this.limits.maxBytes} decompressed bytes in all`,
        '--max-bytes',
      )
    }
  }

  spendEntry(where: string): void {
    // Every reader's loop over entries passes here: one of empty entries (a gzip of
    // thousands of empty members) reads no chunk that would check.
    throwIfAborted(this.signal)
    if (!this.countsEntries) return
    this.spent.entries += 1
    if (this.spent.entries > this.limits.maxEntries) {
      throw limitError(
        where,
        `more than ${this.limits.maxEntries} archive entries in all`,
        '--max-entries',
      )
    }
  }

  checkRatio(
    decompressed: number,
    compressed: number,
    where: string,
    /** The size is the one the archive declares, not bytes inflated: said so. */
    declared = false,
  ): void {
    // A reader that checks only the ratio (a walk of gzip members beside the tar's read)
    // stops at Ctrl-C too: it ran on for seconds after everything else had stopped.
    throwIfAborted(this.signal)
    // Tiny inputs are exempt: 100 bytes of zeros compress 1000-fold and harm no one.
    if (
      decompressed > 1024 * 1024 &&
      decompressed > this.limits.maxRatio * Math.max(compressed, 1)
    ) {
      throw limitError(
        where,
        `${declared ? 'declares a size of' : 'decompresses to'} more than ${this.limits.maxRatio} times its compressed size`,
        '--max-ratio',
      )
    }
  }

  checkDepth(depth: number, where: string): void {
    if (depth > this.limits.maxDepth) {
      throw limitError(
        where,
        `archives nested more than ${this.limits.maxDepth} deep`,
        '--max-depth',
      )
    }
  }

  checkMemberSize(size: number, where: string): void {
    if (size > this.limits.maxMemberBytes)
      throw memberTooLarge(where, size, this.limits.maxMemberBytes)
  }
}

const MEMBER_FLAG = '--max-member-bytes'

/** A member too large to read whole (diff compares it by digest; normalize refuses it). */
export function memberTooLarge(where: string, size: number, limit: number): ReproofError {
  return new ReproofError(
    'E_INPUT',
    `${where}: ${size > 0 ? `${size} bytes, ` : ''}over the ${limit}-byte limit of a member read whole into memory (raise it with ${MEMBER_FLAG})`,
    { path: where, wanted: limit, ...(size > 0 ? { found: size } : {}), limit: MEMBER_FLAG },
  )
}

export function isMemberTooLarge(err: unknown): err is ReproofError {
  return err instanceof ReproofError && err.context.limit === MEMBER_FLAG
}

export function limitError(where: string, what: string, flag: string): ReproofError {
  // The flag is said once, in the hint (the message said it too, and the terminal showed
  // it twice).
  return new ReproofError('E_INPUT', `${where}: ${what}`, {
    path: where,
    hint: `raise ${flag} if the input is trusted`,
    limit: flag,
  })
}

/** A work limit crossed: it stops the whole comparison (a member too large does not). */
export function isLimitError(err: unknown): err is ReproofError {
  return err instanceof ReproofError && err.context.limit !== undefined && !isMemberTooLarge(err)
}
