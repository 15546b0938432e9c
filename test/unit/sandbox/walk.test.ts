import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { diffPaths } from '../../../src/diff/diff-inputs.js'
import { defaultHintContext } from '../../../src/diff/hints.js'
import { fromNameBytes } from '../../../src/file-names.js'
import { DEFAULT_LIMITS } from '../../../src/formats/limits.js'
import { listEntries, walkTree, type TreeEntry } from '../../../src/sandbox/walk.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(() => {
  vi.restoreAllMocks()
  cleanupTemp()
})

/**
 * A file system that gives no kind in its listings (XFS without ftype, some NFS and FUSE
 * mounts): Node then looks each entry up by the name it was given. Listed as Latin-1, a
 * name that is not ASCII comes back as other bytes, and the lookup finds whatever has
 * those bytes: here, every entry the listing gives is taken for what `cafÃ©` is, a file.
 */
function listingsWithoutKinds(): void {
  const readdir = fs.readdirSync.bind(fs)
  vi.spyOn(fs, 'readdirSync').mockImplementation(((dir: fs.PathLike, options?: unknown) => {
    const listed = readdir(dir, options as never) as unknown[]
    return listed.map((entry) =>
      entry instanceof fs.Dirent
        ? Object.assign(Object.create(fs.Dirent.prototype) as fs.Dirent, entry, {
            isFile: () => true,
            isDirectory: () => false,
            isSymbolicLink: () => false,
          })
        : entry,
    )
  }) as typeof fs.readdirSync)
}

describe('listing a directory', () => {
  it('asks the kind of a name that is not ASCII by its exact bytes', () => {
    const root = makeTemp()
    fs.symlinkSync('/etc/passwd', path.join(root, 'café'))
    fs.writeFileSync(path.join(root, 'cafÃ©'), 'a file')
    fs.mkdirSync(path.join(root, 'dir'))
    const raw = Buffer.concat([Buffer.from(`${root}/dir/`), Buffer.from([0x72, 0xff])])
    fs.symlinkSync('/etc/passwd', raw)
    listingsWithoutKinds()
    const kinds = (rel: string) =>
      Object.fromEntries(
        listEntries(root, rel).map((e) => [e.rel.slice(e.rel.lastIndexOf('/') + 1), e.kind]),
      )
    expect(kinds('')).toMatchObject({ café: 'symlink', 'cafÃ©': 'file' })
    expect(kinds('dir')).toEqual({ [fromNameBytes(Buffer.from([0x72, 0xff]))]: 'symlink' })
    const walked: TreeEntry[] = []
    walkTree(root, '', (entry) => {
      walked.push(entry)
      return true
    })
    expect(walked.find((e) => e.rel === 'café')?.kind).toBe('symlink')
  })

  it('lists a directory whose own name is not UTF-8 by bytes', () => {
    const root = makeTemp()
    const dir = fromNameBytes(Buffer.from([0x64, 0xfe]))
    const at = Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x64, 0xfe])])
    fs.mkdirSync(at)
    fs.writeFileSync(Buffer.concat([at, Buffer.from('/é')]), 'x')
    fs.symlinkSync('/etc/passwd', Buffer.concat([at, Buffer.from('/ü')]))
    expect(listEntries(root, dir).sort((a, b) => (a.rel < b.rel ? -1 : 1))).toEqual([
      { rel: `${dir}/é`, kind: 'file' },
      { rel: `${dir}/ü`, kind: 'symlink' },
    ])
  })

  it('never calls a link and a file with the same bytes identical, however the listing reads', async () => {
    const [a, b] = [makeTemp(), makeTemp()]
    fs.writeFileSync(path.join(a, 'target'), 'secret')
    fs.symlinkSync('target', path.join(a, 'café'))
    fs.writeFileSync(path.join(b, 'target'), 'secret')
    fs.writeFileSync(path.join(b, 'café'), 'secret')
    for (const side of [a, b]) fs.writeFileSync(path.join(side, 'cafÃ©'), 'same')
    listingsWithoutKinds()
    const report = await diffPaths(a, b, {
      maxLines: 50,
      limits: DEFAULT_LIMITS,
      context: defaultHintContext([[], []], 1_700_000_000),
    })
    expect(report.identical).toBe(false)
    expect(report.items.map((i) => i.path)).toContain('café')
  })
})
