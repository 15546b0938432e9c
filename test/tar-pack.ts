import tar from 'tar-stream'

/** A tar of `entries` as tar-stream writes it (mtime 0; a name past 100 bytes gets a PAX header). */
export async function packTar(entries: { name: string; body: string | Buffer }[]): Promise<Buffer> {
  const pack = tar.pack()
  for (const e of entries) pack.entry({ name: e.name, mtime: new Date(0) }, e.body)
  pack.finalize()
  const chunks: Buffer[] = []
  for await (const chunk of pack as unknown as AsyncIterable<Buffer>) chunks.push(chunk)
  return Buffer.concat(chunks)
}
