import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { inRebuildWords, rebuildCheck } from '../../../src/verify/rebuild.js'
import { cleanupTemp, git, makeTemp, makeTempParent, withOwnTmpdir } from '../../helpers.js'

// What `verify --rebuild` reads from a verified statement before it builds anything: a
// provenance that does not say how to rebuild is refused as input, and nothing is built,
// fetched or left behind.

const commit = 'a'.repeat(40)

/** A statement that says everything a rebuild needs, with `change` applied. */
function statement(change?: (s: Statement) => void): Statement {
  const s: Statement = {
    subject: [{ name: 'hello', digest: { sha256: 'b'.repeat(64) } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://reproof.dev/build-types/twin-build/v1',
        externalParameters: { command: ['make'], source: { commit }, outputs: ['hello'] },
        internalParameters: { epoch: { value: 1_600_000_000 } },
      },
    },
  }
  change?.(s)
  return s
}

interface Statement {
  subject?: unknown
  predicateType?: unknown
  predicate: {
    buildDefinition: {
      buildType?: unknown
      externalParameters: Record<string, unknown>
      internalParameters: Record<string, unknown>
    }
  }
}

/** The refusal rebuildCheck gives, with a repository that does not exist: it must never be reached. */
async function refusal(s: unknown): Promise<unknown> {
  const before = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('reproof-rebuild-'))
  const error = await rebuildCheck(s, {
    source: '/nonexistent/repository',
    artifacts: [],
    callerEnv: {},
    tempDir: undefined,
  }).then(
    () => undefined,
    (err: unknown) => err,
  )
  const after = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('reproof-rebuild-'))
  expect(after).toEqual(before)
  return error
}

const refused = (what: string) =>
  expect.objectContaining({
    code: 'E_INPUT',
    message: `--rebuild: the provenance does not say ${what}; it cannot be rebuilt`,
  }) as unknown

describe('verify --rebuild reads the recipe from the provenance, or refuses it', () => {
  it.each([
    ['no command', (s: Statement) => delete s.predicate.buildDefinition.externalParameters.command],
    [
      'an empty command',
      (s: Statement) => (s.predicate.buildDefinition.externalParameters.command = []),
    ],
    [
      'a command that is not strings',
      (s: Statement) => (s.predicate.buildDefinition.externalParameters.command = ['make', 1]),
    ],
    [
      'a command that is a string',
      (s: Statement) => (s.predicate.buildDefinition.externalParameters.command = 'make'),
    ],
  ])('refuses %s', async (_, change) => {
    expect(await refusal(statement(change))).toEqual(refused('the command'))
  })

  it('refuses a statement that names no source commit, as made outside git', async () => {
    for (const change of [
      (s: Statement) => delete s.predicate.buildDefinition.externalParameters.source,
      (s: Statement) => (s.predicate.buildDefinition.externalParameters.source = {}),
      (s: Statement) => (s.predicate.buildDefinition.externalParameters.source = { commit: null }),
    ])
      expect(await refusal(statement(change))).toEqual(
        expect.objectContaining({
          code: 'E_INPUT',
          message: expect.stringMatching(
            /^--rebuild: the provenance names no source commit \(the attested build ran outside a git work tree\)/,
          ) as unknown,
        }),
      )
  })

  it.each([
    [
      'a short commit',
      (s: Statement) =>
        (s.predicate.buildDefinition.externalParameters.source = { commit: 'abc123' }),
    ],
    [
      'a commit that is an option to git',
      (s: Statement) =>
        (s.predicate.buildDefinition.externalParameters.source = {
          commit: `--output=${'a'.repeat(40)}`,
        }),
    ],
    [
      'a commit in upper case',
      (s: Statement) =>
        (s.predicate.buildDefinition.externalParameters.source = { commit: 'A'.repeat(40) }),
    ],
    [
      'a ref instead of a commit',
      (s: Statement) =>
        (s.predicate.buildDefinition.externalParameters.source = { commit: 'refs/heads/main' }),
    ],
  ])('refuses %s', async (_, change) => {
    expect(await refusal(statement(change))).toEqual(refused('the source commit'))
  })

  it.each([
    ['a name that carries a value', 'LD_PRELOAD=/tmp/evil.so'],
    ['an empty name', ''],
    ['a name with a space', 'A B'],
  ])('refuses an environment entry with %s', async (_, name) => {
    const s = statement((x) => {
      x.predicate.buildDefinition.internalParameters.environment = [{ name, from: 'caller' }]
    })
    expect(await refusal(s)).toEqual(refused('the environment'))
  })

  it('refuses an environment that is not a list of named entries with text values', async () => {
    // [null] failed as an internal error; a string was read as none; a number for a
    // value passed the verifier's own variable of that name.
    for (const environment of [
      [null],
      'CFLAGS=-O2',
      [{ name: 'CFLAGS', from: 'flag', value: 2 }],
      [{ name: 5, from: 'flag', value: 'x' }],
      [{ name: 'CFLAGS', value: 'x' }],
    ])
      expect(
        await refusal(
          statement(
            (s) => (s.predicate.buildDefinition.internalParameters.environment = environment),
          ),
        ),
      ).toEqual(refused('the environment'))
  })

  it('refuses an environment entry it would pass over: of no origin a build records, or not reproof’s own', async () => {
    // A signed CFLAGS said to be reproof's (or from "command-line") was dropped, and the
    // yes vouched for a rebuild without it.
    for (const entry of [
      { name: 'CFLAGS', value: '-fstack-protector-strong', from: 'reproof' },
      { name: 'EXTRA', value: '-DHARDENED', from: 'command-line' },
    ]) {
      const s = statement((x) => {
        x.predicate.buildDefinition.internalParameters.environment = [entry]
      })
      expect(await refusal(s), entry.from).toEqual(
        expect.objectContaining({
          code: 'E_INPUT',
          message: expect.stringMatching(
            new RegExp(
              `^--rebuild: the provenance's environment holds ${entry.name} from "${entry.from}"`,
            ),
          ) as unknown,
        }),
      )
    }
  })

  it('refuses missing outputs, or outputs that are not strings', async () => {
    expect(
      await refusal(
        statement((s) => delete s.predicate.buildDefinition.externalParameters.outputs),
      ),
    ).toEqual(refused('the outputs'))
    expect(
      await refusal(
        statement((s) => (s.predicate.buildDefinition.externalParameters.outputs = [null])),
      ),
    ).toEqual(refused('the outputs'))
  })

  it('refuses a statement without a predicate or a build definition, as input', async () => {
    for (const s of [{}, { predicate: {} }, { predicate: { buildDefinition: null } }])
      expect(await refusal(s)).toEqual(
        expect.objectContaining({
          code: 'E_INPUT',
          message: expect.stringMatching(/^--rebuild: only reproof's own provenance/) as unknown,
        }),
      )
  })

  it('takes a subject without a SHA-256 as one no rebuild can match, never a crash', async () => {
    // It reaches the repository (which does not exist here): the recipe was read.
    expect(await refusal(statement((s) => (s.subject = [{ name: 'hello' }])))).toEqual(
      expect.objectContaining({
        code: 'E_INPUT',
        message: expect.stringContaining(
          '--source /nonexistent/repository: no such directory',
        ) as unknown,
      }),
    )
  })

  it('refuses a commit that is not a whole commit id, whatever shape it comes in', async () => {
    for (const bad of [
      [commit],
      `${commit}; rm -rf /`,
      `${commit}\n`,
      'A'.repeat(40),
      'a'.repeat(39),
    ])
      expect(
        await refusal(
          statement(
            (s) => (s.predicate.buildDefinition.externalParameters.source = { commit: bad }),
          ),
        ),
      ).toEqual(refused('the source commit'))
  })

  it('refuses an empty list of outputs, and excluded outputs that are not a list of globs', async () => {
    const external = (s: Statement) => s.predicate.buildDefinition.externalParameters
    expect(await refusal(statement((s) => (external(s).outputs = [])))).toEqual(
      refused('the outputs'),
    )
    // A string once read as "nothing excluded"; a list with a number, a crash.
    for (const exclude of ['x', [1], { 0: 'x' }])
      expect(await refusal(statement((s) => (external(s).exclude = exclude)))).toEqual(
        refused('what it excluded from the outputs'),
      )
  })

  it('refuses outputs of which any one is not a glob', async () => {
    expect(
      await refusal(
        statement((s) => (s.predicate.buildDefinition.externalParameters.outputs = ['hello', 5])),
      ),
    ).toEqual(refused('the outputs'))
  })

  it('refuses a missing epoch or one that is not a number', async () => {
    expect(
      await refusal(statement((s) => delete s.predicate.buildDefinition.internalParameters.epoch)),
    ).toEqual(refused('the epoch'))
    expect(
      await refusal(
        statement((s) => (s.predicate.buildDefinition.internalParameters.epoch = { value: '1' })),
      ),
    ).toEqual(refused('the epoch'))
  })

  it('refuses a statement with no subject: a rebuild must compare something', async () => {
    for (const subject of [undefined, [], {}, 'hello'])
      expect(await refusal(statement((s) => (s.subject = subject)))).toEqual(
        refused('what it attests (it has no subject)'),
      )
  })

  it('refuses a recorded directory that is not inside the commit', async () => {
    for (const subdirectory of ['../x', '/etc', 'a/../../b', 'a//b', './a', 'a/', 5])
      expect(
        await refusal(
          statement((s) => {
            s.predicate.buildDefinition.externalParameters.source = { commit, subdirectory }
          }),
        ),
        String(subdirectory),
      ).toEqual(refused('a directory inside the commit'))
  })

  it('refuses nothing it can read, and then looks for the commit in the repository given', async () => {
    // A complete recipe gets as far as the repository, which does not exist here.
    expect(await refusal(statement())).toEqual(
      expect.objectContaining({
        code: 'E_INPUT',
        message: '--source /nonexistent/repository: no such directory',
      }),
    )
  })

  it('says a --source that is no repository is none, not that the commit must be fetched', async () => {
    const plain = makeTemp()
    const file = path.join(plain, 'file')
    fs.writeFileSync(file, '')
    for (const [source, why] of [
      [plain, 'not a git repository'],
      [file, 'not a directory'],
    ] as const) {
      const answer = await rebuildCheck(statement(), {
        source,
        artifacts: [],
        callerEnv: {},
        tempDir: undefined,
      }).catch((err: unknown) => err)
      expect(answer).toEqual(
        expect.objectContaining({ code: 'E_INPUT', message: `--source ${source}: ${why}` }),
      )
    }
  })
})

afterEach(cleanupTemp)

/** A repository with one commit, and the statement of a build of it by `script`. */
function recipe(script: string, subject: { name: string; content: string }) {
  const repo = makeTemp()
  fs.writeFileSync(path.join(repo, 'greeting.txt'), 'hello\n')
  git(repo, ['init', '-q'])
  git(repo, ['add', '.'])
  git(repo, ['commit', '-qm', 'release'])
  const head = git(repo, ['rev-parse', 'HEAD']).trim()
  const digest = crypto.createHash('sha256').update(subject.content).digest('hex')
  return {
    repo,
    digest,
    statement: {
      subject: [{ name: subject.name, digest: { sha256: digest } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {
        buildDefinition: {
          buildType: 'https://reproof.dev/build-types/twin-build/v1',
          externalParameters: {
            command: ['sh', '-c', script],
            source: { commit: head },
            outputs: [subject.name],
          },
          internalParameters: {
            epoch: { value: 1_600_000_000 },
            environment: [
              { name: 'GREETING', value: 'hi', from: 'flag' },
              // reproof's own settings are not passed back: it sets them again, for this
              // machine (a recorded PATH need not exist here).
              { name: 'HOME', value: '/nonexistent', from: 'reproof' },
              { name: 'PATH', value: '/nonexistent', from: 'reproof' },
            ],
          },
        },
      },
    },
  }
}

async function rebuild(
  r: ReturnType<typeof recipe>,
  artifacts: { path: string; sha256: string }[] = [],
  callerEnv: Record<string, string> = {},
  passEnv: string[] = [],
  onRecipe?: (said: string) => void,
) {
  // A temporary directory of its own: other tests (and other processes) use the shared one.
  let answer: Awaited<ReturnType<typeof rebuildCheck>> | undefined
  const own = await withOwnTmpdir(async () => {
    answer = await rebuildCheck(r.statement, {
      source: r.repo,
      artifacts,
      callerEnv: { PATH: process.env.PATH, ...callerEnv },
      passEnv,
      tempDir: makeTempParent(),
      ...(onRecipe === undefined ? {} : { onRecipe }),
    })
  })
  expect(fs.readdirSync(own).filter((n) => /^reproof-(rebuild|explain)-/.test(n))).toEqual([])
  if (answer === undefined) throw new Error('no answer')
  return answer
}

describe('verify --rebuild builds the recorded commit again and compares every subject', () => {
  it('says yes when the rebuilt subjects have the attested digests, with the recorded environment', async () => {
    // HOME is reproof's own again (a directory of the build's), not the recorded value.
    const r = recipe(
      'test -d "$HOME" && printf "%s from %s" "$GREETING" "$(cat greeting.txt)" > out.txt',
      { name: 'out.txt', content: 'hi from hello' },
    )
    const { check, explanation } = await rebuild(r)
    expect(check).toEqual({
      name: 'rebuild',
      ok: true,
      found: `1 subject(s) rebuilt from ${r.statement.predicate.buildDefinition.externalParameters.source.commit.slice(0, 12)} with identical digests, running the attested command ${JSON.stringify(r.statement.predicate.buildDefinition.externalParameters.command)} with GREETING="hi"; ${check.found?.toString().split('with GREETING="hi"; ')[1] ?? ''}`,
    })
    // What the command could read is said with the yes.
    expect(check.found).toMatch(
      /it could read the host's other files outside \/tmp \(a copy of an artifact elsewhere would pass\)(; the sandbox could not cover: .+)?$/,
    )
    expect(explanation).toBeUndefined()
  })

  it('refuses outputs or exclusions that match files of a commit the provenance calls clean, and says them when it does not', async () => {
    // A committed file the attested outputs match is left out of the rebuild, as it was
    // out of the build: a build of the commit as it is has it (a hardening.mk that make
    // includes), so a provenance that says its tree was the commit's was no build of it.
    const r = recipe('cat greeting.txt > out.txt', { name: 'out.txt', content: '' })
    r.statement.predicate.buildDefinition.externalParameters.outputs = ['out.txt', 'greeting.txt']
    r.statement.subject = [
      { name: 'out.txt', digest: { sha256: crypto.createHash('sha256').update('').digest('hex') } },
    ]
    await expect(rebuild(r)).rejects.toThrow(
      /the attested outputs and exclusions match 1 file\(s\) of commit [0-9a-f]{12} \(greeting\.txt\), which its build then had not, yet the provenance says its tree was the commit's \(dirty: false\)/,
    )
    // Said to be dirty: rebuilt so, and named with the yes. The command fails without
    // the file, as the build did: `cat` writes nothing, the subject is empty.
    r.statement.predicate.buildDefinition.externalParameters.command = [
      'sh',
      '-c',
      'cat greeting.txt > out.txt 2>/dev/null; true',
    ]
    ;(r.statement.predicate.buildDefinition.internalParameters as Record<string, unknown>).dirty =
      true
    const { check } = await rebuild(r)
    expect(check.ok).toBe(true)
    expect(check.found).toContain(
      'without 1 file(s) of the commit its outputs and exclusions match (greeting.txt), as the provenance says its build was (dirty)',
    )
  })

  it('says what it will run before it runs it, and names the command when the build fails', async () => {
    const r = recipe('printf x > out.txt; exit 7', { name: 'out.txt', content: 'x' })
    const told: string[] = []
    await expect(rebuild(r, [], {}, [], (said) => told.push(said))).rejects.toThrow(
      /exited with status 7.*\(the attested command \["sh","-c","printf x > out\.txt; exit 7"\]\)$/s,
    )
    const commit = r.statement.predicate.buildDefinition.externalParameters.source.commit
    expect(told).toEqual([
      `rebuilding commit ${commit.slice(0, 12)} twice, running the attested command ["sh","-c","printf x > out.txt; exit 7"] with GREETING="hi", for "out.txt"`,
    ])
  })

  it('says with its yes that the attested build was of a tree that differed from the commit', async () => {
    const r = recipe('printf x > out.txt', { name: 'out.txt', content: 'x' })
    ;(r.statement.predicate.buildDefinition.internalParameters as Record<string, unknown>).dirty =
      true
    const { check } = await rebuild(r)
    expect(check.ok).toBe(true)
    expect(check.found).toContain(
      ", though the provenance says its build's tree differed from the commit (dirty)",
    )
  })

  it('shows every recorded value in full with the yes, however long', async () => {
    // 220 spaces, then what the value really does: a yes that cut it at 200 hid it.
    const long = `${' '.repeat(220)}and then the rest`
    const r = recipe('printf "%s" "$GREETING" > out.txt', { name: 'out.txt', content: long })
    r.statement.predicate.buildDefinition.internalParameters.environment[0] = {
      name: 'GREETING',
      value: long,
      from: 'flag',
    }
    const { check } = await rebuild(r)
    expect(check.ok).toBe(true)
    expect(check.found).toContain(`with GREETING=${JSON.stringify(long)}`)
  })

  it('refuses a recorded environment that sets what reproof sets itself, before anything runs', async () => {
    for (const name of ['LD_PRELOAD', 'HOME', 'SOURCE_DATE_EPOCH', 'FAKETIME']) {
      const r = recipe('printf x > out.txt', { name: 'out.txt', content: 'x' })
      r.statement.predicate.buildDefinition.internalParameters.environment.push({
        name,
        value: '/tmp/x',
        from: 'flag',
      })
      await expect(rebuild(r), name).rejects.toThrow(/the environment/)
    }
  })

  it('says no when a subject rebuilds to other bytes, and shows how they differ from the given artifact', async () => {
    const r = recipe('printf "rebuilt\\n" > out.txt', { name: 'out.txt', content: 'attested\n' })
    const given = path.join(makeTemp(), 'out.txt')
    fs.writeFileSync(given, 'attested\n')
    const { check, explanation } = await rebuild(r, [{ path: given, sha256: r.digest }])
    expect(check).toMatchObject({
      ok: false,
      reason: 'rebuild-mismatch',
      wanted: [{ name: 'out.txt', sha256: r.digest }],
      found: [
        {
          name: 'out.txt',
          sha256: crypto.createHash('sha256').update('rebuilt\n').digest('hex'),
        },
      ],
    })
    expect(explanation?.map((i) => [i.path, i.kind])).toEqual([['out.txt', 'content']])
    // Without the artifact's file there is nothing to explain with, and the answer stands.
    const bare = await rebuild(r)
    expect([bare.check.ok, bare.check.reason, bare.explanation]).toEqual([
      false,
      'rebuild-mismatch',
      [],
    ])
  })

  it('says no when the attested outputs match no file in the rebuild, in its own words', async () => {
    // The recorded command makes nothing: the subject did not come out again. That is a
    // no, not bad input naming an --out the verifier never gave.
    const r = recipe('true', { name: 'out.txt', content: 'attested\n' })
    const given = path.join(makeTemp(), 'out.txt')
    fs.writeFileSync(given, 'attested\n')
    const { check } = await rebuild(r, [{ path: given, sha256: r.digest }])
    expect(check).toMatchObject({
      ok: false,
      reason: 'rebuild-mismatch',
      wanted: [{ name: 'out.txt', sha256: r.digest }],
      found: [{ name: 'out.txt', sha256: null }],
    })
  })

  it('hides the artifacts under verification from the command, which cannot copy them out', async () => {
    // Outside /tmp, which the sandbox replaces anyway: where a download may well be.
    const base = fs.existsSync('/var/tmp') ? '/var/tmp' : os.homedir()
    const dir = fs.mkdtempSync(path.join(base, 'reproof-hide-'))
    try {
      const given = path.join(dir, 'out.txt')
      fs.writeFileSync(given, 'attested\n')
      // A hostile recorded command: the artifact copied from where the verifier keeps it.
      const r = recipe(`cat '${given}' > out.txt 2>/dev/null || printf 'hidden' > out.txt`, {
        name: 'out.txt',
        content: 'attested\n',
      })
      const hidden = await rebuild(r, [{ path: given, sha256: r.digest }])
      expect(hidden.check).toMatchObject({
        ok: false,
        reason: 'rebuild-mismatch',
        found: [
          { name: 'out.txt', sha256: crypto.createHash('sha256').update('hidden').digest('hex') },
        ],
      })
      // Its directory holds a PATH entry, so it stays; the artifact alone is covered.
      fs.mkdirSync(path.join(dir, 'bin'))
      const r2 = recipe(`cat '${given}' > out.txt; ls '${dir}' >> out.txt`, {
        name: 'out.txt',
        content: 'attested\n',
      })
      const alone = await rebuild(r2, [{ path: given, sha256: r2.digest }], {
        PATH: `${dir}/bin:${process.env.PATH ?? ''}`,
      })
      expect(alone.check).toMatchObject({ ok: false, reason: 'rebuild-mismatch' })
      // /dev/null in its place: nothing of it is read, and the directory is listed.
      const listed = crypto.createHash('sha256').update('bin\nout.txt\n').digest('hex')
      expect(alone.check.found).toEqual([{ name: 'out.txt', sha256: listed }])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('says no for a subject the rebuild does not make', async () => {
    const r = recipe('printf x > other.txt; printf x > out.txt', { name: 'out.txt', content: 'x' })
    r.statement.subject.push({ name: 'missing.txt', digest: { sha256: 'a'.repeat(64) } })
    const { check } = await rebuild(r)
    expect(check).toMatchObject({
      ok: false,
      reason: 'rebuild-mismatch',
      found: [{ name: 'missing.txt', sha256: null }],
    })
  })

  it('says no, not reproduced, when the rebuild itself differs between its two runs', async () => {
    const r = recipe('date +%s%N > out.txt', { name: 'out.txt', content: 'whatever' })
    const { check, explanation } = await rebuild(r)
    expect(check).toMatchObject({ ok: false, reason: 'not-reproduced' })
    expect(check.found).toMatch(/^1 artifact\(s\) differ between the two rebuild runs$/)
    expect(explanation?.some((i) => i.path === 'out.txt')).toBe(true)
  })

  it('takes a variable the original build took from its caller from this caller, when named', async () => {
    const r = recipe('printf "%s" "$WHO" > out.txt', { name: 'out.txt', content: 'the caller' })
    const environment = r.statement.predicate.buildDefinition.internalParameters.environment as {
      name: string
      value?: string
      from: string
    }[]
    environment.push({ name: 'WHO', from: 'caller' })
    const { check } = await rebuild(r, [], { WHO: 'the caller' }, ['WHO'])
    expect(check.ok).toBe(true)
  })

  it('varies the rebuild as any build: one that writes the second it ran is not reproduced', async () => {
    // Run B starts later or under another clock (the time variation); unvaried, the two
    // runs start together and almost always write the same second.
    const r = recipe('date +%s > out.txt', { name: 'out.txt', content: 'whatever' })
    const { check } = await rebuild(r)
    expect(check).toMatchObject({ ok: false, reason: 'not-reproduced' })
  })

  it('normalizes the rebuild exactly when the original build was normalized', async () => {
    // gzip keeps the file's time, which differs between the two runs.
    const script = 'echo hi > a.txt && gzip -c a.txt > out.gz'
    const raw = recipe(script, { name: 'out.gz', content: 'whatever' })
    expect((await rebuild(raw)).check).toMatchObject({ ok: false, reason: 'not-reproduced' })
    const normalized = recipe(script, { name: 'out.gz', content: 'whatever' })
    Object.assign(normalized.statement.predicate.buildDefinition.externalParameters, {
      normalize: true,
    })
    // Reproduced once normalized; only the made-up digest does not match.
    expect((await rebuild(normalized)).check).toMatchObject({
      ok: false,
      reason: 'rebuild-mismatch',
    })
    // A record of what normalization changed says the same as the flag.
    const recorded = recipe(script, { name: 'out.gz', content: 'whatever' })
    Object.assign(recorded.statement.predicate.buildDefinition.internalParameters, {
      normalization: { artifacts: [] },
    })
    expect((await rebuild(recorded)).check).toMatchObject({
      ok: false,
      reason: 'rebuild-mismatch',
    })
    // A yes says the digests it compared are of normalized archives.
    const plain = recipe('echo hi > out.txt', { name: 'out.txt', content: 'hi\n' })
    const said = (await rebuild(plain)).check
    expect(said.ok).toBe(true)
    expect(String(said.found)).not.toContain('normalized')
    Object.assign(plain.statement.predicate.buildDefinition.externalParameters, {
      normalize: true,
    })
    const normalizedYes = (await rebuild(plain)).check
    expect(normalizedYes.ok).toBe(true)
    expect(String(normalizedYes.found)).toContain(
      'its archives normalized before they were compared, as the provenance records',
    )
  })
})

describe('a rebuild says what its build says in the verifier’s words', () => {
  it('names the build’s flags as --rebuild-* flags, and nothing else', () => {
    expect(
      inRebuildWords(
        'pass variables through with --env NAME, allow the network with --network; --timeout 5s',
      ),
    ).toBe(
      'pass variables through with --rebuild-env NAME, allow the network with --rebuild-network; --rebuild-timeout 5s',
    )
    // Already the verifier's, or another flag that starts alike: left as it is.
    expect(inRebuildWords('--rebuild-env X --environment --networks')).toBe(
      '--rebuild-env X --environment --networks',
    )
  })
})
