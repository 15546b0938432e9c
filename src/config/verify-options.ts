import fs from 'node:fs'
import { ReproofError } from '../errors.js'
import { parseDuration } from './duration.js'
import type { PolicyFile } from './policy-file.js'

// The options of `reproof verify` and the gate, and their mapping from flags: the trust
// (keys, or a keyless identity) and the policy. The verify and gate layers take these
// shapes from here.

export type Trust =
  | {
      kind: 'keys'
      keys: string[]
      /** Verifies the bundle's log entries and timestamps; without it they are not used. */
      trustedRoot: string | undefined
    }
  | {
      kind: 'keyless'
      trustedRoot: string | undefined
      identity: string | undefined
      identityRegexp: string | undefined
      issuer: string | undefined
      issuerRegexp: string | undefined
    }

/** What the caller requires beyond a valid signature; every field is optional. */
export interface Policy {
  /** Unset means SLSA Provenance v1: any other predicate needs to be asked for by name. */
  predicateType?: string
  builderId?: string
  buildType?: string
  /** The source repository, compared as a repository (git+, .git and case aside). */
  sourceUri?: string
  /** `owner/repo` or `host/owner/repo`, as gh attestation verify takes it. */
  repo?: string
  /** `owner` or `host/owner`. */
  owner?: string
  /** Exact. */
  sourceRef?: string
  /** Anchored at both ends. */
  sourceRefRegexp?: string
  sourceDigest?: string
  /** Keyless only: `[host/]owner/repo/path/to/workflow` of the workflow that signed. */
  signerWorkflow?: string
  /** Keyless only: `[host/]owner/repo` of the workflow that signed. */
  signerRepo?: string
  /** Keyless only: the commit of the workflow that signed. */
  signerDigest?: string
  /** Keyless only: refuse a certificate whose runner environment is not github-hosted. */
  denySelfHostedRunners?: boolean
  requireReproduced?: boolean
  /**
   * The provenance stated by the build that ran the runs (`reproof build --bundle`), not
   * by `reproof attest` from a record file, whose claims anyone who could write the file
   * could have written.
   */
  requireStatedByBuild?: boolean
  /** Milliseconds; measured from the earliest verified time. */
  maxAgeMs?: number
}

/**
 * `reproof verify`'s flags as commander hands them over: the policy's fields under their
 * own names, the age as text, and the trust.
 */
export interface VerifyFlags extends Omit<Policy, 'maxAgeMs'> {
  bundle: string
  key?: string[]
  certificateIdentity?: string
  certificateIdentityRegexp?: string
  certificateOidcIssuer?: string
  certificateOidcIssuerRegexp?: string
  trustedRoot?: string
  maxAge?: string
  policy?: string
  rebuild?: boolean
  source?: string
  tempDir?: string
  rebuildEnv?: string[]
  rebuildNetwork?: boolean
  rebuildWithoutSandbox?: boolean
  rebuildTimeout?: string
  json?: boolean
}

/** The policies that only a certificate can answer. */
export const CERTIFICATE_ONLY: readonly (keyof Policy)[] = [
  'signerWorkflow',
  'signerRepo',
  'signerDigest',
  'denySelfHostedRunners',
]

export interface ArtifactDigests {
  /** The file, or the digest itself when the subject was given as one. */
  path: string
  sha256?: string
  /** Computed only when a subject is named by SHA-512. */
  sha512?: string
  /** False for a subject given as a digest: there is no file. */
  file?: false
}

export function toTrust(flags: VerifyFlags): Trust {
  const keys = flags.key ?? []
  const keyless =
    flags.certificateIdentity !== undefined ||
    flags.certificateIdentityRegexp !== undefined ||
    flags.certificateOidcIssuer !== undefined ||
    flags.certificateOidcIssuerRegexp !== undefined
  if (keys.length > 0 && keyless)
    throw new ReproofError(
      'E_USAGE',
      'give either --key or --certificate-identity and --certificate-oidc-issuer (or their -regexp forms), not both',
    )
  if (keys.length > 0) return { kind: 'keys', keys, trustedRoot: flags.trustedRoot }
  // Exact or pattern, one of each: two would leave unsaid which one is meant.
  for (const [exact, pattern, flag, orKey] of [
    [
      flags.certificateIdentity,
      flags.certificateIdentityRegexp,
      '--certificate-identity',
      ' (or give --key)',
    ],
    [
      flags.certificateOidcIssuer,
      flags.certificateOidcIssuerRegexp,
      '--certificate-oidc-issuer',
      '',
    ],
  ] as const) {
    if ((exact === undefined) === (pattern === undefined))
      throw new ReproofError(
        'E_USAGE',
        `keyless verification needs exactly one of ${flag} and ${flag}-regexp${orKey}`,
      )
  }
  // An empty value (an unset variable, `--certificate-identity "$ID"`) requires nothing.
  for (const [value, flag] of [
    [flags.certificateIdentity, '--certificate-identity'],
    [flags.certificateIdentityRegexp, '--certificate-identity-regexp'],
    [flags.certificateOidcIssuer, '--certificate-oidc-issuer'],
    [flags.certificateOidcIssuerRegexp, '--certificate-oidc-issuer-regexp'],
  ] as const)
    if (value?.trim() === '') throw new ReproofError('E_USAGE', `${flag} is empty`)
  checkRegexp(flags.certificateIdentityRegexp, '--certificate-identity-regexp')
  checkRegexp(flags.certificateOidcIssuerRegexp, '--certificate-oidc-issuer-regexp')
  return {
    kind: 'keyless',
    trustedRoot: flags.trustedRoot,
    identity: flags.certificateIdentity,
    identityRegexp: flags.certificateIdentityRegexp,
    issuer: flags.certificateOidcIssuer,
    issuerRegexp: flags.certificateOidcIssuerRegexp,
  }
}

function checkRegexp(pattern: string | undefined, flag: string): void {
  if (pattern === undefined) return
  try {
    new RegExp(pattern)
  } catch (err) {
    throw new ReproofError(
      'E_USAGE',
      `${flag} ${pattern}: not a valid regular expression`,
      {},
      { cause: err },
    )
  }
}

/** Policies only a Fulcio certificate can answer make no sense with --key: said before anything runs. */
export function checkPolicyFitsTrust(policy: Policy, trust: Trust): void {
  if (trust.kind !== 'keys') return
  const flags: Record<string, string> = {
    signerWorkflow: '--signer-workflow',
    signerRepo: '--signer-repo',
    signerDigest: '--signer-digest',
    denySelfHostedRunners: '--deny-self-hosted-runners',
  }
  for (const key of CERTIFICATE_ONLY) {
    if (policy[key] !== undefined)
      throw new ReproofError(
        'E_USAGE',
        `${flags[key] ?? key} is checked against a Fulcio certificate; a bundle signed with --key has none`,
      )
  }
}

const DIGEST_SUBJECT = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/

/**
 * `sha256:<hex>` and `sha512:<hex>` arguments are digests to match; every other argument
 * is a file. One that is both (a file named as a digest) is refused: read as the digest,
 * the file's own bytes would never be checked.
 */
export function splitSubjects(args: string[]): { files: string[]; digests: ArtifactDigests[] } {
  const files: string[] = []
  const digests: ArtifactDigests[] = []
  for (const arg of args) {
    if (DIGEST_SUBJECT.test(arg) && fs.lstatSync(arg, { throwIfNoEntry: false }) !== undefined) {
      throw new ReproofError(
        'E_USAGE',
        `${arg}: both a digest and a file of that name; write ./${arg} to verify the file`,
      )
    } else if (DIGEST_SUBJECT.test(arg)) {
      const [algorithm, hex] = arg.split(':') as ['sha256' | 'sha512', string]
      digests.push({ path: arg, [algorithm]: hex, file: false })
    } else if (/^sha(256|512):/i.test(arg) && !fs.existsSync(arg)) {
      throw new ReproofError(
        'E_USAGE',
        `${arg}: not a digest (sha256:<64 lower-case hex digits> or sha512:<128>) and not a file`,
      )
    } else {
      files.push(arg)
    }
  }
  return { files, digests }
}

/** `--policy <file>` read; its schema (and valibot, 6 ms) load only when there is one. */
export async function readPolicyFlag(flags: VerifyFlags): Promise<PolicyFile> {
  if (flags.policy === undefined) return {}
  const { readPolicyFile } = await import('../config/policy-file.js')
  return readPolicyFile(flags.policy)
}

/** Each policy field as the flag (or the policy file's key) that sets it. */
const POLICY_FLAGS: Record<keyof Policy, string> = {
  builderId: '--builder-id (policy builderId)',
  sourceUri: '--source-uri (policy sourceUri)',
  repo: '--repo (policy repo)',
  owner: '--owner (policy owner)',
  sourceRef: '--source-ref (policy sourceRef)',
  sourceRefRegexp: '--source-ref-regexp (policy sourceRefRegexp)',
  sourceDigest: '--source-digest (policy sourceDigest)',
  signerWorkflow: '--signer-workflow (policy signerWorkflow)',
  signerRepo: '--signer-repo (policy signerRepo)',
  signerDigest: '--signer-digest (policy signerDigest)',
  denySelfHostedRunners: '--deny-self-hosted-runners (policy denySelfHostedRunners)',
  predicateType: '--predicate-type (policy predicateType)',
  buildType: '--build-type (policy buildType)',
  requireReproduced: '--require-reproduced (policy requireReproduced)',
  requireStatedByBuild: '--require-stated-by-build (policy requireStatedByBuild)',
  maxAgeMs: '--max-age (policy maxAge)',
}

/**
 * The policy from the flags and the policy file's settings. A field both set must be set
 * alike: a flag that replaced the file's value dropped a stricter requirement (another
 * builder, a tighter ref pattern) without a word. A yes/no field the file sets `false`
 * asks nothing, so a flag may ask it.
 */
export function toPolicy(flags: VerifyFlags, file: PolicyFile = {}): Policy {
  const pick = <T>(key: keyof PolicyFile, a: T | undefined, b: T | undefined): T | undefined => {
    if (a !== undefined && b !== undefined && a !== b)
      throw new ReproofError(
        'E_USAGE',
        `${POLICY_FLAGS[key === 'maxAge' ? 'maxAgeMs' : key]}: the flag and the policy file ask different things (${JSON.stringify(a).slice(0, 80)} and ${JSON.stringify(b).slice(0, 80)}); give one`,
      )
    return a ?? b
  }
  const sourceRefRegexp = pick('sourceRefRegexp', flags.sourceRefRegexp, file.sourceRefRegexp)
  checkRegexp(sourceRefRegexp, '--source-ref-regexp')
  const maxAge = pick('maxAge', flags.maxAge, file.maxAge)
  const asked = (a: boolean | undefined, b: boolean | undefined): true | undefined =>
    a === true || b === true ? true : undefined
  const policy: Policy = {}
  const set = <K extends keyof Policy>(key: K, value: Policy[K] | undefined): void => {
    // An empty value is not a requirement: `--builder-id "$UNSET"` would have required a
    // statement to name no builder, and one that did would have passed.
    if (value === '')
      throw new ReproofError(
        'E_USAGE',
        `${POLICY_FLAGS[key]}: empty; give a value, or leave it out to not require one`,
      )
    if (value !== undefined) policy[key] = value
  }
  set('builderId', pick('builderId', flags.builderId, file.builderId))
  set('sourceUri', pick('sourceUri', flags.sourceUri, file.sourceUri))
  set('repo', githubName(pick('repo', flags.repo, file.repo), '--repo', 'repo'))
  set('owner', githubName(pick('owner', flags.owner, file.owner), '--owner', 'owner'))
  set('sourceRef', pick('sourceRef', flags.sourceRef, file.sourceRef))
  set('sourceRefRegexp', sourceRefRegexp)
  set('sourceDigest', pick('sourceDigest', flags.sourceDigest, file.sourceDigest))
  set(
    'signerWorkflow',
    githubName(
      pick('signerWorkflow', flags.signerWorkflow, file.signerWorkflow),
      '--signer-workflow',
      'workflow',
    ),
  )
  set(
    'signerRepo',
    githubName(pick('signerRepo', flags.signerRepo, file.signerRepo), '--signer-repo', 'repo'),
  )
  set('signerDigest', pick('signerDigest', flags.signerDigest, file.signerDigest))
  set('denySelfHostedRunners', asked(flags.denySelfHostedRunners, file.denySelfHostedRunners))
  set('predicateType', pick('predicateType', flags.predicateType, file.predicateType))
  set('buildType', pick('buildType', flags.buildType, file.buildType))
  set('requireReproduced', asked(flags.requireReproduced, file.requireReproduced))
  set('requireStatedByBuild', asked(flags.requireStatedByBuild, file.requireStatedByBuild))
  set(
    'maxAgeMs',
    maxAge === undefined
      ? undefined
      : parseDuration(maxAge, '--max-age', { maxMs: MAX_AGE_LIMIT_MS }),
  )
  return policy
}

const NAME_SHAPES = {
  owner: { parts: [1, 1], form: '[host/]owner' },
  repo: { parts: [2, 2], form: '[host/]owner/repo' },
  workflow: { parts: [3, Infinity], form: '[host/]owner/repo/path/to/workflow.yml' },
} as const

/**
 * A repository, owner or workflow named as `gh attestation verify` names them, checked
 * for its shape: matched as a prefix of the signer's URI, `--signer-repo acme` (or an
 * empty value from an unset variable) took every repository of acme, or of anyone.
 */
function githubName(
  value: string | undefined,
  flag: string,
  shape: keyof typeof NAME_SHAPES,
): string | undefined {
  if (value === undefined) return undefined
  const parts = value
    .replace(/^https?:\/\//, '')
    .replace(/\/+$/, '')
    .split('/')
  if (parts.length > 0 && (parts[0] ?? '').includes('.')) parts.shift()
  const {
    parts: [min, max],
    form,
  } = NAME_SHAPES[shape]
  const named = parts.slice(0, 2)
  if (
    parts.length < min ||
    parts.length > max ||
    parts.some((p) => p === '' || /\s/.test(p)) ||
    !named.every((p) => /^[A-Za-z0-9._-]+$/.test(p))
  )
    throw new ReproofError('E_USAGE', `${flag} ${JSON.stringify(value)}: not of the form ${form}`)
  return value
}

// Any age a release policy could mean; beyond it the number is a mistake.
const MAX_AGE_LIMIT_MS = 100 * 365 * 86_400_000
