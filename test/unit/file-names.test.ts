import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import micromatch from 'micromatch'
import { describe, expect, it } from 'vitest'
import {
  compareNames,
  fromLatin1Name,
  fromMatchName,
  fromNameBytes,
  isPlainRelativePath,
  isUtf8Name,
  sortNames,
  showAlike,
  toDisplayText,
  toEscapedLine,
  toFsPath,
  toMatchName,
  toNameBytes,
  withoutDotParts,
} from '../../src/file-names.js'
import { compileGlob } from '../../src/globs.js'
import { listedFileSystem, matchListed } from '../../src/sandbox/glob-fs.js'
import { parseQuotedPaths } from '../../src/sandbox/git.js'

// In `u` mode, \p{Cs} matches only surrogates that are not part of a pair.
const isWellFormed = (s: string): boolean => !/\p{Cs}/u.test(s)
// Names as a file system holds them: any bytes but NUL (and `/`, which separates them).
// A name has at least one byte and no NUL (the kernel allows neither).
const nameBytes = fc
  .uint8Array({ minLength: 1, maxLength: 24 })
  .map((b) => b.filter((x) => x !== 0))
  .filter((b) => b.length > 0)
const validText = fc
  .string({ unit: 'binary', maxLength: 24 })
  .filter((s) => isWellFormed(s) && !s.includes('\0'))
// Bytes that are close to valid UTF-8: broken, truncated and overlong sequences.
const nearUtf8 = fc
  .array(
    fc.oneof(
      validText.map((s) => [...Buffer.from(s)]),
      fc.constantFrom(
        [0xff],
        [0xc0, 0xaf],
        [0xe2, 0x82],
        [0xed, 0xa0, 0x80],
        [0xf4, 0x90, 0x80, 0x80],
      ),
    ),
    { maxLength: 6 },
  )
  .map((parts) => Uint8Array.from(parts.flat()))

describe('the name form', () => {
  it('gives back the exact bytes of any name', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 32 }), nearUtf8), (bytes) => {
        expect(toNameBytes(fromNameBytes(bytes))).toEqual(Buffer.from(bytes))
      }),
    )
  })

  it('reads a name listed as Latin-1 into the same form as its bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          nameBytes,
          nearUtf8.filter((b) => !b.includes(0)),
        ),
        (bytes) => {
          expect(fromLatin1Name(Buffer.from(bytes).toString('latin1'))).toBe(fromNameBytes(bytes))
        },
      ),
    )
    // A listing in Latin-1 of a directory that holds such names, through Node itself.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'names-'))
    try {
      const names = ['plain', 'caf\u00e9', '\u2603', 'line\nbreak'].map((n) => Buffer.from(n))
      names.push(Buffer.from([0x72, 0xff, 0x80]), Buffer.from([0xc3]))
      for (const name of names) fs.writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), name]), '')
      const listed = fs.readdirSync(dir, { encoding: 'latin1' }).map(fromLatin1Name).sort()
      expect(listed).toEqual(names.map(fromNameBytes).sort())
    } finally {
      fs.rmSync(dir, { recursive: true })
    }
  })

  it('leaves every valid UTF-8 name exactly as Node decodes it', () => {
    fc.assert(
      fc.property(validText, (text) => {
        expect(fromNameBytes(Buffer.from(text))).toBe(text)
        expect(isUtf8Name(text)).toBe(true)
        expect(toNameBytes(text)).toEqual(Buffer.from(text))
      }),
    )
  })

  it('is unambiguous: different bytes, different names', () => {
    fc.assert(
      fc.property(nearUtf8, nearUtf8, (a, b) => {
        const same = Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0
        expect(fromNameBytes(a) === fromNameBytes(b)).toBe(same)
      }),
    )
  })

  it('escapes each stray byte as NUL and two hex digits, and nothing else', () => {
    expect(fromNameBytes(Buffer.from([0x66, 0xff, 0x2e, 0x63]))).toBe('f\u0000ff.c')
    expect(fromNameBytes(Buffer.from('é/\u00ff', 'utf8'))).toBe('é/\u00ff')
    // Overlong `/` and a lone surrogate are not UTF-8: every byte is escaped.
    expect(fromNameBytes(Buffer.from([0xc0, 0xaf]))).toBe('\u0000c0\u0000af')
    expect(fromNameBytes(Buffer.from([0xed, 0xa0, 0x80, 0x41]))).toBe('\u0000ed\u0000a0\u000080A')
    expect(JSON.stringify(fromNameBytes(Buffer.from([0xff])))).toBe('"\\u0000ff"')
  })

  it('sorts names by their bytes', () => {
    fc.assert(
      fc.property(nearUtf8, nearUtf8, (a, b) => {
        const expected = Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)))
        expect(Math.sign(compareNames(fromNameBytes(a), fromNameBytes(b)))).toBe(expected)
      }),
    )
  })

  it('sorts lists of names by their bytes, plain text or not', () => {
    const plain = fc.string({
      unit: fc.constantFrom(
        'a',
        'B',
        '/',
        '.',
        '~',
        'é',
        '\u07ff',
        '\ud7ff',
        '\ue000',
        '\uffff',
        '\u{1f600}',
      ),
    })
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            plain.map((t) => Buffer.from(t)),
            nearUtf8,
          ),
          { maxLength: 20 },
        ),
        (list) => {
          const byBytes = [...list].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
          expect(sortNames(list.map((b) => fromNameBytes(b)))).toEqual(
            byBytes.map((b) => fromNameBytes(b)),
          )
        },
      ),
    )
  })

  it('sorts a name with an escaped byte after the plain names it precedes as text', () => {
    const escaped = fromNameBytes(Buffer.from([0x61, 0xff]))
    expect(sortNames([escaped, 'ab', 'a'])).toEqual(['a', 'ab', escaped])
  })

  it('comes back unchanged from the match form globs see, pairs of surrogates included', () => {
    fc.assert(
      fc.property(fc.oneof(nameBytes, nearUtf8), (bytes) => {
        const name = fromNameBytes(bytes)
        expect(fromMatchName(toMatchName(name))).toBe(name)
      }),
    )
    const astralThenStray = Buffer.from([...Buffer.from('\u{10080}'), 0xff])
    expect(toMatchName(fromNameBytes(astralThenStray))).toBe('\u{10080}\udcff')
    expect(fromMatchName('\u{10080}\udcff')).toBe('\u{10080}\u0000ff')
  })

  it('lets * and ** match every name in the match form, line breaks included', () => {
    fc.assert(
      fc.property(fc.oneof(nameBytes, nearUtf8), (bytes) => {
        const name = fromNameBytes(bytes).replaceAll('/', '_')
        if (name === '' || name === '.' || name === '..') return
        const match = toMatchName(name)
        expect(micromatch.isMatch(match, '*', { dot: true }), JSON.stringify(name)).toBe(true)
        expect(micromatch.isMatch(`d/${match}`, 'd/**', { dot: true })).toBe(true)
      }),
    )
    for (const name of ['a\nb', 'a\rb', 'a\u2028b', 'a\u2029b'])
      expect(micromatch.isMatch(toMatchName(`x/${name}`), '**', { dot: true }), name).toBe(true)
  })

  it('opens by string when it can, by exact bytes when it must', () => {
    expect(toFsPath('/r', 'a/é')).toBe('/r/a/é')
    expect(toFsPath('/r', 'a/f\u0000ff.c')).toEqual(
      Buffer.from([...Buffer.from('/r/a/f'), 0xff, 0x2e, 0x63]),
    )
  })

  it('joins a UTF-8 name to its root exactly as path.join does, whatever the two hold', () => {
    const component = fc.constantFrom('a', 'b.c', '.', '..', '', '.x', '...', 'é')
    const rel = fc.array(component, { maxLength: 5 }).map((parts) => parts.join('/'))
    const root = fc
      .oneof(
        rel,
        rel.map((r) => `/${r}`),
      )
      .filter((r) => r !== '')
    fc.assert(
      fc.property(root, rel, (r, name) => {
        expect(toFsPath(r, name)).toBe(path.join(r, name))
      }),
      { numRuns: 5000 },
    )
  })
})

describe('toDisplayText', () => {
  it('never lets a control character through, whatever the name', () => {
    fc.assert(
      fc.property(fc.oneof(nameBytes, nearUtf8), (bytes) => {
        const shown = toDisplayText(fromNameBytes(bytes))
        // eslint-disable-next-line no-control-regex -- what must never be shown raw
        expect(shown).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/)
        expect(isWellFormed(shown)).toBe(true)
      }),
    )
  })

  it('shows stray bytes as \\xNN and control characters by their escapes', () => {
    expect(toDisplayText(fromNameBytes(Buffer.from([0x66, 0xff, 0x2e, 0x63])))).toBe('f\\xff.c')
    expect(toDisplayText('a\nb\u001b[31m\u009b\u202e.txt')).toBe(
      'a\\nb\\x1b[31m\\u{9b}\\u{202e}.txt',
    )
    expect(toDisplayText('plain/é.txt')).toBe('plain/é.txt')
    // What shows as nothing: a zero-width space, a word joiner, a byte order mark.
    expect(toDisplayText('a\u200bb\u2060c\ufeffd')).toBe('a\\u{200b}b\\u{2060}c\\u{feff}d')
  })

  it('escapes every character Unicode says shows as nothing, and every format character', () => {
    const invisible = /[\p{Cf}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}]/u
    // The format characters that are drawn (Prepended_Concatenation_Mark) stay as they are.
    const drawn = [0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x6dd, 0x70f, 0x890, 0x891, 0x8e2]
    for (const code of [...drawn, 0x110bd, 0x110cd]) {
      const ch = String.fromCodePoint(code)
      expect(toDisplayText(`a${ch}b`), code.toString(16)).toBe(`a${ch}b`)
    }
    for (let code = 0xa0; code <= 0x10ffff; code++) {
      if (
        (code >= 0xd800 && code <= 0xdfff) ||
        drawn.includes(code) ||
        code === 0x110bd ||
        code === 0x110cd
      )
        continue
      const ch = String.fromCodePoint(code)
      if (!invisible.test(ch)) continue
      expect(toDisplayText(`a${ch}b`), code.toString(16)).toBe(`a\\u{${code.toString(16)}}b`)
    }
  })

  it('changes nothing it already escaped: a message is escaped where made and where shown', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const once = toDisplayText(text)
        expect(toDisplayText(once)).toBe(once)
      }),
    )
  })
})

describe('toEscapedLine', () => {
  it('shows any two texts that would show alike apart', () => {
    const pieces = fc.constantFrom(
      '\\',
      'x1b',
      '\u001b',
      'e',
      '\u0301',
      'é',
      'u{301}',
      '{',
      '}',
      'a',
    )
    fc.assert(
      fc.property(
        fc.array(pieces, { maxLength: 6 }),
        fc.array(pieces, { maxLength: 6 }),
        (x, y) => {
          const [a, b] = [x.join(''), y.join('')]
          if (showAlike(a, b)) expect(toEscapedLine(a)).not.toBe(toEscapedLine(b))
        },
      ),
    )
    // The text `\x1b` and ESC itself.
    expect(showAlike('app\\x1b.sh', 'app\u001b.sh')).toBe(true)
    expect(toEscapedLine('app\\x1b.sh')).toBe('app\\\\x1b.sh')
    expect(toEscapedLine('app\u001b.sh')).toBe('app\\x1b.sh')
  })
})

describe('globs over names', () => {
  const matches = (glob: string, rel: string): boolean => {
    const listed = listedFileSystem('/r', [{ rel, isDirectory: false }])
    return matchListed('/r', listed, compileGlob(glob).patterns).has(rel)
  }

  it('count a stray byte as one character and match it only by wildcards', () => {
    const name = fromNameBytes(Buffer.from([0x66, 0xff, 0x2e, 0x63]))
    expect(matches('f?.c', name)).toBe(true)
    expect(matches('*.c', name)).toBe(true)
    expect(matches('f\u00ff.c', name)).toBe(false)
    expect(matches('f\\x*', name)).toBe(false)
    expect(matches('f\u0000ff.c', name)).toBe(false)
    expect(matches('f?.c', 'fé.c')).toBe(true)
  })
})

describe('parseQuotedPaths', () => {
  /** What `git -c core.quotePath=true ls-files` writes for one name. */
  function quoteLikeGit(bytes: Uint8Array): string {
    const escapes: Record<number, string> = {
      7: 'a',
      8: 'b',
      9: 't',
      10: 'n',
      11: 'v',
      12: 'f',
      13: 'r',
      34: '"',
      92: '\\',
    }
    if (bytes.every((b) => b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c)) {
      return Buffer.from(bytes).toString('latin1')
    }
    let out = '"'
    for (const b of bytes) {
      const named = escapes[b]
      if (named !== undefined) out += `\\${named}`
      else if (b < 0x20 || b >= 0x7f) out += `\\${b.toString(8).padStart(3, '0')}`
      else out += String.fromCharCode(b)
    }
    return `${out}"`
  }

  it('reads every name git can list back to its exact bytes', () => {
    fc.assert(
      fc.property(fc.array(nameBytes, { maxLength: 8 }), (names) => {
        const listing = names.map((n) => `${quoteLikeGit(n)}\n`).join('')
        expect(parseQuotedPaths(listing).map(toNameBytes)).toEqual(names.map((n) => Buffer.from(n)))
      }),
    )
  })
})

describe('withoutDotParts', () => {
  it('leaves out empty and `.` parts, and nothing else, however the path is spelt', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('', '.', '..', 'a', '.b', 'c.', 'd e'), { maxLength: 8 }),
        (parts) => {
          const kept = parts.filter((p) => p !== '' && p !== '.')
          expect(withoutDotParts(parts.join('/'))).toBe(kept.join('/'))
        },
      ),
    )
  })
})

describe('isPlainRelativePath', () => {
  it('judges a name by its bytes: a byte that is not UTF-8 is no NUL, and .. is .. however written', () => {
    const name = (bytes: string) => fromNameBytes(Buffer.from(bytes, 'latin1'))
    expect(isPlainRelativePath(name('out/f\xff'))).toBe(true)
    expect(isPlainRelativePath(name('out/\xfe\xff/x.bin'))).toBe(true)
    for (const bad of ['', '/etc/passwd', '../x', 'a/../b', 'a//b', './a', 'a/.', 'a\0b'])
      expect(isPlainRelativePath(name(bad)), JSON.stringify(bad)).toBe(false)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (raw) => {
        const bytes = Buffer.from(raw)
        const parts = bytes.toString('latin1').split('/')
        const plain =
          bytes.length > 0 &&
          !bytes.includes(0) &&
          parts.every((p) => p !== '' && p !== '.' && p !== '..')
        expect(isPlainRelativePath(fromNameBytes(bytes))).toBe(plain)
      }),
    )
  })
})
