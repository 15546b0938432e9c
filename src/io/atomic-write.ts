import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'

/**
 * Replaces `target` all at once: write a temp file beside it, fsync it, rename it over
 * the target, fsync the directory. A crash leaves either the old file or the new one,
 * never half of either; at worst a stray temp file, which carries our prefix.
 */
export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  mode = 0o644,
): Promise<void> {
  await replaceAtomic(target, mode, async (handle) => {
    await handle.writeFile(data)
  })
}

/**
 * Copies `source` to `target` atomically, with the given mode and mtime, and returns
 * the SHA-256 of the bytes written, so the caller can prove the copy is what it hashed.
 */
export async function copyFileAtomic(
  source: string,
  target: string,
  options: { mode: number; mtime: number },
): Promise<string> {
  const hash = crypto.createHash('sha256')
  await replaceAtomic(target, options.mode, async (handle) => {
    const input = await fs.open(source, 'r')
    try {
      const buffer = Buffer.allocUnsafe(1024 * 1024)
      for (;;) {
        const { bytesRead } = await input.read(buffer, 0, buffer.length, null)
        if (bytesRead === 0) break
        hash.update(buffer.subarray(0, bytesRead))
        await handle.write(buffer, 0, bytesRead)
      }
    } finally {
      await input.close()
    }
    await handle.utimes(options.mtime, options.mtime)
  })
  return hash.digest('hex')
}

async function replaceAtomic(
  target: string,
  mode: number,
  fill: (handle: fs.FileHandle) => Promise<void>,
): Promise<void> {
  const dir = path.dirname(target)
  await fs.mkdir(dir, { recursive: true })
  const temp = path.join(
    dir,
    `.${path.basename(target)}.reproof-${crypto.randomBytes(6).toString('hex')}`,
  )
  const handle = await fs.open(temp, 'wx', mode)
  try {
    await fill(handle)
    await handle.chmod(mode)
    await handle.sync()
    await handle.close()
    await fs.rename(temp, target)
  } catch (err) {
    await handle.close().catch(() => undefined)
    await fs.rm(temp, { force: true })
    throw err
  }
  await syncDir(dir)
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
