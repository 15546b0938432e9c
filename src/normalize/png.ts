import { ReproofError } from '../errors.js'

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

export function isPng(head: Buffer): boolean {
  return head.length >= 8 && head.subarray(0, 8).equals(SIGNATURE)
}

// Text keywords that image tools fill with the time of writing (ImageMagick, GIMP).
const TIME_KEYWORDS = new Set(['date:create', 'date:modify', 'date:timestamp', 'Creation Time'])

/**
 * Drops the chunks that record when a PNG was written: tIME always, and tEXt/iTXt
 * chunks whose keyword is a date. Pixel data and every other chunk are kept byte for
 * byte, CRCs included, so the image is unchanged.
 */
export function stablePng(png: Buffer, where: string): { bytes: Buffer; removed: string[] } {
  const bad = (what: string): ReproofError =>
    new ReproofError('E_INPUT', `${where}: not a readable PNG (${what})`, { path: where })
  if (!isPng(png)) throw bad('no PNG signature')
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
    const keyword =
      type === 'tEXt' || type === 'iTXt'
        ? data.subarray(0, Math.max(0, data.indexOf(0))).toString('latin1')
        : ''
    if (type === 'tIME' || TIME_KEYWORDS.has(keyword))
      removed.push(keyword === '' ? type : `${type} ${keyword}`)
    else kept.push(png.subarray(at, end))
    at = end
    if (type === 'IEND') {
      sawEnd = true
      break
    }
  }
  if (!sawEnd) throw bad('no IEND chunk')
  // Bytes after IEND are kept: they are not ours to judge.
  kept.push(png.subarray(at))
  return { bytes: Buffer.concat(kept), removed }
}
