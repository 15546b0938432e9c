import type { SpecialBitsMember } from './rules.js'
import fs from 'node:fs'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { unreadableAs } from '../formats/member.js'
import { once } from 'node:events'
import type { Readable, Writable } from 'node:stream'
import { ByteReader } from '../formats/byte-reader.js'
import { decimal } from '../formats/decimal.js'
import type { Budget } from '../formats/limits.js'
import { decompressedSource } from '../formats/compressed.js'
import { detectCompression, type Compression } from '../formats/compressions.js'
import { fileSource, readHead } from '../formats/source.js'
import { ReproofError } from '../errors.js'
import { MiB, type Job, type NormalizeOutcome } from './job.js'
import { specialBitsChange } from './rules.js'

export interface ArChanges {
  members: number
  headers: number
  /** A `.deb`'s tars normalized as files of their own, each with what changed in it. */
  nested: string[]
  /** Those left as they are, each with the reason. */
  nestedKept: string[]
  /** Members whose exec bit was kept (mode 755). */
  executables: number
  /** Members whose setuid, setgid or sticky bit the stable mode left out (`ar x` restores a mode). */
  specialBits: SpecialBitsMember[]
}

const MAGIC = '!<arch>\n'
// The members of a .deb that are archives of their own: its control and its files.
const DEB_TAR = /^(control|data)\.tar(\.(gz|xz|zst|bz2|lzma))?$/

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
  /**
   * A `.deb`'s `control.tar.*` and `data.tar.*`, each taken out to a file in `dir` and
   * normalized by its own format's rules; absent, every member's data is copied.
   */
  nested?: { dir: string; normalize: Job['normalizeMember'] },
  /**
   * Ship mode's `.deb` tars, copied as they are: each is first taken out to a file in
   * `dir` and read through by `check`, so that a corrupt one is refused, not copied.
   */
  checked?: { dir: string; check: (name: string, file: string) => Promise<void> },
): Promise<ArChanges> {
  const reader = new ByteReader(input, where)
  const bad = unreadableAs('ar archive', where)
  const write = async (bytes: Buffer): Promise<void> => {
    if (!output.write(Buffer.from(bytes))) await once(output, 'drain')
  }
  if ((await reader.read(MAGIC.length))?.toString('latin1') !== MAGIC) throw bad('no !<arch> magic')
  await write(Buffer.from(MAGIC, 'latin1'))
  const changes: ArChanges = {
    members: 0,
    headers: 0,
    executables: 0,
    specialBits: [],
    nested: [],
    nestedKept: [],
  }
  // A Debian package: its first member is debian-binary (dpkg wants it first).
  let deb = false
  // GNU ar's table of long names (the `//` member), as far as a report needs it.
  let longNames: Buffer | undefined
  // A member cut short, named as the ar archive's fault, by where its header is.
  const truncated = (at: number, wanted: number, got: number): Error =>
    bad(`truncated: the member at byte ${at} holds ${got} of its ${wanted} bytes`)
  for (;;) {
    const at = reader.offset
    const header = await reader.read(60)
    if (header === undefined) break
    if (header.length < 60 || header.subarray(58, 60).toString('latin1') !== '`\n')
      throw bad('truncated or corrupt member header')
    // Decimal digits only, as dpkg reads it: an archive dpkg refuses is not "normalized".
    const sizeText = header.subarray(48, 58).toString('latin1').trim()
    const size = decimal(sizeText)
    if (!Number.isSafeInteger(size)) throw bad(`bad member size "${sizeText}"`)
    budget.spendEntry(where)
    const name = header.subarray(0, 16).toString('latin1').trimEnd()
    const stable = Buffer.from(header)
    // A member whose set-id bits are dropped, named in the report by its real name.
    let special: SpecialBitsMember | undefined
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
      if (!table && (mode & 0o7000) !== 0) {
        special = { name: Buffer.from(name, 'latin1'), mode }
        changes.specialBits.push(special)
      }
      stable.write('0'.padEnd(12), 16, 'latin1')
      stable.write('0'.padEnd(6), 28, 'latin1')
      stable.write('0'.padEnd(6), 34, 'latin1')
      stable.write((table ? '0' : executable ? '755' : '644').padEnd(8), 40, 'latin1')
    }
    // GNU ar ends a name with a slash, dpkg-deb does not; dpkg reads both.
    const bare = name.endsWith('/') ? name.slice(0, -1) : name
    if (changes.members === 0) deb = bare === 'debian-binary'
    changes.members++
    const spoolDir = nested?.normalize !== undefined ? nested.dir : checked?.dir
    if (deb && spoolDir !== undefined && DEB_TAR.test(bare)) {
      const file = path.join(spoolDir, `member-${changes.members}`)
      const fd = fs.openSync(file, 'w')
      try {
        const got = await reader.forward(size, (chunk) => {
          budget.spendBytes(chunk.length, where)
          for (let done = 0; done < chunk.length;) done += fs.writeSync(fd, chunk, done)
        })
        if (got < size) throw truncated(at, size, got)
      } finally {
        fs.closeSync(fd)
      }
      if ((await reader.forward(size % 2, () => undefined)) < size % 2)
        throw truncated(at, size + 1, size)
      if (nested?.normalize === undefined) {
        await checked?.check(bare, file)
        if (!stable.equals(header)) changes.headers++
        await write(stable)
        await pipeline(fs.createReadStream(file, { highWaterMark: MiB }), output, { end: false })
        if (size % 2 === 1) await write(Buffer.from('\n', 'latin1'))
        fs.rmSync(file, { force: true })
        continue
      }
      const done = await nested.normalize(bare, file, nested.dir)
      const data = done.file ?? file
      const newName = done.name === undefined ? name : `${done.name}${bare === name ? '' : '/'}`
      const newSize = fs.statSync(data).size
      stable.write(newName.padEnd(16), 0, 'latin1')
      stable.write(String(newSize).padEnd(10), 48, 'latin1')
      if (done.kept !== undefined) changes.nestedKept.push(`${name}: ${done.kept}`)
      if (done.changes.length > 0)
        changes.nested.push(
          `${name}${newName === name ? '' : ` → ${newName}`} (${done.changes.join('; ')})`,
        )
      if (!stable.equals(header) || done.file !== undefined) changes.headers++
      await write(stable)
      await pipeline(fs.createReadStream(data, { highWaterMark: MiB }), output, { end: false })
      if (newSize % 2 === 1) await write(Buffer.from('\n', 'latin1'))
      continue
    }
    if (!stable.equals(header)) changes.headers++
    await write(stable)
    const padded = size + (size % 2)
    // What a report names members by: GNU's table of long names, BSD's name before the data.
    // (A BSD name never longer than the data it is part of.)
    const keep = Math.min(size, name === '//' ? MAX_NAME_TABLE : (bsdNameLength(name) ?? 0))
    const head: Buffer[] = []
    let held = 0
    const got = await reader.forward(padded, async (chunk) => {
      budget.spendBytes(chunk.length, where)
      if (held < keep) {
        head.push(Buffer.from(chunk.subarray(0, keep - held)))
        held += Math.min(chunk.length, keep - held)
      }
      await write(chunk)
    })
    if (got < padded) throw truncated(at, padded, got)
    if (name === '//') longNames = Buffer.concat(head)
    if (special !== undefined) special.name = realName(name, Buffer.concat(head), longNames)
  }
  output.end()
  await once(output, 'finish')
  return changes
}

// How much of GNU's table of long names is kept to name members in a report.
const MAX_NAME_TABLE = 1 << 20

/** BSD ar's `#1/<length>`: the name is the first `length` bytes of the data. */
function bsdNameLength(name: string): number | undefined {
  const m = /^#1\/([0-9]{1,4})$/.exec(name)
  return m === null ? undefined : Number(m[1])
}

/**
 * A member's name as ar tools list it: BSD's from the start of its data (`head`), GNU's
 * `/<offset>` from the table of long names (to its `/` and line break); else as written.
 */
function realName(name: string, head: Buffer, longNames: Buffer | undefined): Buffer {
  // BSD's, as far as the data holds it, without the NULs macOS pads it with.
  if (bsdNameLength(name) !== undefined) {
    const end = head.indexOf(0)
    return end === -1 ? head : head.subarray(0, end)
  }
  const gnu = /^\/([0-9]+)$/.exec(name)
  if (gnu !== null && longNames !== undefined) {
    const from = Number(gnu[1])
    const end = longNames.indexOf('\n', from)
    if (from < longNames.length && end !== -1) {
      const entry = longNames.subarray(from, end)
      return entry.at(-1) === 0x2f ? entry.subarray(0, -1) : entry
    }
  }
  // GNU's short name ends in the `/` that lets it hold spaces; ar lists it without.
  const short = name.endsWith('/') && name !== '/' && name !== '//' ? name.slice(0, -1) : name
  return Buffer.from(short, 'latin1')
}

/** An ar archive (a static library, a .deb): every member header made stable. */
export function normalizeArFile(job: Job): Promise<NormalizeOutcome> {
  job.said.format = 'ar'
  return job.write(async (out) => {
    const input = fs.createReadStream(job.input, { highWaterMark: MiB })
    // A .deb's tars are normalized in compare mode only: by a tar's rules their owners
    // and modes would become 0/0 and 0644/0755, and dpkg installs what they say (a
    // setuid passwd, a 0440 sudoers, files of root:shadow). Ship mode copies them.
    const c = await normalizeAr(
      input,
      out,
      job.budget,
      job.input,
      job.rules.mode === 'compare' ? { dir: job.work, normalize: job.normalizeMember } : undefined,
      { dir: job.work, check: (name, file) => readThrough(job, name, file) },
    )
    if (c.nestedKept.length > 0) job.said.kept = c.nestedKept.join('; ')
    job.said.changes =
      c.headers > 0
        ? [
            `${c.headers} of ${c.members} member headers set to mtime 0, uid/gid 0, mode 644${c.executables > 0 ? ` (755 for the ${c.executables} with an exec bit, kept)` : ''}`,
            ...(c.specialBits.length > 0 ? [specialBitsChange(c.specialBits)] : []),
            ...c.nested,
          ]
        : []
  })
}

const DEB_COMPRESSIONS: Readonly<Record<string, Compression>> = {
  gz: 'gzip',
  xz: 'xz',
  zst: 'zstd',
  bz2: 'bzip2',
}

/**
 * A `.deb` tar copied as it is, read through first: its compressed stream whole and
 * sound (checks and lengths), so that a corrupt package is refused rather than called
 * normalized. An lzma stream (a format reproof does not decode) is copied unread.
 */
async function readThrough(job: Job, name: string, file: string): Promise<void> {
  const where = `${job.input}!${name}`
  const { scanTar } = await import('../formats/tar.js')
  // An uncompressed tar (dpkg-deb -Znone) is read as one: its headers' checksums and
  // sizes checked, as a compressed one's stream is, and its tar then too.
  if (name.endsWith('.tar')) {
    await scanTar(fs.createReadStream(file), where, job.budget, () => undefined)
    return
  }
  const suffix = /\.tar\.([a-z0-9]+)$/.exec(name)?.[1]
  const expected = suffix === undefined ? undefined : DEB_COMPRESSIONS[suffix]
  if (expected === undefined) return
  const head = await readHead(fileSource(file), 512)
  if (detectCompression(head) !== expected)
    throw new ReproofError('E_INPUT', `${where}: not a ${expected} stream, as its name says`, {
      path: job.input,
    })
  const source = { ...fileSource(file), label: where }
  await scanTar(
    decompressedSource(source, expected, job.budget, head).open(),
    where,
    job.budget,
    () => undefined,
  )
}
