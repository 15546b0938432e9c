import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { BuildResult } from '../../src/twin/run-build.js'
import { inheritedKeyrings } from '../../src/sandbox/keyrings.js'
import { tryOpenSandbox } from '../../src/sandbox/namespace-sandbox.js'
import { REFERENCE_SANDBOX } from '../../src/sandbox/run-plan.js'
import {
  BIN,
  cleanupTemp,
  copyFixture,
  git,
  listDir,
  makeTemp,
  makeTempParent,
  runCli,
  signedMakeBuild,
  spawnProgram,
  type CliRun,
} from '../helpers.js'
import { UNCOVERED_SOCKETS_NOTE } from '../../src/sandbox/host-sockets.js'
import { overlapNote, vsockNote } from '../../src/sandbox/shared-kernel.js'

afterEach(cleanupTemp)

// Every test here needs namespaces; where the kernel refuses them (some containers),
// the fallback has its own tests below, run by making namespaces unavailable on purpose.
const probeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reproof-probe-'))
const probe = await tryOpenSandbox({
  base: probeDir,
  dir: path.join(probeDir, 'run'),
  ...REFERENCE_SANDBOX,
  network: false,
  hide: [],
})
if ('sandbox' in probe) await probe.sandbox.close()
fs.rmSync(probeDir, { recursive: true })
const sandboxAvailable = 'sandbox' in probe
const withSandbox = sandboxAvailable ? describe : describe.skip

async function build(source: string, args: string[], parent = makeTempParent()) {
  // The pairs that explain a difference are tested in build-explain.test.ts.
  const run = await runCli([
    'build',
    '-C',
    source,
    '--temp-dir',
    parent,
    '--json',
    '--no-explain',
    ...args,
  ])
  expect(listDir(parent)).toEqual([])
  const result = run.stdout === '' ? undefined : (JSON.parse(run.stdout) as BuildResult)
  return { ...run, result }
}

function shellProject(): string {
  const dir = path.join(makeTemp(), 'project')
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'input.txt'), 'input\n')
  return dir
}

/** Processes whose command line holds `needle`, anywhere on the machine. */
function processesWith(needle: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^[0-9]+$/.test(p))
    .filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(needle)
      } catch {
        return false
      }
    })
    .map(Number)
}

describe.each([
  ['in the sandbox', [] as string[], sandboxAvailable],
  ['with process isolation (--no-sandbox)', ['--no-sandbox'], true],
])('a build that leaves processes behind, %s', (_label, flags, runnable) => {
  const shellBuild = (source: string, script: string) =>
    build(source, [...flags, '-o', 'out.txt', '--', 'sh', '-c', script])
  it.runIf(runnable)(
    'kills them when the command ends, names them, and never waits on them',
    async () => {
      const source = shellProject()
      // A unique duration, so that the check below finds only these sleeps.
      const seconds = String(3000 + Math.floor(Math.random() * 999))
      const started = Date.now()
      const { code, result } = await shellBuild(
        source,
        `sleep ${seconds} & setsid sleep ${seconds} & echo built > out.txt`,
      )
      // The sleeps hold the build's output pipes open: nothing may wait for them.
      expect(Date.now() - started).toBeLessThan(30_000)
      expect(code).toBe(0)
      // Named as they were when killed: on a loaded machine a forked shell may not have
      // become sleep yet, nor setsid.
      const warnings = result?.warnings.join('\n') ?? ''
      expect(warnings).toMatch(/run A: the build left 2 processes running/)
      for (const run of result?.runs ?? []) {
        expect(run.leftovers).toHaveLength(2)
        for (const name of run.leftovers) {
          expect(['sleep', 'setsid', 'sh']).toContain(name)
          expect(warnings).toContain(name)
        }
      }
      expect(processesWith(`sleep\0${seconds}`)).toEqual([])
    },
  )

  it.runIf(runnable)(
    'kills and names a process whose main thread has ended while its others run on',
    async () => {
      // Its main thread calls pthread_exit: /proc shows it as a zombie while a thread
      // holds the build's files and could write run A's output into run B's.
      const source = shellProject()
      const marker = `ghost-${String(Math.floor(Math.random() * 1e9))}`
      fs.writeFileSync(
        path.join(source, 'ghost.c'),
        [
          '#include <pthread.h>',
          '#include <unistd.h>',
          'static void *hold(void *arg) { (void)arg; sleep(600); return 0; }',
          'int main(void) { pthread_t t; pthread_create(&t, 0, hold, 0); pthread_exit(0); }',
        ].join('\n'),
      )
      const script = `cc -pthread -o ${marker} ghost.c && (./${marker} &) && sleep 0.5 && echo built > out.txt`
      const { code, result } = await shellBuild(source, script)
      expect(code, JSON.stringify(result?.warnings)).toBe(0)
      for (const run of result?.runs ?? []) expect(run.leftovers).toContain(marker.slice(0, 15))
      expect(processesWith(`./${marker}`)).toEqual([])
    },
  )
})

withSandbox('the build sandbox', () => {
  it('numbers the files run B makes other than run A, as two builds on one disk are', async () => {
    // cpio's newc headers carry each file's inode number; and /tmp's files', too.
    const script = [
      'mkdir -p root out && echo a > root/a && echo b > root/b && touch -d @1700000000 root/a root/b',
      '(cd root && printf "a\\nb\\n" | cpio -o -H newc --ignore-devno -R 0:0 2>/dev/null) > out/root.cpio',
      'echo t > /tmp/t && stat -c %i /tmp/t > out/tmp-inode',
      'echo s > /dev/shm/s && stat -c %i /dev/shm/s > out/shm-inode',
    ].join(' && ')
    // Without the time variation, whose libfaketime makes a file of its own in B's /dev/shm.
    const { code, result } = await build(shellProject(), [
      '--no-vary',
      'time',
      '-o',
      'out/root.cpio',
      '-o',
      'out/tmp-inode',
      '-o',
      'out/shm-inode',
      '--',
      'sh',
      '-c',
      script,
    ])
    expect(code).toBe(1)
    expect(result?.differences.map((d) => d.name)).toEqual([
      'out/root.cpio',
      'out/shm-inode',
      'out/tmp-inode',
    ])
  })

  it('loads what the build environment names (LD_AUDIT, LD_LIBRARY_PATH) only into the build, never into the launchers on the host', async () => {
    // An audit library that notes every process that loads it, in a file of the host:
    // loaded into nsenter, before it enters the sandbox, it could read and write the
    // host as the caller.
    const dir = makeTemp()
    const marker = path.join(dir, 'loaded-on-host')
    fs.writeFileSync(
      path.join(dir, 'audit.c'),
      `#include <stdio.h>\nunsigned int la_version(unsigned int v) { FILE *f = fopen("${marker}", "a"); if (f) { fputs("loaded\\n", f); fclose(f); } return v; }\n`,
    )
    execFileSync('gcc', [
      '-shared',
      '-fPIC',
      '-o',
      path.join(dir, 'audit.so'),
      path.join(dir, 'audit.c'),
    ])
    const source = shellProject()
    fs.copyFileSync(path.join(dir, 'audit.so'), path.join(source, 'audit.so'))
    const { code, stderr } = await build(source, [
      '--env',
      `LD_AUDIT=${path.join(dir, 'audit.so')}`,
      '--env',
      `LD_LIBRARY_PATH=${dir}`,
      '-o',
      'out.txt',
      '--',
      'sh',
      '-c',
      'echo "$LD_AUDIT" > out.txt',
    ])
    expect(code, stderr).toBe(0)
    expect(fs.existsSync(marker)).toBe(false)
  })

  it('gives the build no network unless --network, and names --network when it fails', async () => {
    const server = net.createServer((socket) => socket.end('hello\n'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as net.AddressInfo
    try {
      const source = shellProject()
      // python3, not this Node: a Node installed under /tmp (a clone there brings its own)
      // is out of sight in the sandbox, whose /tmp is private.
      const connect = `import socket; s = socket.create_connection(('127.0.0.1', ${port})); open('out.txt', 'wb').write(s.recv(100))`
      const command = ['--', 'python3', '-c', connect]
      const offline = await build(source, ['-o', 'out.txt', ...command])
      expect(offline.code).toBe(3)
      expect(offline.stderr).toMatch(/Connection refused/)
      expect(offline.stderr).toMatch(/tried to reach the network.*pass --network/)
      const online = await build(source, ['-o', 'out.txt', '--network', ...command])
      expect(online.code).toBe(0)
      expect(online.result?.isolation).toMatchObject({ kind: 'namespaces', network: 'host' })
      // One network for both runs: the verdict says what run B could take from run A there.
      // One after the other too: a cache of the host's outlives run A.
      for (const run of [
        online,
        await build(source, ['-o', 'out.txt', '--network', '--sequential', ...command]),
      ])
        expect(run.result?.isolation.notes).toContainEqual(
          expect.stringMatching(
            /^both runs share the host network, loopback included: .*--sequential or not$/,
          ),
        )
    } finally {
      server.close()
    }
  })

  // keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) by its x86-64 system call number, from Perl,
  // which Debian always has: reproof started in a session keyring, as a login is.
  it.skipIf(process.arch !== 'x64' || !fs.existsSync('/usr/bin/perl'))(
    'names a session keyring both runs inherit, which namespaces do not reach',
    async () => {
      const source = shellProject()
      const args = ['build', '-C', source, '--temp-dir', makeTempParent(), '--json']
      const run = async (session: boolean) => {
        const argv = [
          process.execPath,
          BIN,
          ...args,
          '-o',
          'out.txt',
          '--',
          'sh',
          '-c',
          'echo x > out.txt',
        ]
        const done = await spawnProgram(
          session
            ? [
                '/usr/bin/perl',
                '-e',
                'syscall(250, 1, 0) >= 0 or die "keyctl: $!"; exec @ARGV',
                ...argv,
              ]
            : argv,
          { env: { PATH: process.env.PATH ?? '' } },
        )
        expect(done.code, done.stderr).toBe(0)
        return (JSON.parse(done.stdout) as BuildResult).isolation.notes
      }
      expect(await run(true)).toContainEqual(
        expect.stringMatching(
          /^both runs hold reproof's session keyring \(_ses\): a key one run adds there, the other can read/,
        ),
      )
      // Without one (unless this test itself runs in a session keyring), nothing is said.
      if (inheritedKeyrings(fs.readFileSync('/proc/keys', 'utf8')).length === 0)
        expect((await run(false)).join('\n')).not.toMatch(/keyring/)
    },
  )

  it('keeps the Unix sockets of the machine out of reach without --network', async () => {
    // Outside /tmp, which the sandbox replaces: a daemon's socket there (as Docker's in
    // /run) stays in sight, and a read-only mount does not stop a connect.
    const dir = fs.mkdtempSync(
      path.join(fs.existsSync('/var/tmp') ? '/var/tmp' : os.homedir(), 'reproof-socket-'),
    )
    const socketPath = path.join(dir, 'daemon.sock')
    const server = net.createServer((socket) => socket.end('fetched for you\n'))
    await new Promise<void>((resolve) => server.listen(socketPath, resolve))
    try {
      const source = shellProject()
      const connect = `import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(${JSON.stringify(socketPath)}); said = s.recv(100).decode()
except OSError as e:
    said = 'refused: %s' % e.strerror
open('out.txt', 'w').write(said)`
      const offline = await build(source, ['-o', 'out.txt', '--', 'python3', '-c', connect])
      expect(offline.code).toBe(0)
      expect(offline.result?.isolation).toMatchObject({ kind: 'namespaces', network: 'none' })
      expect(fs.readFileSync(path.join(source, 'out.txt'), 'utf8')).toMatch(/^refused/)
      // The same socket, with the network allowed: reached, so the cover is what stopped it.
      const online = await build(source, [
        '-o',
        'out.txt',
        '--network',
        '--',
        'python3',
        '-c',
        connect,
      ])
      expect(online.code).toBe(0)
      expect(fs.readFileSync(path.join(source, 'out.txt'), 'utf8')).toBe('fetched for you\n')
    } finally {
      server.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('keeps the rest of the file system read-only, and /tmp private', async () => {
    const source = shellProject()
    // A directory of the machine's that the test may write to, outside /tmp (which the
    // sandbox replaces, so a write there could not tell read-only from private).
    const outside = path.join(
      fs.existsSync('/var/tmp') ? '/var/tmp' : os.homedir(),
      `.reproof-sandbox-probe-${process.pid}`,
    )
    const marker = path.join(os.tmpdir(), `reproof-private-${process.pid}`)
    try {
      const { code, result } = await build(source, [
        '-o',
        'out.txt',
        '--',
        'sh',
        '-c',
        `{ touch "${outside}" 2>&1 || true; touch "${marker}" && echo tmp-writable; } > out.txt`,
      ])
      expect(code).toBe(0)
      expect(result?.isolation).toMatchObject({ kind: 'namespaces', network: 'none' })
      const out = fs.readFileSync(path.join(source, 'out.txt'), 'utf8')
      expect(out).toMatch(/Read-only file system/)
      expect(out).toMatch(/tmp-writable/)
      expect(fs.existsSync(outside)).toBe(false)
      // /tmp inside was the run's own: nothing reached the machine's.
      expect(fs.existsSync(marker)).toBe(false)
    } finally {
      fs.rmSync(outside, { force: true })
      fs.rmSync(marker, { force: true })
    }
  })

  it('reads an absolute link artifact inside the root as the build saw it, and refuses one that leaves it', async () => {
    const source = shellProject()
    const outDir = makeTemp()
    const inside = await build(source, [
      '--out-dir',
      outDir,
      '-o',
      'link',
      '--',
      'sh',
      '-c',
      'echo built > out.txt && ln -s "$PWD/out.txt" link',
    ])
    expect(inside.code).toBe(0)
    expect(fs.readFileSync(path.join(outDir, 'link'), 'utf8')).toBe('built\n')
    // The machine has a file at the path the link names: it must not be what is read.
    const outside = await build(source, [
      '-o',
      'link',
      '--',
      'sh',
      '-c',
      'ln -s /etc/hostname link',
    ])
    expect(outside.code).toBe(2)
    expect(outside.stderr).toMatch(
      /--out link: artifact link: symbolic link leads outside the build root/,
    )
    // A link to nothing is said to be that, not to lead outside.
    const dangling = await build(source, ['-o', 'link', '--', 'sh', '-c', 'ln -s "$PWD/gone" link'])
    expect(dangling.code).toBe(2)
    expect(dangling.stderr).toMatch(
      /artifact link: symbolic link to \/\S+\/gone, which does not exist/,
    )
    // A loop of links leads nowhere, not outside.
    const loop = await build(source, [
      '-o',
      'link',
      '--',
      'sh',
      '-c',
      'ln -s link2 link && ln -s link link2',
    ])
    expect(loop.code).toBe(2)
    expect(loop.stderr).toMatch(
      /artifact link: symbolic link in a loop of links, which leads to no file/,
    )
  })

  it('reaches artifacts through a link to an absolute directory inside the root, as the build saw it', async () => {
    const source = shellProject()
    // `out` leads to the build's own directory by its absolute path: read from outside
    // the sandbox, the kernel would take that path as the machine's.
    const script = [
      'mkdir -p build',
      'echo "$PWD" > build/where',
      'echo same > build/same',
      // Metadata only, different in each run (their paths differ in length).
      'echo x > build/x && touch -d @$((1000000000 + ${#PWD})) build/x',
      'tar -C build -cf build/app.tar x',
      'ln -s "$PWD/build" out',
    ].join(' && ')
    for (const out of ['out/same', 'out/s*']) {
      const outDir = makeTemp()
      const run = await build(source, ['--out-dir', outDir, '-o', out, '--', 'sh', '-c', script])
      expect(run.stderr).not.toMatch(/internal error|matched no file/)
      expect(run.code).toBe(0)
      expect(run.result?.artifacts.map((a) => a.name)).toEqual(['out/same'])
      expect(fs.readFileSync(path.join(outDir, 'out/same'), 'utf8')).toBe('same\n')
    }
    // The directory named outright: every file below it, each compared and explained.
    const whole = await runCli([
      'build',
      '-C',
      source,
      '--json',
      '--no-explain',
      '-o',
      'out',
      '--',
      'sh',
      '-c',
      script,
    ])
    expect(whole.stderr).not.toMatch(/internal error/)
    expect(whole.code).toBe(1)
    const result = JSON.parse(whole.stdout) as BuildResult
    expect(result.differences.map((d) => d.name)).toEqual(['out/app.tar', 'out/where'])
    const where = result.differences.find((d) => d.name === 'out/where')
    expect(where?.explanation?.flatMap((i) => i.hints.map((h) => h.cause))).toContain('build-path')
    // Normalized where they are: the archive's times, through the link.
    const outDir = makeTemp()
    const normalized = await build(source, [
      '--out-dir',
      outDir,
      '--normalize',
      '-o',
      'out/app.tar',
      '--',
      'sh',
      '-c',
      script,
    ])
    expect(normalized.code).toBe(0)
    expect(normalized.result?.verdict).toBe('reproducible-after-normalization')
    expect(fs.existsSync(path.join(outDir, 'out/app.tar'))).toBe(true)
  })

  it('keeps /dev, /sys and the kernel knobs of /proc read-only, and the other run and both logs out of sight', async () => {
    const source = shellProject()
    const parent = makeTemp('disk-parent-', fs.existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir())
    // A name of its own, so that what an earlier broken run left cannot answer for this one.
    const escape = `reproof-escape-${process.pid}-${Date.now()}`
    const script = [
      `{ touch /dev/${escape} 2>&1; mkdir /sys/fs/cgroup/${escape} 2>&1; } | sed "s/ .\\/dev.*//" > dev.txt`,
      // The kernel's knobs: its own value written back, which a writable /proc/sys takes.
      'cat /proc/sys/vm/swappiness > knob; { cat knob > /proc/sys/vm/swappiness && echo written; } > proc.txt 2>&1; rm knob',
      // The workspace holds this run's directory only (HOME's parent), and that one no
      // log. (Run B's root lies deeper than A's: the run's directory is found from HOME.)
      'ls "$HOME/../.." | wc -l > seen.txt; ls "$HOME/.." | grep -c "[.]log$" >> seen.txt || true',
    ].join('; ')
    const { code, result } = await build(
      source,
      ['-o', 'dev.txt', '-o', 'seen.txt', '-o', 'proc.txt', '--', 'sh', '-c', script],
      parent,
    )
    expect(code).toBe(0)
    // What the namespaces do not cover is said: the sockets the covering cannot find, the
    // runs' overlap, a VM's sockets where this machine offers them, and, run by root,
    // that root is root.
    expect(result?.isolation.notes).toEqual([
      UNCOVERED_SOCKETS_NOTE,
      overlapNote(false),
      ...[vsockNote()].filter((note) => note !== undefined),
      ...(process.getuid?.() === 0
        ? [
            expect.stringMatching(
              /^reproof runs as root, so the build is root of the host/,
            ) as unknown as string,
          ]
        : []),
    ])
    expect(fs.readFileSync(path.join(source, 'dev.txt'), 'utf8')).toMatch(/Read-only file system/)
    expect(fs.readFileSync(path.join(source, 'proc.txt'), 'utf8')).toMatch(/Read-only file system/)
    expect(fs.existsSync(`/dev/${escape}`)).toBe(false)
    expect(fs.existsSync(`/sys/fs/cgroup/${escape}`)).toBe(false)
    expect(fs.readFileSync(path.join(source, 'seen.txt'), 'utf8')).toBe('1\n0\n')
  })

  it('hides the checkout the snapshot was taken from, wherever the temp dir is: its untracked files never reach the build', async () => {
    // Not under /tmp, which the sandbox replaces anyway.
    const top = makeTemp('checkout-', fs.existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir())
    const source = path.join(top, 'project')
    fs.mkdirSync(source)
    const secret = path.join(source, 'secret.txt')
    fs.writeFileSync(path.join(source, '.gitignore'), 'secret.txt\nout.txt\n.reproof-tmp/\n')
    fs.writeFileSync(
      path.join(source, 'build.sh'),
      `{ cat ${secret} 2>/dev/null || echo hidden; } > out.txt\nls ${top} >> out.txt 2>&1\n`,
    )
    git(source, ['init', '-q'])
    git(source, ['add', '.gitignore', 'build.sh'])
    git(source, ['commit', '-qm', 'build'])
    fs.writeFileSync(secret, 'an untracked file of the checkout\n')
    const inside = path.join(source, '.reproof-tmp')
    fs.mkdirSync(inside)
    for (const parent of [makeTempParent(), inside]) {
      const { code, result } = await build(
        source,
        ['-o', 'out.txt', '--', 'sh', 'build.sh'],
        parent,
      )
      expect(code, parent).toBe(0)
      expect(result?.verdict, parent).toBe('reproducible')
      // The checkout's directory is covered by an empty one; its parent shows only that.
      expect(fs.readFileSync(path.join(source, 'out.txt'), 'utf8'), parent).toBe(
        'hidden\nproject\n',
      )
    }
    // A tool the build runs from the checkout, on the PATH it is given (--env PATH) or
    // through a link on it (npm link): the checkout stays visible, and the result says so.
    fs.mkdirSync(path.join(source, 'bin'))
    fs.writeFileSync(path.join(source, 'bin', 'mytool'), '#!/bin/sh\necho tool\n', { mode: 0o755 })
    const linked = path.join(top, 'linked-bin')
    fs.mkdirSync(linked)
    fs.symlinkSync(path.join(source, 'bin', 'mytool'), path.join(linked, 'mytool'))
    for (const pathVar of [`${source}/bin:/usr/bin:/bin`, `${linked}:/usr/bin:/bin`]) {
      const { code, result } = await build(source, [
        '-o',
        'tool.txt',
        '--env',
        `PATH=${pathVar}`,
        '--',
        'sh',
        '-c',
        'mytool > tool.txt',
      ])
      expect(code, pathVar).toBe(0)
      expect(result?.isolation.notes.join('\n'), pathVar).toMatch(
        /the source checkout .* stayed visible to the build/,
      )
    }
    // The same PATH from the tree's own configuration (a pull request's): not taken, so
    // the checkout, and a token git keeps in it, stays hidden.
    fs.writeFileSync(
      path.join(source, 'reproof.config.json'),
      JSON.stringify({ env: [`PATH=${source}/bin:/usr/bin:/bin`] }),
    )
    const configured = await build(source, ['-o', 'out.txt', '--', 'sh', 'build.sh'])
    expect(configured.code, configured.stderr).toBe(0)
    expect(fs.readFileSync(path.join(source, 'out.txt'), 'utf8')).toBe(
      'hidden\nlinked-bin\nproject\n',
    )
    expect(configured.result?.isolation.notes.join('\n')).not.toMatch(/stayed visible/)
  })

  it("hides the rest of the repository from a linked work tree's build: the main checkout, the git directories", async () => {
    const top = makeTemp('worktree-', fs.existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir())
    const main = path.join(top, 'main')
    fs.mkdirSync(main)
    // Reads the main checkout's untracked file, and another branch through its git directory.
    fs.writeFileSync(
      path.join(main, 'build.sh'),
      [
        `{ cat ${main}/untracked.txt 2>/dev/null || echo hidden; } > out.txt`,
        `{ git -c safe.directory='*' --git-dir=${main}/.git show other:secret.txt 2>/dev/null || echo hidden; } >> out.txt`,
        '',
      ].join('\n'),
    )
    fs.writeFileSync(path.join(main, '.gitignore'), 'out.txt\nuntracked.txt\n')
    git(main, ['init', '-q'])
    git(main, ['add', '.'])
    git(main, ['commit', '-qm', 'build'])
    git(main, ['checkout', '-qb', 'other'])
    fs.writeFileSync(path.join(main, 'secret.txt'), 'another branch\n')
    git(main, ['add', 'secret.txt'])
    git(main, ['commit', '-qm', 'other'])
    git(main, ['checkout', '-q', '-'])
    fs.writeFileSync(path.join(main, 'untracked.txt'), 'an untracked file of the main checkout\n')
    const linked = path.join(top, 'linked')
    git(main, ['worktree', 'add', '-q', linked, 'HEAD'])
    const { code, result } = await build(linked, ['-o', 'out.txt', '--', 'sh', 'build.sh'])
    expect(code).toBe(0)
    expect(result?.verdict).toBe('reproducible')
    expect(fs.readFileSync(path.join(linked, 'out.txt'), 'utf8')).toBe('hidden\nhidden\n')
  })

  it('hides the private key the result is signed with from the build', async () => {
    // Not under /tmp, which the sandbox replaces anyway.
    const keys = makeTemp('keys-', fs.existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir())
    await runCli(['keygen', '--out', path.join(keys, 'k')])
    const key = path.join(keys, 'k.key')
    const source = path.join(makeTemp(), 'project')
    fs.mkdirSync(source)
    fs.writeFileSync(
      path.join(source, 'build.sh'),
      `{ cat ${key} 2>/dev/null || echo hidden; } > out.txt\n`,
    )
    // A signed build of build.sh, into `bundle`, with the key given.
    // prettier-ignore
    const signed = (bundle: string, extra: string[] = []) => build(source, [
      '-o', 'out.txt', ...extra, '--bundle', path.join(keys, bundle), '--key', key,
      '--builder-id', 'https://ci.example.com', '--', 'sh', 'build.sh',
    ])
    const { code, result, stderr } = await signed('b.json')
    expect(code, stderr).toBe(0)
    expect(result?.isolation.kind).toBe('namespaces')
    // Covered by an empty file: nothing of the key reaches what is signed.
    expect(fs.readFileSync(path.join(source, 'out.txt'), 'utf8')).not.toContain('PRIVATE KEY')
    // Without the sandbox nothing is covered, and the signed isolation notes say so.
    const open = await signed('b2.json', ['--no-sandbox'])
    expect(open.code, open.stderr).toBe(0)
    expect(open.result?.isolation.notes.join('\n')).toMatch(
      /the signing key .*k\.key was readable by the build \(no sandbox\)/,
    )
    // A copy of the key in what the build's copy of the tree holds (a file of a tree that
    // is no checkout, a hard link, a tracked file): refused before building.
    fs.linkSync(key, path.join(source, 'linked.key'))
    const linked = await signed('b3.json')
    expect(linked.code).toBe(2)
    expect(linked.stderr).toContain('the source tree holds it (linked.key)')
    fs.rmSync(path.join(source, 'linked.key'))
    // A hard link outside the tree is the key under a name the sandbox cannot know to
    // cover (the build read it through one and shipped it): refused.
    fs.linkSync(key, path.join(keys, 'elsewhere.key'))
    const elsewhere = await signed('b3.json')
    expect(elsewhere.code).toBe(2)
    expect(elsewhere.stderr).toMatch(/--key .*k\.key: the file has 2 hard links/)
    expect(fs.existsSync(path.join(keys, 'b3.json'))).toBe(false)
    fs.rmSync(path.join(keys, 'elsewhere.key'))
    // The same key in another form (SEC1, no last newline): the same private key.
    const sec1 = crypto
      .createPrivateKey(fs.readFileSync(key))
      .export({ type: 'sec1', format: 'pem' }) as string
    fs.writeFileSync(path.join(source, 'k.pem'), sec1.trimEnd())
    const converted = await signed('b3.json')
    expect(converted.code, converted.stderr).toBe(2)
    expect(converted.stderr).toContain(
      'the source tree holds its private key in another form (k.pem)',
    )
    fs.rmSync(path.join(source, 'k.pem'))
    // In a git checkout an ignored key is not copied: built, the key covered.
    fs.writeFileSync(path.join(source, '.gitignore'), 'secret/\nout.txt\n')
    fs.mkdirSync(path.join(source, 'secret'))
    fs.copyFileSync(key, path.join(source, 'secret', 'k.key'))
    git(source, ['init', '-q'])
    git(source, ['add', '.gitignore', 'build.sh'])
    git(source, ['commit', '-qm', 'build'])
    const ignored = await signed('b3.json')
    expect(ignored.code, ignored.stderr).toBe(0)
    git(source, ['add', '-f', 'secret/k.key'])
    git(source, ['commit', '-qm', 'the key, by mistake'])
    const tracked = await signed('b3.json')
    expect(tracked.code).toBe(2)
    expect(tracked.stderr).toContain('the source tree holds it (secret/k.key)')
  })

  it('names and kills what a build leaves in nested PID namespaces', async () => {
    const source = shellProject()
    const seconds = String(4000 + Math.floor(Math.random() * 999))
    // A tool that runs its own sandbox leaves a process in a PID namespace of its own.
    const script = `echo built > out.txt; unshare --user --map-root-user --pid --fork sleep ${seconds} & sleep 0.3`
    const { code, result } = await build(source, ['-o', 'out.txt', '--', 'sh', '-c', script])
    expect(code).toBe(0)
    for (const run of result?.runs ?? []) expect(run.leftovers).toEqual(['unshare', 'sleep'])
    expect(processesWith(`sleep\0${seconds}`)).toEqual([])
  })

  it('compares the exec bit of artifacts, not only their bytes', async () => {
    const source = shellProject()
    const script = 'echo tool > tool; [ "$(uname -n)" = reproof ] && chmod +x tool; true'
    const args = ['-o', 'tool', '--vary', 'hostname', '--', 'sh', '-c', script]
    const { code, result } = await build(source, args)
    expect(code).toBe(1)
    expect(result?.differences).toEqual([
      expect.objectContaining({ name: 'tool', kind: 'mode', executable: [true, false] }),
    ])
    const human = await runCli(['build', '-C', source, '--temp-dir', makeTempParent(), ...args])
    expect(human.stdout).toMatch(/^ {2}tool: the same bytes, but executable in run A only$/m)
  })

  it.runIf(fs.existsSync('/usr/bin/setarch'))(
    'turns address randomization back on for both runs when reproof was started without it',
    async () => {
      // Where a program is loaded, as a build that prints a pointer writes it. Started
      // under `setarch -R` (a debugger, a wrapper), both runs loaded it at one address.
      const source = shellProject()
      const parent = makeTempParent()
      const run = await spawnProgram(
        [
          'setarch',
          os.machine(),
          '-R',
          process.execPath,
          BIN,
          ...['build', '-C', source, '--temp-dir', parent, '--json', '--no-explain'],
          ...['-o', 'maps.txt', '--no-vary', 'time,file-times', '--'],
          ...['sh', '-c', 'head -c 12 /proc/self/maps > maps.txt'],
        ],
        { env: { PATH: process.env.PATH ?? '' } },
      )
      expect(run.code, run.stderr).toBe(1)
      expect(listDir(parent)).toEqual([])
    },
  )

  it('gives run B process IDs of its own', async () => {
    const source = shellProject()
    const { code } = await build(source, [
      '-o',
      'pid.txt',
      '--no-vary',
      'time,file-times',
      '--',
      'sh',
      '-c',
      'echo $$ > pid.txt',
    ])
    expect(code).toBe(1)
  })

  it('fixes the host name in run A and varies it in run B, from the UTS namespace', async () => {
    const source = shellProject()
    const run = await runCli([
      'build',
      '-C',
      source,
      '--temp-dir',
      makeTempParent(),
      '--json',
      '-o',
      'name.txt',
      '--vary',
      'hostname,domain',
      '--keep',
      '--',
      'sh',
      '-c',
      'cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname > name.txt',
    ])
    expect(run.code).toBe(1)
    const result = JSON.parse(run.stdout) as BuildResult
    const [a, b] = result.runs.map((r) => fs.readFileSync(path.join(r.root, 'name.txt'), 'utf8'))
    expect(a).toBe('reproof\n(none)\n')
    expect(b).toMatch(/^reproof-canary[0-9a-f]{10}\nreproof-canary[0-9a-f]{10}\.invalid\n$/)
    fs.rmSync(result.kept ?? '', { recursive: true, force: true })
  })

  it('keeps both roots with --keep, file times too, when the build left a FIFO there, which holds nothing to copy', async () => {
    const source = shellProject()
    const run = await runCli([
      'build',
      '-C',
      source,
      '--temp-dir',
      makeTempParent(),
      '--json',
      '--no-explain',
      '--keep',
      '-o',
      'out.txt',
      '--',
      'sh',
      '-c',
      'echo x > out.txt && mkfifo pipe && touch -d @1234567890 old.txt',
    ])
    expect(run.stderr).not.toMatch(/internal error/)
    expect(run.code).toBe(0)
    const result = JSON.parse(run.stdout) as BuildResult
    for (const r of result.runs) {
      expect(fs.readFileSync(path.join(r.root, 'out.txt'), 'utf8')).toBe('x\n')
      // With the times the build gave them.
      expect(fs.statSync(path.join(r.root, 'old.txt')).mtimeMs).toBe(1234567890_000)
    }
    fs.rmSync(result.kept ?? '', { recursive: true, force: true })
  })

  it('calls outputs not reproducible when one run left a FIFO among them and the other did not', async () => {
    const source = shellProject()
    // Run A's host name is fixed (reproof), run B's varied: a FIFO in run A only.
    const script =
      'mkdir -p out && echo same > out/f && if [ "$(hostname)" = reproof ]; then mkfifo out/p; fi'
    const both = await build(source, ['-o', 'out', '--vary', 'hostname', '--', 'sh', '-c', script])
    expect(both.code).toBe(1)
    expect(both.result?.verdict).toBe('not-reproducible')
    expect(both.result?.differences.map((d) => [d.name, d.kind])).toEqual([['out/p', 'only-in-a']])
    // As people read it, and with the explanation on (the helper above turns it off).
    const cli = (flags: string[], command: string) =>
      runCli([
        'build',
        '-C',
        source,
        '--temp-dir',
        makeTempParent(),
        ...flags,
        '-o',
        'out',
        '--vary',
        'hostname',
        '--',
        'sh',
        '-c',
        command,
      ])
    const said = await cli(['--no-explain'], script)
    expect(said.code).toBe(1)
    expect(said.stdout).toContain(
      'out/p: a FIFO, socket or device file that run A left and run B did not',
    )
    // A FIFO in run A where run B wrote a file: one difference, and nothing opens the
    // FIFO (to normalize or explain it), which would wait for a writer forever.
    const swapped = await cli(
      ['--json'],
      'mkdir -p out && if [ "$(hostname)" = reproof ]; then mkfifo out/x; else echo data > out/x; fi',
    )
    expect(swapped.code).toBe(1)
    const result = JSON.parse(swapped.stdout) as BuildResult
    expect(result.differences.map((d) => [d.name, d.kind])).toEqual([['out/x', 'only-in-b']])
    // A FIFO both runs left is the same output: still reproducible.
    const same = await build(source, [
      '-o',
      'out',
      '--',
      'sh',
      '-c',
      'mkdir -p out && echo same > out/f && mkfifo out/p',
    ])
    expect(same.code).toBe(0)
  })

  it('makes ordering bite on any host file system: the build root is a private tmpfs', async () => {
    const source = copyFixture('listing')
    // A disk directory, not a tmpfs: without the sandbox, listing order would not change.
    // Outside /tmp, too: the sandbox replaces /tmp, but must mount over this one.
    const onDisk = makeTemp('disk-parent-', fs.existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir())
    const { code, result } = await build(source, ['-o', 'listing.txt', '--', 'make'], onDisk)
    expect(result?.isolation.kind).toBe('namespaces')
    expect(result?.variations.find((v) => v.name === 'ordering')?.status).toBe('effective')
    expect(code).toBe(1)
  })

  it('without the sandbox on a disk, names ordering as without effect, and refuses it when asked for by name', async () => {
    const source = copyFixture('listing')
    const onDisk = makeTemp('disk-parent-', os.tmpdir())
    const args = ['-o', 'listing.txt', '--no-sandbox']
    const defaults = await build(source, [...args, '--', 'make'], onDisk)
    const ordering = defaults.result?.variations.find((v) => v.name === 'ordering')
    // A file system whose listing order does not follow creation order (ext4, xfs).
    if (ordering?.status === 'no-effect') {
      expect(defaults.code).toBe(0)
      const asked = await build(source, [...args, '--vary', 'ordering', '--', 'make'], onDisk)
      expect(asked.code).toBe(3)
      expect(asked.stderr).toMatch(
        /--vary ordering: cannot take effect here: ordering: directory listings/,
      )
    } else {
      expect(defaults.code).toBe(1)
    }
  })

  it('keeps both roots with --keep when a run fails, and says where', async () => {
    const source = shellProject()
    const parent = makeTempParent()
    const run = await runCli([
      'build',
      '-C',
      source,
      '--temp-dir',
      parent,
      '--keep',
      '-o',
      'out.txt',
      '--',
      'sh',
      '-c',
      'echo partial > out.txt; exit 5',
    ])
    expect(run.code).toBe(3)
    const kept = /both build roots and their logs are kept in (\S+)/.exec(run.stderr)?.[1] ?? ''
    expect(kept.startsWith(parent)).toBe(true)
    expect(fs.readFileSync(path.join(kept, 'a', 'project', 'out.txt'), 'utf8')).toBe('partial\n')
    expect(fs.existsSync(path.join(kept, 'a', 'stderr.log'))).toBe(true)
  })

  it('says which run was still running, and with what, when --timeout fires', async () => {
    const source = shellProject()
    const { code, stderr } = await build(source, [
      '-o',
      'out.txt',
      // Run B starts 2.5 s after run A.
      '--timeout',
      '5s',
      '--',
      'sh',
      '-c',
      // Only run B, whose root's path carries the canary, hangs.
      'case "$PWD" in *b-path-*) sleep 60 ;; esac; echo a > out.txt',
    ])
    expect(code).toBe(4)
    expect(stderr).toMatch(/run B \(varied with path, time .*\) was still running/)
    // As judged: a source of one file has no order to vary, and is not said to.
    expect(stderr).not.toMatch(/varied with [^\n]*ordering/)
  })
})

/** Runs the real executable inside a user namespace where no further namespace can be made. */
function runWithoutNamespaces(args: string[]): Promise<CliRun> {
  // prettier-ignore
  return spawnProgram([
    'unshare', '--user', '--map-root-user', 'sh', '-c',
    'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"', 'no-userns',
    process.execPath, BIN, ...args,
  ])
}

withSandbox('where namespaces are not permitted', () => {
  it('falls back to process isolation and says so, or exits 3 with --require-sandbox', async () => {
    const source = copyFixture('hello-c')
    const parent = makeTempParent()
    const args = ['build', '-C', source, '--temp-dir', parent, '-o', 'hello', '--vary', 'all']
    const fallback = await runWithoutNamespaces([...args, '--', 'make'])
    expect(fallback.code, fallback.stderr).toBe(0)
    expect(fallback.stdout).toMatch(
      /no sandbox \(.*\): process isolation only; network, \/tmp and the machine shared by both runs/,
    )
    expect(fallback.stdout).toMatch(/not varied: .*user \(user namespaces are not permitted/)
    const required = await runWithoutNamespaces([...args, '--require-sandbox', '--', 'make'])
    expect(required.code, required.stderr).toBe(3)
    expect(required.stderr).toMatch(/--require-sandbox: the build sandbox cannot be set up here/)
    expect(listDir(parent)).toEqual([])
  })

  it("never rebuilds the signer's command without the sandbox unless asked", async () => {
    const repo = copyFixture('hello-c')
    git(repo, ['init', '-q'])
    git(repo, ['add', '.'])
    git(repo, ['-c', 'user.name=t', '-c', 'user.email=t@x.invalid', 'commit', '-qm', 'release'])
    const dir = makeTemp()
    const { run, bundle, pub, artifact } = await signedMakeBuild(
      repo,
      dir,
      'https://ci.example.com',
    )
    expect(run.code, run.stderr).toBe(0)
    const verify = [
      'verify',
      artifact,
      '--bundle',
      bundle,
      '--key',
      pub,
      '--rebuild',
      '--source',
      repo,
    ]
    // The command would see the verifier's environment and network: refused, not run.
    const refused = await runWithoutNamespaces(verify)
    expect(refused.code, refused.stdout).toBe(3)
    expect(refused.stderr).toMatch(
      /--rebuild: the build sandbox cannot be set up here .*pass --rebuild-without-sandbox/,
    )
    const asked = await runWithoutNamespaces([...verify, '--rebuild-without-sandbox'])
    expect(asked.code, asked.stderr).toBe(0)
    expect(asked.stdout).toMatch(/without the sandbox/)
  })
})

// The sandbox is rootless: an ordinary user gets the same isolation as root.
const asUser =
  sandboxAvailable && process.getuid?.() === 0 && fs.existsSync('/usr/sbin/runuser')
    ? describe
    : describe.skip

asUser('the sandbox for an unprivileged user', () => {
  it('builds and isolates as nobody', async () => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), 'reproof-nobody-'))
    try {
      fs.chmodSync(top, 0o755)
      const source = path.join(top, 'hello-c')
      fs.cpSync(copyFixture('hello-c'), source, { recursive: true })
      const work = path.join(top, 'work')
      fs.mkdirSync(work)
      const { uid, gid } = { uid: 65534, gid: 65534 }
      for (const p of [source, work, ...fs.readdirSync(source).map((f) => path.join(source, f))])
        fs.chownSync(p, uid, gid)
      // prettier-ignore
      const run = await spawnProgram([
        'runuser', '-u', 'nobody', '--', process.execPath, BIN, 'build', '-C', source,
        '--temp-dir', work, '--out-dir', work, '--json', '-o', 'hello', '--require-sandbox',
        '--vary', 'user,hostname', '--', 'sh', '-c',
        'make >/dev/null && touch /etc/reproof-test 2>/dev/null; true',
      ])
      expect(run.stderr).not.toMatch(/error/i)
      expect(run.code).toBe(0)
      const result = JSON.parse(run.stdout) as BuildResult
      expect(result.isolation.kind).toBe('namespaces')
      expect(result.variations.filter((v) => v.status !== 'effective')).toEqual([])
      expect(fs.existsSync('/etc/reproof-test')).toBe(false)
    } finally {
      fs.rmSync(top, { recursive: true, force: true })
    }
  })

  it('names an output the build left unreadable to it as the build failing (exit 3)', async () => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), 'reproof-nobody-'))
    try {
      fs.chmodSync(top, 0o755)
      const source = path.join(top, 'src')
      const work = path.join(top, 'work')
      fs.mkdirSync(source)
      fs.mkdirSync(work)
      // `..d` is a name below the root, not a way out of it.
      for (const [what, last, out] of [
        ['out/z', 'chmod 000 out/z', 'out'],
        ['out/sub', 'chmod 000 out/sub', 'out'],
        ['..d', 'mkdir ..d && echo z > ..d/z && chmod 000 ..d', '..d'],
      ] as const) {
        fs.writeFileSync(
          path.join(source, 'build.sh'),
          `rm -rf out ..d && mkdir -p out/sub && echo x > out/z && echo y > out/sub/w && ${last}\n`,
        )
        for (const p of [top, source, work, path.join(source, 'build.sh')])
          fs.chownSync(p, 65534, 65534)
        // prettier-ignore
        const run = await spawnProgram([
          'runuser', '-u', 'nobody', '--', process.execPath, BIN, 'build', '-C', source,
          '--temp-dir', work, '--out-dir', work, '-o', out, '--', 'sh', 'build.sh',
        ])
        expect(run.code, run.stderr).toBe(3)
        expect(run.stderr).toContain(
          `reproof: run A left ${what} where reproof cannot read it (permission denied)`,
        )
        expect(run.stderr).not.toContain('internal error')
      }
    } finally {
      fs.rmSync(top, { recursive: true, force: true })
    }
  })
})
