import { toDisplayText as shown } from '../../file-names.js'
import { paint } from '../../io/paint.js'
import type { VerifyResult } from '../../verify/run-verify.js'

/**
 * `reproof verify`'s answer for people: the verdict, every check (with what was wanted
 * and found when it failed), what a rebuild found different, and who signed. Names come
 * from the command line, the statement and the certificate: each is escaped, so that
 * none can talk to the terminal.
 */
/** A value as JSON; `undefined`, which has no JSON form, as the word. */
function asJson(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value)
}

const SAYS_HOW = new Set(['rebuild', 'reproduced by two runs'])

export function renderVerify(result: VerifyResult, color: boolean): string {
  const c = paint(color)
  const lines = result.verified
    ? [c.green(`verified: ${result.artifacts.map((a) => shown(a.path)).join(', ')}`)]
    : [c.red(`NOT verified (${result.reason ?? 'unknown'})`)]
  for (const check of result.checks) {
    const mark = check.ok ? c.green('ok') : c.red('FAILED')
    lines.push(`  ${mark} ${shown(check.name)}`)
    // A rebuild's yes says what it ran (the signer's command), and whether it had the
    // sandbox; a reproduction's, how the signer says its runs differed and were kept
    // apart: that is part of the answer, not a detail.
    if (check.ok && SAYS_HOW.has(check.name) && typeof check.found === 'string')
      lines.push(`       ${shown(check.found)}`)
    if (!check.ok) {
      // JSON escapes C0 controls only; C1 (a CSI in one byte) and bidi overrides too.
      // A check that wanted nothing in particular (the signature) says only what it found.
      if (check.wanted !== undefined) lines.push(`       wanted: ${shown(asJson(check.wanted))}`)
      lines.push(`       found:  ${shown(asJson(check.found))}`)
    }
  }
  for (const item of result.explanation ?? []) {
    lines.push(
      item.kind === 'error'
        ? `  differs: ${shown(item.path)} (${shown(item.message)})`
        : `  differs: ${shown(item.path)} (${item.kind})${item.hints.length === 0 ? '' : `, likely ${item.hints.map((h) => h.cause).join(', ')}`}`,
    )
  }
  for (const note of result.unchecked) lines.push(`  not checked: ${shown(note)}`)
  if (result.identity !== null) {
    lines.push(
      result.identity.kind === 'key'
        ? `  signed with key ${result.identity.hint.slice(0, 16)}…`
        : `  signed by ${shown(result.identity.subjectAlternativeName)} (${shown(result.identity.issuer)})`,
    )
  }
  return `${lines.join('\n')}\n`
}
