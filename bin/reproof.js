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
const { main } = await import('../dist/cli/main.js')
process.exitCode = await main(process.argv)
