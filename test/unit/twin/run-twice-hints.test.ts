import { describe, expect, it } from 'vitest'
import { failureHints, timedOut } from '../../../src/twin/run-twice.js'

const changed = ['a fresh, empty HOME', 'no network', 'variations in run B: path, time']

describe('failureHints', () => {
  it('names --network first when the log shows the build tried the network', () => {
    for (const line of [
      'curl: (6) Could not resolve host: example.com',
      'npm ERR! request to https://registry.npmjs.org failed, reason: getaddrinfo EAI_AGAIN',
      'error: failed to get `serde` as a dependency: failed to lookup address information',
      'connect ECONNREFUSED 127.0.0.1:8080',
    ]) {
      const [first] = failureHints(line, changed)
      expect(first).toMatch(/tried to reach the network.*--network/)
    }
  })

  it('does not blame the network when it was allowed, or when the log says nothing of it', () => {
    expect(failureHints('cc: error: foo.c: No such file', changed).join('\n')).not.toMatch(
      /tried to reach the network/,
    )
    const online = changed.filter((c) => c !== 'no network')
    expect(failureHints('Could not resolve host', online).join('\n')).not.toMatch(/tried/)
  })

  it('points at the fresh HOME and --env when the log mentions a toolchain home', () => {
    const hints = failureHints('error: rustup could not choose a version of cargo to run', changed)
    expect(hints.join('\n')).toMatch(/fresh, empty HOME.*--env CARGO_HOME --env RUSTUP_HOME/)
  })

  it('always ends with everything reproof changed and how to pass things through', () => {
    const hints = failureHints('', changed)
    expect(hints.at(-1)).toBe(
      'reproof changed: a fresh, empty HOME, no network, variations in run B: path, time; pass variables through with --env NAME, allow the network with --network',
    )
  })
})

describe('timedOut', () => {
  it('says no run was under way when the time ran out before one was', () => {
    expect(timedOut([], ['b'], 1000).message).toBe(
      'the builds did not finish within --timeout 1.0s: no run was under way yet (run B had not started). Whether the build is reproducible is unknown; nothing was written and a retry is safe',
    )
    expect(timedOut([], [], 1000).message).toContain(': no run was under way yet.')
  })
})
