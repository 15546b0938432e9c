import { Readable } from 'node:stream'
import fc from 'fast-check'
import { packTar as packed } from '../../tar-pack.js'
import { describe, expect, it } from 'vitest'
import { ReproofError } from '../../../src/errors.js'
import { Budget, DEFAULT_LIMITS } from '../../../src/formats/limits.js'
import {
  checksum,
  checksumOk,
  encodePax,
  parsePax,
  readNumber,
  readTarBlocks,
  writeChecksum,
  type RawEntry,
} from '../../../src/formats/tar-blocks.js'

const fail = (what: string): Error => new Error(what)

/** Every entry and its data, read from `bytes` given in pieces of `piece` bytes. */
async function read(bytes: Buffer, piece = bytes.length || 1) {
  const chunks = Array.from({ length: Math.ceil(bytes.length / piece) }, (_, i) =>
    bytes.subarray(i * piece, (i + 1) * piece),
  )
  const out: { entry: RawEntry; data: Buffer }[] = []
  const end = await readTarBlocks(
    Readable.from(chunks),
    'x.tar',
    new Budget(DEFAULT_LIMITS),
    (entry) => {
      const parts: Buffer[] = []
      out.push({ entry, data: Buffer.alloc(0) })
      const slot = out[out.length - 1]
      return (chunk) => {
        parts.push(Buffer.from(chunk))
        if (slot !== undefined) slot.data = Buffer.concat(parts)
      }
    },
  )
  return { entries: out, end }
}

describe('PAX records', () => {
  it('round-trip any keys and byte values, their length prefixes exact', () => {
    // A key is any bytes but `=` (a hostile one is not UTF-8), one character each.
    const record = fc.record({
      key: fc
        .uint8Array({ minLength: 1, maxLength: 12 })
        .map((u) => Buffer.from(u.filter((b) => b !== 0x3d)).toString('latin1'))
        .filter((k) => k.length > 0),
      value: fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
    })
    fc.assert(
      fc.property(fc.array(record, { maxLength: 5 }), (records) => {
        const encoded = encodePax(records)
        expect(parsePax(encoded, fail, 0)).toEqual(records)
        // And back to the same bytes: a rewrite keeps every key as it was.
        expect(encodePax(parsePax(encoded, fail, 0)).equals(encoded)).toBe(true)
      }),
    )
  })

  it('refuses a record whose length does not hold together', () => {
    for (const bad of ['5 a=b\n', '99 path=x\n', 'x path=y\n', '9 pathxy\n'])
      expect(() => parsePax(Buffer.from(bad), fail, 0), bad).toThrow(/malformed PAX record/)
  })

  it('reads a length only as decimal digits, as GNU tar and Python do: any other spelling of the same number is refused', () => {
    // `0x14` was read as 20, finding a record the other readers do not.
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }).filter((v) => !v.includes('\n')),
        fc.constantFrom(
          (n: number) => `0x${n.toString(16)}`,
          (n: number) => `+${n}`,
          (n: number) => `0o${n.toString(8)}`,
          (n: number) => `0b${n.toString(2)}`,
          (n: number) => ` ${n}`,
          (n: number) => `${n}e0`,
        ),
        (value, spell) => {
          const body = ` k=${value}\n`
          // The length of the record as spelt, counting its own spelling.
          let length = body.length + 1
          for (let i = 0; i < 8 && spell(length).length + body.length !== length; i++)
            length = spell(length).length + body.length
          fc.pre(spell(length).length + body.length === length)
          const record = Buffer.from(`${spell(length)}${body}`)
          expect(() => parsePax(record, fail, 0)).toThrow(/malformed PAX record/)
        },
      ),
    )
  })
})

describe('numeric fields', () => {
  it('read octal in any writer’s layout and GNU base-256, negative included', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.nat(3), (value, layout) => {
        const block = Buffer.alloc(512)
        if (value < 0 || layout === 3) {
          // Base-256, two's complement over the 12 bytes.
          let v = BigInt(value)
          for (let i = 11; i >= 0; i--) {
            block[136 + i] = Number(v & 0xffn)
            v >>= 8n
          }
          if (value >= 0) block[136] = 0x80
        } else {
          const digits = value.toString(8)
          const text =
            [`${digits.padStart(11, '0')}\0`, `${digits.padStart(10, '0')} \0`, ` ${digits} `][
              layout
            ] ?? ''
          if (text.length > 12) return
          block.write(text, 136, 'latin1')
        }
        expect(readNumber(block, 136, 12)).toBe(value)
      }),
    )
  })

  it('sums a header as POSIX defines it, its checksum field read as spaces', () => {
    const byDefinition = (block: Uint8Array, signed: boolean): number =>
      Array.from(block).reduce((sum, byte, i) => {
        const b = i >= 148 && i < 156 ? 0x20 : byte
        return sum + (signed && b >= 0x80 ? b - 0x100 : b)
      }, 0)
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 512, maxLength: 512 }), (bytes) => {
        const block = Buffer.from(bytes)
        expect(checksum(block)).toBe(byDefinition(bytes, false))
        expect(checksum(block, true)).toBe(byDefinition(bytes, true))
      }),
    )
  })

  it('checks and writes checksums, in the layout of the header it copies', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 512, maxLength: 512 }), (bytes) => {
        const block = Buffer.from(bytes)
        writeChecksum(block)
        expect(checksumOk(block)).toBe(true)
        const like = Buffer.from(block)
        like.write('000000 \0', 148, 'latin1')
        const copy = Buffer.from(block)
        writeChecksum(copy, like)
        expect(copy.toString('latin1', 148, 156)).toBe(
          `${checksum(copy).toString(8).padStart(6, '0')} \0`,
        )
        expect(checksumOk(copy)).toBe(true)
      }),
    )
  })
})

describe('readTarBlocks', () => {
  it('reads every entry and its data whatever pieces the stream comes in', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.stringMatching(/^[a-z]{1,120}$/), { minLength: 1, maxLength: 5 }),
        fc.string({ maxLength: 1500 }),
        fc.integer({ min: 1, max: 1100 }),
        async (names, body, piece) => {
          const bytes = await packed(names.map((name, i) => ({ name, body: body.repeat(i) })))
          const { entries, end } = await read(bytes, piece)
          expect(entries.map((e) => e.entry.name.toString())).toEqual(names)
          expect(entries.map((e) => e.data.toString())).toEqual(names.map((_, i) => body.repeat(i)))
          expect(end.marked).toBe(true)
        },
      ),
      { numRuns: 60 },
    )
  })

  it('refuses a cut, a corrupt header or junk after the end with the byte offset, never a crash', async () => {
    const bytes = await packed([
      { name: 'a', body: 'x'.repeat(700) },
      { name: 'b', body: 'y' },
    ])
    await fc.assert(
      fc.asyncProperty(fc.nat(bytes.length), fc.nat(255), async (at, byte) => {
        const damaged = Buffer.from(bytes)
        damaged[at] = byte
        for (const input of [
          bytes.subarray(0, at),
          damaged,
          Buffer.concat([bytes, Buffer.from([byte || 1])]),
        ]) {
          const outcome = await read(input).then(
            () => 'read',
            (err: unknown) => err,
          )
          if (outcome === 'read') continue
          expect(outcome).toBeInstanceOf(ReproofError)
          expect((outcome as ReproofError).code).toBe('E_INPUT')
          expect((outcome as Error).message).toMatch(/^x\.tar: not a readable tar \(.*byte \d+/)
        }
      }),
      { numRuns: 300 },
    )
    // Cut inside the data, inside a header, and junk after the end: always refused.
    await expect(read(bytes.subarray(0, 700))).rejects.toThrow(/truncated: the entry at byte 0/)
    await expect(read(bytes.subarray(0, 1700))).rejects.toThrow(/truncated: a header at byte 1536/)
    await expect(read(Buffer.concat([bytes, Buffer.from('junk')]))).rejects.toThrow(
      /data after the end of the archive, at byte/,
    )
  })

  it('refuses a link, device or FIFO with a size, which tar readers skip or not, and takes a directory with one', async () => {
    const header = (type: string, size: number): Buffer => {
      const block = Buffer.alloc(512)
      block.write('node', 0, 'latin1')
      block.write('0000644\0', 100, 'latin1')
      block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1')
      block.write(type, 156, 'latin1')
      block.write('ustar\x0000', 257, 'latin1')
      writeChecksum(block)
      return block
    }
    for (const type of ['1', '2', '3', '4', '6']) {
      const archive = Buffer.concat([header(type, 512), Buffer.alloc(512), Buffer.alloc(1024)])
      await expect(read(archive), type).rejects.toThrow(
        new RegExp(`the entry of type ${type} at byte 0 gives a size of 512`),
      )
      await expect(
        read(Buffer.concat([header(type, 0), Buffer.alloc(1024)])),
      ).resolves.toBeDefined()
    }
    // A directory's size is ignored by GNU tar, Python and POSIX alike.
    await expect(read(Buffer.concat([header('5', 512), Buffer.alloc(1024)]))).resolves.toBeDefined()
  })
})
