import type { SpecialBitsMember } from './rules.js'
import {
  ENTRY_KINDS,
  encodePax,
  field,
  magicOf,
  padded,
  parsePax,
  readNumber,
  typeOf,
  writeChecksum,
  type PaxRecord,
  type RawEntry,
} from '../formats/tar-blocks.js'
import {
  isCanonical,
  NPM_MTIME,
  stableMode,
  stableMtime,
  type EntryType,
  type NormalizeRules,
} from './rules.js'

/*
 * The stable blocks of one tar entry, a pure function of the blocks it was written as
 * and the rules. In ship mode the blocks are patched: the time, mode and owner fields
 * are rewritten and the PAX records that carry times, owners or extended attributes are
 * dropped; every other byte (the name as written, GNU long names, sparse maps, global
 * headers, the writer's layout) is kept. Compare mode (or --canonical) writes every
 * member afresh in one layout (ustar, with PAX records for what does not fit), so that
 * archives of the same content by different writers come out identical; a sparse
 * member is still patched, its map kept.
 */

/** What a tar normalization changed, counted per kind of change. */
export interface TarChanges {
  entries: number
  reordered: boolean
  mtimes: number
  /** Times before 1970 (no ustar field holds one), set to 0. */
  negativeTimes: number
  /** Stable times past the largest an octal mtime field holds (2242): written as that. */
  lateTimes: number
  modes: number
  owners: number
  paxRecords: number
  /** Process ids GNU tar writes into the names of its extension headers. */
  headerNames: number
  /** Entries whose setuid, setgid or sticky bit the stable mode left out. */
  specialBits: SpecialBitsMember[]
}

// Records of times, owners and extended attributes: they differ between machines
// (an SELinux label, which the installing system sets again; a desktop's origin URL).
// Everything else is kept (path, linkpath, size, hdrcharset, GNU.sparse.*, comment...),
// and so are the attributes that change what an installed file may do: every other
// security.* attribute (file capabilities, `ping`'s cap_net_raw; IMA and EVM signatures,
// without which a file does not run under an appraisal policy; Smack labels, SMACK64EXEC
// the domain a program runs in), POSIX ACLs, PaX flags (user.pax.flags), and BSD file
// flags (SCHILY.fflags: an immutable or append-only file stays one).
// Times and owners; libarchive's birth time (bsdtar on macOS and the BSDs writes it).
const DROPPED_KEYS = new Set([
  'atime',
  'ctime',
  'mtime',
  'uid',
  'gid',
  'uname',
  'gname',
  'LIBARCHIVE.creationtime',
])
const DROPPED_PREFIX = /^(SCHILY\.(xattr\.|dev$|ino$|nlink$)|LIBARCHIVE\.xattr\.|RHT\.security\.)/
const KEPT_ATTRIBUTE =
  /^(SCHILY|LIBARCHIVE)\.xattr\.(security\.(?!selinux$).+|system\.posix_acl_(access|default)|user\.pax\.flags)$/

export function isDroppedRecord(key: string): boolean {
  return (
    (DROPPED_KEYS.has(key) || DROPPED_PREFIX.test(key)) && !KEPT_ATTRIBUTE.test(decodedKey(key))
  )
}

/**
 * A key as libarchive reads it: the name after `LIBARCHIVE.xattr.` is percent-encoded
 * (`security%2Ecapability` is `security.capability` to bsdtar), and read as written, a
 * capability so spelled was dropped as a user's attribute.
 */
function decodedKey(key: string): string {
  if (!key.startsWith(LIBARCHIVE_XATTR)) return key
  const name = key
    .slice(LIBARCHIVE_XATTR.length)
    .replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
  return `${LIBARCHIVE_XATTR}${name}`
}

const LIBARCHIVE_XATTR = 'LIBARCHIVE.xattr.'

// The largest time an 11-digit octal field holds (year 2242).
export const MAX_OCTAL_TIME = 0o77777777777

export function stableBlocks(
  raw: RawEntry,
  rules: NormalizeRules,
  npm: boolean,
  changes: TarChanges,
): Buffer[] {
  if (raw.type === 'g' || raw.type === 'V') {
    // Its records mean something (git archive keeps its commit id there): kept.
    return [patchExtensionHeader(raw.header, raw.data.length, 0, changes), padded(raw.data)]
  }
  const mtime = memberMtime(raw)
  // npm's fixed mtime predates every sensible epoch; keep it even when forcing.
  const wanted = npm && mtime === NPM_MTIME ? NPM_MTIME : stableMtime(mtime, rules)
  const newMtime = Math.min(Math.max(wanted, 0), MAX_OCTAL_TIME)
  if (newMtime !== mtime) {
    if (wanted < 0) changes.negativeTimes++
    else changes.mtimes++
  }
  if (wanted > MAX_OCTAL_TIME) changes.lateTimes++
  // Written canonically, a directory in the old way (a regular file's type, its name
  // ending in `/`) is written as one, which every reader takes it for.
  const typeflag =
    isCanonical(rules) && directoryReading(raw) === 'directory' ? TYPE_DIRECTORY : raw.type
  const type: EntryType = ENTRY_KINDS[typeflag] ?? 'other'
  const mode = readNumber(raw.header, 100, 8) ?? 0
  const newMode = type === 'other' ? mode & 0o777 : stableMode(type, mode)
  // The whole field: file type or set-id bits in it are dropped too, and counted apart,
  // as what they did (run as its owner, a shared directory's sticky bit) goes with them.
  if (newMode !== mode) changes.modes++
  // Whatever the type: a FIFO's, a device's or an unknown type's (which GNU tar extracts
  // as a file, set-id bits and all) set-id bits go unsaid otherwise.
  if ((mode & 0o7000) !== 0 && (newMode & 0o7000) === 0)
    changes.specialBits.push({ name: Buffer.from(raw.name), mode })
  if (hasOwner(raw.header) || raw.pax.some((r) => ['uid', 'gid', 'uname', 'gname'].includes(r.key)))
    changes.owners++
  changes.paxRecords += raw.pax.filter((r) => isDroppedRecord(r.key)).length
  if (
    isCanonical(rules) &&
    raw.type !== 'S' &&
    !raw.pax.some((r) => r.key.startsWith('GNU.sparse.'))
  )
    return canonicalBlocks(raw, typeflag, newMode, newMtime)
  const blocks: Buffer[] = []
  for (const extension of raw.extensions) {
    const kind = typeOf(extension.header)
    let data = extension.data
    if (kind === 'x' || kind === 'X') {
      const records = parseKept(extension.data)
      // Nothing left but noise: the whole extension header goes.
      if (records.length === 0) continue
      const kept = encodePax(records)
      if (!kept.equals(extension.data)) data = kept
    }
    blocks.push(
      patchExtensionHeader(extension.header, data.length, newMtime, changes, {
        from: readNumber(raw.header, 100, 8) ?? 0,
        to: newMode,
      }),
      padded(data),
    )
  }
  // A PAX 1.0 sparse member's header holds a placeholder name with a process id in it
  // (its real name is GNU.sparse.name); any other member's name is its own.
  const placeholder = raw.pax.some((r) => r.key === 'GNU.sparse.name')
  blocks.push(patchMember(raw.header, newMode, newMtime, placeholder, changes), ...raw.sparseBlocks)
  return blocks
}

/** The time a member carries: its PAX record (whole seconds) over its header field. */
export function memberMtime(raw: RawEntry): number {
  const record = [...raw.pax].reverse().find((r) => r.key === 'mtime')
  const fromPax = record === undefined ? NaN : Math.floor(Number(record.value.toString('latin1')))
  return Number.isSafeInteger(fromPax) ? fromPax : (readNumber(raw.header, 136, 12) ?? 0)
}

function parseKept(data: Buffer): PaxRecord[] {
  return parsePax(data, (what) => new Error(what), 0).filter((r) => !isDroppedRecord(r.key))
}

function hasOwner(block: Buffer): boolean {
  const named = magicOf(block) !== 'v7'
  return (
    (readNumber(block, 108, 8) ?? 0) !== 0 ||
    (readNumber(block, 116, 8) ?? 0) !== 0 ||
    (named && (field(block, 265, 32).length > 0 || field(block, 297, 32).length > 0))
  )
}

/** A member's header with its stable mode, time and owners (and no GNU atime or ctime). */
function patchMember(
  original: Buffer,
  mode: number,
  mtime: number,
  placeholder: boolean,
  changes: TarChanges,
): Buffer {
  const block = Buffer.from(original)
  if ((readNumber(block, 100, 8) ?? 0) !== mode) writeOctalLike(block, 100, 8, mode)
  if ((readNumber(block, 136, 12) ?? 0) !== mtime) writeOctalLike(block, 136, 12, mtime)
  clearOwners(block)
  stableStarTimes(block, mtime)
  if (placeholder && stableName(block, /GNUSparseFile\.\d+/g, 'GNUSparseFile.0'))
    changes.headerNames++
  return finish(block, original)
}

/**
 * An extension header (PAX, GNU long name, global): owners cleared, the size of its
 * (possibly smaller) data, its time the member's (0 stays 0, as GNU tar writes it), its
 * mode the member's new one where it was the member's (libarchive copies it there), no
 * process id in its name.
 */
function patchExtensionHeader(
  original: Buffer,
  size: number,
  mtime: number,
  changes: TarChanges,
  memberMode?: { from: number; to: number },
): Buffer {
  const block = Buffer.from(original)
  if ((readNumber(block, 124, 12) ?? 0) !== size) writeOctalLike(block, 124, 12, size)
  if (
    memberMode !== undefined &&
    memberMode.from !== memberMode.to &&
    readNumber(block, 100, 8) === memberMode.from
  )
    writeOctalLike(block, 100, 8, memberMode.to)
  const time = readNumber(block, 136, 12) ?? 0
  if (time !== 0 && time !== mtime) writeOctalLike(block, 136, 12, mtime)
  clearOwners(block)
  stableStarTimes(block, mtime)
  const renamed =
    stableName(block, /PaxHeaders\.\d+/g, 'PaxHeaders') ||
    stableName(block, /GlobalHead\.\d+\./g, 'GlobalHead.0.')
  if (renamed) changes.headerNames++
  return finish(block, original)
}

function clearOwners(block: Buffer): void {
  if ((readNumber(block, 108, 8) ?? 0) !== 0) writeOctalLike(block, 108, 8, 0)
  if ((readNumber(block, 116, 8) ?? 0) !== 0) writeOctalLike(block, 116, 8, 0)
  const magic = magicOf(block)
  if (magic === 'v7') return
  if (field(block, 265, 32).length > 0) block.fill(0, 265, 297)
  if (field(block, 297, 32).length > 0) block.fill(0, 297, 329)
  // GNU's atime and ctime, where ustar has its prefix.
  if (magic === 'gnu' && block.subarray(345, 369).some((b) => b !== 0)) block.fill(0, 345, 369)
}

/**
 * star's headers, and node-tar's (npm's) unless it writes portable ones, keep an access
 * and a change time in the last 24 bytes of a ustar prefix of at most 130 bytes, after
 * the NUL that ends it for every reader: set to the member's time where they are there.
 */
function stableStarTimes(block: Buffer, mtime: number): void {
  if (magicOf(block) !== 'ustar' || block[475] !== 0) return
  for (const offset of [476, 488])
    if (
      /^ *[0-7]+[ \0]/.test(block.toString('latin1', offset, offset + 12)) &&
      readNumber(block, offset, 12) !== mtime
    )
      writeOctalLike(block, offset, 12, mtime)
}

/** Rewrites a process id out of the name field (and a ustar prefix); true if one was there. */
function stableName(block: Buffer, pattern: RegExp, replacement: string): boolean {
  let changed = false
  const fields: [number, number][] =
    magicOf(block) === 'ustar'
      ? [
          [0, 100],
          [345, 155],
        ]
      : [[0, 100]]
  for (const [offset, length] of fields) {
    // Most names hold no digits at all: nothing to look for.
    if (!block.subarray(offset, offset + length).some((b) => b >= 0x30 && b <= 0x39)) continue
    const text = field(block, offset, length).toString('latin1')
    const stable = text.replace(pattern, replacement)
    if (stable === text) continue
    block.fill(0, offset, offset + length)
    block.write(stable, offset, length, 'latin1')
    changed = true
  }
  return changed
}

/** The block with its checksum, or the original itself when nothing changed. */
function finish(block: Buffer, original: Buffer): Buffer {
  if (block.equals(original)) return original
  writeChecksum(block, original)
  return block
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1')
}

/**
 * Writes a number in the layout the writer gave the field (its count of digits, its
 * leading spaces and terminators), so that a field patched to a value and a field the
 * same writer wrote with that value are the same bytes. A field too narrow for the
 * value, empty or in base-256 gets the standard layout.
 */
function writeOctalLike(block: Buffer, offset: number, length: number, value: number): void {
  const text = block.toString('latin1', offset, offset + length)
  const layout = /^( *)([0-7]+)(.*)$/s.exec(text)
  const digits = value.toString(8)
  if (layout === null || digits.length > (layout[2] ?? '').length) {
    writeOctal(block, offset, length, value)
    return
  }
  const [, lead = '', old = '', rest = ''] = layout
  block.write(lead + digits.padStart(old.length, '0') + rest, offset, length, 'latin1')
}

const MAX_OCTAL_SIZE = 0o77777777777

/**
 * A member in reproof's one layout: a ustar header, after a PAX header holding what does
 * not fit (a long or non-UTF-8-declared name or link target, a size of 8 GiB or more)
 * and the records kept, sorted by key.
 */
function canonicalBlocks(raw: RawEntry, type: string, mode: number, mtime: number): Buffer[] {
  const records = raw.pax.filter(
    (r) => !isDroppedRecord(r.key) && !['path', 'linkpath', 'size', 'hdrcharset'].includes(r.key),
  )
  const split = splitName(raw.name)
  if (split === undefined) records.push({ key: 'path', value: raw.name })
  // A link target with a NUL stays in its record too, for the reason splitName gives.
  const longLink = raw.linkName.length > 100 || raw.linkName.includes(0)
  if (longLink) records.push({ key: 'linkpath', value: raw.linkName })
  if (raw.size > MAX_OCTAL_SIZE) records.push({ key: 'size', value: Buffer.from(String(raw.size)) })
  const binary = [
    split === undefined ? raw.name : undefined,
    longLink ? raw.linkName : undefined,
  ].some((name) => name !== undefined && !isUtf8(name))
  if (binary) records.push({ key: 'hdrcharset', value: Buffer.from('BINARY') })
  records.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)))
  const magic = magicOf(raw.header)
  const header = ustarHeader({
    name: split?.name ?? raw.name.subarray(0, 100),
    prefix: split?.prefix ?? Buffer.alloc(0),
    mode,
    size: raw.size > MAX_OCTAL_SIZE ? 0 : raw.size,
    mtime,
    type,
    linkName: raw.linkName.subarray(0, 100),
    devmajor: magic === 'v7' ? 0 : (readNumber(raw.header, 329, 8) ?? 0),
    devminor: magic === 'v7' ? 0 : (readNumber(raw.header, 337, 8) ?? 0),
  })
  if (records.length === 0) return [header]
  const data = encodePax(records)
  const paxHeader = ustarHeader({
    name: Buffer.from('././@PaxHeader'),
    prefix: Buffer.alloc(0),
    mode: 0o644,
    size: data.length,
    mtime: 0,
    type: 'x',
    linkName: Buffer.alloc(0),
    devmajor: 0,
    devminor: 0,
  })
  return [paxHeader, padded(data), header]
}

const TYPE_DIRECTORY = '5'

/**
 * What a regular file whose name ends in `/` is to readers: GNU tar makes a directory of
 * any (its name as read, after long names and PAX records), Python's tarfile only of one
 * whose type byte is NUL, the old way, and whose header's own name field ends so. When
 * they agree it is a `directory`; `disputed` when they do not; undefined for any other
 * entry. Written canonically, a disputed one would be made one or the other.
 */
export function directoryReading(raw: RawEntry): 'directory' | 'disputed' | undefined {
  if (raw.type !== '0') return undefined
  const gnu = raw.name.at(-1) === 0x2f
  const python = raw.header[156] === 0 && field(raw.header, 0, 100).at(-1) === 0x2f
  if (gnu && python) return 'directory'
  return gnu || python ? 'disputed' : undefined
}

/**
 * A name as ustar's prefix and name fields (the shortest prefix that fits), or undefined
 * when it stays in a PAX record. A name with a NUL stays there: a header field ends at
 * it for every reader, a record for GNU tar only (Python's tarfile keeps what follows),
 * so moved to a field it would read otherwise, or split after the NUL, name another
 * path. The prefix is never empty: a reader adds the `/` between prefix and name only
 * when there is a prefix, so a split at a leading `/` would drop it.
 */
function splitName(name: Buffer): { name: Buffer; prefix: Buffer } | undefined {
  if (name.includes(0)) return undefined
  if (name.length <= 100) return { name, prefix: Buffer.alloc(0) }
  for (let i = name.indexOf(0x2f, 1); i !== -1 && i <= 155; i = name.indexOf(0x2f, i + 1)) {
    const rest = name.length - i - 1
    if (rest > 0 && rest <= 100) return { prefix: name.subarray(0, i), name: name.subarray(i + 1) }
  }
  return undefined
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

function isUtf8(bytes: Buffer): boolean {
  try {
    strictUtf8.decode(bytes)
    return true
  } catch {
    return false
  }
}

function ustarHeader(h: {
  name: Buffer
  prefix: Buffer
  mode: number
  size: number
  mtime: number
  type: string
  linkName: Buffer
  devmajor: number
  devminor: number
}): Buffer {
  const block = Buffer.alloc(512)
  h.name.copy(block, 0, 0, 100)
  writeOctal(block, 100, 8, h.mode)
  writeOctal(block, 108, 8, 0)
  writeOctal(block, 116, 8, 0)
  writeOctal(block, 124, 12, h.size)
  writeOctal(block, 136, 12, h.mtime)
  block.write(h.type, 156, 1, 'latin1')
  h.linkName.copy(block, 157, 0, 100)
  block.write('ustar\u000000', 257, 8, 'latin1')
  writeOctal(block, 329, 8, h.devmajor)
  writeOctal(block, 337, 8, h.devminor)
  h.prefix.copy(block, 345, 0, 155)
  writeChecksum(block)
  return block
}
