import { isUtf8 } from 'node:buffer'
import crypto from 'node:crypto'
import fs from 'node:fs'
import { once } from 'node:events'
import { Writable } from 'node:stream'
import zlib from 'node:zlib'
import yauzl from 'yauzl'
import { ReproofError } from '../errors.js'
import { toDisplayText, untilNul, withoutDotParts } from '../file-names.js'
import type { Budget } from '../formats/limits.js'
import {
  compareZipNames,
  dosDateTime,
  DOS_LATEST,
  isCanonical,
  isManifestName,
  lateTimesChange,
  sortWheelRecord,
  stableExternalAttributes,
  stableExtraFields,
  stableZipMtime,
  stripManifestHostHeaders,
  specialBitsChange,
  type ExtraField,
  type SpecialBitsMember,
  type NormalizeRules,
  type ZipEntryType,
} from './rules.js'
import { orReencoded, type Job, type NormalizeOutcome } from './job.js'
import { BytesReader, OffsetFileReader } from '../formats/zip-offset-reader.js'
import { isMozillaZip, readTail, zipOffsetBase, zipPrefixLength } from '../formats/zip-prefix.js'
import { belowAFile, foldedPath, movedBelowLink, movedOverwrite } from './link-order.js'
import { firstFew } from '../first-few.js'

export interface ZipChanges {
  entries: number
  reordered: boolean
  times: number
  /** Stable times past the latest a DOS time holds (2107): written as that. */
  lateTimes: number
  extraFields: number
  attributes: number
  /** Members whose setuid, setgid or sticky bit the stable attributes leave out. */
  specialBits: SpecialBitsMember[]
  /** Members whose content was rewritten (wheel RECORD, jar manifest in compare mode). */
  rewritten: string[]
  recompressed: number
  commentsCleared: boolean
  flavor: 'zip' | 'jar' | 'wheel'
  /** Members that are zips themselves (a fat jar's libraries), normalized in turn. */
  nested: string[]
  /** Members that are zips left as they are, each with the reason (signed, too large). */
  nestedKept: string[]
  /** Other members left as they are that would be rewritten (a pinned RECORD), with the reason. */
  kept: string[]
}

interface Member {
  entry: yauzl.Entry
  name: string
  nameBytes: Buffer
  extra: ExtraField[]
  type: ZipEntryType
  unixMode: number
}

const S_IFMT = 0o170000
// No type (a mode of permissions only), a file, a directory, a link, a FIFO, a character
// or block device, a socket.
const KNOWN_TYPES = new Set([
  0, 0o100000, 0o040000, 0o120000, 0o010000, 0o020000, 0o060000, 0o140000,
])
const S_IFDIR = 0o040000
const S_IFREG = 0o100000
const S_IFLNK = 0o120000
const ZIP64_LIMIT = 0xffffffff

/** The decision for one archive: what changes, and whether anything does. */
export interface ZipPlan {
  /** Compare mode adds what it recompresses while the archive is written. */
  changes: ZipChanges
  /**
   * False when every member is in place with every field at its stable value: unless
   * the rules are canonical, the archive is then kept byte for byte, whatever layout
   * its writer chose (version fields, data descriptors), rather than re-encoded.
   */
  rewrite: boolean
  /** Ship mode: why the archive must be kept as it is (its signature), if it must. */
  signed?: string
}

interface PlannedMember {
  member: Member
  header: LocalEntry
  /** Where the member's compressed data starts in the input. */
  dataStart: number
  /** New content decided while planning (ship mode: a wheel's RECORD). */
  content?: Rewritten
  /** A zip inside that normalization changes: normalized again as it is written, not held. */
  nested?: true
  /** The local header's own extra fields, as read. */
  localExtra: ExtraField[]
}

/**
 * Reads a zip (jar, wheel, nupkg...), decides what normalization changes, and hands
 * the plan to `use` with a writer for the normalized archive: entries sorted, DOS times
 * at the epoch, time-bearing extra fields removed and attributes normalized. Compressed
 * data is copied byte for byte (ship mode), so content and compression cannot change;
 * only the members a rule rewrites are recompressed, with the same method.
 */
export async function normalizeZip<T>(
  /** A file, or a zip in memory (a member of another). */
  input: string | Buffer,
  rules: NormalizeRules,
  budget: Budget,
  where: string,
  use: (plan: ZipPlan, write: (output: Writable) => Promise<void>) => Promise<T>,
  /** How many zips this one is inside. */
  depth = 0,
): Promise<T> {
  const fd = typeof input === 'string' ? ZipInput.open(input) : ZipInput.of(input)
  let opened: yauzl.ZipFile | undefined
  try {
    const head = Buffer.alloc(512)
    if (isMozillaZip(head.subarray(0, fd.read(head, 0, 512, 0))))
      throw new ReproofError(
        'E_INPUT',
        `${where}: a Mozilla-optimized zip (central directory first): reproof normalize does not rewrite this layout`,
        { path: where },
      )
    const zip = await open(fd, where)
    opened = zip
    // Where the central directory starts, before reading entries moves yauzl's cursor.
    const centralStart = (zip as unknown as { readEntryCursor: number }).readEntryCursor
    const members = await readMembers(zip, budget, where)
    refuseCentralGap(fd, zip, centralStart, where)
    refuseUnlisted(members, fd, centralStart, where)
    const locals = refuseGaps(members, fd, centralStart, where)
    const signed = signatureOf(members, fd, centralStart)
    if (signed !== undefined && rules.mode === 'ship') {
      // Left as it is, but read as any other first: a signed archive whose member does
      // not inflate or fails its CRC-32 is refused, not passed on as kept.
      for (const member of members) {
        const local = locals.get(member.entry)
        if (local === undefined) throw new Error(`no local header read for ${member.name}`)
        await checkData({ zip, fd, budget, where }, member.entry, local.dataStart)
      }
      const changes = unchanged(members.length, zipFlavor(members.map((m) => m.name)))
      return await use({ changes, rewrite: false, signed }, () => Promise.resolve())
    }
    const flavor = zipFlavor(members.map((m) => m.name))
    // Ties broken by the bytes: two names that are not UTF-8 may decode alike (U+FFFD),
    // and their order was then the input's.
    const sorted = [...members].sort(
      (a, b) => compareZipNames(a.name, b.name) || Buffer.compare(a.nameBytes, b.nameBytes),
    )
    // Two orders are read: the central directory's (unzip's, Java's ZipFile) and where
    // the data lies (a streaming reader's: Java's ZipInputStream, libarchive, the magic
    // bytes of an EPUB). The rewrite has one, so what either would change is refused.
    const physical = [...members].sort(
      (a, b) => a.entry.relativeOffsetOfLocalHeader - b.entry.relativeOffsetOfLocalHeader,
    )
    // EPUB and OpenDocument (and any OCF container) need their `mimetype` first: where
    // it was first, in either order, it stays first.
    const first = [members[0], physical[0]].find((m) => m?.name === 'mimetype')
    if (first !== undefined) {
      sorted.splice(sorted.indexOf(first), 1)
      sorted.unshift(first)
    }
    refuseOrderThatMatters([members, physical], sorted, where)
    const changes: ZipChanges = {
      entries: members.length,
      reordered: sorted.some((m, i) => m !== members[i] || m !== physical[i]),
      times: 0,
      lateTimes: 0,
      extraFields: 0,
      attributes: 0,
      specialBits: [],
      rewritten: [],
      recompressed: 0,
      commentsCleared:
        rules.mode === 'compare' &&
        (raw(zip.comment).length > 0 || members.some((m) => raw(m.entry.fileComment).length > 0)),
      flavor,
      nested: [],
      nestedKept: [],
      kept: [],
    }
    const digestsListedIn = await memberDigestsListedIn(zip, members, flavor, budget, where)
    const job: ZipJob = {
      zip,
      fd,
      flavor,
      rules,
      budget,
      where,
      changes,
      depth,
      digestsListedIn,
      members,
      locals,
    }
    const planned: PlannedMember[] = []
    for (const member of sorted) planned.push(await planMember(job, member))
    alignAsBefore(planned)
    const rewrite =
      changes.reordered ||
      changes.commentsCleared ||
      changes.times +
        changes.extraFields +
        changes.attributes +
        changes.rewritten.length +
        changes.nested.length >
        0
    return await use({ changes, rewrite }, (output) => writeZip(job, planned, output))
  } finally {
    fd.close()
    opened?.close()
  }
}

/**
 * What an extractor makes of an archive that `sorted` would change, from either order it
 * reads in (`befores`), is refused: a member written through a symbolic link or into a
 * directory of that name; two members extracted to one path (`x` and `./x`), the last
 * of which stays; and, once the order changes at all, a member below a file or a link
 * (which of the two stays, or where what is written through the link lands).
 */
function refuseOrderThatMatters(
  befores: readonly (readonly Member[])[],
  sorted: readonly Member[],
  where: string,
): void {
  // Each member's path worked out once, for every check and both orders.
  const paths = new Map(sorted.map((m) => [m, extractedAs(m.nameBytes)]))
  const path = (m: Member): string => paths.get(m) ?? extractedAs(m.nameBytes)
  // Links and what lies below them are matched as a file system that ignores case and
  // Unicode normalization matches them too (`l/f` below a link `L`, on macOS).
  const folded = new Map(sorted.map((m) => [m, foldedPath(path(m))]))
  const folding = (m: Member): string => folded.get(m) ?? foldedPath(path(m))
  const pythonPaths = new Map(sorted.map((m) => [m, pythonPath(m)]))
  const isLink = (m: Member): boolean => m.type === 'symlink'
  const refuse = (what: string): ReproofError =>
    new ReproofError('E_INPUT', `${where}: ${what}`, { path: where })
  for (const before of befores) {
    const below = movedBelowLink(before, sorted, folding, isLink)
    if (below !== undefined)
      throw refuse(
        `the member ${toDisplayText(below.entry.name)} lies below ${toDisplayText(below.link.name)}, a symbolic link of the archive; sorting would change whether an extractor writes it through the link or into a directory of that name`,
      )
    const moved = movedOverwrite(before, sorted, path)
    if (moved !== undefined)
      throw refuse(
        `the member ${toDisplayText(moved.name)} is extracted to the same path as another member; sorting would change which one an extractor leaves there`,
      )
    const same = movedOverwrite(before, sorted, folding)
    if (same !== undefined)
      throw refuse(
        `the member ${toDisplayText(same.name)} is extracted to the same path as another member where case or Unicode normalization is ignored (macOS, Windows); sorting would change which one an extractor there leaves`,
      )
    const python = movedOverwrite(before, sorted, (m) => pythonPaths.get(m) ?? pythonPath(m))
    if (python !== undefined)
      throw refuse(
        `the member ${toDisplayText(python.name)} is extracted by Python's zipfile to the same path as another member (it reads a name without the UTF-8 flag in code page 437, and on Windows takes \\ as a separator, :<>|"?* as _, drops trailing dots and ignores case); sorting would change which one it leaves there`,
      )
  }
  if (befores.every((before) => sorted.every((m, i) => m === before[i]))) return
  // Below a link, a member is written through it, into what other members made.
  const clash = belowAFile(sorted, folding, (m) => m.type === 'directory')
  if (clash !== undefined)
    throw refuse(
      `the member ${toDisplayText(clash.entry.name)} lies below ${toDisplayText(clash.file.name)}, which is not a directory; which of the two an extractor keeps, or what it writes through a link, depends on their order, so such an archive is not reordered`,
    )
}

/**
 * The path a member's name is extracted to, one character a byte, as the readers that
 * see the fewest paths see it: unzip, libarchive and Python's zipfile all end a name at a
 * NUL, libarchive reads a backslash as `/` whatever host made the zip, and all drop empty
 * and `.` parts. Two names one reader extracts to one path are one path here.
 */
function extractedAs(name: Buffer): string {
  return withoutDotParts(untilNul(name).toString('latin1').replaceAll('\\', '/'))
}

// Code page 437 from 0x80 on, as Python's zipfile reads a name without the UTF-8 flag.
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0'

/**
 * The path Python's zipfile extracts a member to: its name in UTF-8 when the member's
 * UTF-8 flag (bit 11) is set, else in code page 437, whatever host made the zip. Then
 * `café` flagged and `caf\x82` not are one path to it (and two to unzip), and which one
 * it leaves depends on their order.
 */
function pythonPath(m: Member): string {
  const name = untilNul(m.nameBytes)
  // Flagged but not UTF-8, the name stops Python reading the zip at all: no path of its
  // own is shared with another (a NUL cannot be in a name here, it ended it).
  if ((m.entry.generalPurposeBitFlag & 0x800) !== 0 && !isUtf8(name))
    return `\0${name.toString('latin1')}`
  const text =
    (m.entry.generalPurposeBitFlag & 0x800) !== 0
      ? name.toString('utf8')
      : Array.from(name, (byte) =>
          byte < 0x80 ? String.fromCharCode(byte) : (CP437_HIGH[byte - 0x80] ?? ''),
        ).join('')
  return windowsPath(text)
}

/**
 * Where Python's zipfile on Windows writes a name (`_extract_member`): `\\` is a
 * separator there, a drive or UNC share is dropped, so are empty, `.` and `..` parts,
 * `:<>|"?*` become `_`, trailing dots and spaces go; and the file system there ignores
 * case. More names meet than on Linux, where each of these is a name of its own: the
 * check that refuses to reorder them errs toward refusing.
 */
function windowsPath(text: string): string {
  const parts = withoutWindowsDrive(text.replaceAll('\\', '/'))
    .split('/')
    .filter((part) => part !== '' && part !== '.' && part !== '..')
    .map((part) => part.replace(/[:<>|"?*]/g, '_').replace(/[ .]+$/, ''))
    .filter((part) => part !== '')
  return parts.join('/').normalize('NFD').toLowerCase().normalize('NFC')
}

/**
 * A path without the drive Python's `ntpath.splitdrive` finds (its separators made `/`):
 * any one character and a colon (`C:`, `1:`), or a UNC share (`//server/share`,
 * `//?/UNC/server/share`, a device `//./x`), which is the whole path when it has no
 * second part.
 */
function withoutWindowsDrive(p: string): string {
  if (p.startsWith('//')) {
    const start = p.slice(0, 8).toUpperCase() === '//?/UNC/' ? 8 : 2
    const first = p.indexOf('/', start)
    const second = first === -1 ? -1 : p.indexOf('/', first + 1)
    return second === -1 ? '' : p.slice(second)
  }
  if (p.startsWith('/')) return p
  // One character: a code point, as Python indexes a str.
  const [head = ''] = p
  return p.slice(head.length, head.length + 1) === ':' ? p.slice(head.length + 1) : p
}

// The hosts whose zips name files in a DOS code page unless the UTF-8 flag is set:
// MS-DOS (FAT), OS/2 HPFS, Windows NTFS, VFAT.
const CODE_PAGE_HOSTS = new Set([0, 6, 10, 11, 14])

/**
 * What a rewrite could not keep is refused before anything is planned: bytes before the
 * first member that no member or known prefix holds (a zip appended to another, a
 * self-extractor's stub: a streaming reader such as Java's ZipInputStream reads the
 * members there, a rewrite would drop them), and a name whose meaning depends on the
 * host that made it (a DOS code page: a stable header says Unix, and unzip would then
 * read the same bytes as another name).
 */
function refuseUnlisted(
  members: readonly Member[],
  fd: ZipInput,
  centralStart: number,
  where: string,
): void {
  // A loop, not Math.min(...): 200,000 arguments overflowed the stack. With no member,
  // what lies before the central directory: a member a streaming reader finds there.
  let first = members.length > 0 ? Infinity : centralStart
  for (const m of members) first = Math.min(first, m.entry.relativeOffsetOfLocalHeader)
  // The offsets count from the zip's start, or from the file's, after a kept prefix.
  const held = fd.base === 0 ? fd.prefix.length : 0
  if (first > held)
    throw new ReproofError(
      'E_INPUT',
      `${where}: its first ${first - held} bytes (after any prefix reproof keeps) belong to no member its central directory lists: a zip appended to another, or a stub reproof cannot keep; streaming readers see other members there`,
      { path: where },
    )
  const named = members.find(
    (m) =>
      CODE_PAGE_HOSTS.has(m.entry.versionMadeBy >> 8) &&
      (m.entry.generalPurposeBitFlag & 0x800) === 0 &&
      m.nameBytes.some((byte) => byte >= 0x80),
  )
  // unzip reads `\` as `/` in a name from a DOS host (old .NET writers), not from Unix.
  const slashed = members.find(
    (m) => m.entry.versionMadeBy >> 8 !== UNIX_HOST && m.nameBytes.includes(0x5c),
  )
  if (slashed !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `${where}: the name of the member at byte ${slashed.entry.relativeOffsetOfLocalHeader} holds a backslash and was made on host ${slashed.entry.versionMadeBy >> 8}, where unzip reads it as a directory separator; a stable header (made by Unix) would make it part of the name`,
      { path: where },
    )
  if (named !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `${where}: the name of the member at byte ${named.entry.relativeOffsetOfLocalHeader} is in a DOS code page (made on host ${named.entry.versionMadeBy >> 8}, without the UTF-8 flag); a stable header (made by Unix) would make readers decode it as another name`,
      { path: where },
    )
}

/**
 * Bytes between members, or between the last member and the central directory, that no
 * member owns: a rewrite would drop them, and a streaming reader (`ZipInputStream`,
 * `unzip -` from a pipe) may find members there that the central directory does not
 * list. Refused, as bytes before the first member are. What a member legitimately leaves
 * after its data is its data descriptor; what an APK leaves before its central directory
 * is its signing block. Members that overlap (several entries over the same bytes, as
 * zip bombs are made) are refused as well.
 */
function refuseGaps(
  members: readonly Member[],
  fd: ZipInput,
  centralStart: number,
  where: string,
): Map<yauzl.Entry, LocalHeader> {
  const locals = new Map<yauzl.Entry, LocalHeader>()
  const byOffset = [...members].sort(
    (a, b) => a.entry.relativeOffsetOfLocalHeader - b.entry.relativeOffsetOfLocalHeader,
  )
  const refuse = (at: number, what: string): never => {
    throw new ReproofError(
      'E_INPUT',
      `${where}: ${what} at byte ${at}; a rewrite would drop them, and streaming readers may see members there that the central directory does not list`,
      { path: where },
    )
  }
  byOffset.forEach((member, i) => {
    const { entry } = member
    const local = readLocalHeader(fd, entry, where)
    locals.set(entry, local)
    const end = local.dataStart + entry.compressedSize
    const next = byOffset[i + 1]?.entry.relativeOffsetOfLocalHeader ?? centralStart
    if (next < end) refuse(next, 'members that overlap')
    const gap = next - end
    const described = (entry.generalPurposeBitFlag & 0x08) !== 0
    // A member whose flags promise a data descriptor has one: without it, unzip and
    // Java's ZipInputStream refuse the zip, and the rewrite (which needs none) mended it.
    if (gap === 0 && described)
      throw new ReproofError(
        'E_INPUT',
        `${where}!${toDisplayText(member.name)}: its flags promise a data descriptor, and none follows its data at byte ${end}; refused`,
        { path: where },
      )
    if (gap === 0) return
    if (described && isDescriptor(fd, entry, end, gap)) return
    if (next === centralStart && isApkSigningBlock(fd, centralStart, gap)) return
    refuse(end, `${gap} bytes that belong to no member`)
  })
  return locals
}

/**
 * Refuses bytes between the central directory's last entry and the end records: readers
 * that look for the end record from the end still read the zip, others (unzip, Python's
 * zipfile) call it corrupt, and a rewrite would drop the bytes.
 */
function refuseCentralGap(
  fd: ZipInput,
  zip: yauzl.ZipFile,
  centralStart: number,
  where: string,
): void {
  // Read after every entry: yauzl's cursor is then where the last one ended.
  const centralEnd = (zip as unknown as { readEntryCursor: number }).readEntryCursor
  const end = fd.size - fd.base - 22 - raw(zip.comment).length
  // The size the end record gives the central directory, which yauzl does not check:
  // unzip and Python's zipfile refuse a zip where it is wrong, and the rewrite made it right.
  const record22 = Buffer.alloc(22)
  let size = fd.read(record22, 0, 22, end) === 22 ? record22.readUInt32LE(12) : -1
  let expected = end
  // zip64: its end record, then its locator, come before the end record.
  const locator = Buffer.alloc(20)
  if (
    end >= 20 &&
    fd.read(locator, 0, 20, end - 20) === 20 &&
    locator.readUInt32LE(0) === 0x07064b50
  ) {
    const record = Number(locator.readBigUInt64LE(8))
    const wide = Buffer.alloc(56)
    if (
      fd.read(wide, 0, 56, record) === 56 &&
      wide.readUInt32LE(0) === 0x06064b50 &&
      record + 12 + Number(wide.readBigUInt64LE(4)) === end - 20
    ) {
      expected = record
      refuseEndRecordsApart(record22, wide, where)
      size = Number(wide.readBigUInt64LE(40))
    }
  }
  // The disk fields (this disk, the central directory's disk) and the entries on this
  // disk against all of them: a zip of one disk has 0, 0 and the same count. Other values
  // send bsdtar to reading the members as a stream, and the rewrite would write them right.
  // (A zip64 end record may hold 0xffff in each, its own record the values.)
  const field = (at: number): number => {
    const value = record22.readUInt16LE(at)
    return expected !== end && value === 0xffff ? -1 : value
  }
  if (
    ![0, -1].includes(field(4)) ||
    ![0, -1].includes(field(6)) ||
    (field(8) !== -1 && field(10) !== -1 && field(8) !== field(10))
  )
    throw new ReproofError(
      'E_INPUT',
      `${where}: its end record names disk ${record22.readUInt16LE(4)}, the central directory on disk ${record22.readUInt16LE(6)}, ${record22.readUInt16LE(8)} of ${record22.readUInt16LE(10)} entries on this disk: a split or spanned zip, or a damaged one; refused`,
      { path: where },
    )
  if (size !== centralEnd - centralStart)
    throw new ReproofError(
      'E_INPUT',
      `${where}: its end record says the central directory holds ${size} bytes, but it holds ${centralEnd - centralStart}; refused`,
      { path: where },
    )
  if (centralEnd !== expected)
    throw new ReproofError(
      'E_INPUT',
      `${where}: ${expected - centralEnd} bytes between the central directory and its end record, at byte ${centralEnd}; refused`,
      { path: where },
    )
}

/**
 * A zip64 end record and the end record after it must say the same (where the end
 * record's field is not the all-ones mark that sends readers to the zip64 one): unzip
 * and Java's ZipFile read the end record's, yauzl and Python's zipfile the zip64 one's
 * count, offset or size, and would read different archives. A rewrite would make them
 * agree, and a damaged zip look whole.
 */
function refuseEndRecordsApart(record22: Buffer, wide: Buffer, where: string): void {
  const fields: [string, number, number, number][] = [
    ['this disk', record22.readUInt16LE(4), wide.readUInt32LE(16), 0xffff],
    ["the central directory's disk", record22.readUInt16LE(6), wide.readUInt32LE(20), 0xffff],
    [
      'the entries on this disk',
      record22.readUInt16LE(8),
      Number(wide.readBigUInt64LE(24)),
      0xffff,
    ],
    ['the entries in all', record22.readUInt16LE(10), Number(wide.readBigUInt64LE(32)), 0xffff],
    [
      "the central directory's size",
      record22.readUInt32LE(12),
      Number(wide.readBigUInt64LE(40)),
      0xffffffff,
    ],
    [
      "the central directory's offset",
      record22.readUInt32LE(16),
      Number(wide.readBigUInt64LE(48)),
      0xffffffff,
    ],
  ]
  const [disk, centralDisk, onDisk, all] = fields.map(([, , zip64]) => zip64)
  if (disk !== 0 || centralDisk !== 0 || onDisk !== all)
    throw new ReproofError(
      'E_INPUT',
      `${where}: its zip64 end record names disk ${disk}, the central directory on disk ${centralDisk}, ${onDisk} of ${all} entries on this disk: a split or spanned zip, or a damaged one; refused`,
      { path: where },
    )
  const apart = fields.find(([, classic, zip64, mark]) => classic !== mark && classic !== zip64)
  if (apart !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `${where}: its end record and its zip64 end record disagree on ${apart[0]} (${apart[1]} against ${apart[2]}): readers that go by one or the other read different archives; refused`,
      { path: where },
    )
}

/** Whether `length` bytes at `at` are the data descriptor of `entry`, in any of its forms. */
function isDescriptor(fd: ZipInput, entry: yauzl.Entry, at: number, length: number): boolean {
  const bytes = Buffer.alloc(length)
  if (length > 24 || fd.read(bytes, 0, length, at) !== length) return false
  const signed = length >= 16 && bytes.readUInt32LE(0) === 0x08074b50 ? 4 : 0
  const wide = length - signed - 4 === 16
  if (!wide && length - signed - 4 !== 8) return false
  if (bytes.readUInt32LE(signed) !== entry.crc32 >>> 0) return false
  const size = (n: number): number =>
    wide
      ? Number(bytes.readBigUInt64LE(signed + 4 + n * 8))
      : bytes.readUInt32LE(signed + 4 + n * 4)
  return size(0) === entry.compressedSize && size(1) === entry.uncompressedSize
}

/** Whether the `length` bytes before the central directory are an APK signing block. */
function isApkSigningBlock(fd: ZipInput, centralStart: number, length: number): boolean {
  const magic = Buffer.alloc(24)
  if (length < 32 || fd.read(magic, 0, 24, centralStart - 24) !== 24) return false
  // The block ends with its size (all of it but this first size field) and its magic.
  return (
    magic.subarray(8).equals(APK_SIGNING_BLOCK) && magic.readBigUInt64LE(0) === BigInt(length - 8)
  )
}

function unchanged(entries: number, flavor: ZipChanges['flavor']): ZipChanges {
  return {
    entries,
    reordered: false,
    times: 0,
    lateTimes: 0,
    extraFields: 0,
    attributes: 0,
    specialBits: [],
    rewritten: [],
    recompressed: 0,
    commentsCleared: false,
    flavor,
    nested: [],
    nestedKept: [],
    kept: [],
  }
}

const JAR_SIGNATURE = /^META-INF\/([^/]+\.(SF|RSA|DSA|EC)|SIG-[^/]+)$/i
const APK_SIGNING_BLOCK = Buffer.from('APK Sig Block 42')
// NuGet, OPC (VSIX), a wheel's RECORD signature (PEP 427: RECORD.jws, RECORD.p7s),
// which signs RECORD's digest: sorting RECORD's lines would break it, and an MSIX or
// AppX package's, whose digests cover the zip's local headers and central directory.
const OTHER_SIGNATURES =
  /^(\.signature\.p7s|package\/services\/digital-signature\/.+|[^/]+\.dist-info\/RECORD\.(jws|p7s)|AppxSignature\.p7x)$/i

/**
 * Why rewriting this zip would break a signature: a jar's signature files (whose digests
 * cover the manifest, which covers each member, and which JarInputStream finds only
 * near the start), or an APK signing block (whose digests cover every byte of the zip).
 */
function signatureOf(
  members: readonly Member[],
  fd: ZipInput,
  centralStart: number,
): string | undefined {
  const file = members.find((m) => JAR_SIGNATURE.test(m.name))
  if (file !== undefined)
    return `a signed jar (${file.name}); any rewrite would break its signature`
  // A NuGet package's signature covers the whole package; so does an OPC package's
  // (VSIX) digital signature part.
  const other = members.find((m) => OTHER_SIGNATURES.test(m.name))
  if (other !== undefined)
    return `a signed package (${other.name}); any rewrite would break its signature`
  const magic = Buffer.alloc(16)
  if (
    centralStart >= 16 &&
    fd.read(magic, 0, 16, centralStart - 16) === 16 &&
    magic.equals(APK_SIGNING_BLOCK)
  )
    return 'an APK with a signing block; any rewrite would break its signature'
  return undefined
}

// The extra field zipalign pads a local header with: the alignment, then zeros.
const ALIGNMENT_FIELD = 0xd935

/**
 * Stored members keep the alignment they had: an APK's (4 bytes, 4096 for native
 * libraries), so that Android can map them, or any zip whose stored data all started
 * on 4-byte boundaries (zipalign's work; four or more members, or a field saying so,
 * so that chance alignment does not count). Rewritten, they are padded again as
 * zipalign pads them.
 */
function alignAsBefore(planned: PlannedMember[]): void {
  const stored = planned.filter((p) => p.header.method === 0 && p.member.entry.compressedSize > 0)
  if (stored.length === 0) return
  const declared = planned.some((p) => p.localExtra.some((f) => f.id === ALIGNMENT_FIELD))
  // An APK by its manifest, whatever else it holds (a META-INF/MANIFEST.MF makes it a jar too).
  const apk = planned.some((p) => p.member.name === 'AndroidManifest.xml')
  const all4 = stored.every((p) => p.dataStart % 4 === 0)
  if (!declared && !(all4 && (apk || stored.length >= 4))) return
  const libraries = stored.filter((p) => p.member.name.endsWith('.so'))
  // Native libraries on the page size they were aligned for: 4 KiB (zipalign -p) or 16
  // KiB (zipalign -P 16, for Android's devices with 16 KiB pages), as each one's field
  // declares, else the larger that all of them meet. (The field holds 16 bits.)
  const page =
    PAGE_SIZES.find(
      (size) => libraries.length > 0 && libraries.every((p) => p.dataStart % size === 0),
    ) ?? 0
  for (const p of planned) {
    const library = page > 0 && p.member.name.endsWith('.so')
    // A member's own field is kept wherever its data meets it (zipalign -f 4096, an
    // APEX payload mapped in place), not only for libraries.
    p.header.align = declaredAlignment(p) ?? (library ? page : 4)
  }
}

const PAGE_SIZES = [16384, 4096]

/** The alignment a member's own field declares, when its data meets it and it is a page size. */
function declaredAlignment(p: PlannedMember): number | undefined {
  const field = p.localExtra.find((f) => f.id === ALIGNMENT_FIELD)
  if (field === undefined || field.data.length < 2) return undefined
  const align = field.data.readUInt16LE(0)
  return PAGE_SIZES.includes(align) && p.dataStart % align === 0 ? align : undefined
}

/** What kind of zip the member names say it is: a wheel has a RECORD, a jar a manifest. */
export function zipFlavor(names: readonly string[]): ZipChanges['flavor'] {
  if (names.some((n) => /^[^/]+\.dist-info\/RECORD$/.test(n))) return 'wheel'
  return names.some(isManifestName) ? 'jar' : 'zip'
}

/** One zip being normalized: what planning and writing its members share. */
interface ZipJob {
  zip: yauzl.ZipFile
  /** The input, open for reading the local headers and copying compressed data. */
  fd: ZipInput
  flavor: ZipChanges['flavor']
  rules: NormalizeRules
  budget: Budget
  where: string
  /** Counted as each member is planned (and, in compare mode, written). */
  changes: ZipChanges
  /** How many zips this one is inside (see MAX_NESTING). */
  depth: number
  /** What in it lists its members' digests (a wheel's RECORD), if anything does. */
  digestsListedIn: string | undefined
  members: readonly Member[]
  /** Each member's local header, read once (by the check for bytes no member owns). */
  locals: ReadonlyMap<yauzl.Entry, LocalHeader>
  /** The small members' contents, read once when a zip inside is first met (see digestNamedBy). */
  contents?: { name: string; bytes: Buffer }[] | 'too-much'
  /** For a RECORD or manifest: the members that can be searched, and how many cannot. */
  searchable?: { name: string; bytes: Buffer }[]
  searchableSkipped?: number
}

/**
 * What in a zip lists the digests of its members, so that a member rewritten (a zip
 * inside, normalized) would no longer match: a wheel's RECORD, or a jar manifest with
 * per-entry digests (`SHA-256-Digest:`). Undefined when nothing does.
 */
async function memberDigestsListedIn(
  zip: yauzl.ZipFile,
  members: readonly Member[],
  flavor: ZipChanges['flavor'],
  budget: Budget,
  where: string,
): Promise<string | undefined> {
  if (flavor === 'wheel') return "the wheel's RECORD"
  const manifest = members.find((m) => isManifestName(m.name))
  if (manifest === undefined) return undefined
  budget.checkMemberSize(manifest.entry.uncompressedSize, `${where}!${manifest.name}`)
  const text = (await inflate(zip, manifest.entry, where)).toString('utf8')
  return /^[\w-]+-Digest:/im.test(text) ? "the jar manifest's per-entry digests" : undefined
}

/**
 * One member's stable header and, in ship mode, its new content; what it changes is
 * counted in the job's changes. Encrypted members are refused: their data cannot be
 * read, so nothing about them can be promised.
 */
async function planMember(job: ZipJob, member: Member): Promise<PlannedMember> {
  const { rules, budget, where, changes } = job
  const { entry } = member
  if ((entry.generalPurposeBitFlag & 0x1) !== 0) {
    throw new ReproofError(
      'E_INPUT',
      `${where}!${member.name}: encrypted zip entries cannot be normalized`,
      { path: where },
    )
  }
  // Flags that say how the data is to be read, which the rewrite would drop: the data
  // as a patch (5), strong encryption (6), a masked header and directory (13).
  const unread = (
    [
      [0x20, 'its data is a patch (flag bit 5)'],
      [0x40, 'it is strongly encrypted (flag bit 6)'],
      [0x2000, 'its headers are masked (flag bit 13)'],
    ] as const
  ).find(([bit]) => (entry.generalPurposeBitFlag & bit) !== 0)
  if (unread !== undefined)
    throw new ReproofError(
      'E_INPUT',
      `${where}!${member.name}: ${unread[1]}; reproof normalize does not rewrite such a member`,
      { path: where },
    )
  budget.checkRatio(entry.uncompressedSize, entry.compressedSize, `${where}!${member.name}`, true)
  // The local header repeats the time and has extra fields of its own (the access
  // time of 0x5455 lives only there): both copies must be stable to be kept.
  const local = job.locals.get(entry) ?? readLocalHeader(job.fd, entry, where)
  const stable = stableZipMtime(
    member.name,
    dosToSeconds(entry.lastModFileDate, entry.lastModFileTime),
    rules,
  )
  if (stable > DOS_LATEST) changes.lateTimes++
  const time = dosDateTime(stable)
  if (
    [entry.lastModFileDate, local.date].some((d) => d !== time.date) ||
    [entry.lastModFileTime, local.time].some((t) => t !== time.time)
  )
    changes.times++
  const extra = stableExtraFields(member.extra)
  if (!isStableExtra(member.extra) || !isStableExtra(local.extra)) changes.extraFields++
  const external = stableExternalAttributes(member.type, member.unixMode)
  if (external !== entry.externalFileAttributes) changes.attributes++
  if (member.type !== 'symlink' && (member.unixMode & 0o7000) !== 0)
    changes.specialBits.push({ name: member.nameBytes, mode: member.unixMode })
  // Ship mode copies compressed data unread: read it first, so that a corrupt body is
  // refused rather than passed on as normalized, and a rule that rewrites it starts from
  // what was read. (Compare mode inflates every member anyway, and checks it there.)
  // A directory's data too, though readers ignore it: corrupt bytes are not copied on.
  let content: Rewritten | undefined
  if (rules.mode === 'ship') {
    const inflated = await checkData(job, entry, local.dataStart)
    if (member.type !== 'directory')
      content = await rewrittenContent(job, member, local.dataStart, { inflated, planOnly: true })
  }
  if (content?.rewritten === true && content.nested !== true)
    changes.rewritten.push(
      content.unsearched === undefined
        ? member.name
        : `${member.name} (${content.unsearched} ${content.unsearched === 1 ? 'member' : 'members'} too large or compressed otherwise not searched for its digest)`,
    )
  if (content?.nested === true) changes.nested.push(member.name)
  return {
    member,
    dataStart: local.dataStart,
    localExtra: local.extra,
    // A nested zip's new bytes are made again when written: a fat jar's libraries are
    // not all held at once.
    ...(content === undefined ? {} : content.nested === true ? { nested: true } : { content }),
    header: {
      nameBytes: member.nameBytes,
      // Keep UTF-8 names (bit 11) and the deflate option bits; sizes go in the header, not a descriptor.
      flags: entry.generalPurposeBitFlag & 0x0806,
      method: entry.compressionMethod,
      date: time.date,
      time: time.time,
      crc32: entry.crc32,
      compressedSize: entry.compressedSize,
      uncompressedSize: entry.uncompressedSize,
      extra,
      comment: rules.mode === 'compare' ? Buffer.alloc(0) : raw(entry.fileComment),
      // The text bit is a guess of the writer's (Info-ZIP sets it, Python never): in
      // compare mode it would keep two zips of the same content apart.
      internal: rules.mode === 'compare' ? 0 : entry.internalFileAttributes,
      external,
      // The writer's versions, kept as its other fields are: rewritten to 2.0 only when a
      // time needed setting, a zip of the same members came out apart from one already
      // at the epoch, kept as it was. reproof's own layout writes its own.
      ...(isCanonical(rules)
        ? {}
        : {
            versions: {
              madeBy: entry.versionMadeBy & 0xff,
              needed: entry.versionNeededToExtract,
            },
          }),
    },
  }
}

/** Writes the planned members in their order, then the central directory. */
async function writeZip(
  job: ZipJob,
  planned: readonly PlannedMember[],
  output: Writable,
): Promise<void> {
  const { zip, fd, rules, where, changes } = job
  // The prefix as it was; offsets then count from where they did (zip-prefix.ts).
  if (fd.prefix.length > 0 && !output.write(Buffer.from(fd.prefix))) await once(output, 'drain')
  const writer = new ZipWriter(output, fd.prefix.length - fd.base)
  for (const p of planned) {
    if (rules.mode === 'ship') {
      const content =
        p.nested === true
          ? await rewrittenContent(job, p.member, p.dataStart, { record: false, nested: true })
          : p.content
      await writeMember(writer, p, content, fd, where)
      continue
    }
    // Compare mode decides each member's content now, one member in memory at a time.
    const content = await rewrittenContent(job, p.member, p.dataStart)
    if (content?.rewritten === true && content.nested !== true)
      changes.rewritten.push(p.member.name)
    if (content?.nested === true) changes.nested.push(p.member.name)
    if (content !== undefined && !holdsSameData(fd, p, content)) changes.recompressed++
    await writeMember(writer, p, content, fd, where)
  }
  await writer.finish(rules.mode === 'compare' ? Buffer.alloc(0) : raw(zip.comment))
}

/** Writes one member: its new content, or its compressed data copied as it is. */
async function writeMember(
  writer: ZipWriter,
  { member, header, dataStart }: PlannedMember,
  content: Rewritten | undefined,
  fd: ZipInput,
  where: string,
): Promise<void> {
  const { entry } = member
  if (content !== undefined) {
    await writer.add(
      {
        ...header,
        // Deflate option bits describe how the old data was compressed; ours is new.
        flags: header.flags & 0x0800,
        method: content.method,
        crc32: content.crc32,
        compressedSize: content.data.length,
        uncompressedSize: content.size,
      },
      async (sink) => {
        await sink(content.data)
      },
    )
    return
  }
  const whole = fd.bytes === undefined ? undefined : fd.slice(dataStart, entry.compressedSize)
  await writer.add(header, async (sink) => {
    // In memory: the data as it lies there, copied once, by the writer.
    if (whole !== undefined) {
      await sink(whole)
      return
    }
    for (let at = 0; at < entry.compressedSize;) {
      // A buffer per read: the writer holds what it is given until it is written.
      const buffer = Buffer.allocUnsafe(Math.min(entry.compressedSize - at, 1024 * 1024))
      const n = fd.read(
        buffer,
        0,
        Math.min(buffer.length, entry.compressedSize - at),
        dataStart + at,
      )
      if (n === 0)
        throw new ReproofError('E_INPUT', `${where}!${member.name}: compressed data is truncated`, {
          path: where,
        })
      at += n
      await sink(buffer.subarray(0, n))
    }
  })
}

/** Whether new compressed data is what the input already holds: then nothing was recompressed. */
function holdsSameData(
  fd: ZipInput,
  { member, dataStart }: PlannedMember,
  content: Rewritten,
): boolean {
  const { entry } = member
  if (content.method !== entry.compressionMethod || content.data.length !== entry.compressedSize)
    return false
  const old = Buffer.alloc(entry.compressedSize)
  for (let at = 0; at < old.length;) {
    const n = fd.read(old, at, old.length - at, dataStart + at)
    if (n === 0) return false
    at += n
  }
  return old.equals(content.data)
}

interface Rewritten {
  data: Buffer
  method: number
  crc32: number
  size: number
  rewritten: boolean
  /** A zip inside, normalized in turn. */
  nested?: true
  /** Members not searched for its digest before it was rewritten (a RECORD, a manifest). */
  unsearched?: number
}

// A zip inside a zip (a fat jar's libraries, a war's jars) is normalized as deep as
// this, each held in memory while it is: larger ones are left as they are, and said so.
const MAX_NESTING = 3
const NESTED_IN_MEMORY = 64 * 1024 * 1024

/**
 * The content of a member that a rule changes: a wheel's RECORD (sorted), a jar's
 * manifest (host headers dropped, compare mode), a zip inside (normalized in turn), or
 * any member in compare mode (recompressed uniformly, so that compression differences
 * vanish). Undefined when the compressed bytes are to be copied as they are. `record`:
 * whether what is left as it is goes into the changes (once per member: ship mode reads
 * a nested zip again when it writes it).
 */
async function rewrittenContent(
  job: ZipJob,
  member: Member,
  dataStart: number,
  {
    record = true,
    inflated,
    nested: known,
    planOnly = false,
  }: {
    record?: boolean
    /** The content, when the caller has read it already. */
    inflated?: Buffer | undefined
    /** Whether it is a zip, when the caller knows. */
    nested?: boolean
    /**
     * Planning: for a zip inside, only whether it changes (its new bytes are made once,
     * when written, so that each level of nesting is compressed once, not twice per
     * level above it).
     */
    planOnly?: boolean
  } = {},
): Promise<Rewritten | undefined> {
  const { zip, flavor, rules, budget, where } = job
  if (member.type === 'directory') return undefined
  const isRecord = flavor === 'wheel' && /^[^/]+\.dist-info\/RECORD$/.test(member.name)
  const isManifest =
    flavor === 'jar' &&
    (rules.mode === 'compare' || rules.dropBuildHost === true) &&
    isManifestName(member.name)
  const read = async (): Promise<Buffer> => {
    budget.checkMemberSize(member.entry.uncompressedSize, `${where}!${member.name}`)
    return inflated ?? (await inflate(zip, member.entry, where))
  }
  let original =
    inflated ?? (isRecord || isManifest || rules.mode === 'compare' ? await read() : undefined)
  let nested =
    known ??
    (original === undefined
      ? startsAsZip(job.fd, member.entry, dataStart)
      : original.subarray(0, 4).equals(LOCAL_HEADER))
  const tooDeep = job.depth >= MAX_NESTING
  if (nested) {
    const why =
      job.digestsListedIn !== undefined
        ? `${job.digestsListedIn} holds its digest`
        : tooDeep
          ? `more than ${MAX_NESTING} zips deep`
          : member.entry.uncompressedSize > NESTED_IN_MEMORY
            ? 'over 64 MiB (not read into memory)'
            : digestNamedBy(job, member, (original ??= await read()))
    if (why !== undefined) {
      if (record) job.changes.nestedKept.push(`${member.name}: left as it is, ${why}`)
      nested = false
    }
  }
  if (!isRecord && !isManifest && !nested && rules.mode !== 'compare') return undefined
  original ??= await read()
  // A RECORD or manifest another member pins to its bytes (a checksum list holding its
  // digest, RECORD.jws or RECORD.p7s beside it) stays as it is where it ships: sorted, it
  // would no longer match.
  // Members that cannot be searched (a native library over 4 MiB) do not stop the sort:
  // most binary wheels hold one, and two builds of one would stay apart. What was not
  // searched is said beside the rewrite.
  let unsearched = 0
  if ((isRecord || isManifest) && !nested && rules.mode !== 'compare') {
    const lenient = { skipped: 0 }
    const why = digestNamedBy(job, member, original, lenient)
    if (why !== undefined) {
      if (record) job.changes.kept.push(`${member.name}: left as it is, ${why}`)
      return undefined
    }
    unsearched = lenient.skipped
  }
  if (nested && planOnly) {
    const changes = (await normalizeNested(job, member.name, original, record, true)).changes
    return changes ? NESTED_CHANGES : undefined
  }
  let content = original
  // Read as bytes, one character each (latin1): decoded as UTF-8, a path that is not UTF-8
  // came back as U+FFFD. Quotes and line breaks are ASCII, and the order is the bytes'.
  if (isRecord) content = Buffer.from(sortWheelRecord(original.toString('latin1')), 'latin1')
  if (isManifest)
    content = Buffer.from(stripManifestHostHeaders(original.toString('latin1')), 'latin1')
  if (nested)
    content = (await normalizeNested(job, member.name, original, record, false)).bytes ?? original
  const rewritten = !content.equals(original)
  if (!rewritten && rules.mode !== 'compare') return undefined
  // Compare mode settles on one compression for everything; ship mode keeps the method
  // (a fat jar's libraries stay stored, as Spring Boot's loader needs them).
  const method = rules.mode === 'compare' ? 8 : member.entry.compressionMethod === 0 ? 0 : 8
  const data = method === 0 ? content : zlib.deflateRawSync(content, { level: 9 })
  return {
    data,
    method,
    crc32: zlib.crc32(content),
    size: content.length,
    rewritten,
    ...(nested && rewritten ? { nested: true as const } : {}),
    ...(rewritten && unsearched > 0 ? { unsearched } : {}),
  }
}

const LOCAL_HEADER = Buffer.from([0x50, 0x4b, 3, 4])

// The digests a list may pin a member by: MD5 and SHA-1 to SHA-512, SHA-3 and BLAKE2
// (b2sum's, sha3sum's), as Node's OpenSSL knows them.
const DIGEST_ALGORITHMS = [
  'md5',
  'sha1',
  'sha224',
  'sha256',
  'sha384',
  'sha512',
  'sha512-256',
  'sha3-224',
  'sha3-256',
  'sha3-384',
  'sha3-512',
  'blake2b512',
  'blake2s256',
].filter((algorithm) => crypto.getHashes().includes(algorithm))

// Files that sign or check the file they are named after (`lib.jar.asc`, `lib.jar.sha1`).
const BESIDE = /^\.(asc|sig|sign|p7s|jws|minisig|md5|sha1|sha224|sha256|sha384|sha512)$/i
// What is read to look for a digest: members this small, this much in all.
const DIGEST_SCAN_MEMBER = 4 * 1024 * 1024
const DIGEST_SCAN_TOTAL = 64 * 1024 * 1024

/**
 * Whether anything else in the archive pins a zip inside to its bytes, so that
 * normalizing it would break that: a signature or checksum file named after it, or any
 * member holding one of its digests (MD5, SHA-1, SHA-256 or SHA-512, in hex or base64:
 * a SHA256SUMS, a Maven bundle's .sha1, an SBOM). Undefined when nothing does. An archive
 * with more to search than reproof reads counts as one that does: fail closed.
 */
function digestNamedBy(
  job: ZipJob,
  member: Member,
  bytes: Buffer,
  /** Search what can be searched (a RECORD, a manifest), saying in `skipped` what was not. */
  lenient?: { skipped: number },
): string | undefined {
  // Beside it, or anywhere in the archive under its base name (signatures/app.jar.asc).
  const base = member.name.slice(member.name.lastIndexOf('/') + 1)
  const beside = job.members.find((m) => {
    const name = m.name.slice(m.name.lastIndexOf('/') + 1)
    return name.startsWith(base) && BESIDE.test(name.slice(base.length))
  })
  if (beside !== undefined)
    return beside.name.startsWith(member.name)
      ? `${beside.name} beside it signs or checks it`
      : `${beside.name} signs or checks it`
  job.contents ??= smallContents(job)
  const contents =
    job.contents === 'too-much' && lenient !== undefined
      ? (job.searchable ??= searchableContents(job))
      : job.contents
  if (lenient !== undefined && job.contents === 'too-much')
    lenient.skipped = job.searchableSkipped ?? 0
  if (contents === 'too-much')
    return `the archive holds members reproof does not search for a list of its digests (one over ${DIGEST_SCAN_MEMBER / 1024 / 1024} MiB, one compressed by another method, one whose content is bzip2, xz, lzip, Zstandard or 7z data, or over ${DIGEST_SCAN_TOTAL / 1024 / 1024} MiB in all)`
  const needles: Buffer[] = []
  for (const algorithm of DIGEST_ALGORITHMS) {
    const digest = crypto.createHash(algorithm).update(bytes).digest()
    const hex = digest.toString('hex')
    needles.push(Buffer.from(hex), Buffer.from(hex.toUpperCase()))
    if (algorithm !== 'md5')
      for (const encoding of ['base64', 'base64url'] as const)
        needles.push(Buffer.from(digest.toString(encoding).replace(/=+$/, '')))
  }
  // A name that holds it: a content-addressed store (blobs/sha256/<digest>).
  const named = job.members.find((m) => needles.some((n) => m.nameBytes.includes(n)))
  if (named !== undefined) return `${named.name} is named by its digest`
  const holder = contents.find(
    (c) => c.name !== member.name && needles.some((n) => c.bytes.includes(n)),
  )
  return holder === undefined ? undefined : `${holder.name} holds its digest`
}

/**
 * What a member's content says when unwrapped: a gzip member (SHA256SUMS.gz)
 * decompressed, the base64 payload of a DSSE envelope or an in-toto bundle (whose
 * statement names its subjects by digest) decoded, and the members of a zip (a sibling
 * jar's deflated SHA256SUMS, whose raw bytes show no digest) inflated, each unwrapped in
 * turn, six deep. `unread` where a zip's members cannot all be read here (zip64, a
 * method other than store or deflate, past the bounds): what it holds is not known.
 * Bounded as the members are, and by `room` bytes in all.
 */
function unwrapped(
  name: string,
  bytes: Buffer,
  room: number,
  depth = 0,
): { name: string; bytes: Buffer }[] | 'unread' {
  const out: { name: string; bytes: Buffer }[] = []
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      out.push({ name, bytes: zlib.gunzipSync(bytes, { maxOutputLength: DIGEST_SCAN_MEMBER }) })
    } catch {
      // Not a whole gzip stream, or larger than is searched: its bytes as they are only.
    }
  }
  if (bytes.length <= DIGEST_SCAN_MEMBER && bytes.includes('"payload"')) {
    for (const match of bytes.toString('latin1').matchAll(/"payload"\s*:\s*"([A-Za-z0-9+/_=-]+)"/g))
      out.push({ name, bytes: Buffer.from(match[1] ?? '', 'base64') })
  }
  if (bytes.subarray(0, 4).equals(LOCAL_HEADER)) {
    if (depth >= 6) return 'unread'
    const members = zipMembersForSearch(bytes, room)
    if (members === 'unread') return 'unread'
    // No zip at all (a member that only starts as one): its raw bytes were searched.
    for (const member of members) {
      room -= member.bytes.length
      const inner = unwrapped(`${name}!${member.name}`, member.bytes, room, depth + 1)
      if (inner === 'unread' || room < 0) return 'unread'
      out.push({ name: `${name}!${member.name}`, bytes: member.bytes }, ...inner)
      for (const x of inner) room -= x.bytes.length
    }
  }
  return out
}

/**
 * The files of a zip held in memory, read from its central directory and inflated, for
 * the digest search only (the archive's own check reads it fully); `unread` at the first
 * that cannot be read, or past `room` bytes in all; none where there is no central
 * directory to read (a member that only starts as a zip, which is left as it is).
 */
function zipMembersForSearch(
  bytes: Buffer,
  room: number,
): { name: string; bytes: Buffer }[] | 'unread' {
  const end = bytes.lastIndexOf(END_RECORD)
  if (end === -1 || end + 22 > bytes.length) return []
  const count = bytes.readUInt16LE(end + 10)
  let at = bytes.readUInt32LE(end + 16)
  if (count === 0xffff || at === 0xffffffff) return 'unread'
  if (count > 0 && (at + 4 > bytes.length || bytes.readUInt32LE(at) !== 0x02014b50)) return []
  const out: { name: string; bytes: Buffer }[] = []
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.length || bytes.readUInt32LE(at) !== 0x02014b50) return 'unread'
    const [method, compressed, size] = [
      bytes.readUInt16LE(at + 10),
      bytes.readUInt32LE(at + 20),
      bytes.readUInt32LE(at + 24),
    ]
    const nameLength = bytes.readUInt16LE(at + 28)
    const name = bytes.toString('latin1', at + 46, at + 46 + nameLength)
    const local = bytes.readUInt32LE(at + 42)
    at += 46 + nameLength + bytes.readUInt16LE(at + 30) + bytes.readUInt16LE(at + 32)
    if (size === 0 || name.endsWith('/')) continue
    if (size > Math.min(DIGEST_SCAN_MEMBER, room) || (method !== 0 && method !== 8)) return 'unread'
    if (local + 30 > bytes.length || !bytes.subarray(local, local + 4).equals(LOCAL_HEADER))
      return 'unread'
    const start = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28)
    const data = bytes.subarray(start, start + compressed)
    if (data.length !== compressed) return 'unread'
    try {
      const inflated =
        method === 0 ? data : zlib.inflateRawSync(data, { maxOutputLength: size + 1 })
      out.push({ name, bytes: inflated })
      room -= inflated.length
    } catch {
      return 'unread'
    }
  }
  return out
}

const END_RECORD = Buffer.from([0x50, 0x4b, 5, 6])

// bzip2, xz, lzip, Zstandard, 7z: the magic numbers of compressed data searched no further.
const UNREAD_COMPRESSION = [
  Buffer.from('BZh'),
  Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
  Buffer.from('LZIP'),
  Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
  Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]),
]

/** Every member small enough to hold a list of digests, inflated (those that do not inflate are left to the data check). */
function smallContents(
  job: ZipJob,
  /**
   * Skip what cannot be searched instead of giving up, counting it in `skipped`: for a
   * RECORD or manifest, whose sorting a large native library must not stop.
   */
  lenient?: { skipped: number },
): { name: string; bytes: Buffer }[] | 'too-much' {
  const out: { name: string; bytes: Buffer }[] = []
  let total = 0
  const giveUp = (): 'too-much' | undefined => {
    if (lenient === undefined) return 'too-much'
    lenient.skipped++
    return undefined
  }
  // Zips inside: those too large to search, and all.
  let [large, zips] = [0, 0]
  for (const m of job.members) {
    const { entry } = m
    if (m.type !== 'file') continue
    // A member not searched might hold the digest: fail closed (an SBOM over 4 MiB held
    // a nested jar's SHA-256, and the jar was rewritten). So might a zip inside too large
    // to search (a deflated SHA256SUMS in it): one that is the only zip inside pins no
    // other, any other is not searched (a fat jar with a library over 4 MiB).
    const searchable =
      entry.uncompressedSize <= DIGEST_SCAN_MEMBER &&
      (entry.compressionMethod === 0 || entry.compressionMethod === 8)
    if (!searchable) {
      if (lenient !== undefined) {
        lenient.skipped++
        continue
      }
      const local = readLocalHeader(job.fd, entry, job.where)
      if (!startsAsZip(job.fd, entry, local.dataStart)) return 'too-much'
      large++
      zips++
      if (zips > 1) return 'too-much'
      continue
    }
    if (total + entry.uncompressedSize > DIGEST_SCAN_TOTAL) {
      if (giveUp() === 'too-much') return 'too-much'
      continue
    }
    total += entry.uncompressedSize
    const data = job.fd.slice(
      readLocalHeader(job.fd, entry, job.where).dataStart,
      entry.compressedSize,
    )
    if (data === undefined) continue
    try {
      const bytes =
        entry.compressionMethod === 0
          ? data
          : zlib.inflateRawSync(data, { maxOutputLength: entry.uncompressedSize + 1 })
      // Compressed in a form not read here (a SHA256SUMS.xz): what it holds is not known.
      if (UNREAD_COMPRESSION.some((magic) => bytes.subarray(0, magic.length).equals(magic))) {
        if (giveUp() === 'too-much') return 'too-much'
        continue
      }
      if (bytes.subarray(0, 4).equals(LOCAL_HEADER)) zips++
      if (large > 0 && zips > 1) return 'too-much'
      const inside = unwrapped(m.name, bytes, DIGEST_SCAN_TOTAL - total - bytes.length)
      if (inside === 'unread') {
        if (giveUp() === 'too-much') return 'too-much'
        out.push({ name: m.name, bytes })
        continue
      }
      for (const x of inside) total += x.bytes.length
      out.push({ name: m.name, bytes }, ...inside)
    } catch {
      // Corrupt: the member's own check refuses the archive.
    }
    if (total > DIGEST_SCAN_TOTAL) return 'too-much'
  }
  return out
}

/** What can be searched of the members, the rest counted in the job. */
function searchableContents(job: ZipJob): { name: string; bytes: Buffer }[] {
  const lenient = { skipped: 0 }
  const found = smallContents(job, lenient)
  job.searchableSkipped = lenient.skipped
  return found === 'too-much' ? [] : found
}

// Planning's answer for a zip inside that changes: no content, made when it is written.
const NESTED_CHANGES: Rewritten = {
  data: Buffer.alloc(0),
  method: 0,
  crc32: 0,
  size: 0,
  rewritten: true,
  nested: true,
}

/**
 * Whether a member's content starts as a zip does: read from its first bytes, stored,
 * or inflated from the first 256 compressed bytes (at most 264 KB of output).
 */
function startsAsZip(fd: ZipInput, entry: yauzl.Entry, dataStart: number): boolean {
  if (entry.uncompressedSize < 22) return false
  const head = fd.slice(dataStart, Math.min(entry.compressedSize, 256))
  if (head === undefined) return false
  if (entry.compressionMethod === 0) return head.subarray(0, 4).equals(LOCAL_HEADER)
  if (entry.compressionMethod !== 8) return false
  try {
    const start = zlib.inflateRawSync(head, {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
      maxOutputLength: 1024 * 1024,
    })
    return start.subarray(0, 4).equals(LOCAL_HEADER)
  } catch {
    // Not deflate data at all: the check of its data says so.
    return false
  }
}

/**
 * A zip inside normalized by the same rules: its new bytes, or undefined when it stays
 * as it is (nothing to change, signed, or not a zip reproof can read: the outer archive
 * is still sound, and the member is kept whole and said so). Work limits still apply.
 */
async function normalizeNested(
  job: ZipJob,
  name: string,
  bytes: Buffer,
  record: boolean,
  /** Only whether it changes: planned, not written. */
  planOnly: boolean,
): Promise<{ changes: boolean; bytes?: Buffer }> {
  const keep = (why: string, inside = `${name}: `): void => {
    if (record) job.changes.nestedKept.push(`${inside}${why}`)
  }
  try {
    return await normalizeZip(
      bytes,
      job.rules,
      job.budget,
      `${job.where}!${name}`,
      async (plan, write) => {
        // What was left as it is further in is said from here.
        for (const kept of plan.changes.nestedKept) keep(kept, `${name}!`)
        for (const kept of plan.changes.kept) keep(kept, `${name}!`)
        if (plan.signed !== undefined) {
          keep(plan.signed)
          return { changes: false }
        }
        if (!plan.rewrite && !isCanonical(job.rules)) return { changes: false }
        // So are the set-id bits its members lose (`app.war!lib/inner.jar!bin/tool`): two
        // runs that set them on other members inside compared alike.
        if (record)
          for (const m of plan.changes.specialBits)
            job.changes.specialBits.push({
              name: Buffer.concat([Buffer.from(`${name}!`), Buffer.from(m.name)]),
              mode: m.mode,
            })
        if (planOnly) return { changes: true }
        const chunks: Buffer[] = []
        await write(
          new Writable({
            write(chunk: Buffer, _encoding, done) {
              chunks.push(chunk)
              done()
            },
          }),
        )
        return { changes: true, bytes: Buffer.concat(chunks) }
      },
      job.depth + 1,
    )
  } catch (err) {
    if (err instanceof ReproofError && err.code === 'E_INPUT' && err.context.limit === undefined) {
      keep(`left as it is: ${err.message.replace(`${job.where}!`, '')}`)
      return { changes: false }
    }
    throw err
  }
}

/**
 * A member's content, checked against the CRC-32 and size its headers give: each chunk
 * goes to `keep` (by default, kept and returned whole).
 */
function inflate(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  where: string,
  keep?: (chunk: Buffer) => void,
): Promise<Buffer> {
  const at = `${where}!${raw(entry.fileName).toString('utf8')}`
  const bad = (what: string) =>
    new ReproofError('E_INPUT', `${at}: corrupt zip member (${what})`, { path: where })
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err !== null) {
        reject(bad(err.message))
        return
      }
      const chunks: Buffer[] = []
      let crc = 0
      stream.on('data', (c: Buffer) => {
        crc = zlib.crc32(c, crc)
        if (keep === undefined) chunks.push(c)
        else keep(c)
      })
      // What `keep` threw (a limit reached, Ctrl-C) is not the member's fault: called
      // "corrupt" it was exit 2 for an interrupt, and a nested zip over a limit was kept.
      stream.on('error', (e: Error) => {
        reject(e instanceof ReproofError ? e : bad(e.message))
      })
      stream.on('end', () => {
        if (crc >>> 0 !== entry.crc32 >>> 0)
          reject(bad(`its CRC-32 is ${hex(crc)}, its header says ${hex(entry.crc32)}`))
        else resolve(Buffer.concat(chunks))
      })
    })
  })
}

// The methods of APPNOTE 4.4.5 met in the wild, for a refusal that says what it met.
const METHOD_NAMES: Readonly<Record<number, string>> = {
  1: 'shrink',
  6: 'implode',
  9: 'deflate64',
  12: 'bzip2',
  14: 'LZMA',
  93: 'Zstandard',
  95: 'xz',
  98: 'PPMd',
  99: 'AE-x encryption',
}

const hex = (n: number): string => (n >>> 0).toString(16).padStart(8, '0')

// Members this small are checked in one synchronous inflate: a stream per member cost
// more than the rest of normalizing a zip of 3,000 small files.
const CHECK_IN_ONE_GO = 8 * 1024 * 1024

/**
 * Inflates a member's data and checks it against its CRC-32 and size, charging the
 * bytes: the content, when small enough to have been read in one go.
 */
async function checkData(
  job: Pick<ZipJob, 'zip' | 'fd' | 'budget' | 'where'>,
  entry: yauzl.Entry,
  dataStart: number,
): Promise<Buffer | undefined> {
  const { budget, where } = job
  const at = `${where}!${raw(entry.fileName).toString('utf8')}`
  const bad = (what: string) =>
    new ReproofError('E_INPUT', `${at}: corrupt zip member (${what})`, { path: where })
  const method = entry.compressionMethod
  if (method !== 0 && method !== 8) {
    // Not corrupt: compressed in a way reproof cannot check against its CRC-32.
    const name = METHOD_NAMES[method]
    throw new ReproofError(
      'E_INPUT',
      `${at}: compressed by method ${method}${name === undefined ? '' : ` (${name})`}, which reproof cannot check (it reads stored and deflated members); refused`,
      { path: where },
    )
  }
  const small =
    entry.compressedSize <= CHECK_IN_ONE_GO && entry.uncompressedSize <= CHECK_IN_ONE_GO * 8
  if (!small) {
    await inflate(job.zip, entry, where, (chunk) => {
      budget.spendBytes(chunk.length, where)
    })
    return undefined
  }
  const data = job.fd.slice(dataStart, entry.compressedSize)
  if (data === undefined) throw bad('its data is cut short')
  let content = data
  if (entry.compressionMethod === 8) {
    try {
      // One byte more than it claims: a member that inflates to more is caught, not held.
      // Output in one buffer of the size it claims: no 16 KiB chunk per member to collect.
      content = zlib.inflateRawSync(data, {
        maxOutputLength: entry.uncompressedSize + 1,
        chunkSize: Math.max(64, entry.uncompressedSize + 1),
      })
    } catch (err) {
      throw bad((err as Error).message)
    }
  }
  budget.spendBytes(content.length, where)
  if (content.length !== entry.uncompressedSize)
    throw bad(`it holds ${content.length} bytes, its header says ${entry.uncompressedSize}`)
  const crc = zlib.crc32(content)
  if (crc >>> 0 !== entry.crc32 >>> 0)
    throw bad(`its CRC-32 is ${hex(crc)}, its header says ${hex(entry.crc32)}`)
  return content
}

// Zips up to this size are read into memory once: yauzl then reads its central
// directory from there, not with a trip to the thread pool per entry (on 3,000 small
// members those trips were half the run).
const IN_MEMORY = 64 * 1024 * 1024

/**
 * The zip's bytes, read at any position: from memory when small, else from the file.
 * Positions count from where the zip's offsets do: after a prefix whose writer counted
 * from the zip's own start (a Python zipapp, a jmod; see zip-prefix.ts), from there.
 */
class ZipInput {
  private constructor(
    readonly file: string | undefined,
    private readonly fd: number | undefined,
    readonly bytes: Buffer | undefined,
    /** Where the zip's offsets count from, in the file. */
    readonly base: number,
    /** The bytes before the first member, kept as they are; empty for most zips. */
    readonly prefix: Buffer,
    readonly size: number,
  ) {}

  static open(file: string): ZipInput {
    const fd = fs.openSync(file, 'r')
    try {
      const size = fs.fstatSync(fd).size
      if (size <= IN_MEMORY) {
        const whole = fs.readFileSync(fd)
        const { base, prefix } = prefixOf(whole.subarray(0, 512), () => ({
          tail: whole,
          tailAt: 0,
        }))
        return new ZipInput(file, fd, whole.subarray(base), base, prefix, size)
      }
      const head = Buffer.alloc(512)
      const { base, prefix } = prefixOf(head.subarray(0, fs.readSync(fd, head, 0, 512, 0)), () =>
        readTail(fd, size),
      )
      return new ZipInput(file, fd, undefined, base, prefix, size)
    } catch (err) {
      fs.closeSync(fd)
      throw err
    }
  }

  /** A zip held in memory: a member of another. */
  static of(whole: Buffer): ZipInput {
    const { base, prefix } = prefixOf(whole.subarray(0, 512), () => ({ tail: whole, tailAt: 0 }))
    return new ZipInput(undefined, undefined, whole.subarray(base), base, prefix, whole.length)
  }

  /** As fs.readSync: bytes copied into `buffer`, 0 at the end. */
  read(buffer: Buffer, offset: number, length: number, position: number): number {
    if (this.bytes === undefined)
      return fs.readSync(this.fd ?? -1, buffer, offset, length, this.base + position)
    if (position >= this.bytes.length) return 0
    return this.bytes.copy(buffer, offset, position, Math.min(position + length, this.bytes.length))
  }

  /** `length` bytes at `position`, read whole (a view when in memory; never to be written to). */
  slice(position: number, length: number): Buffer | undefined {
    if (this.bytes !== undefined)
      return position + length <= this.bytes.length
        ? this.bytes.subarray(position, position + length)
        : undefined
    const out = Buffer.allocUnsafe(length)
    for (let got = 0; got < length;) {
      const n = this.read(out, got, length - got, position + got)
      if (n === 0) return undefined
      got += n
    }
    return out
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd)
  }
}

/** The prefix a zip's head starts with (empty if none), and where its offsets count from. */
function prefixOf(
  head: Buffer,
  tail: () => { tail: Buffer; tailAt: number },
): { base: number; prefix: Buffer } {
  const length = zipPrefixLength(head)
  if (length === undefined) return { base: 0, prefix: Buffer.alloc(0) }
  const end = tail()
  return {
    base: zipOffsetBase(end.tail, end.tailAt, length) ?? 0,
    prefix: Buffer.from(head.subarray(0, length)),
  }
}

function open(input: ZipInput, where: string): Promise<yauzl.ZipFile> {
  const options = {
    lazyEntries: true,
    autoClose: false,
    decodeStrings: false,
    validateEntrySizes: true,
  }
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, zip: yauzl.ZipFile): void => {
      if (err !== null)
        reject(
          new ReproofError('E_INPUT', `${where}: not a readable zip archive (${err.message})`, {
            path: where,
          }),
        )
      else resolve(zip)
    }
    if (input.bytes !== undefined)
      yauzl.fromRandomAccessReader(new BytesReader(input.bytes), input.bytes.length, options, done)
    else if (input.base === 0) yauzl.open(input.file ?? '', options, done)
    else {
      const reader = new OffsetFileReader(input.file ?? '', input.base)
      yauzl.fromRandomAccessReader(reader, input.size - input.base, options, (err, zip) => {
        // Not opened: the reader's descriptor is closed here, as no zip will close it.
        if (err !== null)
          reader.close(() => {
            done(err, zip)
          })
        else done(err, zip)
      })
    }
  })
}

// Hosts whose zips carry DOS attributes only (FAT, HPFS, NTFS, MVS, VFAT). Unix (3) is
// the one host whose mode, in the external attributes' upper half, every reader takes
// (unzip 6 and libarchive take it from no other: not from OS X's 19). Python's zipfile
// on Windows writes 0o777 there for a `.bat` made on host 0, which unzip makes a plain
// file; but a file type there (a link's 0o120000) unzip honours from a DOS host and
// libarchive does not.
const UNIX_HOST = 3
const DOS_ATTRIBUTE_HOSTS = new Set([0, 6, 10, 11, 14])

/**
 * A member's Unix mode, as readers take it: from a Unix host, its attributes' upper
 * half; from a DOS host, none (a plain file or directory) where the upper half holds no
 * file type. A mode that readers may or may not honour is refused: the rewrite, made by
 * Unix, would make it one for all of them.
 */
function unixModeOf(entry: yauzl.Entry, where: string): number {
  const host = entry.versionMadeBy >> 8
  const mode = (entry.externalFileAttributes >>> 16) & 0xffff
  // A file type no system has (0o160000, a flipped bit): readers make what they will of
  // it, and the rewrite would have made it a plain file.
  if (host === UNIX_HOST && !KNOWN_TYPES.has(mode & S_IFMT))
    throw new ReproofError(
      'E_INPUT',
      `${where}: the member at byte ${entry.relativeOffsetOfLocalHeader} has a file type no system has (mode ${mode.toString(8)}); it cannot be kept as what it is; refused`,
      { path: where },
    )
  if (host === UNIX_HOST || mode === 0) return mode
  if (DOS_ATTRIBUTE_HOSTS.has(host)) {
    // unzip keeps the upper half from a DOS host when its owner bits are what the DOS
    // attributes say (read, write unless read-only, search for a directory); libarchive
    // never. Kept, a file type other than a file's or a directory's is a disagreement.
    const dos = entry.externalFileAttributes & 0xff
    const owner = 0o400 | ((dos & 1) === 0 ? 0o200 : 0) | ((dos & 0x10) !== 0 ? 0o100 : 0)
    const type = mode & S_IFMT
    if ((mode & 0o700) !== owner || type === 0 || type === S_IFREG || type === S_IFDIR) return 0
  }
  throw new ReproofError(
    'E_INPUT',
    `${where}: the member at byte ${entry.relativeOffsetOfLocalHeader} was made on host ${host}, whose mode bits (${mode.toString(8)}) readers may or may not honour; a stable header (made by Unix) would decide for them; refused`,
    { path: where },
  )
}

async function readMembers(zip: yauzl.ZipFile, budget: Budget, where: string): Promise<Member[]> {
  const members: Member[] = []
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      try {
        budget.spendEntry(where)
        const nameBytes = raw(entry.fileName)
        const utf8 = (entry.generalPurposeBitFlag & 0x800) !== 0
        const name = nameBytes.toString(utf8 ? 'utf8' : 'latin1')
        const unixMode = unixModeOf(entry, where)
        // No mode, and the MS-DOS directory attribute on a name without a slash: unzip
        // makes a file of it, libarchive a directory. A rewrite would have to pick one.
        if (unixMode === 0 && (entry.externalFileAttributes & 0x10) !== 0 && !name.endsWith('/'))
          throw new ReproofError(
            'E_INPUT',
            `${where}: the member at byte ${entry.relativeOffsetOfLocalHeader} (${toDisplayText(name)}) has the MS-DOS directory attribute but a name without a trailing slash: readers disagree on whether it is a directory; refused`,
            { path: where },
          )
        // A `..` part (unzip and Python's zipfile drop it, others write outside), or an
        // Info-ZIP Unicode Path field (0x7075, which unzip extracts to and Python's
        // zipfile ignores) naming another path: which path the member is extracted to
        // depends on the reader, and the checks of order could not tell.
        const unicodePath = entry.extraFields.find((f) => f.id === 0x7075)?.data.subarray(5)
        const other = unicodePath !== undefined && !unicodePath.equals(nameBytes)
        const climbs = [nameBytes.toString('latin1'), extractedAs(nameBytes)].some((path) =>
          path.split('/').includes('..'),
        )
        if (climbs || other)
          throw new ReproofError(
            'E_INPUT',
            `${where}: the member ${toDisplayText(name)} ${other ? `has an Info-ZIP Unicode Path field naming another path (${toDisplayText(unicodePath.toString('utf8'))}), which unzip extracts it to and Python's zipfile does not` : 'has a ".." part in its name, which unzip and Python\'s zipfile drop'}: where it lands depends on the reader; refused`,
            { path: where },
          )
        members.push({
          entry,
          name,
          nameBytes,
          extra: entry.extraFields.map((f) => ({ id: f.id, data: f.data })),
          type:
            name.endsWith('/') || (unixMode & S_IFMT) === S_IFDIR
              ? 'directory'
              : (unixMode & S_IFMT) === S_IFLNK
                ? 'symlink'
                : 'file',
          unixMode,
        })
        zip.readEntry()
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)))
      }
    })
    zip.on('end', resolve)
    zip.on('error', (err: Error) => {
      reject(
        new ReproofError('E_INPUT', `${where}: not a readable zip archive (${err.message})`, {
          path: where,
        }),
      )
    })
    zip.readEntry()
  })
  return members
}

interface LocalHeader {
  dataStart: number
  date: number
  time: number
  extra: ExtraField[]
}

/**
 * The local header where the central directory points: its own time and extra fields
 * (whose lengths may differ from the central directory's), and where the data starts.
 */
function readLocalHeader(fd: ZipInput, entry: yauzl.Entry, where: string): LocalHeader {
  const header = Buffer.alloc(30)
  const n = fd.read(header, 0, 30, entry.relativeOffsetOfLocalHeader)
  if (n < 30 || header.readUInt32LE(0) !== 0x04034b50) {
    throw new ReproofError(
      'E_INPUT',
      `${where}: no local file header where the central directory points`,
      { path: where },
    )
  }
  const name = Buffer.alloc(header.readUInt16LE(26))
  const named = fd.read(name, 0, name.length, entry.relativeOffsetOfLocalHeader + 30)
  const extraStart = entry.relativeOffsetOfLocalHeader + 30 + name.length
  const extra = Buffer.alloc(header.readUInt16LE(28))
  const got = fd.read(extra, 0, extra.length, extraStart)
  const fields = parseExtra(extra.subarray(0, got))
  const disagreement =
    named !== name.length || !name.equals(raw(entry.fileName))
      ? 'its name'
      : header.readUInt16LE(8) !== entry.compressionMethod
        ? 'its compression method'
        : ((header.readUInt16LE(6) ^ entry.generalPurposeBitFlag) & MEANING_FLAGS) !== 0
          ? `its flags (${hex4(header.readUInt16LE(6))} against ${hex4(entry.generalPurposeBitFlag)}: encryption, a data descriptor or the UTF-8 name flag)`
          : extraOverruns(extra.subarray(0, got))
            ? 'its extra field (a field runs past the end of the extra data: unzip refuses it)'
            : (localSizesDisagree(header, fields, entry) ?? localExtraDisagrees(fields, entry))
  if (disagreement !== undefined) {
    // A streaming reader (Java's ZipInputStream, a browser's unzip) goes by the local
    // header, others by the central directory: the two would read different archives.
    throw new ReproofError(
      'E_INPUT',
      `${where}: the local header at byte ${entry.relativeOffsetOfLocalHeader} disagrees with the central directory on ${disagreement}; refused`,
      { path: where },
    )
  }
  return {
    dataStart: extraStart + extra.length,
    time: header.readUInt16LE(10),
    date: header.readUInt16LE(12),
    extra: fields,
  }
}

/**
 * Where a local header's extra fields that carry meaning say otherwise than the central
 * directory's: libarchive (bsdtar) reads a member's mode, a link, from the local copy (its
 * 0x6c78 field), and normalizing writes the central copy into both, so a member that
 * extracted as a link would have become a file. Times, zip64 sizes, owners and padding
 * are not compared: they differ between the two copies in ordinary zips, and
 * normalizing sets them anyway.
 */
function localExtraDisagrees(
  fields: readonly ExtraField[],
  entry: yauzl.Entry,
): string | undefined {
  const meaningful = (list: readonly ExtraField[]): ExtraField[] =>
    stableExtraFields(list).filter((f) => f.id !== ALIGNMENT_FIELD && f.id !== 0)
  const local = meaningful(fields)
  const central = meaningful(entry.extraFields.map((f) => ({ id: f.id, data: f.data })))
  const differs = [...local, ...central].find(
    (f) =>
      !local.some((l) => l.id === f.id && l.data.equals(f.data)) ||
      !central.some((c) => c.id === f.id && c.data.equals(f.data)),
  )
  return differs === undefined
    ? undefined
    : `its extra field 0x${differs.id.toString(16).padStart(4, '0')}`
}

/**
 * Where a local header's CRC-32 or sizes say otherwise than the central directory: each
 * must be the same, or zero when a data descriptor follows the data (bit 3), or, for a
 * size, 0xffffffff with the zip64 field's value the same.
 */
function localSizesDisagree(
  header: Buffer,
  fields: readonly ExtraField[],
  entry: yauzl.Entry,
): string | undefined {
  const deferred = (header.readUInt16LE(6) & 0x08) !== 0
  const crc = header.readUInt32LE(14)
  if (crc !== entry.crc32 >>> 0 && !(deferred && crc === 0)) return 'its CRC-32'
  const zip64 = fields.find((f) => f.id === 0x0001)?.data
  let next = 0
  const wide = (): number | undefined => {
    if (zip64 === undefined || next + 8 > zip64.length) return undefined
    const value = Number(zip64.readBigUInt64LE(next))
    next += 8
    return value
  }
  // The zip64 field holds the uncompressed size first, then the compressed one.
  const uncompressed = header.readUInt32LE(22)
  const compressed = header.readUInt32LE(18)
  const sizes: [string, number, number][] = [
    ['its uncompressed size', uncompressed, entry.uncompressedSize],
    ['its compressed size', compressed, entry.compressedSize],
  ]
  for (const [what, value, central] of sizes) {
    const given = value === 0xffffffff ? wide() : value
    // Deferred to the descriptor: 0, or 0xffffffff with a zip64 value of 0 (CPython).
    if (given !== central && !(deferred && (value === 0 || given === 0))) return what
  }
  return undefined
}

/** Extra fields as stored: id, length, data; a truncated last field is taken as it is. */
// Flags that change how a member is read: encrypted (0), a data descriptor after the
// data (3), strongly encrypted (6), a UTF-8 name (11), an encrypted central directory
// (13). A streaming reader reads them from the local header, others from the central
// directory: a descriptor promised by one alone is one that unzip and Java's
// ZipInputStream find missing, or one a streaming reader does not skip.
const MEANING_FLAGS = 0x0001 | 0x0008 | 0x0040 | 0x0800 | 0x2000

const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`

/**
 * Whether an extra block's last field claims more bytes than the block holds (fewer than
 * four left over are padding, as zipalign writes, not a field).
 */
function extraOverruns(bytes: Buffer): boolean {
  let at = 0
  while (at + 4 <= bytes.length) at += 4 + bytes.readUInt16LE(at + 2)
  return at > bytes.length
}

function parseExtra(bytes: Buffer): ExtraField[] {
  const fields: ExtraField[] = []
  for (let at = 0; at + 4 <= bytes.length;) {
    const size = bytes.readUInt16LE(at + 2)
    fields.push({ id: bytes.readUInt16LE(at), data: bytes.subarray(at + 4, at + 4 + size) })
    at += 4 + size
  }
  return fields
}

/** With decodeStrings off, yauzl hands names and comments over as the bytes stored. */
function raw(value: string | Buffer): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'latin1') : value
}

function dosToSeconds(date: number, time: number): number {
  return (
    Date.UTC(
      ((date >> 9) & 0x7f) + 1980,
      ((date >> 5) & 0x0f) - 1,
      date & 0x1f,
      (time >> 11) & 0x1f,
      (time >> 5) & 0x3f,
      (time & 0x1f) * 2,
    ) / 1000
  )
}

/** Whether no extra field would be removed; zip64's is the writer's own, rebuilt as needed. */
function isStableExtra(fields: readonly ExtraField[]): boolean {
  const kept = fields.filter((f) => f.id !== 0x0001)
  return stableExtraFields(kept).length === kept.length
}

interface LocalEntry {
  nameBytes: Buffer
  flags: number
  method: number
  date: number
  time: number
  crc32: number
  compressedSize: number
  uncompressedSize: number
  extra: ExtraField[]
  comment: Buffer
  internal: number
  external: number
  /** Data start alignment for a stored member (see alignAsBefore). */
  align?: number
  /**
   * The writer's "version made by" (its low byte: the version of the specification) and
   * "version needed to extract", kept outside reproof's own layout; the host is Unix
   * either way, so that the mode in the external attributes counts.
   */
  versions?: { madeBy: number; needed: number }
}

/** Writes local headers and data as they come, then the central directory, with zip64 where needed. */
class ZipWriter {
  private readonly central: Buffer[] = []
  private count = 0

  /** `offset`: what offsets count from the first member written (a prefix counted in them). */
  constructor(
    private readonly out: Writable,
    private offset = 0,
  ) {}

  // Written as given, not copied: every caller hands over bytes no one changes after
  // (new headers, new content, views of the input held in memory, a fresh read buffer).
  private async write(bytes: Buffer): Promise<void> {
    this.offset += bytes.length
    if (!this.out.write(bytes)) await once(this.out, 'drain')
  }

  async add(
    entry: LocalEntry,
    data: (sink: (chunk: Buffer) => Promise<void>) => Promise<void>,
  ): Promise<void> {
    const start = this.offset
    const zip64 =
      entry.compressedSize >= ZIP64_LIMIT ||
      entry.uncompressedSize >= ZIP64_LIMIT ||
      start >= ZIP64_LIMIT
    // What the member as written needs at least: zip64 4.5, deflate 2.0, stored 1.0; the
    // writer's own value where it asked for more.
    const least = zip64 ? 45 : entry.method === 0 ? 10 : 20
    const needed =
      entry.versions === undefined ? (zip64 ? 45 : 20) : Math.max(entry.versions.needed, least)
    const madeBy = entry.versions === undefined ? needed : entry.versions.madeBy
    const localZip64 = zip64 ? [zip64Field([entry.uncompressedSize, entry.compressedSize])] : []
    const fields = [...localZip64, ...entry.extra.filter((f) => f.id !== ALIGNMENT_FIELD)]
    const localExtra = encodeExtra([
      ...fields,
      ...alignment(entry, start + 30 + entry.nameBytes.length + encodeExtra(fields).length),
    ])
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(needed, 4)
    writeSharedFields(local, 6, entry, zip64, localExtra.length)
    await this.write(Buffer.concat([local, entry.nameBytes, localExtra]))
    await data((chunk) => this.write(chunk))

    const centralZip64 = zip64
      ? [zip64Field([entry.uncompressedSize, entry.compressedSize, start])]
      : []
    const centralExtra = encodeExtra([...centralZip64, ...entry.extra])
    const record = Buffer.alloc(46)
    record.writeUInt32LE(0x02014b50, 0)
    record.writeUInt16LE((3 << 8) | madeBy, 4) // made by Unix, so the mode in the external attributes counts
    record.writeUInt16LE(needed, 6)
    writeSharedFields(record, 8, entry, zip64, centralExtra.length)
    record.writeUInt16LE(entry.comment.length, 32)
    record.writeUInt16LE(0, 34)
    record.writeUInt16LE(entry.internal, 36)
    record.writeUInt32LE(entry.external >>> 0, 38)
    record.writeUInt32LE(zip64 ? ZIP64_LIMIT : start, 42)
    this.central.push(Buffer.concat([record, entry.nameBytes, centralExtra, entry.comment]))
    this.count++
  }

  async finish(comment: Buffer): Promise<void> {
    const start = this.offset
    for (const record of this.central) await this.write(record)
    const size = this.offset - start
    const zip64 = this.count >= 0xffff || start >= ZIP64_LIMIT || size >= ZIP64_LIMIT
    if (zip64) {
      const at = this.offset
      const record = Buffer.alloc(56)
      record.writeUInt32LE(0x06064b50, 0)
      record.writeBigUInt64LE(44n, 4)
      record.writeUInt16LE((3 << 8) | 45, 12)
      record.writeUInt16LE(45, 14)
      record.writeBigUInt64LE(BigInt(this.count), 24)
      record.writeBigUInt64LE(BigInt(this.count), 32)
      record.writeBigUInt64LE(BigInt(size), 40)
      record.writeBigUInt64LE(BigInt(start), 48)
      const locator = Buffer.alloc(20)
      locator.writeUInt32LE(0x07064b50, 0)
      locator.writeBigUInt64LE(BigInt(at), 8)
      locator.writeUInt32LE(1, 16)
      await this.write(Buffer.concat([record, locator]))
    }
    const end = Buffer.alloc(22)
    end.writeUInt32LE(0x06054b50, 0)
    end.writeUInt16LE(zip64 ? 0xffff : this.count, 8)
    end.writeUInt16LE(zip64 ? 0xffff : this.count, 10)
    end.writeUInt32LE(zip64 ? ZIP64_LIMIT : size, 12)
    end.writeUInt32LE(zip64 ? ZIP64_LIMIT : start, 16)
    end.writeUInt16LE(comment.length, 20)
    await this.write(Buffer.concat([end, comment]))
    this.out.end()
    await once(this.out, 'finish')
  }
}

/** zipalign's padding field, sized so that a stored member's data starts aligned. */
function alignment(entry: LocalEntry, dataStart: number): ExtraField[] {
  const align = entry.align
  if (align === undefined || entry.method !== 0) return []
  const pad = (align - ((dataStart + 6) % align)) % align
  const data = Buffer.alloc(2 + pad)
  data.writeUInt16LE(align, 0)
  return [{ id: ALIGNMENT_FIELD, data }]
}

function zip64Field(values: number[]): ExtraField {
  const data = Buffer.alloc(values.length * 8)
  values.forEach((v, i) => data.writeBigUInt64LE(BigInt(v), i * 8))
  return { id: 0x0001, data }
}

function encodeExtra(fields: readonly ExtraField[]): Buffer {
  return Buffer.concat(
    fields.map((f) => {
      const head = Buffer.alloc(4)
      head.writeUInt16LE(f.id, 0)
      head.writeUInt16LE(f.data.length, 2)
      return Buffer.concat([head, f.data])
    }),
  )
}

/**
 * The run of fields the local header and the central directory record share, in the
 * same order: flags, method, time, date, CRC-32, sizes, name and extra lengths.
 */
function writeSharedFields(
  buf: Buffer,
  at: number,
  entry: {
    flags: number
    method: number
    time: number
    date: number
    crc32: number
    compressedSize: number
    uncompressedSize: number
    nameBytes: Buffer
  },
  zip64: boolean,
  extraLength: number,
): void {
  buf.writeUInt16LE(entry.flags, at)
  buf.writeUInt16LE(entry.method, at + 2)
  buf.writeUInt16LE(entry.time, at + 4)
  buf.writeUInt16LE(entry.date, at + 6)
  buf.writeUInt32LE(entry.crc32 >>> 0, at + 8)
  buf.writeUInt32LE(zip64 ? ZIP64_LIMIT : entry.compressedSize, at + 12)
  buf.writeUInt32LE(zip64 ? ZIP64_LIMIT : entry.uncompressedSize, at + 16)
  buf.writeUInt16LE(entry.nameBytes.length, at + 20)
  buf.writeUInt16LE(extraLength, at + 22)
}

/** A zip, jar or wheel: sorted, stable entries; kept byte for byte when nothing needs a change. */
export function normalizeZipFile(job: Job): Promise<NormalizeOutcome> {
  return normalizeZip(job.input, job.rules, job.budget, job.input, async (plan, write) => {
    job.said.format = plan.changes.flavor
    if (plan.signed !== undefined) {
      job.said.kept = plan.signed
      return job.keep()
    }
    if (!plan.rewrite && !job.canonical) {
      // Nothing else to change, but a zip inside was left as it is: said, not silent.
      if (plan.changes.nestedKept.length + plan.changes.kept.length > 0)
        job.said.kept = [
          ...plan.changes.nestedKept.map((n) => `nested ${n}`),
          ...plan.changes.kept,
        ].join('; ')
      return job.keep()
    }
    return job.write(async (out) => {
      await write(out)
      // Compare mode counts what it recompresses as it writes.
      job.said.changes = orReencoded(
        describeZip(plan.changes, job.rules),
        'made by Unix, sizes in the headers',
      )
    })
  })
}

/** What a zip's normalization changed, in words. */
function describeZip(c: ZipChanges, rules: NormalizeRules): string[] {
  return [
    c.reordered
      ? `${c.entries} entries sorted${c.flavor === 'jar' ? ' (META-INF/MANIFEST.MF first)' : ''}`
      : '',
    c.times > 0
      ? `${c.times} DOS times ${rules.setMtime ? 'set' : 'clamped'} to the epoch (UTC)`
      : '',
    c.lateTimes > 0 ? lateTimesChange(c.lateTimes, DOS_LATEST, 'DOS time') : '',
    c.extraFields > 0
      ? `${c.extraFields} extra fields cleaned (timestamps and uid/gid removed)`
      : '',
    c.attributes > 0 ? `${c.attributes} external attributes set to 0644/0755` : '',
    c.specialBits.length > 0 ? specialBitsChange(c.specialBits) : '',
    ...c.rewritten.map((n) => `${n} rewritten`),
    c.recompressed > 0 ? `${c.recompressed} members recompressed (compare mode)` : '',
    c.commentsCleared ? 'comments cleared (compare mode)' : '',
    c.nested.length > 0
      ? `${c.nested.length} nested ${c.nested.length === 1 ? 'archive' : 'archives'} normalized: ${firstFew(c.nested, 3)}`
      : '',
    ...c.nestedKept.map((n) => `nested ${n}`),
    ...c.kept,
  ].filter((x) => x !== '')
}
