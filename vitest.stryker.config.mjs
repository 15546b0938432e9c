// The Vitest config Stryker runs: the project's own, limited to the tests that
// stryker.config.mjs names for the areas it mutates (all, or those MUTATION_AREAS names).
import { defineConfig } from 'vitest/config'
import base from './vitest.config.ts'
import { selected } from './stryker.config.mjs'

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [...new Set(Object.values(selected).flatMap((area) => area.tests))],
  },
})
