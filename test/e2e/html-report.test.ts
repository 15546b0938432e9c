import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupTemp, makeTemp, runCli } from '../helpers.js'

afterEach(cleanupTemp)

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p))

/** Headless Chromium as this machine allows it: no sandbox (root), no network chatter. */
function chromium(args: string[], userDataDir: string): string {
  const run = spawnSync(
    CHROMIUM ?? 'chromium',
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${userDataDir}`,
      ...args,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  )
  expect(run.status, run.stderr).toBe(0)
  return run.stdout
}

describe('the HTML report in a real browser', () => {
  it('renders the differences side by side, and a screenshot shows them', async () => {
    expect(CHROMIUM, 'chromium is installed by .ci/run').toBeDefined()
    const dir = makeTemp()
    for (const side of ['a', 'b']) {
      fs.mkdirSync(path.join(dir, side, 'pkg'), { recursive: true })
      fs.writeFileSync(
        path.join(dir, side, 'pkg', 'version.txt'),
        `name: demo\nbuilt: ${side === 'a' ? '2026-11-22T10:00:00Z' : '2027-12-24T10:00:00Z'}\nok\n`,
      )
      fs.writeFileSync(
        path.join(dir, side, 'pkg', 'blob.bin'),
        Buffer.from([0, 1, 2, side === 'a' ? 3 : 4, 5]),
      )
    }
    execFileSync(
      'bash',
      [
        '-c',
        'tar --sort=name --mtime=@0 -czf a.tgz -C a pkg && tar --sort=name --mtime=@0 -czf b.tgz -C b pkg',
      ],
      { cwd: dir },
    )
    const page = path.join(dir, 'report.html')
    const run = await runCli([
      'diff',
      path.join(dir, 'a.tgz'),
      path.join(dir, 'b.tgz'),
      '--html',
      page,
    ])
    expect(run.code).toBe(1)

    const dom = chromium(['--dump-dom', `file://${page}`], path.join(dir, 'profile-dom'))
    expect(dom).toContain('a.tgz!pkg/version.txt')
    expect(dom).toMatch(
      /<td class="code del">built: 2026-11-22T10:00:00Z<\/td><td class="code add">built: 2027-12-24T10:00:00Z<\/td>/,
    )
    expect(dom).toContain('class="cause">timestamp')

    const png = path.join(dir, 'report.png')
    chromium(
      ['--window-size=1200,900', `--screenshot=${png}`, `file://${page}`],
      path.join(dir, 'profile-shot'),
    )
    const bytes = fs.readFileSync(png)
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG')
    expect(bytes.length).toBeGreaterThan(20_000)
    if (process.env.REPROOF_KEEP_SCREENSHOT !== undefined)
      fs.copyFileSync(png, process.env.REPROOF_KEEP_SCREENSHOT)
  })
})
