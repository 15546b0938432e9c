import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { VariationName } from '../config/variations.js'
import { readAddressRandomization, type AddressRandomization } from './address-randomization.js'
import { probeFaketime, type FaketimeProbe } from './faketime.js'
import { findOnPath } from '../find-on-path.js'
import type { SandboxSupport } from './namespace-sandbox.js'
import { runCaptured } from './process.js'
import { FAKETIME_OFFSET_SECONDS, type Capabilities } from './run-plan.js'

const noFaketime: FaketimeProbe = { faketime: undefined }

// Locales whose collation differs most from C's; any one installed will do.
const UNUSUAL_LOCALES = ['et_EE.UTF-8', 'fr_CH.UTF-8', 'tr_TR.UTF-8', 'de_DE.UTF-8', 'en_US.UTF-8']

/**
 * Finds out what the sandbox and the variations can use, asking only about what was
 * requested. `sandbox` says whether the namespace sandbox can be had (the caller sets the
 * first run's up to learn it, at the same time as these probes); `env` is the caller's:
 * the toolchains a build will find are on its PATH.
 */
export async function detectCapabilities(
  variations: readonly VariationName[],
  sandbox: Promise<SandboxSupport>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Capabilities> {
  const wants = (...names: VariationName[]): boolean => names.some((n) => variations.includes(n))
  const [sandboxSupport, faketime, namespaces, taskset, locale] = await Promise.all([
    sandbox,
    wants('time') ? probeFaketime(FAKETIME_OFFSET_SECONDS, env) : noFaketime,
    wants('user', 'hostname', 'domain')
      ? succeeds(['unshare', '--user', '--map-root-user', '--uts', 'true'])
      : false,
    wants('cpus') ? succeeds(['taskset', '-c', '0', 'true']) : false,
    wants('locale') ? findLocale() : undefined,
  ])
  const info = os.userInfo()
  return {
    addressRandomization: await detectAddressRandomization(env),
    sandbox: sandboxSupport,
    faketime: faketime.faketime,
    ...(faketime.refused === undefined ? {} : { faketimeRefused: faketime.refused }),
    namespaces,
    taskset,
    cpuCount: os.availableParallelism(),
    unusualLocale: locale,
    zoneNames: wants('tz') && hasZoneNames(),
    uid: info.uid,
    gid: info.gid,
    userName: info.username,
  }
}

/** Randomization as the runs will have it; setarch turns an inherited "off" back on. */
async function detectAddressRandomization(env: NodeJS.ProcessEnv): Promise<AddressRandomization> {
  const { kernelOff, kernelPartial, inheritedOff } = readAddressRandomization()
  if (kernelOff) return { kind: 'kernel-off' }
  if (!inheritedOff) return kernelPartial ? { kind: 'kernel-partial' } : { kind: 'on' }
  // `setarch <machine>` sets the personality to the machine's, with no flag but those
  // given: the one that turns randomization off is cleared. By its path: the build's
  // own PATH (--env PATH) need not have it.
  const setarch = findOnPath('setarch', env.PATH)
  if (setarch === undefined)
    return { kind: 'inherited-off', restore: undefined, partial: kernelPartial }
  const restore = [setarch, os.machine(), '--']
  const cleared = await runCaptured([...restore, 'cat', '/proc/self/personality'], {
    timeoutMs: 10_000,
  })
  return {
    kind: 'inherited-off',
    partial: kernelPartial,
    restore:
      cleared.code === 0 && !readAddressRandomization(() => cleared.stdout).inheritedOff
        ? restore
        : undefined,
  }
}

/** Whether tzdata holds the far zones run B is given by name; the sandbox shows the same files. */
function hasZoneNames(): boolean {
  return ['Etc/GMT-14', 'Etc/GMT+12'].every((zone) =>
    fs.existsSync(path.join('/usr/share/zoneinfo', zone)),
  )
}

async function succeeds(argv: string[]): Promise<boolean> {
  const result = await runCaptured(argv, { timeoutMs: 10_000 })
  return result.code === 0
}

async function findLocale(): Promise<string | undefined> {
  const result = await runCaptured(['locale', '-a'], { timeoutMs: 10_000 })
  if (result.code !== 0) return undefined
  const installed = new Set(
    result.stdout.split('\n').map((l) => l.trim().toLowerCase().replace('utf-8', 'utf8')),
  )
  return UNUSUAL_LOCALES.find((l) => installed.has(l.toLowerCase().replace('utf-8', 'utf8')))
}
