/**
 * A Java class file (JVM specification, chapter 4) read from the bytes alone: its
 * constants as a reader would write them, and each method with its code and the
 * constants that code refers to. Hostile input: every count and offset is checked
 * before it is read, and a file that does not hold together is not a class here
 * (undefined), so the diff falls back to bytes.
 */

export interface ClassMethod {
  /** `name(descriptor)`, e.g. `main([Ljava/lang/String;)I`. */
  name: string
  /** Its Code attribute's bytes (empty for abstract and native methods). */
  code: Buffer
  /** The constants its instructions load or call, as shown (`"text"`, `42`, `Owner.name:desc`). */
  refs: string[]
}

export interface JavaClass {
  version: string
  /** Every constant holding a value (strings, names, numbers), as shown. */
  constants: string[]
  methods: ClassMethod[]
  /** Each slot of the constant pool in order: its tag, its bytes, and its value where it holds one. */
  pool: PoolSlot[]
  /** Everything after the constant pool: flags, the class's names, fields, methods, attributes. */
  afterPool: Buffer
}

export interface PoolSlot {
  /** 0 for the unusable slot after a Long or Double. */
  tag: number
  bytes: Buffer
  value?: string
}

interface Constant {
  tag: number
  /** Utf8: the text; Integer, Float, Long, Double: the number as shown. */
  value?: string
  /** Indices of the constants this one is made of (Class, String, refs, NameAndType…). */
  refs: number[]
}

const MAGIC = 0xcafebabe
// Operand bytes of each instruction after the opcode, for the opcodes of fixed length
// that take any (JVM specification, chapter 6); every other defined opcode up to 0xc9
// takes none, but tableswitch, lookupswitch and wide, handled apart.
const OPERANDS = new Map<number, number>([
  [0x10, 1], // bipush
  [0x11, 2], // sipush
  [0x12, 1], // ldc
  [0x13, 2], // ldc_w
  [0x14, 2], // ldc2_w
  ...[0x15, 0x16, 0x17, 0x18, 0x19, 0x36, 0x37, 0x38, 0x39, 0x3a, 0xa9, 0xbc].map(
    (op) => [op, 1] as [number, number],
  ), // loads, stores, ret, newarray
  [0x84, 2], // iinc
  ...range(0x99, 0xa8).map((op) => [op, 2] as [number, number]), // branches, goto, jsr
  ...range(0xb2, 0xb8).map((op) => [op, 2] as [number, number]), // fields, invokes
  [0xb9, 4], // invokeinterface
  [0xba, 4], // invokedynamic
  [0xbb, 2], // new
  [0xbd, 2], // anewarray
  [0xc0, 2], // checkcast
  [0xc1, 2], // instanceof
  [0xc5, 3], // multianewarray
  [0xc6, 2], // ifnull
  [0xc7, 2], // ifnonnull
  [0xc8, 4], // goto_w
  [0xc9, 4], // jsr_w
])
// The instructions whose first operand is a constant-pool index, and its width.
const CONSTANT_OPERAND = new Map<number, 1 | 2>([
  [0x12, 1],
  ...[0x13, 0x14, ...range(0xb2, 0xbb), 0xbd, 0xc0, 0xc1, 0xc5].map(
    (op) => [op, 2] as [number, 1 | 2],
  ),
])

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}

/** Whether these bytes start a class file (not a Mach-O fat binary, which shares the magic). */
export function isJavaClass(bytes: Buffer): boolean {
  // A fat binary's next word is its small count of architectures: a class's major version is 45 or more.
  return bytes.length >= 10 && bytes.readUInt32BE(0) === MAGIC && bytes.readUInt16BE(6) >= 45
}

export function parseJavaClass(bytes: Buffer): JavaClass | undefined {
  if (!isJavaClass(bytes)) return undefined
  try {
    return read(bytes)
  } catch (err) {
    if (err instanceof RangeError) return undefined
    throw err
  }
}

/** Reads the class; a read past the end throws RangeError (Buffer's own checks). */
function read(bytes: Buffer): JavaClass | undefined {
  let at = 8
  const u1 = (): number => bytes.readUInt8(at++)
  const u2 = (): number => {
    const v = bytes.readUInt16BE(at)
    at += 2
    return v
  }
  const u4 = (): number => {
    const v = bytes.readUInt32BE(at)
    at += 4
    return v
  }
  const take = (n: number): Buffer => {
    if (at + n > bytes.length) throw new RangeError('past the end')
    const out = bytes.subarray(at, at + n)
    at += n
    return out
  }
  const version = `${bytes.readUInt16BE(6)}.${bytes.readUInt16BE(4)}`
  const pool: (Constant | undefined)[] = [undefined]
  const slots: PoolSlot[] = []
  const count = u2()
  for (let i = 1; i < count; i++) {
    const start = at
    const tag = u1()
    const constant = readConstant(tag, u1, u2, u4, take)
    if (constant === undefined) return undefined
    pool.push(constant)
    const raw = bytes.subarray(start, at)
    slots.push(
      constant.value === undefined
        ? { tag, bytes: raw }
        : { tag, bytes: raw, value: constant.value },
    )
    // A Long or Double takes two entries (JVM specification 4.4.5).
    if (tag === 5 || tag === 6) {
      pool.push(undefined)
      slots.push({ tag: 0, bytes: bytes.subarray(at, at) })
      i++
    }
  }
  const afterPool = bytes.subarray(at)
  const show = (index: number, seen = 0): string => showConstant(pool, index, seen)
  at += 6 // access flags, this class, super class
  const interfaces = u2()
  at += 2 * interfaces
  const skipMembers = (): void => {
    const n = u2()
    for (let i = 0; i < n; i++) {
      at += 6
      const attributes = u2()
      for (let j = 0; j < attributes; j++) {
        at += 2
        take(u4())
      }
    }
  }
  skipMembers() // fields
  const methods: ClassMethod[] = []
  const methodCount = u2()
  for (let i = 0; i < methodCount; i++) {
    at += 2
    const name = `${show(u2())}${show(u2())}`
    let code: Buffer = Buffer.alloc(0)
    const attributes = u2()
    for (let j = 0; j < attributes; j++) {
      const attribute = show(u2())
      const body = take(u4())
      // Code: max_stack, max_locals, code_length, then the code.
      if (attribute === 'Code' && body.length >= 8) {
        const length = body.readUInt32BE(4)
        if (length <= body.length - 8) code = body.subarray(8, 8 + length)
      }
    }
    methods.push({ name, code, refs: constantsUsed(code).map((index) => show(index)) })
  }
  const constants = pool.flatMap((c) => (c?.value === undefined ? [] : [c.value]))
  return { version, constants, methods, pool: slots, afterPool }
}

function readConstant(
  tag: number,
  u1: () => number,
  u2: () => number,
  u4: () => number,
  take: (n: number) => Buffer,
): Constant | undefined {
  switch (tag) {
    case 1: // Utf8 (Java's modified UTF-8, close enough to UTF-8 to show)
      return { tag, value: take(u2()).toString('utf8'), refs: [] }
    case 3: // Integer
      return { tag, value: String(take(4).readInt32BE(0)), refs: [] }
    case 4: // Float
      return { tag, value: `${take(4).readFloatBE(0)}f`, refs: [] }
    case 5: // Long
      return { tag, value: `${take(8).readBigInt64BE(0)}L`, refs: [] }
    case 6: // Double
      return { tag, value: `${take(8).readDoubleBE(0)}d`, refs: [] }
    case 7: // Class
    case 8: // String
    case 16: // MethodType
    case 19: // Module
    case 20: // Package
      return { tag, refs: [u2()] }
    case 9: // Fieldref
    case 10: // Methodref
    case 11: // InterfaceMethodref
    case 12: // NameAndType
    case 17: // Dynamic
    case 18: // InvokeDynamic
      return { tag, refs: [u2(), u2()] }
    case 15: // MethodHandle: a kind, then a reference
      u1()
      return { tag, refs: [u2()] }
    default:
      return undefined
  }
}

/** A constant as a reader would write it; refs followed a few levels deep at most. */
function showConstant(
  pool: readonly (Constant | undefined)[],
  index: number,
  seen: number,
): string {
  const c = pool[index]
  if (c === undefined || seen > 4) return `#${index}`
  if (c.value !== undefined) return c.value
  const part = (i: number): string => showConstant(pool, c.refs[i] ?? 0, seen + 1)
  switch (c.tag) {
    case 8:
      return JSON.stringify(part(0))
    case 9:
    case 10:
    case 11:
      return `${part(0)}.${part(1)}`
    case 12:
      return `${part(0)}:${part(1)}`
    case 17:
    case 18:
      return `dynamic #${c.refs[0] ?? 0}:${part(1)}`
    default:
      return part(0)
  }
}

/** The constant-pool indices a method's code refers to, in order; stops at an opcode it does not know. */
export function constantsUsed(code: Buffer): number[] {
  const used: number[] = []
  let pc = 0
  while (pc < code.length) {
    const op = code[pc] ?? 0
    const width = CONSTANT_OPERAND.get(op)
    if (width !== undefined && pc + width < code.length)
      used.push(width === 1 ? (code[pc + 1] ?? 0) : code.readUInt16BE(pc + 1))
    const next = instructionEnd(code, pc, op)
    if (next === undefined) break
    pc = next
  }
  return used
}

function instructionEnd(code: Buffer, pc: number, op: number): number | undefined {
  const fixed = OPERANDS.get(op)
  if (fixed !== undefined) return pc + 1 + fixed
  if (op <= 0xc3 && op !== 0xaa && op !== 0xab) return pc + 1
  // tableswitch and lookupswitch: padding to a multiple of 4 from the code's start.
  const aligned = (pc + 4) & ~3
  if (op === 0xaa) {
    if (aligned + 12 > code.length) return undefined
    const low = code.readInt32BE(aligned + 4)
    const high = code.readInt32BE(aligned + 8)
    const entries = high - low + 1
    return entries < 0 ? undefined : aligned + 12 + 4 * entries
  }
  if (op === 0xab) {
    if (aligned + 8 > code.length) return undefined
    const pairs = code.readInt32BE(aligned + 4)
    return pairs < 0 ? undefined : aligned + 8 + 8 * pairs
  }
  // wide: a load, store or ret with a 2-byte index, or iinc with two 2-byte operands.
  if (op === 0xc4) return pc + (code[pc + 1] === 0x84 ? 6 : 4)
  return undefined
}
