import { describe, expect, it } from 'vitest'
import { main } from '../../../src/cli/main.js'

// The exit code and stderr of one command line, with nothing of it run.
const run = async (args: string[]) => {
  let stdout = ''
  let stderr = ''
  const code = await main(['node', 'reproof', ...args], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {},
  })
  return { code, stdout, stderr }
}

describe('help and version', () => {
  it('succeed when they are all that is asked', async () => {
    for (const args of [
      ['--help'],
      ['-V'],
      ['--version'],
      ['verify', '--help'],
      ['gate', 'deploy', '-h'],
      ['help', 'verify'],
      ['help'],
    ]) {
      const { code, stdout } = await run(args)
      expect(code, args.join(' ')).toBe(0)
      expect(stdout, args.join(' ')).not.toBe('')
    }
  })

  it('are a usage error among other arguments: exit 0 would be a verify that never ran', async () => {
    for (const args of [
      ['verify', '-V', '--bundle', 'b.json', '--key', 'k.pub'],
      ['verify', 'out/app', '-V', '--bundle', 'b.json'],
      ['verify', '-h', '--bundle', 'b.json'],
      ['verify', 'out/app', '--bundle', 'b.json', '--help'],
      ['gate', 'deploy', '--env', 'prod', '--version'],
      ['diff', 'a', 'b', '--help'],
    ]) {
      const { code, stderr } = await run(args)
      expect(code, args.join(' ')).toBe(2)
      expect(stderr).toMatch(
        /^reproof: --(help|version) among other arguments: nothing was run or checked/,
      )
    }
  })
})

describe('usage errors', () => {
  it('are one line that begins as every error does, and JSON on stdout under --json', async () => {
    for (const [args, message] of [
      [['verify', 'out/app', '--json'], "required option '--bundle <file>' not specified"],
      [['diff', 'a', 'b', '--json', '--bogus'], "unknown option '--bogus'"],
      [['gate', 'status', '--json'], "required option '--env <name>' not specified"],
    ] as const) {
      const { code, stdout, stderr } = await run([...args])
      expect(code, args.join(' ')).toBe(2)
      expect(stderr.split('\n')[0]).toBe(`reproof: ${message}`)
      expect(JSON.parse(stdout)).toEqual({ error: { code: 'E_USAGE', exit: 2, message } })
    }
    // Without --json, nothing on stdout; a control character in an argument is escaped.
    const { code, stdout, stderr } = await run(['diff', 'a', 'b', '--x\u001b[2J'])
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toBe("reproof: unknown option '--x\\x1b[2J'\n")
    // A line break in an argument cannot start a line of reproof's own; a backslash and
    // an n stay what they are; commander's suggestion keeps its line.
    const forged = await run(['diff', 'a', 'b', '--x\nreproof: verified', '--dir=C:\\new'])
    expect(forged.stderr).toBe("reproof: unknown option '--x\\nreproof: verified'\n")
    const backslash = await run(['diff', 'a', 'b', '--dir=C:\\new'])
    expect(backslash.stderr).toBe("reproof: unknown option '--dir=C:\\new'\n")
    const suggested = await run(['dif'])
    expect(suggested.stderr.split('\n').slice(0, 2)).toEqual([
      "reproof: unknown command 'dif'",
      '(Did you mean diff?)',
    ])
  })
})
