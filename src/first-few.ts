/**
 * Names for a one-line message: the first `max` of them, then how many more there are
 * (`a, b, c and 4 more`). The full list goes to `--json`, never into the line.
 */
export function firstFew(names: readonly string[], max: number): string {
  const shown = names.slice(0, max).join(', ')
  return names.length > max ? `${shown} and ${names.length - max} more` : shown
}
