import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Cause, DiffReport } from '../../src/diff/report.js'
import { cleanupTemp, makeTemp, runCli } from '../helpers.js'

/**
 * The precision of reproof's hints, on pairs whose true cause is known because each pair
 * is made with real tools and exactly one cause between its sides. Every hint given must
 * be one the cause allows (precision 1); the cause itself should be named (recall). The
 * table printed at the end is the one in bench/RESULTS.md.
 */

interface Case {
  name: string
  /** The cause that made the pair differ. */
  truth: Cause
  /** Hints that are right for it too (`unexplained` where no evidence can show the cause). */
  alsoRight?: Cause[]
  /** Makes the pair in `dir`; returns the two paths to compare. */
  make(dir: string): [string, string]
}

const sh = (cwd: string, script: string, env: Record<string, string> = {}): void => {
  execFileSync('bash', ['-euo', 'pipefail', '-c', script], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env },
    stdio: 'ignore',
  })
}

const write = (file: string, content: string): void => {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, content)
}

const CASES: Case[] = [
  {
    name: 'object compiled in two directories (gcc -g)',
    truth: 'build-path',
    make(dir) {
      for (const side of ['one', 'other'])
        write(path.join(dir, side, 'src/x.c'), 'int f(int x) { return x * 3; }\n')
      sh(dir, 'for s in one other; do (cd $s/src && gcc -g -O1 -c x.c); done')
      return [path.join(dir, 'one/src/x.o'), path.join(dir, 'other/src/x.o')]
    },
  },
  {
    name: 'program holding __FILE__, built from two directories',
    truth: 'build-path',
    make(dir) {
      for (const side of ['one', 'two'])
        write(
          path.join(dir, side, 'main.c'),
          '#include <stdio.h>\nint main(void) { puts(__FILE__); return 0; }\n',
        )
      sh(dir, 'for s in one two; do gcc -O1 -o $s/app "$PWD/$s/main.c"; done')
      return [path.join(dir, 'one/app'), path.join(dir, 'two/app')]
    },
  },
  {
    name: '__DATE__ and __TIME__ (gcc under two SOURCE_DATE_EPOCHs)',
    truth: 'timestamp',
    make(dir) {
      write(
        path.join(dir, 'main.c'),
        '#include <stdio.h>\nint main(void) { puts(__DATE__ " " __TIME__); return 0; }\n',
      )
      sh(dir, 'gcc -O1 -o a main.c', { SOURCE_DATE_EPOCH: '1600000000' })
      sh(dir, 'gcc -O1 -o b main.c', { SOURCE_DATE_EPOCH: '1700000000' })
      return [path.join(dir, 'a'), path.join(dir, 'b')]
    },
  },
  {
    name: 'date written into a text file',
    truth: 'timestamp',
    make(dir) {
      sh(
        dir,
        'echo "built $(date -u -d @1600000000)" > a.txt; echo "built $(date -u -d @1700000000)" > b.txt',
      )
      return [path.join(dir, 'a.txt'), path.join(dir, 'b.txt')]
    },
  },
  {
    name: 'tar of the same files with other mtimes',
    truth: 'timestamp',
    make(dir) {
      write(path.join(dir, 'p/x.txt'), 'x\n')
      sh(dir, 'tar --mtime=@1600000000 -cf a.tar p; tar --mtime=@1700000000 -cf b.tar p')
      return [path.join(dir, 'a.tar'), path.join(dir, 'b.tar')]
    },
  },
  {
    name: 'gzip storing the time of its input',
    truth: 'timestamp',
    make(dir) {
      sh(
        dir,
        'echo same > x; touch -d @1600000000 x; gzip -c x > a.gz; touch -d @1700000000 x; gzip -c x > b.gz',
      )
      return [path.join(dir, 'a.gz'), path.join(dir, 'b.gz')]
    },
  },
  {
    name: '.pyc of a source with another mtime',
    truth: 'timestamp',
    make(dir) {
      sh(
        dir,
        "echo 'X = 1' > m.py; for s in a b; do touch -d @$([ $s = a ] && echo 1600000000 || echo 1700000000) m.py; python3 -c \"import py_compile; py_compile.compile('m.py', '$s.pyc')\"; done",
      )
      return [path.join(dir, 'a.pyc'), path.join(dir, 'b.pyc')]
    },
  },
  {
    name: 'zip made under two umasks',
    truth: 'umask',
    make(dir) {
      sh(
        dir,
        'for s in a b; do mkdir $s; (umask $([ $s = a ] && echo 022 || echo 002); cd $s && echo x > f.txt && touch -d @1600000000 f.txt && zip -qX ../$s.zip f.txt); done',
      )
      return [path.join(dir, 'a.zip'), path.join(dir, 'b.zip')]
    },
  },
  {
    name: 'tar of files made under two umasks',
    truth: 'umask',
    make(dir) {
      sh(
        dir,
        'for s in a b; do mkdir $s; (umask $([ $s = a ] && echo 022 || echo 002); cd $s && echo x > f.txt && tar --mtime=@0 -cf ../$s.tar f.txt); done',
      )
      return [path.join(dir, 'a.tar'), path.join(dir, 'b.tar')]
    },
  },
  {
    name: 'tar of the same files in directory order',
    truth: 'ordering',
    make(dir) {
      for (const f of ['c', 'a', 'b']) write(path.join(dir, `p/${f}.txt`), `${f}\n`)
      sh(
        dir,
        'tar --mtime=@0 --owner=0 --group=0 -cf a.tar p/a.txt p/b.txt p/c.txt; tar --mtime=@0 --owner=0 --group=0 -cf b.tar p/c.txt p/a.txt p/b.txt',
      )
      return [path.join(dir, 'a.tar'), path.join(dir, 'b.tar')]
    },
  },
  {
    name: 'a list sorted with another collation (sort, sort -f)',
    truth: 'ordering',
    alsoRight: ['locale'],
    make(dir) {
      sh(dir, "printf 'b\\nB\\na\\nA\\n_x\\n' > in; sort in > a.txt; sort -f in > b.txt")
      return [path.join(dir, 'a.txt'), path.join(dir, 'b.txt')]
    },
  },
  {
    name: 'JSON written with its keys in another order',
    truth: 'ordering',
    make(dir) {
      sh(
        dir,
        'python3 -c \'import json; print(json.dumps({"b": 1, "a": [1, 2], "c": {"y": 1, "x": 2}}, indent=2))\' > a.json; python3 -c \'import json; print(json.dumps({"a": [1, 2], "c": {"x": 2, "y": 1}, "b": 1}, indent=2))\' > b.json',
      )
      return [path.join(dir, 'a.json'), path.join(dir, 'b.json')]
    },
  },
  {
    name: 'objects linked in another order',
    truth: 'ordering',
    make(dir) {
      write(path.join(dir, 'a.c'), 'int fa(void) { return 1; }\n')
      write(path.join(dir, 'b.c'), 'int fb(void) { return 2; }\n')
      write(
        path.join(dir, 'main.c'),
        'int fa(void); int fb(void);\nint main(void) { return fa() + fb(); }\n',
      )
      sh(dir, 'gcc -O1 -c a.c b.c main.c && gcc -o x main.o a.o b.o && gcc -o y main.o b.o a.o')
      return [path.join(dir, 'x'), path.join(dir, 'y')]
    },
  },
  {
    name: 'objects linked in another order, one function of them changed',
    truth: 'unexplained',
    alsoRight: ['ordering'],
    make(dir) {
      write(path.join(dir, 'a.c'), 'int fa(void) { return 1; }\n')
      write(path.join(dir, 'b.c'), 'int fb(void) { return 2; }\n')
      write(path.join(dir, 'b2.c'), 'int fb(void) { return 3; }\n')
      write(
        path.join(dir, 'main.c'),
        'int fa(void); int fb(void);\nint main(void) { return fa() + fb(); }\n',
      )
      sh(
        dir,
        'gcc -O1 -c a.c b.c b2.c main.c && gcc -o x main.o a.o b.o && gcc -o y main.o b2.o a.o',
      )
      return [path.join(dir, 'x'), path.join(dir, 'y')]
    },
  },
  {
    name: 'program holding __FILE__, built from two directories, its code changed',
    truth: 'unexplained',
    alsoRight: ['build-path'],
    make(dir) {
      for (const [side, n] of [
        ['one', 1],
        ['two', 2],
      ] as const)
        write(
          path.join(dir, side, 'main.c'),
          `#include <stdio.h>\nint main(void) { puts(__FILE__); return ${n}; }\n`,
        )
      sh(dir, 'for s in one two; do gcc -O1 -o $s/app "$PWD/$s/main.c"; done')
      return [path.join(dir, 'one/app'), path.join(dir, 'two/app')]
    },
  },
  {
    name: 'a random seed (Python hash randomization) in the output',
    truth: 'unexplained',
    alsoRight: ['ordering'],
    make(dir) {
      const script = "print(' '.join(sorted({'alpha', 'beta', 'gamma', 'delta', 'eps'}, key=hash)))"
      sh(dir, `python3 -c "${script}" > a.txt`, { PYTHONHASHSEED: '1' })
      sh(dir, `python3 -c "${script}" > b.txt`, { PYTHONHASHSEED: '2' })
      return [path.join(dir, 'a.txt'), path.join(dir, 'b.txt')]
    },
  },
  {
    name: 'random bytes embedded in a binary',
    truth: 'unexplained',
    make(dir) {
      sh(
        dir,
        'head -c 4096 /dev/urandom > a.bin; cp a.bin b.bin; printf "\\x01\\x02\\x03" | dd of=b.bin bs=1 seek=100 conv=notrunc status=none',
      )
      return [path.join(dir, 'a.bin'), path.join(dir, 'b.bin')]
    },
  },
  {
    name: 'a code change (gcc)',
    truth: 'unexplained',
    make(dir) {
      write(path.join(dir, 'a.c'), 'int f(int x) { return x * 3; }\n')
      write(path.join(dir, 'b.c'), 'int f(int x) { return x * 5 + 1; }\n')
      sh(dir, 'gcc -O1 -c a.c && gcc -O1 -c b.c')
      return [path.join(dir, 'a.o'), path.join(dir, 'b.o')]
    },
  },
  {
    name: 'a code change (javac)',
    truth: 'unexplained',
    make(dir) {
      for (const [side, value] of [
        ['a', 1],
        ['b', 2],
      ] as const)
        write(path.join(dir, side, 'T.java'), `class T { int v() { return ${value}; } }\n`)
      sh(dir, 'for s in a b; do (cd $s && javac -g:none T.java); done')
      return [path.join(dir, 'a/T.class'), path.join(dir, 'b/T.class')]
    },
  },
  {
    name: 'a function added before the others (gcc), which moves them but keeps their order',
    truth: 'unexplained',
    make(dir) {
      const fns = 'int fa(void) { return 1; }\nint fb(void) { return 2; }\n'
      write(path.join(dir, 'a.c'), `${fns}int main(void) { return fa() + fb(); }\n`)
      write(
        path.join(dir, 'b.c'),
        `int f0(int x) { return x * 7; }\n${fns}int main(void) { return fa() + fb() + f0(1); }\n`,
      )
      sh(dir, 'gcc -O1 -fno-inline -o x a.c && gcc -O1 -fno-inline -o y b.c')
      return [path.join(dir, 'x'), path.join(dir, 'y')]
    },
  },
  {
    name: 'an object whose data directory, an absolute path, was changed in its source',
    truth: 'unexplained',
    make(dir) {
      for (const [side, where] of [
        ['a', '/usr/share/app-data'],
        ['b', '/opt/other/place'],
      ] as const)
        write(
          path.join(dir, side, 'main.c'),
          `#include <stdio.h>\nint main(void) { puts("${where}"); return 0; }\n`,
        )
      // Objects keep the literal in a string section (.rodata.str1.1) of its own.
      sh(dir, 'for s in a b; do (cd $s && gcc -O1 -c main.c); done')
      return [path.join(dir, 'a/main.o'), path.join(dir, 'b/main.o')]
    },
  },
  {
    name: 'a program printing other text',
    truth: 'unexplained',
    make(dir) {
      sh(
        dir,
        'printf "version 1\\nmode fast\\n" > a.txt; printf "version 2\\nmode fast\\n" > b.txt',
      )
      return [path.join(dir, 'a.txt'), path.join(dir, 'b.txt')]
    },
  },
  {
    name: 'checksum list of files that changed (md5sums in a tar)',
    truth: 'derived',
    alsoRight: ['timestamp', 'unexplained'],
    make(dir) {
      sh(
        dir,
        'for s in a b; do mkdir -p $s/usr; echo $s > $s/usr/tool; (cd $s && md5sum usr/tool > md5sums && tar --mtime=@0 --owner=0 --group=0 -cf ../$s.tar md5sums usr); done',
      )
      return [path.join(dir, 'a.tar'), path.join(dir, 'b.tar')]
    },
  },
]

interface Outcome {
  name: string
  truth: Cause
  given: Cause[]
  wrong: Cause[]
}

const outcomes: Outcome[] = []

afterAll(() => {
  cleanupTemp()
  const given = outcomes.reduce((n, o) => n + o.given.length, 0)
  const wrong = outcomes.reduce((n, o) => n + o.wrong.length, 0)
  const found = outcomes.filter((o) => o.given.includes(o.truth)).length
  const rows = outcomes.map(
    (o) =>
      `| ${o.name} | ${o.truth} | ${o.given.join(', ') || '(none)'} | ${o.wrong.length === 0 ? 'yes' : `no: ${o.wrong.join(', ')}`} |`,
  )
  console.log(
    [
      '| pair | true cause | hints given | all right |',
      '| --- | --- | --- | --- |',
      ...rows,
      '',
      `precision ${given === 0 ? '-' : ((given - wrong) / given).toFixed(2)} (${given - wrong} of ${given} hints right), recall ${(found / outcomes.length).toFixed(2)} (${found} of ${outcomes.length} true causes named)`,
    ].join('\n'),
  )
})

describe('hint precision on pairs of known cause', () => {
  for (const c of CASES) {
    it(`${c.name}: every hint is right`, async () => {
      const [a, b] = c.make(makeTemp())
      const run = await runCli(['diff', a, b, '--json'])
      expect(run.code, run.stderr).toBe(1)
      const report = JSON.parse(run.stdout) as DiffReport
      const given = [...new Set(report.items.flatMap((i) => i.hints.map((h) => h.cause)))]
      const right = new Set<Cause>([c.truth, ...(c.alsoRight ?? [])])
      const wrong = given.filter((g) => !right.has(g))
      outcomes.push({ name: c.name, truth: c.truth, given, wrong })
      expect(wrong).toEqual([])
    })
  }

  it('names the true cause in most pairs (recall)', () => {
    const found = outcomes.filter((o) => o.given.includes(o.truth)).length
    expect(outcomes).toHaveLength(CASES.length)
    expect(found / outcomes.length).toBeGreaterThanOrEqual(0.8)
  })
})
