import { describe, expect, it } from 'vitest'
import { errorJson, reportError, type Streams } from '../../../src/cli/output.js'
import { ReproofError } from '../../../src/errors.js'
import { limitError, memberTooLarge } from '../../../src/formats/limits.js'
import { main } from '../../../src/cli/main.js'

function capture(env: Streams['env'] = {}) {
  let stdout = ''
  let stderr = ''
  const streams: Streams = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
  }
  return { streams, out: () => stdout, err: () => stderr }
}

describe('the error printer', () => {
  it('names the input first, then what was wanted and found, hints and the build log', () => {
    const { streams, out, err } = capture()
    const code = reportError(
      new ReproofError('E_INPUT', '--key k.pub: not a PEM public key', {
        path: 'k.pub',
        wanted: 'SPKI, ECDSA P-256 or Ed25519',
        found: { bytes: 4 },
        hint: 'make one with reproof keygen\nor give the .pub file',
        detail: 'line 1\nline 2',
      }),
      streams,
    )
    expect(code).toBe(2)
    expect(out()).toBe('')
    expect(err()).toBe(
      [
        'reproof: --key k.pub: not a PEM public key',
        '  wanted: SPKI, ECDSA P-256 or Ed25519',
        '  found: {"bytes":4}',
        '  hint: make one with reproof keygen',
        '  hint: or give the .pub file',
        '  --- last lines of the build log ---',
        '  | line 1',
        '  | line 2',
        '',
      ].join('\n'),
    )
  })

  it('with --json, also writes the error as one JSON object on stdout', () => {
    const { streams, out, err } = capture()
    const error = new ReproofError('E_LEDGER', 'ledger.jsonl:3: the chain is broken', {
      path: 'ledger.jsonl',
      hint: 'a person must look',
    })
    expect(reportError(error, streams, true)).toBe(3)
    expect(err()).toContain('reproof: ledger.jsonl:3: the chain is broken\n')
    expect(JSON.parse(out())).toEqual({
      error: {
        code: 'E_LEDGER',
        exit: 3,
        message: 'ledger.jsonl:3: the chain is broken',
        hint: 'a person must look',
        path: 'ledger.jsonl',
      },
    })
  })

  it('names the flag that raises a work limit', () => {
    expect(
      errorJson(limitError('a.zip', 'more than 3 archive entries in all', '--max-entries'), 2),
    ).toEqual({
      code: 'E_INPUT',
      exit: 2,
      message: 'a.zip: more than 3 archive entries in all',
      hint: 'raise --max-entries if the input is trusted',
      path: 'a.zip',
      limit: '--max-entries',
    })
    expect(errorJson(memberTooLarge('a!b', 7, 5), 2)).toMatchObject({
      wanted: 5,
      found: 7,
      limit: '--max-member-bytes',
    })
  })

  it('keeps bad input to one line when the message already names the value', () => {
    const { streams, err } = capture()
    reportError(
      new ReproofError('E_INPUT', '--max-age: "5x" is not a duration', { found: '5x' }),
      streams,
    )
    expect(err()).toBe('reproof: --max-age: "5x" is not a duration\n')
  })

  it('calls anything else an internal error, exit 3, and escapes what it shows', () => {
    const { streams, out, err } = capture()
    expect(reportError(new Error('bad\u001b[31m name'), streams, true)).toBe(3)
    expect(err()).not.toContain('\u001b')
    expect(err().split('\n')).toHaveLength(2)
    expect(JSON.parse(out())).toMatchObject({ error: { code: 'E_INTERNAL', exit: 3 } })
  })

  it('calls a system call the machine refused (a full disk, a limit) the environment’s, not a bug', () => {
    for (const code of ['ENOSPC', 'EDQUOT', 'EFBIG', 'EROFS', 'EMFILE', 'ENFILE', 'EIO']) {
      const { streams, out, err } = capture()
      const failed = Object.assign(new Error(`${code}: it failed, write`), {
        code,
        syscall: 'write',
        path: '/tmp/x\u001b[31m',
      })
      expect(reportError(failed, streams, true)).toBe(3)
      expect(err()).toMatch(
        /^reproof: the system refused a write on \/tmp\/x.* not a fault of reproof's\n$/,
      )
      expect(err()).not.toContain('\u001b')
      expect(JSON.parse(out())).toMatchObject({ error: { code: 'E_ENVIRONMENT', exit: 3 } })
    }
    // Any other errno is still a bug's.
    const other = capture()
    reportError(Object.assign(new Error('EBADF: bad'), { code: 'EBADF' }), other.streams)
    expect(other.err()).toMatch(/^reproof: internal error: /)
  })

  it('shows causes and the stack only with REPROOF_DEBUG', () => {
    const root = new Error('EACCES: permission denied')
    const error = new ReproofError('E_BUILD', 'could not set up the sandbox', {}, { cause: root })
    const quiet = capture()
    reportError(error, quiet.streams)
    expect(quiet.err()).toBe('reproof: could not set up the sandbox\n')
    const loud = capture({ REPROOF_DEBUG: '1' })
    reportError(error, loud.streams)
    expect(loud.err()).toContain('  caused by: EACCES: permission denied\n')
    expect(loud.err()).toContain('ReproofError: could not set up the sandbox\n    at ')
  })

  it('writes JSON for an error only when --json is reproof’s own flag, not the build’s', async () => {
    const mine = capture()
    expect(
      await main(
        ['node', 'reproof', 'verify', '--json', 'x', '--bundle', 'nope.json', '--key', 'k'],
        mine.streams,
      ),
    ).toBe(2)
    expect(JSON.parse(mine.out())).toMatchObject({ error: { code: 'E_INPUT', exit: 2 } })
    const theirs = capture()
    expect(
      await main(
        ['node', 'reproof', 'verify', 'x', '--bundle', 'nope.json', '--key', 'k', '--', '--json'],
        theirs.streams,
      ),
    ).toBe(2)
    expect(theirs.out()).toBe('')
  })
})
