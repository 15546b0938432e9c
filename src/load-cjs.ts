import { createRequire } from 'node:module'

/**
 * The CommonJS packages reproof loads on demand, loaded with require.
 *
 * Node's ESM loader reads the source of a CommonJS module imported from ESM, and of every
 * module it re-exports, to find its named exports. For the Sigstore packages that took
 * 40 ms of every verification, a quarter of it: @sigstore/protobuf-specs costs 60 ms to
 * import and 2 ms to require. The action's bundler swaps `load` for a plain require,
 * which it follows and bundles (see .ci/bundle-action.mjs).
 */
const load = createRequire(import.meta.url)

export const sigstoreBundle = (): typeof import('@sigstore/bundle') =>
  load('@sigstore/bundle') as typeof import('@sigstore/bundle')
export const sigstoreVerify = (): typeof import('@sigstore/verify') =>
  load('@sigstore/verify') as typeof import('@sigstore/verify')
export const sigstoreSpecs = (): typeof import('@sigstore/protobuf-specs') =>
  load('@sigstore/protobuf-specs') as typeof import('@sigstore/protobuf-specs')
export const sigstoreSign = (): typeof import('@sigstore/sign') =>
  load('@sigstore/sign') as typeof import('@sigstore/sign')
export const sigstoreCore = (): typeof import('@sigstore/core') =>
  load('@sigstore/core') as typeof import('@sigstore/core')
export const sigstoreTuf = (): typeof import('@sigstore/tuf') =>
  load('@sigstore/tuf') as typeof import('@sigstore/tuf')
// fast-glob: 10 ms less to require than to import; a snapshot without globs loads none of it.
export const fastGlob = (): typeof import('fast-glob') =>
  load('fast-glob') as typeof import('fast-glob')
// micromatch: a glob of the whole tree (`**`) or a plain path needs none of it.
export const micromatch = (): typeof import('micromatch') =>
  load('micromatch') as typeof import('micromatch')

/** unbzip2-stream's block decoder, driven by formats/bzip2-content.ts. */
export interface Bzip2Blocks {
  header(bits: Bzip2Bits): number
  decompress(
    bits: Bzip2Bits,
    write: (byte: number) => void,
    buf: Int32Array,
    bufsize: number,
    streamCRC: number | null,
  ): number | null
}
/** A function reading `n` bits (null: to the next byte), counting the bytes it started. */
export type Bzip2Bits = ((n: number | null) => number) & { bytesRead: number }
export const bzip2Blocks = (): {
  bzip2: Bzip2Blocks
  bitIterator: (next: () => Buffer | undefined) => Bzip2Bits
} => ({
  bzip2: load('unbzip2-stream/lib/bzip2') as Bzip2Blocks,
  bitIterator: load('unbzip2-stream/lib/bit_iterator') as (
    next: () => Buffer | undefined,
  ) => Bzip2Bits,
})
