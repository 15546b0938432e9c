import crypto from 'node:crypto'
import fs from 'node:fs'
import { ReproofError, unreadable } from '../errors.js'
import { openRegularFile } from '../io/open-regular-file.js'

/**
 * The digests of an artifact named on the command line or in a record, in one streaming
 * pass with one reused buffer; refused unless a regular file (`openRegularFile`).
 * `label` names it in messages; `file` is bytes where its name is not UTF-8.
 */
export function hashArtifact<A extends 'sha256' | 'sha512'>(
  file: string | Buffer,
  label: string,
  algorithms: readonly A[],
): Record<A, string> {
  const { fd } = openRegularFile(file, {
    name: label,
    path: label,
    then: '; an artifact is a file',
    missing: 'no such artifact',
  })
  const hashes = algorithms.map((a) => crypto.createHash(a))
  const buffer = Buffer.allocUnsafe(1024 * 1024)
  try {
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, buffer.length, null)
      if (n === 0) break
      for (const h of hashes) h.update(buffer.subarray(0, n))
    }
  } catch (err) {
    if (err instanceof ReproofError) throw err
    throw unreadable(label, label, err, 'no such artifact')
  } finally {
    fs.closeSync(fd)
  }
  return Object.fromEntries(
    algorithms.map((a, i) => [a, hashes[i]?.digest('hex') ?? '']),
  ) as Record<A, string>
}
