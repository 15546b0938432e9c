import { describe, expect, it, vi } from 'vitest'
import { runSync } from '../../../src/sandbox/process.js'

describe('runSync', () => {
  it("captures the command's errors whether or not it is given input, never passing them through", () => {
    // Node's execFileSync copies a child's stderr to this process's unless told its stdio.
    const written = vi.spyOn(process.stderr, 'write')
    for (const input of [undefined, 'data on stdin\n']) {
      const run = () =>
        runSync(['sh', '-c', 'cat >/dev/null; echo "::error::from git" >&2; exit 3'], {
          env: { PATH: process.env.PATH ?? '' },
          ...(input === undefined ? {} : { input }),
          timeoutMs: 10_000,
          maxBuffer: 1 << 20,
        })
      expect(run).toThrow(
        expect.objectContaining({ stderr: Buffer.from('::error::from git\n') }) as Error,
      )
    }
    expect(written).not.toHaveBeenCalled()
    written.mockRestore()
    const out = runSync(['sh', '-c', 'tr a-z A-Z'], {
      env: { PATH: process.env.PATH ?? '' },
      input: 'echo\n',
      timeoutMs: 10_000,
      maxBuffer: 1 << 20,
    })
    expect(out.toString()).toBe('ECHO\n')
  })
})
