import * as v from 'valibot'
import { ReproofError } from '../errors.js'
import { parseJsonBytes } from '../io/json-input.js'
import { readBounded } from '../io/read-bounded.js'

/** `--policy <file>`: the policy flags of verify and gate as a JSON object; unknown keys are errors. */
const PolicyFileSchema = v.strictObject({
  builderId: v.optional(v.string()),
  sourceUri: v.optional(v.string()),
  repo: v.optional(v.string()),
  owner: v.optional(v.string()),
  sourceRef: v.optional(v.string()),
  sourceRefRegexp: v.optional(v.string()),
  sourceDigest: v.optional(v.string()),
  signerWorkflow: v.optional(v.string()),
  signerRepo: v.optional(v.string()),
  signerDigest: v.optional(v.string()),
  denySelfHostedRunners: v.optional(v.boolean()),
  predicateType: v.optional(v.string()),
  buildType: v.optional(v.string()),
  requireReproduced: v.optional(v.boolean()),
  requireStatedByBuild: v.optional(v.boolean()),
  maxAge: v.optional(v.string()),
})

export type PolicyFile = v.InferOutput<typeof PolicyFileSchema>

// A policy is a few lines; anything near this is not one.
const MAX_POLICY_BYTES = 1024 * 1024

export function readPolicyFile(file: string): PolicyFile {
  // Decoded leniently, two policies naming different builders would ask for the same
  // one (every byte that is not UTF-8 read as U+FFFD), which a statement holding it met.
  const bytes = readBounded(file, MAX_POLICY_BYTES, `--policy ${file}`)
  const json = parseJsonBytes(bytes, `--policy ${file}`, file)
  // valibot's strictObject takes an array (every key of this one is optional), and `[]`
  // passed as a policy that asks nothing.
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ReproofError(
      'E_INPUT',
      `--policy ${file}: must be a JSON object, not ${Array.isArray(json) ? 'an array' : json === null ? 'null' : typeof json}`,
      { path: file },
    )
  const parsed = v.safeParse(PolicyFileSchema, json)
  if (!parsed.success) {
    const issue = parsed.issues[0]
    throw new ReproofError(
      'E_INPUT',
      `--policy ${file}: ${issue.message} at ${v.getDotPath(issue) ?? 'the top'}`,
      { path: file },
    )
  }
  return parsed.output
}
