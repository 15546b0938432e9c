#!/usr/bin/env node
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
const { main, reportCrash } = await import('../dist/cli/main.js')
const crash = (err) => process.exit(reportCrash(err, process.argv))
// A promise rejection nothing handled arrives here too (Node's default, --unhandled-rejections=throw).
process.on('uncaughtException', crash)
process.exitCode = await main(process.argv)
