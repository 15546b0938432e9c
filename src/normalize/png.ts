import fsp from 'node:fs/promises'
import zlib from 'node:zlib'
import { unreadableAs } from '../formats/member.js'
import { OTHER_FORMATS } from '../formats/registry.js'
import { writeBytes, type Job, type NormalizeOutcome } from './job.js'

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

// Text keywords that image tools fill with the time of writing: ImageMagick's `date:`
// family (create, modify, timestamp, and whatever it adds), GIMP's `Creation Time`.
const isTimeKeyword = (keyword: string): boolean =>
  keyword.startsWith('date:') || keyword === 'Creation Time'

/**
 * Drops the chunks that record when a PNG was written: tIME always, and tEXt, zTXt and
 * iTXt chunks whose keyword is a date. Pixel data and every other chunk are kept byte for
 * byte, CRCs included, so the image is unchanged.
 */
export function stablePng(png: Buffer, where: string): { bytes: Buffer; removed: string[] } {
  const bad = unreadableAs('PNG', where)
  if (!OTHER_FORMATS.png.detect(png)) throw bad('no PNG signature')
  const kept: Buffer[] = [SIGNATURE]
  const removed: string[] = []
  let at = 8
  let sawEnd = false
  while (at < png.length) {
    if (at + 12 > png.length) throw bad('truncated chunk')
    const length = png.readUInt32BE(at)
    const end = at + 12 + length
    if (length > 0x7fffffff || end > png.length) throw bad('chunk runs past the end of the file')
    const type = png.subarray(at + 4, at + 8).toString('latin1')
    const data = png.subarray(at + 8, at + 8 + length)
    // A chunk is checked before it is kept or dropped: corrupt bytes are not passed on.
    if (zlib.crc32(png.subarray(at + 4, at + 8 + length)) !== png.readUInt32BE(at + 8 + length))
      throw bad(`the CRC of its ${JSON.stringify(type)} chunk at byte ${at} does not match`)
    const keyword =
      // A text chunk's keyword ends at its first NUL, compressed (zTXt) or not.
      type === 'tEXt' || type === 'iTXt' || type === 'zTXt'
        ? data.subarray(0, Math.max(0, data.indexOf(0))).toString('latin1')
        : ''
    if (type === 'tIME' || isTimeKeyword(keyword))
      removed.push(keyword === '' ? type : `${type} ${keyword}`)
    else kept.push(png.subarray(at, end))
    at = end
    if (type === 'IEND') {
      sawEnd = true
      break
    }
  }
  if (!sawEnd) throw bad('no IEND chunk')
  // Bytes after IEND belong to no chunk: junk, or another file appended (a polyglot).
  if (at < png.length) throw bad(`${png.length - at} bytes after its IEND chunk, at byte ${at}`)
  return { bytes: Buffer.concat(kept), removed }
}

/** A PNG: its time chunks removed. Images are a few MB at most: read whole, within the member limit. */
export async function normalizePngFile(job: Job): Promise<NormalizeOutcome> {
  job.said.format = 'png'
  job.budget.checkMemberSize((await fsp.stat(job.input)).size, job.input)
  const { bytes, removed } = stablePng(await fsp.readFile(job.input), job.input)
  job.said.changes = removed.map((r) => `${r} chunk removed`)
  return writeBytes(job, bytes)
}
