import { compareBytes } from '../canonical.js'
import { fromNameBytes, toDisplayText } from '../file-names.js'
import { firstFew } from '../first-few.js'
import { sha256Hex } from '../sha256.js'
import type { NormalizeRules } from '../config/normalize-options.js'

/**
 * The pure rules of normalization: what each header field becomes. Everything here is
 * a function of the input fields and the options, so it can be tested exhaustively.
 */

// The options' shapes live with the flags they are mapped from.
export type { NormalizeMode, NormalizeRules } from '../config/normalize-options.js'

/** Compare mode is always canonical: it decides equivalence, and ships nothing. */
export function isCanonical(rules: NormalizeRules): boolean {
  return rules.canonical === true || rules.mode === 'compare'
}

/** npm packs every entry at this instant (1985-10-26T08:15:00Z); it is kept, not fought. */
export const NPM_MTIME = 499162500

/** The earliest time a zip (DOS) timestamp can hold: 1980-01-01T00:00:00Z. */
export const DOS_EPOCH = 315532800
/** The latest a DOS date and time hold: 2107-12-31 23:59:58 UTC. */
export const DOS_LATEST = 4354819198

/** min(mtime, epoch), as the reproducible-builds spec recommends, or the epoch when forced. */
export function stableMtime(mtime: number, rules: NormalizeRules): number {
  return rules.setMtime ? rules.epoch : Math.min(mtime, rules.epoch)
}

/**
 * A zip member's stable time, Clojure's sources kept older than their compiled classes:
 * Clojure loads a namespace's `__init.class` only when it is strictly newer than its
 * `.clj` or `.cljc` (RT.load), so a jar whose every member has the epoch compiled every
 * namespace from source again at each start. A source is given two seconds before the
 * epoch, a DOS time's step (when the epoch is past 1980, whose first second is the
 * earliest a DOS time holds); one already older keeps its own. Idempotent: a time two
 * seconds before the epoch is kept by both setting and clamping.
 */
export function stableZipMtime(name: string, mtime: number, rules: NormalizeRules): number {
  const stable = stableMtime(mtime, rules)
  if (!/\.cljc?$/.test(name) || rules.epoch - 2 < DOS_EPOCH) return stable
  return Math.min(stable, rules.epoch - 2)
}

const SPECIAL_BITS_REMOVED = ' setuid, setgid or sticky bits removed (the stable modes have none)'

/** A member whose setuid, setgid or sticky bit a stable mode left out: its name's bytes and its mode. */
export interface SpecialBitsMember {
  name: Uint8Array
  mode: number
}

/**
 * What a report says of setuid, setgid and sticky bits a stable mode left out: how
 * many, the first few members (with their modes), and a digest of every member and mode,
 * so that two runs' reports are alike only when the same members lost the same bits
 * (a build that makes `mount` setuid in one run and `sh` in the other came out
 * normalized alike, the count the same).
 */
export function specialBitsChange(members: readonly SpecialBitsMember[]): string {
  const mode = (m: SpecialBitsMember): string => (m.mode & 0o7777).toString(8)
  // In the order of their names' bytes: two runs that wrote them in other orders say alike.
  const sorted = [...members].sort(
    (x, y) => Buffer.compare(Buffer.from(x.name), Buffer.from(y.name)) || x.mode - y.mode,
  )
  const keys = sorted.map((m) => Buffer.concat([Buffer.from(m.name), Buffer.from(` ${mode(m)}\0`)]))
  const digest = sha256Hex(Buffer.concat(keys)).slice(0, 16)
  const shown = firstFew(
    sorted.map((m) => `${toDisplayText(fromNameBytes(m.name))} (${mode(m)})`),
    3,
  )
  return `${members.length}${SPECIAL_BITS_REMOVED}: ${shown} [members ${digest}]`
}

/** Whether a line of a report is `specialBitsChange`'s. */
export function isSpecialBitsChange(line: string): boolean {
  const at = line.indexOf(SPECIAL_BITS_REMOVED)
  return (
    at > 0 &&
    /^\d+$/.test(line.slice(0, at)) &&
    /: .* \[members [0-9a-f]{16}\]$/.test(line.slice(at + SPECIAL_BITS_REMOVED.length))
  )
}

/**
 * What a report says of stable times a format's field cannot hold (an epoch past 2106
 * for a cpio header, 2107 for a zip's DOS time): each written as the latest it holds.
 */
export function lateTimesChange(count: number, latest: number, field: string): string {
  const when = new Date(latest * 1000).toISOString().replace('.000Z', 'Z')
  return `${count} times past ${when}, the latest a ${field} holds, written as that`
}

export type EntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other'

/** Only the exec bit survives: 0755 for directories and executables, 0644 otherwise, 0777 for links. */
export function stableMode(type: EntryType, mode: number): number {
  if (type === 'directory') return 0o755
  if (type === 'symlink') return 0o777
  return (mode & 0o111) !== 0 ? 0o755 : 0o644
}

/**
 * Entry order for jars: `META-INF/` then `META-INF/MANIFEST.MF` first, as the JAR
 * specification expects (java.util.jar's JarInputStream reads the manifest from the
 * start, and matches both names in any case: `META-INF/Manifest.mf` is the manifest);
 * then byte order.
 */
export function compareZipNames(a: string, b: string): number {
  const rank = (n: string): number => {
    const upper = n.toUpperCase()
    return upper === 'META-INF/' ? 0 : upper === MANIFEST ? 1 : 2
  }
  return rank(a) - rank(b) || compareBytes(a, b)
}

const MANIFEST = 'META-INF/MANIFEST.MF'

/** Whether a member is a jar's manifest, as java.util.jar finds it (in any case). */
export function isManifestName(name: string): boolean {
  return name.toUpperCase() === MANIFEST
}

/** DOS date and time fields for a UTC instant, floored at 1980-01-01 (the format's first day). */
export function dosDateTime(seconds: number): { date: number; time: number } {
  // Before 1980 or after 2107, the nearest time the fields hold (not 2107 with the
  // month and day of a later year).
  const d = new Date(Math.min(Math.max(seconds, DOS_EPOCH), DOS_LATEST) * 1000)
  const year = d.getUTCFullYear()
  return {
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
  }
}

export interface ExtraField {
  id: number
  data: Buffer
}

/**
 * Zip extra fields: timestamps (0x5455 extended time, 0x000a NTFS) go; so do Info-ZIP
 * Unix uid/gid fields (0x7875, 0x7855): blanking them would still leave an archive made
 * with `zip` apart from the same one made with `zip -X`. PKWARE's Unix field (0x000d)
 * holds times and owners, which unzip applies, and after them, for a link, its target:
 * it goes when it holds nothing else, and stays when it holds a target (which is content).
 * Zip64 (0x0001) is rebuilt by the writer; every other field stays.
 */
export function stableExtraFields(fields: readonly ExtraField[]): ExtraField[] {
  return fields.filter(
    (f) =>
      ![0x5455, 0x000a, 0x0001, 0x5855, 0x7855, 0x7875].includes(f.id) &&
      !(f.id === 0x000d && f.data.length <= 12),
  )
}

export type ZipEntryType = Extract<EntryType, 'file' | 'directory' | 'symlink'>

/**
 * Unix mode in the high 16 bits of the external attributes, the file type with it (a
 * symbolic link stays one, as `zip -y` stored it); the MS-DOS directory bit for dirs.
 */
export function stableExternalAttributes(type: ZipEntryType, mode: number): number {
  if (type === 'directory') return ((0o040755 << 16) | 0x10) >>> 0
  if (type === 'symlink') return ((0o120000 | stableMode('symlink', mode)) << 16) >>> 0
  // A FIFO, a device or a socket keeps its type (bsdtar makes one; a FIFO is also what
  // `zip -` records for what it read from a pipe): made a plain file, it was not kept.
  const kind = mode & 0o170000
  const kept = [0o010000, 0o020000, 0o060000, 0o140000].includes(kind) ? kind : 0o100000
  return ((kept | stableMode('file', mode)) << 16) >>> 0
}

// Manifest headers that name the machine, person or tool version that built a jar.
const HOST_HEADERS =
  /^(Built-By|Build-Jdk|Build-Jdk-Spec|Created-By|Built-Date|Build-Date|Build-Time|Built-Host|Build-Host|Build-OS|Bnd-LastModified|Tool):/i

/**
 * Compare mode only: drops the headers a manifest carries about its build host. Every
 * other line keeps its bytes and its own line end.
 */
export function stripManifestHostHeaders(manifest: string): string {
  // A line ends at CR LF, LF or a lone CR, as the JAR specification reads it: split
  // with its end, each line is one piece and its end the next.
  const pieces = manifest.split(/(\r\n|\r|\n)/)
  let out = ''
  let skipping = false
  for (let i = 0; i < pieces.length; i += 2) {
    const line = pieces[i] ?? ''
    const end = pieces[i + 1] ?? ''
    // Continuation lines start with one space and belong to the header before them.
    if (!line.startsWith(' ')) skipping = HOST_HEADERS.test(line)
    if (!skipping) out += line + end
  }
  return out
}

/**
 * Wheels: RECORD's rows sorted, its own row (with empty hash and size) kept among them.
 * RECORD is CSV: a quoted path may hold a line break, and such a row spans lines, so rows
 * are split where a line ends outside quotes (sorting lines cut one row in two and folded
 * others together). One whose quotes never close is not CSV: kept as it is.
 */
export function sortWheelRecord(record: string): string {
  const newline = record.includes('\r\n') ? '\r\n' : '\n'
  const rows: string[] = []
  let quoted = false
  let start = 0
  for (let i = 0; i < record.length; i++) {
    const c = record[i]
    if (c === '"') quoted = !quoted
    else if (c === '\n' && !quoted) {
      const end = i > start && record[i - 1] === '\r' ? i - 1 : i
      rows.push(record.slice(start, end))
      start = i + 1
    }
  }
  if (quoted) return record
  rows.push(record.slice(start))
  return (
    rows
      .filter((r) => r !== '')
      .sort(compareBytes)
      .join(newline) + newline
  )
}
