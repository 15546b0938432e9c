import { keyFor } from '../formats/member.js'
import { parsePyc, type PycCode } from '../formats/pyc.js'
import { capped, MAX_STRINGS, type ElfSectionDifference } from './elf-diff.js'
import { onlyEachSide } from '../multiset.js'

/** The part that holds the paths each code object was compiled from. */
export const PYC_FILE_NAMES = 'file names'

/**
 * Two compiled Python modules compared the way a reader of `dis` would: the file names
 * they were compiled from, then each code object (module, class, function), matched by
 * qualified name, whose bytecode, constants or names differ, with the constants and
 * names only one side holds. Undefined unless both are .pyc files of one Python version
 * this reads, or when nothing of that differs (then the places by offset say where).
 */
export function comparePycs(
  a: Buffer,
  b: Buffer,
): { sections: ElfSectionDifference[]; unlisted: number } | undefined {
  const [x, y] = [parsePyc(a), parsePyc(b)]
  if (x === undefined || x.version.join() !== y?.version.join()) return undefined
  const parts: ElfSectionDifference[] = []
  const files = (codes: readonly PycCode[]): string[] => [...new Set(codes.map((c) => c.filename))]
  const [filesA, filesB] = [files(x.codes), files(y.codes)]
  const filenames = onlyEachSide(filesA, filesB, MAX_STRINGS)
  if (filenames !== undefined)
    parts.push({ name: PYC_FILE_NAMES, sizes: [filesA.length, filesB.length], strings: filenames })
  const [codesA, codesB] = [byName(x.codes), byName(y.codes)]
  for (const name of new Set([...codesA.keys(), ...codesB.keys()])) {
    const [m, n] = [codesA.get(name), codesB.get(name)]
    const used = (c: PycCode): string[] => [...c.constants, ...c.names.map((s) => `name ${s}`)]
    const strings =
      m !== undefined && n !== undefined ? onlyEachSide(used(m), used(n), MAX_STRINGS) : undefined
    const sameCode = m !== undefined && n !== undefined && m.bytecode.equals(n.bytecode)
    if (sameCode && strings === undefined) continue
    parts.push({
      name: `code object ${name}`,
      sizes: [m?.bytecode.length ?? null, n?.bytecode.length ?? null],
      ...(strings === undefined ? {} : { strings }),
      ...(sameCode ? { sameCode } : {}),
    })
  }
  return parts.length === 0 ? undefined : capped(parts)
}

/** Code objects by qualified name, a repeated one as `name#2` (two lambdas of one scope). */
function byName(codes: readonly PycCode[]): Map<string, PycCode> {
  const seen = new Map<string, number>()
  return new Map(codes.map((c) => [keyFor(c.qualname, seen), c]))
}
