/**
 * A number written in decimal digits and nothing else, as dpkg and GNU tar read a size
 * or a length; NaN otherwise. `parseInt` stops at the first other character, so `12abc`
 * read as 12, and an archive those tools refuse came out readable.
 */
export function decimal(text: string): number {
  return /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN
}
