import fsp from 'node:fs/promises'
import { ReproofError } from '../errors.js'
import { OTHER_FORMATS } from '../formats/registry.js'
import { writeBytes, type Job, type NormalizeOutcome } from './job.js'
import { stableMtime, type NormalizeRules } from './rules.js'

// msgfmt copies these from the .po header; xgettext writes the date of extraction. A
// field starts its line: `X-Upstream-PO-Revision-Date:` is another field.
const DATE_FIELD =
  /^(POT-Creation-Date|PO-Revision-Date): (\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})([+-]\d{4})/gm

/**
 * Gettext catalogs: the dates in the header entry (POT-Creation-Date, PO-Revision-Date)
 * are clamped to the epoch and written in UTC. The new date has exactly the length of
 * the old one, so no string offset or hash table changes; nothing else is touched.
 */
export function stableMo(
  mo: Buffer,
  rules: NormalizeRules,
  where: string,
): { bytes: Buffer; changed: string[] } {
  if (!OTHER_FORMATS.mo.detect(mo) || mo.length < 28)
    throw new ReproofError('E_INPUT', `${where}: not a readable gettext catalog`, { path: where })
  const little = mo.readUInt32LE(0) === 0x950412de
  // Every offset comes from the file: checked before it is read.
  const u32 = (at: number): number => {
    if (at < 0 || at + 4 > mo.length)
      throw new ReproofError('E_INPUT', `${where}: gettext tables point past the end of the file`, {
        path: where,
      })
    return little ? mo.readUInt32LE(at) : mo.readUInt32BE(at)
  }
  const count = u32(8)
  const originals = u32(12)
  const translations = u32(16)
  // The header is the translation of the empty message id, which sorts first.
  for (let i = 0; i < Math.min(count, 1); i++) {
    const idLength = u32(originals + i * 8)
    if (idLength !== 0) break
    const length = u32(translations + i * 8)
    const at = u32(translations + i * 8 + 4)
    if (at + length > mo.length)
      throw new ReproofError('E_INPUT', `${where}: gettext header runs past the end of the file`, {
        path: where,
      })
    const header = mo.subarray(at, at + length).toString('latin1')
    const changed: string[] = []
    const stable = header.replace(
      DATE_FIELD,
      (
        match,
        field: string,
        y: string,
        mo2: string,
        d: string,
        h: string,
        m: string,
        zone: string,
      ) => {
        const sign = zone.startsWith('-') ? 1 : -1
        // setUTCFullYear, not Date.UTC: that reads a year 0 to 99 as 1900 to 1999.
        const day = new Date(0)
        day.setUTCFullYear(Number(y), Number(mo2) - 1, Number(d))
        day.setUTCHours(Number(h), Number(m))
        const seconds =
          day.getTime() / 1000 +
          sign * (Number(zone.slice(1, 3)) * 3600 + Number(zone.slice(3)) * 60)
        const t = new Date(stableMtime(seconds, rules) * 1000).toISOString()
        // A time kept before year 0 (or past 9999) in UTC has no date of this form and
        // length: the field stays as it is.
        if (!/^\d{4}-/.test(t)) return match
        const replacement = `${field}: ${t.slice(0, 10)} ${t.slice(11, 16)}+0000`
        if (replacement !== match) changed.push(field)
        return replacement
      },
    )
    if (changed.length === 0) return { bytes: mo, changed }
    // Strings are found by offset and length alone: one that shares the header's bytes
    // (or a table that does) would change with it.
    const shared = sharingBytes(u32, count, originals, translations, at, at + length)
    if (shared !== undefined)
      throw new ReproofError(
        'E_INPUT',
        `${where}: ${shared} shares bytes with the header entry, whose dates a rewrite would change in it too`,
        { path: where },
      )
    const out = Buffer.from(mo)
    out.write(stable, at, 'latin1')
    return { bytes: out, changed }
  }
  return { bytes: mo, changed: [] }
}

/**
 * What else lies in bytes `start` to `end` (the header's translation, entry 0's): another
 * message's id or translation, or the tables; undefined when nothing does (pure, but for
 * reading the file through `u32`, which refuses a table past its end).
 */
function sharingBytes(
  u32: (at: number) => number,
  count: number,
  originals: number,
  translations: number,
  start: number,
  end: number,
): string | undefined {
  const overlaps = (from: number, to: number): boolean => from < end && start < to && from < to
  if (
    overlaps(originals, originals + count * 8) ||
    overlaps(translations, translations + count * 8)
  )
    return 'a table of strings'
  const hashSize = u32(20)
  const hashAt = u32(24)
  if (hashSize > 0 && overlaps(hashAt, hashAt + hashSize * 4)) return 'the hash table'
  for (let i = 0; i < count; i++) {
    for (const [table, what] of [
      [originals, 'the id'],
      [translations, 'the translation'],
    ] as const) {
      if (i === 0 && table === translations) continue
      const length = u32(table + i * 8)
      const at = u32(table + i * 8 + 4)
      if (overlaps(at, at + length)) return `${what} of message ${i}`
    }
  }
  return undefined
}

/** A gettext catalog: its header's dates clamped, read whole within the member limit. */
export async function normalizeMoFile(job: Job): Promise<NormalizeOutcome> {
  job.said.format = 'mo'
  job.budget.checkMemberSize((await fsp.stat(job.input)).size, job.input)
  const { bytes, changed } = stableMo(await fsp.readFile(job.input), job.rules, job.input)
  job.said.changes = changed.map(
    (f) => `${f} ${job.rules.setMtime ? 'set' : 'clamped'} to the epoch (UTC)`,
  )
  return writeBytes(job, bytes)
}
