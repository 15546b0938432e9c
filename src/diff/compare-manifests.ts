import { compareBytes } from '../canonical.js'
import type { Manifest, ManifestEntry } from '../digest/manifest-digest.js'
import type { DiffItem } from './report.js'

/** `mode`: the same bytes, but only one run's copy is executable. */
export type DifferenceKind = 'content' | 'mode' | 'only-in-a' | 'only-in-b'

export interface Difference {
  name: string
  kind: DifferenceKind
  /** Digests of run A and run B; null where the artifact is missing. */
  digests: [string | null, string | null]
  sizes: [number | null, number | null]
  /** For `mode`: whether run A's and run B's copies are executable. */
  executable?: [boolean, boolean]
  /**
   * For an output that holds no bytes in both runs, but not the same kind of one: what
   * each run left ("a FIFO", "a socket", "a character device 1,3").
   */
  special?: [string, string]
  /** What differs inside, and the likely causes (filled in by the diff engine). */
  explanation?: DiffItem[]
}

/** Two manifests agree when they hold the same names with the same digests and exec bits. */
export function compareManifests(a: Manifest, b: Manifest): Difference[] {
  const byName = (m: Manifest): Map<string, ManifestEntry> => new Map(m.map((e) => [e.name, e]))
  const left = byName(a)
  const right = byName(b)
  const names = [...new Set([...left.keys(), ...right.keys()])].sort(compareBytes)
  const differences: Difference[] = []
  for (const name of names) {
    const x = left.get(name)
    const y = right.get(name)
    const sameBytes = x !== undefined && x.sha256 === y?.sha256
    if (sameBytes && x.executable === y.executable) continue
    differences.push({
      name,
      kind:
        x === undefined
          ? 'only-in-b'
          : y === undefined
            ? 'only-in-a'
            : sameBytes
              ? 'mode'
              : 'content',
      digests: [x?.sha256 ?? null, y?.sha256 ?? null],
      sizes: [x?.size ?? null, y?.size ?? null],
      ...(sameBytes ? { executable: [x.executable === true, y.executable === true] } : {}),
    })
  }
  return differences
}
