import fs from 'node:fs/promises'
import path from 'node:path'

/** True when `target` is `root` itself or lies below it, by path alone. */
export function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target)
  return rel === '' || !(rel === '..' || rel.startsWith('../') || path.isAbsolute(rel))
}

export type Resolution =
  | { kind: 'inside'; path: string }
  | { kind: 'dangling'; path: string }
  | { kind: 'outside'; via: string }
  | { kind: 'loop'; via: string }

// Linux gives up after 40 links (ELOOP); so do we.
const MAX_LINK_HOPS = 40

/**
 * Resolves `relative` below `root` one component at a time, following symbolic links
 * by reading them, never letting the kernel follow one. A path that leaves `root` at
 * any step is reported as outside, even if a later `..` would bring it back: a
 * lexical check alone is fooled by links such as `a -> ..` followed by `a/..`.
 */
export async function resolveInside(root: string, relative: string): Promise<Resolution> {
  const queue = relative.split('/')
  let current = root
  let hops = 0
  while (queue.length > 0) {
    const part = queue.shift() ?? ''
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (current === root) return { kind: 'outside', via: relative }
      current = path.dirname(current)
      continue
    }
    const next = path.join(current, part)
    let stat
    try {
      stat = await fs.lstat(next)
    } catch {
      return { kind: 'dangling', path: path.join(next, ...queue) }
    }
    if (!stat.isSymbolicLink()) {
      current = next
      continue
    }
    if (++hops > MAX_LINK_HOPS) return { kind: 'loop', via: relative }
    const target = await fs.readlink(next)
    if (path.isAbsolute(target)) {
      if (!isInside(root, target)) return { kind: 'outside', via: path.relative(root, next) }
      current = root
      queue.unshift(...path.relative(root, target).split('/'))
    } else {
      queue.unshift(...target.split('/'))
    }
  }
  return { kind: 'inside', path: current }
}
