import fs from 'node:fs'
import { unreadableAs } from '../formats/member.js'
import { once } from 'node:events'
import type { Readable, Writable } from 'node:stream'
import { ByteReader } from '../formats/byte-reader.js'
import type { Budget } from '../formats/limits.js'
import { MiB, type Job, type NormalizeOutcome } from './job.js'
import { specialBitsChange } from './rules.js'

export interface ArChanges {
  members: number
  headers: number
  /** Members whose exec bit was kept (mode 755). */
  executables: number
  /** Members whose setuid, setgid or sticky bit the stable mode left out (`ar x` restores a mode). */
  specialBits: number
}

const MAGIC = '!<arch>\n'

/**
 * Rewrites member headers as GNU ar's deterministic mode (D) writes them: mtime 0,
 * uid and gid 0, mode 644; but a member with an exec bit keeps it, as 755 (`ar x`
 * restores the mode, and GNU ar's 644 for all would lose it). Names, sizes, order and
 * data are untouched, so symbol tables (which hold member offsets) and .deb member
 * order stay valid.
 */
export async function normalizeAr(
  input: Readable,
  output: Writable,
  budget: Budget,
  where: string,
): Promise<ArChanges> {
  const reader = new ByteReader(input, where)
  const bad = unreadableAs('ar archive', where)
  const write = async (bytes: Buffer): Promise<void> => {
    if (!output.write(Buffer.from(bytes))) await once(output, 'drain')
  }
  if ((await reader.read(MAGIC.length))?.toString('latin1') !== MAGIC) throw bad('no !<arch> magic')
  await write(Buffer.from(MAGIC, 'latin1'))
  const changes: ArChanges = { members: 0, headers: 0, executables: 0, specialBits: 0 }
  for (;;) {
    const header = await reader.read(60)
    if (header === undefined) break
    if (header.length < 60 || header.subarray(58, 60).toString('latin1') !== '`\n')
      throw bad('truncated or corrupt member header')
    const size = Number.parseInt(header.subarray(48, 58).toString('latin1').trim(), 10)
    if (!Number.isSafeInteger(size) || size < 0) throw bad('bad member size')
    budget.spendEntry(where)
    const name = header.subarray(0, 16).toString('latin1').trimEnd()
    const stable = Buffer.from(header)
    if (name === '//') {
      // The long-name table has no time, owner or mode: GNU ar leaves them blank.
      stable.write(' '.repeat(32), 16, 'latin1')
    } else {
      // The symbol table keeps mode 0, as GNU ar's deterministic mode (D) writes it.
      const table = name === '/' || name === '/SYM64/'
      const modeText = header.subarray(40, 48).toString('latin1').trim()
      if (!/^[0-7]*$/.test(modeText)) throw bad(`member mode "${modeText}" is not octal`)
      const mode = Number.parseInt(modeText || '0', 8)
      const executable = !table && (mode & 0o111) !== 0
      if (executable) changes.executables++
      if (!table && (mode & 0o7000) !== 0) changes.specialBits++
      stable.write('0'.padEnd(12), 16, 'latin1')
      stable.write('0'.padEnd(6), 28, 'latin1')
      stable.write('0'.padEnd(6), 34, 'latin1')
      stable.write((table ? '0' : executable ? '755' : '644').padEnd(8), 40, 'latin1')
    }
    if (!stable.equals(header)) changes.headers++
    changes.members++
    await write(stable)
    await reader.stream(size + (size % 2), async (chunk) => {
      budget.spendBytes(chunk.length, where)
      await write(chunk)
    })
  }
  output.end()
  await once(output, 'finish')
  return changes
}

/** An ar archive (a static library, a .deb): every member header made stable. */
export function normalizeArFile(job: Job): Promise<NormalizeOutcome> {
  job.said.format = 'ar'
  return job.write(async (out) => {
    const input = fs.createReadStream(job.input, { highWaterMark: MiB })
    const c = await normalizeAr(input, out, job.budget, job.input)
    job.said.changes =
      c.headers > 0
        ? [
            `${c.headers} of ${c.members} member headers set to mtime 0, uid/gid 0, mode 644${c.executables > 0 ? ` (755 for the ${c.executables} with an exec bit, kept)` : ''}`,
            ...(c.specialBits > 0 ? [specialBitsChange(c.specialBits)] : []),
          ]
        : []
  })
}
