import fs from 'node:fs'
import path from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { once } from 'node:events'
import tar from 'tar-stream'
import { compareBytes } from '../canonical.js'
import type { Budget } from '../formats/limits.js'
import {
  NPM_MTIME,
  stableMode,
  stableMtime,
  stablePax,
  type EntryType,
  type NormalizeRules,
} from './rules.js'
import { MiB, orReencoded, type Job, type NormalizeOutcome } from './job.js'

/** What a tar normalization changed, counted per kind of change. */
export interface TarChanges {
  entries: number
  reordered: boolean
  mtimes: number
  modes: number
  owners: number
  paxRecords: number
}

export interface LooseHeader {
  name: string
  type?: string | null
  size?: number | null
  mode?: number | null
  mtime?: Date | null
  uid?: number | null
  gid?: number | null
  uname?: string | null
  gname?: string | null
  linkname?: string | null
  devmajor?: number | null
  devminor?: number | null
  pax?: Record<string, string> | null
}

/** What tar-stream's pack takes. */
type PackHeader = Parameters<ReturnType<typeof tar.pack>['entry']>[0]

/** An entry as read: its header, and where its data lies in the spool. */
export interface Spooled {
  header: LooseHeader
  offset: number
  size: number
}

const KINDS: Record<string, EntryType> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'directory',
  symlink: 'symlink',
  link: 'hardlink',
}

/** The decision for one archive: every entry in its new place with its stable header. */
export interface TarPlan {
  changes: TarChanges
  /**
   * False when every entry is already in place with every field at its stable value.
   * Unless the rules are canonical, the archive is then kept byte for byte rather than
   * re-encoded: re-encoding another writer's header layout (npm's, GNU tar's) would
   * change a digest that was already reproducible.
   */
  rewrite: boolean
  entries: { header: PackHeader; data: Spooled }[]
}

/**
 * Reads a tar stream, deciding what normalization changes, and hands the plan to `use`
 * with a writer for the normalized archive (entries in byte order of their names,
 * stable metadata). Entry data is spooled once to a private file, so an archive of any
 * size is sorted with an index in memory; the spool lives until `use` returns.
 */
export async function normalizeTar<T>(
  input: Readable,
  spoolDir: string,
  rules: NormalizeRules,
  budget: Budget,
  where: string,
  use: (plan: TarPlan, write: (output: Writable) => Promise<void>) => Promise<T>,
): Promise<T> {
  const spoolPath = path.join(spoolDir, 'tar-spool')
  const spool = fs.openSync(spoolPath, 'w+')
  try {
    const plan = planTar(await spoolEntries(input, spool, budget, where), rules)
    return await use(plan, (output) => writeTar(plan, spool, output))
  } finally {
    fs.closeSync(spool)
    fs.rmSync(spoolPath, { force: true })
  }
}

/** Pure: the new order and headers, what they change, and whether anything does. */
export function planTar(entries: readonly Spooled[], rules: NormalizeRules): TarPlan {
  // npm tarballs keep npm's own order and fixed mtime.
  const npm = entries.length > 0 && entries.every((e) => e.header.name.startsWith('package/'))
  const ordered = npm
    ? [...entries]
    : [...entries].sort((a, b) => compareBytes(a.header.name, b.header.name))
  fixHardLinkOrder(ordered)
  const changes: TarChanges = {
    entries: entries.length,
    reordered: ordered.some((e, i) => e !== entries[i]),
    mtimes: 0,
    modes: 0,
    owners: 0,
    paxRecords: 0,
  }
  const planned = ordered.map((data) => ({
    header: stableHeader(data.header, rules, npm, changes),
    data,
  }))
  const rewrite =
    changes.reordered || changes.mtimes + changes.modes + changes.owners + changes.paxRecords > 0
  return { changes, rewrite, entries: planned }
}

async function writeTar(plan: TarPlan, spool: number, output: Writable): Promise<void> {
  const pack = tar.pack()
  const finished = once(pack.pipe(output), 'finish')
  for (const { header, data } of plan.entries) await writeEntry(pack, header, spool, data)
  pack.finalize()
  await finished
}

/**
 * Event callbacks rather than async iteration: on 3,000 small entries the iterators'
 * promise machinery cost more than reading the archive.
 */
function spoolEntries(
  input: Readable,
  spool: number,
  budget: Budget,
  where: string,
): Promise<Spooled[]> {
  return new Promise((resolve, reject) => {
    const extract = tar.extract()
    const entries: Spooled[] = []
    let offset = 0
    const fail = (err: unknown): void => {
      extract.destroy()
      reject(err instanceof Error ? err : new Error(String(err)))
    }
    input.on('error', fail)
    extract.on('error', fail)
    extract.on('entry', (header, stream, next) => {
      const start = offset
      try {
        budget.spendEntry(where)
      } catch (err) {
        fail(err)
        return
      }
      stream.on('data', (data: unknown) => {
        const chunk = data as Buffer
        try {
          budget.spendBytes(chunk.length, where)
          for (let at = 0; at < chunk.length;)
            at += fs.writeSync(spool, chunk, at, chunk.length - at, offset + at)
          offset += chunk.length
        } catch (err) {
          fail(err)
        }
      })
      stream.on('end', () => {
        entries.push({ header: header as LooseHeader, offset: start, size: offset - start })
        next()
      })
    })
    extract.on('finish', () => {
      resolve(entries)
    })
    input.pipe(extract)
  })
}

/**
 * A hard link must come after the file it links to, or extraction fails. When sorting
 * put a link first, the two swap roles: the link's name carries the data, the
 * original becomes the link. Same set of names, same content, same link group.
 */
function fixHardLinkOrder(entries: Spooled[]): void {
  const position = new Map(entries.map((e, i) => [e.header.name, i]))
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]
    if (entry?.header.type !== 'link' || entry.header.linkname == null) continue
    const j = position.get(entry.header.linkname)
    const target = j === undefined ? undefined : entries[j]
    if (j === undefined || target === undefined || j < i) continue
    const linkName = entry.header.name
    entries[i] = { ...target, header: { ...target.header, name: linkName } }
    entries[j] = {
      ...entry,
      header: { ...entry.header, name: target.header.name, linkname: linkName },
    }
    position.set(linkName, i)
    // Other links to the old target now point at the entry that holds the data.
    for (let k = i + 1; k < entries.length; k++) {
      const later = entries[k]
      if (later?.header.type === 'link' && later.header.linkname === target.header.name)
        entries[k] = { ...later, header: { ...later.header, linkname: linkName } }
    }
  }
}

// PAX records the writer derives again from the entry itself (long names, large sizes).
const PAX_REWRITTEN = new Set(['path', 'linkpath', 'size'])

function stableHeader(
  h: LooseHeader,
  rules: NormalizeRules,
  npm: boolean,
  changes: TarChanges,
): PackHeader {
  const type = KINDS[h.type ?? 'file'] ?? 'other'
  const mtime = Math.floor((h.mtime?.getTime() ?? 0) / 1000)
  // npm's fixed mtime predates every sensible epoch; keep it even when forcing.
  const newMtime = npm && mtime === NPM_MTIME ? NPM_MTIME : stableMtime(mtime, rules)
  const mode = h.mode ?? 0
  const newMode = type === 'other' ? mode & 0o777 : stableMode(type, mode)
  const pax = stablePax(h.pax)
  if (newMtime !== mtime) changes.mtimes++
  // The whole field: file type or set-id bits in it are dropped too.
  if (mode !== newMode) changes.modes++
  if ((h.uid ?? 0) !== 0 || (h.gid ?? 0) !== 0 || (h.uname ?? '') !== '' || (h.gname ?? '') !== '')
    changes.owners++
  changes.paxRecords +=
    Object.keys(h.pax ?? {}).filter((k) => !PAX_REWRITTEN.has(k)).length -
    Object.keys(pax ?? {}).length
  return {
    name: h.name,
    type: (h.type ?? 'file') as PackHeader['type'],
    mode: newMode,
    mtime: new Date(newMtime * 1000),
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    size: type === 'file' ? (h.size ?? 0) : 0,
    ...(h.linkname == null ? {} : { linkname: h.linkname }),
    ...(h.devmajor == null ? {} : { devmajor: h.devmajor, devminor: h.devminor ?? 0 }),
    ...(pax === undefined ? {} : { pax }),
  }
}

// Entries up to this size go to the packer as one buffer; larger ones are streamed.
const WHOLE_ENTRY_BYTES = 1024 * 1024

async function writeEntry(
  pack: ReturnType<typeof tar.pack>,
  header: PackHeader,
  spool: number,
  entry: Spooled,
): Promise<void> {
  const isFile = header.type === 'file' || header.type === 'contiguous-file'
  if (!isFile || entry.size <= WHOLE_ENTRY_BYTES) {
    const data = Buffer.allocUnsafe(isFile ? entry.size : 0)
    for (let at = 0; at < data.length;)
      at += fs.readSync(spool, data, at, data.length - at, entry.offset + at)
    await new Promise<void>((resolve, reject) => {
      pack.entry(header, data, (err) => {
        if (err != null) reject(err)
        else resolve()
      })
    })
    return
  }
  const done = new Promise<void>((resolve, reject) => {
    const sink = pack.entry(header, (err) => {
      if (err != null) reject(err)
      else resolve()
    })
    void (async () => {
      const buffer = Buffer.allocUnsafe(WHOLE_ENTRY_BYTES)
      let at = 0
      while (at < entry.size) {
        const n = fs.readSync(
          spool,
          buffer,
          0,
          Math.min(buffer.length, entry.size - at),
          entry.offset + at,
        )
        at += n
        if (!sink.write(Buffer.from(buffer.subarray(0, n)))) await once(sink, 'drain')
      }
      sink.end(Buffer.alloc(0))
    })().catch(reject)
  })
  await done
}

/** A tar file: sorted, stable headers; kept byte for byte when nothing needs a change. */
export async function normalizeTarFile(job: Job): Promise<NormalizeOutcome> {
  job.said.format = 'tar'
  const tarStream = fs.createReadStream(job.input, { highWaterMark: MiB })
  return normalizeTar(
    tarStream,
    job.work,
    job.rules,
    job.budget,
    job.input,
    async (plan, write) => {
      if (!plan.rewrite && !job.canonical) return job.keep()
      job.said.changes = orReencoded(describeTar(plan.changes), 'ustar, PAX for long names')
      return job.write(write)
    },
  )
}

/** What a tar's normalization changed, in words. */
export function describeTar(c: TarChanges): string[] {
  return [
    c.reordered ? `${c.entries} entries sorted by name` : '',
    c.mtimes > 0 ? `${c.mtimes} mtimes clamped to the epoch` : '',
    c.modes > 0 ? `${c.modes} modes set to 0644/0755` : '',
    c.owners > 0 ? `${c.owners} owners set to 0/0 with empty names` : '',
    c.paxRecords > 0 ? `${c.paxRecords} PAX time or xattr records removed` : '',
  ].filter((x) => x !== '')
}
