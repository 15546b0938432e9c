import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { nameShape, pairRenamed } from '../../../src/diff/renames.js'
import type { MemberInfo } from '../../../src/formats/member.js'

const member = (name: string, sha256 = name, size = 1, type: MemberInfo['type'] = 'file') => ({
  key: name,
  name,
  type,
  size,
  sha256,
  meta: {},
  index: 0,
})

const hex = fc.stringMatching(/^[0-9a-f]{8,12}$/)
const memberArb = fc
  .record({
    dir: fc.constantFrom('', 'lib/', 'x/', 'y/', '.build-id/4a/', '.build-id/c2/'),
    stem: fc.oneof(fc.constantFrom('x', 'y', 'app'), hex),
    ext: fc.constantFrom('', '.js', '.debug'),
    sha256: fc.constantFrom('1', '2', '3', ''),
    size: fc.nat({ max: 2 }),
    type: fc.constantFrom<MemberInfo['type']>('file', 'symlink', 'directory'),
  })
  .map((m) => member(`${m.dir}${m.stem}${m.ext}`, m.sha256, m.size, m.type))
const side = fc.uniqueArray(memberArb, { selector: (m) => m.name, maxLength: 6 })

describe('pairRenamed', () => {
  it('pairs one to one, each pair by unique identical content or by one shape with a hash in it', () => {
    fc.assert(
      fc.property(side, side, (a, b) => {
        const pairs = pairRenamed(a, b)
        expect(new Set(pairs.map((p) => p.a)).size).toBe(pairs.length)
        expect(new Set(pairs.map((p) => p.b)).size).toBe(pairs.length)
        for (const p of pairs) {
          if (p.by === 'content') {
            expect(p.a.sha256).toBe(p.b.sha256)
            expect(p.a.size).toBeGreaterThan(0)
            expect(
              a.filter((m) => m.sha256 === p.a.sha256 && m.type === 'file' && m.size > 0),
            ).toHaveLength(1)
            expect(
              b.filter((m) => m.sha256 === p.b.sha256 && m.type === 'file' && m.size > 0),
            ).toHaveLength(1)
          } else if (p.by === 'directory') {
            // A directory moved within its parent, or a member at the same place below it.
            const parts = (m: MemberInfo) => m.name.replace(/\/+$/, '').split('/')
            expect(parts(p.a).length).toBe(parts(p.b).length)
          } else {
            expect(nameShape(p.a.name)).toBe(nameShape(p.b.name))
            expect(nameShape(p.a.name)).not.toBe(p.a.name)
            expect(p.a.type).toBe(p.b.type)
          }
        }
        // The same pairs whichever side is A.
        const swapped = pairRenamed(b, a).map((p) => `${p.b.name} ${p.a.name}`)
        expect(swapped.sort()).toEqual(pairs.map((p) => `${p.a.name} ${p.b.name}`).sort())
      }),
    )
  })

  it('pairs a renamed directory and every member below it by place, and nothing when two could match or no file below is alike', () => {
    const suffix = fc.stringMatching(/^[a-z]{1,4}(\/[a-z]{1,4})?$/)
    fc.assert(
      fc.property(
        fc.uniqueArray(suffix, { minLength: 1, maxLength: 5 }),
        side,
        fc.boolean(),
        fc.boolean(),
        (below, noise, twin, unlike) => {
          // Unlike: no file below holds what its counterpart does (two packages of one
          // layout), so nothing says the one is the other renamed.
          const tree = (dir: string) => [
            member(`${dir}/`, '', 0, 'directory'),
            ...below.map((x) => member(`${dir}/${x}`, unlike ? `${dir}${x}` : x)),
          ]
          // With a twin, two directories of A hold the same tree: neither is taken.
          const a = [...tree('tmp.one'), ...(twin ? tree('tmp.two') : []), ...noise]
          const b = [
            ...tree('tmp.zzz'),
            ...noise.map((m) => ({ ...m, name: `n/${m.name}`, key: `n/${m.name}` })),
          ]
          const moved = pairRenamed(a, b).filter((p) => p.by === 'directory')
          if (twin || unlike) {
            expect(moved).toEqual([])
            return
          }
          expect(moved.map((p) => [p.a.name, p.b.name])).toEqual([
            ['tmp.one/', 'tmp.zzz/'],
            ...below.map((x) => [`tmp.one/${x}`, `tmp.zzz/${x}`]),
          ])
        },
      ),
    )
  })

  it('pairs a .build-id file and a hashed bundle with their renamed twins, and nothing alike only by chance', () => {
    const a = [
      member('usr/lib/debug/.build-id/43/8f0c1a2b3c4d5e6f.debug', 'x'),
      member('dist/index.3f2a1b9c.js', 'y'),
      member('lib/a.txt', 'p'),
      member('empty1', 'e', 0),
    ]
    const b = [
      member('usr/lib/debug/.build-id/c2/77aa0b12ccdd0011.debug', 'z'),
      member('dist/index.77aa0b12.js', 'w'),
      member('lib/b.txt', 'q'),
      member('empty2', 'e', 0),
    ]
    expect(pairRenamed(a, b).map((p) => [p.a.name, p.b.name, p.by])).toEqual([
      [
        'usr/lib/debug/.build-id/43/8f0c1a2b3c4d5e6f.debug',
        'usr/lib/debug/.build-id/c2/77aa0b12ccdd0011.debug',
        'shape',
      ],
      ['dist/index.3f2a1b9c.js', 'dist/index.77aa0b12.js', 'shape'],
    ])
    // Names alike but for no hash are never taken as one renamed, the same name included.
    expect(pairRenamed([member('lib/x.txt', 'p')], [member('lib/x.txt', 'q')])).toEqual([])
    // Moved whole: the same content under another name.
    expect(pairRenamed([member('lib/x.so', 'k')], [member('lib64/x.so', 'k')])[0]?.by).toBe(
      'content',
    )
  })
})
