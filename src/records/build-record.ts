import type { EpochSource } from '../config/epoch.js'
import type { Difference } from '../diff/compare-manifests.js'
import type { EnvRequest, NormalizeBy } from '../config/build-options.js'
import { manifestDigest, type Manifest } from '../digest/manifest-digest.js'
import type { GitSource } from '../sandbox/git.js'
import type { NormalizedFormat } from '../normalize/normalize-file.js'
import type { RunId, VariationRecord } from '../sandbox/run-plan.js'

/** Identifies the format; bump `version` on any change a reader must know about. */
/**
 * `reproducible`: the bytes the builds wrote are identical. `reproducible-after-
 * normalization`: with --normalize, identical once normalized (and the normalized
 * ones ship). `not-reproducible`: anything else, including raw artifacts that would
 * match after normalization when --normalize was not given.
 */
export type Verdict = 'reproducible' | 'reproducible-after-normalization' | 'not-reproducible'

/** How the runs were kept apart from the machine and from each other. */
export type Isolation =
  | {
      kind: 'namespaces'
      /** 'none': a network namespace with loopback only; 'host' with --network. */
      network: 'none' | 'host'
      /** What the sandbox could not do here (a mount left writable, loopback down). */
      notes: string[]
    }
  | {
      kind: 'process'
      /** Why there is no sandbox (--no-sandbox, or what the kernel refused). */
      reason: string
      network: 'host'
      notes: string[]
    }

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

export const BUILD_RECORD_TYPE = 'https://reproof.dev/build-record'
export const BUILD_RECORD_VERSION = 2

export interface EnvironmentEntry {
  name: string
  /**
   * Omitted for values passed through from the caller: they may be secrets. For a value
   * given by `--env` or the config, the value given: what a rebuild gives again.
   */
  value?: string
  /**
   * Run A's value where it was not the value given: a variation changed it (the clock's
   * real-clock programs put before PATH, the CPU count added to MAKEFLAGS as `-j`).
   */
  effective?: string
  from: 'reproof' | 'flag' | 'config' | 'caller'
}

export interface SourceInfo {
  path: string
  git?: {
    commit: string
    commitTime: number
    dirty: boolean
    repository?: string
    /** The ref built: the CI's ($GITHUB_REF) or the branch checked out. */
    ref?: string
    /** The directory built, below the top of the repository; absent at the top. */
    subdirectory?: string
  }
  files: number
  bytes: number
  /** Lockfiles in the snapshot and their SHA-256, for the provenance's resolved dependencies. */
  lockfiles: { path: string; sha256: string }[]
}

export interface RunRecord {
  id: RunId
  root: string
  exitCode: number | null
  signal: string | null
  durationMs: number
  manifest: Manifest
  manifestDigest: string
  /** Processes the build left running when its command ended (killed then). */
  leftovers: string[]
}

export interface BuildRecord {
  recordType: typeof BUILD_RECORD_TYPE
  version: typeof BUILD_RECORD_VERSION
  reproofVersion: string
  command: string[]
  source: SourceInfo
  outputs: string[]
  exclude: string[]
  /** Source paths left out of the snapshot because an `--out` glob matches them. */
  excludedOutputs: string[]
  epoch: { value: number; source: EpochSource }
  environment: EnvironmentEntry[]
  canary: string
  variations: VariationRecord[]
  /**
   * Default variations a no-vary list turned off, and which list (`--no-vary`, or the
   * source tree's own `reproof.config.json "noVary"`): a variation a pull request's own
   * config switched off reads otherwise as one never asked for. Absent in records from
   * before it was kept.
   */
  turnedOff?: { name: string; by: string }[]
  runs: RunRecord[]
  isolation: Isolation
  result: {
    reproducible: boolean
    verdict: Verdict
    /** False when the artifacts matched only after normalization. */
    reproducibleWithoutNormalization: boolean
    differences: Difference[]
    /** Without --normalize: differing artifacts that would match once normalized. */
    wouldMatchAfterNormalization: string[]
  }
  normalization: NormalizationRecord | null
  /** Wall-clock times, for people reading the record; nothing decides on them. */
  startedAt: string
  finishedAt: string
}

export function toBuildRecord(input: Omit<BuildRecord, 'recordType' | 'version'>): BuildRecord {
  return { recordType: BUILD_RECORD_TYPE, version: BUILD_RECORD_VERSION, ...input }
}

export function toRunRecord(
  outcome: {
    id: RunId
    exitCode: number | null
    signal: string | null
    durationMs: number
    leftovers: string[]
  },
  root: string,
  manifest: Manifest,
): RunRecord {
  return {
    id: outcome.id,
    root,
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    durationMs: outcome.durationMs,
    manifest,
    manifestDigest: manifestDigest(manifest),
    leftovers: outcome.leftovers,
  }
}

/**
 * The record keeps every value but those passed through from the caller: run A's, and for
 * a value given, the value given with run A's beside it where a variation changed it.
 */
export function toEnvironmentEntries(
  env: Record<string, string>,
  requests: readonly EnvRequest[],
  passThrough: Record<string, string>,
): EnvironmentEntry[] {
  const requested = new Map(requests.map((r) => [r.name, r]))
  return Object.keys(env)
    .sort()
    .map((name): EnvironmentEntry => {
      const request = requested.get(name)
      if (request?.value !== undefined) {
        const given = passThrough[name] ?? ''
        const ran = env[name] ?? ''
        return {
          name,
          value: given,
          ...(ran === given ? {} : { effective: ran }),
          from: request.fromConfig === true ? 'config' : 'flag',
        }
      }
      if (request !== undefined) return { name, from: 'caller' }
      return { name, value: env[name] ?? '', from: 'reproof' }
    })
}

export function toSourceInfo(
  source: string,
  git: GitSource | undefined,
  ciRef: string | undefined,
  snapshot: { files: number; bytes: number },
  lockfiles: { path: string; sha256: string }[],
): SourceInfo {
  return {
    path: source,
    ...(git === undefined
      ? {}
      : {
          git: {
            commit: git.commit,
            commitTime: git.commitTime,
            dirty: git.dirty,
            ...(git.repository === undefined ? {} : { repository: git.repository }),
            ...((ciRef ?? git.ref) === undefined ? {} : { ref: ciRef ?? git.ref }),
            ...(git.subdirectory === '' ? {} : { subdirectory: git.subdirectory }),
          },
        }),
    files: snapshot.files,
    bytes: snapshot.bytes,
    lockfiles,
  }
}

/** Which normalizers ran and what they changed; null when normalization was turned off. */
export interface NormalizationRecord {
  mode: 'ship'
  /** What asked for it: the flag, or the source tree's `reproof.config.json`; absent in older records. */
  by?: NormalizeBy
  artifacts: ArtifactNormalization[]
  /**
   * What normalizing could not settle: an artifact it could not normalize (its raw digest
   * compared), bits the two runs set apart that what ships has none of. Kept with the
   * evidence, not only shown: absent in records written before it was.
   */
  warnings?: string[]
}

export function toNormalizationRecord(
  normalized: NormalizedManifests | null,
  by: NormalizeBy | null,
): NormalizationRecord | null {
  return normalized === null
    ? null
    : {
        mode: 'ship',
        ...(by === null ? {} : { by }),
        artifacts: normalized.artifacts,
        warnings: normalized.warnings,
      }
}
