import { spawn } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { REPO, cleanupTemp, copyFixture, makeTemp, runCli } from '../helpers.js'
import { ISSUER, SUBJECT, runnerEnv, startServices, type Services } from '../sigstore-services.js'

// A summary's text with the escapes that keep autolinks out (`app\.txt`, `sandbox\:`)
// read as Markdown reads them.
const asShown = (markdown: string): string => markdown.replace(/\\([.:@])/g, '$1')

afterEach(cleanupTemp)

const ACTION = path.join(REPO, '.github', 'action', 'index.mjs')

interface ActionRun {
  code: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
}

/** The inputs of a signed build of the example project; `signer` says with what. */
function signedBuild(signer: Record<string, string>): Record<string, string> {
  return {
    mode: 'build',
    source: 'src',
    command: 'sh build.sh',
    outputs: 'out/app.txt',
    ...signer,
    bundle: 'app.sigstore.json',
    'builder-id': 'https://ci.example.com',
  }
}

/** signedBuild, keyless through the loopback Fulcio and Rekor (the runner's token: runnerEnv). */
function keylessSigned(): Record<string, string> {
  // No builder id: keyless, the builder is the workflow the certificate names.
  const inputs = signedBuild({
    keyless: 'true',
    'fulcio-url': services.base,
    'rekor-url': services.base,
  })
  delete inputs['builder-id']
  return inputs
}

/**
 * What the runner sets for a step that gives no inputs: every input action.yml declares,
 * to its default or to '' (github.token stands in for the job's token).
 */
function runnerDefaults(): Record<string, string> {
  const yml = fs.readFileSync(path.join(REPO, 'action.yml'), 'utf8')
  const inputs = yml.slice(yml.indexOf('\ninputs:\n'), yml.indexOf('\noutputs:\n'))
  const defaults: Record<string, string> = {}
  for (const [, name = '', body = ''] of inputs.matchAll(/^ {2}([a-z-]+):\n((?: {4}.*\n)*)/gm)) {
    const given = /^ {4}default: (.*)$/m.exec(body)?.[1] ?? ''
    defaults[name] =
      given === '${{ github.token }}' ? 'ghs_the-jobs-token' : given.replace(/^'(.*)'$/, '$1')
  }
  return defaults
}

/** Runs the action's entry the way the runner does: inputs in INPUT_*, outputs to files. */
function runAction(
  inputs: Record<string, string>,
  cwd: string,
  extraEnv: Record<string, string> = {},
  /** When it settles, the runner cancels the step (SIGINT, as Ctrl-C and a cancelled job send). */
  interrupt?: Promise<unknown>,
  /** The signals sent then, a few milliseconds apart. */
  signals: NodeJS.Signals[] = ['SIGINT'],
  /** A program that starts the entry (`bash -c 'exec "$@" 20<>file'`), as a runner might. */
  launcher: string[] = [],
): Promise<ActionRun> {
  const outputFile = path.join(cwd, 'github-output')
  const summaryFile = path.join(cwd, 'github-summary')
  fs.writeFileSync(outputFile, '')
  fs.writeFileSync(summaryFile, '')
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_WORKSPACE: cwd,
    ...extraEnv,
  }
  for (const [name, value] of Object.entries({ ...runnerDefaults(), ...inputs })) {
    env[`INPUT_${name.toUpperCase()}`] = value
  }
  return new Promise((resolve) => {
    const argv = [...launcher, process.execPath, ACTION]
    const child = spawn(argv[0] ?? process.execPath, argv.slice(1), {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    void interrupt?.then(async () => {
      for (const signal of signals) {
        child.kill(signal)
        await new Promise((r) => setTimeout(r, 5))
      }
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (code) => {
      resolve({
        code: code ?? -1,
        stdout,
        stderr,
        outputs: parseOutputs(fs.readFileSync(outputFile, 'utf8')),
        summary: fs.readFileSync(summaryFile, 'utf8'),
      })
    })
  })
}

/** The runner's GITHUB_OUTPUT format: `name<<delimiter`, value lines, delimiter. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^([\w-]+)<<(.+)$/.exec(lines[i] ?? '')
    if (m === null) continue
    const end = lines.indexOf(m[2] ?? '', i + 1)
    expect(end, `unterminated output ${m[1]}`).toBeGreaterThan(i)
    outputs[m[1] ?? ''] = lines.slice(i + 1, end).join('\n')
    i = end
  }
  return outputs
}

let keyDir: string
let services: Services

beforeAll(async () => {
  keyDir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'reproof-action-'))
  expect((await runCli(['keygen', '--out', path.join(keyDir, 'k')])).code).toBe(0)
  expect((await runCli(['keygen', '--out', path.join(keyDir, 'other')])).code).toBe(0)
  services = await startServices()
  return async () => {
    fs.rmSync(keyDir, { recursive: true, force: true })
    await services.close()
  }
})

function project(script: string): string {
  const dir = makeTemp()
  fs.mkdirSync(path.join(dir, 'src'))
  fs.writeFileSync(path.join(dir, 'src', 'build.sh'), script)
  return dir
}

describe('the GitHub Action', () => {
  /** A build of src/'s build.sh, its one artifact out/app.txt, at a fixed epoch. */
  const plainBuild = {
    mode: 'build',
    source: 'src',
    command: 'sh build.sh',
    outputs: 'out/app.txt',
    epoch: '1700000000',
  }

  it("refuses a source tree's config that turns off a variation the workflow does not", async () => {
    // A pull request's own config turned the time variation off, and a build that wrote
    // the time passed: the workflow decides what a build is checked under.
    const dir = project('mkdir -p out && date +%s%N > out/app.txt\n')
    fs.writeFileSync(
      path.join(dir, 'src', 'reproof.config.json'),
      JSON.stringify({ noVary: ['time', 'file-times'] }),
    )
    const inputs = plainBuild
    const refused = await runAction(inputs, dir)
    expect(refused.code, refused.stdout).toBe(2)
    expect(refused.stdout).toMatch(
      /reproof\.config\.json "noVary" turns off time, file-times, which the workflow does not/,
    )
    expect(refused.outputs.reproducible).toBeUndefined()
    // Accepted by the workflow (no-vary), or overruled by it (vary): the build runs.
    const accepting: Record<string, string>[] = [
      { 'no-vary': 'time\nfile-times' },
      { vary: 'time', 'no-vary': 'file-times' },
    ]
    for (const extra of accepting) {
      const run = await runAction({ ...inputs, ...extra }, dir)
      expect(run.code, run.stdout).toBe(1)
      expect(run.outputs.reproducible).toBe('false')
      expect(run.outputs.digests).toBeUndefined()
    }
  })

  it("refuses a source tree's config that sets a variable a variation the workflow runs would keep", async () => {
    // `"env": ["USER=bob"]` kept `vary: user` from reaching USER: a build writing $USER passed.
    const dir = project('mkdir -p out && echo "$USER $LOGNAME $TZ" > out/app.txt\n')
    const inputs = plainBuild
    const config = path.join(dir, 'src', 'reproof.config.json')
    for (const env of [['USER=bob', 'LOGNAME=bob'], ['LOGNAME=bob']]) {
      fs.writeFileSync(config, JSON.stringify({ env }))
      const refused = await runAction({ ...inputs, vary: 'user' }, dir)
      expect(refused.code, refused.stdout).toBe(2)
      expect(refused.stdout).toContain('which the user variation the workflow runs would vary')
      expect(refused.outputs.reproducible).toBeUndefined()
    }
    // A shell's $HOSTNAME, and an OpenMP count of one (nproc printed 1 in both runs, and
    // the cpus variation was "no effect here", as if the machine had made it so).
    for (const [env, vary, variation] of [
      [['HOSTNAME=reproof'], 'hostname', 'hostname'],
      [['OMP_NUM_THREADS=1'], 'all', 'cpus'],
      [['OMP_THREAD_LIMIT= 01,4'], 'cpus', 'cpus'],
    ] as const) {
      fs.writeFileSync(config, JSON.stringify({ env }))
      const refused = await runAction({ ...inputs, vary }, dir)
      expect(refused.code, refused.stdout).toBe(2)
      expect(refused.stdout).toContain(`which the ${variation} variation the workflow runs`)
      expect(refused.outputs.reproducible).toBeUndefined()
    }
    // A count run B's 1 differs from is varied: the tree may set it.
    fs.writeFileSync(config, JSON.stringify({ env: ['OMP_NUM_THREADS=4'] }))
    expect((await runAction({ ...inputs, vary: 'cpus' }, dir)).code).not.toBe(2)
    // Not varied by the workflow: the tree may set it.
    fs.writeFileSync(config, JSON.stringify({ env: ['USER=bob', 'LOGNAME=bob'] }))
    expect((await runAction(inputs, dir)).code).toBe(0)
    // A zone the tree pins is still varied in run B: accepted, and the build caught.
    fs.writeFileSync(config, JSON.stringify({ env: ['TZ=UTC'] }))
    const varied = await runAction({ ...inputs, vary: 'tz' }, dir)
    expect(varied.code, varied.stdout).toBe(1)
    expect(varied.outputs.reproducible).toBe('false')
  })

  it('builds twice, signs, sets outputs and a job summary; verify and gate accept the result', async () => {
    const dir = project('echo compiling app; mkdir -p out && echo "release 1" > out/app.txt\n')
    const build = await runAction(
      {
        ...signedBuild({ key: path.join(keyDir, 'k.key') }),
        epoch: '1700000000',
        'out-dir': 'dist',
      },
      dir,
    )
    expect(build.code, build.stdout).toBe(0)
    expect(build.outputs.reproducible).toBe('true')
    const digests = JSON.parse(build.outputs.digests ?? '{}') as Record<string, string>
    expect(Object.values(digests)[0]).toMatch(/^[0-9a-f]{64}$/)
    expect(build.outputs['bundle-path']).toBe('app.sigstore.json')
    expect(build.summary).toContain('reproof build: reproducible')
    // The log: the command, then each stage in a group, both runs' output inside theirs,
    // and the verdict as a notice that names what was and was not varied.
    expect(build.stdout).toMatch(/^::group::reproof build: the command\nreproof build --json /m)
    expect(build.stdout).toMatch(
      /^::group::reproof build: the two runs \(their output as A\| and B\|\)$/m,
    )
    expect(build.stdout).toMatch(/^A\| compiling app$/m)
    expect(build.stdout).toMatch(/^B\| compiling app$/m)
    expect(build.stdout).toMatch(
      /^::notice title=reproof build::reproducible under .*not asked for: .*; (sandbox: namespaces, no network|no sandbox \(.*\): process isolation only)/m,
    )
    // How the runs were kept apart is in the summary too, not only on the CLI.
    expect(asShown(build.summary)).toMatch(/sandbox: namespaces, no network|no sandbox/)
    expect(build.stdout.match(/^::group::/gm)?.length).toBe(
      build.stdout.match(/^::endgroup::/gm)?.length,
    )
    expect(build.outputs['report-path']).toMatch(/reproof-report-.*\.html$/)
    // In the Action's own terms, as its annotations are.
    expect(build.summary).toContain('input vary all')
    expect(build.summary).not.toContain('--vary')
    const artifact = path.join(dir, 'dist', Object.keys(digests)[0] ?? '')
    expect(fs.existsSync(artifact)).toBe(true)

    const verify = await runAction(
      {
        mode: 'verify',
        artifacts: artifact,
        bundle: 'app.sigstore.json',
        'public-key': path.join(keyDir, 'k.pub'),
      },
      dir,
    )
    expect(verify.code, verify.stdout).toBe(0)
    expect(verify.outputs.decision).toBe('verified')
    expect(verify.outputs['bundle-path']).toBe('app.sigstore.json')
    // A workflow's `builder_id:` is another input to the runner, which sets builder-id
    // to '' beside it: refused, not dropped (verify passed without the check before).
    const underscored = await runAction(
      {
        mode: 'verify',
        artifacts: artifact,
        bundle: 'app.sigstore.json',
        'public-key': path.join(keyDir, 'k.pub'),
        builder_id: 'https://wrong.example',
      },
      dir,
    )
    expect(underscored.code, underscored.stdout).toBe(2)
    expect(underscored.outputs.decision ?? '').not.toBe('verified')
    expect(underscored.stdout).toMatch(/input builder_id: this action's input is builder-id/)

    const wrongKey = await runAction(
      {
        mode: 'verify',
        artifacts: artifact,
        bundle: 'app.sigstore.json',
        'public-key': path.join(keyDir, 'other.pub'),
      },
      dir,
    )
    expect(wrongKey.code).toBe(1)
    expect(wrongKey.outputs.decision).toMatch(/^rejected: /)
    // A bundle verify rejected is not passed on as one checked.
    expect(wrongKey.outputs['bundle-path']).toBeUndefined()
    expect(wrongKey.stdout).toMatch(/^::error title=reproof verify::rejected \([a-z-]+\): /m)
    expect(wrongKey.summary).toMatch(/reproof verify: rejected/)
    // Why, as the CLI found it: the reason's code alone misled (`too-old` for a key
    // bundle, whose age cannot be told at all).
    const aged = await runAction(
      {
        mode: 'verify',
        artifacts: artifact,
        bundle: 'app.sigstore.json',
        'public-key': path.join(keyDir, 'k.pub'),
        'max-age': '1d',
      },
      dir,
    )
    expect(aged.code).toBe(1)
    expect(aged.stdout).toMatch(
      /^::error title=reproof verify::rejected \(too-old\): [^\n]*: found a bundle signed with a key[^\n]*its age cannot be told/m,
    )
    expect(aged.summary).toMatch(/- ❌ [^\n]*: found a bundle signed with a key/)
    // An artifact line is a path, never an option: `--help` verified nothing and passed,
    // and `--key=` added a key the workflow did not name.
    for (const line of ['--help', `--key=${path.join(keyDir, 'k.pub')}`]) {
      const smuggled = await runAction(
        {
          mode: 'verify',
          artifacts: `${artifact}\n${line}`,
          bundle: 'app.sigstore.json',
          'public-key': path.join(keyDir, 'other.pub'),
        },
        dir,
      )
      expect(smuggled.code, line).not.toBe(0)
      expect(smuggled.outputs.decision ?? '', line).not.toBe('verified')
    }
    // Nor a digest: a file named after the attested artifact's digest, holding other
    // bytes, is read and hashed, never taken for the digest it is named after.
    const named = `sha256:${Object.values(digests)[0] ?? ''}`
    fs.writeFileSync(path.join(dir, named), 'other bytes\n')
    const asDigest = await runAction(
      {
        mode: 'verify',
        artifacts: named,
        bundle: 'app.sigstore.json',
        'public-key': path.join(keyDir, 'k.pub'),
      },
      dir,
    )
    expect(asDigest.code, asDigest.stdout).toBe(1)
    expect(asDigest.outputs.decision).toMatch(/^rejected: subject-mismatch/)

    const deployInputs = {
      mode: 'gate',
      'gate-action': 'deploy',
      environment: 'production',
      ledger: 'ledger.jsonl',
      artifacts: artifact,
      bundle: 'app.sigstore.json',
      'public-key': path.join(keyDir, 'k.pub'),
      'state-dir': path.join(dir, 'state'),
    }
    const gate = await runAction(deployInputs, dir)
    expect(gate.code, gate.stdout).toBe(0)
    expect(gate.outputs.decision).toBeTruthy()
    expect(gate.summary).toContain('reproof gate (production)')
    // Which checks the release passed, as verify mode lists them.
    expect(gate.summary).toMatch(/\nVerification:\n\n- ✅ [a-z]/)
    expect(fs.readFileSync(path.join(dir, 'ledger.jsonl'), 'utf8')).toContain(
      Object.values(digests)[0],
    )
    // A torn last line the gate moved aside is in the summary, not only in the JSON.
    fs.appendFileSync(path.join(dir, 'ledger.jsonl'), '{"seq":2,"env":"production"')
    const again = await runAction(deployInputs, dir)
    expect([again.code, again.outputs.decision], again.stdout).toEqual([0, 'unchanged'])
    expect(again.summary).toMatch(/A torn last line of the ledger was moved to .*torn-/)
    expect(again.stdout + again.summary).not.toContain('no checkpoint')
    // A runner that kept nothing of the ledger says so, in the log and in the summary.
    const fresh = await runAction({ ...deployInputs, 'state-dir': path.join(dir, 'new') }, dir)
    expect([fresh.code, fresh.outputs.decision], fresh.stdout).toEqual([0, 'unchanged'])
    expect(fresh.stdout).toMatch(
      /^::warning title=reproof gate::this runner kept no checkpoint of the ledger: .*input state-dir/m,
    )
    expect(fresh.summary).toContain('**warning:** this runner kept no checkpoint of the ledger')
  })

  it('reports a build that is not reproducible with exit 1, outputs and the explanation', async () => {
    const dir = project('mkdir -p out && head -c 16 /dev/urandom | od -An -tx1 > out/app.txt\n')
    // A bundle left from an earlier run is not this run's: a no signs nothing.
    fs.writeFileSync(path.join(dir, 'app.sigstore.json'), '{}')
    const run = await runAction(signedBuild({ key: path.join(keyDir, 'k.key') }), dir)
    expect(run.code).toBe(1)
    expect(run.outputs.reproducible).toBe('false')
    expect(run.outputs.signed).toBe('false')
    expect(run.outputs['bundle-path']).toBeUndefined()
    expect(run.summary).toContain('NOT reproducible')
    expect(run.summary).toContain('app.txt')
    expect(run.stdout).toMatch(
      /^::error title=reproof build::NOT reproducible under .*: 1 of 1 artifact/m,
    )
    expect(fs.readFileSync(run.outputs['report-path'] ?? '', 'utf8')).toContain('app.txt')
  })

  it('hands the build no descriptor the runner left open', async () => {
    // Inherited by both runs, it let run A pass a value to run B, and write to the host.
    const chan = path.join(makeTemp(), 'chan')
    fs.writeFileSync(chan, '')
    const dir = project(
      'mkdir -p out && if [ -e /proc/self/fd/20 ]; then echo seen >> /proc/self/fd/20; fi; echo built > out/app.txt\n',
    )
    const run = await runAction(
      signedBuild({ key: path.join(keyDir, 'k.key') }),
      dir,
      {},
      undefined,
      ['SIGINT'],
      ['bash', '-c', 'exec "$@" 20<>"$0"', chan],
    )
    expect(run.code, run.stdout).toBe(0)
    expect(run.outputs.reproducible).toBe('true')
    expect(fs.readFileSync(chan, 'utf8')).toBe('')
  })

  it("takes normalization from the workflow's input, not from the source tree's config", async () => {
    // A tar whose member times differ between the runs: reproducible only once normalized.
    const dir = project('mkdir -p out && echo same > out/t && tar -cf out/app.tar -C out t\n')
    fs.writeFileSync(path.join(dir, 'src', 'reproof.config.json'), '{"normalize": true}\n')
    const inputs = { mode: 'build', source: 'src', command: 'sh build.sh', outputs: 'out/app.tar' }
    // The input's default, false, is the workflow's word: a pull request's own config
    // cannot turn a build that did not reproduce into a pass.
    const plain = await runAction(inputs, dir)
    expect(plain.code, plain.stdout).toBe(1)
    expect(plain.outputs.reproducible).toBe('false')
    const asked = await runAction({ ...inputs, normalize: 'true' }, dir)
    expect(asked.code, asked.stdout).toBe(0)
    expect(asked.outputs.reproducible).toBe('true')
    expect(asked.summary).toContain('## reproof build: reproducible after normalization')
  })

  it('says beside a yes what qualifies it: the build’s warnings, and what verify did not check', async () => {
    const dir = project('mkdir -p out && echo same > out/app.txt\n')
    // No epoch and no git checkout: the build warns that SOURCE_DATE_EPOCH defaults to 0.
    const build = await runAction(
      { ...signedBuild({ key: path.join(keyDir, 'k.key') }), 'out-dir': 'release' },
      dir,
    )
    expect(build.code, build.stdout).toBe(0)
    expect(build.outputs.reproducible).toBe('true')
    expect(build.stdout).toMatch(/^::warning title=reproof build::SOURCE_DATE_EPOCH/m)
    // Markdown's marks made plain in the summary (`\_`, `\(`).
    expect(build.summary).toMatch(/^> \*\*warning:\*\* SOURCE\\_DATE\\_EPOCH defaults to 0/m)
    expect(build.summary).toMatch(/^epoch 0 \\\(default\\\)$/m)
    // A transparency-log entry (another signer's, as a bundle may carry any) and no
    // trusted root to check it against: verified by the key, the entry said not checked.
    const bundlePath = path.join(dir, 'app.sigstore.json')
    const bundle = JSON.parse(fs.readFileSync(bundlePath, 'utf8')) as {
      verificationMaterial: { tlogEntries: unknown[] }
    }
    const logged = JSON.parse(
      fs.readFileSync(
        path.join(REPO, 'fixtures/real-sigstore/bundleV03-dsse.sigstore.json'),
        'utf8',
      ),
    ) as typeof bundle
    bundle.verificationMaterial.tlogEntries = logged.verificationMaterial.tlogEntries
    fs.writeFileSync(bundlePath, JSON.stringify(bundle))
    const verify = await runAction(
      {
        mode: 'verify',
        artifacts: 'release/out/app.txt',
        bundle: 'app.sigstore.json',
        'public-key': path.join(keyDir, 'k.pub'),
      },
      dir,
    )
    expect([verify.code, verify.outputs.decision], verify.stdout).toEqual([0, 'verified'])
    expect(verify.stdout).toMatch(
      /^::warning title=reproof verify::not checked: .*transparency-log/m,
    )
    expect(asShown(verify.summary)).toMatch(/> \*\*warning:\*\* not checked: /)
  })

  it('reports a build command that fails with exit 3 and an error annotation, not a crash', async () => {
    const dir = project('echo compiling; exit 7\n')
    const run = await runAction(
      { mode: 'build', source: 'src', command: 'sh build.sh', outputs: 'out/app.txt' },
      dir,
    )
    expect(run.code).toBe(3)
    expect(run.stdout).toMatch(/^::error title=reproof build::.*exit/m)
    expect(run.stdout).toMatch(/^A\| compiling$/m)
    expect(run.outputs).toEqual({})
    expect(run.summary).toContain('reproof build: the build or the environment failed (exit 3)')
  })

  it('rejects missing or malformed inputs with exit 2, one annotation and no outputs', async () => {
    const dir = makeTemp()
    const cases: Record<string, string>[] = [
      { mode: 'build', outputs: 'x' },
      { mode: 'build', command: 'true' },
      { mode: 'launch' },
      { mode: 'build', command: 'true', outputs: 'x', keyless: 'yes' },
      { mode: 'gate', 'gate-action': 'promote' },
    ]
    for (const inputs of cases) {
      const run = await runAction(inputs, dir)
      expect(run.code, JSON.stringify(inputs)).toBe(2)
      expect(run.stdout.trim().split('\n')).toHaveLength(1)
      expect(run.stdout).toMatch(/^::error title=reproof%3A bad input::input /)
      expect(run.outputs).toEqual({})
      expect(run.summary).toMatch(/^## reproof: bad input \(exit 2\)\n\ninput /)
    }
  })

  it("keeps the job summary under the runner's 1 MiB, pointing to the full report for the rest", async () => {
    // 400 files of 200 random lines each, different in each run (one process writes
    // them all: 800 of head and od took a minute on a loaded machine, with the pairs
    // that explain the difference).
    const dir = project(
      `mkdir -p out && python3 -c "import os\nfor i in range(400): open('out/f%d.txt' % i, 'w').write(''.join(os.urandom(32).hex(' ') + chr(10) for _ in range(200)))"\n`,
    )
    const run = await runAction(
      {
        mode: 'build',
        source: 'src',
        command: 'sh build.sh',
        outputs: 'out/*.txt',
        'no-vary': 'file-times',
      },
      dir,
    )
    expect(run.code).toBe(1)
    expect(Buffer.byteLength(run.summary)).toBeLessThan(1024 * 1024)
    expect(run.summary).toMatch(
      /_\d+ more differences in the report \(`.*reproof-report-.*\.html`, output `report-path`\)\._/,
    )
    expect(fs.statSync(run.outputs['report-path'] ?? '').size).toBeGreaterThan(1024 * 1024)
  })

  it('keeps the verdict and the summary under 1 MiB whatever a build warns of', async () => {
    // 5,000 FIFOs with long names: a warning names what it did not compare.
    const long = 'f'.repeat(200)
    const dir = project(
      `mkdir -p out && echo same > out/app.txt && cd out && python3 -c "import os\nfor i in range(5000): os.mkfifo('${long}%d' % i)"\n`,
    )
    const run = await runAction(
      { mode: 'build', source: 'src', command: 'sh build.sh', outputs: 'out' },
      dir,
    )
    expect(run.code, run.stdout.slice(0, 2000)).toBe(0)
    expect(Buffer.byteLength(run.summary)).toBeLessThan(64 * 1024 + 32 * 1024)
    expect(run.summary).toMatch(/^## reproof build: reproducible\n/)
    expect(asShown(run.summary)).toContain('app.txt')
    // Twenty names of 200 bytes, then a count: past 4 KiB the warning is cut, and says so.
    expect(run.summary).toContain('… \\(cut short\\)')
    // The log's annotation is bounded too.
    for (const line of run.stdout.split('\n')) expect(line.length).toBeLessThan(8 * 1024)
  })

  it('reads lists one per line and booleans as @actions/core does, and passes env, exclude, keep and sequential', async () => {
    const dir = project('mkdir -p out && echo "$GREETING" > out/a,b.txt && ls > out/listing.txt\n')
    fs.writeFileSync(path.join(dir, 'src', 'secret.env'), 'x')
    const run = await runAction(
      {
        mode: 'build',
        source: 'src',
        command: 'sh build.sh',
        outputs: 'out/*.{txt,md}',
        env: 'GREETING=hello from the step',
        exclude: 'secret.env',
        'no-vary': 'file-times\ntime',
        normalize: 'False',
        network: 'FALSE',
        sequential: 'True',
      },
      dir,
    )
    expect(run.code, run.stdout).toBe(0)
    expect(run.stdout).toMatch(/^reproof build --json .* --sequential /m)
    expect(Object.keys(JSON.parse(run.outputs.digests ?? '{}') as object).sort()).toEqual([
      'out/a,b.txt',
      'out/listing.txt',
    ])
    expect(fs.readFileSync(path.join(dir, 'src', 'out', 'a,b.txt'), 'utf8')).toBe(
      'hello from the step\n',
    )
    expect(fs.readFileSync(path.join(dir, 'src', 'out', 'listing.txt'), 'utf8')).not.toContain(
      'secret.env',
    )
    // Turned off, and said so on the verdict, in the Action's words.
    expect(run.stdout).toMatch(/turned off: time, file-times \(input no-vary\)/)
    expect(run.stdout).toMatch(/not asked for: (?!.*time).*\(input vary all\)/)
  })

  it("never signs a fork's change in a run that holds this repository's identity (pull_request_target, workflow_run, issue_comment)", async () => {
    const dir = project('mkdir -p out && echo same > out/app.txt\n')
    const event = (name: string, payload: unknown) => {
      const file = path.join(dir, `event-${name}.json`)
      fs.writeFileSync(file, JSON.stringify(payload))
      return { GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: name, GITHUB_EVENT_PATH: file }
    }
    const base = { full_name: 'owner/repo' }
    const fork = { full_name: 'someone/fork', fork: true }
    const target = (head: unknown) =>
      event('pull_request_target', { pull_request: { head: { repo: head }, base: { repo: base } } })
    const afterRun = (head: unknown, after = 'pull_request') =>
      event('workflow_run', {
        workflow_run: { event: after, head_repository: head, repository: base },
      })
    const comment = event('issue_comment', {
      issue: { pull_request: { url: 'https://api.github.com/repos/owner/repo/pulls/1' } },
    })
    for (const inputs of [
      signedBuild({ key: path.join(keyDir, 'k.key') }),
      signedBuild({ keyless: 'true' }),
    ]) {
      // After a pull_request_target or issue_comment run, the head is the base's whatever
      // code that run checked out.
      for (const env of [
        target(fork),
        afterRun(fork),
        afterRun(base, 'pull_request_target'),
        afterRun(base, 'issue_comment'),
        target(null),
        comment,
      ]) {
        const run = await runAction(inputs, dir, {
          ...env,
          ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:9/token',
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'x',
        })
        expect(run.code, run.stdout).toBe(0)
        expect(run.stdout).toMatch(
          /^::notice title=reproof build::(a (pull_request_target|workflow_run) run for a fork's change|an issue_comment run on a pull request \(a fork's, for all the event says\)) holds this repository's identity/m,
        )
        expect(run.outputs).toMatchObject({ reproducible: 'true', signed: 'false' })
        expect(run.outputs['bundle-path']).toBeUndefined()
        expect(fs.existsSync(path.join(dir, 'app.sigstore.json'))).toBe(false)
      }
    }
    // An event file that cannot be read under those names is taken for a fork's.
    const unread = await runAction(signedBuild({ key: path.join(keyDir, 'k.key') }), dir, {
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'pull_request_target',
      GITHUB_EVENT_PATH: path.join(dir, 'missing.json'),
    })
    expect(unread.outputs.signed).toBe('false')
    // A comment on an issue, not a pull request: no change of anyone's to build.
    const onIssue = await runAction(
      signedBuild({ key: path.join(keyDir, 'k.key') }),
      dir,
      event('issue_comment', { issue: {} }),
    )
    expect(onIssue.outputs.signed).toBe('true')
    // The base repository's own change: signed.
    const own = await runAction(
      signedBuild({ key: path.join(keyDir, 'k.key') }),
      dir,
      target({ full_name: 'owner/repo', fork: false }),
    )
    expect(own.code, own.stdout).toBe(0)
    expect(own.outputs.signed).toBe('true')
  })

  it('on a pull request from a fork, builds and reports without signing, whatever would sign, and says so', async () => {
    const dir = project('mkdir -p out && echo same > out/app.txt\n')
    const event = (head: string) => {
      const file = path.join(dir, `event-${head.replace('/', '-')}.json`)
      fs.writeFileSync(
        file,
        JSON.stringify({
          pull_request: {
            head: { repo: { full_name: head, fork: head !== 'owner/repo' } },
            base: { repo: { full_name: 'owner/repo' } },
          },
        }),
      )
      return { GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: file }
    }
    const inputs = signedBuild({ keyless: 'true' })
    const fork = await runAction(inputs, dir, event('someone/fork'))
    expect(fork.code, fork.stdout).toBe(0)
    expect(fork.stdout).toMatch(
      /^::notice title=reproof build::a pull request from a fork runs the fork's code; signing it would vouch for that code as this repository \(and it gets no OIDC token\)/m,
    )
    expect(fork.outputs).toMatchObject({ reproducible: 'true', signed: 'false' })
    expect(fork.outputs['bundle-path']).toBeUndefined()
    expect(fs.existsSync(path.join(dir, 'app.sigstore.json'))).toBe(false)
    expect(fork.summary).toContain("> a pull request from a fork runs the fork's code")
    // Nor with a key (a self-hosted runner's), a token the repository's settings give
    // forks, or under a review's event.
    for (const [more, env] of [
      [{ key: path.join(keyDir, 'k.key') }, event('someone/fork')],
      [
        {},
        {
          ...event('someone/fork'),
          ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:9/token',
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'x',
        },
      ],
      [
        { key: path.join(keyDir, 'k.key') },
        { ...event('someone/fork'), GITHUB_EVENT_NAME: 'pull_request_review' },
      ],
    ] as const) {
      const signing = 'key' in more ? signedBuild(more) : inputs
      const run = await runAction(signing, dir, env)
      expect(run.code, run.stdout).toBe(0)
      expect(run.outputs).toMatchObject({ reproducible: 'true', signed: 'false' })
      expect(run.outputs['bundle-path']).toBeUndefined()
    }
    // What signing would have done and did not is named: the upload, the builder id.
    const uploading = await runAction(
      { ...inputs, 'upload-attestation': 'true', 'github-token': 'ghs_x' },
      dir,
      event('someone/fork'),
    )
    expect(uploading.code, uploading.stdout).toBe(0)
    expect(uploading.stdout).toContain(
      'not signed (no bundle is written; not applied: input upload-attestation, input builder-id)',
    )
    expect(uploading.outputs['attestation-id']).toBeUndefined()
    // Contradictory signing inputs are refused there too, not dropped with the rest.
    const both = await runAction(
      { ...inputs, key: path.join(keyDir, 'k.key') },
      dir,
      event('someone/fork'),
    )
    expect(both.code).toBe(2)
    expect(both.stdout).toMatch(/input key and input keyless: give exactly one/)
    const passphrase = await runAction(
      { ...inputs, 'passphrase-env': 'PASS' },
      dir,
      event('someone/fork'),
    )
    expect(passphrase.code).toBe(2)
    expect(passphrase.stdout).toMatch(/input passphrase-env: applies to key signing only/)
    const urls = await runAction(
      { ...inputs, 'fulcio-url': 'http://127.0.0.1:1' },
      dir,
      event('someone/fork'),
    )
    expect(urls.code, urls.stdout).toBe(0)
    expect(urls.stdout).toContain('not applied: input builder-id, input fulcio-url)')
    // The same repository's own pull request has no excuse: the missing permission is an error.
    const own = await runAction(inputs, dir, event('owner/repo'))
    expect(own.code).toBe(2)
    expect(own.stdout).toMatch(
      /^::error title=reproof build::keyless signing in GitHub Actions needs an OIDC token.*id-token: write/m,
    )
  })

  it('masks the passphrase of an encrypted key before anything runs', async () => {
    const dir = project('mkdir -p out && echo same > out/app.txt\n')
    const passphrase = 'correct horse battery staple'
    expect(
      (
        await runCli(['keygen', '--out', path.join(dir, 'enc'), '--passphrase-env', 'PASS'], {
          PASS: passphrase,
        })
      ).code,
    ).toBe(0)
    const run = await runAction(
      signedBuild({ key: path.join(dir, 'enc.key'), 'passphrase-env': 'PASS' }),
      dir,
      { GITHUB_ACTIONS: 'true', PASS: passphrase },
    )
    expect(run.code, run.stdout).toBe(0)
    expect(run.outputs.signed).toBe('true')
    expect(run.stdout.split('\n')[0]).toBe(`::add-mask::${passphrase}`)
    expect(run.stdout.slice(run.stdout.indexOf('\n'))).not.toContain(passphrase)
  })

  it("gives the ledger token to the gate step's git only, as an HTTP header, masked", async () => {
    const dir = project('mkdir -p out && echo same > out/app.txt\n')
    const signing = {
      key: path.join(keyDir, 'k.key'),
      bundle: 'app.sigstore.json',
      'builder-id': 'https://ci.example.com',
    }
    const build = await runAction(
      {
        mode: 'build',
        source: 'src',
        command: 'sh build.sh',
        outputs: 'out/app.txt',
        'out-dir': 'dist',
        ...signing,
      },
      dir,
    )
    expect(build.code, build.stdout).toBe(0)
    // A git remote on loopback that answers nothing but records who asked.
    const seen: (string | undefined)[] = []
    const server = http.createServer((req, res) => {
      seen.push(req.headers.authorization)
      res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const token = 'ghs_0123456789abcdefghijklmnopqrstuvwxyzAB'
    try {
      const gate = await runAction(
        {
          mode: 'gate',
          environment: 'production',
          ledger: `git:http://127.0.0.1:${port}/owner/repo.git#reproof-ledger`,
          'ledger-token': token,
          artifacts: 'dist/out/app.txt',
          bundle: 'app.sigstore.json',
          'public-key': path.join(keyDir, 'k.pub'),
        },
        dir,
        { GITHUB_ACTIONS: 'true', GITHUB_SERVER_URL: `http://127.0.0.1:${port}` },
      )
      expect(gate.code).not.toBe(0)
      const basic = Buffer.from(`x-access-token:${token}`).toString('base64')
      expect(seen).toContain(`basic ${basic}`)
      expect(gate.stdout.split('\n').slice(0, 2)).toEqual([
        `::add-mask::${token}`,
        `::add-mask::${basic}`,
      ])
      const rest = gate.stdout.split('\n').slice(2).join('\n')
      expect(rest).not.toContain(token)
      expect(rest).not.toContain(basic)
      // A token written into the ledger's URL (from a step output, not a secret the
      // runner knows): masked, and the command is logged without it.
      const inUrl = await runAction(
        {
          mode: 'gate',
          environment: 'production',
          ledger: `git:http://x-access-token:${token}@127.0.0.1:${port}/owner/repo.git?private_token=${token}#reproof-ledger`,
          artifacts: 'dist/out/app.txt',
          bundle: 'app.sigstore.json',
          'public-key': path.join(keyDir, 'k.pub'),
        },
        dir,
        { GITHUB_ACTIONS: 'true' },
      )
      expect(inUrl.code).not.toBe(0)
      const lines = inUrl.stdout.split('\n')
      expect(lines).toContain(`::add-mask::x-access-token:${token}`)
      expect(lines).toContain(`::add-mask::${token}`)
      const masked = lines.findIndex((l) => l.startsWith('::add-mask::'))
      expect(lines.slice(0, masked).join('\n')).not.toContain(token)
      const after = lines.filter((l) => !l.startsWith('::add-mask::')).join('\n')
      expect(after).not.toContain(token)
      expect(after).toContain(`git:http://127.0.0.1:${port}/owner/repo.git#reproof-ledger`)
    } finally {
      server.close()
    }
    // Nothing written where later steps would find it.
    expect(fs.existsSync(path.join(dir, '.gitconfig'))).toBe(false)
  })

  it('writes its summary and annotation when a second signal stops it at once', async () => {
    const dir = project('mkdir -p out && sleep 30 && echo same > out/app.txt\n')
    // A cancelled job: SIGINT, and SIGTERM right after, while the build runs.
    const run = await runAction(
      { mode: 'build', source: 'src', command: 'sh build.sh', outputs: 'out/app.txt' },
      dir,
      {},
      new Promise((resolve) => setTimeout(resolve, 3000)),
      ['SIGINT', 'SIGTERM'],
    )
    expect(run.code, run.stdout).toBe(130)
    expect(run.summary).toMatch(/^## reproof build: interrupted\n/)
    expect(run.stdout).toMatch(/^::error title=reproof build::/m)
    expect(run.outputs).toEqual({})
  })

  it('still writes its outputs and summary when cancelled while storing the bundle', async () => {
    const dir = project('mkdir -p out && echo same > out/app.txt\n')
    let posted: () => void = () => undefined
    const reached = new Promise<void>((resolve) => (posted = resolve))
    // An attestations API that takes the bundle and never answers.
    const server = http.createServer((req) => {
      req.resume()
      req.on('end', () => {
        posted()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    try {
      const run = await runAction(
        {
          ...keylessSigned(),
          'upload-attestation': 'true',
          'github-token': 'ghs_uploadtoken0123456789',
        },
        dir,
        {
          ...runnerEnv(services),
          GITHUB_ACTIONS: 'true',
          GITHUB_API_URL: `http://127.0.0.1:${port}`,
          GITHUB_REPOSITORY: 'owner/repo',
        },
        reached,
      )
      expect(run.code, run.stdout).toBe(130)
      expect(run.outputs).toMatchObject({ signed: 'true' })
      expect(run.outputs['bundle-path']).toBeUndefined()
      expect(run.outputs['attestation-id']).toBeUndefined()
      expect(run.summary).toContain('signed, but not stored')
      expect(run.summary).toContain('whether it was stored is unknown')
    } finally {
      server.closeAllConnections()
      server.close()
    }
  })

  it('stores the signed bundle with GitHub attestations when asked, and says so when GitHub refuses', async () => {
    const dir = project('mkdir -p out && echo same > out/app.txt\n')
    let status = 201
    const posted: { auth: string | undefined; body: string }[] = []
    const server = http.createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        posted.push({ auth: req.headers.authorization, body })
        res
          .writeHead(status, { 'content-type': 'application/json' })
          .end(
            status === 201 ? '{"id":991}' : '{"message":"Resource not accessible by integration"}',
          )
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const github = {
      ...runnerEnv(services),
      GITHUB_ACTIONS: 'true',
      GITHUB_API_URL: `http://127.0.0.1:${port}`,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'owner/repo',
    }
    const inputs = {
      ...keylessSigned(),
      'upload-attestation': 'true',
      'github-token': 'ghs_uploadtoken0123456789',
    }
    try {
      const stored = await runAction(inputs, dir, github)
      expect(stored.code, stored.stdout).toBe(0)
      expect(stored.outputs).toMatchObject({
        signed: 'true',
        'bundle-path': 'app.sigstore.json',
        'attestation-id': '991',
        'attestation-url': 'https://github.com/owner/repo/attestations/991',
      })
      expect(posted[0]?.auth).toBe('Bearer ghs_uploadtoken0123456789')
      expect(stored.stdout.split('\n')[0]).toBe('::add-mask::ghs_uploadtoken0123456789')
      expect(JSON.parse(posted[0]?.body ?? '{}')).toEqual({
        bundle: JSON.parse(fs.readFileSync(path.join(dir, 'app.sigstore.json'), 'utf8')) as unknown,
      })
      expect(stored.summary).toContain(
        'attestation stored: https://github.com/owner/repo/attestations/991',
      )

      status = 403
      const refused = await runAction(inputs, dir, github)
      expect(refused.code).toBe(3)
      // Signed and kept, but not stored: the outputs claim no attestation, and a failed
      // step passes on no bundle; the summary says where it is.
      expect(refused.outputs).toMatchObject({ signed: 'true' })
      expect(refused.outputs['bundle-path']).toBeUndefined()
      expect(refused.outputs['attestation-id']).toBeUndefined()
      expect(refused.summary).toContain('The bundle was written to app')
      expect(refused.stdout).toMatch(
        /^::error title=reproof build::GitHub's attestations API refused the bundle \(HTTP 403: Resource not accessible by integration\).*attestations: write/m,
      )
      expect(refused.summary).toContain("signed, but not stored with GitHub's attestations")
    } finally {
      server.close()
    }
    // Asked without what it needs: refused before building.
    const bad = await runAction({ ...inputs, bundle: '' }, dir, github)
    expect(bad.code).toBe(2)
    expect(bad.stdout).toMatch(/input upload-attestation: needs input bundle/)
  })

  it('lets nothing the build prints or writes become a workflow command, in either form', async () => {
    // A build that tries both command forms in its log, and an artifact (different in
    // each run, so the explanation quotes it) whose lines are commands.
    const dir = project(
      [
        "echo 'compiling... ##[set-output name=attestation-id;]1234567'",
        "echo '::add-mask::everything'",
        'mkdir -p out',
        'printf \'    ::error title=Verified::all checks passed\\n##[add-mask]x\\n%s\\n\' "$(head -c 8 /dev/urandom | od -An -tx1)" > out/app.txt',
        '',
      ].join('\n'),
    )
    const run = await runAction(
      { mode: 'build', source: 'src', command: 'sh build.sh', outputs: 'out/app.txt' },
      dir,
      { GITHUB_ACTIONS: 'true' },
    )
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('A| compiling... #\u200b#[set-output')
    expect(run.stderr).toContain('Verified')
    // What the runner would take as commands: reproof's own, and nothing else.
    const commands = `${run.stdout}\n${run.stderr}`
      .split(/\r\n|\r|\n/)
      .filter((line) => line.trimStart().startsWith('::') || line.includes('##['))
    expect(
      commands.every((line) => /^::(group|endgroup|error|notice|warning)[ :]/.test(line)),
      commands.join('\n'),
    ).toBe(true)
    expect(
      commands.filter((line) => line.includes('Verified') || line.includes('add-mask')),
    ).toEqual([])
    expect(run.outputs['attestation-id']).toBeUndefined()
  })

  it('masks an identity token handed to the step before it prints anything', async () => {
    const dir = makeTemp()
    const token = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJzZWNyZXQtc3ViamVjdCJ9.'
    const run = await runAction({ mode: 'launch' }, dir, {
      GITHUB_ACTIONS: 'true',
      SIGSTORE_ID_TOKEN: token,
    })
    expect(run.code).toBe(2)
    expect(run.stdout.split('\n')[0]).toBe(`::add-mask::${token}`)
    expect(run.stdout.slice(run.stdout.indexOf('\n'))).not.toContain(token)
  })

  it('signs keyless with the OIDC token from the runner endpoint, and verify accepts that identity only', async () => {
    const dir = makeTemp()
    const source = copyFixture('hello-c')
    fs.writeFileSync(path.join(dir, 'root.json'), JSON.stringify(services.trustedRoot))
    const github = runnerEnv(services)
    const build = await runAction(
      {
        source,
        command: 'make',
        outputs: 'hello',
        epoch: '1700000000',
        'out-dir': 'release',
        keyless: 'true',
        'fulcio-url': services.base,
        'rekor-url': services.base,
        'tsa-url': services.base,
        bundle: 'hello.sigstore.json',
      },
      dir,
      github,
    )
    expect(build.code, build.stdout).toBe(0)
    expect(build.outputs['bundle-path']).toBe('hello.sigstore.json')
    // Services of its own and no trusted root: signed, and said to be unverified.
    const unverified = /the bundle was not verified against a trusted root before it was written/
    expect(build.outputs.signed).toBe('true')
    expect(build.stdout).toMatch(
      new RegExp(`^::warning title=reproof build::${unverified.source}`, 'm'),
    )
    expect(build.summary).toMatch(unverified)
    // The token fetched, and the one that fetched it, masked by commands the runner reads
    // (on stdout, not made inert), and shown nowhere else.
    const jwtStart = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')
    const masks = build.stdout.split('\n').filter((line) => line.startsWith('::add-mask::'))
    expect(masks).toContain('::add-mask::request-token')
    expect(masks.some((line) => line.startsWith(`::add-mask::${jwtStart}.`))).toBe(true)
    const shown = [
      ...build.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::')),
      ...build.stderr.split('\n'),
    ].join('\n')
    expect(shown).not.toContain(jwtStart)
    expect(shown).not.toContain('request-token')
    const signed = JSON.parse(fs.readFileSync(path.join(dir, 'hello.sigstore.json'), 'utf8')) as {
      verificationMaterial: { timestampVerificationData: { rfc3161Timestamps: unknown[] } }
    }
    expect(signed.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1)
    const verify = await runAction(
      {
        mode: 'verify',
        artifacts: 'release/hello',
        bundle: 'hello.sigstore.json',
        'trusted-root': 'root.json',
        'certificate-identity': SUBJECT,
        'certificate-oidc-issuer': ISSUER,
      },
      dir,
    )
    expect([verify.code, verify.outputs.decision], verify.summary).toEqual([0, 'verified'])
    const stranger = await runAction(
      {
        mode: 'verify',
        artifacts: 'release/hello',
        bundle: 'hello.sigstore.json',
        'trusted-root': 'root.json',
        'certificate-identity': SUBJECT.replace('main', 'evil'),
        'certificate-oidc-issuer': ISSUER,
      },
      dir,
    )
    expect(stranger.code).toBe(1)
    // With the root those services answer to, the bundle is verified before it is written.
    const checked = await runAction(
      {
        source,
        command: 'make',
        outputs: 'hello',
        epoch: '1700000000',
        'out-dir': 'release2',
        keyless: 'true',
        'fulcio-url': services.base,
        'rekor-url': services.base,
        'trusted-root': 'root.json',
        bundle: 'hello2.sigstore.json',
      },
      dir,
      github,
    )
    expect(checked.code, checked.stdout).toBe(0)
    expect(checked.outputs.signed).toBe('true')
    expect(checked.stdout + checked.summary).not.toMatch(unverified)
  })
})
