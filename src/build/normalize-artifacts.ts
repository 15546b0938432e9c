import fs from 'node:fs'
import path from 'node:path'
import type { Manifest } from '../digest/manifest-digest.js'
import { DEFAULT_LIMITS } from '../diff/limits.js'
import { normalizeFile, type NormalizedFormat } from '../normalize/normalize-file.js'

export interface ArtifactNormalization {
  name: string
  format: NormalizedFormat
  /** Raw digests of run A and run B, as the builds wrote them. */
  raw: [string | null, string | null]
  /** Digests after normalization; run A's is what ships. */
  normalized: [string | null, string | null]
  /** What changed in each run's copy. */
  changes: [string[], string[]]
}

export interface NormalizedManifests {
  a: Manifest
  b: Manifest
  artifacts: ArtifactNormalization[]
  warnings: string[]
}

/**
 * Normalizes every artifact of both runs in place, inside the private build roots
 * (ship mode: lossless), and returns the manifests of the results. An artifact that
 * cannot be normalized keeps its raw digest, with a warning: the verdict never depends
 * on a normalizer that failed.
 */
export async function normalizeArtifacts(
  roots: { a: string; b: string },
  raw: { a: Manifest; b: Manifest },
  epoch: number,
): Promise<NormalizedManifests> {
  const warnings: string[] = []
  const artifacts = new Map<string, ArtifactNormalization>()
  const run = async (side: 'a' | 'b'): Promise<Manifest> => {
    const index = side === 'a' ? 0 : 1
    const out: Manifest = []
    for (const entry of raw[side]) {
      const file = path.join(roots[side], entry.name)
      const record = artifacts.get(entry.name) ?? {
        name: entry.name,
        format: 'unknown',
        raw: [null, null],
        normalized: [null, null],
        changes: [[], []],
      }
      record.raw[index] = entry.sha256
      artifacts.set(entry.name, record)
      // A link artifact points at another file; rewriting it would replace the link.
      if (fs.lstatSync(file).isSymbolicLink()) {
        record.normalized[index] = entry.sha256
        out.push(entry)
        continue
      }
      try {
        const outcome = await normalizeFile(
          file,
          file,
          { epoch, setMtime: false, mode: 'ship' },
          DEFAULT_LIMITS,
        )
        record.format = outcome.format
        record.normalized[index] = outcome.digests.after
        record.changes[index] = outcome.changes
        out.push({ name: entry.name, sha256: outcome.digests.after, size: fs.statSync(file).size })
      } catch (err) {
        warnings.push(
          `run ${side.toUpperCase()}: ${entry.name} could not be normalized (${(err as Error).message}); its raw digest is compared`,
        )
        record.normalized[index] = entry.sha256
        out.push(entry)
      }
    }
    return out
  }
  const a = await run('a')
  const b = await run('b')
  return {
    a,
    b,
    artifacts: [...artifacts.values()].filter(
      (x) => x.format !== 'unknown' || x.changes.some((c) => c.length > 0),
    ),
    warnings,
  }
}

/**
 * Which differing artifacts would match if both runs' copies were normalized. Nothing
 * in the build roots changes: each copy is normalized into a scratch file.
 */
export async function artifactsMatchingAfterNormalization(
  roots: { a: string; b: string },
  names: readonly string[],
  epoch: number,
  scratch: string,
): Promise<string[]> {
  const matching: string[] = []
  const dir = fs.mkdtempSync(path.join(scratch, 'would-normalize-'))
  try {
    for (const name of names) {
      const digests: string[] = []
      for (const side of ['a', 'b'] as const) {
        const file = path.join(roots[side], name)
        if (!fs.existsSync(file) || fs.lstatSync(file).isSymbolicLink()) break
        try {
          const outcome = await normalizeFile(
            file,
            path.join(dir, side),
            { epoch, setMtime: false, mode: 'ship' },
            DEFAULT_LIMITS,
          )
          if (outcome.format !== 'unknown') digests.push(outcome.digests.after)
        } catch {
          // Not normalizable: it cannot be said to match after normalization.
        }
      }
      if (digests.length === 2 && digests[0] === digests[1]) matching.push(name)
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  return matching
}
