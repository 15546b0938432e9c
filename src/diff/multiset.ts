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
