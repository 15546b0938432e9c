import { keyFor } from '../formats/member.js'
import { parseJavaClass, type JavaClass } from '../formats/java-class.js'
import { capped, MAX_STRINGS, type ElfSectionDifference } from './elf-diff.js'
import { onlyEachSide } from '../multiset.js'

/**
 * Two Java class files compared the way a reader of `javap -v` would: the constants
 * only one side holds (strings, names, numbers), then each method, matched by name and
 * descriptor, whose code differs or uses a constant that does (with those constants).
 * Undefined unless both are class files, or when neither constants nor code differ
 * (then the places by offset say where the bytes do).
 */
export function compareClasses(
  a: Buffer,
  b: Buffer,
): { sections: ElfSectionDifference[]; unlisted: number } | undefined {
  const [x, y] = [parseJavaClass(a), parseJavaClass(b)]
  if (x === undefined || y === undefined) return undefined
  const parts: ElfSectionDifference[] = []
  const constants = onlyEachSide(x.constants, y.constants, MAX_STRINGS)
  if (constants !== undefined)
    parts.push({
      name: 'constant pool',
      sizes: [x.constants.length, y.constants.length],
      strings: constants,
    })
  const [methodsA, methodsB] = [byName(x), byName(y)]
  for (const name of new Set([...methodsA.keys(), ...methodsB.keys()])) {
    const [m, n] = [methodsA.get(name), methodsB.get(name)]
    const refs =
      m !== undefined && n !== undefined ? onlyEachSide(m.refs, n.refs, MAX_STRINGS) : undefined
    // A method whose code is the same bytes may still load a constant that changed.
    const sameCode = m !== undefined && n !== undefined && m.code.equals(n.code)
    if (sameCode && refs === undefined) continue
    parts.push({
      name: `method ${name}`,
      sizes: [m?.code.length ?? null, n?.code.length ?? null],
      ...(refs === undefined ? {} : { strings: refs }),
      ...(sameCode ? { sameCode } : {}),
    })
  }
  return parts.length === 0 ? undefined : capped(parts)
}

/** Methods by name and descriptor, a repeated one as `name#2` (as archive members are keyed). */
function byName(c: JavaClass): Map<string, JavaClass['methods'][number]> {
  const seen = new Map<string, number>()
  return new Map(c.methods.map((m) => [keyFor(m.name, seen), m]))
}
