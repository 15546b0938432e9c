/** The result of comparing two inputs: what differs, where, and the likely cause. */

import type { BinaryRegion } from './content-diff.js'
import type { ElfSectionDifference } from './elf-diff.js'

export type Cause =
  | 'build-path'
  | 'timestamp'
  | 'ordering'
  | 'permissions'
  | 'umask'
  | 'user'
  | 'locale'
  | 'hostname'
  | 'environment'
  | 'compression'
  | 'filesystem'
  | 'derived'
  | 'unexplained'

export interface Hint {
  cause: Cause
  /** The matched string, decoded time or field that supports the hint. */
  evidence: string
  /** One line saying how to fix it. */
  fix: string
}

export interface FieldDifference {
  field: string
  a: string
  b: string
}

export type ItemKind =
  'content' | 'metadata' | 'only-in-a' | 'only-in-b' | 'type' | 'order' | 'error'

interface ItemBase {
  /** `out/app.tgz!package/lib/index.js` for archive members. */
  path: string
  /** What the content is: text, binary, or the archive or compression format. */
  format?: string
  digests?: [string | null, string | null]
  sizes?: [number | null, number | null]
  message?: string
  hints: Hint[]
}

/** Fields a kind of item never has: readable on any item (as undefined), never settable. */
type Without<K extends keyof Parts> = Partial<Record<K, never>>

interface Parts {
  /** Header fields that differ (for an archive's content item: its own header's). */
  fields: FieldDifference[]
  text: { unified: string; truncated: boolean }
  binary: {
    offset: number
    differingBytes: number
    hex: [string, string]
    /** Places that differ in all (ranges of differing bytes). */
    places?: number
    /** The first places, a few bytes apart taken as one, with section and strings. */
    regions?: BinaryRegion[]
    /** Places not in `regions`. */
    unlistedPlaces?: number
    /** What `sections` are parts of: ELF sections, a Java class's constants and methods, or a .pyc's code objects. */
    structure?: 'elf' | 'java-class' | 'pyc'
    /**
     * For two ELF files: the sections whose bytes differ, matched by name. For two Java
     * classes: the constant pool (sizes counted in constants) and the methods whose code
     * differs (sizes in bytes of code). For two .pyc files: the file names they were
     * compiled from (sizes counted in names) and each code object whose bytecode,
     * constants or names differ (sizes in bytes of bytecode).
     */
    sections?: ElfSectionDifference[]
    /** Differing sections not in `sections`. */
    unlistedSections?: number
  }
  /** For archives whose members are compared below them. */
  nested: boolean
  order: { a: string[]; b: string[] }
}

/**
 * One difference. What it carries follows from its kind: a content item may carry a
 * text or binary diff, a metadata or type item always carries the fields that differ, an
 * order item the two orders, an error item its message; nothing else carries them.
 */
export type DiffItem =
  | (ItemBase & { kind: 'content' } & Partial<Omit<Parts, 'order'>> & Without<'order'>)
  | (ItemBase & { kind: 'metadata' | 'type' } & Pick<Parts, 'fields'> &
      Without<'text' | 'binary' | 'nested' | 'order'>)
  | (ItemBase & { kind: 'only-in-a' | 'only-in-b' } & Without<keyof Parts>)
  | (ItemBase & { kind: 'order' } & Pick<Parts, 'order'> &
      Without<'fields' | 'text' | 'binary' | 'nested'>)
  | (ItemBase & { kind: 'error'; message: string } & Without<keyof Parts>)

export interface PatternSummary {
  /** How many items share the pattern. */
  count: number
  kind: ItemKind
  /** The fields that differ, for metadata patterns. */
  fields: string[]
  /** The causes every item's hints name, sorted (none for items without hints). */
  causes: string[]
  /** The values of every field but times and compression, the same in every item (those vary). */
  values?: { field: string; a: string; b: string }[]
  /** What every item of the pattern says (`content identical`), when they say anything. */
  message?: string
  description: string
  /** The first 20 of the paths (`count` says how many there are). */
  examples: string[]
}

export interface DiffReport {
  identical: boolean
  a: string
  b: string
  items: DiffItem[]
  summaries: PatternSummary[]
  warnings: string[]
  stats: { compared: number; differing: number }
  /**
   * What of the two files or trees was not compared, so that `identical` is read for
   * what it covers: the same bytes, types, modes and link targets, not the same owners.
   */
  notCompared: string[]
}

/** Of files and trees on disk: what no comparison looks at (inside archives, all of it is). */
export const NOT_COMPARED_ON_DISK: readonly string[] = [
  'owners',
  'extended attributes',
  'hard links',
  'mtimes',
  // chattr's flags (append-only, immutable): the kernel's, read by no archive format.
  'inode flags',
]

/** The report on two sides found identical: `count` things compared, none differing. */
export function identicalReport(count: number, sides: [string, string]): DiffReport {
  return {
    identical: true,
    a: sides[0],
    b: sides[1],
    items: [],
    summaries: [],
    warnings: [],
    stats: { compared: count, differing: 0 },
    notCompared: [...NOT_COMPARED_ON_DISK],
  }
}

/** `owners, extended attributes, hard links, mtimes and inode flags not compared`, or nothing. */
export function notComparedText(report: DiffReport): string {
  const n = report.notCompared
  if (n.length === 0) return ''
  const list = n.length === 1 ? (n[0] ?? '') : `${n.slice(0, -1).join(', ')} and ${n.at(-1) ?? ''}`
  return `; ${list} not compared`
}
