import crypto from 'node:crypto'
import fs from 'node:fs/promises'

// 1 MiB reads: large enough that syscalls vanish against hashing, small enough that
// memory stays flat whatever the file size (one buffer per concurrent hash).
const CHUNK = 1024 * 1024

export interface FileDigest {
  sha256: string
  size: number
}

/** Streams a file through SHA-256 with one reused buffer: constant memory for any size. */
export async function hashFile(
  file: string,
  buffer: Buffer = Buffer.allocUnsafe(CHUNK),
): Promise<FileDigest> {
  const hash = crypto.createHash('sha256')
  const handle = await fs.open(file, 'r')
  let size = 0
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null)
      if (bytesRead === 0) break
      hash.update(buffer.subarray(0, bytesRead))
      size += bytesRead
    }
  } finally {
    await handle.close()
  }
  return { sha256: hash.digest('hex'), size }
}

/**
 * Hashes many files with a fixed number in flight. Each worker owns one buffer, so
 * memory is `concurrency × 1 MiB` however many and however large the files are.
 */
export async function hashFiles(files: readonly string[], concurrency = 4): Promise<FileDigest[]> {
  const results = new Array<FileDigest>(files.length)
  let next = 0
  const worker = async (): Promise<void> => {
    const buffer = Buffer.allocUnsafe(CHUNK)
    while (next < files.length) {
      const index = next++
      const file = files[index]
      if (file !== undefined) results[index] = await hashFile(file, buffer)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker))
  return results
}
