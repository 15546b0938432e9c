/**
 * What of `xs` is left after taking out, one for one, what `ys` holds too (by `key`):
 * a value that stays once and changes once elsewhere is left once. In `xs`'s order.
 */
export function withoutEach<T>(xs: readonly T[], ys: readonly T[], key: (x: T) => string): T[] {
  const left = new Map<string, number>()
  for (const y of ys) left.set(key(y), (left.get(key(y)) ?? 0) + 1)
  return xs.filter((x) => {
    const n = left.get(key(x)) ?? 0
    if (n > 0) left.set(key(x), n - 1)
    return n === 0
  })
}

/**
 * What only one side holds, counted one for one; each shown once (a path written twice is
 * one difference to a reader) and at most `max` per side. Undefined when the sides hold
 * the same.
 */
export function onlyEachSide(
  xs: readonly string[],
  ys: readonly string[],
  max: number,
): { a: string[]; b: string[] } | undefined {
  const same = (s: string): string => s
  const [onlyA, onlyB] = [withoutEach(xs, ys, same), withoutEach(ys, xs, same)]
  if (onlyA.length === 0 && onlyB.length === 0) return undefined
  return { a: [...new Set(onlyA)].slice(0, max), b: [...new Set(onlyB)].slice(0, max) }
}
