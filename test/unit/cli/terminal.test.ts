import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isSmartTerminal, useColor } from '../../../src/cli/output.js'
import { createStatusDisplay } from '../../../src/cli/views/build-progress.js'
import { main } from '../../../src/cli/main.js'

const tty = { isTTY: true }
const pipe = { isTTY: false }

describe('colour and the terminal', () => {
  it('colours a terminal, not a pipe, unless told otherwise', () => {
    expect(useColor(tty, {})).toBe(true)
    expect(useColor(pipe, {})).toBe(false)
    expect(useColor(tty, { TERM: 'dumb' })).toBe(false)
  })

  it('takes NO_COLOR only when it is set to something (no-color.org)', () => {
    expect(useColor(tty, { NO_COLOR: '1' })).toBe(false)
    expect(useColor(tty, { NO_COLOR: 'false' })).toBe(false)
    expect(useColor(tty, { NO_COLOR: '' })).toBe(true)
  })

  it('takes FORCE_COLOR first, as Node does: 0 and false turn colour off, anything else on', () => {
    expect(useColor(pipe, { FORCE_COLOR: '1' })).toBe(true)
    expect(useColor(pipe, { FORCE_COLOR: 'true' })).toBe(true)
    expect(useColor(tty, { FORCE_COLOR: '3', NO_COLOR: '1', TERM: 'dumb' })).toBe(true)
    expect(useColor(tty, { FORCE_COLOR: '0' })).toBe(false)
    expect(useColor(tty, { FORCE_COLOR: 'false' })).toBe(false)
    // Empty: as if unset.
    expect(useColor(pipe, { FORCE_COLOR: '' })).toBe(false)
    expect(useColor(tty, { FORCE_COLOR: '' })).toBe(true)
  })

  it('decides from these variables alone, and never colours where NO_COLOR is set and FORCE_COLOR is not', () => {
    const value = fc.option(fc.constantFrom('', '0', '1', 'false', 'true', 'dumb', 'xterm'), {
      nil: undefined,
    })
    fc.assert(
      fc.property(fc.boolean(), value, value, value, (isTTY, force, no, term) => {
        const env = { FORCE_COLOR: force, NO_COLOR: no, TERM: term }
        const colour = useColor({ isTTY }, env)
        if ((force === undefined || force === '') && no !== undefined && no !== '')
          expect(colour).toBe(false)
        if (force === undefined || force === '')
          if (no === undefined || no === '') expect(colour).toBe(isSmartTerminal({ isTTY }, env))
      }),
    )
  })

  it('moves the cursor only on a terminal that is not TERM=dumb', () => {
    const drawn = (env: Record<string, string>) => {
      let text = ''
      const display = createStatusDisplay({
        stdout: { write: () => true },
        stderr: { write: (s: string) => (text += s), isTTY: true },
        env,
      })
      display.onEvent({ kind: 'run-started', id: 'a' })
      display.onEvent({ kind: 'run-output', id: 'a', line: 'compiling' })
      display.stop()
      return text
    }
    expect(drawn({ TERM: 'xterm' })).toContain('\u001b[')
    const dumb = drawn({ TERM: 'dumb' })
    expect(dumb).not.toContain('\u001b[')
    expect(dumb).toContain('run A started')
  })

  it('wraps help to the terminal, and to 80 columns elsewhere', async () => {
    const help = async (stdout: { isTTY?: boolean; columns?: number }) => {
      let text = ''
      const code = await main(['node', 'reproof', 'build', '--help'], {
        stdout: { ...stdout, write: (s: string) => (text += s) },
        stderr: { write: () => true },
        env: {},
      })
      expect(code).toBe(0)
      // Lines longer than the width are single words that cannot be broken.
      return text.split('\n').filter((line) => line.trim().includes(' '))
    }
    for (const [stdout, width] of [
      [{ isTTY: true, columns: 60 }, 60],
      [{ isTTY: true, columns: 120 }, 120],
      [{ isTTY: false, columns: 60 }, 80],
      [{}, 80],
    ] as const) {
      const lines = await help(stdout)
      expect(lines.length).toBeGreaterThan(20)
      expect(lines.filter((line) => line.length > width)).toEqual([])
    }
  })
})
