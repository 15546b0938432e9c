// The least a Node process does to hash a tree on two threads: a worker started first,
// the tree listed with plain readdir (names as text, no checks), then both threads
// hashing from one shared counter, digests collected by index. No globs, no confinement,
// no names as bytes: a floor for reproof's manifest, printed beside it by hashing.mjs.
import crypto from 'node:crypto'
import fs from 'node:fs'
import { Worker } from 'node:worker_threads'

const HASH = `
const fs = require('node:fs'), crypto = require('node:crypto')
module.exports = (files, next, out) => {
  const buffer = Buffer.allocUnsafe(1 << 20)
  for (let i = Atomics.add(next, 0, 1); i < files.length; i = Atomics.add(next, 0, 1)) {
    const fd = fs.openSync(files[i], 'r')
    fs.fstatSync(fd)
    let n = fs.readSync(fd, buffer, 0, buffer.length, null)
    const hash = crypto.createHash('sha256')
    while (n > 0) { hash.update(buffer.subarray(0, n)); n = fs.readSync(fd, buffer, 0, buffer.length, null) }
    fs.closeSync(fd)
    out.push(i, hash.digest('hex'))
  }
  return out
}`
const worker = new Worker(
  `const { parentPort } = require('node:worker_threads'); const m = { exports: {} };
   new Function('module', 'require', ${JSON.stringify(HASH)})(m, require);
   parentPort.once('message', ({ joined, next }) => parentPort.postMessage(m.exports(joined.split('\\0'), next, []).join('\\n')))`,
  { eval: true },
)
const files = []
const walk = (dir) => {
  for (const dirent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${dirent.name}`
    if (dirent.isDirectory()) walk(p)
    else if (dirent.isFile()) files.push(p)
  }
}
walk(process.argv[2])
const next = new Int32Array(new SharedArrayBuffer(4))
const theirs = new Promise((resolve) => worker.once('message', resolve))
worker.postMessage({ joined: files.join('\0'), next })
const m = { exports: {} }
new Function('module', 'require', HASH)(m, (id) => (id === 'node:fs' ? fs : crypto))
const mine = m.exports(files, next, [])
const other = (await theirs).split('\n')
worker.unref()
console.log(JSON.stringify({ files: files.length, hashed: (mine.length + other.length) / 2 }))
