import crypto from 'node:crypto'
import type { Readable } from 'node:stream'
import tar from 'tar-stream'
import type { Budget } from './limits.js'
import {
  isoTime,
  keyFor,
  nameWarning,
  octal,
  type MemberInfo,
  type ScanResult,
  type WantMember,
} from './member.js'
import type { ByteSource } from './source.js'

/** tar-stream's header, typed as a damaged archive may really leave it: any field null. */
interface LooseHeader {
  name: string
  size?: number | null
  mtime?: Date | null
  mode?: number | null
  uid?: number | null
  gid?: number | null
  uname?: string | null
  gname?: string | null
  type?: string | null
  linkname?: string | null
  pax?: Record<string, string> | null
}

const TYPES: Record<string, MemberInfo['type']> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'directory',
  symlink: 'symlink',
  link: 'hardlink',
}

// PAX records that duplicate header fields (already compared) or that tar-stream consumes.
const PAX_SKIP = new Set(['path', 'linkpath', 'size'])

/** Streams a tar archive once: hashes every member, keeps the content of those in `want`. */
export async function scanTar(
  input: Readable,
  where: string,
  budget: Budget,
  want: WantMember,
): Promise<ScanResult> {
  const extract = tar.extract()
  const members: MemberInfo[] = []
  const captured = new Map<string, ByteSource>()
  const warnings: string[] = []
  const seen = new Map<string, number>()
  input.on('error', (err) => {
    extract.destroy(err)
  })
  input.pipe(extract)
  for await (const entry of extract) {
    const header = entry.header as LooseHeader
    budget.spendEntry(where)
    const key = keyFor(header.name, seen)
    const warning = nameWarning(header.name)
    if (warning !== undefined) warnings.push(warning)
    const sink = want(key, header.size ?? 0)
    const hash = crypto.createHash('sha256')
    let size = 0
    for await (const chunk of entry as AsyncIterable<Buffer>) {
      budget.spendBytes(chunk.length, where)
      hash.update(chunk)
      size += chunk.length
      sink?.add(chunk)
    }
    if (sink !== undefined) captured.set(key, sink.done())
    const type = TYPES[header.type ?? 'file'] ?? 'other'
    const meta: Record<string, string> = {
      mtime: isoTime(header.mtime == null ? 0 : Math.floor(header.mtime.getTime() / 1000)),
      mode: octal(header.mode ?? 0),
      uid: String(header.uid ?? 0),
      gid: String(header.gid ?? 0),
      uname: header.uname ?? '',
      gname: header.gname ?? '',
    }
    if (type === 'other') meta.type = header.type ?? 'unknown'
    for (const [k, v] of Object.entries(header.pax ?? {})) {
      if (!PAX_SKIP.has(k)) meta[`pax.${k}`] = v
    }
    members.push({
      key,
      name: header.name,
      type,
      size,
      sha256: type === 'file' ? hash.digest('hex') : '',
      ...(header.linkname == null ? {} : { linkTarget: header.linkname }),
      meta,
      index: members.length,
    })
  }
  return { inventory: { members, meta: {}, warnings }, captured }
}
