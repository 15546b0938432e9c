import { isUtf8 } from 'node:buffer'
import fs from 'node:fs'
import { ReproofError } from '../errors.js'
import { fromNameBytes, toDisplayText } from '../file-names.js'

/**
 * Refuses an argument Node did not receive as it was typed. Node reads a command line
 * as UTF-8, and turns bytes that are not into U+FFFD: `app\xff` arrives as `app\u{fffd}`,
 * and reproof would read, hash or verify a file of that other name (one an attacker can
 * put beside the real one) and say yes about it. An argument that holds U+FFFD is taken
 * only when the process's own command line (Linux's /proc/self/cmdline) shows it was
 * typed so, as UTF-8; otherwise, or where that cannot be read, it is refused.
 */
export function refuseMangledArguments(
  argv: readonly string[],
  rawCommandLine: () => Buffer[] | undefined = readCommandLine,
): void {
  let raw: Buffer[] | undefined
  let read = false
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    if (!arg.includes('\ufffd')) continue
    // Only the process's own arguments can be checked against its command line.
    if (!read) {
      raw = argv === process.argv ? rawCommandLine() : undefined
      read = true
    }
    // The arguments after the script are the command line's last ones (Node's own
    // options come before the script, and are not in argv).
    const typed = raw?.[raw.length - (argv.length - i)]
    if (typed !== undefined && isUtf8(typed) && typed.toString('utf8') === arg) continue
    const why =
      typed !== undefined && !isUtf8(typed)
        ? `'${toDisplayText(fromNameBytes(typed))}' is not UTF-8: Node reads a command line as UTF-8 and turned its other bytes into U+FFFD`
        : `'${toDisplayText(arg)}' holds U+FFFD, which Node makes of bytes that are not UTF-8, and what was given cannot be read back here`
    throw new ReproofError(
      'E_USAGE',
      `argument ${why}, so which file or value was meant cannot be known; rename it, or name it through a path that is UTF-8`,
    )
  }
}

function readCommandLine(): Buffer[] | undefined {
  try {
    const bytes = fs.readFileSync('/proc/self/cmdline')
    const parts: Buffer[] = []
    let start = 0
    for (let at = bytes.indexOf(0); at !== -1; at = bytes.indexOf(0, start)) {
      parts.push(bytes.subarray(start, at))
      start = at + 1
    }
    return parts
  } catch {
    return undefined
  }
}
