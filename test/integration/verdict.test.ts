import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { BuildResult } from '../../src/twin/run-build.js'
import { describeVariations } from '../../src/cli/views/build.js'
import {
  BIN,
  cleanupTemp,
  listDir,
  makeTemp,
  makeTempParent,
  runCli,
  spawnProgram,
} from '../helpers.js'
import { execFileSync } from 'node:child_process'

afterEach(cleanupTemp)

/** A project holding the given files, as a user's checkout would. */
function project(files: Record<string, string>): string {
  const dir = path.join(makeTemp(), 'project')
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
    fs.writeFileSync(path.join(dir, name), text)
  }
  return dir
}

async function build(source: string, args: string[]) {
  const parent = makeTempParent()
  const outDir = makeTemp()
  // prettier-ignore
  const run = await runCli([
    'build', '-C', source, '--temp-dir', parent, '--out-dir', outDir, '--epoch', '1700000000',
    // The pairs that explain a difference are tested in build-explain.test.ts.
    '--json', '--no-explain', ...args,
  ])
  expect(listDir(parent)).toEqual([])
  const result = run.stdout === '' ? undefined : (JSON.parse(run.stdout) as BuildResult)
  return { ...run, result, outDir }
}

// Where distributions install libfaketime's preload library; hiding them is what a
// machine without libfaketime looks like to the `faketime` wrapper.
const FAKETIME_LIBRARIES = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib64/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
  '/usr/local/lib/faketime/libfaketime.so.1',
]
const hasFaketime = FAKETIME_LIBRARIES.some((l) => fs.existsSync(l))

// A wheel whose entries carry the time the build ran, as a build that ignores
// SOURCE_DATE_EPOCH writes them.
const WHEEL_SCRIPT = `import time, zipfile
with zipfile.ZipFile('dist/tiny-1.0-py3-none-any.whl', 'w') as z:
    for name, data in [('tiny/__init__.py', b'X = 1\\n'), ('tiny-1.0.dist-info/METADATA', b'Metadata-Version: 2.1\\nName: tiny\\nVersion: 1.0\\n')]:
        z.writestr(zipfile.ZipInfo(name, time.localtime()[:6]), data)
`

describe.each<{
  kind: string
  files: Record<string, string>
  out: string
  command: string
  check: (file: string) => string
  expected: string
}>([
  {
    kind: 'a jar (javac + jar)',
    files: {
      'Hello.java':
        'public class Hello { public static void main(String[] a) { System.out.println("hi"); } }\n',
    },
    out: 'app.jar',
    command: 'javac -d classes Hello.java && jar cf app.jar -C classes .',
    check: (file: string) => execFileSync('java', ['-cp', file, 'Hello'], { encoding: 'utf8' }),
    expected: 'hi\n',
  },
  {
    kind: 'a wheel (python3 zipfile)',
    files: { 'mkwheel.py': WHEEL_SCRIPT },
    out: 'dist/tiny-1.0-py3-none-any.whl',
    command: 'mkdir -p dist && python3 mkwheel.py',
    check: (file: string) =>
      execFileSync(
        'python3',
        ['-c', 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).testzip())', file],
        { encoding: 'utf8' },
      ),
    expected: 'None\n',
  },
])('$kind whose entries carry build times', ({ files, out, command, check, expected }) => {
  it.runIf(hasFaketime)(
    'is not reproducible as the build wrote it (exit 1), and would match after normalize',
    async () => {
      const { code, result, outDir } = await build(project(files), [
        '-o',
        out,
        '--',
        'sh',
        '-c',
        command,
      ])
      expect(code).toBe(1)
      expect(result?.verdict).toBe('not-reproducible')
      expect(result?.wouldMatchAfterNormalization).toEqual([out])
      expect(listDir(outDir)).toEqual([])
    },
  )

  it.runIf(hasFaketime)(
    'with --normalize, is reproducible after normalization and ships a working archive',
    async () => {
      const { code, result, outDir } = await build(project(files), [
        '-o',
        out,
        '--normalize',
        '--',
        'sh',
        '-c',
        command,
      ])
      expect(code).toBe(0)
      expect(result?.verdict).toBe('reproducible-after-normalization')
      const shipped = path.join(outDir, out)
      expect(check(shipped)).toBe(expected)
    },
  )
})

describe('--normalize', () => {
  it('warns when the runs set a setuid bit apart in an archive, which normalizing removes from both', async () => {
    const script =
      'mkdir -p out gen && echo hi > gen/tool && chmod 755 gen/tool && case "$PWD" in *canary*) chmod u+s gen/tool;; esac && tar --owner=0 --group=0 --numeric-owner -cf out/gen.tar gen'
    const { code, result } = await build(project({ 'build.sh': script }), [
      '-o',
      'out/gen.tar',
      '--normalize',
      '--',
      'sh',
      'build.sh',
    ])
    expect(code).toBe(0)
    expect(result?.verdict).toBe('reproducible-after-normalization')
    expect(result?.warnings).toContainEqual(
      expect.stringMatching(
        /^out\/gen\.tar: normalizing run A's copy: no setuid, setgid or sticky bits removed; run B's: 1 setuid, setgid or sticky bits removed \(the stable modes have none\): gen\/tool \(4755\) \[members [0-9a-f]{16}\]: the build sets them unreliably, and what ships has none$/,
      ),
    )
  })

  it('signs every normalized artifact with both runs’ raw and normalized digests and changes', async () => {
    // Only run B's copy needs a change: its normalization was left out of the provenance.
    const script =
      'mkdir -p out gen && echo hi > gen/tool && chmod 755 gen/tool && case "$PWD" in *canary*) chmod u+s gen/tool;; esac && tar --mtime=@1700000000 --owner=0 --group=0 --numeric-owner --sort=name -cf out/gen.tar gen'
    const record = path.join(makeTemp(), 'record.json')
    const { code, result } = await build(project({ 'build.sh': script }), [
      '-o',
      'out/gen.tar',
      '--normalize',
      '--record',
      record,
      '--',
      'sh',
      'build.sh',
    ])
    expect(code).toBe(0)
    expect(result?.verdict).toBe('reproducible-after-normalization')
    const keys = makeTemp()
    await runCli(['keygen', '--out', path.join(keys, 'k')])
    const statement = path.join(keys, 'statement.json')
    // prettier-ignore
    const attested = await runCli([
      'attest', '--record', record, '--bundle', path.join(keys, 'b.json'), '--key',
      path.join(keys, 'k.key'), '--builder-id', 'https://ci.example.com/test', '--statement', statement,
    ])
    expect(attested.code, attested.stderr).toBe(0)
    const { predicate } = JSON.parse(fs.readFileSync(statement, 'utf8')) as {
      predicate: {
        buildDefinition: {
          internalParameters: {
            normalization: {
              artifacts: {
                name: string
                raw: [string, string]
                normalized: [string, string]
                changes: [string[], string[]]
              }[]
            }
          }
        }
      }
    }
    const [gen] = predicate.buildDefinition.internalParameters.normalization.artifacts
    expect(gen?.name).toBe('out/gen.tar')
    expect(gen?.raw[0]).not.toBe(gen?.raw[1])
    expect(gen?.normalized[0]).toBe(gen?.normalized[1])
    expect(gen?.changes[0].join('\n')).not.toMatch(/4755/)
    expect(gen?.changes[1]).toContainEqual(expect.stringMatching(/gen\/tool \(4755\)/))
    // The warning that the runs set it apart is kept with the evidence, and signed.
    const unreliably: unknown = expect.stringMatching(
      /^out\/gen\.tar: .*the build sets them unreliably/,
    )
    const kept = JSON.parse(fs.readFileSync(record, 'utf8')) as {
      normalization: { warnings: string[] }
    }
    expect(kept.normalization.warnings).toContainEqual(unreliably)
    expect(
      (
        predicate.buildDefinition.internalParameters.normalization as unknown as {
          warnings: string[]
        }
      ).warnings,
    ).toContainEqual(unreliably)
  })

  it('says when the source tree’s own configuration, not the flag, asked for normalization', async () => {
    const script =
      'mkdir -p out && printf x > out/f && tar --mtime=@$(date +%s) -cf out/gen.tar -C out f'
    const dir = project({ 'build.sh': script, 'reproof.config.json': '{"normalize": true}' })
    const record = path.join(makeTemp(), 'record.json')
    const run = await runCli([
      'build',
      '-C',
      dir,
      '--temp-dir',
      makeTempParent(),
      '--epoch',
      '1700000000',
      '--no-explain',
      '-o',
      'out/gen.tar',
      '--record',
      record,
      '--',
      'sh',
      'build.sh',
    ])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('normalize, asked by the source tree’s reproof.config.json')
    expect(run.stdout).not.toContain('(--normalize)')
    const kept = JSON.parse(fs.readFileSync(record, 'utf8')) as { normalization: { by: string } }
    expect(kept.normalization.by).toBe('reproof.config.json')
    const flagged = await build(project({ 'build.sh': script }), [
      '-o',
      'out/gen.tar',
      '--normalize',
      '--',
      'sh',
      'build.sh',
    ])
    expect(flagged.result?.normalization?.by).toBe('--normalize')
  })

  it('warns when the runs set a setuid bit on other members, in a tar and in a zip', async () => {
    // As many bits in each run, on other files: the count alone said nothing.
    const mark = 'case "$PWD" in *canary*) chmod u+s gen/b;; *) chmod u+s gen/a;; esac'
    for (const [out, pack] of [
      ['out/gen.tar', 'tar --owner=0 --group=0 --numeric-owner -cf out/gen.tar gen'],
      ['out/gen.zip', 'zip -q -X -r out/gen.zip gen'],
      // Inside a zip inside the artifact (a fat jar's library).
      ['out/gen.zip', 'zip -q -X -r inner.jar gen && zip -q -X -0 out/gen.zip inner.jar'],
    ] as const) {
      const script = `mkdir -p out gen && echo a > gen/a && echo b > gen/b && chmod 755 gen/a gen/b && ${mark} && ${pack}`
      const { code, result } = await build(project({ 'build.sh': script }), [
        '-o',
        out,
        '--normalize',
        '--',
        'sh',
        'build.sh',
      ])
      expect(code, out).toBe(0)
      expect(result?.verdict).toBe('reproducible-after-normalization')
      expect(result?.warnings, out).toContainEqual(
        expect.stringMatching(/gen\/a \(4755\).*gen\/b \(4755\).*the build sets them unreliably/),
      )
    }
  })

  it('never hides an exec bit set in one run only, in an archive or in a file of no format', async () => {
    // Run B's build root holds the path variation's canary; only there is the bit set.
    const script =
      'mkdir -p out gen && echo hello > out/tool && echo hi > gen/a && tar cf out/gen.tar gen && case "$PWD" in *canary*) chmod 755 out/tool out/gen.tar;; esac'
    for (const out of ['out/tool', 'out/gen.tar']) {
      for (const normalize of [[], ['--normalize']]) {
        const { code, result } = await build(project({ 'build.sh': script }), [
          '-o',
          out,
          ...normalize,
          '--',
          'sh',
          'build.sh',
        ])
        expect(code, `${out} ${normalize.join(' ')}`).toBe(1)
        expect(result?.verdict).toBe('not-reproducible')
        expect(result?.differences.map((d) => d.name)).toEqual([out])
      }
    }
  })
})

/**
 * Runs the real executable where libfaketime is not installed: a mount namespace
 * hides its library, as on a machine that never had it.
 */
function runWithoutFaketime(args: string[]) {
  const hide = FAKETIME_LIBRARIES.map((l) => path.dirname(l))
    .filter((d) => fs.existsSync(d))
    .map((d) => `mount -t tmpfs tmpfs '${d}' && `)
    .join('')
  // prettier-ignore
  return spawnProgram([
    'unshare', '--user', '--map-root-user', '--mount', 'sh', '-c', `${hide}exec "$@"`,
    'no-faketime', process.execPath, BIN, ...args,
  ])
}

describe('the times of the files a build writes', () => {
  // A build.sh that writes out/x.tar, the clock left alone: only the file times vary.
  const tarOnly = ['-o', 'out/x.tar', '--no-vary', 'time', '--', 'sh', 'build.sh']

  it('refuse --vary file-times when no file both runs wrote got another time (exit 3)', async () => {
    // Run A (the one without the canary in its path) falls behind by as much as run B
    // starts later: both write their files at the same moment.
    const script =
      'case "$PWD" in *canary*) ;; *) sleep 2.6;; esac; mkdir -p out && echo hi > gen.txt && tar cf out/x.tar gen.txt'
    const files = { 'build.sh': script }
    const explicit = await build(project(files), ['--vary', 'file-times', ...tarOnly])
    expect(explicit.code, explicit.stderr).toBe(3)
    expect(explicit.stderr).toContain('--vary file-times: cannot take effect here')
    // Not asked for by name: the verdict names it as of no effect.
    const byDefault = await build(project(files), tarOnly)
    const fileTimes = byDefault.result?.variations.find((v) => v.name === 'file-times')
    expect(fileTimes?.status).toBe('no-effect')
  })

  it('are not claimed varied where run B caught up, though the files left to compare drifted', async () => {
    // Both write a file at once at the start (2.5 s apart: drifted); then run A (without
    // the canary in its path) falls 3 s behind, and both pack what they write last into a
    // tar whose own time is set, deleting the rest: nothing left shows the catch-up.
    const script = [
      'echo start > early.txt',
      'case "$PWD" in *canary*) ;; *) sleep 3;; esac',
      'mkdir -p out gen && echo hi > gen/late.txt',
      'tar --owner=0 --group=0 --numeric-owner -cf out/x.tar -C gen late.txt',
      'touch -d @1700000000 out/x.tar && rm -r gen',
    ].join('\n')
    const { result } = await build(project({ 'build.sh': script }), tarOnly)
    const fileTimes = result?.variations.find((v) => v.name === 'file-times')
    expect(fileTimes?.status).toBe('no-effect')
    expect(fileTimes?.note).toMatch(/file times not varied for what both runs wrote last/)
  })

  it('reach a tar of them: the runs start apart, whatever libfaketime does (exit 1)', async () => {
    const script = 'mkdir -p out gen && echo hello > gen/a.txt && tar cf out/gen.tar gen'
    const { code, result } = await build(project({ 'build.sh': script }), [
      '-o',
      'out/gen.tar',
      '--',
      'sh',
      'build.sh',
    ])
    expect(code).toBe(1)
    expect(result?.wouldMatchAfterNormalization).toEqual(['out/gen.tar'])
  })

  it('are not varied with --no-vary file-times, which the verdict names; the clock still is', async () => {
    const script = 'mkdir -p out gen && echo hello > gen/a.txt && tar cf out/gen.tar gen'
    const { code, result } = await build(project({ 'build.sh': script }), [
      '-o',
      'out/gen.tar',
      '--no-vary',
      'file-times',
      '--',
      'sh',
      'build.sh',
    ])
    const names = result?.variations.map((v) => v.name)
    expect(names).not.toContain('file-times')
    expect(names).toContain('time')
    expect(result === undefined ? '' : describeVariations(result.variations)).toMatch(
      /not asked for: [^:]*\bfile-times\b/,
    )
    // The runs start together: the tar's times match or differ by where a second ends.
    expect([0, 1]).toContain(code)
  })

  it('reach a zip of them, whose times have two-second resolution, every time (exit 1)', async () => {
    // zipfile.write takes each entry's time from the file: a DOS time, two seconds a step.
    const script = `import os, zipfile
os.makedirs('gen', exist_ok=True); os.makedirs('out', exist_ok=True)
for n in 'ab':
    open(f'gen/{n}', 'w').write(n)
with zipfile.ZipFile('out/gen.zip', 'w') as z:
    for n in 'ab':
        z.write(f'gen/{n}')
`
    for (let i = 0; i < 3; i++) {
      const { code } = await build(project({ 'build.py': script }), [
        '-o',
        'out/gen.zip',
        '--',
        'python3',
        'build.py',
      ])
      expect(code, `round ${i}`).toBe(1)
    }
  })

  it('are said not to have been varied where run A fell behind run B', async () => {
    // Run A (the one without the canary in its path), held back (a cold cache), writes
    // its file as late as run B: the tar of it matches, and the file-times variation
    // must not claim it.
    const script =
      'mkdir -p out; case "$PWD" in *canary*) ;; *) sleep 3.5;; esac; echo hello > gen.txt; tar cf out/gen.tar gen.txt'
    const { code, result } = await build(project({ 'build.sh': script }), [
      '-o',
      'out/gen.tar',
      '--',
      'sh',
      'build.sh',
    ])
    const fileTimes = result?.variations.find((v) => v.name === 'file-times')
    expect(fileTimes?.note).toMatch(
      /file times not varied for 2 of the 2 file\(s\) both runs wrote \(gen\.txt, out\/gen\.tar\): written less than 2 s apart/,
    )
    // Whether the tars match then depends on where the second boundaries fall.
    expect([0, 1]).toContain(code)
  })

  it.each([
    ['$TMPDIR', '$TMPDIR/stage', [], '\\$TMPDIR/stage/f'],
    // Above the root, in the run's own workspace: writable there, as the root is.
    ['the directory above the root', '../stage', [], '\\.\\./stage/f'],
    ['two directories above the root', '../../stage', [], '\\.\\./\\.\\./stage/f'],
    // Run B's workspace, which for run A lies above its own (in the sandbox, private).
    ['three directories above the root', '../../../stage', [], '(\\.\\./){3}stage/f'],
    // Run B's HOME as the home variation gives it, which the build may make.
    ['the varied $HOME', '$HOME/stage', ['--vary', 'home'], '\\$HOME/stage/f'],
  ])(
    'look in %s too, where a build stages the tree it archives',
    async (_, stage, extra, shown) => {
      // Run A is slow before it stages, run B after: the archives are written seconds
      // apart, the staged file they hold at nearly the same time.
      const script = [
        'case "$PWD" in *canary*) ;; *) sleep 2.5;; esac',
        `mkdir -p "${stage}" && echo hi > "${stage}/f"`,
        'case "$PWD" in *canary*) sleep 3;; esac',
        `mkdir -p out && tar -C "${stage}" -cf out/x.tar f`,
      ].join('\n')
      const { result } = await build(project({ 'build.sh': script }), [
        '-o',
        'out/x.tar',
        ...extra,
        '--',
        'sh',
        'build.sh',
      ])
      const fileTimes = result?.variations.find((v) => v.name === 'file-times')
      expect(fileTimes?.note).toMatch(
        new RegExp(
          `file times not varied for 1 of the \\d+ file\\(s\\) both runs wrote \\(${shown}\\)`,
        ),
      )
      // The archive took that file's time: the verdict's line says file-times did not reach it.
      expect(fileTimes?.reach).toMatch(
        new RegExp(
          `^not 1 of the \\d+ file\\(s\\) both runs wrote, written less than 2 s apart \\(${shown}\\)$`,
        ),
      )
    },
  )
})

describe('the date a build writes', () => {
  const files = { Makefile: 'out/day.txt:\n\tmkdir -p out && date +%F > out/day.txt\n' }

  it.runIf(hasFaketime)('is caught by the time variation (exit 1)', async () => {
    const { code, result } = await build(project(files), ['-o', 'out/day.txt', '--', 'make'])
    expect(result?.variations.find((v) => v.name === 'time')?.status).toBe('effective')
    expect(code).toBe(1)
  })

  it('without libfaketime, is not claimed to have been varied, and --vary time is exit 3', async () => {
    const source = project(files)
    const parent = makeTempParent()
    const base = ['build', '-C', source, '--temp-dir', parent, '--out-dir', makeTemp()]
    const defaults = await runWithoutFaketime([...base, '-o', 'out/day.txt', '--', 'make'])
    // The date was never varied, so the yes is only about what was.
    expect(defaults.code).toBe(0)
    // (A source of one file has no order to vary either, and ordering is not claimed.)
    expect(defaults.stdout).toMatch(
      /^reproducible under path, file-times: .*\n {2}file-times: .*\n {4}the source's change and birth times .*\n {4}whether run B kept its lead is checked on the files both runs left.*\n {2}not varied: time \(libfaketime is not installed, so the clock was not varied\)\n {2}not varied: ordering \(no effect here: no directory of the source holds two entries or more/m,
    )
    const json = await runWithoutFaketime([...base, '--json', '-o', 'out/day.txt', '--', 'make'])
    const time = (JSON.parse(json.stdout) as BuildResult).variations.find((v) => v.name === 'time')
    expect(time?.status).toBe('not-applied')
    const asked = await runWithoutFaketime([
      ...base,
      '-o',
      'out/day.txt',
      '--vary',
      'time',
      '--',
      'make',
    ])
    expect(asked.code).toBe(3)
    expect(asked.stderr).toMatch(
      /--vary time: cannot take effect here: time: libfaketime is not installed/,
    )
    expect(asked.stderr).toMatch(/apt-get install faketime/)
    // All but time is not a contradiction. (The time zone is left out too: UTC+14 is
    // already tomorrow from 10:00 UTC on, and the date would rightly differ.)
    const allButTime = await runWithoutFaketime([
      ...base,
      '-o',
      'out/day.txt',
      '--vary',
      'all',
      '--no-vary',
      'time,tz',
      '--',
      'make',
    ])
    expect(allButTime.code).toBe(0)
    expect(listDir(parent)).toEqual([])
  })
})

describe('libfaketime outside the sandbox', () => {
  // libfaketime names its shared memory by its creator's PID and creates it exclusively:
  // left behind by a process that is gone, it made the faketime wrapper of the next
  // process with that PID stop ("shm_open: File exists"), and the build fail, where PIDs
  // wrap at 32768. Such leftovers are planted ahead of the PIDs the next processes take.
  it.runIf(hasFaketime)('is not stopped by the shared memory a gone process left', async () => {
    const pidMax = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8'))
    const next = Number(execFileSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }))
    const planted: string[] = []
    try {
      for (let i = 1; i <= 3000; i++) {
        const pid = ((next + i) % pidMax) + (next + i >= pidMax ? 300 : 0)
        const file = `/dev/shm/faketime_shm_${pid}`
        if (fs.existsSync(`/proc/${pid}`) || fs.existsSync(file)) continue
        fs.writeFileSync(file, '')
        planted.push(file)
      }
      const source = project({ Makefile: 'out.txt:\n\techo same > out.txt\n' })
      const { code, stderr, result } = await build(source, [
        '-o',
        'out.txt',
        '--no-sandbox',
        '--vary',
        'time',
        '--',
        'make',
      ])
      expect(code, stderr).toBe(0)
      expect(result?.variations.find((v) => v.name === 'time')?.status).toBe('effective')
    } finally {
      for (const file of planted) fs.rmSync(file, { force: true })
    }
  })
})
