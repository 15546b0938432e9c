/**
 * Checks a trusted root before anything is verified against it. The library takes a
 * key with no validity window as valid at every time, so a log key without
 * `validFor.start` would vouch for entries from before it existed or after it was
 * retired; reproof refuses such a root and names the field.
 */

// The versions of the trusted root the protobuf specs define.
const TRUSTED_ROOT_MEDIA_TYPES = new Set([
  'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  'application/vnd.dev.sigstore.trustedroot.v0.2+json',
])

/** What is wrong with the root, as "<field>: <problem>", or undefined when it is sound. */
export function trustedRootProblem(json: unknown): string | undefined {
  if (!isObject(json)) return 'the top: not a JSON object'
  if (typeof json.mediaType !== 'string' || !TRUSTED_ROOT_MEDIA_TYPES.has(json.mediaType))
    return `mediaType: ${JSON.stringify(json.mediaType ?? null).slice(0, 80)} is not a trusted root version reproof knows`
  for (const list of ['tlogs', 'ctlogs'] as const) {
    const logs = json[list]
    if (logs === undefined) continue
    if (!Array.isArray(logs)) return `${list}: not a list`
    for (const [i, log] of logs.entries()) {
      const at = `${list}[${i}]`
      if (!isObject(log)) return `${at}: not an object`
      if (!isObject(log.logId) || !isBase64(log.logId.keyId)) return `${at}.logId.keyId: missing`
      if (!isObject(log.publicKey)) return `${at}.publicKey: missing`
      if (!isBase64(log.publicKey.rawBytes)) return `${at}.publicKey.rawBytes: missing`
      const window = validity(log.publicKey.validFor, `${at}.publicKey.validFor`)
      if (window !== undefined) return window
    }
  }
  for (const list of ['certificateAuthorities', 'timestampAuthorities'] as const) {
    const authorities = json[list]
    if (authorities === undefined) continue
    if (!Array.isArray(authorities)) return `${list}: not a list`
    for (const [i, authority] of authorities.entries()) {
      const at = `${list}[${i}]`
      if (!isObject(authority)) return `${at}: not an object`
      const chain = isObject(authority.certChain) ? authority.certChain.certificates : undefined
      if (!Array.isArray(chain) || chain.length === 0)
        return `${at}.certChain.certificates: missing or empty`
      for (const [j, certificate] of chain.entries()) {
        if (!isObject(certificate) || !isBase64(certificate.rawBytes))
          return `${at}.certChain.certificates[${j}].rawBytes: missing`
      }
      const window = validity(authority.validFor, `${at}.validFor`)
      if (window !== undefined) return window
    }
  }
  return undefined
}

function validity(validFor: unknown, at: string): string | undefined {
  if (!isObject(validFor)) return `${at}: missing (every key and authority needs a validity window)`
  if (!isTime(validFor.start)) return `${at}.start: missing or not an RFC 3339 time`
  if (validFor.end !== undefined) {
    if (!isTime(validFor.end)) return `${at}.end: not an RFC 3339 time`
    if (Date.parse(validFor.end) < Date.parse(validFor.start)) return `${at}.end: before its start`
  }
  return undefined
}

function isTime(value: unknown): value is string {
  if (typeof value !== 'string') return false
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(value)
  if (m === null || Number.isNaN(Date.parse(value))) return false
  // Date.parse rolls a day that does not exist (February 30th) into the next month: the
  // fields must name a real date and time.
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const date = new Date(Date.UTC(year, month - 1, day))
  return (
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60
  )
}

function isBase64(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
