import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { probeFaketime } from '../../../src/sandbox/faketime.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

/** A PATH whose `faketime` answers --version as libfaketime's does, then runs `body`. */
function fakeWrapper(body: string): NodeJS.ProcessEnv {
  const dir = makeTemp()
  const script = path.join(dir, 'faketime')
  fs.writeFileSync(
    script,
    `#!/bin/sh\nif [ "$1" = --version ]; then echo 'faketime: Version 0.9.10'; exit 0; fi\n${body}\n`,
    { mode: 0o755 },
  )
  return { PATH: `${dir}:/usr/bin:/bin` }
}

describe('the libfaketime probe', () => {
  it('says what a wrapper that fails printed, not that libfaketime is missing', async () => {
    const env = fakeWrapper("echo 'faketime: shm_open: File exists' >&2; exit 1")
    const probe = await probeFaketime(86_400 * 397, env)
    expect(probe.faketime).toBeUndefined()
    expect(probe.refused).toMatch(
      /^libfaketime did not shift the clock \(faketime -f \+[0-9]+ date: faketime: shm_open: File exists\)$/,
    )
  })

  it('refuses a wrapper that leaves the clock where it was', async () => {
    // Runs the command it is given (after -f and the offset) on the real clock.
    const env = fakeWrapper('shift 2; exec "$@"')
    const probe = await probeFaketime(86_400 * 397, env)
    expect(probe.faketime).toBeUndefined()
    expect(probe.refused).toMatch(/did not shift the clock \(.*: the real time\)$/)
  })

  it('takes a wrapper whose preload library is missing for no libfaketime', async () => {
    const env = fakeWrapper(
      'echo "ERROR: ld.so: object \'/usr/\\$LIB/faketime/libfaketime.so.1\' from LD_PRELOAD cannot be preloaded (cannot open shared object file): ignored." >&2; shift 2; exec "$@"',
    )
    expect(await probeFaketime(86_400 * 397, env)).toEqual({ faketime: undefined })
  })

  it('is silent where there is no wrapper at all', async () => {
    const probe = await probeFaketime(86_400 * 397, { PATH: makeTemp() })
    expect(probe).toEqual({ faketime: undefined })
  })
})
