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
  it('reads the absolute paths of a /proc/net/unix table, spaces and all', () => {
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
    ])
  })

  it('gives back every absolute path without a line break, as its bytes', () => {
    const segment = fc.uint8Array({ minLength: 1, maxLength: 12 }).map((bytes) =>
      // Any byte but NUL, `/` and a line break: a path's component as the kernel prints it.
      Buffer.from(bytes.map((b) => (b === 0 || b === 0x2f || b === 0x0a ? 0x61 : b))),
    )
    const socketPath = fc
      .array(segment, { minLength: 1, maxLength: 4 })
      .map((parts) => Buffer.concat(parts.flatMap((p) => [Buffer.from('/'), p])))
    const entry = fc.oneof(
      socketPath.map((p) => ({ path: p, name: p })),
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
})
