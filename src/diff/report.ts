/** The result of comparing two inputs: what differs, where, and the likely cause. */

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
  | 'random'

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

export interface DiffItem {
  /** `out/app.tgz!package/lib/index.js` for archive members. */
  path: string
  kind: ItemKind
  /** What the content is: text, binary, or the archive or compression format. */
  format?: string
  digests?: [string | null, string | null]
  sizes?: [number | null, number | null]
  fields?: FieldDifference[]
  text?: { unified: string; truncated: boolean }
  binary?: { offset: number; differingBytes: number; hex: [string, string] }
  order?: { a: string[]; b: string[] }
  /** For archives whose members are compared below them. */
  nested?: boolean
  message?: string
  hints: Hint[]
}

export interface PatternSummary {
  /** How many items share the pattern. */
  count: number
  kind: ItemKind
  /** The fields that differ, for metadata patterns. */
  fields: string[]
  description: string
  /** A few of the paths, for orientation. */
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
}
