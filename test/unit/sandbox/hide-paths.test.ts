import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { planHiding } from '../../../src/sandbox/hide-paths.js'

const under = (p: string, dir: string): boolean =>
  dir === '/' || p === dir || p.startsWith(`${dir}/`)

// Paths from a small alphabet of parts, so that they often share ancestors.
const part = fc.constantFrom('usr', 'bin', 'home', 'u', 'var', 'tmp', 'dist', 'a', 'b', 'x\ny')
const absolute = fc
  .array(part, { minLength: 0, maxLength: 4 })
  .map((parts) => `/${parts.join('/')}`)

describe('planHiding', () => {
  it('covers every artifact, never a directory the build needs, and nothing twice', () => {
    fc.assert(
      fc.property(
        fc.array(absolute, { maxLength: 6 }),
        fc.array(absolute, { maxLength: 6 }),
        fc.array(absolute, { maxLength: 4 }),
        (files, dirs, needed) => {
          const plan = planHiding({ files, dirs, needed })
          const system = ['/usr', '/bin', '/var', '/proc', '/etc']
          for (const file of files) {
            const privateAlready = under(file, '/tmp')
            const covered = plan.hide.some((h) => under(file, h))
            const said = plan.unhidden.some((u) => u.path === file)
            // Covered, private already, or said not to be: a name with a newline, or not
            // a file but a directory the build needs.
            expect(covered || privateAlready || said).toBe(true)
            if (said)
              expect(
                file.includes('\n') || [...needed, ...system].some((n) => under(n, file)),
              ).toBe(true)
          }
          for (const h of plan.hide) {
            expect(h.includes('\n')).toBe(false)
            for (const n of [...needed, ...system]) expect(under(n, h)).toBe(false)
            for (const other of plan.hide) if (other !== h) expect(under(h, other)).toBe(false)
            expect(under(h, '/tmp')).toBe(false)
          }
          // A directory is covered, left visible with a reason, or private already.
          for (const dir of dirs) {
            const covered = plan.hide.some((h) => under(dir, h))
            const visible = plan.visible.some((v) => v.path === dir)
            expect(covered || visible || under(dir, '/tmp')).toBe(true)
          }
        },
      ),
    )
  })

  it('covers the artifact alone where its directory holds what the build may need', () => {
    const plan = planHiding({
      files: ['/home/u/app', '/srv/release/app.tar.gz'],
      dirs: ['/home/u', '/srv/release', '/'],
      needed: ['/home/u', '/home/u/.cargo/bin'],
    })
    expect(plan.hide).toEqual(['/home/u/app', '/srv/release'])
    expect(plan.visible.map((v) => v.path)).toEqual(['/home/u', '/'])
    expect(plan.visible[0]?.why).toBe('it holds /home/u, which the build may need')
  })
})
