// What each command's flags parse to, as commander hands them over: strings for the
// values a config module still has to check (durations, counts, epochs), booleans for
// switches. The actions map them onto typed options.

import type { VerifyFlags } from './verify-options.js'

export type { VerifyFlags } from './verify-options.js'

export interface GateFlags extends Omit<VerifyFlags, 'bundle'> {
  env?: string
  bundle?: string
  ledger: string
  stateDir?: string
  actor?: string
  to?: string
  reason?: string
  releaseVersion?: string
  minVersion?: string
  lockTimeout: string
  json?: boolean
}

export interface AttestFlags {
  record: string
  bundle: string
  key?: string
  keyless?: boolean
  identityTokenFile?: string
  /** Unset: the public good instance (given only for --keyless). */
  fulcioUrl?: string
  rekorUrl?: string
  tsaUrl?: string
  /** The trusted root a keyless bundle is verified against before it is written. */
  trustedRoot?: string
  timeout: string
  retries: string
  passphraseEnv?: string
  builderId?: string
  statement?: string
  sha512?: string
  json?: boolean
}

export interface KeygenFlags {
  out: string
  passphraseEnv?: string
  json?: boolean
}

export interface NormalizeFlags {
  epoch?: string
  out?: string
  inPlace?: boolean
  json?: boolean
  setMtime?: boolean
  clampMtime?: boolean
  dropBuildHost?: boolean
  canonical?: boolean
  mode?: string
  maxBytes?: string
  maxRatio?: string
  maxEntries?: string
  maxMemberBytes?: string
}
