import { isUtf8 } from 'node:buffer'
import crypto from 'node:crypto'
import type { Readable } from 'node:stream'
import { fromNameBytes, toDisplayText } from '../file-names.js'
import { FileChunks } from './file-chunks.js'
import type { Budget } from './limits.js'
import {
  ENTRY_KINDS,
  field,
  magicOf,
  hiddenHeaderNames,
  nameMisreading,
  parsePax,
  readNumber,
  readTarBlocks,
  type PaxRecord,
  type RawEntry,
} from './tar-blocks.js'
import {
  isoTime,
  keyFor,
  listField,
  nameWarning,
  octal,
  unreadableAs,
  type MemberInfo,
  type ScanResult,
  type WantMember,
} from './member.js'
import type { ByteSource } from './source.js'
import { isSparseRecord, SparseExpander, sparseField, sparseLayoutOf } from './tar-sparse.js'

// Typeflags as named in reports (tar-stream's names, which earlier reports used).
const TYPE_NAMES: Record<string, string> = {
  '0': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
  '7': 'contiguous-file',
  S: 'gnu-sparse',
  V: 'gnu-volume-header',
}

// PAX records that the name, link target and size already say.
const PAX_SKIP = new Set(['path', 'linkpath', 'size'])
// Global records in effect at once, at most: each becomes a field of every member after it.
const MAX_GLOBAL_RECORDS = 64
// A global record that no reader applies to what it extracts: kept as the archive's own field only.
const GLOBAL_ONLY = new Set(['comment'])
const EMPTY_SHA256 = crypto.hash('sha256', Buffer.alloc(0), 'hex')

/**
 * Streams a tar archive once, block by block (see tar-blocks.ts): hashes every member,
 * keeps the content of those in `want`. Names are bytes (a name that is not UTF-8 is
 * compared as the bytes it is); a sparse file is named by its real name; PAX global
 * headers (`git archive`'s commit id) are the archive's own fields, each in the order
 * given, and apply to every member after them, as GNU tar and Python's tarfile read
 * them. Data after the end of the archive is left out by tar, but not by every reader
 * (`tar -i` reads a second archive there): it is the archive's own field.
 */
export async function scanTar(
  input: Readable | FileChunks,
  where: string,
  budget: Budget,
  want: WantMember,
): Promise<ScanResult> {
  // Chunks read into reused buffers: what a sink keeps is copied out of them.
  const lent = input instanceof FileChunks
  const members: MemberInfo[] = []
  const captured = new Map<string, ByteSource>()
  const warnings: string[] = []
  const meta: Record<string, string> = {}
  const seen = new Map<string, number>()
  // The global records in effect, by key: a later global header overrides an earlier one.
  const globals = new Map<string, PaxRecord>()
  // Every value each global key was given, in order, for the archive's own fields.
  const globalValues = new Map<string, string[]>()
  // Its values, made again only when a global header changes them.
  let inEffect: PaxRecord[] = []
  let finish: (() => void) | undefined
  const bad = (what: string): Error => new Error(what)
  const end = await readTarBlocks(
    input,
    where,
    budget,
    (raw) => {
      finish?.()
      finish = undefined
      if (raw.type === 'g') {
        for (const record of parsePax(raw.data, bad, raw.at)) {
          const field = `global ${keyText(record.key)}`
          const all = [...(globalValues.get(field) ?? []), exactText(record.value)]
          globalValues.set(field, all)
          meta[field] = listField(all)
          globals.delete(record.key)
          if (!GLOBAL_ONLY.has(record.key)) globals.set(record.key, record)
        }
        // Each is a field of every member after it: a few, not a megabyte of them.
        if (globals.size > MAX_GLOBAL_RECORDS)
          throw unreadableAs(
            'tar',
            where,
          )(
            `the global header at byte ${raw.at} puts ${globals.size} records in effect (at most ${MAX_GLOBAL_RECORDS})`,
          )
        inEffect = [...globals.values()]
        return () => undefined
      }
      const name = fromNameBytes(raw.name)
      const key = keyFor(name, seen)
      const warning = nameWarning(name)
      if (warning !== undefined) warnings.push(warning)
      // Compared by the name GNU tar reads; one another reader reads otherwise (a GNU
      // long name beside a PAX path, a prefix under another magic) is said, as it may
      // extract somewhere else entirely.
      const misread = nameMisreading(raw)
      if (misread !== undefined)
        warnings.push(`the entry at byte ${raw.at} (${toDisplayText(name)}): ${misread}`)
      for (const hidden of hiddenHeaderNames(raw))
        warnings.push(`the entry at byte ${raw.at} (${toDisplayText(name)}): ${hidden}`)
      const layout = sparseLayoutOf(raw)
      if (typeof layout === 'string')
        throw unreadableAs('tar', where)(`the sparse file at byte ${raw.at}: ${layout}`)
      // A sparse file is its content with the holes made again, as tar extracts it.
      const expected = layout?.realSize ?? raw.size
      const sink = want(key, expected)
      // Most members come in one piece: hashed in one call then, a hash object made
      // only for the others (two per member of a 2,000-member pair were 16 ms). Nothing
      // is hashed later than its chunk arrives: a lent chunk is read into again after.
      let whole: string | undefined
      let hash: crypto.Hash | undefined
      let size = 0
      const globalsHere = inEffect
      const take = (chunk: Buffer): void => {
        if (size === 0 && chunk.length === expected) whole = crypto.hash('sha256', chunk, 'hex')
        else (hash ??= crypto.createHash('sha256')).update(chunk)
        size += chunk.length
        sink?.add(lent ? Buffer.from(chunk) : chunk)
      }
      const expander =
        layout === undefined
          ? undefined
          : new SparseExpander(
              layout,
              take,
              (bytes) => {
                budget.spendBytes(bytes, where)
              },
              (what) => unreadableAs('tar', where)(`the sparse file at byte ${raw.at}: ${what}`),
            )
      finish = () => {
        expander?.end()
        if (sink !== undefined) captured.set(key, sink.done())
        const sha256 = whole ?? hash?.digest('hex') ?? EMPTY_SHA256
        const sparse =
          layout === undefined ? undefined : sparseField(layout, expander?.segments ?? [])
        members.push({
          ...describe(raw, key, name, size, sha256, globalsHere, sparse),
          index: members.length,
        })
      }
      return expander === undefined
        ? take
        : (chunk) => {
            expander.add(chunk)
          }
    },
    { trailing: 'hash' },
  )
  finish?.()
  if (end.trailing !== undefined && end.trailing.bytes > 0)
    meta['data after the end'] = `${end.trailing.bytes} bytes, sha256 ${end.trailing.sha256}`
  return { inventory: { members, meta, warnings }, captured }
}

function describe(
  raw: RawEntry,
  key: string,
  name: string,
  size: number,
  sha256: string,
  globals: readonly PaxRecord[],
  sparse: string | undefined,
): MemberInfo {
  const type = ENTRY_KINDS[raw.type] ?? 'other'
  const h = raw.header
  const named = magicOf(h) !== 'v7'
  const meta: Record<string, string> = {
    mtime: numberField(h, 136, 12, isoTime),
    // Bits past the permissions (a writer's S_IFREG, 0100644) are shown when there: a
    // mode of 0644 and one of 0100644 are other bytes, and read alike otherwise.
    mode: numberField(h, 100, 8, (n) => (n > 0o7777 ? `0${n.toString(8)}` : octal(n))),
    uid: numberField(h, 108, 8, String),
    gid: numberField(h, 116, 8, String),
    uname: named ? exactText(field(h, 265, 32)) : '',
    gname: named ? exactText(field(h, 297, 32)) : '',
  }
  // A file of another typeflag than the plain one ('7', 'S'), and anything of no kind.
  if (type === 'other' || !['0', '5', '2', '1'].includes(raw.type))
    meta.type = TYPE_NAMES[raw.type] ?? `typeflag ${raw.type}`
  // A device's numbers; on any other entry only when they are not 0 (ustar's fields,
  // which readers ignore there: other bytes all the same, shown rather than hidden
  // beside a difference elsewhere).
  const device = `${numberField(h, 329, 8, String)},${numberField(h, 337, 8, String)}`
  if (raw.type === '3' || raw.type === '4' || (named && device !== '0,0')) meta.device = device
  // A directory's size field, which no reader takes data for: shown when not 0.
  if (raw.type === '5') {
    const sizeField = numberField(h, 124, 12, String)
    if (sizeField !== '0') meta['size field'] = sizeField
  }
  // A sparse file: where its data lies, how large it really is, in which layout. Its
  // content is compared with the holes made again.
  if (sparse !== undefined) meta.sparse = sparse
  // An entry of no kind a comparison knows that carries data (GNU's dumpdir `D`, its
  // listing of a directory for incremental backups): its data is one of its fields.
  if (type === 'other' && size > 0) meta.data = `${size} bytes, sha256 ${sha256}`
  // The global records it has no record of its own for, then its own.
  let records = raw.pax
  if (globals.length > 0) {
    const own = new Set(raw.pax.map((r) => r.key))
    records = [...globals.filter((r) => !own.has(r.key)), ...raw.pax]
  }
  // Repeated keys (PAX 0.0 sparse maps: GNU.sparse.offset, GNU.sparse.numbytes) each count.
  const values = new Map<string, string[]>()
  for (const record of records) {
    if (PAX_SKIP.has(record.key) || (sparse !== undefined && isSparseRecord(record))) continue
    const key = `pax.${keyText(record.key)}`
    const seen = values.get(key)
    if (seen === undefined) values.set(key, [exactText(record.value)])
    else seen.push(exactText(record.value))
  }
  // The values a PAX key was given: readers keep the last, so one record `a,b` and two
  // records `a` and `b` must not read alike.
  for (const [key, all] of values) meta[key] = listField(all)
  return {
    key,
    name,
    type,
    size,
    sha256: type === 'file' ? sha256 : '',
    ...(raw.linkName.length === 0 && !['1', '2'].includes(raw.type)
      ? {}
      : { linkTarget: fromNameBytes(raw.linkName) }),
    meta,
    index: 0,
  }
}

/**
 * A numeric header field as `shown`, or, where it is no number, its bytes: two fields
 * that are not numbers in other ways are two values, not both 0.
 */
function numberField(
  block: Buffer,
  offset: number,
  length: number,
  shown: (n: number) => string,
): string {
  const n = readNumber(block, offset, length)
  return n === undefined
    ? `not a number: ${JSON.stringify(block.toString('latin1', offset, offset + length))}`
    : shown(n)
}

/** A PAX key (its bytes one character each) as text, exactly. */
function keyText(key: string): string {
  return fromNameBytes(Buffer.from(key, 'latin1'))
}

/**
 * Bytes as text when they are UTF-8, else as hex: decoding `\xff` and `\xfe` both gave
 * U+FFFD, and two binary values (a file capability, say) that differ compared equal.
 */
function exactText(bytes: Buffer): string {
  return isUtf8(bytes) ? bytes.toString('utf8') : `0x${bytes.toString('hex')}`
}
