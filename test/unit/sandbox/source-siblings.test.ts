import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hasSiblings, type SourceEntry } from '../../../src/sandbox/source-files.js'

const file = (rel: string): SourceEntry => ({ kind: 'file', rel, mode: 0o644, size: 0 })
const dir = (rel: string): SourceEntry => ({ kind: 'dir', rel })

describe('hasSiblings', () => {
  it('counts directories that only the paths below them imply, as git lists a tree', () => {
    expect(hasSiblings([file('a/x'), file('b/y'), file('build.sh')])).toBe(true)
    expect(hasSiblings([file('a/x'), file('b/y')])).toBe(true)
    expect(hasSiblings([file('src/a/x'), file('src/b/y')])).toBe(true)
    expect(hasSiblings([file('a/b/c'), file('a/b/d')])).toBe(true)
  })

  it('finds none in a single chain of directories, listed or implied', () => {
    expect(hasSiblings([])).toBe(false)
    expect(hasSiblings([file('build.sh')])).toBe(false)
    expect(hasSiblings([file('a/b/c')])).toBe(false)
    expect(hasSiblings([dir('a'), dir('a/b'), file('a/b/c')])).toBe(false)
  })

  it('answers as a count of the distinct names under each directory does', () => {
    const name = fc.constantFrom('a', 'b', 'c')
    const rel = fc.array(name, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'))
    fc.assert(
      fc.property(fc.array(rel, { maxLength: 6 }), (rels) => {
        const under = new Map<string, Set<string>>()
        for (const r of rels) {
          const parts = r.split('/')
          parts.forEach((part, i) => {
            const parent = parts.slice(0, i).join('/')
            under.set(parent, (under.get(parent) ?? new Set()).add(part))
          })
        }
        const expected = [...under.values()].some((names) => names.size >= 2)
        expect(hasSiblings(rels.map(file))).toBe(expected)
      }),
    )
  })
})
