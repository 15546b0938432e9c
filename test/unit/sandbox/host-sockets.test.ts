import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { hostSockets, socketPathsOfTable } from '../../../src/sandbox/host-sockets.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

const HEADER = 'Num       RefCount Protocol Flags    Type St Inode Path\n'
const row = (inode: number, name: string): string =>
  `0000000000000000: 00000002 00000000 00010000 0001 01 ${inode}${name === '' ? '' : ` ${name}`}\n`

describe('socketPathsOfTable', () => {
  it('reads the paths of a /proc/net/unix table, spaces and all, relative ones too', () => {
    const table = Buffer.from(
      HEADER +
        row(1, '/run/docker.sock') +
        row(2, '@/tmp/.X11-unix/X0') +
        row(3, '') +
        row(4, '/home/a b/agent sock') +
        row(5, 'relative.sock'),
    )
    expect(socketPathsOfTable(table).map(String)).toEqual([
      '/run/docker.sock',
      '/home/a b/agent sock',
      'relative.sock',
    ])
  })

  it('gives back every bound path without a line break, as its bytes', () => {
    const segment = fc.uint8Array({ minLength: 1, maxLength: 12 }).map((bytes) =>
      // Any byte but NUL, `/` and a line break: a path's component as the kernel prints it.
      Buffer.from(bytes.map((b) => (b === 0 || b === 0x2f || b === 0x0a ? 0x61 : b))),
    )
    const socketPath = fc
      .array(segment, { minLength: 1, maxLength: 4 })
      .map((parts) => Buffer.concat(parts.flatMap((p) => [Buffer.from('/'), p])))
    const entry = fc.oneof(
      socketPath.map((p) => ({ path: p, name: p })),
      socketPath
        .map((p) => p.subarray(1))
        .filter((p) => p[0] !== 0x40 && p[0] !== 0x20)
        .map((p) => ({ path: p, name: p })),
      fc.constantFrom('', '@abstract', '@/looks/absolute').map((name) => ({
        path: undefined,
        name: Buffer.from(name),
      })),
    )
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 20 }), (entries) => {
        const table = Buffer.concat([
          Buffer.from(HEADER),
          ...entries.map((e, i) =>
            Buffer.concat([
              Buffer.from(row(i, '').slice(0, -1)),
              e.name.length > 0 ? Buffer.concat([Buffer.from(' '), e.name]) : Buffer.alloc(0),
              Buffer.from('\n'),
            ]),
          ),
        ])
        const expected = entries.flatMap((e) => (e.path === undefined ? [] : [e.path]))
        expect(socketPathsOfTable(table)).toEqual(expected)
      }),
    )
  })
})

describe('hostSockets', () => {
  it('lists a listening socket of this machine, and not one below a hidden directory', async () => {
    const shown = makeTemp()
    const hidden = makeTemp()
    const servers = [path.join(shown, 'daemon.sock'), path.join(hidden, 'other.sock')].map(
      (p) =>
        new Promise<net.Server>((resolve) => {
          const server = net.createServer()
          server.listen(p, () => {
            resolve(server)
          })
        }),
    )
    const listening = await Promise.all(servers)
    try {
      const { paths } = await hostSockets([hidden])
      expect(paths).toContain(path.join(shown, 'daemon.sock'))
      expect(paths.some((p) => p.startsWith(`${hidden}/`))).toBe(false)
      expect(paths.every((p) => fs.lstatSync(p).isSocket())).toBe(true)
    } finally {
      for (const server of listening) server.close()
    }
  })

  it('names the sockets it cannot find where they were bound: by a relative path, or moved since', async () => {
    const dir = makeTemp()
    // python3 binds in its own working directory; the kernel lists the path as given.
    const daemon = spawn(
      'python3',
      [
        '-c',
        [
          'import socket, os, sys, time',
          'a = socket.socket(socket.AF_UNIX); a.bind("rel.sock"); a.listen(1)',
          'b = socket.socket(socket.AF_UNIX); b.bind("bound.sock"); b.listen(1)',
          'os.rename("bound.sock", "moved.sock")',
          'c = socket.socket(socket.AF_UNIX); c.bind(os.path.abspath("gone.sock")); c.listen(1)',
          'os.rename("gone.sock", "elsewhere.sock")',
          'print("ready", flush=True); time.sleep(30)',
        ].join('\n'),
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    try {
      await new Promise<void>((resolve) =>
        daemon.stdout.once('data', () => {
          resolve()
        }),
      )
      const { paths, notes } = await hostSockets([])
      expect(paths).not.toContain(path.join(dir, 'gone.sock'))
      expect(notes.join('\n')).toMatch(/bound by a relative path \(.*rel\.sock/)
      expect(notes.join('\n')).toMatch(/not at the path they were bound to \(.*gone\.sock/)
    } finally {
      daemon.kill()
    }
  })
})
