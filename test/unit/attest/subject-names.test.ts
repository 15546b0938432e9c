import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { subjectNamesShown, subjectNameWarnings } from '../../../src/attest/subject-names.js'

describe('subject names', () => {
  it('are never shown alike when they differ', () => {
    const piece = fc.constantFrom('a', 'e', 'é', 'e\u0301', '\u200b', '\u0430', 'x', '\\', '/')
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.array(piece, { minLength: 1, maxLength: 4 }).map((p) => p.join('')),
          { maxLength: 6 },
        ),
        (names) => {
          const shown = subjectNamesShown(names)
          expect(new Set(names.map(shown)).size).toBe(names.length)
        },
      ),
    )
  })

  it('warn of names one file is known by where case or Unicode normalization is ignored', () => {
    expect(subjectNameWarnings(['bin/app', 'lib/app.so'])).toEqual([])
    const [caseOnly] = subjectNameWarnings(['Hello', 'hello'])
    expect(caseOnly).toMatch(/^subjects Hello, hello are one name where case or Unicode/)
    const [forms] = subjectNameWarnings(['bin/caf\u00e9', 'bin/cafe\u0301'])
    // Shown escaped: the two would otherwise read as one name.
    expect(forms).toContain('bin/caf\\u{e9}')
    expect(forms).toContain('bin/cafe\\u{301}')
  })
})
