/**
 * Keeping identity tokens out of every output. A service that refuses a token may quote
 * it, or a part of it, in its error; so may a library's message about that answer.
 */

// A JWT's three parts; the signature part may be empty (alg "none").
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g
const REDACTED = '[redacted]'

/**
 * `text` with every secret, every part of a secret that is a JWT, and anything else
 * shaped like a JWT replaced. Parts shorter than 8 characters are left: they identify
 * nothing and would blank out ordinary words.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text
  const pieces = secrets.flatMap((s) => [s, ...s.split('.')]).filter((p) => p.length >= 8)
  // Longest first, so that a whole token goes before its parts.
  for (const piece of [...new Set(pieces)].sort((a, b) => b.length - a.length))
    out = out.split(piece).join(REDACTED)
  return out.replace(JWT, REDACTED)
}

/**
 * The workflow command that tells the GitHub Actions runner to mask a value in every
 * later line of the log, or nothing outside Actions. Written before the value is used,
 * so that nothing printed after it (by reproof, a library or the build) shows it.
 */
export function maskCommand(
  secret: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  if (env.GITHUB_ACTIONS !== 'true' || secret === '') return ''
  // One command per line: a value with a line break is masked line by line. The runner
  // reads %25, %0D and %0A in a command's value as %, CR and LF, so a value holding them
  // is escaped first, or the mask would be of another string.
  return secret
    .split(/\r?\n/)
    .filter((line) => line !== '')
    .map((line) => `::add-mask::${line.replace(/%/g, '%25').replace(/\r/g, '%0D')}\n`)
    .join('')
}
