// Hashes every file below a directory the way `reproof build` hashes artifacts, and
// prints the file count, bytes and the peak resident memory of the process.
import { collectManifest } from '../../dist/digest/manifest.js'

const [root] = process.argv.slice(2)
const { manifest } = await collectManifest(root, ['**'])
const bytes = manifest.reduce((sum, e) => sum + e.size, 0)
console.log(
  JSON.stringify({ files: manifest.length, bytes, maxRssKiB: process.resourceUsage().maxRSS }),
)
