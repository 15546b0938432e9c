// One snapshot of a source tree, as `reproof build` makes it for each run, in its own
// process so that it can be timed against `cp -a` on equal terms (start-up included).
import { listSourceEntries } from '../../dist/sandbox/source-files.js'
import { snapshotSource } from '../../dist/sandbox/snapshot.js'

const [source, dest] = process.argv.slice(2)
const { entries } = listSourceEntries(source, { tracked: undefined, exclude: [], outputs: [] })
await snapshotSource(entries, source, dest, { epoch: 1700000000, order: 'ascending' })
