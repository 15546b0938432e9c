import { appendAll } from '../append-all.js'
import crypto from 'node:crypto'
import { ReproofError, throwIfAborted } from '../errors.js'
import {
  describeRegions,
  diffBinary,
  diffText,
  TEXT_DIFFS_TOTAL_MS,
  type TextDiff,
} from './content-diff.js'
import { compareClasses } from './class-diff.js'
import { compareElfSections, type ElfSectionDifference } from './elf-diff.js'
import { elfLayout, functionsInOrder, isElf, type ElfPart } from '../formats/elf.js'
import { compareCode } from '../formats/elf-code.js'
import { checkElfStrings, describeStringCheck } from './elf-strings.js'
import { isJavaClass } from '../formats/java-class.js'
import { isPyc, looksLikePyc } from '../formats/pyc.js'
import type { Compression } from '../formats/compressions.js'
import type { SkippableFrame } from '../formats/zstd-frames.js'
import {
  detectFormat,
  looksLikeText,
  type ArchiveFormat,
  type Detected,
} from '../formats/detect.js'
import {
  duplicateWarnings,
  memorySink,
  type MemberInfo,
  type MemberSink,
  type ScanResult,
  type WantMember,
} from '../formats/member.js'
import { Spool } from '../formats/spool.js'
import {
  checksBesideSameContent,
  compareInventories,
  diffFields,
  membersByKey,
} from './compare-inventories.js'
import { comparePycs } from './pyc-diff.js'
import { withStructureCauses } from './structure-causes.js'
import { symbolTableChange } from '../formats/ar.js'
import {
  causesBetween,
  contentHints,
  fieldHints,
  UNEXPLAINED_FIX,
  type HintContext,
} from './hints.js'
import {
  Budget,
  isLimitError,
  isMemberTooLarge,
  memberTooLarge,
  type DiffLimits,
} from '../formats/limits.js'
import type { DiffItem, FieldDifference, Hint } from './report.js'
import { knownHeaderFields } from '../formats/binary-headers.js'
import {
  readHead,
  readUpTo,
  startReading,
  type ByteSource,
  type Reading,
} from '../formats/source.js'
import { diffStreamed } from './streamed-diff.js'
import { ARCHIVES } from '../formats/registry.js'
import { sha256Hex } from '../sha256.js'

export interface EngineOptions {
  maxLines: number
  limits: DiffLimits
  context: HintContext
  /** Aborted on Ctrl-C: the comparison stops at the next entry or chunk (exit 130). */
  signal?: AbortSignal
  /** The time every text diff may take in all (TEXT_DIFFS_TOTAL_MS unless told). */
  textDiffsMs?: number
}

// Members this small are kept during the first pass over an archive, so that most
// differing members need no second pass; the total per archive stays bounded.
const EAGER_MEMBER_BYTES = 64 * 1024
const never: WantMember = () => undefined
const EAGER_TOTAL_BYTES = 32 * 1024 * 1024
// Memory is bounded whatever the members (peak under 256 MiB for the process): a
// differing member larger than MEMBER_MEMORY_BYTES is written to a spool file as it is
// read and compared from there; smaller ones are held, at most HELD_BYTES at once over
// every nesting level (beyond, they are spooled too), and members are compared a batch
// at a time, each batch planned to hold at most BATCH_MEMORY_BYTES or to spool at most
// BATCH_SPOOL_BYTES; a leaf larger than LEAF_MEMORY_BYTES a side is compared as it
// streams, without its structure (content-diff.ts, streamed-diff.ts). A batch's held
// members are given back before its spooled ones are compared, so that a leaf read
// whole from the spool does not add to them.
export const MEMBER_MEMORY_BYTES = 8 * 1024 * 1024
const HELD_BYTES = 48 * 1024 * 1024
const BATCH_MEMORY_BYTES = 48 * 1024 * 1024
const BATCH_SPOOL_BYTES = 1024 * 1024 * 1024
export const LEAF_MEMORY_BYTES = 24 * 1024 * 1024
/**
 * `keys` in order, cut into runs whose sizes add up to at most `cap` (a key larger than
 * `cap` on its own run). Pure.
 */
export function inBatches<T>(keys: readonly T[], sizeOf: (key: T) => number, cap: number): T[][] {
  const batches: T[][] = []
  let current: T[] = []
  let total = 0
  for (const key of keys) {
    const size = sizeOf(key)
    if (current.length > 0 && total + size > cap) {
      batches.push(current)
      current = []
      total = 0
    }
    current.push(key)
    total += size
  }
  if (current.length > 0) batches.push(current)
  return batches
}

/**
 * Compares two byte sources the way a person would want: through compression layers,
 * into archives (member by member, metadata apart from content), down to a text or
 * binary diff of what really differs, each with its likely cause. Streams everything;
 * only members that differ are kept, in memory or in a spool file, and only up to the limits.
 */
// The most of a gzip header read to compare it (an extra field holds 64 KiB; a name or a
// comment ends at its NUL).
const GZIP_HEADER_BOUND = 1024 * 1024

export class DiffEngine {
  readonly items: DiffItem[] = []
  readonly warnings: string[] = []
  /** What is left of the time text diffs may take in this comparison (content-diff.ts). */
  private textDiffMsLeft: number
  private textDiffsSpent = false
  readonly budget: Budget
  /** Entries compared: files, directory entries and archive members. */
  compared = 0
  /** Bytes of member content held in memory now, over every nesting level. */
  private held = 0
  /**
   * Each ar archive's members by header offset, both sides, by the archive's path:
   * what its symbol table's offsets name (see symbolTableChange).
   */
  private readonly arMembers = new Map<
    string,
    readonly [ReadonlyMap<number, string>, ReadonlyMap<number, string>]
  >()

  constructor(private readonly options: EngineOptions) {
    this.budget = new Budget(options.limits, options.signal)
    this.textDiffMsLeft = options.textDiffsMs ?? TEXT_DIFFS_TOTAL_MS
  }

  /** Ctrl-C: a stop, not a difference; it ends the whole comparison. */
  throwIfAborted(): void {
    throwIfAborted(this.options.signal)
  }

  /** Compares two sources known to differ (or not yet known to be equal). */
  async compare(
    path: string,
    a: ByteSource,
    b: ByteSource,
    depth: number,
    digests?: [string, string],
    layers: readonly string[] = [],
  ): Promise<void> {
    try {
      this.throwIfAborted()
      if (a.buffer !== undefined && b.buffer !== undefined && a.buffer.equals(b.buffer)) return
      if (digests !== undefined && digests[0] === digests[1]) return
      this.budget.checkDepth(depth, path)
      const [headA, headB] = await bothSides(readHead(a, 1024), readHead(b, 1024))
      const [kindA, kindB] = [detectFormat(headA), detectFormat(headB)]
      if (
        kindA.kind === 'compressed' &&
        kindB.kind === 'compressed' &&
        kindA.format === kindB.format
      ) {
        await this.compareCompressed(path, kindA.format, [a, b], [headA, headB], depth, {
          digests,
          layers,
        })
        return
      }
      if (kindA.kind === 'archive' && kindB.kind === 'archive' && kindA.format === kindB.format) {
        await this.compareArchives(path, kindA.format, a, b, depth, digests, layers)
        return
      }
      await this.compareLeaf(path, a, b, [kindA, kindB], digests, layers)
    } catch (err) {
      if (endsTheDiff(err)) throw err
      if (isMemberTooLarge(err)) {
        await this.compareByDigest(path, a, b)
      } else {
        this.items.push({ path, kind: 'error', message: errorText(err), hints: [] })
      }
    }
  }

  /**
   * Two sides too large to compare for content, compared by what they hold: read through
   * once more, in constant memory and under the budget's byte and ratio limits. The same
   * content is no difference (a gzip's header alone differed, its 300 MB inside did not);
   * other content is reported with both digests and sizes, and why it was not shown.
   */
  private async compareByDigest(path: string, a: ByteSource, b: ByteSource): Promise<void> {
    let sums: [{ sha256: string; size: number }, { sha256: string; size: number }]
    try {
      // Side by side, but for two sides whose decoder reads one stream at a time.
      sums =
        a.exclusive === true && b.exclusive === true
          ? [await this.sizedDigestOf(a), await this.sizedDigestOf(b)]
          : await Promise.all([this.sizedDigestOf(a), this.sizedDigestOf(b)])
    } catch (err) {
      if (endsTheDiff(err)) throw err
      this.items.push({ path, kind: 'error', message: errorText(err), hints: [] })
      return
    }
    if (sums[0].sha256 === sums[1].sha256) return
    this.items.push({
      path,
      kind: 'content',
      digests: [sums[0].sha256, sums[1].sha256],
      sizes: [sums[0].size, sums[1].size],
      // The sizes read through, not how far the first read went before it stopped.
      message: `over the ${this.budget.limits.maxMemberBytes}-byte limit of a member read whole into memory (raise it with --max-member-bytes): compared by digest and size only`,
      hints: [],
    })
  }

  private async sizedDigestOf(source: ByteSource): Promise<{ sha256: string; size: number }> {
    const hash = crypto.createHash('sha256')
    let size = 0
    for await (const chunk of source.open()) {
      this.throwIfAborted()
      hash.update(chunk as Buffer)
      size += (chunk as Buffer).length
    }
    return { sha256: hash.digest('hex'), size }
  }

  /**
   * Two streams of one compression: the headers' fields (gzip's mtime and name), then
   * the content inside, compared as any other; bytes that differ with neither is the
   * compressor's doing, and said so.
   */
  private async compareCompressed(
    path: string,
    format: Compression,
    [a, b]: readonly [ByteSource, ByteSource],
    [headA, headB]: readonly [Buffer, Buffer],
    depth: number,
    { digests, layers }: { digests: [string, string] | undefined; layers: readonly string[] },
  ): Promise<void> {
    // Loaded when a compressed stream is met: zlib and child_process are 4 ms of a
    // 90 ms diff of two object files, which never needs them.
    const { compressionHeader, decompressedSource, readGzipHeader } =
      await import('../formats/compressed.js')
    // A gzip header read once: its fields, and its length (its name and extra field vary
    // it). One longer than the first bytes read (an extra field, a name or a comment past
    // them) is read again whole, up to a bound: compared cut short, two that differ at
    // their ends were "the same header", and the difference was blamed on compression.
    const whole = async (source: ByteSource, head: Buffer): Promise<Buffer> =>
      readGzipHeader(head).length === undefined && head.length >= 1024
        ? await readHead(source, GZIP_HEADER_BOUND)
        : head
    const gzip =
      format === 'gzip'
        ? ([readGzipHeader(await whole(a, headA)), readGzipHeader(await whole(b, headB))] as const)
        : undefined
    // Beyond the bound, the headers are not known to be the same, whatever their start says.
    const fields = diffFields(
      gzip?.[0].fields ?? compressionHeader(format, headA),
      gzip?.[1].fields ?? compressionHeader(format, headB),
    )
    const cut = (g: { length: number | undefined }): string =>
      g.length === undefined ? `longer than ${GZIP_HEADER_BOUND} bytes` : 'whole'
    if (gzip?.some((g) => g.length === undefined))
      fields.push({ field: 'header', a: cut(gzip[0]), b: cut(gzip[1]) })
    const header: DiffItem | undefined =
      fields.length === 0 ? undefined : { path, kind: 'metadata', format, fields, hints: [] }
    if (header !== undefined) this.items.push(header)
    const inner: [ByteSource, ByteSource] = [
      decompressedSource(a, format, this.budget, headA),
      decompressedSource(b, format, this.budget, headB),
    ]
    const before = this.items.length
    await this.compare(path, inner[0], inner[1], depth + 1, undefined, [
      EXTENSION[format],
      ...layers,
    ])
    // Told only now whether the content inside differs: if it does, another level or
    // block size is no cause of its own.
    if (header !== undefined)
      header.hints = fieldHints(fields, { contentDiffers: this.items.length > before })
    // Content that differs does not make a later member's header the same: a stream of
    // several members (an appending writer, bgzip) is walked when either side may have
    // one, so that what else differs reaches the report too.
    if (
      format === 'gzip' &&
      this.items.length > before &&
      (await import('../formats/gzip-members.js').then(
        async ({ mayHoldLaterMember }) =>
          (await mayHoldLaterMember(a)) || (await mayHoldLaterMember(b)),
      ))
    ) {
      const later = await this.laterGzipHeaders(path, a, b, true)
      if (later !== undefined) this.items.push(later)
      return
    }
    // Same content: the compressed bytes differ, but a header that differs may be
    // all of it (gzip's mtime, or its name, which makes the file longer). Only bodies of
    // other sizes surely differ beside it.
    const [lengthA, lengthB] = gzip === undefined ? [0, 0] : [gzip[0].length, gzip[1].length]
    // Bodies of one size may still differ (another deflate encoding, a later member's
    // header): read past the headers to know, rather than take the header for all of it.
    const bodiesDiffer =
      header === undefined ||
      lengthA === undefined ||
      lengthB === undefined ||
      (a.size >= 0 && b.size >= 0 && a.size - lengthA !== b.size - lengthB) ||
      (this.items.length === before &&
        (await digestOf(a, lengthA)) !== (await digestOf(b, lengthB)))
    if (this.items.length === before && bodiesDiffer && (await this.bytesDiffer(a, b, digests))) {
      // A gzip of several members: a later member's header may be what differs.
      const later = format === 'gzip' ? await this.laterGzipHeaders(path, a, b, false) : undefined
      if (later !== undefined) {
        this.items.push(later)
        return
      }
      // A zstd stream's skippable frames (a seek table, a writer's metadata) hold no
      // content: when they differ and the data frames do not, no compressor is to blame.
      const skippable = format === 'zstd' ? await this.zstdSkippableFrames(path, a, b) : undefined
      if (skippable !== undefined) {
        this.items.push(skippable.item)
        if (!skippable.dataDiffers) return
      }
      this.items.push({
        path,
        kind: 'content',
        format,
        message:
          header === undefined
            ? 'the compressed bytes differ; the header and the decompressed content do not'
            : 'the compressed bytes differ beside the header; the decompressed content does not',
        hints: [
          {
            cause: 'compression',
            evidence: `${header === undefined ? `same ${format} header and content` : 'same content'}, different compressed bytes (level, implementation or trailing data)`,
            fix: 'compress with the same tool, version and level on both sides (gzip -n -9), or compare with reproof normalize --mode compare',
          },
        ],
      })
    }
  }

  private async compareArchives(
    path: string,
    format: ArchiveFormat,
    a: ByteSource,
    b: ByteSource,
    depth: number,
    digests: [string, string] | undefined,
    layers: readonly string[],
  ): Promise<void> {
    // What this archive holds in memory, given back as its members are compared and,
    // whatever is left, when it is done.
    let reserved = 0
    const hold = (key: string, size: number, keepView?: (piece: Buffer) => boolean) => {
      if (this.held + size > HELD_BYTES) return undefined
      this.held += size
      reserved += size
      return memorySink(`${path}!${key}`, keepView)
    }
    const release = (source: ByteSource | undefined): void => {
      const size = source?.buffer?.length ?? 0
      this.held -= size
      reserved -= size
    }
    // A block a kept view holds alive counts against what is held over every level, until
    // this archive is done.
    const retain = (bytes: number): boolean => {
      if (this.held + bytes > HELD_BYTES) return false
      this.held += bytes
      reserved += bytes
      return true
    }
    try {
      await this.compareArchivesHeld(
        path,
        format,
        [a, b],
        depth,
        { digests, layers },
        hold,
        release,
        retain,
      )
    } finally {
      this.held -= reserved
    }
  }

  private async compareArchivesHeld(
    path: string,
    format: ArchiveFormat,
    [a, b]: readonly [ByteSource, ByteSource],
    depth: number,
    { digests, layers }: { digests: [string, string] | undefined; layers: readonly string[] },
    hold: (
      key: string,
      size: number,
      keepView?: (piece: Buffer) => boolean,
    ) => MemberSink | undefined,
    release: (source: ByteSource | undefined) => void,
    retain: (bytes: number) => boolean,
  ): Promise<void> {
    // The first pass keeps small members as views of the blocks they were read in where
    // it can: every block kept is charged in full, once, beside the members' sizes, so
    // that what is held stays under EAGER_TOTAL_BYTES however the members lie.
    let eager = 0
    const kept = new Set<ArrayBufferLike>()
    const keepView = (piece: Buffer): boolean => {
      if (kept.has(piece.buffer)) return true
      if (eager + piece.buffer.byteLength > EAGER_TOTAL_BYTES) return false
      if (!retain(piece.buffer.byteLength)) return false
      kept.add(piece.buffer)
      eager += piece.buffer.byteLength
      return true
    }
    const eagerly: WantMember = (key, size) => {
      if (size > EAGER_MEMBER_BYTES || eager + size > EAGER_TOTAL_BYTES) return undefined
      eager += size
      return hold(key, size, keepView)
    }
    // Zip members are keyed by their compressed bytes and read again at will, a tar on
    // disk is read again cheaply: no eager pass.
    const sides = [a, b] as const
    const first = await this.scanBoth(path, format, a, b, (side) =>
      format === 'zip' ||
      (ARCHIVES[format].readsFilesAgainCheaply === true && sides[side].file !== undefined)
        ? never
        : eagerly,
    )
    // A side that cannot be read as the archive it claims to be is reported as such.
    if (first === undefined) return
    const [scanA, scanB] = first
    // Items are named by A's path; a warning says which side it is of, once for both.
    const warningsOf = (scan: ScanResult): string[] => [
      ...scan.inventory.warnings,
      ...duplicateWarnings(scan.inventory.members),
    ]
    const [warnedA, warnedB] = [warningsOf(scanA), warningsOf(scanB)]
    for (const warning of warnedA)
      this.warnings.push(`${path} (${warnedB.includes(warning) ? 'A and B' : 'A'}): ${warning}`)
    for (const warning of warnedB)
      if (!warnedA.includes(warning)) this.warnings.push(`${path} (B): ${warning}`)
    const [offsetsA, offsetsB] = [scanA.inventory.headerOffsets, scanB.inventory.headerOffsets]
    if (offsetsA !== undefined && offsetsB !== undefined)
      this.arMembers.set(path, [offsetsA, offsetsB])
    const containerFields = diffFields(scanA.inventory.meta, scanB.inventory.meta)
    const before = this.items.length
    this.items.push({
      path,
      kind: 'content',
      format: [format, ...layers].join('.'),
      nested: true,
      ...(digests === undefined ? {} : { digests }),
      fields: containerFields,
      hints: fieldHints(containerFields),
    })
    const inventories = compareInventories(path, scanA.inventory, scanB.inventory)
    appendAll(this.items, inventories.items)
    this.compared += inventories.compared
    // Members kept in the first pass that turned out the same are given back at once.
    const differing = [
      new Set(inventories.differing.map(([k]) => k)),
      new Set(inventories.differing.map(([, k]) => k)),
    ] as const
    for (const [scan, keys] of [
      [scanA, differing[0]],
      [scanB, differing[1]],
    ] as const) {
      for (const [key, source] of scan.captured) {
        if (keys.has(key)) continue
        release(source)
        scan.captured.delete(key)
      }
    }
    const members = [membersByKey(scanA.inventory), membersByKey(scanB.inventory)] as const
    // A member's metadata item, found by its path in one step whatever the member count.
    const inventoryItem = new Map<string, DiffItem>()
    for (const item of inventories.items) {
      const seen = inventoryItem.get(item.path)
      if (seen === undefined || (seen.kind !== 'metadata' && item.kind === 'metadata'))
        inventoryItem.set(item.path, item)
    }
    // A batch is planned in memory bytes; a spooled member weighs what its size is of
    // BATCH_SPOOL_BYTES, so that a batch also spools no more than that.
    const weight = (size: number | undefined): number =>
      size === undefined
        ? 0
        : size <= MEMBER_MEMORY_BYTES
          ? size
          : Math.ceil((size * BATCH_MEMORY_BYTES) / BATCH_SPOOL_BYTES)
    const sizeOf = ([keyA, keyB]: readonly [string, string]): number =>
      weight(members[0].get(keyA)?.size) + weight(members[1].get(keyB)?.size)
    // Differing members are compared a batch at a time, each batch given back (memory
    // and spool) before the next is read.
    for (const batch of inBatches(inventories.differing, sizeOf, BATCH_MEMORY_BYTES)) {
      const spool = new Spool()
      try {
        const captured = await this.captureDiffering(path, format, [a, b], first, batch, {
          spool,
          hold,
        })
        // Members held in memory (either side) are compared and given back first, so
        // that a member read from the spool (a nested archive, a leaf read whole) is
        // compared with nothing of this batch still held; their items go back in the
        // batch's order.
        const inMemory = ([keyA, keyB]: readonly [string, string]): boolean =>
          captured[0].get(keyA)?.buffer !== undefined || captured[1].get(keyB)?.buffer !== undefined
        const entries = [...batch.entries()]
        const order = [
          ...entries.filter(([, keys]) => inMemory(keys)),
          ...entries.filter(([, keys]) => !inMemory(keys)),
        ]
        const itemsOf = new Map<number, DiffItem[]>()
        for (const [index, [keyA, keyB]] of order) {
          const memberA = members[0].get(keyA)
          const memberB = members[1].get(keyB)
          if (memberA === undefined || memberB === undefined) continue
          const found = this.items.length
          await this.compareMembers(
            path,
            memberA,
            memberB,
            captured[0].get(keyA),
            captured[1].get(keyB),
            depth,
          )
          // A zip member is keyed by its compressed bytes: read, its content proved the
          // same, so its metadata item says so, with the compression it then shows.
          const bothRead = captured[0].has(keyA) && captured[1].has(keyB)
          // Items are found by path: where two members share a name, whose item is whose
          // is not known, and neither is said to be the same.
          const named = (side: 0 | 1, name: string): boolean => members[side].has(`${name}#2`)
          const alone = !named(0, memberA.name) && !named(1, memberB.name)
          if (
            bothRead &&
            alone &&
            this.items.length === found &&
            memberA.sha256.startsWith('zip:')
          ) {
            const memberPath = `${path}!${memberA.key}`
            const listed = inventoryItem.get(memberPath)
            const checks = checksBesideSameContent(memberA, memberB)
            if (listed !== undefined) contentProvedSame(listed, checks)
            // The same content in other compressed bytes, and nothing else of it differs:
            // another deflate level or implementation. Said of the member itself.
            else if (memberA.sha256 !== memberB.sha256 || checks.length > 0)
              this.items.push(recompressedItem(memberPath, memberA, memberB, checks))
          }
          release(captured[0].get(keyA))
          release(captured[1].get(keyB))
          for (const held of [captured[0], scanA.captured]) held.delete(keyA)
          for (const held of [captured[1], scanB.captured]) held.delete(keyB)
          itemsOf.set(index, this.items.splice(found))
        }
        for (const index of batch.keys()) appendAll(this.items, itemsOf.get(index) ?? [])
      } finally {
        spool.remove()
      }
    }
    // An archive whose only difference is its own bytes still says so.
    await this.settleContainer(before, format, containerFields.length > 0, [a, b], digests)
  }

  /**
   * The content of every differing member, from the first pass where it was kept there,
   * else from a second, targeted pass over both archives (members too large for the first).
   */
  private async captureDiffering(
    path: string,
    format: ArchiveFormat,
    [a, b]: readonly [ByteSource, ByteSource],
    [scanA, scanB]: readonly [ScanResult, ScanResult],
    differing: readonly (readonly [string, string])[],
    { spool, hold }: { spool: Spool; hold: (key: string, size: number) => MemberSink | undefined },
  ): Promise<readonly [Map<string, ByteSource>, Map<string, ByteSource>]> {
    const missing = [
      new Set(differing.map(([k]) => k).filter((k) => !scanA.captured.has(k))),
      new Set(differing.map(([, k]) => k).filter((k) => !scanB.captured.has(k))),
    ] as const
    if (missing[0].size === 0 && missing[1].size === 0) return [scanA.captured, scanB.captured]
    const fits =
      (side: 0 | 1): WantMember =>
      (key, size) => {
        if (!missing[side].has(key) || size > this.options.limits.maxMemberBytes) return undefined
        const held = size <= MEMBER_MEMORY_BYTES ? hold(key, size) : undefined
        return held ?? spool.sink(`${path}!${key}`)
      }
    // The same entries again: counted once, by the first read.
    const second = await this.scanBoth(path, format, a, b, fits, this.budget.rereading())
    if (second === undefined) return [scanA.captured, scanB.captured]
    return [
      new Map([...scanA.captured, ...second[0].captured]),
      new Map([...scanB.captured, ...second[1].captured]),
    ]
  }

  /** Two members of the same key whose content differs: compared in depth, or named too large. */
  private async compareMembers(
    path: string,
    memberA: MemberInfo,
    memberB: MemberInfo,
    bytesA: ByteSource | undefined,
    bytesB: ByteSource | undefined,
    depth: number,
  ): Promise<void> {
    const memberPath = `${path}!${memberA.key}`
    if (bytesA === undefined || bytesB === undefined) {
      const size = Math.max(memberA.size, memberB.size)
      const limit = this.options.limits.maxMemberBytes
      this.items.push({
        path: memberPath,
        kind: 'content',
        ...contentDigests(memberA, memberB),
        sizes: [memberA.size, memberB.size],
        // Not kept either because it is too large, or because reading the archive a
        // second time failed (that error is an item of its own).
        message:
          size > limit
            ? memberTooLarge(memberPath, size, limit).message
            : `${memberPath}: its content could not be read a second time to compare it (see the archive's error)`,
        hints: [],
      })
      return
    }
    await this.compare(
      memberPath,
      { ...bytesA, label: memberPath },
      { ...bytesB, label: memberPath },
      depth + 1,
      contentDigests(memberA, memberB).digests,
    )
  }

  /**
   * The archive's own item, at `before`, once its members are compared. When nothing
   * else was found and its own fields are equal, it is dropped if the archives' bytes are
   * not known to differ (inside a compression layer nothing says they do), and otherwise
   * says that only the archive bytes differ (padding, trailers, compression).
   */
  private async settleContainer(
    before: number,
    format: ArchiveFormat,
    ownFieldsDiffer: boolean,
    [a, b]: readonly [ByteSource, ByteSource],
    digests: [string, string] | undefined,
  ): Promise<void> {
    const container = this.items[before]
    if (this.items.length !== before + 1 || container === undefined || ownFieldsDiffer) return
    if (!(await this.bytesDiffer(a, b, digests))) {
      this.items.pop()
      return
    }
    container.nested = false
    // A member in other compressed bytes has an item of its own (compareArchive), so what
    // is left here is the format's own bytes: header fields no member owns, fields of a
    // zip's headers and directory not compared, padding, what follows its end. They tell
    // no cause of their own.
    container.message =
      format === 'zip'
        ? "members, their metadata and their compressed bytes are identical; the archive's own bytes differ (fields of its headers and directory not compared, padding, or what follows its end)"
        : "members and their metadata are identical; the archive's own bytes differ (format fields, padding, or what follows its end)"
    // No cause of their own, and said so, with what is known: the sizes (GNU tar's 10 KiB
    // records against another writer's, or another -b, were a line with no cause at all).
    // (A stream read through its decompression has no size until it is read.)
    const known = a.size >= 0 && b.size >= 0
    const sizes = !known
      ? ''
      : a.size === b.size
        ? `, in archives of both ${a.size.toLocaleString('en-US')} bytes`
        : `, in archives of ${a.size.toLocaleString('en-US')} bytes in A and ${b.size.toLocaleString('en-US')} in B`
    const how = !known
      ? 'a field no member owns, a record size or alignment, or bytes after the end'
      : a.size === b.size
        ? 'a field no member owns'
        : 'a record size or alignment, or bytes after the end'
    container.hints = [
      {
        cause: 'unexplained',
        evidence: `the same members${sizes}: their writers laid them out apart (${how})`,
        fix: `write both with one archiver and the same options${format === 'tar' ? ' (GNU tar pads to 10 KiB records; -b sets the record size)' : ''}, or compare the members only: reproof normalize --canonical makes such archives the same bytes`,
      },
    ]
  }

  /**
   * The headers of every member of two gzip files after the first (`cat a.gz b.gz`, or
   * what an appending writer leaves), where any differs: numbered by member (`mtime 2`).
   * Undefined when none does, or when the files are not on disk or not clean runs of
   * members (the content comparison has said what it could).
   */
  private async laterGzipHeaders(
    path: string,
    a: ByteSource,
    b: ByteSource,
    contentDiffers: boolean,
  ): Promise<DiffItem | undefined> {
    const { gzipBodyOffset, gzipMembers } = await import('../formats/gzip-members.js')
    const { parseGzipHeader } = await import('../formats/compressed.js')
    // The members are read from a file: a gzip held in memory (a member of an archive)
    // or known only as a stream (inside another compression, xz over gzip) is written to
    // the spool first, so that one inside a tar or an xz is read as one outside. (A
    // gzip that could not be walked gave no item, and the caller called the difference
    // the compressor's, with the later headers unread.)
    const spool = new Spool()
    const onDisk = async (source: ByteSource): Promise<string | undefined> => {
      // A tree's file that may change is read through the spool, as one in memory is.
      if (typeof source.file === 'string' && source.noFollow !== true) return source.file
      const sink = spool.sink(path)
      if (source.buffer !== undefined) sink.add(source.buffer)
      else for await (const chunk of source.open()) sink.add(chunk as Buffer)
      const file = sink.done().file
      return typeof file === 'string' ? file : undefined
    }
    const members = async (file: string | undefined) =>
      file === undefined
        ? undefined
        : gzipMembers(file, this.budget, (head) => gzipBodyOffset(head, file)).catch(
            // The later headers are what could be read, and none is news; a stop or a
            // limit crossed is: swallowed, Ctrl-C and the bound on entries went unheard.
            (err: unknown) => {
              if (
                err instanceof ReproofError &&
                (err.code === 'E_INTERRUPTED' || err.context.limit !== undefined)
              )
                throw err
              return undefined
            },
          )
    let x: Awaited<ReturnType<typeof gzipMembers>>
    let y: Awaited<ReturnType<typeof gzipMembers>>
    try {
      x = await members(await onDisk(a))
      y = await members(await onDisk(b))
    } finally {
      spool.remove()
    }
    if (x === undefined || y === undefined) return undefined
    const fields: FieldDifference[] =
      x.length === y.length
        ? x
            .slice(1)
            .flatMap((member, i) =>
              diffFields(
                parseGzipHeader(member.header),
                parseGzipHeader(y[i + 1]?.header ?? Buffer.alloc(0)),
              ).map((f) => ({ ...f, field: `${f.field} ${i + 2}` })),
            )
        : [{ field: 'gzip members', a: String(x.length), b: String(y.length) }]
    if (fields.length === 0) return undefined
    // Hints read each field by its own name, as the first member's would be.
    const hints = fieldHints(
      fields.map((f) => ({ ...f, field: f.field.replace(/ \d+$/, '') })),
      { contentDiffers },
    )
    return { path, kind: 'metadata', format: 'gzip', fields, hints }
  }

  /**
   * Two zstd streams of the same content, compared frame by frame: an item naming the
   * skippable frames that differ, and whether the data frames differ too; undefined when
   * the skippable frames are the same (or a stream could not be walked: the caller's
   * cause stands, as before).
   */
  private async zstdSkippableFrames(
    path: string,
    a: ByteSource,
    b: ByteSource,
  ): Promise<{ item: DiffItem; dataDiffers: boolean } | undefined> {
    const { zstdLayout, SKIPPABLE_SHOWN } = await import('../formats/zstd-frames.js')
    this.throwIfAborted()
    let x: Awaited<ReturnType<typeof zstdLayout>>
    let y: Awaited<ReturnType<typeof zstdLayout>>
    try {
      ;[x, y] = await Promise.all([zstdLayout(a.open(), a.label), zstdLayout(b.open(), b.label)])
    } catch {
      return undefined
    }
    if (x.skippableSha256 === y.skippableSha256) return undefined
    const describe = (f: SkippableFrame | undefined): string =>
      f === undefined
        ? 'none'
        : `magic 0x${f.magic.toString(16)} at byte ${f.at} (after ${f.dataBefore} bytes of data frames), ${f.size} bytes, sha256:${f.sha256}, starting "${printableName(f.head.toString('latin1'))}"`
    const fields: FieldDifference[] = []
    for (let i = 0; i < Math.max(x.skippable.length, y.skippable.length); i++) {
      const [p, q] = [x.skippable[i], y.skippable[i]]
      if (
        p?.magic === q?.magic &&
        p?.size === q?.size &&
        p?.sha256 === q?.sha256 &&
        p?.dataBefore === q?.dataBefore
      )
        continue
      fields.push({ field: `skippable frame ${i + 1}`, a: describe(p), b: describe(q) })
    }
    if (x.skippableCount !== y.skippableCount)
      fields.push({
        field: 'skippable frames',
        a: String(x.skippableCount),
        b: String(y.skippableCount),
      })
    // Past the frames shown, the two may still differ: say so rather than nothing.
    if (fields.length === 0)
      fields.push({
        field: `skippable frames after the first ${SKIPPABLE_SHOWN}`,
        a: `sha256:${x.skippableSha256}`,
        b: `sha256:${y.skippableSha256}`,
      })
    const dataDiffers = x.dataSha256 !== y.dataSha256
    return {
      item: {
        path,
        kind: 'metadata',
        format: 'zstd',
        fields,
        hints: [
          {
            cause: 'unexplained',
            evidence: `the skippable frames differ (data outside the compressed content: a seekable stream's seek table, or the writer's own metadata)${dataDiffers ? '' : '; the data frames are identical'}`,
            fix: UNEXPLAINED_FIX,
          },
        ],
      },
      dataDiffers,
    }
  }

  /**
   * Whether two sources' bytes differ: known from their digests (compare() returns early
   * on equal ones) or their buffers, else read through again (a member spooled to disk,
   * a decompressed stream) rather than assumed either way.
   */
  private async bytesDiffer(
    a: ByteSource,
    b: ByteSource,
    digests: [string, string] | undefined,
  ): Promise<boolean> {
    if (digests !== undefined) return digests[0] !== digests[1]
    if (a.buffer !== undefined && b.buffer !== undefined) return !a.buffer.equals(b.buffer)
    this.throwIfAborted()
    const [x, y] = await Promise.all([digestOf(a), digestOf(b)])
    return x !== y
  }

  private async scanBoth(
    path: string,
    format: ArchiveFormat,
    a: ByteSource,
    b: ByteSource,
    want: (side: 0 | 1) => WantMember,
    budget: Budget = this.budget,
  ): Promise<[ScanResult, ScanResult] | undefined> {
    // Each format's reader (and its library) loads the first time that format is met.
    const scan = (source: ByteSource, side: 0 | 1): Promise<ScanResult> =>
      ARCHIVES[format].scan(
        source,
        path,
        // A tar inside a gzip: its bytes were counted as the gzip's decompressed ones. Not
        // a zip's or an rpm's, whose members are decompressed again, into other bytes.
        source.counted === true && COUNTED_BY_DECODER.has(format) ? budget.decoded() : budget,
        want(side),
      )
    const results = await Promise.allSettled([scan(a, 0), scan(b, 1)])
    const [ra, rb] = results
    for (const [side, result] of [
      ['A', ra],
      ['B', rb],
    ] as const) {
      if (result.status === 'rejected') {
        if (endsTheDiff(result.reason)) throw result.reason
        this.items.push({
          path,
          kind: 'error',
          message: `side ${side}: ${errorText(result.reason)}`,
          hints: [],
        })
      }
    }
    if (ra.status === 'fulfilled' && rb.status === 'fulfilled') return [ra.value, rb.value]
    return undefined
  }

  private async compareLeaf(
    path: string,
    a: ByteSource,
    b: ByteSource,
    kinds: [Detected, Detected],
    digests: [string, string] | undefined,
    layers: readonly string[],
  ): Promise<void> {
    const suffix = layers.map((l) => `.${l}`).join('')
    for (const side of [a, b]) if (side.size >= 0) this.budget.checkMemberSize(side.size, path)
    const spool = new Spool()
    try {
      const [heldA, heldB] =
        a.exclusive === true && b.exclusive === true
          ? await this.oneAfterTheOther(path, a, b, spool)
          : await bothSides(
              readUpTo(a, LEAF_MEMORY_BYTES),
              readUpTo(b, LEAF_MEMORY_BYTES),
              // A side read past what is held keeps its stream (and a decoder program) open:
              // left so, the process never ended after its report.
              (held) => {
                if ('more' in held) held.more.destroy()
              },
            )
      if (!('whole' in heldA) || !('whole' in heldB)) {
        // Each side goes on from where it stands: read once, charged to the budget once.
        const reading = (held: typeof heldA): Reading =>
          'more' in held
            ? held.more
            : { read: [held.whole], rest: noMore(), destroy: () => undefined }
        await this.compareStreamed(path, [reading(heldA), reading(heldB)], kinds, suffix)
        return
      }
      await this.compareHeld(path, [heldA.whole, heldB.whole], kinds, digests, suffix)
    } finally {
      spool.remove()
    }
  }

  /**
   * Two sides whose decoder decodes one stream at a time (ByteSource.exclusive): A is
   * read first, and what of it is past what is held in memory goes to the spool, so that
   * its stream ends (and lets go of the decoder) before B's is read. Read side by side,
   * each waited on the other for ever.
   */
  private async oneAfterTheOther(
    path: string,
    a: ByteSource,
    b: ByteSource,
    spool: Spool,
  ): Promise<[{ whole: Buffer } | { more: Reading }, { whole: Buffer } | { more: Reading }]> {
    const heldA = await readUpTo(a, LEAF_MEMORY_BYTES)
    if ('whole' in heldA) return [heldA, await readUpTo(b, LEAF_MEMORY_BYTES)]
    const { more } = heldA
    let rest: ByteSource
    try {
      const sink = spool.sink(path)
      let size = 0
      for (const chunk of more.read) {
        sink.add(chunk)
        size += chunk.length
      }
      for (;;) {
        const next = await more.rest.next()
        if (next.done === true) break
        size += next.value.length
        this.throwIfAborted()
        this.budget.checkMemberSize(size, path)
        sink.add(next.value)
      }
      rest = sink.done()
    } finally {
      more.destroy()
    }
    return [{ more: startReading(rest) }, await readUpTo(b, LEAF_MEMORY_BYTES)]
  }

  /** Two sides held whole: the text or binary comparison, with its structure and causes. */
  private async compareHeld(
    path: string,
    [bytesA, bytesB]: readonly [Buffer, Buffer],
    kinds: [Detected, Detected],
    digests: [string, string] | undefined,
    suffix: string,
  ): Promise<void> {
    for (const held of [bytesA, bytesB]) this.budget.checkMemberSize(held.length, path)
    if (bytesA.equals(bytesB)) return
    const sums: [string, string] = digests ?? [sha256(bytesA), sha256(bytesB)]
    const base: ContentItem = {
      path,
      kind: 'content',
      digests: sums,
      sizes: [bytesA.length, bytesB.length],
      hints: [],
    }
    const textual =
      kinds[0].kind === 'text' &&
      kinds[1].kind === 'text' &&
      looksLikeText(bytesA, true) &&
      looksLikeText(bytesB, true)
    const text = textual ? await this.timedTextDiff(bytesA, bytesB, path) : undefined
    if (text !== undefined) {
      this.items.push({
        ...base,
        format: `text${suffix}`,
        text: { unified: text.unified, truncated: text.truncated },
        hints: contentHints(bytesA, bytesB, { text }, this.options.context),
      })
      return
    }
    this.items.push(this.binaryItem(base, bytesA, bytesB, kinds, suffix))
  }

  /**
   * A text diff within what is left of the comparison's time for them; none once it is
   * spent (the item is then shown as binary), said once in the warnings.
   */
  private async timedTextDiff(
    bytesA: Buffer,
    bytesB: Buffer,
    path: string,
  ): Promise<TextDiff | undefined> {
    if (this.textDiffMsLeft <= 0) {
      if (!this.textDiffsSpent)
        this.warnings.push(
          `text diffs took ${(this.options.textDiffsMs ?? TEXT_DIFFS_TOTAL_MS) / 1000} s in all: ${path} and the differing text files after it are shown as binary places, not as lines`,
        )
      this.textDiffsSpent = true
      return undefined
    }
    const started = performance.now()
    try {
      return await diffText(
        bytesA.toString('utf8'),
        bytesB.toString('utf8'),
        [`a/${path}`, `b/${path}`],
        this.options.maxLines,
        this.textDiffMsLeft,
      )
    } finally {
      this.textDiffMsLeft -= performance.now() - started
    }
  }

  /**
   * Two held binaries: every differing place, named by its ELF section where A is ELF;
   * the structure that differs (ELF sections, Java class constants and methods); the
   * header fields of formats with known time fields; and the causes all of it shows.
   */
  private binaryItem(
    base: ContentItem,
    bytesA: Buffer,
    bytesB: Buffer,
    kinds: [Detected, Detected],
    suffix: string,
  ): DiffItem {
    const binary = diffBinary(bytesA, bytesB)
    // A's layout is read once, for the places' sections and the section comparison.
    const layout = elfLayout(bytesA)
    const regions = describeRegions(bytesA, bytesB, binary, layout)
    // A .pyc's or a class's comparison is complete: it also says whether a path or a
    // time accounts for every byte that differs.
    const compared =
      layout === undefined
        ? looksLikePyc(bytesA) && looksLikePyc(bytesB)
          ? { kind: 'pyc' as const, found: comparePycs(bytesA, bytesB) }
          : { kind: 'java-class' as const, found: compareClasses(bytesA, bytesB) }
        : undefined
    const explanation = compared?.found?.explanation
    const structure: StructureDifference | undefined =
      compared === undefined
        ? withStructure('elf', compareElfSections(bytesA, bytesB, layout))
        : withStructure(compared.kind, compared.found)
    const { fields, spans } = headerFields(bytesA, bytesB)
    const format = (structuredFormat(bytesA, bytesB) ?? pairFormat(kinds)) + suffix
    const fromFields = fieldHints(fields)
    const found = withFieldHints(
      fromFields,
      contentHints(
        bytesA,
        bytesB,
        {
          binary,
          // Sections only of a structure reproof reads (or a header whose fields it
          // knows): without, the hints ask what the bytes leave unexplained themselves.
          ...(structure === undefined && fields.length === 0
            ? {}
            : { sections: structure?.sections ?? [] }),
          ...functionOrder(bytesA, bytesB, layout, structure),
        },
        this.options.context,
      ),
    )
    // What a complete comparison of the structure shows joins what the bytes do; where it
    // accounts for every byte, no byte-level check is needed (the bytes after a path of
    // another length have all moved).
    const hints =
      symbolTableHints(base.path, bytesA, bytesB, this.arMembers) ??
      withStructureCauses(found, explanation)
    const complete = explanation !== undefined
    // A field explains only its own bytes: a .pyc whose code changed with its mtime, a PNG
    // whose pixels changed with its tIME, is not explained by the time alone.
    const beyond =
      fromFields.length > 0 && spans !== undefined && !complete
        ? bytesBeyond(bytesA, bytesB, spans.a, spans.b)
        : undefined
    // A format whose fields this file does not let be all located (a damaged or crafted
    // debug directory, a tree that does not hold together, a class file that cannot be
    // read): other bytes may differ, and the field is not said to explain them.
    const unlocated = fromFields.length > 0 && spans === undefined && !complete
    return {
      ...base,
      format,
      binary: {
        offset: binary.offset,
        differingBytes: binary.differingBytes,
        hex: binary.hex,
        places: binary.places,
        regions: regions.regions,
        unlistedPlaces: regions.unlisted,
        ...(structure ?? {}),
      },
      ...(fields.length === 0 ? {} : { fields }),
      hints: hints.concat(
        unlocated
          ? [
              {
                cause: 'unexplained',
                evidence:
                  'the places of the fields named could not all be located in this file, so whether other bytes differ too is not known',
                fix: UNEXPLAINED_FIX,
              },
            ]
          : [],
        beyond === undefined
          ? []
          : [
              {
                cause: 'unexplained',
                evidence: `${beyond.count} differing ${beyond.count === 1 ? 'byte lies' : 'bytes lie'} outside the fields named, the first at offset ${beyond.first} (0x${beyond.first.toString(16)}): the fields do not explain ${beyond.count === 1 ? 'it' : 'them'}`,
                fix: UNEXPLAINED_FIX,
              },
            ],
        // A cause found in an ELF file's strings or layout says nothing of its code, nor
        // of the strings it keeps beside the code (a compiler's flags, an identifier).
        layout !== undefined && hints.some((h) => h.cause !== 'unexplained')
          ? [
              ...codeHints(bytesA, bytesB, this.options.context),
              ...stringHints(bytesA, bytesB, this.options.context),
            ]
          : [],
      ),
    }
  }

  /**
   * Two leaves too large to hold (LEAF_MEMORY_BYTES a side): compared as they stream,
   * every differing place counted and the first shown, but neither their structure nor
   * their text is read, so no cause is offered: a hint needs the bytes around it.
   */
  private async compareStreamed(
    path: string,
    [a, b]: readonly [Reading, Reading],
    kinds: [Detected, Detected],
    suffix: string,
  ): Promise<void> {
    const streamed = await diffStreamed(a, b, (size) => {
      this.throwIfAborted()
      this.budget.checkMemberSize(size, path)
    })
    const { diff, sizes, digests } = streamed
    if (diff.places === 0) return
    const regions = describeRegions(Buffer.alloc(0), Buffer.alloc(0), diff)
    this.items.push({
      path,
      kind: 'content',
      format: pairFormat(kinds) + suffix,
      digests,
      sizes,
      message: `over ${LEAF_MEMORY_BYTES / (1024 * 1024)} MiB: compared as it streamed, so its structure and text were not read and no cause is offered`,
      binary: {
        offset: diff.offset,
        differingBytes: diff.differingBytes,
        hex: diff.hex,
        places: diff.places,
        regions: regions.regions,
        unlistedPlaces: regions.unlisted,
      },
      hints: [],
    })
  }
}

type ContentItem = Extract<DiffItem, { kind: 'content' }>

/** The rest of a reading that has no rest: everything was read already. */
function noMore(): AsyncIterator<Buffer> {
  return { next: () => Promise.resolve({ done: true, value: undefined }) }
}

/** The two sides' formats as one name: `elf`, or `text vs binary` where they differ. */
function pairFormat([a, b]: readonly [Detected, Detected]): string {
  return a.kind === b.kind ? formatName(a) : `${formatName(a)} vs ${formatName(b)}`
}

/**
 * Both ELF files' functions in address order, when both have a symbol table. Read only
 * when the symbol or string table differs: both alike give the same order (reading
 * 3,000 symbols twice was a tenth of an object file's comparison).
 */
function functionOrder(
  a: Buffer,
  b: Buffer,
  layoutA: readonly ElfPart[] | undefined,
  structure: StructureDifference | undefined,
): { functions?: [string[], string[]] } {
  if (layoutA === undefined) return {}
  const tablesAlike =
    structure?.structure === 'elf' &&
    structure.unlistedSections === 0 &&
    !(structure.sections ?? []).some((s) => s.name === '.symtab' || s.name === '.strtab')
  if (tablesAlike) return {}
  const [x, y] = [functionsInOrder(a), functionsInOrder(b)]
  return x === undefined || y === undefined ? {} : { functions: [x, y] }
}

/** `elf`, `java-class` or `pyc` when both sides are one (reproof reads their structure), else undefined. */
function structuredFormat(a: Buffer, b: Buffer): string | undefined {
  if (isElf(a) && isElf(b)) return 'elf'
  if (isJavaClass(a) && isJavaClass(b)) return 'java-class'
  if (isPyc(a) && isPyc(b)) return 'pyc'
  return undefined
}

type StructureDifference = Pick<
  NonNullable<DiffItem['binary']>,
  'structure' | 'sections' | 'unlistedSections'
>

function withStructure(
  structure: 'elf' | 'java-class' | 'pyc',
  found: { sections: ElfSectionDifference[]; unlisted: number } | undefined,
): StructureDifference | undefined {
  return found === undefined || (found.sections.length === 0 && found.unlisted === 0)
    ? undefined
    : { structure, sections: found.sections, unlistedSections: found.unlisted }
}

/**
 * The known header fields (a .pyc's source mtime, a PE's COFF time) that differ, and
 * where both sides' fields lie, when the format locates them all.
 */
function headerFields(
  a: Buffer,
  b: Buffer,
): { fields: FieldDifference[]; spans?: { a: [number, number][]; b: [number, number][] } } {
  const [x, y] = [knownHeaderFields(a), knownHeaderFields(b)]
  if (x === undefined || x.format !== y?.format) return { fields: [] }
  const fields = diffFields(x.fields, y.fields)
  return x.spans === undefined || y.spans === undefined
    ? { fields }
    : { fields, spans: { a: x.spans, b: y.spans } }
}

/**
 * `unexplained` for ELF code or named data that differs beyond the addresses a move
 * changes: a function whose code changed, or a global whose value did, is not explained
 * by the path, time or order found beside it.
 */
function codeHints(a: Buffer, b: Buffer, context: HintContext): Hint[] {
  const code = compareCode(a, b, {
    textExplained: (p, q) => causesBetween(p, q, context) !== undefined,
  })
  if (code === undefined) return []
  if (code.changed.length === 0)
    return code.incomplete
      ? [
          {
            cause: 'unexplained',
            evidence:
              'the code was not compared in full (a section table is missing, it has more symbols and relocations than are compared, 60,000, or it differs in more places than the comparison reads): it may have changed beyond what the cause named explains',
            fix: UNEXPLAINED_FIX,
          },
        ]
      : []
  const count = code.changed.length + code.unlisted
  const shown = code.changed
    .map((c) =>
      c.placeless === true
        ? printableName(c.name)
        : `${c.name === c.section ? 'section ' : ''}${printableName(c.name)} (${printableName(c.section)}${c.offset === -1 ? ', on one side only or of another size' : ` at +0x${c.offset.toString(16)}`})`,
    )
    .join(', ')
  return [
    {
      cause: 'unexplained',
      evidence: `code or data differs beyond the addresses a move changes, in ${count} ${count === 1 ? 'function, object or section' : 'functions, objects or sections'}: ${shown}${code.unlisted > 0 ? `, and ${code.unlisted} more` : ''}${code.incomplete ? ' (the comparison stopped at its bound; there may be more)' : ''}; the cause named does not explain ${count === 1 ? 'it' : 'them'}`,
      fix: UNEXPLAINED_FIX,
    },
  ]
}

/**
 * `unexplained` for a string an ELF file keeps outside its code (.comment, the debug
 * strings) that no build path or time found beside accounts for.
 */
function stringHints(a: Buffer, b: Buffer, context: HintContext): Hint[] {
  const check = checkElfStrings(a, b, {
    explained: (p, q) => causesBetween(p, q, context) !== undefined,
    roots: context.roots,
  })
  return check.ok
    ? []
    : [{ cause: 'unexplained', evidence: describeStringCheck(check), fix: UNEXPLAINED_FIX }]
}

/** A name from a binary as text a terminal shows as it is: other bytes as \xNN. */
function printableName(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

/**
 * The bytes that differ outside the spans (a length that differs counts its extra
 * bytes), and the first of them; undefined when every differing byte lies inside. A byte
 * lies inside when it is in a span of A and in one of B (`spansB`, A's by default): a
 * field one side has where the other has something else explains nothing. Pure, and
 * linear in the bytes and spans.
 */
export function bytesBeyond(
  a: Buffer,
  b: Buffer,
  spans: readonly (readonly [number, number])[],
  spansB: readonly (readonly [number, number])[] = spans,
): { count: number; first: number } | undefined {
  const [inA, inB] = [sweep(spans), sweep(spansB)]
  let count = 0
  let first = -1
  const common = Math.min(a.length, b.length)
  for (let at = 0; at < common; at++) {
    if (a[at] === b[at] || (inA(at) && inB(at))) continue
    count++
    if (first === -1) first = at
  }
  if (a.length !== b.length) {
    count += Math.max(a.length, b.length) - common
    if (first === -1) first = common
  }
  return count === 0 ? undefined : { count, first }
}

/** Whether an offset lies in one of the spans, asked of offsets in increasing order. */
function sweep(spans: readonly (readonly [number, number])[]): (at: number) => boolean {
  const sorted = [...spans].sort((p, q) => p[0] - q[0])
  let i = 0
  let reach = -1
  let start = 0
  return (at) => {
    // Merge every span that starts at or before `at` into the current reach.
    while (i < sorted.length && (sorted[i]?.[0] ?? 0) <= at) {
      const [from = 0, to = 0] = sorted[i] ?? []
      if (from > reach) start = from
      reach = Math.max(reach, to)
      i++
    }
    return at >= start && at < reach
  }
}

/** Hints from known fields first; "unexplained" is dropped once a field explains something. */
function withFieldHints(fromFields: readonly Hint[], fromContent: readonly Hint[]): Hint[] {
  const rest = fromContent.filter(
    (h) =>
      !fromFields.some((f) => f.cause === h.cause) &&
      !(h.cause === 'unexplained' && fromFields.length > 0),
  )
  return [...fromFields, ...rest]
}

/** A member's metadata item, once its content was read and found the same on both sides. */
function contentProvedSame(item: DiffItem, checks: readonly FieldDifference[]): void {
  if (item.kind !== 'metadata') return
  item.fields = [...item.fields, ...checks]
  item.message = sameContentMessage(checks)
  item.hints = fieldHints(item.fields.filter((f) => !checks.includes(f)))
}

/**
 * What a member whose content is proved the same says, with the checks beside it that
 * differ: one side's CRC-32 or size is then not its content's, and a reader that checks
 * it refuses that side. No cause is given for it: it is a damaged or forged header.
 */
function sameContentMessage(checks: readonly FieldDifference[]): string {
  return checks.length === 0
    ? 'content identical'
    : `content identical, yet its ${checks.map((f) => f.field).join(' and ')} ${checks.length === 1 ? 'differs' : 'differ'}: one side's is not its content's (a reader that checks it refuses that side)`
}

/** A zip member whose content is the same in other compressed bytes. */
function recompressedItem(
  path: string,
  a: MemberInfo,
  b: MemberInfo,
  checks: readonly FieldDifference[],
): DiffItem {
  const field = {
    field: 'compressed bytes',
    a: `sha256:${a.sha256.slice('zip:'.length)}`,
    b: `sha256:${b.sha256.slice('zip:'.length)}`,
  }
  const recompressed = a.sha256 !== b.sha256
  return {
    path,
    kind: 'metadata',
    message: sameContentMessage(checks),
    fields: [...(recompressed ? [field] : []), ...checks],
    hints: recompressed
      ? [
          {
            cause: 'compression',
            evidence: `the same content in other compressed bytes (${field.a.slice(0, 19)}… → ${field.b.slice(0, 19)}…)`,
            fix: 'use the same compressor, version and level on both sides (or compare with reproof normalize --mode compare)',
          },
        ]
      : [],
  }
}

/** Members' content digests, where the scanner computed them (zip keys hash compressed bytes). */
function contentDigests(a: MemberInfo, b: MemberInfo): { digests?: [string, string] } {
  return a.sha256.startsWith('zip:') || b.sha256.startsWith('zip:')
    ? {}
    : { digests: [a.sha256, b.sha256] }
}

/**
 * Both sides' reads, read side by side; when both fail, A's failure is the one reported
 * (not whichever came first, which made the same pair's report name either side).
 */
async function bothSides<T>(
  a: Promise<T>,
  b: Promise<T>,
  /** Lets go of a side that was read when the other failed (a stream held open, a program running). */
  release: (value: T) => void = () => undefined,
): Promise<[T, T]> {
  const [x, y] = await Promise.allSettled([a, b])
  if (x.status === 'rejected' || y.status === 'rejected') {
    for (const side of [x, y]) if (side.status === 'fulfilled') release(side.value)
    throw x.status === 'rejected' ? x.reason : (y as PromiseRejectedResult).reason
  }
  return [x.value, y.value]
}

/** Archives whose scan reads their own bytes as stored, none decompressed again. */
const COUNTED_BY_DECODER: ReadonlySet<string> = new Set(['tar', 'cpio', 'ar'])

/** The SHA-256 of what a source holds, read through once more. */
async function digestOf(source: ByteSource, from = 0): Promise<string> {
  const hash = crypto.createHash('sha256')
  let skip = from
  for await (const chunk of source.open()) {
    const bytes = chunk as Buffer
    if (skip >= bytes.length) {
      skip -= bytes.length
      continue
    }
    hash.update(skip > 0 ? bytes.subarray(skip) : bytes)
    skip = 0
  }
  return hash.digest('hex')
}

const EXTENSION = { gzip: 'gz', bzip2: 'bz2', xz: 'xz', zstd: 'zst' } as const

function formatName(kind: Detected): string {
  return kind.kind === 'archive' || kind.kind === 'compressed' ? kind.format : kind.kind
}

function sha256(bytes: Buffer): string {
  return sha256Hex(bytes)
}

/**
 * A limit reached, or a tool the machine lacks: the whole diff stops (exit 2 or 3). Any
 * other error is the input's, reported on its item.
 */
function endsTheDiff(err: unknown): boolean {
  return (
    isLimitError(err) ||
    (err instanceof ReproofError && (err.code === 'E_ENVIRONMENT' || err.code === 'E_INTERRUPTED'))
  )
}

function errorText(err: unknown): string {
  if (err instanceof ReproofError) return err.message
  return err instanceof Error ? err.message : String(err)
}

/**
 * A static library's symbol table whose symbols are the same and only their offsets
 * moved: it follows from the members that changed size before them, as a checksum list
 * follows from the files it lists (`derived`), not a cause of its own.
 */
function symbolTableHints(
  path: string,
  a: Buffer,
  b: Buffer,
  arMembers: ReadonlyMap<
    string,
    readonly [ReadonlyMap<number, string>, ReadonlyMap<number, string>]
  >,
): Hint[] | undefined {
  const cut = path.lastIndexOf('!')
  const member = path.slice(cut + 1)
  if (cut === -1 || (member !== '/' && member !== '/SYM64/')) return undefined
  const members = arMembers.get(path.slice(0, cut))
  if (members === undefined) return undefined
  const change = symbolTableChange(a, b, member === '/SYM64/', members)
  if (change === undefined) return undefined
  if (change.how === 'reordered')
    return [
      {
        cause: 'ordering',
        evidence: `the same ${change.count} symbols, each in the same member, listed in another order: the table follows the order the members were archived in`,
        fix: 'archive the members in a fixed order: ar rcs lib.a $(sort $(OBJS)), or LC_ALL=C sort the list given to ar',
      },
    ]
  return [
    {
      cause: 'derived',
      evidence: `the same ${change.count} symbols, at other offsets: the members they are in moved, as members before them changed size`,
      fix: 'follows from the members that differ: fix those',
    },
  ]
}
