// Checks every relative link in the project's Markdown: the file it names exists, and the
// anchor, when there is one, is a heading of that file (GitHub's slugs). Documentation
// moves between files; a link left pointing at the old place is caught here, not by a
// reader. Links to other sites are not fetched.
import fs from 'node:fs'
import path from 'node:path'

const roots = ['README.md', 'ARCHITECTURE.md', 'CONTRIBUTING.md', 'CHANGELOG.md', 'docs', 'bench']

/** Every Markdown file under the roots. */
function markdownFiles(entry) {
  if (!fs.existsSync(entry)) return []
  if (fs.statSync(entry).isFile()) return entry.endsWith('.md') ? [entry] : []
  return fs
    .readdirSync(entry)
    .sort()
    .flatMap((name) => markdownFiles(path.join(entry, name)))
}

/** The text outside fenced code blocks. */
function prose(text) {
  let fenced = false
  return text
    .split('\n')
    .filter((line) => {
      if (line.startsWith('```')) fenced = !fenced
      return !fenced && !line.startsWith('```')
    })
    .join('\n')
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

const anchorsOf = new Map()
function anchors(file) {
  if (!anchorsOf.has(file)) {
    const seen = new Map()
    const list = new Set()
    for (const match of prose(fs.readFileSync(file, 'utf8')).matchAll(/^#{1,6} (.+)$/gm)) {
      const base = slug(match[1])
      const n = seen.get(base) ?? 0
      seen.set(base, n + 1)
      list.add(n === 0 ? base : `${base}-${n}`)
    }
    anchorsOf.set(file, list)
  }
  return anchorsOf.get(file)
}

const problems = []
for (const file of roots.flatMap(markdownFiles)) {
  const text = prose(fs.readFileSync(file, 'utf8'))
  for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = match[1]
    if (/^[a-z]+:/i.test(target)) continue
    const [ref, anchor] = target.split('#')
    const resolved = ref === '' ? file : path.normalize(path.join(path.dirname(file), ref))
    if (!fs.existsSync(resolved)) {
      problems.push(`${file}: ${target}: no such file`)
      continue
    }
    if (anchor !== undefined && resolved.endsWith('.md') && !anchors(resolved).has(anchor))
      problems.push(`${file}: ${target}: no heading with that anchor in ${resolved}`)
  }
}
if (problems.length > 0) {
  for (const p of problems) console.error(p)
  process.exit(1)
}
console.log('doc links: every relative link and anchor resolves')
