import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { BuildResult } from '../../src/build/run-build.js'
import { cleanupTemp, copyFixture, listDir, makeTemp, makeTempParent, runCli } from '../helpers.js'

afterEach(cleanupTemp)

async function build(source: string, args: string[]) {
  const parent = makeTempParent()
  const run = await runCli(['build', '-C', source, '--temp-dir', parent, ...args])
  expect(listDir(parent)).toEqual([])
  const result =
    args.includes('--json') && run.stdout !== ''
      ? (JSON.parse(run.stdout) as BuildResult)
      : undefined
  return { ...run, result }
}

/** `sh -c script` as the build, each of `outs` an --out glob. */
function shellBuild(source: string, outs: string[], script: string, flags: string[] = []) {
  return build(source, [...outs.flatMap((o) => ['-o', o]), ...flags, '--', 'sh', '-c', script])
}

describe('globs stay inside the build root', () => {
  it('refuses a glob that brace expansion turns into `..`, from a flag or the config file', async () => {
    const source = copyFixture('hello-c')
    const outDir = makeTemp()
    const glob = '.{.,}/.{.,}/.{.,}/.{.,}/.{.,}/.{.,}/.{.,}/.{.,}/etc/hostname'
    const flag = await build(source, ['-o', glob, '--out-dir', outDir, '--', 'make'])
    expect(flag.code).toBe(2)
    expect(flag.stderr.trim().split('\n')).toEqual([
      `reproof: --out ${glob}: globs are relative to the build root and may not contain ".." (it expands to ../../../../../../../../etc/hostname)`,
    ])
    fs.writeFileSync(
      path.join(source, 'reproof.config.json'),
      JSON.stringify({ command: ['make'], out: ['{x,..}/secret'] }),
    )
    const config = await build(source, ['--out-dir', outDir])
    expect(config.code).toBe(2)
    expect(config.stderr).toContain(`reproof.config.json "out" {x,..}/secret: globs are relative`)
    expect(listDir(outDir)).toEqual([])
  })

  it('refuses a directory link that leads outside, naming the glob and the path, copying nothing', async () => {
    const source = copyFixture('hello-c')
    const outside = makeTemp()
    fs.writeFileSync(path.join(outside, 'secret'), 'secret')
    const outDir = makeTemp()
    for (const glob of ['lnk/*', 'lnk/secret']) {
      const { code, stderr } = await shellBuild(
        source,
        [glob, 'hello'],
        `make && ln -s ${outside} lnk`,
        ['--json', '--out-dir', outDir],
      )
      expect(code, glob).toBe(2)
      expect(stderr.trim().split('\n'), glob).toEqual([
        `reproof: --out ${glob}: lnk: leads outside the build root; refused`,
      ])
    }
    expect(listDir(outDir)).toEqual([])
  })

  it('refuses to write through a link in --out-dir that leads outside it, copying nothing', async () => {
    const source = copyFixture('hello-c')
    const outDir = makeTemp()
    const elsewhere = makeTemp()
    fs.symlinkSync(elsewhere, path.join(outDir, 'bin'))
    const { code, stderr } = await shellBuild(
      source,
      ['a.txt', 'bin/*'],
      'echo a > a.txt && mkdir bin && echo app > bin/app',
      ['--json', '--out-dir', outDir],
    )
    expect(code).toBe(2)
    expect(stderr.trim().split('\n')).toEqual([
      `reproof: --out-dir ${outDir}: artifact bin/app would be written outside it through a symbolic link; nothing was copied`,
    ])
    expect(listDir(elsewhere)).toEqual([])
    expect(listDir(outDir)).toEqual(['bin'])
  })
})
