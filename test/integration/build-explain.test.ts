import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { BuildResult } from '../../src/twin/run-build.js'
import { cleanupTemp, listDir, makeTemp, makeTempParent, runCli } from '../helpers.js'

afterEach(cleanupTemp)

/** A project whose three outputs differ by directory order, by the date, and not at all. */
function project(): string {
  const source = makeTemp()
  fs.mkdirSync(path.join(source, 'data'))
  for (const f of ['b', 'a', 'c', 'e', 'd'])
    fs.writeFileSync(path.join(source, 'data', `${f}.txt`), `${f}\n`)
  fs.writeFileSync(
    path.join(source, 'Makefile'),
    'all:\n\tls -U data > order.txt\n\tdate +%F > day.txt\n\techo stable > stable.txt\n',
  )
  return source
}

async function build(source: string, args: string[]) {
  const parent = makeTempParent()
  const run = await runCli([
    'build',
    '-C',
    source,
    '--temp-dir',
    parent,
    '--json',
    '-o',
    'order.txt',
    '-o',
    'day.txt',
    '-o',
    'stable.txt',
    '--out-dir',
    makeTemp(),
    ...args,
    '--',
    'make',
  ])
  // The further pairs leave no build root behind either.
  expect(listDir(parent)).toEqual([])
  return { ...run, result: JSON.parse(run.stdout) as BuildResult }
}

/** `reproof build` of a project of one Makefile (and a README), in temp dirs; `--json` unless `text`. */
async function buildMakefile(makefile: string, args: string[], { text = false } = {}) {
  const source = makeTemp()
  fs.writeFileSync(path.join(source, 'README'), 'x\n')
  fs.writeFileSync(path.join(source, 'Makefile'), makefile)
  const run = await runCli([
    'build',
    '-C',
    source,
    '--temp-dir',
    makeTempParent(),
    ...(text ? [] : ['--json']),
    '--out-dir',
    makeTemp(),
    ...args,
    '--',
    'make',
  ])
  return {
    code: run.code,
    stdout: run.stdout,
    result: text ? undefined : (JSON.parse(run.stdout) as BuildResult),
  }
}

describe('reproof build: which variation causes each difference', () => {
  it('builds further pairs and names the variation alone that reproduces each difference', async () => {
    const { code, result } = await build(project(), ['--vary', 'umask'])
    expect(code).toBe(1)
    const time = result.variations.find((v) => v.name === 'time')
    const causes = Object.fromEntries(
      (result.attribution?.culprits ?? []).map((c) => [c.artifact, c.cause]),
    )
    expect(causes['order.txt']).toBe('ordering')
    // The clock is varied only with libfaketime; without it the date cannot be blamed on it.
    if (time?.status === 'effective') expect(causes['day.txt']).toBe('time')
    expect(Object.keys(causes).sort()).toEqual(result.differences.map((d) => d.name).sort())
    // Under another umask the files are 0664 in run B: bits the verdict does not compare,
    // which the explanation names no cause for.
    const modes = (result.explanation?.items ?? []).filter(
      (i) => i.kind === 'metadata' && i.fields.some((f) => f.field === 'mode'),
    )
    expect(modes).toEqual([])
    expect(
      (result.explanation?.items ?? []).flatMap((i) => i.hints).some((h) => h.cause === 'umask'),
    ).toBe(false)
    // The control first, with nothing but the build path varied; then halves.
    const pairs = result.attribution?.pairs ?? []
    expect(pairs[0]).toEqual({ variations: [], differing: [] })
    expect(result.attribution?.extraBuilds).toBe(2 * pairs.length)
  })

  it('says the clock is not told from the path when the runs ran one after the other', async () => {
    const run = await buildMakefile(
      'all:\n\tdate +%s%N > stamp.txt\n',
      ['-o', 'stamp.txt', '--sequential'],
      { text: true },
    )
    expect(run.code).toBe(1)
    // Every difference in it is a time: the clock, whatever the path did.
    expect(run.stdout).toContain(
      'stamp.txt: differs with only the build path varied, and every difference in it is a time: the two runs of a pair do not write at the same moment (started together, one lags the other; with --sequential, one runs after the other)',
    )
    // Random bytes are no time: the path, the clock or what reproof does not vary.
    const random = await buildMakefile(
      'all:\n\tod -An -N8 -tx1 /dev/urandom > seed.txt\n',
      ['-o', 'seed.txt', '--sequential'],
      { text: true },
    )
    expect(random.code).toBe(1)
    expect(random.stdout).toContain(
      'seed.txt: differs with only the build path varied, the runs one after the other (--sequential): the path, the clock, the process ids',
    )
  })

  it('names the build path outright when every difference already holds the two build paths', async () => {
    const run = await buildMakefile('all:\n\tpwd > where.txt\n', ['-o', 'where.txt'], {
      text: true,
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      'where.txt: the build path: it differs with only the path varied, and every difference holds the two build paths (cause: build-path above)',
    )
  })

  it("names a HOME or TMPDIR in run B's workspace the build path's, and a varied HOME the environment's", async () => {
    const makefile = 'all:\n\techo "home=$$HOME" > h.txt\n\techo "tmp=$$TMPDIR" > t.txt\n'
    const causes = (result: BuildResult | undefined) =>
      Object.fromEntries(
        (result?.differences ?? []).map((d) => [
          d.name,
          [...new Set((d.explanation ?? []).flatMap((i) => i.hints.map((h) => h.cause)))],
        ]),
      )
    const plain = await buildMakefile(makefile, ['-o', '*.txt', '--no-explain'])
    expect(plain.code).toBe(1)
    expect(causes(plain.result)).toEqual({ 'h.txt': ['build-path'], 't.txt': ['build-path'] })
    // With the home variation, run B's HOME is a directory of its own name: a variable's.
    const home = await buildMakefile(makefile, ['-o', '*.txt', '--no-explain', '--vary', 'home'])
    expect(home.code).toBe(1)
    expect(causes(home.result)['h.txt']).toContain('environment')
    expect(causes(home.result)['t.txt']).toEqual(['build-path'])
  })

  it('names no variation untested: a clock read by a build that resets its files is run B’s later start, not the order', async () => {
    // The clock is not varied (--no-vary time) and the build sets its file's time, so the
    // file-time variation is judged to have had no effect; but run B still started later,
    // and the date it wrote differs. Ordering, the one variation left, used to be named
    // without a pair that varied it.
    const { code, result } = await buildMakefile(
      'out.txt:\n\tdate +%s > out.txt\n\ttouch -d @0 out.txt\n',
      ['--no-vary', 'time', '-o', 'out.txt'],
    )
    expect(code).toBe(1)
    // Run B's later start, or, when the two runs of a control pair straddle a second (a
    // loaded machine), a build that is rightly called unstable: never the order, which no
    // pair varied alone, nor the path, which a second control pair does not bear out.
    const culprits = result?.attribution?.culprits ?? []
    expect(culprits.map((c) => c.artifact)).toEqual(['out.txt'])
    expect(['file-times', 'unstable']).toContain(culprits[0]?.cause)
    // Every variation named has a pair that varied it.
    if (culprits[0]?.cause === 'file-times')
      expect(result?.attribution?.pairs?.some((p) => p.variations.includes('file-times'))).toBe(
        true,
      )
  })

  it('explains an artifact only one run made, without calling the pairs that made it in neither run failed', async () => {
    const { code, result } = await buildMakefile(
      'all:\n\tmkdir -p outdir/sub\n\tif [ "$$(umask)" = 0002 ]; then touch outdir/x; fi\n\ttouch y\n',
      ['--vary', 'umask', '-o', 'outdir', '-o', 'y'],
    )
    expect(code).toBe(1)
    expect(result?.attribution?.skipped).toBeUndefined()
    expect(result?.attribution?.culprits).toEqual([{ artifact: 'outdir/x', cause: 'umask' }])
  })

  it('follows an artifact named after a hash of the build path from pair to pair', async () => {
    // Each pair builds under a new root: the name is new each time, the difference not.
    const { code, result } = await buildMakefile(
      'all:\n\tmkdir -p out && echo data > "out/cache-$$(pwd | md5sum | cut -c1-8).bin"\n',
      ['-o', 'out'],
    )
    expect(code).toBe(1)
    const culprits = result?.attribution?.culprits ?? []
    expect(culprits.length).toBe(2)
    for (const c of culprits) expect(c.cause, c.artifact).toBe('path')
  })

  it('builds nothing more with --no-explain, and names what did not fit in --timeout', async () => {
    const off = await build(project(), ['--no-explain'])
    expect(off.code).toBe(1)
    expect(off.result.attribution).toBeNull()
    // A pair takes at least 2.5 s (run B starts that much later): within a 5 s timeout
    // at most two further pairs fit, fewer than the five the search needs here.
    const tight = await build(project(), ['--timeout', '5s'])
    expect(tight.code).toBe(1)
    expect(tight.result.attribution?.pairs?.length).toBeLessThanOrEqual(2)
    expect(tight.result.attribution?.culprits?.some((c) => c.cause === 'unknown')).toBe(true)
  })
})
