import fs from 'node:fs'
import * as v from 'valibot'
import { parseDuration } from '../config/duration.js'
import { EXIT, ReproofError } from '../errors.js'
import type { Policy } from '../verify/policy.js'
import { runVerify, type VerifyResult } from '../verify/run-verify.js'
import type { Trust } from '../verify/verify-signature.js'
import { paint, useColor, type Streams } from './output.js'
import type { VerifyFlags } from './verify-command.js'

const PolicyFileSchema = v.strictObject({
  builderId: v.optional(v.string()),
  sourceUri: v.optional(v.string()),
  sourceRef: v.optional(v.string()),
  sourceDigest: v.optional(v.string()),
  predicateType: v.optional(v.string()),
  buildType: v.optional(v.string()),
  requireReproduced: v.optional(v.boolean()),
  maxAge: v.optional(v.string()),
})

/** `reproof verify`: trust and policy from flags (and a policy file), then the verdict. */
export async function verifyAction(
  artifacts: string[],
  flags: VerifyFlags,
  streams: Streams,
): Promise<number> {
  const trust = toTrust(flags)
  const policy = toPolicy(flags)
  if (flags.rebuild === true && flags.source === undefined)
    throw new ReproofError(
      'E_USAGE',
      '--rebuild needs --source <dir>, a local git repository with the recorded commit',
    )
  const rebuild =
    flags.rebuild === true
      ? { source: flags.source ?? '.', callerEnv: streams.env, tempDir: flags.tempDir }
      : undefined
  const result = await runVerify(
    {
      artifacts,
      bundle: flags.bundle,
      trust,
      policy,
      ...(rebuild === undefined ? {} : { rebuild }),
    },
    Date.now(),
  )
  if (flags.json === true) streams.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  else streams.stdout.write(renderVerify(result, useColor(streams.stdout, streams.env)))
  return result.verified ? EXIT.yes : EXIT.no
}

export function toTrust(flags: VerifyFlags): Trust {
  const keys = flags.key ?? []
  const keyless =
    flags.certificateIdentity !== undefined ||
    flags.certificateIdentityRegexp !== undefined ||
    flags.certificateOidcIssuer !== undefined
  if (keys.length > 0 && keyless)
    throw new ReproofError('E_USAGE', 'give either --key or the --certificate-* options, not both')
  if (keys.length > 0) return { kind: 'keys', keys }
  if (
    (flags.certificateIdentity === undefined) ===
    (flags.certificateIdentityRegexp === undefined)
  ) {
    throw new ReproofError(
      'E_USAGE',
      'keyless verification needs exactly one of --certificate-identity and --certificate-identity-regexp (or give --key)',
    )
  }
  if (flags.certificateOidcIssuer === undefined)
    throw new ReproofError('E_USAGE', 'keyless verification needs --certificate-oidc-issuer')
  if (flags.certificateIdentityRegexp !== undefined) {
    try {
      new RegExp(flags.certificateIdentityRegexp)
    } catch {
      throw new ReproofError(
        'E_USAGE',
        `--certificate-identity-regexp ${flags.certificateIdentityRegexp}: not a valid regular expression`,
      )
    }
  }
  return {
    kind: 'keyless',
    trustedRoot: flags.trustedRoot,
    identity: flags.certificateIdentity,
    identityRegexp: flags.certificateIdentityRegexp,
    issuer: flags.certificateOidcIssuer,
  }
}

export function toPolicy(flags: VerifyFlags): Policy {
  let file: v.InferOutput<typeof PolicyFileSchema> = {}
  if (flags.policy !== undefined) {
    let json: unknown
    try {
      json = JSON.parse(fs.readFileSync(flags.policy, 'utf8'))
    } catch {
      throw new ReproofError('E_INPUT', `--policy ${flags.policy}: not a readable JSON file`, {
        path: flags.policy,
      })
    }
    const parsed = v.safeParse(PolicyFileSchema, json)
    if (!parsed.success) {
      const issue = parsed.issues[0]
      throw new ReproofError(
        'E_INPUT',
        `--policy ${flags.policy}: ${issue.message} at ${v.getDotPath(issue) ?? 'the top'}`,
        { path: flags.policy },
      )
    }
    file = parsed.output
  }
  const sourceRef = flags.sourceRef ?? file.sourceRef
  if (sourceRef !== undefined) {
    try {
      new RegExp(sourceRef)
    } catch {
      throw new ReproofError('E_USAGE', `--source-ref ${sourceRef}: not a valid regular expression`)
    }
  }
  const maxAge = flags.maxAge ?? file.maxAge
  const pick = <T>(a: T | undefined, b: T | undefined): T | undefined => a ?? b
  const policy: Policy = {}
  const set = <K extends keyof Policy>(key: K, value: Policy[K] | undefined): void => {
    if (value !== undefined) policy[key] = value
  }
  set('builderId', pick(flags.builderId, file.builderId))
  set('sourceUri', pick(flags.sourceUri, file.sourceUri))
  set('sourceRef', sourceRef)
  set('sourceDigest', pick(flags.sourceDigest, file.sourceDigest))
  set('predicateType', pick(flags.predicateType, file.predicateType))
  set('buildType', pick(flags.buildType, file.buildType))
  set('requireReproduced', flags.requireReproduced === true ? true : file.requireReproduced)
  set('maxAgeMs', maxAge === undefined ? undefined : parseDuration(maxAge, '--max-age'))
  return policy
}

function renderVerify(result: VerifyResult, color: boolean): string {
  const c = paint(color)
  const lines = result.verified
    ? [c.green(`verified: ${result.artifacts.map((a) => a.path).join(', ')}`)]
    : [c.red(`NOT verified (${result.reason ?? 'unknown'})`)]
  for (const check of result.checks) {
    const mark = check.ok ? c.green('ok') : c.red('FAILED')
    lines.push(`  ${mark} ${check.name}`)
    if (!check.ok)
      lines.push(
        `       wanted: ${JSON.stringify(check.wanted)}`,
        `       found:  ${JSON.stringify(check.found)}`,
      )
  }
  for (const item of result.explanation ?? []) {
    lines.push(
      `  differs: ${item.path} (${item.kind})${item.hints.length === 0 ? '' : `, likely ${item.hints.map((h) => h.cause).join(', ')}`}`,
    )
  }
  if (result.identity !== null) {
    lines.push(
      result.identity.kind === 'key'
        ? `  signed with key ${result.identity.hint.slice(0, 16)}…`
        : `  signed by ${result.identity.subjectAlternativeName} (${result.identity.issuer})`,
    )
  }
  return `${lines.join('\n')}\n`
}
