/**
 * A compiled Python module (.pyc, Python 3.6 to 3.14) read the way `dis` would show it:
 * every code object (the module, each class and function, nested), with its constants,
 * the names it uses, its bytecode and the file it was compiled from. The body is
 * CPython's marshal format. Hostile input: every length is checked against what is
 * left before anything is allocated, nesting and the number of objects are bounded, and
 * a body that does not hold together, or a type this reader does not know, is simply
 * not read (undefined): the places by offset still say where the bytes differ.
 */

import { createHash } from 'node:crypto'

export interface PycCode {
  /** `<module>`, `f`, `C.method`, `f.<locals>.g`: the qualified name (3.11 on), or names joined by dots. */
  qualname: string
  /** co_filename: the path the compiler was given. */
  filename: string
  firstLine: number
  /** The constants as a reader would write them (`'text'`, `42`, `(1, 2)`, `<code f>`). */
  constants: string[]
  /** co_names: globals and attributes the code uses. */
  names: string[]
  bytecode: Buffer
  /**
   * Everything else the code object holds but its file name and where its lines are,
   * each as `what value`: the argument counts, flags, stack size, local, free and cell
   * variable names, and its name.
   */
  rest: string[]
  /**
   * Where its lines are, each as `what value`: its first line and its line and exception
   * tables, which move with any edit above or within. Two code objects whose bytecode,
   * constants, names, `rest` and these are the same differ at most in their file.
   */
  lines: string[]
}

export interface Pyc {
  /** Python's version as [major, minor], from the magic number. */
  version: [number, number]
  codes: PycCode[]
  /** Where the module's code object ends: what follows is not read by Python. */
  end: number
}

// Magic numbers (the first two bytes, little-endian) of each version's final release range.
const VERSIONS: readonly [number, number, number][] = [
  [3379, 3379, 6],
  [3390, 3399, 7],
  [3400, 3419, 8],
  [3420, 3429, 9],
  [3430, 3449, 10],
  [3450, 3499, 11],
  [3500, 3549, 12],
  [3550, 3599, 13],
  [3600, 3649, 14],
]

// Nesting of containers and code objects, and objects read in all: a module has a few
// thousand; more than this is not what a compiler wrote.
const MAX_DEPTH = 100
const MAX_LONG_DIGITS = 4096
const MAX_OBJECTS = 2_000_000
const FLAG_REF = 0x80

/** A marshalled value, as much of it as a comparison needs. */
type Value =
  | { t: 'str'; v: string }
  | { t: 'bytes'; v: Buffer }
  | { t: 'atom'; v: string }
  | { t: 'seq'; open: string; close: string; items: Value[] }
  | { t: 'dict'; items: [Value, Value][] }
  | { t: 'code'; code: PycCode }

class Bad extends Error {}

export function isPyc(bytes: Buffer): boolean {
  return versionOf(bytes) !== undefined
}

/**
 * A .pyc's header of any Python 3 (magic 3230 on, then \r\n), whether or not this reads
 * its version: two such files are compared as .pyc, and one it cannot read says so.
 */
export function looksLikePyc(bytes: Buffer): boolean {
  if (bytes.length < 16 || bytes[2] !== 0x0d || bytes[3] !== 0x0a) return false
  const magic = bytes.readUInt16LE(0)
  return magic >= 3230 && magic <= 20_000
}

function versionOf(bytes: Buffer): number | undefined {
  if (bytes.length < 16 || bytes[2] !== 0x0d || bytes[3] !== 0x0a) return undefined
  const magic = bytes.readUInt16LE(0)
  return VERSIONS.find(([low, high]) => magic >= low && magic <= high)?.[2]
}

/** The module's code objects, outermost first, or undefined if it is not a .pyc this reads. */
export function parsePyc(bytes: Buffer): Pyc | undefined {
  const minor = versionOf(bytes)
  if (minor === undefined) return undefined
  const reader = new Marshal(bytes, minor >= 7 ? 16 : 12, minor)
  try {
    const top = reader.value(0, '')
    if (top.t !== 'code') return undefined
    for (const [code, consts] of reader.constants)
      code.constants = consts.t === 'seq' ? consts.items.map(show) : []
    return { version: [3, minor], codes: reader.codes, end: reader.offset }
  } catch (err) {
    if (err instanceof Bad || err instanceof RangeError) return undefined
    throw err
  }
}

class Marshal {
  readonly codes: PycCode[] = []
  readonly constants: [PycCode, Value][] = []
  private readonly refs: (Value | undefined)[] = []
  /** Containers and code objects being read: a reference to one would make a cycle. */
  private readonly filling = new Set<Value>()
  private objects = 0

  constructor(
    private readonly bytes: Buffer,
    private at: number,
    private readonly minor: number,
  ) {}

  get offset(): number {
    return this.at
  }

  private need(n: number): void {
    if (n < 0 || n > this.bytes.length - this.at) throw new Bad('cut short')
  }

  private u8(): number {
    this.need(1)
    return this.bytes[this.at++] ?? 0
  }

  private i32(): number {
    this.need(4)
    const v = this.bytes.readInt32LE(this.at)
    this.at += 4
    return v
  }

  private take(n: number): Buffer {
    this.need(n)
    const out = this.bytes.subarray(this.at, this.at + n)
    this.at += n
    return out
  }

  /** A count of items that each take at least one byte: never more than the bytes left. */
  private count(n: number): number {
    if (n < 0 || n > this.bytes.length - this.at) throw new Bad('a count past the end')
    return n
  }

  value(depth: number, scope: string): Value {
    if (depth > MAX_DEPTH || ++this.objects > MAX_OBJECTS) throw new Bad('too deep or too many')
    const byte = this.u8()
    const type = String.fromCharCode(byte & ~FLAG_REF)
    // A referable object takes its slot before its contents, as CPython numbers them.
    const slot = (byte & FLAG_REF) !== 0 ? this.refs.push(undefined) - 1 : -1
    const done = (v: Value): Value => {
      if (slot !== -1) this.refs[slot] = v
      return v
    }
    switch (type) {
      case '0':
        throw new Bad('NULL where a value belongs')
      case 'N':
        return done({ t: 'atom', v: 'None' })
      case 'F':
        return done({ t: 'atom', v: 'False' })
      case 'T':
        return done({ t: 'atom', v: 'True' })
      case 'S':
        return done({ t: 'atom', v: 'StopIteration' })
      case '.':
        return done({ t: 'atom', v: 'Ellipsis' })
      case 'i':
        return done({ t: 'atom', v: String(this.i32()) })
      case 'I': {
        const low = BigInt(this.i32() >>> 0)
        const high = BigInt(this.i32())
        return done({ t: 'atom', v: String((high << 32n) | low) })
      }
      case 'l':
        return done({ t: 'atom', v: this.long() })
      case 'g':
        return done({ t: 'atom', v: float(this.take(8).readDoubleLE(0)) })
      case 'f':
        return done({ t: 'atom', v: this.take(this.u8()).toString('latin1') })
      case 'y': {
        const [re, im] = [this.take(8).readDoubleLE(0), this.take(8).readDoubleLE(0)]
        return done({ t: 'atom', v: `(${float(re)}+${float(im)}j)` })
      }
      case 'x': {
        const re = this.take(this.u8()).toString('latin1')
        const im = this.take(this.u8()).toString('latin1')
        return done({ t: 'atom', v: `(${re}+${im}j)` })
      }
      case 's':
        return done({ t: 'bytes', v: this.take(this.count(this.i32())) })
      case 'u':
      case 't':
        return done({ t: 'str', v: utf8(this.take(this.count(this.i32()))) })
      case 'a':
      case 'A':
        return done({ t: 'str', v: this.take(this.count(this.i32())).toString('latin1') })
      case 'z':
      case 'Z':
        return done({ t: 'str', v: this.take(this.u8()).toString('latin1') })
      case 'r': {
        const index = this.i32()
        const v = this.refs[index]
        if (v === undefined) throw new Bad('a reference to nothing read yet')
        // No compiler writes a value that holds itself: refusing it keeps values acyclic.
        if (this.filling.has(v)) throw new Bad('a reference to a value still being read')
        return v
      }
      case '(':
      case ')':
      case '[':
      case '<':
      case '>': {
        const n = type === ')' ? this.u8() : this.count(this.i32())
        const [open, close] =
          type === '['
            ? ['[', ']']
            : type === '<'
              ? ['{', '}']
              : type === '>'
                ? ['frozenset({', '})']
                : ['(', ')']
        const items: Value[] = []
        // Filled in place: a reference inside to the container itself finds it.
        const seq: Value = { t: 'seq', open, close, items }
        if (slot !== -1) this.refs[slot] = seq
        this.filling.add(seq)
        for (let i = 0; i < n; i++) items.push(this.value(depth + 1, scope))
        this.filling.delete(seq)
        return seq
      }
      case '{': {
        const items: [Value, Value][] = []
        const dict: Value = { t: 'dict', items }
        if (slot !== -1) this.refs[slot] = dict
        this.filling.add(dict)
        for (;;) {
          if (this.bytes[this.at] === 0x30) {
            this.at++
            this.filling.delete(dict)
            return dict
          }
          const key = this.value(depth + 1, scope)
          items.push([key, this.value(depth + 1, scope)])
        }
      }
      case ':': {
        // 3.14: a constant slice, start, stop and step.
        const parts = [0, 1, 2].map(() => show(this.value(depth + 1, scope)))
        return done({ t: 'atom', v: `slice(${parts.join(', ')})` })
      }
      case 'c':
        return this.code(depth, scope, slot)
      default:
        throw new Bad(`a marshal type this reader does not know (${JSON.stringify(type)})`)
    }
  }

  /** A long: a signed count of 15-bit digits, least significant first. */
  private long(): string {
    const n = this.i32()
    const digits = this.count(Math.abs(n) * 2) / 2
    // Each digit shifted into a growing BigInt costs its length: quadratic. A number this
    // long (over 18,000 decimal digits) is told apart by its digest instead.
    if (digits > MAX_LONG_DIGITS) {
      const raw = this.take(digits * 2)
      return `<int of ${digits} 15-bit digits${n < 0 ? ', negative' : ''}, sha256 ${createHash('sha256').update(raw).digest('hex').slice(0, 16)}>`
    }
    let v = 0n
    for (let i = 0; i < digits; i++) v |= BigInt(this.take(2).readUInt16LE(0)) << BigInt(15 * i)
    return String(n < 0 ? -v : v)
  }

  private code(depth: number, scope: string, slot: number): Value {
    // The integer fields before the bytecode: 3.8 added posonlyargcount, 3.11 took nlocals.
    const ints =
      this.minor >= 11
        ? ['argcount', 'posonlyargcount', 'kwonlyargcount', 'stacksize', 'flags']
        : this.minor >= 8
          ? ['argcount', 'posonlyargcount', 'kwonlyargcount', 'nlocals', 'stacksize', 'flags']
          : ['argcount', 'kwonlyargcount', 'nlocals', 'stacksize', 'flags']
    const rest = ints.map((field) => `${field} ${this.i32()}`)
    const entry: PycCode = {
      qualname: '',
      filename: '',
      firstLine: 0,
      constants: [],
      names: [],
      bytecode: Buffer.alloc(0),
      rest,
      lines: [],
    }
    const value: Value = { t: 'code', code: entry }
    if (slot !== -1) this.refs[slot] = value
    this.filling.add(value)
    const index = this.codes.push(entry) - 1
    const bytecode = this.value(depth + 1, scope)
    // Before 3.11 nested code is named after this one, whose name comes after its
    // constants: they are read under a placeholder, put right below.
    const consts = this.value(depth + 1, PLACEHOLDER)
    const names = this.value(depth + 1, scope)
    const shown = (field: string, into = rest): void => {
      into.push(`${field} ${summary(this.value(depth + 1, scope))}`)
    }
    // 3.11 on: localsplusnames, localspluskinds; before: varnames, freevars, cellvars.
    for (const field of this.minor >= 11
      ? ['localsplusnames', 'localspluskinds']
      : ['varnames', 'freevars', 'cellvars'])
      shown(field)
    const filename = this.value(depth + 1, scope)
    const name = this.value(depth + 1, scope)
    const qualname = this.minor >= 11 ? this.value(depth + 1, scope) : undefined
    entry.firstLine = this.i32()
    rest.push(`name ${show(name)}`)
    entry.lines.push(`first line ${entry.firstLine}`)
    // The line table, and from 3.11 the exception table.
    for (const field of this.minor >= 11 ? ['line table', 'exception table'] : ['line table'])
      shown(field, entry.lines)
    const text = (v: Value): string => (v.t === 'str' ? v.v : show(v))
    entry.qualname =
      qualname !== undefined ? text(qualname) : scope === '' ? text(name) : `${scope}.${text(name)}`
    for (const nested of this.codes.slice(index + 1))
      if (nested.qualname.startsWith(PLACEHOLDER))
        nested.qualname = entry.qualname + nested.qualname.slice(PLACEHOLDER.length)
    entry.filename = text(filename)
    entry.bytecode = bytecode.t === 'bytes' ? bytecode.v : Buffer.alloc(0)
    entry.names = names.t === 'seq' ? names.items.map(text) : []
    // Shown once every name is final (nested code is renamed by its enclosing code).
    this.constants.push([entry, consts])
    this.filling.delete(value)
    return value
  }
}

// Stands for the name of the code whose constants are being read (no name holds a NUL).
const PLACEHOLDER = '\u0000'

/** A float as Python writes it: `1.0` is not the integer `1`, and `-0.0` is not `0.0`. */
function float(v: number): string {
  if (Object.is(v, -0)) return '-0.0'
  return Number.isInteger(v) && Math.abs(v) < 1e21 ? v.toFixed(1) : String(v)
}

/**
 * UTF-8 text as Python wrote it (with surrogates passed through): where it does not
 * decode, its bytes are shown too, so that two strings of other bytes never show alike.
 */
function utf8(bytes: Buffer): string {
  const text = bytes.toString('utf8')
  return text.includes('\ufffd') ? `${text} (bytes ${bytes.toString('hex')})` : text
}

/** A value as `show` writes it, or a long one by its length and digest: still tells two apart. */
function summary(v: Value): string {
  const text = show(v)
  return text.length <= MAX_SHOWN
    ? text
    : `(${text.length} characters, sha256 ${createHash('sha256').update(text).digest('hex').slice(0, 16)})`
}

const MAX_SHOWN = 120

// A value's text longer than this is shortened to its start and a digest: a value that
// references another twice at each of many levels would otherwise double at each.
const MAX_TEXT = 1024
const shown = new WeakMap<Value, string>()

/**
 * A value as Python's repr would write it, roughly: enough to tell two apart. Each value
 * is written once (references share it) and a long text is kept as its start and digest.
 */
function show(v: Value): string {
  // A code object's name is final only once the module is read: never kept.
  const known = v.t === 'code' ? undefined : shown.get(v)
  if (known !== undefined) return known
  const text = ((): string => {
    switch (v.t) {
      case 'str':
        return JSON.stringify(v.v)
      case 'bytes':
        return `b${JSON.stringify(v.v.toString('latin1'))}`
      case 'atom':
        return v.v
      case 'seq':
        return `${v.open}${v.items.map(show).join(', ')}${v.close}`
      case 'dict':
        return `{${v.items.map(([k, x]) => `${show(k)}: ${show(x)}`).join(', ')}}`
      case 'code':
        return `<code ${v.code.qualname || '?'}>`
    }
  })()
  const kept =
    text.length <= MAX_TEXT
      ? text
      : `${text.slice(0, 96)}… (${text.length} characters, sha256 ${createHash('sha256').update(text).digest('hex').slice(0, 16)})`
  // Nor a text that holds a code object's name before it is final.
  if (v.t !== 'code' && !kept.includes(PLACEHOLDER)) shown.set(v, kept)
  return kept
}
