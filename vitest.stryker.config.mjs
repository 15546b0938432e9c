// The Vitest config Stryker runs: the project's own, limited to the tests that
// stryker.config.mjs names for the areas it mutates (all, or those MUTATION_AREAS names).
import path from 'node:path'
import { defineConfig } from 'vitest/config'
import base from './vitest.config.ts'
import { selected } from './stryker.config.mjs'

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [...new Set(Object.values(selected).flatMap((area) => area.tests))],
    // Tests that spawn the CLI run the compiled, unmutated code: they cannot kill a mutant,
    // and would run (a minute apiece) for every mutant their in-process part covers.
    testNamePattern: /^(?!.*(?:8 processes|8 gates|killed with SIGKILL)).*$/,
    // The gate's test releases, built once in this sandbox and kept for every mutant.
    env: { ...base.test?.env, REPROOF_TEST_KIT_DIR: path.join(process.cwd(), '.gate-kit') },
  },
})
