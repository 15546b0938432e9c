import os from 'node:os'
import type { VariationName } from '../config/variations.js'
import type { Capabilities } from './run-plan.js'
import { runCaptured } from './process.js'

// Locales whose collation differs most from C's; any one installed will do.
const UNUSUAL_LOCALES = ['et_EE.UTF-8', 'fr_CH.UTF-8', 'tr_TR.UTF-8', 'de_DE.UTF-8', 'en_US.UTF-8']

/** Finds out what the variations can use, asking only about the variations requested. */
export async function detectCapabilities(
  variations: readonly VariationName[],
): Promise<Capabilities> {
  const wants = (...names: VariationName[]): boolean => names.some((n) => variations.includes(n))
  const [faketime, namespaces, taskset, locale] = await Promise.all([
    wants('time') ? findFaketime() : undefined,
    wants('user', 'hostname', 'domain')
      ? succeeds(['unshare', '--user', '--map-root-user', '--uts', 'true'])
      : false,
    wants('cpus') ? succeeds(['taskset', '-c', '0', 'true']) : false,
    wants('locale') ? findLocale() : undefined,
  ])
  const info = os.userInfo()
  return {
    faketime,
    namespaces,
    taskset,
    cpuCount: os.availableParallelism(),
    unusualLocale: locale,
    uid: info.uid,
    gid: info.gid,
  }
}

/** The wrapper must really shift the clock: a broken preload would make the variation a lie. */
async function findFaketime(): Promise<string | undefined> {
  const result = await runCaptured(['faketime', '-f', '+397d', 'date', '+%s'], {
    timeoutMs: 10_000,
  })
  const shifted = Number(result.stdout.trim()) - Math.floor(Date.now() / 1000)
  return result.code === 0 && shifted > 300 * 86_400 ? 'faketime' : undefined
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
