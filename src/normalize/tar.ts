import { appendAll } from '../append-all.js'
import fs from 'node:fs'
import { once } from 'node:events'
import path from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { ReproofError } from '../errors.js'
import { FileChunks } from '../formats/file-chunks.js'
import { fromNameBytes, toDisplayText, untilNul, withoutDotParts } from '../file-names.js'
import type { Budget } from '../formats/limits.js'
import type { BlockPool } from '../io/block-pool.js'
import {
  nameMisreading,
  padded,
  parsePax,
  readTarBlocks,
  type RawEntry,
} from '../formats/tar-blocks.js'
import { SparseExpander, sparseLayoutOf } from '../formats/tar-sparse.js'
import { MiB, orReencoded, type Job, type NormalizeOutcome } from './job.js'
import {
  isCanonical,
  lateTimesChange,
  NPM_MTIME,
  specialBitsChange,
  type NormalizeRules,
} from './rules.js'
import {
  directoryReading,
  MAX_OCTAL_TIME,
  memberMtime,
  stableBlocks,
  type TarChanges,
} from './tar-headers.js'
import {
  belowAFile,
  foldedPath,
  movedBelowLink,
  movedOverwrite,
  throughLink,
} from './link-order.js'

export type { TarChanges } from './tar-headers.js'

/**
 * Writes the normalized tar to `output`; with a pool of 1 MiB blocks, every whole block
 * written is lent from it, for the consumer to give back (see BlockPool).
 */
export type TarWriter = (output: Writable, pool?: BlockPool) => Promise<void>

/** An entry as read: its blocks, and its data: held in memory, or where it lies in the spool. */
export interface Spooled {
  raw: RawEntry
  offset: number
  held?: Buffer
}

// Small entries are held in memory, up to this much in all: writing and reading back
// thousands of small pieces of a spool file was a sixth of a tar.gz of source files.
const HELD_ENTRY = 64 * 1024
const HELD_TOTAL = 32 * 1024 * 1024
const EMPTY = Buffer.alloc(0)

/** The decision for one archive: every entry in its new place with its stable blocks. */
export interface TarPlan {
  changes: TarChanges
  /**
   * False when every entry is already in place with every field at its stable value.
   * Unless the rules are canonical, the archive is then kept byte for byte rather than
   * re-encoded: another writer's header layout (npm's, GNU tar's) is kept, and so is a
   * digest that was already reproducible.
   */
  rewrite: boolean
  entries: { blocks: Buffer[]; data: Spooled }[]
}

/**
 * Reads a tar stream, deciding what normalization changes, and hands the plan to `use`
 * with a writer for the normalized archive. Entry data is spooled once to a private
 * file, so an archive of any size is sorted with an index in memory; the spool lives
 * until `use` returns. Every entry keeps the blocks it was written as (names as bytes,
 * long names, sparse maps, global headers), with only the fields normalization means
 * to change rewritten.
 */
export async function normalizeTar<T>(
  input: Readable | FileChunks,
  spoolDir: string,
  rules: NormalizeRules,
  budget: Budget,
  where: string,
  use: (plan: TarPlan, write: TarWriter) => Promise<T>,
): Promise<T> {
  const spoolPath = path.join(spoolDir, 'tar-spool')
  const spool = fs.openSync(spoolPath, 'w+')
  try {
    const entries = await spoolEntries(input, spool, budget, where)
    const plan = planTar(entries, rules, where)
    return await use(plan, (output, pool) => writeTar(plan, spool, budget, output, pool))
  } finally {
    fs.closeSync(spool)
    fs.rmSync(spoolPath, { force: true })
  }
}

async function spoolEntries(
  input: Readable | FileChunks,
  spool: number,
  budget: Budget,
  where: string,
): Promise<Spooled[]> {
  // Chunks read into reused buffers (a tar on disk) are lent: what is held is copied.
  const lent = input instanceof FileChunks
  const entries: Spooled[] = []
  let offset = 0
  let held = 0
  // An entry whose data comes in one piece keeps that piece (a view into the chunk the
  // reader was handed) rather than a copy; each chunk so kept counts whole against the
  // bound, once, so that many small entries cannot pin more than it.
  const pinned = new Set<ArrayBufferLike>()
  const pin = (piece: Buffer): boolean => {
    if (pinned.has(piece.buffer)) return true
    if (held + piece.buffer.byteLength > HELD_TOTAL) return false
    pinned.add(piece.buffer)
    held += piece.buffer.byteLength
    return true
  }
  const spoolTo = (raw: RawEntry): ((chunk: Buffer) => void) => {
    if (raw.size <= HELD_ENTRY && held + raw.size <= HELD_TOTAL) {
      const entry: Spooled = { raw, offset, held: EMPTY }
      entries.push(entry)
      let copy: Buffer | undefined
      let filled = 0
      return (chunk) => {
        if (copy === undefined && chunk.length === raw.size && !lent && pin(chunk)) {
          entry.held = chunk
          return
        }
        if (copy === undefined) {
          copy = Buffer.allocUnsafe(raw.size)
          held += raw.size
          entry.held = copy
        }
        filled += chunk.copy(copy, filled)
      }
    }
    entries.push({ raw, offset })
    return (chunk) => {
      for (let at = 0; at < chunk.length;)
        at += fs.writeSync(spool, chunk, at, chunk.length - at, offset + at)
      offset += chunk.length
    }
  }
  // A sparse member is kept as stored, map and all: its map is checked as tar checks it
  // when it extracts (pieces in order, inside the real size, adding up to the data), or
  // a map no tar can extract would pass through as normalized.
  let sparseEnd: (() => void) | undefined
  const end = await readTarBlocks(input, where, budget, (raw) => {
    sparseEnd?.()
    const take = spoolTo(raw)
    const sparse = sparseChecker(raw, where)
    sparseEnd = sparse?.end.bind(sparse)
    return sparse === undefined
      ? take
      : (chunk) => {
          sparse.add(chunk)
          take(chunk)
        }
  })
  sparseEnd?.()
  // A tar cut at an entry's edge reads as a whole, shorter one; only its end-of-archive
  // blocks tell them apart. Rewriting would add them and make a cut archive look whole.
  if (!end.marked)
    throw new ReproofError(
      'E_INPUT',
      `${where}: the tar ends at byte ${end.at} without its end-of-archive blocks: it may be cut short, and normalizing would make it look whole`,
      { path: where },
    )
  return entries
}

/** A check of a sparse member's map against its data, or undefined for another member. */
function sparseChecker(raw: RawEntry, where: string): SparseExpander | undefined {
  const bad = (what: string): ReproofError =>
    new ReproofError('E_INPUT', `${where}: the sparse file at byte ${raw.at}: ${what}`, {
      path: where,
    })
  const layout = sparseLayoutOf(raw)
  if (typeof layout === 'string') throw bad(layout)
  return layout === undefined ? undefined : new SparseExpander(layout, undefined, () => 0, bad)
}

// Global records that apply to no member's extraction: `git archive`'s commit id.
const INERT_GLOBAL_KEYS = new Set(['comment'])
// The numeric fields of a header that readers parse: mode, uid, gid, size, mtime,
// checksum, device major and minor.
const NUMBER_FIELDS: readonly [string, number, number][] = [
  ['mode', 100, 8],
  ['uid', 108, 8],
  ['gid', 116, 8],
  ['size', 124, 12],
  ['mtime', 136, 12],
  ['checksum', 148, 8],
  ['device major', 329, 8],
  ['device minor', 337, 8],
]

/**
 * What the rewrite would not keep as it is, refused (pure): a GNU volume label (its
 * data and long name are not carried over); a global header with records that apply to
 * the members after it (their times and owners, which the rewrite does not make
 * stable); and a header with a numeric field that not every reader parses (GNU tar
 * reads digits up to a space or NUL and stops, Python's tarfile wants the whole field
 * as digits and stops reading the archive there): rewritten, the field would parse, and
 * what a reader extracts would change.
 */
function refuseUnkept(entries: readonly Spooled[], where: string): void {
  for (const { raw } of entries) {
    if (raw.type === 'V')
      throw new ReproofError(
        'E_INPUT',
        `${where}: a GNU volume label at byte ${raw.at}: reproof normalize does not rewrite one`,
        { path: where },
      )
    if (raw.type === 'g') {
      const active = parsePax(raw.data, (what) => new Error(what), raw.at).find(
        (r) => !INERT_GLOBAL_KEYS.has(r.key),
      )
      if (active !== undefined)
        throw new ReproofError(
          'E_INPUT',
          `${where}: the global header at byte ${raw.at} sets ${JSON.stringify(toDisplayText(active.key))} for every member after it; reproof normalize does not rewrite global records`,
          { path: where },
        )
      continue
    }
    // An extension header's fields too: Python's tarfile stops at one it cannot parse,
    // and dropping or rewriting that header would let it read on.
    const headers = [
      ...raw.extensions.map((x) => ({
        header: x.header,
        what: `an extension header of the entry at byte ${raw.at}`,
      })),
      { header: raw.header, what: `the header at byte ${raw.at}` },
    ]
    for (const { header, what } of headers)
      for (const [field, offset, length] of NUMBER_FIELDS)
        if (!readersAgreeOnNumber(header, offset, length))
          throw new ReproofError(
            'E_INPUT',
            `${where}: the ${field} field of ${what} is not a number every reader parses (${JSON.stringify(toDisplayText(header.toString('latin1', offset, offset + length)))})`,
            { path: where },
          )
  }
}

/**
 * A numeric field that GNU tar and Python's tarfile both read, and read alike: base-256,
 * or octal digits with only spaces around them, up to a NUL.
 */
function readersAgreeOnNumber(block: Buffer, offset: number, length: number): boolean {
  const first = block[offset] ?? 0
  if (first === 0x80 || first === 0xff) return true
  // Up to a NUL: spaces, octal digits, spaces (eight fields of every header: a loop on
  // its bytes, where a string and a pattern each cost more than the rest of the check).
  const end = offset + length
  let i = offset
  while (i < end && block[i] === 0x20) i++
  while (i < end && (block[i] ?? 0) >= 0x30 && (block[i] ?? 0) <= 0x37) i++
  while (i < end && block[i] === 0x20) i++
  return i === end || block[i] === 0
}

/**
 * Pure: the new order and blocks, what they change, and whether anything does. Global
 * headers stay first, in their order; members are sorted by the bytes of their names
 * (npm tarballs keep npm's order), a hard link right after the file it links to.
 */
export function planTar(
  entries: readonly Spooled[],
  rules: NormalizeRules,
  where: string,
): TarPlan {
  const isGlobal = (e: Spooled): boolean => e.raw.type === 'g' || e.raw.type === 'V'
  const firstMember = entries.findIndex((e) => !isGlobal(e))
  const late = entries.find((e, i) => isGlobal(e) && firstMember !== -1 && i > firstMember)
  if (late !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `${where}: a global header at byte ${late.raw.at} comes after members; it applies to those after it, so the archive cannot be sorted without changing what it means`,
      { path: where },
    )
  refuseUnkept(entries, where)
  const globals = entries.filter(isGlobal)
  const members = entries.filter((e) => !isGlobal(e))
  // A `..` part: GNU tar drops what comes before it, Python's tarfile refuses it, so what
  // a name or a hard link's target means depends on the extractor, and the checks of
  // order below could not tell which member a link leads to.
  const climbing = members.find(
    (e) => hasDotDotPart(e.raw.name) || (e.raw.type === '1' && hasDotDotPart(e.raw.linkName)),
  )
  if (climbing !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `${where}: the entry at byte ${climbing.raw.at} (${toDisplayText(fromNameBytes(climbing.raw.name))}) has a ".." part in its ${hasDotDotPart(climbing.raw.name) ? 'name' : 'hard link target'}: GNU tar drops what comes before it and Python's tarfile refuses it, so what it names depends on the extractor; refused`,
      { path: where },
    )
  const misread = members
    .map((e) => ({ e, why: nameMisreading(e.raw) }))
    .find((m) => m.why !== undefined)
  if (misread !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `${where}: the entry at byte ${misread.e.raw.at} (${toDisplayText(fromNameBytes(misread.e.raw.name))}): ${misread.why}; what it extracts depends on the extractor, so it is refused`,
      { path: where },
    )
  // Written canonically, a regular file's type with a name ending in `/` is made a
  // directory or a file: where GNU tar and Python's tarfile take it for different ones,
  // either would change what one of them extracts.
  const disputed = isCanonical(rules)
    ? members.find((e) => directoryReading(e.raw) === 'disputed')
    : undefined
  if (disputed !== undefined) {
    const [gnu, python] =
      disputed.raw.name.at(-1) === 0x2f ? ['a directory', 'a file'] : ['a file', 'a directory']
    throw new ReproofError(
      'E_INPUT',
      `${where}: the entry at byte ${disputed.raw.at} (${toDisplayText(fromNameBytes(disputed.raw.name))}): a regular file's type with a name ending in "/" (as read, or in its header's own field), which GNU tar extracts as ${gnu} and Python's tarfile as ${python}; written canonically it would be one or the other, so it is refused`,
      { path: where },
    )
  }
  // The path each member extracts to, worked out once: every check below asks for it
  // (ten times a member, when each worked it out anew).
  const paths = new Map(members.map((e) => [e, extractedAs(e.raw.name)]))
  const pathOf = (e: Spooled): string => paths.get(e) ?? extractedAs(e.raw.name)
  // npm's own pack: every member below `package/`, at npm's fixed instant. Another tar of
  // such names is sorted like any other (two of the same files in another order must
  // come out the same).
  const npm =
    members.length > 0 &&
    members.every(
      (e) => e.raw.name.subarray(0, 8).equals(NPM_PREFIX) && memberMtime(e.raw) === NPM_MTIME,
    )
  const sorted = npm ? members : [...members].sort((a, b) => Buffer.compare(a.raw.name, b.raw.name))
  // A hard link names its target by name: where that name is in the archive twice (an
  // archive appended to with tar -r or -u), the link means the copy before it, which
  // sorting could change. Refused rather than re-pointed.
  const counts = new Map<string, number>()
  for (const e of members) {
    const name = pathOf(e)
    counts.set(name, (counts.get(name) ?? 0) + 1)
  }
  const ambiguous = members.find(
    (e) => e.raw.type === '1' && (counts.get(extractedAs(e.raw.linkName)) ?? 0) > 1,
  )
  if (ambiguous !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `${where}: the hard link at byte ${ambiguous.raw.at} names ${toDisplayText(fromNameBytes(ambiguous.raw.linkName))}, which the archive holds more than once; sorting could point it at another copy`,
      { path: where },
    )
  // A hard link written before its target does not extract (tar cannot link to what is
  // not there yet): moved after it, a broken archive would come out a working one.
  const seenNames = new Set<string>()
  const early = members.find((e) => {
    const target = e.raw.type === '1' ? extractedAs(e.raw.linkName) : undefined
    const first = target !== undefined && !seenNames.has(target) && counts.has(target)
    seenNames.add(pathOf(e))
    return first
  })
  if (early !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `${where}: the hard link at byte ${early.raw.at} (${toDisplayText(fromNameBytes(early.raw.name))}) comes before ${toDisplayText(fromNameBytes(early.raw.linkName))}, the file it links to, so tar cannot make it; moving it after would change what the archive extracts to`,
      { path: where },
    )
  const ordered = [...globals, ...linksAfterTargets(sorted, pathOf)]
  // Names that tar extracts to one path (`a` and `./a`, `a//b`): the last one written
  // wins, so their order must not change.
  const firstMoved = movedOverwrite(members, ordered, pathOf)
  if (firstMoved !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `${where}: the entry at byte ${firstMoved.raw.at} (${toDisplayText(fromNameBytes(firstMoved.raw.name))}) is extracted to the same path as another entry; sorting would change which one tar leaves there`,
      { path: where },
    )
  // Paths as a file system that ignores case and Unicode normalization (macOS's and
  // Windows' defaults) sees them: links and what lies below them are matched so too
  // (`l/f` below a link `L`), and a path one here is one there.
  const foldedOf = new Map(members.map((e) => [e, foldedPath(pathOf(e))]))
  const folding = (e: Spooled): string => foldedOf.get(e) ?? foldedPath(pathOf(e))
  const folded = movedOverwrite(members, ordered, folding)
  if (folded !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `${where}: the entry at byte ${folded.raw.at} (${toDisplayText(fromNameBytes(folded.raw.name))}) is extracted to the same path as another entry where case or Unicode normalization is ignored (macOS, Windows); sorting would change which one tar leaves there`,
      { path: where },
    )
  const below = movedBelowLink(members, ordered, folding, (e) => e.raw.type === '2')
  if (below !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `${where}: the entry at byte ${below.entry.raw.at} (${toDisplayText(fromNameBytes(below.entry.raw.name))}) lies below ${toDisplayText(fromNameBytes(below.link.raw.name))}, a symbolic link of the archive; sorting would change whether tar writes it through the link or into a directory of that name`,
      { path: where },
    )
  const reordered = ordered.some((e, i) => e !== entries[i])
  const through = reordered
    ? throughLink(
        members,
        folding,
        (e) => e.raw.type === '2',
        (e) => (e.raw.type === '1' ? foldedPath(extractedAs(e.raw.linkName)) : undefined),
      )
    : undefined
  if (through !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `${where}: the entry at byte ${through.entry.raw.at} (${toDisplayText(fromNameBytes(through.entry.raw.name))}) is written or found through ${toDisplayText(fromNameBytes(through.link.raw.name))}, a symbolic link of the archive; sorting could make what the link points at after it, so such an archive is not reordered`,
      { path: where },
    )
  const clash = reordered ? belowAFile(members, folding, (e) => e.raw.type === '5') : undefined
  if (clash !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `${where}: the entry at byte ${clash.entry.raw.at} (${toDisplayText(fromNameBytes(clash.entry.raw.name))}) lies below ${toDisplayText(fromNameBytes(clash.file.raw.name))}, which is not a directory; which of the two tar keeps depends on their order, so such an archive is not reordered`,
      { path: where },
    )
  const changes: TarChanges = {
    entries: members.length,
    reordered,
    mtimes: 0,
    modes: 0,
    owners: 0,
    paxRecords: 0,
    headerNames: 0,
    negativeTimes: 0,
    lateTimes: 0,
    specialBits: [],
  }
  let rewritten = false
  const planned = ordered.map((data) => {
    const blocks = stableBlocks(data.raw, rules, npm, changes)
    const original = [
      ...data.raw.extensions.flatMap((x) => [x.header, padded(x.data)]),
      data.raw.header,
      ...data.raw.sparseBlocks,
      ...(data.raw.data.length > 0 ? [padded(data.raw.data)] : []),
    ]
    if (!sameBlocks(blocks, original)) rewritten = true
    return { blocks, data }
  })
  return { changes, rewrite: changes.reordered || rewritten, entries: planned }
}

const NPM_PREFIX = Buffer.from('package/')

/** A `..` part in the name as given or as GNU tar reads it (up to a NUL). */
function hasDotDotPart(name: Buffer): boolean {
  const parts = (bytes: Buffer): string[] => bytes.toString('latin1').split('/')
  return parts(name).includes('..') || parts(untilNul(name)).includes('..')
}

/**
 * The path tar extracts a name to, one character a byte: GNU tar and libarchive end a
 * name from a PAX record at a NUL (Python's tarfile keeps it, and cannot make the
 * file), and drop leading slashes and `.` parts.
 */
function extractedAs(name: Buffer): string {
  return withoutDotParts(untilNul(name).toString('latin1'))
}

/**
 * A hard link must come after the file it links to, or extraction fails: a link whose
 * target comes later waits and follows it. Names and roles are kept as they are; a link
 * and its target are matched by the path they extract to (`./z` is `z`).
 */
function linksAfterTargets(entries: readonly Spooled[], pathOf: (e: Spooled) => string): Spooled[] {
  const names = new Set(entries.map(pathOf))
  const emitted = new Set<string>()
  const waiting = new Map<string, Spooled[]>()
  const out: Spooled[] = []
  const emit = (entry: Spooled): void => {
    out.push(entry)
    const name = pathOf(entry)
    emitted.add(name)
    const links = waiting.get(name)
    if (links === undefined) return
    waiting.delete(name)
    for (const link of links) emit(link)
  }
  for (const entry of entries) {
    const target = entry.raw.type === '1' ? extractedAs(entry.raw.linkName) : undefined
    if (target !== undefined && names.has(target) && !emitted.has(target)) {
      waiting.set(target, [...(waiting.get(target) ?? []), entry])
    } else {
      emit(entry)
    }
  }
  // Links in a cycle (a broken archive): where they were in the sorted order.
  for (const links of waiting.values()) appendAll(out, links)
  return out
}

function sameBlocks(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  // Block by block when the two line up (the common case), with no copy of either.
  if (a.length === b.length && a.every((block, i) => block.length === b[i]?.length))
    return a.every((block, i) => block.equals(b[i] ?? Buffer.alloc(0)))
  return Buffer.concat(a).equals(Buffer.concat(b))
}

async function writeTar(
  plan: TarPlan,
  spool: number,
  budget: Budget,
  output: Writable,
  pool?: BlockPool,
): Promise<void> {
  // Headers, data and padding gathered into writes of exactly 1 MiB (the last one
  // aside), copied once: thousands of small writes, each through the streams to zlib,
  // cost more than the compression, and a compressor that works in 1 MiB blocks takes
  // each write as a block of its own, with no second copy. With a pool, each batch is
  // lent from it, and the compressor gives it back when done with it.
  if (pool !== undefined && pool.size !== MiB) throw new Error('a tar is written in 1 MiB blocks')
  const newBatch = (): Buffer => pool?.take() ?? Buffer.allocUnsafe(MiB)
  let batch = newBatch()
  let filled = 0
  const flush = async (): Promise<void> => {
    if (filled === 0) return
    const full = filled === MiB ? batch : batch.subarray(0, filled)
    batch = newBatch()
    filled = 0
    if (!output.write(full)) await once(output, 'drain')
  }
  const put = async (bytes: Buffer): Promise<void> => {
    let at = 0
    while (at < bytes.length) {
      const whole = Math.floor((bytes.length - at) / MiB) * MiB
      if (filled === 0 && whole > 0) {
        if (!output.write(bytes.subarray(at, at + whole))) await once(output, 'drain')
        at += whole
        continue
      }
      const n = bytes.copy(batch, filled, at)
      filled += n
      at += n
      if (filled === MiB) await flush()
    }
  }
  const buffer = Buffer.allocUnsafe(MiB)
  for (const { blocks, data } of plan.entries) {
    const rest = data.raw.size % 512
    const padding = rest === 0 ? [] : [Buffer.alloc(512 - rest)]
    // Each piece as it is: the consumer gathers them (see coalescer), so a copy here
    // would be a second one.
    for (const block of blocks) await put(block)
    if (data.held !== undefined) {
      await put(data.held)
      for (const pad of padding) await put(pad)
      continue
    }
    if (data.raw.data.length > 0) continue
    for (let at = 0; at < data.raw.size;) {
      // Each MiB: the rewrite of a large archive took seconds to hear Ctrl-C.
      budget.stopIfAborted()
      const n = fs.readSync(
        spool,
        buffer,
        0,
        Math.min(buffer.length, data.raw.size - at),
        data.offset + at,
      )
      if (n === 0) throw new Error('the tar spool ended early')
      await put(n === buffer.length ? Buffer.from(buffer) : buffer.subarray(0, n))
      at += n
    }
    for (const pad of padding) await put(pad)
  }
  await put(Buffer.alloc(1024))
  await flush()
  output.end()
  await once(output, 'finish')
}

/** A tar file: sorted, stable headers; kept byte for byte when nothing needs a change. */
export async function normalizeTarFile(job: Job): Promise<NormalizeOutcome> {
  job.said.format = 'tar'
  const chunks = new FileChunks(job.input)
  try {
    return await normalizeTar(
      chunks,
      job.work,
      job.rules,
      job.budget,
      job.input,
      async (plan, write) => {
        if (!plan.rewrite && !job.canonical) return job.keep()
        job.said.changes = orReencoded(
          describeTar(plan.changes, job.rules),
          'ustar, PAX for long names',
        )
        return job.write(write)
      },
    )
  } finally {
    chunks.close()
  }
}

/** What a tar's normalization changed, in words. */
export function describeTar(c: TarChanges, rules: NormalizeRules): string[] {
  return [
    c.reordered ? `${c.entries} entries sorted by name` : '',
    c.mtimes > 0 ? `${c.mtimes} mtimes ${rules.setMtime ? 'set' : 'clamped'} to the epoch` : '',
    c.negativeTimes > 0 ? `${c.negativeTimes} times before 1970 set to 0` : '',
    c.lateTimes > 0 ? lateTimesChange(c.lateTimes, MAX_OCTAL_TIME, 'tar header') : '',
    c.modes > 0 ? `${c.modes} modes set to 0644/0755` : '',
    c.specialBits.length > 0 ? specialBitsChange(c.specialBits) : '',
    c.owners > 0 ? `${c.owners} owners set to 0/0 with empty names` : '',
    c.paxRecords > 0
      ? `${c.paxRecords} PAX time, owner or xattr records removed (file capabilities, ACLs and IMA/EVM signatures kept)`
      : '',
    c.headerNames > 0 ? `${c.headerNames} process ids in extension header names set to 0` : '',
  ].filter((x) => x !== '')
}
