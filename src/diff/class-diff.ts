import { keyFor } from '../formats/member.js'
import { isJavaClass, parseJavaClass, type JavaClass } from '../formats/java-class.js'
import { capped, MAX_STRINGS, type ElfSectionDifference } from './elf-diff.js'
import { onlyEachSide } from '../multiset.js'
import { Explainer, type StructureExplanation } from './structure-causes.js'

/**
 * Two Java class files compared the way a reader of `javap -v` would: the constants
 * only one side holds (strings, names, numbers), then each method, matched by name and
 * descriptor, whose code differs or uses a constant that does (with those constants).
 * Undefined unless both are class files (one that cannot be read is the explanation).
 *
 * `explanation`: whether a build path or a written time accounts for every differing
 * byte. Only where the two constant pools have the same slots (the same kinds, the same
 * references) and all that follows the pool is the same bytes can they: each constant
 * index then means the same on both sides, and only constants' values differ, each
 * explained in its slot or not.
 */
export function compareClasses(
  a: Buffer,
  b: Buffer,
):
  | { sections: ElfSectionDifference[]; unlisted: number; explanation: StructureExplanation }
  | undefined {
  if (!isJavaClass(a) || !isJavaClass(b)) return undefined
  const [x, y] = [parseJavaClass(a), parseJavaClass(b)]
  if (x === undefined || y === undefined)
    return {
      sections: [],
      unlisted: 0,
      explanation: {
        unexplained: `side ${x === undefined ? 'A' : 'B'} could not be read as a class file, so what else differs is not known`,
      },
    }
  const explanation = explain(x, y)
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
  return { ...capped(parts), explanation }
}

function explain(x: JavaClass, y: JavaClass): StructureExplanation {
  const explainer = new Explainer()
  if (x.version !== y.version)
    explainer.fail(
      `class file version ${x.version} → ${y.version}: compiled for another Java release`,
    )
  const [methodsA, methodsB] = [byName(x), byName(y)]
  for (const [name, m] of methodsA) {
    const n = methodsB.get(name)
    if (n === undefined || !m.code.equals(n.code))
      explainer.fail(`the code of method ${name} differs`)
  }
  if (x.pool.length !== y.pool.length)
    explainer.fail(`constant pools of ${x.pool.length} and ${y.pool.length} entries`)
  x.pool.forEach((p, i) => {
    const q = y.pool[i]
    if (q === undefined || p.bytes.equals(q.bytes)) return
    const where = `constant #${i + 1}`
    if (p.tag !== q.tag || p.value === undefined || q.value === undefined || p.value === q.value)
      explainer.fail(`${where} refers to another constant, or differs in its bytes only`)
    else explainer.pair(p.value, q.value, where)
  })
  if (!x.afterPool.equals(y.afterPool))
    explainer.fail("the class's flags, fields, methods or attributes differ")
  return explainer.result()
}

/** Methods by name and descriptor, a repeated one as `name#2` (as archive members are keyed). */
function byName(c: JavaClass): Map<string, JavaClass['methods'][number]> {
  const seen = new Map<string, number>()
  return new Map(c.methods.map((m) => [keyFor(m.name, seen), m]))
}
