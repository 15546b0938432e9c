import type { Readable } from 'node:stream'
import { ReproofError } from '../errors.js'
import type { Budget } from './limits.js'
import { bufferSource, type ByteSource } from './source.js'
/** One entry of an archive, as the comparison sees it. */
export interface MemberInfo {
  /** The name as stored; duplicates get `#2`, `#3`... so that every key is unique. */
  key: string
  name: string
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other'
  size: number
  /** SHA-256 of the content; empty for entries without content. */
  sha256: string
  linkTarget?: string
  /** Metadata fields, as display strings, compared one by one. */
  meta: Record<string, string>
  /** Position in the archive. */
  index: number
}

export interface ArchiveInventory {
  members: MemberInfo[]
  /** Container-level fields (zip comment...). */
  meta: Record<string, string>
  /** Suspicious member names, reported and never followed. */
  warnings: string[]
  /**
   * An ar archive's members by the offset of their header, which its symbol table
   * names them by: member keys.
   */
  headerOffsets?: Map<number, string>
}

/** Where a kept member's content goes as it is read: memory, or a file on disk. */
export interface MemberSink {
  add(chunk: Buffer): void
  /** The content, readable again; no more is added. */
  done(): ByteSource
}

/**
 * Decides, before a member is read, whether its content is kept (by key and size), and
 * where: the sink to fill, or undefined for a member that is only hashed.
 */
export type WantMember = (key: string, size: number) => MemberSink | undefined

/**
 * Keeps a member's content in memory. A member read as one piece is kept as that piece
 * rather than a copy when `keepView` agrees to the memory behind the piece staying (it
 * charges each block once): copying every small member of a large archive into fresh
 * memory, most of them dropped soon after as the same on both sides, took a seventh of
 * a diff's time. A reader hands a sink pieces it never writes again (each read and each
 * decompressor's output is fresh memory).
 */
export function memorySink(label: string, keepView?: (piece: Buffer) => boolean): MemberSink {
  const chunks: Buffer[] = []
  return {
    add: (chunk) => chunks.push(chunk),
    done: () => {
      const [only] = chunks
      if (chunks.length === 1 && only !== undefined && keepView?.(only) === true)
        return bufferSource(only, label)
      return bufferSource(Buffer.concat(chunks), label)
    },
  }
}

export interface ScanResult {
  inventory: ArchiveInventory
  /** Content of the members asked for, by key. */
  captured: Map<string, ByteSource>
}

/**
 * A reader of a streamed archive: every member read once, in order, each charged to
 * `budget` and kept when `want` says so. `where` names the archive in messages.
 */
export type StreamScan = (
  input: Readable,
  where: string,
  budget: Budget,
  want: WantMember,
) => Promise<ScanResult>

/**
 * Keys members by name, numbering repeats, so that duplicate entries stay distinct; a key
 * is never handed out twice, whatever the names: a member really named `x#2`, before or
 * after a second `x`, keeps a key of its own (`x#2#2`, or the second `x` takes `x#3`).
 * Two members under one key were one member: the other was never compared.
 */
export function keyFor(name: string, seen: Map<string, number>): string {
  let count = seen.get(name) ?? 0
  let key: string
  do {
    count++
    key = count === 1 ? name : `${name}#${count}`
  } while (seen.has(KEY + key))
  seen.set(name, count)
  seen.set(KEY + key, 1)
  return key
}

// The keys handed out, beside the counts of names in the same map: a lone surrogate is
// in no name (names are the bytes' UTF-8, or escapes of what is not).
const KEY = '\udfff'

/** A warning for each name more than one member of an archive has (keyed `x`, `x#2`...). */
export function duplicateWarnings(members: readonly MemberInfo[]): string[] {
  const counts = new Map<string, number>()
  for (const m of members) counts.set(m.name, (counts.get(m.name) ?? 0) + 1)
  return [...counts]
    .filter(([, n]) => n > 1)
    .map(
      ([name, n]) =>
        `${n} members are named ${JSON.stringify(name)}: an extraction keeps one of them, and which one depends on the reader; compared as ${JSON.stringify(name)}, ${JSON.stringify(`${name}#2`)}…`,
    )
}

/**
 * A list of values as one field, so that two lists never read alike: joined by
 * `separator` (with none, only a list of one is shown bare), and as a JSON list where
 * a value holds the separator or the text would read as JSON (["a, b"] against "a" and
 * "b", or against '["a' and 'b"]'). A joined text never starts with "[", and splits
 * back one way only.
 */
export function listField(values: readonly string[], separator?: string): string {
  const plain =
    values[0]?.startsWith('[') !== true &&
    (separator === undefined ? values.length === 1 : !values.some((v) => v.includes(separator)))
  return plain ? values.join(separator ?? '') : JSON.stringify(values)
}

/** Names that would escape an extraction root or confuse a reader. */
export function nameWarning(name: string): string | undefined {
  // In the name form a NUL byte is written `\u0000` `00`; a NUL before other hex digits
  // is a byte that is not UTF-8 (file-names.ts), not a NUL.
  if (name.includes('\u000000')) return `member name contains NUL: ${JSON.stringify(name)}`
  if (name.startsWith('/')) return `member name is absolute: ${name}`
  if (name.split('/').includes('..')) return `member name climbs out with "..": ${name}`
  return undefined
}

export function isoTime(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds)
  const date = new Date(seconds * 1000)
  return Number.isNaN(date.getTime())
    ? String(seconds)
    : `${date.toISOString().replace('.000Z', 'Z')} (${seconds})`
}

export function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`
}

/** The error for input that does not hold together as the `format` it claims to be. */
export function unreadableAs(format: string, where: string): (what: string) => ReproofError {
  return (what) =>
    new ReproofError('E_INPUT', `${where}: not a readable ${format} (${what})`, { path: where })
}
