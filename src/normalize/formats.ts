import type { FormatName } from '../formats/detect.js'
import { normalizeArFile } from './ar.js'
import { normalizeCompressedFile } from './compressed-tar.js'
import { normalizeCpioFile } from './cpio.js'
import { normalizeGzipFile } from './gzip.js'
import type { Normalizer } from './job.js'
import { normalizeMoFile } from './mo.js'
import { normalizePngFile } from './png.js'
import { normalizeTarFile } from './tar.js'
import { normalizeZipFile } from './zip.js'

/**
 * What normalization does with each format of the registry (formats/registry.ts): its
 * normalizer, in the format's own module here, or null with the reason there is none.
 * Keyed by every format the registry names, so a new format cannot be added without a
 * decision here. A file of no format, or of one without a normalizer, is left as it is
 * and reported as `unknown`.
 */
export const NORMALIZERS: Readonly<Record<FormatName, Normalizer | null>> = {
  tar: normalizeTarFile,
  zip: normalizeZipFile,
  ar: normalizeArFile,
  // A tar inside is normalized like any tar.
  gzip: normalizeGzipFile,
  // Their headers hold no time, name or owner; a tar inside is normalized.
  bzip2: normalizeCompressedFile('bzip2'),
  xz: normalizeCompressedFile('xz'),
  zstd: normalizeCompressedFile('zstd'),
  cpio: normalizeCpioFile,
  // Its headers carry digests and signatures of the payload: any rewrite breaks them.
  rpm: null,
  mo: normalizeMoFile,
  png: normalizePngFile,
}
