/**
 * Appends every item of `items` to `target`, one at a time. `target.push(...items)`
 * passes each item as an argument, and past about 125,000 of them the call overflows the
 * stack: an archive of that many differing members was "could not be compared".
 */
export function appendAll<T>(target: T[], items: Iterable<T>): void {
  for (const item of items) target.push(item)
}
