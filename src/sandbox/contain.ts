import fs from 'node:fs/promises'
import path from 'node:path'
import { fromNameBytes, toFsPath } from '../file-names.js'

/** True when `target` is `root` itself or lies below it, by path alone. */
export function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target)
  return rel === '' || !(rel === '..' || rel.startsWith('../') || path.isAbsolute(rel))
}

export type Resolution =
  | { kind: 'inside'; path: string | Buffer; rel: string }
  | { kind: 'dangling'; path: string | Buffer }
  | { kind: 'outside'; via: string }
  | { kind: 'loop'; via: string }

// Linux gives up after 40 links (ELOOP); so do we.
const MAX_LINK_HOPS = 40

/**
 * Resolves `relative` below `root` one component at a time, following symbolic links
 * by reading them, never letting the kernel follow one. A path that leaves `root` at
 * any step is reported as outside, even if a later `..` would bring it back: a
 * lexical check alone is fooled by links such as `a -> ..` followed by `a/..`.
 *
 * `relative` and link targets are in the name form (see file-names.ts), so names that
 * are not UTF-8 resolve too; the paths returned are for file system calls.
 *
 * `seenAs` is the root's path as the build saw it, when reproof reaches the root by
 * another path (the sandbox's /proc/<pid>/root/...): absolute link targets are read
 * against it, and the path returned never leaves `root`, where the kernel, following an
 * absolute link, would read the machine's file of that name instead.
 */
export async function resolveInside(
  root: string,
  relative: string,
  seenAs: string = root,
): Promise<Resolution> {
  const queue = relative.split('/')
  // Where the walk stands, as components below the root.
  const current: string[] = []
  let hops = 0
  while (queue.length > 0) {
    const part = queue.shift() ?? ''
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (current.length === 0) return { kind: 'outside', via: relative }
      current.pop()
      continue
    }
    const nextRel = [...current, part].join('/')
    const next = toFsPath(root, nextRel)
    let stat
    try {
      stat = await fs.lstat(next)
    } catch {
      return { kind: 'dangling', path: toFsPath(root, [nextRel, ...queue].join('/')) }
    }
    if (!stat.isSymbolicLink()) {
      current.push(part)
      continue
    }
    if (++hops > MAX_LINK_HOPS) return { kind: 'loop', via: relative }
    const target = fromNameBytes(await fs.readlink(next, 'buffer'))
    if (path.isAbsolute(target)) {
      // The root's own components as written, then the rest walked here, `..` and
      // links too: read as text (path.relative), `<root>/d/../y` was `<root>/y`, where
      // the kernel goes through the link `d` first, and a copy or a digest went to
      // another file than the one the link leads to.
      const below = belowRoot(seenAs, target)
      if (below === undefined) return { kind: 'outside', via: nextRel }
      current.length = 0
      queue.unshift(...below)
    } else {
      queue.unshift(...target.split('/'))
    }
  }
  const rel = current.join('/')
  return { kind: 'inside', path: toFsPath(root, rel), rel }
}

/**
 * The components of the absolute `target` after those of `root`, or undefined when it
 * does not begin with them, each as written (empty and `.` components aside): a `..`
 * among them would be walked outside the root, where no link is read.
 */
function belowRoot(root: string, target: string): string[] | undefined {
  const plain = (p: string): string[] => p.split('/').filter((c) => c !== '' && c !== '.')
  const rootParts = plain(path.resolve(root))
  const parts = plain(target)
  for (let i = 0; i < rootParts.length; i++) if (parts[i] !== rootParts[i]) return undefined
  return parts.slice(rootParts.length)
}

/**
 * Where the entry `relative` itself lies below `root`, its own last component not
 * followed (as lstat sees it): its parent resolved by resolveInside, links and all, so
 * that no file system call ever takes a link on the way to it, or undefined when the
 * parent is not a directory inside the root. Through the sandbox's /proc/<pid>/root
 * the kernel would read a link to an absolute path as the machine's path of that name.
 */
export async function locateInside(
  root: string,
  relative: string,
  seenAs: string = root,
): Promise<{ path: string | Buffer; rel: string } | undefined> {
  const slash = relative.lastIndexOf('/')
  const name = relative.slice(slash + 1)
  if (name === '' || name === '.' || name === '..') {
    const whole = await resolveInside(root, relative, seenAs)
    return whole.kind === 'inside' ? { path: whole.path, rel: whole.rel } : undefined
  }
  const parent = await resolveInside(root, slash === -1 ? '' : relative.slice(0, slash), seenAs)
  if (parent.kind !== 'inside') return undefined
  const rel = parent.rel === '' ? name : `${parent.rel}/${name}`
  return { path: toFsPath(root, rel), rel }
}
