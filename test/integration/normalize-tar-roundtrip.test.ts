import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupTemp, makeTemp, runCli } from '../helpers.js'

afterEach(cleanupTemp)

/*
 * Archives made by GNU tar from generated trees: names that are not UTF-8 and longer
 * than the ustar fields, long link targets, hard links, sparse files, times before 1970
 * and after 2038, PAX global headers. After `reproof normalize` (canonical or not), GNU tar and Python's
 * tarfile must each see the same members, with the same content, links and exec bits,
 * and GNU tar must extract the same tree, sparse files still sparse.
 */

const run = (cwd: string, argv: string[]): string =>
  execFileSync(argv[0] ?? '', argv.slice(1), {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })

// Every member as Python's tarfile reads it, names and targets as hex of their bytes.
const LIST_PY = `
import hashlib, json, sys, tarfile
out = []
with tarfile.open(sys.argv[1], errors='surrogateescape', encoding='utf-8') as t:
    for m in t.getmembers():
        data = t.extractfile(m).read() if m.isreg() else b''
        enc = lambda s: s.encode('utf-8', 'surrogateescape').hex()
        out.append([enc(m.name), m.type.decode('latin1'), enc(m.linkname), m.size if m.isreg() else 0,
                    bool(m.mode & 0o111) if m.isreg() else None, hashlib.sha256(data).hexdigest()])
    print(json.dumps({'members': sorted(out), 'globals': t.pax_headers}))
`

// The tree GNU tar extracts: per path, its type, content, exec bit, link target, hard
// link group and whether it is sparse on disk.
const WALK_PY = `
import hashlib, json, os, stat, sys
root = sys.argv[1].encode()
out, inodes = {}, {}
for d, dirs, files in os.walk(root):
    for n in dirs + files:
        p = os.path.join(d, n)
        st = os.lstat(p)
        rel = os.path.relpath(p, root).hex()
        if stat.S_ISLNK(st.st_mode):
            out[rel] = ['l', os.readlink(p).hex()]
        elif stat.S_ISDIR(st.st_mode):
            out[rel] = ['d']
        else:
            h = hashlib.sha256(open(p, 'rb').read()).hexdigest()
            inodes.setdefault(st.st_ino, []).append(rel)
            out[rel] = ['f', h, bool(st.st_mode & 0o111), st.st_blocks * 512 < st.st_size, st.st_ino]
groups = {ino: sorted(names) for ino, names in inodes.items()}
for rel, v in out.items():
    if v[0] == 'f':
        v[4] = groups[v[4]]
print(json.dumps(out, sort_keys=True))
`

const component = fc.oneof(
  // GNUSparseFile.<digits> is a placeholder only in a PAX sparse member's header: here a name.
  fc.constantFrom('a', 'b', 'dir', 'x.txt', 'é', 'GNUSparseFile.123'),
  fc.constant(Buffer.from([0x66, 0xff, 0x2e, 0x6f])),
  fc.constant('long-'.repeat(24)),
)

interface Spec {
  parts: (string | Buffer)[]
  kind: 'file' | 'sparse' | 'symlink' | 'hardlink'
  content: string
  exec: boolean
  mtime: number
  target: string
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  parts: fc.array(component, { minLength: 1, maxLength: 3 }),
  kind: fc.constantFrom('file', 'file', 'sparse', 'symlink', 'hardlink'),
  content: fc.string({ maxLength: 40 }),
  exec: fc.boolean(),
  mtime: fc.integer({ min: -2_000_000_000, max: 4_000_000_000 }),
  target: fc.oneof(fc.constant('t'), fc.constant('target/'.repeat(20))),
})

/** Makes the tree under `dir/t`; returns how many entries it holds. */
function makeTree(dir: string, specs: Spec[]): number {
  const root = path.join(dir, 't')
  fs.mkdirSync(root)
  const files: Buffer[] = []
  let made = 0
  for (const [i, spec] of specs.entries()) {
    const parts = [
      ...spec.parts.slice(0, -1),
      Buffer.concat([toBytes(spec.parts.at(-1) ?? 'f'), Buffer.from(`-${i}`)]),
    ]
    const full = Buffer.concat([
      Buffer.from(`${root}/`),
      ...parts.flatMap((p, k) => (k === 0 ? [toBytes(p)] : [Buffer.from('/'), toBytes(p)])),
    ])
    const parent = full.subarray(0, full.lastIndexOf(0x2f))
    // A directory where an earlier entry made a file: skip this one.
    try {
      fs.mkdirSync(parent, { recursive: true })
      if (spec.kind === 'symlink') fs.symlinkSync(spec.target, full)
      else if (spec.kind === 'hardlink' && files.length > 0)
        fs.linkSync(files[i % files.length] ?? '', full)
      else {
        fs.writeFileSync(full, spec.content)
        if (spec.kind === 'sparse') {
          const fd = fs.openSync(full, 'r+')
          fs.writeSync(fd, 'middle', 3 * 1024 * 1024)
          fs.ftruncateSync(fd, 8 * 1024 * 1024)
          fs.closeSync(fd)
        }
        fs.chmodSync(full, spec.exec ? 0o755 : 0o644)
        fs.utimesSync(full, spec.mtime, spec.mtime)
        files.push(full)
      }
      made++
    } catch (err) {
      if (!['EEXIST', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err
    }
  }
  return made
}

const toBytes = (part: string | Buffer): Buffer =>
  typeof part === 'string' ? Buffer.from(part) : part

describe('tar normalization, checked by GNU tar and Python tarfile', () => {
  it('keeps every member, name, link, exec bit, sparse map and global header', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(specArb, { minLength: 1, maxLength: 6 }),
        fc.constantFrom('gnu', 'posix'),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        async (specs, format, sparse, global, canonical) => {
          const dir = makeTemp()
          if (makeTree(dir, specs) === 0) return
          const options = [
            `--format=${format}`,
            ...(sparse ? ['--sparse'] : []),
            ...(global && format === 'posix' ? ['--pax-option=comment=made-by-a-test'] : []),
          ]
          run(dir, ['tar', ...options, '-cf', 'in.tar', '-C', 't', '.'])
          const normalized = await runCli([
            'normalize',
            '--epoch',
            '1700000000',
            ...(canonical ? ['--canonical'] : []),
            path.join(dir, 'in.tar'),
            '-o',
            path.join(dir, 'out.tar'),
          ])
          expect(normalized.code, normalized.stderr).toBe(0)
          // Python's view: the same members and contents, and the global records.
          const list = (file: string): unknown =>
            JSON.parse(run(dir, ['python3', '-c', LIST_PY, file]))
          expect(list('out.tar')).toEqual(list('in.tar'))
          // GNU tar's: lists without a word on stderr, and extracts the same tree.
          execFileSync('tar', ['-tf', 'out.tar'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
          for (const [file, into] of [
            ['in.tar', 'x1'],
            ['out.tar', 'x2'],
          ] as const) {
            fs.mkdirSync(path.join(dir, into))
            run(dir, ['tar', '-xf', file, '-C', into])
          }
          const walk = (into: string): unknown =>
            JSON.parse(run(dir, ['python3', '-c', WALK_PY, into]))
          expect(walk('x2')).toEqual(walk('x1'))
          // And again: nothing left to change.
          const again = await runCli([
            'normalize',
            '--json',
            '--epoch',
            '1700000000',
            ...(canonical ? ['--canonical'] : []),
            path.join(dir, 'out.tar'),
            '-o',
            path.join(dir, 'again.tar'),
          ])
          expect(
            fs
              .readFileSync(path.join(dir, 'again.tar'))
              .equals(fs.readFileSync(path.join(dir, 'out.tar'))),
            again.stdout,
          ).toBe(true)
        },
      ),
      {
        numRuns: 25,
        examples: [
          // Found by this test: a hard link that GNU tar wrote before its target, to a
          // sparse file whose name is not UTF-8 (its real name is in GNU.sparse.name,
          // not in its made-up path).
          [
            [
              { parts: ['a'], kind: 'symlink', content: '', exec: false, mtime: 0, target: 't' },
              { parts: ['a'], kind: 'sparse', content: '', exec: false, mtime: 0, target: 't' },
              {
                parts: [Buffer.from([0x66, 0xff, 0x2e, 0x6f]), 'a'],
                kind: 'hardlink',
                content: '',
                exec: false,
                mtime: 0,
                target: 't',
              },
              { parts: ['a'], kind: 'file', content: '', exec: false, mtime: 0, target: 't' },
            ],
            'posix',
            true,
            false,
            false,
          ],
        ],
      },
    )
  }, 600_000)
})
