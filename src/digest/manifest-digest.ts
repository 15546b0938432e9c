import { canonicalJson } from '../canonical.js'
import { sha256Hex } from '../sha256.js'

export interface ManifestEntry {
  /** Relative to the build root, `/`-separated. */
  name: string
  sha256: string
  size: number
  /**
   * Present (and true) when the file, or a link's target, has an execute bit: part of
   * what a build produces, so two runs that differ in it differ.
   */
  executable?: true
}

/** Sorted by name in byte order; the canonical form is what gets hashed. */
export type Manifest = ManifestEntry[]

/** The digest a later attestation cites as proof of what a run produced. */
export function manifestDigest(manifest: Manifest): string {
  return sha256Hex(canonicalJson(manifest))
}
