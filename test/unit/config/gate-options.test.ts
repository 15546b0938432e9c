import { describe, expect, it } from 'vitest'
import { toGateAction, toGateCheck, toGateRead } from '../../../src/config/gate-options.js'
import type { GateFlags } from '../../../src/config/flags.js'

const flags = (more: Partial<GateFlags> = {}): GateFlags => ({
  ledger: 'releases.jsonl',
  lockTimeout: '30s',
  ...more,
})

describe('gate options', () => {
  it('keeps checkpoints under XDG_STATE_HOME when it is absolute, else under HOME', () => {
    expect(toGateRead(flags(), { XDG_STATE_HOME: '/state', HOME: '/home/u' }).stateDir).toBe(
      '/state/reproof',
    )
    expect(toGateRead(flags(), { XDG_STATE_HOME: 'rel', HOME: '/home/u' }).stateDir).toBe(
      '/home/u/.local/state/reproof',
    )
    expect(toGateRead(flags({ stateDir: '/mine' }), { HOME: '/home/u' }).stateDir).toBe('/mine')
    expect(toGateRead(flags(), {}).lockTimeoutMs).toBe(30_000)
  })

  it('asks a rollback for a reason and a digest, before anything is read', () => {
    const to = 'a'.repeat(64)
    expect(() => toGateAction('rollback', undefined, flags({ to, reason: '  ' }))).toThrow(
      '--reason must say why',
    )
    expect(() =>
      toGateAction('rollback', undefined, flags({ to: 'A'.repeat(64), reason: 'r' })),
    ).toThrow(/--to A+: a SHA-256 digest/)
    expect(toGateAction('rollback', undefined, flags({ to, reason: 'r' }))).toEqual({
      kind: 'rollback',
      to,
      reason: 'r',
      bundle: undefined,
    })
  })

  it('takes release versions as positive integers only', () => {
    expect(
      toGateAction(
        'deploy',
        'app',
        flags({ bundle: 'b.json', releaseVersion: '3', minVersion: '2' }),
      ),
    ).toEqual({ kind: 'deploy', artifact: 'app', bundle: 'b.json', version: 3, minVersion: 2 })
    expect(() => toGateAction('deploy', 'app', flags({ releaseVersion: '1.5' }))).toThrow(
      /--release-version/,
    )
  })

  it('refuses gate check without the trust the gates use', () => {
    expect(() => toGateCheck(flags(), {}, Date.now)).toThrow(/give the trust the gates use/)
    expect(toGateCheck(flags({ key: ['k.pub'] }), {}, Date.now).trust).toBeDefined()
  })
})
