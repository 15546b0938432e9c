import fs from 'node:fs/promises'
import type { VariationRecord } from '../sandbox/run-plan.js'
import { compareNames, fromNameBytes, toDisplayText, toFsPath } from '../file-names.js'
import { firstFew } from '../first-few.js'

/*
 * Run B starts later than run A so that the kernel stamps the files it writes with later
 * times. That holds only while the runs keep pace: when run A is slower (pinned to one
 * CPU, say), B catches up and writes the same file at the same second, and a tar or zip of
 * it shows no difference. After the runs, the files both wrote are compared by their
 * modification times; those written less than DOS time's two seconds apart are named, so
 * that the verdict never claims a file-time variation that did not happen.
 */

/** Coarsest stamp in common use (zip and jar DOS times); closer writes may stamp alike. */
export const RESOLUTION_MS = 2000
// Enough for any source tree with its build outputs; beyond it the check says so.
const MAX_ENTRIES = 200_000

export interface FileTimeDrift {
  /** Files both runs wrote (modified after their run began) whose times are close. */
  close: string[]
  /** How many files both runs wrote. */
  compared: number
  /**
   * Why the check could not look at every file, if it could not: the trees held more
   * entries than are looked at, or a directory could not be listed.
   */
  incomplete: false | 'too-many' | 'unlisted'
}

/**
 * Compares the modification times of the files both runs wrote. `since` is each run's
 * start in ms since the epoch: older files came from the snapshot, or had their times set
 * by the build on purpose (SOURCE_DATE_EPOCH), and vary by design in neither run.
 */
export async function fileTimeDrift(
  roots: { a: string; b: string },
  since: { a: number; b: number },
  /** The time (ms) the snapshot gave the source's files: theirs, not written, when it is near the start. */
  snapshotTime: number,
  /**
   * The places besides the root where a build stages what it archives (a tree to tar):
   * each run's $TMPDIR and HOME, and its own /tmp and /dev/shm in the sandbox. Those
   * files' times are what the archive carries. Named `<label>/...` so that the two
   * runs' pair up.
   */
  staging: readonly {
    label: string
    a: string
    b: string
    /** Directories below it not to read (read as places of their own, or the root). */
    skip?: { a: readonly string[]; b: readonly string[] }
  }[] = [],
): Promise<FileTimeDrift> {
  const written = async (side: 'a' | 'b') => {
    const own = await writtenFiles(roots[side], since[side], snapshotTime)
    let incomplete = own.incomplete
    for (const place of staging) {
      // A build may remove its $TMPDIR, and a varied HOME does not exist: then nothing
      // is staged there to compare.
      const isDirectory = await fs.stat(place[side]).then(
        (s) => s.isDirectory(),
        () => false,
      )
      if (!isDirectory) continue
      const staged = await writtenFiles(
        place[side],
        since[side],
        snapshotTime,
        new Set(place.skip?.[side] ?? []),
      )
      for (const [name, time] of staged.times) own.times.set(`${place.label}/${name}`, time)
      incomplete ||= staged.incomplete
    }
    return { times: own.times, incomplete }
  }
  const a = await written('a')
  const b = await written('b')
  const close: string[] = []
  let compared = 0
  for (const [name, timeA] of a.times) {
    const timeB = b.times.get(name)
    if (timeB === undefined) continue
    compared++
    if (timeB - timeA < RESOLUTION_MS) close.push(name)
  }
  return { close: close.sort(compareNames), compared, incomplete: a.incomplete || b.incomplete }
}

async function writtenFiles(
  root: string,
  since: number,
  snapshotTime: number,
  /** Directories (full paths) not to descend into. */
  skip: ReadonlySet<string> = new Set(),
): Promise<{ times: Map<string, number>; incomplete: FileTimeDrift['incomplete'] }> {
  const times = new Map<string, number>()
  const pending = ['']
  let seen = 0
  // A directory that cannot be listed (one the build made 0311, say) hides its files:
  // the check is then incomplete, and said so, not passed.
  let unlisted = false
  while (pending.length > 0) {
    const rel = pending.pop() ?? ''
    let entries
    try {
      // Names as bytes: a name that is not UTF-8 is a file like any other.
      entries = await fs.readdir(toFsPath(root, rel), {
        withFileTypes: true,
        encoding: 'buffer',
      })
    } catch {
      unlisted = true
      continue
    }
    for (const entry of entries) {
      if (++seen > MAX_ENTRIES) return { times, incomplete: 'too-many' }
      const own = fromNameBytes(entry.name)
      const name = rel === '' ? own : `${rel}/${own}`
      if (entry.isDirectory()) {
        const full = skip.size === 0 ? undefined : toFsPath(root, name)
        if (typeof full !== 'string' || !skip.has(full)) pending.push(name)
      } else if (entry.isFile()) {
        const stat = await fs.lstat(toFsPath(root, name)).catch(() => undefined)
        if (stat !== undefined && stat.mtimeMs >= since && stat.mtimeMs !== snapshotTime)
          times.set(name, stat.mtimeMs)
      }
    }
  }
  return { times, incomplete: unlisted ? 'unlisted' : false }
}

/**
 * The variations with the file-times variation's note saying for which files the later start did
 * not hold, or that it could not be checked. Pure.
 */
export function withFileTimeDrift(
  variations: readonly VariationRecord[],
  drift: FileTimeDrift,
  /** How long after run A's command run B's ended (ms), when known. */
  endGapMs?: number,
): VariationRecord[] {
  return variations.map((v) => {
    // No file both runs wrote kept the time it was written at (the build set them all,
    // or wrote none): whether run B's later writes were stamped later is not known.
    const unseen = drift.compared === 0 && drift.incomplete === false
    // Run B caught up: what both wrote last (the artifacts, as a rule) was written less
    // than the resolution apart, whatever the files left to compare say. A build that
    // deletes its intermediate files, or sets its artifacts' times, leaves nothing else
    // to see it by.
    const caughtUp = endGapMs !== undefined && endGapMs < RESOLUTION_MS
    if (
      v.name !== 'file-times' ||
      (drift.close.length === 0 && !drift.incomplete && !unseen && !caughtUp)
    )
      return v
    const shown = firstFew(drift.close.map(toDisplayText), 3)
    const last = caughtUp
      ? `file times not varied for what both runs wrote last: run B's command ended ${(endGapMs / 1000).toFixed(1)} s after run A's, less than ${RESOLUTION_MS / 1000} s, as run A fell behind; a time stamp taken from what they wrote last would not differ`
      : undefined
    const files =
      drift.close.length === 0 && !drift.incomplete && !unseen
        ? undefined
        : drift.close.length > 0
          ? `file times not varied for ${drift.close.length} of the ${drift.compared} file(s) both runs wrote (${shown}): written less than ${RESOLUTION_MS / 1000} s apart, as run A fell behind; a time stamp taken from them would not differ`
          : unseen
            ? 'file times could not be compared between the runs: no file both runs wrote kept the time it was written at (the build set their times, or wrote none), so whether run B wrote later than run A is not known; a time stamp taken from them before they were set may not differ'
            : drift.incomplete === 'unlisted'
              ? 'file times could not be compared between the runs: the build left a directory reproof cannot list, so whether the later start held is not known'
              : `file times could not be compared between the runs: the build trees hold more than ${MAX_ENTRIES} entries, so whether the later start held is not known`
    const note = [last, files].filter((n) => n !== undefined).join('; ')
    // Not one file both runs wrote got another time, or whether any did is not known: the
    // variation is not claimed. Some did and some did not: claimed for what it reached,
    // and the verdict's line says what it did not ("file-times (not 1 file written …)"):
    // a bare "reproducible under file-times" was said of a build whose archive took a
    // file written at one second in both runs. (Not claimed at all, a scratch file in
    // $TMPDIR written close made the variation "not varied" beside the culprit search's
    // finding that file-times alone changed an archive.)
    const none =
      caughtUp ||
      unseen ||
      (drift.compared > 0 && drift.close.length === drift.compared) ||
      drift.incomplete !== false
    const partly = !none && drift.close.length > 0
    return {
      ...v,
      ...(none ? { status: 'no-effect' as const } : {}),
      ...(partly
        ? {
            reach: `not ${drift.close.length} of the ${drift.compared} file(s) both runs wrote, written less than ${RESOLUTION_MS / 1000} s apart (${shown})`,
          }
        : {}),
      note: v.note === undefined ? note : `${v.note}; ${note}`,
    }
  })
}
