import path from 'node:path'
import { compareBytes } from './canonical.js'

/*
 * File names are bytes; JavaScript strings are not. reproof carries every name of a
 * source file or an artifact as a string in one form, the name form:
 *
 * - a name that is valid UTF-8 is its decoded text, exactly what Node has always given;
 * - in a name that is not, every byte that is not part of a valid UTF-8 sequence is
 *   written as U+0000 followed by two lowercase hex digits (JSON `\u0000ff`).
 *
 * No file name can hold a NUL byte, so the form is unambiguous and gives back the exact
 * bytes; JSON readers in any language accept it, unlike lone surrogates; and a program
 * that passes such a name to a file system call fails (NUL) rather than opening another
 * file. `/` is ASCII and never escaped, so splitting a path on `/` works in this form.
 */

const NUL = '\u0000'
// eslint-disable-next-line no-control-regex -- NUL is the escape mark, on purpose
const ESCAPED_BYTE = /\u0000([0-9a-f]{2})/g
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** The name form of a name's bytes. */
export function fromNameBytes(bytes: Uint8Array): string {
  if (isPlainAscii(bytes))
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1')
  try {
    const text = strictUtf8.decode(bytes)
    if (!text.includes(NUL)) return text
  } catch {
    // Not UTF-8: escape byte by byte below.
  }
  let out = ''
  for (let i = 0; i < bytes.length;) {
    const length = utf8SequenceLength(bytes, i)
    if (length === 0) {
      out += NUL + (bytes[i] ?? 0).toString(16).padStart(2, '0')
      i++
    } else {
      out += Buffer.from(bytes.buffer, bytes.byteOffset + i, length).toString('utf8')
      i += length
    }
  }
  return out
}

/**
 * The name form of a name read as Latin-1 (a directory listed with `encoding:
 * 'latin1'`, one character per byte, so nothing is lost): the text itself when every
 * byte is ASCII, which a listing mostly is, with no Buffer made per name. Listing
 * 20,000 names this way took 20 ms rather than 50.
 */
export function fromLatin1Name(raw: string): string {
  return ASCII.test(raw) ? raw : fromNameBytes(Buffer.from(raw, 'latin1'))
}

// eslint-disable-next-line no-control-regex -- any byte below 0x80 but NUL, on purpose
const ASCII = /^[\u0001-\u007f]*$/

/** A name's bytes, back from the name form. */
export function toNameBytes(name: string): Buffer {
  if (!name.includes(NUL)) return Buffer.from(name, 'utf8')
  const parts: Buffer[] = []
  let from = 0
  for (const match of name.matchAll(ESCAPED_BYTE)) {
    parts.push(Buffer.from(name.slice(from, match.index), 'utf8'))
    parts.push(Buffer.of(parseInt(match[1] ?? '', 16)))
    from = match.index + match[0].length
  }
  parts.push(Buffer.from(name.slice(from), 'utf8'))
  return Buffer.concat(parts)
}

/** Whether a name (in the name form) is valid UTF-8, i.e. a plain string path can open it. */
export function isUtf8Name(name: string): boolean {
  return !name.includes(NUL)
}

/**
 * The path of `name` below `root`, for file system calls: a string when the name is
 * UTF-8 (as always), else a Buffer holding its exact bytes.
 */
export function toFsPath(root: string, name: string): string | Buffer {
  if (isUtf8Name(name)) return joinPlain(root, name) ?? path.join(root, name)
  return Buffer.concat([
    Buffer.from(root.endsWith('/') ? root : `${root}/`, 'utf8'),
    toNameBytes(name),
  ])
}

// A name with nothing for path.join to normalize: no empty, `.` or `..` component.
const NOT_PLAIN = /^\/|\/$|\/\/|(^|\/)\.\.?(\/|$)/
const plainRoots = new Map<string, boolean>()

/**
 * `path.join(root, name)` without its work when both are already normal, which a tree's
 * names and a command's roots are: joining 20,000 names cost 45 ms.
 */
function joinPlain(root: string, name: string): string | undefined {
  if (name === '' || NOT_PLAIN.test(name)) return undefined
  let plain = plainRoots.get(root)
  if (plain === undefined) {
    plain = path.join(root, 'x') === concat(root, 'x')
    if (plainRoots.size < 64) plainRoots.set(root, plain)
  }
  return plain ? concat(root, name) : undefined
}

const concat = (root: string, name: string): string =>
  root.endsWith('/') ? root + name : `${root}/${name}`

/** A path from `toFsPath` (or any path) in the name form. */
export function fromFsPath(p: string | Buffer): string {
  return typeof p === 'string' ? p : fromNameBytes(p)
}

/** Byte order of the names' bytes, which is what manifests are sorted by. */
export function compareNames(a: string, b: string): number {
  if (isUtf8Name(a) && isUtf8Name(b)) return compareBytes(a, b)
  return Buffer.compare(toNameBytes(a), toNameBytes(b))
}

/**
 * `names` sorted in place by compareNames. Where no name holds an escaped byte or a
 * character beyond U+FFFF (a surrogate pair), the engine's own string order is that
 * order (UTF-8 keeps code point order, and in the BMP a UTF-16 unit is the code point),
 * and it sorts 20,000 names in 7 ms rather than 18.
 */
export function sortNames(names: string[]): string[] {
  return names.some((n) => OUTSIDE_PLAIN_ORDER.test(n)) ? names.sort(compareNames) : names.sort()
}

// eslint-disable-next-line no-control-regex -- NUL is the escape mark, on purpose
const OUTSIDE_PLAIN_ORDER = /[\u0000\ud800-\udfff]/

/**
 * The string a glob is matched against: each escaped byte becomes one character (a lone
 * surrogate, U+DC00 plus the byte, as Python's surrogateescape does), so that `?` and
 * `*` count it as one character, and no glob typed as text can name it by accident.
 * Line breaks (LF, CR, U+2028, U+2029) become lone surrogates too: the matcher's regular
 * expressions use `.`, which matches no line break, so `*` and `**` passed over a file
 * whose name holds one, and the file went unseen.
 */
export function toMatchName(name: string): string {
  const text = isUtf8Name(name)
    ? name
    : name.replace(ESCAPED_BYTE, (_, hex: string) =>
        String.fromCharCode(0xdc00 + parseInt(hex, 16)),
      )
  return text.replace(LINE_BREAK, (c) => String.fromCharCode(LINE_BREAK_MARKS[c] ?? 0))
}

const LINE_BREAK = /[\n\r\u2028\u2029]/g
// Below U+DC80: no escaped byte (always 0x80 or more) takes these.
const LINE_BREAK_MARKS: Record<string, number> = {
  '\n': 0xdc0a,
  '\r': 0xdc0d,
  '\u2028': 0xdc28,
  '\u2029': 0xdc29,
}
const FROM_MARK = new Map(Object.entries(LINE_BREAK_MARKS).map(([c, mark]) => [mark, c]))

// A low surrogate that is not the second half of a pair: text decoded from UTF-8 never
// holds one, so each is a byte or a line break that `toMatchName` set there.
const LONE_LOW_SURROGATE = /(?<![\ud800-\udbff])[\udc00-\udcff]/g

/** The name form back from `toMatchName`. */
export function fromMatchName(text: string): string {
  return text.replace(LONE_LOW_SURROGATE, (c) => {
    const code = c.charCodeAt(0)
    return code >= 0xdc80
      ? NUL + (code - 0xdc00).toString(16).padStart(2, '0')
      : (FROM_MARK.get(code) ?? c)
  })
}

// C0 and C1 controls, DEL, every format character (bidirectional overrides and
// isolates, zero-width spaces and joiners, invisible operators, a byte order mark, the
// soft hyphen, tags), line and paragraph separators, and every character Unicode says
// shows as nothing (Default_Ignorable_Code_Point: variation selectors, Hangul fillers,
// the combining grapheme joiner, the reserved ones too): two names or lines apart only
// by one would look the same. A hand-kept list missed U+206A to U+206F and more. Not the
// format characters that are drawn (Prepended_Concatenation_Mark: the Arabic number
// signs, the end of ayah), which a text holds as it holds a letter.
// (Backslashes are left as they are: messages are escaped where they are made and again
// where they are shown, and the second must change nothing. Where two texts would show
// alike, toEscapedLine doubles them.)
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /\u0000([0-9a-f]{2})|(?!\u0600|\u0601|\u0602|\u0603|\u0604|\u0605|\u06dd|\u070f|\u0890|\u0891|\u08e2|\u{110bd}|\u{110cd})[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]|\p{Cs}/gu
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/**
 * Text (a name, or a message holding names) made safe for a terminal: escaped bytes
 * show as `\xff`, control characters as `\n`, `\x1b`, `\u{9b}`, so that nothing in a
 * file name can move the cursor, recolour, or hide the rest of a line.
 */
export function toDisplayText(text: string): string {
  return text.replace(UNSAFE, (match: string, hex: string | undefined) => {
    if (hex !== undefined) return `\\x${hex}`
    const named = NAMED[match]
    if (named !== undefined) return named
    const code = match.codePointAt(0) ?? 0
    return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`
  })
}

/**
 * A `/`-separated path with its empty and `.` parts left out, as tar and a file system
 * read it: `./a`, `/a`, `a/` and `a//.` are all `a`.
 */
export function withoutDotParts(p: string): string {
  // Most paths have no empty or `.` part: those are returned as they are.
  if (!EMPTY_OR_DOT_PART.test(p)) return p
  return p
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/')
}

const EMPTY_OR_DOT_PART = /(^|\/)\.?(\/|$)/

/**
 * A name (in the name form: a byte that is not UTF-8 escaped after U+0000) whose bytes
 * are a relative path with no empty, `.` or `..` part and no NUL: one that stays inside
 * the directory it is joined to. What a manifest names; a name from a record or a signed
 * statement that is not one must not be joined to a directory. Judged by its bytes: the
 * escape of a byte that is not UTF-8 is no NUL, and a refused name that held one was
 * a file a build really wrote.
 */
export function isPlainRelativePath(name: string): boolean {
  const bytes = toNameBytes(name)
  if (bytes.length === 0 || bytes[0] === 0x2f || bytes.includes(0)) return false
  return bytes
    .toString('latin1')
    .split('/')
    .every((part) => part !== '' && part !== '.' && part !== '..')
}

/** A line of a file's text made safe for a terminal as toDisplayText does, its tabs kept. */
export function toDisplayLine(line: string): string {
  return line.split('\t').map(toDisplayText).join('\t')
}

/**
 * A line with every character outside printable ASCII escaped (`\u{301}`): for a removed
 * and an added line that would show alike (`é` composed and decomposed), so that what
 * differs can be seen. Its own backslashes are doubled first: a name holding the text
 * `\x1b` and one holding ESC showed alike even so.
 */
export function toEscapedLine(line: string): string {
  return toDisplayLine(line.replace(/\\/g, '\\\\')).replace(
    /[^\t\x20-\x7e]/gu,
    (ch) => `\\u{${(ch.codePointAt(0) ?? 0).toString(16)}}`,
  )
}

/**
 * How a text looks on a terminal: composed and decomposed forms alike, compatibility
 * forms as what they stand for (`ⅼ` U+217C as `l`, `․` U+2024 as `.`, a no-break or hair
 * space as a space), Cyrillic, Greek and Armenian letters drawn like Latin ones as those
 * (`х` as `x`), and characters that show as nothing gone. Two texts that differ but look
 * alike are shown escaped (toEscapedLine), so that what differs can be seen.
 */
export function looksOnScreen(text: string): string {
  // What shows as nothing is escaped by toDisplayText, so visible: the forms are left.
  return skeleton(toDisplayText(text))
}

/**
 * Whether a text is not ASCII yet looks as if it were (`ⅼib.so`, `app-1.О.tgz`,
 * `run.sh` and a hair space): a name so written passes for another on screen even when
 * that other is not beside it. Shown escaped. A name in another script (`отчёт.txt`)
 * does not look like ASCII and is shown as it is.
 */
export function posesAsAscii(text: string): boolean {
  return /[^\x20-\x7e]/.test(text) && /^[\x20-\x7e]*$/.test(skeleton(text))
}

function skeleton(text: string): string {
  return text.normalize('NFKC').replace(LOOK_ALIKE, (ch) => LATIN_LOOK[ch] ?? ch)
}

// Letters of other scripts drawn as a Latin letter is, in common fonts: Cyrillic, Greek,
// Armenian, and Latin's own dotless i; each pair the letter and the one it looks like.
const LATIN_LOOK: Readonly<Record<string, string>> = Object.fromEntries(
  [
    'аa еe оo рp сc уy хx ѕs іi јj ԁd ԛq ԝw һh ӏl АA ВB ЕE КK МM НH ОO РP СC ТT ХX УY ЅS ІI ЈJ ԚQ ԜW ӀI',
    'οo νv αa ρp ιi κk ΑA ΒB ΕE ΖZ ΗH ΙI ΚK ΜM ΝN ΟO ΡP ΤT ΥY ΧX',
    'օo սu հh ıi',
  ]
    .flatMap((pairs) => pairs.split(' '))
    .map((pair) => [pair.slice(0, 1), pair.slice(1)]),
)
const LOOK_ALIKE = new RegExp(`[${Object.keys(LATIN_LOOK).join('')}]`, 'gu')

/**
 * Whether a word of `text` mixes Latin letters with Cyrillic, Greek, Armenian or Cherokee
 * ones (`pаyload` with a Cyrillic а): what spoofs a name, one letter that looks like
 * another script's. Shown escaped, a name so written can be told from the one it mimics.
 */
export function mixesScripts(text: string): boolean {
  if (!/[^\x20-\x7e]/.test(text)) return false
  return text
    .split(/[^\p{L}\p{M}]+/u)
    .some(
      (word) =>
        /\p{Script=Latin}/u.test(word) &&
        /[\p{Script=Cyrillic}\p{Script=Greek}\p{Script=Armenian}\p{Script=Cherokee}]/u.test(word),
    )
}

/** Whether two different texts would show alike. */
export function showAlike(a: string, b: string): boolean {
  return a !== b && looksOnScreen(a) === looksOnScreen(b)
}

/** The texts of `texts` that would show alike another of them, to be shown escaped. */
export function lookAlikes(texts: Iterable<string>): Set<string> {
  const firstByLook = new Map<string, string>()
  const alike = new Set<string>()
  for (const text of texts) {
    const look = looksOnScreen(text)
    const first = firstByLook.get(look)
    if (first === undefined) firstByLook.set(look, text)
    else if (first !== text) {
      alike.add(first)
      alike.add(text)
    }
  }
  return alike
}

function isPlainAscii(bytes: Uint8Array): boolean {
  for (const byte of bytes) if (byte === 0 || byte >= 0x80) return false
  return true
}

/**
 * The length of the well-formed UTF-8 sequence starting at `i` (Unicode table 3-7:
 * no overlong forms, no surrogates, nothing above U+10FFFF), or 0 if there is none.
 * NUL is valid UTF-8 but not in a name, so it counts as invalid and is escaped.
 */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i] ?? 0
  if (b0 === 0) return 0
  if (b0 < 0x80) return 1
  const inRange = (k: number, lo: number, hi: number): boolean => {
    const b = bytes[i + k]
    return b !== undefined && b >= lo && b <= hi
  }
  const tail = (from: number, to: number): boolean => {
    for (let k = from; k < to; k++) if (!inRange(k, 0x80, 0xbf)) return false
    return true
  }
  if (b0 >= 0xc2 && b0 <= 0xdf) return tail(1, 2) ? 2 : 0
  if (b0 === 0xe0) return inRange(1, 0xa0, 0xbf) && tail(2, 3) ? 3 : 0
  if (b0 === 0xed) return inRange(1, 0x80, 0x9f) && tail(2, 3) ? 3 : 0
  if (b0 >= 0xe1 && b0 <= 0xef) return tail(1, 3) ? 3 : 0
  if (b0 === 0xf0) return inRange(1, 0x90, 0xbf) && tail(2, 4) ? 4 : 0
  if (b0 >= 0xf1 && b0 <= 0xf3) return tail(1, 4) ? 4 : 0
  if (b0 === 0xf4) return inRange(1, 0x80, 0x8f) && tail(2, 4) ? 4 : 0
  return 0
}

/**
 * The bytes before the first NUL (all of them when there is none): a name as C readers
 * (tar, unzip, libarchive, cpio) take it from a field or a buffer it may not fill.
 */
export function untilNul(bytes: Buffer): Buffer {
  const end = bytes.indexOf(0)
  return end === -1 ? bytes : bytes.subarray(0, end)
}
