import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { isInside, locateInside, resolveInside } from '../../../src/sandbox/contain.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

/** `base/root` holding `dir/file`, and `base/outside` beside it. */
function tree(): { base: string; root: string } {
  const base = makeTemp()
  const root = path.join(base, 'root')
  fs.mkdirSync(path.join(root, 'dir'), { recursive: true })
  fs.writeFileSync(path.join(root, 'dir', 'file'), 'x')
  fs.mkdirSync(path.join(base, 'outside'))
  return { base, root }
}

describe('isInside', () => {
  it('holds for the root and what lies below it, by path alone', () => {
    expect(isInside('/r', '/r')).toBe(true)
    expect(isInside('/r', '/r/a/b')).toBe(true)
    expect(isInside('/r', '/r/..a')).toBe(true)
    expect(isInside('/r', '/r/a/../b')).toBe(true)
    expect(isInside('/r', '/')).toBe(false)
    expect(isInside('/r', '/r2')).toBe(false)
    expect(isInside('/r', '/r/../s')).toBe(false)
    expect(isInside('/r/a', '/r')).toBe(false)
  })
})

describe('resolveInside', () => {
  it('walks plain components, passing over empty ones and "."', async () => {
    const { root } = tree()
    expect(await resolveInside(root, 'dir//./file')).toEqual({
      kind: 'inside',
      path: path.join(root, 'dir', 'file'),
      rel: 'dir/file',
    })
    expect(await resolveInside(root, './')).toEqual({ kind: 'inside', path: root, rel: '' })
  })

  it('says where a path stops existing, with the rest of it', async () => {
    const { root } = tree()
    expect(await resolveInside(root, 'dir/missing/a/b')).toEqual({
      kind: 'dangling',
      path: path.join(root, 'dir', 'missing', 'a', 'b'),
    })
  })

  it('follows relative links inside, and refuses one that leaves even if it comes back', async () => {
    const { root } = tree()
    fs.symlinkSync('dir', path.join(root, 'to-dir'))
    fs.symlinkSync('..', path.join(root, 'up'))
    expect(await resolveInside(root, 'to-dir/file')).toEqual({
      kind: 'inside',
      path: path.join(root, 'dir', 'file'),
      rel: 'dir/file',
    })
    expect(await resolveInside(root, 'up/root/dir')).toEqual({
      kind: 'outside',
      via: 'up/root/dir',
    })
  })

  it('reads an absolute link against the root as the build saw it', async () => {
    const { base, root } = tree()
    const seenAs = '/build/src'
    fs.symlinkSync('/build/src/dir', path.join(root, 'abs'))
    fs.symlinkSync('/build/other', path.join(root, 'away'))
    fs.symlinkSync(path.join(base, 'outside'), path.join(root, 'real'))
    expect(await resolveInside(root, 'abs/file', seenAs)).toEqual({
      kind: 'inside',
      path: path.join(root, 'dir', 'file'),
      rel: 'dir/file',
    })
    expect(await resolveInside(root, 'away/x', seenAs)).toEqual({ kind: 'outside', via: 'away' })
    // The machine's path of a directory outside is outside, whatever the kernel would read.
    expect(await resolveInside(root, 'real', seenAs)).toEqual({ kind: 'outside', via: 'real' })
    expect(await resolveInside(root, 'real')).toEqual({ kind: 'outside', via: 'real' })
  })

  it('walks `..` in an absolute link through the links before it, as the kernel does', async () => {
    // `/build/src/d/../f` with `d -> dir/sub`: the kernel reaches dir/f, never f.
    const { base, root } = tree()
    const seenAs = '/build/src'
    fs.mkdirSync(path.join(root, 'dir', 'sub'))
    fs.writeFileSync(path.join(root, 'f'), 'not this one')
    fs.writeFileSync(path.join(root, 'dir', 'f'), 'this one')
    fs.symlinkSync('dir/sub', path.join(root, 'd'))
    fs.symlinkSync('/build/src/d/../f', path.join(root, 'out'))
    expect(await resolveInside(root, 'out', seenAs)).toEqual({
      kind: 'inside',
      path: path.join(root, 'dir', 'f'),
      rel: 'dir/f',
    })
    // Through a link that leaves: outside, whatever `..` follows it.
    fs.symlinkSync(path.join(base, 'outside'), path.join(root, 'away'))
    fs.symlinkSync(`${root}/away/../root/f`, path.join(root, 'back'))
    expect(await resolveInside(root, 'back')).toEqual({ kind: 'outside', via: 'away' })
    // And `..` above the root in an absolute target, or a root not written as its own.
    fs.symlinkSync('/build/src/../src/f', path.join(root, 'above'))
    expect(await resolveInside(root, 'above', seenAs)).toEqual({ kind: 'outside', via: 'above' })
    fs.symlinkSync('/build/srcx/f', path.join(root, 'beside'))
    expect(await resolveInside(root, 'beside', seenAs)).toEqual({ kind: 'outside', via: 'beside' })
  })

  it('follows a chain of 40 links and gives up at 41, as Linux does', async () => {
    const { root } = tree()
    const chain = (n: number, prefix: string) => {
      for (let i = 0; i < n; i++)
        fs.symlinkSync(i === n - 1 ? 'dir' : `${prefix}${i + 1}`, path.join(root, `${prefix}${i}`))
    }
    chain(40, 'a')
    chain(41, 'b')
    expect(await resolveInside(root, 'a0/file')).toEqual({
      kind: 'inside',
      path: path.join(root, 'dir', 'file'),
      rel: 'dir/file',
    })
    expect(await resolveInside(root, 'b0/file')).toEqual({ kind: 'loop', via: 'b0/file' })
    fs.symlinkSync('self', path.join(root, 'self'))
    expect(await resolveInside(root, 'self')).toEqual({ kind: 'loop', via: 'self' })
  })
})

describe('locateInside', () => {
  it('resolves the parent, links and all, and leaves the last component as it is', async () => {
    const { root } = tree()
    const seenAs = '/build/src'
    fs.symlinkSync('/build/src/dir', path.join(root, 'abs'))
    fs.symlinkSync('file', path.join(root, 'dir', 'link'))
    fs.symlinkSync('/etc', path.join(root, 'away'))
    expect(await locateInside(root, 'abs/file', seenAs)).toEqual({
      path: path.join(root, 'dir', 'file'),
      rel: 'dir/file',
    })
    // The link itself, not where it leads.
    expect(await locateInside(root, 'abs/link', seenAs)).toEqual({
      path: path.join(root, 'dir', 'link'),
      rel: 'dir/link',
    })
    expect(await locateInside(root, 'abs', seenAs)).toEqual({
      path: path.join(root, 'abs'),
      rel: 'abs',
    })
    expect(await locateInside(root, 'away/passwd', seenAs)).toBeUndefined()
    expect(await locateInside(root, 'gone/x', seenAs)).toBeUndefined()
  })
})
