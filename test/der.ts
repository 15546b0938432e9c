/** A DER element of `tag` holding `content`, its length in the shortest form (to 64 KiB). */
export function derElement(tag: number, content: Buffer): Buffer {
  const n = content.length
  const length =
    n < 0x80
      ? Buffer.from([n])
      : n < 0x100
        ? Buffer.from([0x81, n])
        : Buffer.from([0x82, n >> 8, n & 0xff])
  return Buffer.concat([Buffer.from([tag]), length, content])
}
