import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupTemp, listDir, makeTemp, runCli } from '../helpers.js'

afterEach(cleanupTemp)

/**
 * A build that would sign with `signing`: refused before it builds, or not. With a
 * builder id of its own unless `builderId` is null (taken from the runner's variables).
 */
function signedBuild(
  dir: string,
  signing: string[],
  {
    builderId = 'https://ci.example.com',
    env,
  }: { builderId?: string | null; env?: Record<string, string> } = {},
) {
  return runCli(
    [
      'build',
      '-C',
      dir,
      '-o',
      'out.txt',
      '--bundle',
      path.join(dir, 'b.json'),
      ...(builderId === null ? [] : ['--builder-id', builderId]),
      ...signing,
      '--',
      'sh',
      '-c',
      'echo x > out.txt',
    ],
    env,
  )
}

describe('signing inputs are checked before anything is built or written', () => {
  it('refuses a timeout or retry count that is none, whichever the method', async () => {
    const dir = makeTemp()
    expect((await runCli(['keygen', '--out', path.join(dir, 'k')])).code).toBe(0)
    const key = ['--key', path.join(dir, 'k.key')]
    for (const [flag, value] of [
      ['--sign-timeout', 'garbage'],
      ['--sign-timeout', '0s'],
      ['--sign-timeout', '1y'],
      ['--sign-retries', 'garbage'],
      ['--sign-retries', '-1'],
      ['--sign-retries', '1e999'],
    ] as const) {
      const run = await signedBuild(dir, [...key, flag, value])
      expect(run.code, `${flag} ${value}: ${run.stderr}`).toBe(2)
      expect(run.stderr).toContain(flag)
      expect(fs.existsSync(path.join(dir, 'out.txt'))).toBe(false)
    }
  })

  it('refuses a builder id that is not a URI, as SLSA has it, before building', async () => {
    const dir = makeTemp()
    expect((await runCli(['keygen', '--out', path.join(dir, 'k')])).code).toBe(0)
    for (const id of ['ci', 'https://ci.example.com/a b', '']) {
      const run = await runCli(
        ['build', '-C', dir, '-o', 'out.txt', '--bundle', path.join(dir, 'b.json')].concat([
          '--key',
          path.join(dir, 'k.key'),
          '--builder-id',
          id,
          '--',
          'sh',
          '-c',
          'echo x > out.txt',
        ]),
      )
      expect(run.code, `${id}: ${run.stderr}`).toBe(2)
      expect(run.stderr).toMatch(/--builder-id/)
      expect(fs.existsSync(path.join(dir, 'out.txt'))).toBe(false)
    }
  })

  it("refuses a builder id the runner's variables make that is no https URL of a workflow", async () => {
    const dir = makeTemp()
    expect((await runCli(['keygen', '--out', path.join(dir, 'k')])).code).toBe(0)
    const build = (serverUrl: string) =>
      signedBuild(dir, ['--key', path.join(dir, 'k.key')], {
        builderId: null,
        env: {
          GITHUB_ACTIONS: 'true',
          GITHUB_SERVER_URL: serverUrl,
          GITHUB_WORKFLOW_REF: 'acme/app/.github/workflows/release.yml@refs/heads/main',
        },
      })
    for (const serverUrl of ['evil', 'http://github.com', 'https://git hub.com']) {
      const run = await build(serverUrl)
      expect(run.code, `${serverUrl}: ${run.stderr}`).toBe(3)
      expect(run.stderr).toMatch(
        /GITHUB_SERVER_URL and GITHUB_WORKFLOW_REF make .*not an https URL/,
      )
      expect(fs.existsSync(path.join(dir, 'out.txt'))).toBe(false)
    }
  })

  it('refuses an identity token file that is no regular file, at once', async () => {
    const dir = makeTemp()
    const fifo = path.join(dir, 'fifo')
    execFileSync('mkfifo', [fifo])
    for (const file of [fifo, '/dev/zero']) {
      const run = await signedBuild(dir, ['--keyless', '--identity-token-file', file])
      expect(run.code, run.stderr).toBe(2)
      expect(run.stderr).toMatch(/--identity-token-file .*: not a regular file/)
    }
  })

  it('refuses a token that is no JWT in words, never showing it', async () => {
    const dir = makeTemp()
    fs.writeFileSync(path.join(dir, 'out.txt'), '')
    const record = path.join(dir, 'record.json')
    const built = await runCli([
      ...['build', '-C', dir, '-o', 'out.txt', '--record', record, '--no-vary', 'file-times'],
      ...['--', 'sh', '-c', 'echo x > out.txt'],
    ])
    expect(built.code, built.stderr).toBe(0)
    for (const token of [
      'not-a-token-at-all',
      'a.b.c',
      `x.${Buffer.from('[1]').toString('base64url')}.y`,
    ]) {
      fs.writeFileSync(path.join(dir, 'token'), token)
      const run = await runCli([
        ...['attest', '--record', record, '--bundle', path.join(dir, 'b.json'), '--keyless'],
        ...['--identity-token-file', path.join(dir, 'token'), '--fulcio-url', 'http://127.0.0.1:1'],
        ...['--rekor-url', 'http://127.0.0.1:1', '--builder-id', 'https://ci.example.com'],
      ])
      expect(run.code, run.stderr).toBe(2)
      expect(run.stderr).toMatch(/: not an OIDC identity token \(a JWT/)
      expect(run.stderr).not.toContain(token)
    }
  })

  it('refuses a key base name that is none, or under a file, leaving nothing', async () => {
    const dir = makeTemp()
    fs.writeFileSync(path.join(dir, 'file'), '')
    for (const out of ['', `${dir}/`, path.join(dir, 'file', 'k')]) {
      const run = await runCli(['keygen', '--out', out])
      expect(run.code, `${out}: ${run.stderr}`).toBe(2)
      expect(run.stderr.trim().split('\n')).toHaveLength(1)
    }
    expect(listDir(dir)).toEqual(['file'])
  })
})
