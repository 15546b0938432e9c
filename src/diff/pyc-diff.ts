import { keyFor } from '../formats/member.js'
import { looksLikePyc, parsePyc, type Pyc, type PycCode } from '../formats/pyc.js'
import { capped, MAX_STRINGS, type ElfSectionDifference } from './elf-diff.js'
import { onlyEachSide } from '../multiset.js'
import { Explainer, type StructureExplanation } from './structure-causes.js'

/** The part that holds the paths each code object was compiled from. */
export const PYC_FILE_NAMES = 'file names'

/**
 * Two compiled Python modules compared the way a reader of `dis` would: the file names
 * they were compiled from, then each code object (module, class, function), matched by
 * qualified name, whose bytecode, constants, names or any other field differ (argument
 * counts, flags, variable names, line numbers), with what only one side holds; then any
 * bytes after the module. Undefined unless both are .pyc files; where their versions
 * differ, or one cannot be read, nothing is listed and that is the explanation.
 *
 * Nothing else is in a .pyc, so the comparison is complete, and `explanation` says
 * whether a build path or a written time accounts for all of it: every file name and
 * every differing constant, place by place; the header but its mtime alike (a source of
 * another size or hash is another source); the code, names and other fields the same.
 */
export function comparePycs(
  a: Buffer,
  b: Buffer,
):
  | { sections: ElfSectionDifference[]; unlisted: number; explanation: StructureExplanation }
  | undefined {
  if (!looksLikePyc(a) || !looksLikePyc(b)) return undefined
  const [x, y] = [parsePyc(a), parsePyc(b)]
  // Nothing else is compared: what the two hold in common is not known.
  const unknown = (why: string) => ({
    sections: [],
    unlisted: 0,
    explanation: { unexplained: why },
  })
  if (x === undefined || y === undefined)
    return unknown(
      `the code of side ${x === undefined ? 'A' : 'B'} could not be read, so what else differs is not known`,
    )
  if (x.version.join() !== y.version.join() || a.readUInt16LE(0) !== b.readUInt16LE(0))
    return unknown(
      `compiled by Python ${x.version.join('.')} and ${y.version.join('.')} (magic ${a.readUInt16LE(0)} → ${b.readUInt16LE(0)})`,
    )
  const explainer = new Explainer()
  explainHeader(a, b, x, explainer)
  const parts: ElfSectionDifference[] = []
  const files = (codes: readonly PycCode[]): string[] => [...new Set(codes.map((c) => c.filename))]
  const [filesA, filesB] = [files(x.codes), files(y.codes)]
  const filenames = onlyEachSide(filesA, filesB, MAX_STRINGS)
  if (filenames !== undefined)
    parts.push({ name: PYC_FILE_NAMES, sizes: [filesA.length, filesB.length], strings: filenames })
  const [codesA, codesB] = [byName(x.codes), byName(y.codes)]
  for (const name of new Set([...codesA.keys(), ...codesB.keys()])) {
    const [m, n] = [codesA.get(name), codesB.get(name)]
    if (m === undefined || n === undefined)
      explainer.fail(`code object ${name} is on one side only`)
    else explainCode(name, m, n, explainer)
    const used = (c: PycCode): string[] => [
      ...c.constants,
      ...c.names.map((s) => `name ${s}`),
      ...c.rest,
      ...c.lines,
    ]
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
  // Bytes after the module's code object: Python never reads them, but they differ.
  const [tailA, tailB] = [a.subarray(x.end), b.subarray(y.end)]
  if (!tailA.equals(tailB)) {
    parts.push({ name: 'bytes after the module', sizes: [tailA.length, tailB.length] })
    explainer.fail(`bytes after the module's code differ (${tailA.length} and ${tailB.length})`)
  }
  // The same code, constants and names in other marshalled bytes: the marshal writer's
  // reference flags, which follow the interpreter's reference counts, not the source.
  const body = x.version[1] >= 7 ? 16 : 12
  if (parts.length === 0 && !a.subarray(body, x.end).equals(b.subarray(body, y.end)))
    explainer.fail(
      'the same code objects are marshalled in other bytes (reference flags or string types), which no path or time explains',
    )
  return { ...capped(parts), explanation: explainer.result() }
}

/** The header but its mtime: the flags, the source's size or hash say which source it was. */
function explainHeader(a: Buffer, b: Buffer, x: Pyc, explainer: Explainer): void {
  const u32 = (bytes: Buffer, at: number): number => bytes.readUInt32LE(at)
  if (x.version[1] < 7) {
    if (u32(a, 8) !== u32(b, 8))
      explainer.fail(`source size ${u32(a, 8)} → ${u32(b, 8)}: compiled from other sources`)
    return
  }
  if (u32(a, 4) !== u32(b, 4))
    explainer.fail(`flags ${u32(a, 4)} → ${u32(b, 4)}: checked against the source in another way`)
  else if ((u32(a, 4) & 1) !== 0 && !a.subarray(8, 16).equals(b.subarray(8, 16)))
    explainer.fail(
      `source hash ${a.toString('hex', 8, 16)} → ${b.toString('hex', 8, 16)}: compiled from other sources`,
    )
  else if ((u32(a, 4) & 1) === 0 && u32(a, 12) !== u32(b, 12))
    explainer.fail(`source size ${u32(a, 12)} → ${u32(b, 12)}: compiled from other sources`)
}

/** One code object on both sides: its file name and constants may differ by a path or time, nothing else. */
function explainCode(name: string, m: PycCode, n: PycCode, explainer: Explainer): void {
  if (!m.bytecode.equals(n.bytecode)) explainer.fail(`the bytecode of ${name} differs`)
  if (m.names.join('\u0000') !== n.names.join('\u0000'))
    explainer.fail(`the names ${name} uses differ`)
  m.rest.forEach((r, i) => {
    const s = n.rest[i] ?? '(none)'
    if (r !== s) explainer.fail(`${name}: ${r} → ${s}`)
  })
  // Line numbers and tables move with any edit above or within: named last.
  m.lines.forEach((r, i) => {
    const s = n.lines[i] ?? '(none)'
    if (r !== s) explainer.fail(`${name}: ${r} → ${s}`, { minor: true })
  })
  if (m.constants.length !== n.constants.length)
    explainer.fail(`${name} holds ${m.constants.length} and ${n.constants.length} constants`)
  m.constants.forEach((c, i) => {
    explainer.pair(c, n.constants[i] ?? '', `constant ${i} of ${name}`)
  })
  explainer.pair(m.filename, n.filename, `the file ${name} was compiled from`)
}

/** Code objects by qualified name, a repeated one as `name#2` (two lambdas of one scope). */
function byName(codes: readonly PycCode[]): Map<string, PycCode> {
  const seen = new Map<string, number>()
  return new Map(codes.map((c) => [keyFor(c.qualname, seen), c]))
}
