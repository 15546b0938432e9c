#!/usr/bin/env node
import module from 'node:module'
import { fileURLToPath } from 'node:url'
// The Sigstore libraries reproof signs and verifies with support Node ^22.22.2, ^24.15.0
// and 26 or later. On another Node say so in one line (exit 3: the environment), before
// anything is loaded that could fail in a less telling way.
const [major, minor, patch] = process.versions.node.split('.').map(Number)
const supported =
  major >= 26 ||
  (major === 24 && minor >= 15) ||
  (major === 22 && (minor > 22 || (minor === 22 && patch >= 2)))
if (!supported) {
  process.stderr.write(
    `reproof: Node ${process.versions.node} is not supported; it needs Node ^22.22.2, ^24.15.0 or 26 and later\n`,
  )
  process.exit(3)
}
// A reader that goes away (`reproof diff a b | head`) ends what it reads, not the
// command: the rest of the output is dropped and the exit code is still the answer.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err
  })
// Compiled code is kept beside reproof's own (as Python keeps __pycache__ beside its
// modules): a later start skips compiling it, about 10 ms of each command's start-up.
// The cache sits in the package's directory, never a shared one such as the temp
// directory: whoever can write there can already change the code itself. Node checks
// each entry against its source and ignores one that does not match; where the
// directory cannot be written (a package installed by another user) nothing is cached.
// NODE_COMPILE_CACHE chooses another directory, NODE_DISABLE_COMPILE_CACHE=1 turns it off.
module.enableCompileCache?.(fileURLToPath(new URL('../.compile-cache', import.meta.url)))
const { main, reportCrash } = await import('../dist/cli/main.js')
const crash = (err) => process.exit(reportCrash(err, process.argv))
// A promise rejection nothing handled arrives here too (Node's default, --unhandled-rejections=throw).
process.on('uncaughtException', crash)
process.exitCode = await main(process.argv)
