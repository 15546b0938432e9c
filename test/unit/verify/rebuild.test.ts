import fs from 'node:fs'
import os from 'node:os'
import { describe, expect, it } from 'vitest'
import { rebuildCheck } from '../../../src/verify/rebuild.js'

// What `verify --rebuild` reads from a verified statement before it builds anything: a
// provenance that does not say how to rebuild is refused as input, and nothing is built,
// fetched or left behind.

const commit = 'a'.repeat(40)

/** A statement that says everything a rebuild needs, with `change` applied. */
function statement(change?: (s: Statement) => void): Statement {
  const s: Statement = {
    subject: [{ name: 'hello', digest: { sha256: 'b'.repeat(64) } }],
    predicate: {
      buildDefinition: {
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
  predicate: {
    buildDefinition: {
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

  it.each([
    ['no source', (s: Statement) => delete s.predicate.buildDefinition.externalParameters.source],
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

  it('refuses nothing it can read, and then looks for the commit in the repository given', async () => {
    // A complete recipe gets as far as the repository, which does not exist here.
    expect(await refusal(statement())).toEqual(
      expect.objectContaining({
        code: 'E_INPUT',
        message: `--source /nonexistent/repository: the recorded commit ${commit} is not in this repository; fetch it first`,
      }),
    )
  })
})
