import type { EpochSource } from '../config/epoch.js'
import type { Difference } from '../diff/compare-manifests.js'
import type { Manifest } from '../digest/manifest.js'
import type { RunId, VariationRecord } from '../sandbox/run-plan.js'

/** Identifies the format; bump `version` on any change a reader must know about. */
export const BUILD_RECORD_TYPE = 'https://reproof.dev/build-record'
export const BUILD_RECORD_VERSION = 1

export interface EnvironmentEntry {
  name: string
  /** Omitted for values passed through from the caller: they may be secrets. */
  value?: string
  from: 'reproof' | 'flag' | 'caller'
}

export interface SourceInfo {
  path: string
  git?: {
    commit: string
    commitTime: number
    dirty: boolean
    repository?: string
  }
  files: number
  bytes: number
}

export interface RunRecord {
  id: RunId
  root: string
  exitCode: number | null
  signal: string | null
  durationMs: number
  manifest: Manifest
  manifestDigest: string
}

export interface BuildRecord {
  recordType: typeof BUILD_RECORD_TYPE
  version: typeof BUILD_RECORD_VERSION
  reproofVersion: string
  command: string[]
  source: SourceInfo
  outputs: string[]
  exclude: string[]
  epoch: { value: number; source: EpochSource }
  environment: EnvironmentEntry[]
  canary: string
  variations: VariationRecord[]
  runs: RunRecord[]
  result: {
    reproducible: boolean
    differences: Difference[]
  }
  /** Wall-clock times, for people reading the record; nothing decides on them. */
  startedAt: string
  finishedAt: string
}

export function toBuildRecord(input: Omit<BuildRecord, 'recordType' | 'version'>): BuildRecord {
  return { recordType: BUILD_RECORD_TYPE, version: BUILD_RECORD_VERSION, ...input }
}
