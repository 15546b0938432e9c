import fs from 'node:fs'

// Mutation testing of the checks that guard trust and inputs: signature and policy
// verification and the verify runner, the build options' glob and environment checks,
// the archive limits, and the gate's decision, ledgers and runners. CI does not run it.
// `MUTATION_AREAS=verify,verifyFlow npm run mutation` runs chosen areas with their own
// tests; the times on two cores: verify, buildOptions and archiveLimits together about
// 25 minutes, verifyFlow 10, gate 5, gateFlow 25.
// A rerun retests only mutants whose code or covering tests changed, but keeps the old
// result of a mutant in a module-level constant: `npm run mutation -- --force` for a
// score to record.
//
// Each area names the code it mutates and the tests that may kill its mutants; the
// Vitest config for Stryker runs the union of those tests. `fn` names one function of a
// file that holds much else, found where it stands now, so that no range drifts.
/** `file:first-last`, the lines of the top-level function `name` as the file stands. */
function fn(file, name) {
  const lines = fs.readFileSync(file, 'utf8').split('\n')
  const start = lines.findIndex((l) =>
    new RegExp(`^(?:export )?(?:async )?function ${name}\\b`).test(l),
  )
  const end = lines.findIndex((l, i) => i > start && l === '}')
  if (start === -1 || end === -1)
    throw new Error(`stryker.config.mjs: no function ${name} in ${file}`)
  return `${file}:${start + 1}-${end + 1}`
}

/** The lines of `file` outside the named functions, as `file:first-last` ranges. */
function outside(file, ...names) {
  const total = fs.readFileSync(file, 'utf8').split('\n').length
  const taken = names
    .map((name) => fn(file, name).split(':')[1].split('-').map(Number))
    .sort((x, y) => x[0] - y[0])
  const ranges = []
  let next = 1
  for (const [first, last] of taken) {
    if (first > next) ranges.push(`${file}:${next}-${first - 1}`)
    next = last + 1
  }
  if (next <= total) ranges.push(`${file}:${next}-${total}`)
  return ranges
}

export const areas = {
  // The pure side of verify: policy checks, certificate facts, trusted-root checks, reasons.
  verify: {
    mutate: ['src/verify/{policy,certificate-facts,trusted-root,reasons}.ts'],
    tests: ['test/unit/**/*.test.ts'],
  },
  buildOptions: {
    mutate: [
      'src/globs.ts',
      'src/sandbox/contain.ts',
      fn('src/sandbox/glob-fs.ts', 'relativeInside'), // every match stays inside the root
      fn('src/config/build-options.ts', 'parseEnvRequest'),
      fn('src/config/build-options.ts', 'mergeEnv'),
      fn('src/config/build-options.ts', 'validateGlob'),
      fn('src/twin/run-build.ts', 'resolvePassThrough'),
    ],
    tests: ['test/unit/**/*.test.ts'],
  },
  archiveLimits: {
    mutate: [
      'src/formats/limits.ts',
      fn('src/formats/zip.ts', 'compressedBytes'), // the zip data bounds check
      fn('src/formats/zip.ts', 'eachChunk'), // every inflated byte is charged
    ],
    tests: ['test/unit/**/*.test.ts'],
  },
  // The sigstore adapter and the verify runner, in-process: real public-good bundles
  // offline, bundles signed with local keys, and the loopback Fulcio and Rekor.
  verifyFlow: {
    mutate: ['src/verify/{verify-signature,run-verify}.ts'],
    tests: ['test/unit/verify/verify-signature.test.ts'],
  },
  // The gate's pure and unit-testable side: the decision, the ledger's parser, record
  // schema and checkpoints, the history checks, the git ledger's spec and push failures.
  gate: {
    mutate: [
      'src/gate/{decide,ledger,ledger-history,git-env}.ts',
      fn('src/gate/git-ledger.ts', 'parseGitLedgerSpec'),
      fn('src/gate/git-ledger.ts', 'classifyPushFailure'),
    ],
    tests: [
      'test/unit/gate/{decide,ledger-parse,ledger-history}.test.ts',
      'test/unit/gate/ledger-{durability,checkpoint}.test.ts',
      'test/unit/gate/git-ledger-{push-failure,spec}.test.ts',
      'test/unit/gate/git-env.test.ts',
    ],
  },
  // The gate and check runners and the kept-bundle check, with the gate's integration
  // tests (in-process, on file ledgers and local bare git remotes). Their releases are
  // built once per run and kept (REPROOF_TEST_KIT_DIR, set in vitest.stryker.config.mjs);
  // the tests that spawn gates run the compiled, unmutated code and are left out. About
  // 25 minutes.
  gateFlow: {
    mutate: ['src/gate/{run-gate,run-check,check-store}.ts'],
    tests: ['test/integration/gate*.test.ts'],
  },
  // `verify --rebuild`, in-process: every refusal of a recipe, and real rebuilds of a
  // small git repository that match, differ, miss a subject or do not reproduce. Only
  // when named: each test builds twice (about 4 s), so the area takes half an hour.
  rebuild: {
    optIn: true,
    mutate: ['src/verify/rebuild.ts'],
    tests: ['test/unit/verify/rebuild.test.ts'],
  },
  // The git ledger's transport (fetch, history, commit, push, reading git's errors), with
  // the git ledger's integration tests. Only when named (MUTATION_AREAS=gitTransport): its
  // ~450 mutants take an hour and more, as a mutant that breaks a push waits through every
  // retry, and a module-level one runs every test of the set.
  gitTransport: {
    optIn: true,
    // Everything but the two functions the gate area mutates.
    mutate: outside('src/gate/git-ledger.ts', 'parseGitLedgerSpec', 'classifyPushFailure'),
    tests: ['test/integration/gate-git*.test.ts', 'test/integration/gate-check-evidence.test.ts'],
  },
}

// `MUTATION_AREAS=gate,verify npm run mutation` mutates those areas only, and runs only
// their tests: a module-level mutant runs every test in the set, so a set of one area's
// tests keeps a rerun of that area to minutes.
const chosen = process.env.MUTATION_AREAS?.split(',').map((name) => name.trim())
for (const name of chosen ?? [])
  if (!(name in areas)) throw new Error(`MUTATION_AREAS: no area ${name} in stryker.config.mjs`)
export const selected = Object.fromEntries(
  Object.entries(areas).filter(([name, area]) =>
    chosen === undefined ? area.optIn !== true : chosen.includes(name),
  ),
)

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.mjs' },
  coverageAnalysis: 'perTest',
  // Two cores, shared with whatever else the machine runs.
  concurrency: 1,
  // Beyond the covering tests' own time: a mutant that hangs a retry loop is called a
  // timeout (killed) after 2 s more, not the default 5.
  timeoutMS: 2000,
  mutate: Object.values(selected).flatMap((area) => area.mutate),
  // dist stays: a few tests spawn the CLI, which runs the compiled (unmutated) code.
  ignorePatterns: ['coverage', 'reports', 'bench'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // A rerun after new tests only runs the mutants those tests (or code changes) touch.
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  tempDirName: '.stryker-tmp',
}
