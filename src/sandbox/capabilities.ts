import fs from 'node:fs'
import os from 'node:os'
import type { VariationName } from '../config/variations.js'
import { probeSandbox } from './namespace-sandbox.js'
import { removeFaketimeMemory, runCaptured } from './process.js'
import type { Capabilities } from './run-plan.js'

// Locales whose collation differs most from C's; any one installed will do.
const UNUSUAL_LOCALES = ['et_EE.UTF-8', 'fr_CH.UTF-8', 'tr_TR.UTF-8', 'de_DE.UTF-8', 'en_US.UTF-8']

/**
 * Finds out what the sandbox and the variations can use, asking only about what was
 * requested. `scratch` is a directory the sandbox probe may mount over.
 */
export async function detectCapabilities(
  variations: readonly VariationName[],
  sandbox: { wanted: boolean; scratch: string },
): Promise<Capabilities> {
  const wants = (...names: VariationName[]): boolean => names.some((n) => variations.includes(n))
  const [sandboxSupport, faketime, namespaces, taskset, locale] = await Promise.all([
    sandbox.wanted
      ? probeSandbox(sandbox.scratch)
      : ({ available: false, reason: 'turned off with --no-sandbox' } as const),
    wants('time') ? findFaketime() : undefined,
    wants('user', 'hostname', 'domain')
      ? succeeds(['unshare', '--user', '--map-root-user', '--uts', 'true'])
      : false,
    wants('cpus') ? succeeds(['taskset', '-c', '0', 'true']) : false,
    wants('locale') ? findLocale() : undefined,
  ])
  const info = os.userInfo()
  return {
    sandbox: sandboxSupport,
    faketime,
    namespaces,
    taskset,
    cpuCount: os.availableParallelism(),
    unusualLocale: locale,
    uid: info.uid,
    gid: info.gid,
  }
}

// Where distributions install libfaketime's preload library (Debian and Ubuntu by
// multiarch triplet, Fedora, Arch, Homebrew-style and source installs).
export const FAKETIME_LIBRARIES = [
  `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/faketime/libfaketime.so.1`,
  '/usr/lib64/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
  '/usr/local/lib/faketime/libfaketime.so.1',
]

/**
 * libfaketime's preload library, when installed and really shifting the clock: a
 * broken preload would make the time variation a lie. The library is preloaded
 * directly, not through the `faketime` wrapper, because the wrapper waits for every
 * descendant of the build, so a daemon the build leaves behind would hold it forever.
 */
async function findFaketime(): Promise<string | undefined> {
  for (const library of FAKETIME_LIBRARIES) {
    if (!fs.existsSync(library)) continue
    const result = await runCaptured(
      ['env', `LD_PRELOAD=${library}`, 'FAKETIME=+397d', 'date', '+%s'],
      { timeoutMs: 10_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
    )
    // `env` execs `date`, so the process that made libfaketime's shared memory is this one.
    if (result.pid !== undefined) await removeFaketimeMemory(result.pid)
    const shifted = Number(result.stdout.trim()) - Math.floor(Date.now() / 1000)
    if (result.code === 0 && shifted > 300 * 86_400) return library
  }
  return undefined
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
