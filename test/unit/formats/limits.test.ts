import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { scanZip } from '../../../src/formats/zip.js'
import { memorySink, type MemberSink } from '../../../src/formats/member.js'
import {
  Budget,
  DEFAULT_LIMITS,
  isMemberTooLarge,
  memberTooLarge,
  isLimitError,
  type DiffLimits,
} from '../../../src/formats/limits.js'
import { bufferSource, fileSource } from '../../../src/formats/source.js'
import { ReproofError } from '../../../src/errors.js'
import { cleanupTemp, makeTemp, thrown } from '../../helpers.js'

afterAll(cleanupTemp)

const MiB = 1024 * 1024
const limits = (over: Partial<DiffLimits>): DiffLimits => ({ ...DEFAULT_LIMITS, ...over })

describe('the byte budget', () => {
  it('allows exactly the limit across calls and refuses the first byte past it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 20 }),
        fc.integer({ min: 0, max: 1000 }),
        (spends, maxBytes) => {
          const budget = new Budget(limits({ maxBytes }))
          let total = 0
          for (const n of spends) {
            total += n
            const err = thrown(() => {
              budget.spendBytes(n, 'a.tar')
            })
            if (total <= maxBytes) expect(err).toBeUndefined()
            else {
              expect(isLimitError(err)).toBe(true)
              return
            }
          }
        },
      ),
    )
  })

  it('says where, what and which flag raises it', () => {
    const budget = new Budget(limits({ maxBytes: 10 }))
    const err = thrown(() => {
      budget.spendBytes(11, 'out/a.zip!lib/b.jar')
    })
    expect(err).toBeInstanceOf(ReproofError)
    expect(err).toMatchObject({
      code: 'E_INPUT',
      message: 'out/a.zip!lib/b.jar: more than 10 decompressed bytes in all',
      context: { path: 'out/a.zip!lib/b.jar', hint: 'raise --max-bytes if the input is trusted' },
    })
  })
})

describe('the member budget', () => {
  it('counts members across calls and refuses the first one past the limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 }), (maxEntries) => {
        const budget = new Budget(limits({ maxEntries }))
        for (let i = 0; i < maxEntries; i++) budget.spendEntry('a.tar')
        const err = thrown(() => {
          budget.spendEntry('a.tar')
        })
        expect(isLimitError(err)).toBe(true)
        expect((err as Error).message).toBe(`a.tar: more than ${maxEntries} archive entries in all`)
      }),
    )
  })

  it('keeps bytes and members apart', () => {
    const budget = new Budget(limits({ maxBytes: 5, maxEntries: 5 }))
    for (let i = 0; i < 5; i++) budget.spendEntry('a.tar')
    budget.spendBytes(5, 'a.tar')
  })
})

describe('the ratio check', () => {
  const budget = new Budget(limits({ maxRatio: 100 }))

  it('lets anything up to 1 MiB through, whatever it was compressed from', () => {
    expect(
      thrown(() => {
        budget.checkRatio(MiB, 0, 'z')
      }),
    ).toBeUndefined()
    expect(
      isLimitError(
        thrown(() => {
          budget.checkRatio(MiB + 1, 0, 'z')
        }),
      ),
    ).toBe(true)
  })

  it('refuses more than maxRatio times the compressed size, and no less', () => {
    expect(
      thrown(() => {
        budget.checkRatio(2 * MiB, (2 * MiB) / 100, 'z')
      }),
    ).toBeUndefined()
    const err = thrown(() => {
      budget.checkRatio(2 * MiB + 1, (2 * MiB) / 100, 'a.gz!b')
    })
    expect((err as Error).message).toBe(
      'a.gz!b: decompresses to more than 100 times its compressed size',
    )
  })

  it('reads an empty compressed size as one byte', () => {
    const wide = new Budget(limits({ maxRatio: 4 * MiB }))
    expect(
      thrown(() => {
        wide.checkRatio(4 * MiB, 0, 'z')
      }),
    ).toBeUndefined()
    expect(
      isLimitError(
        thrown(() => {
          wide.checkRatio(4 * MiB + 1, 0, 'z')
        }),
      ),
    ).toBe(true)
  })
})

describe('the depth check', () => {
  it('allows maxDepth levels and refuses one more', () => {
    const budget = new Budget(limits({ maxDepth: 3 }))
    expect(
      thrown(() => {
        budget.checkDepth(3, 'a')
      }),
    ).toBeUndefined()
    expect(
      (
        thrown(() => {
          budget.checkDepth(4, 'a')
        }) as Error
      ).message,
    ).toBe('a: archives nested more than 3 deep')
  })
})

describe('the member size check', () => {
  const budget = new Budget(limits({ maxMemberBytes: 100 }))

  it('holds a member of exactly the limit and refuses a larger one, without failing the diff', () => {
    expect(
      thrown(() => {
        budget.checkMemberSize(100, 'a!b')
      }),
    ).toBeUndefined()
    const err = thrown(() => {
      budget.checkMemberSize(101, 'a!b')
    })
    expect(isMemberTooLarge(err)).toBe(true)
    expect(err).toMatchObject({
      code: 'E_INPUT',
      context: { path: 'a!b', found: 101, wanted: 100, limit: '--max-member-bytes' },
    })
    expect(isLimitError(err)).toBe(false)
    expect((err as Error).message).toBe(
      'a!b: 101 bytes, over the 100-byte limit of a member read whole into memory (raise it with --max-member-bytes)',
    )
  })

  it('leaves out a size it does not know', () => {
    expect(memberTooLarge('a!b', 0, 100).message).toBe(
      'a!b: over the 100-byte limit of a member read whole into memory (raise it with --max-member-bytes)',
    )
  })
})

describe('the default limits', () => {
  it('are the documented ones: 16 GiB, 500,000 members, 8 levels, 256 MiB a member, 1000-fold', () => {
    const budget = new Budget(DEFAULT_LIMITS)
    budget.spendBytes(16 * 1024 ** 3, 'a')
    expect(
      isLimitError(
        thrown(() => {
          budget.spendBytes(1, 'a')
        }),
      ),
    ).toBe(true)
    for (let i = 0; i < 500_000; i++) budget.spendEntry('a')
    expect(
      isLimitError(
        thrown(() => {
          budget.spendEntry('a')
        }),
      ),
    ).toBe(true)
    budget.checkDepth(8, 'a')
    expect(
      isLimitError(
        thrown(() => {
          budget.checkDepth(9, 'a')
        }),
      ),
    ).toBe(true)
    budget.checkMemberSize(256 * MiB, 'a')
    expect(
      isMemberTooLarge(
        thrown(() => {
          budget.checkMemberSize(256 * MiB + 1, 'a')
        }),
      ),
    ).toBe(true)
    budget.checkRatio(1000 * MiB, MiB, 'a')
    expect(
      isLimitError(
        thrown(() => {
          budget.checkRatio(1000 * MiB + 1, MiB, 'a')
        }),
      ),
    ).toBe(true)
  })
})

describe('limit errors', () => {
  it('are told apart from other input errors', () => {
    expect(isLimitError(new ReproofError('E_INPUT', 'a.zip: not a readable zip archive'))).toBe(
      false,
    )
    expect(isLimitError(new Error('x'))).toBe(false)
  })
})

// A zip written here, byte by byte, so tests can break exactly one field of it.
interface ZipMember {
  name: string
  body: Buffer
  deflate?: boolean
}

function makeZip(members: ZipMember[]): { zip: Buffer; localAt: number[] } {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  const localAt: number[] = []
  let offset = 0
  for (const member of members) {
    const name = Buffer.from(member.name)
    const data = member.deflate === true ? zlib.deflateRawSync(member.body) : member.body
    const crc = zlib.crc32(member.body)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(member.deflate === true ? 8 : 0, 8)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(data.length, 18)
    local.writeUInt32LE(member.body.length, 22)
    local.writeUInt16LE(name.length, 26)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(20, 4)
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(member.deflate === true ? 8 : 0, 10)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(data.length, 20)
    central.writeUInt32LE(member.body.length, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(offset, 42)
    localAt.push(offset)
    locals.push(local, name, data)
    centrals.push(central, name)
    offset += 30 + name.length + data.length
  }
  const directory = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(members.length, 8)
  end.writeUInt16LE(members.length, 10)
  end.writeUInt32LE(directory.length, 12)
  end.writeUInt32LE(offset, 16)
  return { zip: Buffer.concat([...locals, directory, end]), localAt }
}

const nothingWanted = (): undefined => undefined
const everythingWanted = (key: string): MemberSink => memorySink(key)

async function failure(scan: Promise<unknown>): Promise<ReproofError> {
  const err: unknown = await scan.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(ReproofError)
  return err as ReproofError
}

describe('zip members held in memory', () => {
  const members = [
    { name: 'a.txt', body: Buffer.from('alpha\n') },
    { name: 'b.txt', body: Buffer.from('beta beta beta\n'.repeat(20)), deflate: true },
  ]

  it('are keyed by their compressed bytes, found through each local header', async () => {
    const { zip } = makeZip(members)
    const budget = new Budget(DEFAULT_LIMITS)
    const { inventory, captured } = await scanZip(
      bufferSource(zip, 'z.zip'),
      'z.zip',
      budget,
      everythingWanted,
    )
    expect(inventory.members.map((m) => [m.name, m.size])).toEqual([
      ['a.txt', 6],
      ['b.txt', 300],
    ])
    expect(captured.get('a.txt')?.buffer?.toString()).toBe('alpha\n')
    expect(captured.get('b.txt')?.buffer?.toString()).toBe('beta beta beta\n'.repeat(20))
    // Same content, other compressed bytes: other keys. Same bytes elsewhere: same key.
    const stored = makeZip([
      members[0] as ZipMember,
      { ...(members[1] as ZipMember), deflate: false },
    ])
    const moved = makeZip([{ name: 'pad', body: Buffer.alloc(7) }, ...members])
    const digests = async (z: Buffer) =>
      (
        await scanZip(bufferSource(z, 'z'), 'z', new Budget(DEFAULT_LIMITS), nothingWanted)
      ).inventory.members
        .filter((m) => m.name !== 'pad')
        .map((m) => m.sha256)
    const [base, other, shifted] = await Promise.all([
      digests(zip),
      digests(stored.zip),
      digests(moved.zip),
    ])
    expect(other[0]).toBe(base[0])
    expect(other[1]).not.toBe(base[1])
    expect(shifted).toEqual(base)
  })

  it('are refused when the central directory points where no local header is', async () => {
    const { zip, localAt } = makeZip(members)
    const at = localAt[1] ?? 0
    zip.writeUInt32LE(0x12345678, at)
    const err = await failure(
      scanZip(bufferSource(zip, 'z.zip'), 'z.zip', new Budget(DEFAULT_LIMITS), nothingWanted),
    )
    expect(err.message).toBe(
      'z.zip!b.txt: not a readable zip archive (no local file header where the central directory points)',
    )
  })

  it('are refused when a local header points past the end of the archive', async () => {
    const { zip, localAt } = makeZip(members)
    // A long extra field moves the data start past the end of the buffer.
    zip.writeUInt16LE(0xffff, (localAt[1] ?? 0) + 28)
    const err = await failure(
      scanZip(bufferSource(zip, 'z.zip'), 'z.zip', new Budget(DEFAULT_LIMITS), nothingWanted),
    )
    expect(err.message).toBe(
      'z.zip!b.txt: not a readable zip archive (compressed data runs past the end of the archive)',
    )
  })

  it('are refused when the header offset leaves no room for a header', async () => {
    for (const back of [30, 10, 2]) {
      const { zip } = makeZip(members)
      const central = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]))
      zip.writeUInt32LE(zip.length - back, central + 42)
      const err = await failure(
        scanZip(bufferSource(zip, 'z.zip'), 'z.zip', new Budget(DEFAULT_LIMITS), nothingWanted),
      )
      expect(err.message, String(back)).toContain(
        'no local file header where the central directory points',
      )
    }
  })

  it('take the name and extra field lengths from the local header, not the central one', async () => {
    const { zip, localAt } = makeZip(members)
    // Four bytes of extra field in the local header only: the data moves by four.
    const at = localAt[1] ?? 0
    const withExtra = Buffer.concat([
      zip.subarray(0, at + 35),
      Buffer.from([0xfe, 0xca, 0, 0]),
      zip.subarray(at + 35),
    ])
    withExtra.writeUInt16LE(4, at + 28)
    const central = withExtra.indexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]))
    withExtra.writeUInt32LE(withExtra.readUInt32LE(central + 16) + 4, central + 16)
    const keys = async (z: Buffer) =>
      (
        await scanZip(bufferSource(z, 'z'), 'z', new Budget(DEFAULT_LIMITS), nothingWanted)
      ).inventory.members.map((m) => m.sha256)
    expect(await keys(withExtra)).toEqual(await keys(zip))
  })

  it('charge their compressed bytes to the budget', async () => {
    const { zip } = makeZip(members)
    const compressed = zlib.deflateRawSync(members[1]?.body ?? Buffer.alloc(0)).length
    const exact = new Budget(limits({ maxBytes: 6 + compressed }))
    await scanZip(bufferSource(zip, 'z.zip'), 'z.zip', exact, nothingWanted)
    const short = new Budget(limits({ maxBytes: 6 + compressed - 1 }))
    const err = await failure(scanZip(bufferSource(zip, 'z.zip'), 'z.zip', short, nothingWanted))
    expect(isLimitError(err)).toBe(true)
  })
})

describe('zip members read from a file', () => {
  it('charge every byte read to the budget', async () => {
    const body = Buffer.from('gamma\n'.repeat(1000))
    const { zip } = makeZip([{ name: 'c.txt', body, deflate: true }])
    const file = path.join(makeTemp(), 'z.zip')
    fs.writeFileSync(file, zip)
    const compressed = zlib.deflateRawSync(body).length
    // Not wanted: only the compressed bytes are read, to key the member.
    await scanZip(
      fileSource(file),
      'z.zip',
      new Budget(limits({ maxBytes: compressed })),
      nothingWanted,
    )
    const err = await failure(
      scanZip(
        fileSource(file),
        'z.zip',
        new Budget(limits({ maxBytes: compressed - 1 })),
        nothingWanted,
      ),
    )
    expect(isLimitError(err)).toBe(true)
    // Wanted: inflated as well, and those bytes are charged too.
    const wanted = await failure(
      scanZip(
        fileSource(file),
        'z.zip',
        new Budget(limits({ maxBytes: compressed + body.length - 1 })),
        everythingWanted,
      ),
    )
    expect(isLimitError(wanted)).toBe(true)
    const { captured } = await scanZip(
      fileSource(file),
      'z.zip',
      new Budget(limits({ maxBytes: compressed + body.length })),
      everythingWanted,
    )
    expect(captured.get('c.txt')?.buffer).toEqual(body)
  })
})

describe('Budget.rereading', () => {
  it('counts no entry twice, and still the bytes and a stop', () => {
    const controller = new AbortController()
    const budget = new Budget({ ...DEFAULT_LIMITS, maxEntries: 2, maxBytes: 10 }, controller.signal)
    const again = budget.rereading()
    budget.spendEntry('a')
    budget.spendEntry('a')
    // The second read of those two: no limit crossed.
    again.spendEntry('a')
    again.spendEntry('a')
    expect(
      isLimitError(
        thrown(() => {
          budget.spendEntry('a')
        }),
      ),
    ).toBe(true)
    // Bytes are one count for both.
    again.spendBytes(10, 'a')
    expect(
      isLimitError(
        thrown(() => {
          budget.spendBytes(1, 'a')
        }),
      ),
    ).toBe(true)
    controller.abort()
    expect(
      thrown(() => {
        again.spendEntry('a')
      }),
    ).toMatchObject({ code: 'E_INTERRUPTED' })
  })
})

describe('Budget.decoded', () => {
  it('counts the bytes a decoder counted once, and still the entries and a stop', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(100), { maxLength: 20 }), (chunks) => {
        const budget = new Budget(limits({ maxBytes: 1000, maxEntries: 3 }))
        const reader = budget.decoded()
        let total = 0
        for (const n of chunks) {
          // The decoder counts what it writes; the reader of it (a tar's scan) reads it.
          const counted = (): void => {
            budget.spendBytes(n, 'x.tar.gz')
            reader.spendBytes(n, 'x.tar.gz')
          }
          total += n
          if (total > 1000) {
            expect(isLimitError(thrown(counted))).toBe(true)
            return
          }
          counted()
        }
      }),
    )
    const budget = new Budget(limits({ maxEntries: 1 }))
    budget.decoded().spendEntry('x')
    expect(
      isLimitError(
        thrown(() => {
          budget.spendEntry('x')
        }),
      ),
    ).toBe(true)
    const controller = new AbortController()
    const stopped = new Budget(DEFAULT_LIMITS, controller.signal).decoded()
    controller.abort()
    expect(
      thrown(() => {
        stopped.spendBytes(1, 'x')
      }),
    ).toBeInstanceOf(ReproofError)
  })
})
