/** ANSI colours, or the text unchanged when colour is off. */
export function paint(
  enabled: boolean,
): Record<'red' | 'green' | 'yellow' | 'dim' | 'bold', (s: string) => string> {
  const wrap = (open: number, close: number) => (s: string) =>
    enabled ? `\u001b[${open}m${s}\u001b[${close}m` : s
  return {
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  }
}
